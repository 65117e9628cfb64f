"""Pins the exact bytes of signatures and band keys: they are stored, so any change to them is a bug.

Two guards: golden digests of fixed texts, and a plain-Python reference implementation of the whole
algorithm (tokens, shingles, one-permutation MinHash with densification, band keys) that the vectorised
numpy code must match on generated texts.
"""

from __future__ import annotations

import hashlib
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.dedupe import Signature, band_keys, make_signature, near, shingles
from aggregator.dedupe.shingles import normalise, token_hashes
from tests.dedupe.test_near import BOILERPLATE, ORIGINAL, OTHER

MASK = (1 << 64) - 1

ZH = ("11月16日上午，第十九届中国国际高新技术成果交易会在深圳会展中心开幕。本届高交会以创新驱动发展为主题，"
      "来自30多个国家和地区的3000余家展商参展，展览总面积约12万平方米。")
JA = "東京ビッグサイトで国際ロボット展が開幕し、約六百社が協働ロボットや物流向けの自動化技術を紹介した。ｱｲｳｴｵ ㋐㋑"

CASES: dict[str, tuple[str, str, str | None]] = {
    "original": ("", ORIGINAL, None),
    "original_en": ("A title", ORIGINAL, "en"),
    "other": ("", OTHER, "en"),
    "boilerplate": ("", BOILERPLATE, None),
    "short_body_with_title": (
        "Hanse Industry Fair opens its doors in Hansestadt with 2,400 exhibitors from 41 countries",
        "The fair opened on Monday with record numbers of exhibitors from twenty countries.",
        "en",
    ),
    "chinese": ("", ZH, "zh"),
    "chinese_no_language": ("", ZH, None),
    "japanese": ("", JA, "ja"),
    "accents": ("", "Le salon s'est ouvert à Genève avec des exposants venus de vingt pays, et la Straße "
                "près de l'Œuvre était bondée; naïve façade, crème brûlée, ﬁnal ﬂoor, İstanbul et Ærøskøbing "
                "accueilleront la prochaine édition du salon l'année prochaine selon les organisateurs.", "fr"),
    "combining": ("", "Cafe\u0301 cre\u0300me and more words so that the text has enough distinct shingles "
                  "for a signature of its own, with e\u0301 marks here and there in several of the words.", None),
    "emoji_mixed": ("", "Launch day 🚀 for the new 电动 bus line 🎉 in Shenzhen: riders 👍🏽 the quiet ride, "
                    "operators praise 𠀀𠀁 battery range and ＦＵＬＬＷＩＤＴＨ displays, 한국어 signs too, "
                    "and the city plans twenty more routes next year.", "en"),
    "few_shingles": ("", "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
                     "rho sigma tau upsilon phi chi psi omega", None),
}

# sha256 of to_bytes(), and of repr(band_keys), of each case. The signature bytes were pinned before the numpy
# code was last optimised; the band keys are the first 20 of the 32 that databases written while BANDS was 32
# hold (computed with that code), so their rows still match.
GOLDEN = {
    "accents": ("cf0f4b3efd8fa54ca1ce2f04dff2b380", "8604cf25e8f00eefe64c21c02f9c8f72"),
    "boilerplate": ("7d3f6500dba9c5b87e9217cc0bdd7e21", "a99b3bfdd57717c48b7950439573e99c"),
    "chinese": ("1d70659462b322e7fa9aa0825046cc35", "fd4cb036aadaa303117efe6dcd38cfb2"),
    "chinese_no_language": ("1d70659462b322e7fa9aa0825046cc35", "fd4cb036aadaa303117efe6dcd38cfb2"),
    "combining": ("b1689dbb592a114c4b52ee30fe53c2f4", "6cd4cacacac03c08603c12994e64ef66"),
    "emoji_mixed": ("3927918be3c08ca3cd7503a6de9b5185", "3394fd05cd32873fe42785a77d0e52c1"),
    "few_shingles": ("d6b1babfa85639089bc5a708504eb197", "85c067a5b4e1be65b917186b1f06b357"),
    "japanese": ("86652aa12f5fbbbd20b408b762faf938", "e6107dde8ead5d33d76fe9091fdd9910"),
    "original": ("65fd93b94e720a3e0ae69dddac6cde16", "1e3a3a226f978d35fae654b53bc552ec"),
    "original_en": ("65fd93b94e720a3e0ae69dddac6cde16", "1e3a3a226f978d35fae654b53bc552ec"),
    "other": ("a8f9fa1767b511e1d374f50ad8582cdf", "53cfbf4759aef2e9e6cc81b4e9fb077c"),
    "short_body_with_title": ("a8e78b6bffb0864dcf95ddfa1b8cc71e", "b62cd2c80ca7674796fc9a8cd34cffeb"),
}

# sha256 of the little-endian token hashes, and the count of one-character tokens.
GOLDEN_TOKENS = [
    ("Hello, WORLD! 3,000 exhibitors.", "3b6891c5763ea784de6ea7df135b11bb", 0),
    ("11月16日上午，第十九", "327ee3dd4565ad69f8cc6f6fa1f0bd6e", 7),
    ("Straße ﬁnal Cafe\u0301 𠀀 🚀", "dd96d05f88c2c0dec98ee4afd7019ea3", 1),
]


def digest(sig: Signature) -> tuple[str, str]:
    return (hashlib.sha256(sig.to_bytes()).hexdigest()[:32],
            hashlib.sha256(repr(band_keys(sig)).encode()).hexdigest()[:32])


@pytest.mark.parametrize("name", sorted(CASES))
def test_signature_bytes_and_band_keys_match_the_stored_golden_digests(name: str) -> None:
    sig = make_signature(*CASES[name])
    assert sig is not None
    assert digest(sig) == GOLDEN[name]
    assert digest(sig.with_keys()) == GOLDEN[name]
    assert digest(Signature.from_bytes(sig.to_bytes())) == GOLDEN[name]  # keys recomputed from the bytes


@pytest.mark.parametrize(("text", "expected", "chars"), GOLDEN_TOKENS)
def test_token_hashes_match_the_golden_digests(text: str, expected: str, chars: int) -> None:
    hashes, singles = token_hashes(text)
    assert hashlib.sha256(hashes.astype("<u8").tobytes()).hexdigest()[:32] == expected
    assert singles == chars


# ---------------------------------------------------------------- plain-Python reference implementation


def ref_mix64(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def ref_tokens(text: str) -> tuple[list[int], int]:
    """Token hashes: sum of code point * BASE**-offset over each word; an unsegmented character is its own.

    Character classes come from the module's table of normalised characters, which is their definition.
    """
    classes = shingles._tables()[1]
    tokens: list[int] = []
    chars = 0
    word: list[int] = []

    def flush() -> None:
        if word:
            tokens.append(sum(c * pow(shingles._BASE_INV, i, 1 << 64) for i, c in enumerate(word)) & MASK)
            word.clear()

    for ch in normalise(text):
        cp = ord(ch)
        cls = int(classes[cp]) if cp <= 0xFFFF else shingles.CHAR if 0x20000 <= cp < 0x32000 else shingles.SEPARATOR
        if cls == shingles.COMPLEX:  # combining marks stay inside their word
            cls = shingles.WORD
        if cls == shingles.WORD:
            word.append(cp)
            continue
        flush()
        if cls == shingles.CHAR:
            tokens.append(cp)
            chars += 1
    flush()
    return tokens, chars


@cache
def ref_stop_slots() -> frozenset[int]:
    return frozenset(t & 0xFFFF for t in ref_tokens(shingles.STOPWORDS)[0])


def ref_shingles(tokens: list[int], k: int) -> list[int]:
    k = min(k, len(tokens))
    stop = ref_stop_slots()
    out = set()
    for i in range(len(tokens) - k + 1):
        run = tokens[i : i + k]
        if all(t & 0xFFFF in stop for t in run):
            continue
        acc = 0
        for t in run:
            acc = (acc * 0x9E3779B97F4A7C15 + t) & MASK
        out.add(ref_mix64(acc))
    return sorted(out)


def ref_signature(title: str, text: str, language: str | None) -> tuple[bytes, list[int]] | None:
    """(to_bytes(), band keys), or None when there are too few shingles."""
    tokens, chars = ref_tokens(text)
    if len(tokens) < near.MIN_SHINGLES:
        tokens, chars = ref_tokens(f"{title}\n{text}")
    unsegmented = chars * 2 > len(tokens) or (
        chars * 5 > len(tokens) and (language or "").lower().startswith(near._UNSEGMENTED_LANGUAGES)
    )
    hashes = ref_shingles(tokens, near.CHAR_SHINGLE if unsegmented else near.WORD_SHINGLE)
    if len(hashes) < near.MIN_SHINGLES:
        return None
    k = near.PERMUTATIONS
    shift = 64 - (k.bit_length() - 1)
    minima: dict[int, int] = {}
    for h in hashes:
        minima.setdefault(h >> shift, h)  # sorted: the first hash of a bin is its minimum
    bins = []
    for b in range(k):
        stride = (ref_mix64(b + 0x5EED) % (k // 2)) * 2 + 1
        donor = next((b + step * stride) % k for step in range(k) if (b + step * stride) % k in minima)
        bins.append(minima[donor] & 0xFFFF)
    keys = []
    for band in range(near.BANDS):
        acc = band << 48
        for r in range(near.ROWS):
            acc |= bins[band * near.ROWS + r] << (16 * r)
        keys.append(ref_mix64(acc) >> 1)
    blob = len(hashes).to_bytes(4, "little") + k.to_bytes(2, "little")
    return blob + b"".join(h.to_bytes(2, "little") for h in bins), keys


VOCABULARY = [
    "the", "of", "and", "fair", "exhibitors", "hall", "robots", "trade", "visitors", "day", "china", "shenzhen",
    "press", "release", "said", "company", "Britain", "data", "chip", "design", "Café", "Straße", "ﬁnal", "naïve",
    "İstanbul", "Ærø", "Genève", "e\u0301", "Москва", "выставка", "한국어", "전시회", "ｆｕｌｌ", "３０",
    "2017", "3,000", "🚀", "👍🏽", "der", "die", "und", "für", "le", "la", "les", "des",
    "的", "了", "在", "是", "高交会", "展商", "深圳", "東京", "ロボット", "ｱｲｳ", "㋐", "ภาษาไทย", "𠀀", "𪚥", "\uffff",
]

_word = st.one_of(st.sampled_from(VOCABULARY), st.sampled_from(VOCABULARY), st.text(max_size=8))
_made_up_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé高交", min_size=1, max_size=7)
texts = st.one_of(
    st.lists(_word, max_size=30),
    st.lists(_word, min_size=30, max_size=250),
    st.lists(_made_up_word, min_size=250, max_size=600),  # most bins filled: densification's quick path
).map(" ".join)
languages = st.sampled_from([None, "en", "zh", "zh-CN", "ja", "th", "de"])


def test_reference_matches_the_golden_cases() -> None:
    for name, case in CASES.items():
        ref = ref_signature(*case)
        assert ref is not None
        blob, keys = ref
        assert (hashlib.sha256(blob).hexdigest()[:32], hashlib.sha256(repr(keys).encode()).hexdigest()[:32]) \
            == GOLDEN[name], name


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), texts, languages)
def test_numpy_signature_equals_the_plain_python_reference(title: str, text: str, language: str | None) -> None:
    sig = make_signature(title, text, language)
    ref = ref_signature(title, text, language)
    if ref is None:
        assert sig is None
        return
    assert sig is not None
    assert (sig.to_bytes(), band_keys(sig)) == ref
    assert band_keys(Signature.from_bytes(sig.to_bytes())) == ref[1]
    keys = sig.with_keys().keys
    assert keys is not None and keys.tolist() == ref[1]


@settings(max_examples=300, deadline=None)
@given(st.one_of(texts, st.text(max_size=80)))
def test_token_hashes_equal_the_plain_python_reference(text: str) -> None:
    hashes, chars = token_hashes(text)
    assert (hashes.tolist(), chars) == ref_tokens(text)
