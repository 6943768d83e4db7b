"""The page at / in headless Chromium (selenium): paste a comment, see the score and one bar per label."""

from __future__ import annotations

import shutil

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.skip("no Chromium/chromedriver installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _score(browser, url: str, text: str, key: str | None = None):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url + "/")
    box = browser.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    if key:
        browser.find_element(By.TAG_NAME, "summary").click()
        browser.find_element(By.ID, "key").send_keys(key)
    browser.find_element(By.ID, "submit").click()
    wait = WebDriverWait(browser, 20)
    wait.until(lambda d: d.find_element(By.ID, "result").is_displayed()
               or d.find_element(By.ID, "error").is_displayed())
    return By, ec


def test_page_scores_a_comment_with_bars(browser, live_server):
    server = live_server(env={"SOCIALSCORE_API_KEYS": "browser-key"})
    By, _ = _score(browser, server.url, "you are an idiot", key="browser-key")
    assert browser.find_element(By.ID, "result").is_displayed()
    score = int(browser.find_element(By.ID, "score").text)
    assert 0 <= score < 50
    rows = browser.find_elements(By.CSS_SELECTOR, "#labels .label")
    assert [r.get_attribute("data-label") for r in rows][:2] == ["toxic", "severe_toxic"]
    assert len(rows) == 6
    width = browser.find_element(By.CSS_SELECTOR, "#labels .bar").value_of_css_property("width")
    assert float(width.removesuffix("px")) > 0
    assert browser.find_element(By.ID, "version").text == "tiny-1"


def test_page_shows_the_error_for_a_wrong_key(browser, live_server):
    server = live_server(env={"SOCIALSCORE_API_KEYS": "browser-key"})
    By, _ = _score(browser, server.url, "hello there", key="wrong")
    error = browser.find_element(By.ID, "error")
    assert error.is_displayed() and "invalid API key" in error.text
    assert not browser.find_element(By.ID, "result").is_displayed()


def test_page_highlights_the_words_that_drove_the_score(browser, live_server, linear_bundle_dir):
    server = live_server(models=linear_bundle_dir)
    text = "You stupid CLOWN, go away"
    By, _ = _score(browser, server.url, text)
    assert browser.find_element(By.ID, "explanation").is_displayed()
    from socialscore.modeling.behaviour.explain import explain_pipeline
    from socialscore.registry.serving import load_served

    terms = explain_pipeline(load_served(linear_bundle_dir), text)
    up = {w.lower() for t in terms if t["kind"] == "text" and t["contribution"] > 0 for w in t["term"].split()}
    expected = [w for w in text.split() if w.strip(",").lower() in up]
    marked = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "#explained mark.up")]
    assert expected and marked == expected, (marked, terms)
    assert all(m.get_attribute("title").startswith("towards toxic")
               for m in browser.find_elements(By.CSS_SELECTOR, "#explained mark.up"))
    # the comment is shown whole, highlighted words in place
    assert browser.find_element(By.ID, "explained").text == text
    assert browser.find_elements(By.CSS_SELECTOR, "#terms li")


def test_page_without_explanations_still_scores(browser, live_server, tmp_path):
    from tiny_bundle import build_forest_bundle

    # a random forest cannot explain its scores: the page scores without explanations
    server = live_server(models=build_forest_bundle(tmp_path / "forest" / "models"))
    By, _ = _score(browser, server.url, "you are an idiot")
    assert browser.find_element(By.ID, "result").is_displayed()
    assert not browser.find_element(By.ID, "explanation").is_displayed()
