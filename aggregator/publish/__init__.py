"""Publish stage: one Atom feed per topic plus `all.atom`, rewritten only when its stories changed."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator.errors import AggregatorError
from aggregator.publish.atom import clean_xml_text, feed_limit, render_atom
from aggregator.publish.writer import write_if_changed
from aggregator.records import Config

if TYPE_CHECKING:  # importing the store package would pull in the SQL backends at run time
    from aggregator.store.base import Store

__all__ = ["ALL_FEED", "clean_xml_text", "feed_path", "publish", "render_atom", "write_if_changed"]

ALL_FEED = "all"


def feed_path(config: Config, feed_id: str) -> Path:
    return config.settings.output_dir / f"{feed_id}.atom"


def _feed_ids(config: Config) -> list[str]:
    return [t.id for t in config.topics if t.id != ALL_FEED] + [ALL_FEED]


def _targets(config: Config, store: Store, only: Iterable[str] | None) -> tuple[list[str], set[str]]:
    """Feeds to render, and the feed ids to mark clean afterwards (incl. dirty ids of removed topics)."""
    known = _feed_ids(config)
    if only is not None:
        wanted = set(only)
        unknown = sorted(wanted - set(known))
        if unknown:
            raise AggregatorError(
                f"unknown feed(s) {', '.join(unknown)}: use a topic id from sources.yaml or {ALL_FEED!r}"
            )
        chosen = [f for f in known if f in wanted]
        return chosen, set(chosen)
    dirty = store.dirty_feeds()
    chosen = [f for f in known if f in dirty or not feed_path(config, f).exists()]
    return chosen, set(chosen) | (dirty - set(known))


def publish(config: Config, store: Store, *, only: Iterable[str] | None = None) -> list[Path]:
    """Render the dirty (or missing, or `only` the named) feeds; return the files actually rewritten.

    Clean feeds cost one `dirty_feeds()` call and a stat, no story queries, so running this after
    every pass is cheap. Feeds are marked clean only after all of them were written, so a crash
    mid-way leaves them dirty and the next run finishes the job.
    """
    chosen, to_clean = _targets(config, store, only)
    sources = {s.id: s for s in config.sources}
    topics = {t.id: t for t in config.topics}
    settings = config.settings
    written: list[Path] = []
    for feed_id in chosen:
        topic = topics.get(feed_id) if feed_id != ALL_FEED else None
        stories = store.stories_for_feed(
            topic.id if topic else None, feed_limit(feed_id, config), topic.sources if topic else ()
        )
        if topic is not None:
            title, subtitle = f"{settings.title}: {topic.title}", topic.description
        else:
            title, subtitle = settings.title, "Every story from every source"
        data = render_atom(feed_id, title, subtitle, stories, config, sources)
        path = feed_path(config, feed_id)
        if write_if_changed(path, data):
            written.append(path)
    if to_clean:
        store.mark_feeds_clean(sorted(to_clean))
    return written
