"""Hand-made stories for the publish tests: small enough to read, varied enough to matter."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from aggregator.records import Article, Config, Settings, Source, SourceState, StoryView, Topic

T0 = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)

SOURCES = (
    Source(id="messe", url="https://messe.example/press.atom", kind="feed", title="Messe Press"),
    Source(id="trade", url="https://trade.example/feed.rss", kind="feed", title="Trade & Fair Weekly"),
    Source(id="chips", url="https://chips.example/news/", kind="html"),  # no title: display name is the id
)

TOPICS = (
    Topic(id="robotics", title="Robotics", description="Robots at trade fairs", include=("robot",)),
    Topic(id="chips", title="Semiconductors", description="Chip shows", max_entries=2),
)


def make_config(output_dir: Path = Path("output"), **settings: Any) -> Config:
    base = Settings(output_dir=output_dir, base_url="https://feeds.example/", title="Fair News",
                    language="en", hubs=("https://hub.example/",), icon="https://feeds.example/icon.png")
    return Config(settings=replace(base, **settings), topics=TOPICS, sources=SOURCES)


def article(uid: str, source_id: str, url: str, title: str, published: datetime, **kw: object) -> Article:
    values: dict[str, object] = {
        "uid": uid, "source_id": source_id, "guid": url, "url": url, "title": title,
        "published": published, "updated": published, "date_source": "rss:pubDate", "author": None,
        "language": "en", "summary_html": f"<p>{title}.</p>", "content_html": "", "text": title,
        "text_hash": uid,
    }
    values.update(kw)
    return Article(**values)  # type: ignore[arg-type]


def story(story_id: str, primary: Article, *others: Article, topics: tuple[str, ...] = ("robotics",),
          updated: datetime | None = None) -> StoryView:
    return StoryView(story_id=story_id, primary=primary, members=(primary, *others), topics=topics,
                     published=primary.published, updated=updated or primary.updated)


def sample_stories() -> list[StoryView]:
    """Three stories, deliberately out of order: one multi-source, one with content, one plain."""
    a = article("a1", "messe", "https://messe.example/2024/robots", "Robots take over Hall 7",
                T0, author="Jane Doe", summary_html="<p>Cobots <b>everywhere</b> &amp; more.</p>",
                content_html="<p>Cobots everywhere, the full story.</p>")
    b = article("b1", "trade", "https://trade.example/robots-hall-7", "Hall 7 full of robots",
                T0 + timedelta(minutes=5))
    c = article("c1", "chips", "https://chips.example/news/robot-chip", "Robot chips shown", T0 + timedelta(minutes=9))
    d = article("d1", "trade", "https://trade.example/opening", "Fair opens its doors", T0 - timedelta(days=1),
                summary_html="")
    e = article("e1", "chips", "https://chips.example/news/wafer", "Wafer fab in the spotlight",
                T0 + timedelta(hours=2), language="de", summary_html="<p>Wafer.</p>", content_html="<p>Wafer.</p>")
    return [
        story("urn:uuid:00000000-0000-4000-8000-000000000002", d, topics=("robotics",)),
        story("urn:uuid:00000000-0000-4000-8000-000000000001", a, b, c, topics=("robotics", "chips"),
              updated=T0 + timedelta(hours=1)),
        story("urn:uuid:00000000-0000-4000-8000-000000000003", e, topics=("chips", "retired-topic")),
    ]


class FakeStore:
    """Just the publishing half of the Store protocol, recording every query."""

    def __init__(self, stories: list[StoryView], dirty: Iterable[str] = (),
                 states: dict[str, SourceState] | None = None) -> None:
        self.stories = stories
        self.dirty = set(dirty)
        self.states = states or {}
        self.queries: list[tuple[str | None, int, tuple[str, ...]]] = []

    def stories_for_feed(self, topic_id: str | None, limit: int, sources: Sequence[str] = ()) -> list[StoryView]:
        self.queries.append((topic_id, limit, tuple(sources)))
        chosen = [s for s in self.stories
                  if (topic_id is None or topic_id in s.topics)
                  and (not sources or s.primary.source_id in sources)]
        return sorted(chosen, key=lambda s: s.published, reverse=True)[:limit]

    def source_states(self) -> dict[str, SourceState]:
        return dict(self.states)

    def dirty_feeds(self) -> set[str]:
        return set(self.dirty)

    def mark_feeds_clean(self, feed_ids: Iterable[str]) -> None:
        self.dirty -= set(feed_ids)

    def mark_feeds_dirty(self, feed_ids: Iterable[str]) -> None:
        self.dirty |= set(feed_ids)


def sample_states() -> dict[str, SourceState]:
    """One healthy feed, one failing feed, and the HTML source never polled."""
    return {
        "messe": SourceState("messe", last_success=T0, last_status="ok", http_status=200),
        "trade": SourceState("trade", last_success=T0 - timedelta(days=2), last_status="error", http_status=503,
                             last_error="HTTP 503 <Service Unavailable>: retry later", consecutive_failures=3),
    }


class Pings:
    """A pinger that records instead of POSTing: (hubs, urls) per call."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], tuple[str, ...]]] = []

    def __call__(self, hubs: Sequence[str], urls: Sequence[str]) -> None:
        self.calls.append((tuple(hubs), tuple(urls)))


def publish_with(config: Config, store: FakeStore, only: Iterable[str] | None = None,
                 pinger: Pings | None = None) -> list[Path]:
    """publish() against the fake (it implements only the publishing methods of the Store protocol)."""
    from aggregator.publish import publish

    return publish(config, cast(Any, store), only=only, pinger=pinger or Pings())
