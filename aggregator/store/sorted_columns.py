"""Numpy columns kept sorted by their first one, grown by merging: the store's in-memory indexes (the run's
LSH rows, the signature cache's rows by ref) take a source's few dozen rows at a time, and a merge costs
O(rows) with no re-sort."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    I64 = npt.NDArray[np.int64]


def merge_sorted(old: tuple[I64, ...], new: tuple[I64, ...]) -> tuple[I64, ...]:
    """Two sets of columns sorted by their first column as one, `new` rows after the equal keys of `old`."""
    import numpy as np

    if not len(old[0]):
        return new
    # where each new row goes in the merged columns: after the equal keys already there
    at = np.searchsorted(old[0], new[0], side="right") + np.arange(len(new[0]))
    keep = np.ones(len(old[0]) + len(new[0]), dtype=bool)
    keep[at] = False
    merged = []
    for old_column, new_column in zip(old, new, strict=True):
        out = np.empty(len(keep), dtype=np.int64)
        out[keep] = old_column
        out[at] = new_column
        merged.append(out)
    return tuple(merged)


def index_order(periods: I64, keys: I64, published: I64, refs: I64) -> I64:
    """The order of rows by (period, key, published, ref), as `np.lexsort` gives it in a quarter of the time:
    two stable sorts (keys come in sorted runs, periods are few), then the rare rows sharing a period and key
    put in order among themselves."""
    import numpy as np

    order = np.argsort(keys, kind="stable")
    order = order[np.argsort(periods[order], kind="stable")]
    sorted_keys = keys[order]
    same = sorted_keys[1:] == sorted_keys[:-1]
    del sorted_keys
    sorted_periods = periods[order]
    same &= sorted_periods[1:] == sorted_periods[:-1]
    del sorted_periods
    if same.any():
        tied = np.zeros(len(order), dtype=bool)
        tied[1:] |= same
        tied[:-1] |= same
        at = np.flatnonzero(tied)  # whole groups, in (period, key) order: sorting them keeps them in place
        group = order[at]
        order[at] = group[np.lexsort((refs[group], published[group], keys[group], periods[group]))]
    return order
