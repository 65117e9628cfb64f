"""canonical_url's fast path for already-clean URLs must give exactly what the full urllib + w3lib path gives."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aggregator.normalise.urls import _canonical_full, _canonical_simple, canonical_url

TRICKY = [
    "http://example.com/a", "https://Example.COM/News/1", "HTTP://example.com/a", "http://EXAMPLE.com:80/a",
    "https://example.com:443/a", "http://example.com:443/a", "https://example.com:80/a", "http://example.com:080/a",
    "http://example.com:0/a", "http://example.com:65535/a", "http://example.com:65536/a", "http://example.com:99999/",
    "http://example.com:/a", "http://example.com", "http://example.com?b=1&a=2", "http://example.com#frag",
    "http://example.com/#", "http://example.com/?", "http://example.com/?&&", "http://example.com/a?=x&b",
    "http://example.com/a?b&a=", "http://example.com/a?a=1=2", "http://example.com/a?a=b&a=a&A=c&_=z&~=y",
    "http://example.com/a?utm_source=x&ref=1&from=2&source=3&id=9", "http://example.com/a?ref=1&from=2",
    "http://example.com/a?UTM_Source=x&Ref=1", "http://example.com/a?fbclid=1", "http://example.com/a?FBCLID=1&x=1",
    "http://example.com/a?pk_campaign=1&mtm_kwd=2&q=3", "http://example.com/a?utm_source=x&utm_medium=y",
    "http://example.com/a?%75tm_source=x", "http://example.com/a?q=a+b", "http://example.com/a?q=a%20b",
    "http://example.com/a?q=a;b=c", "http://example.com/a?q=é", "http://example.com/a/./b", "http://example.com/a/../b",
    "http://example.com/.well-known/x", "http://example.com/a/.", "http://example.com/a/..", "http://example.com/a;p",
    "http://example.com/a;p/b", "http://example.com/a;", "http://example.com/%7Euser", "http://example.com/a%2fb",
    "http://example.com/a%2Fb", "http://example.com/a b", "http://example.com/résumé", "http://example.com/新闻",
    "http://例え.jp/a", "http://xn--r8jz45g.jp/a", "http://XN--R8JZ45G.jp/a", "http://a..b/c", "http://.example.com/",
    "http://example.com./", "http://-a-.com/", "http://[::1]/a", "http://[::0:1]:8080/a", "http://user@example.com/a",
    "http://user:pw@Example.com:80/a", "http://example.com/a'b(c)*d!e$f&g+h,i=j:k@l~m", "http://example.com//a//b/",
    "http://example.com/a\\b", "http://example.com/a|b", "http://example.com/a[b]", "http://127.0.0.1:8089/n/1.html",
    "http://127.1/a", "http://0x7f.1/a", "http://example.com/a?x=1#frag?y=2", "http://example.com/a#f#g",
    "https://example.com/a?b=2&a=1&c", "http://ex_ample.com/a", "http://example.com:8080", "ftp://example.com/a",
]


@pytest.mark.parametrize("url", TRICKY)
def test_fast_path_matches_full_path_on_tricky_urls(url: str) -> None:
    fast = _canonical_simple(url)
    assert fast is None or fast == _canonical_full(url)


@pytest.mark.parametrize(("url", "expected"), [
    ("http://127.0.0.1:8089/news/a.html?utm_source=x&utm_medium=y&ref=0044",
     "http://127.0.0.1:8089/news/a.html"),
    ("https://Example.COM:443/a?b=2&a=1&flag#top", "https://example.com/a?a=1&b=2&flag="),
    ("http://example.com", "http://example.com/"),
    ("http://example.com:8080?q=1", "http://example.com:8080/?q=1"),
])
def test_fast_path_takes_the_common_urls(url: str, expected: str) -> None:
    assert _canonical_simple(url) == expected
    assert _canonical_full(url) == expected
    assert canonical_url(url) == expected


@pytest.mark.parametrize("url", [
    "http://example.com/a/../b", "http://example.com/a%20b", "http://example.com/a;p", "http://example.com/a?q=a+b",
    "http://example.com/a?a=1=2", "http://example.com:65536/", "http://user@example.com/", "http://[::1]/",
    "http://例え.jp/", "HTTP://example.com/", "http://example.com/a b",
])
def test_fast_path_declines_what_needs_the_full_path(url: str) -> None:
    assert _canonical_simple(url) is None


_HOSTS = st.sampled_from([
    "example.com", "EXAMPLE.com", "Example.COM", "127.0.0.1", "127.1", "xn--r8jz45g.jp", "例え.jp", "a..b", ".a",
    "a.", "-a-", "ex_ample.com", "user@example.com", "u:p@Example.com", "[::1]", "[::0:1]", "", "localhost",
])
_PORTS = st.sampled_from(["", ":", ":80", ":443", ":080", ":0", ":8080", ":65535", ":65536", ":99999", ":8a"])
_SEGMENT = st.text(alphabet="aZ09-._~!$&'()*+,=:@%2fF;é新 |[]\\", max_size=6) | st.sampled_from([".", "..", "%2e"])
_PATHS = st.lists(_SEGMENT, max_size=4).map(lambda segs: "".join("/" + s for s in segs))
_KEYS = st.sampled_from(["a", "B", "b", "q", "id", "utm_source", "UTM_Medium", "ref", "Ref", "from", "source",
                         "fbclid", "_ga", "pk_x", "mtm_y", "%75tm_x", "", "a+b", "é", "x;y"])
_VALUES = st.text(alphabet="aZ09-._~=+%é; ", max_size=5)
_FIELDS = st.tuples(_KEYS, st.booleans(), _VALUES).map(lambda f: f[0] + ("=" + f[2] if f[1] else ""))
_QUERIES = st.none() | st.lists(_FIELDS, max_size=5).map("&".join)
_FRAGMENTS = st.none() | st.text(max_size=5)


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(["http", "https", "HTTP", "Https", "ftp"]), _HOSTS, _PORTS, _PATHS, _QUERIES, _FRAGMENTS)
@example("http", "Example.COM", ":80", "/a/b", "utm_source=x&ref=1&b=2&a", None)
def test_fast_path_agrees_with_full_path(scheme: str, host: str, port: str, path: str, query: str | None,
                                         fragment: str | None) -> None:
    url = f"{scheme}://{host}{port}{path}"
    url += "" if query is None else "?" + query
    url += "" if fragment is None else "#" + fragment
    fast = _canonical_simple(url)
    if fast is not None:
        assert fast == _canonical_full(url)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="aA0.-_~/?#&=:;@%+!$'()*,[]\\ é", max_size=40))
def test_fast_path_agrees_with_full_path_on_any_string(tail: str) -> None:
    for url in (f"http://{tail}", f"https://example.com/{tail}"):
        fast = _canonical_simple(url)
        if fast is not None:
            assert fast == _canonical_full(url)
