"""The SQLite log is copied into the database file by a thread of its own, not by the writer's COMMIT."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from aggregator.records import Settings
from aggregator.store import open_store
from aggregator.store.sqlite import CHECKPOINT_EVERY
from tests.store.test_store import NOW, make_article


def _rows_in_database_file(db: Path, tmp: Path) -> int:
    """Articles in the database file alone, without its log: a copy of the file, opened where no log is."""
    import shutil

    copy = tmp / "copy" / "alone.db"
    copy.parent.mkdir(exist_ok=True)
    shutil.copyfile(db, copy)
    with sqlite3.connect(copy) as conn:
        try:
            return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        except sqlite3.OperationalError:  # not even the schema has been copied over yet
            return 0


def test_the_writer_does_not_checkpoint_and_the_background_thread_does(tmp_path: Path) -> None:
    db = tmp_path / "agg.db"
    store = open_store(f"sqlite:///{db}", Settings())
    (autocheckpoint,) = store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()
    assert autocheckpoint == 0  # the COMMIT never copies the log itself
    store.ingest("a", [make_article(n) for n in range(300)], NOW)
    deadline = time.monotonic() + 20 * CHECKPOINT_EVERY
    while _rows_in_database_file(db, tmp_path) < 300 and time.monotonic() < deadline:
        time.sleep(CHECKPOINT_EVERY / 2)
    assert _rows_in_database_file(db, tmp_path) == 300, "the log was not copied into the database file"
    store.close()
    assert not db.with_name("agg.db-wal").exists() or _rows_in_database_file(db, tmp_path) == 300


def test_closing_the_store_stops_its_thread(tmp_path: Path) -> None:
    import threading

    before = {t for t in threading.enumerate() if t.name == "sqlite-checkpoint"}
    store = open_store(f"sqlite:///{tmp_path / 'agg.db'}", Settings())
    assert {t for t in threading.enumerate() if t.name == "sqlite-checkpoint"} - before
    store.close()
    assert not {t for t in threading.enumerate() if t.name == "sqlite-checkpoint"} - before
