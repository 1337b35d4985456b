"""The README's extension examples, run as written: a family and two strategies from outside the package.

The code blocks are read from README.md's "Add a model family" section, so the documented example is the test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from model_adapters import read_traces

README = Path(__file__).resolve().parents[2] / "README.md"
TASK = "mdlm_sudoku4_easy"
MY_MASK = "<|my_mask|>"


def readme_examples() -> list[str]:
    """The Python code blocks of README.md's "Add a model family" section, in order."""
    text = README.read_text()
    section = text.split("## Add a model family", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny LLaDA checkpoint, and the same weights as a "mymdlm" checkpoint whose tokenizer masks with <|my_mask|>."""
    from tests.tiny_models import NATIVE_SPECIALS, build_native, char_tokenizer

    root = tmp_path_factory.mktemp("extensions")
    llada = build_native("llada", root / "llada")
    mine = build_native("llada", root / "mymdlm")
    config = json.loads((mine / "config.json").read_text())
    config.update(model_type="mymdlm", architectures=["MyMDLMModel"])  # a name transformers has never heard of
    (mine / "config.json").write_text(json.dumps(config))
    spec = NATIVE_SPECIALS["llada"]
    # Same vocabulary layout as LLaDA's tiny tokenizer (the mask is id 2 in both), only the mask's text differs.
    char_tokenizer(MY_MASK, spec["eos"], spec["extra"]).save_pretrained(mine)
    return {"llada": llada, "mymdlm": mine}


def _lm_eval(model_args: str, out: Path, *extra: str) -> tuple[dict[str, Any], list[Any], list[dict[str, Any]]]:
    from tests.model_adapters.test_cli import LM_EVAL, _env

    cmd = [LM_EVAL, "--model", "mdlm", "--model_args", model_args, "--tasks", TASK, "--limit", "3",
           "--batch_size", "3", "--device", "cpu", "--output_path", str(out), "--log_samples", *extra]
    run = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    (results_file,) = out.glob("*/results_*.json")
    (samples_file,) = out.glob(f"*/samples_{TASK}_*.jsonl")
    config = json.loads(results_file.read_text())["config"]
    samples = [json.loads(line) for line in samples_file.read_text().splitlines()]
    return config, list(read_traces(results_file.parent / config["mdlm_trace_file"])), samples


def test_readme_family_example_runs_through_lm_eval(checkpoints, tmp_path) -> None:
    """The README's family file, passed as family_module: detected from model_type "mymdlm", loaded by the owned
    LLaDA loader, masking with its own token, decoding with its threshold default exactly as LLaDA's family does
    on the same weights with the same settings."""
    family_file = tmp_path / "my_family.py"
    family_file.write_text(readme_examples()[0])
    model_args = f"pretrained={checkpoints['mymdlm']},family_module={family_file}"
    config, traces, samples = _lm_eval(model_args, tmp_path / "out")
    assert config["mdlm_family"] == "mymdlm"
    assert len(traces) == 3
    for trace in traces:
        assert (trace.settings["schedule"], trace.settings["threshold"]) == ("threshold", 0.9)
        assert trace.settings["block_length"] == 32

    from lm_eval.api.instance import Instance

    from model_adapters._adapter import MDLMAdapter

    mine = MDLMAdapter(pretrained=str(checkpoints["mymdlm"]), family_module=str(family_file), device="cpu",
                       trace=False)
    assert mine.special.mask_id == mine.tokenizer.convert_tokens_to_ids(MY_MASK) == 2
    llada = MDLMAdapter(pretrained=str(checkpoints["llada"]), family="llada", device="cpu", batch_size=3,
                        trace_path=str(tmp_path / "llada.jsonl"), **config["mdlm_decoding"])
    assert llada.decoding.early_stop == "none"  # mymdlm's defaults, not LLaDA's eos_block
    requests = []
    for sample in samples:
        prompt, gen_kwargs = sample["arguments"]["gen_args_0"]["arg_0"], sample["arguments"]["gen_args_0"]["arg_1"]
        requests.append(Instance("generate_until", {}, (prompt, dict(gen_kwargs)), idx=0,
                                 metadata=(TASK, sample["doc_id"], 1)))
    assert llada.generate_until(requests, disable_tqdm=True) == [s["resps"][0][0] for s in samples]
    llada._writer.close()
    expected = {t.doc_id: t.token_ids for t in read_traces(tmp_path / "llada.jsonl")}
    assert {t.doc_id: t.token_ids for t in traces} == expected


def test_readme_strategy_example_runs_through_lm_eval(checkpoints, tmp_path) -> None:
    """The README's strategies file: a rule that draws noise and a one-parameter schedule, chosen by gen_kwargs.

    The schedule's own promise is checked on every trace: each step commits at least half of the masks left.
    """
    module = tmp_path / "my_strategies.py"
    module.write_text(readme_examples()[1])
    gen_kwargs = "remasking=noisy_confidence,schedule=threshold_half,threshold=0.99"
    _, traces, _ = _lm_eval(f"pretrained={checkpoints['llada']},family=llada,family_module={module}",
                         tmp_path / "out", "--gen_kwargs", gen_kwargs)
    assert len(traces) == 3
    for trace in traces:
        assert (trace.settings["remasking"], trace.settings["schedule"]) == ("noisy_confidence", "threshold_half")
        steps = [s for s in trace.first_step if s >= 0]
        left = len(trace.first_step)  # one block: the canvas (a task's max_gen_toks) is shorter than 32
        for step in range(trace.nfe):
            committed = steps.count(step)
            assert committed >= (left + 1) // 2, (trace.doc_id, step, committed, left)
            left -= committed
        assert left == 0


def _plugin_site(root: Path, module_source: str, name: str = "my_plugin") -> Path:
    """A folder that, on sys.path, looks like an installed distribution declaring a family entry point."""
    (root / f"{name}.py").write_text(module_source)
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[mdlm_bench.families]\nmymdlm = {name}\n")
    return root


def _python(code: str, site: Path) -> subprocess.CompletedProcess[str]:
    from tests.model_adapters.test_cli import _env

    env = {**_env(), "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


def test_an_installed_package_registers_a_family_through_its_entry_point(checkpoints, tmp_path) -> None:
    site = _plugin_site(tmp_path, readme_examples()[0])
    code = (
        "from model_adapters import detect_family, read_config\n"
        f"preset = detect_family(read_config({str(checkpoints['mymdlm'])!r}))\n"
        "print(preset.name, preset.loader.__name__)\n"
    )
    run = _python(code, site)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["mymdlm", "load_llada"]


def test_a_broken_plugin_is_reported_and_the_builtin_families_still_work(tmp_path) -> None:
    site = _plugin_site(tmp_path, "raise RuntimeError('plugin bug')\n", name="broken_plugin")
    run = _python("from model_adapters import get_family\nprint(get_family('llada').name)\n", site)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "llada"
    assert "broken_plugin" in run.stderr and "plugin bug" in run.stderr
