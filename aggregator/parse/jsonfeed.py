"""JSON Feed 1.0 and 1.1 (feedparser 6 does not read them, so this is the only path)."""

from __future__ import annotations

import html
import json
from typing import Any

from aggregator.errors import ParseError
from aggregator.parse.dates import parse_date
from aggregator.parse.text import author_name, collapse, plain_text, text_to_html
from aggregator.parse.xmlfeeds import join_url
from aggregator.records import ParsedFeed, RawEntry


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _author(obj: dict[str, Any]) -> str | None:
    authors = obj.get("authors")
    if isinstance(authors, list):
        for one in authors:
            if isinstance(one, dict) and _str(one.get("name")):
                return author_name(_str(one.get("name")))
    one = obj.get("author")
    if isinstance(one, dict):
        return author_name(_str(one.get("name")))
    return author_name(_str(one))


def _entry(item: dict[str, Any], base: str, feed_lang: str | None, feed_author: str | None) -> RawEntry:
    link = _str(item.get("url")) or _str(item.get("external_url"))
    published = parse_date(_str(item.get("date_published")))
    updated = parse_date(_str(item.get("date_modified")))
    source = "jsonfeed:date_published" if published else None
    if published is None and updated is not None:
        published, source = updated, "jsonfeed:date_modified"
    content = _str(item.get("content_html")) or text_to_html(_str(item.get("content_text")) or "")
    summary = _str(item.get("summary"))
    tags = item.get("tags")
    return RawEntry(
        guid=_str(item.get("id")), link=join_url(base, link),
        title=plain_text(_str(item.get("title")) or ""), summary=html.escape(summary, quote=False) if summary else "",
        content=content, author=_author(item) or feed_author, published=published, updated=updated,
        date_source=source, language=_str(item.get("language")) or feed_lang,
        categories=tuple(collapse(t) for t in tags if isinstance(t, str) and t.strip()) if isinstance(tags, list)
        else (), base_url=base or None,
    )


def parse_json(text: str, *, url: str) -> ParsedFeed:
    """Read a JSON Feed; ParseError says whether it is broken JSON or JSON of another kind."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"looks like JSON but is not valid JSON ({exc}) — the server sent a broken document") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ParseError("JSON but not a JSON Feed (no 'items') — check that the URL points at the feed, "
                         "not at an API response")
    version = _str(doc.get("version")) or ""
    fmt = "jsonfeed11" if version.rstrip("/").endswith("1.1") else "jsonfeed10"
    base = url or _str(doc.get("feed_url")) or ""
    lang = _str(doc.get("language"))
    author = _author(doc)
    entries = tuple(_entry(item, base, lang, author) for item in doc["items"] if isinstance(item, dict))
    home = _str(doc.get("home_page_url"))
    return ParsedFeed(format=fmt, title=plain_text(_str(doc.get("title")) or ""),
                      link=join_url(base, home), language=lang, entries=entries)
