"""The article's own paragraphs: no bylines, share widgets, related news, "About" boxes or editor credits.

Selector mode cleans the selected element; automatic mode cleans trafilatura's output with the same
rules, so both give the same kind of body.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable

import trafilatura
from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString

from aggregator.scrape.dates import FURNITURE_WORDS, class_words, is_furniture, label_dates

BLOCKS = frozenset({"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table",
                    "tr", "td", "th", "dl", "dt", "dd", "section", "article", "figure", "header", "footer", "main",
                    "center", "address", "hr"})
_JUNK_WORDS = FURNITURE_WORDS | {"byline", "author", "tools", "dtools", "about", "contact", "note",
                                 "tags", "info", "dinfo", "print", "downloads", "caption", "disclaimer", "source",
                                 "sd", "social", "subscribe", "newsletter", "related", "dateline", "meta",
                                 "boilerplate", "back", "zoom"}
_KEEP_WORDS = {"content", "text", "body", "article", "editor_body"}
_JUNK_LINE = re.compile(
    r"^(?:(?:editor|editors|edited by|source|sources|photo|photos|reporter|translated by|translator|"
    r"proofread by|contributing|compiled by)\s*[:：]"
    r"|[（(【\[]?\s*(?:责任编辑|责编|编辑|来源|原标题|记者|通讯员|作者|摄影|校对|审核|实习生|图片来源)\s*[:：]"
    r"|[-—–\s]*ends?[-—–\s]*$|share this|分享到|click here to|【纠错】|\[print\]|打印本页)",
    re.I,
)
_BYLINE = re.compile(r"^by\s+[^|]{2,60}\|", re.I)
_SECTION_END = re.compile(
    r"^(?:about\s+\S|press contacts?|media contacts?|media enquiries|contacts?\s*:?$|related(?:\s+\w+)?\s*:?$|"
    r"read more|more news|see also|über\s|pressekontakt|kontakt|相关新闻|相关阅读|相关链接|延伸阅读|关于我们|"
    r"share this|recommended|you may also like|most popular|tags?\s*:)",
    re.I,
)


# Lines that start the page footer / article navigation: everything from here on is not the article.
_TAIL = re.compile(
    r"^(?:previous\s*(?:article|post)?\s*[:：]|next\s*(?:article|post)?\s*[:：]|上一篇|下一篇|上一条|下一条|"
    r"copyright\b|©|\(c\)\s*\d{4}|版权所有|主办单位|承办单位|all rights reserved|.{0,40}icp备)",
    re.I,
)


def _heading_like(el: Tag, text: str) -> bool:
    if el.name in ("h1", "h2", "h3", "h4", "h5", "h6", "strong", "b", "dt"):
        return True
    return len(text) <= 50 and not text.rstrip().endswith((".", "!", "?", "。", "！", "？", ":", "："))


def _leaf_blocks(root: Tag) -> list[Tag]:
    """Block elements that hold text directly (not only through other blocks)."""
    out = []
    for el in root.find_all(True):
        if el.name not in BLOCKS and el.name not in ("strong", "b"):
            continue
        if el.name in ("strong", "b") and (el.parent is None or el.parent.name not in ("div", "td", "body")):
            continue
        if any(isinstance(c, Tag) and c.name in BLOCKS for c in el.children):
            continue
        out.append(el)
    return out


def clean_body(root: Tag, *, title: str = "", exclude: Iterable[str] = ()) -> Tag:
    """Remove widgets, bylines, credits and trailing 'About'/contact/related sections, in place."""
    for selector in exclude:
        for el in root.select(selector):
            el.decompose()
    total = max(1, len(root.get_text()))
    for el in list(root.find_all(True)):
        if getattr(el, "decomposed", False):
            continue
        if el.name in ("script", "style", "noscript", "form", "iframe", "button", "input", "select", "figcaption",
                       "aside", "nav"):
            el.decompose()
            continue
        words = class_words(el)
        junk = (words & _JUNK_WORDS and not words & _KEEP_WORDS) or el.name == "footer" or is_furniture(el)
        if junk and len(el.get_text()) < 0.6 * total:
            el.decompose()
    norm_title = _norm(title)
    cut: Tag | None = None
    for el in _leaf_blocks(root):
        text = " ".join(el.get_text(" ").split())
        if not text:
            continue
        if norm_title and _norm(text) == norm_title:
            el.decompose()
            continue
        if _SECTION_END.match(text) and _heading_like(el, text):
            cut = el
            break
        if _junk_line(text):
            el.decompose()
    if cut is not None:
        _drop_from(root, cut)
    return root


def _junk_line(text: str) -> bool:
    return bool((_TAIL.match(text) and len(text) < 300) or _JUNK_LINE.match(text) or _BYLINE.match(text)
                or _is_date_line(text))


def _is_date_line(text: str) -> bool:
    """A short line that is a byline/date stamp: `By X | Site | Updated: 2017-11-20 17:19`, `发布时间：...`."""
    if len(text) > 160:
        return False
    return bool(label_dates(text))


def _drop_from(root: Tag, start: Tag) -> None:
    """Remove `start` and everything after it in document order, inside `root`."""
    node: Tag | None = start
    while node is not None and node is not root:
        for sib in list(node.next_siblings):
            sib.extract()
        parent = node.parent
        if node is start:
            node.extract()
        node = parent


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def body_text(root: Tag) -> str:
    """Plain text, one paragraph per line."""
    parts: list[str] = []

    def walk(el: Tag) -> None:
        for child in el.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:
                    parts.append(str(child))
            elif isinstance(child, Tag):
                if child.name == "br":
                    parts.append("\n")
                    continue
                block = child.name in BLOCKS
                if block:
                    parts.append("\n")
                walk(child)
                if block:
                    parts.append("\n")

    walk(root)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def inner_html(root: Tag) -> str:
    return "".join(str(c) for c in root.children).strip()


def selected_body(doc: BeautifulSoup, selector: str, *, title: str, exclude: Iterable[str]) -> Tag | None:
    """The element(s) matched by the `body` selector, merged into one cleaned <div>."""
    found = doc.select(selector)
    if not found:
        return None
    wrapper = BeautifulSoup("<div></div>", "lxml").div
    assert wrapper is not None
    for el in found:
        if any(el in other.descendants for other in found if other is not el):
            continue
        wrapper.append(copy.copy(el))
    return clean_body(wrapper, title=title, exclude=exclude)


def paragraph_cluster(doc: BeautifulSoup, *, title: str) -> Tag | None:
    """The element whose own paragraphs hold the most text (outside furniture), cleaned.

    trafilatura misses bodies in old table layouts (TRS CMS pages); this readability-style vote finds them.
    """
    scores: dict[int, float] = {}
    elements: dict[int, Tag] = {}
    for p in doc.find_all(["p", "div", "td", "li", "pre"]):
        if any(isinstance(c, Tag) and c.name in BLOCKS for c in p.children):
            continue
        text = " ".join(p.get_text(" ").split())
        links = sum(len(a.get_text()) for a in p.find_all("a"))
        weight = len(text) - 2 * links
        if weight < 25 or is_furniture(p) or any(is_furniture(a) for a in p.parents if isinstance(a, Tag)):
            continue
        for share, parent in ((1.0, p.parent), (0.4, p.parent.parent if p.parent is not None else None)):
            if isinstance(parent, Tag) and parent.name not in ("html", "[document]"):
                scores[id(parent)] = scores.get(id(parent), 0.0) + weight * share
                elements[id(parent)] = parent
    if not scores:
        return None
    best = elements[max(scores, key=lambda k: scores[k])]
    wrapper = BeautifulSoup("<div></div>", "lxml").div
    assert wrapper is not None
    wrapper.append(copy.copy(best))
    return clean_body(wrapper, title=title)


def _overlap(inner: str, outer: str) -> float:
    """Share of `inner`'s lines that appear in `outer`."""
    lines = [line for line in inner.split("\n") if len(line) > 20]
    if not lines:
        return 1.0
    return sum(len(line) for line in lines if line in outer) / sum(len(line) for line in lines)


def automatic_body(html: str, url: str | None, *, title: str, doc: BeautifulSoup | None = None) -> Tag | None:
    """trafilatura's main text, unless our paragraph vote finds a clearly different, substantial body."""
    chosen = _trafilatura_body(html, url, title=title)
    if doc is None:
        return chosen
    cluster = paragraph_cluster(doc, title=title)
    if cluster is None:
        return chosen
    cluster_text = body_text(cluster)
    if chosen is None:
        return cluster if len(cluster_text) >= 100 else None
    chosen_text = body_text(chosen)
    if _prose(cluster_text) >= 200 and _prose(cluster_text) > 1.5 * _prose(chosen_text) \
            and _overlap(cluster_text, chosen_text) < 0.5:
        return cluster
    return chosen


def _prose(text: str) -> int:
    """Characters in paragraph-like lines (long, or CJK sentences): a staff list or menu scores ~0."""
    total = 0
    for line in text.split("\n"):
        cjk = sum(1 for ch in line if "\u4e00" <= ch <= "\u9fff")
        if len(line) >= 80 or (cjk >= 20 and len(line) >= 25):
            total += len(line)
    return total


def _trafilatura_body(html: str, url: str | None, *, title: str) -> Tag | None:
    try:
        out = trafilatura.extract(html, url=url, output_format="html", include_comments=False, include_tables=True,
                                  include_images=False, include_links=False, deduplicate=False, fast=False)
    except Exception:  # trafilatura raises assorted errors on odd markup; the page then has no body
        out = None
    if not out:
        return None
    body = BeautifulSoup(out, "lxml").body
    if body is None:
        return None
    return clean_body(body, title=title)
