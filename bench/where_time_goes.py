#!/usr/bin/env python3
"""Where a first poll's CPU goes, stage by stage, without the noise of a whole run: one command.

    .venv/bin/python bench/where_time_goes.py [--feeds 1000] [--entries 50] [--stage workers|store|both]

`workers`: every feed of bench/run.py's farm through `prepare_feed` in this one process, with the time of
each stage (parse, sanitise, text hash, classify, signatures, pickling...) per record. `store`: the same
records stored into an empty SQLite database as a first poll stores them (batches of pipeline.BATCH_RECORDS
records), with the time of the index merges and what the database wrote (bytes and system calls, from
/proc/self/io). The prepared records are cached under bench/work/, so the store replay starts at once.

Figures here are CPU seconds of one process; the whole run's wall time is what bench/run.py and
bench/ab.py measure.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import pickle
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import run  # noqa: E402  (bench/run.py: the farm and its sources.yaml)
from stopwatch import Stopwatch  # noqa: E402

from aggregator import pipeline  # noqa: E402
from aggregator.config import load_config  # noqa: E402
from aggregator.records import Config, Source  # noqa: E402

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def farm_config(feeds: int, entries: int) -> tuple[Config, Path]:
    farm = run.generate(feeds, entries, 20, 8089)  # bench/run.py's farm: generated once, shared
    config_path = run.WORK / f"where-{feeds}x{entries}.yaml"
    urls = (farm / "public" / "feeds.txt").read_text().split()
    run.write_config(config_path, urls, "feed", "where")
    return load_config(config_path), farm


def body_of(farm: Path, url: str) -> bytes:
    return (farm / "public" / url.split("/", 3)[3]).read_bytes()


def workers(config: Config, farm: Path) -> None:
    from aggregator import normalise, prepare
    from aggregator.classify import Classifier

    watch = Stopwatch()
    for name in ("parse_feed", "normalise_entry", "signatures_of"):
        watch.wrap(prepare, name)
    for name in ("sanitized", "html_to_text", "text_hash", "canonical_url", "entry_dates", "detect_language",
                 "record_uid", "plain_text"):
        watch.wrap(normalise, name)
    watch.wrap(Classifier, "classify")
    classifier = Classifier(config.topics)
    bodies = [(s, body_of(farm, s.url)) for s in config.sources]
    records = 0
    pickling = 0.0
    start = time.process_time()
    for source, body in bodies:
        feed = prepare.prepare_feed(body, source, classifier, url=source.url, content_type=None, charset=None,
                                    now=NOW)
        t = time.perf_counter()
        pickle.dumps(feed, protocol=pickle.HIGHEST_PROTOCOL)
        pickling += time.perf_counter() - t
        records += len(feed.articles)
    total = time.process_time() - start
    print(f"workers: {records:,} records in {total:.2f} s of CPU, {total / records * 1e6:.0f} us a record")
    for name, seconds in [*watch.seconds.most_common(), ("pickling", pickling)]:
        print(f"  {name:18s} {seconds:6.2f} s  {seconds / records * 1e6:6.1f} us a record  "
              f"({watch.calls[name] or len(bodies)} calls)")


def prepared_records(config: Config, farm: Path) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """(source id, articles, signatures) of every feed, prepared once and cached (in worker processes)."""
    cache = run.WORK / f"where-prepared-{farm.name}-{_code_digest()}.pickle"
    if cache.exists():
        with cache.open("rb") as f:
            cached: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = pickle.load(f)
        return cached
    from concurrent.futures import ThreadPoolExecutor

    from aggregator.prepare import CpuPool

    pool = CpuPool(config.topics, os.cpu_count() or 1)

    def one(source: Source) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        feed = pool.prepare(body_of(farm, source.url), source, url=source.url, content_type=None, charset=None,
                            now=NOW)
        return source.id, feed.articles, feed.signatures

    try:
        with ThreadPoolExecutor(os.cpu_count() or 1) as threads:
            out = list(threads.map(one, config.sources))
    finally:
        pool.close()
    for stale in run.WORK.glob(f"where-prepared-{farm.name}*.pickle"):  # prepared by other code
        stale.unlink()
    with cache.open("wb") as f:
        pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)
    return out


def _code_digest() -> str:
    """Of the package's sources: records prepared by other code are not replayed (their signatures may differ)."""
    digest = hashlib.sha1()
    package = HERE.parent / "aggregator"
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.c")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def store(config: Config, farm: Path) -> None:
    from aggregator.store import SqlStore, open_store
    from aggregator.store.base import IngestItem

    data = prepared_records(config, farm)
    folder = run.WORK / "where-store"
    shutil.rmtree(folder, ignore_errors=True)
    watch = Stopwatch()
    watch.wrap(SqlStore, "_merge_unmerged", "merges into bands")
    watch.wrap(SqlStore, "_many", "executemany")
    before = _io()
    start = time.process_time()
    db = open_store(f"sqlite:///{folder / 'agg.db'}", config.settings)
    batch: list[IngestItem] = []
    waiting = 0
    for source_id, articles, signatures in data:
        batch.append(IngestItem(source_id, articles, None, 0, signatures))
        waiting += len(articles)
        if waiting >= pipeline.BATCH_RECORDS or len(batch) >= pipeline.BATCH_SOURCES:
            db.ingest_many(batch, NOW)
            batch, waiting = [], 0
    if batch:
        db.ingest_many(batch, NOW)
    db.merge_pending_bands()
    stored = db.article_count()
    db.close()
    total = time.process_time() - start
    after = _io()
    records = sum(len(a) for _, a, _ in data)
    print(f"store: {records:,} records ({stored:,} stored, the rest exact copies) in {total:.2f} s of CPU, "
          f"{total / records * 1e6:.0f} us a record; database {(folder / 'agg.db').stat().st_size / 1e6:.0f} MB")
    print(f"  written {(after['wchar'] - before['wchar']) / 1e6:,.0f} MB in {after['syscw'] - before['syscw']:,} "
          f"calls, read {(after['rchar'] - before['rchar']) / 1e6:,.0f} MB in {after['syscr'] - before['syscr']:,}")
    for name, seconds in watch.seconds.most_common():
        print(f"  {name:18s} {seconds:6.2f} s  ({watch.calls[name]} calls)")
    shutil.rmtree(folder, ignore_errors=True)


def _io() -> dict[str, int]:
    try:
        lines = Path("/proc/self/io").read_text().splitlines()
    except OSError:
        return collections.defaultdict(int)
    return {key: int(value) for key, value in (line.split(": ") for line in lines)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--stage", choices=["workers", "store", "both"], default="both")
    args = parser.parse_args()
    if not run.FARM_TOOLS.is_dir():
        raise SystemExit(f"../shared/feedfarm not found at {run.FARM_TOOLS}: this needs it")
    run.WORK.mkdir(exist_ok=True)
    config, farm = farm_config(args.feeds, args.entries)
    if args.stage in ("workers", "both"):
        workers(config, farm)
    if args.stage in ("store", "both"):
        store(config, farm)


if __name__ == "__main__":
    main()
