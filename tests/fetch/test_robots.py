"""robots.txt: disallow gives error_kind="robots", cached per origin, lenient when robots.txt fails."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from aggregator.fetch import Fetcher
from aggregator.records import Settings
from tests.fetch.server import Handler, reply, serve

ROBOTS = b"""User-agent: *
Disallow: /private/

User-agent: aggregator
Disallow: /members/
Crawl-delay: 2.5
"""


def robots(h: Handler) -> None:
    reply(h, 200, ROBOTS, {"Content-Type": "text/plain"})


def ok(h: Handler) -> None:
    reply(h, 200, b"<html>news</html>", {"Content-Type": "text/html"})


def test_disallowed_path_is_not_fetched_and_says_why() -> None:
    routes = {"/robots.txt": robots, "/members/news": ok, "/news": ok}
    with serve(routes) as (base, log), Fetcher(Settings(user_agent="aggregator/0.1 (+https://x.org)")) as f:
        blocked = f.get(f"{base}/members/news", robots=True)
        fine = f.get(f"{base}/news", robots=True)
        unchecked = f.get(f"{base}/members/news")  # robots=False: the caller decided
    host = base.removeprefix("http://")
    assert blocked.error_kind == "robots" and blocked.body is None
    assert f"robots.txt of {host} disallows /members/news for our user agent" in (blocked.error or "")
    assert fine.ok and unchecked.ok
    assert log.paths().count("/members/news") == 1
    assert log.headers("/robots.txt")[0]["accept"].startswith("text/plain")


def test_group_for_our_agent_and_crawl_delay() -> None:
    with serve({"/robots.txt": robots}) as (base, _), Fetcher(Settings(user_agent="aggregator/0.1")) as f:
        assert f.allowed(f"{base}/private/x")  # our own group replaces the * group
        assert not f.allowed(f"{base}/members/x")
        assert f.crawl_delay(f"{base}/") == 2.5
    with serve({"/robots.txt": robots}) as (base, _), Fetcher(Settings(user_agent="otherbot/1.0")) as f:
        assert not f.allowed(f"{base}/private/x")
        assert f.crawl_delay(f"{base}/") is None


def test_robots_txt_is_fetched_once_per_origin_even_concurrently() -> None:
    with serve({"/robots.txt": robots, "/news": ok}) as (base, log), Fetcher(Settings(per_host=4)) as f, \
            ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: f.get(f"{base}/news?i={i}", robots=True), range(16)))
    assert all(r.ok for r in results)
    assert log.paths().count("/robots.txt") == 1


@pytest.mark.parametrize(("status", "logged"), [(404, False), (403, False), (500, True), (503, True)])
def test_failing_robots_txt_allows_everything(status: int, logged: bool, caplog: pytest.LogCaptureFixture) -> None:
    routes = {"/robots.txt": lambda h: reply(h, status, b"no"), "/news": ok}
    with caplog.at_level(logging.INFO, logger="aggregator.fetch"), serve(routes) as (base, _), \
            Fetcher(Settings()) as f:
        assert f.get(f"{base}/news", robots=True).ok
    assert any("robots.txt" in m for m in caplog.messages) is logged


def test_oversized_robots_txt_is_capped_and_then_ignored(caplog: pytest.LogCaptureFixture) -> None:
    huge = b"User-agent: *\nDisallow: /\n" + b"# padding\n" * 60_000  # ~600 KB, over the 512 KB cap
    routes = {"/robots.txt": lambda h: reply(h, 200, huge), "/news": ok}
    with caplog.at_level(logging.INFO, logger="aggregator.fetch"), serve(routes) as (base, _), \
            Fetcher(Settings()) as f:
        assert f.allowed(f"{base}/news")
    assert any("too-large" in m or "byte cap" in m for m in caplog.messages)


def test_every_redirect_hop_is_checked() -> None:
    routes = {"/robots.txt": robots,
              "/go": lambda h: reply(h, 302, b"", {"Location": "/private/feed"}), "/private/feed": ok}
    with serve(routes) as (base, log), Fetcher(Settings(user_agent="otherbot")) as f:
        r = f.get(f"{base}/go", robots=True)
    assert r.error_kind == "robots"
    assert "/private/feed" not in log.paths()
