"""Pin ParallelBench's test items into mdlm_tasks/parallelbench/data/ from a git checkout of its repository.

Usage: python tools/pin_parallelbench.py GIT_DIR [COMMIT]

Reads each task's JSONL and ``task_config.yaml`` at COMMIT (default 72de8f7, the commit the
project checked against) with ``git show``, writes the JSONL byte for byte as ``<task>.jsonl.gz``
(gzip with mtime 0: reproducible bytes) and ``tasks.json`` with each file's path, sha256, prompt
template and metric. Re-running on the same commit changes nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import yaml

COMMIT = "72de8f73246ae5b7c742c7eeae9a9853a90084ac"
REPO = "furiosa-ai/ParallelBench"
ROOT = "dataset/parallel_bench/data/output/test"
OUT = Path(__file__).resolve().parent.parent / "mdlm_tasks" / "parallelbench" / "data"
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
    OUT.mkdir(parents=True, exist_ok=True)
    tasks = {}
    for name, budget in TASKS:
        folder, leaf = name.split("/")
        config = yaml.safe_load(_show(git_dir, full, f"{ROOT}/{folder}/task_config.yaml"))[name]
        path = f"{ROOT}/{name}.jsonl"
        raw = _show(git_dir, full, path)
        with open(OUT / f"{folder}__{leaf}.jsonl.gz", "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz:
            gz.write(raw)
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


if __name__ == "__main__":
    main(*sys.argv[1:])
