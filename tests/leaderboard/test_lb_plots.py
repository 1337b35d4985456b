"""Plots a reader can read: round ticks, every point numbered and in the legend, a colour key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lb_fixtures import Doc, write_run

from leaderboard import build_site
from leaderboard._plots import COLORS, Point, nice_step, scatter


@pytest.mark.parametrize(
    ("span", "step"), [(6.73, 2.0), (1.16, 0.2), (0.0876, 0.02), (1.39, 0.25), (10.0, 2.0), (230.0, 50.0)]
)
def test_nice_step(span: float, step: float) -> None:
    assert nice_step(span) == pytest.approx(step)


def test_ticks_are_round_and_points_numbered() -> None:
    # The issue's case: values from 0.2 to 6.0 used to tick at 0.20, 3.10, 6.01.
    pts = [Point("a", "A (x)", 1, 0.2, 0.35, "diffusion"), Point("b", "B (y)", 2, 6.0, 0.42, "AR")]
    svg = str(scatter(pts, "t", "AFP", "accuracy"))
    ticks = re.findall(r'class="tick" text-anchor="(?:end|middle)">([^<]+)<', svg)
    assert ticks == ["0.36", "0.38", "0.40", "0.42", "0", "2", "4", "6"]
    assert re.findall(r'class="pnum">(\d+)<', svg) == ["1", "2"]
    for kind, colour in COLORS.items():  # the key names every type with its colour
        assert f'fill="{colour}"/><text x=' in svg and f">{kind}</text>" in svg


def test_index_legend_names_every_numbered_row(tmp_path: Path) -> None:
    docs = [Doc(i, float(i % 2), ["x"], [[0, 1, 1]]) for i in range(4)]
    write_run(tmp_path / "out", "org/diff", {"ta": docs})
    write_run(tmp_path / "out", "org/ar", {"ta": [Doc(i, 1.0, ["x"]) for i in range(4)]}, backend="hf")
    report = build_site([tmp_path / "out"], tmp_path / "site", bootstrap=20)
    index = (tmp_path / "site" / "index.html").read_text()
    legend = dict(re.findall(r'<li value="(\d+)" data-row="([^"]+)">', index))
    assert legend == {str(i): r.row_id for i, r in enumerate(report.rows, 1)}
    numbers = set(re.findall(r'class="pnum">(\d+)<', index))
    assert numbers == set(legend)
