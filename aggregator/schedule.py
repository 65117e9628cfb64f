"""When each source is due: pure decisions over the stored state, so cron and daemon agree.

Nothing here reads the clock or sleeps; `now` and the random source are passed in.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from aggregator.records import FetchResult, Settings, Source, SourceState, Validators


def base_interval(source: Source, settings: Settings) -> int:
    """The configured interval, clamped to the global bounds."""
    interval = source.interval if source.interval is not None else settings.default_interval
    return clamp(interval, settings)


def clamp(seconds: float, settings: Settings) -> int:
    return int(min(max(seconds, settings.min_interval), settings.max_interval))


def is_due(source: Source, state: SourceState, now: datetime) -> bool:
    if not source.enabled or state.disabled_reason:
        return False
    if state.retry_after_until and state.retry_after_until > now:
        return False
    return state.next_due is None or state.next_due <= now


def due_sources(sources: Sequence[Source], states: dict[str, SourceState], now: datetime, *,
                force: bool = False, only: Sequence[str] = ()) -> list[Source]:
    """What to poll in this pass: `only` names sources explicitly (even if not yet due or disabled);
    `force` ignores our schedule but still skips disabled sources and honours a server's Retry-After
    (asking again before the time a 429/503 gave is what gets a crawler banned)."""
    chosen = []
    for source in sources:
        if only and source.id not in only:
            continue
        state = states.get(source.id) or SourceState(source_id=source.id)
        if not source.enabled:
            continue
        if only:
            chosen.append(source)
        elif force:
            if state.disabled_reason or (state.retry_after_until and state.retry_after_until > now):
                continue
            chosen.append(source)
        elif is_due(source, state, now):
            chosen.append(source)
    return chosen


def jitter(seconds: float, rng: random.Random, spread: float = 0.1) -> float:
    """Spread polls so a thousand sources added together do not stay in lock-step forever."""
    return seconds * (1 + rng.uniform(-spread, spread))


def adaptive_interval(source: Source, settings: Settings, *, feed_ttl: int | None = None,
                      max_age: int | None = None, publish_gap: float | None = None) -> int:
    """The interval to use after a success: the configured one, stretched by what the source says
    (RSS ttl, sy:updatePeriod, Cache-Control max-age) and by how often it really publishes."""
    interval = float(base_interval(source, settings))
    hints = [h for h in (feed_ttl, max_age) if h]
    if hints:
        interval = max(interval, float(max(hints)))
    if publish_gap:
        # A source that publishes once a week need not be asked every hour; one that publishes
        # every few minutes is still asked no faster than configured.
        interval = max(interval, min(publish_gap / 2, float(settings.max_interval)))
    return clamp(interval, settings)


def after_success(state: SourceState, *, source: Source, settings: Settings, now: datetime,
                  rng: random.Random, result: FetchResult | None = None, feed_ttl: int | None = None,
                  publish_gap: float | None = None, new_entries: int = 0, seen: int = 0,
                  status: str = "ok") -> SourceState:
    interval = adaptive_interval(source, settings, feed_ttl=feed_ttl,
                                 max_age=result.max_age if result else None, publish_gap=publish_gap)
    if status == "not-modified" and feed_ttl is None and publish_gap is None and state.interval:
        # a 304 carries no body, so no <ttl> and no dates: the interval learnt from the last 200 still holds
        interval = max(interval, clamp(state.interval, settings))
    url = state.url
    if result is not None and result.permanent_redirect:
        url = result.permanent_redirect
    return replace(
        state,
        url=url,
        validators=result.validators if result is not None else state.validators,
        last_attempt=now,
        last_success=now,
        last_status=status,
        http_status=result.status if result is not None else state.http_status,
        last_error=None,
        consecutive_failures=0,
        next_due=now + timedelta(seconds=jitter(interval, rng)),
        new_entries=new_entries,
        retry_after_until=None,
        disabled_reason=None,  # it answered again (e.g. polled by `run --source ID` after a fix)
        interval=interval,
        items_seen=seen or state.items_seen,
    )


def backoff_seconds(failures: int, source: Source, settings: Settings, rng: random.Random) -> float:
    """Exponential backoff with jitter, capped at settings.max_backoff: it never gives up."""
    base = min(base_interval(source, settings), 900)
    delay = min(float(settings.max_backoff), base * (2 ** max(failures - 1, 0)))
    return max(1.0, jitter(delay, rng, spread=0.2))


def after_failure(state: SourceState, *, source: Source, settings: Settings, now: datetime,
                  rng: random.Random, error: str, result: FetchResult | None = None,
                  status: str = "error") -> SourceState:
    failures = state.consecutive_failures + 1
    http_status = result.status if result is not None else None
    disabled = state.disabled_reason
    if http_status == 410:
        disabled = f"the server answered 410 Gone for {result.url if result else source.url}: " \
                   "remove the source or fix its url in sources.yaml"
    delay = backoff_seconds(failures, source, settings, rng)
    retry_until = None
    if result is not None and result.retry_after is not None:
        # honoured, but never longer than our own longest wait: a source is never given up for good
        wait = min(result.retry_after, float(max(settings.max_interval, settings.max_backoff)))
        delay = max(delay, wait)
        retry_until = now + timedelta(seconds=wait)
    return replace(
        state,
        last_attempt=now,
        last_status="disabled" if disabled else status,
        http_status=http_status,
        last_error=error,
        consecutive_failures=failures,
        next_due=now + timedelta(seconds=delay),
        new_entries=0,
        retry_after_until=retry_until,
        disabled_reason=disabled,
    )


def after_url_change(state: SourceState) -> SourceState:
    """The url in sources.yaml was edited: forget what the old address taught us (a stored redirect,
    validators, a 410, backoff, Retry-After) and poll the new one at once."""
    return replace(state, url=None, configured_url=None, validators=Validators(), consecutive_failures=0,
                   next_due=None, retry_after_until=None, disabled_reason=None,
                   last_status=None if state.disabled_reason else state.last_status)
