"""The fetcher the scrape tests use: aggregator.fetch.Fetcher when it exists, else a minimal stand-in
with the same interface (urllib over loopback), so the scraper can be tested before fetch.py lands."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from aggregator.records import FetchResult, Settings


class _StandIn:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def crawl_delay(self, url: str) -> float | None:
        return None

    def get(self, url: str, validators: Any = None, *, robots: bool = False, accept: str | None = None,
            max_bytes: int | None = None) -> FetchResult:
        limit = max_bytes or self.settings.max_bytes
        request = urllib.request.Request(url, headers={"Accept": accept or "*/*"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                body = response.read(limit + 1)
                final = response.geturl()
                ctype = response.headers.get_content_type()
                charset = response.headers.get_content_charset()
                status = response.status
        except urllib.error.HTTPError as exc:
            return FetchResult(url, url, status=exc.code, error=f"HTTP {exc.code}", error_kind="http")
        except OSError as exc:
            return FetchResult(url, url, error=str(exc), error_kind="connection")
        if len(body) > limit:
            return FetchResult(url, final, status=status, error=f"response over {limit} bytes", error_kind="too-large")
        return FetchResult(url, final, status=status, body=body, content_type=ctype, charset=charset)


def make_fetcher(settings: Settings | None = None) -> Any:
    settings = settings or Settings()
    try:
        from aggregator.fetch import Fetcher  # type: ignore[attr-defined]
    except ImportError:
        return _StandIn(settings)
    return Fetcher(settings)
