"""`aggregator extract`: the pipeline's automatic article extractor over JSON lines.

stdin:  {"url": ..., "html": ...[, "id": ...]} per line
stdout: {"id"?, "url", "title", "published", "date", "author", "language", "body"} per input line, same order;
        a page that cannot be read gives a line of nulls (the stream never stops).
"""

from __future__ import annotations

import io
import json
import sys
from typing import IO, Any

from aggregator.scrape.article import extract_article
from aggregator.scrape.dates import publisher_day

FIELDS = ("url", "title", "published", "date", "author", "language", "body")


def extract(html: str, url: str = "") -> dict[str, Any]:
    """Fields of one page, as `aggregator extract` prints them.

    `published` is the timestamp as found (ISO 8601, offset kept, naive when the page gave none; a UTC stamp
    is shown in the site's own offset when the page reveals it, see dates.localise); `date` is the same
    string, or just the publisher's calendar day when a UTC stamp crosses midnight (see dates.publisher_day)."""
    fields = extract_article(html, url or "http://localhost/")
    published = fields.published.value.isoformat() if fields.published else None
    date = published
    if fields.published and published and publisher_day(fields.published, url) != published[:10]:
        date = publisher_day(fields.published, url)
    return {
        "url": url or None, "title": fields.title or None, "published": published, "date": date,
        "author": fields.author, "language": fields.language, "body": fields.body_text or None,
        "date_source": fields.published.source if fields.published else None,
    }


def _empty(url: Any, error: str) -> dict[str, Any]:
    return {**dict.fromkeys(FIELDS), "url": url if isinstance(url, str) else None, "error": error}


def run(stdin: IO[str], stdout: IO[str]) -> int:
    """Process every line; returns how many lines failed."""
    failed = 0
    for line in stdin:
        if not line.strip():
            continue
        record: Any = None
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("html"), str):
                raise ValueError("expected an object with an 'html' string")
            out = extract(record["html"], str(record.get("url") or ""))
        except Exception as exc:  # one bad page must never stop the stream
            failed += 1
            url = record.get("url") if isinstance(record, dict) else None
            out = _empty(url, f"{type(exc).__name__}: {exc}"[:300])
        if isinstance(record, dict) and "id" in record:
            out = {"id": record["id"], **out}
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
    return failed


def main() -> None:
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", line_buffering=False)
    run(stdin, stdout)
    stdout.flush()


if __name__ == "__main__":
    main()
