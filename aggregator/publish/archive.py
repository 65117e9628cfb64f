"""RFC 5005 archived feeds: entries that drop out of a live feed move into fixed-size archive pages.

A reader that was offline for a month follows `rel="prev-archive"` from the live feed back through
`archive/<feed>/<n>.atom` (1 is the oldest) until it reaches entries it has seen. Pages are filled in
order and a full page is never rewritten, so its bytes (and HTTP validators) stay stable forever and a
run costs the same after ten years as after one day: it reads the previous live feed and the newest
page, and writes at most the newest page plus any pages it opens.

What gets archived is exactly what the previous live feed published for an entry that is no longer in
the new live feed (the entry XML is carried over as is), so an archive never shows a story differently
from how subscribers saw it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lxml import etree

from aggregator.publish.atom import ATOM_NS, EMPTY_FEED_UPDATED, FH_NS, base_url, feed_head, serialize
from aggregator.publish.content import rfc3339
from aggregator.records import Config

A = f"{{{ATOM_NS}}}"
_PAGE = re.compile(r"/archive/[^/]+/(\d+)\.atom$")
_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)


@dataclass(frozen=True)
class ArchiveState:
    """The newest archive page of one feed: its number (0: none yet) and the entries it holds."""

    newest: int = 0
    entries: tuple[etree._Element, ...] = ()


@dataclass(frozen=True)
class Page:
    number: int
    entries: tuple[etree._Element, ...]


def page_path(feed_id: str, number: int) -> str:
    """Path relative to the output folder (and to base_url)."""
    return f"archive/{feed_id}/{number}.atom"


def page_url(config: Config, feed_id: str, number: int) -> str:
    return f"{base_url(config)}{page_path(feed_id, number)}"


def read_document(path: Path) -> etree._Element | None:
    """A document we wrote earlier; None when missing or unreadable (then it is simply rebuilt)."""
    try:
        return etree.fromstring(path.read_bytes(), _PARSER)
    except (OSError, etree.XMLSyntaxError):
        return None


def _entry_id(entry: etree._Element) -> str:
    return entry.findtext(f"{A}id") or ""


def _newest_page_number(output_dir: Path, feed_id: str, live: etree._Element | None) -> int:
    """From the live feed's prev-archive link; a directory scan only when the live feed is gone."""
    if live is not None:
        for link in live.findall(f"{A}link[@rel='prev-archive']"):
            found = _PAGE.search(link.get("href", ""))
            if found:
                return int(found.group(1))
    folder = output_dir / "archive" / feed_id
    pages = folder.glob("*.atom") if folder.is_dir() else ()
    numbers = [int(p.stem) for p in pages if p.stem.isascii() and p.stem.isdigit()]
    return max(numbers, default=0)


def read_state(output_dir: Path, feed_id: str, live: etree._Element | None) -> ArchiveState:
    newest = _newest_page_number(output_dir, feed_id, live)
    if newest == 0:
        return ArchiveState()
    page = read_document(output_dir / page_path(feed_id, newest))
    entries = tuple(page.findall(f"{A}entry")) if page is not None else ()
    return ArchiveState(newest, entries)


def evicted_entries(live: etree._Element | None, keep: set[str], oldest: datetime | None) -> list[etree._Element]:
    """Entries of the previous live feed that are not in the new one, oldest first.

    Entries older than the topic's `min_date` are dropped rather than archived: the topic says it
    does not want them at all.
    """
    if live is None:
        return []
    floor = rfc3339(oldest) if oldest is not None else ""
    gone = [e for e in live.findall(f"{A}entry") if _entry_id(e) not in keep]
    gone = [e for e in gone if (e.findtext(f"{A}published") or e.findtext(f"{A}updated") or "") >= floor]
    return sorted(gone, key=lambda e: (e.findtext(f"{A}published") or "", _entry_id(e)))


def add_entries(state: ArchiveState, evicted: Sequence[etree._Element], size: int) -> tuple[ArchiveState, list[Page]]:
    """Append evicted entries to the newest page, opening new pages of `size`; return the pages to write."""
    if not evicted:
        return state, []
    size = max(1, size)
    number, current = state.newest, list(state.entries)
    if number == 0 or len(current) >= size:
        number, current = number + 1, []
    pages: list[Page] = []
    known = {_entry_id(e) for e in current}
    for entry in evicted:
        if _entry_id(entry) in known:  # already archived on this page: keep the newer copy
            current = [e for e in current if _entry_id(e) != _entry_id(entry)]
        if len(current) >= size:
            pages.append(Page(number, tuple(current)))
            number, current, known = number + 1, [], set()
        current.append(entry)
        known.add(_entry_id(entry))
    pages.append(Page(number, tuple(current)))
    return ArchiveState(number, tuple(current)), pages


def render_page(feed_id: str, title: str, page: Page, config: Config) -> bytes:
    """One archive document: `fh:archive`, `rel=current` to the live feed, `rel=prev-archive` to the older page."""
    entries = sorted(page.entries, key=lambda e: (e.findtext(f"{A}published") or "", _entry_id(e)), reverse=True)
    stamps = [e.findtext(f"{A}updated") or "" for e in entries]
    updated_text = max(stamps, default="") or rfc3339(EMPTY_FEED_UPDATED)
    feed = feed_head(page_path(feed_id, page.number), f"{title} (archive {page.number})", "",
                     datetime.fromisoformat(updated_text.replace("Z", "+00:00")), config)
    base = base_url(config)
    etree.SubElement(feed, f"{A}link", rel="current", type="application/atom+xml", href=f"{base}{feed_id}.atom")
    if page.number > 1:
        etree.SubElement(feed, f"{A}link", rel="prev-archive", type="application/atom+xml",
                         href=page_url(config, feed_id, page.number - 1))
    etree.SubElement(feed, f"{{{FH_NS}}}archive", nsmap={"fh": FH_NS})
    for entry in entries:
        clone = copy.deepcopy(entry)
        clone.tail = None
        feed.append(clone)
    return serialize(feed, "../../feed.xsl")


def archived_count(state: ArchiveState, size: int) -> int:
    """Entries held by all archive pages (every page before the newest is full)."""
    return (state.newest - 1) * max(1, size) + len(state.entries) if state.newest else 0
