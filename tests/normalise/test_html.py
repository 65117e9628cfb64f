from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.normalise.html import excerpt, html_to_text, plain_text, sanitize_html, strip_xml_forbidden

BASE = "https://example.com/news/2024/"


@pytest.mark.parametrize("dangerous", [
    "<script>alert(1)</script>", "<style>p{color:red}</style>", "<iframe src='https://evil.example/'></iframe>",
    "<object data='x.swf'></object>", "<form action='/x'><input name='a'></form>", "<embed src='x'>",
])
def test_active_content_is_removed_with_its_content(dangerous: str) -> None:
    out = sanitize_html(f"<p>kept</p>{dangerous}", BASE)
    assert out == "<p>kept</p>"


def test_event_handlers_and_style_attributes_are_removed() -> None:
    out = sanitize_html('<p onclick="steal()" style="position:fixed" class="x" id="y">hi</p>', BASE)
    assert out == "<p>hi</p>"


@pytest.mark.parametrize("href", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html;base64,PHNjcmlwdD4=",
                                  "vbscript:x", "file:///etc/passwd"])
def test_only_http_https_and_mailto_links_survive(href: str) -> None:
    out = sanitize_html(f'<a href="{href}">x</a>', BASE)
    assert "href" not in out and ">x</a>" in out


def test_images_with_data_urls_disappear() -> None:
    assert "img" not in sanitize_html('<p>a<img src="data:image/png;base64,AAAA">b</p>', BASE)


def test_links_and_images_become_absolute() -> None:
    out = sanitize_html('<a href="../other.html">o</a><img src="/img/a.png" alt="A">'
                        '<a href="//cdn.example.org/x">c</a><a href="mailto:press@example.com">m</a>', BASE)
    assert 'href="https://example.com/news/other.html"' in out
    assert 'src="https://example.com/img/a.png"' in out
    assert 'href="https://cdn.example.org/x"' in out
    assert 'href="mailto:press@example.com"' in out
    assert 'rel="noopener noreferrer"' in out


def test_structure_is_kept() -> None:
    markup = ("<h2>Hall 3</h2><ul><li>one</li></ul><blockquote>q</blockquote><figure><img src='a.png'>"
              "<figcaption>cap</figcaption></figure><table><tr><td>1</td></tr></table><pre><code>x</code></pre>")
    out = sanitize_html(markup, BASE)
    for tag in ("<h2>", "<ul>", "<li>", "<blockquote>", "<figure>", "<figcaption>", "<table>", "<td>", "<pre>",
                "<code>"):
        assert tag in out


def test_plain_text_is_escaped_into_paragraphs() -> None:
    assert sanitize_html("Profits rose 5% & more, 3 < 4 > 2\n\nSecond   para", BASE) == (
        "<p>Profits rose 5% &amp; more, 3 &lt; 4 &gt; 2</p><p>Second para</p>")


def test_entities_without_tags_are_treated_as_html() -> None:
    assert sanitize_html("AT&amp;T joins", BASE) == "AT&amp;T joins"


def test_xml_forbidden_characters_are_stripped_everywhere() -> None:
    dirty = "a\x00b\x0bc\ufffed\uffffe\ud800f\tg\nh"
    assert strip_xml_forbidden(dirty) == "abcdef\tg\nh"
    assert sanitize_html(f"<p>{dirty}</p>", BASE) == "<p>abcdef\tg\nh</p>"
    assert plain_text("Title\x07 here\x1f") == "Title here"


@pytest.mark.parametrize(("markup", "text"), [
    ("<p>a</p><p>b</p>", "a b"),
    ("Mes<b>se</b> Berlin", "Messe Berlin"),
    ("<ul><li>one</li><li>two</li></ul>", "one two"),
    ("line<br>break", "line break"),
    ("<p>AT&amp;T &lt;3&nbsp;fairs</p>", "AT&T <3\xa0fairs".replace("\xa0", " ")),
    ("  spaced \n\n out  ", "spaced out"),
])
def test_text_has_words_separated_by_blocks_only(markup: str, text: str) -> None:
    assert html_to_text(sanitize_html(markup, BASE)) == text


@pytest.mark.parametrize(("raw", "expected"), [
    ("  Hello &amp; welcome  ", "Hello & welcome"),
    ("<b>Bold</b> title", "Bold title"),
    ("a < b and c > d", "a < b and c > d"),
    ("Two\n  lines", "Two lines"),
])
def test_plain_text_of_titles(raw: str, expected: str) -> None:
    assert plain_text(raw) == expected


def test_excerpt_cuts_at_a_word_boundary() -> None:
    text = "word " * 100
    out = excerpt(text.strip(), 300)
    assert out.endswith("word…") and len(out) <= 301
    assert excerpt("short text", 300) == "short text"


# The plain regex form `html_to_text` must keep giving, whatever shortcuts it takes.
_REF_BLOCK = re.compile(
    r"</?(?:br|hr|img|p|div|li|ul|ol|dl|dt|dd|h[1-6]|blockquote|pre|table|thead|tbody|tfoot|tr|td|th"
    r"|caption|figure|figcaption)(?:[\s/][^>]*)?>"
)


def _reference_html_to_text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]*>", "", _REF_BLOCK.sub(" ", markup))).split())


_MARKUP_PARTS = ["<p>", "</p>", "<li>", "</ul>", "<br/>", '<img src="x">', "<strong>", "</strong>", "<a href='y'>",
                 "</a>", "<h2 >", "<p\n>", "word", "mot", "字", " ", "  ", "\n", "\t", "\xa0", "\u2003", "\u200b",
                 "&amp;", "&nbsp;", "&#10;", "&#x2028;", "&quot;", ">", "<", "\x1c", "\u00ad"]


@given(st.lists(st.sampled_from(_MARKUP_PARTS), max_size=25))
def test_text_is_what_the_plain_regular_expressions_give(parts: list[str]) -> None:
    markup = "".join(parts)
    assert html_to_text(markup) == _reference_html_to_text(markup)


def test_every_whitespace_but_the_space_is_unprintable() -> None:
    """What `_single_spaced` relies on to skip splitting."""
    assert all(not c.isprintable() for c in map(chr, range(0x110000)) if c.isspace() and c != " ")
