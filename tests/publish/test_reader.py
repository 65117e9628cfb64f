"""A real feed reader (the `reader` library) imports feeds.opml over HTTP and gets every topic's entries."""

from __future__ import annotations

import io
import json
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from tests.helpers.loopback import serve
from tests.publish.site import published_site

reader_lib = pytest.importorskip("reader", reason="the `reader` package is not installed (pip install reader)")


def test_reader_imports_feeds_opml_and_reads_every_topic(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.mkdir()
    with serve(out) as (base, requests):
        published_site(tmp_path, base_url=base, hubs=())
        reader = reader_lib.make_reader(str(tmp_path / "reader.sqlite"))
        try:
            with urllib.request.urlopen(base + "feeds.opml", timeout=5) as response:
                reader.import_feeds(io.BytesIO(response.read()))
            feeds = sorted(f.url for f in reader.get_feeds())
            assert feeds == [base + "chips.atom", base + "robotics.atom"]
            reader.update_feeds()
            for feed in reader.get_feeds():
                assert feed.last_exception is None, (feed.url, feed.last_exception)
                assert feed.title == json.loads((out / Path(feed.url).with_suffix(".json").name).read_bytes())["title"]
                expected = json.loads((out / Path(feed.url).with_suffix(".json").name).read_bytes())["items"]
                got = sorted(reader.get_entries(feed=feed), key=lambda e: e.published or datetime.min, reverse=True)
                assert [e.id for e in got] == [i["id"] for i in expected]
                assert [e.title for e in got] == [i["title"] for i in expected]
                assert [e.link for e in got] == [i["url"] for i in expected]
                assert [e.published.strftime("%Y-%m-%dT%H:%M:%SZ") for e in got if e.published] == [
                    i["date_published"] for i in expected]
                assert [e.updated.strftime("%Y-%m-%dT%H:%M:%SZ") for e in got if e.updated] == [
                    i["date_modified"] for i in expected]
        finally:
            reader.close()
    assert {"/feeds.opml", "/robotics.atom", "/chips.atom"} <= set(requests.paths())
