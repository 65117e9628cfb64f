#!/usr/bin/env python3
"""CPU cost of daemon ticks when nothing changes: the price of running `aggregator daemon` all day.

    .venv/bin/python bench/daemon_ticks.py [--feeds 1000] [--entries 50] [--ticks 10]

Reuses the feedfarm that bench/run.py generates (cached under bench/work/) and its server. Runs the
daemon's tick in-process: one first poll that stores everything, then `--ticks` ticks with every source
forced due (each answers 304 Not Modified) and `--ticks` ticks on the real schedule (nothing due), and
reports the CPU seconds (time.process_time: every thread of this process) of each series. Target: the
forced series under 2 s for 1000 feeds. Writes bench/work/daemon_ticks.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import time
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _bench_run() -> ModuleType:
    """bench/run.py is a script, not a package module: load it by path to reuse its farm helpers."""
    spec = importlib.util.spec_from_file_location("bench_run", HERE / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _series(daemon: object, ticks: int, *, force: bool) -> dict[str, object]:
    from aggregator.daemon import Daemon

    assert isinstance(daemon, Daemon)
    cpu: list[float] = []
    walls: list[float] = []
    polled = 0
    statuses: dict[str, int] = {}
    for _ in range(ticks):
        c0, w0 = time.process_time(), time.perf_counter()
        report = daemon.tick(force=force)
        cpu.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
        assert report is not None, "a tick failed: see the log above"
        polled += len(report.outcomes)
        for o in report.outcomes:
            statuses[o.status] = statuses.get(o.status, 0) + 1
    return {"ticks": ticks, "cpu_s": round(sum(cpu), 3), "wall_s": round(sum(walls), 3),
            "cpu_per_tick_s": [round(c, 3) for c in cpu], "sources_polled": polled, "statuses": statuses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--html-sites", type=int, default=20, help="only to reuse bench/run.py's cached farm")
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--port", type=int, default=8089)
    args = parser.parse_args()
    run = _bench_run()
    if not run.FARM_TOOLS.is_dir():
        raise SystemExit(f"../shared/feedfarm not found at {run.FARM_TOOLS}: the benchmark needs it")

    import logging

    from aggregator.config import load_config
    from aggregator.daemon import Daemon
    from aggregator.store import open_store

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    run.WORK.mkdir(exist_ok=True)
    farm = run.generate(args.feeds, args.entries, args.html_sites, args.port)
    work = run.WORK / "daemon-ticks"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    feeds = (farm / "public" / "feeds.txt").read_text().split()
    run.write_config(work / "feeds.yaml", feeds, "feed", "ticks")
    server, server_kind = run.start_server(farm, args.port)
    try:
        config = load_config(work / "feeds.yaml")
        store = open_store(config.settings.database, config.settings)
        daemon = Daemon(work / "feeds.yaml", config, store)
        try:
            first = _series(daemon, 1, force=True)
            forced = _series(daemon, args.ticks, force=True)
            scheduled = _series(daemon, args.ticks, force=False)
        finally:
            daemon.close()
    finally:
        run.stop_server(farm, server)
    results = {"farm": farm.name, "server": server_kind, "feeds": len(feeds), "first_poll": first,
               "forced_ticks": forced, "scheduled_ticks": scheduled}
    (run.WORK / "daemon_ticks.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(f"\nfirst poll: {first['cpu_s']} s CPU, {first['wall_s']} s wall")
    print(f"{args.ticks} forced ticks (every feed asked, all 304): {forced['cpu_s']} s CPU in total "
          f"(target < 2 s), {forced['wall_s']} s wall")
    print(f"{args.ticks} scheduled ticks (nothing due): {scheduled['cpu_s']} s CPU in total")


if __name__ == "__main__":
    main()
