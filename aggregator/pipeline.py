"""One pass over what is due: the data flow of the whole product, in order.

    1. schedule   which sources are due (from the store)
    2. fetch      conditional GET, in parallel across hosts (threads)
    3. parse      feed bytes -> RawEntry          | scrape: list + article pages -> RawEntry
    4. normalise  RawEntry -> Article (canonical URL, UTC dates, sanitised HTML, text)
    5. classify   Article -> topics
    6. store      exact + near dedupe into stories, with the source's state, in one transaction
    7. publish    rewrite only the feeds whose stories changed

A source that fails is recorded as failed with its message; it never stops the others.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from aggregator import schedule
from aggregator.classify import Classifier
from aggregator.errors import AggregatorError, ParseError
from aggregator.fetch import Fetcher
from aggregator.normalise import is_first_seen, normalise_entry
from aggregator.parse import parse_feed
from aggregator.records import (
    Article,
    Config,
    FetchResult,
    RawEntry,
    RunReport,
    Source,
    SourceOutcome,
    SourceState,
)
from aggregator.store import SqlStore

log = logging.getLogger("aggregator.run")

ProgressHook = Callable[[SourceOutcome], None]


@dataclass(frozen=True, slots=True)
class Harvest:
    """What a worker brings back for one source, before it is stored."""

    source: Source
    state: SourceState  # the next state to store
    articles: tuple[Article, ...]
    outcome: SourceOutcome


def _publish_gap(articles: Sequence[Article]) -> float | None:
    """Mean seconds between the source's recent items: how often it really publishes."""
    stamps = sorted(a.published.timestamp() for a in articles if not is_first_seen(a.date_source))
    if len(stamps) < 3:
        return None
    return (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def to_articles(entries: Sequence[RawEntry], source: Source, classifier: Classifier, *, fetched_url: str,
                now: datetime, feed_language: str | None = None) -> tuple[Article, ...]:
    out = []
    for raw in entries:
        article = normalise_entry(raw, source, fetched_url=fetched_url, now=now, feed_language=feed_language)
        if article is not None:
            out.append(replace(article, topics=classifier.classify(article, source)))
    return tuple(out)


def harvest_feed(source: Source, state: SourceState, fetcher: Fetcher, classifier: Classifier, config: Config,
                 now: datetime, rng: random.Random) -> Harvest:
    settings = config.settings
    started = time.monotonic()
    url = state.url or source.url
    result = fetcher.get(url, state.validators)
    if not result.ok:
        return _failed(source, state, config, now, rng, result.error or "fetch failed", result, started)
    if result.not_modified:
        next_state = schedule.after_success(state, source=source, settings=settings, now=now, rng=rng,
                                            result=result, status="not-modified",
                                            feed_ttl=None, seen=state.items_seen)
        outcome = SourceOutcome(source.id, "not-modified", http_status=304, elapsed=time.monotonic() - started)
        return Harvest(source, next_state, (), outcome)
    try:
        feed = parse_feed(result.body or b"", url=result.final_url, content_type=result.content_type,
                          charset=source.encoding or result.charset)
    except ParseError as exc:
        return _failed(source, state, config, now, rng, f"{exc} (from {result.final_url})", result, started)
    articles = to_articles(feed.entries, source, classifier, fetched_url=result.final_url, now=now,
                           feed_language=feed.language)
    warnings = list(feed.warnings)
    if result.permanent_redirect:
        warnings.append(f"moved permanently to {result.permanent_redirect}: now polling that URL "
                        "(update url in sources.yaml)")
    next_state = schedule.after_success(state, source=source, settings=settings, now=now, rng=rng, result=result,
                                        feed_ttl=feed.ttl_seconds, publish_gap=_publish_gap(articles),
                                        seen=len(articles))
    outcome = SourceOutcome(source.id, "ok", http_status=result.status, seen=len(articles),
                            elapsed=time.monotonic() - started, warnings=tuple(warnings))
    return Harvest(source, next_state, articles, outcome)


def harvest_html(source: Source, state: SourceState, fetcher: Fetcher, classifier: Classifier, config: Config,
                 now: datetime, rng: random.Random, store: SqlStore) -> Harvest:
    from aggregator.scrape import scrape_source

    started = time.monotonic()
    result = scrape_source(source, fetcher, config.settings, is_known=store.known_urls, now=now,
                           previous_items=state.items_seen)
    articles: list[Article] = []
    for raw in result.entries:
        articles.extend(to_articles([raw], source, classifier, fetched_url=raw.link or source.url, now=now))
    if result.broken:
        next_state = schedule.after_failure(state, source=source, settings=config.settings, now=now, rng=rng,
                                            error=result.broken, status="broken")
        outcome = SourceOutcome(source.id, "broken", seen=len(articles), error=result.broken,
                                elapsed=time.monotonic() - started, warnings=result.warnings,
                                pages=result.pages_fetched)
        return Harvest(source, next_state, tuple(articles), outcome)
    next_state = schedule.after_success(state, source=source, settings=config.settings, now=now, rng=rng,
                                        publish_gap=_publish_gap(articles),
                                        seen=max(len(articles), state.items_seen))
    outcome = SourceOutcome(source.id, "ok", http_status=200, seen=len(articles),
                            elapsed=time.monotonic() - started, warnings=result.warnings,
                            pages=result.pages_fetched)
    return Harvest(source, next_state, tuple(articles), outcome)


def _failed(source: Source, state: SourceState, config: Config, now: datetime, rng: random.Random, error: str,
            result: FetchResult | None, started: float) -> Harvest:
    next_state = schedule.after_failure(state, source=source, settings=config.settings, now=now, rng=rng,
                                        error=error, result=result)
    status = "disabled" if next_state.disabled_reason else "error"
    outcome = SourceOutcome(source.id, status, http_status=result.status if result else None, error=error,
                            elapsed=time.monotonic() - started)
    return Harvest(source, next_state, (), outcome)


def harvest(source: Source, state: SourceState, fetcher: Fetcher, classifier: Classifier, config: Config,
            now: datetime, rng: random.Random, store: SqlStore) -> Harvest:
    """Fetch and turn one source into records; any bug in a stage becomes that source's error."""
    started = time.monotonic()
    try:
        if source.kind == "html":
            return harvest_html(source, state, fetcher, classifier, config, now, rng, store)
        return harvest_feed(source, state, fetcher, classifier, config, now, rng)
    except AggregatorError as exc:
        return _failed(source, state, config, now, rng, str(exc), None, started)
    except Exception as exc:  # a bug or a hostile input we did not foresee: isolate it to this source
        log.exception("source=%s crashed", source.id)
        return _failed(source, state, config, now, rng, f"internal error {type(exc).__name__}: {exc} "
                       "(please report it)", None, started)


def run_once(config: Config, store: SqlStore, *, now: datetime | None = None, force: bool = False,
             only: Sequence[str] = (), fetcher: Fetcher | None = None, progress: ProgressHook | None = None,
             publish: bool = True, rng: random.Random | None = None) -> RunReport:
    """Poll what is due, store what changed, rewrite the feeds it touched."""
    from aggregator.publish import publish as publish_feeds

    started = time.monotonic()
    now = now or datetime.now(UTC)
    rng = rng or random.Random()
    states = store.source_states()
    due = schedule.due_sources(config.sources, states, now, force=force, only=only)
    classifier = Classifier(config.topics)
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(config.settings)
    outcomes: list[SourceOutcome] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, config.settings.workers),
                                thread_name_prefix="harvest") as pool:
            futures: list[Future[Harvest]] = [
                pool.submit(harvest, s, states.get(s.id) or SourceState(source_id=s.id), fetcher, classifier,
                            config, now, rng, store)
                for s in due
            ]
            for future in as_completed(futures):
                outcome = _store(future.result(), store, now)
                outcomes.append(outcome)
                _log(outcome)
                if progress:
                    progress(outcome)
    finally:
        if own_fetcher:
            fetcher.close()
    written: list[Path] = publish_feeds(config, store) if publish else []
    return RunReport(outcomes=tuple(sorted(outcomes, key=lambda o: o.source_id)),
                     feeds_written=tuple(str(p) for p in written), elapsed=time.monotonic() - started)


def _store(h: Harvest, store: SqlStore, now: datetime) -> SourceOutcome:
    result = store.ingest(h.source.id, h.articles, now, h.state, priority=h.source.priority)
    return replace(h.outcome, new=result.new, updated=result.updated)


def _log(o: SourceOutcome) -> None:
    parts = [f"source={o.source_id}", f"status={o.status}"]
    if o.http_status is not None:
        parts.append(f"http={o.http_status}")
    parts += [f"new={o.new}", f"updated={o.updated}", f"seen={o.seen}"]
    if o.pages:
        parts.append(f"pages={o.pages}")
    parts.append(f"elapsed={o.elapsed:.2f}s")
    if o.error:
        parts.append(f'error="{o.error}"')
    for w in o.warnings:
        parts.append(f'warning="{w}"')
    level = logging.WARNING if o.status in ("error", "broken", "disabled") else logging.INFO
    log.log(level, " ".join(parts))
