"""aggregator/_speedups.c against the pure-Python references it copies: the same bits, or it is a bug
(signatures are stored; folded text is hashed into stored keys; topics are published)."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator import speedups
from aggregator.classify import Classifier
from aggregator.dedupe import near
from aggregator.normalise import html, language, words
from aggregator.records import Topic
from tests.dedupe.test_make_signatures import assert_same, record
from tests.dedupe.test_near import ORIGINAL
from tests.test_classify import SRC, article

native = speedups.native
needs_native = pytest.mark.skipif(native is None, reason="aggregator/_speedups.c is not built here "
                                  "(no C compiler at install time, or AGGREGATOR_PURE_PYTHON is set)")


def test_the_extension_is_built_where_a_compiler_is() -> None:
    """`pip install` builds it (setup.py, optional): with gcc and Python's headers present it must be there."""
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not (shutil.which("gcc") or shutil.which("cc")) or not headers.exists():
        pytest.skip("no C compiler or no Python headers: the pure-Python references run, as they should")
    if os.environ.get("AGGREGATOR_PURE_PYTHON") or sys.byteorder != "little":
        pytest.skip("the C is switched off here (AGGREGATOR_PURE_PYTHON, or a big-endian host)")
    if speedups.load() is None:
        pytest.fail("aggregator._speedups is not built: run `pip install -e .` again and read the compiler's error")


@needs_native
@settings(max_examples=400, deadline=None)
@given(st.lists(record, max_size=12))
def test_signatures_are_the_references_bit_for_bit(items: list[tuple[str, str, str | None]]) -> None:
    assert_same(near.make_signatures(items), near.reference_signatures(items))
    assert_same([near.make_signature(*item) for item in items], [near.reference_signature(*item) for item in items])


@needs_native
def test_the_c_signature_defers_to_the_exact_path_and_takes_the_title_when_the_body_is_short() -> None:
    assert native is not None
    near.make_signature("", "x", None)  # sets the tables up
    assert native.signature("", "Cafe\u0301 " * 40, False) is NotImplemented  # a combining accent
    assert native.signature("", "too short", False) is None
    title = "Hanse Industry Fair opens its doors in Hansestadt with 2,400 exhibitors from 41 countries"
    body = "The fair opened on Monday with record numbers of exhibitors from twenty countries."
    assert_same([near.make_signature(title, body, "en")], [near.reference_signature(title, body, "en")])
    assert near.make_signature(title, body, "en") is not None  # only because of the title
    assert_same([near.make_signature("", ORIGINAL * 40, None)], [near.reference_signature("", ORIGINAL * 40, None)])


pieces = st.sampled_from([b" ", b"  ", b"a", b"bc", b"\xc3\xa9", b"9", b"\t", b"\n"])
spaced = st.lists(pieces, max_size=40).map(b"".join)


@needs_native
@given(spaced)
def test_collapse_spaces_is_join_split(data: bytes) -> None:
    assert native is not None
    data = data.replace(b"\t", b" ").replace(b"\n", b" ")  # what it is given: spaces are the only whitespace
    assert native.collapse_spaces(data) == b" ".join(data.split())


@needs_native
@given(st.lists(st.sampled_from([b"ai", b"iot", b"5g", b"a", b"", b"\xe4\xb8\xad", b"robot", b"robots"]), max_size=8),
       spaced)
def test_present_tokens_is_a_set_intersection(tokens: list[bytes], joined: bytes) -> None:
    assert native is not None
    joined = b" ".join(joined.split())
    keys = tuple(dict.fromkeys(t for t in tokens if t))
    assert native.present_tokens(joined, native.token_table(keys), keys) == set(keys) & set(joined.split())


def _pure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speedups, "native", None)
    words.folded_runs.cache_clear()


@needs_native
@given(st.text(alphabet="aZ9 ,.-_'\n£€—“”éßİΣﬁＡ①가中文。ｶﾞ\u0301\u3000", max_size=80))
def test_folding_is_the_same_without_c(text: str) -> None:
    _assert_same_folding(text)


def _assert_same_folding(text: str) -> None:
    words.folded_runs.cache_clear()
    fast = words.folded_runs(text)
    with pytest.MonkeyPatch.context() as mp:
        _pure(mp)
        assert words.folded_runs(text) == fast
    words.folded_runs.cache_clear()


@needs_native
def test_topics_are_the_same_without_c(monkeypatch: pytest.MonkeyPatch) -> None:
    topics = [Topic("ai", "AI", include=("AI", "machine learning", "C++", "人工智能")),
              Topic("iot", "IoT", include=("IoT", "Internet of Things"), exclude=("smart toaster",))]
    texts = [("AI fair", "Machine learning and the Internet of Things."), ("", "said the C++ team"),
             ("人工智能展", "深圳"), ("Smart toaster", "an IoT smart toaster"), ("", "Café — AI. IoT!")]
    fast = [Classifier(topics).classify(article(title, text), SRC) for title, text in texts]
    _pure(monkeypatch)
    assert [Classifier(topics).classify(article(title, text), SRC) for title, text in texts] == fast
    assert fast[0] == ("ai", "iot") and fast[1] == ("ai",) and fast[2] == ("ai",) and fast[3] == ()


_TAGS = ["<p>", "</p>", "<br>", "<br/>", "<br />", "<b>", "</b>", "<a href=\"http://x/?a=1&amp;b=2\">", "</a>",
         "<h2>", "</h2>", "<pre>", "<prefix>", "<thead>", "<th scope=\"col\">", "<td/>", "<span title=\"a>b\">",
         "</ p>", "<img src=\"x.png\" alt=\"\">", "<figcaption>", "<P>", "<x <p>", "<", ">"]
_ENTITIES = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&nbsp;", "&eacute;", "&amp", "&#x41;", "& ", "&lt;p&gt;"]
_TEXT = ["fair", "Messe", "展会", " ", "  ", "\n", "\t", "\u00a0", "\u3000", "\u2009", "é", "\u00ad", "x"]
_ODD = {"<x <p>", "<", "&eacute;", "&amp", "&#x41;", "& "}  # what the C leaves to the reference
markup = st.lists(st.sampled_from(_TAGS + _ENTITIES + _TEXT), max_size=40).map("".join)
nh3_like = st.lists(st.sampled_from([p for p in _TAGS + _ENTITIES + _TEXT if p not in _ODD]), max_size=40).map("".join)


@needs_native
@settings(max_examples=500)
@given(nh3_like)
def test_html_to_text_is_the_reference_in_c(value: str) -> None:
    assert native is not None
    assert native.html_to_text(value, html._BLOCK_TAG_NAMES) == html.reference_html_to_text(value)


@needs_native
@given(markup)
def test_html_to_text_is_the_reference(value: str) -> None:
    assert html.html_to_text(value) == html.reference_html_to_text(value)


@needs_native
def test_html_to_text_leaves_what_it_does_not_know_to_the_reference() -> None:
    assert native is not None
    assert native.html_to_text("caf&eacute;", html._BLOCK_TAG_NAMES) is None
    assert native.html_to_text("<x <p>y", html._BLOCK_TAG_NAMES) is None
    assert html.html_to_text("<p>caf&eacute;</p><p>bar</p>") == "café bar"
    assert native.html_to_text("<p>A&amp;B</p><li>x<b>y</b></li>", html._BLOCK_TAG_NAMES) == "A&B xy"


@needs_native
@given(st.text(alphabet="ab \t\n\r\x00\x08\x0b\x1f\ud800\ufffe\uffff\u00e9\U0001f680", max_size=30))
def test_xml_clean_finds_what_the_regular_expression_finds(value: str) -> None:
    assert native is not None
    assert native.xml_clean(value) == (html._XML_FORBIDDEN.search(value) is None)


@needs_native
@settings(max_examples=300, deadline=None)
@given(st.text(), st.text())
def test_any_text_gives_the_references_answers(title: str, text: str) -> None:
    """Whole Unicode, lone surrogates and astral characters included: the C defers or agrees, never crashes."""
    _assert_same_folding(text)
    assert html.html_to_text(text) == html.reference_html_to_text(text)
    assert html.strip_xml_forbidden(text) == html._XML_FORBIDDEN.sub("", text)
    try:
        expected = near.reference_signature(title, text, None)
    except UnicodeEncodeError:  # a lone surrogate: the reference refuses it, and so must the C path
        with pytest.raises(UnicodeEncodeError):
            near.make_signature(title, text, None)
        return
    assert_same([near.make_signature(title, text, None)], [expected])


# --------------------------------------------------------------------------- the nh3 call for simple markup

_URLS = ["https://example.com/ref/1/2", "http://a.b:8080", "http://a.b:65536/", "https://a.com?x=1&amp;y=2",
         "https://1.2.3.4/", "https://-a.com/", "https://xn--bcher-kva.example/", "HTTPS://E.com/", "/relative",
         "javascript:alert(1)", "mailto:x@y.z", "https://a..b/", "https://a.b/ c", "https://a.b/\u00e9",
         "https://exa mple.com/", "http://[::1]/", "https://a.b/#f", "https://a.b:/", "data:text/html,x", ""]
_SAN_TAGS = ["<p>", "</p>", "<P>", "</P>", "<br>", "<br/>", "<br />", "</br>", "<b>", "</b>", "<strong>", "</strong>",
             "<em>", "</em>", "<ul>", "</ul>", "<ol>", "</ol>", "<li>", "</li>", "<h2>", "</h2>", "<h3>", "</h3>",
             "<div>", "</div>", "<blockquote>", "</blockquote>", "<figure>", "</figure>", "<figcaption>",
             "</figcaption>", "<span>", "</span>", "<hr>", "<code>", "</code>", "<table>", "<td>", "</td>",
             "<pre>", "</pre>", "<script>", "</script>", "<font>", "</font>", "<!-- c -->", "<?x?>", "</a>",
             "<p/>", "<p >", "</p >", "<li >", "<dd>", "<x-y>", "<", "</", "< p>", "<1>"]
_SAN_ATTRS = [' title="t"', ' lang="en"', ' class="c"', ' alt="a&lt;b&quot;c\u00a0d"', " alt='x\"y'",
              ' width="640"', ' rel="nofollow"', ' onclick="x()"', " data-x=\"1\"", ' alt', ' alt=x', ' ALT="u"',
              ' title="&eacute;&amp"', '  title="two"', '\ttitle="tab"', ' title = "s"', ' title="a"title="b"',
              ' title="&#x41;&#128;&#0;"', ' datetime="2024-06-03"', ' cite="javascript:x"', ' title="a"/']
_SAN_TEXT = ["fair", " ", "\n", "\t", "\r", "\u00a0", "é", "\U0001f680", "\x7f", "\x85", "\ufdd0", "<", ">",
             "&", "&amp;", "&lt;", "&quot;", "&#39;", "&#x27;", "&#128;", "&#0;", "&#1;", "&#xD800;",
             "&#x110000;", "&ldquo;", "&notit;", "&copy", "&copy;", "&ampx", "&#", "&#x;", "&nbsp;", "AT&T",
             "&NewLine;", "&nbsp", "&#65", "&Aacute;", "&acE;"]


@st.composite
def _start_tag(draw: st.DrawFn) -> str:
    tag = draw(st.sampled_from(["a", "img", "p", "span", "abbr", "time", "blockquote", "q", "li", "A", "IMG"]))
    attrs = draw(st.lists(st.one_of(
        st.sampled_from(_SAN_ATTRS),
        st.sampled_from(_URLS).map(lambda u: f' href="{u}"'),
        st.sampled_from(_URLS).map(lambda u: f" src='{u}'"),
    ), max_size=4))
    end = draw(st.sampled_from([">", ">", "/>", " >"]))
    return f"<{tag}{''.join(attrs)}{end}"


sanitizable = st.lists(st.one_of(st.sampled_from(_SAN_TAGS + _SAN_TEXT), _start_tag()), max_size=30).map("".join)
# well-nested trees of every tag the C knows and some it does not, with odd attributes and text now and then:
# nesting the tree builder would rearrange (a block in a <p>, an <a> in an <a>...) comes up by itself
_TREE_TAGS = ["p", "div", "blockquote", "ul", "ol", "li", "figure", "figcaption", "h2", "h3", "a", "b", "strong",
              "em", "i", "u", "s", "small", "code", "span", "abbr", "cite", "q", "sub", "sup", "mark", "time",
              "del", "ins", "pre", "td", "font", "dl"]
_TREE_VOID = ["br", "img", "hr", "wbr"]
_TREE_ATTRS = [' href="https://example.com/ref/1/2"', ' src="https://img.example.com/6/3.jpg"', ' title="t &amp; u"',
               ' alt="a&lt;b&quot;c\u00a0d&gt;"', ' class="c"', ' width="640"', ' lang="zh"', ' cite="https://a.b/q"',
               ' datetime="2024-06-03T10:00:00Z"', " alt='it&#39;s'", ' rel="nofollow"', ' style="x"']
_tree_text = st.sampled_from(["fair", " ", "\n", "\u00a0", "展会", "&amp;", "&quot;", "&rsquo;", "< ", " > ", "AT&T",
                              "&#8220;", "\U0001f680"] * 6 + _SAN_TEXT)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    attrs = st.lists(st.one_of(st.sampled_from(_TREE_ATTRS * 4 + _SAN_ATTRS),
                               st.sampled_from(_URLS).map(lambda u: f' href="{u}"')), max_size=3, unique=True)
    normal = st.tuples(st.sampled_from(_TREE_TAGS), attrs, st.lists(children, max_size=4)).map(
        lambda t: f"<{t[0]}{''.join(t[1])}>{''.join(t[2])}</{t[0]}>")
    void = st.tuples(st.sampled_from(_TREE_VOID), attrs, st.sampled_from([">", "/>", " />"])).map(
        lambda t: f"<{t[0]}{''.join(t[1])}{t[2]}")
    return st.one_of(normal, normal, void)


trees = st.recursive(_tree_text, _element, max_leaves=25).map(str)


# simple markup by construction (balanced, nothing the tree builder rearranges): the C must take all of it
_INLINE = st.lists(st.sampled_from(["fair", " ", "\n", "\u00a0", "é", "&amp;", "&quot;", "&ldquo;", "< ", "> ", "& ",
                                    "&#39;", "<br>", '<img src="https://e.com/a.jpg" alt="&quot;x&quot;">']),
                   max_size=8).map("".join)
_WRAPPED = st.tuples(st.sampled_from(["", "b", "em", "strong", "span", "code"]), _INLINE).map(
    lambda t: f"<{t[0]}>{t[1]}</{t[0]}>" if t[0] else t[1])
_PARAGRAPHS = st.lists(st.tuples(st.sampled_from(["p", "li", "h2", "blockquote", "figcaption"]),
                                 st.lists(_WRAPPED, max_size=4).map("".join)), max_size=6).map(
    lambda ps: "\n".join(f"<ul><li>{body}</li></ul>" if tag == "li" else f"<{tag}>{body}</{tag}>" for tag, body in ps))


def _c_sanitised(value: str) -> str | None:
    """The C copy's HTML, after checking the text it wrote along is `html_to_text` of that HTML."""
    assert native is not None
    fast = native.sanitize(value, html._KEPT_ATTRIBUTES, html.html.entities.html5, html.LINK_REL,
                           html._BLOCK_TAG_NAMES)
    if fast is None:
        return None
    cleaned, text = fast
    assert text == html.reference_html_to_text(cleaned)
    return cleaned


@needs_native
@settings(max_examples=1500, deadline=None)
@given(st.one_of(sanitizable, trees))
def test_the_c_sanitiser_writes_what_nh3_writes_or_defers(value: str) -> None:
    fast = _c_sanitised(value)
    if fast is not None:
        assert fast == html.nh3_clean(value, "http://127.0.0.1/feed.xml")


@needs_native
@settings(max_examples=300, deadline=None)
@given(_PARAGRAPHS)
def test_the_c_sanitiser_takes_simple_markup(value: str) -> None:
    assert _c_sanitised(value) == html.nh3_clean(value, "http://127.0.0.1/feed.xml")


@needs_native
def test_the_c_sanitiser_on_a_feed_body() -> None:
    """The shape of most feed bodies: taken by the C, and the same as nh3 (links get rel, quotes decoded)."""
    body = ('<p><strong>OpenAI</strong> &quot;Rhopath&quot; <a href="https://example.com/ref/1/2" class="x">'
            'y</a> &ldquo;q&rdquo; \u00a0 x<3</p>\n<figure><img src="https://img.example.com/658/3.jpg" '
            'alt="Matter protocol" width="640" height="360"/><figcaption>c &amp; d</figcaption></figure>'
            '<ul><li>one</li><li>two <em>2</em></li></ul><blockquote><p lang="en">q</p></blockquote>')
    fast = _c_sanitised(body)
    assert fast == html.nh3_clean(body, None)
    assert fast is not None and '<a href="https://example.com/ref/1/2" rel="noopener noreferrer">' in fast
    for deferred in ('<p><a href="/relative">x</a></p>', "<p>a<p>b</p>", "<p>x", "<b><i>x</b></i>", "a<!-- c -->b",
                     "<p>caf&eacute</p>", '<p class=x>y</p>', "<li>a<li>b</li></li>", "<table><td>x</td></table>"):
        assert _c_sanitised(deferred) is None
        assert html.sanitize_html(deferred, "http://127.0.0.1/") == html.nh3_clean(deferred, "http://127.0.0.1/").strip()


# --------------------------------------------------------------------------- py3langid's DFA walk


@needs_native
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aAzé ßиж中文한국語αβ!?,.\n\U0001f680", max_size=300))
def test_the_c_dfa_walk_counts_what_py3langid_counts(text: str) -> None:
    from py3langid import langid

    assert native is not None
    model = language._identifier()
    data = langid.LanguageIdentifier._encode(text)
    expected = langid.visit_counts.python(model.tk_nextmove, model._rowbase, model.tk_output, data)
    counts = native.dfa_counts(model.tk_nextmove, model._rowbase, model.tk_output, data)
    if expected is None:
        assert counts is None
    else:
        assert list(counts.items()) == list(expected.items())  # the same order: the scores sum in it


@needs_native
def test_languages_are_the_same_without_c(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["Die Hannover Messe zeigt neue Roboter für die Industrie und das Internet der Dinge.",
             "中国国际高新技术成果交易会在深圳开幕，展示人工智能和物联网新技术。",
             "The China Hi-Tech Fair opened in Shenzhen with new robots and chips on show.",
             "Le salon VivaTech ouvre ses portes à Paris avec des start-up de l'intelligence artificielle."]
    fast = [language.detect_language(t) for t in texts]
    from py3langid import langid

    assert langid.visit_counts.in_c
    monkeypatch.setattr(langid, "visit_counts", langid.visit_counts.python)
    assert [language.detect_language(t) for t in texts] == fast == ["de", "zh", "en", "fr"]
