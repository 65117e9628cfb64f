"""Quality gate on the feed farm: syndicated copies (edited titles, notes, dropped paragraphs) become one story.

Generates a small farm with ../shared/feedfarm/generate.py, reads every entry of every feed, clusters
them with the same decisions the store makes, and scores pairwise against manifest.jsonl.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import feedparser
import lxml.html
import pytest

from aggregator.dedupe import DEFAULT_CONTAINMENT, DEFAULT_THRESHOLD
from aggregator.dedupe.memory_index import MemoryIndex, pairwise_scores

FARM_ARGS = ["--feeds", "150", "--entries", "20", "--html-sites", "0", "--seed", "1"]


def plain_text(html: str) -> str:
    """Block text joined by spaces, so words of adjacent paragraphs never glue together."""
    if not html.strip():
        return ""
    return " ".join(lxml.html.fragment_fromstring(html, create_parent="div").itertext())


def feed_items(path: Path) -> list[tuple[str, str, str]]:
    """(link, title, body html) of every item; JSON Feed by hand since feedparser does not read it."""
    if path.suffix == ".json":
        doc = json.loads(path.read_bytes())
        return [(i.get("url", ""), i.get("title", ""), i.get("content_html") or i.get("content_text") or "")
                for i in doc["items"]]
    parsed = feedparser.parse(path.read_bytes())
    items = []
    for e in parsed.entries:
        content = e.get("content")
        items.append((e.get("link", ""), e.get("title", ""), content[0].value if content else e.get("summary", "")))
    return items


@pytest.fixture(scope="module")
def farm(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    generator = shared_dir / "feedfarm" / "generate.py"
    if not generator.is_file():
        pytest.skip(f"../shared not found: {generator} generates the farm")
    out = tmp_path_factory.mktemp("farm") / "farm"
    subprocess.run([sys.executable, str(generator), "--out", str(out), *FARM_ARGS], check=True,
                   capture_output=True, timeout=120)
    return out


def test_farm_copies_cluster_into_their_stories(farm: Path) -> None:
    truth_of: dict[tuple[str, str], str] = {}
    for line in (farm / "manifest.jsonl").read_text().splitlines():
        story = json.loads(line)
        for copy in story["copies"]:
            truth_of[(copy["source"], copy["url"])] = story["story_id"]

    index = MemoryIndex(threshold=DEFAULT_THRESHOLD, containment=DEFAULT_CONTAINMENT)
    predicted: dict[str, str] = {}
    truth: dict[str, str] = {}
    unmatched = 0
    for path in sorted((farm / "public" / "feeds").iterdir()):  # source by source, like a first poll
        source = f"feeds/{path.name}"
        for n, (link, title, body) in enumerate(feed_items(path)):
            story = truth_of.get((source, link))
            if story is None:
                unmatched += 1
                continue
            uid = f"{source}#{n}"
            truth[uid] = story
            predicted[uid] = index.add(uid, title, plain_text(body))

    precision, recall = pairwise_scores(predicted, truth)
    print(f"\nfarm {' '.join(FARM_ARGS)}: {len(truth)} entries, {len(set(truth.values()))} stories, "
          f"threshold {DEFAULT_THRESHOLD} containment {DEFAULT_CONTAINMENT}: "
          f"pairwise precision {precision:.4f} recall {recall:.4f}, "
          f"{index.candidates_checked / max(1, len(truth)):.1f} candidates checked per entry")
    assert unmatched == 0, "feed entries missing from manifest.jsonl: the link matching is broken"
    assert len(truth) == 150 * 20
    assert len(set(truth.values())) < len(truth), "the farm has no syndicated copies: nothing is tested"
    assert precision >= 0.99
    assert recall >= 0.97
