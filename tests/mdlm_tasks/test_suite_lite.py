"""``mdlm_suite_lite``: the suite's groups, and seeded per-task ids lm-eval's ``--samples`` accepts."""

from __future__ import annotations

from pathlib import Path

import yaml

from task_yamls.lite import LITE_DOCS, SEED, lite_ids, samples

YAMLS = Path(__file__).resolve().parents[2] / "task_yamls"


def test_lite_ids_are_a_fixed_seeded_subset_that_grows_by_prefix() -> None:
    ids = lite_ids("mdlm_gsm8k", 1319)
    assert len(ids) == LITE_DOCS == len(set(ids))
    assert ids == sorted(ids) and 0 <= ids[0] and ids[-1] < 1319
    assert ids == lite_ids("mdlm_gsm8k", 1319)  # no hidden state: the same ids for everyone
    assert ids != lite_ids("mdlm_svamp", 1319)  # each task has its own draw
    assert ids != list(range(LITE_DOCS))  # not the first documents
    assert set(lite_ids("mdlm_gsm8k", 1319, 20)) <= set(ids)  # a smaller n keeps a subset
    assert lite_ids("mdlm_aime24", 30) == list(range(30))  # a small task runs whole


def test_lite_group_has_the_suite_members_and_names_its_seed() -> None:
    suite = yaml.safe_load((YAMLS / "mdlm_suite.yaml").read_text())
    lite = yaml.safe_load((YAMLS / "mdlm_suite_lite.yaml").read_text())
    assert lite["group"] == "mdlm_suite_lite"
    assert lite["task"] == suite["task"]
    assert lite["metadata"]["lite_docs"] == LITE_DOCS and lite["metadata"]["lite_seed"] == SEED


def test_samples_cover_every_task_of_a_group_within_its_documents() -> None:
    from lm_eval.tasks import TaskManager

    chosen = samples(["mdlm_synthetic"], 5)
    tasks = TaskManager().load(["mdlm_synthetic"])["tasks"]
    assert set(chosen) == set(tasks) and len(chosen) == 22
    for name, ids in chosen.items():
        assert len(ids) == 5 and ids[-1] < len(tasks[name].eval_docs)
