"""`aggregator extract` (aggregator.extract): JSON lines in, one line out per input, never stopping."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aggregator.extract import extract, run

REPO = Path(__file__).resolve().parents[1]
SCORER = REPO / ".." / "shared" / "eval" / "extraction" / "score.py"
PAGE = """<html lang="en"><head><title>Chip fair opens - Example News</title>
<meta property="article:published_time" content="2024-05-02T09:30:00+02:00"></head><body>
<nav><a href="/">Home</a></nav><div class="sidebar">Most read: Other story 2024-04-01</div>
<article><h1>Chip fair opens in Munich</h1><p class="byline">By Anna Weber | Example News</p>
<p>The chip fair opened in Munich on Thursday with more than a thousand exhibitors from forty countries, the
organisers said, and a record attendance is expected over the four days of the show.</p>
<p>Equipment makers showed new lithography tools, while start-ups presented designs for edge AI chips and
power electronics for electric cars and charging stations across Europe.</p>
<p>Editor: Max Mustermann</p></article><footer>Copyright 2024 Example News</footer></body></html>"""


def test_extract_fields() -> None:
    out = extract(PAGE, "https://news.example/2024/05/02/chip-fair")
    assert out["title"] == "Chip fair opens in Munich"
    assert out["published"] == out["date"] == "2024-05-02T09:30:00+02:00"
    assert out["language"] == "en" and out["author"] == "Anna Weber"
    body = out["body"]
    assert body.startswith("The chip fair opened in Munich") and body.endswith("across Europe.")
    assert len(body.split("\n")) == 2 and "Editor" not in body and "Most read" not in body


def test_utc_stamp_across_midnight_takes_the_url_day() -> None:
    page = PAGE.replace("2024-05-02T09:30:00+02:00", "2024-05-03T01:10:00+00:00")
    out = extract(page, "https://news.example/2024/05/02/chip-fair")
    assert out["published"] == "2024-05-03T01:10:00+00:00" and out["date"] == "2024-05-02"


def test_utc_stamp_is_dated_in_the_offset_the_page_shows() -> None:
    page = PAGE.replace("2024-05-02T09:30:00+02:00", "2024-05-03T01:10:00+00:00").replace(
        '<p class="byline">', '<p class="byline"><time datetime="2024-05-02T21:10:00-04:00">May 2</time> ')
    out = extract(page, "https://news.example/chip-fair")
    assert out["published"] == out["date"] == "2024-05-02T21:10:00-04:00"


def test_morning_utc_stamp_keeps_its_day_against_an_earlier_url_day() -> None:
    page = PAGE.replace("2024-05-02T09:30:00+02:00", "2024-05-03T10:04:00+00:00")
    out = extract(page, "https://news.example/2024/05/02/chip-fair")
    assert out["published"] == out["date"] == "2024-05-03T10:04:00+00:00"


def test_stream_survives_bad_lines() -> None:
    lines = [json.dumps({"id": 1, "url": "https://news.example/a", "html": PAGE}), "{not json",
             json.dumps({"id": 3, "url": "https://news.example/c"}), json.dumps({"url": "u", "html": "<<<>>>\x00"}),
             json.dumps({"id": 5, "url": "https://news.example/e", "html": PAGE})]
    stdout = io.StringIO()
    failed = run(io.StringIO("\n".join(lines) + "\n"), stdout)
    rows = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert len(rows) == 5 and failed == 2
    assert rows[0]["id"] == 1 and rows[0]["title"] == "Chip fair opens in Munich"
    assert rows[1]["title"] is None and rows[1]["body"] is None and "error" in rows[1]
    assert rows[2]["id"] == 3 and rows[2]["date"] is None
    assert rows[4]["id"] == 5 and rows[4]["body"]


def test_module_runs_as_a_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "aggregator.extract"], cwd=REPO, capture_output=True, timeout=60,
                          input=json.dumps({"url": "https://news.example/a", "html": PAGE}) + "\n", text=True)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["title"] == "Chip fair opens in Munich"


@pytest.mark.slow
def test_scorer_sample_stays_sane() -> None:
    """The shared extraction scorer on 20 pages per set (the full figures are in docs/scraping.md)."""
    if not SCORER.is_file():
        pytest.skip(f"../shared not found: {SCORER.resolve()} is the extraction scorer in CI")
    proc = subprocess.run([sys.executable, str(SCORER), "--extractor-cmd", f"{sys.executable} -m aggregator.extract",
                           "--limit", "20"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    summary = proc.stdout.strip().splitlines()[-1]
    print(summary)
    figures = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", summary)}
    assert figures["errors"] == 0 and figures["pages"] == 40
    assert figures["body_f1"] >= 0.90 and figures["date_acc"] >= 0.80
