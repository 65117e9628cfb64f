"""A database written by an older version opens, migrates in place and keeps deduplicating against its records."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aggregator import dedupe
from aggregator.records import Settings
from aggregator.store import open_store
from aggregator.store.schema import BAND_PERIOD, LATEST, MIGRATIONS
from aggregator.store.sql import mint_story_id
from tests.store.test_store import NOW, body, make_article


def _version_1_database(path: Path) -> None:
    """What session 1's code wrote: LSH rows and signatures inside `articles`."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for statement in dict(MIGRATIONS)[1]:
        conn.execute(statement.replace("{blob}", "BLOB"))
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    old = make_article(7, "a")
    sig = dedupe.make_signature(old.title, old.text, old.language)
    assert sig is not None
    story = mint_story_id(old.uid)
    published = int(old.published.timestamp())
    conn.execute(
        f"INSERT INTO articles VALUES ({','.join('?' * 20)})",
        (old.uid, "a", old.guid, old.url, old.title, published, published, old.date_source, None, "en",
         old.summary_html, old.content_html, old.text, old.text_hash, "iot", story, 0, published, published,
         sig.to_bytes()),
    )
    conn.execute("INSERT INTO stories VALUES (?, ?, ?, ?, ?, ?)", (story, old.uid, published, published, "iot",
                                                                   published))
    conn.execute("INSERT INTO story_topics VALUES ('iot', ?, ?)", (story, published))
    conn.executemany("INSERT INTO lsh VALUES (?, ?, ?, ?)",
                     [(k, published, old.uid, story) for k in dedupe.band_keys(sig)])
    conn.commit()
    conn.close()


def test_an_old_database_migrates_and_its_records_still_catch_copies(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    _version_1_database(db)
    store = open_store(f"sqlite:///{db}", Settings())
    try:
        assert store.article_count() == 1  # nothing lost
        copy_text = "SHENZHEN, June 3 (Wire) -- " + body(7) + " Reporting by the wire desk."
        store.ingest("b", [make_article(7, "b", title="Fair opens", text=copy_text, hours=-2)], NOW)
        (story,) = list(store.iter_stories())
        assert story.story_id == mint_story_id("a-7")
        assert [m.source_id for m in story.members] == ["a", "b"]
    finally:
        store.close()
    conn = sqlite3.connect(db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    columns = {r[1] for r in conn.execute("PRAGMA table_info(articles)")}
    version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    conn.close()
    assert "lsh" not in tables and {"signatures", "bands"} <= tables
    assert "signature" not in columns
    assert int(version) == LATEST


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_lsh_rows_move_into_the_index_by_period_with_their_dates_floored(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Migration 6: `bands` gains its period column, computed in SQL as Python's floor division would."""
    dates = [-BAND_PERIOD - 1, -BAND_PERIOD, -1, 0, 1, BAND_PERIOD - 1, BAND_PERIOD, 1_717_405_200]
    rows = [(11 * i, d, i) for i, d in enumerate(dates)]
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'v5.db'}"
        conn: Any = sqlite3.connect(tmp_path / "v5.db")
        blob, without_rowid, mark = "BLOB", " WITHOUT ROWID", "?"
    else:
        import psycopg

        url = request.getfixturevalue("postgres_url")
        conn = psycopg.connect(url)
        blob, without_rowid, mark = "BYTEA", "", "%s"
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for number, statements in MIGRATIONS:
        if number > 5:
            break
        for statement in statements:
            if not statement.startswith("python:"):  # a data step, with no data to move here
                conn.execute(statement.replace("{blob}", blob).replace("{without_rowid}", without_rowid))
    conn.execute("INSERT INTO meta VALUES ('schema_version', '5')")
    conn.cursor().executemany(f"INSERT INTO bands VALUES ({mark}, {mark}, {mark})", rows)
    conn.commit()
    conn.close()
    store = open_store(url, Settings())
    migrated = sorted(store.band_rows(), key=lambda row: row[3])
    (left_in_bands,) = store._exec("SELECT COUNT(*) FROM bands").fetchone()
    store._conn.commit()
    store.close()
    assert migrated == [(d // BAND_PERIOD, k, d, i) for k, d, i in rows]
    assert left_in_bands == (0 if backend == "sqlite" else len(rows))  # SQLite: in `band_blocks` (migration 8)


def _keys_of_32_bands(sig: dedupe.Signature) -> list[int]:
    """The band keys a record had while it had 32 bands (the first 20 are today's)."""
    from aggregator.dedupe.shingles import mix64

    bins = sig.hashes.astype(np.uint64)
    words = bins[0:64:2] | (bins[1:64:2] << np.uint64(16)) | (np.arange(32, dtype=np.uint64) << np.uint64(48))
    keys: list[int] = (mix64(words) >> np.uint64(1)).view(np.int64).tolist()
    return keys


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_rows_of_bands_no_longer_probed_are_dropped_and_copies_are_still_caught(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Migration 7: a database written while a record had 32 LSH bands keeps only the rows of the 20 probed
    now, in `bands` and in the rows a killed run left in `pending_bands`; keys it cannot read are kept."""
    url = f"sqlite:///{tmp_path / 'v6.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    old = make_article(7, "a")
    sig = dedupe.make_signature(old.title, old.text, old.language)
    assert sig is not None
    store = open_store(url, Settings())
    store.ingest("a", [old], NOW)
    store.close()
    keys = _keys_of_32_bands(sig)
    assert keys[: dedupe.BANDS] == dedupe.band_keys(sig)
    store = open_store(url, Settings())
    ((period, published, ref),) = {(p, d, r) for p, _, d, r in store.band_rows()}
    store._exec("DELETE FROM band_blocks")  # as schema 6 kept them, all in `bands` (SQLite's move back there)
    store._exec("DELETE FROM bands")
    store._many("INSERT INTO bands (period, band_key, published, ref) VALUES (?, ?, ?, ?)",
                [(period, k, published, ref) for k in [*keys, 11]])
    pending = np.array([(k, published, 99) for k in keys], dtype="<i8")
    store._exec("INSERT INTO pending_bands (rows) VALUES (?)", (pending.tobytes(),))
    store._exec("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    store._conn.commit()
    store._conn.close()

    store = open_store(url, Settings())  # migrates
    try:
        left = {k for _, k, _, _ in store.band_rows()}
        (blob,) = store._exec("SELECT rows FROM pending_bands").fetchone()
        store._conn.commit()
        assert left == {*keys[: dedupe.BANDS], 11}
        assert [int(k) for k in np.frombuffer(bytes(blob), dtype="<i8")[0::3]] == keys[: dedupe.BANDS]
        copy_text = "SHENZHEN, June 3 (Wire) -- " + body(7) + " Reporting by the wire desk."
        store.ingest("b", [make_article(7, "b", title="Fair opens", text=copy_text, hours=-2)], NOW)
        (story,) = list(store.iter_stories())
        assert [m.source_id for m in story.members] == ["a", "b"]
    finally:
        store.close()
