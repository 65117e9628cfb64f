"""The offline demo: bundled sample feeds and pages, served on 127.0.0.1, run through the real pipeline."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_directory(root: Path, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `root` on an ephemeral loopback port for the duration of the block; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="demo-server", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def site_root() -> Path:
    return Path(str(resources.files("aggregator.demo") / "site"))


def demo_config_text(base: str) -> str:
    template = (resources.files("aggregator.demo") / "sources.yaml").read_text(encoding="utf-8")
    return template.replace("{base}", base)
