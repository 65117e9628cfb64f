"""Pure header rules: media type, Retry-After, freshness, validators, error wording."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.fetch import headers as hdr
from aggregator.records import Validators

NOW = datetime(2024, 10, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "expected"), [
    ("application/rss+xml", ("application/rss+xml", None)),
    ("Text/XML; Charset=\"windows-1252\"", ("text/xml", "windows-1252")),
    ("text/html;charset=utf-8;foo=bar", ("text/html", "utf-8")),
    ("", (None, None)),
    (None, (None, None)),
])
def test_media_type(value: str | None, expected: tuple[str | None, str | None]) -> None:
    assert hdr.media_type(value) == expected


def test_retry_after_seconds_date_and_garbage() -> None:
    assert hdr.retry_after({"Retry-After": "120"}, NOW) == 120
    assert hdr.retry_after({"Retry-After": "Tue, 01 Oct 2024 12:05:00 GMT"}, NOW) == 300
    # the server's own Date is the reference, so a skewed local clock does not matter
    skewed = {"Retry-After": "Tue, 01 Oct 2024 12:05:00 GMT", "Date": "Tue, 01 Oct 2024 12:04:00 GMT"}
    assert hdr.retry_after(skewed, NOW) == 60
    assert hdr.retry_after({"Retry-After": "Tue, 01 Oct 2024 11:00:00 GMT"}, NOW) == 0
    assert hdr.retry_after({"Retry-After": "soon"}, NOW) is None
    assert hdr.retry_after({}, NOW) is None


def test_max_age_prefers_cache_control_then_expires() -> None:
    assert hdr.max_age({"Cache-Control": "public, max-age=3600", "Expires": "garbage"}, NOW) == 3600
    assert hdr.max_age({"Cache-Control": "no-cache"}, NOW) == 0
    assert hdr.max_age({"Expires": "Tue, 01 Oct 2024 13:00:00 GMT"}, NOW) == 3600
    assert hdr.max_age({"Expires": "0"}, NOW) == 0  # invalid Expires means already stale
    assert hdr.max_age({}, NOW) is None


def test_validators_on_304_keep_the_ones_sent_unless_renewed() -> None:
    sent = Validators(etag='"a"', last_modified="Mon, 30 Sep 2024 10:00:00 GMT")
    assert hdr.validators({}, sent) == sent
    assert hdr.validators({"ETag": '"b"'}, sent) == Validators('"b"', sent.last_modified)
    assert hdr.validators({}) == Validators()


def test_error_messages_say_what_to_do() -> None:
    assert hdr.error_message(404, "Not Found", "https://x/feed") == \
        "HTTP 404 Not Found from https://x/feed: check the source url"
    assert "remove the source" in hdr.error_message(410, "Gone", "https://x/feed")
    assert "user agent" in hdr.error_message(403, "Forbidden", "https://x/feed")


@given(st.text(max_size=80))
def test_header_readers_never_raise(value: str) -> None:
    headers = {"Retry-After": value, "Expires": value, "Cache-Control": value, "Date": value}
    hdr.media_type(value)
    hdr.retry_after(headers, NOW)
    age = hdr.max_age(headers, NOW)
    assert age is None or age >= 0
