from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from aggregator.records import ScrapeRules
from aggregator.scrape.article import extract_article, find_date, parse_html
from aggregator.scrape.dates import FoundDate, from_labels, parse_date


@pytest.mark.parametrize(("text", "expected", "label"), [
    ("News sources:CHTF Organizing Committee   Release Date:2017-11-19", datetime(2017, 11, 19), "Release Date"),
    ("Published: 19 Nov 2017", datetime(2017, 11, 19), "Published"),
    ("发布时间：2017-11-16 09:30　来源：高交会组委会", datetime(2017, 11, 16, 9, 30), "发布时间"),
    ("日期：2019年04月16日", datetime(2019, 4, 16), "日期"),
    ("Datum: 19.11.2017", datetime(2017, 11, 19), "Datum"),
    ("Posted on 5/17/2019 9:30:00 PM", datetime(2019, 5, 17, 21, 30), "Posted on"),
])
def test_label_forms(text: str, expected: datetime, label: str) -> None:
    found = from_labels([text])
    assert found == FoundDate(expected, f"label:{label}")


def test_offsets_are_kept_and_naive_stays_naive() -> None:
    assert parse_date("2017-11-17T03:03:00Z") == datetime(2017, 11, 17, 3, 3, tzinfo=UTC)
    assert parse_date("2018-04-23T10:00:00+02:00") == datetime(2018, 4, 23, 10, tzinfo=timezone(timedelta(hours=2)))
    assert parse_date("2019年04月16日 08:05").tzinfo is None  # type: ignore[union-attr]


@pytest.mark.parametrize("trap", [
    "2018/11/14-18 Shenzhen convention & exhibition center",
    "HIF 2018 · 23.–27. April 2018 · Hansestadt",
    "Save the date 01.–05.04.2019",
    "第二十届中国国际高新技术成果交易会　2018年11月14日—18日　深圳会展中心",
    "Copyright © 1999-2018 China Hi-Tech Fair",
    "Hanse Industry Fair April 23-27, 2018",
])
def test_ranges_and_copyright_years_are_not_dates(trap: str) -> None:
    assert parse_date(trap) is None


def _date(html: str, rules: ScrapeRules | None = None, list_date: FoundDate | None = None) -> FoundDate | None:
    doc = parse_html(html)
    return find_date(doc, rules or ScrapeRules(), "Headline of the story", list_date)


def test_json_ld_event_start_date_is_never_the_publication_date() -> None:
    html = """<html><head><script type="application/ld+json">
      [{"@type": "Event", "name": "CHTF", "startDate": "2018-11-14"},
       {"@type": "NewsArticle", "headline": "x", "datePublished": "2017-11-19T10:00:00+08:00"}]</script>
      </head><body><h1>Headline of the story</h1></body></html>"""
    found = _date(html)
    assert found is not None and found.source == "json-ld:datePublished" and found.value.day == 19
    only_event = html.replace(',\n       {"@type": "NewsArticle", "headline": "x", "datePublished": '
                              '"2017-11-19T10:00:00+08:00"}', "")
    found = _date(only_event)
    assert found is None or found.value.date().isoformat() != "2018-11-14"


def test_meta_and_time_element() -> None:
    meta = '<html><head><meta name="PubDate" content="2017-11-16 09:30"></head><body><p>x</p></body></html>'
    assert _date(meta) == FoundDate(datetime(2017, 11, 16, 9, 30), "meta:pubdate")
    timed = ('<article><h1>Headline of the story</h1><time class="updated" datetime="2017-12-01T00:00:00Z">u</time>'
             '<time class="entry-date published" datetime="2017-11-21T09:40:00+08:00">Nov 21</time></article>')
    found = _date(timed)
    assert found is not None and found.source == "time-element" and found.value.day == 21


def test_sidebar_dates_before_the_article_are_ignored() -> None:
    html = """<body><div id="sidebar"><h4>Most Popular</h4><ol><li><a href="/a">Other</a> <em>2018-04-25</em></li>
      </ol></div><div id="article"><h1>Headline of the story</h1>
      <div class="info">By Zhou Ming | China Info Net | Updated: 2017-11-17 11:03</div><p>Text.</p></div>
      <div class="related"><h4>相关新闻</h4><span>2017-11-16</span></div></body>"""
    assert _date(html) == FoundDate(datetime(2017, 11, 17, 11, 3), "label:Updated")


def test_header_fair_dates_are_skipped_and_ignore_dates_in_works() -> None:
    html = """<body><table><tr><td class="fairdate"><b>2018/11/14-18</b></td></tr></table>
      <td class="x">2018-11-14</td><p>Release Date:2017-11-19</p></body>"""
    found = _date(html, ScrapeRules(ignore_dates_in=("td.x",)))
    assert found == FoundDate(datetime(2017, 11, 19), "label:Release Date")


def test_standalone_date_next_to_the_headline() -> None:
    html = """<body><header><div class="event-bar">23.–27. April 2018</div></header><article>
      <div class="press-meta"><span class="press-date">23.04.2018</span> · Press release</div>
      <h1>Headline of the story</h1><div><p>Body text of the release.</p></div></article>
      <footer>© Messe 2018</footer></body>"""
    found = _date(html)
    assert found is not None and found.value == datetime(2018, 4, 23)


def test_list_date_when_the_article_has_none_and_date_from_list() -> None:
    listed = FoundDate(datetime(2017, 11, 16, 10, 12), "list-page")
    html = ('<body><h1>Headline of the story</h1><div id="ozoom"><p>正文。</p></div>'
            '<div class="related"><h4>相关新闻</h4><ul><li><a href="/x">x</a><span>2017-11-18</span></li></ul></div>'
            "<div class='footer'>Copyright © 2004-2017</div></body>")
    assert _date(html, list_date=listed) == listed
    labelled = html.replace("<p>正文。</p>", "<p>发布时间：2017-11-15</p>")
    assert _date(labelled, ScrapeRules(date_from="list"), listed) == listed


def test_selector_with_regex_and_date_source() -> None:
    html = '<td class="newsinfo">News sources:CHTF   Release Date:2017-11-19</td>'
    fields = extract_article(f"<body><table><tr>{html}</tr></table></body>", "http://x.example/a.html",
                             ScrapeRules(date="td.newsinfo", date_regex=r"Release Date:\s*(\d{4}-\d{2}-\d{2})"))
    assert fields.published is not None and fields.published.value == datetime(2017, 11, 19)
    assert fields.published.source.startswith("selector:td.newsinfo")


def test_url_day_and_publisher_day() -> None:
    from aggregator.scrape.dates import publisher_day, url_day

    assert url_day("https://x.example/2017/7/12/story") == datetime(2017, 7, 12)
    assert url_day("https://x.example/news/20200413/story") == datetime(2020, 4, 13)
    assert url_day("https://x.example/201711/t20171120_13473.html") is None
    utc = FoundDate(datetime(2023, 11, 9, 3, 28, tzinfo=UTC), "json-ld:datePublished")
    assert publisher_day(utc, "https://x.example/2023/11/08/story") == "2023-11-08"
    # 10:04Z is 06:04 in New York: an earlier URL day is the draft's day, not the publisher's calendar
    morning = FoundDate(datetime(2020, 7, 9, 10, 4, tzinfo=UTC), "json-ld:datePublished")
    assert publisher_day(morning, "https://x.example/2020/07/08/story") == "2020-07-09"
    evening = FoundDate(datetime(2020, 7, 9, 15, 0, tzinfo=UTC), "json-ld:datePublished")
    assert publisher_day(evening, "https://x.example/2020/07/10/story") == "2020-07-10"
    local = FoundDate(datetime(2017, 11, 19), "label:Release Date")  # CHTF: the URL day is the upload day
    assert publisher_day(local, "https://x.example/2017/11/20/story") == "2017-11-19"


def test_body_layout_classes_do_not_make_the_whole_page_furniture() -> None:
    html = """<body class="single-post right-sidebar footer-widgets"><article><h1>Headline of the story</h1>
      <span class="posted-on"><time class="entry-date published" datetime="2019-12-26T10:07:45+01:00">26/12/2019</time>
      </span><p>Text.</p></article>
      <div class="sidebar"><time datetime="2019-10-10T08:00:00+01:00">x</time></div></body>"""
    found = _date(html)
    assert found is not None and found.source == "time-element" and found.value.date().isoformat() == "2019-12-26"


def test_time_in_an_embedded_post_is_not_the_article_date() -> None:
    html = """<body><article><h1>Headline of the story</h1><p>Dienstag, 29. Januar 2019</p>
      <blockquote class="instagram-media"><p>A post</p><time datetime="2018-03-12T19:30:12+00:00">Mar 12, 2018</time>
      </blockquote><p>Text.</p></article></body>"""
    found = _date(html)
    assert found is not None and found.value.date().isoformat() == "2019-01-29"


def test_generic_date_meta_ranks_below_the_dates_the_page_shows() -> None:
    head = '<html><head><meta name="date" content="2021-10-15"></head>'
    shown = head + '<body><h1>Headline of the story</h1><p>Erschienen am: 13.10.2021</p><p>Text.</p></body></html>'
    assert _date(shown) == FoundDate(datetime(2021, 10, 13), "label:Erschienen am")
    hidden = head + "<body><h1>Headline of the story</h1><p>Text without any date.</p></body></html>"
    assert _date(hidden) == FoundDate(datetime(2021, 10, 15), "meta:date")


def test_utc_stamp_takes_the_offset_the_page_shows_elsewhere() -> None:
    html = """<html><head><script type="application/ld+json">{"@type": "NewsArticle",
      "datePublished": "2023-11-09T02:11:03+00:00"}</script></head><body><h1>Headline of the story</h1>
      <time datetime="2023-11-08T21:11:03-05:00">November 8, 2023</time><p>Text.</p></body></html>"""
    found = _date(html)
    assert found is not None and found.source == "json-ld:datePublished"
    assert found.value == datetime(2023, 11, 9, 2, 11, 3, tzinfo=UTC)  # the same instant...
    assert found.value.isoformat() == "2023-11-08T21:11:03-05:00"  # ...on the publisher's calendar
    two_offsets = html.replace("</p></body>", '</p><time datetime="2023-06-01T10:00:00-04:00">x</time></body>')
    found = _date(two_offsets)
    assert found is not None and found.value.isoformat() == "2023-11-09T02:11:03+00:00"  # no single offset: as is


def test_utc_stamp_on_a_late_whole_hour_is_a_local_midnight() -> None:
    meta = '<html><head><meta property="article:published_time" content="{}"></head><body><p>x</p></body></html>'
    found = _date(meta.format("2021-11-04T23:00Z"))
    assert found is not None and found.value.isoformat() == "2021-11-05T00:00:00+01:00"
    found = _date(meta.format("2021-11-04T23:05Z"))  # a real time of day stays on its UTC day
    assert found is not None and found.value.date().isoformat() == "2021-11-04"
    found = _date(meta.format("2021-11-04T13:00Z"))
    assert found is not None and found.value.date().isoformat() == "2021-11-04"


def test_modified_stamp_wins_when_only_it_is_shown() -> None:
    html = """<html><head><script type="application/ld+json">{"@type": "NewsArticle",
      "datePublished": "2021-11-22T18:42:22+01:00", "dateModified": "2023-01-01T10:00:00+01:00"}</script></head>
      <body><h1>Headline of the story</h1><p class="byline">Von Anna Weber · 1. Januar 2023</p>
      <p>Text.</p></body></html>"""
    found = _date(html)
    assert found is not None and found.source == "json-ld:dateModified (shown)"
    assert found.value.date().isoformat() == "2023-01-01"
    both = html.replace("1. Januar 2023", "22.11.2021, aktualisiert 1. Januar 2023")
    found = _date(both)
    assert found is not None and found.source == "json-ld:datePublished" and found.value.day == 22
    neither = html.replace(" · 1. Januar 2023", "")
    found = _date(neither)
    assert found is not None and found.source == "json-ld:datePublished"


def test_named_utc_zone_after_a_written_date() -> None:
    assert parse_date("Wed, 04 May 2022 02:41:00 GMT") == datetime(2022, 5, 4, 2, 41, tzinfo=UTC)
    assert parse_date("4 May 2022 02:41").tzinfo is None  # type: ignore[union-attr]
