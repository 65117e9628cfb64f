"""`aggregator serve` over real loopback HTTP: types, ETag/Last-Modified/304, gzip, HEAD, no escapes."""

from __future__ import annotations

import gzip
import http.client
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.serve import accepts_gzip, make_server, start_in_thread

REPO = Path(__file__).resolve().parents[1]
ATOM = ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        + "<entry><title>Hall 9 opens</title></entry>" * 40 + "</feed>\n").encode()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    out = tmp_path / "output"
    (out / "archive" / "ai").mkdir(parents=True)
    (out / "all.atom").write_bytes(ATOM)
    (out / "all.json").write_text('{"version": "https://jsonfeed.org/version/1.1", "items": []}')
    (out / "feeds.opml").write_text('<?xml version="1.0"?><opml version="2.0"/>')
    (out / "feed.xsl").write_text('<?xml version="1.0"?><xsl:stylesheet/>')
    (out / "index.html").write_text("<!doctype html><title>Exhibition news</title>" + "<p>feed</p>" * 50)
    (out / "archive" / "ai" / "1.atom").write_bytes(ATOM)
    (out / ".all.atom.123.tmp").write_text("half")
    (tmp_path / "secret.txt").write_text("outside")
    (out / "escape.atom").symlink_to(tmp_path / "secret.txt")
    return out


@pytest.fixture
def port(site: Path) -> Iterator[int]:
    server = make_server(site, port=0)
    start_in_thread(server)
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def get(port: int, path: str, headers: dict[str, str] | None = None,
        method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize(("path", "expected"), [
    ("/all.atom", "application/atom+xml; charset=utf-8"),
    ("/all.json", "application/feed+json; charset=utf-8"),
    ("/feeds.opml", "text/x-opml; charset=utf-8"),
    ("/feed.xsl", "text/xsl; charset=utf-8"),
    ("/index.html", "text/html; charset=utf-8"),
    ("/", "text/html; charset=utf-8"),
    ("/archive/ai/1.atom", "application/atom+xml; charset=utf-8"),
])
def test_content_types(port: int, path: str, expected: str) -> None:
    status, headers, _ = get(port, path)
    assert status == 200
    assert headers["content-type"] == expected


def test_second_request_with_stored_etag_gets_304(port: int) -> None:
    status, headers, body = get(port, "/all.atom")
    assert status == 200 and body == ATOM
    assert headers["etag"] and headers["last-modified"]
    status, again, body = get(port, "/all.atom", {"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""
    assert again["etag"] == headers["etag"]
    status, _, _ = get(port, "/all.atom", {"If-Modified-Since": headers["last-modified"]})
    assert status == 304
    status, _, body = get(port, "/all.atom", {"If-None-Match": '"something-else"'})
    assert status == 200 and body == ATOM


def test_a_changed_file_gets_a_new_etag(port: int, site: Path) -> None:
    _, first, _ = get(port, "/all.atom")
    (site / "all.atom").write_bytes(ATOM.replace(b"Hall 9", b"Hall 7"))
    os.utime(site / "all.atom", ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    status, second, body = get(port, "/all.atom", {"If-None-Match": first["etag"]})
    assert status == 200 and b"Hall 7" in body
    assert second["etag"] != first["etag"]


def test_gzip_when_the_client_accepts_it(port: int) -> None:
    status, headers, body = get(port, "/all.atom", {"Accept-Encoding": "gzip, deflate"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in headers["vary"].split(", ")  # .atom also varies on Accept (browsers)
    assert gzip.decompress(body) == ATOM
    assert int(headers["content-length"]) == len(body) < len(ATOM)
    status, _, body = get(port, "/all.atom", {"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]})
    assert status == 304 and body == b""
    _, plain, body = get(port, "/all.atom", {"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in plain and body == ATOM
    assert plain["etag"] != headers["etag"]  # two representations, two validators


def test_head_sends_headers_only(port: int) -> None:
    status, headers, body = get(port, "/all.atom", method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["content-length"]) == len(ATOM)
    _, gz, body = get(port, "/all.atom", {"Accept-Encoding": "gzip"}, method="HEAD")
    assert body == b"" and gz["content-encoding"] == "gzip"


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt", "/archive/../../secret.txt",
                                  "/.all.atom.123.tmp", "/escape.atom", "/missing.atom", "/archive/",
                                  "//etc/passwd", "/%00"])
def test_nothing_outside_or_hidden_is_served(port: int, path: str) -> None:
    status, _, body = get(port, path)
    assert status == 404
    assert b"outside" not in body and b"half" not in body


def test_accept_encoding_parsing() -> None:
    assert accepts_gzip("gzip")
    assert accepts_gzip("br, gzip;q=0.5")
    assert accepts_gzip("*")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("br, deflate")
    assert not accepts_gzip(None)


def test_cli_serve_answers_304_and_gzip_and_stops_on_sigterm(site: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "aggregator", "serve", "--root", str(site), "--port", "0"],
                            cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        port = int(match.group(1))
        _, first, _ = get(port, "/all.atom")
        status, _, body = get(port, "/all.atom", {"If-None-Match": first["etag"]})
        assert status == 304 and body == b""
        _, headers, body = get(port, "/all.atom", {"Accept-Encoding": "gzip"})
        assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == ATOM
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_browser_gets_atom_as_xml_so_the_stylesheet_renders_it(tmp_path: Path) -> None:
    import urllib.request

    from aggregator.serve import make_server, start_in_thread

    (tmp_path / "ai.atom").write_bytes(b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>')
    server = make_server(tmp_path, port=0)
    start_in_thread(server)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/ai.atom"
        browser = urllib.request.Request(base, headers={"Accept": "text/html,application/xml;q=0.9"})
        reader = urllib.request.Request(base, headers={"Accept": "application/atom+xml"})
        with urllib.request.urlopen(browser, timeout=5) as r:
            assert r.headers["Content-Type"] == "application/xml; charset=utf-8"
        with urllib.request.urlopen(reader, timeout=5) as r:
            assert r.headers["Content-Type"].startswith("application/atom+xml")
    finally:
        server.shutdown()
        server.server_close()
