"""A person opens the published folder in headless Chromium: topics, headlines, working subscribe links."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.loopback import serve
from tests.publish.site import published_site

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("the selenium package (pip install selenium)")
    if missing:
        reason = f"browser test needs {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    profile = tempfile.mkdtemp(prefix="agg-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", f"--user-data-dir={profile}", "--window-size=1280,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_index_page_in_a_real_browser(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    out = published_site(tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(out) as (base, _):
        browser.set_window_size(1280, 1000)
        browser.get(base + "index.html")
        assert browser.title == "Fair News"
        topics = [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".topic h3")]
        assert topics == ["Robotics", "Semiconductors", "All stories"]
        headlines = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#chips .headlines a")]
        assert headlines == ["Fab tour sells out", "Wafer fab in the spotlight"]
        sources = browser.find_element(By.CSS_SELECTOR, "#robotics .headlines li .src").text
        assert "2024-05-06 09:30 UTC" in sources and "Messe Press" in sources
        health = browser.find_element(By.CSS_SELECTOR, "#source-trade").text
        assert "HTTP 503 <Service Unavailable>: retry later" in health  # escaped in HTML, shown literally
        browser.save_screenshot(str(ARTIFACTS / "index-desktop.png"))

        links = browser.find_elements(By.CSS_SELECTOR, ".subscribe a.atom")
        assert [a.text for a in links] == ["Subscribe (Atom)"] * 3
        for link in links:
            with urllib.request.urlopen(link.get_attribute("href"), timeout=5) as response:
                assert response.status == 200
                assert response.headers.get_content_type() == "application/atom+xml"
                assert response.read().startswith(b"<?xml")
        discovered = browser.find_elements(By.CSS_SELECTOR, 'head link[rel="alternate"][type="application/atom+xml"]')
        assert [d.get_attribute("title") for d in discovered] == ["Robotics", "Semiconductors", "All stories"]

        browser.set_window_size(390, 844)  # a phone: one column, nothing wider than the screen
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
        browser.save_screenshot(str(ARTIFACTS / "index-phone.png"))
        browser.set_window_size(1280, 1000)

        browser.find_element(By.LINK_TEXT, "Semiconductors").click()
        assert browser.current_url == base + "chips.atom"
        body = browser.find_element(By.TAG_NAME, "body").text
        # served as application/atom+xml, Chromium shows the feed document itself (feed.xsl applies only when
        # a server answers browsers with an XML type); either way the title and entries are what a person sees
        assert "Fair News: Semiconductors" in body
        assert "Fab tour sells out" in body
        browser.save_screenshot(str(ARTIFACTS / "topic-feed.png"))
