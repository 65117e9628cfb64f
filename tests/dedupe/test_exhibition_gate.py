"""Quality gate on ../shared/exhibition-sites: republished copies merge, look-alikes stay apart.

The 64 article pages are read from disk, decoded (GBK pages as gb18030), their body extracted, and the
pages clustered oldest first with the decisions the store makes. Two extractors are scored:
trafilatura alone (it keeps "About ..." and press-contact boilerplate, the harder case for look-alikes)
and the project's own scraper.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from aggregator.dedupe import DEFAULT_CONTAINMENT, DEFAULT_THRESHOLD
from aggregator.dedupe.memory_index import MemoryIndex, pairwise_scores
from aggregator.scrape.encoding import decode_html

Extractor = Callable[[str, str], str]


def trafilatura_body(html: str, url: str) -> str:
    import trafilatura

    return str(trafilatura.extract(html, url=url, include_comments=False, include_tables=False) or "")


def scraper_body(html: str, url: str) -> str:
    from aggregator.scrape.article import extract_article

    return extract_article(html, url).body_text


@pytest.fixture(scope="module")
def pages(shared_dir: Path) -> list[dict[str, object]]:
    root = shared_dir / "exhibition-sites"
    if not (root / "truth.jsonl").is_file():
        pytest.skip(f"../shared not found: {root / 'truth.jsonl'} labels the exhibition sites")
    rows = [json.loads(line) for line in (root / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    for row in rows:
        row["html"], row["codec"] = decode_html((root / str(row["url"])).read_bytes())
    return sorted(rows, key=lambda r: (str(r["published"])[:10], str(r["url"])))


@pytest.mark.parametrize("extract", [trafilatura_body, scraper_body], ids=["trafilatura", "scraper"])
def test_exhibition_stories_merge_across_sites_and_look_alikes_stay_apart(
    pages: list[dict[str, object]], extract: Extractor
) -> None:
    assert len(pages) == 64
    assert {"gb18030"} <= {p["codec"] for p in pages}, "GBK pages must be decoded as gb18030"
    index = MemoryIndex(threshold=DEFAULT_THRESHOLD, containment=DEFAULT_CONTAINMENT)
    cluster: dict[str, str] = {}
    truth: dict[str, str] = {}
    for page in pages:
        url = str(page["url"])
        body = extract(str(page["html"]), f"http://127.0.0.1:8000/{url}")
        assert len(body) > 100, f"no body extracted from {url}"
        cluster[url] = index.add(url, str(page["title"]), body, str(page["language"]))
        truth[url] = str(page["story_id"])

    precision, recall = pairwise_scores(cluster, truth)
    copies: dict[str, list[str]] = {}
    for url, story in truth.items():
        copies.setdefault(story, []).append(url)
    multi_site = {s: urls for s, urls in copies.items() if len(urls) > 1}
    split = sorted(s for s, urls in multi_site.items() if len({cluster[u] for u in urls}) > 1)
    story_of = {url: truth[url] for url in truth}
    look_alikes = {
        (str(p["url"]), str(q["url"]))
        for p, q in itertools.permutations(pages, 2)
        if str(q["story_id"]) in p["confusable_with"]  # type: ignore[operator]
    }
    merged_look_alikes = sorted({tuple(sorted((story_of[a], story_of[b]))) for a, b in look_alikes
                                 if cluster[a] == cluster[b]})
    print(f"\nexhibition sites ({extract.__name__}), threshold {DEFAULT_THRESHOLD} containment "
          f"{DEFAULT_CONTAINMENT}: pairwise precision {precision:.3f} recall {recall:.3f}; "
          f"{len(multi_site) - len(split)}/{len(multi_site)} multi-site stories merged; "
          f"{len(merged_look_alikes)} of {len(look_alikes) // 2} look-alike page pairs merged")
    assert len(multi_site) == 13 and len(look_alikes) >= 8
    assert split == [], f"multi-site stories split into several clusters: {split}"
    assert merged_look_alikes == [], f"look-alike stories merged: {merged_look_alikes}"
    assert precision >= 0.99
