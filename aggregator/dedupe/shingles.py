"""Text -> hashed shingles, vectorised with numpy so a 5 KB article costs tens of microseconds.

Normalisation is NFKC + casefold; punctuation and whitespace only separate tokens. A token is a run of
letters/digits (Latin, Cyrillic, Hangul, ...) or ONE character of an unsegmented script (Han, kana, Thai,
...), so Chinese gets character shingles and English word shingles from the same pass. Hashes are
stable across processes and machines (no Python `hash()`), because signatures are stored.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import cache
from itertools import accumulate

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]

SEPARATOR, WORD, CHAR, COMPLEX = 0, 1, 2, 3

# Scripts written without spaces between words: one character is one token.
_UNSEGMENTED = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x31BF),  # Bopomofo
    (0x31F0, 0x31FF),  # Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
)


def u64(value: int) -> U64:
    """A read-only 0-d uint64 array: numpy takes it as an operand faster than an np.uint64 scalar."""
    a = np.array(value, dtype=np.uint64)
    a.flags.writeable = False
    return a


_BASE = 0x100000001B3  # FNV prime: odd, so it has an inverse modulo 2**64
_BASE_INV = pow(_BASE, -1, 1 << 64)
_SHINGLE_MUL = u64(0x9E3779B97F4A7C15)


@cache
def _tables() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]]:
    """Per BMP code point: its NFKC + casefold image when that is one character, and its class.

    Built once (about 0.1 s) so normalising an article is one numpy gather instead of two slow
    str passes. Class COMPLEX marks characters whose image is several characters or that combine with
    a neighbour (accents, jamo): texts holding one take the exact, slower `unicodedata` path.
    """
    fold = np.arange(0x10000, dtype=np.uint32)
    cls = np.zeros(0x10000, dtype=np.uint8)
    for i in range(0x10000):
        ch = chr(i)
        if 0xD800 <= i < 0xE000:
            continue
        image = unicodedata.normalize("NFKC", ch).casefold()
        if len(image) != 1 or unicodedata.combining(ch) or unicodedata.combining(image) or 0x1100 <= i < 0x1200:
            cls[i] = COMPLEX
            continue
        fold[i] = ord(image)
        cls[i] = WORD if image.isalnum() else SEPARATOR
    # By the image, not the character: "㋐" and half-width "ｱ" fold to "ア", a one-character token like it.
    unsegmented = np.zeros(0x10000, dtype=bool)
    for lo, hi in _UNSEGMENTED:
        unsegmented[lo : hi + 1] = True
    astral_cjk = (fold >= 0x20000) & (fold < 0x32000)  # compatibility ideographs fold into CJK ext. B-H
    one_char = unsegmented[np.minimum(fold, 0xFFFF)] | astral_cjk
    cls = np.where((cls == WORD) & one_char, CHAR, cls).astype(np.uint8)
    return fold, cls


@cache
def _powers(n: int) -> tuple[U64, U64]:
    """BASE**i and BASE**-i modulo 2**64 for i < n (n is rounded up by the caller, so few sizes are cached)."""
    up = np.ones(n, np.uint64)
    down = np.ones(n, np.uint64)
    np.cumprod(np.full(n - 1, _BASE, np.uint64), out=up[1:])
    np.cumprod(np.full(n - 1, _BASE_INV, np.uint64), out=down[1:])
    return up, down


_GOLDEN = u64(0x9E3779B97F4A7C15)
_MIX1 = u64(0xBF58476D1CE4E5B9)
_MIX2 = u64(0x94D049BB133111EB)
_S27, _S30, _S31 = u64(27), u64(30), u64(31)
_LOW16 = u64(0xFFFF)


def mix64(x: U64) -> U64:
    """splitmix64 finaliser: spreads every input bit over the whole word (wrapping uint64 arithmetic)."""
    return mix64_in_place(x.copy())


def mix64_in_place(z: U64) -> U64:
    """`mix64` overwriting its argument: saves allocating a temporary per step."""
    z += _GOLDEN
    z ^= z >> _S30
    z *= _MIX1
    z ^= z >> _S27
    z *= _MIX2
    z ^= z >> _S31
    return z


def normalise(text: str) -> str:
    """NFKC + casefold: the reference the fast path of `token_hashes` reproduces."""
    return unicodedata.normalize("NFKC", text).casefold()


# Flags above the code point in `_codes_table`, so one gather and one max() classify a whole text.
_CHAR_FLAG = 1 << 32
_COMPLEX_FLAG = 1 << 33
_CODE_MASK = u64(_CHAR_FLAG - 1)
_UTF32 = np.dtype("<u4")


@cache
def _codes_table() -> U64:
    """Per BMP code point, what `token_hashes` sums: the folded code point for letters and digits, 0 for
    separators (a sum over a span may then run over the separators after a token), flagged for one-character
    tokens and for characters that need the exact path.

    Those are COMPLEX characters, lone surrogates (on which the exact path raises UnicodeEncodeError, as
    it always has) and U+FFFF, a noncharacter that also stands for every code point above it (lookups clip).
    """
    fold, cls = _tables()
    codes = np.where(cls == SEPARATOR, 0, fold).astype(np.uint64)
    codes[cls == CHAR] |= np.uint64(_CHAR_FLAG)
    codes[cls == COMPLEX] = _COMPLEX_FLAG
    codes[0xD800:0xE000] = _COMPLEX_FLAG
    codes[0xFFFF] = _COMPLEX_FLAG
    codes.flags.writeable = False
    return codes


def _codes(text: str) -> tuple[U64, npt.NDArray[np.bool_] | None]:
    """Code points of normalise(text), 0 at separators, and where the one-character tokens are (None: none).

    By table lookup when no character needs the exact, slower `unicodedata` path.
    """
    if not text:
        return np.empty(0, np.uint64), None
    cps = np.array([text]).view(np.uint32).astype(np.intp)  # numpy holds str as UCS-4: the code points
    codes: U64 = _codes_table().take(cps, mode="clip")  # clip: beyond the BMP reads U+FFFF, the exact path
    top = int(codes.max())
    if top < _CHAR_FLAG:
        return codes, None
    if top < _COMPLEX_FLAG:
        singles = codes >= _CHAR_FLAG
        codes &= _CODE_MASK
        return codes, singles
    # the exact path; encoding (rather than np.array) raises on lone surrogates, as it always has
    cps = np.frombuffer(normalise(text).encode("utf-32-le"), dtype=_UTF32).astype(np.intp)
    cls = _tables()[1][np.minimum(cps, 0xFFFF)]
    cls[cls == COMPLEX] = WORD  # combining marks stay inside their word
    high = cps > 0xFFFF
    if high.any():
        cls[high] = np.where((cps[high] >= 0x20000) & (cps[high] < 0x32000), CHAR, SEPARATOR)  # CJK ext. B-H
    codes = cps.astype(np.uint64)
    codes[cls == SEPARATOR] = 0
    return codes, cls == CHAR


def token_hashes(text: str) -> tuple[U64, int]:
    """Hashes of the tokens of normalised `text`, in order, and how many of them are single characters.

    A token's hash is sum(code point * BASE**-offset) over its characters. Computed as one sum per token
    (`reduceat` from each token's start to the next one's, separators adding 0) of code * BASE**-position,
    times BASE**start: no per-character prefix sums or end positions needed.
    """
    codes, singles = _codes(text)
    n = codes.size
    word = np.zeros(n + 1, dtype=bool)  # word[i + 1]: character i is part of a token
    word[1:] = codes  # nonzero: not a separator
    if singles is None:
        starts = (word[1:] > word[:-1]).nonzero()[0]
        chars = 0
    else:
        word[1:] &= ~singles
        starts = ((word[1:] > word[:-1]) | singles).nonzero()[0]
        chars = int(np.count_nonzero(singles))
    if starts.size == 0:
        return np.empty(0, np.uint64), 0
    up, down = _powers(1 << max(10, n.bit_length()))
    codes *= down[:n]
    hashes: U64 = np.add.reduceat(codes, starts)
    hashes *= up[starts]
    return hashes, chars


def batch_token_hashes(texts: Sequence[str]) -> tuple[U64, npt.NDArray[np.intp], npt.NDArray[np.intp],
                                                       npt.NDArray[np.bool_]]:
    """`token_hashes` of many texts in one pass, which saves its fixed numpy overhead on every text.

    Returns all tokens in order, where each text's tokens start (len(texts) + 1 offsets), how many of each
    text's tokens are single characters, and which texts need the exact `unicodedata` path: their tokens here
    are meaningless, call `token_hashes` on them. A token's hash does not depend on where the text starts (it
    is sum(code * BASE**(start - position))), and texts are joined with a separator, so the tokens of a text
    are exactly those `token_hashes` gives it, and those of two adjacent texts joined by a separator are
    those of the joined text (when neither needs the exact path).
    """
    ends = np.fromiter(accumulate(len(t) + 1 for t in texts), dtype=np.intp, count=len(texts))
    bounds = np.zeros(len(texts) + 1, dtype=np.intp)  # where each text's characters start
    bounds[1:] = ends
    if not texts:
        return np.empty(0, np.uint64), np.zeros(1, np.intp), np.empty(0, np.intp), np.empty(0, dtype=bool)
    # a separator after every text: no token spans two texts, and no text's span is empty (for reduceat)
    cps = np.array(["\n".join([*texts, ""])]).view(np.uint32).astype(np.intp)
    codes: U64 = _codes_table().take(cps, mode="clip")
    n = codes.size
    word = np.zeros(n + 1, dtype=bool)
    word[1:] = codes
    if int(codes.max()) < _CHAR_FLAG:  # the usual case: no one-character tokens, nothing for the exact path
        exact = np.zeros(len(texts), dtype=bool)
        starts = (word[1:] > word[:-1]).nonzero()[0]
        singles = None
    else:
        exact = np.maximum.reduceat(codes, bounds[:-1]) >= _COMPLEX_FLAG
        singles = codes >= _CHAR_FLAG  # characters of exact-path texts too: their tokens are not used
        codes &= _CODE_MASK
        word[1:] &= ~singles
        starts = ((word[1:] > word[:-1]) | singles).nonzero()[0]
    offsets: npt.NDArray[np.intp] = starts.searchsorted(bounds)
    if singles is None:
        chars = np.zeros(len(texts), dtype=np.intp)
    else:
        counted = np.zeros(starts.size + 1, dtype=np.intp)  # single-character tokens before each token
        np.cumsum(singles[starts], out=counted[1:])
        chars = np.diff(counted[offsets])
    if starts.size == 0:
        return np.empty(0, np.uint64), offsets, chars, exact
    up, down = _powers(1 << max(10, n.bit_length()))
    codes *= down[:n]
    hashes: U64 = np.add.reduceat(codes, starts)
    hashes *= up[starts]
    return hashes, offsets, chars, exact


# Function words. A shingle made only of these ("one of the", "as well as", "的一个") is in so many texts
# that, as a bin's minimum, it would put unrelated articles in one LSH bucket: such shingles are dropped.
STOPWORDS = """
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers him his how i if in into is it its itself just me more most my no nor not now of off on
once only or other our ours out over own same she should so some such than that the their theirs them then
there these they this those through to too under until up very was we were what when where which while who
whom why will with would you your said says new one two three per its via
der die das den dem des ein eine einer eines und oder in im auf mit von zu zum zur für ist sind wird werden
bei aus nach über unter auch als wie dass sich nicht es sie er wir
le la les un une des du de et en au aux pour par sur dans est sont qui que
的 了 在 是 和 与 及 等 为 对 将 也 有 中 上 下 这 那 一 个 不 就 都 而 及 其 或 之 于 被 把 从 以 到 并 由 向 还 又 已
"""


@cache
def _content_table() -> npt.NDArray[np.bool_]:
    """Whether a token is NOT a stopword, by the low 16 bits of its hash: one gather instead of a search.

    A one-character token (Han) hashes to its code point, so it is exact there; a content word lands on a
    stopword's slot with probability ~0.3%, and a shingle is dropped only if all its words do.
    """
    hashes, _ = token_hashes(STOPWORDS)
    table = np.ones(1 << 16, dtype=bool)
    table[hashes & np.uint64(0xFFFF)] = False
    table.flags.writeable = False
    return table


def _is_content(tokens: U64) -> npt.NDArray[np.bool_]:
    found: npt.NDArray[np.bool_] = _content_table()[(tokens & _LOW16).astype(np.intp)]
    return found


def sorted_shingle_hashes(tokens: U64, k: int) -> U64:
    """Sorted hashes of every run of `k` consecutive tokens (the whole text when shorter), repeats left in.

    Runs made only of stopwords are left out (see STOPWORDS). Repeats stay because `make_signature` needs
    only each bin's minimum and the `distinct_count`, both as easy to read off with them, and removing
    them costs several numpy calls.
    """
    if tokens.size == 0:
        return tokens
    acc, keep = _runs(tokens, min(k, tokens.size))
    hashes = mix64_in_place(acc[keep])
    hashes.sort()
    return hashes


def batch_shingle_hashes(tokens: U64, owner: npt.NDArray[np.unsignedinteger], k: int
                         ) -> tuple[U64, npt.NDArray[np.unsignedinteger]]:
    """`sorted_shingle_hashes` of many token lists at once, unsorted: the lists one after the other in
    `tokens` (token i in list `owner[i]`, each list at least `k` long), and the list of each hash.

    Runs of `k` tokens that cross from one list into the next are left out.
    """
    acc, keep = _runs(tokens, k)
    m = acc.size
    keep &= owner[:m] == owner[k - 1 :]
    return mix64_in_place(acc[keep]), owner[:m][keep]


def _runs(tokens: U64, k: int) -> tuple[U64, npt.NDArray[np.bool_]]:
    """The unmixed hash of every run of `k` consecutive tokens (k <= tokens.size), and whether the run has
    a content word (see STOPWORDS)."""
    m = tokens.size - k + 1
    content = _is_content(tokens)
    acc = tokens[:m]
    keep = content[:m]
    for j in range(1, k):
        acc = acc * _SHINGLE_MUL
        acc += tokens[j : m + j]
        keep = keep | content[j : m + j]
    return acc, keep


def distinct_count(hashes: U64) -> int:
    """Number of distinct values in sorted `hashes`."""
    return int(np.count_nonzero(hashes[1:] != hashes[:-1])) + 1 if hashes.size else 0
