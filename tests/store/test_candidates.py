"""The store's bulk bucket questions give what the plain per-cell loops they replaced gave."""

from __future__ import annotations

from itertools import chain

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from aggregator.store.candidates import BUCKET_CAP, buckets, cell_refs, cells_holding, first_of_each

# rows found under keys 0..9: (key, ref), in bucket order per key; some keys get a full bucket
_rows = st.lists(st.tuples(st.integers(0, 9), st.integers(0, 30)), max_size=120)
_cells = st.lists(st.integers(0, 9), max_size=40)


def _found(rows: list[tuple[int, int]], known_full: set[int]):  # type: ignore[no-untyped-def]
    keys = np.arange(10, dtype=np.int64)
    rows = sorted(rows, key=lambda r: r[0])  # stable: bucket order kept per key
    at = np.array([k for k, _ in rows], dtype=np.int64)
    refs = np.array([r for _, r in rows], dtype=np.int64)
    full = np.isin(keys, list(known_full))
    return buckets(keys, full, at, refs)


def _reference_buckets(rows: list[tuple[int, int]], known_full: set[int]) -> dict[int, list[int]]:
    """The old dict of lists: a full bucket stands as BUCKET_CAP zeros."""
    found: dict[int, list[int]] = {}
    for key, ref in rows:
        if key not in known_full:
            found.setdefault(key, []).append(ref)
    found.update(dict.fromkeys(known_full, [0] * BUCKET_CAP))
    return found


@given(_rows, st.sets(st.integers(0, 9), max_size=3), _cells)
def test_cell_refs_list_each_open_bucket_in_order(rows: list[tuple[int, int]], known_full: set[int],
                                                  cells: list[int]) -> None:
    found = _found(rows, known_full)
    reference = _reference_buckets(rows, known_full)
    for key in range(10):
        assert (found.sizes[key] >= BUCKET_CAP) == (len(reference.get(key, [])) >= BUCKET_CAP)
    pair_cells, positions = cell_refs(found, np.array(cells, dtype=np.int64))
    pair_refs = found.refs[positions]
    expected = [(i, ref) for i, key in enumerate(cells)
                if len(bucket := reference.get(key, [])) < BUCKET_CAP for ref in bucket]
    assert list(zip(pair_cells.tolist(), pair_refs.tolist(), strict=True)) == expected


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 6)), max_size=60))
def test_first_of_each_keeps_first_occurrences_in_order(pairs: list[tuple[int, int]]) -> None:
    groups = np.array([g for g, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=np.int64)
    kept = first_of_each(groups, values).tolist()
    assert [pairs[i] for i in kept] == list(dict.fromkeys(pairs))
    assert kept == sorted(kept)


def test_first_of_each_per_record_is_the_old_chain_of_buckets() -> None:
    buckets_of_record = [[[5, 3], [3, 9]], [[9], [], [9, 1]]]
    reference = [list(dict.fromkeys(chain.from_iterable(b))) for b in buckets_of_record]
    groups = np.array([r for r, bs in enumerate(buckets_of_record) for b in bs for _ in b], dtype=np.int64)
    values = np.array([ref for bs in buckets_of_record for b in bs for ref in b], dtype=np.int64)
    kept = first_of_each(groups, values)
    assert [values[kept][groups[kept] == r].tolist() for r in range(2)] == reference


def test_a_cell_holds_its_story_only_through_a_kept_member() -> None:
    pair_cells = np.array([0, 0, 1, 2, 2], dtype=np.int64)
    pair_codes = np.array([4, 7, -1, 7, 3], dtype=np.int64)  # -1: a ref not kept in the cache
    cell_codes = np.array([7, -1, 3, -1], dtype=np.int64)  # -1: a record that is no copy
    assert cells_holding(4, pair_cells, pair_codes, cell_codes).tolist() == [True, False, True, False]
