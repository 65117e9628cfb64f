from __future__ import annotations

import pytest

from aggregator.normalise.language import choose_language, declared_language, detect_language, primary_tag


@pytest.mark.parametrize(("tag", "primary"), [
    ("en-US", "en"), ("EN", "en"), ("zh-CN", "zh"), ("zh_Hans_CN", "zh"), (" de-DE ", "de"), ("fil", "fil"),
    ("", None), (None, None), ("english", None), ("12", None),
])
def test_primary_tag(tag: str | None, primary: str | None) -> None:
    assert primary_tag(tag) == primary


def test_declared_language_wins_over_detection() -> None:
    assert choose_language(None, "fr-FR", "de", text="This is plainly an English sentence about a trade fair.") == "fr"


def test_detection_when_nothing_is_declared() -> None:
    assert choose_language(None, None, text="The exhibition opens on Monday with more than 500 exhibitors.") == "en"
    assert detect_language("第二十届中国国际高新技术成果交易会在深圳会展中心开幕，展览面积达到十万平方米。") == "zh"
    assert detect_language("Die Messe öffnet am Montag ihre Tore für mehr als fünfhundert Aussteller.") == "de"


def test_short_texts_are_not_guessed() -> None:
    assert detect_language("Hall 3") is None


@pytest.mark.parametrize("declared", [(None, None, None), ("english", "", None), (None, "pt-BR", "de"), ("xx-1", "de")])
def test_declared_language_is_the_declared_half_of_choose_language(declared: tuple[str | None, ...]) -> None:
    text = "The exhibition opens on Monday with more than 500 exhibitors."
    expected = choose_language(*declared, text=text)
    assert (declared_language(*declared) or detect_language(text)) == expected
    assert declared_language(*declared) == next((primary_tag(d) for d in declared if primary_tag(d)), None)
