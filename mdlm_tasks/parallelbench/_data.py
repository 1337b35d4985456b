"""ParallelBench's pinned test items and how they become chat messages.

ParallelBench's repository has no licence, so its data is not shipped: ``data/tasks.json`` (our
metadata) records the repository, commit, path and sha256 of each test file, and each file is read
from ``$MDLM_PARALLELBENCH_DIR`` (a ParallelBench checkout), the user cache, or the raw GitHub URL at
that commit (fetched once, then cached). Every read checks the sha256, so an edited or truncated
file fails loudly instead of silently changing the benchmark.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from mdlm_tasks._pinned import GitHubPin

DIR_ENV = "MDLM_PARALLELBENCH_DIR"
"""Environment variable naming a local ParallelBench checkout to read the files from instead of the network."""
PREFIX = "mdlm_parallelbench_"
"""lm-eval task names are this prefix plus ParallelBench's task leaf name (``copy``, ``latin_square_n4``...)."""


@dataclass(frozen=True)
class PBTask:
    """One ParallelBench task as pinned."""

    name: str
    """ParallelBench's name, e.g. ``waiting_line/copy``."""
    path: str
    """Path of the JSONL in ParallelBench's repository."""
    sha256: str
    """sha256 of that file's bytes at the pinned commit."""
    items: int
    """Number of test items (lines)."""
    prompt: str
    """ParallelBench's prompt template (``str.format`` over the item's ``input``)."""
    metric: str
    """ParallelBench's metric name."""
    max_tokens: int
    """Output budget of ParallelBench's paper runs (``cfg/paper/benchmark``)."""

    @property
    def task_name(self) -> str:
        """The lm-eval task name."""
        leaf = self.name.split("/")[1]
        return PREFIX + (f"words_to_sentence_{leaf}" if self.name.startswith("words_to_sentence/") else leaf)


@functools.cache
def _meta() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("data", "tasks.json").read_text(encoding="utf-8"))


def source() -> tuple[str, str]:
    """(repository, commit) the items were pinned from."""
    meta = _meta()
    return meta["repo"], meta["commit"]


@functools.cache
def pb_tasks() -> dict[str, PBTask]:
    """Every pinned task, by lm-eval task name."""
    tasks = (PBTask(name=name, **spec) for name, spec in _meta()["tasks"].items())
    return {t.task_name: t for t in sorted(tasks, key=lambda t: t.name)}


def pin() -> GitHubPin:
    """Where the files come from: ParallelBench's repository at the pinned commit (see module docstring)."""
    repo, commit = source()
    return GitHubPin(repo, commit, DIR_ENV, "parallelbench")


def raw_bytes(task: PBTask) -> bytes:
    """The pinned file's bytes (checkout, cache or download), checked against its sha256."""
    return pin().read(task.path, task.sha256)


def load_items(task: PBTask) -> list[dict[str, Any]]:
    """ParallelBench's items of one task, in file order."""
    return [json.loads(line) for line in raw_bytes(task).decode("utf-8").splitlines() if line.strip()]


def _user(task: PBTask, item_input: dict[str, Any]) -> str:
    # ParallelBench formats its template with the item's input fields, then turns literal "\n" into newlines.
    return task.prompt.format(**item_input).replace("\\n", "\n")


def gold_text(answer: Any) -> str:
    """The text a correct reply could be: the answer itself, or its worked ``example`` (ParallelBench's ICL rule)."""
    return answer if isinstance(answer, str) else answer.get("example", "")


def messages(task: PBTask, item: dict[str, Any]) -> list[dict[str, str]]:
    """ParallelBench's chat for one item: each worked example as a user/assistant pair, then the question."""
    chat: list[dict[str, str]] = []
    for example in item["input"].get("icl_examples", []):
        chat.append({"role": "user", "content": _user(task, example["input"])})
        chat.append({"role": "assistant", "content": gold_text(example["answer"])})
    chat.append({"role": "user", "content": _user(task, item["input"])})
    return chat


def to_doc(task: PBTask, index: int, item: dict[str, Any]) -> dict[str, Any]:
    """One lm-eval document: the chat, its final question, the gold text and the reference for scoring."""
    chat = messages(task, item)
    return {
        "pb_index": index,
        "pb_task": task.name,
        "pb_metric": task.metric,
        "messages": chat,
        "prompt": chat[-1]["content"],
        "target": gold_text(item["answer"]),
        # JSON text: answers are strings for some tasks and objects for others.
        "reference": json.dumps(item["answer"], ensure_ascii=False, sort_keys=True),
        "length": int(item.get("metadata", {}).get("length") or 0),
    }
