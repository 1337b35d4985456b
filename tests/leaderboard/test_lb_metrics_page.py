"""The site's metric-definitions page, and the two taus from trace to leaderboard."""

from __future__ import annotations

import html
import json
import statistics
from pathlib import Path

import numpy as np
import pytest
from lb_fixtures import Doc, write_run
from scipy import stats

from leaderboard import METRICS, build_site

# Fixture traces decode two pad positions at step 0 (lb_fixtures.trace_row): an EOS tail decoded first.
STEPS = [[0, 1, 2, 3], [1, 1, 2, 0], [0, 2, 1, 3]]


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    write_run(
        out, "diff", {"tm": [Doc(i, 1.0, ["ans"], [s]) for i, s in enumerate(STEPS)]}, groups={"mdlm_math": ["tm"]}
    )
    write_run(out, "ar", {"tm": [Doc(i, 0.0, ["ans"]) for i in range(3)]}, backend="hf", groups={"mdlm_math": ["tm"]})
    return out


def test_metrics_page_defines_every_metric_and_both_taus(runs: Path, tmp_path: Path) -> None:
    report = build_site([runs], tmp_path / "site", bootstrap=20)
    assert "metrics.html" in report.files
    page = html.unescape((tmp_path / "site" / "metrics.html").read_text(encoding="utf-8"))
    for key, spec in METRICS.items():
        assert f"<code>{key}</code>" in page and spec.description in page, key
    assert "dec_order_kendall" in page and "72de8f7" in page
    assert "Rows are ranked by accuracy only" in page
    assert "early_stop=none" in page and "eos_block" in page  # TPF against the references' protocol
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert 'href="metrics.html"' in index
    assert METRICS["tau_pb"].description in html.unescape(index)  # the column tooltip


def test_both_taus_reach_the_leaderboard(runs: Path, tmp_path: Path) -> None:
    build_site([runs], tmp_path / "site", bootstrap=20)
    rows = {r["model"]: r for r in json.loads((tmp_path / "site" / "data.json").read_text())["rows"]}
    got = rows["diff"]["tasks"]["tm"]["metrics"]
    tau_b = statistics.mean(stats.kendalltau(range(4), s).statistic for s in STEPS)
    canvases = [np.array(s + [0, 0]) for s in STEPS]  # first_step over the whole canvas, pad tail at step 0
    tau_pb = statistics.mean(stats.kendalltau(np.sort(c), c).statistic for c in canvases)
    assert got["tau_b"]["value"] == pytest.approx(tau_b) and got["tau_pb"]["value"] == pytest.approx(tau_pb)
    assert tau_pb < tau_b  # the tail decoded first drags ParallelBench's tau down
    assert rows["ar"]["tasks"]["tm"]["metrics"]["tau_pb"]["value"] == 1.0


def test_tau_labels_name_their_definitions() -> None:
    assert METRICS["tau_b"].label != METRICS["tau_pb"].label
    assert "ParallelBench" in METRICS["tau_pb"].label and "first unmasking" in METRICS["tau_pb"].description
    assert "final step" in METRICS["tau_b"].description
