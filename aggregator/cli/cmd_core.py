"""`aggregator run | check | status | export`: the commands a cron user needs."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from aggregator.cli.app import cli
from aggregator.cli.common import (
    EXIT_CONFIG,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_SOURCES_FAILED,
    config_option,
    fail,
    load,
    setup_logging,
    store_for,
    with_log_options,
)
from aggregator.errors import LockedError
from aggregator.records import Config, RunReport, SourceOutcome, SourceState


@cli.command()
@config_option
@click.option("--all", "force", is_flag=True, help="Poll every enabled source now, ignoring the schedule.")
@click.option("--source", "only", multiple=True, metavar="ID", help="Poll only this source (repeatable).")
@click.option("--no-progress", is_flag=True, help="Plain log lines even on a terminal.")
@with_log_options
def run(config_path: Path, force: bool, only: tuple[str, ...], no_progress: bool, verbose: int,
        log_format: str) -> None:
    """One pass over the sources that are due (for cron), then rewrite the feeds that changed.

    Exit codes: 0 all polled sources fine, 1 some failed (see the log lines), 2 invalid sources.yaml,
    3 another run holds the lock, 4 the database cannot be opened.
    """
    from aggregator.lock import lock_path_for, run_lock
    from aggregator.pipeline import run_once
    from aggregator.status_feed import publish_status_feed

    config = load(config_path)
    unknown = [s for s in only if config.source(s) is None]
    if unknown:
        fail(f"no source with id {', '.join(map(repr, unknown))} in {config_path}", EXIT_CONFIG)
    setup_logging(verbose, log_format)
    try:
        with run_lock(lock_path_for(config.settings.output_dir)):
            store = store_for(config)
            try:
                progress = _progress(config, enabled=not no_progress and sys.stderr.isatty())
                with progress as hook:
                    report = run_once(config, store, force=force, only=only, progress=hook)
                publish_status_feed(config, store.source_states(), datetime.now(UTC))
            finally:
                store.close()
    except LockedError as exc:
        fail(str(exc), EXIT_LOCKED)
    click.echo(_summary(report), err=True)
    sys.exit(EXIT_SOURCES_FAILED if report.failed else EXIT_OK)


class _Progress:
    """A rich progress bar on a terminal; nothing when piped (the log lines say it all)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled and total > 0
        self._bar: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(TextColumn("polling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                             transient=True)
        self._bar.start()
        task = self._bar.add_task("poll", total=self.total)

        def hook(outcome: SourceOutcome) -> None:
            self._bar.advance(task)

        return hook

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _progress(config: Config, enabled: bool) -> _Progress:
    return _Progress(len([s for s in config.sources if s.enabled]), enabled)


def _summary(report: RunReport) -> str:
    counts: dict[str, int] = {}
    for o in report.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    new = sum(o.new for o in report.outcomes)
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing due"
    return (f"polled {len(report.outcomes)} source(s): {parts}; {new} new record(s); "
            f"{len(report.feeds_written)} feed file(s) rewritten in {report.elapsed:.1f}s")


@cli.command()
@config_option
def check(config_path: Path) -> None:
    """Validate sources.yaml: every problem with file, line and key; exit 2 if any."""
    from aggregator.config import check_config

    if not config_path.exists():
        fail(f"{config_path} not found", EXIT_CONFIG)
    problems = check_config(config_path)
    for p in problems:
        click.echo(str(p))
    if problems:
        click.echo(f"{len(problems)} problem(s) in {config_path}", err=True)
        sys.exit(EXIT_CONFIG)
    config = load(config_path)
    click.echo(f"{config_path}: OK ({len(config.sources)} sources, {len(config.topics)} topics)")


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else None


def status_rows(config: Config, states: dict[str, SourceState]) -> list[dict[str, Any]]:
    rows = []
    for source in config.sources:
        s = states.get(source.id) or SourceState(source_id=source.id)
        if not source.enabled:
            result = "disabled in sources.yaml"
        elif s.disabled_reason:
            result = "disabled"
        else:
            result = s.last_status or "never polled"
        rows.append({
            "source": source.id,
            "kind": source.kind,
            "url": s.url or source.url,
            "last_attempt": _iso(s.last_attempt),
            "last_success": _iso(s.last_success),
            "result": result,
            "http_status": s.http_status,
            "new_entries": s.new_entries,
            "consecutive_failures": s.consecutive_failures,
            "next_due": _iso(s.next_due),
            "retry_after_until": _iso(s.retry_after_until),
            "error": s.disabled_reason or s.last_error,
        })
    return rows


@cli.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
def status(config_path: Path, as_json: bool) -> None:
    """Per source: last fetch, result, new entries, failures, next due, and why it is broken."""
    config = load(config_path)
    store = store_for(config)
    try:
        rows = status_rows(config, store.source_states())
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} sources")
    for column in ("source", "result", "http", "new", "failures", "last attempt", "next due", "error"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r["source"], r["result"], str(r["http_status"] or ""), str(r["new_entries"]),
                      str(r["consecutive_failures"]), r["last_attempt"] or "", r["next_due"] or "",
                      r["error"] or "")
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@cli.command()
@config_option
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="Write here instead of stdout.")
def export(config_path: Path, output: Any) -> None:
    """Every stored record as JSON lines (id, story, url, source, title, dates, topics, summary, text)."""
    config = load(config_path)
    store = store_for(config)
    try:
        for a in store.iter_articles():
            output.write(json.dumps({
                "id": a.uid, "story": a.story_id, "url": a.url, "source": a.source_id, "title": a.title,
                "published": _iso(a.published), "updated": _iso(a.updated), "date_source": a.date_source,
                "author": a.author, "language": a.language, "topics": list(a.topics),
                "summary": a.summary_html, "text": a.text,
            }, ensure_ascii=False) + "\n")
    finally:
        store.close()


@cli.command()
@config_option
@click.option("--min-sources", type=int, default=1, show_default=True,
              help="Only stories carried by at least this many records (2: the cross-source ones).")
def stories(config_path: Path, min_sources: int) -> None:
    """Every story as JSON lines: its stable entry id, primary copy and every member record."""
    config = load(config_path)
    store = store_for(config)
    try:
        for s in store.iter_stories():
            if len(s.members) < min_sources:
                continue
            click.echo(json.dumps({
                "story": s.story_id, "title": s.primary.title, "published": _iso(s.published),
                "updated": _iso(s.updated), "topics": list(s.topics), "primary": s.primary.uid,
                "members": [{"id": m.uid, "source": m.source_id, "url": m.url, "title": m.title,
                             "published": _iso(m.published)} for m in s.members],
            }, ensure_ascii=False))
    finally:
        store.close()
