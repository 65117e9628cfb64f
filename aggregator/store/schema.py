"""Schema migrations, written once in portable SQL for SQLite and PostgreSQL.

Times are stored as integer Unix seconds (UTC): they sort, index and compare the same in both
databases. `{blob}` becomes BLOB or BYTEA; `{without_rowid}` makes SQLite store a table as its primary-key
B-tree (PostgreSQL has no such option and needs none). A step that is not SQL is the name of a store method
(a data backfill that needs Python, e.g. hashing).
"""

from __future__ import annotations

# LSH rows are stored by fortnight of publication, (period, band_key, published, ref): the rows a run adds
# are recent, so merging them rewrites pages of the last period or two, not pages spread over all of history
# (band keys are random). A look-up probes each period its dedupe window overlaps (two, with the default
# 14-day window): longer periods mean fewer probes, shorter ones smaller merges at high arrival rates.
BAND_PERIOD = 14 * 86400


def period_sql(published: str) -> str:
    """`published // BAND_PERIOD` (a floor, like Python's) in SQL, where "/" truncates towards zero in both
    databases; `published` is a column or a parameter."""
    return (f"CASE WHEN {published} >= 0 THEN {published} / {BAND_PERIOD} "
            f"ELSE ({published} + 1) / {BAND_PERIOD} - 1 END")


# `bands` since schema 6: LSH rows by period first (see BAND_PERIOD)
_BANDS_BY_PERIOD = """(
                period BIGINT NOT NULL,
                band_key BIGINT NOT NULL,
                published BIGINT NOT NULL,
                ref BIGINT NOT NULL,
                PRIMARY KEY (period, band_key, published, ref)
            ){without_rowid}"""

MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            """CREATE TABLE IF NOT EXISTS source_state (
                source_id TEXT PRIMARY KEY,
                url TEXT,
                etag TEXT,
                last_modified TEXT,
                last_attempt BIGINT,
                last_success BIGINT,
                last_status TEXT,
                http_status INTEGER,
                last_error TEXT,
                consecutive_failures INTEGER NOT NULL DEFAULT 0,
                next_due BIGINT,
                new_entries INTEGER NOT NULL DEFAULT 0,
                retry_after_until BIGINT,
                disabled_reason TEXT,
                interval_s INTEGER,
                items_seen INTEGER NOT NULL DEFAULT 0
            )""",
            """CREATE TABLE IF NOT EXISTS articles (
                uid TEXT PRIMARY KEY,
                source_id TEXT NOT NULL,
                guid TEXT NOT NULL,
                url TEXT NOT NULL,
                title TEXT NOT NULL,
                published BIGINT NOT NULL,
                updated BIGINT NOT NULL,
                date_source TEXT NOT NULL,
                author TEXT,
                language TEXT,
                summary_html TEXT NOT NULL,
                content_html TEXT NOT NULL,
                text TEXT NOT NULL,
                text_hash TEXT NOT NULL,
                topics TEXT NOT NULL,
                story_id TEXT NOT NULL,
                priority INTEGER NOT NULL DEFAULT 0,
                first_seen BIGINT NOT NULL,
                changed_at BIGINT NOT NULL,
                signature {blob}
            )""",
            "CREATE UNIQUE INDEX IF NOT EXISTS articles_source_guid ON articles (source_id, guid)",
            "CREATE INDEX IF NOT EXISTS articles_url ON articles (url)",
            "CREATE INDEX IF NOT EXISTS articles_text_hash ON articles (text_hash)",
            "CREATE INDEX IF NOT EXISTS articles_story ON articles (story_id)",
            """CREATE TABLE IF NOT EXISTS stories (
                story_id TEXT PRIMARY KEY,
                primary_uid TEXT NOT NULL,
                published BIGINT NOT NULL,
                updated BIGINT NOT NULL,
                topics TEXT NOT NULL,
                created BIGINT NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS stories_published ON stories (published, story_id)",
            """CREATE TABLE IF NOT EXISTS story_topics (
                topic TEXT NOT NULL,
                story_id TEXT NOT NULL,
                published BIGINT NOT NULL,
                PRIMARY KEY (topic, story_id)
            )""",
            "CREATE INDEX IF NOT EXISTS story_topics_order ON story_topics (topic, published, story_id)",
            """CREATE TABLE IF NOT EXISTS lsh (
                band_key BIGINT NOT NULL,
                published BIGINT NOT NULL,
                article_uid TEXT NOT NULL,
                story_id TEXT NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS lsh_key ON lsh (band_key, published)",
            "CREATE TABLE IF NOT EXISTS dirty_feeds (feed_id TEXT PRIMARY KEY)",
        ],
    ),
    (
        # Near-dupe data out of `articles`: LSH rows shrink from (key, date, uid, story) with a secondary index
        # to one primary-key B-tree of integers, which is what a 50,000-record first poll spends its time on.
        2,
        [
            """CREATE TABLE IF NOT EXISTS signatures (
                ref BIGINT PRIMARY KEY,
                story_id TEXT NOT NULL,
                signature {blob} NOT NULL
            )""",
            """CREATE TABLE IF NOT EXISTS bands (
                band_key BIGINT NOT NULL,
                published BIGINT NOT NULL,
                ref BIGINT NOT NULL,
                PRIMARY KEY (band_key, published, ref)
            ){without_rowid}""",
            "python:move_signatures_out_of_articles",
            "DROP TABLE IF EXISTS lsh",
            "ALTER TABLE articles DROP COLUMN signature",
        ],
    ),
    (
        # so a cron run notices that a source's url was edited (the daemon also sees it on reload)
        3,
        ["ALTER TABLE source_state ADD COLUMN configured_url TEXT"],
    ),
    (
        # A run's LSH rows wait here (a blob a source: an append costs one page) until they are merged into
        # `bands` in key order at the end of the run (SQLite; see store/recent_bands.py)
        4,
        ["CREATE TABLE IF NOT EXISTS pending_bands (rows {blob} NOT NULL)"],
    ),
    (
        # The uid is a hash of (source_id, guid), so its primary key already keeps that pair unique; no query
        # reads this index, and keeping it up cost a quarter of a first poll's article inserts.
        5,
        ["DROP INDEX IF EXISTS articles_source_guid"],
    ),
    (
        # LSH rows by period (see BAND_PERIOD): at a million stored records, merging a run's rows into an index
        # keyed by band alone rewrote most of its 1 GB
        6,
        [
            f"CREATE TABLE IF NOT EXISTS bands_by_period {_BANDS_BY_PERIOD}",
            "INSERT INTO bands_by_period (period, band_key, published, ref) "
            f"SELECT {period_sql('published')}, band_key, published, ref FROM bands",
            "DROP TABLE bands",
            "ALTER TABLE bands_by_period RENAME TO bands",
        ],
    ),
    (
        # A record has 20 LSH bands where it had 32 (dedupe/near.py BANDS): the rows of the other 12, a third of
        # `bands`, are never read again. Copied without them, period by period (the rows of killed runs waiting
        # in `pending_bands` too).
        7,
        [
            f"CREATE TABLE IF NOT EXISTS bands_probed {_BANDS_BY_PERIOD}",
            "python:copy_rows_of_probed_bands",
            "DROP TABLE bands",
            "ALTER TABLE bands_probed RENAME TO bands",
        ],
    ),
    (
        # SQLite keeps LSH rows as blobs by period and key range (store/band_blocks.py): a row a band in a
        # B-tree cost a first poll's storing thread a sixth of its time. Its `bands` rows move there, period by
        # period; PostgreSQL, where workers insert rows side by side, keeps `bands` (and this table empty).
        8,
        [
            """CREATE TABLE IF NOT EXISTS band_blocks (
                period BIGINT NOT NULL,
                block BIGINT NOT NULL,
                rows {blob} NOT NULL,
                PRIMARY KEY (period, block)
            ){without_rowid}""",
            "python:move_bands_into_blocks",
        ],
    ),
]

LATEST = MIGRATIONS[-1][0]
