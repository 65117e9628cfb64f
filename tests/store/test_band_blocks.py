"""SQLite's LSH blocks give back what a B-tree of (period, band_key, published, ref) rows would, merge after
merge."""

from __future__ import annotations

import sqlite3

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.store.band_blocks import BLOCK_SHIFT, as_blocks, merged_blocks, rows_in_blocks
from aggregator.store.schema import BAND_PERIOD

Row = tuple[int, int, int]  # (band_key, published, ref)
# keys over the whole int64 range, some sharing a block, some at its edges
KEYS = [-(2**63), -(2**63) + 1, -5 << BLOCK_SHIFT, (-5 << BLOCK_SHIFT) + 7, -1, 0, 1, 3 << BLOCK_SHIFT,
        (3 << BLOCK_SHIFT) + 1, (4 << BLOCK_SHIFT) - 1, 2**63 - 1]
rows_strategy = st.lists(st.tuples(st.sampled_from(KEYS), st.integers(-2 * BAND_PERIOD, 3 * BAND_PERIOD),
                                   st.integers(0, 2**62)), max_size=40)


def _columns(rows: list[Row]) -> tuple[np.ndarray, ...]:
    """(period, key, published, ref) columns in the index's order."""
    ordered = sorted((published // BAND_PERIOD, key, published, ref) for key, published, ref in rows)
    return tuple(np.array(column, dtype=np.int64) for column in zip(*ordered, strict=True)) if ordered else \
        tuple(np.empty(0, dtype=np.int64) for _ in range(4))


def _merge(stored: dict[tuple[int, int], bytes], rows: list[Row]) -> None:
    """What the store does: read the blocks the rows fall in, write them back merged."""
    periods, keys, published, refs = _columns(rows)
    touched = {(int(p), int(k) >> BLOCK_SHIFT) for p, k in zip(periods, keys, strict=True)}
    old = [(p, b, stored[p, b]) for p, b in sorted(touched) if (p, b) in stored]
    for period, block, blob in merged_blocks(old, periods, keys, published, refs):
        stored[period, block] = blob


def _reference(rows: list[Row], keys: list[int], start: int, end: int) -> dict[int, list[int]]:
    """The B-tree: SQLite's primary key on (period, band_key, published, ref), read in its order."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE bands (period INT, band_key INT, published INT, ref INT, "
               "PRIMARY KEY (period, band_key, published, ref)) WITHOUT ROWID")
    db.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?, ?, ?)",
                   [(published // BAND_PERIOD, key, published, ref) for key, published, ref in rows])
    found: dict[int, list[int]] = {}
    for key, ref in db.execute("SELECT band_key, ref FROM bands WHERE published BETWEEN ? AND ? "
                               "ORDER BY period, band_key, published, ref", (start, end)):
        if key in keys:
            found.setdefault(key, []).append(ref)
    return found


def _lookup(stored: dict[tuple[int, int], bytes], keys: list[int], start: int, end: int) -> dict[int, list[int]]:
    """What the store does: per period, oldest first, the blocks the keys fall in; then by key, stably."""
    wanted = np.unique(np.array(keys, dtype=np.int64))
    blocks = set((wanted >> BLOCK_SHIFT).tolist())
    at_parts, ref_parts = [], []
    for period in sorted({p for p, _ in stored}):
        blobs = [stored[period, b] for b in sorted(blocks, reverse=True) if (period, b) in stored]  # any order
        if blobs:
            at, _, refs = rows_in_blocks(blobs, wanted, start, end)
            at_parts.append(at)
            ref_parts.append(refs)
    found: dict[int, list[int]] = {}
    if at_parts:
        at, refs = np.concatenate(at_parts), np.concatenate(ref_parts)
        order = np.argsort(at, kind="stable")
        for key, ref in zip(wanted[at[order]].tolist(), refs[order].tolist(), strict=True):
            found.setdefault(key, []).append(ref)
    return found


@settings(max_examples=80, deadline=None)
@given(batches=st.lists(rows_strategy, max_size=5), keys=st.lists(st.sampled_from(KEYS), min_size=1),
       start=st.integers(-3 * BAND_PERIOD, 3 * BAND_PERIOD), span=st.integers(0, 4 * BAND_PERIOD))
def test_blocks_answer_look_ups_as_the_b_tree_does_after_each_merge(batches: list[list[Row]], keys: list[int],
                                                                      start: int, span: int) -> None:
    stored: dict[tuple[int, int], bytes] = {}
    everything: list[Row] = []
    for batch in batches:
        _merge(stored, batch)
        everything += batch
        assert _lookup(stored, keys, start, start + span) == _reference(everything, keys, start, start + span)
    # each row once, whatever was merged twice
    assert sum(len(blob) for blob in stored.values()) == 24 * len(set(everything))


def test_a_block_is_a_period_and_the_top_bits_of_its_keys() -> None:
    rows = [(0, 1 << BLOCK_SHIFT, 5, 1), (0, (1 << BLOCK_SHIFT) + 9, 5, 2), (0, 2 << BLOCK_SHIFT, 5, 3),
            (1, 2 << BLOCK_SHIFT, BAND_PERIOD, 4)]
    columns = [np.array(c, dtype=np.int64) for c in zip(*rows, strict=True)]
    blocks = list(as_blocks(*columns))
    assert [(period, block, len(blob) // 24) for period, block, blob in blocks] == [(0, 1, 2), (0, 2, 1), (1, 2, 1)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-2, 2), st.sampled_from(KEYS), st.integers(-3, 3), st.integers(0, 3)),
                max_size=60), st.integers(1, 4))
def test_index_order_is_lexsorts(rows: list[tuple[int, int, int, int]], runs: int) -> None:
    """The store's sort of LSH rows by (period, key, published, ref): keys arrive in sorted runs, ties happen."""
    from aggregator.store.sorted_columns import index_order

    size = -(-len(rows) // runs) if rows else 1
    rows = [r for start in range(0, len(rows), size) for r in sorted(rows[start : start + size], key=lambda r: r[1])]
    periods, keys, published, refs = (np.array(c, dtype=np.int64).reshape(-1) for c in zip(*rows, strict=True)) \
        if rows else (np.empty(0, dtype=np.int64) for _ in range(4))
    order = index_order(periods, keys, published, refs)
    assert order.tolist() == np.lexsort((refs, published, keys, periods)).tolist()
