"""The card preview (``lenalidomide-cds cards --html``) in a real browser, for every sample bundle:
Debian's headless Chromium at 1280x800, driven by selenium with the driver's path given (selenium
never downloads one). What a prescriber sees first: every card's summary within the first screen
with the details collapsed, and no raw Markdown, collapsed or opened.

CI installs the browser with .ci/install_browser. Set CDS_SKIP_BROWSER_TESTS=1 to skip these on
a machine without it; otherwise a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cds_service.cli import main
from tests.conftest import SAMPLES
from tests.scenarios.lforms_page import CHROMEDRIVER, CHROMIUM, chromium

WIDTH, HEIGHT = 1280, 800
NAMES = sorted(p.name for p in SAMPLES.glob("*.json") if not p.name.startswith("11-"))
RAW_MARKDOWN = ("**", "|---", "](", "\n- ", "\n| ")

if os.environ.get("CDS_SKIP_BROWSER_TESTS") == "1":
    pytest.skip("CDS_SKIP_BROWSER_TESTS=1", allow_module_level=True)

pytest.importorskip("selenium.webdriver", reason="selenium is a dev dependency")
from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "run .ci/install_browser (Debian chromium, chromium-driver)"
    with chromium(window=(WIDTH, HEIGHT)) as driver:
        driver.set_window_size(WIDTH, HEIGHT)
        # The page's viewport is the 1280x800 screen: grow the window by whatever the browser keeps.
        inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        driver.set_window_size(2 * WIDTH - inner[0], 2 * HEIGHT - inner[1])
        yield driver


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("card-screenshots")


@pytest.mark.parametrize("name", NAMES)
def test_preview_shows_every_summary_on_the_first_screen(browser, shots, tmp_path, capsys, name):
    page = tmp_path / f"{name}.html"
    main(["cards", str(SAMPLES / name), "--html", str(page)])
    capsys.readouterr()
    browser.get(page.as_uri())
    cards = browser.find_elements(By.CSS_SELECTOR, "article.card")
    screen = browser.execute_script("return window.innerHeight")
    assert browser.execute_script("return window.innerWidth") == WIDTH and screen == HEIGHT
    shot = shots / f"{name}.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = browser.find_element(By.TAG_NAME, "body").text
    for card in cards:
        summary = card.find_element(By.CSS_SELECTOR, "details > summary")
        bottom = browser.execute_script("return arguments[0].getBoundingClientRect().bottom", summary)
        assert summary.is_displayed() and summary.text
        assert bottom <= screen, f"{name}: '{summary.text}' ends at {bottom}px, below the first screen ({screen}px)"
        assert not card.find_element(By.CSS_SELECTOR, ".detail").is_displayed()  # collapsed
    # Opened, every detail renders: no Markdown shows as typed.
    for card in cards:
        card.find_element(By.CSS_SELECTOR, "details > summary").click()
        assert card.find_element(By.CSS_SELECTOR, ".detail").is_displayed()
    text = browser.find_element(By.TAG_NAME, "body").text
    for mark in RAW_MARKDOWN:
        assert mark not in text, f"{name}: raw Markdown {mark!r} on the page"
    if not cards:
        assert "No cards." in text
