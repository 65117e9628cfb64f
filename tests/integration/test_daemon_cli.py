"""The real `python -m aggregator daemon` as a subprocess, short ticks, feeds served on 127.0.0.1.

Covers: hot reload (a new source fetched within a tick; a broken edit logged like `aggregator check` while
the last good config keeps running), the run lock against cron, Retry-After, backoff and recovery,
SIGTERM (exit 0 within 5 s, store and feeds whole) and kill -9 mid-run then restart (no record lost or
duplicated).
"""

from __future__ import annotations

import http.server
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from lxml import etree

from tests.helpers.loopback import Recorder, serve

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # real subprocesses and real backoff waits: about 30 s for the file
Route = Callable[[http.server.BaseHTTPRequestHandler], None]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}

HEADER = """settings:
  output_dir: out
  database: sqlite:///state/agg.db
  base_url: https://feeds.example.org/
  min_interval: 1
  default_interval: {interval}
  max_backoff: {max_backoff}
  per_host: 4
  connect_timeout: 2
  read_timeout: 30
  deadline: 60
topics:
  - id: robots
    title: Robotics
    include: [robot, cobot]
sources:
"""


def rss(name: str, items: int = 1) -> str:
    body = "".join(
        f"<item><title>{name} robot news {i}</title><link>http://fair.example/{name}/{i}</link>"
        f"<guid>{name}-{i}</guid><pubDate>Mon, 06 May 2024 {10 + i % 10:02d}:00:00 +0000</pubDate>"
        f"<description>Cobots from {name}, item {i}.</description></item>" for i in range(items))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{name}</title>'
            f"<link>http://fair.example/{name}</link>{body}</channel></rss>")


def write_config(path: Path, base: str, names: list[str], *, interval: int = 3600, max_backoff: int = 3600,
                 tail: str = "") -> None:
    text = HEADER.format(interval=interval, max_backoff=max_backoff) + "".join(
        f"  - id: {n}\n    url: {base}{n}.rss\n    kind: feed\n" for n in names) + tail
    path.write_text(text, encoding="utf-8")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aggregator", *args], cwd=cwd, env=ENV, text=True,
                          capture_output=True, timeout=60)


@contextmanager
def daemon(work: Path, tick: float = 0.5, name: str = "daemon.log") -> Iterator[tuple[subprocess.Popen[str], Path]]:
    log = work / name
    with log.open("w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "aggregator", "daemon", "-c", "sources.yaml",
                                 "--tick", str(tick)], cwd=work, env=ENV, stdout=sink, stderr=sink, text=True)
        try:
            yield proc, log
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@contextmanager
def daemon_after(setup: Callable[[], None], work: Path, tick: float = 0.5, name: str = "daemon.log",
                 routes: tuple[Recorder, dict[str, Route]] | None = None,
                 ) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """Write sources.yaml (it needs the server's port) and the custom answers, then start the daemon."""
    setup()
    if routes is not None:
        routes[0].routes.update(routes[1])
    with daemon(work, tick, name) as running:
        yield running


def wait_for(condition: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> float:
    """Seconds it took; fails with the daemon log when it never happens."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n"
                         + (log.read_text() if log and log.exists() else ""))


def terminate(proc: subprocess.Popen[str], log: Path) -> float:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(5)
    except subprocess.TimeoutExpired:
        raise AssertionError("the daemon did not stop within 5 s of SIGTERM\n" + log.read_text()) from None
    assert code == 0, log.read_text()
    return time.monotonic() - started


def assert_whole(work: Path) -> None:
    """The store passes SQLite's integrity check and every published file is well-formed and complete."""
    conn = sqlite3.connect(work / "state" / "agg.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    out = work / "out"
    atoms = sorted(out.rglob("*.atom"))
    assert atoms, "no feed was published"
    for path in atoms:
        etree.fromstring(path.read_bytes())  # raises on a truncated or malformed file
    for path in out.rglob("*.json"):
        json.loads(path.read_bytes())
    assert not list(out.rglob("*.tmp")), "a temporary file of an interrupted write was left behind"


def exported(work: Path) -> list[dict[str, str]]:
    result = cli("export", "-c", "sources.yaml", cwd=work)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_hot_reload_broken_edit_and_cron_lock(tmp_path: Path) -> None:
    site, work = tmp_path / "site", tmp_path / "work"
    site.mkdir()
    work.mkdir()
    for name in ("a", "b", "c"):
        (site / f"{name}.rss").write_text(rss(name), encoding="utf-8")
    config = work / "sources.yaml"
    with serve(site) as (base, rec):
        write_config(config, base, ["a"])
        with daemon(work, tick=0.5) as (proc, log):
            _reload_scenario(work, config, base, rec.paths, proc, log)
    assert rec.paths().count("/a.rss") == 1  # interval 1h: asked once, then left alone
    assert {r["source"] for r in exported(work)} == {"a", "b", "c"}
    assert_whole(work)


def _reload_scenario(work: Path, config: Path, base: str, paths: Callable[[], list[str]],
                     proc: subprocess.Popen[str], log: Path) -> None:
    wait_for(lambda: "source=a status=ok" in log.read_text(), 20, "the first poll", log)

    cron = cli("run", "-c", "sources.yaml", cwd=work)
    assert cron.returncode == 3 and "holds" in cron.stderr

    write_config(config, base, ["a", "b"])
    took = wait_for(lambda: "/b.rss" in paths(), 10, "the added source to be fetched", log)
    assert took < 0.5 + 1.5, f"the new source was fetched {took:.1f}s after the edit"

    broken = f"  - id: c\n    url: {base}c.rss\n    kind: feed\n    interval: soon\n"
    write_config(config, base, ["a", "b"], tail=broken)
    checked = cli("check", "-c", "sources.yaml", cwd=work)
    problems = checked.stdout.splitlines()
    assert checked.returncode == 2 and problems
    wait_for(lambda: "result=kept-last-good" in log.read_text(), 10, "the broken edit to be reported", log)
    text = log.read_text()
    for problem in problems:
        assert problem.replace('"', '\\"') in text
    time.sleep(1.5)  # three ticks on the old configuration
    assert "/c.rss" not in paths() and proc.poll() is None

    write_config(config, base, ["a", "b", "c"])
    wait_for(lambda: "/c.rss" in paths(), 10, "the fixed config to run", log)
    wait_for(lambda: "source=c status=ok" in log.read_text(), 10, "c to be stored", log)
    terminate(proc, log)


def test_retry_after_is_honoured_and_a_failing_source_backs_off_then_recovers(tmp_path: Path) -> None:
    site, work = tmp_path / "site", tmp_path / "work"
    site.mkdir()
    work.mkdir()
    (site / "flaky.rss").write_text(rss("flaky"), encoding="utf-8")
    down = threading.Event()
    down.set()
    failures: list[float] = []

    def busy(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(503)
        h.send_header("Retry-After", "3600")
        h.send_header("Content-Length", "0")
        h.end_headers()

    def flaky(h: http.server.BaseHTTPRequestHandler) -> None:
        if down.is_set():
            failures.append(time.monotonic())
            h.send_response(500)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        body = (site / "flaky.rss").read_bytes()
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    with serve(site) as (base, rec), daemon_after(
            lambda: write_config(work / "sources.yaml", base, ["busy", "flaky"], interval=1, max_backoff=4),
            work, tick=0.25, routes=(rec, {"/busy.rss": busy, "/flaky.rss": flaky})) as (proc, log):
        wait_for(lambda: len(failures) >= 4, 30, "four failed polls of the flaky source", log)
        gaps = [b - a for a, b in itertools.pairwise(failures)]
        # backoff 1 s, 2 s, then the 4 s cap (the cap and retrying there forever: tests/test_schedule.py),
        # each +-20 %, stored to the whole second (up to -1 s), picked up by the next 0.25 s tick
        assert gaps[0] <= 1.2 + 0.25 + 0.5, gaps
        assert 3.2 - 1 <= gaps[2] <= 4.8 + 0.25 + 0.6, gaps
        down.clear()
        wait_for(lambda: "source=flaky status=ok" in log.read_text(), 10, "the flaky source to recover", log)
        status = cli("status", "--json", "-c", "sources.yaml", cwd=work)
        rows = {r["source"]: r for r in json.loads(status.stdout)}
        assert rows["flaky"]["consecutive_failures"] == 0 and rows["flaky"]["result"] == "ok"
        assert rows["busy"]["http_status"] == 503 and rows["busy"]["retry_after_until"]
        assert rec.paths().count("/busy.rss") == 1  # Retry-After: 3600 is respected for the whole test
        terminate(proc, log)
    status_feed = (work / "out" / "_status.atom").read_bytes()
    entries = etree.fromstring(status_feed).findall("{http://www.w3.org/2005/Atom}entry")
    assert [e.findtext("{http://www.w3.org/2005/Atom}title") for e in entries] == [
        "busy is failing (1 attempt in a row): " + json.loads(status.stdout)[0]["error"]]
    assert_whole(work)


def test_sigterm_during_a_slow_fetch_exits_0_within_5s_with_store_whole(tmp_path: Path) -> None:
    site, work = tmp_path / "site", tmp_path / "work"
    site.mkdir()
    work.mkdir()
    for name in ("a", "b"):
        (site / f"{name}.rss").write_text(rss(name, 3), encoding="utf-8")
    release = threading.Event()

    def slow(h: http.server.BaseHTTPRequestHandler) -> None:
        release.wait(30)  # hangs until the test ends: the daemon must not wait for it
        h.send_response(200)
        h.send_header("Content-Length", "0")
        h.end_headers()

    try:
        with serve(site) as (base, rec), daemon_after(
                lambda: write_config(work / "sources.yaml", base, ["a", "b"]), work,
                routes=(rec, {"/slow.rss": slow})) as (proc, log):
            wait_for(lambda: "event=tick" in log.read_text(), 20, "a, b stored and published", log)
            write_config(work / "sources.yaml", base, ["a", "b", "slow"])
            wait_for(lambda: "/slow.rss" in rec.paths(), 20, "a tick with a fetch in flight", log)
            assert terminate(proc, log) < 5
            assert "signal=SIGTERM" in log.read_text()
    finally:
        release.set()
    records = exported(work)
    assert len(records) == 6 and len({r["id"] for r in records}) == 6
    assert_whole(work)
    port = int(base.rstrip("/").rsplit(":", 1)[1])  # same urls: a changed url would be polled at once
    with serve(site, port) as (base, rec), daemon_after(  # slow removed: removed sources stop
            lambda: write_config(work / "sources.yaml", base, ["a", "b"]), work, name="again.log") as (proc, log):
        wait_for(lambda: "event=start" in log.read_text(), 10, "the restart", log)
        time.sleep(1.2)
        terminate(proc, log)
        assert rec.paths() == []  # a and b are not due yet: the schedule survived the restart


def test_kill_9_mid_run_then_restart_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    site, work = tmp_path / "site", tmp_path / "work"
    site.mkdir()
    work.mkdir()
    names = [f"f{i:02d}" for i in range(12)]
    for name in names:
        (site / f"{name}.rss").write_text(rss(name, 5), encoding="utf-8")

    def delayed(h: http.server.BaseHTTPRequestHandler) -> None:
        time.sleep(1.2)  # 12 feeds, 4 at a time: 3.6 s, more than one write batch (pipeline.BATCH_SECONDS)
        body = (site / h.path.lstrip("/")).read_bytes()
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    with serve(site) as (base, rec):
        for name in names:
            rec.routes[f"/{name}.rss"] = delayed
        write_config(work / "sources.yaml", base, names)
        with daemon(work, tick=0.5) as (proc, log):
            wait_for(lambda: log.read_text().count("status=ok") >= 3, 30, "a few sources stored", log)
            proc.send_signal(signal.SIGKILL)
            proc.wait(5)
        stored_before = log.read_text().count("status=ok")
        assert stored_before < len(names), "the run finished before the kill: make the feeds slower\n" + log.read_text()
        with daemon(work, tick=0.5, name="restart.log") as (proc, log2):
            wait_for(lambda: log.read_text().count("status=ok") + log2.read_text().count("status=ok")
                     >= len(names), 30, "every source stored after the restart", log2)
            terminate(proc, log2)
    records = exported(work)
    expected = {f"http://fair.example/{n}/{i}" for n in names for i in range(5)}
    assert len(records) == len(expected)
    assert {r["url"] for r in records} == expected
    assert len({r["id"] for r in records}) == len(records)
    assert_whole(work)
