"""`output/index.html`: the page a person lands on: topics, subscribe links, latest headlines, source health.

Rendered from the JSON Feed documents just published (never from the store), so the page shows exactly
what the feeds say and a run with clean feeds costs no story query. Jinja2 with autoescaping: every
title and error message comes from the outside world.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader

from aggregator.publish.content import rfc3339
from aggregator.records import Config, SourceState

HEADLINES = 5


@dataclass(frozen=True, slots=True)
class Headline:
    title: str
    url: str
    date: str  # as shown: 2024-05-06 09:30 UTC
    iso: str  # RFC 3339, for <time datetime>
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FeedCard:
    id: str
    title: str
    description: str
    atom: str  # relative to index.html, so the page works on any host
    json: str
    count: int
    archived: int
    updated: str
    updated_iso: str
    headlines: tuple[Headline, ...]


@dataclass(frozen=True, slots=True)
class HealthRow:
    source: str
    name: str
    url: str
    status: str
    last_success: str
    error: str
    failures: int

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "not-modified")


def _shown(iso: str) -> str:
    return iso.replace("T", " ")[:16] + " UTC" if iso else ""


def feed_card(feed_id: str, title: str, description: str, document: Mapping[str, Any] | None) -> FeedCard:
    """What the index says about one feed, read from its JSON Feed document (None: not published yet)."""
    items: list[Mapping[str, Any]] = list(document.get("items", [])) if document else []
    extension: Mapping[str, Any] = (document or {}).get("_aggregator", {})
    updated = max((str(i.get("date_modified", "")) for i in items), default="")
    headlines = tuple(
        Headline(title=str(i.get("title", "")), url=str(i.get("url", "")),
                 date=_shown(str(i.get("date_published", ""))), iso=str(i.get("date_published", "")),
                 sources=tuple(str(s.get("name", "")) for s in i.get("_aggregator", {}).get("sources", [])))
        for i in items[:HEADLINES]
    )
    return FeedCard(id=feed_id, title=title, description=description, atom=f"{feed_id}.atom", json=f"{feed_id}.json",
                    count=len(items), archived=int(extension.get("archived", 0)), updated=_shown(updated),
                    updated_iso=updated, headlines=headlines)


def _when(moment: datetime | None) -> str:
    return _shown(rfc3339(moment)) if moment is not None else "never"


def health_rows(config: Config, states: Mapping[str, SourceState]) -> list[HealthRow]:
    """One row per configured source, in config order; sources never polled say so."""
    rows = []
    for source in config.sources:
        state = states.get(source.id)
        status = "disabled" if not source.enabled else (state.last_status if state and state.last_status
                                                        else "not polled yet")
        error = (state.last_error or state.disabled_reason or "") if state else ""
        rows.append(HealthRow(source=source.id, name=source.display_name, url=source.url, status=status,
                              last_success=_when(state.last_success if state else None), error=error,
                              failures=state.consecutive_failures if state else 0))
    return rows


def health_digest(config: Config, health: Sequence[HealthRow]) -> str:
    """Fingerprint of what the index shows besides the feeds, to skip re-rendering when nothing moved."""
    text = repr((config.settings.title, [(t.id, t.title, t.description) for t in config.topics], list(health)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_ENV = Environment(loader=PackageLoader("aggregator.publish", "templates"), autoescape=True,
                   trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_index(config: Config, cards: Sequence[FeedCard], health: Sequence[HealthRow]) -> bytes:
    """The whole page; a pure function of its arguments (no clock), so unchanged data means unchanged bytes."""
    template = _ENV.get_template("index.html.j2")
    page = template.render(settings=config.settings, cards=cards, health=health,
                           digest=health_digest(config, health),
                           failing=sum(1 for h in health if not h.ok and h.status != "not polled yet"))
    return page.encode("utf-8")
