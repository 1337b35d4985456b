"""The built site in headless Chromium: sorting, filtering, sample viewer, comparison view, no script injection."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import CHROMEDRIVER, CHROMIUM
from lb_fixtures import Doc, sha, write_run

from leaderboard import METRICS, build_site

EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'

pytestmark = pytest.mark.browser


@pytest.fixture
def site(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    fast = [Doc(i, float(i % 2), [f"answer {i}"], [[0, 0, 1, 1]]) for i in range(4)]
    evil = [Doc(0, 0.0, [EVIL], [[2, 0, 1, 3]], prompt=f"prompt {EVIL}", pieces=[[EVIL, " and ", "</script>", "!"]])]
    write_run(out, "fast-diff", {"task_a": fast})
    write_run(out, "evil<b>model</b>", {"task_a": evil + fast[1:]})
    write_run(out, "ar-model", {"task_a": [Doc(i, 1.0, ["ok"]) for i in range(4)]}, backend="hf")
    return build_site([out], tmp_path / "site", bootstrap=50).output


@pytest.fixture
def driver(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    yield drv
    drv.quit()


def _visible_models(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, "#board tbody tr")
    return [r.find_elements(By.TAG_NAME, "td")[1].text.split("\n")[0] for r in rows if r.is_displayed()]


def test_sort_filter_and_viewer(site: Path, driver, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver.get((site / "index.html").as_uri())
    assert driver.execute_script("return window.__pwned") is None
    heads = driver.find_elements(By.CSS_SELECTOR, "#board thead th")
    model_head = next(h for h in heads if h.text == "Model")
    model_head.click()
    assert _visible_models(driver) == ["ar-model", "evil<b>model</b>", "fast-diff"]
    model_head.click()
    assert _visible_models(driver) == ["fast-diff", "evil<b>model</b>", "ar-model"]
    next(h for h in heads if h.text == METRICS["tau_b"].label).click()  # descending first: AR (1.0) on top
    assert _visible_models(driver)[0] == "ar-model"
    driver.find_element(By.ID, "filter").send_keys("evil")
    assert _visible_models(driver) == ["evil<b>model</b>"]
    driver.find_element(By.ID, "filter").clear()
    driver.execute_script("document.getElementById('filter').dispatchEvent(new Event('input'))")
    Select(driver.find_element(By.ID, "type-filter")).select_by_value("AR")
    assert _visible_models(driver) == ["ar-model"]
    shot = Path(os.environ.get("LB_SCREENSHOT_DIR", tmp_path))
    driver.save_screenshot(str(shot / "index.png"))

    driver.get((site / "samples" / "task_a.html").as_uri())
    rows = Select(driver.find_element(By.ID, "row-pick"))
    evil_id = next(o.get_attribute("value") for o in rows.options if o.text.startswith("evil"))
    rows.select_by_value(evil_id)
    Select(driver.find_element(By.ID, "gen-pick")).select_by_index(0)
    tokens = driver.find_element(By.ID, "tokens")
    assert tokens.text == f"{EVIL} and </script>!"
    assert len(tokens.find_elements(By.TAG_NAME, "span")) == 4
    assert driver.find_element(By.ID, "prompt").text == f"prompt {EVIL}"
    assert driver.find_elements(By.CSS_SELECTOR, "#viewer img") == []
    assert len(driver.find_elements(By.CSS_SELECTOR, "#timeline div")) == 4  # steps 0..3
    assert driver.find_element(By.ID, "verdict").text == "incorrect"
    assert driver.execute_script("return window.__pwned") is None
    driver.save_screenshot(str(shot / "sample.png"))


def test_comparison_view_puts_every_model_side_by_side(site: Path, driver) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver.get((site / "samples" / "task_a.html").as_uri())
    rows = Select(driver.find_element(By.ID, "row-pick"))
    assert "[diffusion]" in rows.first_selected_option.text  # the page opens on a diffusion model
    assert driver.find_element(By.ID, "trace-widgets").is_displayed()
    fast = next(o.get_attribute("value") for o in rows.options if o.text.startswith("fast-diff"))
    rows.select_by_value(fast)
    Select(driver.find_element(By.ID, "gen-pick")).select_by_index(2)  # doc 2
    assert driver.find_element(By.ID, "compare-doc").text == "2"
    cards = driver.find_elements(By.CSS_SELECTOR, "#compare .card")
    titles = [c.find_element(By.TAG_NAME, "h3").text for c in cards]
    assert len(cards) == 3 and titles[-1].startswith("ar-model") and "AR" in titles[-1]
    by_model = {t.split(" (")[0]: c for t, c in zip(titles, cards, strict=True)}
    diff = by_model["fast-diff"]
    spans = diff.find_elements(By.CSS_SELECTOR, ".tokens span")
    assert [s.text for s in spans] == ["t0", "t1", "t2", "t3"]
    colours = [s.value_of_css_property("background-color") for s in spans]
    assert colours[0] == colours[1] and colours[2] == colours[3] and colours[0] != colours[2]  # steps 0,0,1,1
    assert len(diff.find_elements(By.CSS_SELECTOR, ".timeline div")) == 2
    assert diff.find_element(By.CSS_SELECTOR, "h3 .badge.incorrect").text == "incorrect"  # doc 2 scores 0
    ar = by_model["ar-model"]
    assert ar.find_elements(By.CSS_SELECTOR, ".timeline") == []
    assert ar.find_elements(By.CSS_SELECTOR, "span[title]") == []
    assert ar.find_element(By.CSS_SELECTOR, ".tokens").text == "ok"
    assert ar.find_element(By.CSS_SELECTOR, "h3 .badge.correct").text == "correct"
    hash_note = driver.find_element(By.ID, "compare-hash")
    assert "identical prompt" in hash_note.text and sha("Question task_a #2?")[:16] in hash_note.text

    ar_id = next(o.get_attribute("value") for o in rows.options if o.text.startswith("ar-model"))
    rows.select_by_value(ar_id)
    assert not driver.find_element(By.ID, "trace-widgets").is_displayed()  # no trace widgets for AR answers
    assert "by construction" in driver.find_element(By.ID, "stats").text
    assert driver.execute_script("return window.__pwned") is None
