"""One article page -> its fields: by the source's selectors where given, by our rules otherwise."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag

from aggregator.records import ScrapeRules
from aggregator.scrape import body as bodies
from aggregator.scrape import dates
from aggregator.scrape.dates import FoundDate, in_furniture
from aggregator.scrape.select import json_ld_value, select_value, select_values, text_of

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.I)
_TITLE_SEPARATORS = re.compile(r"\s+[|–—-]\s+|_|\s+::\s+|\s+»\s+|\s*｜\s*")
_AUTHOR_PREFIX = re.compile(r"^(?:by|von|作者|记者|文|撰文|author)\s*[:：]?\s*", re.I)
_AUTHOR_LABEL = re.compile(r"(?:作者|记者|Author|Autor)\s*[:：]\s*([^\s|/,，;；]{2,30}(?:\s[^\s|/,，;；]{1,20})?)")
_SOURCE_LABEL = re.compile(r"(?:News sources?|Sources?|来源|稿源|Quelle)\s*[:：]\s*(.+?)"
                           r"(?=\s{2,}|\s*\||\s*(?:Release|发布|作者|Author|Date|日期|时间|【)|$)", re.I)


@dataclass(frozen=True, slots=True)
class ArticleFields:
    url: str
    title: str
    published: FoundDate | None
    author: str | None
    source: str | None
    body_html: str
    body_text: str
    canonical_url: str | None
    language: str | None
    base_url: str


def parse_html(text: str) -> BeautifulSoup:
    return BeautifulSoup(_XML_DECL.sub("", text, count=1), "lxml")


def base_of(doc: BeautifulSoup, page_url: str) -> str:
    """`<base href>` resolved against the page URL, or the page URL."""
    base = doc.find("base", href=True)
    return urljoin(page_url, str(base["href"]).strip()) if isinstance(base, Tag) else page_url


def extract_article(html: str, url: str, rules: ScrapeRules | None = None, *, list_title: str | None = None,
                    list_date: FoundDate | None = None) -> ArticleFields:
    """Fields of one article page. `list_title`/`list_date` come from the list page, as hints."""
    doc = parse_html(html)
    rules = rules or ScrapeRules()
    base = base_of(doc, url)
    title = find_title(doc, rules, list_title)
    published = find_date(doc, rules, title, list_date)
    element = bodies.selected_body(doc, rules.body, title=title, exclude=rules.body_exclude) if rules.body else None
    if element is None and not rules.body:
        element = bodies.automatic_body(html, url, title=title, doc=doc)
    body_html = bodies.inner_html(element) if element is not None else ""
    body_text = bodies.body_text(element) if element is not None else ""
    return ArticleFields(
        url=url, title=title, published=published, author=find_author(doc, rules), source=find_source(doc, rules),
        body_html=body_html, body_text=body_text, canonical_url=find_canonical(doc, rules, base),
        language=find_language(doc) or detect_language(body_text or title), base_url=base,
    )


def detect_language(text: str) -> str | None:
    """py3langid on the body, for pages that do not declare a language."""
    if len(text) < 40:
        return None
    import py3langid

    lang, _ = py3langid.classify(text[:3000])
    return str(lang) if lang else None


# --------------------------------------------------------------------------- title


def _norm(text: str) -> str:
    return re.sub(r"\W+", "", text.casefold())


def strip_site_suffix(title: str, site_names: tuple[str, ...] = ()) -> str:
    """`Headline_高交会新闻_Site` / `Headline - Site` -> `Headline` (the longest part wins)."""
    title = " ".join(title.split())
    for name in site_names:
        for sep in (" - ", " | ", " – ", " — ", "_", " :: "):
            if name and title.endswith(sep + name):
                return title[: -len(sep + name)].strip()
    parts = [p.strip() for p in _TITLE_SEPARATORS.split(title) if p.strip()]
    if len(parts) < 2:
        return title
    longest = max(parts, key=len)
    return longest if longest == parts[0] and len(longest) >= 0.4 * len(title) else title


def _matches_list_title(candidate: str, list_title: str) -> bool:
    a, b = _norm(candidate), _norm(list_title.rstrip(".…").rstrip())
    return bool(a and b) and (a == b or (len(b) >= 6 and a.startswith(b)) or (len(a) >= 6 and b.startswith(a)))


def title_candidates(doc: BeautifulSoup) -> list[tuple[str, str]]:
    """(rule, text) in order of trust; the <title> tag comes last, stripped of its site suffix."""
    out: list[tuple[str, str]] = []
    site = tuple(str(m.get("content", "")).strip() for m in doc.find_all("meta", property="og:site_name"))
    h1s = [text_of(h) for h in doc.find_all("h1") if not in_furniture(h) and text_of(h)]
    meta_titles = [t for t in (json_ld_value(doc, "headline"), _meta(doc, "og:title"), _meta(doc, "ArticleTitle"),
                               _meta(doc, "twitter:title"), _meta(doc, "title")) if t]
    meta_titles = [strip_site_suffix(t, site) for t in meta_titles]
    for h in h1s:  # an h1 that the metadata confirms is the headline
        if any(_norm(h) == _norm(m) for m in meta_titles):
            out.append(("h1", h))
    out += [("meta", m) for m in meta_titles]
    out += [("h1", h) for h in h1s]
    for el in doc.find_all(lambda t: bool({"title", "headline", "newstitle", "dtitle", "articletitle", "tit"}
                                          & _class_words(t))):
        text = text_of(el)
        if 4 <= len(text) <= 300 and el.name not in ("html", "head", "title", "body") and not in_furniture(el):
            out.append(("class-title", text))
    out += [("h2", text_of(h)) for h in doc.find_all("h2") if not in_furniture(h) and text_of(h)]
    if doc.title and doc.title.string:
        out.append(("title-tag", strip_site_suffix(str(doc.title.string), site)))
    return out


def _class_words(el: Tag) -> set[str]:
    names = " ".join(dates.classes_of(el)) + " " + str(el.get("id") or "")
    return {w for w in re.split(r"[\s-]+", names.lower()) if w} | {names.strip().lower().replace(" ", "")}


def find_title(doc: BeautifulSoup, rules: ScrapeRules, list_title: str | None = None) -> str:
    if rules.title and (value := select_value(doc, rules.title)):
        return value
    candidates = title_candidates(doc)
    if list_title:
        for _, text in candidates:
            if _matches_list_title(text, list_title):
                return text
        if not list_title.endswith(("...", "…")) and all(rule == "title-tag" for rule, _ in candidates):
            return " ".join(list_title.split())
    for rule, text in candidates:
        if rule != "title-tag" or len(candidates) == 1:
            return text
    return candidates[0][1] if candidates else (list_title or "")


def _meta(doc: BeautifulSoup, name: str) -> str | None:
    el = doc.find("meta", attrs={"property": name}) or doc.find("meta", attrs={"name": name})
    if el is None:
        el = doc.find("meta", attrs={"name": lambda v: v is not None and v.lower() == name.lower()})
    value = " ".join(str(el.get("content") or "").split()) if isinstance(el, Tag) else ""
    return value or None


# --------------------------------------------------------------------------- date


def find_date(doc: BeautifulSoup, rules: ScrapeRules, title: str, list_date: FoundDate | None) -> FoundDate | None:
    """The source's own rule first; then our rules from most to least explicit; the list date last."""
    if rules.date_from == "list" and list_date:
        return list_date
    if rules.date or rules.date_regex:
        found = _rule_date(doc, rules)
        if found:
            return found
    for rule in (dates.from_json_ld, dates.from_meta, dates.from_time_element):
        found = rule(doc)
        if found:
            return dates.shown_date(doc, dates.localise(found, doc))
    texts = visible_texts(doc, rules.ignore_dates_in)
    found = dates.from_labels(texts)
    if found:
        return found
    found = dates.from_standalone(near_title_texts(doc, title, rules.ignore_dates_in))
    return found or dates.from_weak_meta(doc) or list_date or _htmldate(doc)


def _htmldate(doc: BeautifulSoup) -> FoundDate | None:
    """Last resort: htmldate's heuristics (URL, scattered text), original date only.

    JSON-LD is removed first: we read the article objects ourselves, and htmldate would take an Event's
    startDate."""
    from htmldate import find_date as htmldate_find

    doc = BeautifulSoup(str(doc), "lxml")
    for script in doc.find_all("script", attrs={"type": "application/ld+json"}):
        script.decompose()
    html = str(doc)
    try:
        value = htmldate_find(html, original_date=True, extensive_search=True, outputformat="%Y-%m-%d")
    except Exception:  # htmldate raises on some malformed trees; no date is the honest answer
        return None
    parsed = dates.parse_iso(value) if isinstance(value, str) else None
    return FoundDate(parsed, "htmldate") if parsed else None


def _rule_date(doc: BeautifulSoup, rules: ScrapeRules) -> FoundDate | None:
    selector = rules.date or "body"
    for value in select_values(doc, selector):
        if rules.date_regex:
            match = re.search(rules.date_regex, value)
            if not match:
                continue
            value = match.group(1)
        parsed = dates.parse_date(value, rules.date_format) if rules.date_format else dates.parse_iso(value)
        if parsed:
            return FoundDate(parsed, f"selector:{selector}" + (" + date_regex" if rules.date_regex else ""))
    return None


def _without(doc: BeautifulSoup, ignore: tuple[str, ...]) -> BeautifulSoup:
    if not ignore:
        return doc
    doc = BeautifulSoup(str(doc), "lxml")
    for selector in ignore:
        for el in doc.select(selector):
            el.decompose()
    return doc


def visible_texts(doc: BeautifulSoup, ignore: tuple[str, ...] = ()) -> list[str]:
    """Texts of the leaf blocks of the page body, outside furniture and `ignore_dates_in`."""
    doc = _without(doc, ignore)
    root = doc.body or doc
    out = []
    for el in root.find_all(["p", "div", "span", "td", "li", "em", "small", "time", "dd", "font", "h2", "h3",
                             "h4", "h5", "h6", "strong", "b", "i"]):
        if any(isinstance(c, Tag) and c.name in bodies.BLOCKS for c in el.children):
            continue
        if in_furniture(el):
            continue
        text = " ".join(el.get_text(" ").split())
        if text:
            out.append(text)
    return out


def near_title_texts(doc: BeautifulSoup, title: str, ignore: tuple[str, ...] = ()) -> list[str]:
    """Short texts in the headline's container (and the one above), nearest first."""
    doc = _without(doc, ignore)
    norm = _norm(title)
    heading = next((el for el in doc.find_all(["h1", "h2", "td", "div", "span", "p"])
                    if norm and _norm(text_of(el)) == norm), None)
    if heading is None:
        return []
    out: list[str] = []
    scope: Tag | None = heading
    for _ in range(2):
        scope = scope.parent if scope is not None else None
        if scope is None:
            break
        for el in scope.find_all(True):
            if el is heading or in_furniture(el):
                continue
            text = " ".join(el.get_text(" ").split())
            if 6 <= len(text) <= 60 and text not in out:
                out.append(text)
    return out


# --------------------------------------------------------------------------- author, source, canonical, language


def find_author(doc: BeautifulSoup, rules: ScrapeRules) -> str | None:
    if rules.author:
        value = select_value(doc, rules.author, rules.author_regex)
        return _clean_author(value) if value else None
    value = json_ld_value(doc, "author.name") if _has_person_author(doc) else None
    value = value or _meta(doc, "author") or _meta(doc, "article:author") or _meta(doc, "dc.creator")
    if value and not value.startswith("http"):
        return _clean_author(value)
    for el in doc.find_all(lambda t: bool({"author", "byline", "writer"} & _class_words(t))):
        text = text_of(el)
        if 2 <= len(text) <= 80 and not in_furniture(el):
            return _clean_author(text)
    for text in visible_texts(doc)[:200]:
        match = _AUTHOR_LABEL.search(text) or (re.match(r"^By\s+([A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,3})", text))
        if match:
            return _clean_author(match.group(1))
    return None


def _has_person_author(doc: BeautifulSoup) -> bool:
    for obj in dates.article_objects(doc):
        author = obj.get("author")
        author = author[0] if isinstance(author, list) and author else author
        if isinstance(author, dict) and str(author.get("@type", "Person")).lower() != "organization":
            return True
        if isinstance(author, str):
            return True
    return False


def _clean_author(value: str) -> str | None:
    value = _AUTHOR_PREFIX.sub("", " ".join(value.split())).strip(" |,;")
    value = re.split(r"\s*\|\s*", value)[0]
    return value or None


def find_source(doc: BeautifulSoup, rules: ScrapeRules) -> str | None:
    if rules.source:
        return select_value(doc, rules.source, rules.source_regex)
    if value := _meta(doc, "ContentSource"):
        return value
    for text in visible_texts(doc)[:300]:
        match = _SOURCE_LABEL.search(text)
        if match and 2 <= len(match.group(1).strip()) <= 60:
            return match.group(1).strip()
    return None


def find_canonical(doc: BeautifulSoup, rules: ScrapeRules, base: str) -> str | None:
    value = select_value(doc, rules.canonical) if rules.canonical else None
    if not value:
        link = doc.find("link", rel=lambda v: bool(v) and "canonical" in (v if isinstance(v, list) else [v]))
        value = str(link.get("href") or "") if isinstance(link, Tag) else None
    value = value or _meta(doc, "og:url") or json_ld_value(doc, "url")
    if not value or not value.strip():
        return None
    absolute = urljoin(base, value.strip())
    return absolute if absolute.startswith(("http://", "https://")) else None


def find_language(doc: BeautifulSoup) -> str | None:
    article = doc.find("article", lang=True)
    html_tag = doc.find("html")
    for el in (article, html_tag):
        if isinstance(el, Tag) and el.get("lang"):
            return str(el["lang"]).split("-")[0].lower() or None
    value = _meta(doc, "og:locale") or _meta(doc, "content-language") or _meta(doc, "language")
    return value.replace("_", "-").split("-")[0].lower() if value else None


def as_naive_day(value: datetime) -> str:
    return value.date().isoformat()
