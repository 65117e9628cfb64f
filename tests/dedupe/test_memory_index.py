"""The in-memory index joins copies into the first copy's story, mints new ones, and honours the window."""

from __future__ import annotations

from aggregator.dedupe.memory_index import MemoryIndex, pairwise_scores
from tests.dedupe.test_near import OTHER, PARAGRAPHS

FULL = "\n".join(PARAGRAPHS)
COPY = "\n".join(["LONDON (Wire) -- Britain wants closer technology ties.", *PARAGRAPHS[1:]])


def test_copies_join_the_first_story_and_other_news_mints_its_own() -> None:
    index = MemoryIndex()
    assert index.add("a", "t", FULL) == "a"
    assert index.add("b", "t", OTHER) == "b"
    assert index.add("c", "another headline", COPY) == "a"
    assert index.add("d", "", "too short to judge") == "d"


def test_copies_outside_the_window_start_a_new_story() -> None:
    index = MemoryIndex(window=14 * 86400)
    assert index.add("a", "t", FULL, published=0.0) == "a"
    assert index.add("b", "t", COPY, published=20 * 86400.0) == "b"
    assert index.add("c", "t", COPY, published=21 * 86400.0) == "b"


def test_pairwise_scores_count_pairs_of_records() -> None:
    truth = {"1": "s", "2": "s", "3": "s", "4": "t"}
    assert pairwise_scores(dict(truth), truth) == (1.0, 1.0)
    # 3 true pairs; predicted {1,2} and {3,4}: one right pair of two predicted
    predicted = {"1": "x", "2": "x", "3": "y", "4": "y"}
    assert pairwise_scores(predicted, truth) == (0.5, 1 / 3)
    assert pairwise_scores({u: u for u in truth}, truth) == (1.0, 0.0)
