"""The one interface every storage backend implements (SQLite embedded, PostgreSQL to scale out)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from aggregator.records import Article, SourceState, StoryView

if TYPE_CHECKING:  # numpy loads only when a run has new records to deduplicate
    from aggregator.dedupe import Signature


@dataclass(frozen=True, slots=True)
class IngestResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    feeds_touched: frozenset[str] = frozenset()  # topic ids (and "all") whose feed must be rebuilt


@dataclass(frozen=True, slots=True)
class IngestItem:
    """One source's share of a batched write: its records and its next polling state."""

    source_id: str
    articles: Sequence[Article] = ()
    state: SourceState | None = None
    priority: int = 0
    # MinHash signatures by record uid, when a worker process already computed them (else the store does)
    signatures: Mapping[str, Signature | None] | None = None
    configured_url: str | None = None  # stored with the state, so a later run notices an edited url


class Store(Protocol):
    """Everything the pipeline keeps between runs. Implementations are safe to kill at any point:
    each source's records and state are committed together, so a re-run finishes the job."""

    def close(self) -> None: ...

    # -- polling state
    def source_state(self, source_id: str) -> SourceState: ...
    def source_states(self) -> dict[str, SourceState]: ...
    def save_source_state(self, state: SourceState) -> None: ...

    # -- records
    def known_urls(self, urls: Iterable[str]) -> set[str]:
        """The subset of `urls` already stored (any source), so scrapers skip known pages."""
        ...

    def ingest(self, source_id: str, articles: Sequence[Article], now: datetime,
               state: SourceState | None = None) -> IngestResult:
        """Exact-dedupe and store `articles` (and `state`, in the same transaction)."""
        ...

    def ingest_many(self, items: Sequence[IngestItem], now: datetime) -> list[IngestResult | Exception]:
        """Several sources in one transaction (one commit, the cost that dominates small writes).

        A source whose records cannot be stored gets its exception in the result list; the others are kept.
        """
        ...

    def merge_pending_bands(self) -> None:
        """Index the near-duplicate rows a run wrote (at its end: one pass over the index, not one a batch)."""
        ...

    def article_count(self) -> int: ...
    def iter_articles(self) -> Iterator[Article]: ...
    def iter_stories(self) -> Iterator[StoryView]: ...

    # -- publishing
    def stories_for_feed(self, topic_id: str | None, limit: int,
                         sources: Sequence[str] = ()) -> list[StoryView]:
        """Newest stories first; topic_id None means every story."""
        ...

    def dirty_feeds(self) -> set[str]: ...
    def mark_feeds_clean(self, feed_ids: Iterable[str]) -> None: ...
    def mark_feeds_dirty(self, feed_ids: Iterable[str]) -> None: ...
