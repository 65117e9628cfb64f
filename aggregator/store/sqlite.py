"""Embedded SQLite backend: WAL, one file, nothing to install."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aggregator.errors import StoreError
from aggregator.records import Settings
from aggregator.store.sql import SqlStore

PAGE_SIZE = 4096
WAL_CHECKPOINT_BYTES = 40 << 20


class SqliteDialect:
    name = "sqlite"
    blob = "BLOB"
    without_rowid = " WITHOUT ROWID"

    def sql(self, statement: str) -> str:
        return statement


def open_sqlite(path: str, settings: Settings | None = None) -> SqlStore:
    """Open (creating folders and schema as needed) the database file at `path`."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level="DEFERRED")
        # 4 KB pages, said out loud. 16 KB pages (a record's ~3 KB of HTML overflows a 4 KB page) stored a first
        # poll with ~7% less CPU (-2% wall), but at a million stored records an ingest cost 15-30% more per
        # record (bench/dedupe_scale.py, fresh loads: 321-370 against 273-283 us; the random look-ups read four
        # times the bytes a page). Only settable before the first table and WAL: a database keeps its own.
        conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        # checkpoint every ~40 MB of WAL (whatever the page size), not every 4 MB: a page written by several
        # commits in between is copied into the database once (bench/dedupe_scale.py at 200k stored: commits
        # -29%, 1.67x -> 1.53x)
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_BYTES // page_size}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA cache_size=-32768")  # 32 MB: the index pages a first poll touches stay in memory
        # temp files stay files while migrating: a migration that copies a table keeps a statement journal as
        # big as the copy (1 GB of memory for the LSH rows of a million records)
        store = SqlStore(conn, SqliteDialect(), settings)
        conn.execute("PRAGMA temp_store=MEMORY")
        return store
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open SQLite database {path}: {exc}: check settings.database") from exc
