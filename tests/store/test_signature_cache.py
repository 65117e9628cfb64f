"""The store's in-memory signature cache gives back exactly the signatures it was given."""

from __future__ import annotations

import numpy as np

from aggregator.dedupe import make_signature
from aggregator.dedupe.near import Signature
from aggregator.store.signature_cache import SignatureCache


def _sig(seed: int, width: int = 256) -> Signature:
    hashes = np.random.default_rng(seed).integers(0, 1 << 16, size=width, dtype=np.uint16)
    return Signature(hashes, 100 + seed)


def test_known_returns_kept_refs_in_the_order_asked_with_their_hashes_and_sizes() -> None:
    cache = SignatureCache(capacity=10_000)
    sigs = {ref: _sig(ref) for ref in range(3000)}  # past the first matrix size: it must grow
    for ref, sig in sigs.items():
        cache.add(ref, f"story-{ref % 7}", sig.to_bytes())
    kept, stories, hashes, sizes = cache.known([2999, 5, 123456, 1500])
    assert kept == [2999, 5, 1500]
    assert stories == ["story-3", "story-5", "story-2"]
    for row, ref in enumerate(kept):
        assert np.array_equal(hashes[row], sigs[ref].hashes)
        assert sizes[row] == sigs[ref].size
    assert len(cache) == 3000 and 5 in cache


def test_a_real_signature_round_trips_and_clear_starts_afresh() -> None:
    sig = make_signature("Title", " ".join(f"word{i} fair hall" for i in range(60)), "en")
    assert sig is not None
    cache = SignatureCache(capacity=100)
    cache.add(42, "s", sig.to_bytes())
    _, _, hashes, sizes = cache.known([42])
    assert np.array_equal(hashes[0], sig.hashes) and sizes[0] == sig.size
    cache.clear()
    assert len(cache) == 0 and cache.known([42])[0] == []
    cache.add(7, "t", _sig(1).to_bytes())
    assert cache.known([7])[1] == ["t"]


def test_a_signature_of_another_width_replaces_what_was_kept() -> None:
    cache = SignatureCache(capacity=100)
    cache.add(1, "a", _sig(1).to_bytes())
    cache.add(2, "b", _sig(2, width=128).to_bytes())
    kept, stories, hashes, _ = cache.known([1, 2])
    assert kept == [2] and stories == ["b"] and hashes.shape == (1, 128)


def test_bucket_questions_answered_in_one_call() -> None:
    cache = SignatureCache(capacity=100)
    for ref in (1, 2, 3):
        cache.add(ref, f"story-{ref % 2}", _sig(ref).to_bytes())
    assert cache.holds_story([9, 2], "story-0") and not cache.holds_story([1, 3, 9], "story-0")
    assert 3 in cache and 4 not in cache


def test_rows_of_finds_refs_added_between_calls_and_forgets_them_on_clear() -> None:
    cache = SignatureCache(capacity=1000)
    refs = [2**62 + 3, 5, 977, 12]
    for ref in refs[:2]:
        cache.add(ref, "s", _sig(ref % 1000).to_bytes())
    asked = np.array([5, 977, 2**62 + 3, 4], dtype=np.int64)
    assert cache.rows_of(asked).tolist() == [1, -1, 0, -1]
    for ref in refs[2:]:
        cache.add(ref, "t", _sig(ref).to_bytes())
    rows = cache.rows_of(asked)
    assert rows.tolist() == [1, 2, 0, -1]
    hashes, sizes, codes = cache.arrays()
    assert np.array_equal(hashes[rows[1]], _sig(977).hashes) and sizes[rows[1]] == _sig(977).size
    assert codes[rows[0]] == cache.code_of("s") != codes[rows[1]] == cache.code_of("t")
    cache.clear()
    assert cache.rows_of(asked).tolist() == [-1, -1, -1, -1] and cache.code_of("s") == -1
