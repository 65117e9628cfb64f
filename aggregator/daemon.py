"""`aggregator daemon`: APScheduler 3 ticks `run_once` over the same store as cron's `aggregator run`.

What is due lives in the store, so a restart (or a switch between cron and daemon) loses nothing.
Each tick re-reads sources.yaml when its mtime/size and then its hash changed: a valid edit applies at
once, an invalid one is logged with the messages of `aggregator check` and the last good one keeps
running. On SIGTERM/SIGINT no new tick, fetch or write starts; an ingest or publish under way finishes
(each commits on its own), fetches still in flight after a few seconds are abandoned (their sources
stay due), and the process exits 0.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

from aggregator import schedule
from aggregator.errors import AggregatorError, ConfigError
from aggregator.records import Config, FetchResult, RunReport, Settings

if TYPE_CHECKING:  # the store pulls in the SQL backends; the watcher and the gate do not need them
    from aggregator.store import SqlStore

log = logging.getLogger("aggregator.daemon")

WRITE_GRACE = 2.5  # seconds to let an ingest or publish under way commit after a stop signal
FETCH_GRACE = 1.0  # then seconds to let in-flight fetches end before they are abandoned
RESTART_ONLY = ("database", "output_dir")  # settings a running daemon cannot switch


class Stopping(AggregatorError):
    """The daemon is shutting down: no new write may start."""


def kv_quote(value: str) -> str:
    """A value for our key=value log lines that `shlex.split` (and --log-format json) reads back."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------- hot reload


@dataclass(frozen=True, slots=True)
class _Stamp:
    mtime_ns: int
    size: int


class ConfigWatcher:
    """Holds the last good configuration and swaps it when sources.yaml changes validly."""

    def __init__(self, path: Path, config: Config) -> None:
        self.path = path
        self.config = config
        self._stamp = self._stat()
        self._digest = self._hash()
        self._missing = False

    def _stat(self) -> _Stamp | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return _Stamp(st.st_mtime_ns, st.st_size)

    def _hash(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def poll(self) -> tuple[Config, bool]:
        """The configuration to use for this tick, and whether it just changed."""
        stamp = self._stat()
        if stamp is None:
            if not self._missing:
                log.warning("event=reload result=missing file=%s message=%s", self.path,
                            kv_quote("the file is gone; the last good configuration keeps running"))
            self._missing = True
            return self.config, False
        self._missing = False
        if stamp == self._stamp:
            return self.config, False
        self._stamp = stamp
        digest = self._hash()
        if digest is None or digest == self._digest:
            return self.config, False  # touched but not edited (or an editor's save in progress)
        self._digest = digest
        return self._load()

    def _load(self) -> tuple[Config, bool]:
        from aggregator.config import load_config

        try:
            new = load_config(self.path)
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("event=reload result=invalid problem=%s", kv_quote(str(problem)))
            log.error("event=reload result=kept-last-good file=%s problems=%d message=%s", self.path,
                      len(exc.problems), kv_quote("fix the file (see `aggregator check`); the last good "
                                                  "configuration keeps running"))
            return self.config, False
        new = self._keep_restart_only(new)
        old_ids = {s.id for s in self.config.sources}
        new_ids = {s.id for s in new.sources}
        log.info("event=reload result=ok file=%s sources=%d added=%d removed=%d", self.path, len(new.sources),
                 len(new_ids - old_ids), len(old_ids - new_ids))
        self.config = new
        return new, True

    def _keep_restart_only(self, new: Config) -> Config:
        old = self.config.settings
        changed = [name for name in RESTART_ONLY if getattr(new.settings, name) != getattr(old, name)]
        if not changed:
            return new
        log.warning("event=reload setting=%s message=%s", ",".join(changed),
                    kv_quote("takes effect only after a restart of the daemon; keeping the running value"))
        kept = {name: getattr(old, name) for name in RESTART_ONLY}
        return replace(new, settings=replace(new.settings, **kept))


def apply_config_changes(old: Config, new: Config, store: SqlStore, now: datetime) -> list[str]:
    """Make an edit to sources.yaml count now, not after the old schedule: a source whose url changed
    forgets the old address (redirect, validators, 410, backoff) and is due at once; one whose interval got
    shorter is due no later than now + the new interval. Returns the source ids changed."""
    changed = []
    states = store.source_states()
    for source in new.sources:
        before = old.source(source.id)
        state = states.get(source.id)
        if before is None or state is None:
            continue
        if source.url != before.url:
            store.save_source_state(schedule.after_url_change(state))
            changed.append(source.id)
            continue
        if state.next_due is None or state.consecutive_failures or state.retry_after_until:
            continue  # a backoff or a server's Retry-After is not ours to shorten
        interval = schedule.base_interval(source, new.settings)
        if interval >= schedule.base_interval(before, old.settings):
            continue
        latest = now + timedelta(seconds=interval)
        if state.next_due > latest:
            store.save_source_state(replace(state, next_due=latest, interval=interval))
            changed.append(source.id)
    return changed


# --------------------------------------------------------------------------- stopping cleanly


class WriteGate:
    """Every write of a tick passes here; once closed (by a stop), none may start again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stopping = threading.Event()

    @contextmanager
    def write(self) -> Iterator[None]:
        if self.stopping.is_set():
            raise Stopping("the daemon is stopping")
        with self._lock:
            if self.stopping.is_set():
                raise Stopping("the daemon is stopping")
            yield

    def close(self, timeout: float) -> bool:
        """Refuse new writes and wait for the one under way; True when none is left running."""
        self.stopping.set()
        return self._lock.acquire(timeout=timeout)  # held from now on: nothing writes again


class GatedStore:
    """The store as `run_once` sees it in the daemon: each ingest goes through the gate."""

    def __init__(self, store: SqlStore, gate: WriteGate) -> None:
        self._store = store
        self._gate = gate

    def ingest(self, *args: Any, **kwargs: Any) -> Any:
        with self._gate.write():
            return self._store.ingest(*args, **kwargs)

    def ingest_many(self, *args: Any, **kwargs: Any) -> Any:
        with self._gate.write():
            return self._store.ingest_many(*args, **kwargs)

    def save_source_state(self, *args: Any, **kwargs: Any) -> Any:
        with self._gate.write():
            return self._store.save_source_state(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _stoppable_fetcher(settings: Settings, stopping: threading.Event) -> Any:
    """A Fetcher that answers at once, without network, once the daemon is stopping."""
    from aggregator.fetch import Fetcher

    class StoppableFetcher(Fetcher):
        def get(self, url: str, *args: Any, **kwargs: Any) -> FetchResult:
            if stopping.is_set():
                return FetchResult(url=url, final_url=url, error="not fetched: the daemon is stopping",
                                   error_kind="connection")
            return super().get(url, *args, **kwargs)

    return StoppableFetcher(settings)


# --------------------------------------------------------------------------- the tick


class Daemon:
    """The state a daemon keeps between ticks; `tick()` is the unit the scheduler (and the bench) runs."""

    def __init__(self, config_path: Path, config: Config, store: SqlStore, *,
                 clock: Callable[[], datetime] | None = None, rng: random.Random | None = None) -> None:
        self.watcher = ConfigWatcher(config_path, config)
        self.store = store
        self.gate = WriteGate()
        self.gated = cast("SqlStore", GatedStore(store, self.gate))
        self.clock = clock or (lambda: datetime.now(UTC))
        self.rng = rng or random.Random()
        self.idle = threading.Event()
        self.idle.set()
        self._fetcher: Any = None
        self._fetcher_settings: Settings | None = None
        self.ticks = 0

    @property
    def config(self) -> Config:
        return self.watcher.config

    def _fetcher_for(self, settings: Settings) -> Any:
        """One fetcher (and its keep-alive connections) across ticks, renewed when settings change."""
        if self._fetcher is None or settings != self._fetcher_settings:
            if self._fetcher is not None:
                self._fetcher.close()
            self._fetcher = _stoppable_fetcher(settings, self.gate.stopping)
            self._fetcher_settings = settings
        return self._fetcher

    def tick(self, *, force: bool = False, only: Sequence[str] = ()) -> RunReport | None:
        """Reload sources.yaml if edited, poll what is due, publish what changed; never raises."""
        if self.gate.stopping.is_set():
            return None
        self.idle.clear()
        try:
            return self._tick(force=force, only=only)
        except Stopping:
            log.info("event=tick result=abandoned message=%s",
                     kv_quote("stopping: sources not yet stored stay due for the next start"))
            return None
        except Exception:  # a broken database or a bug: log it and try again next tick
            log.exception("event=tick result=failed")
            return None
        finally:
            self.idle.set()

    def _tick(self, *, force: bool, only: Sequence[str]) -> RunReport:
        from aggregator.pipeline import run_once
        from aggregator.publish import publish
        from aggregator.status_feed import publish_status_feed

        started = time.monotonic()
        old = self.config
        config, changed = self.watcher.poll()
        now = self.clock()
        if changed:
            with self.gate.write():
                moved = apply_config_changes(old, config, self.store, now)
            if moved:
                log.info("event=reload rescheduled=%s", ",".join(moved))
        report = run_once(config, self.gated, now=now, force=force, only=only,
                          fetcher=self._fetcher_for(config.settings), publish=False, rng=self.rng)
        with self.gate.write():
            written = publish(config, self.store)
            if publish_status_feed(config, self.store.source_states(), now):
                written.append(config.settings.output_dir / "_status.atom")
        self.ticks += 1
        report = replace(report, feeds_written=tuple(str(p) for p in written),
                         elapsed=time.monotonic() - started)
        _log_tick(report)
        return report

    def stop(self) -> bool:
        """Refuse new work, let a write under way commit, wait briefly for fetches; True when idle."""
        if not self.gate.close(WRITE_GRACE):
            log.warning("event=stop message=%s", kv_quote(f"a write did not finish in {WRITE_GRACE}s"))
        return self.idle.wait(FETCH_GRACE)

    def close(self) -> None:
        if self._fetcher is not None and self.idle.is_set():
            self._fetcher.close()
        self.store.close()


def _log_tick(report: RunReport) -> None:
    if not report.outcomes and not report.feeds_written:
        log.debug("event=tick due=0 elapsed=%.2fs", report.elapsed)
        return
    counts: dict[str, int] = {}
    for o in report.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    parts = " ".join(f"{k.replace('-', '_')}={v}" for k, v in sorted(counts.items()))
    log.info("event=tick due=%d %s new=%d files_written=%d elapsed=%.2fs", len(report.outcomes), parts,
             sum(o.new for o in report.outcomes), len(report.feeds_written), report.elapsed)


# --------------------------------------------------------------------------- running it


def _install_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("event=signal signal=%s message=%s", signal.Signals(signum).name,
                 kv_quote("stopping: no new work; in-flight work finishes or is abandoned"))
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_daemon(config_path: Path, config: Config, store: SqlStore, *, tick_seconds: float = 60.0,
               serve: tuple[str, int] | None = None, stop: threading.Event | None = None,
               hard_exit: bool = True) -> int:
    """Tick until SIGTERM/SIGINT (or `stop` is set); the caller holds the run lock. Returns the exit code.

    May end the process itself (`os._exit(0)`) when fetches are still in flight after the grace
    period: by then nothing writes any more, so abandoning them leaves the store and output/ whole.
    """
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        _install_signals(stop)
    daemon = Daemon(config_path, config, store)
    server = None
    if serve is not None:
        from aggregator.serve import make_server, start_in_thread

        server = make_server(config.settings.output_dir, bind=serve[0], port=serve[1])
        start_in_thread(server)
        log.info("event=serve url=http://%s:%d/ root=%s", serve[0], server.server_address[1],
                 config.settings.output_dir)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: max instances" is expected
    scheduler = BackgroundScheduler(timezone=UTC, executors={"default": {"type": "threadpool", "max_workers": 1}},
                                    job_defaults={"coalesce": True, "max_instances": 1,
                                                  "misfire_grace_time": None})
    scheduler.add_job(daemon.tick, IntervalTrigger(seconds=tick_seconds, timezone=UTC), id="tick",
                      next_run_time=datetime.now(UTC))
    scheduler.start()
    log.info("event=start pid=%d config=%s sources=%d tick=%ss", os.getpid(), config_path,
             len(config.sources), f"{tick_seconds:g}")
    try:
        while not stop.wait(0.2):
            pass
    finally:
        scheduler.shutdown(wait=False)
        if server is not None:
            server.shutdown()
            server.server_close()
        idle = daemon.stop()
        daemon.close()
        if not idle and hard_exit:
            log.info("event=stop result=abandoned-fetches message=%s",
                     kv_quote("fetches still in flight were abandoned; their sources stay due"))
            logging.shutdown()
            os._exit(0)  # worker threads blocked in network reads would delay a normal exit
        log.info("event=stop result=clean ticks=%d", daemon.ticks)
    return 0
