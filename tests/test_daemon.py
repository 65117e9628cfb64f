"""The daemon's parts in-process: hot reload, the write gate, interval changes, and ticks over loopback."""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.config import check_config, load_config
from aggregator.daemon import ConfigWatcher, Daemon, Stopping, WriteGate, apply_config_changes, run_daemon
from aggregator.records import SourceState
from tests.helpers.loopback import serve

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{name}</title><link>http://fair.example/</link>
<item><title>{name}: robots fill Hall {n}</title><link>http://fair.example/{name}/{n}</link>
<guid>{name}-{n}</guid><pubDate>Mon, 06 May 2024 10:00:00 +0000</pubDate>
<description>Cobots and sensors from {name}.</description></item>
</channel></rss>
"""

CONFIG = """settings:
  output_dir: out
  database: sqlite:///state/agg.db
  min_interval: 1
  default_interval: {interval}
sources:
"""


def write_config(path: Path, base: str, names: list[str], interval: int = 3600, extra: str = "") -> None:
    text = CONFIG.format(interval=interval) + "".join(
        f"  - id: {n}\n    url: {base}{n}.rss\n    kind: feed\n" for n in names) + extra
    path.write_text(text, encoding="utf-8")
    # editors save within the same second: make each edit visible to the mtime check
    stamp = time.time_ns() + len(text) * 1000
    os.utime(path, ns=(stamp, stamp))


def test_watcher_keeps_the_last_good_config_and_logs_check_messages(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "sources.yaml"
    write_config(path, "http://127.0.0.1:1/", ["a"])
    watcher = ConfigWatcher(path, load_config(path))
    assert watcher.poll() == (watcher.config, False)
    write_config(path, "http://127.0.0.1:1/", ["a", "b"])
    config, changed = watcher.poll()
    assert changed and [s.id for s in config.sources] == ["a", "b"]

    path.write_text(path.read_text() + "  - id: c\n    kind: feed\n    interval: soon\n", encoding="utf-8")
    problems = [str(p) for p in check_config(path)]
    assert problems
    with caplog.at_level(logging.ERROR, logger="aggregator.daemon"):
        config, changed = watcher.poll()
    assert not changed and [s.id for s in config.sources] == ["a", "b"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for problem in problems:
        assert problem.replace('"', '\\"') in logged
    assert "kept-last-good" in logged
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="aggregator.daemon"):
        watcher.poll()
    assert caplog.records == []  # one report per bad edit, not one per tick


def test_watcher_ignores_a_touch_and_keeps_restart_only_settings(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    write_config(path, "http://127.0.0.1:1/", ["a"])
    watcher = ConfigWatcher(path, load_config(path))
    os.utime(path, ns=(time.time_ns() + 5 * 10**9,) * 2)
    assert watcher.poll()[1] is False
    path.write_text(path.read_text().replace("state/agg.db", "elsewhere/agg.db"), encoding="utf-8")
    config, changed = watcher.poll()
    assert changed
    assert config.settings.database.endswith("/state/agg.db")


def test_write_gate_waits_for_the_write_under_way_then_refuses() -> None:
    gate = WriteGate()
    inside, release = threading.Event(), threading.Event()

    def writer() -> None:
        with gate.write():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=writer)
    thread.start()
    inside.wait(5)
    assert gate.close(0.1) is False  # still writing
    release.set()
    thread.join(5)
    assert gate.close(1) is True
    with pytest.raises(Stopping), gate.write():
        pass


def test_a_shorter_interval_or_a_new_url_reschedules_at_once(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    write_config(path, "http://127.0.0.1:1/", ["a", "b"], interval=86400)
    old = load_config(path)
    write_config(path, "http://127.0.0.1:1/", ["a", "b"], interval=600)
    new = load_config(path)
    now = datetime(2024, 5, 6, tzinfo=UTC)
    from aggregator.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'agg.db'}")
    try:
        store.save_source_state(SourceState("a", next_due=now + timedelta(hours=20)))
        store.save_source_state(SourceState("b", next_due=now + timedelta(hours=20), consecutive_failures=2))
        assert apply_config_changes(old, new, store, now) == ["a"]
        assert store.source_state("a").next_due == now + timedelta(seconds=600)
        assert store.source_state("b").next_due == now + timedelta(hours=20)  # backoff is kept
        store.save_source_state(SourceState("b", next_due=now + timedelta(hours=20), disabled_reason="410 Gone",
                                            url="http://127.0.0.1:1/moved.rss"))
        write_config(path, "http://127.0.0.1:2/", ["a", "b"], interval=600)
        assert apply_config_changes(new, load_config(path), store, now) == ["a", "b"]
        b = store.source_state("b")
        assert b.disabled_reason is None and b.url is None and b.next_due is None  # the new url is due now
    finally:
        store.close()


def test_ticks_poll_what_is_due_and_pick_up_a_new_source(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    for n, name in enumerate(["a", "b", "c"]):
        (site / f"{name}.rss").write_text(RSS.format(name=name, n=n), encoding="utf-8")
    with serve(site) as (base, rec):
        path = tmp_path / "sources.yaml"
        write_config(path, base, ["a", "b"])
        config = load_config(path)
        from aggregator.store import open_store

        store = open_store(config.settings.database, config.settings)
        daemon = Daemon(path, config, store)
        try:
            report = daemon.tick()
            assert report is not None and sorted(o.new for o in report.outcomes) == [1, 1]
            assert (config.settings.output_dir / "all.atom").exists()
            assert (config.settings.output_dir / "_status.atom").exists()
            asked = len(rec.paths())
            report = daemon.tick()
            assert report is not None and report.outcomes == () and len(rec.paths()) == asked
            write_config(path, base, ["a", "b", "c"])
            report = daemon.tick()
            assert report is not None and [o.source_id for o in report.outcomes] == ["c"]
            assert rec.paths()[asked:] == ["/c.rss"]
            assert store.article_count() == 3
        finally:
            daemon.close()


def test_run_daemon_stops_when_asked_and_closes_the_store(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "a.rss").write_text(RSS.format(name="a", n=1), encoding="utf-8")
    with serve(site) as (base, rec):
        path = tmp_path / "sources.yaml"
        write_config(path, base, ["a"])
        config = load_config(path)
        from aggregator.store import open_store

        store = open_store(config.settings.database, config.settings)
        stop = threading.Event()
        result: list[int] = []
        thread = threading.Thread(target=lambda: result.append(
            run_daemon(path, config, store, tick_seconds=0.2, stop=stop, hard_exit=False)))
        thread.start()
        deadline = time.monotonic() + 10
        while "/a.rss" not in rec.paths() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        stop.set()
        thread.join(5)
        assert not thread.is_alive() and result == [0]
    check = open_store(config.settings.database, config.settings)
    try:
        assert check.article_count() == 1
    finally:
        check.close()
