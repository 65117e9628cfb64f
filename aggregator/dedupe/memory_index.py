"""An in-memory story index that makes the same decisions as the store's `ingest`.

band keys -> candidates sharing a band -> verify each -> join the best matching story or mint one.
Used by the quality-gate tests and for tuning, so the figures they report are the store's behaviour.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from aggregator.dedupe.near import (
    DEFAULT_CONTAINMENT,
    DEFAULT_THRESHOLD,
    Signature,
    band_keys,
    is_same_story,
    make_signature,
    similarity,
)


@dataclass(slots=True)
class _Member:
    uid: str
    story_id: str
    signature: Signature
    published: float


@dataclass(slots=True)
class MemoryIndex:
    """Add records oldest first; `add` returns the story id the record joined (or minted: its own uid)."""

    threshold: float = DEFAULT_THRESHOLD
    containment: float = DEFAULT_CONTAINMENT
    window: float | None = None  # seconds before a record's time that candidates may be; None: no limit
    _buckets: dict[int, list[_Member]] = field(default_factory=lambda: defaultdict(list))
    candidates_checked: int = 0

    def add(self, uid: str, title: str, text: str, language: str | None = None, published: float = 0.0) -> str:
        sig = make_signature(title, text, language)
        if sig is None:
            return uid
        keys = band_keys(sig)
        story = self.best_story(sig, keys, published) or uid
        member = _Member(uid, story, sig, published)
        for key in keys:
            self._buckets[key].append(member)
        return story

    def best_story(self, sig: Signature, keys: list[int], published: float) -> str | None:
        """The story of the most similar verified candidate, as the store picks it."""
        best: tuple[float, str] | None = None
        seen: set[str] = set()
        oldest = None if self.window is None else published - self.window
        for key in keys:
            for cand in self._buckets.get(key, ()):
                if cand.uid in seen or (oldest is not None and cand.published < oldest):
                    continue
                seen.add(cand.uid)
                self.candidates_checked += 1
                if is_same_story(sig, cand.signature, threshold=self.threshold, containment=self.containment):
                    score = max(similarity(sig, cand.signature))
                    if best is None or score > best[0]:
                        best = (score, cand.story_id)
        return best[1] if best else None


def pairwise_scores(predicted: dict[str, str], truth: dict[str, str]) -> tuple[float, float]:
    """(precision, recall) over pairs of records: a pair is positive when both share a story.

    Counted from cluster sizes, so it is fast for thousands of records.
    """
    from collections import Counter

    def pairs(counter: Counter[object]) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    uids = [u for u in truth if u in predicted]
    true_pairs = pairs(Counter(truth[u] for u in uids))
    predicted_pairs = pairs(Counter(predicted[u] for u in uids))
    both = pairs(Counter((truth[u], predicted[u]) for u in uids))
    precision = both / predicted_pairs if predicted_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    return precision, recall
