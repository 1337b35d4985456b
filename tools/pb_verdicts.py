"""Record ParallelBench's own scorer's verdicts on gold and typical wrong replies, as a test fixture.

Usage: python tools/pb_verdicts.py GIT_DIR [COMMIT]   (a bare git directory is enough)

Extracts ParallelBench's ``dataset/parallel_bench/metrics.py`` and ``task_utils.py`` at COMMIT
into a temporary folder, stubs the two imports that need the network or Java (``evaluate``,
LanguageTool's ``grammar_check``: never called by the list and Latin-square metrics; for
words-to-sentence only the ``inclusion_score`` its function returns is recorded), runs its metric functions the way
its ``compute_metrics`` does (``score`` = lenient call, ``score_strict`` = ``strict=True``), and
writes the verdicts to tests/mdlm_tasks/fixtures/parallelbench_verdicts.json. The items are the
real ones of tests/mdlm_tasks/fixtures/parallelbench_items.json (written by tools/pin_parallelbench.py):
the gold answer of each, and typical replies to items ``PICK``. The test replays the same replies
through mdlm_tasks.parallelbench and must agree on every one.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mdlm_tasks.parallelbench import PBTask, gold_text, pb_tasks  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "mdlm_tasks" / "fixtures"
OUT = FIXTURES / "parallelbench_verdicts.json"
FILES = ("dataset/parallel_bench/metrics.py", "dataset/parallel_bench/data/task_utils.py")
PICK = (0, 26, 53, 99)  # items spread over the four list lengths


def _reference_metrics(git_dir: str, commit: str) -> types.ModuleType:
    tmp = Path(tempfile.mkdtemp())
    for rel in FILES:
        target = tmp / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(
            subprocess.run(
                ["git", "--git-dir", git_dir, "show", f"{commit}:{rel}"], check=True, capture_output=True
            ).stdout
        )
    for pkg in ("dataset", "dataset/parallel_bench", "dataset/parallel_bench/data", "utils"):
        (tmp / pkg).mkdir(parents=True, exist_ok=True)
        (tmp / pkg / "__init__.py").write_text("")
    (tmp / "utils" / "grammar_check.py").write_text(
        "def grammar_check(text):\n    return True  # LanguageTool is not available offline: inclusion only\n"
    )
    sys.modules["evaluate"] = types.ModuleType("evaluate")
    sys.path.insert(0, str(tmp))
    return importlib.import_module("dataset.parallel_bench.metrics")


def _fixture_items(task: PBTask) -> dict[int, dict[str, Any]]:
    """The fixture's real items of one task, by their 0-based position in the file."""
    entry = json.loads((FIXTURES / "parallelbench_items.json").read_text(encoding="utf-8"))["tasks"][task.name]
    return {i: json.loads(line) for i, line in zip(entry["index"], entry["lines"], strict=True)}


def _names(answer: Any) -> list[str]:
    return json.loads(gold_text(answer))


def _wrong_lists(names: list[str], item: dict[str, Any], task: str) -> dict[str, str]:
    """Replies a chat model plausibly writes for a list task, most of them wrong for ParallelBench."""
    quoted = ", ".join(f'"{n}"' for n in names)
    out = {
        "gold": f"[{quoted}]",
        "no brackets": quoted,
        "plain names (mdlm_pb style)": ", ".join(names),
        "lowercase": f"[{quoted.lower()}]",
        "prose before": f"Here is the final list: [{quoted}]",
        "trailing period": f"[{quoted}].",
        "single quotes": "[" + ", ".join(f"'{n}'" for n in names) + "]",
        "no space after comma": "[" + ",".join(f'"{n}"' for n in names) + "]",
        "one per line in brackets": "[\n" + ",\n".join(f'  "{n}"' for n in names) + "\n]",
        "numbered lines": "\n".join(f"{i + 1}. {n}" for i, n in enumerate(names)),
        "code fence": f"```json\n[{quoted}]\n```",
        "two lists, last one wrong": f"[{quoted}]\n[{', '.join(repr(n) for n in reversed(names))}]",
        "dropped last": "[" + ", ".join(f'"{n}"' for n in names[:-1]) + "]",
        "reversed": "[" + ", ".join(f'"{n}"' for n in reversed(names)) + "]",
        "duplicate first": "[" + ", ".join(f'"{n}"' for n in [names[0], *names]) + "]",
        "empty list": "[]",
        "empty reply": "",
    }
    inp = item["input"]
    if "index" in inp:  # the model read the position as 1-based
        original = json.loads(inp["context"])
        one_based = list(original)
        if task.startswith("insert"):
            one_based.insert(inp["index"] + 1 if inp["index"] < len(original) else 0, inp["word"])
        elif task.startswith("remove"):
            one_based.pop((inp["index"] + 1) % len(original))
        else:
            one_based[(inp["index"] + 1) % len(original)] = inp["word"]
        out["1-based position"] = "[" + ", ".join(f'"{n}"' for n in one_based) + "]"
    if task == "sort":
        by_last = sorted(names, key=lambda n: (n.split()[-1], n))
        out["sorted by last name"] = "[" + ", ".join(f'"{n}"' for n in by_last) + "]"
    if isinstance(item["answer"], dict) and "input" in item["answer"]:
        out["input unchanged"] = "[" + ", ".join(f'"{n}"' for n in item["answer"]["input"]) + "]"
    return out


def _wrong_latin(answer: dict[str, Any]) -> dict[str, str]:
    rows = [r.split(",") for r in answer["example"].split("\n")]
    return {
        "gold": answer["example"],
        "spaces after commas": "\n".join(", ".join(r) for r in rows),
        "no commas (mdlm_pb style)": " ".join("".join(r) for r in rows),
        "space separated rows": "\n".join(" ".join(r) for r in rows),
        "code fence": "```csv\n" + answer["example"] + "\n```",
        "header line first": "Here is the Latin square:\n" + answer["example"],
        "transposed": "\n".join(",".join(c) for c in zip(*rows, strict=True)),
        "repeated row": "\n".join(",".join(r) for r in [rows[0], *rows[:-1]]),
        "three rows": "\n".join(",".join(r) for r in rows[:3]),
        "lowercase": answer["example"].lower(),
        "empty reply": "",
    }


def _wrong_words(answer: dict[str, Any]) -> dict[str, str]:
    words = answer["words"]
    return {
        "all words, one sentence": f"The {words[0]} and the {words[1]} met near the {words[2]} to {words[3]}.",
        "one word missing": f"The {words[0]} and the {words[1]} met near the {words[2]}.",
        "capitalised word": f"{words[0].capitalize()} and {words[1]} and {words[2]} and {words[3]}.",
        "inflected word": f"The {words[0]}s and the {words[1]} met near the {words[2]} to {words[3]}.",
        "empty reply": "",
    }


def main(git_dir: str, commit: str = "72de8f7") -> None:
    """Write the fixture (see the module docstring)."""
    ref = _reference_metrics(git_dir, commit)
    funcs = ref.parallel_bench_metric_func_map
    tasks: dict[str, Any] = {}
    for name, task in pb_tasks().items():
        items = _fixture_items(task)
        fn = funcs[task.metric]
        entry: dict[str, Any] = {"metric": task.metric, "pb_task": task.name, "cases": []}
        if task.metric == "sentence_to_words_score":
            for i in PICK:
                for kind, reply in _wrong_words(items[i]["answer"]).items():
                    inclusion = fn(reply, items[i]["answer"])["inclusion_score"]  # its grammar half is stubbed
                    entry["cases"].append({"item": i, "kind": kind, "reply": reply, "inclusion_score": inclusion})
            tasks[name] = entry
            continue
        # The gold answer of every fixture item (the worked-example rule: the answer, or its "example").
        entry["gold"] = {
            str(i): [
                float(fn(gold_text(it["answer"]), it["answer"])),
                float(fn(gold_text(it["answer"]), it["answer"], strict=True)),
            ]
            for i, it in items.items()
        }
        for i in PICK:
            item = items[i]
            if task.metric == "latin_square_score":
                replies = _wrong_latin(item["answer"])
            else:
                replies = _wrong_lists(_names(item["answer"]), item, name.removeprefix("mdlm_parallelbench_"))
            for kind, reply in replies.items():
                entry["cases"].append(
                    {
                        "item": i,
                        "kind": kind,
                        "reply": reply,
                        "score": float(fn(reply, item["answer"])),
                        "score_strict": float(fn(reply, item["answer"], strict=True)),
                    }
                )
        tasks[name] = entry
    full = subprocess.run(
        ["git", "--git-dir", git_dir, "rev-parse", commit], check=True, capture_output=True, text=True
    ).stdout.strip()
    doc = (
        "Verdicts of ParallelBench's own metric functions (furiosa-ai/ParallelBench, dataset/parallel_bench/"
        "metrics.py) on gold and typical wrong replies, recorded by tools/pb_verdicts.py. gold: [score, "
        "score_strict] of the gold text of each item of parallelbench_items.json, by its 0-based position. "
        "words-to-sentence: only the inclusion half (LanguageTool off)."
    )
    OUT.write_text(
        json.dumps({"_doc": doc, "commit": full, "tasks": tasks}, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
