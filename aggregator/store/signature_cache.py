"""Signatures of stored records kept in memory while a run stores, so candidates are not fetched twice.

The hashes live as rows of one uint16 matrix: comparing a batch's records with thousands of candidates
is then one fancy-indexing copy, not a join of thousands of small byte strings (the candidates of a
first poll add up to hundreds of MB).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from aggregator.store.sorted_columns import merge_sorted

if TYPE_CHECKING:  # numpy is imported on first use: a run where every feed answers 304 never needs it
    import numpy as np
    import numpy.typing as npt

    U16 = npt.NDArray[np.uint16]
    F64 = npt.NDArray[np.float64]
    I64 = npt.NDArray[np.int64]

_HEADER = struct.Struct("<IH")  # as dedupe.Signature.to_bytes: shingle count, number of hashes


class SignatureCache:
    """ref -> (story id, shingle count, hashes), at most `capacity` records (then it starts afresh).

    A record's story never changes once stored, so an entry stays true as long as it is kept.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: dict[int, tuple[str, int, int]] = {}  # ref -> (story id, shingle count, matrix row)
        self._matrix: U16 | None = None
        # by matrix row, for questions about whole batches of refs at once (see `rows_of`)
        self._sizes: F64 | None = None
        self._codes: I64 | None = None  # a small integer per story id, so stories compare in numpy
        self._stories: list[str] = []
        self._code_of: dict[str, int] = {}
        self._refs: I64 | None = None  # ref of each row
        # rows [0, _indexed) sorted by ref, so `rows_of` is a search, not a dict look-up a ref
        self._sorted_refs: I64 | None = None
        self._sorted_rows: I64 | None = None
        self._indexed = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, ref: object) -> bool:
        return ref in self._entries

    def clear(self) -> None:
        self._entries.clear()
        self._stories.clear()
        self._code_of.clear()
        self._sorted_refs = self._sorted_rows = None
        self._indexed = 0

    def holds_story(self, refs: Iterable[int], story_id: str) -> bool:
        """Whether any of `refs` is kept as a member of `story_id` (one call for a bucket, not one a ref)."""
        get = self._entries.get
        return any(entry is not None and entry[0] == story_id for entry in map(get, refs))

    def add(self, ref: int, story_id: str, blob: bytes) -> None:
        """Keep a signature as `Signature.to_bytes` wrote it."""
        import numpy as np

        size, count = _HEADER.unpack_from(blob)
        matrix = self._matrix
        if ref in self._entries and matrix is not None and count == matrix.shape[1]:
            row = self._entries[ref][2]
        else:
            row = len(self._entries)
            if matrix is None or row >= matrix.shape[0] or count != matrix.shape[1]:
                matrix = self._grow(row, count)
                row = len(self._entries)  # 0 when the width changed and it started afresh
        matrix[row] = np.frombuffer(blob, dtype="<u2", count=count, offset=_HEADER.size)
        assert self._sizes is not None and self._codes is not None and self._refs is not None
        self._refs[row] = ref
        self._sizes[row] = size
        self._codes[row] = self._code_of.setdefault(story_id, len(self._code_of))
        if row == len(self._stories):
            self._stories.append(story_id)
        else:
            self._stories[row] = story_id
        self._entries[ref] = (story_id, size, row)

    def _grow(self, rows: int, width: int) -> U16:
        import numpy as np

        old = self._matrix
        if old is None or width != old.shape[1]:  # another signature width: start afresh (never in one store)
            self.clear()
            self._sizes = self._codes = self._refs = None
            old = np.empty((0, width), dtype=np.uint16)
            rows = 0
        # the whole capacity (and a quarter more: a call may add some before the next clear) at once, as
        # untouched memory that only rows written take up; past that, a quarter more at a time
        size = max(self.capacity + self.capacity // 4, rows + rows // 4 + 1)
        bigger = np.empty((size, width), dtype=np.uint16)
        bigger[: old.shape[0]] = old
        self._matrix = bigger
        self._sizes = _grown(self._sizes, size, np.float64)
        self._codes = _grown(self._codes, size, np.int64)
        self._refs = _grown(self._refs, size, np.int64)
        return bigger

    # ---------------------------------------------------------------- whole batches of refs at once
    def rows_of(self, refs: I64) -> I64:
        """Matrix row of each ref, -1 where it is not kept."""
        import numpy as np

        sorted_refs, sorted_rows = self._index()
        if not len(sorted_refs):
            return np.full(len(refs), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(sorted_refs, refs), len(sorted_refs) - 1)
        return np.where(sorted_refs[at] == refs, sorted_rows[at], -1)

    def _index(self) -> tuple[I64, I64]:
        """Rows by ref, the rows added since the last call merged in (a few dozen a source)."""
        import numpy as np

        count = len(self._entries)
        if self._sorted_refs is None or self._sorted_rows is None or self._refs is None:
            self._sorted_refs = self._sorted_rows = np.empty(0, dtype=np.int64)
            self._indexed = 0
        if count > self._indexed and self._refs is not None:
            new_rows = np.arange(self._indexed, count, dtype=np.int64)
            new_refs = self._refs[self._indexed : count]
            order = np.argsort(new_refs, kind="stable")
            self._sorted_refs, self._sorted_rows = merge_sorted((self._sorted_refs, self._sorted_rows),
                                                                (new_refs[order], new_rows[order]))
            self._indexed = count
        return self._sorted_refs, self._sorted_rows

    def arrays(self) -> tuple[U16, F64, I64]:
        """Hashes, shingle counts and story codes by matrix row (index them with `rows_of`)."""
        import numpy as np

        if self._matrix is None or self._sizes is None or self._codes is None:
            return np.empty((0, 0), dtype=np.uint16), np.empty(0), np.empty(0, dtype=np.int64)
        return self._matrix, self._sizes, self._codes

    def story_at(self, row: int) -> str:
        return self._stories[row]

    def code_of(self, story_id: str) -> int:
        """The code `arrays` gives members of `story_id`; -1 when no kept record is one."""
        return self._code_of.get(story_id, -1)

    def known(self, refs: Sequence[int]) -> tuple[list[int], list[str], U16, F64]:
        """Of `refs`, those kept (in order), their story ids, hashes (one row each) and shingle counts."""
        import numpy as np

        get = self._entries.get
        kept = [ref for ref in refs if ref in self._entries]
        matrix = self._matrix if self._matrix is not None else np.empty((0, 0), dtype=np.uint16)
        if not kept:
            return kept, [], matrix[:0], np.empty(0, dtype=np.float64)
        stories, sizes, rows = zip(*map(get, kept), strict=True)  # transposed in C
        return (kept, list(stories), matrix[np.array(rows, dtype=np.intp)],
                np.array(sizes, dtype=np.float64))


def _grown(old: npt.NDArray[Any] | None, size: int, dtype: type) -> npt.NDArray[Any]:
    import numpy as np

    bigger: npt.NDArray[Any] = np.empty(size, dtype=dtype)
    if old is not None:
        bigger[: len(old)] = old
    return bigger
