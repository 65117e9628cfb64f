"""Parse stage: feed bytes -> ParsedFeed of RawEntry.

Strict lxml first (fast), lxml in recovery mode when the XML is broken, and
feedparser when recovery loses entries; JSON Feed is read directly.
"""

from __future__ import annotations

import re
from dataclasses import replace

from lxml import etree

from aggregator.errors import ParseError
from aggregator.parse.dates import parse_date
from aggregator.parse.detect import sniff
from aggregator.parse.encoding import prepare_xml
from aggregator.parse.fallback import parse_with_feedparser
from aggregator.parse.jsonfeed import parse_json
from aggregator.parse.xmlfeeds import parse_xml
from aggregator.records import ParsedFeed

__all__ = ["parse_date", "parse_feed"]

_ROOT_START = re.compile(rb"<(?:[\w-]+:)?(?:rss|feed|RDF|channel)[\s>]")


def _json(body: bytes, url: str, content_type: str | None, charset: str | None) -> ParsedFeed:
    prepared = prepare_xml(body, None, charset)  # same codec choice; JSON is UTF-8 in practice
    return parse_json(prepared.data.decode("utf-8"), url=url)


def _with_warnings(feed: ParsedFeed, warnings: tuple[str, ...]) -> ParsedFeed:
    return replace(feed, warnings=(*warnings, *feed.warnings)) if warnings else feed


def _xml(body: bytes, url: str, content_type: str | None, charset: str | None) -> ParsedFeed:
    prepared = prepare_xml(body, content_type, charset)
    data = prepared.data
    if not data.startswith(b"<"):
        m = _ROOT_START.search(data)
        data = data[m.start():] if m else data
    try:
        feed, _ = parse_xml(data, url=url, recover=False)
        return _with_warnings(feed, prepared.warnings)
    except etree.XMLSyntaxError as exc:
        problem = str(exc)
        if "Excessive depth" in problem or "Huge input" in problem or "huge" in problem.lower():
            raise ParseError(f"document nested too deeply or too large to be a feed ({problem})") from exc
    recovered: ParsedFeed | None = None
    not_feed: ParseError | None = None
    try:
        recovered, _ = parse_xml(data, url=url, recover=True)
    except ParseError as exc:
        not_feed = exc
    except etree.XMLSyntaxError:
        recovered = None
    # feedparser's loose parser usually keeps more of a broken feed than libxml2's recovery does
    tolerant = parse_with_feedparser(data, url=url, content_type=None, charset=None)
    if tolerant is not None and (recovered is None or len(tolerant.entries) >= len(recovered.entries)):
        return _with_warnings(tolerant, prepared.warnings)
    if not_feed is not None:
        raise not_feed
    if recovered is None:
        raise ParseError(f"XML too broken to read ({problem}) — validate the feed (e.g. validator.w3.org/feed)")
    return _with_warnings(recovered, (*prepared.warnings, f"recovered from malformed XML: {problem}"))


def parse_feed(body: bytes, *, url: str, content_type: str | None = None, charset: str | None = None) -> ParsedFeed:
    """Parse RSS, Atom or JSON Feed bytes; ParseError says what the bytes look like otherwise."""
    kind = sniff(body, content_type)
    try:
        if kind == "json":
            return _json(body, url, content_type, charset)
        return _xml(body, url, content_type, charset)
    except RecursionError as exc:
        raise ParseError("document nested too deeply to be a feed") from exc
