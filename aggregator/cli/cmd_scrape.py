"""`aggregator probe` (try a scraped source without storing anything) and `aggregator extract`."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aggregator.cli.app import cli
from aggregator.cli.common import EXIT_CONFIG, EXIT_SOURCES_FAILED, config_option, fail, load
from aggregator.errors import SourceError
from aggregator.records import Settings, Source

if TYPE_CHECKING:  # the scraper (trafilatura, bs4) loads only for the commands that use it: `run` starts faster
    from aggregator.scrape.article import ArticleFields


def _words(text: str, n: int = 8) -> tuple[str, str]:
    words = text.split()
    if len(words) <= 1 and text:  # Chinese: no spaces, show characters
        flat = "".join(text.split())
        return flat[:24], flat[-24:]
    return " ".join(words[:n]), " ".join(words[-n:])


def _row(fields: ArticleFields) -> dict[str, Any]:
    first, last = _words(fields.body_text)
    return {
        "url": fields.url, "title": fields.title,
        "published": fields.published.value.isoformat() if fields.published else None,
        "date_rule": fields.published.source if fields.published else None,
        "author": fields.author, "source": fields.source, "language": fields.language,
        "canonical_url": fields.canonical_url, "body_first_words": first, "body_last_words": last,
        "body_chars": len(fields.body_text),
    }


def _source_for(target: str, config_path: Path) -> tuple[Source, Settings]:
    if target.startswith(("http://", "https://")):
        settings = load(config_path).settings if config_path.exists() else Settings()
        return Source(id="probe", url=target, kind="html"), settings
    config = load(config_path)
    source = config.source(target)
    if source is None:
        known = ", ".join(s.id for s in config.sources if s.kind == "html") or "none"
        fail(f"no source {target!r} in {config_path} (html sources: {known}); or pass a list-page URL", EXIT_CONFIG)
    if source.kind != "html":
        fail(f"source {target!r} is kind: {source.kind}; probe reads html sources (kind: html)", EXIT_CONFIG)
    return source, config.settings


@cli.command()
@click.argument("target", metavar="SOURCE_ID_OR_URL")
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per item instead of text.")
@click.option("--max-articles", type=click.IntRange(1), default=None,
              help="Article pages to fetch (default: the source's max_articles).")
@click.option("--auto", is_flag=True, help="Ignore the source's selectors: show what automatic mode finds.")
def probe(target: str, config_path: Path, as_json: bool, max_articles: int | None, auto: bool) -> None:
    """Fetch a source's list and articles once, store nothing, and print what would be extracted."""
    from aggregator.fetch import Fetcher
    from aggregator.scrape import scrape_source

    source, settings = _source_for(target, config_path)
    if auto:
        source = replace(source, scrape=None)
    if max_articles and source.scrape is not None:
        source = replace(source, scrape=replace(source.scrape, max_articles=max_articles))
    elif max_articles:
        from aggregator.records import ScrapeRules

        source = replace(source, scrape=ScrapeRules(max_articles=max_articles))
    try:
        result = scrape_source(source, Fetcher(settings), settings, is_known=lambda urls: set(),
                               now=datetime.now(UTC), fetch_known=True)
    except SourceError as exc:
        fail(str(exc), EXIT_SOURCES_FAILED)
    for fields in result.articles:
        row = _row(fields)
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        click.echo(f"{row['url']}\n  title:     {row['title']!r}\n  published: {row['published']}  "
                   f"(rule: {row['date_rule']})\n  author:    {row['author']}   source: {row['source']}   "
                   f"language: {row['language']}\n  body:      {row['body_first_words']} ... "
                   f"{row['body_last_words']}  ({row['body_chars']} chars)\n")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"{len(result.articles)} article(s), {result.pages_fetched} page(s) fetched", err=True)
    if result.broken:
        click.echo(f"BROKEN: {result.broken}", err=True)
        sys.exit(EXIT_SOURCES_FAILED)


@cli.command()
def extract() -> None:
    """Read JSON lines {"url", "html"} on stdin; write {"url", "title", "published", "author", "language",
    "body"} per line with the extractor the pipeline uses (automatic mode)."""
    from aggregator.extract import main

    main()
