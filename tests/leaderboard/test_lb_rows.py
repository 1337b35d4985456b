"""What a row claims: measured or assumed order metrics, tau's coverage, applied settings, domains, merges."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from lb_fixtures import Doc, write_run

from leaderboard import build_site
from leaderboard._join import AR_BACKENDS


def test_ar_backends_are_lm_eval_registry_names() -> None:
    import lm_eval.models  # noqa: F401 - fills the registry
    from lm_eval.api.registry import MODEL_REGISTRY

    assert AR_BACKENDS <= set(MODEL_REGISTRY.keys())
    assert {"hf", "vllm", "sglang", "hf-auto"} <= AR_BACKENDS
    assert not {b for b in AR_BACKENDS if "openai" in b or "completions" in b or b == "mdlm"}


def _read(site: Path) -> tuple[dict, list[dict], str]:
    data = json.loads((site / "data.json").read_text())
    rows = list(csv.DictReader((site / "data.csv").open()))
    return data, rows, (site / "index.html").read_text()


def test_only_left_to_right_backends_get_order_metrics_by_construction(tmp_path: Path) -> None:
    docs = {"ta": [Doc(i, 1.0, ["x"]) for i in range(4)]}
    write_run(tmp_path / "out", "org/hf-model", docs, backend="hf")
    write_run(tmp_path / "out", "gpt-api", docs, backend="openai-completions")
    data, rows, index = _read(build_site([tmp_path / "out"], tmp_path / "site", bootstrap=20).output)
    by_model = {r["model"]: r for r in data["rows"]}
    ar, api = by_model["org/hf-model"], by_model["gpt-api"]
    assert (ar["model_type"], api["model_type"]) == ("AR", "unknown")
    assert ar["overall"]["metrics"]["tau_b"]["value"] == 1.0
    assert all(api["overall"]["metrics"][k]["value"] is None for k in ("afp", "tpf", "tau_b", "tau_pb"))
    assert any("'openai-completions' is not known to decode left to right" in w for w in data["warnings"])
    table = index.split("<tbody>")[1].split("</tbody>")[0]
    assert table.count(">n/a</td>") == 4 and table.count('<span class="bc">b.c.</span>') == 4
    api_afp = next(r for r in rows if r["model"] == "gpt-api" and r["scope_kind"] == "overall" and r["metric"] == "afp")
    assert api_afp["value"] == ""


def test_tau_carries_its_coverage(tmp_path: Path) -> None:
    # 20 samples, of which 3 took more than one step: tau rests on 3 of 20 (the demo's threshold row).
    docs = [Doc(i, 1.0, ["x"], [[0, 1, 1] if i < 3 else [0, 0, 0]]) for i in range(20)]
    write_run(tmp_path / "out", "m", {"ta": docs})
    data, rows, index = _read(build_site([tmp_path / "out"], tmp_path / "site", bootstrap=20).output)
    tau = data["rows"][0]["tasks"]["ta"]["metrics"]["tau_b"]
    assert (tau["n"], tau["of"], tau["thin"]) == (3, 20, True)
    afp = data["rows"][0]["tasks"]["ta"]["metrics"]["afp"]
    assert (afp["n"], afp["of"], afp["thin"]) == (20, 20, False)
    line = next(r for r in rows if r["scope_kind"] == "task" and r["metric"] == "tau_b")
    assert (line["n"], line["of"], line["thin"]) == ("3", "20", "1")
    assert "3/20 few" in index


def test_setting_is_what_the_traces_say_was_applied(tmp_path: Path) -> None:
    applied = {"schedule": "threshold", "threshold": 0.9, "temperature": 0.0, "steps": 8}
    docs = {"ta": [Doc(i, 1.0, ["x"], [[0, 1]]) for i in range(3)]}
    write_run(tmp_path / "out", "m", docs, decoding={"schedule": "fixed", "temperature": 0.0, "steps": 8},
              gen_kwargs={"temperature": 0.8, "schedule": "threshold", "threshold": 0.9}, trace_settings=applied)
    data, _, _ = _read(build_site([tmp_path / "out"], tmp_path / "site", bootstrap=20).output)
    (row,) = data["rows"]
    assert row["setting"] == {"decoding": applied}
    assert "temperature=0.0" in row["setting_label"] and "0.8" not in row["setting_label"]
    assert row["runs"][0]["decoding"]["schedule"] == "threshold"


def test_suite_task_run_alone_keeps_its_domain(tmp_path: Path) -> None:
    # `--tasks mdlm_sudoku4_easy,mdlm_gsm8k` records no groups: the domains come from the shipped group YAMLs.
    one = [Doc(i, 1.0, ["x"], [[0, 1]]) for i in range(3)]
    write_run(tmp_path / "out", "m", {"mdlm_sudoku4_easy": one, "mdlm_gsm8k": one, "mine": one})
    data, _, _ = _read(build_site([tmp_path / "out"], tmp_path / "site", bootstrap=20).output)
    domains = {t: v["domain"] for t, v in data["rows"][0]["tasks"].items()}
    assert domains == {"mdlm_sudoku4_easy": "mdlm_synthetic", "mdlm_gsm8k": "mdlm_math", "mine": "other"}


@pytest.mark.parametrize("same_tasks", [True, False])
def test_merged_runs_are_said(tmp_path: Path, same_tasks: bool) -> None:
    docs = [Doc(i, 1.0, ["x"], [[0, 1]]) for i in range(3)]
    write_run(tmp_path / "r1", "m", {"ta": docs})
    write_run(tmp_path / "r2", "m", {"ta" if same_tasks else "tb": docs}, date="2026-11-23T11-00-00.000000")
    report = build_site([tmp_path / "r1", tmp_path / "r2"], tmp_path / "site", bootstrap=20)
    (row,) = report.rows
    assert any(w.startswith("2 runs merged into this row") for w in row.warnings)
    page = (tmp_path / "site" / "models" / f"{row.row_id}.html").read_text()
    assert "Runs merged into this row" in page and page.count("<tr><td><code>r") == 2
