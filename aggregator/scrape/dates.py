"""Publication dates of news pages, and where each one came from.

Pages are full of dates that are not the publication date: the next fair's dates in the header
(`2018/11/14-18`, `23.–27. April 2018`), copyright years, sidebars of other articles, "updated"
stamps. So the rules run from the most explicit (JSON-LD of an *Article*, meta tags, `<time>`) to
visible labels, skipping ranges and page furniture. Naive times stay naive: the caller applies the
source's time zone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString


@dataclass(frozen=True, slots=True)
class FoundDate:
    """A publication date (naive when the page gave no offset) and the rule that found it."""

    value: datetime
    source: str  # "json-ld:datePublished", "meta:article:published_time", "label:Release Date", "list-page"...


_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_MONTHS.update({"sept": 9, "mär": 3, "mrz": 3, "mai": 5, "okt": 10, "dez": 12, "januar": 1, "februar": 2,
                "märz": 3, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12})
_MONTH = r"(?P<mon>[A-Za-zäÄ]{3,9})\.?"
_TIME = r"(?:[T\s,]+(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2})(?:\.\d+)?)?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
_ZONE = r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2}|UTC|GMT)?"
_NAMED_ZONE = r"(?:\s*(?P<tz>UTC|GMT)\b)?"  # `04 May 2022 02:41:00 GMT` (HTTP-date style) is UTC, not local
_PATTERNS = [
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})" + _TIME + _ZONE),
    re.compile(r"(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})" + _TIME),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日" + _TIME),
    re.compile(r"(?<![\d.])(?P<d>\d{1,2})\.\s?(?P<m>\d{1,2})\.\s?(?P<y>\d{4})" + _TIME),
    re.compile(r"(?<![\d/])(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})" + _TIME),
    re.compile(r"(?<![\w])" + _MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})" + _TIME + _NAMED_ZONE),
    re.compile(r"(?<![\d])(?P<d>\d{1,2})\.?\s+" + _MONTH + r",?\s+(?P<y>\d{4})" + _TIME + _NAMED_ZONE),
]
_RANGE_AFTER = re.compile(r"^\s*(?:[-–—~至到]|bis\b|to\b|until\b)\s*\d")
_RANGE_BEFORE = re.compile(r"\d\.?\s*(?:[-–—~至到]|bis|to|until)\s*$")

PUBLISHED_LABELS = (
    r"Release\s+Date|Released|Published(?:\s+on)?|Publication\s+date|Date\s+published|Posted(?:\s+on)?|"
    r"Erschienen(?:\s+am)?|Veröffentlicht(?:\s+am)?|Datum|Date|发布时间|发布日期|发表时间|发布于|时间|日期|"
    r"Publié\s+le|Publicado|Pubblicato"
)
UPDATED_LABELS = r"Updated|Last\s+updated|Modified|Aktualisiert|Stand|更新时间|更新日期"
_LABEL = re.compile(rf"(?<![A-Za-z])(?P<label>{PUBLISHED_LABELS}|{UPDATED_LABELS})\s*[:：]?\s*", re.I)
_UPDATED = re.compile(rf"^(?:{UPDATED_LABELS})$", re.I)

ARTICLE_TYPES = {"article", "newsarticle", "blogposting", "reportagenewsarticle", "pressrelease", "report",
                 "analysisnewsarticle", "opinionnewsarticle", "techarticle", "scholarlyarticle", "liveblogposting",
                 "webpage", "socialmediaposting", "posting", "backgroundnewsarticle"}
_META_NAMES = (
    "article:published_time", "og:published_time", "og:article:published_time", "datepublished",
    "pubdate", "publishdate", "publish-date", "publish_date", "publication_date", "publication-date",
    "sailthru.date", "parsely-pub-date", "dc.date.issued", "dcterms.issued",
    "dc.date.created", "citation_publication_date", "citation_date", "article.published",
    "original-publish-date", "cxenseparse:recs:publishtime", "article_date_original", "pub_date",
    "firstpublishedtime", "release_date", "content_publish_date", "displaydate", "publication-date",
)
# Generic "date" metas: CMSs fill them with the page's build or last-change day, so they rank below the
# dates the page shows (`<time>`, labels) and are only used when nothing visible is found.
WEAK_META_NAMES = ("dc.date", "dcterms.date", "date")
# Page furniture whose dates belong to other things (other articles, the next fair, the copyright).
FURNITURE_WORDS = frozenset({
    "side", "sidebar", "related", "popular", "hot", "recommend", "recommended", "widget", "footer", "foot",
    "copyright", "banner", "fairdate", "event", "events", "upcoming", "comment", "comments", "nav", "navigation",
    "menu", "crumb", "crumbs", "breadcrumb", "breadcrumbs", "most", "rank", "ranking", "xgxw", "tuijian",
    "secondary", "share", "sharing", "sharedaddy", "cookie", "consent", "topbar", "toplink", "pager",
    "pagination", "prevnext", "calendar", "savethedate", "promo", "ad", "ads", "advert",
})
FURNITURE_TAGS = frozenset({"aside", "nav", "footer", "script", "style", "noscript", "form", "select", "option"})
_WORD_SPLIT = re.compile(r"[\s_\-]+")


def classes_of(el: Tag) -> list[str]:
    value = el.get("class")
    if isinstance(value, str):
        return value.split()
    return [str(c) for c in value] if value else []


def class_words(el: Tag) -> set[str]:
    """The words of an element's class and id (`entry-date published` -> entry, date, published)."""
    names = " ".join(classes_of(el)) + " " + str(el.get("id") or "")
    return {w for w in _WORD_SPLIT.split(names.lower()) if w}


def is_furniture(el: Tag) -> bool:
    """An element that is page furniture by tag, class or id (not the article)."""
    if el.name in FURNITURE_TAGS:
        return True
    return bool(class_words(el) & FURNITURE_WORDS)


def in_furniture(el: Tag, *, page_classes: bool = True) -> bool:
    """Inside furniture. With page_classes=False the classes of `<body>`/`<html>` do not count: WordPress's
    `right-sidebar`/`footer-widgets` there describe the page layout, not a sidebar around the element."""
    return is_furniture(el) or any(is_furniture(a) for a in el.parents
                                   if isinstance(a, Tag) and (page_classes or a.name not in ("body", "html")))


def parse_date(text: str, fmt: str | None = None) -> datetime | None:
    """The single date in `text` (first one that is not part of a range), or None."""
    text = " ".join(text.split())
    if fmt:
        for candidate in _format_candidates(text):
            try:
                return datetime.strptime(candidate, fmt)
            except ValueError:
                continue
    found = next(iter_dates(text), None)
    return found[0] if found else None


def _format_candidates(text: str) -> Iterator[str]:
    yield text
    for m in re.finditer(r"[\d][\d\s./:\-年月日T+Z]*[\d日]", text):
        yield m.group(0)


def iter_dates(text: str) -> Iterator[tuple[datetime, int, int]]:
    """Every single date in `text` with its span, in text order; ranges are skipped."""
    hits: list[tuple[int, int, datetime]] = []
    taken: list[tuple[int, int]] = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            value = _build(m)
            if value is None:
                continue
            taken.append((m.start(), m.end()))
            before, after = text[max(0, m.start() - 6):m.start()], text[m.end():m.end() + 6]
            if _RANGE_AFTER.match(after) or _RANGE_BEFORE.search(before):
                continue
            hits.append((m.start(), m.end(), value))
    for start, end, value in sorted(hits, key=lambda h: h[0]):
        yield value, start, end


def _build(m: re.Match[str]) -> datetime | None:
    g = m.groupdict()
    try:
        year = int(g["y"])
        month = _MONTHS.get(g["mon"].lower().rstrip(".")[:4], _MONTHS.get(g["mon"].lower()[:3], 0)) \
            if g.get("mon") else int(g["m"])
        day = int(g["d"])
        hour, minute, second = int(g.get("H") or 0), int(g.get("M") or 0), int(g.get("S") or 0)
        ampm = (g.get("ampm") or "").lower().replace(".", "")
        if ampm == "pm" and hour < 12:
            hour += 12
        elif ampm == "am" and hour == 12:
            hour = 0
        if not 1990 <= year <= 2100:
            return None
        value = datetime(year, month, day, hour, minute, second)
    except (ValueError, TypeError):
        return None
    tz = g.get("tz")
    if tz:
        if tz in ("Z", "UTC", "GMT"):
            return value.replace(tzinfo=UTC)
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))
        return value.replace(tzinfo=timezone(sign * offset))
    return value


def parse_iso(value: str) -> datetime | None:
    """An ISO-ish machine date (meta content, datetime attribute, JSON-LD)."""
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return parse_date(value)
    return parsed if 1990 <= parsed.year <= 2100 else None


# --------------------------------------------------------------------------- structured sources


def json_ld_objects(doc: BeautifulSoup) -> list[dict[str, Any]]:
    """Every JSON-LD object on the page, flattened out of @graph and lists."""
    out: list[dict[str, Any]] = []
    for script in doc.find_all("script", attrs={"type": "application/ld+json"}):
        try:
            data = json.loads(script.get_text().strip() or "null", strict=False)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                out.append(item)
                if isinstance(item.get("@graph"), list):
                    stack.extend(item["@graph"])
    return out


def _types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type", "")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds}


def article_objects(doc: BeautifulSoup) -> list[dict[str, Any]]:
    """JSON-LD objects that describe an article (never an Event, whose startDate is not a pub date)."""
    objs = json_ld_objects(doc)
    best = [o for o in objs if _types(o) & (ARTICLE_TYPES - {"webpage"})]
    return best or [o for o in objs if "webpage" in _types(o)]


def from_json_ld(doc: BeautifulSoup) -> FoundDate | None:
    for obj in article_objects(doc):
        for key in ("datePublished", "dateCreated"):
            value = obj.get(key)
            if isinstance(value, str) and (parsed := parse_iso(value)):
                return FoundDate(parsed, f"json-ld:{key}")
    return None


def _metas(doc: BeautifulSoup) -> dict[str, str]:
    metas: dict[str, str] = {}
    for meta in doc.find_all("meta"):
        key = str(meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        content = str(meta.get("content") or "")
        if key and content and key not in metas:
            metas[key] = content
    return metas


def from_meta(doc: BeautifulSoup, names: tuple[str, ...] = _META_NAMES) -> FoundDate | None:
    metas = _metas(doc)
    for name in names:
        if name in metas and (parsed := parse_iso(metas[name])):
            return FoundDate(parsed, f"meta:{name}")
    return None


def from_weak_meta(doc: BeautifulSoup) -> FoundDate | None:
    """`<meta name=date>` / `dc.date`: the last resort among the page's own dates (see WEAK_META_NAMES)."""
    return from_meta(doc, WEAK_META_NAMES)


def from_time_element(doc: BeautifulSoup) -> FoundDate | None:
    """`<time class=published datetime>` / itemprop=datePublished, outside sidebars; not `updated`."""
    candidates = []
    for el in doc.find_all(lambda t: t.name == "time" or t.get("itemprop") == "datePublished"):
        # a `<time>` in a blockquote dates the quoted or embedded post (Instagram, X), not the article
        if in_furniture(el, page_classes=False) or el.find_parent("blockquote") is not None:
            continue
        raw = str(el.get("datetime") or el.get("content") or el.get_text(" "))
        parsed = parse_iso(raw) if raw.strip() else None
        if parsed is None:
            continue
        words = class_words(el) | {str(el.get("itemprop") or "").lower()}
        if words & {"updated", "modified", "datemodified"}:
            continue
        rank = 0 if (words & {"published", "datepublished", "pubdate"} or el.has_attr("pubdate")) else 1
        candidates.append((rank, parsed, "time-element" if el.name == "time" else "itemprop:datePublished"))
    if not candidates:
        return None
    rank, parsed, source = min(candidates, key=lambda c: c[0])
    return FoundDate(parsed, source)


_MODIFIED_METAS = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified", "last-modified")


def modified_stamps(doc: BeautifulSoup) -> list[FoundDate]:
    """The page's machine "modified" stamps: JSON-LD dateModified of the article, modified-time metas."""
    out = []
    for obj in article_objects(doc):
        value = obj.get("dateModified")
        if isinstance(value, str) and (parsed := parse_iso(value)):
            out.append(FoundDate(parsed, "json-ld:dateModified"))
    metas = _metas(doc)
    for name in _MODIFIED_METAS:
        if name in metas and (parsed := parse_iso(metas[name])):
            out.append(FoundDate(parsed, f"meta:{name}"))
    return out


_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})


def visible_days(doc: BeautifulSoup) -> set[date]:
    """Every calendar day written in the page's visible text (scripts, styles and the head left out)."""
    root = doc.body or doc
    parts = [str(s) for s in root.find_all(string=True)  # plain strings only: no comments, CDATA, doctypes
             if type(s) is NavigableString and isinstance(s.parent, Tag) and s.parent.name not in _HIDDEN_TAGS]
    return {value.date() for value, _, _ in iter_dates(" ".join(" ".join(parts).split()))}


def shown_date(doc: BeautifulSoup, found: FoundDate) -> FoundDate:
    """The machine publication stamp, or the later "modified" stamp when only that one is shown.

    A page that writes its modified day in the byline and never its first-publication day presents
    itself as of that day (republished guides, updated articles)."""
    later = [m for m in (localise(m, doc) for m in modified_stamps(doc)) if m.value.date() > found.value.date()]
    if not later:
        return found
    days = visible_days(doc)
    if found.value.date() in days:
        return found
    for modified in later:
        if modified.value.date() in days:
            return FoundDate(modified.value, f"{modified.source} (shown)")
    return found


# --------------------------------------------------------------------------- visible text


def label_dates(text: str) -> list[tuple[datetime, str, bool]]:
    """Dates that follow a label in `text`: (date, label, is_update_label)."""
    out = []
    for m in _LABEL.finditer(text):
        tail = text[m.end():m.end() + 40]
        found = next(iter_dates(tail), None)
        if found and found[1] == 0:
            label = " ".join(m.group("label").split())
            out.append((found[0], label, bool(_UPDATED.match(label))))
    return out


def from_labels(texts: list[str]) -> FoundDate | None:
    """First published-label date; an `Updated:` label only when nothing else is labelled."""
    fallback: FoundDate | None = None
    for text in texts:
        for value, label, updated in label_dates(text):
            if not updated:
                return FoundDate(value, f"label:{label}")
            fallback = fallback or FoundDate(value, f"label:{label}")
    return fallback


def from_standalone(texts: list[str]) -> FoundDate | None:
    """A short text that is nothing but a date (`<span class=date>23.04.2018</span>`)."""
    for text in texts:
        text = " ".join(text.split())
        if len(text) > 60:
            continue
        found = next(iter_dates(text), None)
        if found and (found[2] - found[1]) >= len(text) * 0.6:
            return FoundDate(found[0], "text-near-title")
    return None


_URL_DATE = re.compile(r"/((?:19|20)\d{2})(?:([/-])(0?[1-9]|1[0-2])\2(0?[1-9]|[12]\d|3[01])|"
                       r"(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01]))(?:/|[^\d]|$)")


def url_day(url: str) -> datetime | None:
    """A full date in the URL path (`/2023/11/08/`, `/20200413/`), as a naive midnight."""
    match = _URL_DATE.search(url.split("?", 1)[0])
    if not match:
        return None
    try:
        month, day = (match.group(3), match.group(4)) if match.group(2) else (match.group(5), match.group(6))
        return datetime(int(match.group(1)), int(month), int(day))
    except ValueError:
        return None


_ISO_STAMP_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?([+-])(\d{2}):?(\d{2})(?!\d)")
# A UTC stamp moves to the URL's previous day only with an offset west of -hour, to its next day only east
# of 24-hour; publishers sit between UTC-8 (US Pacific) and UTC+12 (New Zealand).
_WESTMOST_HOURS, _EASTMOST_HOURS = 8, 12


def _machine_texts(doc: BeautifulSoup) -> Iterator[str]:
    """Where pages keep machine timestamps: meta content, `datetime` attributes, scripts (JSON-LD, data)."""
    for meta in doc.find_all("meta", content=True):
        yield str(meta["content"])
    for el in doc.find_all(datetime=True):
        yield str(el["datetime"])
    for script in doc.find_all("script"):
        yield script.string or ""


def site_offset(doc: BeautifulSoup) -> timezone | None:
    """The page's own UTC offset: the one non-zero offset its ISO timestamps carry (None if none or several)."""
    offsets = {(m.group(1), m.group(2), m.group(3))
               for text in _machine_texts(doc) for m in _ISO_STAMP_OFFSET.finditer(text)}
    offsets.discard(("+", "00", "00"))
    offsets.discard(("-", "00", "00"))
    if len(offsets) != 1:
        return None
    sign, hours, minutes = offsets.pop()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(delta if sign == "+" else -delta) if delta < timedelta(hours=15) else None


def localise(found: FoundDate, doc: BeautifulSoup) -> FoundDate:
    """A UTC stamp re-expressed in the publisher's offset (same instant), so that its day is the site's.

    The offset comes from the page's other timestamps when they agree on one (a `<time>` or meta with
    `-04:00` next to a JSON-LD `Z`); else a stamp at exactly 21:00, 22:00 or 23:00 UTC is a date-only value
    saved as local midnight east of Greenwich (UTC+1..+3, e.g. `2021-11-04T23:00Z` for 5 November)."""
    value = found.value
    offset = value.utcoffset()
    if offset is None or offset.total_seconds() != 0:
        return found
    zone = site_offset(doc)
    if zone is None and value.hour >= 21 and value.minute == value.second == value.microsecond == 0:
        zone = timezone(timedelta(hours=24 - value.hour))
    return FoundDate(value.astimezone(zone), found.source) if zone is not None else found


def publisher_day(found: FoundDate, url: str) -> str:
    """The publication day as the publisher's calendar shows it (YYYY-MM-DD).

    A UTC timestamp near midnight falls on another day than the site's local one; when the URL carries
    a date exactly one day away, that URL day is the publisher's, if an offset between UTC-8 and UTC+12
    can reach it (10:04Z is not the previous day anywhere in the Americas: that URL day is the draft's).
    Local times are taken as they are (a URL date may also be the upload day: CHTF URLs are often one day
    after the release date)."""
    value = found.value
    offset = value.utcoffset()
    if offset is not None and offset.total_seconds() == 0:
        day = url_day(url)
        shift = (day.date() - value.date()).days if day is not None else 0
        if (shift == -1 and value.hour < _WESTMOST_HOURS) or (shift == 1 and value.hour >= 24 - _EASTMOST_HOURS):
            return (value.date() + timedelta(days=shift)).isoformat()
    return value.date().isoformat()
