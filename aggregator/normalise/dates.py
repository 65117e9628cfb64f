"""Trustworthy aware UTC dates for an entry, and a record of where each one came from.

Feeds lie about dates (far future, 1970, naive local times); a wrong date puts an article at
the top of a feed for ever, so an implausible date is replaced by the time we first saw it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregator.records import FIRST_SEEN as FIRST_SEEN  # the date_source values, defined with the record
from aggregator.records import FUTURE_IGNORED as FUTURE_IGNORED
from aggregator.records import TOO_OLD_IGNORED as TOO_OLD_IGNORED
from aggregator.records import is_first_seen as is_first_seen

EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)
_SENTINEL_PAST = datetime.min.replace(tzinfo=UTC)
_SENTINEL_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class EntryDates:
    published: datetime
    updated: datetime
    date_source: str


@lru_cache(maxsize=64)
def source_zone(name: str) -> tzinfo:
    """The source's zone; an unknown name falls back to UTC (config validation reports it)."""
    try:
        return ZoneInfo(name) if name and name.upper() != "UTC" else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def to_utc(value: datetime, zone: tzinfo) -> datetime:
    """Naive datetimes are wall-clock times of the source's zone."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        value = value.replace(tzinfo=zone)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted past the calendar: nonsense either way
        return _SENTINEL_PAST if value.year < 2000 else _SENTINEL_FUTURE


def _plausible(value: datetime, now: datetime) -> str | None:
    """None when trusted, else the date_source that says why it was replaced."""
    if value > now + FUTURE_TOLERANCE:
        return FUTURE_IGNORED
    if value < EARLIEST:
        return TOO_OLD_IGNORED
    return None


def entry_dates(published: datetime | None, updated: datetime | None, raw_source: str | None, *,
                timezone: str, now: datetime) -> EntryDates:
    """Published falls back to updated, then to `now`; updated is never before published."""
    zone = source_zone(timezone)
    now = to_utc(now, UTC)
    pub = to_utc(published, zone) if published is not None else None
    upd = to_utc(updated, zone) if updated is not None else None
    source = raw_source or ("published" if pub is not None else "updated")
    if pub is None:
        pub = upd
    if pub is None:
        return EntryDates(now, now, FIRST_SEEN)
    rejected = _plausible(pub, now)
    if rejected is not None:
        return EntryDates(now, now, rejected)
    if upd is None or upd < pub or _plausible(upd, now) is not None:
        upd = pub
    return EntryDates(pub, upd, source)
