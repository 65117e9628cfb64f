"""Read a response body under a byte cap and a wall-clock deadline.

We read the raw socket stream ourselves (urllib3 `read1`, which returns as soon as
any bytes arrive) and decompress with zlib's `max_length`, so that a server dripping
one byte a second hits the deadline and a gzip bomb stops at the cap without ever
inflating more than the cap in memory.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from typing import Protocol

CHUNK = 16 * 1024


class TooLarge(Exception):
    """The decoded body passed the cap."""


class DeadlineExceeded(Exception):
    """The response took longer than the total deadline."""


class UnsupportedEncoding(Exception):
    """A Content-Encoding we did not ask for and cannot decode."""


class RawStream(Protocol):
    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes: ...


class _Inflater:
    """One gzip/deflate layer; restarts on concatenated gzip members like `gzip -c a b`."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._deflate_guess = encoding == "deflate"
        self._obj = self._new()

    def _new(self) -> zlib._Decompress:
        if self.encoding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj()  # zlib-wrapped deflate first; raw deflate on failure

    def feed(self, data: bytes, limit: int) -> tuple[bytes, bool]:
        """Inflate `data` producing at most `limit` bytes; the flag says input was left over."""
        try:
            out = self._obj.decompress(data, limit)
        except zlib.error:
            if not self._deflate_guess:
                raise
            self._deflate_guess = False  # servers often send raw deflate under "deflate"
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._obj.decompress(data, limit)
        self._deflate_guess = False
        left = bool(self._obj.unconsumed_tail)
        if self._obj.eof and self._obj.unused_data and self.encoding == "gzip" and not left:
            rest = self._obj.unused_data
            self._obj = self._new()
            if len(out) >= limit:
                return out, True
            more, left = self.feed(rest, limit - len(out))
            out += more
        return out, left


class Decoder:
    """Undo a Content-Encoding chain (`gzip`, `deflate`, `identity`) with a bounded output."""

    def __init__(self, content_encoding: str | None) -> None:
        names = [e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]
        names = [n for n in names if n != "identity"]
        for name in names:
            if name not in ("gzip", "x-gzip", "deflate"):
                raise UnsupportedEncoding(name)
        # applied in reverse order of the header: the last coding listed was applied last
        self._layers = [_Inflater("gzip" if n == "x-gzip" else n) for n in reversed(names)]

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decode `data`; raise TooLarge when the result would pass `limit` bytes."""
        for layer in self._layers:
            data, left = layer.feed(data, limit + 1)
            if left or len(data) > limit:
                raise TooLarge
        if len(data) > limit:
            raise TooLarge
        return data


def read_capped(raw: RawStream, decoder: Decoder, cap: int, deadline: float,
                set_timeout: Callable[[float], None] | None = None) -> bytes:
    """Read the whole body; raise TooLarge past `cap` decoded bytes, DeadlineExceeded past `deadline`.

    `deadline` is a `time.monotonic()` instant; the clock is checked between reads, and
    `set_timeout(seconds_left)` lets the caller shorten the socket timeout so one read
    cannot outlast the deadline by much.
    """
    parts: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() >= deadline:
            raise DeadlineExceeded
        if set_timeout is not None:
            set_timeout(deadline - time.monotonic())
        data = raw.read1(CHUNK, decode_content=False)
        if not data:
            return b"".join(parts)
        out = decoder.feed(data, cap - size)
        size += len(out)
        parts.append(out)
