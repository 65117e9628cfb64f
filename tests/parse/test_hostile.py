"""Hostile and broken input: nothing leaks, nothing blows up, real-world damage is repaired."""

from __future__ import annotations

import time

import pytest

from aggregator.errors import ParseError
from aggregator.parse import parse_feed
from aggregator.records import ParsedFeed

URL = "http://hostile.example.com/feed"


def fields(feed: ParsedFeed) -> str:
    parts = [feed.title, feed.link or ""]
    for e in feed.entries:
        parts += [e.title, e.summary, e.content, e.link or "", e.guid or "", e.author or ""]
    return "\n".join(parts)


def rss(items: str, head: str = "", decl: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    return f"{decl}{head}<rss version=\"2.0\"><channel><title>T</title>{items}</channel></rss>"


@pytest.mark.parametrize("target", ["file:///etc/passwd", "http://127.0.0.1:9/secret"])
def test_external_entities_are_never_loaded(target: str) -> None:
    body = rss("<item><title>a &xxe; b</title><description>&xxe;</description></item>",
               head=f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{target}">]>')
    feed = parse_feed(body.encode(), url=URL)
    assert "root:" not in fields(feed)
    assert feed.entries[0].title.startswith("a")


def test_parameter_entity_xxe_is_inert() -> None:
    body = rss("<item><title>x</title></item>",
               head='<!DOCTYPE rss [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>')
    try:
        feed = parse_feed(body.encode(), url=URL)
    except ParseError:
        return
    assert "root:" not in fields(feed)


def test_billion_laughs_does_not_expand() -> None:
    ents = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    body = rss("<item><title>&lol9;</title><description>&lol9;</description></item>", head=f"<!DOCTYPE rss [{ents}]>")
    start = time.perf_counter()
    try:
        feed = parse_feed(body.encode(), url=URL)
    except ParseError:
        feed = None
    assert time.perf_counter() - start < 2
    if feed is not None:
        assert len(fields(feed)) < 10_000


def test_deeply_nested_elements_fail_fast() -> None:
    body = rss("<item><title>deep</title><description>" + "<x>" * 100_000 + "</x>" * 100_000 + "</description></item>")
    start = time.perf_counter()
    with pytest.raises(ParseError, match="nested too deeply"):
        parse_feed(body.encode(), url=URL)
    assert time.perf_counter() - start < 2


def test_huge_text_node_is_bounded() -> None:
    body = rss(f"<item><title>big</title><description>{'A' * 12_000_000}</description></item>")
    start = time.perf_counter()
    try:
        feed = parse_feed(body.encode(), url=URL)
        assert feed.entries and feed.entries[0].title == "big"
    except ParseError:
        pass
    assert time.perf_counter() - start < 10


def test_script_is_kept_raw_not_run() -> None:
    body = rss('<item><title>x</title><description><![CDATA[<img src=x onerror="alert(1)"><script>evil()</script>]]>'
               "</description></item>")
    (e,) = parse_feed(body.encode(), url=URL).entries
    assert "<script>evil()</script>" in e.summary


def test_undeclared_html_entities_are_translated() -> None:
    body = rss("<item><title>Caf&eacute;&nbsp;Messe &hellip; &bogus;</title><description>&copy; 2024</description>"
               "</item>")
    (e,) = parse_feed(body.encode(), url=URL).entries
    assert e.title == "Café Messe … &bogus;"
    assert e.summary == "© 2024"


def test_control_characters_are_removed() -> None:
    body = rss("<item><title>bad\x01\x08 chars\x1f</title></item>")
    feed = parse_feed(body.encode(), url=URL)
    assert feed.entries[0].title == "bad chars"
    assert any("control characters" in w for w in feed.warnings)


def test_broken_xml_is_recovered_with_warning() -> None:
    body = rss("<item><title>AT&T wins</title><link>http://x.example.com/1</link></item>"
               "<item><title>Second <b>unclosed</title><link>http://x.example.com/2</link></item>")
    feed = parse_feed(body.encode(), url=URL)
    assert [e.link for e in feed.entries] == ["http://x.example.com/1", "http://x.example.com/2"]
    assert "AT&T" in feed.entries[0].title
    assert any("malformed" in w for w in feed.warnings)


# --------------------------------------------------------------------------- encodings

TITLE = "展会新闻"


def test_undeclared_gbk_is_read_as_gb18030() -> None:
    body = rss(f"<item><title>{TITLE}</title></item>", decl='<?xml version="1.0"?>').encode("gbk")
    assert parse_feed(body, url=URL).entries[0].title == TITLE


def test_gb2312_label_decodes_gbk_characters() -> None:
    text = "镕基"  # 镕 is in GBK/GB18030 but not in GB2312
    body = rss(f"<item><title>{text}</title></item>", decl='<?xml version="1.0" encoding="gb2312"?>').encode("gb18030")
    assert parse_feed(body, url=URL).entries[0].title == text


def test_iso_8859_1_label_is_windows_1252() -> None:
    body = rss("<item><title>\u201cQuoted\u201d \u20ac5</title></item>",
               decl='<?xml version="1.0" encoding="iso-8859-1"?>').encode("cp1252")
    assert parse_feed(body, url=URL).entries[0].title == "\u201cQuoted\u201d \u20ac5"


def test_declared_utf8_but_latin1_bytes() -> None:
    body = rss("<item><title>Düsseldorf Messe für Händler</title></item>").encode("cp1252")
    feed = parse_feed(body, url=URL)
    assert feed.entries[0].title == "Düsseldorf Messe für Händler"
    assert feed.warnings


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_boms_and_utf16(codec: str) -> None:
    decl = '<?xml version="1.0" encoding="utf-16"?>' if "16" in codec else '<?xml version="1.0"?>'
    body = rss(f"<item><title>{TITLE} ü</title></item>", decl=decl).encode(codec)
    assert parse_feed(body, url=URL).entries[0].title == f"{TITLE} ü"


def test_xml_declaration_wins_over_http_charset_for_application_xml() -> None:
    body = rss("<item><title>Köln</title></item>", decl='<?xml version="1.0" encoding="iso-8859-1"?>').encode("latin-1")
    feed = parse_feed(body, url=URL, content_type="application/rss+xml", charset="utf-8")
    assert feed.entries[0].title == "Köln"


def test_http_charset_wins_for_text_xml() -> None:
    body = rss(f"<item><title>{TITLE}</title></item>", decl='<?xml version="1.0" encoding="iso-8859-1"?>')
    feed = parse_feed(body.encode("gb18030"), url=URL, content_type="text/xml", charset="gb2312")
    assert feed.entries[0].title == TITLE


def test_leading_whitespace_and_junk_before_root() -> None:
    body = b"\n\n  " + rss("<item><title>ok</title></item>").encode()
    assert parse_feed(body, url=URL).entries[0].title == "ok"
