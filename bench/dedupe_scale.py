#!/usr/bin/env python3
"""Does near-duplicate detection stay flat as history grows? Ingest cost with 10k vs 1M stored records.

    .venv/bin/python bench/dedupe_scale.py [--records 1000000] [--baseline 10000] [--new 10000]

For each history size it bulk-loads a SQLite store (bench/work/dedupe-scale/) straight through the
store's schema (articles with real signatures, their stories and LSH rows, in big transactions, the LSH
index rebuilt once at the end), then a separate process ingests `--new` records through
`SqlStore.ingest` in feed-sized batches and reports the time per record and its peak RSS. A fifth of
the new records are edited copies of recent stored ones, so the join path is exercised too.

History arrives at a steady rate (`--per-day`), so with the default 14-day window the in-window part
of the history is about the same size whatever the total: what grows is everything older, which the
LSH index (band_key, published) must skip without reading.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from stopwatch import Stopwatch  # noqa: E402

from aggregator import dedupe  # noqa: E402
from aggregator.dedupe.shingles import STOPWORDS  # noqa: E402
from aggregator.records import Article, Settings  # noqa: E402
from aggregator.store import SqlStore, open_store  # noqa: E402
from aggregator.store.recent_bands import decode_rows, encode_rows  # noqa: E402
from aggregator.store.schema import BAND_PERIOD  # noqa: E402
from aggregator.store.sql import mint_story_id, ref_of  # noqa: E402

WORK = HERE / "work" / "dedupe-scale"
NOW = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
VOCAB_SIZE = 20_000
BATCH = 50  # records per ingest call, like one feed
NEAR_DUP = "near-duplicate steps"


def vocabulary() -> np.ndarray:
    rng = np.random.default_rng(7)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lengths = rng.integers(2, 11, VOCAB_SIZE)
    words = ["".join(rng.choice(letters, n)) for n in lengths]
    stop = [w for w in STOPWORDS.split() if w.isascii()][:150]  # the commonest words are function words
    words[: len(stop)] = stop
    return np.array(words, dtype=object)


class TextMaker:
    """Deterministic synthetic article bodies: Zipf-distributed words, so common phrases do occur."""

    def __init__(self, words: int) -> None:
        self.vocab = vocabulary()
        weights = 1.0 / np.arange(1, VOCAB_SIZE + 1) ** 1.05
        self.cdf = np.cumsum(weights / weights.sum())
        self.words = words

    def text(self, n: int) -> str:
        rng = np.random.default_rng(n)
        idx = np.searchsorted(self.cdf, rng.random(self.words))
        return " ".join(self.vocab[np.minimum(idx, VOCAB_SIZE - 1)])


def published_at(i: int, total: int, per_day: int) -> int:
    """Record i of `total` stored ones, the newest arriving just before NOW at `per_day` a day."""
    return int(NOW.timestamp()) - int((total - i) * 86400 / per_day)


def load(db: Path, records: int, per_day: int, words: int) -> None:
    if db.exists():
        db.unlink()
    store = open_store(f"sqlite:///{db}", Settings())
    store.close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    maker = TextMaker(words)
    start = time.perf_counter()
    chunk = 20_000
    for base in range(0, records, chunk):
        articles: list[tuple[object, ...]] = []
        stories: list[tuple[object, ...]] = []
        topics: list[tuple[object, ...]] = []
        signatures: list[tuple[object, ...]] = []
        bands: list[tuple[object, ...]] = []
        for i in range(base, min(records, base + chunk)):
            text = maker.text(i)
            sig = dedupe.make_signature("", text, "en")
            uid = f"hist-{i}"
            story = mint_story_id(uid)
            pub = published_at(i, records, per_day)
            articles.append((
                uid, f"src-{i % 1000}", f"g{i}", f"https://src-{i % 1000}.example/{i}", f"Story {i}", pub, pub,
                "rss:pubDate", None, "en", "", f"<p>{text}</p>", text, hashlib.sha256(text.encode()).hexdigest(),
                "iot", story, 0, pub, pub,
            ))
            stories.append((story, uid, pub, pub, "iot", pub))
            topics.append(("iot", story, pub))
            if sig is not None:
                ref = ref_of(uid)
                signatures.append((ref, story, sig.to_bytes()))
                bands.extend((pub // BAND_PERIOD, key, pub, ref) for key in dedupe.band_keys(sig))
        with conn:
            conn.executemany(f"INSERT INTO articles VALUES ({','.join('?' * 19)})", articles)
            conn.executemany("INSERT INTO stories VALUES (?, ?, ?, ?, ?, ?)", stories)
            conn.executemany("INSERT INTO story_topics VALUES (?, ?, ?)", topics)
            conn.executemany("INSERT INTO signatures (ref, story_id, signature) VALUES (?, ?, ?) "
                             "ON CONFLICT (ref) DO NOTHING", signatures)
            # the real store stops filling a band bucket at BUCKET_CAP stories; synthetic texts rarely get there
            conn.executemany("INSERT INTO bands (period, band_key, published, ref) VALUES (?, ?, ?, ?) "
                             "ON CONFLICT DO NOTHING", bands)
        done = min(records, base + chunk)
        rate = done / (time.perf_counter() - start)
        print(f"  loaded {done:,}/{records:,} ({rate:,.0f} records/s)", file=sys.stderr, flush=True)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    store = open_store(f"sqlite:///{db}", Settings())
    store.move_bands_into_blocks()  # SQLite keeps them as blocks (store/band_blocks.py); inserted above as rows
    store._conn.commit()
    store.close()


def new_articles(count: int, stored: int, per_day: int, words: int) -> Iterator[Article]:
    """Fresh records, a fifth of them edited copies (dateline added, tail cut) of recent stored ones."""
    maker = TextMaker(words)
    for j in range(count):
        if j % 5 == 0:
            original = stored - 1 - (j // 5) % min(stored, per_day * 3)  # distinct originals, last 3 days
            body = maker.text(original)
            text = "SHENZHEN, June 3 /Wire/ -- " + body[: int(len(body) * 0.85)]
        else:
            text = maker.text(10_000_000 + j)
        pub = NOW + timedelta(seconds=j)
        yield Article(
            uid=f"new-{j}", source_id=f"feed-{j // BATCH}", guid=f"n{j}", url=f"https://new.example/{j}",
            title=f"New story {j}", published=pub, updated=pub, date_source="rss:pubDate", author=None,
            language="en", summary_html="", content_html=f"<p>{text}</p>", text=text,
            text_hash=hashlib.sha256(text.encode()).hexdigest(), topics=("iot",),
        )


def ingest(db: Path, count: int, stored: int, per_day: int, words: int) -> dict[str, float]:
    articles = list(new_articles(count, stored, per_day, words))
    dedupe.make_signature("", articles[0].text, "en")  # build the lookup tables outside the timing
    near_dup = Stopwatch()
    for name in ("_candidates", "_best_stored_stories", "_best_in_batch"):
        near_dup.wrap(SqlStore, name, NEAR_DUP)
    for name in ("make_signature", "band_keys"):
        near_dup.wrap(dedupe, name, NEAR_DUP)
    store = open_store(f"sqlite:///{db}", Settings())
    start = time.perf_counter()
    for b in range(0, count, BATCH):
        batch = articles[b : b + BATCH]
        store.ingest(batch[0].source_id, batch, NOW + timedelta(hours=1))
    store.close()  # timed: merging the run's LSH rows into the index is part of storing them
    elapsed = time.perf_counter() - start
    peak_rss_mb = peak_rss()  # before the checks below
    copies = [a.uid for a in articles[::5]]
    with sqlite3.connect(db) as conn:
        joined = sum(
            1 for uid, story, published in conn.execute(
                f"SELECT uid, story_id, published FROM articles WHERE uid IN ({','.join('?' * len(copies))})", copies)
            if story != mint_story_id(uid, published)  # not the story it would have started
        ) if len(copies) < 30_000 else -1
        other = conn.execute(
            "SELECT COUNT(*) FROM articles WHERE uid LIKE 'new-%' AND story_id NOT IN "
            "(SELECT story_id FROM articles WHERE uid LIKE 'new-%' GROUP BY story_id HAVING COUNT(*) = 1) "
        ).fetchone()[0]
    return {
        "stored": stored, "new": count, "seconds": elapsed, "us_per_record": elapsed / count * 1e6,
        "dedupe_us_per_record": near_dup.seconds[NEAR_DUP] / count * 1e6,
        "peak_rss_mb": peak_rss_mb,
        "copies_joined": joined, "copies": len(copies), "new_sharing_a_story_with_new": other,
    }


def peak_rss() -> float:
    """Peak RSS of this process in MB. VmHWM, because ru_maxrss survives exec and would report the parent's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset(db: Path) -> None:
    """Remove what an earlier ingest run added, so --reuse measures the same history again."""
    open_store(f"sqlite:///{db}", Settings()).close()  # a history loaded by older code is migrated first
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM story_topics WHERE story_id IN "
                     "(SELECT story_id FROM stories WHERE primary_uid LIKE 'new-%')")
        conn.execute("DELETE FROM stories WHERE primary_uid LIKE 'new-%'")
        refs = [(ref,) for uid, published in conn.execute("SELECT uid, published FROM articles WHERE uid LIKE 'new-%'")
                for ref in (ref_of(uid), ref_of(uid, published))]  # as older code made them, and as now
        conn.execute("CREATE TEMP TABLE gone (ref INTEGER PRIMARY KEY)")
        conn.executemany("INSERT OR IGNORE INTO gone VALUES (?)", refs)
        conn.execute("DELETE FROM bands WHERE ref IN (SELECT ref FROM gone)")  # a scan: bands is keyed by band
        gone = np.array(sorted(r for (r,) in refs), dtype=np.int64)
        first = min((published for (published,) in conn.execute(
            "SELECT published FROM articles WHERE uid LIKE 'new-%'")), default=None)
        for period, block, blob in conn.execute("SELECT period, block, rows FROM band_blocks WHERE period >= ?",
                                                ((first or 0) // BAND_PERIOD,)).fetchall():
            rows = decode_rows(bytes(blob))
            kept = rows[~np.isin(rows[:, 2], gone)]
            if len(kept) < len(rows):
                conn.execute("UPDATE band_blocks SET rows = ? WHERE period = ? AND block = ?",
                             (encode_rows(kept), period, block))
        conn.execute("DELETE FROM signatures WHERE ref IN (SELECT ref FROM gone)")
        conn.execute("DELETE FROM pending_bands")
        conn.execute("DELETE FROM articles WHERE uid LIKE 'new-%'")
        conn.execute("DELETE FROM dirty_feeds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000, help="stored history for the big run")
    parser.add_argument("--baseline", type=int, default=10_000, help="stored history for the small run")
    parser.add_argument("--new", type=int, default=10_000, help="records ingested through the store")
    parser.add_argument("--per-day", type=int, default=700, help="history arrival rate (records a day)")
    parser.add_argument("--words", type=int, default=250, help="words per synthetic article")
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    parser.add_argument("--phase", choices=["load", "ingest"], help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stored", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "load":
        load(args.db, args.stored, args.per_day, args.words)
        return
    if args.phase == "ingest":
        print(json.dumps(ingest(args.db, args.new, args.stored, args.per_day, args.words)))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    results = []
    for stored in (args.baseline, args.records):
        db = WORK / f"history-{stored}.db"
        if not (args.reuse and db.exists()):
            t = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--phase", "load", "--db", str(db), "--stored", str(stored),
                            "--per-day", str(args.per_day), "--words", str(args.words)], check=True)
            print(f"loaded {stored:,} records in {time.perf_counter() - t:.0f} s ({db.stat().st_size / 1e9:.1f} GB)",
                  file=sys.stderr)
        else:
            reset(db)
        out = subprocess.run(
            [sys.executable, __file__, "--phase", "ingest", "--db", str(db), "--new", str(args.new),
             "--stored", str(stored), "--per-day", str(args.per_day), "--words", str(args.words)],
            check=True, capture_output=True, text=True,
        )
        result = json.loads(out.stdout)
        results.append(result)
        print(f"{stored:>10,} stored: {result['us_per_record']:7.0f} us per new record "
              f"(near-duplicate steps {result['dedupe_us_per_record']:.0f} us), "
              f"peak RSS {result['peak_rss_mb']:.0f} MB, {result['copies_joined']}/{result['copies']} copies joined")
    ratio = results[1]["us_per_record"] / results[0]["us_per_record"]
    dedupe_ratio = results[1]["dedupe_us_per_record"] / results[0]["dedupe_us_per_record"]
    print(f"time per record, {args.records:,} vs {args.baseline:,} stored: {ratio:.2f}x for the whole ingest, "
          f"{dedupe_ratio:.2f}x for the near-duplicate steps (goal <= 1.5x)")
    (WORK / "results.json").write_text(
        json.dumps({"runs": results, "ratio": ratio, "dedupe_ratio": dedupe_ratio}, indent=2))


if __name__ == "__main__":
    main()
