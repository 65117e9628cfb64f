"""The CPU-heavy middle of the pipeline for one fetched feed: parse -> normalise -> classify -> signature.

Bytes in, records out, no I/O: so it can run in worker processes. Threads alone leave a first poll of
thousands of feeds on one core (the GIL); `CpuPool` spreads it over `settings.processes` processes when
a run has enough feeds to pay for them, and runs it in the calling thread otherwise.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aggregator.classify import Classifier
from aggregator.errors import ParseError
from aggregator.normalise import normalise_entry
from aggregator.parse import parse_feed
from aggregator.records import Article, RawEntry, Source, Topic

if TYPE_CHECKING:
    from aggregator import dedupe

MIN_FEEDS_FOR_PROCESSES = 32  # fewer feeds: starting worker processes costs more than it saves
# The parent, which stores, gets the CPU first: at nice 19 a worker sharing a core with the storing thread
# takes ~1.5% of it, at nice 5 ~25% (a first poll of 1000 feeds: -4.4% wall, 4 pairs of bench/ab.py)
WORKER_NICENESS = 19


@dataclass(frozen=True, slots=True)
class PreparedFeed:
    """A feed's records, ready for the store, with what the scheduler reads from the feed itself.

    Pickled (from a worker process to the parent), its records leave their plain `text` behind: the store
    keeps none (it is derived from the HTML when a record is read back), and it is a third of the bytes
    to pickle, send and unpickle.
    """

    articles: tuple[Article, ...]
    signatures: dict[str, dedupe.Signature | None]  # by record uid; computed here so the store need not
    ttl_seconds: int | None = None
    warnings: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[object, ...]:
        return (_unpickle_prepared,
                (tuple(map(_values_without_text, self.articles)), self.signatures, self.ttl_seconds, self.warnings))


_TEXT = [f.name for f in fields(Article)].index("text")


def _values_without_text(article: Article) -> tuple[object, ...]:
    values = article.__reduce__()[1]
    return (*values[:_TEXT], "", *values[_TEXT + 1 :])


def _unpickle_prepared(values: tuple[tuple[Any, ...], ...], signatures: dict[str, dedupe.Signature | None],
                       ttl_seconds: int | None, warnings: tuple[str, ...]) -> PreparedFeed:
    return PreparedFeed(tuple(Article(*v) for v in values), signatures, ttl_seconds, warnings)


def to_articles(entries: Sequence[RawEntry], source: Source, classifier: Classifier, *, fetched_url: str,
                now: datetime, feed_language: str | None = None) -> tuple[Article, ...]:
    out = []
    for raw in entries:
        article = normalise_entry(raw, source, fetched_url=fetched_url, now=now, feed_language=feed_language)
        if article is not None:
            # set in place: the article was made just above and nothing else holds it yet, and
            # dataclasses.replace costs as much as a tenth of normalising the entry
            object.__setattr__(article, "topics", classifier.classify(article, source))
            out.append(article)
    return tuple(out)


def signatures_of(articles: Sequence[Article]) -> dict[str, dedupe.Signature | None]:
    """Signatures, which carry their band keys: computed here, in a worker, the store's process is spared them."""
    from aggregator import dedupe

    signatures = dedupe.make_signatures([(a.title, a.text, a.language) for a in articles])  # a feed at once
    return {a.uid: sig for a, sig in zip(articles, signatures, strict=True)}


def prepare_feed(body: bytes, source: Source, classifier: Classifier, *, url: str, content_type: str | None,
                 charset: str | None, now: datetime) -> PreparedFeed:
    """Raises ParseError when the bytes are not a feed."""
    feed = parse_feed(body, url=url, content_type=content_type, charset=charset)
    articles = to_articles(feed.entries, source, classifier, fetched_url=url, now=now, feed_language=feed.language)
    return PreparedFeed(articles, signatures_of(articles), feed.ttl_seconds, tuple(feed.warnings))


# ---------------------------------------------------------------- worker processes
_worker_classifier: Classifier | None = None


def _init_worker(topics: tuple[Topic, ...]) -> None:
    global _worker_classifier
    _worker_classifier = Classifier(topics)
    # The parent stores what the workers prepare and is the slower side: let it have a core whenever it
    # wants one (on 2 cores the workers still get all the CPU the parent leaves).
    with contextlib.suppress(OSError, AttributeError):
        os.nice(WORKER_NICENESS)


def _prepare_in_worker(body: bytes, source: Source, url: str, content_type: str | None, charset: str | None,
                       now: datetime) -> PreparedFeed:
    assert _worker_classifier is not None, "worker started without its initializer"
    return prepare_feed(body, source, _worker_classifier, url=url, content_type=content_type, charset=charset,
                        now=now)


class CpuPool:
    """Where `prepare_feed` runs: `processes` worker processes, or the calling thread when it is 0.

    The processes start on first use, so a run where every feed answers 304 never starts them. A worker
    that dies (out of memory on a hostile feed, a crash in a C library) fails the feeds in flight at that
    moment with a clear error (they are polled again next time); the pool is started again for the rest.
    """

    def __init__(self, topics: Sequence[Topic], processes: int) -> None:
        self._topics = tuple(topics)
        self._processes = processes
        self.classifier = Classifier(self._topics)  # for the calling thread (and HTML sources)
        self._executor: Executor | None = None
        self._lock = threading.Lock()

    @staticmethod
    def size_for(setting: int | None, feeds_due: int) -> int:
        """Worker processes for a run: `setting`, by default one per CPU (measured on 2 cores: 37 s for the
        benchmark's first poll, against 43 s with one); none when there is little to do."""
        wanted = setting if setting is not None else os.cpu_count() or 1
        return wanted if wanted >= 1 and feeds_due >= MIN_FEEDS_FOR_PROCESSES else 0

    def prepare(self, body: bytes, source: Source, *, url: str, content_type: str | None, charset: str | None,
                now: datetime) -> PreparedFeed:
        if self._processes < 1:
            return prepare_feed(body, source, self.classifier, url=url, content_type=content_type,
                                charset=charset, now=now)
        executor = self._ensure()
        try:
            return executor.submit(_prepare_in_worker, body, source, url, content_type, charset, now).result()
        except BrokenProcessPool as exc:
            self._discard(executor)
            raise ParseError(f"the worker process died while reading this feed ({exc}); "
                             "it will be tried again at the next poll") from exc

    def _ensure(self) -> Executor:
        with self._lock:
            if self._executor is None:
                methods = multiprocessing.get_all_start_methods()
                # fork: the children inherit the loaded modules, so they start in milliseconds
                context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
                if context.get_start_method() == "fork":  # and numpy and the signature tables, built once
                    from aggregator.dedupe.near import load_tables

                    load_tables()
                self._executor = ProcessPoolExecutor(self._processes, mp_context=context,
                                                     initializer=_init_worker, initargs=(self._topics,))
            return self._executor

    def _discard(self, executor: Executor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
