"""The sources.yaml schema: which keys each block takes, and the checks that span blocks."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from yaml.nodes import Node, ScalarNode, SequenceNode

from aggregator.config import values as v
from aggregator.config.nodes import (
    Ctx,
    Invalid,
    Reported,
    did_you_mean,
    is_null,
    join,
    line_of,
    mapping_items,
)
from aggregator.records import Config, ScrapeRules, Settings, Source, Topic

SOURCE_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
TOPIC_ID = re.compile(r"^[a-z0-9-]+$")
_FEED_WORDS = {"rss", "atom", "json", "jsonfeed", "json-feed", "xml", "rdf", "feeds"}

_SECONDS = v.number(0, above=True, unit=" seconds")
SETTINGS_FIELDS: dict[str, v.Converter] = {
    "output_dir": v.text(),
    "database": v.database,
    "base_url": v.base_url,
    "title": v.text(),
    "user_agent": v.text(),
    "connect_timeout": _SECONDS,
    "read_timeout": _SECONDS,
    "deadline": _SECONDS,
    "max_bytes": v.size,
    "max_redirects": v.whole(0),
    "per_host": v.whole(1),
    "workers": v.whole(1),
    "processes": v.whole(0),
    "max_entries": v.whole(1),
    "default_interval": v.duration,
    "min_interval": v.duration,
    "max_interval": v.duration,
    "max_backoff": v.duration,
    "dedupe_threshold": v.number(0, 1, above=True),
    "dedupe_containment": v.number(0, 1, above=True),
    "dedupe_window_days": v.whole(1, unit=" days"),
    "hubs": v.text_list(v.check_url),
    "icon": v.text(),
    "logo": v.text(),
    "language": v.language,
    "archive_size": v.whole(1),
}

TOPIC_FIELDS: dict[str, v.Converter] = {
    "id": v.text(),
    "title": v.text(),
    "description": v.text(nonempty=False),
    "include": v.text_list(),
    "exclude": v.text_list(),
    "max_entries": v.whole(1),
    "sources": v.text_list(),
    "min_date": v.day,
}


def _kind(ctx: Ctx, node: Node, path: str) -> str:
    value = v.as_text(node)
    if value in ("feed", "html"):
        return value
    hint = (" (RSS, Atom and JSON Feed are all kind: feed)" if value.lower() in _FEED_WORDS
            else did_you_mean(value, ("feed", "html")))
    raise Invalid(f"{value!r} is not a source kind: use 'feed' or 'html'{hint}")


def _scrape_converter(name: str, annotation: str) -> v.Converter:
    """Selector, regex, format or number, by the ScrapeRules field's name and type."""
    special: dict[str, v.Converter] = {
        "next_link_text": v.text(), "url_template": v.text(), "date_from": v.choice(("article", "list")),
    }
    if name in special:
        return special[name]
    if name.endswith("_regex"):
        return v.regex
    if name.endswith("_format"):
        return v.text()
    if annotation == "int":
        return v.whole(1)
    if annotation.startswith("tuple"):
        return v.text_list(v.check_selector, single=True)
    return v.selector


SCRAPE_FIELDS: dict[str, v.Converter] = {
    f.name: _scrape_converter(f.name, str(f.type)) for f in fields(ScrapeRules)
}

SOURCE_FIELDS: dict[str, v.Converter] = {
    "id": v.text(),
    "url": v.url,
    "kind": _kind,
    "title": v.text(nonempty=False),
    "interval": v.duration,
    "timezone": v.timezone,
    "language": v.language,
    "topics": v.text_list(),
    "enabled": v.flag,
    "priority": v.whole(-(2**31)),
    "encoding": v.encoding,
    "scrape": lambda ctx, node, path: node,  # checked by _scrape, which needs the source's kind
}

_MISPLACED_IN_SOURCE = {name: "under 'scrape:' (an html source's scraping rules)" for name in SCRAPE_FIELDS
                        if name not in SOURCE_FIELDS}
_MISPLACED_IN_SCRAPE = {name: "to the source itself, one level up, not under 'scrape:'"
                        for name in SOURCE_FIELDS if name not in SCRAPE_FIELDS}
_MISPLACED_IN_SETTINGS = {"interval": "to a source; the global one is 'default_interval'",
                          "timezone": "to a source (each source has its own timezone)"}


@dataclass
class _Refs:
    """Ids defined so far (with lines) and references to check once every block is read."""

    sources: dict[str, int] = field(default_factory=dict)
    topics: dict[str, int] = field(default_factory=dict)
    to_topics: list[tuple[str, Node, str]] = field(default_factory=list)
    to_sources: list[tuple[str, Node, str]] = field(default_factory=list)
    no_keywords: list[tuple[str, Node, str]] = field(default_factory=list)  # topics without include


def _section(
    ctx: Ctx, node: Node, path: str, spec: dict[str, v.Converter], *,
    required: dict[str, str] | None = None, elsewhere: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, tuple[Node, Node]]] | None:
    """Converted values of one mapping (null means 'use the default'), plus its nodes."""
    items = mapping_items(ctx, node, path, spec, elsewhere=elsewhere)
    if items is None:
        return None
    out: dict[str, Any] = {}
    for key, (_, value_node) in items.items():
        if is_null(value_node):
            continue
        try:
            out[key] = spec[key](ctx, value_node, join(path, key))
        except Invalid as exc:
            ctx.add(value_node, join(path, key), exc.message)
        except Reported:
            pass
    for key, hint in (required or {}).items():
        if key in items and is_null(items[key][1]):
            ctx.add(items[key][0], join(path, key), f"'{key}' has no value: {hint}")
        elif key not in items:
            ctx.add(node, join(path, key), f"missing required key '{key}': {hint}")
    return out, items


def _id(ctx: Ctx, values: dict[str, Any], items: dict[str, tuple[Node, Node]], path: str,
        pattern: re.Pattern[str], allowed: str, seen: dict[str, int], what: str) -> str | None:
    """Check an id's spelling and uniqueness; return it (even when misspelt, to avoid knock-on errors)."""
    ident = values.get("id")
    if not isinstance(ident, str):
        return None
    node = items["id"][1]
    if not pattern.match(ident):
        if what == "topic":
            fixed = re.sub(r"[^a-z0-9-]+", "-", ident.strip().lower()).strip("-")
        else:
            fixed = re.sub(r"[^A-Za-z0-9_.-]+", "-", ident.strip()).strip("-")
        hint = f", e.g. '{fixed}'" if fixed else ""
        ctx.add(node, join(path, "id"), f"{what} id {ident!r} may only contain {allowed}{hint}")
    if ident in seen:
        ctx.add(node, join(path, "id"), f"duplicate {what} id {ident!r} (first on line {seen[ident]}): "
                                        "ids must be unique, rename one")
    else:
        seen[ident] = line_of(node)
    return ident


def _settings(ctx: Ctx, node: Node | None) -> dict[str, Any]:
    if node is None or is_null(node):
        return {}
    read = _section(ctx, node, "settings", SETTINGS_FIELDS, elsewhere=_MISPLACED_IN_SETTINGS)
    if read is None:
        return {}
    out, items = read
    defaults = Settings()
    low = out.get("min_interval", defaults.min_interval)
    high = out.get("max_interval", defaults.max_interval)
    if low > high:
        where = items.get("min_interval", items.get("max_interval", (node, node)))[1]
        ctx.add(where, "settings.min_interval",
                f"min_interval ({low} s) is longer than max_interval ({high} s): swap or fix them")
    return out


def _topic(ctx: Ctx, node: Node, path: str, refs: _Refs) -> Topic | None:
    before = len(ctx.problems)
    read = _section(ctx, node, path, TOPIC_FIELDS, required={
        "id": "name the topic, e.g. id: iot (it becomes output/iot.atom)",
        "title": "give the feed a title, e.g. title: Internet of Things",
    })
    if read is None:
        return None
    values, items = read
    ident = _id(ctx, values, items, path, TOPIC_ID, "lowercase letters, digits and '-'", refs.topics, "topic")
    for name in values.get("sources", ()):
        refs.to_sources.append((name, *_item_node(items["sources"][1], name, path, "sources")))
    if ident is not None and not values.get("include"):
        refs.no_keywords.append((ident, node, path))
    words = {_fold(w): w for w in values.get("include", ())}
    for i, word in enumerate(values.get("exclude", ())):
        if _fold(word) in words:
            ctx.add(items["exclude"][1].value[i], join(join(path, "exclude"), i),
                    f"{word!r} is both included and excluded: remove it from one of the two lists")
    if len(ctx.problems) > before or ident is None:
        return None
    return Topic(**values)


def _fold(word: str) -> str:
    """Match keywords the way classify does: case- and width-insensitive."""
    return unicodedata.normalize("NFKC", word).casefold().strip()


def _item_node(seq: Node, name: str, path: str, key: str) -> tuple[Node, str]:
    assert isinstance(seq, SequenceNode)
    for i, item in enumerate(seq.value):
        if isinstance(item, ScalarNode) and str(item.value).strip() == name:
            return item, join(join(path, key), i)
    return seq, join(path, key)


def _source(ctx: Ctx, node: Node, path: str, refs: _Refs) -> Source | None:
    before = len(ctx.problems)
    read = _section(ctx, node, path, SOURCE_FIELDS, elsewhere=_MISPLACED_IN_SOURCE, required={
        "id": "name the source, e.g. id: chtf-en (letters, digits, '_', '.', '-')",
        "url": "give the feed or news-list address, e.g. url: https://example.org/news/",
        "kind": "say how to read it: kind: feed (RSS/Atom/JSON Feed) or kind: html (a news web page)",
    })
    if read is None:
        return None
    values, items = read
    ident = _id(ctx, values, items, path, SOURCE_ID, "letters, digits, '_', '.' and '-'", refs.sources,
                "source")
    for name in values.get("topics", ()):
        refs.to_topics.append((name, *_item_node(items["topics"][1], name, path, "topics")))
    if "scrape" in values:
        values["scrape"] = _scrape(ctx, items["scrape"], join(path, "scrape"), values.get("kind"))
    if len(ctx.problems) > before or ident is None:
        return None
    return Source(**values, line=line_of(node))


def _scrape(ctx: Ctx, nodes: tuple[Node, Node], path: str, kind: str | None) -> ScrapeRules | None:
    key_node, node = nodes
    if kind == "feed":
        ctx.add(key_node, path, "'scrape:' only applies to kind: html sources: remove it, or set kind: html")
    read = _section(ctx, node, path, SCRAPE_FIELDS, elsewhere=_MISPLACED_IN_SCRAPE)
    return ScrapeRules(**read[0]) if read is not None else None


def _list(ctx: Ctx, node: Node | None, path: str) -> list[Node]:
    if node is None or is_null(node):
        return []
    if not isinstance(node, SequenceNode):
        ctx.add(node, path, f"'{path}:' must be a list of '- ' items, one per {path[:-1]}")
        return []
    return list(node.value)


def build(ctx: Ctx, root: Node, base_dir: Path | None) -> Config | None:
    """The Config of a composed file, or None when any problem was recorded."""
    top = mapping_items(ctx, root, "", ("settings", "topics", "sources"))
    if top is None:
        ctx.problems[-1:] = []
        ctx.add(root, "", "the file must be a mapping with 'settings:', 'topics:' and 'sources:' at the top, "
                          f"not {'a list' if isinstance(root, SequenceNode) else 'a single value'}")
        return None
    refs = _Refs()
    settings = _settings(ctx, top.get("settings", (None, None))[1])
    topics = [_topic(ctx, n, f"topics[{i}]", refs)
              for i, n in enumerate(_list(ctx, _get(top, "topics"), "topics"))]
    if "sources" not in top:
        ctx.add(root, "sources", "missing required key 'sources': list the feeds and pages to read "
                                 "(an empty 'sources: []' is fine)")
    sources = [_source(ctx, n, f"sources[{i}]", refs)
               for i, n in enumerate(_list(ctx, _get(top, "sources"), "sources"))]
    _cross_check(ctx, refs)
    if ctx.problems:
        return None
    return Config(
        settings=_resolve(Settings(**settings), base_dir),
        topics=tuple(t for t in topics if t is not None),
        sources=tuple(s for s in sources if s is not None),
    )


def _get(top: dict[str, tuple[Node, Node]], key: str) -> Node | None:
    return top[key][1] if key in top else None


def _cross_check(ctx: Ctx, refs: _Refs) -> None:
    checks = (("topic", refs.to_topics, refs.topics), ("source", refs.to_sources, refs.sources))
    for what, wanted, defined in checks:
        for name, node, path in wanted:
            if name not in defined:
                ctx.add(node, path, f"unknown {what} {name!r}{_known(name, defined, what)}")
    forced = {name for name, _, _ in refs.to_topics}
    for ident, node, path in refs.no_keywords:
        if ident not in forced:
            ctx.add(node, join(path, "include"),
                    f"topic {ident!r} has no include keywords and no source lists it in its topics, "
                    "so its feed would stay empty: add include: [keyword, \"a phrase\", ...]")


def _known(name: str, defined: dict[str, int], what: str) -> str:
    """A 'did you mean', or else the ids that exist, so the fix needs no scrolling."""
    hint = did_you_mean(name, defined)
    if hint or not defined:
        return hint or f": no {what}s are defined"
    listed = ", ".join(list(defined)[:12]) + (", ..." if len(defined) > 12 else "")
    return f": use one of {listed}"


def _resolve(settings: Settings, base_dir: Path | None) -> Settings:
    """Relative paths are relative to sources.yaml, so the service works from any working directory."""
    from dataclasses import replace

    output = Path(settings.output_dir).expanduser()
    database = settings.database
    if base_dir is not None:
        output = output if output.is_absolute() else base_dir / output
        prefix = "sqlite:///"
        if database.startswith(prefix) and database[len(prefix):] != ":memory:":
            db_path = Path(database[len(prefix):]).expanduser()
            database = prefix + str(db_path if db_path.is_absolute() else base_dir / db_path)
    return replace(settings, output_dir=output, database=database)
