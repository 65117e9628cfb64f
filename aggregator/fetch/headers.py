"""Pure readers of HTTP response headers: media type, validators, Retry-After, freshness.

Kept apart from the network code so every rule can be tested without a socket;
`now` is passed in by the caller (the edge), never read here.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from aggregator.records import Validators

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\b", re.IGNORECASE)


def media_type(value: str | None) -> tuple[str | None, str | None]:
    """Split a Content-Type into (lowercased media type without parameters, charset or None)."""
    if not value:
        return None, None
    head, _, params = value.partition(";")
    kind = head.strip().lower() or None
    charset = None
    for param in params.split(";"):
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset":
            charset = val.strip().strip("\"'").strip() or None
    return kind, charset


def http_date(value: str | None) -> datetime | None:
    """An HTTP date as an aware UTC datetime, or None when it is absent or unreadable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _server_now(headers: Mapping[str, str], now: datetime) -> datetime:
    """The server's clock (Date header) when given, so skewed clocks do not distort intervals."""
    return http_date(headers.get("Date")) or now


def retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Retry-After as seconds from now; it is either delta-seconds or an HTTP date."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():  # "²".isdigit() is True too
        return float(value)
    when = http_date(value)
    if when is None:
        return None
    return max(0.0, (when - _server_now(headers, now)).total_seconds())


def max_age(headers: Mapping[str, str], now: datetime) -> int | None:
    """Freshness lifetime in seconds: Cache-Control max-age, else Expires minus Date; None if unsaid."""
    control = headers.get("Cache-Control") or ""
    found = _MAX_AGE.search(control)
    if found:
        return int(found.group(1))
    if _NO_CACHE.search(control):
        return 0
    expires = headers.get("Expires")
    if expires is None:
        return None
    when = http_date(expires)
    if when is None:  # RFC 9111: an invalid Expires (e.g. "0") means already expired
        return 0
    return max(0, int((when - _server_now(headers, now)).total_seconds()))


def validators(headers: Mapping[str, str], previous: Validators | None = None) -> Validators:
    """The response's ETag / Last-Modified; on a 304 missing ones are kept from `previous`."""
    old = previous or Validators()
    etag = headers.get("ETag") or old.etag
    modified = headers.get("Last-Modified") or old.last_modified
    return Validators(etag=etag, last_modified=modified)


def error_message(status: int, reason: str, url: str) -> str:
    """What a failed status means for the user and what they should do about it."""
    head = f"HTTP {status} {reason or ''}".rstrip() + f" from {url}"
    if status == 404:
        return f"{head}: check the source url"
    if status == 410:
        return f"{head}: the feed is gone for good; remove the source or find its new url"
    if status in (401, 403):
        return f"{head}: access denied; the site may need a login or block our user agent (settings.user_agent)"
    if status == 429:
        return f"{head}: the site is rate limiting us; it will be retried later"
    if status >= 500:
        return f"{head}: the server is failing; it will be retried later"
    return f"{head}: check the source url"
