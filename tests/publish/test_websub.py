"""WebSub publish pings over real loopback HTTP: sent only for rewritten feeds; a failing hub never breaks a run."""

from __future__ import annotations

import http.server
import logging
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pytest

from aggregator.publish import publish
from aggregator.publish.websub import ping_hubs
from tests.publish.samples import FakeStore, make_config, sample_stories


@contextmanager
def hub(status: int = 204) -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    """A loopback hub answering every POST with `status`; yields its URL and the decoded form bodies."""
    received: list[dict[str, list[str]]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            assert self.headers.get("Content-Type") == "application/x-www-form-urlencoded"
            received.append(urllib.parse.parse_qs(self.rfile.read(length).decode()))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hub", received
    finally:
        server.shutdown()
        server.server_close()


def _closed_port_url() -> str:
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/hub"


def test_publish_pings_each_hub_only_for_feeds_really_rewritten(tmp_path: Path) -> None:
    with hub() as (url, received):
        config = make_config(output_dir=tmp_path, hubs=(url,))
        store = FakeStore(sample_stories())
        publish(config, cast(Any, store))
        assert all(r["hub.mode"] == ["publish"] for r in received)
        assert sorted(r["hub.url"][0] for r in received) == sorted(
            f"https://feeds.example/{f}.{ext}" for f in ("robotics", "chips", "all") for ext in ("atom", "json"))
        received.clear()
        store.mark_feeds_dirty(["robotics", "all"])  # rendered again, same bytes
        publish(config, cast(Any, store))
        assert received == []


def test_failing_hubs_are_logged_and_the_others_still_pinged(caplog: pytest.LogCaptureFixture) -> None:
    dead = _closed_port_url()
    with hub(status=500) as (refusing, _), hub() as (good, received), \
            caplog.at_level(logging.WARNING, logger="aggregator.publish.websub"):
        failures = ping_hubs([dead, refusing, good], ["https://feeds.example/all.atom"], timeout=(2, 2))
    assert received == [{"hub.mode": ["publish"], "hub.url": ["https://feeds.example/all.atom"]}]
    assert len(failures) == 2
    assert dead in failures[0] and "https://feeds.example/all.atom" in failures[0]
    assert refusing in failures[1] and "HTTP 500" in failures[1]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and dead in warnings[0] and refusing in warnings[1]


def test_publish_survives_a_dead_hub(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path, hubs=(_closed_port_url(),))
    written = publish(config, cast(Any, FakeStore(sample_stories())))
    assert (tmp_path / "all.atom") in written
