"""Typed errors: each says which source (or file, line and key) and what to fix."""

from __future__ import annotations

from dataclasses import dataclass


class AggregatorError(Exception):
    """Base of every error this package raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem in sources.yaml, located precisely enough to fix without searching."""

    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" [{self.key}]" if self.key else ""
        return f"{where}:{key} {self.message}"


class ConfigError(AggregatorError):
    """sources.yaml is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class SourceError(AggregatorError):
    """A source could not be fetched, parsed or scraped; names the source and the fix."""

    def __init__(self, source_id: str, message: str, *, kind: str = "error"):
        self.source_id = source_id
        self.kind = kind
        super().__init__(f"source {source_id!r}: {message}")
        self.message = message


class ParseError(AggregatorError):
    """The bytes are not a feed we can read (the message says what they look like)."""


class StoreError(AggregatorError):
    """The database is unreachable, locked or from a newer version of this program."""


class LockedError(AggregatorError):
    """Another run holds the lock (an overlapping cron run)."""
