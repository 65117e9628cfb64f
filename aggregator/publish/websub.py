"""WebSub publish pings: tell each configured hub that a feed really changed, so subscribers get it in seconds.

Only feeds whose file was rewritten are announced (an unchanged feed is not news, and hubs throttle
chatty publishers). A hub that is down or refuses is logged with its URL and the error, never fatal:
the feed is already published, and subscribers still poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import requests

log = logging.getLogger(__name__)

Pinger = Callable[[Sequence[str], Sequence[str]], None]  # (hubs, changed feed URLs)


def ping_hubs(hubs: Sequence[str], urls: Sequence[str], *, timeout: tuple[float, float] = (5.0, 10.0),
              user_agent: str = "aggregator") -> list[str]:
    """POST `hub.mode=publish&hub.url=<url>` to every hub for every URL; return the failures as messages."""
    failures: list[str] = []
    if not hubs or not urls:
        return failures
    with requests.Session() as session:
        session.headers["User-Agent"] = user_agent
        for hub in hubs:
            for url in urls:
                try:
                    response = session.post(hub, data={"hub.mode": "publish", "hub.url": url}, timeout=timeout,
                                            allow_redirects=False)
                    if not 200 <= response.status_code < 300:
                        raise requests.HTTPError(f"HTTP {response.status_code} {response.reason}")
                except requests.RequestException as exc:
                    message = f"WebSub hub {hub} refused the publish ping for {url}: {exc}"
                    log.warning("%s (subscribers will still see the change when they poll; check settings.hubs)",
                                message)
                    failures.append(message)
    return failures
