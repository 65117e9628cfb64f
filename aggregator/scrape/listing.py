"""News-list pages: the item links (by selector, or the largest block of repeated article-like links),
their list-page titles and dates, and the next list page (selector, link text, URL template or the
TRS `createPageHTML` JavaScript pager)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup, Tag

from aggregator.records import ScrapeRules
from aggregator.scrape import dates
from aggregator.scrape.select import css, split_selector, text_of

_TRACKING = re.compile(r"^(?:utm_\w+|from|ref|ref_src|spm|fbclid|gclid|mc_cid|mc_eid|share|shareid|source|"
                       r"src|scene|isappinstalled|wt\.mc_id|_ga|yclid)$", re.I)
NEXT_TEXTS = ("下一页", "下页", "后页", "next", "next page", "next »", "next ›", "next >", "»", "›", ">", ">>",
              "older posts", "older entries", "older", "weiter", "nächste seite", "nächste", "suivant", "次へ", "다음")
_NEXT_START = re.compile(r"^(?:next|older|下一页|weiter|nächste)\b", re.I)
_TRS_PAGER = re.compile(r"createPageHTML\(\s*([\w.]+)\s*,\s*([\w.]+)\s*,"
                        r"\s*[\"']([^\"']+)[\"']\s*,\s*[\"']([^\"']+)[\"']")
_NOT_ARTICLE = re.compile(r"(?:^|/)(?:index|default|list|login|register|search|tag|tags|category|author|page|"
                          r"about|contact|privacy|imprint|impressum)(?:[_-]\d+)?(?:\.\w+)?/?$", re.I)
HARD_MAX_PAGES = 50
_GENERIC = re.compile(r"^(?:continue reading|read more|more|weiterlesen|mehr|lire la suite|阅读全文|详细|查看详情|全文)"
                      r"\b\s*[:»›>]*", re.I)


@dataclass(frozen=True, slots=True)
class ListItem:
    url: str  # absolute, tracking parameters and fragment removed
    title: str
    date: datetime | None
    date_text: str | None


def clean_url(url: str) -> str:
    """Drop the fragment and tracking parameters (`utm_*`, `from=hot`...): the same item, however linked."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", urlencode(query), ""))


def same_site(a: str, b: str) -> bool:
    ha, hb = urlsplit(a).hostname or "", urlsplit(b).hostname or ""
    return ha.removeprefix("www.") == hb.removeprefix("www.")


def _href(a: Tag, base: str) -> str | None:
    href = str(a.get("href") or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    absolute = urljoin(base, href)
    return absolute if absolute.startswith(("http://", "https://")) else None


# --------------------------------------------------------------------------- items


def find_items(doc: BeautifulSoup, page_url: str, base: str, rules: ScrapeRules,
               prefer: str | None = None) -> tuple[list[ListItem], str | None]:
    """Item links of one list page, in page order, one per URL, same site only; plus the markup path of
    the links automatic mode chose (pass it back as `prefer` for the next list page)."""
    signature = None
    if rules.item_link or rules.item:
        anchors = _selected_anchors(doc, rules)
    else:
        anchors, signature = _auto_anchors(doc, page_url, base, prefer)
    date_els = None
    if rules.item_date and not rules.item:
        date_els = set(map(id, css(doc, split_selector(rules.item_date)[0])))
    seen: set[str] = set()
    out: list[ListItem] = []
    members = {id(a) for a in anchors}
    for a in anchors:
        url = _href(a, base)
        if not url or not same_site(url, page_url):
            continue
        url = clean_url(url)
        if url in seen or url == clean_url(page_url):
            continue
        seen.add(url)
        box = _item_box(a, members, rules, doc)
        title = _item_title(a, box, rules)
        date_text = _item_date_text(box, a, rules, date_els)
        when = dates.parse_date(date_text, rules.item_date_format) if date_text else None
        out.append(ListItem(url, title, when, date_text))
    return out, signature


def _selected_anchors(doc: BeautifulSoup, rules: ScrapeRules) -> list[Tag]:
    boxes = css(doc, rules.item) if rules.item else [doc]
    out: list[Tag] = []
    for box in boxes:
        found = css(box, split_selector(rules.item_link)[0]) if rules.item_link else box.find_all("a", href=True)
        for el in found:
            a = el if el.name == "a" else el.find("a", href=True)
            if isinstance(a, Tag) and a.get("href"):
                out.append(a)
                if rules.item:
                    break
    return out


def _item_box(a: Tag, members: set[int], rules: ScrapeRules, doc: BeautifulSoup) -> Tag:
    """The item's container: `item` selector, else the largest ancestor holding only this item link."""
    if rules.item:
        for parent in a.parents:
            if isinstance(parent, Tag) and parent in css(doc, rules.item):
                return parent
    box = a
    for parent in a.parents:
        if not isinstance(parent, Tag) or parent.name in ("body", "html"):
            break
        if sum(1 for x in parent.find_all("a", href=True) if id(x) in members) > 1:
            break
        box = parent
    return box


def _item_title(a: Tag, box: Tag, rules: ScrapeRules) -> str:
    if rules.item_title:
        query, attr = split_selector(rules.item_title)
        for el in css(box, query):
            value = str(el.get(attr) or "") if attr else text_of(el)
            if value.strip():
                return " ".join(value.split())
    text = _GENERIC.sub("", text_of(a)).strip(" “”\"'")
    attr_title = " ".join(str(a.get("title") or "").split())
    if attr_title and (not text or text.endswith(("...", "…")) or len(attr_title) > len(text)):
        return attr_title
    return text


def _item_date_text(box: Tag, a: Tag, rules: ScrapeRules, date_els: set[int] | None) -> str | None:
    if rules.item_date:
        query, attr = split_selector(rules.item_date)
        found = [el for el in box.find_all(True) if id(el) in date_els] if date_els is not None else css(box, query)
        for el in found:
            value = str(el.get(attr) or "") if attr else text_of(el)
            if value.strip():
                return " ".join(value.split())
        return None
    for el in [box, *box.find_all(True)]:
        if el is a:
            continue
        for s in el.find_all(string=True, recursive=False):
            text = " ".join(str(s).split())
            if text and next(dates.iter_dates(text), None):
                return text
    text = " ".join(box.get_text(" ").split())
    return text if next(dates.iter_dates(text), None) else None


# --------------------------------------------------------------------------- automatic link finding


def _signature(a: Tag) -> str:
    """Tag/class path of a link, 4 levels up, ignoring per-item classes like `post-2291`."""
    parts = []
    el: Tag | None = a
    for _ in range(5):
        if el is None or not isinstance(el, Tag) or el.name in ("body", "html"):
            break
        stable = sorted(c for c in dates.classes_of(el)
                        if not re.search(r"\d", c) and c not in ("current", "active", "on", "odd", "even", "first",
                                                                 "last"))
        parts.append(el.name + "".join(f".{c}" for c in stable))
        el = el.parent if isinstance(el.parent, Tag) else None
    return ">".join(reversed(parts))


def _article_like(url: str, page_url: str) -> float:
    path = urlsplit(url).path
    if _NOT_ARTICLE.search(path) and not re.search(r"\d{3,}", path.rsplit("/", 2)[-2] if path.endswith("/")
                                                    else path.rsplit("/", 1)[-1]):
        return 0.2
    score = 0.5
    if re.search(r"\d{4,}|\d{4}[/-]\d{1,2}", path):
        score += 0.3
    if re.search(r"[a-z0-9]+(?:-[a-z0-9]+){2,}", path.lower()):
        score += 0.3
    if path.count("/") >= urlsplit(page_url).path.count("/"):
        score += 0.1
    return score


def _auto_anchors(doc: BeautifulSoup, page_url: str, base: str, prefer: str | None) -> tuple[list[Tag], str | None]:
    """The group of links with the same markup path that looks most like a list of articles."""
    groups: dict[str, list[Tag]] = defaultdict(list)
    root = doc.body or doc
    for a in root.find_all("a", href=True):
        url = _href(a, base)
        if not url or not same_site(url, page_url) or dates.in_furniture(a) or a.find_parent("header"):
            continue
        groups[_signature(a)].append(a)
    if prefer and groups.get(prefer):
        return groups[prefer], prefer
    best: list[Tag] = []
    best_key: str | None = None
    best_score = 0.0
    for key, anchors in groups.items():
        urls = {clean_url(u) for a in anchors if (u := _href(a, base))}
        if len(urls) < 2:
            continue
        texts = [text_of(a) or str(a.get("title") or "") for a in anchors]
        avg_len = sum(min(len(t), 80) for t in texts) / len(texts)
        if avg_len < 6 or _is_pager(texts):
            continue
        likeness = sum(_article_like(u, page_url) for u in urls) / len(urls)
        generic = sum(1 for t in texts if _GENERIC.match(t.strip())) / len(texts)
        score = len(urls) * avg_len * likeness * (1 - 0.9 * generic)
        if score > best_score:
            best, best_key, best_score = anchors, key, score
    return best, best_key


def _is_pager(texts: list[str]) -> bool:
    return sum(1 for t in texts if t.strip().isdigit() or t.strip().lower() in NEXT_TEXTS) > len(texts) / 2


# --------------------------------------------------------------------------- pagination


def next_pages(doc: BeautifulSoup, html: str, page_url: str, base: str, rules: ScrapeRules,
               first_url: str, page_index: int) -> list[str]:
    """Further list pages known from this one: the next link, or every page of a URL template."""
    if rules.url_template:
        return _template_pages(html, first_url, rules) if page_index == 0 else []
    if rules.next_page:
        for el in css(doc, split_selector(rules.next_page)[0]):
            a = el if el.name == "a" else el.find("a", href=True)
            url = _href(a, base) if isinstance(a, Tag) else None
            if url:
                return [url]
        return []
    if rules.next_link_text:
        return _by_text(doc, base, (rules.next_link_text.casefold(),), exact_start=True)
    link = doc.find(["a", "link"], rel=lambda v: bool(v) and "next" in (v if isinstance(v, list) else [v]),
                    href=True)
    if isinstance(link, Tag) and (url := _href(link, base)):
        return [url]
    for a in doc.find_all("a", href=True, class_=lambda c: bool(c) and "next" in str(c).lower().split()):
        if url := _href(a, base):
            return [url]
    found = _by_text(doc, base, NEXT_TEXTS, exact_start=False)
    if found:
        return found
    return _trs_pages(html, first_url) if page_index == 0 else []


def _by_text(doc: BeautifulSoup, base: str, texts: tuple[str, ...], *, exact_start: bool) -> list[str]:
    for a in doc.find_all("a", href=True):
        text = " ".join(a.get_text(" ").split()).casefold()
        if not text:
            continue
        hit = text in texts or (exact_start and any(text.startswith(t) for t in texts)) or (
            not exact_start and _NEXT_START.match(text) is not None and len(text) <= 20)
        if hit and (url := _href(a, base)):
            return [url]
    return []


def _template_pages(html: str, first_url: str, rules: ScrapeRules) -> list[str]:
    """`index_{n}.html` for n = 1 .. count-1 (count from `count_regex`), else up to max_pages."""
    count = rules.max_pages
    if rules.count_regex:
        match = re.search(rules.count_regex, html)
        if not match:
            return []
        count = int(match.group(1))
    template = rules.url_template or ""
    return [urljoin(first_url, template.replace("{n}", str(n))) for n in range(1, min(count, rules.max_pages))]


def _trs_pages(html: str, first_url: str) -> list[str]:
    """TRS CMS pagers exist only as `createPageHTML(count, current, "index", "html")` JavaScript."""
    match = _TRS_PAGER.search(html)
    if not match:
        return []
    count = _js_value(html, match.group(1))
    current = _js_value(html, match.group(2))
    if count is None or current is None:
        return []
    name, ext = match.group(3), match.group(4)
    return [urljoin(first_url, f"{name}_{n}.{ext}") for n in range(current + 1, min(count, HARD_MAX_PAGES))]


def _js_value(html: str, token: str) -> int | None:
    if token.isascii() and token.isdigit():
        return int(token)
    match = re.search(rf"\b{re.escape(token)}\s*=\s*(\d+)", html)
    return int(match.group(1)) if match else None
