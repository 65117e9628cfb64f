"""LSH rows written since they were last merged into the `bands` table, searchable in memory.

Why: band keys are random, so each row written straight into the `bands` B-tree lands on a random page,
and every commit rewrites most of the index (a 50,000-record first poll wrote ~300 MB of WAL and spent a
third of the storing thread there). The store instead keeps a run's new rows here for look-ups, writes
them to the unindexed `pending_bands` table as one blob a transaction (durable with their records: a killed
run's rows are indexed when the store is opened next), and merges them into `bands` in key order at the
end of a run: each page of the index is then written once per run, not once per commit.

Committed rows are kept as numpy columns sorted by key, so a look-up of a source's keys is two
`searchsorted` calls, not a Python dict of a million entries (~150 MB).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # numpy is imported on first use: a run where every feed answers 304 never needs it
    import numpy as np
    import numpy.typing as npt

    I64 = npt.NDArray[np.int64]

# Stands for "no committed rows" without importing numpy: opening the store for a poll where every feed
# answers 304 must not load it (11 MB and 50 ms of a 0.5 s poll).
_NO_ROWS = cast("I64", ())


class RecentBands:
    """(band_key, published, ref) rows: the committed ones as columns sorted by key (two `searchsorted` a
    look-up), those of the open transaction in a dict (a rollback just drops it; a commit merges it in)."""

    def __init__(self) -> None:
        self._keys: I64  # committed rows, sorted by key
        self._published: I64
        self._refs: I64
        self._open: dict[int, list[tuple[int, int]]] = {}  # key -> [(published, ref)] of the open transaction
        self._open_rows: list[tuple[int, int, int]] = []
        self._open_cache: I64 | None = None  # _open_rows as an array, made once for the blob and the merge
        self.clear()

    def __len__(self) -> int:
        return len(self._keys) + len(self._open_rows)

    def has_open_rows(self) -> bool:
        return bool(self._open_rows)

    def add(self, rows: Sequence[tuple[int, int, int]]) -> None:
        self._open_rows.extend(rows)
        for key, published, ref in rows:
            bucket = self._open.get(key)
            if bucket is None:
                self._open[key] = [(published, ref)]
            else:
                bucket.append((published, ref))

    def commit(self) -> None:
        """Merge the open transaction's rows into the sorted columns: O(rows kept), no full re-sort."""
        if not self._open_rows:
            return
        import numpy as np

        new = self._open_array()
        new = new[np.argsort(new[:, 0], kind="stable")]
        if not len(self._keys):
            self._keys, self._published, self._refs = (np.ascontiguousarray(new[:, i]) for i in range(3))
            self.rollback()
            return
        # where each new row goes in the merged columns: after the equal keys already there
        at = np.searchsorted(self._keys, new[:, 0], side="right") + np.arange(len(new))
        old = np.ones(len(self._keys) + len(new), dtype=bool)
        old[at] = False
        self._keys = _merged(self._keys, new[:, 0], old, at)
        self._published = _merged(self._published, new[:, 1], old, at)
        self._refs = _merged(self._refs, new[:, 2], old, at)
        self.rollback()

    def open_blob(self) -> bytes:
        """The open transaction's rows as the `pending_bands` table keeps them: little-endian int64 triples."""
        return self._open_array().astype("<i8", copy=False).tobytes()

    def _open_array(self) -> I64:
        import numpy as np

        if self._open_cache is None or len(self._open_cache) != len(self._open_rows):
            self._open_cache = np.array(self._open_rows, dtype=np.int64).reshape(-1, 3)
        return self._open_cache

    def rollback(self) -> None:
        self._open = {}
        self._open_rows = []
        self._open_cache = None

    def clear(self) -> None:
        self._keys = self._published = self._refs = _NO_ROWS
        self.rollback()

    def lookup(self, keys: Sequence[int], window_start: int, window_end: int) -> dict[int, list[int]]:
        """Refs under each key with `published` in the window, oldest first (as the `bands` index orders
        them); keys with none are left out."""
        opened = self._open.keys() & set(keys)  # few: keys an earlier source of the same batch wrote
        found: dict[int, list[int]] = {}
        dated: dict[int, list[tuple[int, int]]] = {}
        if len(self._keys) and keys:
            found, dated = self._committed_refs(keys, window_start, window_end, opened)
        for key in opened:
            rows = [row for row in self._open[key] if window_start <= row[0] <= window_end]
            if rows:  # order the key's rows again, with their dates
                found[key] = [ref for _, ref in sorted(dated.get(key, []) + rows)]
        return found

    def _committed_refs(self, keys: Sequence[int], window_start: int, window_end: int,
                        dates_for: set[int]) -> tuple[dict[int, list[int]], dict[int, list[tuple[int, int]]]]:
        """Refs under each key, and (published, ref) pairs for the keys in `dates_for`."""
        import numpy as np

        wanted = np.unique(np.fromiter(keys, dtype=np.int64, count=len(keys)))
        starts = np.searchsorted(self._keys, wanted, side="left")
        # most keys are not there: find the ends of the ranges only for those that are
        hit = starts < len(self._keys)
        hit[hit] = self._keys[starts[hit]] == wanted[hit]
        if not hit.any():
            return {}, {}
        wanted, starts = wanted[hit], starts[hit]
        counts = np.searchsorted(self._keys, wanted, side="right") - starts
        # every row index of every found range, without a Python loop
        rows = np.repeat(starts, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        published = self._published[rows]
        rows = rows[(published >= window_start) & (published <= window_end)]
        if not len(rows):
            return {}, {}
        rows = rows[np.lexsort((self._refs[rows], self._published[rows], self._keys[rows]))]
        found_keys, firsts = np.unique(self._keys[rows], return_index=True)
        refs = self._refs[rows].tolist()
        bounds = [*firsts.tolist(), len(refs)]
        found = {key: refs[bounds[i] : bounds[i + 1]] for i, key in enumerate(found_keys.tolist())}
        dated: dict[int, list[tuple[int, int]]] = {}
        if dates_for:
            stamps = self._published[rows].tolist()
            for i, key in enumerate(found_keys.tolist()):
                if key in dates_for:
                    dated[key] = list(zip(stamps[bounds[i] : bounds[i + 1]], found[key], strict=True))
        return found, dated

    def sorted_rows(self, chunk: int = 65536) -> Iterator[tuple[int, int, int]]:
        """The committed rows in (key, published, ref) order: an index takes them fastest in its own order.
        Made into Python ints a chunk at a time (a million rows at once would take ~100 MB)."""
        if not len(self._keys):
            return
        import numpy as np

        order = np.lexsort((self._refs, self._published, self._keys))
        for start in range(0, len(order), chunk):
            part = order[start : start + chunk]
            yield from zip(self._keys[part].tolist(), self._published[part].tolist(), self._refs[part].tolist(),
                           strict=True)


def decode_rows(blob: bytes) -> list[tuple[int, int, int]]:
    import numpy as np

    rows: list[tuple[int, int, int]] = [tuple(r) for r in np.frombuffer(blob, dtype="<i8").reshape(-1, 3).tolist()]
    return rows


def _merged(old: I64, new: I64, old_mask: npt.NDArray[np.bool_], new_at: I64) -> I64:
    import numpy as np

    out = np.empty(len(old_mask), dtype=np.int64)
    out[old_mask] = old
    out[new_at] = new
    return out
