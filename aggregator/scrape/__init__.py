"""Scraping HTML news sites that have no feed: list pages -> new article pages -> RawEntry records.

    result = scrape_source(source, fetcher, settings, is_known=store_lookup, now=now)
    result.entries, result.broken, result.warnings

Transport failures of the first list page raise SourceError (the source is unreachable); a page that
no longer looks like the news list (no items, a login page, another host, undecodable text) is
`broken`, with a message naming the selector or rule to fix.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from aggregator.errors import SourceError
from aggregator.records import FetchResult, RawEntry, ScrapeRules, Settings, Source, Validators
from aggregator.scrape import health
from aggregator.scrape.article import ArticleFields, base_of, extract_article, parse_html
from aggregator.scrape.dates import FoundDate
from aggregator.scrape.encoding import DecodeProblem, decode_html
from aggregator.scrape.listing import HARD_MAX_PAGES, ListItem, clean_url, find_items, next_pages, same_site

__all__ = ["ACCEPT_HTML", "PageFetcher", "ScrapeResult", "canonical", "scrape_source"]

ACCEPT_HTML = "text/html,application/xhtml+xml"


class PageFetcher(Protocol):
    """What the scraper needs of aggregator.fetch.Fetcher."""

    def get(self, url: str, validators: Validators | None = None, *, robots: bool = False, accept: str | None = None,
            max_bytes: int | None = None) -> FetchResult: ...

    def crawl_delay(self, url: str) -> float | None: ...


@dataclass(frozen=True, slots=True)
class ScrapeResult:
    entries: tuple[RawEntry, ...]
    pages_fetched: int
    warnings: tuple[str, ...]
    broken: str | None  # why the source looks broken, naming the failing selector/rule
    articles: tuple[ArticleFields, ...] = ()  # what was extracted (for `aggregator probe`)


def canonical(url: str) -> str:
    """The URL the store keys articles on (aggregator.normalise when present, else w3lib)."""
    try:
        normalise = importlib.import_module("aggregator.normalise")
        return str(normalise.canonical_url(url))
    except (ImportError, AttributeError):
        from w3lib.url import canonicalize_url

        return str(canonicalize_url(clean_url(url)))


class _Session:
    """Counts pages and keeps per-host crawl delays between the scraper's requests."""

    def __init__(self, fetcher: PageFetcher, settings: Settings) -> None:
        self.fetcher, self.settings, self.pages = fetcher, settings, 0
        self._last: float | None = None

    def get(self, url: str) -> FetchResult:
        delay = _crawl_delay(self.fetcher, url)
        if delay and self._last is not None:
            time.sleep(max(0.0, self._last + delay - time.monotonic()))
        self.pages += 1
        result = self.fetcher.get(url, robots=True, accept=ACCEPT_HTML, max_bytes=self.settings.max_bytes)
        self._last = time.monotonic()
        return result


def _crawl_delay(fetcher: PageFetcher, url: str) -> float | None:
    getter = getattr(fetcher, "crawl_delay", None)
    try:
        value = getter(url) if getter else None
    except Exception:  # a robots.txt problem must not stop the scrape; the fetcher reports it on get()
        return None
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _text(result: FetchResult, source: Source) -> str:
    return decode_html(result.body or b"", result.charset, source.encoding)[0]


def scrape_source(source: Source, fetcher: PageFetcher, settings: Settings, *,
                  is_known: Callable[[Iterable[str]], set[str]], now: datetime, previous_items: int = 0,
                  fetch_known: bool = False) -> ScrapeResult:
    """Scrape one html source: list pages (with pagination), then only the article pages not yet known."""
    rules = source.scrape or ScrapeRules()
    session = _Session(fetcher, settings)
    items, broken, warnings = _collect_items(source, rules, session, previous_items)
    if broken:
        return ScrapeResult((), session.pages, tuple(warnings), broken)
    by_key = {canonical(item.url): item for item in items}
    known = set() if fetch_known else set(is_known(list(by_key)))
    fresh = [item for key, item in by_key.items() if key not in known][: rules.max_articles]
    entries: list[RawEntry] = []
    articles: list[ArticleFields] = []
    for item in fresh:
        fields = _article(source, rules, session, item, warnings)
        if fields is None:
            continue
        articles.append(fields)
        entries.append(_entry(fields, item, source))
    broken = health.empty_fields(source, articles)
    return ScrapeResult(tuple(entries), session.pages, tuple(warnings), broken, tuple(articles))


def _collect_items(source: Source, rules: ScrapeRules, session: _Session,
                   previous: int) -> tuple[list[ListItem], str | None, list[str]]:
    warnings: list[str] = []
    first = source.url
    queue, seen_pages = [first], {clean_url(first)}
    items: dict[str, ListItem] = {}
    max_pages = max(1, min(rules.max_pages, HARD_MAX_PAGES))
    index = 0
    signature: str | None = None
    while queue and index < max_pages:
        url = queue.pop(0)
        result = session.get(url)
        if not same_site(result.final_url, first):
            return [], (f"list page {url} redirects to another host ({result.final_url}): the site moved or now "
                        "needs a login; update `url:` in sources.yaml"), warnings
        if not result.ok:
            if index == 0:
                raise SourceError(source.id, f"list page {url}: {result.error}", kind=result.error_kind or "error")
            warnings.append(f"list page {url}: {result.error}")
            index += 1
            continue
        try:
            html = _text(result, source)
        except DecodeProblem as exc:
            return [], f"list page {url}: {exc}", warnings
        doc = parse_html(html)
        base = base_of(doc, result.final_url)
        found, found_signature = find_items(doc, result.final_url, base, rules, signature)
        signature = signature or found_signature
        if index == 0 and not found:
            return [], health.no_items(source, url, doc, previous), warnings
        if index == 0 and health.looks_like_login(doc) and len(found) < 3:
            return [], health.no_items(source, url, doc, previous), warnings
        for item in found:
            items.setdefault(item.url, item)
        for nxt in next_pages(doc, html, result.final_url, base, rules, first, index):
            key = clean_url(nxt)
            if key not in seen_pages and same_site(nxt, first):
                seen_pages.add(key)
                queue.append(nxt)
        index += 1
    if queue:
        warnings.append(f"stopped after {max_pages} list pages (max_pages); {len(queue)} more not fetched")
    return list(items.values()), None, warnings


def _article(source: Source, rules: ScrapeRules, session: _Session, item: ListItem,
             warnings: list[str]) -> ArticleFields | None:
    result = session.get(item.url)
    if not result.ok:
        warnings.append(f"article {item.url}: {result.error} (skipped)")
        return None
    if not same_site(result.final_url, item.url):
        warnings.append(f"article {item.url} redirects to another host ({result.final_url}) (skipped)")
        return None
    try:
        html = _text(result, source)
    except DecodeProblem as exc:
        warnings.append(f"article {item.url}: {exc} (skipped)")
        return None
    list_date = FoundDate(item.date, "list-page") if item.date else None
    fields = extract_article(html, result.final_url, rules, list_title=item.title or None, list_date=list_date)
    if not fields.published and list_date:
        fields = replace(fields, published=list_date)
    return fields


def _entry(fields: ArticleFields, item: ListItem, source: Source) -> RawEntry:
    link = clean_url(fields.url)
    return RawEntry(
        guid=link, link=link, title=fields.title or item.title, content=fields.body_html, summary="",
        author=fields.author, published=fields.published.value if fields.published else None,
        date_source=fields.published.source if fields.published else None,
        language=fields.language or source.language, canonical_url=fields.canonical_url, base_url=fields.base_url,
    )
