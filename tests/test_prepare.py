"""prepare: the same records whether a feed is read in the calling thread or in a worker process."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.errors import ParseError
from aggregator.prepare import MIN_FEEDS_FOR_PROCESSES, CpuPool
from aggregator.records import Source, Topic

NOW = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
TOPICS = (Topic(id="iot", title="IoT", include=("IoT", "sensor")), Topic(id="ai", title="AI", include=("AI",)))
SOURCE = Source(id="fair", url="https://fair.example/feed.xml", kind="feed")
BODY = " ".join(f"Exhibitors number {i} showed sensor gateways and IoT modules to buyers in hall {i}."
                for i in range(12))
RSS = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Fair</title>
<item><title>IoT hall opens</title><link>https://fair.example/1?utm_source=x</link><guid>1</guid>
<pubDate>Mon, 03 Jun 2024 08:00:00 GMT</pubDate><description>{BODY}</description></item>
<item><title>Robots said hello</title><link>https://fair.example/2</link><guid>2</guid>
<description>Short.</description></item>
</channel></rss>""".encode()


def _prepare(processes: int) -> tuple[list[tuple[object, ...]], dict[str, bytes | None]]:
    pool = CpuPool(TOPICS, processes)
    try:
        feed = pool.prepare(RSS, SOURCE, url=SOURCE.url, content_type="application/rss+xml", charset=None, now=NOW)
    finally:
        pool.close()
    rows = [(a.uid, a.url, a.title, a.published, a.topics, a.text_hash) for a in feed.articles]
    return rows, {uid: sig.to_bytes() if sig else None for uid, sig in feed.signatures.items()}


def test_worker_processes_give_the_same_records_and_signatures_as_the_calling_thread() -> None:
    inline = _prepare(0)
    in_workers = _prepare(2)
    assert inline == in_workers
    rows, signatures = inline
    assert [r[1] for r in rows] == ["https://fair.example/1", "https://fair.example/2"]  # tracking gone
    assert rows[0][4] == ("iot",) and rows[1][4] == ()  # "said" is not AI
    assert signatures[rows[0][0]] is not None and signatures[rows[1][0]] is None  # too short to judge


def test_a_feed_that_is_not_a_feed_is_a_parse_error_from_a_worker_too() -> None:
    pool = CpuPool(TOPICS, 2)
    try:
        with pytest.raises(ParseError):
            pool.prepare(b"<html><body>login</body></html>", SOURCE, url=SOURCE.url, content_type="text/html",
                         charset=None, now=NOW)
    finally:
        pool.close()


def test_processes_start_only_for_runs_big_enough_to_pay_for_them() -> None:
    assert CpuPool.size_for(None, MIN_FEEDS_FOR_PROCESSES - 1) == 0
    assert CpuPool.size_for(0, 1000) == 0  # processes: 0 turns them off
    assert CpuPool.size_for(3, 1000) == 3


def test_a_worker_that_dies_fails_its_feed_and_the_next_feeds_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import aggregator.prepare as prepare

    real = prepare.prepare_feed

    def crash_on_poison(body: bytes, *args: object, **kwargs: object) -> object:
        if body == b"poison":
            os._exit(1)  # what an out-of-memory kill or a crash in a C library looks like to the parent
        return real(body, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(prepare, "prepare_feed", crash_on_poison)  # inherited by the forked workers
    pool = CpuPool(TOPICS, 2)
    try:
        with pytest.raises(ParseError, match="worker process died"):
            pool.prepare(b"poison", SOURCE, url=SOURCE.url, content_type=None, charset=None, now=NOW)
        feed = pool.prepare(RSS, SOURCE, url=SOURCE.url, content_type=None, charset=None, now=NOW)
        assert len(feed.articles) == 2
    finally:
        pool.close()


def test_articles_pickle_back_whole() -> None:
    """Articles cross from the worker processes pickled as their constructor's arguments."""
    import pickle

    from aggregator.records import Article

    when = datetime(2024, 6, 1, tzinfo=UTC)
    article = Article(uid="u", source_id="s", guid="g", url="https://example.com/1", title="T", published=when,
                      updated=when, date_source="rss:pubDate", author=None, language="en", summary_html="<p>s</p>",
                      content_html="<p>c</p>", text="c", text_hash="h", topics=("ai",), story_id="st")
    assert pickle.loads(pickle.dumps(article)) == article
    assert article.__reduce__() == (Article, tuple(getattr(article, f) for f in Article.__dataclass_fields__))


def test_records_from_workers_are_whole_but_for_the_plain_text_the_store_does_not_keep() -> None:
    from dataclasses import replace

    from aggregator.prepare import PreparedFeed

    def feed(processes: int) -> PreparedFeed:
        pool = CpuPool(TOPICS, processes)
        try:
            return pool.prepare(RSS, SOURCE, url=SOURCE.url, content_type="application/rss+xml", charset=None,
                                now=NOW)
        finally:
            pool.close()

    inline, in_workers = feed(0), feed(2)
    assert all(a.text for a in inline.articles)
    assert list(in_workers.articles) == [replace(a, text="") for a in inline.articles]
    for uid, sig in inline.signatures.items():
        other = in_workers.signatures[uid]
        assert (sig is None and other is None) or (
            sig is not None and other is not None and sig == other and sig.keys is not None
            and other.keys is not None and sig.keys.tolist() == other.keys.tolist())


def test_workers_run_at_the_lowest_priority_so_the_storing_parent_gets_a_core_when_it_wants_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import aggregator.prepare as prepare

    real = prepare.prepare_feed

    def report_niceness(body: bytes, *args: object, **kwargs: object) -> object:
        feed = real(body, *args, **kwargs)  # type: ignore[arg-type]
        return prepare.PreparedFeed(feed.articles, feed.signatures, warnings=(f"nice={os.nice(0)}",))

    monkeypatch.setattr(prepare, "prepare_feed", report_niceness)  # inherited by the forked workers
    pool = CpuPool(TOPICS, 1)
    try:
        feed = pool.prepare(RSS, SOURCE, url=SOURCE.url, content_type=None, charset=None, now=NOW)
    finally:
        pool.close()
    assert feed.warnings == (f"nice={min(19, os.nice(0) + prepare.WORKER_NICENESS)}",)
