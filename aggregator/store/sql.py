"""The store in portable SQL, shared by the SQLite and PostgreSQL backends.

`ingest_many` writes a batch of sources (their records, stories, LSH rows and polling states) in one
transaction, so a process killed mid-run leaves either all of a source's work or none of it, and a
re-run fetches again what was lost. Lookups are batched per source (one query per key kind, not one
per record) and go through indexes, so the cost of a run grows with the entries it sees, not with the
history stored.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from aggregator.errors import StoreError
from aggregator.records import Article, Settings, SourceState, StoryView, Validators, is_first_seen
from aggregator.store.band_blocks import blocks_of, merged_blocks, rows_in_blocks
from aggregator.store.base import IngestItem, IngestResult
from aggregator.store.candidates import BUCKET_CAP, Buckets, buckets, cell_refs, cells_holding, first_of_each
from aggregator.store.recent_bands import RecentBands, decode_rows, encode_rows
from aggregator.store.schema import BAND_PERIOD, LATEST, MIGRATIONS
from aggregator.store.signature_cache import SignatureCache

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from aggregator import dedupe

    I64 = npt.NDArray[np.int64]


def _dedupe() -> Any:
    """The near-duplicate code and numpy load on first use: a run where every feed answers 304 needs neither."""
    from aggregator import dedupe

    return dedupe

ALL_FEED = "all"
log = logging.getLogger("aggregator.store")
_BATCH = 500  # keys per IN (...) query: well under SQLite's variable limit
_INSERT_BANDS = ("INSERT INTO bands (period, band_key, published, ref) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT (period, band_key, published, ref) DO NOTHING")
_BLOCKS_A_QUERY = 2_000  # blocks per look-up query (SQLite takes up to 32,766 parameters)
_BLOCKS_READ_BY_RANGE = 4_000  # a merge touching more blocks of a period than this reads them in one scan
_UPSERT_BLOCKS = ("INSERT INTO band_blocks (period, block, rows) VALUES (?, ?, ?) "
                  "ON CONFLICT (period, block) DO UPDATE SET rows = excluded.rows")

ARTICLE_COLUMNS = (
    "uid, source_id, guid, url, title, published, updated, date_source, author, language, "
    "summary_html, content_html, text, text_hash, topics, story_id"
)
_PYTHON_STEP = "python:"


class Dialect(Protocol):
    name: str
    blob: str
    without_rowid: str

    def sql(self, statement: str) -> str: ...


def to_ts(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def from_ts(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def mint_story_id(first_uid: str, published: int | None = None) -> str:
    """Derived from the first record, so a rebuilt database mints the same entry ids again.

    With the record's publication date (Unix seconds), a UUID 7 whose time is that date and whose other bits
    are the uid's SHA-1: new stories' ids sort after older ones, so their entries in the story indexes land
    on the last pages, not on random pages of indexes that outgrow the cache. Without one (a date we first
    saw rather than one the source gave, which a rebuild would not see again), the UUID 5 of
    'aggregator:story:<uid>' in the URL namespace, built here from its SHA-1 (`uuid.uuid5` costs 3x more).
    """
    digest = bytearray(hashlib.sha1(_URL_NAMESPACE + ("aggregator:story:" + first_uid).encode()).digest()[:16])
    if published is not None and 0 <= published < _UUID7_SECONDS:
        digest[:6] = (published * 1000).to_bytes(6, "big")  # the 48-bit Unix time in milliseconds
        digest[6] = (digest[6] & 0x0F) | 0x70  # version 7
    else:
        digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_UUID7_SECONDS = (1 << 48) // 1000
_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes


def ref_of(uid: str, published: int | None = None) -> int:
    """A 63-bit integer standing for a record uid in the LSH tables: 8 bytes a row instead of a string.

    Computed, not allocated, so several workers agree without coordination. With the record's date (Unix
    seconds), the date in minutes is on top and 37 bits of the uid's hash below: new records' refs sort after
    older ones, so the signatures' key takes them at its end, not at random pages of an index that outgrows
    the cache. Two records sharing a ref (for two records of the same minute, about 1 in 10**11; without a
    date, 1 in 10**18) would only share a signature row: one of them would no longer be found as a candidate
    for later copies, nothing else.
    """
    digest = int.from_bytes(hashlib.blake2b(uid.encode("utf-8", "surrogatepass"), digest_size=8).digest()) >> 1
    if published is None or not 0 <= published < _REF_MINUTES_END:
        return digest
    return ((published // 60) << _REF_HASH_BITS) | (digest & ((1 << _REF_HASH_BITS) - 1))


_REF_HASH_BITS = 37
_REF_MINUTES_END = (1 << (63 - _REF_HASH_BITS)) * 60  # 2097: later dates fall back to the hash alone


def _with_periods(rows: I64) -> I64:
    """(band_key, published, ref) rows as the `bands` table keeps them: (period, band_key, published, ref)."""
    import numpy as np

    return np.column_stack([rows[:, 1] // BAND_PERIOD, rows]) if len(rows) else np.empty((0, 4), dtype=np.int64)


def _text_of(html: str) -> str:
    from aggregator.normalise.html import html_to_text  # here: a poll that reads no record never loads nh3

    return html_to_text(html)


def _split_topics(value: str) -> tuple[str, ...]:
    return tuple(t for t in value.split(",") if t)


def _chunks(items: Sequence[Any], size: int = _BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(slots=True)
class _Existing:
    uid: str
    source_id: str
    title: str
    text_hash: str
    summary_html: str
    content_html: str
    updated: int
    topics: str
    story_id: str


@dataclass(frozen=True, slots=True)
class _Known:
    """Stored records by uid, url and text hash, for the sources of one write batch."""

    by_uid: dict[str, _Existing]
    by_url: dict[str, _Existing]
    by_hash: dict[str, _Existing]


@dataclass(frozen=True, slots=True)
class _StoredMatches:
    stories: list[tuple[str, float] | None]  # per signed new record: (stored story, score) it copies, or None
    # for every candidate ref of every cell: the cell, and the story code of the ref (-1: not kept)
    pair_cells: I64
    pair_codes: I64


class _BatchBuckets:
    """The buckets of the cells new records of one source share, as the records before take rows in them."""

    def __init__(self, found: Buckets, cache: SignatureCache) -> None:
        self._found = found
        self._cache = cache
        self._added: dict[int, list[int]] = {}  # cell -> refs of this batch given a row there, in order

    def __bool__(self) -> bool:
        return bool(self._added)

    def _size(self, cell: int) -> int:
        return int(self._found.sizes[cell]) + len(self._added.get(cell, ()))

    def refs_for(self, cells: Iterable[int]) -> set[int]:
        """This batch's refs in those of `cells` whose bucket is not full."""
        return {ref for cell in cells if self._size(cell) < BUCKET_CAP for ref in self._added.get(cell, ())}

    def takes(self, cell: int, ref: int, copy_of: str | None) -> bool:
        """Whether `ref` gets a row in `cell`'s bucket (and is added to it): not when the bucket is full, nor
        when the record is a copy of a story the bucket holds."""
        if self._size(cell) >= BUCKET_CAP:
            return False
        added = self._added.setdefault(cell, [])
        if copy_of is not None:
            start = int(self._found.starts[cell])
            stored = self._found.refs[start : start + int(self._found.sizes[cell])].tolist()
            if self._cache.holds_story(added, copy_of) or self._cache.holds_story(stored, copy_of):
                return False
        added.append(ref)
        return True


_NOTHING_NEW = IngestResult()
_STATE_COLUMNS = (
    "source_id, url, etag, last_modified, last_attempt, last_success, last_status, http_status, "
    "last_error, consecutive_failures, next_due, new_entries, retry_after_until, disabled_reason, "
    "interval_s, items_seen, configured_url"
)
# A record's plain text is not stored: it is always the text of its HTML (normalise makes it so), which is
# derived again when a record is read back. A quarter less to write and to keep on disk. Rows stored
# before this kept their text, which is read as it is.
_DERIVED_TEXT = ""
_SIGNATURE_CACHE = 60_000  # records' signatures kept in memory (~0.7 KB each) for lookups by later sources
_RECENT_BANDS = 1_500_000  # LSH rows (24 bytes each) kept in memory for look-ups
# LSH rows committed between merges into the index (about 45,000 records). A merge rewrites each SQLite block
# it touches whole, so a first poll merges once, at its end (~0.4 s for 920,000 rows with its commit; 1.1 s
# in B-tree rows, merged every 250,000).
_MERGE_EVERY = 1_000_000


class SqlStore:
    """Implements `aggregator.store.base.Store` over a DB-API connection."""

    def __init__(self, conn: Any, dialect: Dialect, settings: Settings | None = None) -> None:
        self._conn = conn
        self._dialect = dialect
        self._settings = settings or Settings()
        self._lock = threading.RLock()
        # saves refetching the same candidates for every source of a run
        self._signatures = SignatureCache(_SIGNATURE_CACHE)
        self._states: tuple[int, dict[str, SourceState]] | None = None  # (data_version, states): SQLite only
        self._full_buckets: set[int] = set()  # band keys known to hold BUCKET_CAP stories: not fetched again
        # SQLite has one writer at a time (the run lock), so the rows it has not merged yet are all in its
        # memory; PostgreSQL workers share the index and write into it directly.
        self._recent = RecentBands() if dialect.name == "sqlite" else None
        # PRAGMA data_version when every stored LSH row was also in `_recent` (None: not so, or unknown): until
        # another connection writes, look-ups need not ask the database (SQLite; a first poll never does)
        self._bands_in_memory_at: int | None = None
        self._pending_checked = self._recent is None  # readers (serve, status, export) never write them
        self._migrate()

    # ------------------------------------------------------------------ plumbing
    def _exec(self, statement: str, params: Sequence[Any] = ()) -> Any:
        cur = self._conn.cursor()
        cur.execute(self._dialect.sql(statement), tuple(params))
        return cur

    def _many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        if not isinstance(rows, Sequence) or rows:
            cur = self._conn.cursor()
            cur.executemany(self._dialect.sql(statement), rows)

    def _in(self, n: int) -> str:
        return ",".join("?" * n)

    def _migrate(self) -> None:
        with self._lock:
            self._exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = self._exec("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > LATEST:
                self._conn.rollback()
                raise StoreError(
                    f"the database has schema version {version}, newer than this program knows "
                    f"({LATEST}): upgrade aggregator or point settings.database elsewhere"
                )
            if 0 < version < LATEST:
                log.info("store: upgrading the database from schema %d to %d (a large one takes a minute or two)",
                         version, LATEST)
            for number, statements in MIGRATIONS:
                if number <= version:
                    continue
                for statement in statements:
                    if statement.startswith(_PYTHON_STEP):
                        getattr(self, statement[len(_PYTHON_STEP) :])()
                        continue
                    self._exec(statement.replace("{blob}", self._dialect.blob)
                               .replace("{without_rowid}", self._dialect.without_rowid))
                self._exec(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(number),),
                )
            self._conn.commit()

    def move_signatures_out_of_articles(self) -> None:
        """Migration 2: signatures and LSH rows of existing records into `signatures` and `bands`."""
        rows = self._exec(
            "SELECT uid, published, story_id, signature FROM articles WHERE signature IS NOT NULL"
        ).fetchall()
        for chunk in _chunks(rows):
            sig_rows: list[tuple[int, str, bytes]] = []
            band_rows: list[tuple[int, int, int]] = []
            for uid, published, story_id, blob in chunk:
                sig = _dedupe().Signature.from_bytes(bytes(blob))
                ref = ref_of(uid)
                sig_rows.append((ref, story_id, bytes(blob)))
                band_rows.extend((key, published, ref) for key in _dedupe().band_keys(sig))
            self._many("INSERT INTO signatures (ref, story_id, signature) VALUES (?, ?, ?) "
                       "ON CONFLICT (ref) DO NOTHING", sig_rows)
            self._many("INSERT INTO bands (band_key, published, ref) VALUES (?, ?, ?) "
                       "ON CONFLICT (band_key, published, ref) DO NOTHING", band_rows)

    def copy_rows_of_probed_bands(self) -> None:
        """Migration 7: `bands` into `bands_probed` without the rows of bands look-ups no longer probe (a key
        whose band cannot be told is kept), one period at a time so memory holds one period's rows."""
        import numpy as np

        dedupe = _dedupe()
        low, high = self._exec("SELECT MIN(period), MAX(period) FROM bands").fetchone()
        for period in range(int(low), int(high) + 1) if low is not None else ():
            rows = np.array(self._exec("SELECT period, band_key, published, ref FROM bands WHERE period = ? "
                                       "ORDER BY band_key, published, ref", (period,)).fetchall(),
                            dtype=np.int64).reshape(-1, 4)
            self._many("INSERT INTO bands_probed (period, band_key, published, ref) VALUES (?, ?, ?, ?)",
                       rows[dedupe.band_of_keys(rows[:, 1]) < dedupe.BANDS].tolist())
        blobs = [decode_rows(bytes(blob)) for (blob,) in self._exec("SELECT rows FROM pending_bands").fetchall()]
        if blobs:
            self._exec("DELETE FROM pending_bands")
            for rows in blobs:  # (band_key, published, ref) triples
                kept = rows[dedupe.band_of_keys(rows[:, 0]) < dedupe.BANDS]
                self._exec("INSERT INTO pending_bands (rows) VALUES (?)", (encode_rows(kept),))

    def band_rows(self) -> list[tuple[int, int, int, int]]:
        """Every stored LSH row, (period, band_key, published, ref), as the index orders them: to check what a
        run or a migration left."""
        with self._lock:
            rows = [(int(p), int(k), int(d), int(r)) for p, k, d, r in self._exec(
                "SELECT period, band_key, published, ref FROM bands ORDER BY period, band_key, published, ref")]
            for period, blob in self._exec("SELECT period, rows FROM band_blocks ORDER BY period, block").fetchall():
                rows.extend((int(period), k, d, r) for k, d, r in decode_rows(bytes(blob)).tolist())
            self._conn.commit()
        return sorted(rows)

    def move_bands_into_blocks(self) -> None:
        """Migration 8 (SQLite): the `bands` rows into `band_blocks`, one period at a time."""
        import numpy as np

        if self._recent is None:
            return
        low, high = self._exec("SELECT MIN(period), MAX(period) FROM bands").fetchone()
        for period in range(int(low), int(high) + 1) if low is not None else ():
            rows = np.array(self._exec("SELECT band_key, published, ref FROM bands WHERE period = ? "
                                       "ORDER BY band_key, published, ref", (period,)).fetchall(),
                            dtype=np.int64).reshape(-1, 3)
            self._write_blocks(np.full(len(rows), period, dtype=np.int64), rows[:, 0], rows[:, 1], rows[:, 2])
        self._exec("DELETE FROM bands")

    def close(self) -> None:
        with self._lock:
            self.merge_pending_bands()
            self._conn.close()

    # ------------------------------------------------------------------ polling state
    _STATE_COLUMNS = _STATE_COLUMNS

    @staticmethod
    def _state_from_row(row: Sequence[Any]) -> SourceState:
        return SourceState(
            source_id=row[0],
            url=row[1],
            validators=Validators(etag=row[2], last_modified=row[3]),
            last_attempt=from_ts(row[4]),
            last_success=from_ts(row[5]),
            last_status=row[6],
            http_status=row[7],
            last_error=row[8],
            consecutive_failures=row[9] or 0,
            next_due=from_ts(row[10]),
            new_entries=row[11] or 0,
            retry_after_until=from_ts(row[12]),
            disabled_reason=row[13],
            interval=row[14],
            items_seen=row[15] or 0,
            configured_url=row[16],
        )

    def source_state(self, source_id: str) -> SourceState:
        with self._lock:
            row = self._exec(
                f"SELECT {self._STATE_COLUMNS} FROM source_state WHERE source_id = ?", (source_id,)
            ).fetchone()
            self._conn.commit()
        return self._state_from_row(row) if row else SourceState(source_id=source_id)

    def source_states(self) -> dict[str, SourceState]:
        """Every source's state. On SQLite a copy kept in memory answers while no other connection has
        committed (PRAGMA data_version says so): a daemon tick reads the states three times."""
        with self._lock:
            version = self._data_version()
            if version is not None and self._states is not None and self._states[0] == version:
                return dict(self._states[1])
            rows = self._exec(f"SELECT {self._STATE_COLUMNS} FROM source_state").fetchall()
            self._conn.commit()
            states = {r[0]: self._state_from_row(r) for r in rows}
            self._states = (version, states) if version is not None else None
            return dict(states)

    def _data_version(self) -> int | None:
        if self._dialect.name != "sqlite":
            return None
        (version,) = self._exec("PRAGMA data_version").fetchone()
        return int(version)

    def _remember_states(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """After a commit: the rows this connection wrote, into the in-memory copy."""
        if self._states is not None:
            cached = self._states[1]
            for row in rows:
                cached[row[0]] = self._state_from_row(row)

    _UPSERT_STATE = (
        f"INSERT INTO source_state ({_STATE_COLUMNS}) VALUES ({','.join('?' * 17)}) "
        "ON CONFLICT (source_id) DO UPDATE SET url = excluded.url, etag = excluded.etag, "
        "last_modified = excluded.last_modified, last_attempt = excluded.last_attempt, "
        "last_success = excluded.last_success, last_status = excluded.last_status, "
        "http_status = excluded.http_status, last_error = excluded.last_error, "
        "consecutive_failures = excluded.consecutive_failures, next_due = excluded.next_due, "
        "new_entries = excluded.new_entries, retry_after_until = excluded.retry_after_until, "
        "disabled_reason = excluded.disabled_reason, interval_s = excluded.interval_s, "
        "items_seen = excluded.items_seen, configured_url = excluded.configured_url"
    )

    @staticmethod
    def _state_row(s: SourceState, *, new_entries: int | None = None,
                   configured_url: str | None = None) -> tuple[Any, ...]:
        """`s` as a row, with `new_entries` and `configured_url` in place of its own when given."""
        return (
            s.source_id, s.url, s.validators.etag, s.validators.last_modified, to_ts(s.last_attempt),
            to_ts(s.last_success), s.last_status, s.http_status, s.last_error, s.consecutive_failures,
            to_ts(s.next_due), s.new_entries if new_entries is None else new_entries,
            to_ts(s.retry_after_until), s.disabled_reason, s.interval, s.items_seen,
            configured_url or s.configured_url,
        )

    def _write_state(self, s: SourceState) -> tuple[Any, ...]:
        row = self._state_row(s)
        self._exec(self._UPSERT_STATE, row)
        return row

    def save_source_state(self, state: SourceState) -> None:
        with self._lock:
            try:
                row = self._write_state(state)
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise
            self._remember_states([row])

    # ------------------------------------------------------------------ records
    def known_urls(self, urls: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(urls))
        found: set[str] = set()
        with self._lock:
            for chunk in _chunks(wanted):
                rows = self._exec(f"SELECT url FROM articles WHERE url IN ({self._in(len(chunk))})", chunk)
                found.update(r[0] for r in rows.fetchall())
            self._conn.commit()
        return found

    def _lookup(self, column: str, keys: Sequence[str]) -> dict[str, _Existing]:
        out: dict[str, _Existing] = {}
        unique = list(dict.fromkeys(keys))
        for chunk in _chunks(unique):
            rows = self._exec(
                "SELECT uid, source_id, title, text_hash, summary_html, content_html, updated, topics, "
                f"story_id, {column} FROM articles WHERE {column} IN ({self._in(len(chunk))})",
                chunk,
            ).fetchall()
            for r in rows:
                out.setdefault(r[9], _Existing(*r[:9]))
        return out

    def ingest(
        self,
        source_id: str,
        articles: Sequence[Article],
        now: datetime,
        state: SourceState | None = None,
        *,
        priority: int = 0,
        signatures: Mapping[str, dedupe.Signature | None] | None = None,
    ) -> IngestResult:
        (result,) = self.ingest_many([IngestItem(source_id, articles, state, priority, signatures)], now)
        if isinstance(result, Exception):
            raise result
        return result

    def ingest_many(self, items: Sequence[IngestItem], now: datetime) -> list[IngestResult | Exception]:
        with self._lock:
            if not self._pending_checked:
                self._index_pending_bands()
            if self._bands_in_memory_at is not None and self._data_version() != self._bands_in_memory_at:
                self._stop_looking_up_in_memory_only()  # another process wrote rows this one has not seen
            try:
                results = self._ingest_and_commit(items, now)
            except Exception:
                if len(items) == 1:
                    raise
            else:
                self._merge_if_due()
                return results
            # One source spoilt the batch: store them one by one so only that one fails.
            singles: list[IngestResult | Exception] = []
            for item in items:
                try:
                    singles.extend(self._ingest_and_commit([item], now))
                except Exception as exc:
                    singles.append(exc)
            self._merge_if_due()
            return singles

    def _ingest_and_commit(self, items: Sequence[IngestItem], now: datetime) -> list[IngestResult | Exception]:
        try:
            results, state_rows = self._ingest_items(items, now)
            self._conn.commit()
        except BaseException:
            self._conn.rollback()
            if self._recent is not None:
                self._recent.rollback()
            raise
        if self._recent is not None:
            self._recent.commit()
        self._remember_states(state_rows)
        return results

    def _merge_if_due(self) -> None:
        """Merge the committed rows into `band_blocks` while the run goes on once there are `_MERGE_EVERY` of
        them; past the memory cap, forget them too."""
        if self._recent is None:
            return
        if len(self._recent) >= _RECENT_BANDS:
            self._stop_looking_up_in_memory_only()
        elif self._recent.unmerged() >= _MERGE_EVERY:
            self._merge_unmerged()

    def _stop_looking_up_in_memory_only(self) -> None:
        """From now on look-ups ask the database too: everything goes into it, and the memory keeps only later
        rows."""
        self._bands_in_memory_at = None
        self._merge_unmerged()

    def _ingest_items(self, items: Sequence[IngestItem],
                      now: datetime) -> tuple[list[IngestResult | Exception], list[tuple[Any, ...]]]:
        """Records source by source, then every state in one executemany (a 304-only poll is just that)."""
        results: list[IngestResult | Exception] = []
        state_rows = []
        known = self._lookup_batch(items)
        for item in items:
            result = _NOTHING_NEW
            if item.articles:
                result = self._ingest(item.source_id, item.articles, now, item.priority, item.signatures, known)
                if result.updated:
                    known = None  # an updated record's old text may be another's: later sources ask the database
            if item.state is not None:
                state_rows.append(self._state_row(item.state, new_entries=result.new,
                                                  configured_url=item.configured_url))
            results.append(result)
        self._many(self._UPSERT_STATE, state_rows)
        if self._recent is not None and self._recent.has_open_rows():
            self._exec("INSERT INTO pending_bands (rows) VALUES (?)", (self._recent.open_blob(),))
        return results, state_rows

    def _lookup_batch(self, items: Sequence[IngestItem]) -> _Known | None:
        """The exact-dedupe look-ups of a whole write batch at once (three queries, not three a source).
        Later sources must also find what earlier ones insert: `_ingest` adds those to the maps, as it does
        within a source. None (each source asks for itself) when a source comes twice."""
        sources = [item.source_id for item in items if item.articles]
        if len(sources) < 2 or len(set(sources)) < len(sources):
            return None
        articles = [a for item in items for a in item.articles]
        return _Known(self._lookup("uid", [a.uid for a in articles]), self._lookup("url", [a.url for a in articles]),
                      self._lookup("text_hash", [a.text_hash for a in articles]))

    def _ingest(self, source_id: str, articles: Sequence[Article], now: datetime, priority: int,
                signatures: Mapping[str, dedupe.Signature | None] | None = None,
                known: _Known | None = None) -> IngestResult:
        now_ts = to_ts(now) or 0
        # Within one batch the same entry may appear twice (feeds repeat items): keep the last copy.
        batch = list({a.uid: a for a in articles}.values())
        if known is not None:
            by_uid, by_url, by_hash = known.by_uid, known.by_url, known.by_hash
        else:
            by_uid = self._lookup("uid", [a.uid for a in batch])
            by_url = self._lookup("url", [a.url for a in batch if a.uid not in by_uid])
            by_hash = self._lookup("text_hash", [a.text_hash for a in batch if a.uid not in by_uid])
        touched: set[str] = set()
        new = updated = unchanged = 0
        fresh: list[Article] = []
        for article in batch:
            existing = by_uid.get(article.uid) or by_url.get(article.url) or by_hash.get(article.text_hash)
            if existing is None:
                fresh.append(article)
                # later copies in the same batch find this one by URL or text
                placeholder = _Existing(article.uid, source_id, article.title, article.text_hash,
                                        article.summary_html, article.content_html, 0, "", "")
                by_url.setdefault(article.url, placeholder)
                by_hash.setdefault(article.text_hash, placeholder)
                continue
            if existing.source_id != source_id or existing.story_id == "":
                unchanged += 1  # the same record reached through another source or twice in a batch
                continue
            if self._update_if_changed(existing, article, now_ts, touched):
                updated += 1
            else:
                unchanged += 1
        if fresh:
            self._insert_new(source_id, fresh, now_ts, priority, touched, signatures or {})
            new = len(fresh)
        if touched:
            touched.add(ALL_FEED)
            self._many(
                "INSERT INTO dirty_feeds (feed_id) VALUES (?) ON CONFLICT (feed_id) DO NOTHING",
                [(f,) for f in sorted(touched)],
            )
        return IngestResult(new=new, updated=updated, unchanged=unchanged, feeds_touched=frozenset(touched))

    def _update_if_changed(self, old: _Existing, a: Article, now_ts: int, touched: set[str]) -> bool:
        topics = ",".join(a.topics)
        same = (
            old.title == a.title
            and old.text_hash == a.text_hash
            and old.summary_html == a.summary_html
            and old.content_html == a.content_html
            and old.topics == topics
        )
        if same:
            return False
        new_updated = max(to_ts(a.updated) or now_ts, old.updated)
        self._exec(
            "UPDATE articles SET title = ?, updated = ?, author = ?, language = ?, summary_html = ?, "
            "content_html = ?, text = ?, text_hash = ?, topics = ?, changed_at = ? WHERE uid = ?",
            (a.title, new_updated, a.author, a.language, a.summary_html, a.content_html, _DERIVED_TEXT,
             a.text_hash, topics, now_ts, old.uid),
        )
        touched.update(_split_topics(old.topics))
        self._refresh_stories({old.story_id: new_updated}, touched)
        return True

    # ------------------------------------------------------------------ stories
    def _insert_new(self, source_id: str, fresh: list[Article], now_ts: int, priority: int,
                    touched: set[str], given: Mapping[str, dedupe.Signature | None]) -> None:
        import numpy as np

        settings = self._settings
        dedupe = _dedupe()
        signatures = {
            a.uid: given[a.uid] if a.uid in given else dedupe.make_signature(a.title, a.text, a.language)
            for a in fresh
        }
        signed = [a for a in fresh if signatures[a.uid] is not None]
        # one row per signed record, one column per band; `cells` numbers the distinct keys
        keys = (np.stack([dedupe.key_array(sig) for a in signed if (sig := signatures[a.uid]) is not None])
                if signed else np.empty((0, 1), dtype=np.int64))
        distinct, cells, repeats = np.unique(keys.ravel(), return_inverse=True, return_counts=True)
        cells = cells.reshape(keys.shape)
        # The window is around the new records' own dates (not the clock), so a backfilled archive dedupes too.
        window = settings.dedupe_window_days * 86400
        stamps = [to_ts(a.published) or now_ts for a in fresh]
        found, ref_rows = self._candidates(distinct, min(stamps) - window, max(stamps) + window)
        stored = self._best_stored_stories(signed, signatures, cells, found, ref_rows)
        # Cells whose key another new record of this source shares: the record's rows there depend on the
        # records before it, so they are decided in order below. All other cells are decided in bulk after.
        shared: npt.NDArray[np.bool_] = repeats[cells] > 1
        with_shared = cast(list[bool], shared.any(axis=1).tolist())
        in_batch = _BatchBuckets(found, self._signatures)
        article_rows = []
        signature_rows = []
        band_rows: list[tuple[int, int, int]] = []  # of shared cells
        refs: list[int] = []  # of signed records, in order
        dates: list[int] = []
        copies: list[str | None] = []  # the story a signed record was found to be a copy of
        minted: dict[str, list[Article]] = {}  # stories born in this batch, with their members
        joined: dict[str, int] = {}  # stored stories that gain a member: story id -> newest date
        for a in fresh:
            sig = signatures[a.uid]
            story_id = None
            row = len(refs)
            if sig is not None:
                story_id, score = stored.stories[row] or (None, -1.0)
                if with_shared[row] and in_batch:
                    story_id = self._best_in_batch(sig, in_batch.refs_for(cells[row][shared[row]].tolist()),
                                                   score) or story_id
            copy_of = story_id  # a story found (stored or earlier in the batch), before one is minted
            published = to_ts(a.published) or now_ts
            if story_id is None:
                story_id = mint_story_id(a.uid, None if is_first_seen(a.date_source) else published)
                minted[story_id] = []
            if story_id in minted:
                minted[story_id].append(a)
            else:
                joined[story_id] = max(joined.get(story_id, 0), to_ts(a.updated) or published)
            article_rows.append((
                a.uid, source_id, a.guid, a.url, a.title, published, to_ts(a.updated) or published,
                a.date_source, a.author, a.language, a.summary_html, a.content_html, _DERIVED_TEXT, a.text_hash,
                ",".join(a.topics), story_id, priority, now_ts, now_ts,
            ))
            if sig is not None:
                ref = ref_of(a.uid, published)
                blob = sig.to_bytes()
                signature_rows.append((ref, story_id, blob))
                self._remember(ref, story_id, blob)
                refs.append(ref)
                dates.append(published)
                copies.append(copy_of)
                if with_shared[row]:
                    for cell in cells[row][shared[row]].tolist():
                        if in_batch.takes(cell, ref, copy_of):
                            band_rows.append((int(distinct[cell]), published, ref))
        self._many(
            "INSERT INTO articles (uid, source_id, guid, url, title, published, updated, date_source, author, "
            "language, summary_html, content_html, text, text_hash, topics, story_id, priority, first_seen, "
            f"changed_at) VALUES ({self._in(19)})",
            article_rows,
        )
        self._many("INSERT INTO signatures (ref, story_id, signature) VALUES (?, ?, ?) "
                   "ON CONFLICT (ref) DO NOTHING", signature_rows)
        rows = self._unshared_band_rows(found, distinct, cells, shared, stored, copies, refs, dates)
        if band_rows:
            rows = np.concatenate([rows, np.array(band_rows, dtype=np.int64)])
        self._write_band_rows(rows)
        self._write_new_stories(minted, priority, now_ts, touched)
        self._refresh_stories(joined, touched, created=now_ts)

    def _unshared_band_rows(self, found: Buckets, distinct: I64, cells: I64, shared: npt.NDArray[np.bool_],
                            stored: _StoredMatches, copies: Sequence[str | None], refs: Sequence[int],
                            dates: Sequence[int]) -> I64:
        """(band_key, published, ref) rows of the cells no other new record shares: a row where the bucket is
        not full, unless the record is a copy of a story the bucket already holds (a row per copy adds
        nothing)."""
        import numpy as np

        takes = (found.sizes[cells] < BUCKET_CAP) & ~shared
        cache = self._signatures
        codes = np.array([-1 if story is None else cache.code_of(story) for story in copies], dtype=np.int64)
        if (codes >= 0).any():
            cell_codes = np.repeat(codes, cells.shape[1])
            takes &= ~cells_holding(cells.size, stored.pair_cells, stored.pair_codes, cell_codes).reshape(cells.shape)
        record, band = np.nonzero(takes)
        return np.stack([distinct[cells[record, band]], np.array(dates, dtype=np.int64)[record],
                         np.array(refs, dtype=np.int64)[record]], axis=1)

    def _write_band_rows(self, rows: I64) -> None:
        if self._recent is None:  # PostgreSQL: other workers must see the rows as soon as they commit
            self._many(_INSERT_BANDS, _with_periods(rows).tolist())
        else:
            self._recent.add(rows)  # written to pending_bands once per transaction (_ingest_items)

    def merge_pending_bands(self) -> None:
        """At the end of a run: the LSH rows not merged yet go into `band_blocks`, and the memory that kept
        them for look-ups is given back (publishing comes next; the next run asks the database)."""
        with self._lock:
            if self._recent is None:  # PostgreSQL writes `bands` directly
                return
            self._bands_in_memory_at = None
            self._merge_unmerged()

    def _merge_unmerged(self) -> None:
        """Move the LSH rows committed since the last merge into `band_blocks`, in one transaction: a block is
        written once per merge, not once per batch. While look-ups need not ask the database, the rows stay
        in memory for them; otherwise they are dropped (a row in both would count twice towards a bucket's
        cap), before the merge: at the end of a first poll that is 50 MB less at the peak."""
        assert self._recent is not None
        if self._recent.unmerged():  # nothing since the last merge: a 304-only poll
            dropped = self._bands_in_memory_at is None
            columns = self._recent.unmerged_columns(forget=dropped)
            try:
                self._write_blocks(*columns)
                self._exec("DELETE FROM pending_bands")
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                if dropped:  # they are still in `pending_bands`: the next write takes them from there
                    self._pending_checked = False
                raise
            self._recent.merged()
        if self._bands_in_memory_at is None:
            self._recent.clear()

    def _write_blocks(self, periods: I64, keys: I64, published: I64, refs: I64) -> None:
        """Rows sorted by (period, key, published, ref) into the blocks they fall in (SQLite): each block read,
        merged with its new rows and written back whole."""
        import numpy as np

        if not len(keys):  # a period with no rows (migration 8 walks every period between the first and last)
            return
        # a period at a time: a first poll's 920,000 rows at once took 70 MB more at the peak
        starts = np.flatnonzero(np.diff(periods)) + 1
        for rows in zip(*(np.split(column, starts) for column in (periods, keys, published, refs)), strict=True):
            period = int(rows[0][0])
            blocks = np.unique(blocks_of(rows[1])).tolist()
            if len(blocks) > _BLOCKS_READ_BY_RANGE:  # most of the period: one range scan, not IN lists
                wanted = set(blocks)
                found = [(b, blob) for b, blob in self._exec(
                    "SELECT block, rows FROM band_blocks WHERE period = ? AND block BETWEEN ? AND ?",
                    (period, blocks[0], blocks[-1])).fetchall() if b in wanted]
            else:
                found = [row for chunk in _chunks(blocks) for row in self._exec(
                    f"SELECT block, rows FROM band_blocks WHERE period = ? AND block IN ({self._in(len(chunk))})",
                    [period, *chunk]).fetchall()]
            self._many(_UPSERT_BLOCKS, merged_blocks([(period, b, bytes(blob)) for b, blob in found], *rows))

    def _index_pending_bands(self) -> None:
        """Before the first write: the rows a killed run left in `pending_bands` (its records are stored)
        go into `band_blocks`."""
        assert self._recent is not None
        self._pending_checked = True
        empty = not self._exec("SELECT 1 FROM band_blocks LIMIT 1").fetchone()
        for (blob,) in self._exec("SELECT rows FROM pending_bands").fetchall():
            self._recent.add(decode_rows(bytes(blob)))
        self._recent.commit()
        self._conn.commit()
        self._bands_in_memory_at = self._data_version() if empty else None
        self._merge_unmerged()

    def _remember(self, ref: int, story_id: str, blob: bytes) -> None:
        self._signatures.add(ref, story_id, blob)

    def _write_new_stories(self, minted: dict[str, list[Article]], priority: int, now_ts: int,
                           touched: set[str]) -> None:
        """Stories born in this batch: their members are all in hand, so no query is needed."""
        story_rows: list[tuple[str, str, int, int, str, int]] = []
        topic_rows: list[tuple[str, str, int]] = []
        for story_id, members in minted.items():
            primary = min(members, key=lambda m: (m.published, m.uid))  # one source: one priority
            published = to_ts(primary.published) or now_ts
            updated = max(max(to_ts(m.updated) or published for m in members), published)
            topics = sorted({t for m in members for t in m.topics})
            story_rows.append((story_id, primary.uid, published, updated, ",".join(topics), now_ts))
            topic_rows.extend((t, story_id, published) for t in topics)
            touched.update(topics)
        self._many(
            "INSERT INTO stories (story_id, primary_uid, published, updated, topics, created) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            story_rows,
        )
        self._many("INSERT INTO story_topics (topic, story_id, published) VALUES (?, ?, ?)", topic_rows)

    def _candidates(self, keys: I64, window_start: int, window_end: int) -> tuple[Buckets, I64]:
        """Refs of stored records under each of `keys` (distinct, sorted), in the window, as an index lookup
        whatever the history, with their signatures loaded into the cache; and the cache row of each of
        `refs` (-1: its signature is not stored)."""
        import numpy as np

        if len(self._signatures) >= _SIGNATURE_CACHE:
            self._signatures.clear()  # only here, so a source's candidates stay cached while it is stored
            self._full_buckets.clear()
        full = self._full_buckets
        known_full = np.fromiter((key in full for key in keys.tolist()), dtype=bool, count=len(keys))
        wanted = np.flatnonzero(~known_full)
        at: list[I64] = []
        refs: list[I64] = []
        if self._bands_in_memory_at is None and len(wanted):
            at_sql, refs_sql = self._stored_rows(keys, wanted, window_start, window_end)
            at.append(at_sql)
            refs.append(refs_sql)
        if self._recent is not None and len(wanted):
            at_recent, _, refs_recent = self._recent.lookup_rows(keys[wanted], window_start, window_end)
            at.append(wanted[at_recent])
            refs.append(refs_recent)
        all_at = np.concatenate(at) if at else np.empty(0, dtype=np.int64)
        all_refs = np.concatenate(refs) if refs else np.empty(0, dtype=np.int64)
        order = np.argsort(all_at, kind="stable")  # per key: the database's rows, then the run's, each in order
        found = buckets(keys, known_full, all_at[order], all_refs[order])
        full.update(keys[(found.sizes >= BUCKET_CAP) & ~known_full].tolist())
        distinct, inverse = np.unique(found.refs, return_inverse=True)
        rows = self._signatures.rows_of(distinct)
        missing = np.flatnonzero(rows < 0)
        if len(missing):
            for chunk in _chunks(distinct[missing].tolist()):
                for ref, story_id, blob in self._exec(
                    f"SELECT ref, story_id, signature FROM signatures WHERE ref IN ({self._in(len(chunk))})", chunk
                ).fetchall():
                    self._remember(ref, story_id, bytes(blob))
            rows[missing] = self._signatures.rows_of(distinct[missing])
        return found, rows[inverse.ravel()]

    def _stored_rows(self, keys: I64, wanted: I64, window_start: int, window_end: int) -> tuple[I64, I64]:
        """(index into `keys`, ref) of the stored LSH rows under keys[wanted]: by key, then period (oldest
        first), published and ref."""
        if self._recent is not None:
            return self._rows_in_blocks(keys, wanted, window_start, window_end)
        import numpy as np

        index_of = dict(zip(keys[wanted].tolist(), wanted.tolist(), strict=True))
        at: list[int] = []
        refs: list[int] = []
        periods = self._stored_periods(window_start // BAND_PERIOD, window_end // BAND_PERIOD)
        if not periods:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        for chunk in _chunks(keys[wanted].tolist()):
            # oldest period first: each key's refs come oldest first, as `buckets` wants them (after the
            # stable sort by key in `_candidates`)
            for key, ref in self._exec(
                f"SELECT band_key, ref FROM bands WHERE period IN ({self._in(len(periods))}) "
                f"AND band_key IN ({self._in(len(chunk))}) AND published BETWEEN ? AND ? "
                "ORDER BY period, band_key, published, ref",  # the index's order (SQLite sorts nothing)
                [*periods, *chunk, window_start, window_end],
            ).fetchall():
                at.append(index_of[key])
                refs.append(ref)
        return np.array(at, dtype=np.int64), np.array(refs, dtype=np.int64)

    def _rows_in_blocks(self, keys: I64, wanted: I64, window_start: int, window_end: int) -> tuple[I64, I64]:
        """`_stored_rows` from SQLite's `band_blocks`: the blocks the keys fall in, one blob a period and query
        (group_concat of the blocks, cast back to a blob: bytes as they are), not a Python object a block,
        most of which hold no row a key wants."""
        import numpy as np

        wanted_keys = keys[wanted]
        periods = self._stored_periods(window_start // BAND_PERIOD, window_end // BAND_PERIOD, "band_blocks")
        by_period: dict[int, list[bytes]] = {}
        for chunk in _chunks(np.unique(blocks_of(wanted_keys)).tolist(), _BLOCKS_A_QUERY) if periods else ():
            for period, blob in self._exec(
                    f"SELECT period, CAST(group_concat(rows, '') AS BLOB) FROM band_blocks WHERE period IN "
                    f"({self._in(len(periods))}) AND block IN ({self._in(len(chunk))}) GROUP BY period",
                    [*periods, *chunk]).fetchall():
                if blob:
                    by_period.setdefault(int(period), []).append(bytes(blob))
        at: list[I64] = []
        refs: list[I64] = []
        for period in sorted(by_period):  # oldest first: `_candidates` sorts by key stably, so periods stay in order
            found, _, found_refs = rows_in_blocks(by_period[period], wanted_keys, window_start, window_end)
            at.append(wanted[found])
            refs.append(found_refs)
        if not at:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.concatenate(at), np.concatenate(refs)

    def _stored_periods(self, first: int, last: int, table: str = "bands") -> list[int]:
        """The periods from `first` to `last` that `table` holds rows of. A window reaches as far after the new
        records' dates as before them, mostly into periods nothing is stored in yet: those are not probed. Two
        reads of the index's edges, made each time: another writer may have started a period."""
        (low,) = self._exec(f"SELECT MIN(period) FROM {table}").fetchone()
        (high,) = self._exec(f"SELECT MAX(period) FROM {table}").fetchone()
        if low is None:
            return []
        return list(range(max(first, int(low)), min(last, int(high)) + 1))

    def _best_stored_stories(self, signed: Sequence[Article], signatures: Mapping[str, dedupe.Signature | None],
                             cells: I64, found: Buckets, ref_rows: I64) -> _StoredMatches:
        """For each signed new record, the stored story it is a copy of (and how alike), all records in one
        pass; and the candidate refs of every cell, with their stories, for `_unshared_band_rows`."""
        import numpy as np

        pair_cells, positions = cell_refs(found, cells.ravel())
        pair_refs = found.refs[positions]
        pair_rows = ref_rows[positions]
        cache = self._signatures
        hashes, sizes, codes = cache.arrays()
        kept = pair_rows >= 0
        pair_codes = np.full(len(pair_rows), -1, dtype=np.int64)
        pair_codes[kept] = codes[pair_rows[kept]]
        stories: list[tuple[str, float] | None] = [None] * len(signed)
        # in band order, then bucket (oldest first) order: on a tie the first found wins
        pair_new = pair_cells // cells.shape[1]
        firsts = first_of_each(pair_new, pair_refs)
        firsts = firsts[kept[firsts]]
        if len(firsts):
            new_sigs = [sig for a in signed if (sig := signatures[a.uid]) is not None]
            best, score = _dedupe().best_matches(
                np.stack([sig.hashes for sig in new_sigs]),
                np.fromiter((sig.size for sig in new_sigs), dtype=np.float64, count=len(new_sigs)),
                hashes, sizes, pair_new[firsts], pair_rows[firsts],
                threshold=self._settings.dedupe_threshold, containment=self._settings.dedupe_containment,
            )
            for i in np.flatnonzero(best >= 0).tolist():
                stories[i] = (cache.story_at(int(best[i])), float(score[i]))
        return _StoredMatches(stories, pair_cells, pair_codes)

    def _best_in_batch(self, sig: dedupe.Signature, refs: set[int], to_beat: float) -> str | None:
        """A story from earlier records of the same batch (`refs`: those sharing a band with `sig`) that
        `sig` is a closer copy of than `to_beat`."""
        if not refs:  # most records: nothing earlier in the batch shares a band
            return None
        kept, stories, hashes, sizes = self._signatures.known(sorted(refs))
        if not kept:
            return None
        found = _dedupe().best_match(sig, hashes, sizes, threshold=self._settings.dedupe_threshold,
                                     containment=self._settings.dedupe_containment)
        return stories[found[0]] if found is not None and found[1] > to_beat else None

    def _refresh_stories(self, updated_at: Mapping[str, int], touched: set[str], *, created: int = 0) -> None:
        """Recompute stories' primary copy, dates and topics from their members (ids never change).

        All of a batch's stories in a few statements: a first poll gives thousands of stories a second copy.
        """
        ids = list(updated_at)
        members: dict[str, list[tuple[Any, ...]]] = {}
        old: dict[str, tuple[set[str], int, int | None]] = {}
        for chunk in _chunks(ids):
            marks = self._in(len(chunk))
            for r in self._exec(f"SELECT story_id, uid, published, topics, priority FROM articles "
                                f"WHERE story_id IN ({marks})", chunk).fetchall():
                members.setdefault(r[0], []).append(r[1:])
            for story_id, topics, updated, published in self._exec(
                    f"SELECT story_id, topics, updated, published FROM stories WHERE story_id IN ({marks})",
                    chunk).fetchall():
                old[story_id] = (set(_split_topics(topics)), updated, published)
        story_rows = []
        deleted: list[tuple[str, str]] = []
        topic_rows: list[tuple[str, str, int]] = []
        for story_id in ids:
            rows = members.get(story_id)
            if not rows:
                continue
            primary = min(rows, key=lambda r: (-r[3], r[1], r[0]))
            topics = sorted({t for r in rows for t in _split_topics(r[2])})
            old_topics, old_updated, old_published = old.get(story_id, (set(), 0, None))
            updated = max(updated_at[story_id], old_updated, primary[1])
            story_rows.append((story_id, primary[0], primary[1], updated, ",".join(topics), created))
            # by primary key (topic, story_id): a DELETE on story_id alone would scan the whole table. A row
            # whose topic stays and whose date is unchanged stays as it is (most copies that join a story).
            kept = old_topics.intersection(topics) if primary[1] == old_published else set()
            deleted.extend((t, story_id) for t in old_topics - kept)
            topic_rows.extend((t, story_id, primary[1]) for t in topics if t not in kept)
            touched.update(topics)
            touched.update(old_topics)
        self._many(
            "INSERT INTO stories (story_id, primary_uid, published, updated, topics, created) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (story_id) DO UPDATE SET primary_uid = excluded.primary_uid, "
            "published = excluded.published, updated = excluded.updated, topics = excluded.topics",
            story_rows,
        )
        self._many("DELETE FROM story_topics WHERE topic = ? AND story_id = ?", deleted)
        self._many(
            "INSERT INTO story_topics (topic, story_id, published) VALUES (?, ?, ?) "
            "ON CONFLICT (topic, story_id) DO UPDATE SET published = excluded.published",
            topic_rows,
        )

    # ------------------------------------------------------------------ reading back
    @staticmethod
    def _article_from_row(r: Sequence[Any]) -> Article:
        published = from_ts(r[5]) or datetime.fromtimestamp(0, UTC)
        return Article(
            uid=r[0], source_id=r[1], guid=r[2], url=r[3], title=r[4], published=published,
            updated=from_ts(r[6]) or published, date_source=r[7], author=r[8], language=r[9],
            summary_html=r[10], content_html=r[11], text=r[12] or _text_of(r[11] or r[10]), text_hash=r[13],
            topics=_split_topics(r[14]), story_id=r[15],
        )

    def article_count(self) -> int:
        with self._lock:
            (n,) = self._exec("SELECT COUNT(*) FROM articles").fetchone()
            self._conn.commit()
        return int(n)

    def iter_articles(self) -> Iterator[Article]:
        with self._lock:
            rows = self._exec(f"SELECT {ARTICLE_COLUMNS} FROM articles ORDER BY published, uid").fetchall()
            self._conn.commit()
        for r in rows:
            yield self._article_from_row(r)

    def _views(self, story_rows: Sequence[Sequence[Any]]) -> list[StoryView]:
        ids = [r[0] for r in story_rows]
        members: dict[str, list[Article]] = {i: [] for i in ids}
        for chunk in _chunks(ids):
            for r in self._exec(
                f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE story_id IN ({self._in(len(chunk))}) "
                "ORDER BY published, uid",
                chunk,
            ).fetchall():
                members[r[15]].append(self._article_from_row(r))
        views = []
        for story_id, primary_uid, published, updated, topics in story_rows:
            copies = members.get(story_id) or []
            primary = next((m for m in copies if m.uid == primary_uid), None)
            if primary is None:
                continue
            ordered = (primary, *(m for m in copies if m.uid != primary_uid))
            views.append(StoryView(
                story_id=story_id, primary=primary, members=ordered, topics=_split_topics(topics),
                published=from_ts(published) or primary.published, updated=from_ts(updated) or primary.updated,
            ))
        return views

    def iter_stories(self) -> Iterator[StoryView]:
        with self._lock:
            rows = self._exec(
                "SELECT story_id, primary_uid, published, updated, topics FROM stories ORDER BY published, story_id"
            ).fetchall()
            views = self._views(rows)
            self._conn.commit()
        yield from views

    def stories_for_feed(self, topic_id: str | None, limit: int, sources: Sequence[str] = ()) -> list[StoryView]:
        fetch = limit * 4 if sources else limit
        with self._lock:
            if topic_id is None or topic_id == ALL_FEED:
                rows = self._exec(
                    "SELECT story_id, primary_uid, published, updated, topics FROM stories "
                    "ORDER BY published DESC, story_id LIMIT ?",
                    (fetch,),
                ).fetchall()
            else:
                rows = self._exec(
                    "SELECT s.story_id, s.primary_uid, s.published, s.updated, s.topics FROM story_topics t "
                    "JOIN stories s ON s.story_id = t.story_id WHERE t.topic = ? "
                    "ORDER BY t.published DESC, t.story_id LIMIT ?",
                    (topic_id, fetch),
                ).fetchall()
            views = self._views(rows)
            self._conn.commit()
        if sources:
            wanted = set(sources)
            views = [v for v in views if any(m.source_id in wanted for m in v.members)]
        return views[:limit]

    # ------------------------------------------------------------------ publishing bookkeeping
    def dirty_feeds(self) -> set[str]:
        with self._lock:
            rows = self._exec("SELECT feed_id FROM dirty_feeds").fetchall()
            self._conn.commit()
        return {r[0] for r in rows}

    def mark_feeds_clean(self, feed_ids: Iterable[str]) -> None:
        with self._lock:
            self._many("DELETE FROM dirty_feeds WHERE feed_id = ?", [(f,) for f in feed_ids])
            self._conn.commit()

    def mark_feeds_dirty(self, feed_ids: Iterable[str]) -> None:
        with self._lock:
            self._many(
                "INSERT INTO dirty_feeds (feed_id) VALUES (?) ON CONFLICT (feed_id) DO NOTHING",
                [(f,) for f in feed_ids],
            )
            self._conn.commit()

