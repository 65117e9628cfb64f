"""Table tests for feed dates: aware when the text has a zone, naive when it has none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from aggregator.parse.dates import parse_date


def tz(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


CASES = [
    # RFC 822 / 2822
    ("Tue, 10 Jun 2003 04:00:00 GMT", datetime(2003, 6, 10, 4, 0, tzinfo=UTC)),
    ("Tue, 10 Jun 2003 04:00:00 +0200", datetime(2003, 6, 10, 4, 0, tzinfo=tz(2))),
    ("Tue, 10 Jun 2003 04:00:00 -0530", datetime(2003, 6, 10, 4, 0, tzinfo=tz(-5.5))),
    ("Tue, 10 Jun 2003 04:00:00 UT", datetime(2003, 6, 10, 4, 0, tzinfo=UTC)),
    ("Tue, 10 Jun 2003 04:00:00 Z", datetime(2003, 6, 10, 4, 0, tzinfo=UTC)),
    ("Tue, 10 Jun 2003 04:00:00 EST", datetime(2003, 6, 10, 4, 0, tzinfo=tz(-5))),
    ("Tue, 10 Jun 2003 04:00:00 EDT", datetime(2003, 6, 10, 4, 0, tzinfo=tz(-4))),
    ("Tue, 10 Jun 2003 04:00:00 CST", datetime(2003, 6, 10, 4, 0, tzinfo=tz(-6))),
    ("Tue, 10 Jun 2003 04:00:00 CDT", datetime(2003, 6, 10, 4, 0, tzinfo=tz(-5))),
    ("Tue, 10 Jun 2003 04:00:00 MST", datetime(2003, 6, 10, 4, 0, tzinfo=tz(-7))),
    ("Tue, 10 Jun 2003 04:00:00 MDT", datetime(2003, 6, 10, 4, 0, tzinfo=tz(-6))),
    ("Tue, 10 Jun 2003 04:00:00 PST", datetime(2003, 6, 10, 4, 0, tzinfo=tz(-8))),
    ("Tue, 10 Jun 2003 04:00:00 PDT", datetime(2003, 6, 10, 4, 0, tzinfo=tz(-7))),
    ("10 Jun 2003 04:00:00 GMT", datetime(2003, 6, 10, 4, 0, tzinfo=UTC)),  # no weekday
    ("Tue, 10 Jun 2003 04:00 GMT", datetime(2003, 6, 10, 4, 0, tzinfo=UTC)),  # no seconds
    ("Tue, 10 Jun 03 04:00:00 GMT", datetime(2003, 6, 10, 4, 0, tzinfo=UTC)),  # two-digit year
    ("Thu, 01 Jan 99 12:00:00 +0000", datetime(1999, 1, 1, 12, 0, tzinfo=UTC)),
    ("Tue, 10 June 2003 04:00:00 GMT", datetime(2003, 6, 10, 4, 0, tzinfo=UTC)),  # full month name
    ("Tue, 10 Jun 2003 04:00:00", datetime(2003, 6, 10, 4, 0)),  # no zone: naive
    ("Wed, 5 Jun 2024 9:05:07 +02:00", datetime(2024, 6, 5, 9, 5, 7, tzinfo=tz(2))),
    # ISO 8601 / RFC 3339
    ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
    ("2024-05-01T10:00:00+08:00", datetime(2024, 5, 1, 10, 0, tzinfo=tz(8))),
    ("2024-05-01T10:00:00+0530", datetime(2024, 5, 1, 10, 0, tzinfo=tz(5.5))),
    ("2024-05-01T10:00:00-05:00", datetime(2024, 5, 1, 10, 0, tzinfo=tz(-5))),
    ("2024-05-01T10:00:00.123456Z", datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
    ("2024-05-01T10:00:00.5+01:00", datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=tz(1))),
    ("2024-05-01T10:00Z", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
    ("2024-05-01", datetime(2024, 5, 1)),  # date only: naive midnight
    ("2024-05-01 10:00:00", datetime(2024, 5, 1, 10, 0)),  # sloppy: naive
    ("2024-05-01T10:00:00", datetime(2024, 5, 1, 10, 0)),
    ("20240501T100000Z", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
    ("  2024-05-01T10:00:00Z \n", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_date(text: str, expected: datetime) -> None:
    got = parse_date(text)
    assert got == expected
    assert got is not None and (got.tzinfo is None) == (expected.tzinfo is None)
    if expected.tzinfo is not None:
        assert got.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("text", [None, "", "   ", "not a date", "2024-13-45T99:99:99Z", "Tue, 31 Feb 2003 04:00 GMT",
                                  "x" * 500])
def test_unreadable_dates_are_none(text: str | None) -> None:
    assert parse_date(text) is None


def test_regional_formats_fall_back_to_feedparser() -> None:
    # Greek RFC 822 variant, as in feedparser's own test suite
    got = parse_date("Κυρ, 11 Ιούλ 2004 12:00:00 EST")
    assert got is not None and got.tzinfo is not None
    assert got.astimezone(UTC) == datetime(2004, 7, 11, 17, 0, tzinfo=UTC)
