"""Sniff what the bytes are before parsing, so a non-feed gets a message that says what it is."""

from __future__ import annotations

import re
from typing import Literal

from aggregator.errors import ParseError
from aggregator.parse.encoding import sniff_bom

_HTML = re.compile(r"^(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.IGNORECASE | re.DOTALL)
_FEED_ROOT = re.compile(r"<(?:[\w-]+:)?(?:rss|feed|RDF|channel)[\s>]")


def head_text(body: bytes, size: int = 2048) -> str:
    """The start of the document as text, whatever its (BOM-given) encoding."""
    encoding, skip = sniff_bom(body)
    chunk = body[skip: skip + size]
    if encoding and encoding != "utf-8":
        chunk = body[skip: skip + size * 4]
    return chunk.decode(encoding or "utf-8", "replace").lstrip("\ufeff \t\r\n")


def sniff(body: bytes, content_type: str | None = None) -> Literal["xml", "json"]:
    """'xml' or 'json'; ParseError (saying what it looks like and what to do) for anything else."""
    if not body or (not body[:256].strip() and not body.strip()):  # the slice spares copying a large body
        raise ParseError("empty response — the server sent no content; check the URL in a browser")
    if body[:2] == b"\x1f\x8b":
        raise ParseError("gzip-compressed bytes without a Content-Encoding header — the server is misconfigured")
    head = head_text(body)
    if head.startswith(("{", "[")):
        return "json"
    if head.startswith("<"):
        if _HTML.match(head) and not _FEED_ROOT.search(head):
            raise ParseError("this is an HTML page, not a feed — if it is a news page use `kind: html`, "
                             "or find the feed URL in the page's <link rel=\"alternate\">")
        return "xml"
    if _FEED_ROOT.search(head):
        return "xml"  # junk before the root element: the XML path strips it
    if content_type and "json" in content_type:
        return "json"
    preview = head[:40].encode("unicode_escape").decode("ascii")
    raise ParseError(f"not XML or JSON (starts with {preview!r}) — check that the URL points at a feed")
