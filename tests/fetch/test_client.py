"""Fetcher over real loopback HTTP: headers, conditional GET, caps, deadlines, redirects, limits, errors."""

from __future__ import annotations

import email.utils
import gzip
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from aggregator.fetch import FEED_ACCEPT, Fetcher
from aggregator.records import Settings, Validators
from tests.fetch.server import Handler, Route, reply, serve

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Fair news</title></channel></rss>'
UA = "aggregator-test/1.0 (+https://example.org/bot)"


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    f = Fetcher(Settings(user_agent=UA, connect_timeout=2, read_timeout=2, deadline=5))
    yield f
    f.close()


def feed(h: Handler) -> None:
    etag, modified = '"v1"', "Tue, 01 Oct 2024 10:00:00 GMT"
    if h.headers.get("If-None-Match") == etag:
        reply(h, 304, headers={"ETag": etag})
        return
    reply(h, 200, FEED, {"Content-Type": 'application/RSS+xml; charset="ISO-8859-1"', "ETag": etag,
                         "Last-Modified": modified, "Cache-Control": "public, max-age=600"})


def test_sends_honest_user_agent_and_feed_accept_header(fetcher: Fetcher) -> None:
    with serve({"/feed": feed, "/page": feed}) as (base, log):
        assert fetcher.get(f"{base}/feed").ok
        assert fetcher.get(f"{base}/page", accept="text/html").ok
    sent = log.headers("/feed")[0]
    assert sent["user-agent"] == UA
    assert sent["accept"] == FEED_ACCEPT
    assert "gzip" in sent["accept-encoding"]
    assert log.headers("/page")[0]["accept"] == "text/html"


def test_200_returns_body_type_charset_validators_and_max_age(fetcher: Fetcher) -> None:
    with serve({"/feed": feed}) as (base, _):
        r = fetcher.get(f"{base}/feed")
    assert r.ok and r.status == 200 and not r.not_modified
    assert r.body == FEED
    assert r.content_type == "application/rss+xml"
    assert r.charset == "ISO-8859-1"
    assert r.validators == Validators(etag='"v1"', last_modified="Tue, 01 Oct 2024 10:00:00 GMT")
    assert r.max_age == 600
    assert r.final_url == r.url == f"{base}/feed"
    assert r.permanent_redirect is None
    assert r.elapsed > 0


def test_conditional_get_sends_validators_and_304_keeps_them(fetcher: Fetcher) -> None:
    with serve({"/feed": feed}) as (base, log):
        first = fetcher.get(f"{base}/feed")
        second = fetcher.get(f"{base}/feed", first.validators)
    sent = log.headers("/feed")[1]
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Tue, 01 Oct 2024 10:00:00 GMT"
    assert "if-none-match" not in log.headers("/feed")[0]
    assert second.ok and second.not_modified and second.status == 304
    assert second.body is None
    assert second.validators == first.validators


def test_keep_alive_connection_is_reused(fetcher: Fetcher) -> None:
    with serve({"/feed": feed, "/missing": lambda h: reply(h, 404, b"gone")}) as (base, log):
        for _ in range(10):
            assert fetcher.get(f"{base}/feed").ok
            assert fetcher.get(f"{base}/missing").error_kind == "http"
    assert len(log.requests) == 20
    assert len(log.ports) == 1


# --------------------------------------------------------------------------- compression and size cap


def test_gzip_and_deflate_bodies_are_decoded(fetcher: Fetcher) -> None:
    routes = {
        "/gz": lambda h: reply(h, 200, gzip.compress(FEED), {"Content-Encoding": "gzip"}),
        "/zlib": lambda h: reply(h, 200, zlib.compress(FEED), {"Content-Encoding": "deflate"}),
        "/raw-deflate": lambda h: reply(h, 200, zlib.compress(FEED, wbits=-15), {"Content-Encoding": "deflate"}),
    }
    with serve(routes) as (base, _):
        for path in routes:
            r = fetcher.get(base + path)
            assert r.ok, r.error
            assert r.body == FEED, path


def test_gzip_bomb_stops_at_decoded_cap() -> None:
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))  # ~50 KB on the wire, 50 MB decoded
    with serve({"/bomb": lambda h: reply(h, 200, bomb, {"Content-Encoding": "gzip"})}) as (base, _), \
            Fetcher(Settings(max_bytes=1024 * 1024)) as f:
        started = time.monotonic()
        r = f.get(f"{base}/bomb")
    assert r.error_kind == "too-large"
    assert r.body is None
    assert "1048576 byte cap" in (r.error or "") and "settings.max_bytes" in (r.error or "")
    assert time.monotonic() - started < 2


def test_body_exactly_at_cap_is_fine_one_more_byte_is_not() -> None:
    routes = {"/at": lambda h: reply(h, 200, b"x" * 1000), "/over": lambda h: reply(h, 200, b"x" * 1001)}
    with serve(routes) as (base, _), Fetcher(Settings(max_bytes=1000)) as f:
        assert f.get(f"{base}/at").body == b"x" * 1000
        assert f.get(f"{base}/over").error_kind == "too-large"
        assert f.get(f"{base}/over", max_bytes=2000).ok  # the per-call cap overrides the setting


def test_content_length_above_cap_fails_without_reading() -> None:
    def huge(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(50 * 1024 * 1024))
        h.end_headers()
        h.wfile.write(b"x" * 1000)
        time.sleep(3)  # never sends the rest: only the header can make the call return quickly

    with serve({"/huge": huge}) as (base, _), Fetcher(Settings(max_bytes=1024 * 1024)) as f:
        r = f.get(f"{base}/huge")
    assert r.error_kind == "too-large"
    assert "Content-Length" in (r.error or "")
    assert r.elapsed < 1.5


# --------------------------------------------------------------------------- time limits


def drip(h: Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", "100")
    h.end_headers()
    try:
        for _ in range(100):
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.4)
    except OSError:
        pass


def test_dripping_server_fails_at_total_deadline() -> None:
    settings = Settings(read_timeout=1.0, deadline=1.5)
    with serve({"/drip": drip, "/feed": feed}) as (base, _), Fetcher(settings) as f:
        started = time.monotonic()
        r = f.get(f"{base}/drip")
        took = time.monotonic() - started
        assert r.error_kind == "timeout"
        assert "settings.deadline" in (r.error or "")
        assert 1.4 <= took < 3
        assert f.get(f"{base}/feed").ok  # the pool is still healthy after an aborted response


def test_silent_server_hits_read_timeout() -> None:
    def silent(h: Handler) -> None:
        time.sleep(2)
        reply(h, 200, FEED)

    with serve({"/silent": silent}) as (base, _), Fetcher(Settings(read_timeout=0.5, deadline=5)) as f:
        r = f.get(f"{base}/silent")
    assert r.error_kind == "timeout"
    assert "settings.read_timeout" in (r.error or "")
    assert r.elapsed < 1.5


# --------------------------------------------------------------------------- redirects


def redirect(status: int, location: str) -> Route:
    return lambda h: reply(h, status, b"moved", {"Location": location})


def test_permanent_chain_with_relative_location_reports_final_url(fetcher: Fetcher) -> None:
    routes = {"/old": redirect(301, "/middle"), "/middle": redirect(308, "new?x=1"), "/new": feed}
    with serve(routes) as (base, log):
        r = fetcher.get(f"{base}/old")
    assert r.ok and r.body == FEED
    assert r.final_url == f"{base}/new?x=1"
    assert r.permanent_redirect == f"{base}/new?x=1"
    assert log.paths() == ["/old", "/middle", "/new"]


def test_temporary_hop_anywhere_means_no_permanent_redirect(fetcher: Fetcher) -> None:
    routes = {"/a": redirect(301, "/b"), "/b": redirect(302, "/c"), "/c": feed}
    with serve(routes) as (base, _):
        r = fetcher.get(f"{base}/a")
    assert r.ok and r.final_url == f"{base}/c"
    assert r.permanent_redirect is None


def test_too_many_redirects_names_the_chain_length() -> None:
    routes = {f"/r{i}": redirect(302, f"/r{i + 1}") for i in range(10)}
    with serve(routes) as (base, log), Fetcher(Settings(max_redirects=3)) as f:
        r = f.get(f"{base}/r0")
    assert r.error_kind == "redirect"
    assert "4 times" in (r.error or "") and "settings.max_redirects" in (r.error or "")
    assert log.paths() == ["/r0", "/r1", "/r2", "/r3"]


def test_redirect_loop_is_reported(fetcher: Fetcher) -> None:
    routes = {"/a": redirect(301, "/b"), "/b": redirect(301, "/a")}
    with serve(routes) as (base, _):
        r = fetcher.get(f"{base}/a")
    assert r.error_kind == "redirect" and "loop" in (r.error or "")


def test_redirect_to_file_url_is_refused(fetcher: Fetcher) -> None:
    with serve({"/evil": redirect(302, "file:///etc/passwd")}) as (base, _):
        r = fetcher.get(f"{base}/evil")
    assert r.error_kind == "url" and r.body is None


# --------------------------------------------------------------------------- per-host limit


def test_per_host_limit_caps_concurrent_requests() -> None:
    def slow(h: Handler) -> None:
        time.sleep(0.15)
        reply(h, 200, FEED)

    with serve({"/slow": slow}) as (base, log), Fetcher(Settings(per_host=2)) as f, \
            ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: f.get(f"{base}/slow?i={i}"), range(8)))
    assert all(r.ok for r in results)
    assert len(log.requests) == 8
    assert log.peak == 2


# --------------------------------------------------------------------------- HTTP errors


def test_404_says_what_to_check(fetcher: Fetcher) -> None:
    with serve({}) as (base, _):
        r = fetcher.get(f"{base}/nope.xml")
    assert r.error_kind == "http" and r.status == 404 and r.body is None
    assert r.error == f"HTTP 404 Not Found from {base}/nope.xml: check the source url"


def test_retry_after_in_seconds_and_as_http_date(fetcher: Fetcher) -> None:
    def dated(h: Handler) -> None:
        now = time.time()
        reply(h, 503, b"busy", {"Date": email.utils.formatdate(now, usegmt=True),
                                "Retry-After": email.utils.formatdate(now + 120, usegmt=True)})

    routes = {"/429": lambda h: reply(h, 429, b"slow down", {"Retry-After": "30"}), "/503": dated,
              "/500": lambda h: reply(h, 500, b"oops", {"Retry-After": "30"})}
    with serve(routes) as (base, _):
        r429, r503, r500 = (fetcher.get(f"{base}{p}") for p in routes)
    assert r429.error_kind == "http" and r429.retry_after == 30
    assert r503.status == 503 and r503.retry_after is not None and 118 <= r503.retry_after <= 121
    assert r500.retry_after is None
    assert "retried later" in (r500.error or "")


def test_expires_minus_date_gives_max_age(fetcher: Fetcher) -> None:
    def expiring(h: Handler) -> None:
        now = time.time()
        reply(h, 200, FEED, {"Date": email.utils.formatdate(now, usegmt=True),
                             "Expires": email.utils.formatdate(now + 900, usegmt=True)})

    with serve({"/e": expiring}) as (base, _):
        r = fetcher.get(f"{base}/e")
    assert r.max_age is not None and 898 <= r.max_age <= 900


def test_connection_refused_is_a_connection_error(fetcher: Fetcher) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connection refused
        r = fetcher.get(f"http://127.0.0.1:{port}/feed")
    assert r.error_kind == "connection"
    assert "refused" in (r.error or "")


def test_tls_error_against_plain_http_server(fetcher: Fetcher) -> None:
    with serve({"/feed": feed}) as (base, _):
        r = fetcher.get(base.replace("http://", "https://") + "/feed")
    assert r.error_kind == "tls", r.error


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/feed.xml", "feed.xml", "http:///x",
                                 "http://[::1/"])
def test_only_http_urls_are_fetched(fetcher: Fetcher, url: str) -> None:
    r = fetcher.get(url)
    assert r.error_kind == "url"
    assert r.body is None and r.error


def test_concurrent_gets_from_many_threads_all_succeed() -> None:
    counter = {"n": 0}
    lock = threading.Lock()

    def numbered(h: Handler) -> None:
        with lock:
            counter["n"] += 1
        reply(h, 200, h.path.encode())

    with serve({"/n": numbered}) as (base, log), Fetcher(Settings(per_host=4)) as f, \
            ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda i: f.get(f"{base}/n?i={i}"), range(200)))
    assert [r.body for r in results] == [f"/n?i={i}".encode() for i in range(200)]
    assert counter["n"] == 200
    assert log.peak <= 4
