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
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt

from aggregator import speedups
from aggregator.dedupe.shingles import (
    U64,
    _codes_table,
    _content_table,
    batch_shingle_hashes,
    batch_token_hashes,
    distinct_count,
    mix64,
    mix64_in_place,
    sorted_shingle_hashes,
    token_hashes,
    u64,
)

PERMUTATIONS = 256  # bins of the one-permutation MinHash; a power of two
# LSH bands per record (rows in the `bands` table). A pair with Jaccard s shares a band with probability
# 1-(1-s**2)**BANDS: 0.85 at the 0.30 threshold, 0.97 at 0.40, 0.997 at 0.50. It was 32 (0.95 at 0.30), but
# the band rows are most of the store's dedupe work (a first poll: -9% wall at 20 bands) and both labelled
# sets keep every copy down to 12 bands (their closest true pair is at 0.52: tests/dedupe/*_gate.py). The
# keys are those of the first 20 of the 32 bands, so rows stored before still match (store migration 7 drops
# the rows of the other 12, found with `band_of_keys`).
BANDS = 20
ROWS = 2  # bins per band (<= 3): a pair with Jaccard s is a candidate with probability 1-(1-s**2)**BANDS
WORD_SHINGLE = 3  # words per shingle for space-separated scripts
CHAR_SHINGLE = 3  # characters per shingle for Chinese, Japanese, Thai ...
MIN_SHINGLES = 20  # fewer distinct shingles: too short to judge, only exact dedupe applies
MIN_OVERLAP = 30  # shared shingles a containment match needs, so a short text cannot ride on boilerplate

DEFAULT_THRESHOLD = 0.30  # estimated Jaccard
DEFAULT_CONTAINMENT = 0.55  # estimated share of the shorter copy found in the longer one

I64 = npt.NDArray[np.int64]
_T = TypeVar("_T", bound=np.generic)
_UNSEGMENTED_LANGUAGES = ("zh", "ja", "th", "lo", "km", "my", "bo")
_QUICK_PROBES = 8  # one byte each in a uint64, see `_densified`
_HEADER = struct.Struct("<IH")  # shingle count, number of bins

# Constants of every signature, built once rather than per record.
_SHIFT = u64(64 - (PERMUTATIONS.bit_length() - 1))  # hash >> _SHIFT is its bin
_BINS = np.arange(PERMUTATIONS, dtype=np.uint64)
_BIN_STARTS = _BINS << _SHIFT  # smallest hash of each bin
_BAND_TAGS = np.arange(BANDS, dtype=np.uint64) << np.uint64(48)  # ROWS <= 3: 16 bits a row, then the band
_ROW_WEIGHTS = np.array([1 << (16 * r) for r in range(ROWS)], dtype=np.uint64)  # a row's 16 bits, in place
_ONE = u64(1)
_MAX = u64((1 << 64) - 1)
_FIRST_BYTE = u64(0x0001020304050607)  # byte b holds 7 - b: see `_densified`
_TOP_BYTE = u64(56)


@dataclass(frozen=True, eq=False, slots=True)
class Signature:
    """MinHash of one record's text: `hashes` (uint16, one per bin) and `size`, its distinct shingle count."""

    hashes: npt.NDArray[np.uint16]
    size: int
    keys: I64 | None = None  # its LSH band keys (int64, read-only), when computed ahead (in a worker process)
    blob: bytes | None = None  # `to_bytes()`, when it arrived so (from a worker): the store writes it as it is

    def to_bytes(self) -> bytes:
        if self.blob is not None:
            return self.blob
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
        return (_from_parts, (self.to_bytes(), None if self.keys is None else self.keys.tobytes()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Signature) and self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())


def _from_parts(blob: bytes, keys: bytes | None) -> Signature:
    """Views of the received bytes (read-only, as bytes are), not copies: the parent unpickles 50,000 of these."""
    size, count = _HEADER.unpack_from(blob)
    hashes = np.frombuffer(blob, dtype="<u2", count=count, offset=_HEADER.size).astype(np.uint16, copy=False)
    if keys is None:
        return Signature(_read_only(hashes), size, blob=blob)
    key_array = np.frombuffer(keys, dtype="<i8").astype(np.int64, copy=False)
    return Signature(_read_only(hashes), size, _read_only(key_array), blob)


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


def _shingle_size(tokens: int, chars: int, language: str | None) -> int:
    """Tokens per shingle: character shingles when the text is mostly one-character tokens (Chinese ...)."""
    unsegmented = chars * 2 > tokens or (
        chars * 5 > tokens and (language or "").lower().startswith(_UNSEGMENTED_LANGUAGES)
    )
    return CHAR_SHINGLE if unsegmented else WORD_SHINGLE


def _tokens(title: str, text: str, language: str | None) -> tuple[U64, int]:
    """Token hashes of the body, or of title and body when the body is too short, and the shingle size."""
    tokens, chars = token_hashes(text)
    if tokens.size < MIN_SHINGLES:
        tokens, chars = token_hashes(f"{title}\n{text}")
    return tokens, _shingle_size(tokens.size, chars, language)


def _shingles(title: str, text: str, language: str | None) -> U64:
    """Sorted shingle hashes (with repeats) of the body, or of title and body when the body is too short."""
    return sorted_shingle_hashes(*_tokens(title, text, language))


def make_signature(title: str, text: str, language: str | None) -> Signature | None:
    """`reference_signature`, in C when aggregator/_speedups.c is built (bit for bit the same)."""
    found = _native_signature(title, text, language)
    return reference_signature(title, text, language) if found is NotImplemented else found


def make_signatures(items: Sequence[tuple[str, str, str | None]]) -> list[Signature | None]:
    """`make_signature` of each (title, text, language): in C one by one, or `reference_signatures`."""
    if _speedups() is None:
        return reference_signatures(items)
    out = [_native_signature(title, text, language) for title, text, language in items]
    slow = [i for i, sig in enumerate(out) if sig is NotImplemented]  # texts for the exact unicodedata path
    if slow:
        for i, sig in zip(slow, reference_signatures([items[i] for i in slow]), strict=True):
            out[i] = sig
    return cast(list[Signature | None], out)


def load_tables() -> None:
    """Build the signature's tables now (and set the C up with them): a parent that forks worker processes
    calls this first, so they share the tables and numpy instead of each building them (~0.15 s of CPU)."""
    _codes_table()
    _content_table()
    _probes(PERMUTATIONS)
    _speedups()


@cache
def _speedups() -> Any:
    """The C signature, set up with the tables of the reference below; None when it is not built."""
    native = speedups.native
    if native is not None:
        native.init(_codes_table().tobytes(), _content_table().tobytes(),
                    _probes(PERMUTATIONS).astype("<u2").tobytes(), PERMUTATIONS, BANDS, ROWS, MIN_SHINGLES,
                    WORD_SHINGLE, CHAR_SHINGLE)
    return native


def _native_signature(title: str, text: str, language: str | None) -> Any:
    """A Signature, None (too short), or NotImplemented (no C, or the text needs the exact path)."""
    native = _speedups()
    if native is None:
        return NotImplemented
    found = native.signature(title, text, (language or "").lower().startswith(_UNSEGMENTED_LANGUAGES))
    if found is None or found is NotImplemented:
        return found
    size, bins, keys = found
    return Signature(np.frombuffer(bins, dtype="<u2").astype(np.uint16, copy=False), size,
                     np.frombuffer(keys, dtype="<i8").astype(np.int64, copy=False))


def reference_signature(title: str, text: str, language: str | None) -> Signature | None:
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


@dataclass(slots=True)
class _Group:
    """Records of one shingle size, as `make_signatures` gathers them."""

    used: list[bool]  # which titles and texts give their tokens to the table-path records
    table: list[int] = field(default_factory=list)  # records tokenised by table lookup, in order
    table_sizes: list[int] = field(default_factory=list)  # their token counts
    exact: list[int] = field(default_factory=list)  # records tokenised on the exact path
    exact_tokens: list[U64] = field(default_factory=list)  # their tokens


def reference_signatures(items: Sequence[tuple[str, str, str | None]]) -> list[Signature | None]:
    """`reference_signature` of each (title, text, language), bit for bit, computed together.

    A feed's records (typically 50) take a few dozen numpy calls in all instead of a few dozen each, whose
    fixed overhead was most of the cost. Texts that need the exact `unicodedata` path are tokenised one by
    one, as `make_signature` does; everything after the tokens is done for all records at once.
    """
    pieces = [piece for title, text, _ in items for piece in (title, text)]  # record i: 2*i title, 2*i+1 text
    tokens, offsets, chars, exact = batch_token_hashes(pieces)
    counts = np.diff(offsets)
    counted, singles, slow = counts.tolist(), chars.tolist(), exact.tolist()
    groups: dict[int, _Group] = {}  # by shingle size
    for i, (title, text, language) in enumerate(items):
        head, body = 2 * i, 2 * i + 1
        fallback = counted[body] < MIN_SHINGLES  # then title and body, as in `_tokens`
        if slow[body] or (fallback and slow[head]):
            record, k = _tokens(title, text, language)
            size = record.size
        else:
            size = counted[body] + counted[head] * fallback
            k = _shingle_size(size, singles[body] + singles[head] * fallback, language)
        if size < MIN_SHINGLES:  # fewer tokens cannot make MIN_SHINGLES shingles (k <= MIN_SHINGLES)
            continue
        group = groups.get(k)
        if group is None:
            group = groups[k] = _Group([False] * len(pieces))
        if slow[body] or (fallback and slow[head]):
            group.exact.append(i)
            group.exact_tokens.append(record)
        else:
            group.table.append(i)
            group.table_sizes.append(size)
            group.used[body] = True
            group.used[head] = fallback
    signatures: list[Signature | None] = [None] * len(items)
    for k, group in groups.items():
        picked = tokens[np.repeat(np.array(group.used), counts)]  # the table records' tokens, in order
        lengths = group.table_sizes + [t.size for t in group.exact_tokens]
        joined = np.concatenate([picked, *group.exact_tokens]) if group.exact else picked
        for i, sig in zip(group.table + group.exact, _signatures(joined, lengths, k), strict=True):
            signatures[i] = sig
    return signatures


def _signatures(tokens: U64, lengths: list[int], k: int) -> list[Signature | None]:
    """`make_signature` of records from their tokens (`lengths` of them each, at least `k`, one record after
    the other in `tokens`), `k` tokens a shingle."""
    segment = np.repeat(np.arange(len(lengths), dtype=np.min_scalar_type(len(lengths))), lengths)
    hashes, owner = batch_shingle_hashes(tokens, segment, k)
    records_at = owner.searchsorted(np.arange(len(lengths) + 1))  # where each record's hashes start
    sizes = _distinct_counts(hashes, owner, records_at)
    # each (record, bin) cell keeps its smallest hash
    cell = owner.astype(np.intp) * PERMUTATIONS + (hashes >> _SHIFT).astype(np.intp)
    minima = np.full((len(lengths), PERMUTATIONS), _MAX, dtype=np.uint64)
    present = np.zeros((len(lengths), PERMUTATIONS), dtype=bool)
    np.minimum.at(minima.ravel(), cell, hashes)
    present.ravel()[cell] = True
    valid = np.flatnonzero(sizes >= MIN_SHINGLES)
    if valid.size < len(lengths):
        minima, present = minima[valid], present[valid]
    bins = _densified(minima, present)
    keys = _band_key_rows(bins)
    signatures: list[Signature | None] = [None] * len(lengths)
    for i, size, row, row_keys in zip(valid.tolist(), sizes[valid].tolist(), bins, keys, strict=True):
        signatures[i] = Signature(row, size, row_keys)
    return signatures


def _distinct_counts(hashes: U64, owner: npt.NDArray[np.unsignedinteger], records_at: npt.NDArray[np.intp]
                     ) -> npt.NDArray[np.intp]:
    """Distinct values in each record's part of `hashes` (record `owner`, non-decreasing; a record's part
    starts at `records_at`).

    Sorting (record, hash) pairs takes an argsort, several times slower than a plain sort, so the pairs are
    sorted as one uint64 each: the record number on top of the hash minus its lowest bits. That is exact
    unless two different hashes differ in those bits alone, which a plain sort of the hashes rules out (it
    happens about once in a billion feeds; then the argsort it is).
    """
    spare = max(1, (len(records_at) - 2).bit_length())  # bits for the record number
    ordered = np.sort(hashes)
    gaps = ordered[1:] ^ ordered[:-1]
    gaps -= _ONE  # 0, the gap between equal hashes, wraps to the largest value
    if hashes.size < 2 or int(gaps.min()) >= (1 << spare) - 1:
        pairs = owner.astype(np.uint64)
        pairs <<= u64(64 - spare)
        pairs |= hashes >> u64(spare)
        pairs.sort()
        differs = np.ones(pairs.size, dtype=bool)
        differs[1:] = pairs[1:] != pairs[:-1]
    else:
        order = hashes.argsort()
        order = order[owner[order].argsort(kind="stable")]  # by record, then by hash
        ordered, by = hashes[order], owner[order]
        differs = np.ones(ordered.size, dtype=bool)
        differs[1:] = (ordered[1:] != ordered[:-1]) | (by[1:] != by[:-1])
    counts: npt.NDArray[np.intp] = np.diff(np.flatnonzero(differs).searchsorted(records_at))
    return counts


def _densified(minima: U64, present: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint16]:
    """Each row's bins as `make_signature` keeps them: a bin's minimum, or for an empty bin its donor's (see
    `_donors`), low 16 bits only (b-bit MinHash). One row per record, none of them empty.

    Only the empty bins are looked at (a full bin is its own donor). A bin's `_QUICK_PROBES` (8) presence
    flags, read as one little-endian uint64, put probe j in byte j, so its first present probe is the byte
    of the lowest set bit: no argmax over 8 columns per bin.
    """
    bins = minima.astype(np.uint16)
    empty = np.flatnonzero(~present)
    if not empty.size:
        bins.flags.writeable = False
        return bins
    width = present.shape[1]
    quick, _ = _quick_probes(width)
    row_start = empty - empty % width
    probes = quick[empty % width] + row_start[:, None]  # flat indices into present, one row per empty bin
    flags = present.ravel()[probes].view("<u8")[:, 0]
    # The lowest set flag is 1 << 8*j, and (1 << 8*j) * _FIRST_BYTE (mod 2**64) has j in its top byte: the
    # first present probe without np.bitwise_count (numpy >= 2 only). No flag set gives 0: such bins take
    # the slow path below.
    first = ((flags & (~flags + _ONE)) * _FIRST_BYTE) >> _TOP_BYTE
    donors = probes.ravel()[np.arange(0, probes.size, _QUICK_PROBES) + first.astype(np.intp)]
    slow = np.flatnonzero(flags == 0)
    if slow.size:
        full = _probes(width)[empty[slow] % width] + row_start[slow, None]
        donors[slow] = full[np.arange(slow.size), np.argmax(present.ravel()[full], axis=1)]
    bins.ravel()[empty] = minima.ravel()[donors].astype(np.uint16)
    bins.flags.writeable = False
    return bins


def _band_key_rows(hashes: npt.NDArray[np.uint16]) -> I64:
    """`_band_keys` of each row of `hashes`."""
    acc: U64 = hashes[:, : BANDS * ROWS].reshape(len(hashes), BANDS, ROWS) @ _ROW_WEIGHTS
    acc |= _BAND_TAGS
    keys = mix64_in_place(acc)
    keys >>= _ONE
    return _read_only(keys.view(np.int64))


def _band_keys(hashes: npt.NDArray[np.uint16]) -> I64:
    """See `band_keys`: band b is bins b*ROWS ... b*ROWS+ROWS-1, 16 bits each, under the band index."""
    acc: U64 = hashes[: BANDS * ROWS].reshape(BANDS, ROWS) @ _ROW_WEIGHTS  # the rows' bits do not overlap
    acc |= _BAND_TAGS
    keys = mix64_in_place(acc)
    keys >>= _ONE
    return _read_only(keys.view(np.int64))


# splitmix64's finaliser undone (see `mix64_in_place`): its multipliers' inverses modulo 2**64
_UNMIX1 = u64(pow(0xBF58476D1CE4E5B9, -1, 1 << 64))
_UNMIX2 = u64(pow(0x94D049BB133111EB, -1, 1 << 64))


def _unmixed(z: U64) -> U64:
    z = z ^ (z >> u64(31)) ^ (z >> u64(62))
    z *= _UNMIX2
    z = z ^ (z >> u64(27)) ^ (z >> u64(54))
    z *= _UNMIX1
    z = z ^ (z >> u64(30)) ^ (z >> u64(60))
    z -= u64(0x9E3779B97F4A7C15)
    return z


def band_of_keys(keys: I64) -> I64:
    """The band each LSH key was made for (-1 when that cannot be told), read back from the key itself.

    A key is mix64(rows' bits | band << 48) >> 1, and mix64 is a bijection: of the two words the key may
    have come from, the one whose bits between the rows and the band are all 0 is it (the other one has them
    0 once in 65,536). Lets a migration find the rows of bands that look-ups no longer probe.
    """
    shifted = keys.astype(np.uint64) << _ONE
    found = np.full(len(keys), -1, dtype=np.int64)
    middle = u64(((1 << 48) - 1) ^ ((1 << (16 * ROWS)) - 1))  # between the rows' bits and the band
    candidates = [_unmixed(shifted), _unmixed(shifted | _ONE)]
    valid = [(c & middle) == 0 for c in candidates]
    for mine, other, word in ((valid[0], valid[1], candidates[0]), (valid[1], valid[0], candidates[1])):
        found = np.where(mine & ~other, (word >> u64(48)).astype(np.int64), found)
    return found


def band_keys(sig: Signature) -> list[int]:
    """One key per LSH band, band index mixed in, as a non-negative int that fits a signed BIGINT."""
    keys: list[int] = key_array(sig).tolist()
    return keys


def key_array(sig: Signature) -> I64:
    """`band_keys` as an int64 array: what the store looks up, with no Python int per key."""
    return sig.keys if sig.keys is not None else _band_keys(sig.hashes)


def _read_only(array: npt.NDArray[_T]) -> npt.NDArray[_T]:
    array.flags.writeable = False
    return array


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
