"""The in-memory LSH rows answer look-ups exactly as the `bands` index would, and forget a rollback."""

from __future__ import annotations

import random
import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.store.recent_bands import RecentBands, decode_rows
from aggregator.store.schema import BAND_PERIOD

Row = tuple[int, int, int]
rows_strategy = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 30), st.integers(0, 2**62)), max_size=60)


def _sql_lookup(rows: list[Row], keys: list[int], start: int, end: int) -> dict[int, list[int]]:
    """The reference: what the `bands` table and its primary key give back."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE bands (band_key INT, published INT, ref INT, PRIMARY KEY (band_key, published, ref))"
               " WITHOUT ROWID")
    db.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?, ?)", rows)
    found: dict[int, list[int]] = {}
    for key, _, ref in db.execute("SELECT band_key, published, ref FROM bands WHERE published BETWEEN ? AND ? "
                                  "ORDER BY band_key, published, ref", (start, end)):
        if key in keys:
            found.setdefault(key, []).append(ref)
    return found


def _unmerged(recent: RecentBands) -> list[tuple[int, int, int, int]]:
    return list(zip(*(column.tolist() for column in recent.unmerged_columns()), strict=True))


def _unseen(rows: list[Row], seen: set[Row]) -> list[Row]:
    """The same row twice would be one row of the index (its primary key), and the store never writes it twice."""
    fresh = [r for r in dict.fromkeys(rows) if r not in seen]
    seen.update(fresh)
    return fresh


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(rows_strategy, max_size=5), open_rows=rows_strategy, keys=st.lists(st.integers(0, 45)),
       start=st.integers(0, 15), span=st.integers(0, 30))
def test_lookup_matches_the_index_across_commits_and_an_open_transaction(
        batches: list[list[Row]], open_rows: list[Row], keys: list[int], start: int, span: int) -> None:
    seen: set[Row] = set()
    batches = [_unseen(b, seen) for b in batches]
    open_rows = _unseen(open_rows, seen)
    recent = RecentBands()
    for batch in batches:
        recent.add(batch)
        recent.commit()
    recent.add(open_rows)
    everything = [r for b in batches for r in b] + open_rows
    assert recent.lookup(keys, start, start + span) == _sql_lookup(everything, keys, start, start + span)
    assert len(recent) == len(set(everything))


def test_rollback_forgets_the_open_transaction_only() -> None:
    recent = RecentBands()
    recent.add([(1, 10, 100), (2, 10, 200)])
    recent.commit()
    recent.add([(1, 5, 300), (3, 10, 400)])
    assert recent.lookup([1, 3], 0, 99) == {1: [300, 100], 3: [400]}  # oldest first
    recent.rollback()
    assert recent.lookup([1, 2, 3], 0, 99) == {1: [100], 2: [200]}
    assert len(recent) == 2


def test_unmerged_rows_come_in_index_order_period_first() -> None:
    rng = random.Random(3)
    span = 3 * BAND_PERIOD  # dates in six periods, before 1970 too
    rows = list({(rng.randrange(50), rng.randrange(-span, span), rng.randrange(10**6)) for _ in range(500)})
    recent = RecentBands()
    for start in range(0, len(rows), 70):
        recent.add(rows[start : start + 70])
        recent.commit()
    in_index_order = sorted((row[1] // BAND_PERIOD, *row) for row in rows)  # (period, key, published, ref)
    assert _unmerged(recent) == in_index_order
    recent.clear()
    assert len(recent) == 0 and recent.lookup([r[0] for r in rows], -span, span) == {}


def test_the_open_rows_round_trip_through_their_blob() -> None:
    rows = [(2**53 - 1, 1_700_000_000, 2**62 + 5), (0, 0, 0)]
    recent = RecentBands()
    recent.add(rows[:1])
    recent.add(rows[1:])
    assert recent.has_open_rows() and sorted(map(tuple, decode_rows(recent.open_blob()).tolist())) == sorted(rows)
    recent.commit()
    assert not recent.has_open_rows() and _unmerged(recent) == sorted((r[1] // BAND_PERIOD, *r) for r in rows)


def test_merged_rows_leave_the_merge_queue_but_stay_searchable() -> None:
    recent = RecentBands()
    recent.add([(1, 10, 100), (2, 10, 200)])
    assert recent.unmerged() == 0  # the open transaction is not merged before it commits
    recent.commit()
    recent.add([(1, 11, 300)])
    recent.commit()
    assert recent.unmerged() == 3 and _unmerged(recent) == [(0, 1, 10, 100), (0, 1, 11, 300), (0, 2, 10, 200)]
    recent.merged()
    assert recent.unmerged() == 0 and _unmerged(recent) == []
    assert recent.lookup([1, 2], 0, 99) == {1: [100, 300], 2: [200]}
    recent.add([(3, 12, 400)])
    recent.commit()
    assert _unmerged(recent) == [(0, 3, 12, 400)]
