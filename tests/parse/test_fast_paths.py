"""The parse stage's shortcuts must give exactly what the general code they skip gives."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

from aggregator.errors import ParseError
from aggregator.parse import parse_feed
from aggregator.parse.detect import sniff
from aggregator.parse.encoding import prepare_xml
from aggregator.parse.text import all_text, collapse
from aggregator.parse.xmlfeeds import _children, _split, join_url, make_parser


def _join_reference(base: str | None, href: str | None) -> str | None:
    """join_url without its shortcut for absolute hrefs."""
    if not href or not base:
        return href or None
    try:
        return urljoin(base, href)
    except ValueError:
        return href


_BASES = st.sampled_from([
    "http://example.com/feed.xml", "https://example.com/a/b/", "HTTP://Example.com/x", "ftp://example.com/",
    "http://[::1/", "http://[::1]/a", "feed.xml", "//example.com/", "mailto:x@example.com", "http://例え.jp/",
])


@settings(max_examples=3000, deadline=None)
@given(_BASES, st.sampled_from(["http://", "https://", "HTTP://", "http:", "//", ""]),
       st.text(alphabet="aZ0-._~!$&'()*+,=:@%/?#;[]\\ é\t", max_size=30))
@example("http://example.com/feed.xml", "http://", "example.com/a?")
@example("http://example.com/feed.xml", "http://", "example.com/a#")
@example("http://example.com/feed.xml", "http://", "example.com/a?#")
@example("http://example.com/feed.xml", "http://", "example.com/b/a;")
@example("https://example.com/a/b/", "https://", "example.com/a;")
@example("https://example.com/a/b/", "https://", "example.com/a;?q")
@example("https://example.com/a/b/", "https://", "example.com/a\tb")
@example("https://example.com/a/b/", "https://", "[::1/a")
@example("http://[::1/", "https://", "example.com/a")
def test_join_url_shortcut_agrees_with_urljoin(base: str, scheme: str, rest: str) -> None:
    href = scheme + rest
    assert join_url(base, href) == _join_reference(base, href)


@pytest.mark.parametrize("href", [
    "http://example.com/a?b=1&c=2#frag", "https://example.com", "https://example.com/a/../b", "http://a.b:8080/x",
])
def test_join_url_keeps_clean_absolute_hrefs(href: str) -> None:
    assert join_url("https://other.example.org/feed", href) == href == _join_reference("https://x.org/", href)


def _itertext_reference(el: etree._Element) -> str:
    return "".join(t for t in el.itertext() if isinstance(t, str))


XML = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY custom "expanded">]>
<rss><channel><item>
<title>Plain</title><empty/><cdata><![CDATA[<b>raw</b> & more]]></cdata><ent>a &custom; b</ent>
<onlyent>&custom;</onlyent><nested>x<b>y</b>z<!-- note --><?pi data?>w</nested><blank>   </blank>
&custom;<?pi between?><!-- comment --><last xmlns="urn:x">end</last>
</item></channel></rss>"""


@pytest.mark.parametrize("keep", [True, False])
def test_all_text_and_children_match_the_general_walk(keep: bool) -> None:
    parser = etree.XMLParser(resolve_entities=False, remove_comments=not keep, remove_pis=not keep)
    item = etree.fromstring(XML, parser).find("channel/item")
    assert item is not None
    expected = [(*_split(c.tag), c) for c in item if _split(c.tag)[0] != "#"]
    assert list(_children(item)) == expected
    assert [local for _, local, _ in expected] == ["title", "empty", "cdata", "ent", "onlyent", "nested", "blank",
                                                   "last"]
    for el in item.iter(etree.Element):
        assert all_text(el) == _itertext_reference(el)


@given(st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2003\u2028\u3000\u200bab", max_size=30))
def test_collapse_equals_the_regex_form(text: str) -> None:
    assert collapse(text) == re.sub(r"\s+", " ", text).strip()


def test_control_characters_are_deleted_wherever_they_are() -> None:
    body = b"<rss><channel>\x01<title>A\x1fB\x0b</title>\x00</channel></rss>\t\n\r"
    prepared = prepare_xml(body)
    assert prepared.data == b"<rss><channel><title>AB</title></channel></rss>\t\n\r"
    assert "removed control characters that XML forbids" in prepared.warnings
    assert not prepare_xml(b"<rss>\t\n\r</rss>").warnings


@pytest.mark.parametrize("body", [b" " * 300, b"\n\t\r\x0b\x0c " * 100, b" "])
def test_blank_bodies_of_any_length_are_empty(body: bytes) -> None:
    with pytest.raises(ParseError, match="empty response"):
        sniff(body)


def test_content_after_a_long_blank_head_is_read() -> None:
    feed = parse_feed(b" " * 1000 + b"<rss><channel><title>T</title></channel></rss>", url="http://example.com/")
    assert feed.title == "T"


def test_invalid_utf8_is_still_replaced_once_validation_is_shared() -> None:
    feed = parse_feed(b"<rss><channel><title>caf\xc3</title></channel></rss>", url="http://example.com/",
                      charset="utf-8")
    assert feed.title.startswith("caf")


def test_the_parser_factory_is_unchanged() -> None:
    assert make_parser(recover=True) is not make_parser(recover=True)
