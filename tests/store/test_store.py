"""The store, on SQLite and on a real PostgreSQL server: exact dedupe, stories, state, crash safety."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.errors import StoreError
from aggregator.records import Article, Settings, SourceState, Validators
from aggregator.store import IngestResult, SqlStore, open_store
from aggregator.store.base import IngestItem

NOW = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)

WORDS = [
    "sensor", "gateway", "cloud", "factory", "battery", "drone", "robot", "wafer", "lidar", "camera",
    "modem", "antenna", "solar", "turbine", "vaccine", "genome", "tractor", "harvester", "crane", "forklift",
    "scanner", "printer", "laser", "valve", "pump", "motor", "inverter", "charger", "router", "switch",
    "server", "rack", "cable", "fibre", "satellite", "rocket", "glider", "yacht", "bicycle", "scooter",
]


def body(n: int) -> str:
    """A text of its own for each n: different stories must not look alike to the near-dupe finder."""
    import random as _random

    rng = _random.Random(n)
    return " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(60))



def make_article(n: int, source: str = "a", *, title: str | None = None, text: str | None = None,
                 url: str | None = None, topics: tuple[str, ...] = ("iot",), hours: int = 0) -> Article:
    text = text if text is not None else body(n)
    published = NOW - timedelta(hours=n + hours)
    return Article(
        uid=f"{source}-{n}", source_id=source, guid=f"guid-{n}", url=url or f"https://{source}.example/{n}",
        title=title or f"Story number {n}", published=published, updated=published,
        date_source="rss:pubDate", author=None, language="en", summary_html=f"<p>{text[:40]}</p>",
        content_html=f"<p>{text}</p>", text=text, text_hash=hashlib.sha256(text.encode()).hexdigest(),
        topics=topics,
    )


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state' / 'test.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    s = open_store(url, Settings())
    yield s
    s.close()


def test_new_records_become_stories_in_their_topic_feeds(store: SqlStore) -> None:
    result = store.ingest("a", [make_article(1), make_article(2, topics=("ai",))], NOW)
    assert (result.new, result.updated) == (2, 0)
    assert result.feeds_touched == {"iot", "ai", "all"}
    iot = store.stories_for_feed("iot", 10)
    assert [v.primary.title for v in iot] == ["Story number 1"]
    everything = store.stories_for_feed(None, 10)
    assert [v.primary.title for v in everything] == ["Story number 1", "Story number 2"]  # newest first
    assert everything[0].story_id.startswith("urn:uuid:")
    assert store.dirty_feeds() == {"iot", "ai", "all"}


def test_same_entry_again_is_one_record_and_touches_nothing(store: SqlStore) -> None:
    store.ingest("a", [make_article(1)], NOW)
    store.mark_feeds_clean(store.dirty_feeds())
    again = store.ingest("a", [make_article(1)], NOW + timedelta(hours=1))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)
    assert store.dirty_feeds() == set()
    assert store.article_count() == 1


def test_changed_title_updates_the_record_and_keeps_the_story_id(store: SqlStore) -> None:
    store.ingest("a", [make_article(1)], NOW)
    first = store.stories_for_feed("iot", 1)[0]
    result = store.ingest("a", [make_article(1, title="Story number 1 (corrected)")], NOW + timedelta(hours=1))
    assert (result.new, result.updated) == (0, 1)
    after = store.stories_for_feed("iot", 1)[0]
    assert after.story_id == first.story_id
    assert after.primary.title == "Story number 1 (corrected)"
    assert store.article_count() == 1


def test_same_canonical_url_or_text_from_another_source_is_not_a_second_record(store: SqlStore) -> None:
    store.ingest("feed", [make_article(1, "feed", url="https://fair.example/news/1")], NOW)
    by_url = store.ingest("site", [make_article(1, "site", url="https://fair.example/news/1", text="other")], NOW)
    by_text = store.ingest("mirror", [make_article(1, "mirror")], NOW)
    assert by_url.new == 0 and by_text.new == 0
    assert store.article_count() == 1


def test_copies_within_one_write_batch_are_found_as_the_database_would_find_them(store: SqlStore) -> None:
    """A batch looks its records up at once; what an earlier source of the batch inserts or updates must still
    be found by the later ones."""
    store.ingest("old", [make_article(5, "old", text="the old text of a fair story")], NOW)
    first = store.ingest_many([
        IngestItem("feed", [make_article(1, "feed", url="https://fair.example/news/1")]),
        IngestItem("site", [make_article(1, "site", url="https://fair.example/news/1", text="other")]),
        IngestItem("mirror", [make_article(1, "mirror")]),
    ], NOW)
    assert [r.new for r in first if not isinstance(r, Exception)] == [1, 0, 0]
    # "old" rewrites its record's text; a copy of the new text in the same batch is that record, and a copy
    # of the old text is not any more (it is a record of its own)
    second = store.ingest_many([
        IngestItem("old", [make_article(5, "old", text="the new text of that story")]),
        IngestItem("copy-new", [make_article(2, "copy-new", text="the new text of that story")]),
        IngestItem("copy-old", [make_article(3, "copy-old", text="the old text of a fair story")]),
    ], NOW)
    assert [(r.new, r.updated) for r in second if not isinstance(r, Exception)] == [(0, 1), (0, 0), (1, 0)]
    assert store.article_count() == 3


def test_near_duplicate_from_another_source_joins_the_story(store: SqlStore) -> None:
    store.ingest("a", [make_article(7)], NOW)
    copy_text = "SHENZHEN, June 3 (Wire) -- " + body(7) + " Reporting by the wire desk."
    store.ingest("b", [make_article(7, "b", title="Fair opens with record crowd", text=copy_text, hours=-2)], NOW)
    stories = store.stories_for_feed("iot", 10)
    assert len(stories) == 1
    assert {m.source_id for m in stories[0].members} == {"a", "b"}
    assert stories[0].primary.source_id == "a"  # the earliest published copy


def test_a_joining_copy_adds_its_topics_and_an_earlier_copy_moves_the_story_in_its_feeds(store: SqlStore) -> None:
    """The story's topic rows follow its members: a copy with another topic puts the story in that feed too,
    and a copy published earlier (the new primary) moves it to that date in every feed it is in."""
    copy_text = "SHENZHEN, June 3 (Wire) -- " + body(7) + " Reporting by the wire desk."
    store.ingest("a", [make_article(7)], NOW)
    store.ingest("older", [make_article(50, "older", title="Older story", topics=("iot",))], NOW)
    store.ingest("b", [make_article(7, "b", title="Wire copy", text=copy_text, topics=("ai",), hours=-2)], NOW)
    (ai,) = store.stories_for_feed("ai", 10)
    iot = store.stories_for_feed("iot", 10)
    assert iot[0].story_id == ai.story_id and ai.primary.source_id == "a"  # the newer of the two
    store.ingest("c", [make_article(7, "c", title="Early copy", text=copy_text + " Extra.", topics=(), hours=60)], NOW)
    (ai,) = store.stories_for_feed("ai", 10)
    assert ai.primary.source_id == "c" and {m.source_id for m in ai.members} == {"a", "b", "c"}
    iot = store.stories_for_feed("iot", 10)
    assert [v.story_id for v in iot] == [iot[0].story_id, ai.story_id]  # now dated before the older story
    assert iot[0].primary.title == "Older story"


def test_different_stories_stay_apart(store: SqlStore) -> None:
    store.ingest("a", [make_article(1)], NOW)
    other = ("A robotics company from Munich won the innovation award for a gripper that learns new parts "
             "from a single demonstration, the jury said on Tuesday evening at the closing ceremony.")
    store.ingest("b", [make_article(2, "b", text=other)], NOW)
    assert len(store.stories_for_feed(None, 10)) == 2


def test_state_round_trips(store: SqlStore) -> None:
    state = SourceState(source_id="a", url="https://moved.example/feed", validators=Validators('"e1"', "Mon"),
                        last_attempt=NOW, last_success=NOW, last_status="ok", http_status=200,
                        consecutive_failures=0, next_due=NOW + timedelta(hours=1), interval=3600, items_seen=5)
    store.save_source_state(state)
    assert store.source_state("a") == state
    assert store.source_states() == {"a": state}
    assert store.source_state("unknown") == SourceState(source_id="unknown")


def test_records_and_state_commit_together(store: SqlStore) -> None:
    state = SourceState(source_id="a", last_status="ok", validators=Validators('"v2"'))
    store.ingest("a", [make_article(1)], NOW, state)
    assert store.source_state("a").new_entries == 1
    assert store.source_state("a").validators.etag == '"v2"'


def test_a_failure_mid_ingest_leaves_nothing_half_written(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.ingest("a", [make_article(1)], NOW)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(store, "_write_new_stories", boom)  # after the records, before the stories
    with pytest.raises(RuntimeError):
        store.ingest("a", [make_article(2), make_article(3)], NOW, SourceState(source_id="a", last_status="ok"))
    monkeypatch.undo()
    assert store.article_count() == 1
    assert store.source_state("a").last_status is None
    assert store.ingest("a", [make_article(2), make_article(3)], NOW).new == 2  # a re-run finishes the job


def test_a_batch_keeps_every_source_but_the_one_that_fails(store: SqlStore,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    real = store._ingest

    def fails_for_b(source_id: str, *args: Any, **kwargs: Any) -> Any:
        if source_id == "b":
            raise RuntimeError("disk full for b")
        return real(source_id, *args, **kwargs)

    monkeypatch.setattr(store, "_ingest", fails_for_b)
    items = [
        IngestItem("a", [make_article(1, source="a")], SourceState(source_id="a", last_status="ok")),
        IngestItem("b", [make_article(2, source="b")], SourceState(source_id="b", last_status="ok")),
        IngestItem("c", (), SourceState(source_id="c", last_status="not-modified")),
    ]
    results = store.ingest_many(items, NOW)
    assert isinstance(results[1], RuntimeError) and "disk full for b" in str(results[1])
    assert [r.new for r in results if isinstance(r, IngestResult)] == [1, 0]
    assert {a.source_id for a in store.iter_articles()} == {"a"}
    assert store.source_state("a").last_status == "ok" and store.source_state("c").last_status == "not-modified"
    assert store.source_state("b").last_status is None  # b's state is not half written either


def test_known_urls(store: SqlStore) -> None:
    store.ingest("a", [make_article(1), make_article(2)], NOW)
    assert store.known_urls(["https://a.example/1", "https://a.example/9"]) == {"https://a.example/1"}


def test_export_iterates_every_record_with_its_story(store: SqlStore) -> None:
    store.ingest("a", [make_article(i) for i in range(5)], NOW)
    articles = list(store.iter_articles())
    assert len(articles) == 5 and all(a.story_id for a in articles)
    assert len(list(store.iter_stories())) == 5


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    open_store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer"):
        open_store(f"sqlite:///{path}")


def test_the_wal_is_checkpointed_every_40_mb_whatever_the_page_size(tmp_path: Path) -> None:
    new = tmp_path / "new.db"
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:  # a database made with bigger pages keeps them
        conn.execute("PRAGMA page_size=16384")
        conn.execute("CREATE TABLE t (x)")
    fresh, reopened = open_store(f"sqlite:///{new}"), open_store(f"sqlite:///{old}")
    assert fresh._conn.execute("PRAGMA page_size").fetchone() == (4096,)
    assert fresh._conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (10240,)
    assert reopened._conn.execute("PRAGMA page_size").fetchone() == (16384,)
    assert reopened._conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (2560,)
    assert reopened._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() is not None
    fresh.close()
    reopened.close()


def test_unknown_database_url_is_explained() -> None:
    with pytest.raises(StoreError, match="sqlite:///"):
        open_store("mysql://nope")


def test_plain_text_is_derived_from_the_html_not_stored(store: SqlStore) -> None:
    """The text of a record is the text of its HTML: stored once (as HTML), read back the same."""
    from aggregator.normalise.html import html_to_text

    html = "<p>Hall 3 opens:</p><ul><li>robots &amp; drones</li><li>5G</li></ul><p>Visitors: 10,000.</p>"
    article = replace(make_article(1), content_html=html, summary_html="", text=html_to_text(html))
    store.ingest("a", [article], NOW)
    (back,) = list(store.iter_articles())
    assert back.text == article.text == "Hall 3 opens: robots & drones 5G Visitors: 10,000."
    (stored,) = store._exec("SELECT text FROM articles").fetchone()
    assert stored == ""
    store._exec("UPDATE articles SET text = ?", ("text kept by an older version",))  # rows stored before
    store._conn.commit()
    (old,) = list(store.iter_articles())
    assert old.text == "text kept by an older version"


def _band_row_count(db: sqlite3.Connection) -> int:
    """LSH rows in a SQLite database: in `band_blocks`, 24 bytes a row."""
    return int(db.execute("SELECT COALESCE(SUM(LENGTH(rows)), 0) / 24 FROM band_blocks").fetchone()[0])


def _copy_of(n: int, source: str) -> Article:
    copy_text = "SHENZHEN, June 3 (Wire) -- " + body(n) + " Reporting by the wire desk."
    return make_article(n, source, title="Fair opens with record crowd", text=copy_text, hours=-2)


def test_a_copy_in_a_later_run_finds_the_story_through_the_merged_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    first = open_store(url, Settings())
    first.ingest("a", [make_article(7)], NOW)
    first.close()  # the run's rows go into `bands`
    with sqlite3.connect(tmp_path / "a.db") as db:
        assert db.execute("SELECT COUNT(*) FROM pending_bands").fetchone() == (0,)
        assert _band_row_count(db) > 0
    second = open_store(url, Settings())
    second.ingest("b", [_copy_of(7, "b")], NOW)
    (story,) = second.stories_for_feed(None, 10)
    assert {m.source_id for m in story.members} == {"a", "b"}
    second.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_copy_finds_its_original_in_the_index_period_before_its_own(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from aggregator.store.schema import BAND_PERIOD

    def at(ts: int, article: Article) -> Article:
        when = datetime.fromtimestamp(ts, UTC)
        return replace(article, published=when, updated=when)

    boundary = (int(NOW.timestamp()) // BAND_PERIOD + 1) * BAND_PERIOD  # where the next period starts
    url = (f"sqlite:///{tmp_path / 'a.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url"))
    first = open_store(url, Settings())
    first.ingest("a", [at(boundary - 3600, make_article(7))], NOW)
    first.close()  # SQLite: into `bands`, so the copy is looked up there, not in this run's memory
    second = open_store(url, Settings())
    second.ingest("b", [at(boundary + 10 * 86400, _copy_of(7, "b"))], NOW)  # 10 days later, next period
    (story,) = second.stories_for_feed(None, 10)
    assert [m.source_id for m in story.members] == ["a", "b"]
    second.ingest("c", [at(-BAND_PERIOD - 3600, make_article(9, "c"))], NOW)  # 1969: periods floor, as in Python
    second.merge_pending_bands()
    rows = [(period, published) for period, _, published, _ in second.band_rows()]
    second.close()
    assert all(period == published // BAND_PERIOD for period, published in rows)
    # the copy's own rows went into its period
    assert {p for p, _ in rows} == {boundary // BAND_PERIOD - 1, boundary // BAND_PERIOD, -2}


def test_a_killed_run_leaves_its_rows_pending_and_the_next_writer_indexes_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    killed = open_store(url, Settings())
    killed.ingest("a", [make_article(7), make_article(8)], NOW)  # committed, never merged: as if killed here
    with sqlite3.connect(tmp_path / "a.db") as db:
        assert db.execute("SELECT COUNT(*) FROM pending_bands").fetchone() == (1,)  # a blob per transaction
        assert _band_row_count(db) == 0
    reader = open_store(url, Settings())  # serve, status, export: they read, and write nothing
    assert reader.article_count() == 2
    reader.close()
    with sqlite3.connect(tmp_path / "a.db") as db:
        assert db.execute("SELECT COUNT(*) FROM pending_bands").fetchone() == (1,)
    restarted = open_store(url, Settings())
    restarted.ingest("b", [_copy_of(8, "b")], NOW)  # indexes the killed run's rows first, then finds the copy
    with sqlite3.connect(tmp_path / "a.db") as db:
        assert db.execute("SELECT COUNT(*) FROM pending_bands").fetchone() == (1,)  # this run's, until its end
        assert _band_row_count(db) > 0  # the killed run's
    stories = restarted.stories_for_feed(None, 10)
    assert sorted(len(s.members) for s in stories) == [1, 2]
    restarted.close()


def test_a_rolled_back_record_is_never_a_candidate(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(store, "_write_new_stories", boom)
    with pytest.raises(RuntimeError):
        store.ingest("a", [make_article(2)], NOW)
    monkeypatch.undo()
    store.ingest("b", [_copy_of(2, "b")], NOW)  # its original was rolled back: it starts a story of its own
    (story,) = store.stories_for_feed(None, 10)
    assert [m.source_id for m in story.members] == ["b"]


def test_rows_past_the_memory_cap_are_merged_mid_run_and_copies_still_found(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import aggregator.store.sql as sql

    monkeypatch.setattr(sql, "_RECENT_BANDS", 10)  # a record has up to 20 band rows: every batch goes over
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}", Settings())
    store.ingest("a", [make_article(7)], NOW)
    with sqlite3.connect(tmp_path / "a.db") as db:
        assert db.execute("SELECT COUNT(*) FROM pending_bands").fetchone() == (0,)
        assert _band_row_count(db) > 0
    store.ingest("b", [_copy_of(7, "b")], NOW)  # found through `bands`, the memory having been emptied
    (story,) = store.stories_for_feed(None, 10)
    assert {m.source_id for m in story.members} == {"a", "b"}
    store.close()


@pytest.mark.parametrize("together", [True, False], ids=["same-feed", "later-feed"])
def test_a_copy_adds_index_rows_only_in_the_bands_where_it_differs(store: SqlStore, together: bool) -> None:
    from aggregator import dedupe

    original = make_article(7)
    copy = replace(_copy_of(7, "a"), uid="a-copy", guid="guid-copy", url="https://a.example/c")
    signatures = [dedupe.make_signature(a.title, a.text, a.language) for a in (original, copy)]
    keys = [set(dedupe.band_keys(sig)) for sig in signatures if sig is not None]
    assert keys[0] & keys[1] and keys[1] - keys[0]  # the copy shares some bands and not others
    if together:  # decided one after the other, within the batch
        store.ingest("a", [original, copy], NOW)
    else:  # the original found in the index
        store.ingest("a", [original], NOW)
        store.ingest("a", [copy], NOW)
    (story,) = store.stories_for_feed(None, 10)
    assert len(story.members) == 2
    store.merge_pending_bands()
    assert len(store.band_rows()) == len(keys[0]) + len(keys[1] - keys[0])


def test_rows_merged_during_a_run_stay_findable_and_count_once(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    import aggregator.store.sql as sql
    from aggregator import dedupe

    monkeypatch.setattr(sql, "_MERGE_EVERY", 10)  # every batch is merged into `bands` as soon as it commits
    url = f"sqlite:///{tmp_path / 'a.db'}"
    for run, n in enumerate((7, 8)):  # the first run starts on an empty index, the second on a filled one
        store = open_store(url, Settings())
        store.ingest("a", [make_article(n)], NOW)
        with sqlite3.connect(tmp_path / "a.db") as db:
            assert db.execute("SELECT COUNT(*) FROM pending_bands").fetchone() == (0,)
        sig = dedupe.make_signature("", body(n), "en")
        assert sig is not None
        keys = np.unique(np.array(dedupe.band_keys(sig), dtype=np.int64))
        found, _ = store._candidates(keys, 0, 2**40)
        assert found.sizes.tolist() == [1] * len(keys), f"run {run}: a merged row counted twice"
        store.ingest("b", [_copy_of(n, "b")], NOW)
        assert sorted(len(s.members) for s in store.stories_for_feed(None, 10))[-1] == 2
        store.close()


def test_rows_another_process_writes_mid_run_are_looked_up_in_the_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    mine = open_store(url, Settings())
    mine.ingest("a", [make_article(1)], NOW)  # an empty index: look-ups need only this store's memory
    other = open_store(url, Settings())
    other.ingest("c", [make_article(2, "c")], NOW)
    other.close()  # its rows are now in `bands`, which `mine` has not seen
    mine.ingest("b", [_copy_of(2, "b")], NOW)
    stories = mine.stories_for_feed(None, 10)
    assert {m.source_id for s in stories if len(s.members) == 2 for m in s.members} == {"b", "c"}
    mine.close()


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_story_ids_are_the_uuid5_of_the_first_record(uid: str) -> None:
    import uuid

    from aggregator.store.sql import mint_story_id

    assert mint_story_id(uid) == f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'aggregator:story:' + uid)}"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
       st.integers(min_value=788_918_400, max_value=4_102_444_800))  # 1995 to 2100
def test_a_dated_story_id_is_a_uuid7_of_its_date_and_later_ones_sort_after_it(uid: str, published: int) -> None:
    import uuid

    from aggregator.store.sql import mint_story_id

    story = mint_story_id(uid, published)
    parsed = uuid.UUID(story.removeprefix("urn:uuid:"))
    assert story.startswith("urn:uuid:") and parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert parsed.int >> 80 == published * 1000  # its time: the record's date, in milliseconds
    assert mint_story_id(uid, published) == story  # a rebuilt database mints it again
    assert mint_story_id(uid + "x", published + 1) > story  # the index takes a newer story at its end


def test_new_stories_get_time_ordered_ids_unless_their_date_was_only_first_seen(store: SqlStore) -> None:
    import uuid

    dated = make_article(1)
    undated = replace(make_article(2), date_source="first-seen")
    store.ingest("a", [dated, undated], NOW)
    versions = {v.primary.uid: uuid.UUID(v.story_id.removeprefix("urn:uuid:")).version
                for v in store.stories_for_feed(None, 10)}
    assert versions == {dated.uid: 7, undated.uid: 5}  # a first-seen date would differ in a rebuild


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
       st.integers(min_value=0, max_value=4_000_000_000))  # 1970 to 2096 (after 2097, the hash alone)
def test_a_dated_ref_puts_the_minute_first_and_fits_an_int64(uid: str, published: int) -> None:
    from aggregator.store.sql import ref_of

    ref = ref_of(uid, published)
    assert 0 <= ref < 2**63  # a BIGINT in both databases
    assert ref >> 37 == published // 60 and ref & (2**37 - 1) == ref_of(uid) & (2**37 - 1)
    assert ref_of(uid + "x", published + 60) > ref  # the signatures' key takes a later record at its end
    assert ref_of(uid, -1) == ref_of(uid, 2**40) == ref_of(uid)  # no usable date: the hash alone, as before
