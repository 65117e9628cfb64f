"""Load and validate sources.yaml: every problem at once, each with file, line, key path and the fix.

    config = load_config(Path("sources.yaml"))      # raises ConfigError(problems)
    problems = check_config(Path("sources.yaml"))   # [] when valid
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from aggregator.config.nodes import Ctx, compose
from aggregator.config.schema import build
from aggregator.config.values import parse_interval
from aggregator.errors import ConfigError, ConfigProblem
from aggregator.records import Config

__all__ = ["check_config", "load_config", "parse_config", "parse_interval"]


def parse_config(text: str, file: str = "sources.yaml", base_dir: Path | None = None) -> Config:
    """Validate `text`; relative paths resolve against `base_dir` (kept relative when None)."""
    ctx = Ctx(file)
    root = compose(ctx, text)
    if root is None and not ctx.problems:
        ctx.add(None, "", "the file is empty: it needs at least 'sources:' (see docs/config.md)")
    config = build(ctx, root, base_dir) if root is not None else None
    if config is None:
        raise ConfigError(sorted(ctx.problems, key=lambda p: p.line))
    return config


def load_config(path: Path) -> Config:
    """Read and validate a sources.yaml; relative paths in it are relative to its directory."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        problem = ConfigProblem(str(path), 0, "", f"cannot read the file: {exc.strerror or exc}")
        raise ConfigError([problem]) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = ConfigProblem(str(path), line, "", "the file is not UTF-8 text: save it as UTF-8")
        raise ConfigError([problem]) from exc
    resolved = path.resolve()
    return replace(parse_config(text, str(path), resolved.parent), path=resolved)


def check_config(path: Path) -> list[ConfigProblem]:
    """Every problem in the file, or [] when it is valid."""
    try:
        load_config(path)
    except ConfigError as exc:
        return list(exc.problems)
    return []
