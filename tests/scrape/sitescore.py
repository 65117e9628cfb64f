"""Scores scraped entries against ../shared/exhibition-sites/truth.jsonl (crawl coverage, exact titles,
dates on the right day, body first/last words), the way that data set's README suggests."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from aggregator.records import RawEntry
from aggregator.scrape.article import parse_html
from aggregator.scrape.body import body_text


@dataclass
class Figures:
    pages: int = 0
    found: int = 0
    titles: int = 0
    dates: int = 0
    bodies: int = 0
    misses: list[str] = field(default_factory=list)

    def rate(self, name: str) -> float:
        return getattr(self, name) / self.pages if self.pages else 0.0

    def line(self, label: str) -> str:
        return (f"{label}: pages={self.pages} found={self.rate('found'):.3f} titles={self.rate('titles'):.3f} "
                f"dates={self.rate('dates'):.3f} bodies={self.rate('bodies'):.3f}")


def load_truth(root: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (root / "truth.jsonl").read_text("utf-8").splitlines() if line.strip()]


def _path(url: str) -> str:
    path = urlsplit(url).path.lstrip("/")
    return path + "index.html" if path.endswith("/") else path


def _fold(text: str, zh: bool) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(str.maketrans("‘’“”", "''\"\"")).casefold()
    return re.sub(r"\s+", "" if zh else " ", text).strip()


def _day(value: datetime, truth: str, tz: str) -> bool:
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    if "T" in truth:
        want = datetime.fromisoformat(truth)
        return value.astimezone(want.tzinfo).date() == want.date()
    return value.astimezone(ZoneInfo(tz)).date() == date.fromisoformat(truth)


def score(truth: list[dict[str, object]], entries: dict[str, list[RawEntry]], zones: dict[str, str]) -> Figures:
    """`entries` by site id; only truth rows listed in a list page (`in_list`) count."""
    figures = Figures()
    by_path = {site: {_path(e.link or ""): e for e in found} for site, found in entries.items()}
    for row in truth:
        site = str(row["site"])
        if site not in entries or not row.get("in_list"):
            continue
        figures.pages += 1
        entry = by_path[site].get(str(row["url"]))
        if entry is None:
            figures.misses.append(f"not found: {row['url']}")
            continue
        figures.found += 1
        if " ".join(entry.title.split()) == " ".join(str(row["title"]).split()):
            figures.titles += 1
        else:
            figures.misses.append(f"title {entry.title!r} != {row['title']!r} ({row['url']})")
        if entry.published and _day(entry.published, str(row["published"]), zones[site]):
            figures.dates += 1
        else:
            figures.misses.append(f"date {entry.published} ({entry.date_source}) != {row['published']} ({row['url']})")
        zh = row.get("language") == "zh"
        text = _fold(body_text(parse_html(f"<div>{entry.content}</div>")).replace("\n", " "), zh)
        first, last = _fold(str(row["body_first_words"]), zh), _fold(str(row["body_last_words"]), zh)
        if text.startswith(first) and text.endswith(last):
            figures.bodies += 1
        else:
            figures.misses.append(f"body [{text[:60]} ... {text[-60:]}] vs [{first[:40]} ... {last[-40:]}] "
                                  f"({row['url']})")
    return figures


def per_site(truth: list[dict[str, object]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in truth:
        counts[str(row["site"])] += 1
    return dict(counts)
