"""Normalise stage: RawEntry -> Article (canonical URL, UTC dates, sanitised HTML, plain text).

Pure: the caller passes `now` and the URL the feed was fetched from; nothing here does I/O.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from urllib.parse import urljoin

from aggregator.normalise.dates import FIRST_SEEN, FUTURE_IGNORED, TOO_OLD_IGNORED, entry_dates, is_first_seen
from aggregator.normalise.html import (
    excerpt,
    html_to_text,
    plain_text,
    sanitize_html,
    sanitized,
    strip_xml_forbidden,
    text_to_html,
)
from aggregator.normalise.ids import content_guid, record_uid, text_hash
from aggregator.normalise.language import declared_language, detect_language, primary_tag
from aggregator.normalise.urls import canonical_url, is_web_url
from aggregator.records import Article, RawEntry, Source

__all__ = [
    "FIRST_SEEN", "FUTURE_IGNORED", "TOO_OLD_IGNORED", "canonical_url", "is_first_seen", "normalise_entry",
    "primary_tag", "record_uid", "sanitize_html", "text_hash",
]

TITLE_FROM_TEXT = 80  # characters of text used as a title when the entry has none
SUMMARY_CHARS = 300


def normalise_entry(raw: RawEntry, source: Source, *, fetched_url: str, now: datetime,
                    feed_language: str | None = None) -> Article | None:
    """One publishable record, or None when the entry has no title, link or content at all."""
    link = _first_web_url(raw.canonical_url, raw.link)
    if not (raw.title.strip() or link or raw.content.strip() or raw.summary.strip()):
        return None
    base = _base(raw.base_url, fetched_url)
    url = canonical_url(link, base) if link else canonical_url(fetched_url)

    content_html, content_text = sanitized(raw.content, base) if raw.content else ("", "")
    if raw.summary == raw.content:  # many feeds repeat the body as the summary
        summary_html, summary_text = content_html, content_text
    else:
        summary_html, summary_text = sanitized(raw.summary, base) if raw.summary else ("", "")
    text = content_text if content_html else summary_text  # what the sanitiser read while writing, if it did
    if text is None:
        text = html_to_text(content_html or summary_html)
    if not summary_html and len(text) > 0:
        summary_html = text_to_html(excerpt(text, SUMMARY_CHARS))  # always escaped: text may hold "<b>"

    title = plain_text(raw.title) or excerpt(text, TITLE_FROM_TEXT) or url
    guid = strip_xml_forbidden(raw.guid).strip() if raw.guid else ""
    guid = guid or (url if link else content_guid(title, text))
    dates = entry_dates(raw.published, raw.updated, raw.date_source, timezone=source.timezone, now=now)
    author = plain_text(raw.author) if raw.author else ""
    # choose_language, without building the detection text when a language is declared (nearly always)
    language = declared_language(raw.language, feed_language, source.language) or detect_language(f"{title} {text}")
    return Article(
        uid=record_uid(source.id, guid), source_id=source.id, guid=guid, url=url, title=title,
        published=dates.published, updated=dates.updated, date_source=dates.date_source,
        author=author or None, language=language, summary_html=summary_html, content_html=content_html,
        text=text, text_hash=text_hash(text, title),
    )


def _first_web_url(*candidates: str | None) -> str | None:
    """The first http(s) or relative link; `javascript:` and friends are never an article URL."""
    for value in candidates:
        if value:
            value = strip_xml_forbidden(value).strip()
            if value and is_web_url(value):
                return value
    return None


def _base(base_url: str | None, fetched_url: str) -> str:
    """Relative links resolve against the entry's base, itself relative to the fetched URL."""
    if base_url and is_web_url(base_url):
        return _join_base(fetched_url, base_url.strip())
    return fetched_url


@lru_cache(maxsize=256)
def _join_base(fetched_url: str, base_url: str) -> str:
    """urljoin, memoised: every entry of a feed usually has the same base (the feed's own URL)."""
    return urljoin(fetched_url, base_url)
