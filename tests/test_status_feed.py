"""output/_status.atom: one valid Atom entry per failing source, stable per failure streak, rewritten on change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import etree

from aggregator.records import Config, Settings, Source, SourceState
from aggregator.status_feed import STATUS_FILE, breakages, publish_status_feed
from tests.publish.atom_rules import atom_problems

A = "{http://www.w3.org/2005/Atom}"
NOW = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)


def make_config(out: Path) -> Config:
    sources = (
        Source("messe", "https://messe.example/news.rss", "feed", title="Messe & Co <news>"),
        Source("press", "https://press.example/feed.atom", "feed"),
        Source("gone", "https://gone.example/feed", "feed"),
        Source("off", "https://off.example/feed", "feed", enabled=False),
    )
    return Config(Settings(output_dir=out, base_url="https://feeds.example.org/"), (), sources)


def failing(source_id: str, n: int, *, since: datetime | None, error: str = "HTTP 503 Service Unavailable",
            at: datetime = NOW) -> SourceState:
    return SourceState(source_id, last_attempt=at, last_success=since, last_status="error", http_status=503,
                       last_error=error, consecutive_failures=n, next_due=at + timedelta(minutes=10))


def entries(path: Path) -> list[etree._Element]:
    return etree.fromstring(path.read_bytes()).findall(f"{A}entry")


def test_one_valid_entry_per_failing_source_with_the_reason(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    states = {
        "messe": failing("messe", 3, since=NOW - timedelta(days=1)),
        "press": SourceState("press", last_success=NOW, last_status="ok"),
        "gone": SourceState("gone", last_attempt=NOW, last_status="disabled", http_status=410,
                            last_error="HTTP 410 Gone", consecutive_failures=1,
                            disabled_reason="the server answered 410 Gone: remove the source"),
        "off": failing("off", 9, since=None),
        "removed": failing("removed", 2, since=None),
    }
    assert publish_status_feed(config, states, NOW) is True
    path = tmp_path / STATUS_FILE
    assert atom_problems(path.read_bytes()) == []
    found = entries(path)
    titles = [e.findtext(f"{A}title") for e in found]
    assert titles == ["Messe & Co <news> is failing (3 attempts in a row): HTTP 503 Service Unavailable",
                      "gone is disabled: the server answered 410 Gone: remove the source"]
    content = found[0].findtext(f"{A}content") or ""
    assert "HTTP 503 Service Unavailable" in content and "https://messe.example/news.rss" in content
    assert found[0].find(f"{A}link").get("href") == "https://messe.example/news.rss"


def test_entry_id_is_stable_within_a_streak_and_new_for_the_next(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    first_success = NOW - timedelta(days=1)
    one = breakages(config, {"messe": failing("messe", 1, since=first_success)})[0].entry_id
    three = breakages(config, {"messe": failing("messe", 3, since=first_success,
                                                at=NOW + timedelta(hours=2))})[0].entry_id
    assert one == three
    later = breakages(config, {"messe": failing("messe", 1, since=NOW + timedelta(days=2))})[0].entry_id
    assert later != one
    other = breakages(config, {"press": failing("press", 1, since=first_success)})[0].entry_id
    assert other != one


def test_rewritten_only_when_it_changes(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    path = tmp_path / STATUS_FILE
    healthy = {"messe": SourceState("messe", last_success=NOW, last_status="ok")}
    assert publish_status_feed(config, healthy, NOW) is True
    assert entries(path) == []
    assert atom_problems(path.read_bytes()) == []
    before = path.stat().st_mtime_ns
    assert publish_status_feed(config, healthy, NOW + timedelta(hours=1)) is False
    assert path.stat().st_mtime_ns == before
    broken = {"messe": failing("messe", 1, since=NOW)}
    assert publish_status_feed(config, broken, NOW + timedelta(hours=2)) is True
    assert publish_status_feed(config, broken, NOW + timedelta(hours=3)) is False
    assert len(entries(path)) == 1
    updated = etree.fromstring(path.read_bytes()).findtext(f"{A}updated")
    assert updated == "2024-05-06T14:00:00Z"
    recovered = {"messe": SourceState("messe", last_success=NOW + timedelta(hours=4), last_status="ok")}
    assert publish_status_feed(config, recovered, NOW + timedelta(hours=4)) is True
    assert entries(path) == []
