"""A run's LSH rows, searchable in memory, and those not merged into SQLite's index (`band_blocks`) yet.

Why: band keys are random, so each row written straight into an index lands on a random page, and every
commit rewrites most of it (a 50,000-record first poll wrote ~300 MB of WAL and spent a third of the storing
thread there). The store instead keeps a run's new rows here for look-ups, writes them to the unindexed
`pending_bands` table as one blob a transaction (durable with their records: a killed run's rows are indexed
when the store is opened next), and merges them into the index at the end of a run (or past a million
rows): a block of the index is written once per merge, not once per commit. Merged rows stay here while the
store can answer look-ups from memory alone (see SqlStore).

Rows are kept as numpy columns sorted by key, so a look-up of a source's keys is a few `searchsorted`
calls, not a Python dict of a million entries (~150 MB), and adding a source's rows is a merge, not a
Python loop over them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from aggregator.store.schema import BAND_PERIOD
from aggregator.store.sorted_columns import index_order, merge_sorted

if TYPE_CHECKING:  # numpy is imported on first use: a run where every feed answers 304 never needs it
    import numpy as np
    import numpy.typing as npt

    I64 = npt.NDArray[np.int64]
    _Columns = tuple[I64, I64, I64]  # keys (sorted), published, refs

_SLOT_MASK = (1 << 23) - 1  # 8 MB of slots: with the 660,000 rows of a 46,000-record poll, 8% of them are set

# Stands for "no committed rows" without importing numpy: opening the store for a poll where every feed
# answers 304 must not load it (11 MB and 50 ms of a 0.5 s poll).
_NO_ROWS = cast("I64", ())


class RecentBands:
    """(band_key, published, ref) rows as numpy columns sorted by key: the committed ones, and the open
    transaction's apart (a rollback just drops them; a commit merges them in). A look-up of a source's keys
    is then a few `searchsorted` calls on each.

    The committed rows are two sorted runs: a commit merges into the small one, and the small one into the
    big one once it is half its size. Merging every commit into one run had copied all the run's rows at
    each commit (~0.8 s of the storing thread in a first poll of 46,000 records); this copies each row
    a few times in all, for one more `searchsorted` a look-up.

    Most keys a source looks up are under no row (a new story's bands are new), so a table of which key
    slots hold committed rows (the key's low bits, `_SLOT_MASK`: a key is a hash already) sends only the keys that
    may be there to the binary searches: they were ~10% of the storing thread in a first poll.
    """

    def __init__(self) -> None:
        self._big: _Columns
        self._small: _Columns
        self._open: _Columns
        self._unmerged: list[_Columns] = []  # committed rows not yet in the index, a transaction each
        self._slots: npt.NDArray[np.bool_] | None = None  # key & _SLOT_MASK of every committed row: True
        self.clear()

    def __len__(self) -> int:
        return len(self._big[0]) + len(self._small[0]) + len(self._open[0])

    def unmerged(self) -> int:
        """Committed rows not yet merged into the index (`unmerged_columns` gives them; `merged` forgets them)."""
        return sum(len(columns[0]) for columns in self._unmerged)

    def has_open_rows(self) -> bool:
        return bool(len(self._open[0]))

    def add(self, rows: Sequence[tuple[int, int, int]] | I64) -> None:
        """Rows of the open transaction, as tuples or an (n, 3) array. Merged into the open columns now
        (their size is one batch's rows, so a merge is cheap) for the next source's look-ups."""
        import numpy as np

        array = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
        if len(array):
            self._open = _merged_columns(self._open, _sorted_columns(array))

    def commit(self) -> None:
        """Merge the open transaction's rows into the small committed run (and that into the big one at half
        its size): no full re-sort."""
        if len(self._open[0]):
            import numpy as np

            if self._slots is None:
                self._slots = np.zeros(_SLOT_MASK + 1, dtype=bool)
            self._slots[self._open[0] & _SLOT_MASK] = True
            self._small = _merged_columns(self._small, self._open)
            if 2 * len(self._small[0]) >= len(self._big[0]):
                self._big, self._small = _merged_columns(self._big, self._small), (_NO_ROWS, _NO_ROWS, _NO_ROWS)
            self._unmerged.append(self._open)
        self.rollback()

    def open_blob(self) -> bytes:
        """The open transaction's rows as the `pending_bands` table keeps them: little-endian int64 triples."""
        import numpy as np

        return encode_rows(np.stack(self._open, axis=1))

    def rollback(self) -> None:
        self._open = (_NO_ROWS, _NO_ROWS, _NO_ROWS)

    def clear(self) -> None:
        self._big = self._small = (_NO_ROWS, _NO_ROWS, _NO_ROWS)
        self._slots = None
        self._unmerged = []
        self.rollback()

    def merged(self) -> None:
        """The unmerged rows are now in the index; they stay here for look-ups."""
        self._unmerged = []

    def lookup_rows(self, keys: I64, window_start: int, window_end: int) -> tuple[I64, I64, I64]:
        """Rows under `keys` (sorted, distinct) with `published` in the window, as (index into `keys`,
        published, ref) columns in that order: each key's refs oldest first, as the index orders
        them."""
        import numpy as np

        parts = []
        if self._slots is not None:
            maybe = np.flatnonzero(self._slots[keys & _SLOT_MASK])  # the keys some committed row may be under
            if len(maybe):
                candidates = keys[maybe]
                for columns in (self._big, self._small):
                    if len(columns[0]):
                        at, published, refs = rows_under(columns, candidates, window_start, window_end)
                        parts.append((maybe[at], published, refs))
        if len(self._open[0]):
            parts.append(rows_under(self._open, keys, window_start, window_end))
        parts = [p for p in parts if len(p[0])]
        if not parts:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        at, published, refs = parts[0] if len(parts) == 1 else (np.concatenate(c) for c in zip(*parts, strict=True))
        order = np.lexsort((refs, published, at))
        return at[order], published[order], refs[order]

    def lookup(self, keys: Sequence[int], window_start: int, window_end: int) -> dict[int, list[int]]:
        """`lookup_rows` as {key: refs}; keys with none are left out."""
        import numpy as np

        wanted = np.unique(np.fromiter(keys, dtype=np.int64, count=len(keys)))
        at, _, refs = self.lookup_rows(wanted, window_start, window_end)
        found: dict[int, list[int]] = {}
        for key, ref in zip(wanted[at].tolist(), refs.tolist(), strict=True):
            found.setdefault(key, []).append(ref)
        return found

    def unmerged_columns(self, *, forget: bool = False) -> tuple[I64, I64, I64, I64]:
        """The unmerged rows as (period, key, published, ref) columns, in that order: the index's. `forget`:
        everything here is dropped first, look-up runs included, so that only the sort's copies are left (at
        the end of a first poll, 50 MB less at the peak)."""
        import numpy as np

        unmerged = self._unmerged
        if forget:
            self.clear()
        if not unmerged:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty, empty
        keys, published, refs = (np.concatenate(c) for c in zip(*unmerged, strict=True))
        del unmerged  # the rows of each transaction: only the columns just made hold them now
        periods = published // BAND_PERIOD
        order = index_order(periods, keys, published, refs)
        # a column at a time, each unsorted one let go as its sorted copy is made
        periods = periods[order]
        keys = keys[order]
        published = published[order]
        return periods, keys, published, refs[order]


def encode_rows(rows: I64) -> bytes:
    """(n, 3) rows as a `pending_bands` blob: little-endian int64 triples."""
    return rows.astype("<i8", copy=False).tobytes()


def decode_rows(blob: bytes) -> I64:
    """A `pending_bands` blob as an (n, 3) array of rows."""
    import numpy as np

    return np.frombuffer(blob, dtype="<i8").reshape(-1, 3).astype(np.int64)


def _sorted_columns(rows: I64) -> _Columns:
    import numpy as np

    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    return (np.ascontiguousarray(rows[:, 0]), np.ascontiguousarray(rows[:, 1]), np.ascontiguousarray(rows[:, 2]))


def _merged_columns(old: _Columns, new: _Columns) -> _Columns:
    keys, published, refs = merge_sorted(old, new)
    return keys, published, refs


def rows_under(columns: _Columns, keys: I64, window_start: int, window_end: int) -> tuple[I64, I64, I64]:
    """(index into `keys`, published, ref) of the rows of `columns` under `keys` (sorted), in the window: by key,
    each key's rows in the columns' order."""
    import numpy as np

    column_keys, column_published, column_refs = columns
    starts = np.searchsorted(column_keys, keys, side="left")
    # most keys are not there: find the ends of the ranges only for those that are
    hit = starts < len(column_keys)
    hit[hit] = column_keys[starts[hit]] == keys[hit]
    at = np.flatnonzero(hit)
    starts = starts[at]
    counts = np.searchsorted(column_keys, keys[at], side="right") - starts
    # every row index of every found range, without a Python loop
    rows = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    at = np.repeat(at, counts)
    published = column_published[rows]
    inside = (published >= window_start) & (published <= window_end)
    return at[inside], published[inside], column_refs[rows[inside]]
