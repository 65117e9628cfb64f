"""scrape_source over loopback HTTP: pagination, base href, known URLs, broken pages and selector health."""

from __future__ import annotations

import http.server
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.errors import SourceError
from aggregator.records import ScrapeRules, Settings, Source
from aggregator.scrape import ScrapeResult, canonical, scrape_source
from tests.helpers.loopback import Recorder, serve
from tests.scrape.fetching import make_fetcher

NOW = datetime(2024, 6, 1, tzinfo=UTC)
PARAS = ("<p>The fair opened on Thursday with more than three thousand exhibitors from thirty countries and "
         "regions, organisers said, and a record number of product launches is expected this week.</p>"
         "<p>Visitors queued from early morning to see robots, electric buses and the latest chips on show in the "
         "twelve exhibition halls of the convention centre.</p>")


def article(n: int, *, date: str = "2024-05-0{n}", extra: str = "") -> str:
    return (f"<html><head><title>Site - News</title></head><body><div class='side'><a href='/x'>Other</a> 2020-01-01"
            f"</div><div class='article'><h1>Story number {n} headline</h1><p class='info'>Published: "
            f"{date.format(n=n)}</p><div class='content'>{PARAS}<p>Closing line of story {n}.</p></div>{extra}"
            "</div><div class='footer'>Copyright © 2004-2024</div></body></html>")


def list_page(links: list[str], pager: str = "", base: str = "") -> str:
    items = "".join(f"<li><a href='{href}'>Story title for {href}</a><span class='date'>2024-05-01</span></li>"
                    for href in links)
    return (f"<html><head>{base}<title>News</title></head><body><ul class='menu'><li><a href='/'>Home</a></li>"
            f"</ul><ul class='news-list'>{items}</ul><div class='pages'>{pager}</div></body></html>")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path, Recorder]]:
    with serve(tmp_path) as (base, rec):
        yield base, tmp_path, rec


def write(root: Path, path: str, text: str, encoding: str = "utf-8") -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text.encode(encoding))


def run(url: str, rules: ScrapeRules | None = None, known: set[str] | None = None, **kw: object) -> ScrapeResult:
    source = Source(id="test-site", url=url, kind="html", scrape=rules, **kw)  # type: ignore[arg-type]
    settings = Settings(max_bytes=200_000)
    return scrape_source(source, make_fetcher(settings), settings,
                         is_known=lambda urls: {u for u in urls if u in (known or set())}, now=NOW)


def test_next_text_pagination_and_known_urls_skipped(site: tuple[str, Path, Recorder]) -> None:
    base, root, rec = site
    write(root, "news/index.html", list_page(["a/1.html", "a/2.html?from=hot", "a/2.html"],
                                             "<a href='list_2.html'>下一页</a>"))
    write(root, "news/list_2.html", list_page(["a/3.html", "a/1.html?utm_source=x"], "<a href='index.html'>1</a>"))
    for n in (1, 2, 3):
        write(root, f"news/a/{n}.html", article(n))
    result = run(base + "news/index.html", known={canonical(base + "news/a/1.html")})
    assert result.broken is None and result.warnings == ()
    assert [e.link for e in result.entries] == [base + "news/a/2.html", base + "news/a/3.html"]
    assert "/news/a/1.html" not in rec.paths()  # known: never fetched
    assert rec.paths().count("/news/a/2.html") == 1  # ?from=hot is the same item
    entry = result.entries[0]
    assert entry.title == "Story number 2 headline"
    assert entry.published == datetime(2024, 5, 2) and entry.date_source == "label:Published"
    assert "Closing line of story 2." in entry.content and "Copyright" not in entry.content
    assert "Published:" not in entry.content


def test_url_template_with_count_regex(site: tuple[str, Path, Recorder]) -> None:
    base, root, rec = site
    script = "<script>var countPage = 3;createPageHTML(countPage, 0, 'index', 'html');</script>"
    write(root, "n/index.html", list_page(["a/1.html", "a/2.html"], script))
    write(root, "n/index_1.html", list_page(["a/3.html", "a/4.html"]))
    write(root, "n/index_2.html", list_page(["a/5.html", "a/6.html"]))
    for n in range(1, 7):
        write(root, f"n/a/{n}.html", article(n))
    rules = ScrapeRules(item_link="ul.news-list a", url_template="index_{n}.html", count_regex=r"countPage\s*=\s*(\d+)")
    assert len(run(base + "n/index.html", rules).entries) == 6
    auto = run(base + "n/index.html")  # the TRS JavaScript pager is also recognised without rules
    assert sorted(e.link or "" for e in auto.entries) == [base + f"n/a/{n}.html" for n in range(1, 7)]
    assert "/n/index_3.html" not in rec.paths()


def test_endless_pager_is_capped(site: tuple[str, Path, Recorder]) -> None:
    base, _, rec = site

    def endless(handler: http.server.BaseHTTPRequestHandler) -> None:
        n = int(handler.path.rsplit("=", 1)[-1]) if "=" in handler.path else 1
        body = list_page([f"/a/{n}-{i}.html" for i in range(3)], f"<a class='next' href='/list?p={n + 1}'>Next</a>")
        data = body.encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    rec.routes["/list"] = endless
    result = run(base + "list", ScrapeRules(max_pages=4, max_articles=1))
    assert rec.paths().count("/list") == 4
    assert any("max_pages" in w for w in result.warnings)


def test_base_href_resolves_links(site: tuple[str, Path, Recorder]) -> None:
    base, root, _ = site
    write(root, "press/list/index.html", list_page(["press/2024/one.html", "press/2024/two.html"],
                                                   base="<base href='/site/en/'>"))
    write(root, "site/en/press/2024/one.html", article(1))
    write(root, "site/en/press/2024/two.html", article(2))
    result = run(base + "press/list/index.html")
    assert [e.link for e in result.entries] == [base + f"site/en/press/2024/{n}.html" for n in ("one", "two")]


def test_unclosed_div_does_not_bring_the_sidebar_into_the_body(site: tuple[str, Path, Recorder]) -> None:
    base, root, _ = site
    broken = ("<html><body><article><h1 class='entry-title'>Story number 1 headline</h1>"
              "<time class='entry-date published' datetime='2024-05-01T09:40:00+08:00'>May 1</time>"
              f"<div class='entry-content'>{PARAS}<p>Closing line of story 1."
              "<div class='sharedaddy'><h3>Share this:</h3><ul><li><a href='#'>Twitter</a></ul></div>"
              "<aside id='secondary' class='widget-area'><section class='widget'><h2>Upcoming fairs</h2>"
              "<p>Hanse Industry Fair April 23-27, 2024 in the Hansestadt fairground, all halls open.</p>"
              "</section></aside>")  # no closing tags at all
    write(root, "b/index.html", list_page(["1.html", "2.html"]))
    write(root, "b/1.html", broken)
    write(root, "b/2.html", broken.replace("Story number 1", "Story number 2"))
    for rules in (None, ScrapeRules(item_link="ul.news-list a", body="div.entry-content", title="h1")):
        entry = run(base + "b/index.html", rules).entries[0]
        assert "Closing line of story 1." in entry.content
        assert "Upcoming fairs" not in entry.content and "Hanse Industry Fair" not in entry.content
        assert "Twitter" not in entry.content
        assert entry.published is not None and entry.published.isoformat() == "2024-05-01T09:40:00+08:00"


def test_login_page_is_broken_with_the_selector_named(site: tuple[str, Path, Recorder]) -> None:
    base, root, _ = site
    write(root, "members/index.html", "<html><head><title>Login</title></head><body><form><input name=u>"
                                      "<input type=password name=p></form></body></html>")
    result = run(base + "members/index.html", ScrapeRules(item_link="table.newslist td.listtitle a"))
    assert result.broken is not None and result.entries == ()
    assert "table.newslist td.listtitle a" in result.broken and "'Login'" in result.broken
    assert "aggregator probe test-site" in result.broken and "login page" in result.broken


def test_404_and_oversized_articles_are_warnings(site: tuple[str, Path, Recorder]) -> None:
    base, root, _ = site
    write(root, "w/index.html", list_page(["1.html", "missing.html", "big.html"]))
    write(root, "w/1.html", article(1))
    write(root, "w/big.html", article(3, extra="<p>" + "x" * 300_000 + "</p>"))
    result = run(base + "w/index.html")
    assert result.broken is None and [e.title for e in result.entries] == ["Story number 1 headline"]
    assert any("missing.html" in w for w in result.warnings) and any("big.html" in w for w in result.warnings)


def test_unreachable_list_is_a_source_error(site: tuple[str, Path, Recorder]) -> None:
    base, _, _ = site
    with pytest.raises(SourceError, match="test-site"):
        run(base + "nothing/here.html")


def test_redirect_to_another_host_is_broken(site: tuple[str, Path, Recorder]) -> None:
    base, root, rec = site
    write(root, "elsewhere.html", list_page(["1.html", "2.html"]))

    def away(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", base.replace("127.0.0.1", "localhost") + "elsewhere.html")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    rec.routes["/moved.html"] = away
    result = run(base + "moved.html")
    assert result.broken is not None and "another host" in result.broken


def test_selector_health_names_the_empty_field(site: tuple[str, Path, Recorder]) -> None:
    base, root, _ = site
    write(root, "h/index.html", list_page(["1.html", "2.html", "3.html"]))
    for n in (1, 2, 3):
        write(root, f"h/{n}.html", article(n))
    rules = ScrapeRules(item_link="ul.news-list a", title="h1", body="div.newscontent")
    result = run(base + "h/index.html", rules)
    assert result.broken is not None and "body selector 'div.newscontent'" in result.broken
    ok = run(base + "h/index.html", ScrapeRules(item_link="ul.news-list a", title="h1", body="div.content"))
    assert ok.broken is None and len(ok.entries) == 3


def test_gbk_site_declared_gb2312(site: tuple[str, Path, Recorder]) -> None:
    base, root, _ = site
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />'
    write(root, "g/index.html", list_page(["1.html", "2.html"]).replace("<head>", "<head>" + meta), "gbk")
    page = (f"<html><head>{meta}<title>高交会开幕_高交会新闻_中国国际高新技术成果交易会</title></head><body>"
            "<h2 class='dtitle'>高交会开幕</h2><div class='dinfo'>发布时间：2017-11-16 09:30</div>"
            "<div id='zoom'><p>第十九届高交会在深圳会展中心开幕，本届高交会以创新驱动发展为主题，"
            "来自30多个国家和地区的3000余家展商参展。</p>"
            "<p>技术支持单位深圳市燊达网络科技有限公司负责人王堃表示，"
            "展会期间将提供全程网络保障服务，欢迎各界人士参观。</p></div>"
            "<div class='foot'>版权所有 &copy; 1999-2018</div></body></html>")
    write(root, "g/1.html", page, "gbk")
    write(root, "g/2.html", page.replace("高交会开幕", "高交会闭幕"), "gbk")
    entry = run(base + "g/index.html").entries[0]
    assert entry.title == "高交会开幕"
    assert "燊达" in entry.content and "王堃" in entry.content and "版权所有" not in entry.content
    assert entry.published == datetime(2017, 11, 16, 9, 30)
