"""SQLite's LSH index: rows kept as blobs by period and key range ("blocks"), not as a B-tree row each.

Why: a first poll of 46,000 records has 920,000 LSH rows, and inserting them into the `bands` B-tree cost
~1 us a row through executemany: the merges were the biggest part of the storing thread (16%). As blobs,
they are ~200,000 rows of ~110 bytes, written once at the end of a run. A block holds the rows of one period
whose band key has the same top bits (`BLOCK_SHIFT`), sorted by (key, published, ref), as little-endian
int64 triples (the `pending_bands` format): a look-up reads the blocks its keys fall in and binary-searches
them, and a merge rewrites the blocks the new rows fall in. PostgreSQL keeps the `bands` table: several
workers insert into it at once, which blobs rewritten by each would not allow.

Pure functions on numpy columns; the store does the reading and writing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from aggregator.store.recent_bands import decode_rows, encode_rows, rows_under
from aggregator.store.sorted_columns import index_order

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    I64 = npt.NDArray[np.int64]

# A block is the rows of a period whose band keys share their top 16 bits: 65,536 blocks a period. A first
# poll's 920,000 rows over three periods make blocks of ~5 rows; a period of 1.4 million rows (a million
# stored records) blocks of ~21 rows (500 bytes), which stay within their B-tree page: past ~1,000 bytes
# SQLite moves a blob of a 4 KB page to overflow pages (14 bits made 2 KB blocks there, and look-ups read
# their overflow pages too). More bits cost the first poll: 16 bits write 200,000 blocks where 14 wrote
# 50,000 (~0.15 s more at the end of the run).
BLOCK_SHIFT = 48
_ROW_BYTES = 24


def blocks_of(keys: I64) -> I64:
    """The block of each band key (an arithmetic shift: blocks sort as their keys do)."""
    return keys >> BLOCK_SHIFT


def _block_starts(periods: I64, blocks: I64) -> I64:
    """Where each block begins in rows sorted by (period, key)."""
    import numpy as np

    edges = np.flatnonzero((periods[1:] != periods[:-1]) | (blocks[1:] != blocks[:-1])) + 1
    return np.concatenate([np.zeros(1, dtype=np.int64), edges])


def as_blocks(periods: I64, keys: I64, published: I64, refs: I64) -> Iterator[tuple[int, int, bytes]]:
    """Rows sorted by (period, key, published, ref) as (period, block, blob) rows of `band_blocks`, made as
    executemany takes them (a list of a first poll's 200,000 blocks was 15 MB at the peak)."""
    import numpy as np

    if not len(keys):
        return iter(())
    blocks = blocks_of(keys)
    first = _block_starts(periods, blocks)
    starts = (first * _ROW_BYTES).tolist()
    data = encode_rows(np.stack([keys, published, refs], axis=1))
    # built by zip and map (C loops): a Python loop over a first poll's 200,000 blocks took 0.3 s
    blobs = map(data.__getitem__, map(slice, starts, [*starts[1:], len(data)]))
    return zip(periods[first].tolist(), blocks[first].tolist(), blobs, strict=True)


def merged_blocks(stored: Sequence[tuple[int, int, bytes]], periods: I64, keys: I64, published: I64,
                  refs: I64) -> Iterator[tuple[int, int, bytes]]:
    """The blocks the new rows (sorted by (period, key, published, ref)) fall in, with the rows `stored`
    there already: sorted, each row once."""
    import numpy as np

    if stored:
        old = [decode_rows(blob) for _, _, blob in stored]
        old_rows = np.concatenate(old)
        old_periods = np.repeat(np.array([period for period, _, _ in stored], dtype=np.int64),
                                [len(rows) for rows in old])
        periods = np.concatenate([old_periods, periods])
        keys = np.concatenate([old_rows[:, 0], keys])
        published = np.concatenate([old_rows[:, 1], published])
        refs = np.concatenate([old_rows[:, 2], refs])
        order = index_order(periods, keys, published, refs)
        periods, keys, published, refs = periods[order], keys[order], published[order], refs[order]
    if len(keys) > 1:  # a row already stored (a merge replayed after a crash) is kept once
        unique = np.ones(len(keys), dtype=bool)
        unique[1:] = ((periods[1:] != periods[:-1]) | (keys[1:] != keys[:-1]) | (published[1:] != published[:-1])
                      | (refs[1:] != refs[:-1]))
        periods, keys, published, refs = periods[unique], keys[unique], published[unique], refs[unique]
    return as_blocks(periods, keys, published, refs)


def rows_in_blocks(blobs: Sequence[bytes], keys: I64, window_start: int,
                   window_end: int) -> tuple[I64, I64, I64]:
    """(index into `keys`, published, ref) of the rows under `keys` (sorted, distinct) in the window, read
    from one period's blocks in any order; each key's rows in (published, ref) order."""
    import numpy as np

    rows = decode_rows(b"".join(blobs))
    keys_column, published, refs = rows[:, 0], rows[:, 1], rows[:, 2]
    order = index_order(np.zeros(len(rows), dtype=np.int64), keys_column, published, refs)
    return rows_under((keys_column[order], published[order], refs[order]), keys, window_start, window_end)
