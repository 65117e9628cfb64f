"""Scheduling decisions: pure functions over stored state, `now` passed in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from aggregator import schedule
from aggregator.records import FetchResult, Settings, Source, SourceState, Validators

NOW = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
SETTINGS = Settings(default_interval=3600, min_interval=300, max_interval=86400, max_backoff=6 * 3600)
SOURCE = Source(id="s", url="http://127.0.0.1/feed", kind="feed")


def test_new_source_is_due_and_disabled_ones_are_not() -> None:
    states = {"gone": SourceState(source_id="gone", disabled_reason="410")}
    sources = [SOURCE, Source(id="off", url="http://x/", kind="feed", enabled=False),
               Source(id="gone", url="http://x/", kind="feed")]
    assert [s.id for s in schedule.due_sources(sources, states, NOW)] == ["s"]
    assert [s.id for s in schedule.due_sources(sources, states, NOW, force=True)] == ["s"]
    # naming a source explicitly polls it even when the server said 410 earlier
    assert [s.id for s in schedule.due_sources(sources, states, NOW, only=["gone"])] == ["gone"]


def test_not_due_before_next_due_or_retry_after() -> None:
    later = SourceState(source_id="s", next_due=NOW + timedelta(minutes=5))
    assert not schedule.is_due(SOURCE, later, NOW)
    assert schedule.is_due(SOURCE, later, NOW + timedelta(minutes=5))
    waiting = SourceState(source_id="s", retry_after_until=NOW + timedelta(minutes=10))
    assert not schedule.is_due(SOURCE, waiting, NOW + timedelta(minutes=9))


def test_success_schedules_the_interval_with_jitter_and_keeps_validators() -> None:
    result = FetchResult(url=SOURCE.url, final_url=SOURCE.url, status=200, validators=Validators('"a"'))
    state = schedule.after_success(SourceState(source_id="s"), source=SOURCE, settings=SETTINGS, now=NOW,
                                   rng=random.Random(1), result=result)
    assert state.validators.etag == '"a"'
    assert state.consecutive_failures == 0
    assert state.next_due is not None
    assert timedelta(minutes=54) <= state.next_due - NOW <= timedelta(minutes=66)


def test_feed_hints_stretch_but_bounds_clamp() -> None:
    assert schedule.adaptive_interval(SOURCE, SETTINGS, feed_ttl=7200) == 7200
    assert schedule.adaptive_interval(SOURCE, SETTINGS, max_age=10 * 86400) == 86400
    assert schedule.adaptive_interval(Source(id="x", url="u", kind="feed", interval=10), SETTINGS) == 300
    # publishes once a week: poll no more than every ~3.5 days, capped at max_interval
    assert schedule.adaptive_interval(SOURCE, SETTINGS, publish_gap=7 * 86400) == 86400


def test_failures_back_off_exponentially_to_a_cap_and_never_give_up() -> None:
    rng = random.Random(3)
    state = SourceState(source_id="s")
    delays = []
    for _ in range(12):
        state = schedule.after_failure(state, source=SOURCE, settings=SETTINGS, now=NOW, rng=rng, error="boom")
        assert state.next_due is not None
        delays.append((state.next_due - NOW).total_seconds())
    assert delays[1] > delays[0] * 1.4 and delays[2] > delays[1] * 1.4
    assert max(delays) <= SETTINGS.max_backoff * 1.2
    assert state.consecutive_failures == 12 and state.disabled_reason is None


def test_retry_after_is_honoured_for_that_source() -> None:
    result = FetchResult(url="u", final_url="u", status=503, error="HTTP 503", error_kind="http", retry_after=7200)
    state = schedule.after_failure(SourceState(source_id="s"), source=SOURCE, settings=SETTINGS, now=NOW,
                                   rng=random.Random(1), error="503", result=result)
    assert state.retry_after_until == NOW + timedelta(hours=2)
    assert not schedule.is_due(SOURCE, state, NOW + timedelta(minutes=119))


def test_gone_disables_with_a_clear_reason() -> None:
    result = FetchResult(url="u", final_url="u", status=410, error="HTTP 410", error_kind="http")
    state = schedule.after_failure(SourceState(source_id="s"), source=SOURCE, settings=SETTINGS, now=NOW,
                                   rng=random.Random(1), error="410", result=result)
    assert state.disabled_reason and "410" in state.disabled_reason and "sources.yaml" in state.disabled_reason
    assert state.last_status == "disabled"


def test_permanent_redirect_moves_the_stored_url() -> None:
    result = FetchResult(url="http://old/", final_url="http://new/", status=200, permanent_redirect="http://new/")
    state = schedule.after_success(SourceState(source_id="s"), source=SOURCE, settings=SETTINGS, now=NOW,
                                   rng=random.Random(1), result=result)
    assert state.url == "http://new/"


def test_force_still_honours_a_servers_retry_after_but_naming_the_source_does_not() -> None:
    states = {"s": SourceState(source_id="s", retry_after_until=NOW + timedelta(minutes=30))}
    assert schedule.due_sources([SOURCE], states, NOW, force=True) == []
    assert schedule.due_sources([SOURCE], states, NOW + timedelta(minutes=31), force=True) == [SOURCE]
    assert schedule.due_sources([SOURCE], states, NOW, only=["s"]) == [SOURCE]


def test_an_absurd_retry_after_is_capped_so_the_source_is_never_given_up() -> None:
    result = FetchResult(url="u", final_url="u", status=429, error="HTTP 429", error_kind="http",
                         retry_after=365 * 86400)
    state = schedule.after_failure(SourceState(source_id="s"), source=SOURCE, settings=SETTINGS, now=NOW,
                                   rng=random.Random(1), error="HTTP 429", result=result)
    assert state.retry_after_until == NOW + timedelta(seconds=SETTINGS.max_interval)
    assert state.next_due is not None and state.next_due <= NOW + timedelta(seconds=SETTINGS.max_interval)


def test_not_modified_keeps_the_interval_the_feed_asked_for() -> None:
    ok = FetchResult(url=SOURCE.url, final_url=SOURCE.url, status=200)
    first = schedule.after_success(SourceState(source_id="s"), source=SOURCE, settings=SETTINGS, now=NOW,
                                   rng=random.Random(1), result=ok, feed_ttl=4 * 3600)
    assert first.interval == 4 * 3600
    not_modified = FetchResult(url=SOURCE.url, final_url=SOURCE.url, status=304, not_modified=True)
    later = NOW + timedelta(hours=4)
    second = schedule.after_success(first, source=SOURCE, settings=SETTINGS, now=later, rng=random.Random(1),
                                    result=not_modified, status="not-modified")
    assert second.interval == 4 * 3600
    assert second.next_due is not None and second.next_due >= later + timedelta(hours=3.5)


def test_a_success_clears_a_disabled_state() -> None:
    gone = SourceState(source_id="s", disabled_reason="410 Gone", last_status="disabled", consecutive_failures=1)
    ok = FetchResult(url=SOURCE.url, final_url=SOURCE.url, status=200)
    state = schedule.after_success(gone, source=SOURCE, settings=SETTINGS, now=NOW, rng=random.Random(1), result=ok)
    assert state.disabled_reason is None and schedule.is_due(SOURCE, state, state.next_due or NOW)


def test_a_new_url_in_sources_yaml_forgets_the_old_address() -> None:
    old = SourceState(source_id="s", url="http://old.example/moved", validators=Validators('"x"'),
                      disabled_reason="410 Gone", last_status="disabled", consecutive_failures=4,
                      next_due=NOW + timedelta(days=1), retry_after_until=NOW + timedelta(hours=1))
    fresh = schedule.after_url_change(old)
    assert fresh.url is None and fresh.validators == Validators() and fresh.disabled_reason is None
    assert schedule.is_due(SOURCE, fresh, NOW)
