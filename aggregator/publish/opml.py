"""OPML 2.0 lists: `feeds.opml` (import every topic feed into a reader in one go) and `sources.opml`
(what this aggregator reads, so anyone can check or reuse the selection)."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from aggregator.publish.atom import base_url, clean_xml_text, iri
from aggregator.records import Config


def _document(title: str, owner: str) -> tuple[etree._Element, etree._Element]:
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = clean_xml_text(title)
    etree.SubElement(head, "ownerName").text = clean_xml_text(owner)
    return opml, etree.SubElement(opml, "body")


def _outline(body: etree._Element, **attrs: str) -> None:
    etree.SubElement(body, "outline", {k: clean_xml_text(v) for k, v in attrs.items()})


def _bytes(opml: etree._Element) -> bytes:
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + bytes(etree.tostring(opml, encoding="UTF-8",
                                                                             pretty_print=True))


def render_feeds_opml(config: Config, feeds: Sequence[tuple[str, str, str]]) -> bytes:
    """Every published feed as `(feed_id, title, description)`, in the order given."""
    base = base_url(config)
    opml, body = _document(f"{config.settings.title}: feeds", config.settings.title)
    for feed_id, title, description in feeds:
        attrs = {"type": "rss", "text": title, "title": title, "xmlUrl": f"{base}{feed_id}.atom",
                 "htmlUrl": f"{base}index.html#{feed_id}", "language": config.settings.language}
        if description:
            attrs["description"] = description
        _outline(body, **attrs)
    return _bytes(opml)


def render_sources_opml(config: Config) -> bytes:
    """Enabled sources: feeds with xmlUrl (a reader can subscribe), HTML pages with htmlUrl only."""
    opml, body = _document(f"{config.settings.title}: sources", config.settings.title)
    for source in sorted(config.sources, key=lambda s: s.id):
        if not source.enabled:
            continue
        if source.kind == "feed":
            _outline(body, type="rss", text=source.display_name, title=source.display_name, xmlUrl=iri(source.url))
        else:
            _outline(body, type="link", text=source.display_name, title=source.display_name,
                     htmlUrl=iri(source.url), url=iri(source.url))
    return _bytes(opml)
