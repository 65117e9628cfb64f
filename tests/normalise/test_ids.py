from __future__ import annotations

from aggregator.normalise import record_uid, text_hash


def test_record_uid_is_stable_and_depends_on_source_and_guid() -> None:
    uid = record_uid("fair-news", "tag:example.com,2024:1")
    assert uid == record_uid("fair-news", "tag:example.com,2024:1")
    assert uid != record_uid("other", "tag:example.com,2024:1")
    assert uid != record_uid("fair-news", "tag:example.com,2024:2")
    assert len(uid) >= 16 and all(c in "0123456789abcdef" for c in uid)


def test_text_hash_ignores_case_width_spacing_and_punctuation() -> None:
    base = text_hash("Messe Berlin opens Hall 3, with 500 exhibitors.")
    assert text_hash("messe  berlin opens hall 3 with 500 exhibitors") == base
    assert text_hash("ＭＥＳＳＥ Berlin opens Hall ３ — with 500 exhibitors!") == base
    assert text_hash("Messe Berlin opens Hall 4, with 500 exhibitors.") != base


def test_text_hash_of_chinese_text() -> None:
    assert text_hash("第二十届高交会开幕。") == text_hash("第二十届高交会开幕")
    assert text_hash("第二十届高交会开幕") != text_hash("第二十一届高交会开幕")


def test_empty_text_hashes_the_title() -> None:
    assert text_hash("", "A title") == text_hash("a title")
    assert text_hash("", "A title") != text_hash("", "Another title")
