"""Every file of ../shared/eval-feeds/data, served on 127.0.0.1, through the real pipeline.

Each file becomes a source. Each must be ingested or reported as that source's clear error; nothing
crashes, hangs past the deadline or leaks a local file (XXE); every published feed stays valid and holds
no script.
"""

from __future__ import annotations

import random
import re
import time
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from aggregator.pipeline import run_once
from aggregator.records import Config, Settings, Source, Topic
from aggregator.store import open_store
from tests.helpers.loopback import serve

ATOM = "{http://www.w3.org/2005/Atom}"
TOPICS = (
    Topic(id="tech", title="Technology", include=("technology", "software", "internet", "web", "computer")),
    Topic(id="news", title="News", include=("news", "report", "update")),
)


def _sources(data: Path, base: str) -> tuple[Source, ...]:
    files = sorted(p for p in data.rglob("*") if p.is_file())
    return tuple(
        Source(id=f"f{i:05d}", url=base + "data/" + str(p.relative_to(data)).replace("\\", "/"), kind="feed")
        for i, p in enumerate(files)
    )


def test_every_eval_feed_is_ingested_or_reported_and_output_stays_valid(shared_dir: Path, tmp_path: Path) -> None:
    data = shared_dir / "eval-feeds" / "data"
    root = tmp_path / "root"
    root.mkdir()
    (root / "data").symlink_to(data)
    secret = "root:x:0:0"  # what an XXE reading /etc/passwd would leak
    with serve(root) as (base, _):
        sources = _sources(data, base)
        settings = Settings(output_dir=tmp_path / "out", database=f"sqlite:///{tmp_path / 'agg.db'}",
                            base_url="https://feeds.example.org/", per_host=8, workers=8, deadline=10.0,
                            max_entries=5000)
        config = Config(settings=settings, topics=TOPICS, sources=sources)
        store = open_store(settings.database, settings)
        started = time.monotonic()
        report = run_once(config, store, now=datetime(2026, 11, 25, tzinfo=UTC), force=True,
                          rng=random.Random(1))
        elapsed = time.monotonic() - started
        stored = store.article_count()
        stories = sum(1 for _ in store.iter_stories())
        leaked_from = {a.source_id for a in store.iter_articles()
                       if secret in a.title + a.summary_html + a.content_html + a.text}
        store.close()

    assert len(report.outcomes) == len(sources)
    by_status: dict[str, int] = {}
    for o in report.outcomes:
        by_status[o.status] = by_status.get(o.status, 0) + 1
        assert o.status in ("ok", "error"), o
        if o.status == "error":
            assert o.error and len(o.error) > 10, o  # a message a user can act on
            assert "internal error" not in o.error, o  # no crash of ours, only clear per-source errors
        assert o.elapsed < 15, o  # nothing hangs past the deadline
    print(f"\n{len(sources)} files in {elapsed:.1f}s: {by_status}, {stored} records stored")
    assert by_status.get("ok", 0) >= 0.9 * len(sources)
    # a file that itself contains passwd lines may carry them; any other source would have read a local file
    files = {s.id: data / s.url.split("/data/", 1)[1] for s in sources}
    assert all(secret.encode() in files[sid].read_bytes() for sid in leaked_from), leaked_from

    feeds = sorted((tmp_path / "out").glob("*.atom"))
    assert {p.name for p in feeds} >= {"all.atom", "tech.atom", "news.atom"}
    for path in feeds:
        raw = path.read_bytes()
        doc = etree.fromstring(raw)
        assert doc.tag == f"{ATOM}feed"
        ids = [e.findtext(f"{ATOM}id") for e in doc.iter(f"{ATOM}entry")]
        assert len(ids) == len(set(ids)) and all(ids)
        for entry in doc.iter(f"{ATOM}entry"):
            assert entry.findtext(f"{ATOM}title") is not None
            assert entry.findtext(f"{ATOM}updated")
        lowered = raw.lower()
        assert b"<script" not in lowered and b"&lt;script" not in lowered
        assert not re.search(rb"(href|src)\s*=\s*(\"|'|&quot;|&#34;)?\s*javascript:", lowered)
    all_entries = etree.fromstring((tmp_path / "out" / "all.atom").read_bytes()).findall(f"{ATOM}entry")
    assert len(all_entries) == min(stories, 5000) > 0
