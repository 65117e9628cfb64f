"""A small threaded HTTP server for output/: previews and small installs (use nginx in production).

It answers like a good static server so feed readers behave as they will in production: the right
content types, ETag and Last-Modified with 304 answers, gzip when asked (Vary: Accept-Encoding), HEAD,
`index.html` for a folder, no directory listings, nothing outside the folder, no dot files (the
`.tmp` files of an atomic write in progress, lock files).
"""

from __future__ import annotations

import email.utils
import gzip
import http.server
import logging
import threading
import urllib.parse
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("aggregator.serve")

TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".ico": "image/x-icon",
}
COMPRESSIBLE = (".atom", ".json", ".opml", ".html", ".htm", ".xsl", ".xml", ".rss", ".css", ".js", ".txt", ".svg")
MIN_GZIP = 256  # smaller bodies gain nothing from gzip
CACHE_CONTROL = "public, max-age=300"  # feed readers revalidate with the ETag after five minutes


def content_type(path: Path) -> str:
    return TYPES.get(path.suffix.lower(), "application/octet-stream")


def accepts_gzip(header: str | None) -> bool:
    """True when Accept-Encoding allows gzip (and does not refuse it with q=0)."""
    for part in (header or "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return False
            return True
    return False


def etag_matches(header: str, etags: tuple[str, ...]) -> bool:
    """If-None-Match uses weak comparison: W/"x" matches "x"; `*` matches anything."""
    wanted = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in wanted or any(t in wanted for t in etags)


def resolve(root: Path, url_path: str) -> Path | None:
    """The file a URL path names inside `root`, or None (outside, hidden, missing or a bare folder)."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(url_path).path)
    if "\x00" in path or "\\" in path:
        return None
    parts = [p for p in path.split("/") if p]
    if any(p.startswith(".") for p in parts):  # also rejects ".." outright
        return None
    target = root.joinpath(*parts)
    if target.is_dir():
        target = target / "index.html"
    try:
        real = target.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not real.is_file() or (real != root and root not in real.parents):
        return None  # a symlink pointing out of the folder
    return real


@dataclass
class _GzipCache:
    """Compressed bodies by (path, etag): a feed is compressed once, not on every poll."""

    limit: int = 64

    def __post_init__(self) -> None:
        self._items: OrderedDict[tuple[Path, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path, etag: str, body: bytes) -> bytes:
        key = (path, etag)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        data = gzip.compress(body, compresslevel=6, mtime=0)
        with self._lock:
            self._items[key] = data
            while len(self._items) > self.limit:
                self._items.popitem(last=False)
        return data


def make_handler(root: Path) -> type[http.server.BaseHTTPRequestHandler]:
    root = root.resolve()
    cache = _GzipCache()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "aggregator-serve"
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:
            log.debug("client=%s %s", self.client_address[0], format % args)

        def do_GET(self) -> None:
            self._answer(with_body=True)

        def do_HEAD(self) -> None:
            self._answer(with_body=False)

        def _empty(self, code: int, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _answer(self, *, with_body: bool) -> None:
            target = resolve(root, self.path)
            if target is None:
                self._empty(404)
                return
            try:
                st = target.stat()
                body = target.read_bytes() if with_body or target.suffix.lower() in COMPRESSIBLE else b""
            except OSError:
                self._empty(404)
                return
            etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
            gz_etag = etag[:-1] + '-gz"'
            compressible = target.suffix.lower() in COMPRESSIBLE and st.st_size >= MIN_GZIP
            use_gzip = compressible and accepts_gzip(self.headers.get("Accept-Encoding"))
            headers = {"ETag": gz_etag if use_gzip else etag,
                       "Last-Modified": email.utils.formatdate(st.st_mtime, usegmt=True),
                       "Cache-Control": CACHE_CONTROL}
            if compressible:
                headers["Vary"] = "Accept-Encoding"
            if target.suffix.lower() == ".atom":
                headers["Vary"] = "Accept-Encoding, Accept"
            if self._not_modified(st.st_mtime, (etag, gz_etag)):
                self._empty(304, headers)
                return
            if use_gzip:
                body = cache.get(target, etag, body)
                headers["Content-Encoding"] = "gzip"
            self.send_response(200)
            headers["Content-Type"] = content_type(target)
            if target.suffix.lower() == ".atom" and "text/html" in (self.headers.get("Accept") or ""):
                # Browsers show application/atom+xml as raw text; as application/xml they apply feed.xsl
                # and a person gets a readable page. Feed readers do not ask for text/html.
                headers["Content-Type"] = "application/xml; charset=utf-8"
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body) if body or with_body else st.st_size))
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def _not_modified(self, mtime: float, etags: tuple[str, ...]) -> bool:
            inm = self.headers.get("If-None-Match")
            if inm is not None:
                return etag_matches(inm, etags)
            ims = self.headers.get("If-Modified-Since")
            if ims:
                try:
                    since = email.utils.parsedate_to_datetime(ims)
                except (TypeError, ValueError):
                    return False
                return int(mtime) <= since.timestamp()
            return False

    return Handler


class OutputServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_server(root: Path, *, bind: str = "127.0.0.1", port: int = 8080) -> OutputServer:
    """Bound and ready; call `serve_forever()` (in a thread for the daemon) and `shutdown()`."""
    return OutputServer((bind, port), make_handler(root))


def start_in_thread(server: OutputServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="serve",
                              daemon=True)
    thread.start()
    return thread
