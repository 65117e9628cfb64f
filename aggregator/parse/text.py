"""Small text helpers shared by the XML, JSON and fallback readers."""

from __future__ import annotations

import copy
import html
import re

from lxml import etree

_TAG = re.compile(r"<(?:[A-Za-z/!?][^<>]*)>")
_CHARREF = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_EMAIL_NAME = re.compile(r"^\s*\S+@\S+\s*\((.+)\)\s*$")
_NAME_EMAIL = re.compile(r"^\s*(.+?)\s*<\S+@\S+>\s*$")


def collapse(text: str) -> str:
    """Runs of whitespace as one space, trimmed.

    `str.split()` splits on exactly the characters `re`'s `\\s` matches (str.isspace), so this equals
    `re.sub(r"\\s+", " ", text).strip()` at a third of the cost.
    """
    return " ".join(text.split())


def plain_text(text: str, *, is_html: bool = False) -> str:
    """Plain, single-line text: tags stripped and entities decoded when it carries HTML."""
    if is_html or (("<" in text) and _TAG.search(text)):
        text = _TAG.sub(" " if is_html else "", text)
        text = html.unescape(text)
    elif "&" in text and _CHARREF.search(text):
        text = html.unescape(text)  # double-escaped titles are common in RSS
    return collapse(text)


def author_name(value: str | None) -> str | None:
    """'jane@example.com (Jane Doe)' and 'Jane Doe <jane@example.com>' -> 'Jane Doe'."""
    if not value:
        return None
    text = collapse(value)
    m = _EMAIL_NAME.match(text) or _NAME_EMAIL.match(text)
    if m:
        text = m.group(1).strip()
    return text or None


def text_to_html(text: str) -> str:
    """Plain text as HTML: escaped, blank lines become paragraphs."""
    text = text.strip()
    if not text:
        return ""
    paragraphs = [html.escape(p).replace("\n", "<br>") for p in re.split(r"\n\s*\n", text)]
    return "".join(f"<p>{p}</p>" for p in paragraphs) if len(paragraphs) > 1 else paragraphs[0]


def all_text(el: etree._Element) -> str:
    """All text of the element and its descendants (tails included), as itertext() gives it."""
    if len(el) == 0:  # no child nodes of any kind (entities count): itertext() yields only .text
        return el.text or ""
    return "".join(t for t in el.itertext() if isinstance(t, str))


def inner_markup(el: etree._Element) -> str:
    """The element's content as markup, namespaces dropped (for XHTML and stray HTML in RSS)."""
    if len(el) == 0:
        return el.text or ""
    clone = copy.deepcopy(el)
    for node in clone.iter():
        if isinstance(node.tag, str) and node.tag.startswith("{"):
            node.tag = node.tag.rpartition("}")[2]
    etree.cleanup_namespaces(clone)
    parts = [html.escape(clone.text or "", quote=False)]
    parts.extend(etree.tostring(child, encoding="unicode", method="xml", with_tail=True) for child in clone)
    return "".join(parts)
