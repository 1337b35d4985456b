"""A run folder keeps its order metrics when it is moved or copied, and a copy reads its own traces."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lb_fixtures import Doc, write_run

from leaderboard import build_site
from model_adapters._paths import default_trace_path, relative_trace_name

DOCS = {"tm": [Doc(i, float(i % 2), [f"a{i}"], [[0, 1, 1, 2 + i % 3]]) for i in range(6)]}


@pytest.fixture
def run_root(tmp_path: Path) -> Path:
    """An output folder laid out as ``lm_eval --model mdlm --output_path OUT`` (no pretrained) leaves it.

    lm-eval then writes the results into a randomly named folder and the adapter the trace into OUT.
    """
    out = tmp_path / "cluster" / "OUT"
    trace, results_dir = default_trace_path(["lm_eval", "--model", "mdlm", "--output_path", str(out)])
    assert trace.parent == out
    name = relative_trace_name(trace, results_dir)
    assert name == f"../{trace.name}"
    write_run(out, "k3x9a2b1", DOCS, trace_name=name)
    assert (out / trace.name).is_file()
    return out


def _traced(site: Path) -> tuple[int, float, list[str]]:
    data = json.loads((site / "data.json").read_text())
    task = data["rows"][0]["tasks"]["tm"]
    return task["n_traced"], task["metrics"]["afp"]["value"], data["warnings"]


def test_named_trace_found_beside_the_results(tmp_path: Path) -> None:
    out = tmp_path / "OUT"
    trace, results_dir = default_trace_path(["lm_eval", "--model", "mdlm", "--model_args", "pretrained=org/m",
                                             "--output_path", str(out)])
    assert trace.parent == results_dir == out / "org__m"
    assert relative_trace_name(trace, results_dir) == trace.name


def test_moved_run_keeps_its_traces(run_root: Path, tmp_path: Path) -> None:
    before = _traced(build_site([run_root], tmp_path / "s1", bootstrap=20).output)
    moved = tmp_path / "laptop" / "OUT"
    moved.parent.mkdir()
    shutil.move(run_root, moved)
    after = _traced(build_site([moved], tmp_path / "s2", bootstrap=20).output)
    assert after == before and after[0] == 6 and after[2] == []


def test_copy_reads_its_own_traces(run_root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run_root, copy)
    (trace,) = copy.glob("traces_*.jsonl")
    rows = [json.loads(line) for line in trace.read_text().splitlines()]
    for row in rows:  # the copy decoded one token per step: AFP 1, where the original's is higher
        row["final_step"] = list(range(row["gen_length"]))
    trace.write_text("".join(json.dumps(r) + "\n" for r in rows))
    n, afp, warnings = _traced(build_site([copy], tmp_path / "s", bootstrap=20).output)
    assert (n, afp, warnings) == (6, 1.0, [])
    assert _traced(build_site([run_root], tmp_path / "s0", bootstrap=20).output)[1] > 1.0


def test_corrupt_copy_never_reads_the_original(run_root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run_root, copy)
    (trace,) = copy.glob("traces_*.jsonl")
    lines = trace.read_text().splitlines()
    trace.write_text("\n".join(lines[:3]) + "\n" + lines[3][:40])  # three rows and a torn fourth
    n, _, warnings = _traced(build_site([copy], tmp_path / "s", bootstrap=20).output)
    assert n == 3
    assert any("skipped 1 torn or invalid trace line" in w for w in warnings)
    assert any("3 generation(s) without a trace" in w for w in warnings)


def test_absolute_path_is_the_last_resort_and_says_so(run_root: Path, tmp_path: Path) -> None:
    results = next(run_root.rglob("results_*.json"))
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    shutil.copy(results, copy / results.name)  # the results alone, without their trace
    shutil.copy(next(results.parent.glob("samples_*.jsonl")), copy)
    n, _, warnings = _traced(build_site([copy], tmp_path / "s", bootstrap=20).output)
    assert n == 6
    assert any("read from the absolute path recorded at run time" in w for w in warnings)
    next(run_root.glob("traces_*.jsonl")).unlink()
    n, _, warnings = _traced(build_site([copy], tmp_path / "s2", bootstrap=20).output)
    assert n == 0 and any("named by the results is missing" in w for w in warnings)
