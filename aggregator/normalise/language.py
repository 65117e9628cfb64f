"""Article language as a lowercase primary tag ("en-US" -> "en"), detected only as a last resort."""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from aggregator import speedups

MIN_DETECT_CHARS = 20  # below this py3langid guesses; a wrong language is worse than none
DETECT_SAMPLE_CHARS = 300  # py3langid costs ~0.3 µs per character; 300 characters are plenty
_MODEL_LOCK = threading.Lock()
_model: Any = None
_PRIMARY = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*\s*$")


@lru_cache(maxsize=256)
def primary_tag(value: str | None) -> str | None:
    """"en-US" -> "en", "zh_CN" -> "zh", "DE" -> "de"; anything not shaped like a tag -> None."""
    if not value:
        return None
    match = _PRIMARY.match(value)
    return match.group(1).lower() if match else None


def detect_language(text: str) -> str | None:
    """py3langid on the first characters (~200 µs, ~90 with the C walk), so callers use it only when
    nothing is declared."""
    sample = text[:DETECT_SAMPLE_CHARS].strip()
    if len(sample) < MIN_DETECT_CHARS:
        return None
    lang, _score = _identifier().classify(sample)
    return primary_tag(str(lang))


def _identifier() -> Any:
    """Load the model once, lazily (most feeds declare a language), and only once when many worker
    threads need it at the same moment: each would otherwise load its own copy (seconds of CPU each)."""
    global _model
    with _MODEL_LOCK:
        if _model is None:
            from aggregator.normalise.langid_model import load_identifier

            _model = load_identifier()
            _walk_in_c()
        return _model


def _walk_in_c() -> None:
    """py3langid walks its DFA over the text's bytes in Python, most of a detection's ~200 us; speedups'
    `dfa_counts` is the same walk in C, the same counts in the same order (tests/test_speedups.py)."""
    native = speedups.native
    if native is None:
        return
    from py3langid import langid

    walk = langid.visit_counts
    if getattr(walk, "in_c", False):
        return

    def visit_counts(nextmove: Any, rowbase: Any, output: Any, text: Any) -> Any:
        if isinstance(text, bytes) and isinstance(rowbase, list) and isinstance(output, list):
            counts = native.dfa_counts(nextmove, rowbase, output, text)
            if counts is not NotImplemented:
                return counts
        return walk(nextmove, rowbase, output, text)

    visit_counts.in_c = True  # type: ignore[attr-defined]
    visit_counts.python = walk  # type: ignore[attr-defined]  # py3langid's own, for the tests
    langid.visit_counts = visit_counts


def declared_language(*declared: str | None) -> str | None:
    """The first usable declared tag, or None."""
    for value in declared:
        tag = primary_tag(value)
        if tag:
            return tag
    return None


def choose_language(*declared: str | None, text: str) -> str | None:
    """The first usable declared tag, else detection on `text`."""
    return declared_language(*declared) or detect_language(text)
