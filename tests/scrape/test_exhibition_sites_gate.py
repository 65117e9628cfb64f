"""Quality gate: scrape the six mock exhibition sites (../shared/exhibition-sites) over loopback and
score against truth.jsonl, with our selectors and in automatic mode (list URL only)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.config import parse_config
from aggregator.records import Config, RawEntry, ScrapeRules, Settings
from aggregator.scrape import scrape_source
from tests.helpers.loopback import serve
from tests.scrape.fetching import make_fetcher
from tests.scrape.sitescore import Figures, load_truth, score

SITES = Path(__file__).resolve().parents[2] / ".." / "shared" / "exhibition-sites"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "exhibition-sources.yaml"
NOW = datetime(2018, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Config, list[dict[str, object]]]]:
    if not (SITES / "truth.jsonl").is_file():
        pytest.skip(f"../shared not found: {SITES.resolve()} holds the mock exhibition sites in CI")
    with serve(SITES.resolve()) as (base, _):
        config = parse_config(FIXTURE.read_text("utf-8").replace("BASE/", base), str(FIXTURE))
        yield config, load_truth(SITES)


def _run(config: Config, truth: list[dict[str, object]], *, automatic: bool) -> Figures:
    settings = Settings()
    fetcher = make_fetcher(settings)
    entries: dict[str, list[RawEntry]] = {}
    for source in config.sources:
        if automatic:
            source = replace(source, scrape=None, encoding=None)
        result = scrape_source(source, fetcher, settings, is_known=lambda urls: set(), now=NOW)
        assert result.broken is None, f"{source.id}: {result.broken}"
        entries[source.id] = list(result.entries)
    return score(truth, entries, {s.id: s.timezone for s in config.sources})


@pytest.mark.parametrize(("automatic", "threshold"), [(False, 0.98), (True, 0.90)], ids=["selectors", "automatic"])
def test_gate(served: tuple[Config, list[dict[str, object]]], automatic: bool, threshold: float) -> None:
    config, truth = served
    figures = _run(config, truth, automatic=automatic)
    label = "automatic" if automatic else "selectors"
    print(figures.line(label))
    for miss in figures.misses:
        print("  ", miss)
    assert figures.pages >= 60
    for name in ("found", "titles", "dates", "bodies"):
        assert figures.rate(name) >= threshold, f"{label}: {name} {figures.rate(name):.3f} < {threshold}"


def test_default_rules_are_automatic() -> None:
    assert ScrapeRules().item_link is None and ScrapeRules().max_pages == 5
