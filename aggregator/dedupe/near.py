"""Near-duplicate detection: MinHash signatures, LSH band keys and the same-story test.

The signature is one-permutation MinHash (Li, Owen, Zhang 2012) with optimal densification
(Shrivastava 2017): each shingle is hashed once and falls into one of `PERMUTATIONS` bins, a bin keeps
its smallest hash, and empty bins borrow from another bin chosen by a fixed probe sequence. That costs
O(shingles) instead of O(shingles x permutations): about 50 us for a 2.5 KB article, all in numpy (a few
dozen calls, whose fixed overhead is most of the cost, so the code keeps their number down).
Only the low 16 bits of each minimum are kept (b-bit MinHash, Li & Koenig 2010): the chance that two
different minima agree is 2**-16, a bias far below the estimator's own noise, and a signature is 516 bytes.

Why 3-word shingles: republished press releases get new headlines, leads, datelines and trimmed or
reworded sentences, which break long shingles; 3 words still keep unrelated stories apart. Shingles made
only of function words are dropped (they would fill LSH buckets with unrelated articles). Thresholds
were tuned on ../shared/exhibition-sites and the feed farm (see tests/dedupe): copies of one story
scored Jaccard >= 0.35, look-alikes <= 0.25, so the default sits in the middle at 0.30.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from aggregator.dedupe.shingles import (
    U64,
    distinct_count,
    mix64,
    mix64_in_place,
    sorted_shingle_hashes,
    token_hashes,
    u64,
)

PERMUTATIONS = 256  # bins of the one-permutation MinHash; a power of two
BANDS = 32  # LSH bands per record (rows in the `bands` table)
ROWS = 2  # bins per band (<= 3): a pair with Jaccard s is a candidate with probability 1-(1-s**2)**BANDS
WORD_SHINGLE = 3  # words per shingle for space-separated scripts
CHAR_SHINGLE = 3  # characters per shingle for Chinese, Japanese, Thai ...
MIN_SHINGLES = 20  # fewer distinct shingles: too short to judge, only exact dedupe applies
MIN_OVERLAP = 30  # shared shingles a containment match needs, so a short text cannot ride on boilerplate

DEFAULT_THRESHOLD = 0.30  # estimated Jaccard
DEFAULT_CONTAINMENT = 0.55  # estimated share of the shorter copy found in the longer one

_UNSEGMENTED_LANGUAGES = ("zh", "ja", "th", "lo", "km", "my", "bo")
_QUICK_PROBES = 8
_HEADER = struct.Struct("<IH")  # shingle count, number of bins

# Constants of every signature, built once rather than per record.
_SHIFT = u64(64 - (PERMUTATIONS.bit_length() - 1))  # hash >> _SHIFT is its bin
_BINS = np.arange(PERMUTATIONS, dtype=np.uint64)
_BIN_STARTS = _BINS << _SHIFT  # smallest hash of each bin
_BAND_TAGS = np.arange(BANDS, dtype=np.uint64) << np.uint64(48)  # ROWS <= 3: 16 bits a row, then the band
_ROW_WEIGHTS = np.array([1 << (16 * r) for r in range(ROWS)], dtype=np.uint64)  # a row's 16 bits, in place
_ONE = u64(1)


@dataclass(frozen=True, eq=False, slots=True)
class Signature:
    """MinHash of one record's text: `hashes` (uint16, one per bin) and `size`, its distinct shingle count."""

    hashes: npt.NDArray[np.uint16]
    size: int
    keys: tuple[int, ...] | None = None  # its LSH band keys, when computed ahead (in a worker process)

    def to_bytes(self) -> bytes:
        return _HEADER.pack(self.size, self.hashes.size) + self.hashes.astype("<u2").tobytes()

    @classmethod
    def from_bytes(cls, b: bytes) -> Signature:
        size, count = _HEADER.unpack_from(b)
        hashes = np.frombuffer(b, dtype="<u2", count=count, offset=_HEADER.size).astype(np.uint16)
        hashes.flags.writeable = False
        return cls(hashes, size)

    def with_keys(self) -> Signature:
        """The same signature carrying its band keys, so whoever stores it need not compute them."""
        return self if self.keys is not None else Signature(self.hashes, self.size, _band_keys(self.hashes))

    def __reduce__(self) -> tuple[object, ...]:
        # to and from process workers as 516 bytes, not as a pickled numpy array
        return (_from_parts, (self.to_bytes(), self.keys))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Signature) and self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())


def _from_parts(blob: bytes, keys: tuple[int, ...] | None) -> Signature:
    sig = Signature.from_bytes(blob)
    return sig if keys is None else Signature(sig.hashes, sig.size, keys)


@cache
def _probes(k: int) -> npt.NDArray[np.intp]:
    """For each bin, the fixed order in which an empty bin looks for a donor (an odd stride covers all bins)."""
    bins = np.arange(k, dtype=np.uint64)
    strides = (mix64(bins + np.uint64(0x5EED)) % np.uint64(k // 2)) * np.uint64(2) + np.uint64(1)
    steps = np.arange(k, dtype=np.uint64)
    table = (bins[:, None] + steps[None, :] * strides[:, None]) % np.uint64(k)
    return table.astype(np.intp)


@cache
def _quick_probes(k: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The first `_QUICK_PROBES` columns of `_probes(k)`, and where each bin's row starts once they are flattened."""
    return np.ascontiguousarray(_probes(k)[:, :_QUICK_PROBES]), np.arange(k) * _QUICK_PROBES


def _donors(present: npt.NDArray[np.bool_]) -> npt.NDArray[np.intp]:
    """For every bin, the first present bin of its probe sequence: itself when present (each sequence starts
    at its own bin), else its donor (optimal densification). Done for all bins, so no list of empty bins is
    built; the first few probes almost always suffice."""
    quick, rows = _quick_probes(present.size)
    donors: npt.NDArray[np.intp] = quick.ravel()[present[quick].argmax(axis=1) + rows]
    found = present[donors]
    if not found.all():
        slow = np.flatnonzero(~found)
        full = _probes(present.size)[slow]
        donors[slow] = full[np.arange(slow.size), np.argmax(present[full], axis=1)]
    return donors


def _shingles(title: str, text: str, language: str | None) -> U64:
    """Sorted shingle hashes (with repeats) of the body, or of title and body when the body is too short."""
    tokens, chars = token_hashes(text)
    if tokens.size < MIN_SHINGLES:
        tokens, chars = token_hashes(f"{title}\n{text}")
    unsegmented = chars * 2 > tokens.size or (
        chars * 5 > tokens.size and (language or "").lower().startswith(_UNSEGMENTED_LANGUAGES)
    )
    return sorted_shingle_hashes(tokens, CHAR_SHINGLE if unsegmented else WORD_SHINGLE)


def make_signature(title: str, text: str, language: str | None) -> Signature | None:
    """Signature of a record's body (the title joins in only when the body alone is too short), with its
    band keys: every caller stores or looks them up, and they are cheapest computed here.

    Headlines are left out on purpose: republishers rewrite them, so they add noise, not evidence.
    Returns None when there are fewer than MIN_SHINGLES distinct shingles.
    """
    shingles = _shingles(title, text, language)
    size = distinct_count(shingles)
    if size < MIN_SHINGLES:
        return None
    # shingles are sorted, so a bin's minimum is the first hash at or after its start, if still in the bin
    # (searching all but the last hash clips "past the end" to the last one, whose bin is then not a match)
    minima = shingles[shingles[:-1].searchsorted(_BIN_STARTS)]
    present = (minima >> _SHIFT) == _BINS
    hashes = minima[_donors(present)].astype(np.uint16)  # the cast keeps the low 16 bits (b-bit MinHash)
    hashes.flags.writeable = False
    return Signature(hashes, size, _band_keys(hashes))


def _band_keys(hashes: npt.NDArray[np.uint16]) -> tuple[int, ...]:
    """See `band_keys`: band b is bins b*ROWS ... b*ROWS+ROWS-1, 16 bits each, under the band index."""
    acc: U64 = hashes[: BANDS * ROWS].reshape(BANDS, ROWS) @ _ROW_WEIGHTS  # the rows' bits do not overlap
    acc |= _BAND_TAGS
    keys = mix64_in_place(acc)
    keys >>= _ONE
    return tuple(keys.tolist())


def band_keys(sig: Signature) -> list[int]:
    """One key per LSH band, band index mixed in, as a non-negative int that fits a signed BIGINT."""
    return list(sig.keys if sig.keys is not None else _band_keys(sig.hashes))


def similarity(a: Signature, b: Signature) -> tuple[float, float]:
    """(estimated Jaccard, estimated containment of the smaller shingle set in the larger)."""
    if a.hashes.size != b.hashes.size:
        return 0.0, 0.0
    jaccard = float(np.count_nonzero(a.hashes == b.hashes)) / a.hashes.size
    common = jaccard * (a.size + b.size) / (1.0 + jaccard)
    return jaccard, min(1.0, common / max(1, min(a.size, b.size)))


def _scores(jaccard: npt.NDArray[np.float64], a: npt.NDArray[np.float64], b: npt.NDArray[np.float64],
            threshold: float, containment: float) -> npt.NDArray[np.float64]:
    """The same-story rule, per pair of signatures with estimated Jaccard `jaccard` and shingle counts `a`
    and `b`: max(Jaccard, containment) where the pair is one story, else -1.

    One story when the texts overlap enough overall, or one copy is mostly inside the other. The
    containment rule catches truncated copies (a teaser, a trimmed republication) whose Jaccard is low only
    because the longer copy has more text; it needs MIN_OVERLAP shared shingles so a short text cannot
    match on a shared boilerplate paragraph alone.
    """
    common = jaccard * (a + b) / (1.0 + jaccard)
    contained = np.minimum(1.0, common / np.maximum(1.0, np.minimum(a, b)))
    same = (jaccard >= threshold) | ((contained >= containment) & (common >= MIN_OVERLAP))
    return np.where(same, np.maximum(jaccard, contained), -1.0)


def best_match(sig: Signature, hashes: npt.NDArray[np.uint16], sizes: npt.NDArray[np.float64], *,
               threshold: float = DEFAULT_THRESHOLD,
               containment: float = DEFAULT_CONTAINMENT) -> tuple[int, float] | None:
    """(row, score) of the candidate in `hashes` (one signature per row, shingle counts in `sizes`) most like
    `sig` among those that are the same story, or None."""
    rows = np.arange(len(hashes), dtype=np.intp)
    best, score = best_matches(sig.hashes[None, :], np.array([float(sig.size)]), hashes, sizes,
                               np.zeros(len(hashes), dtype=np.intp), rows,
                               threshold=threshold, containment=containment)
    return (int(best[0]), float(score[0])) if best[0] >= 0 else None


def best_matches(new: npt.NDArray[np.uint16], new_sizes: npt.NDArray[np.float64],
                 stored: npt.NDArray[np.uint16], stored_sizes: npt.NDArray[np.float64],
                 pair_new: npt.NDArray[np.intp], pair_stored: npt.NDArray[np.intp], *,
                 threshold: float = DEFAULT_THRESHOLD,
                 containment: float = DEFAULT_CONTAINMENT) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """`best_match` for many new signatures at once (rows of `new`), each against the stored rows it is
    paired with: for each new row, the best stored row (-1: none is the same story) and its score.
    One numpy pass for a whole source's batch instead of a dozen small calls per record."""
    best = np.full(len(new), -1, dtype=np.intp)
    best_score = np.full(len(new), -1.0)
    if not pair_new.size:
        return best, best_score
    jaccard = np.count_nonzero(new[pair_new] == stored[pair_stored], axis=1) / new.shape[1]
    score = _scores(jaccard, new_sizes[pair_new], stored_sizes[pair_stored], threshold, containment)
    order = np.lexsort((-score, pair_new))  # by new row, best score first
    _, first = np.unique(pair_new[order], return_index=True)
    picks = order[first]
    keep = score[picks] >= 0
    best[pair_new[picks[keep]]] = pair_stored[picks[keep]]
    best_score[pair_new[picks[keep]]] = score[picks[keep]]
    return best, best_score


def is_same_story(a: Signature, b: Signature, *, threshold: float = DEFAULT_THRESHOLD,
                  containment: float = DEFAULT_CONTAINMENT) -> bool:
    """Whether `a` and `b` are copies of one story (the rule is `_scores`, which the store applies in bulk)."""
    jaccard, _ = similarity(a, b)
    score = _scores(np.array([jaccard]), np.array([float(a.size)]), np.array([float(b.size)]), threshold,
                    containment)
    return bool(score[0] >= 0)
