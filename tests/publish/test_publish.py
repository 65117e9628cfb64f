"""publish(): which feeds get rendered, which files get rewritten, when the store is asked, archives, pings."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from aggregator.errors import AggregatorError
from aggregator.records import StoryView
from tests.publish.samples import T0, FakeStore, Pings, article, make_config, publish_with, sample_stories, story

NS = {"a": "http://www.w3.org/2005/Atom", "fh": "http://purl.org/syndication/history/1.0"}
SITE = ["feed.xsl", "feeds.opml", "index.html", "sources.opml"]


def _names(paths: list[Path], root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in paths)


def test_first_run_writes_every_feed_then_nothing(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path)
    store = FakeStore(sample_stories())
    pings = Pings()
    written = publish_with(config, store, pinger=pings)
    assert _names(written, tmp_path) == sorted(
        ["all.atom", "all.json", "chips.atom", "chips.json", "robotics.atom", "robotics.json", *SITE])
    assert store.queries == [("robotics", 100, ()), ("chips", 2, ()), (None, 100, ())]
    robotics = feedparser.parse((tmp_path / "robotics.atom").read_bytes())
    assert robotics.feed.title == "Fair News: Robotics"
    assert len(robotics.entries) == 2
    assert len(feedparser.parse((tmp_path / "all.atom").read_bytes()).entries) == 3
    assert pings.calls == [(("https://hub.example/",), tuple(
        f"https://feeds.example/{f}" for f in
        ("robotics.atom", "robotics.json", "chips.atom", "chips.json", "all.atom", "all.json")))]

    store.queries.clear()
    pings.calls.clear()
    assert publish_with(config, store, pinger=pings) == []
    assert store.queries == []  # clean feeds cost no story query
    assert pings.calls == []  # nothing changed: no hub hears about it


def test_dirty_feed_rendered_but_unchanged_bytes_not_rewritten(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path)
    store = FakeStore(sample_stories())
    publish_with(config, store)
    mtime = (tmp_path / "robotics.atom").stat().st_mtime_ns
    store.mark_feeds_dirty(["robotics"])
    pings = Pings()
    assert publish_with(config, store, pinger=pings) == []
    assert [q[0] for q in store.queries[-1:]] == ["robotics"]
    assert (tmp_path / "robotics.atom").stat().st_mtime_ns == mtime
    assert store.dirty == set()
    assert pings.calls == []  # rendered but byte-identical: not "really changed"


def test_changed_story_rewrites_only_its_feeds_and_pings_only_them(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path)
    stories = sample_stories()
    store = FakeStore(stories)
    publish_with(config, store)
    store.stories = [*stories[:2], replace(stories[2], updated=T0 + timedelta(days=1))]
    store.mark_feeds_dirty(["chips", "all", "removed-topic"])
    pings = Pings()
    written = publish_with(config, store, pinger=pings)
    assert _names(written, tmp_path) == ["all.atom", "all.json", "chips.atom", "chips.json", "index.html"]
    assert store.dirty == set()  # a dirty id with no topic any more does not stay dirty forever
    assert pings.calls[0][1] == ("https://feeds.example/chips.atom", "https://feeds.example/chips.json",
                                 "https://feeds.example/all.atom", "https://feeds.example/all.json")


def test_no_hubs_no_pings(tmp_path: Path) -> None:
    pings = Pings()
    publish_with(make_config(output_dir=tmp_path, hubs=()), FakeStore(sample_stories()), pinger=pings)
    assert pings.calls == []


def test_missing_file_is_rebuilt_even_when_clean(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path)
    store = FakeStore(sample_stories())
    publish_with(config, store)
    (tmp_path / "chips.atom").unlink()
    (tmp_path / "sources.opml").unlink()
    assert _names(publish_with(config, store), tmp_path) == ["chips.atom", "sources.opml"]


def test_only_renders_named_feeds_and_rejects_unknown(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path)
    store = FakeStore(sample_stories(), dirty=["robotics"])
    assert "all.atom" in _names(publish_with(config, store, only=["all"]), tmp_path)
    assert [q[0] for q in store.queries] == [None]
    assert store.dirty == {"robotics"}
    with pytest.raises(AggregatorError, match=r"unknown feed.*nope"):
        publish_with(config, store, only=["nope"])


def test_topic_source_filter_is_passed_to_the_store(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path)
    config = replace(config, topics=(replace(config.topics[0], sources=("messe",)),))
    store = FakeStore(sample_stories())
    publish_with(config, store, only=["robotics"])
    assert store.queries == [("robotics", 100, ("messe",))]
    parsed = feedparser.parse((tmp_path / "robotics.atom").read_bytes())
    assert [e.title for e in parsed.entries] == ["Robots take over Hall 7"]


def test_min_date_keeps_older_stories_out_of_that_topic_only(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path)
    config = replace(config, topics=(replace(config.topics[0], min_date=T0 - timedelta(hours=1)),
                                      config.topics[1]))
    publish_with(config, FakeStore(sample_stories()))
    robotics = feedparser.parse((tmp_path / "robotics.atom").read_bytes())
    assert [e.title for e in robotics.entries] == ["Robots take over Hall 7"]  # "Fair opens" is a day older
    everything = json.loads((tmp_path / "all.json").read_bytes())
    assert "Fair opens its doors" in [i["title"] for i in everything["items"]]


def _numbered(n: int, start: int = 0) -> list[StoryView]:
    return [story(f"urn:uuid:s{i:03d}", article(f"u{i}", "messe", f"https://messe.example/{i}", f"Story {i}",
                                                T0 + timedelta(hours=i)))
            for i in range(start, start + n)]


def _ids(path: Path) -> list[str]:
    root = etree.parse(str(path)).getroot()
    return [e.findtext("a:id", namespaces=NS) or "" for e in root.findall("a:entry", NS)]


def _links(path: Path, rel: str) -> list[str]:
    root = etree.parse(str(path)).getroot()
    return [link.get("href", "") for link in root.findall(f"a:link[@rel='{rel}']", NS)]


def test_entries_leaving_the_live_feed_fill_immutable_archive_pages(tmp_path: Path) -> None:
    config = make_config(output_dir=tmp_path, max_entries=3, archive_size=2, hubs=())
    store = FakeStore(_numbered(3))
    publish_with(config, store, only=["all"])
    assert not (tmp_path / "archive").exists()
    assert _links(tmp_path / "all.atom", "prev-archive") == []

    store.stories = _numbered(4)  # s000 drops out of the live feed
    publish_with(config, store, only=["all"])
    page1 = tmp_path / "archive/all/1.atom"
    assert _ids(page1) == ["urn:uuid:s000"]
    assert _links(tmp_path / "all.atom", "prev-archive") == ["https://feeds.example/archive/all/1.atom"]

    store.stories = _numbered(7)  # s001..s003 drop out: page 1 fills, page 2 opens
    written = publish_with(config, store, only=["all"])
    assert _ids(page1) == ["urn:uuid:s001", "urn:uuid:s000"]
    assert _ids(tmp_path / "archive/all/2.atom") == ["urn:uuid:s003", "urn:uuid:s002"]
    assert _ids(tmp_path / "all.atom") == ["urn:uuid:s006", "urn:uuid:s005", "urn:uuid:s004"]
    assert "archive/all/1.atom" in _names(written, tmp_path)
    full_page = page1.read_bytes()
    mtime = page1.stat().st_mtime_ns

    store.stories = _numbered(9)  # s004, s005 drop out: page 2 is full already, page 3 opens; page 1 untouched
    written = publish_with(config, store, only=["all"])
    assert _names(written, tmp_path) == ["all.atom", "all.json", "archive/all/3.atom", "index.html"]
    assert page1.read_bytes() == full_page and page1.stat().st_mtime_ns == mtime
    page3 = tmp_path / "archive/all/3.atom"
    root = etree.parse(str(page3)).getroot()
    assert root.find("fh:archive", NS) is not None
    assert _links(page3, "current") == ["https://feeds.example/all.atom"]
    assert _links(page3, "prev-archive") == ["https://feeds.example/archive/all/2.atom"]
    assert _links(page1, "prev-archive") == []
    assert _links(page3, "self") == ["https://feeds.example/archive/all/3.atom"]
    assert json.loads((tmp_path / "all.json").read_bytes())["_aggregator"]["archived"] == 6
    # every story is in exactly one place: live feed or one archive page
    seen = _ids(tmp_path / "all.atom") + [i for n in (1, 2, 3) for i in _ids(tmp_path / f"archive/all/{n}.atom")]
    assert sorted(seen) == [f"urn:uuid:s{i:03d}" for i in range(9)]


def test_archive_run_reads_only_live_feed_and_newest_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost of a run does not grow with history: older full pages are never opened."""
    from aggregator.publish import archive

    config = make_config(output_dir=tmp_path, max_entries=2, archive_size=2, hubs=())
    store = FakeStore([])
    for n in range(2, 14):
        store.stories = _numbered(n)
        publish_with(config, store, only=["all"])
    assert sorted(p.name for p in (tmp_path / "archive/all").iterdir()) == [f"{n}.atom" for n in range(1, 7)]
    opened: list[str] = []
    real = archive.read_document

    def spy(path: Path) -> etree._Element | None:
        opened.append(path.relative_to(tmp_path).as_posix())
        return real(path)

    monkeypatch.setattr(archive, "read_document", spy)
    store.stories = _numbered(15)
    publish_with(config, store, only=["all"])
    assert opened == ["all.atom", "archive/all/6.atom"]


def test_clean_feeds_but_changed_health_rewrite_only_the_index(tmp_path: Path) -> None:
    from tests.publish.samples import sample_states

    config = make_config(output_dir=tmp_path)
    store = FakeStore(sample_stories())
    publish_with(config, store)
    store.states = sample_states()
    assert _names(publish_with(config, store), tmp_path) == ["index.html"]
    assert store.queries[3:] == []  # still no story query
    assert "HTTP 503 &lt;Service Unavailable&gt;" in (tmp_path / "index.html").read_text()
    assert publish_with(config, store) == []
