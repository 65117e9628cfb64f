"""What every published format says about a story, decided once so Atom, JSON Feed and the index agree.

The choices here are the ones a subscriber notices: which stories a topic feed carries (cap, minimum
date, newest first with a stable tie-break), and a short readable summary even when the source only
gave the full text (a reader's list view should not show a whole article).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from aggregator.normalise.html import excerpt as normalised_excerpt
from aggregator.records import Article, Config, Source, StoryView, Topic

EXCERPT_CHARS = 280  # about three lines in a reader's list view
LONG_TEXT = 600  # a "summary" longer than this that equals the full text is no summary

_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def utc(moment: datetime) -> datetime:
    """Aware UTC; naive values are taken as UTC (what the store hands back)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    """UTC, whole seconds, `Z`: the form every Atom and JSON Feed reader parses."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def topic_by_id(topic_id: str, config: Config) -> Topic | None:
    return next((t for t in config.topics if t.id == topic_id), None)


def feed_limit(feed_id: str, config: Config) -> int:
    """Entries in one feed: the topic's own cap, else the global one."""
    topic = topic_by_id(feed_id, config)
    if topic is not None and topic.max_entries:
        return topic.max_entries
    return config.settings.max_entries


def order_stories(stories: Sequence[StoryView]) -> list[StoryView]:
    """Newest first by published date; ties broken by story id so the order never wobbles."""
    by_id = sorted(stories, key=lambda s: s.story_id)
    return sorted(by_id, key=lambda s: utc(s.published), reverse=True)


def min_date(feed_id: str, config: Config) -> datetime | None:
    topic = topic_by_id(feed_id, config)
    return utc(topic.min_date) if topic is not None and topic.min_date is not None else None


def select_stories(feed_id: str, stories: Sequence[StoryView], config: Config) -> list[StoryView]:
    """The entries one feed publishes: newest first, none older than the topic's min_date, capped."""
    oldest = min_date(feed_id, config)
    chosen = [s for s in order_stories(stories) if oldest is None or utc(s.published) >= oldest]
    return chosen[: feed_limit(feed_id, config)]


def entry_updated(story: StoryView) -> datetime:
    """An entry is never updated before it was published (sources do send such dates)."""
    return max(utc(story.updated), utc(story.published))


def source_name(article: Article, sources: Mapping[str, Source]) -> str:
    source = sources.get(article.source_id)
    return source.display_name if source is not None else article.source_id


def other_copies(story: StoryView) -> list[Article]:
    """The copies besides the primary, one per distinct URL, in a stable order."""
    seen = {story.primary.url}
    others: list[Article] = []
    for member in sorted(story.members, key=lambda a: (a.source_id, a.url, a.uid)):
        if member.uid == story.primary.uid or member.url in seen:
            continue
        seen.add(member.url)
        others.append(member)
    return others


def plain_text(fragment: str) -> str:
    """Tags dropped, entities decoded, whitespace collapsed: good enough for an excerpt."""
    return _SPACE.sub(" ", html.unescape(_TAGS.sub(" ", fragment))).strip()


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The normaliser's excerpt rule, on whitespace-collapsed text, so feeds and records agree."""
    return normalised_excerpt(_SPACE.sub(" ", text).strip(), limit)


def article_summary_html(article: Article) -> str:
    """The source's own summary, or an excerpt when it gave only (or as its summary) the full text."""
    summary, content = article.summary_html, article.content_html
    full_text_as_summary = bool(summary) and summary == content and len(plain_text(summary)) > LONG_TEXT
    if summary and not full_text_as_summary:
        return summary
    text = article.text or plain_text(content or summary)
    if not (content or full_text_as_summary) or not text:
        return summary
    return f"<p>{html.escape(excerpt(text), quote=False)}</p>"


def article_content_html(article: Article) -> str:
    """The full text, only when it says more than the summary published beside it."""
    content = article.content_html
    return content if content and content != article_summary_html(article) else ""
