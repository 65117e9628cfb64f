"""LSH buckets of a source's new records, and the questions the store asks them, a whole source at once.

A first poll looks up ~1.5M (record, band) cells; asking each one in a Python loop cost the storing
thread seconds. Here a source's cells are numpy arrays: the candidate pairs, the first occurrence of
each, and which cells get an index row are a few array operations, and only the cells that two new
records of the same source share (about 1%) are left to a loop, because their order matters.

Pure functions: the store feeds them what it looked up and writes what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    I64 = npt.NDArray[np.int64]
    Mask = npt.NDArray[np.bool_]

# A band shared by this many different stories in the dedupe window (copies of one story add no rows) stands
# for boilerplate ("director of operations at"), not for a story: it is not searched and gets no more rows,
# so a lookup costs at most BANDS x BUCKET_CAP rows however much is stored. Copies still meet in other bands.
BUCKET_CAP = 16


@dataclass(frozen=True, slots=True)
class Buckets:
    """What is stored under each of a source's band keys: `refs[starts[i] : starts[i] + sizes[i]]` are the
    refs under `keys[i]`, in bucket order (oldest first). A full bucket (`sizes >= BUCKET_CAP`) lists none:
    it is never searched."""

    keys: I64  # sorted, distinct
    sizes: I64
    starts: I64
    refs: I64

    def open_sizes(self) -> I64:
        """Sizes with full buckets as 0: the number of refs a cell's bucket offers as candidates."""
        import numpy as np

        return np.where(self.sizes < BUCKET_CAP, self.sizes, 0)


def buckets(keys: I64, known_full: Mask, at: I64, refs: I64) -> Buckets:
    """Buckets of `keys` from rows found under them (`at` indexes `keys`, rows already in bucket order per
    key); keys in `known_full` count as full without their rows."""
    import numpy as np

    sizes = np.bincount(at, minlength=len(keys)).astype(np.int64)
    sizes[known_full] = BUCKET_CAP
    listed = sizes[at] < BUCKET_CAP  # the rows of full buckets are not kept
    kept_at = at[listed]
    kept_sizes = np.bincount(kept_at, minlength=len(keys)).astype(np.int64)
    starts = np.cumsum(kept_sizes) - kept_sizes
    return Buckets(keys, sizes, starts, refs[listed])


def cell_refs(found: Buckets, cells: I64) -> tuple[I64, I64]:
    """(cell, position in `found.refs`) for every ref in the non-full bucket of every cell (`cells` indexes
    `found.keys`), cells in order and each bucket in its order."""
    import numpy as np

    sizes = found.open_sizes()[cells]
    which = np.flatnonzero(sizes)
    counts = sizes[which]
    starts = found.starts[cells[which]]
    positions = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    return np.repeat(which, counts), positions


def first_of_each(groups: I64, values: I64) -> I64:
    """Indexes of the first occurrence of each (group, value) pair, in their original order."""
    import numpy as np

    if not len(groups):
        return np.empty(0, dtype=np.intp)
    order = np.lexsort((values, groups))  # stable: equal pairs keep their order, the first comes first
    sorted_groups, sorted_values = groups[order], values[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (sorted_groups[1:] != sorted_groups[:-1]) | (sorted_values[1:] != sorted_values[:-1])
    return np.sort(order[first])


def cells_holding(cell_count: int, pair_cells: I64, pair_codes: I64, cell_codes: I64) -> Mask:
    """Per cell, whether one of its refs (`pair_cells`, `pair_codes`: cell and story code of each) is a
    member of the story `cell_codes` gives the cell. Negative codes never match (a ref not kept, a cell with
    no story to look for)."""
    import numpy as np

    holding = np.zeros(cell_count, dtype=bool)
    match = (pair_codes == cell_codes[pair_cells]) & (pair_codes >= 0)
    holding[pair_cells[match]] = True
    return holding
