from __future__ import annotations

import pytest

from aggregator.normalise import canonical_url


@pytest.mark.parametrize(("url", "expected"), [
    ("HTTP://Example.COM/News/1", "http://example.com/News/1"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("https://example.com/a#comments", "https://example.com/a"),
    ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
    ("https://example.com/a/../b/./c", "https://example.com/b/c"),
    ("https://example.com", "https://example.com/"),
    ("  https://example.com/a\n", "https://example.com/a"),
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://user@Example.com/x", "https://user@example.com/x"),
])
def test_spellings_of_one_address_collapse(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize("query", [
    "utm_source=rss&utm_medium=feed&utm_campaign=x", "fbclid=abc", "gclid=1", "dclid=1", "msclkid=1",
    "mc_cid=1&mc_eid=2", "_hsenc=1&_hsmi=2", "yclid=1", "igshid=1", "spm=a.b.c", "UTM_Source=x",
])
def test_well_known_trackers_are_removed(query: str) -> None:
    assert canonical_url(f"https://example.com/news/1?id=7&{query}") == "https://example.com/news/1?id=7"


def test_ref_and_from_are_kept_alone_but_dropped_with_utm_tags() -> None:
    assert canonical_url("https://example.com/list?from=2024&ref=main") == "https://example.com/list?from=2024&ref=main"
    assert canonical_url("https://example.com/a?utm_source=x&ref=abcd") == "https://example.com/a"


def test_parameters_that_merely_contain_tracker_names_are_kept() -> None:
    assert canonical_url("https://example.com/a?not_utm=1&refresh=2") == "https://example.com/a?not_utm=1&refresh=2"


@pytest.mark.parametrize(("url", "base", "expected"), [
    ("/news/1?utm_source=x", "https://example.com/feed.xml", "https://example.com/news/1"),
    ("2.html", "https://example.com/news/1.html", "https://example.com/news/2.html"),
    ("../b", "https://example.com/x/y/z", "https://example.com/x/b"),
    ("//cdn.example.org/a", "https://example.com/", "https://cdn.example.org/a"),
    ("https://other.org/a", "https://example.com/", "https://other.org/a"),
])
def test_relative_links_resolve_against_the_base(url: str, base: str, expected: str) -> None:
    assert canonical_url(url, base) == expected


def test_non_ascii_paths_and_hosts_are_encoded_once() -> None:
    once = canonical_url("https://例え.jp/新闻/展会?q=é")
    assert once.isascii()
    assert canonical_url(once) == once
