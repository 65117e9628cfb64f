#!/usr/bin/env python3
"""First poll, this checkout against an earlier commit, run alternately: the fair way to compare speed here.

    .venv/bin/python bench/ab.py BASE_COMMIT [--pairs 3] [--feeds 1000] [--entries 50]

This machine's speed drifts by about 10% within an hour, so two figures taken at different times do not
say which code is faster. This checks BASE_COMMIT out into a git worktree under bench/work/, then runs
the benchmark's first poll (bench/run.py's farm, server and sources.yaml) with the old and the new code in
turn, `--pairs` times, each on an empty database, and prints the median wall, CPU and peak RSS of each.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402  (bench/run.py: farm, server, sources.yaml)


def worktree(commit: str) -> Path:
    sha = subprocess.run(["git", "rev-parse", "--short", commit], cwd=run.REPO, check=True, capture_output=True,
                         text=True).stdout.strip()
    path = run.WORK / f"ab-{sha}"
    if not path.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), sha], cwd=run.REPO, check=True,
                       capture_output=True)
    if (path / "setup.py").exists() and not list((path / "aggregator").glob("_speedups*.so")):
        # its own C extension, built in place: without it the import system would find this checkout's
        # (through the editable install), whose version check would refuse it and run the pure Python
        subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=path, check=True,
                       capture_output=True)
    return path


def first_poll(code: Path, config: Path) -> dict[str, float]:
    """A first poll (an empty database) with the package in `code`."""
    for stale in ("feeds-state", "feeds-output"):
        shutil.rmtree(config.parent / stale, ignore_errors=True)
    result = run.timed_run(config, "ab", code=code)
    if result["exit"] != 0:
        raise SystemExit(f"the first poll with the code in {code} exited {result['exit']}: see {config.parent}/ab.log")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="the commit to compare with (e.g. HEAD~3)")
    parser.add_argument("--pairs", type=int, default=3)
    run.add_farm_arguments(parser)
    args = parser.parse_args()
    farm, config = run.feed_farm(args, run.WORK / "ab-run")
    codes = {"base": worktree(args.base), "new": run.REPO}
    server, _ = run.start_server(farm, args.port)
    results: dict[str, list[dict[str, float]]] = {"base": [], "new": []}
    try:
        for pair in range(args.pairs):
            for label, code in codes.items():
                r = first_poll(code, config)
                results[label].append(r)
                print(f"pair {pair + 1} {label:4s}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.1f} s CPU, "
                      f"{r['peak_rss_mb']:.0f} MB, {r['new_records']:.0f} records", flush=True)
    finally:
        run.stop_server(farm, server)
    medians = {label: {k: statistics.median(r[k] for r in rs) for k in ("wall_s", "cpu_s", "peak_rss_mb")}
               for label, rs in results.items()}
    b, n = medians["base"], medians["new"]
    print(f"\nmedian of {args.pairs}: base {args.base}: {b['wall_s']:.2f} s wall, {b['cpu_s']:.1f} s CPU, "
          f"{b['peak_rss_mb']:.0f} MB; this checkout: {n['wall_s']:.2f} s wall ({n['wall_s'] / b['wall_s'] - 1:+.1%}), "
          f"{n['cpu_s']:.1f} s CPU ({n['cpu_s'] / b['cpu_s'] - 1:+.1%}), {n['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
