"""A built site names models by hub id or folder name and carries none of the build machine's paths."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from lb_fixtures import Doc, write_run

from leaderboard import build_site
from leaderboard.__main__ import main
from leaderboard._join import display_name


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("GSAI-ML/LLaDA-8B-Instruct", "GSAI-ML/LLaDA-8B-Instruct"),
        ("gpt2", "gpt2"),
        ("/tmp/x/model_adapters/_embedded/diffusion", "diffusion"),
        ("/scratch/ckpt/llada-sft/", "llada-sft"),
        ("./runs/ckpt-1000", "ckpt-1000"),
        ("~/models/dream", "dream"),
        ("C:\\models\\dream", "dream"),
        ("checkpoints/exp3/step-500", "step-500"),
    ],
)
def test_display_name(source: str, shown: str) -> None:
    assert display_name(source) == shown


def _local_run(tmp_path: Path) -> tuple[Path, Path]:
    """A diffusion run of a local model and an hf run of another, laid out under tmp_path."""
    model_dir = tmp_path / "machine" / "checkpoints" / "my-llada"
    out = tmp_path / "machine" / "OUT"
    docs = {"ta": [Doc(i, float(i % 2), [f"x{i}"], [[0, 1, 1]]) for i in range(3)]}
    folder = write_run(out, str(model_dir), docs)
    results = next(folder.glob("results_*.json"))
    payload = json.loads(results.read_text())
    payload["config"]["mdlm_pretrained"] = str(model_dir)  # as the adapter records it
    results.write_text(json.dumps(payload))
    write_run(out, str(tmp_path / "machine" / "ar-base"), {"ta": [Doc(i, 1.0, ["x"]) for i in range(3)]}, backend="hf")
    return out, model_dir


def _site_text(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): p.read_text(encoding="utf-8") for p in site.rglob("*") if p.is_file()}


def test_built_site_carries_no_local_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, model_dir = _local_run(tmp_path)
    monkeypatch.chdir(tmp_path)
    report = build_site([out], tmp_path / "site", bootstrap=20)
    assert sorted(r.model for r in report.rows) == ["ar-base", "my-llada"]
    machine = [str(tmp_path), str(Path.home()), str(Path.cwd()), sys.prefix, str(Path(__file__).parents[2])]
    machine += [re.sub(r"[/\\]+", "__", p) for p in machine]  # lm-eval's folder name for a local model
    files = _site_text(report.output)
    for name, text in files.items():
        assert not any(p in name for p in machine), name
        for path in machine:
            assert path not in text, f"{path} published in {name}"
    assert not any(name.startswith("models/-") or "tmp" in name for name in files)
    data = json.loads(files["data.json"])
    commands = [run["command"] for row in data["rows"] for run in row["runs"]]
    assert any("pretrained=my-llada" in c for c in commands)

    kept = build_site([out], tmp_path / "site-kept", bootstrap=20, keep_paths=True)
    assert any(str(model_dir) in text for text in _site_text(kept.output).values())  # asked for: kept


def test_names_override(tmp_path: Path) -> None:
    out, model_dir = _local_run(tmp_path)
    names = tmp_path / "names.txt"
    names.write_text(f"# display names\n{model_dir}=LLaDA (SFT step 1000)\n")
    assert main(["build", str(out), "-o", str(tmp_path / "site"), "--bootstrap", "10", "--names", str(names),
                 "--name", "ar-base=Qwen tiny"]) == 0
    data = json.loads((tmp_path / "site" / "data.json").read_text())
    assert sorted(r["model"] for r in data["rows"]) == ["LLaDA (SFT step 1000)", "Qwen tiny"]


def test_two_local_models_of_one_folder_name_are_flagged(tmp_path: Path) -> None:
    docs = {"ta": [Doc(i, 1.0, ["x"]) for i in range(3)]}
    write_run(tmp_path / "out", str(tmp_path / "a" / "ckpt"), docs, backend="hf")
    write_run(tmp_path / "out", str(tmp_path / "b" / "ckpt"), docs, backend="hf")
    report = build_site([tmp_path / "out"], tmp_path / "site", bootstrap=10)
    assert [r.model for r in report.rows] == ["ckpt", "ckpt"]
    assert sum("2 different models are shown as 'ckpt'" in w for w in report.warnings) == 2
