"""PostgreSQL backend: the same schema and SQL, for several workers on several machines."""

from __future__ import annotations

from aggregator.errors import StoreError
from aggregator.records import Settings
from aggregator.store.sql import SqlStore


class PostgresDialect:
    name = "postgresql"
    blob = "BYTEA"
    without_rowid = ""

    def sql(self, statement: str) -> str:
        # The shared SQL uses qmark placeholders and no literal '?' or '%'.
        return statement.replace("%", "%%").replace("?", "%s")


def open_postgres(url: str, settings: Settings | None = None) -> SqlStore:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a declared dependency
        raise StoreError("PostgreSQL support needs psycopg: pip install 'psycopg[binary]'") from exc
    try:
        conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=10)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to PostgreSQL at {_redact(url)}: {exc}: check settings.database") from exc
    return SqlStore(conn, PostgresDialect(), settings)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
