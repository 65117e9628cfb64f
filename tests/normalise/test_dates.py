from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from aggregator.normalise.dates import FIRST_SEEN, FUTURE_IGNORED, TOO_OLD_IGNORED, entry_dates, is_first_seen

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def test_naive_dates_are_in_the_source_time_zone() -> None:
    d = entry_dates(datetime(2024, 5, 1, 10, 0), None, "rss:pubDate", timezone="Asia/Shanghai", now=NOW)
    assert d.published == datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
    assert d.published.tzinfo is UTC
    assert d.date_source == "rss:pubDate"


def test_naive_dates_follow_daylight_saving() -> None:
    summer = entry_dates(datetime(2024, 7, 1, 12, 0), None, None, timezone="Europe/Berlin", now=NOW.replace(month=8))
    winter = entry_dates(datetime(2024, 1, 1, 12, 0), None, None, timezone="Europe/Berlin", now=NOW)
    assert summer.published.hour == 10 and winter.published.hour == 11


def test_aware_dates_convert_to_utc_whatever_the_source_zone() -> None:
    aware = datetime(2024, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    d = entry_dates(aware, None, None, timezone="Europe/Berlin", now=NOW)
    assert d.published == datetime(2024, 5, 1, 2, 0, tzinfo=UTC)


def test_missing_published_falls_back_to_updated_then_first_seen() -> None:
    upd = datetime(2024, 5, 2, tzinfo=UTC)
    d = entry_dates(None, upd, None, timezone="UTC", now=NOW)
    assert (d.published, d.updated, d.date_source) == (upd, upd, "updated")
    d = entry_dates(None, None, None, timezone="UTC", now=NOW)
    assert (d.published, d.updated, d.date_source) == (NOW, NOW, FIRST_SEEN)
    assert is_first_seen(d.date_source)


def test_future_dates_are_not_trusted() -> None:
    d = entry_dates(NOW + timedelta(days=30), None, "rss:pubDate", timezone="UTC", now=NOW)
    assert (d.published, d.date_source) == (NOW, FUTURE_IGNORED)
    assert is_first_seen(d.date_source)
    # within a day is clock skew, not a lie
    d = entry_dates(NOW + timedelta(hours=20), None, "rss:pubDate", timezone="UTC", now=NOW)
    assert d.published == NOW + timedelta(hours=20) and d.date_source == "rss:pubDate"


def test_dates_before_1995_are_not_trusted() -> None:
    d = entry_dates(datetime(1970, 1, 1, tzinfo=UTC), None, "rss:pubDate", timezone="UTC", now=NOW)
    assert (d.published, d.date_source) == (NOW, TOO_OLD_IGNORED)


def test_updated_is_never_before_published_nor_in_the_future() -> None:
    pub = datetime(2024, 5, 2, tzinfo=UTC)
    assert entry_dates(pub, pub - timedelta(days=1), None, timezone="UTC", now=NOW).updated == pub
    assert entry_dates(pub, NOW + timedelta(days=9), None, timezone="UTC", now=NOW).updated == pub
    later = pub + timedelta(hours=3)
    assert entry_dates(pub, later, None, timezone="UTC", now=NOW).updated == later


def test_unknown_time_zone_falls_back_to_utc() -> None:
    d = entry_dates(datetime(2024, 5, 1, 10, 0), None, None, timezone="Mars/Olympus", now=NOW)
    assert d.published == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_calendar_extremes_do_not_crash() -> None:
    plus5, minus5 = timezone(timedelta(hours=5)), timezone(timedelta(hours=-5))
    for value in (datetime.min, datetime.max, datetime.min.replace(tzinfo=plus5), datetime.max.replace(tzinfo=minus5)):
        d = entry_dates(value, value, "rss:pubDate", timezone="Asia/Shanghai", now=NOW)
        assert d.published == NOW and is_first_seen(d.date_source)
