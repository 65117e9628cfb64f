"""The fast path: RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 read with a hardened lxml parser.

Elements are matched by local name within known namespaces (or none), because
real feeds put RSS elements in the wrong namespace more often than one expects.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree

from aggregator.errors import ParseError
from aggregator.parse.dates import parse_date
from aggregator.parse.text import all_text, author_name, collapse, inner_markup, plain_text
from aggregator.records import ParsedFeed, RawEntry

ATOM10 = "http://www.w3.org/2005/Atom"
ATOM03 = "http://purl.org/atom/ns#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RSS10 = "http://purl.org/rss/1.0/"
RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
SY = "http://purl.org/rss/1.0/modules/syndication/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_RSS_NS = frozenset({"", RSS10, RSS090, "http://backend.userland.com/rss2", "http://backend.userland.com/rss",
                     "http://purl.org/net/rss1.1#"})
_ATOM_NS = frozenset({ATOM10, ATOM03, ""})
_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400, "yearly": 365 * 86400}


def make_parser(*, recover: bool) -> etree.XMLParser:
    """A parser that never fetches, never expands entities and refuses huge trees."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           recover=recover, remove_comments=True, remove_pis=True, collect_ids=False)


# An absolute http(s) URL that urlsplit/urlunsplit give back unchanged: printable ASCII, a host, no
# params (";") in the path, and no empty "?" or "#" (urlunsplit drops those).
_STABLE_ABSOLUTE = re.compile(
    r"https?://[-!$%&'()*+,.0-9:=@A-Z_a-z~]+"
    r"(?:/[-!$%&'()*+,./0-9:=@A-Z_a-z~]*)?"
    r"(?:\?[-!$%&'()*+,./0-9:;=?@A-Z_a-z~]+)?"
    r"(?:#[-!$%&'()*+,./0-9:;=?@A-Z_a-z~#]+)?"
)


def join_url(base: str | None, href: str | None) -> str | None:
    """urljoin that never raises: a malformed href is kept as given."""
    if not href or not base:
        return href or None
    if _STABLE_ABSOLUTE.fullmatch(href):
        # urljoin returns such an href as it is: unchanged when its scheme differs from the base's,
        # urlunparse(urlparse(href)) (the same string) when it does not, and href on ValueError.
        return href
    try:
        return urljoin(base, href)
    except ValueError:
        return href


def _split(tag: object) -> tuple[str, str]:
    if not isinstance(tag, str):
        return "#", ""
    if tag[0] == "{":
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


class _TagParts(dict[str, tuple[str, str]]):
    """tag -> _split(tag), memoised: a feed repeats the same few dozen tags thousands of times."""

    def __missing__(self, tag: str) -> tuple[str, str]:
        parts = _split(tag)
        if len(self) < 2048:  # bounded: a hostile feed may invent any number of tags
            self[tag] = parts
        return parts


_TAG_PARTS = _TagParts()


def _children(el: etree._Element) -> Iterator[tuple[str, str, etree._Element]]:
    """(namespace, local name, element) of each child element; comments, PIs and entities are skipped."""
    parts = _TAG_PARTS
    for child in el.iterchildren(etree.Element):
        ns, local = parts[child.tag]
        yield ns, local, child


def _lang(el: etree._Element) -> str | None:
    value = el.get(XML_LANG)
    return value.strip() or None if value else None


def _ttl(channel: etree._Element) -> int | None:
    ttl = period = freq = None
    for ns, local, child in _children(channel):
        text = (child.text or "").strip()
        if local == "ttl" and ns in _RSS_NS and text.isascii() and text.isdigit():
            ttl = int(text) * 60
        elif ns == SY and local == "updatePeriod":
            period = _PERIODS.get(text.lower())
        elif ns == SY and local == "updateFrequency" and text.isascii() and text.isdigit() and int(text) > 0:
            freq = int(text)
    if ttl:
        return ttl
    if period:
        return period // (freq or 1)
    return None


# --------------------------------------------------------------------------- RSS


# What each child of an RSS item is, by its tag as lxml spells it ("{namespace}local"): one dict look-up a
# child instead of splitting the tag and testing namespaces (the walk was most of parsing a feed).
(_TITLE, _LINK, _GUID, _DESCRIPTION, _AUTHOR, _PUBDATE, _CATEGORY, _LANGUAGE, _ENCODED, _CREATOR, _DC_DATE,
 _MODIFIED, _ISSUED, _ATOM_LINK) = range(14)


def _clark(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}" if ns else local


_RSS_ITEM_CHILDREN: dict[object, int] = {
    **{_clark(ns, local): kind for ns in _RSS_NS for local, kind in (
        ("title", _TITLE), ("link", _LINK), ("guid", _GUID), ("description", _DESCRIPTION), ("author", _AUTHOR),
        ("pubDate", _PUBDATE), ("category", _CATEGORY), ("language", _LANGUAGE))},
    _clark(CONTENT, "encoded"): _ENCODED,
    **{_clark(DC, local): kind for local, kind in (
        ("creator", _CREATOR), ("date", _DC_DATE), ("subject", _CATEGORY), ("language", _LANGUAGE))},
    **{_clark(ns, local): _MODIFIED for ns in (DCTERMS, ATOM10) for local in ("modified", "updated")},
    **{_clark(ns, local): _ISSUED for ns in (DCTERMS, ATOM10) for local in ("issued", "created", "published")},
    _clark(ATOM10, "link"): _ATOM_LINK,
}


def _rss_entry(item: etree._Element, feed_lang: str | None, fmt: str) -> RawEntry:
    title = link = guid = author = creator = None
    summary = content = ""
    published: datetime | None = None
    pub_source: str | None = None
    updated: datetime | None = None
    dc_date: datetime | None = None
    permalink_guid: str | None = None
    lang = _lang(item)
    categories: list[str] = []
    atom_link: str | None = None
    kinds = _RSS_ITEM_CHILDREN
    for child in item:  # comments and processing instructions are gone (make_parser); entities have no kind
        kind = kinds.get(child.tag)
        if kind is None:
            continue
        if kind == _TITLE:
            title = plain_text(all_text(child))
        elif kind == _LINK:
            link = link or collapse(all_text(child)) or None
        elif kind == _GUID:
            guid = collapse(all_text(child)) or None
            if guid and child.get("isPermaLink", "true").strip().lower() != "false":
                permalink_guid = guid
        elif kind == _DESCRIPTION:
            summary = inner_markup(child)
        elif kind == _PUBDATE:
            if published is None:
                published = parse_date(child.text)
                pub_source = "rss:pubDate" if published else None
        elif kind == _ENCODED:
            content = inner_markup(child)
        elif kind == _CATEGORY:
            categories.append(collapse(all_text(child)))
        elif kind == _CREATOR:
            creator = creator or author_name(all_text(child))
        elif kind == _AUTHOR:
            author = author_name(all_text(child))
        elif kind == _LANGUAGE:
            lang = lang or collapse(all_text(child)) or None
        elif kind == _DC_DATE:
            if dc_date is None:
                dc_date = parse_date(child.text)
        elif kind == _MODIFIED:
            updated = updated or parse_date(child.text)
        elif kind == _ISSUED:
            if dc_date is None:
                dc_date = parse_date(child.text)
        elif child.get("rel", "alternate") == "alternate":  # _ATOM_LINK
            atom_link = atom_link or child.get("href")
    if published is None and dc_date is not None:
        published, pub_source = dc_date, "dc:date"
    if guid is None and fmt in ("rss1", "rss090"):
        guid = item.get(f"{{{RDF}}}about")
    base = item.base or None
    raw_link = link or atom_link or (permalink_guid if permalink_guid and "://" in permalink_guid else None)
    return RawEntry(
        guid=guid, link=join_url(base, raw_link), title=title or "",
        summary=summary, content=content, author=author or creator, published=published, updated=updated,
        date_source=pub_source, language=lang or feed_lang, categories=tuple(c for c in categories if c),
        base_url=base,
    )


def _rss(root: etree._Element, fmt: str, warnings: list[str]) -> ParsedFeed:
    channel = root
    items: list[etree._Element] = []
    for ns, local, child in _children(root):
        if local == "channel" and ns in _RSS_NS:
            channel = child
        elif local == "item" and ns in _RSS_NS:
            items.append(child)  # RSS 1.0/0.90: items are siblings of the channel
    title, link, lang = "", None, _lang(root)
    for ns, local, child in _children(channel):
        if ns in _RSS_NS and local == "item":
            if channel is not root:
                items.append(child)
        elif ns in _RSS_NS and local == "title" and not title:
            title = plain_text(all_text(child))
        elif ns in _RSS_NS and local == "link" and link is None:
            link = collapse(all_text(child)) or None
        elif local == "language" and ns in (*_RSS_NS, DC) and not lang:
            lang = collapse(all_text(child)) or None
    lang = lang or _lang(channel)
    base = channel.base or None
    return ParsedFeed(
        format=fmt, title=title, link=join_url(base, link), language=lang,
        entries=tuple(_rss_entry(item, lang, fmt) for item in items), ttl_seconds=_ttl(channel),
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- Atom


def _atom_kind(el: etree._Element, atom03: bool) -> str:
    """'text', 'html', 'xhtml' or 'base64' for an Atom text construct."""
    typ = (el.get("type") or ("text/plain" if atom03 else "text")).strip().lower()
    mode = (el.get("mode") or "xml").strip().lower() if atom03 else "xml"
    if mode == "base64":
        return "base64"
    if typ in ("xhtml", "application/xhtml+xml") or (atom03 and mode == "xml" and len(el) and "html" in typ):
        return "xhtml"
    if typ in ("html", "text/html") or mode == "escaped":
        return "html"
    return "text"


def _xhtml(el: etree._Element) -> str:
    kids = [c for c in el if isinstance(c.tag, str)]
    div = kids[0] if len(kids) == 1 and _split(kids[0].tag)[1] == "div" and not (el.text or "").strip() else el
    if len(div) == 0:
        return html.escape(div.text or "", quote=False)
    return inner_markup(div)


def _atom_html(el: etree._Element, atom03: bool) -> str:
    kind = _atom_kind(el, atom03)
    if kind == "xhtml":
        return _xhtml(el)
    if kind == "base64":
        try:
            return base64.b64decode(all_text(el)).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return ""
    if kind == "html":
        return all_text(el) if len(el) == 0 else inner_markup(el)
    return html.escape(all_text(el), quote=False) if len(el) == 0 else inner_markup(el)


def _atom_text(el: etree._Element, atom03: bool) -> str:
    kind = _atom_kind(el, atom03)
    if kind == "html":
        return plain_text(all_text(el), is_html=True)
    if kind == "base64":
        return plain_text(_atom_html(el, atom03), is_html=True)
    return collapse(all_text(el))


def _atom_link(el: etree._Element) -> str | None:
    """The rel=alternate link (HTML preferred), resolved against its xml:base."""
    best: tuple[int, str] | None = None
    for ns, local, child in _children(el):
        if local != "link" or ns not in _ATOM_NS:
            continue
        href = (child.get("href") or "").strip()
        if not href or (child.get("rel") or "alternate").strip() != "alternate":
            continue
        rank = 0 if (child.get("type") or "text/html").startswith(("text/html", "application/xhtml")) else 1
        if best is None or rank < best[0]:
            # an absolute href needs no xml:base (join_url gives it back unchanged); skip computing it
            best = (rank, href if _STABLE_ABSOLUTE.fullmatch(href) else join_url(child.base, href) or href)
    return best[1] if best else None


def _atom_author(el: etree._Element) -> str | None:
    for ns, local, child in _children(el):
        if ns in _ATOM_NS and local in ("author", "contributor"):
            for ns2, local2, part in _children(child):
                if local2 == "name" and ns2 in _ATOM_NS:
                    return author_name(all_text(part))
            return author_name(all_text(child))
        if ns == DC and local == "creator":
            return author_name(all_text(child))
    return None


_ID, _ATOM_TITLE, _SUMMARY, _CONTENT, _ATOM_CATEGORY, _DC_SUBJECT, _CONTENT_ENCODED, _ATOM_LINKS, _AUTHORS = range(9)
_ATOM_DATES = ("published", "updated", "issued", "modified", "created")
# What each child of an Atom entry is, by its tag as lxml spells it (as _RSS_ITEM_CHILDREN); dates by name.
_ATOM_ENTRY_CHILDREN: dict[object, int | str] = {
    **{_clark(ns, local): kind for ns in _ATOM_NS for local, kind in (
        ("id", _ID), ("title", _ATOM_TITLE), ("summary", _SUMMARY), ("content", _CONTENT),
        ("category", _ATOM_CATEGORY), ("link", _ATOM_LINKS), ("author", _AUTHORS), ("contributor", _AUTHORS))},
    **{_clark(ns, local): local for ns in _ATOM_NS for local in _ATOM_DATES},
    _clark(DC, "subject"): _DC_SUBJECT,
    _clark(DC, "creator"): _AUTHORS,
    _clark(CONTENT, "encoded"): _CONTENT_ENCODED,
}


def _atom_entry(entry: etree._Element, atom03: bool, feed_lang: str | None, feed_author: str | None) -> RawEntry:
    guid = title = None
    summary = content = ""
    dates: dict[str, datetime | None] = {}
    categories: list[str] = []
    links = author = False  # whether the entry has such children (_atom_link and _atom_author read them)
    kinds = _ATOM_ENTRY_CHILDREN
    for child in entry:
        kind = kinds.get(child.tag)
        if kind is None:
            continue
        if kind == _ID:
            guid = collapse(all_text(child)) or None
        elif kind == _ATOM_TITLE:
            title = _atom_text(child, atom03)
        elif kind == _SUMMARY:
            summary = _atom_html(child, atom03)
        elif kind == _CONTENT:
            if not child.get("src"):
                content = _atom_html(child, atom03)
        elif kind == _ATOM_LINKS:
            links = True
        elif kind == _AUTHORS:
            author = True
        elif isinstance(kind, str):
            if kind not in dates:
                dates[kind] = parse_date(child.text)
        elif kind == _ATOM_CATEGORY:
            categories.append(collapse(child.get("term") or child.get("label") or all_text(child)))
        elif kind == _DC_SUBJECT:
            categories.append(collapse(all_text(child)))
        elif not content:  # _CONTENT_ENCODED
            content = inner_markup(child)
    published, source = None, None
    for key in ("published", "issued", "created", "updated", "modified"):
        if dates.get(key):
            published, source = dates[key], f"atom:{key}"
            break
    updated = dates.get("updated") or dates.get("modified")
    return RawEntry(
        guid=guid, link=_atom_link(entry) if links else None, title=title or "", summary=summary,
        content=content, author=(_atom_author(entry) if author else None) or feed_author, published=published,
        updated=updated, date_source=source, language=_lang(entry) or feed_lang,
        categories=tuple(c for c in categories if c), base_url=entry.base or None,
    )


def _atom(root: etree._Element, fmt: str, warnings: list[str]) -> ParsedFeed:
    atom03 = fmt == "atom03"
    title = ""
    entries: list[etree._Element] = []
    for ns, local, child in _children(root):
        if ns in _ATOM_NS and local in ("entry", "item"):
            entries.append(child)
        elif ns in _ATOM_NS and local == "title" and not title:
            title = _atom_text(child, atom03)
    lang = _lang(root)
    author = _atom_author(root)
    return ParsedFeed(
        format=fmt, title=title, link=_atom_link(root), language=lang,
        entries=tuple(_atom_entry(e, atom03, lang, author) for e in entries), ttl_seconds=_ttl(root),
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- entry point


def read_tree(root: etree._Element, warnings: list[str]) -> ParsedFeed:
    """Dispatch on the root element; ParseError names what the XML is when it is not a feed."""
    ns, local = _split(root.tag)
    if local == "rss" or (local == "channel" and ns in _RSS_NS):
        return _rss(root, "rss2", warnings)
    if local == "RDF":
        kinds = {_split(c.tag)[0] for c in root if _split(c.tag)[1] in ("channel", "item")}
        return _rss(root, "rss090" if RSS090 in kinds else "rss1", warnings)
    if local == "entry" and ns in (ATOM10, ATOM03):  # an Atom entry document
        wrapper = etree.Element(f"{{{ns}}}feed")
        wrapper.append(root)
        return _atom(wrapper, "atom03" if ns == ATOM03 else "atom10", warnings)
    if local == "feed" and ns not in _ATOM_NS:  # wrong namespace: read it as Atom anyway
        for el in root.iter():
            if isinstance(el.tag, str) and el.tag.startswith(f"{{{ns}}}"):
                el.tag = f"{{{ATOM10}}}" + el.tag.rpartition("}")[2]
        warnings.append(f"Atom feed in the wrong namespace {ns!r}")
        ns = ATOM10
    if local == "feed":
        return _atom(root, "atom03" if ns == ATOM03 or root.get("version") == "0.3" else "atom10", warnings)
    if local.lower() == "html":
        raise ParseError("this is an (X)HTML page, not a feed — if it is a news page use `kind: html`, "
                         "or look in the page for a <link rel=\"alternate\"> feed URL")
    if local.lower() == "channel":
        raise ParseError("XML with root <CHANNEL>: a Microsoft CDF file, not RSS or Atom — look for an RSS feed")
    if local == "opml":
        raise ParseError("XML with root <opml>: an OPML outline, not a feed — add the feeds it lists "
                         "as separate sources")
    raise ParseError(f"XML with root <{local}> is not RSS or Atom — check that the URL points at the feed itself")


def parse_xml(data: bytes, *, url: str, recover: bool) -> tuple[ParsedFeed, etree._Element]:
    """Parse prepared UTF-8 bytes; raises XMLSyntaxError (strict) or ParseError."""
    parser = make_parser(recover=recover)
    root = etree.fromstring(data, parser, base_url=url) if url else etree.fromstring(data, parser)
    if root is None:
        raise ParseError("the XML is too broken to read, even in recovery mode — validate the feed")
    return read_tree(root, []), root
