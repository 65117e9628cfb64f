"""publish(): which feeds get rendered, which files get rewritten, and when the store is asked."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import feedparser
import pytest

from aggregator.errors import AggregatorError
from aggregator.publish import publish
from aggregator.records import Config, StoryView
from tests.publish.samples import make_config, sample_stories


class FakeStore:
    """Just the publishing half of the Store protocol, recording every query."""

    def __init__(self, stories: list[StoryView], dirty: Iterable[str] = ()) -> None:
        self.stories = stories
        self.dirty = set(dirty)
        self.queries: list[tuple[str | None, int, tuple[str, ...]]] = []

    def stories_for_feed(self, topic_id: str | None, limit: int, sources: Sequence[str] = ()) -> list[StoryView]:
        self.queries.append((topic_id, limit, tuple(sources)))
        chosen = [s for s in self.stories
                  if (topic_id is None or topic_id in s.topics)
                  and (not sources or s.primary.source_id in sources)]
        return sorted(chosen, key=lambda s: s.published, reverse=True)[:limit]

    def dirty_feeds(self) -> set[str]:
        return set(self.dirty)

    def mark_feeds_clean(self, feed_ids: Iterable[str]) -> None:
        self.dirty -= set(feed_ids)

    def mark_feeds_dirty(self, feed_ids: Iterable[str]) -> None:
        self.dirty |= set(feed_ids)


def _publish(config: Config, store: FakeStore, only: Iterable[str] | None = None) -> list[Path]:
    """The fake implements only the publishing methods of the Store protocol."""
    return publish(config, cast(Any, store), only=only)


def _names(paths: list[Path]) -> list[str]:
    return sorted(p.name for p in paths)


def test_first_run_writes_every_feed_then_nothing(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path)
    store = FakeStore(sample_stories())
    assert _names(_publish(config, store)) == ["all.atom", "chips.atom", "robotics.atom"]
    assert store.queries == [("robotics", 100, ()), ("chips", 2, ()), (None, 100, ())]
    robotics = feedparser.parse((tmp_path / "robotics.atom").read_bytes())
    assert robotics.feed.title == "Fair News: Robotics"
    assert len(robotics.entries) == 2
    assert len(feedparser.parse((tmp_path / "all.atom").read_bytes()).entries) == 3

    store.queries.clear()
    assert _publish(config, store) == []
    assert store.queries == []  # clean feeds cost no story query


def test_dirty_feed_rendered_but_unchanged_bytes_not_rewritten(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path)
    store = FakeStore(sample_stories())
    _publish(config, store)
    mtime = (tmp_path / "robotics.atom").stat().st_mtime_ns
    store.mark_feeds_dirty(["robotics"])
    assert _publish(config, store) == []
    assert [q[0] for q in store.queries[-1:]] == ["robotics"]
    assert (tmp_path / "robotics.atom").stat().st_mtime_ns == mtime
    assert store.dirty == set()


def test_changed_story_rewrites_only_its_feeds(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path)
    stories = sample_stories()
    store = FakeStore(stories)
    _publish(config, store)
    store.stories = stories[:2]  # the chips-only story is gone
    store.mark_feeds_dirty(["chips", "all", "removed-topic"])
    written = _publish(config, store)
    assert _names(written) == ["all.atom", "chips.atom"]
    assert store.dirty == set()  # a dirty id with no topic any more does not stay dirty forever


def test_missing_file_is_rebuilt_even_when_clean(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path)
    store = FakeStore(sample_stories())
    _publish(config, store)
    (tmp_path / "chips.atom").unlink()
    assert _names(_publish(config, store)) == ["chips.atom"]


def test_only_renders_named_feeds_and_rejects_unknown(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path)
    store = FakeStore(sample_stories(), dirty=["robotics"])
    assert _names(_publish(config, store, only=["all"])) == ["all.atom"]
    assert store.dirty == {"robotics"}
    with pytest.raises(AggregatorError, match=r"unknown feed.*nope"):
        _publish(config, store, only=["nope"])


def test_topic_source_filter_is_passed_to_the_store(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path)
    config = replace(config, topics=(replace(config.topics[0], sources=("messe",)),))
    store = FakeStore(sample_stories())
    _publish(config, store, only=["robotics"])
    assert store.queries == [("robotics", 100, ("messe",))]
    parsed = feedparser.parse((tmp_path / "robotics.atom").read_bytes())
    assert [e.title for e in parsed.entries] == ["Robots take over Hall 7"]
