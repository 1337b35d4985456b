"""The built site in headless Chromium: sorting, filtering, the sample viewer, and no script injection."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import CHROMEDRIVER, CHROMIUM
from lb_fixtures import Doc, write_run

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
