"""Storage: `open_store(url)` picks the backend from the database URL in sources.yaml."""

from __future__ import annotations

from aggregator.errors import StoreError
from aggregator.records import Settings
from aggregator.store.base import IngestResult, Store
from aggregator.store.sql import SqlStore

__all__ = ["IngestResult", "SqlStore", "Store", "open_store"]


def open_store(url: str, settings: Settings | None = None) -> SqlStore:
    """`sqlite:///relative/or/absolute.db`, `sqlite:///:memory:` or `postgresql://user:pw@host/db`."""
    if url.startswith("sqlite:///"):
        from aggregator.store.sqlite import open_sqlite

        return open_sqlite(url[len("sqlite:///") :], settings)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from aggregator.store.postgres import open_postgres

        return open_postgres(url, settings)
    raise StoreError(f"unsupported database URL {url!r}: use sqlite:///path.db or postgresql://user@host/db")
