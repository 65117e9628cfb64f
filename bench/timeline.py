#!/usr/bin/env python3
"""A first poll with a timeline: when each phase happened, which thread spent the CPU, where threads waited
and how busy the two cores were. One command:

    .venv/bin/python bench/timeline.py [--feeds 1000] [--entries 50]

It runs `aggregator run --all` in this process (bench/run.py's farm, server and sources.yaml, an empty
database) with a few functions wrapped:
- phases: the first and last write batch, the last merge of band rows, publishing, with this process's
  resident memory then and its peak so far;
- threads: CPU seconds of each thread of this process, read from /proc while the run goes (the worker
  processes are reported as one figure);
- waits: harvest threads waiting for room in the store's queue, the storing thread waiting for harvests,
  and the time a feed spends in the worker pool (against its CPU there);
- cores: how busy the machine's CPUs were, every half second (200% is both cores).

Why: `bench/where_time_goes.py` says what each stage costs; this says which of them the run waits for. In
session 8 it showed that the storing thread, not the workers, sets the pace.
"""

from __future__ import annotations

import argparse
import os
import queue
import resource
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import run  # noqa: E402  (bench/run.py: the farm, its server and sources.yaml)

from aggregator import pipeline, publish  # noqa: E402
from aggregator.prepare import CpuPool  # noqa: E402
from aggregator.store.sql import SqlStore  # noqa: E402

T0 = time.perf_counter()
MARKS: list[tuple[float, float, str]] = []  # (wall, this process's CPU, label)
WAITS = {"room": 0.0, "harvests": 0.0, "in the pool": 0.0}
FEEDS_PREPARED = [0]
THREAD_CPU: dict[str, float] = {}
BUSY: list[tuple[float, float]] = []


def memory() -> str:
    """This process's resident memory now and at its peak so far (VmRSS, VmHWM)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    now, peak = (int(fields.get(k, "0 kB").split()[0]) // 1024 for k in ("VmRSS", "VmHWM"))
    return f"RSS {now} MB, peak {peak} MB"


def mark(label: str) -> None:
    MARKS.append((time.perf_counter() - T0, time.process_time(), f"{label} ({memory()})"))


def around(owner: Any, name: str, label: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        mark(f"{label} starts")
        try:
            return original(*args, **kwargs)
        finally:
            mark(f"{label} ends")

    setattr(owner, name, timed)


def waited(key: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            WAITS[key] += time.perf_counter() - start

    return timed


class _TimedSemaphore:
    """The harvesters' room in the store's queue, timing each wait for it."""

    def __init__(self, value: int) -> None:
        self._semaphore = threading.Semaphore(value)
        self.acquire = waited("room", self._semaphore.acquire)
        self.release = self._semaphore.release


class _TimedQueue(queue.SimpleQueue[Any]):
    """Finished harvests; the storing thread's blocking gets are timed."""

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        start = time.perf_counter()
        try:
            return super().get(block, timeout)
        finally:
            WAITS["harvests"] += time.perf_counter() - start


def instrument() -> None:
    around(pipeline, "run_once", "the run")
    around(SqlStore, "merge_pending_bands", "the last band merge")
    around(publish, "publish", "publishing")
    flush = pipeline._WriteBatch.flush
    batches = [0]

    def timed_flush(self: Any) -> None:
        writing = bool(self._pending)
        flush(self)
        if writing:
            batches[0] += 1
            mark(f"write batch {batches[0]} stored")

    pipeline._WriteBatch.flush = timed_flush  # type: ignore[method-assign]
    harvesters_init = pipeline._Harvesters.__init__

    def timed_init(self: Any, *args: Any, **kwargs: Any) -> None:
        harvesters_init(self, *args, **kwargs)
        self._room = _TimedSemaphore(pipeline.HARVESTS_WAITING)
        self._finished = _TimedQueue()

    pipeline._Harvesters.__init__ = timed_init  # type: ignore[method-assign]
    in_pool = waited("in the pool", CpuPool.prepare)

    def counted(*args: Any, **kwargs: Any) -> Any:
        FEEDS_PREPARED[0] += 1
        return in_pool(*args, **kwargs)

    CpuPool.prepare = counted  # type: ignore[method-assign]


def sample(stop: threading.Event) -> None:
    """Per-thread CPU of this process and the machine's busy share, every half second."""
    ticks = os.sysconf("SC_CLK_TCK")
    names: dict[int, str] = {}

    def machine() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]

    before = machine()
    while not stop.wait(0.5):
        for thread in threading.enumerate():
            if thread.native_id is not None:  # the harvest threads as one
                name = thread.name
                names[thread.native_id] = name.split("-")[0] if name.startswith("harvest") else name
        for tid in os.listdir("/proc/self/task"):
            try:
                stat = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            THREAD_CPU[f"{tid}:{names.get(int(tid), tid)}"] = (int(stat[11]) + int(stat[12])) / ticks
        now = machine()
        total, idle = now[0] - before[0], now[1] - before[1]
        BUSY.append((time.perf_counter() - T0, 2 * 100 * (1 - idle / max(total, 1))))
        before = now


def report() -> None:
    shown = [m for m in MARKS if not m[2].startswith("write batch") or m[2].startswith("write batch 1 stored")]
    batches = [m for m in MARKS if m[2].startswith("write batch")]
    if batches:
        shown.append(batches[-1])
    for wall, cpu, label in sorted(shown):
        print(f"  {wall:6.2f} s  (CPU here {cpu:6.2f} s)  {label}")
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"  CPU: this process {own.ru_utime + own.ru_stime:.2f} s (system {own.ru_stime:.2f}), "
          f"worker processes {workers.ru_utime + workers.ru_stime:.2f} s")
    by_name: dict[str, float] = {}
    for key, seconds in THREAD_CPU.items():
        name = key.split(":", 1)[1]
        by_name[name] = by_name.get(name, 0.0) + seconds
    print("  threads: " + ", ".join(f"{n} {s:.2f} s" for n, s in sorted(by_name.items(), key=lambda kv: -kv[1])))
    print("  waits: " + ", ".join(f"{k} {v:.2f} s" for k, v in WAITS.items()))
    if FEEDS_PREPARED[0]:
        feeds = FEEDS_PREPARED[0]
        print(f"  a feed spends {WAITS['in the pool'] / feeds * 1000:.1f} ms in the worker pool for "
              f"{(workers.ru_utime + workers.ru_stime) / feeds * 1000:.1f} ms of worker CPU")
    print("  cores busy (200% = both): " + " ".join(f"{b:.0f}" for _, b in BUSY))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_farm_arguments(parser)
    args = parser.parse_args()
    folder = run.WORK / "timeline"
    shutil.rmtree(folder, ignore_errors=True)  # an empty database: a first poll
    farm, _ = run.feed_farm(args, folder)
    server, _ = run.start_server(farm, args.port)
    instrument()
    from aggregator.cli.app import load_commands, tune_garbage_collector

    stop = threading.Event()
    sampler = threading.Thread(target=sample, args=(stop,), name="sampler", daemon=True)
    os.chdir(folder)
    global T0
    T0 = time.perf_counter()
    sampler.start()
    try:
        tune_garbage_collector()  # as `aggregator` does
        load_commands()(["run", "--all", "--no-progress", "-c", "feeds.yaml"], standalone_mode=False)
    except SystemExit as exc:  # the command exits with its status
        if exc.code:
            print(f"aggregator run exited {exc.code}: see the log above")
    finally:
        stop.set()
        sampler.join()
        run.stop_server(farm, server)
    print(f"first poll of {args.feeds} feeds x {args.entries} entries: {time.perf_counter() - T0:.2f} s wall")
    report()


if __name__ == "__main__":
    main()
