"""At most N requests in flight per host, however many worker threads there are.

Politeness is per origin (scheme, host, port): a thousand feeds on one site must not
become a thousand simultaneous connections to it.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from urllib.parse import urlsplit


@lru_cache(maxsize=8192)
def host_key(url: str) -> str:
    """scheme://host:port with the default port filled in, lowercased."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


class HostLimiter:
    """A semaphore per host, created on first use."""

    def __init__(self, per_host: int) -> None:
        self.per_host = max(1, per_host)
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    def _slot(self, key: str) -> threading.BoundedSemaphore:
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = threading.BoundedSemaphore(self.per_host)
            return slot

    def slot(self, url: str) -> threading.BoundedSemaphore:
        """The semaphore of `url`'s host, to hold with `with` around one request."""
        return self._slot(host_key(url))
