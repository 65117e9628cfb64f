"""The real CLI against feeds served on 127.0.0.1: two runs, topic feeds, conditional GET, no rewrites."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
from pathlib import Path

import feedparser
from lxml import etree

from tests.helpers.loopback import serve

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Fair organiser</title><link>http://fair.example/</link>
<item><title>Smart sensors for the Internet of Things fill Hall 9</title>
<link>{base}news/iot.html?utm_source=rss</link><guid>fair-1</guid>
<pubDate>Sun, 19 Nov 2017 10:30:00 +0800</pubDate>
<description><![CDATA[<p onclick="steal()">Two hundred IoT exhibitors show sensors and gateways.</p>
<script>alert(1)</script>]]></description>
</item>
<item><title>Chip makers said they expect more orders</title>
<link>{base}news/chips.html</link><guid>fair-2</guid>
<pubDate>Sat, 18 Nov 2017 16:00:00 +0800</pubDate>
<description>Semiconductor suppliers from twelve countries met buyers on the second day.</description>
</item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Trade press</title><id>urn:x:press</id>
<updated>2017-11-20T08:00:00Z</updated>
<entry><title>Machine learning moves onto the factory floor</title><id>urn:x:press:1</id>
<link href="{base}press/ml.html"/><updated>2017-11-20T08:00:00Z</updated>
<summary>Artificial intelligence for quality inspection was the talk of the fair.</summary></entry>
</feed>
"""

CONFIG = """
settings:
  output_dir: out
  database: sqlite:///state/agg.db
  base_url: https://feeds.example.org/
topics:
  - id: iot
    title: Internet of Things
    include: [IoT, internet of things]
  - id: ai
    title: Artificial intelligence
    include: [AI, artificial intelligence, machine learning]
  - id: semiconductors
    title: Semiconductors
    include: [semiconductor, chip]
sources:
  - id: organiser
    url: {base}feeds/organiser.rss
    kind: feed
    timezone: Asia/Shanghai
  - id: press
    url: {base}feeds/press.atom
    kind: feed
  - id: gone
    url: {base}feeds/missing.rss
    kind: feed
"""


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([sys.executable, "-m", "aggregator", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=120)


def test_two_runs_publish_topic_feeds_then_only_send_conditional_requests(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "feeds").mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    with serve(site) as (base, recorder):
        (site / "feeds" / "organiser.rss").write_text(RSS.format(base=base), encoding="utf-8")
        (site / "feeds" / "press.atom").write_text(ATOM.format(base=base), encoding="utf-8")
        (work / "sources.yaml").write_text(CONFIG.format(base=base), encoding="utf-8")

        first = run_cli("run", "--all", cwd=work)
        # one source is a 404: the run finishes, says so, and exits 1
        assert first.returncode == 1, first.stderr
        assert "source=gone status=error http=404" in first.stderr
        assert "source=organiser status=ok" in first.stderr

        out = work / "out"
        iot = feedparser.parse((out / "iot.atom").read_bytes())
        assert [e.title for e in iot.entries] == ["Smart sensors for the Internet of Things fill Hall 9"]
        entry = iot.entries[0]
        assert entry.link.endswith("/news/iot.html")  # tracking parameters gone
        assert entry.published == "2017-11-19T02:30:00Z"  # +08:00 converted to UTC
        semis = feedparser.parse((out / "semiconductors.atom").read_bytes())
        assert [e.title for e in semis.entries] == ["Chip makers said they expect more orders"]
        ai = feedparser.parse((out / "ai.atom").read_bytes())
        assert [e.title for e in ai.entries] == ["Machine learning moves onto the factory floor"]  # not "said"
        everything = (out / "all.atom").read_bytes()
        assert everything.count(b"<entry>") == 3
        assert b"<script" not in everything and b"onclick" not in everything
        etree.fromstring(everything)  # well-formed
        status_feed = (out / "_status.atom").read_text(encoding="utf-8")
        assert "gone" in status_feed and "404" in status_feed  # breakage is published for operators
        topic_feeds = [p for p in out.glob("*.atom") if not p.name.startswith("_")]
        mtimes = {p.name: p.stat().st_mtime_ns for p in topic_feeds}

        before = len(recorder.requests)
        second = run_cli("run", "--all", cwd=work)
        assert second.returncode == 1
        assert "source=organiser status=not-modified http=304" in second.stderr
        feed_requests = [h for p, h in recorder.requests[before:] if p in ("/feeds/organiser.rss", "/feeds/press.atom")]
        assert len(feed_requests) == 2
        assert all("if-none-match" in h for h in feed_requests)
        assert {p.name: p.stat().st_mtime_ns for p in topic_feeds} == mtimes  # nothing rewritten

        exported = [json.loads(line) for line in run_cli("export", cwd=work).stdout.splitlines()]
        assert len(exported) == 3
        assert {"id", "story", "url", "source", "title", "published", "topics", "summary", "text"} <= set(exported[0])

        status = json.loads(run_cli("status", "--json", cwd=work).stdout)
        by_source = {row["source"]: row for row in status}
        assert by_source["gone"]["consecutive_failures"] == 2
        assert "404" in by_source["gone"]["error"]
        assert by_source["organiser"]["result"] == "not-modified"


def test_invalid_config_touches_nothing(tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text("sources:\n  - id: x\n    url: http://127.0.0.1:9/feed\n    kind: rss\n")
    result = run_cli("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "sources.yaml:4" in result.stderr and "kind" in result.stderr
    assert not (tmp_path / "output").exists() and not (tmp_path / "state").exists()


def test_cron_run_follows_an_edited_url_after_a_410(tmp_path: Path) -> None:
    """410 disables a source; fixing its url in sources.yaml brings it back at the next cron run."""
    site = tmp_path / "site"
    (site / "feeds").mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()

    def gone(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(410)
        h.send_header("Content-Length", "0")
        h.end_headers()

    with serve(site) as (base, recorder):
        recorder.routes["/feeds/old.rss"] = gone
        (site / "feeds" / "new.rss").write_text(RSS.format(base=base), encoding="utf-8")
        source = f"  - id: organiser\n    url: {base}feeds/old.rss\n    kind: feed\n"
        config = CONFIG.split("sources:")[0] + "sources:\n" + source
        (work / "sources.yaml").write_text(config, encoding="utf-8")
        first = run_cli("run", cwd=work)
        assert "source=organiser status=disabled http=410" in first.stderr, first.stderr
        assert "/feeds/old.rss" in recorder.paths()

        again = run_cli("run", "--all", cwd=work)  # disabled: not polled again, even with --all
        assert recorder.paths().count("/feeds/old.rss") == 1, again.stderr

        (work / "sources.yaml").write_text(config.replace("old.rss", "new.rss"), encoding="utf-8")
        fixed = run_cli("run", cwd=work)
        assert "source=organiser event=url-changed" in fixed.stderr, fixed.stderr
        assert "source=organiser status=ok http=200 new=2" in fixed.stderr
        assert "/feeds/new.rss" in recorder.paths()
