"""`aggregator demo` works offline; an overlapping `aggregator run` exits 3 at once."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import feedparser

from aggregator.lock import lock_path_for


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([sys.executable, "-m", "aggregator", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=120)


def test_demo_publishes_topic_feeds_from_bundled_sources(tmp_path: Path) -> None:
    result = run_cli("demo", "--dir", "d", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = tmp_path / "d" / "output"
    iot = feedparser.parse((out / "iot.atom").read_bytes())
    titles = [e.title for e in iot.entries]
    # the UK pavilion story came from the RSS feed and, reworded, from the JSON Feed: one entry
    assert sum("Pavilion" in t for t in titles) == 1, titles
    pavilion = next(e for e in iot.entries if "Pavilion" in e.title)
    related = [link.href for link in pavilion.links if link.rel == "related"]
    assert len(related) == 1 and "british-pavilion-iot" in related[0]
    robots = feedparser.parse((out / "robotics.atom").read_bytes())
    assert any("robots" in e.title.lower() for e in robots.entries)
    everything = (out / "all.atom").read_text(encoding="utf-8")
    assert "<script" not in everything and "onclick" not in everything
    assert "fair-news" in result.stdout and "new=" in result.stdout
    shared = [json.loads(line) for line in
              run_cli("stories", "-c", "d/sources.yaml", "--min-sources", "2", cwd=tmp_path).stdout.splitlines()]
    pavilion_story = next(s for s in shared if "Pavilion" in s["title"])
    assert {m["source"] for m in pavilion_story["members"]} == {"fair-news", "expo-wire"}
    assert pavilion_story["story"] == pavilion.id  # the published entry id is the story id


def test_overlapping_run_exits_3_without_doing_anything(tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    lock = lock_path_for(tmp_path / "output")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"4242")
    try:
        started = time.monotonic()
        result = run_cli("run", cwd=tmp_path)
        assert result.returncode == 3
        assert "4242" in result.stderr and "another aggregator run" in result.stderr
        assert time.monotonic() - started < 20
    finally:
        os.close(fd)
    assert run_cli("run", cwd=tmp_path).returncode == 0  # released: the next run goes ahead
