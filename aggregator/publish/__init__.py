"""Publish stage: what subscribers see.

Per feed (every topic, plus `all`): `<id>.atom` (with RFC 5005 archives under `archive/<id>/`) and
`<id>.json` (JSON Feed 1.1). Site-wide: `index.html`, `feeds.opml`, `sources.opml` and `feed.xsl`.
Only dirty (or missing, or `only` the named) feeds are rendered; every file goes through
`write_if_changed`, and WebSub hubs hear only about feeds whose file really changed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aggregator.errors import AggregatorError
from aggregator.publish import archive
from aggregator.publish.atom import base_url, clean_xml_text, feed_limit, render_atom
from aggregator.publish.content import min_date, select_stories
from aggregator.publish.index import feed_card, health_digest, health_rows, render_index
from aggregator.publish.jsonfeed import render_json_feed
from aggregator.publish.opml import render_feeds_opml, render_sources_opml
from aggregator.publish.websub import Pinger, ping_hubs
from aggregator.publish.writer import write_if_changed
from aggregator.records import Config, Source

if TYPE_CHECKING:  # importing the store package would pull in the SQL backends at run time
    from aggregator.store.base import Store

__all__ = ["ALL_FEED", "clean_xml_text", "feed_path", "publish", "render_atom", "write_if_changed"]

log = logging.getLogger(__name__)

ALL_FEED = "all"
STATIC = ("feed.xsl",)


@dataclass(frozen=True, slots=True)
class FeedInfo:
    id: str
    title: str  # feed title in Atom and JSON Feed
    subtitle: str
    label: str  # short name on the index page and in feeds.opml


def feed_path(config: Config, feed_id: str) -> Path:
    return config.settings.output_dir / f"{feed_id}.atom"


def json_path(config: Config, feed_id: str) -> Path:
    return config.settings.output_dir / f"{feed_id}.json"


def _feed_ids(config: Config) -> list[str]:
    return [t.id for t in config.topics if t.id != ALL_FEED] + [ALL_FEED]


def feeds(config: Config) -> list[FeedInfo]:
    """Every published feed in display order: the topics, then everything."""
    title = config.settings.title
    topics = [FeedInfo(t.id, f"{title}: {t.title}", t.description, t.title)
              for t in config.topics if t.id != ALL_FEED]
    return [*topics, FeedInfo(ALL_FEED, title, "Every story from every source", "All stories")]


def _targets(config: Config, store: Store, only: Iterable[str] | None) -> tuple[list[str], set[str]]:
    """Feeds to render, and the feed ids to mark clean afterwards (incl. dirty ids of removed topics)."""
    known = _feed_ids(config)
    if only is not None:
        wanted = set(only)
        unknown = sorted(wanted - set(known))
        if unknown:
            raise AggregatorError(
                f"unknown feed(s) {', '.join(unknown)}: use a topic id from sources.yaml or {ALL_FEED!r}"
            )
        chosen = [f for f in known if f in wanted]
        return chosen, set(chosen)
    dirty = store.dirty_feeds()
    chosen = [f for f in known if f in dirty or not feed_path(config, f).exists()
              or not json_path(config, f).exists()]
    return chosen, set(chosen) | (dirty - set(known))


def _publish_feed(info: FeedInfo, config: Config, store: Store, sources: dict[str, Source]) -> list[Path]:
    """Render one feed's Atom, JSON Feed and any archive pages it fills; return the files rewritten."""
    settings, out = config.settings, config.settings.output_dir
    topic = next((t for t in config.topics if t.id == info.id), None) if info.id != ALL_FEED else None
    stories = store.stories_for_feed(topic.id if topic else None, feed_limit(info.id, config),
                                     topic.sources if topic else ())
    previous = archive.read_document(feed_path(config, info.id))
    keep = {s.story_id for s in select_stories(info.id, stories, config)}
    state = archive.read_state(out, info.id, previous)
    evicted = archive.evicted_entries(previous, keep, min_date(info.id, config))
    state, pages = archive.add_entries(state, evicted, settings.archive_size)
    written: list[Path] = []
    for page in pages:  # archive pages first: the live feed must never link to a page not yet written
        path = out / archive.page_path(info.id, page.number)
        if write_if_changed(path, archive.render_page(info.id, info.title, page, config)):
            written.append(path)
    prev = archive.page_url(config, info.id, state.newest) if state.newest else None
    atom = render_atom(info.id, info.title, info.subtitle, stories, config, sources, prev_archive=prev)
    if write_if_changed(feed_path(config, info.id), atom):
        written.append(feed_path(config, info.id))
    document = render_json_feed(info.id, info.title, info.subtitle, stories, config, sources, prev_archive=prev,
                                archived=archive.archived_count(state, settings.archive_size))
    if write_if_changed(json_path(config, info.id), document):
        written.append(json_path(config, info.id))
    return written


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


_config_files_cache: tuple[Config, dict[str, bytes]] | None = None


def _config_files(config: Config) -> dict[str, bytes]:
    """feed.xsl and the two OPML lists: they depend on the configuration only, so a daemon renders them
    once per configuration, not at every tick (1000 sources: ~30 ms a tick)."""
    global _config_files_cache
    cached = _config_files_cache
    if cached is not None and cached[0] is config:
        return cached[1]
    infos = feeds(config)
    files: dict[str, bytes] = {name: (resources.files(__package__) / "templates" / name).read_bytes()
                               for name in STATIC}
    topic_feeds = [i for i in infos if i.id != ALL_FEED] or infos
    files["feeds.opml"] = render_feeds_opml(config, [(i.id, i.title, i.subtitle) for i in topic_feeds])
    files["sources.opml"] = render_sources_opml(config)
    _config_files_cache = (config, files)
    return files


def _publish_site(config: Config, store: Store, force_index: bool) -> list[Path]:
    """feed.xsl, the two OPML lists (cheap, from config) and index.html when feeds or health moved."""
    out = config.settings.output_dir
    infos = feeds(config)
    files = dict(_config_files(config))
    health = health_rows(config, store.source_states())
    index = out / "index.html"
    try:
        unchanged = f'content="{health_digest(config, health)}"' in index.read_text(encoding="utf-8")
    except OSError:
        unchanged = False
    if force_index or not unchanged:
        cards = [feed_card(i.id, i.label, i.subtitle, _read_json(json_path(config, i.id))) for i in infos]
        files["index.html"] = render_index(config, cards, health)
    return [out / name for name, data in files.items() if write_if_changed(out / name, data)]


def _notify(config: Config, written: list[Path], pinger: Pinger | None) -> None:
    settings = config.settings
    if not settings.hubs:
        return
    out, base = settings.output_dir, base_url(config)
    live = {feed_path(config, f) for f in _feed_ids(config)} | {json_path(config, f) for f in _feed_ids(config)}
    urls = [f"{base}{p.relative_to(out).as_posix()}" for p in written if p in live]
    if not urls:
        return
    if pinger is None:
        ping_hubs(settings.hubs, urls, timeout=(settings.connect_timeout, settings.read_timeout),
                  user_agent=settings.user_agent)
    else:
        pinger(settings.hubs, urls)


def publish(config: Config, store: Store, *, only: Iterable[str] | None = None,
            pinger: Pinger | None = None) -> list[Path]:
    """Render the dirty (or missing, or `only` the named) feeds and the site files; return the files rewritten.

    Clean feeds cost one `dirty_feeds()` and one `source_states()` call, a few stats and no story
    query, so running this after every pass is cheap. Feeds are marked clean only after all of them
    were written, so a crash mid-way leaves them dirty and the next run finishes the job. Hubs get a
    WebSub ping for each live feed file rewritten (`pinger` replaces the HTTP POSTs, for tests).
    """
    chosen, to_clean = _targets(config, store, only)
    sources = {s.id: s for s in config.sources}
    by_id = {i.id: i for i in feeds(config)}
    written: list[Path] = []
    for feed_id in chosen:
        written += _publish_feed(by_id[feed_id], config, store, sources)
    written += _publish_site(config, store, force_index=bool(chosen))
    if to_clean:
        store.mark_feeds_clean(sorted(to_clean))
    _notify(config, written, pinger)
    return written
