#!/usr/bin/env python3
"""The poll benchmark: one command, real CLI, real HTTP over loopback.

    .venv/bin/python bench/run.py [--feeds 1000] [--entries 50] [--html-sites 20]

Generates a ../shared/feedfarm farm (cached under bench/work/), serves it with nginx when installed
(else the farm's serve.py), writes a sources.yaml listing every feed and HTML site, and measures
`aggregator run --all` as a subprocess: first poll (wall, CPU, peak RSS, entries/s), second poll with
nothing changed, and a poll after one `--mutate` tick. The HTML sites are scraped in their own pass so
pages/s is not mixed with feed figures. Prints a table and writes bench/work/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = (REPO / ".." / "shared").resolve()
FARM_TOOLS = SHARED / "feedfarm"
WORK = HERE / "work"

TOPICS = {
    "iot": ["IoT", "internet of things", "smart home", "sensor network", "物联网"],
    "ai": ["AI", "artificial intelligence", "machine learning", "deep learning", "neural network", "人工智能"],
    "bigdata": ["big data", "data lake", "analytics platform", "data warehouse", "大数据"],
    "semiconductors": ["semiconductor", "chip", "chipmaker", "wafer", "foundry", "芯片", "半导体"],
    "robotics": ["robot", "robotics", "cobot", "机器人"],
    "5g": ["5G"],
    "newenergy": ["new energy", "solar", "battery", "hydrogen", "electric vehicle", "新能源", "光伏"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def generate(feeds: int, entries: int, sites: int, port: int) -> Path:
    farm = WORK / f"farm-{feeds}x{entries}-{sites}-p{port}"
    if not (farm / "manifest.jsonl").exists():
        print(f"generating {farm.name} ...", flush=True)
        subprocess.run([sys.executable, str(FARM_TOOLS / "generate.py"), "--out", str(farm), "--feeds", str(feeds),
                        "--entries", str(entries), "--html-sites", str(sites), "--seed", "1",
                        "--base-url", f"http://127.0.0.1:{port}", "--force"], check=True)
    return farm


def start_server(farm: Path, port: int) -> tuple[subprocess.Popen[bytes] | None, str]:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx:
        for sub in ("logs", "tmp"):
            (farm / sub).mkdir(exist_ok=True)
        subprocess.run([nginx, "-p", str(farm), "-c", "nginx.conf", "-e", "stderr"], check=True)
        server, kind = None, "nginx"
    else:
        server = subprocess.Popen([sys.executable, str(FARM_TOOLS / "serve.py"), str(farm), "--port", str(port),
                                   "--quiet", "--max-seconds", "3600"])
        kind = "serve.py"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/feeds.txt", timeout=1).read()
            return server, kind
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the farm server did not start")


def stop_server(farm: Path, server: subprocess.Popen[bytes] | None) -> None:
    if server is not None:
        server.terminate()
        server.wait(10)
        return
    pid_file = farm / "nginx.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        time.sleep(0.3)


def write_config(path: Path, urls: list[str], kind: str, name: str) -> None:
    lines = ["settings:", f"  output_dir: {name}-output", f"  database: sqlite:///{name}-state/agg.db",
             "  base_url: http://127.0.0.1/feeds/", "  workers: 16", "  per_host: 2", "topics:"]
    for topic, words in TOPICS.items():
        lines += [f"  - id: {topic}", f"    title: {topic}", f"    include: {json.dumps(words, ensure_ascii=False)}"]
    lines.append("sources:")
    for i, url in enumerate(urls):
        lines += [f"  - id: {kind}-{i:04d}", f"    url: {url}", f"    kind: {kind}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def add_farm_arguments(parser: argparse.ArgumentParser) -> None:
    """--feeds, --entries and --port, as the benchmarks built on this farm take them."""
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--port", type=int, default=8089)


def feed_farm(args: argparse.Namespace, folder: Path) -> tuple[Path, Path]:
    """The farm `args` ask for (generated once) and a sources.yaml of its feeds in `folder`."""
    if not FARM_TOOLS.is_dir():
        raise SystemExit(f"../shared/feedfarm not found at {FARM_TOOLS}: the benchmark needs it")
    WORK.mkdir(exist_ok=True)
    farm = generate(args.feeds, args.entries, 20, args.port)
    folder.mkdir(exist_ok=True)
    config = folder / "feeds.yaml"
    write_config(config, (farm / "public" / "feeds.txt").read_text().split(), "feed", "feeds")
    return farm, config


# Runs one command and reports the rusage of its process tree. Each run is measured from a process of its
# own: RUSAGE_CHILDREN's peak RSS is the largest of every child so far, so measured from here the second
# poll would report the first poll's peak.
_MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
with open(sys.argv[1], "w", encoding="utf-8") as log:
    code = subprocess.run(sys.argv[2:], stderr=log, stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - started
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": use.ru_utime + use.ru_stime, "rss": use.ru_maxrss / 1024, "exit": code}))
"""


def timed_run(config: Path, label: str, code: Path = REPO) -> dict[str, float]:
    """`aggregator run --all` over `config` with the package found in `code` (this checkout by default)."""
    log_path = config.parent / f"{label}.log"
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(log_path),
         sys.executable, "-m", "aggregator", "run", "--all", "--no-progress", "-c", str(config)],
        cwd=config.parent, capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(code)},
    )
    usage = json.loads(proc.stdout)
    log = log_path.read_text(encoding="utf-8")
    new = sum(int(n) for n in re.findall(r" new=(\d+)", log))
    pages = sum(int(n) for n in re.findall(r" pages=(\d+)", log))
    errors = len(re.findall(r"status=(?:error|broken)", log))
    return {
        "wall_s": round(usage["wall"], 2),
        "cpu_s": round(usage["cpu"], 2),
        "peak_rss_mb": round(usage["rss"], 1),
        "new_records": new,
        "pages": pages,
        "errors": errors,
        "exit": usage["exit"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--html-sites", type=int, default=20)
    parser.add_argument("--port", type=int, default=8089)
    args = parser.parse_args()
    if not FARM_TOOLS.is_dir():
        raise SystemExit(f"../shared/feedfarm not found at {FARM_TOOLS}: the benchmark needs it")
    WORK.mkdir(exist_ok=True)
    farm = generate(args.feeds, args.entries, args.html_sites, args.port)
    run_dir = WORK / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir()
    public = farm / "public"
    feeds = (public / "feeds.txt").read_text().split()
    sites = (public / "sites.txt").read_text().split() if (public / "sites.txt").exists() else []
    write_config(run_dir / "feeds.yaml", feeds, "feed", "feeds")
    write_config(run_dir / "sites.yaml", sites, "html", "sites")
    server, server_kind = start_server(farm, args.port)
    results: dict[str, object] = {"farm": farm.name, "server": server_kind, "feeds": len(feeds), "sites": len(sites)}
    try:
        results["first_poll"] = first = timed_run(run_dir / "feeds.yaml", "first")
        results["second_poll"] = timed_run(run_dir / "feeds.yaml", "second")
        first["entries_per_s"] = round(first["new_records"] / first["wall_s"], 1) if first["wall_s"] else 0
        if sites:
            scrape = timed_run(run_dir / "sites.yaml", "sites")
            scrape["pages_per_s"] = round(scrape["pages"] / scrape["wall_s"], 1) if scrape["wall_s"] else 0
            results["html_sites"] = scrape
    finally:
        stop_server(farm, server)
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    f, s = results["first_poll"], results["second_poll"]
    assert isinstance(f, dict) and isinstance(s, dict)
    print(f"\nfirst poll: {f['wall_s']} s wall (target <= 10), {f['cpu_s']} s CPU, {f['new_records']} records, "
          f"{f['entries_per_s']} entries/s, peak RSS {f['peak_rss_mb']} MB (target <= 300)")
    print(f"second poll: {s['wall_s']} s wall (target <= 1), peak RSS {s['peak_rss_mb']} MB")
    if "html_sites" in results:
        h = results["html_sites"]
        assert isinstance(h, dict)
        print(f"html sites: {h['pages']} pages in {h['wall_s']} s = {h['pages_per_s']} pages/s, "
              f"{h['new_records']} records")


if __name__ == "__main__":
    main()
