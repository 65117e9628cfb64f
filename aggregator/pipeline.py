"""One pass over what is due: the data flow of the whole product, in order.

    1. schedule   which sources are due (from the store)
    2. fetch      conditional GET, in parallel across hosts (threads)
    3. parse      feed bytes -> RawEntry          | scrape: list + article pages -> RawEntry
    4. normalise  RawEntry -> Article (canonical URL, UTC dates, sanitised HTML, text)
    5. classify   Article -> topics
       (3-5 and the MinHash signatures run in worker processes for big runs: see prepare.py)
    6. store      exact + near dedupe into stories, with the sources' states, a batch of sources per
                  transaction (one commit per batch, not per source)
    7. publish    rewrite only the feeds whose stories changed

A source that fails is recorded as failed with its message; it never stops the others.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator import schedule
from aggregator.classify import Classifier
from aggregator.errors import AggregatorError, ParseError
from aggregator.fetch import Fetcher
from aggregator.prepare import CpuPool, to_articles
from aggregator.records import (
    Article,
    Config,
    FetchResult,
    RunReport,
    Settings,
    Source,
    SourceOutcome,
    SourceState,
    is_first_seen,
)
from aggregator.store import SqlStore
from aggregator.store.base import IngestItem

if TYPE_CHECKING:  # numpy loads only when a run has new records to deduplicate
    from aggregator.dedupe import Signature

log = logging.getLogger("aggregator.run")

ProgressHook = Callable[[SourceOutcome], None]
# A write batch closes at whichever comes first: commits are the cost that dominates small writes, and a
# kill loses at most one batch (those sources are fetched again by the next run).
BATCH_RECORDS = 2000
BATCH_SOURCES = 250
BATCH_SECONDS = 1.0
HARVESTS_WAITING = 48  # fetched or parsed sources the store has not taken yet
COLLECT_SECONDS = 0.01


@dataclass(frozen=True, slots=True)
class Harvest:
    """What a worker brings back for one source, before it is stored."""

    source: Source
    state: SourceState  # the next state to store
    articles: tuple[Article, ...]
    outcome: SourceOutcome
    signatures: Mapping[str, Signature | None] | None = None


def _publish_gap(articles: Sequence[Article]) -> float | None:
    """Mean seconds between the source's recent items: how often it really publishes."""
    stamps = sorted(a.published.timestamp() for a in articles if not is_first_seen(a.date_source))
    if len(stamps) < 3:
        return None
    return (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def harvest_feed(source: Source, state: SourceState, fetcher: Fetcher, cpu: CpuPool, config: Config,
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
        feed = cpu.prepare(result.body or b"", source, url=result.final_url, content_type=result.content_type,
                           charset=source.encoding or result.charset, now=now)
    except ParseError as exc:
        return _failed(source, state, config, now, rng, f"{exc} (from {result.final_url})", result, started)
    articles = feed.articles
    warnings = list(feed.warnings)
    if result.permanent_redirect:
        warnings.append(f"moved permanently to {result.permanent_redirect}: now polling that URL "
                        "(update url in sources.yaml)")
    next_state = schedule.after_success(state, source=source, settings=settings, now=now, rng=rng, result=result,
                                        feed_ttl=feed.ttl_seconds, publish_gap=_publish_gap(articles),
                                        seen=len(articles))
    outcome = SourceOutcome(source.id, "ok", http_status=result.status, seen=len(articles),
                            elapsed=time.monotonic() - started, warnings=tuple(warnings))
    return Harvest(source, next_state, articles, outcome, feed.signatures)


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


def harvest(source: Source, state: SourceState, fetcher: Fetcher, cpu: CpuPool, config: Config,
            now: datetime, rng: random.Random, store: SqlStore) -> Harvest:
    """Fetch and turn one source into records; any bug in a stage becomes that source's error."""
    started = time.monotonic()
    try:
        if source.kind == "html":
            return harvest_html(source, state, fetcher, cpu.classifier, config, now, rng, store)
        return harvest_feed(source, state, fetcher, cpu, config, now, rng)
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
    states = _forget_edited_urls(config, store, store.source_states())
    due = schedule.due_sources(config.sources, states, now, force=force, only=only)
    feeds_due = sum(1 for s in due if s.kind == "feed")
    processes = CpuPool.size_for(config.settings.processes, feeds_due)
    cpu = CpuPool(config.topics, processes)
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(config.settings)
    outcomes: list[SourceOutcome] = []
    batch = _WriteBatch(store, now, progress, outcomes)

    def one(source: Source) -> Harvest:
        return harvest(source, states.get(source.id) or SourceState(source_id=source.id), fetcher, cpu, config,
                       now, rng, store)

    harvesters = _Harvesters(one, _threads_for(due, config.settings, processes))
    try:
        for ready in harvesters.run(due, wait=batch.seconds_left):
            for h in ready:
                batch.add(h)  # memory holds one write batch, not the run
            batch.flush_if_due()
        batch.flush()
    finally:
        harvesters.stop()
        batch.flush()
        cpu.close()
        if own_fetcher:
            fetcher.close()
    store.merge_pending_bands()
    written: list[Path] = publish_feeds(config, store) if publish else []
    return RunReport(outcomes=tuple(sorted(outcomes, key=lambda o: o.source_id)),
                     feeds_written=tuple(str(p) for p in written), elapsed=time.monotonic() - started)


class _Harvesters:
    """Harvest threads on plain queues (no Future per source: a 304-only poll is mostly such overhead).

    `run` yields finished harvests in groups: the consumer wakes once per group, not once per source, and
    gets an empty group when `wait()` seconds pass with nothing new, so it can flush on time. Harvests
    carrying records are bounded (HARVESTS_WAITING): when parsing outruns storing, threads wait instead of
    piling records up in memory.
    """

    def __init__(self, one: Callable[[Source], Harvest], threads: int) -> None:
        self._one = one
        self._todo: queue.SimpleQueue[Source | None] = queue.SimpleQueue()
        self._finished: queue.SimpleQueue[Harvest | BaseException] = queue.SimpleQueue()
        self._room = threading.Semaphore(HARVESTS_WAITING)
        self._threads = [threading.Thread(target=self._work, name=f"harvest-{i}", daemon=True)
                         for i in range(threads)]

    def run(self, sources: Sequence[Source], wait: Callable[[], float | None]) -> Iterator[list[Harvest]]:
        for s in sources:
            self._todo.put(s)
        for thread in self._threads:
            self._todo.put(None)
            thread.start()
        remaining = len(sources)
        while remaining:
            try:
                ready = [self._finished.get(timeout=wait())]
            except queue.Empty:
                yield []
                continue
            time.sleep(COLLECT_SECONDS)  # let more finish: one wake-up per group
            with contextlib.suppress(queue.Empty):
                while True:
                    ready.append(self._finished.get_nowait())
            remaining -= len(ready)
            group: list[Harvest] = []
            for done in ready:
                if isinstance(done, BaseException):
                    raise done
                if done.articles:
                    self._room.release()
                group.append(done)
            del ready
            yield group

    def stop(self) -> None:
        """Hand out no more work; let each thread finish its current source."""
        with contextlib.suppress(queue.Empty):
            while True:
                self._todo.get_nowait()
        for _ in self._threads:
            self._todo.put(None)
            self._room.release()  # a thread waiting for room must not wait for a store that stopped taking
        for thread in self._threads:
            if thread.is_alive():
                thread.join()

    def _work(self) -> None:
        while (source := self._todo.get()) is not None:
            try:
                h = self._one(source)
            except BaseException as exc:  # harvest catches Exception; pass anything else to the consumer
                self._finished.put(exc)
                continue
            if h.articles:
                self._room.acquire()
            self._finished.put(h)


def _threads_for(due: Sequence[Source], settings: Settings, processes: int) -> int:
    """No more threads than can be busy: `per_host` for each host, or one per worker process (a thread
    waits while its feed is parsed) if more, up to `workers`. Extra threads would only queue for a host's
    slot, and waking them costs CPU: a 1000-feed farm on one host polls with 2 threads, not 16."""
    hosts = {s.url.split("/", 3)[2].lower() if s.url.count("/") >= 2 else s.url for s in due}  # netloc, cheaply
    return max(1, min(settings.workers, max(settings.per_host * len(hosts), processes)))


def _forget_edited_urls(config: Config, store: SqlStore, states: dict[str, SourceState]) -> dict[str, SourceState]:
    """A url edited in sources.yaml since the last poll drops what the old address taught us (a stored
    redirect, validators, a 410, backoff), in cron runs as in the daemon."""
    for source in config.sources:
        state = states.get(source.id)
        if state is not None and state.configured_url and state.configured_url != source.url:
            states[source.id] = schedule.after_url_change(state)
            store.save_source_state(states[source.id])
            log.info("source=%s event=url-changed old=%s new=%s", source.id, state.configured_url, source.url)
    return states


class _WriteBatch:
    """Harvests waiting for the store: written together, one transaction per batch."""

    def __init__(self, store: SqlStore, now: datetime, progress: ProgressHook | None,
                 outcomes: list[SourceOutcome]) -> None:
        self._store = store
        self._now = now
        self._progress = progress
        self._outcomes = outcomes
        self._pending: list[Harvest] = []
        self._records = 0
        self._opened = 0.0

    def add(self, h: Harvest) -> None:
        if not self._pending:
            self._opened = time.monotonic()
        self._pending.append(h)
        self._records += len(h.articles)
        if self._records >= BATCH_RECORDS or len(self._pending) >= BATCH_SOURCES:
            self.flush()

    def seconds_left(self) -> float | None:
        """How long the open batch may still wait for more harvests (None: no batch is open)."""
        return max(0.0, self._opened + BATCH_SECONDS - time.monotonic()) if self._pending else None

    def flush_if_due(self) -> None:
        if self._pending and time.monotonic() - self._opened >= BATCH_SECONDS:
            self.flush()

    def flush(self) -> None:
        pending, self._pending, self._records = self._pending, [], 0
        if not pending:
            return
        items = [IngestItem(h.source.id, h.articles, h.state, h.source.priority, h.signatures, h.source.url)
                 for h in pending]
        results = self._store.ingest_many(items, self._now)
        for h, result in zip(pending, results, strict=True):
            if isinstance(result, Exception):
                outcome = replace(h.outcome, status="error", new=0, updated=0,
                                  error=f"could not store its {len(h.articles)} record(s): {result} "
                                        "(they will be fetched again at the next run)")
            elif result.new or result.updated:
                outcome = replace(h.outcome, new=result.new, updated=result.updated)
            else:
                outcome = h.outcome  # most sources of most polls: nothing new, no copy to make
            self._outcomes.append(outcome)
            _log(outcome)
            if self._progress:
                self._progress(outcome)


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
