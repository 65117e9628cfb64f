"""The whole shared eval corpus (~4,000 real and test-suite feeds) through parse_feed.

Checks that nothing but ParseError escapes, no file takes 2 s, and that we find the
same number of entries as feedparser for at least 90% of the files it reads as feeds.
"""

from __future__ import annotations

import time
from pathlib import Path

import feedparser
import pytest

from aggregator.errors import ParseError
from aggregator.parse import parse_feed

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "eval-feeds" / "data"


@pytest.mark.slow
def test_every_eval_feed() -> None:
    if not DATA.is_dir():
        pytest.skip(f"../shared not found: no eval corpus at {DATA}")
    files = sorted(p for p in DATA.rglob("*") if p.is_file())
    assert len(files) > 1000, "eval corpus looks truncated"
    slow: list[tuple[str, float]] = []
    crashes: list[str] = []
    compared = matched = 0
    mismatches: list[str] = []
    for path in files:
        body = path.read_bytes()
        start = time.perf_counter()
        count: int | None = None
        try:
            count = len(parse_feed(body, url=f"http://127.0.0.1/{path.name}").entries)
        except ParseError:
            pass
        except Exception as exc:  # anything else is a bug in the parse stage
            crashes.append(f"{path.relative_to(DATA)}: {type(exc).__name__}: {exc}")
        elapsed = time.perf_counter() - start
        if elapsed >= 2:
            slow.append((str(path.relative_to(DATA)), elapsed))
        reference = feedparser.parse(body)
        if reference.get("version") and reference.entries:
            compared += 1
            if count == len(reference.entries):
                matched += 1
            else:
                mismatches.append(f"{path.relative_to(DATA)}: ours={count} feedparser={len(reference.entries)}")
    for line in mismatches:
        print("MISMATCH", line)
    assert not crashes, crashes
    assert not slow, slow
    assert compared > 1000
    share = matched / compared
    print(f"entry counts agree with feedparser on {matched}/{compared} = {share:.1%}")
    assert share >= 0.90
