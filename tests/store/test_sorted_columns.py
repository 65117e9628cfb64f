"""Merging key-sorted columns gives what sorting everything again gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from aggregator.store.sorted_columns import merge_sorted

_rows = st.lists(st.tuples(st.integers(0, 20), st.integers(-5, 5)), max_size=40)


@given(_rows, _rows)
def test_merged_columns_are_sorted_with_new_rows_after_equal_old_keys(old: list[tuple[int, int]],
                                                                       new: list[tuple[int, int]]) -> None:
    def columns(rows: list[tuple[int, int]]) -> tuple[np.ndarray, ...]:
        rows = sorted(rows, key=lambda r: r[0])  # stable: the given order within a key
        return tuple(np.array([r[i] for r in rows], dtype=np.int64) for i in range(2))

    keys, values = merge_sorted(columns(old), columns(new))
    expected = sorted([(k, 0, v) for k, v in sorted(old, key=lambda r: r[0])]
                      + [(k, 1, v) for k, v in sorted(new, key=lambda r: r[0])], key=lambda r: (r[0], r[1]))
    assert list(zip(keys.tolist(), values.tolist(), strict=True)) == [(k, v) for k, _, v in expected]
