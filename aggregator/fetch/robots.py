"""robots.txt rules per origin, fetched once and kept for an hour.

Missing or 4xx robots.txt means everything is allowed (RFC 9309); a 5xx or a timeout
also allows, but is logged, because refusing every feed of a flaky site helps nobody.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

from aggregator.records import FetchResult

log = logging.getLogger("aggregator.fetch")

TTL = 3600.0
MAX_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class _Entry:
    rules: Protego | None  # None: allow everything
    expires: float


def origin(url: str) -> str:
    """scheme://netloc, lowercased: the unit robots.txt applies to."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _parse(result: FetchResult, where: str) -> Protego | None:
    if result.ok and result.body is not None:
        text = result.body.decode(result.charset or "utf-8", errors="replace")
        try:
            return Protego.parse(text)
        except Exception as exc:  # protego is lenient, but never let a bad file stop a poll
            log.info("robots.txt at %s is unreadable (%s): treating everything as allowed", where, exc)
            return None
    if result.error_kind == "http" and result.status is not None and 400 <= result.status < 500:
        return None
    log.info("robots.txt at %s could not be fetched (%s): treating everything as allowed", where, result.error)
    return None


class RobotsCache:
    """Thread-safe cache of parsed robots.txt; concurrent askers for one origin share one fetch."""

    def __init__(self, fetch: Callable[[str], FetchResult], user_agent: str, ttl: float = TTL) -> None:
        self._fetch = fetch
        self._agent = user_agent
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._origin_locks: dict[str, threading.Lock] = {}

    def _rules(self, url: str) -> Protego | None:
        key = origin(url)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires > time.monotonic():
                return entry.rules
            origin_lock = self._origin_locks.setdefault(key, threading.Lock())
        with origin_lock:
            with self._lock:  # another thread may have fetched it while we waited
                entry = self._entries.get(key)
            if entry is not None and entry.expires > time.monotonic():
                return entry.rules
            where = f"{key}/robots.txt"
            rules = _parse(self._fetch(where), where)
            with self._lock:
                self._entries[key] = _Entry(rules, time.monotonic() + self._ttl)
            return rules

    def allowed(self, url: str) -> bool:
        rules = self._rules(url)
        return rules is None or bool(rules.can_fetch(url, self._agent))

    def crawl_delay(self, url: str) -> float | None:
        rules = self._rules(url)
        if rules is None:
            return None
        delay = rules.crawl_delay(self._agent)
        return float(delay) if delay is not None else None
