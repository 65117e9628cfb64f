"""Converters from YAML nodes to typed values; each raises `Invalid` with what to write instead."""

from __future__ import annotations

import codecs
import contextlib
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from aggregator.config.nodes import Ctx, Invalid, Reported, describe, did_you_mean, is_null, join, suggest

Converter = Callable[[Ctx, Node, str], Any]

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(sec|min|s|m|h|d|w)", re.IGNORECASE)
_SIZES = {"": 1, "b": 1, "kb": 1024, "k": 1024, "mb": 1024**2, "m": 1024**2, "gb": 1024**3, "g": 1024**3}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?)\s*$", re.IGNORECASE)
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_ATTR = re.compile(r"^[A-Za-z_:][-\w:.]*$")


def parse_interval(value: str | int) -> int:
    """Seconds from 3600, "3600", "90s", "30m", "2h", "1d", "1w" or "1h30m".

    Raises ValueError saying what to write instead.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an interval: write seconds or a duration like '30m', '2h', '1d'")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, float) and value.is_integer():
        seconds = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():
            seconds = int(text)
        else:
            parts = _DURATION_PART.findall(text)
            if not parts or _DURATION_PART.sub("", text).strip():
                raise ValueError(f"{value!r} is not an interval: write seconds or a duration "
                                 "like '90s', '30m', '2h', '1d'")
            seconds = round(sum(float(n) * _UNITS[u.lower()] for n, u in parts))
    else:
        raise ValueError(f"{value!r} is not an interval: write seconds or a duration like '30m', '2h', '1d'")
    if seconds <= 0:
        raise ValueError(f"{value!r} is not a positive interval: write e.g. '30m' or '2h'")
    return seconds


def _scalar(ctx: Ctx, node: Node, expected: str) -> Any:
    if not isinstance(node, ScalarNode):
        raise Invalid(f"expected {expected}, got {describe(node)}")
    return ctx.scalar(node)


def as_text(node: Node, *, nonempty: bool = True) -> str:
    """A string, taken as written (so `language: no` stays 'no', not false)."""
    if not isinstance(node, ScalarNode):
        raise Invalid(f"expected text, got {describe(node)}")
    value = str(node.value).strip()
    if nonempty and not value:
        raise Invalid("is empty: write a value or remove the key")
    return value


def text(*, nonempty: bool = True) -> Converter:
    def convert(ctx: Ctx, node: Node, path: str) -> str:
        return as_text(node, nonempty=nonempty)
    return convert


def whole(minimum: int, *, unit: str = "") -> Converter:
    def convert(ctx: Ctx, node: Node, path: str) -> int:
        value = _scalar(ctx, node, "a whole number")
        if isinstance(value, str) and value.strip().lstrip("-").isascii() and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"expected a whole number{unit}, got {describe(node)}")
        if value < minimum:
            raise Invalid(f"{value} is too small: use a whole number ≥ {minimum}{unit}")
        return value
    return convert


def number(minimum: float, maximum: float | None = None, *, above: bool = False, unit: str = "") -> Converter:
    """A float in [minimum, maximum] (or (minimum, maximum] when `above`)."""
    def convert(ctx: Ctx, node: Node, path: str) -> float:
        value = _scalar(ctx, node, "a number")
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(f"expected a number{unit}, got {describe(node)}")
        low_ok = value > minimum if above else value >= minimum
        if not low_ok or (maximum is not None and value > maximum):
            low = f"> {minimum:g}" if above else f"≥ {minimum:g}"
            high = f" and ≤ {maximum:g}" if maximum is not None else ""
            raise Invalid(f"{value:g} is out of range: use a number {low}{high}{unit}")
        return float(value)
    return convert


def duration(ctx: Ctx, node: Node, path: str) -> int:
    value = _scalar(ctx, node, "an interval")
    try:
        return parse_interval(value)
    except ValueError as exc:
        raise Invalid(str(exc)) from exc


def size(ctx: Ctx, node: Node, path: str) -> int:
    """Bytes: 10485760, "10MB", "512KB"."""
    value = _scalar(ctx, node, "a size")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _SIZE.match(str(value)) if isinstance(value, str) else None
    if match is None or float(match.group(1)) <= 0:
        raise Invalid(f"expected a size in bytes like 10485760, '512KB' or '10MB', got {describe(node)}")
    return int(float(match.group(1)) * _SIZES[match.group(2).lower()])


def flag(ctx: Ctx, node: Node, path: str) -> bool:
    value = _scalar(ctx, node, "true or false")
    if not isinstance(value, bool):
        raise Invalid(f"expected true or false, got {describe(node)}")
    return value


def choice(options: Sequence[str]) -> Converter:
    def convert(ctx: Ctx, node: Node, path: str) -> str:
        value = as_text(node)
        if value not in options:
            listed = " or ".join(f"'{o}'" for o in options)
            raise Invalid(f"{value!r} is not allowed: use {listed}{did_you_mean(value, options)}")
        return value
    return convert


def check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or re.search(r"\s", value):
        example = "https://" + value.split("://", 1)[-1].lstrip("/") if value else "https://example.org/news/"
        raise Invalid(f"{value!r} is not an http(s) URL: write it in full, e.g. '{example}'")
    return value


def url(ctx: Ctx, node: Node, path: str) -> str:
    return check_url(as_text(node))


def base_url(ctx: Ctx, node: Node, path: str) -> str:
    """Where output/ is served; always ends with '/' so feed file names join onto it."""
    value = url(ctx, node, path)
    return value if value.endswith("/") else value + "/"


def database(ctx: Ctx, node: Node, path: str) -> str:
    value = as_text(node)
    if value.startswith("sqlite:///") and len(value) > len("sqlite:///"):
        return value
    if value.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return value
    scheme = value.split(":", 1)[0] if ":" in value else ""
    raise Invalid(f"{value!r} is not a supported database URL (scheme {scheme!r}): use "
                  "'sqlite:///state/aggregator.db' (relative to this file) or 'postgresql://user:pw@host/db'")


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone(ctx: Ctx, node: Node, path: str) -> str:
    value = as_text(node)
    zones = _zones()
    if value in zones:
        return value
    if not zones:  # no tz database listing: trust ZoneInfo itself
        try:
            ZoneInfo(value)
            return value
        except (ZoneInfoNotFoundError, ValueError):
            pass
    by_city = {z.rsplit("/", 1)[-1].lower().replace("_", " "): z for z in zones if "/" in z}
    best = by_city.get(value.lower().replace("_", " ")) or suggest(value, zones)
    hint = (f" — did you mean '{best}'?" if best
            else " (use an IANA name like 'Asia/Shanghai' or 'Europe/Berlin')")
    raise Invalid(f"unknown timezone {value!r}{hint}")


def language(ctx: Ctx, node: Node, path: str) -> str:
    value = as_text(node)
    if not _LANGUAGE.match(value):
        raise Invalid(f"{value!r} is not a language tag: use one like 'en', 'zh' or 'zh-CN'")
    return value


def encoding(ctx: Ctx, node: Node, path: str) -> str:
    value = as_text(node)
    try:
        codecs.lookup(value)
    except LookupError as exc:
        raise Invalid(f"unknown encoding {value!r}: use a name like 'utf-8', 'gb18030' or 'big5'") from exc
    return value


def day(ctx: Ctx, node: Node, path: str) -> datetime:
    """A date or datetime, as an aware UTC datetime (naive values are read as UTC)."""
    value = _scalar(ctx, node, "a date")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise Invalid(f"{value!r} is not a date: write it as YYYY-MM-DD, e.g. 2017-01-01") from exc
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise Invalid(f"expected a date like 2017-01-01, got {describe(node)}")


def regex(ctx: Ctx, node: Node, path: str) -> str:
    value = as_text(node)
    try:
        compiled = re.compile(value)
    except re.error as exc:
        hint = "; in YAML, single-quote regexes so backslashes stay as written" if "\\" in value else ""
        raise Invalid(f"invalid regular expression '{value}': {exc.msg} at position {exc.pos}{hint}") from exc
    if compiled.groups < 1:
        raise Invalid(f"regular expression '{value}' has no (group): the scraper keeps group 1, "
                      "so wrap the part to keep in parentheses")
    return value


def check_selector(value: str) -> str:
    """`css`, `css@attr` or `json-ld:path.to.field`; the CSS part must compile."""
    if value.startswith("json-ld:"):
        if not value[len("json-ld:"):].strip():
            raise Invalid(f"{value!r} names no field: write e.g. 'json-ld:datePublished'")
        return value
    css = value
    if "@" in value:
        head, attr = value.rsplit("@", 1)
        if _ATTR.match(attr) and head.strip():
            css = head
    import soupsieve  # here, not at the top: only files with scrape selectors pay for it

    try:
        soupsieve.compile(css)
    except soupsieve.SelectorSyntaxError as exc:
        first = str(exc).splitlines()[0]
        raise Invalid(f"invalid CSS selector {value!r}: {first}") from exc
    return value


def selector(ctx: Ctx, node: Node, path: str) -> str:
    return check_selector(as_text(node))


def text_list(check: Callable[[str], str] | None = None, *, single: bool = False) -> Converter:
    """A list of non-empty strings, each bad item reported at its own line; `single`: one string is a list."""
    def convert(ctx: Ctx, node: Node, path: str) -> tuple[str, ...]:
        if single and isinstance(node, ScalarNode) and not is_null(node):
            node = SequenceNode("tag:yaml.org,2002:seq", [node], node.start_mark, node.end_mark)
        if not isinstance(node, SequenceNode):
            raise Invalid(f"expected a list like [a, b] or '- ' lines, got {describe(node)}")
        out: list[str] = []
        bad = False
        for i, item in enumerate(node.value):
            try:
                if isinstance(item, MappingNode | SequenceNode) or is_null(item):
                    raise Invalid(f"expected text, got {describe(item) if not is_null(item) else 'nothing'}")
                value = as_text(item)
                out.append(check(value) if check else value)
            except Invalid as exc:
                ctx.add(item, join(path, i), exc.message)
                bad = True
        if bad:
            raise Reported
        return tuple(out)
    return convert
