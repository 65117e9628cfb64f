"""The Atom document: golden output, determinism, RFC 4287 structure and a feedparser round-trip."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree

from aggregator.publish import render_atom
from aggregator.publish.atom import EMPTY_FEED_UPDATED, rfc3339
from aggregator.records import StoryView
from tests.publish.samples import T0, article, make_config, sample_stories, story

GOLDEN = Path(__file__).parent / "golden"
A = "{http://www.w3.org/2005/Atom}"
NS = {"a": "http://www.w3.org/2005/Atom"}


def _render(stories: list[StoryView], feed_id: str = "robotics", **settings: Any) -> bytes:
    config = make_config(**settings)
    return render_atom(feed_id, "Fair News: Robotics", "Robots at trade fairs", stories, config,
                       {s.id: s for s in config.sources})


def _one(parent: etree._Element, path: str) -> etree._Element:
    found = parent.find(path, NS)
    assert found is not None, f"no {path}"
    return found


def _check_golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(data)
    if not path.exists():
        pytest.fail(f"{path} missing: run UPDATE_GOLDEN=1 pytest tests/publish to create it")
    assert data.decode() == path.read_text(encoding="utf-8"), f"output differs from {path}; UPDATE_GOLDEN=1 to accept"


def test_topic_feed_matches_golden_file() -> None:
    _check_golden("robotics.atom", _render(sample_stories()))


def test_empty_feed_matches_golden_file() -> None:
    _check_golden("empty.atom", _render([], feed_id="all", hubs=(), icon=None, logo="https://feeds.example/logo.png"))


def test_rerender_is_byte_identical_whatever_the_input_order() -> None:
    stories = sample_stories()
    assert _render(stories) == _render(list(reversed(stories))) == _render(stories)


def test_output_is_utf8_with_declaration_and_one_self_link() -> None:
    data = _render(sample_stories())
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n'
                           b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>\n'
                           b'<feed xmlns="http://www.w3.org/2005/Atom"')
    root = etree.fromstring(data)
    assert root.tag == f"{A}feed"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    selfs = root.findall("a:link[@rel='self']", NS)
    assert [(s.get("href"), s.get("type")) for s in selfs] == [
        ("https://feeds.example/robotics.atom", "application/atom+xml")]
    assert root.findtext("a:id", namespaces=NS) == "https://feeds.example/robotics.atom"
    assert _one(root, "a:link[@rel='alternate']").get("href") == "https://feeds.example/index.html"
    assert [h.get("href") for h in root.findall("a:link[@rel='hub']", NS)] == ["https://hub.example/"]
    assert root.findtext("a:icon", namespaces=NS) == "https://feeds.example/icon.png"
    assert root.findtext("a:author/a:name", namespaces=NS) == "Fair News"
    # every entry has the elements RFC 4287 requires, and atom:source carries id, title and updated
    for entry in root.findall("a:entry", NS):
        for required in ("a:id", "a:title", "a:updated"):
            assert entry.find(required, NS) is not None, required
        assert entry.find("a:link[@rel='alternate']", NS) is not None
        source = entry.find("a:source", NS)
        assert source is not None
        assert all(source.findtext(f"a:{tag}", namespaces=NS) for tag in ("id", "title", "updated"))


def test_feed_updated_is_newest_entry_not_the_clock() -> None:
    stories = sample_stories()
    root = etree.fromstring(_render(stories))
    newest = max(s.updated for s in stories)
    assert root.findtext("a:updated", namespaces=NS) == rfc3339(newest)
    empty = etree.fromstring(_render([]))
    assert empty.findtext("a:updated", namespaces=NS) == rfc3339(EMPTY_FEED_UPDATED)
    assert empty.findall("a:entry", NS) == []


def test_feedparser_round_trip() -> None:
    stories = sample_stories()
    parsed = feedparser.parse(_render(stories))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Fair News: Robotics"
    assert parsed.feed.subtitle == "Robots at trade fairs"
    expected = sorted(stories, key=lambda s: s.published, reverse=True)
    assert [e.id for e in parsed.entries] == [s.story_id for s in expected]
    assert [e.title for e in parsed.entries] == [s.primary.title for s in expected]
    assert [e.link for e in parsed.entries] == [s.primary.url for s in expected]
    assert [e.published for e in parsed.entries] == [rfc3339(s.published) for s in expected]
    assert [e.updated for e in parsed.entries] == [rfc3339(s.updated) for s in expected]
    multi = parsed.entries[1]
    assert [(link.rel, link.href) for link in multi.links] == [
        ("alternate", "https://messe.example/2024/robots"),
        ("related", "https://chips.example/news/robot-chip"),
        ("related", "https://trade.example/robots-hall-7"),
    ]
    assert [(t.term, t.label) for t in multi.tags] == [("robotics", "Robotics"), ("chips", "Semiconductors")]
    assert multi.author == "Jane Doe"
    assert multi.source.title == "Messe Press"
    assert multi.source.id == "https://messe.example/press.atom"
    assert "Also reported by" in multi.summary
    assert multi.content[0].value == "<p>Cobots everywhere, the full story.</p>"
    # no author on the article: the source's display name stands in
    assert parsed.entries[2].author == "Trade & Fair Weekly"


def test_content_only_when_it_differs_from_summary() -> None:
    root = etree.fromstring(_render(sample_stories()))
    by_id = {e.findtext("a:id", namespaces=NS): e for e in root.findall("a:entry", NS)}
    wafer = by_id["urn:uuid:00000000-0000-4000-8000-000000000003"]
    assert wafer.find("a:content", NS) is None  # content equals summary
    assert _one(wafer, "a:summary").get("type") == "html"
    opening = by_id["urn:uuid:00000000-0000-4000-8000-000000000002"]
    assert opening.find("a:summary", NS) is None and opening.find("a:content", NS) is None


def test_entries_capped_by_topic_then_global_limit() -> None:
    many = [story(f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
                  article(f"u{i}", "messe", f"https://messe.example/{i}", f"Story {i}", T0 + timedelta(hours=i)))
            for i in range(7)]
    config = make_config(max_entries=5)
    sources = {s.id: s for s in config.sources}
    chips = etree.fromstring(render_atom("chips", "t", "", many, config, sources))  # topic max_entries=2
    ids = [e.findtext("a:id", namespaces=NS) for e in chips.findall("a:entry", NS)]
    assert ids == [many[6].story_id, many[5].story_id]
    everything = etree.fromstring(render_atom("all", "t", "", many, config, sources))
    assert len(everything.findall("a:entry", NS)) == 5
    # feed updated follows the entries actually published
    assert chips.findtext("a:updated", namespaces=NS) == rfc3339(T0 + timedelta(hours=6))


def test_ties_broken_by_story_id() -> None:
    same = [story(sid, article(sid, "messe", f"https://messe.example/{sid}", sid, T0))
            for sid in ("urn:uuid:c", "urn:uuid:a", "urn:uuid:b")]
    root = etree.fromstring(_render(same))
    assert [e.findtext("a:id", namespaces=NS) for e in root.findall("a:entry", NS)] == [
        "urn:uuid:a", "urn:uuid:b", "urn:uuid:c"]


def test_forbidden_xml_characters_are_stripped_not_fatal() -> None:
    bad = article("x1", "messe", "https://messe.example/x", "Hall\x00 7\x1b opens\ufffe\ud800 today", T0,
                  author="Jane\x0b Doe", summary_html="<p>Bad\x0c\x01 bytes</p>")
    data = _render([story("urn:uuid:bad", bad)])
    root = etree.fromstring(data)  # well-formed
    entry = _one(root, "a:entry")
    assert entry.findtext("a:title", namespaces=NS) == "Hall 7 opens today"
    assert entry.findtext("a:author/a:name", namespaces=NS) == "Jane Doe"
    assert entry.findtext("a:summary", namespaces=NS) == "<p>Bad bytes</p>"
    assert not feedparser.parse(data).bozo


def test_names_we_add_to_html_are_escaped() -> None:
    config = make_config()
    evil = replace(config.sources[1], title='<script>alert(1)</script> "Weekly"')
    config = replace(config, sources=(config.sources[0], evil, config.sources[2]))
    primary = article("p", "messe", "https://messe.example/p", "P", T0)
    other = article("o", "trade", 'https://trade.example/o?a=1&b="2"', "O", T0)
    data = render_atom("robotics", "t", "", [story("urn:uuid:p", primary, other)], config,
                       {s.id: s for s in config.sources})
    summary = _one(etree.fromstring(data), "a:entry/a:summary").text or ""
    assert "<script>" not in summary
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &quot;Weekly&quot;" in summary
    assert 'href="https://trade.example/o?a=1&amp;b=%222%22"' in summary
    assert b"<script>" not in data


def test_naive_dates_are_taken_as_utc_and_updated_never_precedes_published() -> None:
    naive = article("n", "messe", "https://messe.example/n", "N", T0.replace(tzinfo=None))
    s = replace(story("urn:uuid:n", naive), updated=T0 - timedelta(days=1))
    entry = _one(etree.fromstring(_render([s])), "a:entry")
    assert entry.findtext("a:published", namespaces=NS) == "2024-05-06T09:30:00Z"
    assert entry.findtext("a:updated", namespaces=NS) == "2024-05-06T09:30:00Z"


def test_urls_with_characters_iris_forbid_are_percent_encoded() -> None:
    primary = article("s", "messe", "https://messe.example/a b/ü?q=<1>", "S", T0)
    entry = _one(etree.fromstring(_render([story("urn:uuid:s", primary)])), "a:entry")
    assert _one(entry, "a:link[@rel='alternate']").get("href") == "https://messe.example/a%20b/ü?q=%3C1%3E"
