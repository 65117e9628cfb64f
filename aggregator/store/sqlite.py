"""Embedded SQLite backend: WAL, one file, nothing to install."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

from aggregator.errors import StoreError
from aggregator.records import Settings
from aggregator.store.sql import SqlStore


class SqliteDialect:
    name = "sqlite"
    blob = "BLOB"
    join_refs = "group_concat(ref)"
    without_rowid = " WITHOUT ROWID"

    def sql(self, statement: str) -> str:
        return statement


CHECKPOINT_EVERY = 0.5  # seconds between checkpoints of the write-ahead log


class _Checkpointer:
    """Copies the write-ahead log into the database file from a thread of its own.

    SQLite does it by default inside the COMMIT that crosses 1000 pages of log, on the thread that writes:
    on a first poll that was a tenth of the storing thread's time, the slowest part of the run. SQLite
    releases the GIL while it checkpoints, so here it runs beside the writer, on the other core.
    """

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(CHECKPOINT_EVERY):
            self._checkpoint()

    def _checkpoint(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # busy or locked: the next round does it
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._checkpoint()  # leave no long log behind (the writer has closed by now)
        self._conn.close()


class SqliteStore(SqlStore):
    """SqlStore over a SQLite file, with its log checkpointed in the background."""

    def __init__(self, conn: sqlite3.Connection, path: str, settings: Settings | None) -> None:
        super().__init__(conn, SqliteDialect(), settings)
        self._checkpointer: _Checkpointer | None = None
        if path != ":memory:":
            conn.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = _Checkpointer(path)

    def close(self) -> None:
        super().close()
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None


def open_sqlite(path: str, settings: Settings | None = None) -> SqlStore:
    """Open (creating folders and schema as needed) the database file at `path`."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level="DEFERRED")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA cache_size=-32768")  # 32 MB: the index pages a first poll touches stay in memory
        conn.execute("PRAGMA temp_store=MEMORY")
        return SqliteStore(conn, path, settings)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open SQLite database {path}: {exc}: check settings.database") from exc
