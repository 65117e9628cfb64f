"""Bounded decoding: concatenated gzip members, layered encodings, bombs, unknown codings."""

from __future__ import annotations

import gzip
import zlib

import pytest

from aggregator.fetch.body import Decoder, TooLarge, UnsupportedEncoding


def feed_all(decoder: Decoder, data: bytes, cap: int, chunk: int = 7) -> bytes:
    out = b""
    for i in range(0, len(data), chunk):
        out += decoder.feed(data[i:i + chunk], cap - len(out))
    return out


def test_concatenated_gzip_members_are_all_decoded() -> None:
    data = gzip.compress(b"first ") + gzip.compress(b"second")
    assert feed_all(Decoder("gzip"), data, 1000) == b"first second"


def test_identity_and_layered_encodings() -> None:
    assert feed_all(Decoder("identity"), b"plain", 100) == b"plain"
    layered = gzip.compress(zlib.compress(b"inner"))  # deflate applied first, then gzip
    assert feed_all(Decoder("deflate, gzip"), layered, 100) == b"inner"


def test_bomb_is_stopped_without_inflating_it() -> None:
    bomb = gzip.compress(b"\0" * 10_000_000)
    with pytest.raises(TooLarge):
        feed_all(Decoder("gzip"), bomb, 10_000, chunk=len(bomb))


def test_unknown_encoding_is_refused() -> None:
    with pytest.raises(UnsupportedEncoding):
        Decoder("br")
