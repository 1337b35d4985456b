"""The group tree: every task YAML indexes, and mdlm_suite holds six domain groups (58 tasks) and mdlm_synthetic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

TASK_YAMLS = Path(__file__).resolve().parents[2] / "task_yamls"
DOMAIN_GROUPS = {
    "mdlm_knowledge": 9,
    "mdlm_math": 11,
    "mdlm_reasoning": 11,
    "mdlm_language": 9,
    "mdlm_agentic": 6,
    "mdlm_coding": 12,
}


def _children(task_manager: Any, group: str) -> list[str]:
    entry = task_manager.task_index[group]
    return [c if isinstance(c, str) else c.get("task") or c.get("group") for c in entry.cfg["task"]]


def _leaves(task_manager: Any, name: str) -> list[str]:
    from lm_eval.tasks._index import Kind

    entry = task_manager.task_index[name]
    if entry.kind != Kind.GROUP:
        return [name]
    return [leaf for child in _children(task_manager, name) for leaf in _leaves(task_manager, child)]


def test_every_task_yaml_is_indexed(task_manager: Any) -> None:
    # lm-eval skips a YAML it cannot parse with only a debug log; catch that here.
    for path in sorted(TASK_YAMLS.rglob("mdlm_*.yaml")):
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
        name = raw.get("group") or raw.get("task")
        assert name == path.stem, f"{path}: name {name!r} should match the file name"
        assert name in task_manager.task_index, f"{path} was not indexed"


def test_domain_groups_hold_58_distinct_tasks(task_manager: Any) -> None:
    from lm_eval.tasks._index import Kind

    leaves = []
    for group, size in DOMAIN_GROUPS.items():
        assert group in task_manager.task_index, f"group {group} is missing"
        assert task_manager.task_index[group].kind == Kind.GROUP
        members = _leaves(task_manager, group)
        assert len(members) == size, (group, members)
        leaves += members
    assert len(leaves) == 58 and len(set(leaves)) == 58
    assert all(task_manager.task_index[leaf].kind in (Kind.TASK, Kind.PY_TASK) for leaf in leaves)


def test_paper_grouping_kor_bench_and_gpqa_in_reasoning(task_manager: Any) -> None:
    # The paper files KOR-Bench and GPQA under reasoning; Mastermind stays indexed but outside the 58.
    reasoning = _leaves(task_manager, "mdlm_reasoning")
    assert "mdlm_kor_bench" in reasoning and "mdlm_gpqa_diamond" in reasoning
    assert "mdlm_gpqa_diamond" not in _leaves(task_manager, "mdlm_knowledge")
    assert "mdlm_mastermind" in task_manager.task_index
    assert all("mdlm_mastermind" not in _leaves(task_manager, group) for group in DOMAIN_GROUPS)


def test_suite_is_the_six_domains_plus_synthetic(task_manager: Any) -> None:
    assert sorted(_children(task_manager, "mdlm_suite")) == sorted([*DOMAIN_GROUPS, "mdlm_synthetic"])
    assert "mdlm_synthetic" in task_manager.task_index, "mdlm_synthetic group is not written yet"


def test_groups_aggregate_acc_weighted_by_size(task_manager: Any) -> None:
    for group in [*DOMAIN_GROUPS, "mdlm_suite"]:
        aggregate = task_manager.task_index[group].cfg["aggregate_metric_list"]
        assert aggregate[0]["metric"] == "acc" and aggregate[0]["weight_by_size"] is True


def _constant_lm(reply: str) -> Any:
    """A stand-in model that answers every request with the same text."""
    from lm_eval.api.model import LM

    class Constant(LM):
        def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
            return [reply for _ in requests]

        def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> list[Any]:
            raise NotImplementedError

        def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[Any]:
            raise NotImplementedError

    return Constant()


def test_domain_groups_evaluate_end_to_end(task_manager: Any, offline_downloads: None) -> None:
    from lm_eval import evaluator

    groups = ["mdlm_knowledge", "mdlm_math", "mdlm_reasoning", "mdlm_language"]
    # evaluate() rather than simple_evaluate(): same scoring and aggregation, without torch seeding and env probes.
    out = evaluator.evaluate(
        lm=_constant_lm("The answer is (A). \\boxed{18}"),
        task_dict=task_manager.load(groups),
        bootstrap_iters=0,
    )
    results, sizes = out["results"], out["n-samples"]
    # gsm8k fixture golds are 18 and 22000: one of two right.
    assert results["mdlm_gsm8k"]["acc,none"] == 0.5
    assert results["mdlm_squad_v2"]["f1,none"] == 0.0
    for group in groups:
        members = _leaves(task_manager, group)
        assert all("acc,none" in results[m] for m in members)
        total = sum(sizes[m]["effective"] for m in members)
        weighted = sum(results[m]["acc,none"] * sizes[m]["effective"] for m in members) / total
        assert results[group]["acc,none"] == pytest.approx(weighted)
