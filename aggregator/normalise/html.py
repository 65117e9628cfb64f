"""Sanitised HTML and plain text from untrusted feed markup.

Feeds carry arbitrary HTML that we republish, so everything goes through nh3 (ammonia) with a
small allow-list. Text extraction uses regexes over the *sanitised* markup instead of a parser:
at 50,000 entries per run a DOM per entry costs more than the whole budget.
"""

from __future__ import annotations

import html
import html.entities
import re
from functools import lru_cache

import nh3

from aggregator import speedups

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
})
# Removed together with everything inside them (their content is code or a foreign document).
DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template", "svg", "math",
                               "select", "textarea", "button", "noembed", "noframes", "applet"})
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer"
# nh3 keeps these on every allowed tag (ammonia's default "generic attributes"); the C copy must know it
NH3_GENERIC_ATTRIBUTES = frozenset({"lang", "title"})
# What the C copy of the nh3 call (speedups `sanitize`) keeps: tag -> attribute names
_KEPT_ATTRIBUTES = {tag: frozenset(ALLOWED_ATTRIBUTES.get(tag, set()) | NH3_GENERIC_ATTRIBUTES) for tag in ALLOWED_TAGS}

_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LOOKS_LIKE_HTML = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?/?>|<!--|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+\d*);")
_HAS_TAG = re.compile(r"</?[a-zA-Z]")
# Tags that separate words. Lowercase only: it runs on nh3 output, which is normalised (and faster so).
_BLOCK_TAG_NAMES = frozenset({
    "br", "hr", "img", "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "figure", "figcaption",
})
_BLOCK_TAG = re.compile(rf"</?(?:{'|'.join(sorted(_BLOCK_TAG_NAMES))})(?:[\s/][^>]*)?>")
_BLOCK_TAG_ANY_CASE = re.compile(_BLOCK_TAG.pattern, re.IGNORECASE)
# A block tag, with the block tags and whitespace right after it: one space in the text is all they make,
# so the text usually comes out with single spaces already (see `_single_spaced`).
_BLOCK_TAGS = re.compile(rf"{_BLOCK_TAG.pattern}(?:\s*{_BLOCK_TAG.pattern})*\s*")
_ANY_TAG = re.compile(r"<[^>]*>")
_TITLE_TAG = re.compile(r"</?[a-zA-Z][^<>]*>|<!--.*?-->", re.DOTALL)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def strip_xml_forbidden(value: str) -> str:
    """Drop characters XML 1.0 cannot carry; one of them would make the published feed unparsable."""
    if speedups.native is not None:
        return value if speedups.native.xml_clean(value) else _XML_FORBIDDEN.sub("", value)
    if value.isprintable() or value.replace("\n", "").replace("\t", "").replace("\r", "").isprintable():
        return value  # fast path: isprintable() is False for every forbidden character
    return _XML_FORBIDDEN.sub("", value)


@lru_cache(maxsize=256)
def _cleaner(base: str | None) -> nh3.Cleaner:
    """One sanitiser per base URL (most entries of a feed share one), built once."""
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS), clean_content_tags=set(DROP_WITH_CONTENT), attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES), url_relative=("rewrite_with_base", base) if base else "deny",
        link_rel=LINK_REL, strip_comments=True,
    )


def sanitize_html(value: str, base: str | None) -> str:
    """Safe HTML with absolute links; plain text (no markup) is escaped and put in paragraphs."""
    return sanitized(value, base)[0]


def sanitized(value: str, base: str | None) -> tuple[str, str | None]:
    """`sanitize_html`, and `html_to_text` of the result when the C copy of nh3 wrote it along (else None)."""
    value = strip_xml_forbidden(value).strip()
    if not value:
        return "", ""
    if not _LOOKS_LIKE_HTML.search(value):
        return text_to_html(value), None
    if speedups.native is not None:  # simple, well-nested markup: what nh3 would write, without nh3
        fast = speedups.native.sanitize(value, _KEPT_ATTRIBUTES, html.entities.html5, LINK_REL, _BLOCK_TAG_NAMES)
        if fast is not None:
            cleaned, text = fast
            if "<img>" in cleaned:  # see below; the text had a word break there
                return cleaned.replace("<img>", "").strip(), None
            return cleaned.strip(), text
    cleaned = nh3_clean(value, base)
    if "<img>" in cleaned:  # an image whose only source was javascript:/data: shows nothing
        cleaned = cleaned.replace("<img>", "")
    return cleaned.strip(), None


def nh3_clean(value: str, base: str | None) -> str:
    """The nh3 call `sanitize_html` makes (and the reference the C copy is tested against)."""
    try:
        return str(_cleaner(base).clean(value))
    except ValueError:  # an unparsable base URL: refuse relative links rather than fail the entry
        return str(_cleaner(None).clean(value))


def text_to_html(text: str) -> str:
    """Plain text as escaped paragraphs (blank lines separate paragraphs)."""
    paragraphs = (" ".join(p.split()) for p in _PARAGRAPH_BREAK.split(text))
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs if p)


def html_to_text(markup: str) -> str:
    """Readable plain text of (sanitised) HTML: block elements separate words, inline ones do not."""
    if not markup:
        return ""
    if speedups.native is not None:
        text = speedups.native.html_to_text(markup, _BLOCK_TAG_NAMES)
        if text is not None:
            return text
    return reference_html_to_text(markup)


def reference_html_to_text(markup: str) -> str:
    """`html_to_text` by regular expressions and `html.unescape`: what the C copy must give."""
    if "<" in markup:
        markup = _BLOCK_TAGS.sub(" ", markup)
        markup = _ANY_TAG.sub("", markup)
    if "&" in markup:
        markup = html.unescape(markup)
    return _single_spaced(markup)


def _single_spaced(text: str) -> str:
    """`" ".join(text.split())`, without splitting a text whose only whitespace is single spaces already.

    Splitting a 2 KB text into words costs more than the rest of `html_to_text`; `isprintable()` is False
    for every whitespace character but the space, so it and a look for "  " tell when it is not needed.
    """
    text = text.strip(" ")
    if text.isprintable() and "  " not in text:
        return text
    return " ".join(text.split())


def plain_text(value: str) -> str:
    """Text of a short field (title, author) that may or may not contain markup or entities."""
    value = strip_xml_forbidden(value)
    if "<" in value and _HAS_TAG.search(value):
        value = _TITLE_TAG.sub("", _BLOCK_TAG_ANY_CASE.sub(" ", value))
    if "&" in value:
        value = strip_xml_forbidden(html.unescape(value))
    return " ".join(value.split())


def excerpt(text: str, limit: int = 300) -> str:
    """The first `limit` characters cut at a word boundary, with an ellipsis when shortened."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"
