"""Stable keys: the record uid and the text hash used for exact dedupe across sources."""

from __future__ import annotations

import hashlib

from aggregator.normalise.words import folded_runs


def record_uid(source_id: str, guid: str) -> str:
    """Short hex key of (source, guid): the same item polled again maps to the same record."""
    return hashlib.sha256(f"{source_id}\n{guid}".encode("utf-8", "surrogatepass")).hexdigest()[:24]


def fold_text(text: str) -> str:
    """Casefolded NFKC words joined by single spaces: punctuation and spacing differences vanish."""
    return _folded(text).decode("utf-8", "surrogatepass")


def _folded(text: str) -> bytes:
    return folded_runs(text).joined


def text_hash(text: str, title: str = "") -> str:
    """sha256 of the folded text (of the title when there is no text); equal copies hash equal."""
    return hashlib.sha256(_folded(text) or _folded(title)).hexdigest()


def content_guid(title: str, text: str) -> str:
    """A guid for items that have neither guid nor link."""
    return "sha256:" + hashlib.sha256(f"{title}\n{text}".encode("utf-8", "surrogatepass")).hexdigest()
