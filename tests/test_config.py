"""sources.yaml loading: what a user gets from a good file, and what they are told about a bad one."""

from __future__ import annotations

import re
import textwrap
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.config import check_config, load_config, parse_config, parse_interval
from aggregator.config.schema import SCRAPE_FIELDS, SETTINGS_FIELDS
from aggregator.errors import ConfigError, ConfigProblem
from aggregator.records import ScrapeRules, Settings, Source

REPO = Path(__file__).resolve().parents[1]

MINIMAL_SOURCE = """\
  - id: fair
    url: https://fair.example.org/news/
    kind: html
"""


def problems(text: str) -> list[ConfigProblem]:
    """Every problem parse_config reports for `text` (dedented); fails if the text is valid."""
    with pytest.raises(ConfigError) as info:
        parse_config(textwrap.dedent(text))
    return info.value.problems


def only(text: str) -> ConfigProblem:
    found = problems(text)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


# --------------------------------------------------------------------------- good files


def test_shipped_sources_yaml_is_valid_and_useful() -> None:
    config = load_config(REPO / "sources.yaml")
    topic_ids = {t.id for t in config.topics}
    assert {"iot", "ai", "big-data", "semiconductors", "5g", "robotics", "new-energy", "smart-city",
            "biotech"} <= topic_ids
    for topic in config.topics:
        assert any(w.isascii() for w in topic.include), topic.id
        assert any(not w.isascii() for w in topic.include), f"{topic.id} has no Chinese keywords"
    assert len(config.sources) >= 10
    assert {s.kind for s in config.sources} == {"feed", "html"}
    assert all(s.url.startswith(("http://", "https://")) for s in config.sources)
    assert config.path == (REPO / "sources.yaml").resolve()
    assert config.settings.output_dir == REPO / "output"
    assert check_config(REPO / "sources.yaml") == []


def test_demo_config_validates_once_its_base_is_filled_in() -> None:
    text = (REPO / "aggregator" / "demo" / "sources.yaml").read_text(encoding="utf-8")
    config = parse_config(text.replace("{base}", "http://127.0.0.1:8000/"))
    assert [s.id for s in config.sources] == ["fair-news", "messe-press", "expo-wire", "fair-site"]


def test_defaults_come_from_the_records() -> None:
    config = parse_config("sources:\n" + MINIMAL_SOURCE)
    assert config.settings == Settings()
    assert config.topics == ()
    assert config.sources == (Source(id="fair", url="https://fair.example.org/news/", kind="html", line=2),)
    assert config.path is None


@pytest.mark.parametrize("text", ["sources:\n", "sources: []\n", "settings: {}\ntopics: []\nsources:\n"])
def test_empty_sources_list_is_valid(text: str) -> None:
    assert parse_config(text).sources == ()


def test_every_key_is_read() -> None:
    config = parse_config(textwrap.dedent("""\
        settings:
          base_url: https://news.example.org/feeds
          hubs: [https://hub.example.org/]
          max_bytes: 512KB
          default_interval: 2h
          dedupe_threshold: 0.6
          language: zh-CN
        topics:
          - id: chips
            title: Chips
            include: [semiconductor, 芯片]
            exclude: [potato chips]
            max_entries: 20
            sources: [fair]
            min_date: 2017-01-01
        sources:
          - id: fair
            url: https://fair.example.org/news/
            kind: html
            title: The Fair
            interval: 90
            timezone: Asia/Shanghai
            language: no
            topics: [chips]
            enabled: false
            priority: -2
            encoding: gb18030
            scrape:
              item_link: "table.newslist td.listtitle a@href"
              date: "json-ld:datePublished"
              date_regex: '(\\d{4}-\\d{2}-\\d{2})'
              body_exclude: .share
              ignore_dates_in: [.sidebar, footer]
              max_pages: 3
              date_from: list
        """))
    s = config.settings
    assert s.base_url == "https://news.example.org/feeds/"
    assert s.hubs == ("https://hub.example.org/",)
    assert (s.max_bytes, s.default_interval) == (512 * 1024, 7200)
    assert (s.dedupe_threshold, s.language) == (0.6, "zh-CN")
    (topic,) = config.topics
    assert topic.include == ("semiconductor", "芯片")
    assert topic.sources == ("fair",)
    assert topic.min_date == datetime(2017, 1, 1, tzinfo=UTC)
    (source,) = config.sources
    assert (source.interval, source.enabled, source.priority, source.language) == (90, False, -2, "no")
    assert source.topics == ("chips",)
    assert source.line == 17
    assert source.scrape == ScrapeRules(
        item_link="table.newslist td.listtitle a@href", date="json-ld:datePublished",
        date_regex=r"(\d{4}-\d{2}-\d{2})", body_exclude=(".share",), ignore_dates_in=(".sidebar", "footer"),
        max_pages=3, date_from="list",
    )


def test_min_date_with_an_offset_is_converted_to_utc() -> None:
    config = parse_config(textwrap.dedent("""\
        topics:
          - {id: t, title: T, include: [x], min_date: "2020-01-01T08:00:00+08:00"}
        sources: []
        """))
    assert config.topics[0].min_date == datetime(2020, 1, 1, tzinfo=UTC)


def test_yaml_merge_keys_share_defaults() -> None:
    config = parse_config(textwrap.dedent("""\
        sources:
          - &chinese {id: a, url: "https://a.example/", kind: feed, timezone: Asia/Shanghai, language: zh}
          - <<: *chinese
            id: b
            url: https://b.example/
        """))
    assert [(s.id, s.timezone, s.language) for s in config.sources] == [
        ("a", "Asia/Shanghai", "zh"), ("b", "Asia/Shanghai", "zh")]


def test_every_record_field_can_be_configured() -> None:
    """A field added to Settings or ScrapeRules must be readable from sources.yaml too."""
    assert set(SETTINGS_FIELDS) == {f.name for f in fields(Settings)}
    assert set(SCRAPE_FIELDS) == {f.name for f in fields(ScrapeRules)}


# --------------------------------------------------------------------------- intervals


@pytest.mark.parametrize(("value", "seconds"), [
    (3600, 3600), ("3600", 3600), ("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400),
    ("1w", 604800), ("1h30m", 5400), ("1.5h", 5400), (" 2H ", 7200),
])
def test_parse_interval(value: str | int, seconds: int) -> None:
    assert parse_interval(value) == seconds


@pytest.mark.parametrize("value", ["soon", "", "2x", "h", "0", 0, -5, "-5m", "2h soon"])
def test_parse_interval_rejects(value: str | int) -> None:
    with pytest.raises(ValueError, match="interval"):
        parse_interval(value)


def test_parse_interval_rejects_booleans() -> None:
    with pytest.raises(ValueError):
        parse_interval(True)


def test_interval_accepts_seconds_or_duration_in_yaml() -> None:
    config = parse_config("sources:\n" + MINIMAL_SOURCE + "    interval: 45m\n"
                          + MINIMAL_SOURCE.replace("fair", "other") + "    interval: 600\n")
    assert [s.interval for s in config.sources] == [2700, 600]


# --------------------------------------------------------------------------- paths


def test_relative_paths_resolve_against_the_file_not_the_cwd(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    conf_dir = tmp_path / "etc" / "agg"
    conf_dir.mkdir(parents=True)
    path = conf_dir / "sources.yaml"
    path.write_text("settings:\n  output_dir: out\n  database: sqlite:///state/x.db\nsources: []\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(Path(path))
    assert config.settings.output_dir == conf_dir / "out"
    assert config.settings.database == f"sqlite:///{conf_dir}/state/x.db"
    assert config.path == path


def test_defaults_resolve_against_the_file_too(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("sources: []\n")
    settings = load_config(path).settings
    assert settings.output_dir == tmp_path / "output"
    assert settings.database == f"sqlite:///{tmp_path}/state/aggregator.db"


@pytest.mark.parametrize("database", [
    "sqlite:////var/lib/agg/a.db", "sqlite:///:memory:", "postgresql://agg:pw@db.example/agg",
])
def test_absolute_and_server_databases_are_kept(tmp_path: Path, database: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(f"settings:\n  database: '{database}'\n  output_dir: /srv/feeds\nsources: []\n")
    settings = load_config(path).settings
    assert settings.database == database
    assert settings.output_dir == Path("/srv/feeds")


# --------------------------------------------------------------------------- problems, one class each


def test_yaml_syntax_error_gives_line_column_and_hint() -> None:
    p = only("""\
        sources:
          - id: ces
            title: CES: the show
            url: https://ces.example/
            kind: feed
        """)
    assert p.line == 3
    assert "invalid YAML (column" in p.message
    assert "must be quoted" in p.message


def test_tab_indentation_is_explained() -> None:
    p = only("sources:\n\t- id: a\n")
    assert p.line == 2
    assert "tabs" in p.message


def test_double_quoted_regex_backslash_is_explained() -> None:
    p = only('sources:\n  - id: a\n    scrape: {date_regex: "(\\d+)"}\n')
    assert p.line == 3
    assert "single quotes" in p.message


def test_top_level_must_be_a_mapping() -> None:
    p = only("- id: a\n  url: https://a.example/\n")
    assert (p.line, p.key) == (1, "")
    assert "'sources:'" in p.message and "not a list" in p.message


def test_empty_file() -> None:
    p = only("# nothing yet\n")
    assert "empty" in p.message and "sources:" in p.message


def test_missing_sources_key_suggests_the_typo() -> None:
    found = problems("source:\n" + MINIMAL_SOURCE)
    assert [(p.line, p.key) for p in found] == [(1, "source"), (1, "sources")]
    assert "did you mean 'sources'?" in found[0].message


def test_unknown_key_suggests_the_nearest() -> None:
    p = only("sources:\n" + MINIMAL_SOURCE + "    intervall: 2h\n")
    assert (p.line, p.key) == (5, "sources[0].intervall")
    assert p.message == "unknown key 'intervall' — did you mean 'interval'?"


def test_unknown_settings_key() -> None:
    p = only("settings:\n  worker: 4\nsources: []\n")
    assert (p.line, p.key) == (2, "settings.worker")
    assert "did you mean 'workers'?" in p.message


def test_scrape_key_at_source_level_says_where_it_belongs() -> None:
    p = only("sources:\n" + MINIMAL_SOURCE + "    item_link: a.title\n")
    assert (p.line, p.key) == (5, "sources[0].item_link")
    assert "belongs under 'scrape:'" in p.message


@pytest.mark.parametrize(("line", "expected"), [
    ("interval: soon", "'soon' is not an interval: write seconds or a duration like"),
    ("interval: 0", "not a positive interval"),
    ("enabled: \"yes please\"", "expected true or false, got 'yes please'"),
    ("priority: high", "expected a whole number, got 'high'"),
    ("topics: ai", "expected a list"),
    ("title: [CES, 2025]", "expected text, got a list"),
])
def test_wrong_types_in_a_source(line: str, expected: str) -> None:
    p = only("sources:\n" + MINIMAL_SOURCE + f"    {line}\n")
    assert (p.line, p.key) == (5, f"sources[0].{line.split(':')[0]}")
    assert expected in p.message


@pytest.mark.parametrize(("line", "expected"), [
    ("workers: many", "expected a whole number, got 'many'"),
    ("workers: 0", "use a whole number ≥ 1"),
    ("max_entries: -3", "-3 is too small: use a whole number ≥ 1"),
    ("dedupe_threshold: 1.5", "use a number > 0 and ≤ 1"),
    ("read_timeout: -1", "> 0"),
    ("max_bytes: lots", "'512KB' or '10MB'"),
    ("hubs: [hub.example.org]", "not an http(s) URL"),
    ("language: english!", "not a language tag"),
])
def test_wrong_types_in_settings(line: str, expected: str) -> None:
    p = only(f"settings:\n  {line}\nsources: []\n")
    assert p.line == 2
    assert p.key.startswith(f"settings.{line.split(':')[0]}")
    assert expected in p.message


def test_negative_topic_max_entries() -> None:
    p = only("topics:\n  - id: ai\n    title: AI\n    include: [AI]\n    max_entries: -3\nsources: []\n")
    assert (p.line, p.key) == (5, "topics[0].max_entries")
    assert "≥ 1" in p.message


def test_bad_list_items_are_each_reported_at_their_line() -> None:
    found = problems("settings:\n  hubs:\n    - https://ok.example/\n    - nope\n    - also nope\n"
                     "sources: []\n")
    assert [(p.line, p.key) for p in found] == [(4, "settings.hubs[1]"), (5, "settings.hubs[2]")]


def test_missing_required_key_points_at_the_entry() -> None:
    p = only("sources:\n  - id: fair\n    kind: html\n")
    assert (p.line, p.key) == (2, "sources[0].url")
    assert "missing required key 'url'" in p.message


def test_required_key_without_value() -> None:
    p = only("sources:\n  - id: fair\n    kind: html\n    url:\n")
    assert (p.line, p.key) == (4, "sources[0].url")
    assert "has no value" in p.message


def test_duplicate_source_ids_name_the_first_line() -> None:
    p = only("sources:\n" + MINIMAL_SOURCE + MINIMAL_SOURCE)
    assert (p.line, p.key) == (5, "sources[1].id")
    assert "duplicate source id 'fair' (first on line 2)" in p.message


def test_duplicate_topic_ids() -> None:
    topic = "  - {id: ai, title: AI, include: [AI]}\n"
    p = only("topics:\n" + topic + topic + "sources: []\n")
    assert (p.line, p.key) == (3, "topics[1].id")
    assert "first on line 2" in p.message


def test_duplicate_key_in_one_mapping() -> None:
    p = only("sources:\n" + MINIMAL_SOURCE + "    kind: feed\n")
    assert (p.line, p.key) == (5, "sources[0].kind")
    assert "duplicate key 'kind' (first on line 4)" in p.message


def test_bad_ids_get_a_fixed_spelling() -> None:
    found = problems("topics:\n  - {id: AI News, title: AI, include: [AI]}\nsources:\n"
                     "  - {id: 'fair news', url: 'https://a.example/', kind: feed}\n")
    assert "e.g. 'ai-news'" in found[0].message
    assert "e.g. 'fair-news'" in found[1].message


def test_kind_rss_is_explained() -> None:
    p = only("sources:\n" + MINIMAL_SOURCE.replace("kind: html", "kind: rss"))
    assert str(p) == ("sources.yaml:4: [sources[0].kind] 'rss' is not a source kind: use 'feed' or 'html' "
                      "(RSS, Atom and JSON Feed are all kind: feed)")


def test_kind_typo_gets_a_suggestion() -> None:
    p = only("sources:\n" + MINIMAL_SOURCE.replace("kind: html", "kind: htm"))
    assert "did you mean 'html'?" in p.message


@pytest.mark.parametrize("value", ["fair.example.org/news", "ftp://fair.example.org/", "https://",
                                   "https://a b/"])
def test_bad_url(value: str) -> None:
    p = only("sources:\n" + MINIMAL_SOURCE.replace("https://fair.example.org/news/", value))
    assert (p.line, p.key) == (3, "sources[0].url")
    assert "is not an http(s) URL" in p.message


def test_bad_url_suggests_the_full_form() -> None:
    p = only("sources:\n" + MINIMAL_SOURCE.replace("https://fair.example.org/news/", "www.chtf.com/english/"))
    assert "e.g. 'https://www.chtf.com/english/'" in p.message


@pytest.mark.parametrize(("value", "suggestion"), [
    ("Europe/Berln", "Europe/Berlin"), ("asia/shanghai", "Asia/Shanghai"), ("Shanghai", "Asia/Shanghai"),
])
def test_unknown_timezone_suggests_an_iana_name(value: str, suggestion: str) -> None:
    p = only("sources:\n" + MINIMAL_SOURCE + f"    timezone: {value}\n")
    assert (p.line, p.key) == (5, "sources[0].timezone")
    assert p.message == f"unknown timezone '{value}' — did you mean '{suggestion}'?"


def test_source_naming_an_unknown_topic() -> None:
    found = problems("topics:\n  - {id: robotics, title: Robots, include: [robot]}\nsources:\n"
                     + MINIMAL_SOURCE + "    topics: [robotics, robotic, zzz]\n")
    assert [(p.line, p.key) for p in found] == [(7, "sources[0].topics[1]"), (7, "sources[0].topics[2]")]
    assert found[0].message == "unknown topic 'robotic' — did you mean 'robotics'?"
    assert "use one of robotics" in found[1].message


def test_topic_naming_an_unknown_source() -> None:
    p = only("topics:\n  - id: ai\n    title: AI\n    include: [AI]\n    sources:\n      - fiar\n"
             "sources:\n" + MINIMAL_SOURCE)
    assert (p.line, p.key) == (6, "topics[0].sources[0]")
    assert p.message == "unknown source 'fiar' — did you mean 'fair'?"


def test_topic_that_can_never_fill() -> None:
    p = only("topics:\n  - {id: ai, title: AI}\nsources: []\n")
    assert (p.line, p.key) == (2, "topics[0].include")
    assert "would stay empty" in p.message


def test_topic_forced_by_a_source_needs_no_keywords() -> None:
    config = parse_config("topics:\n  - {id: ai, title: AI}\nsources:\n" + MINIMAL_SOURCE
                          + "    topics: [ai]\n")
    assert config.topics[0].include == ()


def test_keyword_both_included_and_excluded() -> None:
    p = only("topics:\n  - {id: ai, title: AI, include: [AI, LLM], exclude: [ＡＩ]}\nsources: []\n")
    assert p.key == "topics[0].exclude[0]"
    assert "both included and excluded" in p.message


def test_scrape_on_a_feed_source() -> None:
    feed = MINIMAL_SOURCE.replace("kind: html", "kind: feed")
    p = only("sources:\n" + feed + "    scrape:\n      item: li\n")
    assert (p.line, p.key) == (5, "sources[0].scrape")
    assert "only applies to kind: html" in p.message


def test_unknown_scrape_key_suggests_a_scrape_rule() -> None:
    p = only("sources:\n" + MINIMAL_SOURCE + "    scrape:\n      item_lnk: a\n")
    assert (p.line, p.key) == (6, "sources[0].scrape.item_lnk")
    assert p.message == "unknown key 'item_lnk' — did you mean 'item_link'?"


def test_source_key_under_scrape_says_where_it_belongs() -> None:
    p = only("sources:\n" + MINIMAL_SOURCE + "    scrape:\n      timezone: UTC\n")
    assert "one level up" in p.message


def test_invalid_regex() -> None:
    p = only("sources:\n" + MINIMAL_SOURCE + "    scrape:\n      date_regex: '(\\d+'\n")
    assert (p.line, p.key) == (6, "sources[0].scrape.date_regex")
    assert "invalid regular expression '(\\d+': missing )" in p.message


def test_regex_without_a_group() -> None:
    p = only("sources:\n" + MINIMAL_SOURCE + "    scrape:\n      author_regex: 'By \\w+'\n")
    assert p.key == "sources[0].scrape.author_regex"
    assert "no (group)" in p.message


def test_invalid_css_selector() -> None:
    p = only("sources:\n" + MINIMAL_SOURCE + "    scrape:\n      item_link: 'td.title a[href'\n")
    assert (p.line, p.key) == (6, "sources[0].scrape.item_link")
    assert "invalid CSS selector" in p.message


def test_date_from_choice() -> None:
    p = only("sources:\n" + MINIMAL_SOURCE + "    scrape:\n      date_from: lists\n")
    assert "did you mean 'list'?" in p.message


@pytest.mark.parametrize("url", ["mysql://u@h/db", "sqlite://x.db", "state/aggregator.db"])
def test_database_url_scheme(url: str) -> None:
    p = only(f"settings:\n  database: '{url}'\nsources: []\n")
    assert (p.line, p.key) == (2, "settings.database")
    assert "is not a supported database URL" in p.message and "sqlite:///" in p.message


def test_min_interval_above_max_interval() -> None:
    p = only("settings:\n  min_interval: 2d\n  max_interval: 1d\nsources: []\n")
    assert p.key == "settings.min_interval"
    assert "longer than max_interval" in p.message


def test_list_where_a_mapping_is_expected() -> None:
    p = only("sources:\n  - https://a.example/feed\n")
    assert (p.line, p.key) == (2, "sources[0]")
    assert "expected a mapping" in p.message


# --------------------------------------------------------------------------- all at once, and from files


def test_several_problems_are_all_reported_in_line_order() -> None:
    found = problems("""\
        settings:
          workers: 0
        topics:
          - id: ai
            title: AI
            include: [AI]
        sources:
          - id: one
            url: https://one.example/
            kind: rss
          - id: two
            url: https://two.example/
            kind: feed
            interval: soon
            timezone: Europe/Berln
            topics: [aii]
        """)
    assert [(p.line, p.key) for p in found] == [
        (2, "settings.workers"), (10, "sources[0].kind"), (14, "sources[1].interval"),
        (15, "sources[1].timezone"), (16, "sources[1].topics[0]"),
    ]
    with pytest.raises(ConfigError) as info:
        parse_config(textwrap.dedent("sources:\n  - {id: a}\n"), file="x.yaml")
    assert str(info.value).count("x.yaml:2: [sources[0].") == 2


def test_check_config_on_files(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("sources: []\n")
    assert check_config(good) == []
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - id: a\n    url: https://a.example/\n    kind: rss\n")
    (p,) = check_config(bad)
    assert str(p).startswith(f"{bad}:4: [sources[0].kind]")
    (missing,) = check_config(tmp_path / "nope.yaml")
    assert "cannot read the file" in missing.message
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"sources: []\n# caf\xe9\n")
    (p,) = check_config(latin1)
    assert (p.line, "UTF-8" in p.message) == (2, True)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffsources: []\n".encode())
    assert load_config(path).sources == ()


def test_documented_examples_are_valid() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## sources.yaml", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    assert parse_config(blocks[0]).sources[0].scrape is not None
    assert [s.id for s in parse_config(blocks[1]).sources] == ["sznews", "chtf-zh"]
