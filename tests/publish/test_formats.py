"""Every published format against golden files, and every feed parsed back: ids, dates and links round-trip."""

from __future__ import annotations

import json
import os
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from tests.publish.site import published_site

GOLDEN = Path(__file__).parent / "golden" / "site"
NS = {"a": "http://www.w3.org/2005/Atom"}
FILES = ["chips.atom", "chips.json", "feeds.opml", "sources.opml", "index.html", "archive/chips/1.atom"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return published_site(tmp_path_factory.mktemp("site"))


@pytest.mark.parametrize("name", FILES)
def test_published_file_matches_golden(site: Path, name: str) -> None:
    data = (site / name).read_bytes()
    golden = GOLDEN / name.replace("/", "-")
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(data)
    if not golden.exists():
        pytest.fail(f"{golden} missing: run UPDATE_GOLDEN=1 pytest tests/publish to create it")
    assert data.decode() == golden.read_text(encoding="utf-8"), f"{name} differs from {golden}; UPDATE_GOLDEN=1"


def test_output_folder_holds_exactly_the_published_files(site: Path) -> None:
    names = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert names == sorted(["all.atom", "all.json", "chips.atom", "chips.json", "robotics.atom", "robotics.json",
                            "archive/chips/1.atom", "feed.xsl", "feeds.opml", "sources.opml", "index.html"])


def _atom_entries(path: Path) -> list[dict[str, str]]:
    root = etree.parse(str(path)).getroot()
    return [{"id": e.findtext("a:id", namespaces=NS) or "",
             "published": e.findtext("a:published", namespaces=NS) or "",
             "updated": e.findtext("a:updated", namespaces=NS) or "",
             "link": e.find("a:link[@rel='alternate']", NS).get("href", "")}  # type: ignore[union-attr]
            for e in root.findall("a:entry", NS)]


def test_every_atom_document_round_trips_through_feedparser(site: Path) -> None:
    docs = sorted(site.rglob("*.atom"))
    assert len(docs) == 4
    for doc in docs:
        parsed = feedparser.parse(doc.read_bytes())
        assert not parsed.bozo, (doc, parsed.get("bozo_exception"))
        assert parsed.version == "atom10"
        expected = _atom_entries(doc)
        assert expected, doc
        assert [e.id for e in parsed.entries] == [x["id"] for x in expected]
        assert [e.published for e in parsed.entries] == [x["published"] for x in expected]
        assert [e.updated for e in parsed.entries] == [x["updated"] for x in expected]
        assert [e.link for e in parsed.entries] == [x["link"] for x in expected]
        rel = doc.relative_to(site).as_posix()
        assert [link.href for link in parsed.feed.links if link.rel == "self"] == [f"https://feeds.example/{rel}"]


def test_json_feeds_parse_and_agree_with_their_atom_twins(site: Path) -> None:
    for feed_id in ("all", "chips", "robotics"):
        doc = json.loads((site / f"{feed_id}.json").read_bytes())
        assert doc["version"] == "https://jsonfeed.org/version/1.1"
        assert doc["feed_url"] == f"https://feeds.example/{feed_id}.json"
        assert doc["home_page_url"] == "https://feeds.example/index.html"
        assert doc["hubs"] == [{"type": "WebSub", "url": "https://hub.example/"}]
        atom = _atom_entries(site / f"{feed_id}.atom")
        assert [i["id"] for i in doc["items"]] == [x["id"] for x in atom]
        assert [i["url"] for i in doc["items"]] == [x["link"] for x in atom]
        assert [i["date_published"] for i in doc["items"]] == [x["published"] for x in atom]
        assert [i["date_modified"] for i in doc["items"]] == [x["updated"] for x in atom]
        for item in doc["items"]:
            assert item["content_html"] and item["authors"][0]["name"] and item["title"]
    chips = json.loads((site / "chips.json").read_bytes())
    assert chips["_aggregator"]["archived"] == 1
    assert chips["_aggregator"]["prev_archive"] == "https://feeds.example/archive/chips/1.atom"


def test_full_text_only_source_gets_a_short_excerpt_and_full_content(site: Path) -> None:
    entry = feedparser.parse((site / "chips.atom").read_bytes()).entries[0]
    assert entry.title == "Fab tour sells out"
    assert entry.summary.startswith("<p>Tickets for the fab tour went fast.") and entry.summary.endswith("…</p>")
    assert len(entry.summary) < 300
    assert len(entry.content[0].value) > 1000
    assert entry.author == "Ada Chip"


def test_archived_story_keeps_all_its_sources(site: Path) -> None:
    archived = feedparser.parse((site / "archive/chips/1.atom").read_bytes())
    assert [e.title for e in archived.entries] == ["Robots take over Hall 7"]
    assert "Also reported by" in archived.entries[0].summary
    assert [link.rel for link in archived.feed.links] == [
        "self", "alternate", "hub", "current"]


def test_opml_lists_topic_feeds_and_sources(site: Path) -> None:
    feeds = etree.parse(str(site / "feeds.opml")).getroot()
    assert feeds.get("version") == "2.0"
    assert [(o.get("text"), o.get("xmlUrl")) for o in feeds.iter("outline")] == [
        ("Fair News: Robotics", "https://feeds.example/robotics.atom"),
        ("Fair News: Semiconductors", "https://feeds.example/chips.atom")]
    sources = etree.parse(str(site / "sources.opml")).getroot()
    assert [(o.get("text"), o.get("type"), o.get("xmlUrl"), o.get("htmlUrl")) for o in sources.iter("outline")] == [
        ("chips", "link", None, "https://chips.example/news/"),
        ("Messe Press", "rss", "https://messe.example/press.atom", None),
        ("Trade & Fair Weekly", "rss", "https://trade.example/feed.rss", None)]


def test_feed_xsl_turns_a_feed_into_a_readable_page(site: Path) -> None:
    assert b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>' in (site / "chips.atom").read_bytes()
    assert b'href="../../feed.xsl"' in (site / "archive/chips/1.atom").read_bytes()
    transform = etree.XSLT(etree.parse(str(site / "feed.xsl")))
    page = transform(etree.parse(str(site / "chips.atom")))
    text = str(page)
    assert "<h1>Fair News: Semiconductors</h1>" in text
    assert "Fab tour sells out" in text and "https://feeds.example/chips.atom" in text
    assert "Older entries (archive)" in text


def test_index_page_shows_topics_feeds_and_health(site: Path) -> None:
    html = (site / "index.html").read_text()
    assert html.count('rel="alternate" type="application/atom+xml"') == 3
    assert '<a href="chips.atom">Semiconductors</a>' in html
    assert "2 entries · 1 archived · updated" in html
    assert "Fab tour sells out" in html and "Messe Press, chips, Trade &amp; Fair Weekly" in html
    assert "HTTP 503 &lt;Service Unavailable&gt;: retry later" in html  # autoescaped
    assert "(3 failures in a row)" in html
    assert "<script" not in html and "http://" not in html.split("<body>")[0].replace("http://www.w3.org", "")
