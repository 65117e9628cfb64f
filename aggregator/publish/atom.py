"""Render one Atom 1.0 (RFC 4287) document from stories.

Built with lxml rather than feedgen because feedgen cannot express what this feed needs:
its entry `source()` writes an atom:source with only a link and a title (no atom:id or
atom:updated), and it stamps the feed with the wall clock and a versioned generator by
default. Building the tree directly keeps the output a pure function of its inputs, so
unchanged data gives byte-identical files (and untouched mtimes / HTTP validators).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from lxml import etree

from aggregator.publish.content import (
    article_content_html,
    article_summary_html,
    entry_updated,
    feed_limit,
    order_stories,
    other_copies,
    rfc3339,
    select_stories,
    source_name,
    topic_by_id,
)
from aggregator.records import Article, Config, Source, StoryView

__all__ = [
    "ATOM_NS",
    "EMPTY_FEED_UPDATED",
    "FH_NS",
    "base_url",
    "clean_xml_text",
    "feed_head",
    "feed_limit",
    "iri",
    "order_stories",
    "render_atom",
    "rfc3339",
    "serialize",
    "summary_html",
]

ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
GENERATOR_URI = "https://github.com/aggregator/aggregator"
# An empty feed still needs an atom:updated; the epoch keeps it deterministic (never the clock).
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)

# Everything outside the XML 1.0 Char production, lone surrogates included.
_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# Characters an IRI may not hold literally (RFC 3987): spaces, quotes, angle brackets and the like.
_NOT_IRI = re.compile(r'[\x00-\x20"<>\\^`{|}\x7f]')


def iri(url: str) -> str:
    """Percent-encode what RFC 3987 forbids in an IRI, so a sloppy source URL cannot make the feed invalid."""
    def encode(match: re.Match[str]) -> str:
        return "".join(f"%{b:02X}" for b in match.group().encode())

    return _NOT_IRI.sub(encode, clean_xml_text(url.strip()))


def clean_xml_text(text: str) -> str:
    """Drop the characters XML 1.0 cannot carry, which would otherwise crash serialisation."""
    return _FORBIDDEN.sub("", text)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}")
    for key, value in attrs.items():
        el.set(key, clean_xml_text(value))
    if text is not None:
        el.text = clean_xml_text(text)
    return el


def summary_html(story: StoryView, sources: Mapping[str, Source]) -> str:
    """The primary's summary plus an escaped "Also reported by" paragraph for the other copies."""
    summary = article_summary_html(story.primary)
    others = other_copies(story)
    if not others:
        return summary
    links = ", ".join(
        f'<a href="{html.escape(iri(a.url), quote=True)}">{html.escape(source_name(a, sources))}</a>'
        for a in others
    )
    also = f"<p>Also reported by: {links}</p>"
    return f"{summary}\n{also}" if summary else also


def _entry(feed: etree._Element, story: StoryView, config: Config, sources: Mapping[str, Source]) -> None:
    primary = story.primary
    entry = _sub(feed, "entry")
    if primary.language and primary.language != config.settings.language:
        entry.set(XML_LANG, clean_xml_text(primary.language))
    _sub(entry, "id", story.story_id)
    _sub(entry, "title", primary.title or primary.url, type="text")
    _sub(entry, "updated", rfc3339(entry_updated(story)))
    _sub(entry, "published", rfc3339(story.published))
    author = _sub(entry, "author")
    _sub(author, "name", primary.author or source_name(primary, sources))
    _sub(entry, "link", rel="alternate", type="text/html", href=iri(primary.url))
    for other in other_copies(story):
        _sub(entry, "link", rel="related", type="text/html", href=iri(other.url),
             title=source_name(other, sources))
    for topic_id in story.topics:
        topic = topic_by_id(topic_id, config)
        if topic is not None:
            _sub(entry, "category", term=topic_id, label=topic.title)
        else:
            _sub(entry, "category", term=topic_id)
    summary = summary_html(story, sources)
    if summary:
        _sub(entry, "summary", summary, type="html")
    content = article_content_html(primary)
    if content:
        _sub(entry, "content", content, type="html")
    _source(entry, primary, sources)


def _source(entry: etree._Element, primary: Article, sources: Mapping[str, Source]) -> None:
    """atom:source: which feed or page the primary copy came from (RFC 4287 §4.2.11)."""
    source = sources.get(primary.source_id)
    if source is None:
        return
    el = _sub(entry, "source")
    _sub(el, "id", iri(source.url))
    _sub(el, "title", source.display_name, type="text")
    # We do not keep the source document's own atom:updated; the primary's date is the latest
    # we know from it for this entry, and a fixed value keeps the output deterministic.
    _sub(el, "updated", rfc3339(primary.updated))
    rel = "self" if source.kind == "feed" else "alternate"
    _sub(el, "link", rel=rel, href=iri(source.url))


def base_url(config: Config) -> str:
    base = config.settings.base_url
    return base if base.endswith("/") else base + "/"


def feed_head(self_path: str, title: str, subtitle: str, updated: datetime,
              config: Config) -> etree._Element:
    """The feed-level elements every document we publish shares (live feeds and archive pages)."""
    settings = config.settings
    base = base_url(config)
    # Atom as the default namespace; lxml-stubs types nsmap keys as str only.
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})  # type: ignore[dict-item]
    feed.set(XML_LANG, clean_xml_text(settings.language))
    _sub(feed, "id", f"{base}{self_path}")
    _sub(feed, "title", title, type="text")
    if subtitle:
        _sub(feed, "subtitle", subtitle, type="text")
    _sub(feed, "updated", rfc3339(updated))
    author = _sub(feed, "author")
    _sub(author, "name", settings.title)
    # No version attribute: upgrading the program alone must not rewrite every feed.
    _sub(feed, "generator", "aggregator", uri=GENERATOR_URI)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=f"{base}{self_path}")
    _sub(feed, "link", rel="alternate", type="text/html", href=f"{base}index.html")
    for hub in settings.hubs:
        _sub(feed, "link", rel="hub", href=iri(hub))
    if settings.icon:
        _sub(feed, "icon", iri(settings.icon))
    if settings.logo:
        _sub(feed, "logo", iri(settings.logo))
    return feed


def serialize(feed: etree._Element, stylesheet: str | None) -> bytes:
    """UTF-8 with declaration and, for browsers, the XSLT processing instruction that makes it a page."""
    head = b'<?xml version="1.0" encoding="utf-8"?>\n'
    if stylesheet:
        head += f'<?xml-stylesheet type="text/xsl" href="{html.escape(stylesheet, quote=True)}"?>\n'.encode()
    return head + bytes(etree.tostring(feed, encoding="UTF-8", pretty_print=True))


def render_atom(feed_id: str, title: str, subtitle: str, stories: Sequence[StoryView], config: Config,
                sources: Mapping[str, Source], *, prev_archive: str | None = None,
                stylesheet: str | None = "feed.xsl") -> bytes:
    """One live Atom document, a pure function of its arguments.

    `prev_archive` is the URL of the newest RFC 5005 archive page, when older entries were archived;
    `stylesheet` is the href of the XSLT that renders the feed as a page in a browser.
    """
    chosen = select_stories(feed_id, stories, config)
    updated = max((entry_updated(s) for s in chosen), default=EMPTY_FEED_UPDATED)
    feed = feed_head(f"{feed_id}.atom", title, subtitle, updated, config)
    if prev_archive:
        _sub(feed, "link", rel="prev-archive", type="application/atom+xml", href=iri(prev_archive))
    for story in chosen:
        _entry(feed, story, config, sources)
    return serialize(feed, stylesheet)
