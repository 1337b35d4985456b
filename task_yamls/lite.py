"""``mdlm_suite_lite``: every task of ``mdlm_suite`` on at most ``LITE_DOCS`` documents, at fixed seeded ids.

A task's ids depend only on its name and its number of documents: the first ``n`` of a permutation of
``range(size)`` seeded by the task name, sorted. Anyone with the same dataset versions gets the same ids,
and a larger ``n`` keeps every id of a smaller one. lm-eval selects documents by index with ``--samples``;
this module writes that JSON (the datasets must be downloaded or cached, as for the run itself)::

    python -m task_yamls.lite --out lite.json            # counts each task's documents once
    lm_eval --model mdlm ... --tasks mdlm_suite_lite --samples lite.json
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

LITE_DOCS = 50
"""Documents per task of the standard lite run (tasks with fewer documents run whole)."""
SEED = "mdlm_suite_lite/v1"
"""Seed prefix; changing it changes every id, so published lite numbers name it."""


def lite_ids(task: str, size: int, n: int = LITE_DOCS) -> list[int]:
    """Sorted document indices of ``task`` (``size`` documents) in the lite run."""
    order = list(range(size))
    random.Random(f"{SEED}:{task}").shuffle(order)
    return sorted(order[:n])


def leaf_tasks(groups: list[str]) -> dict[str, Any]:
    """{task name: Task} of every task under ``groups`` (lm-eval's own loading)."""
    from lm_eval.tasks import TaskManager

    return dict(TaskManager().load(groups)["tasks"])


def samples(groups: list[str], n: int = LITE_DOCS) -> dict[str, list[int]]:
    """lm-eval's ``--samples`` mapping for every task under ``groups``."""
    tasks = leaf_tasks(groups)
    return {name: lite_ids(name, len(task.eval_docs), n) for name, task in sorted(tasks.items())}


def main() -> None:
    """Command line: write the JSON (see the module docstring)."""
    parser = argparse.ArgumentParser(description="Write the --samples JSON of mdlm_suite_lite.")
    parser.add_argument("--tasks", default="mdlm_suite_lite", help="comma-separated groups or tasks")
    parser.add_argument("--n", type=int, default=LITE_DOCS, help="documents per task")
    parser.add_argument("--out", default="-", help="output file ('-': stdout)")
    args = parser.parse_args()
    text = json.dumps(samples(args.tasks.split(","), args.n), sort_keys=True)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
