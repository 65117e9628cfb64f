"""Feed date parsing: fast regexes for RFC 822 and ISO 8601, tolerant fallbacks after.

A date comes back AWARE when the source gave an offset or zone and NAIVE when it
gave none, so that normalise can apply the source's configured time zone instead
of us guessing UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz
from functools import lru_cache

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}

# Named zones seen in real feeds; ambiguous ones (IST, CST-as-China...) follow RFC 822 / common use.
_ZONES = {
    "gmt": 0, "ut": 0, "utc": 0, "z": 0, "wet": 0,
    "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
    "akst": -9, "akdt": -8, "hst": -10,
    "bst": 1, "cet": 1, "cest": 2, "met": 1, "mest": 2, "west": 1, "eet": 2, "eest": 3, "msk": 3,
    "jst": 9, "kst": 9, "hkt": 8, "sgt": 8, "aest": 10, "aedt": 11, "nzst": 12, "nzdt": 13,
}

_RFC822 = re.compile(
    r"""^\s*(?:[A-Za-z]{2,9}\.?,?\s*)?            # optional weekday
    (?P<day>\d{1,2})[\s-]+(?P<mon>[A-Za-z]{3,9})\.?[\s-]+(?P<year>\d{2,4})
    (?:[\s,T]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,]\d+)?)?)?
    \s*(?P<tz>[A-Za-z]{1,5}(?=\s*$|\s*[+-])|(?:GMT|UTC|UT)?[+-]\d{1,2}:?\d{2})?
    \s*(?:\([^)]*\))?\s*$""",
    re.VERBOSE,
)

_ISO = re.compile(
    r"""^\s*(?P<year>\d{4})-?(?P<mon>\d{2})(?:-?(?P<day>\d{2}))?
    (?:[Tt\s]+(?P<h>\d{2}):?(?P<mi>\d{2})(?::?(?P<s>\d{2})(?:[.,](?P<frac>\d+))?)?)?
    \s*(?P<tz>[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*$""",
    re.VERBOSE,
)

_OFFSET = re.compile(r"^(?:GMT|UTC|UT)?([+-])(\d{1,2}):?(\d{2})$", re.IGNORECASE)


def _zone(text: str | None) -> timezone | bool | None:
    """Return a tzinfo, None for 'no zone given', or False for 'a zone we cannot read'."""
    if not text:
        return None
    return _zone_of(text)


@lru_cache(maxsize=256)
def _zone_of(text: str) -> timezone | bool:
    """_zone for a non-empty text, memoised: a feed gives the same few zones on every entry."""
    named = _ZONES.get(text.lower())
    if named is not None:
        return timezone(timedelta(hours=named))
    m = _OFFSET.match(text)
    if not m:
        return False  # military letters and unknown names: treat as no usable zone
    hours, minutes = int(m.group(2)), int(m.group(3))
    if hours > 23 or minutes > 59:
        return False
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if m.group(1) == "-" else delta)


def _build(year: int, month: int, day: int, hour: int, minute: int, second: int, micro: int,
           tz: timezone | None) -> datetime | None:
    if second == 60:  # leap second
        second = 59
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None


def _rfc822(m: re.Match[str]) -> datetime | None:
    day, mon, year_text, hour, minute, second, zone = m.group("day", "mon", "year", "h", "mi", "s", "tz")
    month = _MONTHS.get(mon[:3].lower())
    if month is None:
        return None
    year = int(year_text)
    if len(year_text) <= 2:
        year += 2000 if year < 50 else 1900
    tz = _zone(zone)
    return _build(year, month, int(day), int(hour or 0), int(minute or 0), int(second or 0), 0,
                  tz if isinstance(tz, timezone) else None)


def _iso(m: re.Match[str]) -> datetime | None:
    year, month, day, hour, minute, second, frac, zone = m.group("year", "mon", "day", "h", "mi", "s", "frac", "tz")
    tz = _zone(zone)
    if tz is False:
        return None
    micro = int((frac + "000000")[:6]) if frac else 0
    return _build(int(year), int(month), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0), micro,
                  tz if isinstance(tz, timezone) else None)


def _email(text: str) -> datetime | None:
    parts = parsedate_tz(text)
    if not parts:
        return None
    year, month, day, hour, minute, second = parts[:6]
    tz = None if parts[9] is None else timezone(timedelta(seconds=parts[9]))
    return _build(year, month, day, hour, minute, second, 0, tz)


def _feedparser(text: str) -> datetime | None:
    """Last resort: feedparser's many regional formats (Korean, Greek, Hungarian...), read as UTC."""
    from feedparser.datetimes import _parse_date  # local import: rarely needed

    try:
        parsed = _parse_date(text)
    except (ValueError, OverflowError, TypeError, IndexError):
        return None
    if not parsed:
        return None
    return _build(parsed[0], parsed[1], parsed[2], parsed[3], parsed[4], parsed[5], 0, UTC)


def parse_date(value: str | None) -> datetime | None:
    """Parse a feed date; aware if the text had a zone, naive if not, None if unreadable."""
    if not value:
        return None
    text = value.strip()
    if not text or len(text) > 100:
        return None
    m = _ISO.match(text)  # each reader takes the match, so no text is matched twice
    if m:
        return _iso(m)  # the shape is right: an impossible date stays None, no guessing
    m = _RFC822.match(text)
    if m:
        return _rfc822(m)
    return _email(text) or _feedparser(text)
