"""One small inline feed per format, checking every RawEntry field a user relies on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from aggregator.errors import ParseError
from aggregator.parse import parse_feed

URL = "http://news.example.com/feeds/main.xml"

RSS091 = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
 "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel>
<title>Fair News 0.91</title><link>http://fair.example.com/</link><language>de</language>
<item><title>Caf\xe9 &amp; Messe&nbsp;2024</title><link>http://fair.example.com/a1</link>
<description>Opening &lt;b&gt;day&lt;/b&gt;</description></item>
</channel></rss>"""

RSS092 = b"""<rss version="0.92"><channel><title>T</title><link>http://f.example.com/</link>
<item><description>Only a description</description><category>Trade</category></item>
<item><title>Second</title><link>/relative/2</link></item>
</channel></rss>"""

RSS2 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Expo   Wire</title><link>http://expo.example.com/</link><language>en-GB</language><ttl>90</ttl>
<item>
  <title>Hannover Messe  opens\n doors</title>
  <link>http://expo.example.com/2024/hm</link>
  <guid isPermaLink="false">hm-2024</guid>
  <description><![CDATA[<p>Short <em>teaser</em></p>]]></description>
  <content:encoded><![CDATA[<p>Full body <script>alert(1)</script></p>]]></content:encoded>
  <dc:creator>Jane Doe</dc:creator>
  <pubDate>Mon, 22 Apr 2024 08:30:00 +0200</pubDate>
  <category>Industry</category><category>Fairs</category>
</item>
<item>
  <title>&lt;b&gt;Bold&lt;/b&gt; title</title>
  <guid>http://expo.example.com/2024/permalink</guid>
  <author>press@expo.example.com (Press Office)</author>
  <pubDate>Tue, 23 Apr 2024 09:00:00</pubDate>
</item>
</channel></rss>"""

RSS1 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
<channel rdf:about="http://rdf.example.com/"><title>RDF News</title><link>http://rdf.example.com/</link>
<dc:language>fr</dc:language><sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>
</channel>
<item rdf:about="http://rdf.example.com/i1"><title>Salon</title><link>http://rdf.example.com/i1</link>
<description>Le salon</description><dc:date>2024-03-01T09:00:00+01:00</dc:date><dc:creator>Luc</dc:creator>
<dc:subject>Salons</dc:subject></item>
</rdf:RDF>"""

RSS090 = b"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns="http://my.netscape.com/rdf/simple/0.9/">
<channel><title>Old</title><link>http://old.example.com/</link></channel>
<item><title>First</title><link>http://old.example.com/1</link></item>
<item><title>Second</title><link>http://old.example.com/2</link></item>
</rdf:RDF>"""

ATOM03 = b"""<?xml version="1.0" encoding="utf-8"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#" xml:lang="en">
<title>Atom 0.3</title><link rel="alternate" type="text/html" href="http://a03.example.com/"/>
<author><name>Feed Author</name></author>
<entry><title>Old atom</title><link rel="alternate" type="text/html" href="http://a03.example.com/e1"/>
<id>tag:a03.example.com,2004:1</id><issued>2004-01-02T03:04:05Z</issued><modified>2004-01-03T00:00:00Z</modified>
<summary type="text/html" mode="escaped">&lt;p&gt;Escaped&lt;/p&gt;</summary>
<content type="application/xhtml+xml" mode="xml">
<div xmlns="http://www.w3.org/1999/xhtml"><p>XHTML body</p></div></content>
</entry></feed>"""

ATOM10 = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-US" xml:base="http://atom.example.com/blog/">
<title type="html">Messe &lt;i&gt;Blog&lt;/i&gt;</title><link href="./"/><link rel="self" href="feed.atom"/>
<id>urn:x</id><updated>2024-05-02T00:00:00Z</updated>
<entry xml:base="posts/" xml:lang="de">
  <title>Entry one</title><id>urn:e1</id>
  <link rel="self" href="/api/1"/><link rel="alternate" type="text/html" href="one.html"/>
  <published>2024-05-01T10:00:00+02:00</published><updated>2024-05-02T10:00:00Z</updated>
  <author><name>Anna</name><email>anna@example.com</email></author>
  <category term="robots" label="Robots"/>
  <summary type="text">a &lt; b</summary>
  <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hi <a href="x.html">link</a></p></div></content>
</entry>
<entry><title>Only updated</title><id>urn:e2</id><link href="/abs/two"/><updated>2024-05-03T00:00:00Z</updated></entry>
</feed>"""


def one(body: bytes, **kw: str) -> tuple[str, list[object]]:
    feed = parse_feed(body, url=URL, **kw)
    return feed.format, list(feed.entries)


def test_rss091_with_doctype_and_html_entities() -> None:
    feed = parse_feed(RSS091, url=URL)
    assert feed.format == "rss2" and feed.title == "Fair News 0.91" and feed.language == "de"
    (e,) = feed.entries
    assert e.title == "Café & Messe 2024"  # &nbsp; decoded, then collapsed
    assert e.link == "http://fair.example.com/a1"
    assert e.summary == "Opening <b>day</b>"
    assert e.published is None and e.guid is None


def test_rss092_entry_without_title_and_relative_link() -> None:
    feed = parse_feed(RSS092, url=URL)
    first, second = feed.entries
    assert first.title == "" and first.summary == "Only a description" and first.categories == ("Trade",)
    assert second.link == "http://news.example.com/relative/2"


def test_rss2_content_encoded_and_dc_creator() -> None:
    feed = parse_feed(RSS2, url=URL)
    assert (feed.format, feed.title, feed.language, feed.ttl_seconds) == ("rss2", "Expo Wire", "en-GB", 5400)
    e, e2 = feed.entries
    assert e.title == "Hannover Messe opens doors"
    assert e.guid == "hm-2024" and e.link == "http://expo.example.com/2024/hm"
    assert e.summary == "<p>Short <em>teaser</em></p>"
    assert e.content == "<p>Full body <script>alert(1)</script></p>"  # kept raw: normalise sanitises
    assert e.author == "Jane Doe"
    assert e.published == datetime(2024, 4, 22, 6, 30, tzinfo=UTC)
    assert e.published is not None and e.published.utcoffset() == timedelta(hours=2)
    assert e.date_source == "rss:pubDate" and e.language == "en-GB"
    assert e.categories == ("Industry", "Fairs") and e.base_url == URL
    assert e2.title == "Bold title"
    assert e2.link == "http://expo.example.com/2024/permalink"  # permalink guid stands in for <link>
    assert e2.author == "Press Office"
    assert e2.published == datetime(2024, 4, 23, 9, 0) and e2.published.tzinfo is None  # naive: no zone given


def test_rss1_rdf() -> None:
    feed = parse_feed(RSS1, url=URL)
    assert (feed.format, feed.title, feed.language, feed.ttl_seconds) == ("rss1", "RDF News", "fr", 1800)
    (e,) = feed.entries
    assert e.guid == "http://rdf.example.com/i1" and e.title == "Salon" and e.author == "Luc"
    assert e.published == datetime(2024, 3, 1, 8, 0, tzinfo=UTC) and e.date_source == "dc:date"
    assert e.categories == ("Salons",) and e.language == "fr"


def test_rss090() -> None:
    feed = parse_feed(RSS090, url=URL)
    assert feed.format == "rss090"
    assert [e.title for e in feed.entries] == ["First", "Second"]


def test_atom03() -> None:
    feed = parse_feed(ATOM03, url=URL)
    assert (feed.format, feed.title, feed.language) == ("atom03", "Atom 0.3", "en")
    assert feed.link == "http://a03.example.com/"
    (e,) = feed.entries
    assert e.link == "http://a03.example.com/e1" and e.guid == "tag:a03.example.com,2004:1"
    assert e.summary == "<p>Escaped</p>" and e.content == "<p>XHTML body</p>"
    assert e.published == datetime(2004, 1, 2, 3, 4, 5, tzinfo=UTC) and e.date_source == "atom:issued"
    assert e.updated == datetime(2004, 1, 3, tzinfo=UTC)
    assert e.author == "Feed Author"  # inherited from the feed


def test_atom10_xml_base_and_xhtml() -> None:
    feed = parse_feed(ATOM10, url=URL)
    assert (feed.format, feed.title, feed.link) == ("atom10", "Messe Blog", "http://atom.example.com/blog/")
    e, e2 = feed.entries
    assert e.link == "http://atom.example.com/blog/posts/one.html"
    assert e.base_url == "http://atom.example.com/blog/posts/"
    assert e.content == '<p>Hi <a href="x.html">link</a></p>'
    assert e.summary == "a &lt; b"
    assert e.author == "Anna" and e.language == "de" and e.categories == ("robots",)
    assert e.published == datetime(2024, 5, 1, 8, 0, tzinfo=UTC) and e.date_source == "atom:published"
    assert e.updated == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    assert e2.link == "http://atom.example.com/abs/two" and e2.language == "en-US"
    assert e2.published == datetime(2024, 5, 3, tzinfo=UTC) and e2.date_source == "atom:updated"


def test_jsonfeed10() -> None:
    doc = {"version": "https://jsonfeed.org/version/1", "title": "JF", "home_page_url": "https://jf.example.com/",
           "author": {"name": "Feed Person"},
           "items": [{"id": 7, "url": "/p/7", "title": "Seven &amp; more", "content_text": "Line one\n\nLine <two>",
                      "summary": "a < b", "date_published": "2024-05-01T10:00:00+08:00", "tags": ["x", "y"]}]}
    feed = parse_feed(json.dumps(doc).encode(), url="https://jf.example.com/feed.json")
    assert (feed.format, feed.title, feed.link) == ("jsonfeed10", "JF", "https://jf.example.com/")
    (e,) = feed.entries
    assert e.guid == "7" and e.link == "https://jf.example.com/p/7" and e.title == "Seven & more"
    assert e.content == "<p>Line one</p><p>Line &lt;two&gt;</p>" and e.summary == "a &lt; b"
    assert e.author == "Feed Person" and e.categories == ("x", "y")
    assert e.published == datetime(2024, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    assert e.date_source == "jsonfeed:date_published"


def test_jsonfeed11() -> None:
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "JF11", "language": "ja",
           "items": [{"id": "a", "url": "https://jf.example.com/a", "content_html": "<p>Hi</p>",
                      "authors": [{"name": "Kenji"}], "date_modified": "2024-05-02T00:00:00Z"}]}
    feed = parse_feed(json.dumps(doc).encode(), url="https://jf.example.com/feed.json")
    (e,) = feed.entries
    assert feed.format == "jsonfeed11" and e.language == "ja" and e.author == "Kenji" and e.content == "<p>Hi</p>"
    assert e.published == datetime(2024, 5, 2, tzinfo=UTC) and e.updated == e.published


@pytest.mark.parametrize(("body", "words"), [
    (b"", "empty response"),
    (b"<!DOCTYPE html><html><head><title>x</title></head><body>news</body></html>", "kind: html"),
    (b"hello world, not a feed", "not XML or JSON (starts with 'hello world"),
    (b'{"data": [1, 2]}', "no 'items'"),
    (b'{"items": [', "not valid JSON"),
    (b'<?xml version="1.0"?><opml version="2.0"><body/></opml>', "OPML"),
    (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "HTML page"),
    (b'<?xml version="1.0"?><note><to>x</to></note>', "root <note>"),
])
def test_not_a_feed_says_what_it_is(body: bytes, words: str) -> None:
    with pytest.raises(ParseError, match=None) as info:
        parse_feed(body, url=URL)
    assert words in str(info.value)


@pytest.mark.parametrize("ttl", ["²", "٣", "x"])
def test_a_ttl_that_is_not_ascii_digits_is_ignored_not_a_crash(ttl: str) -> None:
    body = RSS2.replace(b"<ttl>90</ttl>", f"<ttl>{ttl}</ttl>".encode())  # "²".isdigit() is True in Python
    assert parse_feed(body, url=URL).ttl_seconds is None
    broken = body.replace(b"</channel>", b"<item><title>x</title></item>")  # malformed: the fallback parser
    assert parse_feed(broken, url=URL).ttl_seconds is None
