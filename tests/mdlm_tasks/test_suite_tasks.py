"""Every knowledge / math / reasoning / language task, built by lm-eval from its real YAML on fixture rows.

Each fixture holds rows shaped like the hub rows, the gold target per row (worked out by
hand), and model responses with the score they must get.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mdlm_tasks.prompts import INSTRUCTIONS

TASK_YAMLS = Path(__file__).resolve().parents[2] / "task_yamls"
DOMAINS = ("knowledge", "math", "reasoning", "language")
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _domain_tasks(domain: str) -> list[str]:
    group = yaml.safe_load((TASK_YAMLS / domain / f"mdlm_{domain}.yaml").read_text(encoding="utf-8"))
    return list(group["task"])


DOMAIN_TASKS = [name for domain in DOMAINS for name in _domain_tasks(domain)]
TASKS = [*DOMAIN_TASKS, "mdlm_mastermind"]  # Mastermind is outside the 58 but still shipped


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name.removeprefix('mdlm_')}.json").read_text(encoding="utf-8"))


def test_forty_tasks_in_these_domains() -> None:
    assert len(DOMAIN_TASKS) == 40 and len(set(DOMAIN_TASKS)) == 40


@pytest.mark.parametrize("name", TASKS)
def test_task_on_fixture_rows(name: str, build_task: Any) -> None:
    fixture = _fixture(name)
    task = build_task(name)
    docs = list(task.eval_docs)
    assert docs, "process_docs dropped every fixture row"

    for i, target in enumerate(fixture.get("targets", [])):
        assert task.doc_to_target(docs[i]) == target
    for i, text in enumerate(fixture.get("target_texts", [])):  # rows whose option order is shuffled
        letter = task.doc_to_target(docs[i])
        assert docs[i]["mdlm_options"]["ABCDEFGHIJ".index(letter)] == text

    for doc in docs:
        prompt = task.doc_to_text(doc)
        assert isinstance(prompt, str) and "Question: " in prompt
        assert any(instruction in prompt for instruction in INSTRUCTIONS.values())
        assert prompt.rstrip().endswith(("Answer:", "Solution:"))

    for case in fixture["cases"]:
        scores = task.process_results(docs[case["doc"]], [case["response"]])
        assert scores["acc"] == case["acc"], case["response"]
        if "f1" in case:
            assert scores["f1"] == pytest.approx(case["f1"]), case["response"]


@pytest.mark.parametrize("name", TASKS)
def test_task_generation_and_metric_settings(name: str, build_task: Any) -> None:
    task = build_task(name)
    config = task.config
    assert config.output_type == "generate_until"
    assert config.num_fewshot in (0, None)
    kwargs = config.generation_kwargs
    assert kwargs["do_sample"] is False
    assert "Question:" in kwargs["until"]
    assert 256 <= kwargs["max_gen_toks"] <= 1024
    assert config.metric_list[0]["metric"] == "acc"
    assert config.test_split and (config.dataset_path or config.custom_dataset)


def test_math_tasks_leave_room_for_chain_of_thought(build_task: Any) -> None:
    for name in _domain_tasks("math"):
        assert build_task(name).config.generation_kwargs["max_gen_toks"] >= 512


def test_multi_subject_benchmarks_are_one_task_over_all_subjects(task_manager: Any) -> None:
    expected = {"mdlm_ceval": 52, "mdlm_cmmlu": 67, "mdlm_mmlu_redux": 57, "mdlm_bbh": 27, "mdlm_minerva_math": 7}
    for name, count in expected.items():
        config = yaml.load(task_manager.task_index[name].yaml_path.read_text(encoding="utf-8"), Loader=_NoTagLoader)
        assert len(config["dataset_kwargs"]["configs"]) == count
        assert len(set(config["dataset_kwargs"]["configs"])) == count


def test_gsm_plus_drops_rows_without_a_numeric_answer(build_task: Any) -> None:
    docs = list(build_task("mdlm_gsm_plus").eval_docs)
    assert [d["answer"] for d in docs] == ["26", "19.75"]


class _NoTagLoader(yaml.SafeLoader):
    """Reads task YAML without resolving ``!function`` tags."""


_NoTagLoader.add_constructor("!function", lambda loader, node: loader.construct_scalar(node))
