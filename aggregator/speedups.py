"""The optional C loops (aggregator/_speedups.c), or None: callers then run their pure-Python references.

Set AGGREGATOR_PURE_PYTHON=1 to run the references even where the extension is built (the tests compare
the two; a bug report can rule the C out). The C is written for little-endian hosts, like every machine
this runs on; elsewhere it is not used.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from typing import Any, Protocol, cast


class Native(Protocol):
    """What aggregator/_speedups.c exports (its comment says what each one is the C copy of)."""

    def init(self, codes: bytes, content: bytes, probes: bytes, permutations: int, bands: int, rows: int,
             min_shingles: int, word_shingle: int, char_shingle: int, /) -> None: ...

    def signature(self, title: str, text: str, unsegmented_language: bool, /) -> Any: ...

    def fold(self, text: str, /) -> Any: ...

    def learn_fold(self, char: str, kind: int, spaced: bytes, chars: str, /) -> None: ...

    def collapse_spaces(self, data: bytes, /) -> bytes: ...

    def xml_clean(self, text: str, /) -> bool: ...

    def html_to_text(self, markup: str, block_tags: frozenset[str], /) -> str | None: ...

    def sanitize(self, markup: str, rules: dict[str, frozenset[str]], entities: dict[str, str], link_rel: str,
                 block_tags: frozenset[str], /) -> tuple[str, str] | None: ...

    def dfa_counts(self, nextmove: Any, rowbase: list[int], output: list[int], data: bytes, /) -> Any: ...

    def token_table(self, tokens: tuple[bytes, ...], /) -> bytes: ...

    def present_tokens(self, joined: bytes, table: bytes, tokens: tuple[bytes, ...], /) -> set[bytes]: ...


VERSION = 6  # SPEEDUPS_VERSION in _speedups.c


def load() -> Native | None:
    """The C module when it is built, built from these sources, and wanted; None sends callers to Python."""
    if os.environ.get("AGGREGATOR_PURE_PYTHON") or sys.byteorder != "little":
        return None
    try:
        module = importlib.import_module("aggregator._speedups")
    except ImportError:
        return None
    if getattr(module, "VERSION", None) != VERSION:
        warnings.warn("aggregator/_speedups.c was built from other sources than these Python files: running "
                      "without it (slower); `pip install -e .` rebuilds it", RuntimeWarning, stacklevel=2)
        return None
    return cast(Native, module)


native = load()
