"""A loopback HTTP server for tests: serves a folder with ETag/Last-Modified/304 and records requests."""

from __future__ import annotations

import email.utils
import http.server
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

TYPES = {".rss": "application/rss+xml", ".atom": "application/atom+xml", ".json": "application/feed+json",
         ".xml": "application/xml", ".html": "text/html", ".htm": "text/html", ".txt": "text/plain"}


@dataclass
class Recorder:
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # path -> callable(handler) that answers instead of the file (for 503s, redirects, drips ...)
    routes: dict[str, Callable[[http.server.BaseHTTPRequestHandler], None]] = field(default_factory=dict)

    def paths(self) -> list[str]:
        with self.lock:
            return [p for p, _ in self.requests]

    def headers_for(self, path: str) -> list[dict[str, str]]:
        with self.lock:
            return [h for p, h in self.requests if p == path]


def _handler(root: Path, rec: Recorder) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            with rec.lock:
                rec.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
            if path in rec.routes:
                rec.routes[path](self)
                return
            relative = urllib.parse.unquote(path).lstrip("/")
            target = root / relative
            if target.is_dir():
                target = target / "index.html"
            if ".." in Path(relative).parts or not target.is_file():
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            st = target.stat()
            etag = f'"{int(st.st_mtime_ns):x}-{st.st_size:x}"'
            last_modified = email.utils.formatdate(st.st_mtime, usegmt=True)
            if self.headers.get("If-None-Match") == etag or (
                "If-None-Match" not in self.headers and self.headers.get("If-Modified-Since") == last_modified
            ):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = target.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", TYPES.get(target.suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def serve(root: Path, port: int = 0) -> Iterator[tuple[str, Recorder]]:
    """Serve `root` on 127.0.0.1:<port, free by default>; yields (base URL ending in /, request recorder)."""
    rec = Recorder()
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _handler(root, rec))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", rec
    finally:
        server.shutdown()
        server.server_close()
