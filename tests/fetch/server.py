"""A tiny loopback HTTP/1.1 server for fetch tests: routes are functions of the request handler."""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

Handler = http.server.BaseHTTPRequestHandler
Route = Callable[[Handler], None]


@dataclass
class Log:
    """What the server saw: request paths and headers, client ports, peak concurrency."""

    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    ports: set[int] = field(default_factory=set)
    in_flight: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def headers(self, path: str) -> list[dict[str, str]]:
        with self.lock:
            return [h for p, h in self.requests if p == path]

    def paths(self) -> list[str]:
        with self.lock:
            return [p for p, _ in self.requests]


def reply(h: Handler, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
    h.send_response(status)
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    if "Content-Length" not in (headers or {}):
        h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections when many threads connect at once

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that give up (deadline, size cap) break pipes on purpose


@contextmanager
def serve(routes: Mapping[str, Route]) -> Iterator[tuple[str, Log]]:
    """Serve `routes` on 127.0.0.1:<ephemeral>; yields (base URL without trailing slash, log)."""
    log = Log()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            with log.lock:
                log.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
                log.ports.add(self.client_address[1])
                log.in_flight += 1
                log.peak = max(log.peak, log.in_flight)
            try:
                route = routes.get(path)
                if route is None:
                    reply(self, 404, b"not here")
                else:
                    route(self)
            finally:
                with log.lock:
                    log.in_flight -= 1

    server = _Server(("127.0.0.1", 0), H)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()
