"""Pin ParallelBench's test files by sha256 (mdlm_tasks/parallelbench/data/tasks.json) from a git clone of it.

Usage: python tools/pin_parallelbench.py GIT_DIR [COMMIT]

Reads each task's JSONL and ``task_config.yaml`` at COMMIT (default 72de8f7, the commit the
project checked against) with ``git show`` and writes ``tasks.json`` with each file's path, sha256,
item count, prompt template and metric. The data itself is not copied into the package (the
repository has no licence; the loader fetches it). For the tests it writes a small fixture of real
items, tests/mdlm_tasks/fixtures/parallelbench_items.json: the JSONL lines of items ``FIXTURE_ITEMS``
of each file, byte for byte. Re-running on the same commit changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import yaml

COMMIT = "72de8f73246ae5b7c742c7eeae9a9853a90084ac"
REPO = "furiosa-ai/ParallelBench"
ROOT = "dataset/parallel_bench/data/output/test"
ROOT_DIR = Path(__file__).resolve().parent.parent
OUT = ROOT_DIR / "mdlm_tasks" / "parallelbench" / "data"
FIXTURE = ROOT_DIR / "tests" / "mdlm_tasks" / "fixtures" / "parallelbench_items.json"
FIXTURE_ITEMS = (0, 1, 2, 26, 53, 99)  # the first three, and one item of each list length 3-6 (25 per length)
# (ParallelBench task, output budget in tokens from its cfg/paper/benchmark/*.yaml)
TASKS = (
    *(
        (f"waiting_line/{op}", 32)
        for op in (
            "copy",
            "insert_index",
            "insert_random",
            "remove_index",
            "remove_random",
            "replace_index",
            "replace_random",
            "reverse",
            "shuffle",
            "sort",
        )
    ),
    ("puzzle/latin_square_n4", 64),
    *((f"words_to_sentence/{level}", 64) for level in ("easy", "medium", "hard")),
)


def _show(git_dir: str, commit: str, path: str) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", git_dir, "show", f"{commit}:{path}"], check=True, capture_output=True
    ).stdout


def main(git_dir: str, commit: str = COMMIT) -> None:
    """Write the pinned files (see the module docstring)."""
    full = subprocess.run(
        ["git", "--git-dir", git_dir, "rev-parse", commit], check=True, capture_output=True, text=True
    ).stdout.strip()
    tasks, fixture = {}, {}
    for name, budget in TASKS:
        folder, leaf = name.split("/")
        config = yaml.safe_load(_show(git_dir, full, f"{ROOT}/{folder}/task_config.yaml"))[name]
        path = f"{ROOT}/{name}.jsonl"
        raw = _show(git_dir, full, path)
        lines = raw.decode("utf-8").split("\n")
        fixture[name] = {"index": list(FIXTURE_ITEMS), "lines": [lines[i] for i in FIXTURE_ITEMS]}
        tasks[name] = {
            "path": path,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "items": raw.count(b"\n"),
            "prompt": config["prompt"],
            "metric": config["metric"],
            "max_tokens": budget,
        }
    meta = {"repo": REPO, "commit": full, "tasks": tasks}
    (OUT / "tasks.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    doc = (
        f"Real test items of {REPO} at {full[:7]} for the tests (the package ships none): for each task, the lines "
        "at the 0-based positions in 'index' of its JSONL file (tasks.json's path), byte for byte. Written by "
        "tools/pin_parallelbench.py."
    )
    FIXTURE.write_text(
        json.dumps({"_doc": doc, "repo": REPO, "commit": full, "tasks": fixture}, indent=1, sort_keys=True,
                   ensure_ascii=False) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
