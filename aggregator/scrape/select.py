"""Selector notation of `scrape:` rules: `css`, `css@attr`, `json-ld:path.to.field`, plus `*_regex`."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup, Tag

from aggregator.scrape.dates import article_objects, json_ld_objects

_ATTR = re.compile(r"^[A-Za-z_:][-A-Za-z0-9_:.]*$")


def split_selector(selector: str) -> tuple[str, str | None]:
    """`css@attr` -> (css, attr); a plain selector -> (css, None)."""
    if "@" in selector:
        head, attr = selector.rsplit("@", 1)
        if _ATTR.match(attr) and head.strip():
            return head.strip(), attr
    return selector.strip(), None


def css(root: Tag, selector: str) -> list[Tag]:
    return list(root.select(selector))


def text_of(el: Tag) -> str:
    return " ".join(el.get_text().split())


def json_ld_value(doc: BeautifulSoup, path: str) -> str | None:
    """`datePublished`, `author.name`... of the first article object (any object as a fallback)."""
    for objs in (article_objects(doc), json_ld_objects(doc)):
        for obj in objs:
            value: Any = obj
            for part in path.split("."):
                if isinstance(value, list):
                    value = value[0] if value else None
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, list):
                value = value[0] if value else None
            if isinstance(value, dict):
                value = value.get("name") or value.get("@id")
            if isinstance(value, str | int | float) and str(value).strip():
                return str(value).strip()
    return None


def select_values(root: BeautifulSoup, selector: str) -> list[str]:
    """Every value the selector yields (text, attribute or JSON-LD field), empty ones dropped."""
    if selector.startswith("json-ld:"):
        value = json_ld_value(root, selector[len("json-ld:"):].strip())
        return [value] if value else []
    query, attr = split_selector(selector)
    out = []
    for el in css(root, query):
        raw = el.get(attr) if attr else None
        value = (" ".join(raw) if isinstance(raw, list) else str(raw or "")) if attr else text_of(el)
        value = " ".join(value.split())
        if value:
            out.append(value)
    return out


def select_value(root: BeautifulSoup, selector: str | None, regex: str | None = None) -> str | None:
    """The first value of `selector`, narrowed to group 1 of `regex` (first value that matches)."""
    if not selector:
        return None
    for value in select_values(root, selector):
        if not regex:
            return value
        match = re.search(regex, value)
        if match:
            return " ".join((match.group(1) or "").split()) or None
    return None
