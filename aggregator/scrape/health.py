"""Selector health: a scrape that finds nothing, or whose fields suddenly come back empty, is
reported as broken with the selector to fix, instead of publishing nothing silently."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from bs4 import BeautifulSoup

from aggregator.records import Source
from aggregator.scrape.article import ArticleFields

_LOGIN = re.compile(r"\b(?:log\s?in|sign\s?in|anmelden|登录|登陆|用户名)\b", re.I)


def page_title(doc: BeautifulSoup) -> str:
    return " ".join(doc.title.get_text().split())[:80] if doc.title else ""


def looks_like_login(doc: BeautifulSoup) -> bool:
    """A password field, or a login title on a page that has a form."""
    if doc.find("input", attrs={"type": lambda v: v is not None and v.lower() == "password"}):
        return True
    return bool(doc.find("form")) and bool(_LOGIN.search(page_title(doc)))


def describe(doc: BeautifulSoup) -> str:
    title = page_title(doc)
    links = len(doc.find_all("a", href=True))
    return f"page title: {title!r}, {links} links" if title else f"no <title>, {links} links"


def no_items(source: Source, url: str, doc: BeautifulSoup, previous: int) -> str:
    rules = source.scrape
    what = (f"item_link {rules.item_link!r}" if rules and rules.item_link else
            f"item {rules.item!r}" if rules and rules.item else "automatic link detection")
    before = f" (the last run found {previous})" if previous else ""
    login = " It looks like a login page." if looks_like_login(doc) else ""
    return (f"{what} matched nothing on {url} ({describe(doc)}){before}.{login} The site may have changed; "
            f"run `aggregator probe {source.id}` and fix the selector in sources.yaml")


def empty_fields(source: Source, articles: Sequence[ArticleFields]) -> str | None:
    """Name the selector whose field is empty on most fetched articles (at least 2 of them)."""
    rules = source.scrape
    if rules is None or len(articles) < 2:
        return None
    checks: tuple[tuple[str, str | None, Callable[[ArticleFields], Any]], ...] = (
        ("title", rules.title, lambda a: a.title), ("body", rules.body, lambda a: a.body_text),
        ("date", rules.date or rules.date_regex, lambda a: a.published))
    for field, selector, get in checks:
        if not selector:
            continue
        empty = [a for a in articles if not get(a)]
        if len(empty) * 2 > len(articles):
            shown = selector if field != "date" or rules.date else f"date_regex {rules.date_regex!r}"
            return (f"{field} selector {shown!r} found nothing on {len(empty)} of {len(articles)} articles "
                    f"(e.g. {empty[0].url}): the site may have changed; run `aggregator probe {source.id}`")
    return None
