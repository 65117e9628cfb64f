"""The records that flow between pipeline stages, defined once.

Every stage takes and returns these frozen dataclasses (never loose dicts), so a
newcomer can follow one article from `sources.yaml` to the published feed:

    Config/Source -> FetchResult -> ParsedFeed/RawEntry -> Article -> (store) -> StoryView -> feeds
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import Literal

SourceKind = Literal["feed", "html"]

# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class Settings:
    """Global settings (`settings:` in sources.yaml); every field has a default."""

    output_dir: Path = Path("output")
    database: str = "sqlite:///state/aggregator.db"
    base_url: str = "http://localhost:8000/"
    title: str = "Exhibition news"
    user_agent: str = "aggregator/0.1 (+https://github.com/aggregator/aggregator; feed reader)"
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    deadline: float = 30.0  # total seconds for one response, however slowly it drips
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    per_host: int = 2  # requests in flight to one host
    workers: int = 16  # requests in flight overall
    processes: int | None = None  # worker processes parsing feeds in big runs; None: one per CPU; 0: none
    max_entries: int = 100  # entries per published feed
    default_interval: int = 3600  # seconds between polls of a source
    min_interval: int = 300
    max_interval: int = 86400
    max_backoff: int = 6 * 3600
    dedupe_threshold: float = 0.30  # estimated Jaccard for a near-duplicate
    dedupe_containment: float = 0.55  # share of the shorter copy found in the longer
    dedupe_window_days: int = 14
    hubs: tuple[str, ...] = ()
    icon: str | None = None
    logo: str | None = None
    language: str = "en"
    archive_size: int = 50  # entries per RFC 5005 archive document


@dataclass(frozen=True, slots=True)
class Topic:
    """A published topic feed and the keyword rules that fill it."""

    id: str
    title: str
    description: str = ""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_entries: int | None = None
    sources: tuple[str, ...] = ()  # empty: every source
    min_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScrapeRules:
    """How to read an HTML news site; every field is optional (automatic mode fills gaps).

    A selector is CSS, optionally `css@attr` to read an attribute, or `json-ld:path.to.field`.
    A `*_regex` takes group 1 of the selected text.
    """

    item: str | None = None
    item_link: str | None = None
    item_title: str | None = None
    item_date: str | None = None
    item_date_format: str | None = None
    next_page: str | None = None
    next_link_text: str | None = None
    url_template: str | None = None
    count_regex: str | None = None
    max_pages: int = 5
    title: str | None = None
    date: str | None = None
    date_regex: str | None = None
    date_format: str | None = None
    author: str | None = None
    author_regex: str | None = None
    source: str | None = None
    source_regex: str | None = None
    body: str | None = None
    body_exclude: tuple[str, ...] = ()
    canonical: str | None = None
    ignore_dates_in: tuple[str, ...] = ()
    date_from: Literal["article", "list"] = "article"
    max_articles: int = 50  # new article pages fetched per run


@dataclass(frozen=True, slots=True)
class Source:
    """One entry of `sources:`; only id, url and kind are required."""

    id: str
    url: str
    kind: SourceKind
    title: str = ""
    interval: int | None = None  # seconds; None: settings.default_interval
    timezone: str = "UTC"
    language: str | None = None
    topics: tuple[str, ...] = ()  # forced topics, added to whatever classify finds
    enabled: bool = True
    priority: int = 0  # higher wins the primary copy of a story
    encoding: str | None = None
    scrape: ScrapeRules | None = None
    line: int = 0  # where it is in sources.yaml, for messages

    @property
    def display_name(self) -> str:
        return self.title or self.id


@dataclass(frozen=True, slots=True)
class Config:
    settings: Settings
    topics: tuple[Topic, ...]
    sources: tuple[Source, ...]
    path: Path | None = None

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)


# --------------------------------------------------------------------------- fetch


@dataclass(frozen=True, slots=True)
class Validators:
    """What a conditional GET sends back: the last ETag and Last-Modified seen."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One HTTP exchange; `error` is set (and `body` None) when it failed."""

    url: str  # what was asked for
    final_url: str  # after redirects
    status: int | None = None
    body: bytes | None = None
    content_type: str | None = None  # media type without parameters
    charset: str | None = None  # from the Content-Type header
    validators: Validators = Validators()
    not_modified: bool = False
    permanent_redirect: str | None = None  # where a 301/308 chain ended, to store
    error: str | None = None
    error_kind: str | None = None  # timeout, too-large, http, connection, robots, redirect
    retry_after: float | None = None  # seconds, from Retry-After on 429/503
    max_age: int | None = None  # Cache-Control max-age / Expires, seconds
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


# --------------------------------------------------------------------------- parse / scrape


@dataclass(frozen=True, slots=True)
class RawEntry:
    """An item as the source gave it: dates may be naive, HTML is unsanitised."""

    guid: str | None = None
    link: str | None = None
    title: str = ""
    summary: str = ""  # HTML or text
    content: str = ""  # HTML or text
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    date_source: str | None = None  # where `published` came from, e.g. "rss:pubDate"
    language: str | None = None
    categories: tuple[str, ...] = ()
    canonical_url: str | None = None
    base_url: str | None = None  # for resolving relative links in the HTML


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    format: str  # rss2, rss1, rss090, atom10, atom03, jsonfeed, html
    title: str = ""
    link: str | None = None
    language: str | None = None
    entries: tuple[RawEntry, ...] = ()
    ttl_seconds: int | None = None  # RSS <ttl> or sy:updatePeriod/updateFrequency
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------- normalised records


# Where a record's date came from when the source gave none we could trust (`Article.date_source`): the time
# we first saw it. Defined here, with the record, so the store can tell without loading the normaliser.
FIRST_SEEN = "first-seen"
FUTURE_IGNORED = "first-seen (future date ignored)"
TOO_OLD_IGNORED = "first-seen (date before 1995 ignored)"


def is_first_seen(date_source: str) -> bool:
    """True when the date is our first sighting, not a date the source gave (any variant)."""
    return date_source.startswith(FIRST_SEEN)


@dataclass(frozen=True, slots=True)
class Article:
    """A normalised record: aware UTC dates, canonical URL, sanitised HTML, plain text."""

    uid: str  # stable record key: hash of source id + guid (or URL)
    source_id: str
    guid: str
    url: str
    title: str
    published: datetime
    updated: datetime
    date_source: str  # e.g. "rss:pubDate", "first-seen"
    author: str | None
    language: str | None
    summary_html: str
    content_html: str
    text: str
    text_hash: str
    topics: tuple[str, ...] = ()
    story_id: str | None = None

    def __reduce__(self) -> tuple[type[Article], tuple[object, ...]]:
        # Pickled as its constructor's arguments: worker processes send every article back to the
        # parent, and a slots dataclass otherwise pickles through a Python-level __getstate__ (3x slower).
        return Article, _article_values(self)


_article_values = attrgetter(*(f.name for f in fields(Article)))


@dataclass(frozen=True, slots=True)
class StoryView:
    """One published entry: a story with its primary copy and every copy that carried it."""

    story_id: str
    primary: Article
    members: tuple[Article, ...]
    topics: tuple[str, ...]
    published: datetime
    updated: datetime


# --------------------------------------------------------------------------- state and reports


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the store remembers about polling one source."""

    source_id: str
    url: str | None = None  # stored URL after a permanent redirect
    validators: Validators = Validators()
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_status: str | None = None  # ok, not-modified, error, disabled, broken
    http_status: int | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_due: datetime | None = None
    new_entries: int = 0
    retry_after_until: datetime | None = None
    disabled_reason: str | None = None
    interval: int | None = None  # the adaptive interval last chosen, seconds
    items_seen: int = 0
    configured_url: str | None = None  # the url sources.yaml gave when this state was written


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """What one source did in one pass; becomes a log line and a status row."""

    source_id: str
    status: str  # ok, not-modified, error, skipped, disabled, broken
    http_status: int | None = None
    new: int = 0
    updated: int = 0
    seen: int = 0
    error: str | None = None
    elapsed: float = 0.0
    warnings: tuple[str, ...] = ()
    pages: int = 0  # HTML pages fetched by a scraper


@dataclass(frozen=True, slots=True)
class RunReport:
    outcomes: tuple[SourceOutcome, ...] = ()
    feeds_written: tuple[str, ...] = ()
    elapsed: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.status in ("error", "broken"))
