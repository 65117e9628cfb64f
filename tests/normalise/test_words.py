"""words: the fast letter-and-digit splitter must give exactly what the regular expressions give."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from aggregator.normalise import words
from aggregator.normalise.ids import fold_text, text_hash
from aggregator.normalise.words import alnum_runs, fold, folded_runs

WORD = re.compile(r"[^\W_]+")
NON_WORD = re.compile(r"[\W_]+")


def _check_folded_runs(text: str) -> None:
    assert alnum_runs(text) == WORD.findall(text)
    folded = fold(text)
    result = folded_runs(text)
    assert result.joined == NON_WORD.sub(" ", folded).strip().encode("utf-8", "surrogatepass")
    assert result.runs == [w.encode("utf-8", "surrogatepass") for w in WORD.findall(folded)]
    assert result.chars == {c for c in folded if not c.isascii()}


@given(st.text(max_size=200))
def test_same_runs_as_the_regular_expressions(text: str) -> None:
    _check_folded_runs(text)


# news-like text: ASCII with typographic punctuation, accents, ligatures, width forms, Hangul and CJK
_NEWS_CHARS = "aZ9 ,.-_'\n\t£€—–“”’…«»éÉßİΣσςﬁＡ①ǅ가각각\u0301\u0308e\u00a0\u3000中文。・ー，（）：％ｶﾞ\u1100\ud800"


@given(st.text(alphabet=_NEWS_CHARS, max_size=60))
def test_same_runs_on_news_like_text(text: str) -> None:
    _check_folded_runs(text)


def test_characters_folded_alone_are_normalisation_boundaries() -> None:
    """The fast path's claim: NFKC of a text made of characters `_char_fold` accepts (and ASCII) is the
    NFKC of each character. Checked against every composition Unicode defines: each accepted character
    decomposes into something that starts with a starter that is never the second of a pair."""
    seconds = set(words._JAMO_COMBINING)
    for cp in range(0x110000):
        mapping = unicodedata.decomposition(chr(cp))
        if mapping and not mapping.startswith("<") and len(mapping.split()) == 2:
            seconds.add(chr(int(mapping.split()[1], 16)))
    assert not any(c.isascii() for c in seconds)
    words._char_fold.cache_clear()
    try:
        for cp in range(0x80, 0x110000):
            if words._char_fold(chr(cp)) is not None:
                first = unicodedata.normalize("NFKD", chr(cp))[0]
                assert first not in seconds and unicodedata.combining(first) == 0, hex(cp)
    finally:
        words._char_fold.cache_clear()


def test_news_text_with_typographic_punctuation() -> None:
    text = "Revenue rose £1,991 — “a record”, said Müller_GmbH’s CEO; 展会 opens 19.11."
    assert alnum_runs(text) == ["Revenue", "rose", "1", "991", "a", "record", "said", "Müller", "GmbH", "s",
                                "CEO", "展会", "opens", "19", "11"]
    assert fold_text("ＡＩ  Expo—2024!") == "ai expo 2024"


def test_text_hash_ignores_punctuation_spacing_and_case_only() -> None:
    assert text_hash("The fair opens, “today”.") == text_hash("the FAIR opens today")
    assert text_hash("The fair opens today") != text_hash("The fair closes today")
