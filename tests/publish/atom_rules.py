"""An RFC 4287 checker for tests: the appendix B RELAX NG schema plus the rules a schema cannot express."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

SCHEMA = etree.RelaxNG(etree.parse(str(Path(__file__).with_name("atom.rng"))))
A = "{http://www.w3.org/2005/Atom}"
# RFC 3339 date-time (RFC 4287 §3.3): full date, "T", time, optional fraction, Z or numeric offset.
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _absolute(iri: str) -> bool:
    parts = urlsplit(iri)
    return bool(parts.scheme) and (parts.scheme in ("urn", "tag", "mailto") or bool(parts.netloc))


def _check_links(owner: etree._Element, where: str, *, need_self: bool) -> list[str]:
    problems = []
    links = owner.findall(f"{A}link")
    selfs = [link for link in links if link.get("rel") == "self"]
    if need_self and len(selfs) != 1:
        problems.append(f"{where}: {len(selfs)} rel=self links, want exactly one")
    if not need_self and len(selfs) > 1:
        problems.append(f"{where}: {len(selfs)} rel=self links, want at most one")
    alternates = Counter((link.get("type"), link.get("hreflang")) for link in links
                         if link.get("rel", "alternate") == "alternate")
    problems += [f"{where}: several alternate links with type/hreflang {key}" for key, n in alternates.items()
                 if n > 1]
    for link in links:
        if not _absolute(link.get("href", "")):
            problems.append(f"{where}: link href {link.get('href')!r} is not an absolute IRI")
    return problems


def atom_problems(data: bytes) -> list[str]:
    """Every RFC 4287 violation found in one document (empty list: valid)."""
    root = etree.fromstring(data)
    if not SCHEMA.validate(root):
        return [f"schema: line {e.line}: {e.message}" for e in SCHEMA.error_log]
    problems: list[str] = []
    for el in root.iter(f"{A}updated", f"{A}published"):
        if not RFC3339.match((el.text or "").strip()):
            problems.append(f"{el.tag[len(A):]} {el.text!r} is not an RFC 3339 date-time")
    for el in root.iter(f"{A}id", f"{A}icon", f"{A}logo"):
        if not _absolute((el.text or "").strip()):
            problems.append(f"{el.tag[len(A):]} {el.text!r} is not an absolute IRI")
    problems += _check_links(root, "feed", need_self=True)
    for source in root.iter(f"{A}source"):
        problems += _check_links(source, "atom:source", need_self=False)
    entries = root.findall(f"{A}entry")
    ids = Counter(e.findtext(f"{A}id") for e in entries)
    problems += [f"entry id {i!r} appears {n} times" for i, n in ids.items() if n > 1]
    feed_author = root.find(f"{A}author") is not None
    for entry in entries:
        where = f"entry {entry.findtext(f'{A}id')!r}"
        problems += _check_links(entry, where, need_self=False)
        if not feed_author and entry.find(f"{A}author") is None and entry.find(f"{A}source/{A}author") is None:
            problems.append(f"{where}: no author, and the feed has none either")
        content = entry.find(f"{A}content")
        if content is None and not any(link.get("rel", "alternate") == "alternate"
                                       for link in entry.findall(f"{A}link")):
            problems.append(f"{where}: neither content nor an alternate link")
    return problems
