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

from aggregator.records import Article, Config, Source, StoryView, Topic

ATOM_NS = "http://www.w3.org/2005/Atom"
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


def rfc3339(moment: datetime) -> str:
    """UTC, whole seconds, `Z`: the form every Atom reader parses (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}")
    for key, value in attrs.items():
        el.set(key, clean_xml_text(value))
    if text is not None:
        el.text = clean_xml_text(text)
    return el


def feed_limit(feed_id: str, config: Config) -> int:
    """Entries in one feed: the topic's own cap, else the global one."""
    topic = _topic(feed_id, config)
    if topic is not None and topic.max_entries:
        return topic.max_entries
    return config.settings.max_entries


def _topic(topic_id: str, config: Config) -> Topic | None:
    return next((t for t in config.topics if t.id == topic_id), None)


def order_stories(stories: Sequence[StoryView]) -> list[StoryView]:
    """Newest first by published date; ties broken by story id so the order never wobbles."""
    by_id = sorted(stories, key=lambda s: s.story_id)
    return sorted(by_id, key=lambda s: _utc(s.published), reverse=True)


def _source_name(article: Article, sources: Mapping[str, Source]) -> str:
    source = sources.get(article.source_id)
    return source.display_name if source is not None else article.source_id


def _others(story: StoryView) -> list[Article]:
    """The copies besides the primary, one per distinct URL, in a stable order."""
    seen = {story.primary.url}
    others: list[Article] = []
    for member in sorted(story.members, key=lambda a: (a.source_id, a.url, a.uid)):
        if member.uid == story.primary.uid or member.url in seen:
            continue
        seen.add(member.url)
        others.append(member)
    return others


def summary_html(story: StoryView, sources: Mapping[str, Source]) -> str:
    """The primary's summary plus an escaped "Also reported by" paragraph for the other copies."""
    summary = story.primary.summary_html
    others = _others(story)
    if not others:
        return summary
    links = ", ".join(
        f'<a href="{html.escape(iri(a.url), quote=True)}">{html.escape(_source_name(a, sources))}</a>'
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
    published = _utc(story.published)
    _sub(entry, "updated", rfc3339(max(_utc(story.updated), published)))
    _sub(entry, "published", rfc3339(published))
    author = _sub(entry, "author")
    _sub(author, "name", primary.author or _source_name(primary, sources))
    _sub(entry, "link", rel="alternate", type="text/html", href=iri(primary.url))
    for other in _others(story):
        _sub(entry, "link", rel="related", type="text/html", href=iri(other.url),
             title=_source_name(other, sources))
    for topic_id in story.topics:
        topic = _topic(topic_id, config)
        if topic is not None:
            _sub(entry, "category", term=topic_id, label=topic.title)
        else:
            _sub(entry, "category", term=topic_id)
    summary = summary_html(story, sources)
    if summary:
        _sub(entry, "summary", summary, type="html")
    if primary.content_html and primary.content_html != primary.summary_html:
        _sub(entry, "content", primary.content_html, type="html")
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


def render_atom(feed_id: str, title: str, subtitle: str, stories: Sequence[StoryView], config: Config,
                sources: Mapping[str, Source]) -> bytes:
    """One Atom document: UTF-8, pretty-printed, a pure function of its arguments."""
    settings = config.settings
    base = settings.base_url if settings.base_url.endswith("/") else settings.base_url + "/"
    chosen = order_stories(stories)[: feed_limit(feed_id, config)]
    updated = max((max(_utc(s.updated), _utc(s.published)) for s in chosen), default=EMPTY_FEED_UPDATED)

    # Atom as the default namespace; lxml-stubs types nsmap keys as str only.
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})  # type: ignore[dict-item]
    feed.set(XML_LANG, clean_xml_text(settings.language))
    _sub(feed, "id", f"{base}{feed_id}.atom")
    _sub(feed, "title", title, type="text")
    if subtitle:
        _sub(feed, "subtitle", subtitle, type="text")
    _sub(feed, "updated", rfc3339(updated))
    author = _sub(feed, "author")
    _sub(author, "name", settings.title)
    # No version attribute: upgrading the program alone must not rewrite every feed.
    _sub(feed, "generator", "aggregator", uri=GENERATOR_URI)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=f"{base}{feed_id}.atom")
    _sub(feed, "link", rel="alternate", type="text/html", href=f"{base}index.html")
    for hub in settings.hubs:
        _sub(feed, "link", rel="hub", href=iri(hub))
    if settings.icon:
        _sub(feed, "icon", settings.icon)
    if settings.logo:
        _sub(feed, "logo", settings.logo)
    for story in chosen:
        _entry(feed, story, config, sources)
    body = etree.tostring(feed, encoding="UTF-8", pretty_print=True)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + bytes(body)
