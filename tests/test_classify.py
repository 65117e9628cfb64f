"""Keyword classification: the rules a topic editor relies on, as tables."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.classify import Classifier
from aggregator.records import Article, Source, Topic

NOW = datetime(2024, 6, 1, tzinfo=UTC)
SRC = Source(id="fair-news", url="https://fair.example.com/feed.xml", kind="feed")


def article(title: str, text: str = "") -> Article:
    return Article(uid="u", source_id=SRC.id, guid="g", url="https://fair.example.com/1", title=title,
                   published=NOW, updated=NOW, date_source="first-seen", author=None, language=None,
                   summary_html="", content_html="", text=text, text_hash="h")


def topics_of(include: tuple[str, ...], title: str, text: str = "", exclude: tuple[str, ...] = ()) -> bool:
    c = Classifier([Topic(id="t", title="T", include=include, exclude=exclude)])
    return c.classify(article(title, text), SRC) == ("t",)


@pytest.mark.parametrize(("keyword", "title", "matches"), [
    # word boundaries for Latin script
    ("AI", "AI pavilion opens", True),
    ("AI", "Generative ai on show", True),
    ("AI", "The director said so", False),
    ("AI", "Send us an email", False),
    ("AI", "Thai food fair", False),
    ("AI", "AI-powered robots", True),
    ("AI", "(AI)", True),
    ("5G", "5G networks", True),
    ("5G", "5G-enabled factories", True),
    ("5G", "The 5GHz band", False),
    ("robot", "Robots everywhere", False),  # a keyword is a word, not a prefix
    ("robot", "Robot arms", True),
    # case, accents, width
    ("ai", "ＡＩ exhibition", True),
    ("Messe Düsseldorf", "MESSE DUSSELDORF news", True),
    ("Dusseldorf", "Düsseldorf fair", True),
    ("café", "Cafe culture", True),
    ("straße", "STRASSE", True),
    # phrases across any whitespace and punctuation between words
    ("trade fair", "The trade\n   fair opened", True),
    ("trade fair", "Trade-fair season", True),
    ("trade fair", "A fair for trade", False),
    ("trade fair", "trade fairground", False),
    ("Industry 4.0", "Industry 4.0 hall", True),
    ("Industry 4.0", "Industry 4 hall", False),
    ("e-commerce", "E-Commerce Expo", True),
    ("e-commerce", "ecommerce expo", False),
    # odd keywords with symbols
    ("C++", "C++ conference", True),
    ("C++", "C conference", False),
    (".NET", "The .NET meetup", True),
    (".NET", "Fishing net fair", False),
    # CJK: plain substrings
    ("物联网", "2024年物联网博览会在深圳开幕", True),
    ("物联网", "互联网大会", False),
    ("人工智能", "展会聚焦人工智能与机器人", True),
    ("ＡＩ芯片", "AI芯片展区", True),
    ("高交会", "第二十届高交會", False),
    ("物联网", "物联，网络安全", False),  # never across punctuation or spaces the keyword lacks
    ("人工智能", "人工 智能", False),
    ("智能 制造", "智能 制造", True),
    ("智能 制造", "智能，制造", False),
])
def test_keyword_matching(keyword: str, title: str, matches: bool) -> None:
    assert topics_of((keyword,), title) is matches


def test_text_is_matched_not_only_the_title() -> None:
    assert topics_of(("hydrogen",), "Hall 3 news", "Exhibitors show hydrogen trucks.")


def test_exclude_vetoes_the_topic() -> None:
    assert not topics_of(("robot",), "Robot show", "The robot vacuum cleaner", exclude=("vacuum cleaner",))
    assert topics_of(("robot",), "Robot show", "Industrial robot arms", exclude=("vacuum cleaner",))
    assert not topics_of(("机器人",), "机器人展", "扫地机器人", exclude=("扫地",))


def test_topic_limited_to_sources_only_takes_those_sources() -> None:
    c = Classifier([Topic(id="t", title="T", include=("robot",), sources=("other",))])
    a = article("Robot news")
    assert c.classify(a, SRC) == ()
    assert c.classify(a, Source(id="other", url="https://o.example/", kind="feed")) == ("t",)


def test_source_topics_are_forced_when_they_exist() -> None:
    c = Classifier([Topic(id="robots", title="R", include=("robot",)), Topic(id="energy", title="E")])
    forced = Source(id="energy-wire", url="https://e.example/", kind="feed", topics=("energy", "no-such-topic"))
    assert c.classify(article("Nothing relevant"), forced) == ("energy",)
    assert c.classify(article("Robot fair"), forced) == ("robots", "energy")
    assert c.explain(article("Robot fair"), forced) == {"robots": ["robot"], "energy": ["source:energy-wire"]}


def test_several_topics_come_back_in_config_order() -> None:
    c = Classifier([
        Topic(id="energy", title="E", include=("battery",)),
        Topic(id="robots", title="R", include=("robot",)),
        Topic(id="food", title="F", include=("food",)),
    ])
    assert c.classify(article("Robot moves battery packs"), SRC) == ("energy", "robots")


def test_explain_names_the_keywords_as_written() -> None:
    c = Classifier([Topic(id="iot", title="IoT", include=("IoT", "物联网", "smart factory", "unused"))])
    got = c.explain(article("IOT news", "物联网 and the Smart  Factory"), SRC)
    assert got == {"iot": ["IoT", "物联网", "smart factory"]}


def test_topic_without_keywords_takes_nothing_by_itself() -> None:
    c = Classifier([Topic(id="all", title="All")])
    assert c.classify(article("Anything"), SRC) == ()


def test_speed_with_nine_topics_of_twenty_keywords() -> None:
    vocab = [f"term{i}" for i in range(150)] + ["trade fair", "machine learning", "物联网", "C++", "supply chain"]
    topics = [Topic(id=f"t{i}", title="T", include=tuple(vocab[i * 17:i * 17 + 20]), exclude=("spam",))
              for i in range(9)]
    c = Classifier(topics)
    text = " ".join(f"term{i % 200} word, another" for i in range(400))  # ~10 KB
    articles = [article(f"Title {i}", text) for i in range(200)]
    start = time.perf_counter()
    for a in articles:
        c.classify(a, SRC)
    per_article = (time.perf_counter() - start) / len(articles)
    assert per_article < 1e-3, f"{per_article * 1e6:.0f} µs per article"  # ~50 µs measured


def _reference_keys(keywords: list[str], title: str, text: str) -> set[str]:
    """What the classifier must find, the slow obvious way: each folded keyword's words, separated by
    anything that is not a letter or digit, as whole words of the folded title and text together."""
    import re

    from aggregator.classify import _key, fold

    folded = fold(f"{title}\n{text}")
    found = set()
    for keyword in keywords:
        key = _key(keyword)
        runs = re.findall(r"[^\W_]+", key)
        if runs and re.search(r"(?<![^\W_])" + r"[\W_]+".join(map(re.escape, runs)) + r"(?![^\W_])", folded):
            found.add(key)
    return found


_WORDS = ["ai", "AI", "iot", "trade", "fair", "Düsseldorf", "dusseldorf", "Messe", "5G", "ＡＩ", "café", "straße"]


@given(st.lists(st.sampled_from([*_WORDS, " ", "-", ", ", "\n", "é", "said", "x"]), max_size=12),
       st.lists(st.sampled_from([*_WORDS, " ", "—", ". ", "\n", "̈", "Thai", "y"]), max_size=30))
def test_title_and_text_are_matched_as_one_folded_text(title_parts: list[str], text_parts: list[str]) -> None:
    """The classifier folds title and text apart (the text's folding is shared with the text hash):
    it must find exactly what folding them together finds."""
    from aggregator.classify import _key, _Keywords

    keywords = ["AI", "IoT", "trade fair", "Messe Düsseldorf", "5G", "café", "strasse", "fair trade ai"]
    title, text = "".join(title_parts), "".join(text_parts)
    assert _Keywords(_key(k) for k in keywords).found(title, text) == _reference_keys(keywords, title, text)


_UNSPACED_KEYWORDS = ["物联网", "人工智能", "ＡＩ芯片", "高交会", "智能 制造", "5G·物联网", "ロボット"]


@given(st.lists(st.sampled_from(["物联", "网", "物联网", "人工", "智能", "AI", "ａｉ", "芯片", "高交会", "高交會", " ",
                                 "，", "·", "5G", "制造", "ロボット", "ﾛﾎﾞｯﾄ", "é", "\n", "x"]), max_size=12),
       st.lists(st.sampled_from(["物联网", "智能", " ", "制造", "。", "人工智能", "ａｉ芯片", "\n", "ロボ", "ット"]),
                max_size=12))
def test_keywords_in_unspaced_scripts_are_substrings_of_the_folded_text(title_parts: list[str],
                                                                     text_parts: list[str]) -> None:
    """A keyword in a script without spaces matches wherever it occurs in the folded title and text (read
    from the runs when the keyword is one run of letters): never across punctuation the keyword lacks."""
    from aggregator.classify import _key, _Keywords, fold

    title, text = "".join(title_parts), "".join(text_parts)
    folded = fold(f"{title}\n{text}")
    expected = {key for key in map(_key, _UNSPACED_KEYWORDS) if key in folded}
    assert _Keywords(_key(k) for k in _UNSPACED_KEYWORDS).found(title, text) == expected
