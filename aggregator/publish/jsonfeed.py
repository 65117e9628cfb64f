"""Render one JSON Feed 1.1 document (https://jsonfeed.org/version/1.1) from the same stories as the Atom feed.

Some readers (and most scripts) prefer JSON; the items carry exactly what the Atom entries carry, and the
other copies of a story travel in an `_aggregator` extension object as the spec prescribes for extras.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from aggregator.publish.atom import GENERATOR_URI, base_url, iri, summary_html
from aggregator.publish.content import (
    article_content_html,
    entry_updated,
    other_copies,
    plain_text,
    rfc3339,
    select_stories,
    source_name,
    topic_by_id,
)
from aggregator.records import Config, Source, StoryView

VERSION = "https://jsonfeed.org/version/1.1"


def _item(story: StoryView, config: Config, sources: Mapping[str, Source]) -> dict[str, Any]:
    primary = story.primary
    summary = summary_html(story, sources)
    content = article_content_html(primary) or summary or f"<p>{html.escape(primary.title or primary.url)}</p>"
    item: dict[str, Any] = {
        "id": story.story_id,
        "url": iri(primary.url),
        "title": primary.title or primary.url,
        "content_html": content,
    }
    text = plain_text(summary)
    if text:
        item["summary"] = text
    item["date_published"] = rfc3339(story.published)
    item["date_modified"] = rfc3339(entry_updated(story))
    item["authors"] = [{"name": primary.author or source_name(primary, sources)}]
    tags = [t.title if (t := topic_by_id(topic_id, config)) else topic_id for topic_id in story.topics]
    if tags:
        item["tags"] = tags
    if primary.language:
        item["language"] = primary.language
    item["_aggregator"] = {
        "about": GENERATOR_URI,
        "topics": list(story.topics),
        "sources": [
            {"source": a.source_id, "name": source_name(a, sources), "url": iri(a.url), "title": a.title}
            for a in (primary, *other_copies(story))
        ],
    }
    return item


def render_json_feed(feed_id: str, title: str, description: str, stories: Sequence[StoryView], config: Config,
                     sources: Mapping[str, Source], *, prev_archive: str | None = None,
                     archived: int = 0) -> bytes:
    """One JSON Feed document; deterministic (key order fixed, no clock) so unchanged data is unchanged bytes."""
    settings = config.settings
    base = base_url(config)
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": title,
        "home_page_url": f"{base}index.html",
        "feed_url": f"{base}{feed_id}.json",
    }
    if description:
        feed["description"] = description
    if settings.logo:
        feed["icon"] = iri(settings.logo)
    if settings.icon:
        feed["favicon"] = iri(settings.icon)
    feed["authors"] = [{"name": settings.title}]
    feed["language"] = settings.language
    if settings.hubs:
        feed["hubs"] = [{"type": "WebSub", "url": iri(hub)} for hub in settings.hubs]
    extension: dict[str, Any] = {"about": GENERATOR_URI, "atom": f"{base}{feed_id}.atom", "archived": archived}
    if prev_archive:
        extension["prev_archive"] = prev_archive
    feed["_aggregator"] = extension
    feed["items"] = [_item(s, config, sources) for s in select_stories(feed_id, stories, config)]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
