"""The letter-and-digit runs of a text, fast: what exact dedupe hashes and topic matching compares.

Equivalent to `re.findall(r"[^\\W_]+", text)` (and to `re.sub(r"[\\W_]+", " ", text).strip()` for the
joined form), several times faster on news text, which is mostly ASCII with a few curly quotes, dashes
and currency signs. The work is done on the UTF-8 bytes: the few distinct non-ASCII characters are
found by deleting the ASCII bytes (one C pass), each is replaced as a whole byte sequence (UTF-8 is
self-synchronising), then the ASCII separators go in one `bytes.translate` (which takes every non-ASCII
byte too when all the non-ASCII characters are separators, as in most English news).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import NamedTuple

from aggregator import speedups

_ASCII = bytes(range(128))
_ASCII_SEPARATORS = bytes(c if chr(c).isalnum() or c >= 128 else 32 for c in range(256))
_ALL_SEPARATORS = bytes(c if chr(c).isalnum() and c < 128 else 32 for c in range(256))  # every non-ASCII byte too
# Hangul vowel and final-consonant jamo: letters (not marks) that still compose with the letter before
_JAMO_COMBINING = frozenset(map(chr, (*range(0x1161, 0x1176), *range(0x11A8, 0x11C3))))


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def non_ascii(text: str) -> set[str]:
    """The distinct non-ASCII characters of `text`: far cheaper than `set(text)` on mostly-ASCII text."""
    if text.isascii():
        return set()
    return set(_utf8(text).translate(None, _ASCII).decode("utf-8", "surrogatepass"))


def _spaced(text: str) -> bytes:
    """`text` as UTF-8 with every non-alphanumeric character (and "_") turned into a space."""
    data = _utf8(text)
    for ch in non_ascii(text):
        if not ch.isalnum():
            data = data.replace(_utf8(ch), b" ")
    return data.translate(_ASCII_SEPARATORS)


def alnum_runs(text: str) -> list[str]:
    """The runs of letters and digits of `text`, in order."""
    return _spaced(text).decode("utf-8", "surrogatepass").split()


def fold(text: str) -> str:
    """NFKC + casefold ("ＡＩ" -> "ai"): the form in which exact dedupe and topic matching compare texts."""
    return text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).casefold()


class _CharFold(NamedTuple):
    """What one character becomes in `folded_runs`: fold(ch) with non-ASCII separators made spaces."""

    char: str
    encoded: bytes  # the character, UTF-8
    spaced: bytes  # what replaces it, UTF-8 (ASCII separators are left to the final translate)
    chars: frozenset[str]  # the non-ASCII characters of fold(ch)
    separator: bool  # fold(ch) has no letter or digit: all of it becomes spaces


_UNCHANGED = _CharFold("", b"", b"", frozenset(), separator=False)  # a letter or digit that folds to itself


@lru_cache(maxsize=1 << 16)  # the characters of every script news is written in, and then some
def _char_fold(ch: str) -> _CharFold | None:
    """How one non-ASCII character folds on its own, or None when NFKC may join it to the one before.

    A character whose decomposition starts with a starter (combining class 0) that never composes with
    what precedes it is a normalisation boundary: NFKC of a text made of such characters (ASCII is) is
    the NFKC of each character, and casefolding is per character anyway. A replacement must not hold a
    character that another replacement would change: then None too (the slow path is exact).
    """
    first = unicodedata.normalize("NFKD", ch)[0]
    if unicodedata.combining(first) or unicodedata.category(first)[0] == "M" or first in _JAMO_COMBINING:
        return None
    folded = unicodedata.normalize("NFKC", ch).casefold()
    if folded == ch and ch.isalnum():
        return _UNCHANGED
    chars = frozenset(c for c in folded if not c.isascii())
    if any(unicodedata.normalize("NFKC", c).casefold() != c for c in chars):
        return None
    spaced = "".join(c if c.isascii() or c.isalnum() else " " for c in folded)
    return _CharFold(ch, _utf8(ch), _utf8(spaced), chars, not any(c.isalnum() for c in folded))


class Folded(NamedTuple):
    """A text folded for comparison (see `fold`), as what the text hash and topic matching read."""

    joined: bytes  # the letter/digit runs of fold(text), UTF-8, joined by single spaces
    chars: frozenset[str]  # the non-ASCII characters of fold(text): its scripts, marks and symbols

    @property
    def runs(self) -> list[bytes]:
        """The letter/digit runs of fold(text), UTF-8."""
        return self.joined.split()


@lru_cache(maxsize=16)
def folded_runs(text: str) -> Folded:
    """`fold(text)` split into runs, without building `fold(text)` when every character folds alone.

    Cached because the normaliser (for the text hash) and the classifier (for topics) both need them for
    the same text, one right after the other.
    """
    if speedups.native is not None:
        found = _native_folded_runs(speedups.native, text)
        if found is not None:
            return found
    if text.isascii():
        return _folded(text.lower().encode("ascii").translate(_ASCII_SEPARATORS), frozenset())
    data = _utf8(text)
    others = set(data.translate(None, _ASCII).decode("utf-8", "surrogatepass"))
    plans = list(map(_char_fold, others))
    if None in plans:
        folded = fold(text)
        return _folded(_spaced(folded), frozenset(non_ascii(folded)))
    changes = [plan for plan in filter(None, plans) if plan is not _UNCHANGED]
    data = data.lower()  # ASCII letters only, as casefold does them
    if len(changes) == len(plans) and all(plan.separator for plan in changes):
        # the common case (quotes, dashes, currency signs): every non-ASCII byte becomes a space
        return _folded(data.translate(_ALL_SEPARATORS), frozenset().union(*(plan.chars for plan in changes)))
    for plan in changes:
        others.discard(plan.char)
        others |= plan.chars
        data = data.replace(plan.encoded, plan.spaced)
    return _folded(data.translate(_ASCII_SEPARATORS), frozenset(others))


_PLAN_SLOW, _PLAN_UNCHANGED, _PLAN_REPLACE = 1, 2, 3  # as in _speedups.c


def _native_folded_runs(native: speedups.Native, text: str) -> Folded | None:
    """`folded_runs` in C, from the `_char_fold` plans it is taught as characters turn up; None: the exact
    path (a character that may join its neighbour, or beyond the BMP)."""
    while True:
        found = native.fold(text)
        if not isinstance(found, list):
            return None if found is None else Folded(*found)
        for ch in found:  # characters met for the first time
            plan = _char_fold(ch)
            if plan is None:
                native.learn_fold(ch, _PLAN_SLOW, b"", "")
            elif plan is _UNCHANGED:
                native.learn_fold(ch, _PLAN_UNCHANGED, b"", "")
            else:
                native.learn_fold(ch, _PLAN_REPLACE, plan.spaced, "".join(sorted(plan.chars)))


def _folded(spaced: bytes, chars: frozenset[str]) -> Folded:
    if speedups.native is not None:  # without a bytes object per run: a third of the cost of folding
        return Folded(speedups.native.collapse_spaces(spaced), chars)
    return Folded(b" ".join(spaced.split()), chars)
