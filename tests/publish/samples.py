"""Hand-made stories for the publish tests: small enough to read, varied enough to matter."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aggregator.records import Article, Config, Settings, Source, StoryView, Topic

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
