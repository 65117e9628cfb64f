"""A small HTTP/1.1 client for GET over keep-alive connections, one idle pool per origin.

Why not urllib3 for every request: a poll where every feed answers 304 is nothing but per-request
overhead, and urllib3 plus http.client spend about 0.2 ms of CPU on each (their header parsing goes
through the email package); this spends a fraction of that. It does only what the Fetcher needs: GET,
Content-Length, chunked and read-until-close bodies, TLS with the system's certificate store. Redirects,
decompression, caps and deadlines stay in the Fetcher. With a proxy configured, the Fetcher uses urllib3.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from functools import lru_cache
from urllib.parse import quote, urlsplit

MAX_HEADER_LINE = 65536
MAX_HEADERS = 200
MAX_IDLE_PER_ORIGIN = 8
_NO_BODY = frozenset({204, 304})


class ProtocolError(Exception):
    """The server's reply is not HTTP/1.x we can read."""


class _NoAnswer(ProtocolError):
    """The server closed the connection before answering: on a kept-alive connection, retry once."""


class ConnectTimeout(TimeoutError):
    """The TCP (or TLS) connection was not made within the connect timeout."""


class Headers(dict[str, str]):
    """Response headers, looked up case-insensitively; repeated headers are joined with ", "."""

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


class _Connection:
    __slots__ = ("origin", "rfile", "sock", "used")

    def __init__(self, origin: tuple[str, str, int], sock: socket.socket) -> None:
        self.origin = origin
        self.sock = sock
        self.rfile = sock.makefile("rb")
        self.used = False

    def close(self) -> None:
        for closer in (self.rfile.close, self.sock.close):
            with contextlib.suppress(OSError):
                closer()


class Response:
    """Status line and headers read; the body is read with `read1` (as urllib3's `read1`, undecoded)."""

    def __init__(self, conn: _Connection, status: int, reason: str, headers: Headers, *, head_only: bool) -> None:
        self.connection = conn
        self.sock = conn.sock
        self.status = status
        self.reason = reason
        self.headers = headers
        self._chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
        length = (headers.get("Content-Length") or "").strip()
        self._left: int | None = int(length) if length.isascii() and length.isdigit() and not self._chunked else None
        self._chunk_left = 0
        self._done = head_only or status in _NO_BODY or 100 <= status < 200 or self._left == 0
        self._until_close = not self._done and not self._chunked and self._left is None
        self.keep_alive = not self._until_close and "close" not in (headers.get("Connection") or "").lower()

    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        if self._done:
            return b""
        amt = amt or 65536
        rfile = self.connection.rfile
        if self._chunked:
            if self._chunk_left == 0:
                size_line = rfile.readline(MAX_HEADER_LINE)
                if not size_line:
                    raise ProtocolError("the connection closed inside a chunked body")
                try:
                    self._chunk_left = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError as exc:
                    raise ProtocolError(f"bad chunk size line {size_line[:40]!r}") from exc
                if self._chunk_left == 0:
                    self._read_trailers()
                    self._done = True
                    return b""
            data = rfile.read1(min(amt, self._chunk_left))
            if not data:
                raise ProtocolError("the connection closed inside a chunked body")
            self._chunk_left -= len(data)
            if self._chunk_left == 0:
                rfile.readline(MAX_HEADER_LINE)  # the CRLF after the chunk
            return data
        if self._left is not None:
            data = rfile.read1(min(amt, self._left))
            if not data:
                raise ProtocolError(f"the connection closed {self._left} bytes before the end of the body")
            self._left -= len(data)
            self._done = self._left == 0
            return data
        data = rfile.read1(amt)  # until the server closes the connection
        self._done = not data
        return data

    def _read_trailers(self) -> None:
        for _ in range(MAX_HEADERS):
            line = self.connection.rfile.readline(MAX_HEADER_LINE)
            if line in (b"\r\n", b"\n", b""):
                return
        raise ProtocolError("too many trailer lines after a chunked body")

    @property
    def complete(self) -> bool:
        return self._done


@lru_cache(maxsize=8192)
def _split(url: str) -> tuple[tuple[str, str, int], str, str]:
    """(origin, request target, Host header) of a URL; cached, as a poll asks the same URLs every time."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    default = 443 if scheme == "https" else 80
    port = parts.port or default
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not target.isascii():
        target = quote(target, safe="/?&=%:@!$'()*+,;-._~[]")
    host_header = host.encode("idna").decode("ascii") if not host.isascii() else host
    if parts.port and parts.port != default:
        host_header = f"{host_header}:{parts.port}"
    return (scheme, host, port), target, host_header


class Transport:
    """Thread-safe: connections are taken from and given back to per-origin idle lists under a lock."""

    def __init__(self, user_agent: str, connect_timeout: float) -> None:
        self._user_agent = user_agent
        self._connect_timeout = connect_timeout
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def get(self, url: str, headers: dict[str, str], read_timeout: float) -> Response:
        """Send a GET and read the reply's head. Raises OSError (socket, TLS, timeouts), ProtocolError,
        ValueError for a URL we cannot send."""
        origin, target, host_header = _split(url)
        lines = [f"GET {target} HTTP/1.1", f"Host: {host_header}", f"User-Agent: {self._user_agent}",
                 "Accept-Encoding: gzip, deflate", "Connection: keep-alive"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        conn = self._take(origin)
        if conn is not None:
            try:  # a kept-alive connection the server has since closed fails here: retry once on a new one
                return self._exchange(conn, request, read_timeout)
            except (ConnectionError, _NoAnswer):
                pass
        return self._exchange(self._connect(origin), request, read_timeout)

    def release(self, resp: Response) -> None:
        """Give the connection back for reuse when its reply was read to the end, else close it."""
        conn = resp.connection
        if not (resp.complete and resp.keep_alive):
            conn.close()
            return
        conn.used = True
        with self._lock:
            idle = self._idle.setdefault(conn.origin, [])
            if len(idle) < MAX_IDLE_PER_ORIGIN:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for c in conns:
            c.close()

    # ------------------------------------------------------------------ internals
    def _take(self, origin: tuple[str, str, int]) -> _Connection | None:
        with self._lock:
            idle = self._idle.get(origin)
            return idle.pop() if idle else None

    def _connect(self, origin: tuple[str, str, int]) -> _Connection:
        scheme, host, port = origin
        try:
            sock = socket.create_connection((host, port), timeout=self._connect_timeout)
        except TimeoutError as exc:
            raise ConnectTimeout(f"no connection to {host}:{port} within {self._connect_timeout:g}s") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            try:
                sock = self._tls.wrap_socket(sock, server_hostname=host)
            except TimeoutError as exc:
                sock.close()
                raise ConnectTimeout(f"no TLS handshake with {host}:{port} within "
                                     f"{self._connect_timeout:g}s") from exc
            except BaseException:
                sock.close()
                raise
        return _Connection(origin, sock)

    def _exchange(self, conn: _Connection, request: bytes, read_timeout: float) -> Response:
        try:
            conn.sock.settimeout(read_timeout)
            conn.sock.sendall(request)
            status_line = conn.rfile.readline(MAX_HEADER_LINE)
            if not status_line:
                raise _NoAnswer("the server closed the connection without answering")
            version, _, rest = status_line.decode("latin-1").rstrip("\r\n").partition(" ")
            code, _, reason = rest.partition(" ")
            if not version.startswith("HTTP/1.") or not (code.isascii() and code.isdigit()) or len(code) != 3:
                raise ProtocolError(f"not an HTTP/1.x status line: {status_line[:60]!r}")
            headers = Headers()
            for _ in range(MAX_HEADERS):
                line = conn.rfile.readline(MAX_HEADER_LINE)
                if line in (b"\r\n", b"\n"):
                    break
                if not line:
                    raise ProtocolError("the connection closed inside the response headers")
                name, sep, value = line.decode("latin-1").partition(":")
                if not sep:
                    raise ProtocolError(f"malformed header line {line[:60]!r}")
                key = name.strip().lower()
                value = value.strip()
                previous = dict.get(headers, key)  # the dict's own methods: the key is lowercase already
                dict.__setitem__(headers, key, f"{previous}, {value}" if previous is not None else value)
            else:
                raise ProtocolError(f"more than {MAX_HEADERS} header lines")
            return Response(conn, int(code), reason.strip(), headers, head_only=False)
        except BaseException:
            conn.close()
            raise
