"""`output/_status.atom`: one entry per failing source, so an operator follows breakage in the same reader.

An entry's id is stable for one failure streak (the source id plus the time of its last success), so a
reader shows a new item when a source starts failing, not at every retry; when the source recovers the
entry leaves the feed. The file is rewritten only when its content changes.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from aggregator.records import Config, Source, SourceState

STATUS_FILE = "_status.atom"
FAILING = ("error", "broken", "disabled")


@dataclass(frozen=True, slots=True)
class Breakage:
    """One source that needs an operator, and why."""

    source: Source
    state: SourceState

    @property
    def entry_id(self) -> str:
        since = _stamp(self.state.last_success) if self.state.last_success else "never-succeeded"
        return f"urn:aggregator:status:{urllib.parse.quote(self.source.id, safe='')}:{since}"

    @property
    def reason(self) -> str:
        return self.state.disabled_reason or self.state.last_error or self.state.last_status or "failing"

    @property
    def title(self) -> str:
        name = self.source.display_name
        if self.state.disabled_reason:
            return f"{name} is disabled: {self.reason}"
        n = self.state.consecutive_failures
        return f"{name} is failing ({n} attempt{'s' if n != 1 else ''} in a row): {self.reason}"


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if value else "never"


def is_failing(source: Source, state: SourceState) -> bool:
    if not source.enabled:
        return False  # switched off in sources.yaml on purpose: nothing to report
    return bool(state.disabled_reason) or state.last_status in FAILING or state.consecutive_failures > 0


def breakages(config: Config, states: Mapping[str, SourceState]) -> list[Breakage]:
    """The configured sources that are failing, in sources.yaml order (removed sources are not reported)."""
    out = []
    for source in config.sources:
        state = states.get(source.id)
        if state is not None and is_failing(source, state):
            out.append(Breakage(source, state))
    return out


def _details(b: Breakage) -> str:
    s = b.state
    rows = [
        ("source", b.source.id),
        ("url", s.url or b.source.url),
        ("status", "disabled" if s.disabled_reason else s.last_status or "error"),
        ("HTTP status", str(s.http_status) if s.http_status is not None else "none (no answer)"),
        ("consecutive failures", str(s.consecutive_failures)),
        ("last attempt", _iso(s.last_attempt)),
        ("last success", _iso(s.last_success)),
        ("next attempt", "never (fix sources.yaml)" if s.disabled_reason else _iso(s.next_due)),
        ("reason", b.reason),
    ]
    if s.retry_after_until:
        rows.append(("server asked us to wait until", _iso(s.retry_after_until)))
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def status_feed_url(config: Config) -> str:
    base = config.settings.base_url
    return (base if base.endswith("/") else base + "/") + STATUS_FILE


def render_status_feed(config: Config, items: list[Breakage], *, updated: datetime) -> bytes:
    """A valid Atom 1.0 document listing `items`; pure, so the same input gives the same bytes."""
    self_url = status_feed_url(config)
    title = f"{config.settings.title}: source health"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title>",
        f"<subtitle>{len(items)} source(s) failing; an entry leaves this feed when its source recovers"
        "</subtitle>",
        f"<id>{escape(self_url)}</id>",
        f"<link rel=\"self\" type=\"application/atom+xml\" href={quoteattr(self_url)}/>",
        f"<updated>{_iso(updated)}</updated>",
        "<author><name>aggregator</name></author>",
        '<generator uri="https://github.com/aggregator/aggregator">aggregator</generator>',
    ]
    for b in items:
        link = b.state.url or b.source.url
        parts += [
            "<entry>",
            f"<title>{escape(b.title)}</title>",
            f"<id>{escape(b.entry_id)}</id>",
            f"<link href={quoteattr(link)}/>",
            f"<updated>{_iso(b.state.last_attempt or updated)}</updated>",
            f"<summary>{escape(b.reason)}</summary>",
            f"<content type=\"html\">{escape(_details(b))}</content>",
            "</entry>",
        ]
    parts.append("</feed>")
    return ("\n".join(parts) + "\n").encode("utf-8")


_FEED_UPDATED = re.compile(rb"<updated>([^<]+)</updated>")


def _previous_updated(data: bytes) -> datetime | None:
    match = _FEED_UPDATED.search(data)
    if not match:
        return None
    try:
        return datetime.fromisoformat(match.group(1).decode().replace("Z", "+00:00"))
    except ValueError:
        return None


def publish_status_feed(config: Config, states: Mapping[str, SourceState], now: datetime) -> bool:
    """Write output/_status.atom when what it says changed; True when the file was rewritten.

    The feed's <updated> moves only when an entry appears, changes or leaves, so an idle install
    never touches the file (its ETag and Last-Modified stay valid for readers).
    """
    from aggregator.publish import write_if_changed

    path: Path = config.settings.output_dir / STATUS_FILE
    items = breakages(config, states)
    try:
        old = path.read_bytes()
    except OSError:
        old = b""
    previous = _previous_updated(old)
    if previous is not None and render_status_feed(config, items, updated=previous) == old:
        return False
    return write_if_changed(path, render_status_feed(config, items, updated=now))
