"""The tolerant path: feedparser, for XML too broken for lxml (slow, so used only then)."""

from __future__ import annotations

import html
from typing import Any

import feedparser

from aggregator.parse.dates import parse_date
from aggregator.parse.text import author_name, collapse, plain_text
from aggregator.records import ParsedFeed, RawEntry

_FORMATS = {"rss10": "rss1", "rss090": "rss090", "atom10": "atom10", "atom03": "atom03"}


def _html(detail: Any, value: str) -> str:
    kind = (detail or {}).get("type", "text/html") if isinstance(detail, dict) else "text/html"
    return html.escape(value, quote=False) if kind == "text/plain" else value


def _entry(e: Any, feed_lang: str | None, fmt: str) -> RawEntry:
    published = parse_date(e.get("published"))
    source = ("atom:published" if fmt.startswith("atom") else "rss:pubDate") if published else None
    updated = parse_date(e.get("updated"))
    if published is None and updated is not None:
        published, source = updated, "feedparser:updated"
    content = ""
    if e.get("content"):
        first = e["content"][0]
        content = _html(first, first.get("value", ""))
    title_detail = e.get("title_detail") or {}
    return RawEntry(
        guid=e.get("id") or None, link=e.get("link") or None,
        title=plain_text(e.get("title", ""), is_html=title_detail.get("type") == "text/html"),
        summary=_html(e.get("summary_detail"), e.get("summary", "")), content=content,
        author=author_name(e.get("author")), published=published, updated=updated, date_source=source,
        language=(e.get("title_detail") or {}).get("language") or feed_lang,
        categories=tuple(collapse(t.get("term") or "") for t in e.get("tags", []) if (t.get("term") or "").strip()),
        base_url=(e.get("title_detail") or {}).get("base") or None,
    )


def parse_with_feedparser(body: bytes, *, url: str, content_type: str | None,
                          charset: str | None) -> ParsedFeed | None:
    """Parse with feedparser; None when it finds no feed at all."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type + (f"; charset={charset}" if charset else "")
    result = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=True)
    version = result.get("version") or ""
    if not version and not result.entries:
        return None
    feed = result.feed
    lang = feed.get("language") or None
    fmt = _FORMATS.get(version, "atom10" if version.startswith("atom") else "rss2")
    warnings = ["recovered from malformed XML"]
    if result.get("bozo_exception") is not None:
        warnings.append(f"feed is malformed: {collapse(str(result.bozo_exception))[:200]}")
    return ParsedFeed(
        format=fmt, title=plain_text(feed.get("title", "")), link=feed.get("link") or None, language=lang,
        entries=tuple(_entry(e, lang, fmt) for e in result.entries),
        ttl_seconds=_ttl_seconds(feed.get("ttl")), warnings=tuple(warnings),
    )


def _ttl_seconds(value: object) -> int | None:
    """RSS <ttl> (minutes) as seconds; ASCII digits only ("²".isdigit() is True too)."""
    text = str(value or "").strip()
    return int(text) * 60 if text.isascii() and text.isdigit() else None
