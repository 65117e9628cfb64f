"""`make_signatures` (a feed's records at once) must give exactly what `make_signature` gives each record:
signatures are stored, so the batched code may not change a single bit of them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.dedupe import Signature, make_signature, make_signatures, near
from tests.dedupe.test_near import ORIGINAL

WORDS = ["the", "fair", "opened", "exhibitors", "robot", "semiconductor", "of", "and", "in", "Shenzhen", "2,400",
         "pavilion", "Internet", "Things", "new", "energy", "battery", "said", "one", "de", "la", "der", "und"]
ACCENTED = ["Genève", "café", "Cafe\u0301", "naïve", "Straße", "Œuvre", "ﬁnal", "İstanbul", "Ærø", "e\u0301t\u00e9"]
CHINESE = list("第十九届中国国际高新技术成果交易会在深圳会展中心开幕本的了是和与及等")
OTHER = ["ｱｲｳ", "㋐", "🚀", "𠀀𠀁", "한국어", "ＦＵＬＬ", "ไทย", "\u3000", "—", "...", "\n"]

token = st.one_of(st.sampled_from(WORDS), st.sampled_from(ACCENTED), st.sampled_from(CHINESE), st.sampled_from(OTHER))
separator = st.sampled_from([" ", " ", " ", "", ", ", ". ", "\n", "\t"])
text = st.lists(st.tuples(token, separator), max_size=80).map(lambda parts: "".join(t + s for t, s in parts))
sized_text = st.one_of(st.just(""), text, text.map(lambda t: t * 3), st.just(ORIGINAL), st.just(ORIGINAL[:120]))
language = st.sampled_from([None, "en", "zh", "zh-CN", "ja", "fr", "TH", ""])
record = st.tuples(st.one_of(st.just(""), text), sized_text, language)


def assert_same(batch: list[Signature | None], single: list[Signature | None]) -> None:
    assert len(batch) == len(single)
    for b, s in zip(batch, single, strict=True):
        if s is None:
            assert b is None
        else:
            assert b is not None
            assert b.to_bytes() == s.to_bytes()
            assert b.size == s.size
            assert b.keys is not None and s.keys is not None and np.array_equal(b.keys, s.keys)
            assert b.keys.dtype == np.int64 and not b.keys.flags.writeable
            assert b.hashes.dtype == np.uint16 and not b.hashes.flags.writeable


@settings(max_examples=300, deadline=None)
@given(st.lists(record, max_size=12))
def test_batch_matches_one_by_one(items: list[tuple[str, str, str | None]]) -> None:
    assert_same(make_signatures(items), [make_signature(*item) for item in items])


@settings(max_examples=100, deadline=None)
@given(st.lists(record, max_size=12))
def test_batch_matches_one_by_one_with_two_shingle_sizes(items: list[tuple[str, str, str | None]]) -> None:
    """Word and character shingles of different lengths put a batch's records in two groups."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(near, "CHAR_SHINGLE", 2)
        assert_same(make_signatures(items), [make_signature(*item) for item in items])


def test_feed_sized_batch_with_every_path() -> None:
    """Table and exact paths, title fallback, too short and Chinese records in one batch of 50."""
    zh = ("第十九届中国国际高新技术成果交易会在深圳会展中心开幕。"
          "本届高交会以创新驱动发展为主题，来自30多个国家和地区的展商参展。")
    kinds = [
        ("A title", ORIGINAL, "en"),
        ("Hanse Industry Fair opens its doors with 2,400 exhibitors from 41 countries and regions",
         "The fair opened on Monday with record numbers of exhibitors from twenty countries.", "en"),
        ("Café naïve title with accents and more words", "Short body, just a few words here.", "fr"),
        ("", "Cafe\u0301 " + ORIGINAL, None),
        ("", zh, "zh"),
        ("", zh, None),
        ("tiny", "too short", None),
        ("", "", None),
    ]
    items = [kinds[i % len(kinds)] for i in range(50)]
    assert_same(make_signatures(items), [make_signature(*item) for item in items])
    assert make_signatures([]) == []


def test_densified_matches_donors_of_each_row() -> None:
    """Nearly empty rows need probes beyond the first `_QUICK_PROBES`: the slow path."""
    rng = np.random.default_rng(7)
    for filled in (1, 2, 5, 20, 200, 256):
        present = np.zeros((6, near.PERMUTATIONS), dtype=bool)
        for row in present:
            row[rng.choice(near.PERMUTATIONS, filled, replace=False)] = True
        minima = rng.integers(0, 1 << 63, present.shape, dtype=np.uint64)
        expected = np.stack([m[near._donors(p)] for m, p in zip(minima, present, strict=True)]).astype(np.uint16)
        assert np.array_equal(near._densified(minima, present), expected)


def distinct_counts_reference(hashes: np.ndarray, owner: np.ndarray, records: int) -> list[int]:
    return [len(set(hashes[owner == r].tolist())) for r in range(records)]


@pytest.mark.parametrize("seed", range(5))
def test_distinct_counts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    records = int(rng.integers(1, 70))
    owner = np.sort(rng.integers(0, records, 500)).astype(np.uint8)
    pool = rng.integers(0, 1 << 64, 300, dtype=np.uint64)
    if seed % 2:  # hashes that differ in their lowest bits only: the exact (argsort) path
        pool[1::2] = pool[::2] ^ np.uint64(1)
    hashes = rng.choice(pool, owner.size)
    records_at = owner.searchsorted(np.arange(records + 1))
    counts = near._distinct_counts(hashes, owner, records_at)
    assert counts.tolist() == distinct_counts_reference(hashes, owner, records)


def test_first_present_probe_without_bitwise_count() -> None:
    """`_densified` finds the first set byte by a multiplication (numpy >= 1.24 has no `bitwise_count`)."""
    flags = np.array([sum(((m >> j) & 1) << (8 * j) for j in range(8)) for m in range(1, 256)], dtype=np.uint64)
    first = ((flags & (~flags + near._ONE)) * near._FIRST_BYTE) >> near._TOP_BYTE
    assert first.tolist() == [(m & -m).bit_length() - 1 for m in range(1, 256)]


def test_a_signature_crosses_to_another_process_with_its_band_keys_as_an_int64_array() -> None:
    import pickle

    from aggregator.dedupe import band_keys, make_signature

    sig = make_signature("Fair", " ".join(f"hall{i} robot arm demo" for i in range(40)), "en")
    assert sig is not None and sig.keys is not None
    back = pickle.loads(pickle.dumps(sig))
    assert back.keys is not None and back.keys.dtype == np.int64 and not back.keys.flags.writeable
    assert back == sig and band_keys(back) == band_keys(sig) == sig.keys.tolist()
