"""words: the fast letter-and-digit splitter must give exactly what the regular expressions give."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from aggregator.normalise.ids import fold_text, text_hash
from aggregator.normalise.words import alnum_runs, fold, folded_runs

WORD = re.compile(r"[^\W_]+")
NON_WORD = re.compile(r"[\W_]+")


@given(st.text(max_size=200))
def test_same_runs_as_the_regular_expressions(text: str) -> None:
    assert alnum_runs(text) == WORD.findall(text)
    folded, runs = folded_runs(text)
    assert folded == fold(text)
    assert b" ".join(runs) == NON_WORD.sub(" ", folded).strip().encode("utf-8", "surrogatepass")


def test_news_text_with_typographic_punctuation() -> None:
    text = "Revenue rose £1,991 — “a record”, said Müller_GmbH’s CEO; 展会 opens 19.11."
    assert alnum_runs(text) == ["Revenue", "rose", "1", "991", "a", "record", "said", "Müller", "GmbH", "s",
                                "CEO", "展会", "opens", "19", "11"]
    assert fold_text("ＡＩ  Expo—2024!") == "ai expo 2024"


def test_text_hash_ignores_punctuation_spacing_and_case_only() -> None:
    assert text_hash("The fair opens, “today”.") == text_hash("the FAIR opens today")
    assert text_hash("The fair opens today") != text_hash("The fair closes today")
