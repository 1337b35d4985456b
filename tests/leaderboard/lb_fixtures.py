"""Writers of small lm-eval-shaped output folders (results, samples, traces) for the tests."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATE = "2026-11-23T10-00-00.000000"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Doc:
    """One document of a fixture task: its answers per repeat and, for diffusion runs, final steps."""

    doc_id: int
    score: float
    responses: list[str]
    final_steps: list[list[int]] | None = None  # per repeat, counted positions only
    nfe: int = 0
    prompt: str = ""
    doc: dict[str, Any] = field(default_factory=dict)
    pieces: list[list[str]] | None = None

    def prompt_text(self, task: str) -> str:
        return self.prompt or f"Question {task} #{self.doc_id}?"


def trace_row(
    task: str, doc: Doc, rep: int, model: str, prompt_hash: str | None = None, settings: dict[str, Any] | None = None
) -> dict[str, Any]:
    steps = doc.final_steps[rep]  # type: ignore[index]
    n = len(steps)
    pad = 2
    pieces = doc.pieces[rep] if doc.pieces else [f"t{i}" for i in range(n)]
    return {
        "task_name": task,
        "doc_id": doc.doc_id,
        "repeat": rep,
        "prompt_hash": prompt_hash or sha(doc.prompt_text(task)),
        "n_tokens": n,
        "final_step": steps + [max(steps, default=0)] * pad,
        "first_step": steps + [0] * pad,
        "n_changes": [1] * (n + pad),
        "nfe": doc.nfe or (max(steps, default=0) + 1),
        "steps": max(steps, default=0) + 1,
        "gen_length": n + pad,
        "stopped_early": False,
        "token_ids": list(range(n + pad)),
        "pieces": pieces,
        "settings": settings or {"steps": 8},
        "model": model,
        "schema": "mdlm-trace/1",
    }


def write_run(
    out: Path,
    model: str,
    tasks: dict[str, list[Doc]],
    *,
    backend: str = "mdlm",
    decoding: dict[str, Any] | None = None,
    groups: dict[str, list[str]] | None = None,
    limit: int | None = None,
    n_original: dict[str, int] | None = None,
    date: str = DATE,
    traces: bool = True,
    trace_name: str | None = "traces.jsonl",
    reported: dict[str, float] | None = None,
    lm_eval_version: str = "0.4.13",
    extra_trace_rows: list[dict[str, Any]] | None = None,
    trace_settings: dict[str, Any] | None = None,
    gen_kwargs: dict[str, Any] | None = None,
) -> Path:
    """Write one lm-eval run; returns its folder ``out/<model>``."""
    folder = out / model.replace("/", "__")
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    configs: dict[str, Any] = {}
    n_samples: dict[str, Any] = {}
    trace_rows: list[dict[str, Any]] = []
    for task, docs in tasks.items():
        mean = sum(d.score for d in docs) / len(docs)
        var = sum((d.score - mean) ** 2 for d in docs) / (len(docs) - 1) if len(docs) > 1 else 0.0
        value = reported.get(task, mean) if reported else mean
        results[task] = {"alias": task, "exact_match,none": value, "exact_match_stderr,none": (var / len(docs)) ** 0.5}
        configs[task] = {"task": task, "metric_list": [{"metric": "exact_match"}], "repeats": len(docs[0].responses)}
        n_samples[task] = {"original": (n_original or {}).get(task, len(docs)), "effective": len(docs)}
        with open(folder / f"samples_{task}_{date}.jsonl", "w", encoding="utf-8") as f:
            for d in docs:
                prompt = d.prompt_text(task)
                row = {
                    "doc_id": d.doc_id,
                    "doc": d.doc or {"q": prompt},
                    "target": "gold",
                    "arguments": {"gen_args_0": {"arg_0": prompt, "arg_1": {"until": ["\n"]}}},
                    "resps": [d.responses],
                    "filtered_resps": [d.responses[0]],
                    "filter": "none",
                    "metrics": ["exact_match"],
                    "doc_hash": sha(json.dumps(d.doc)),
                    "prompt_hash": sha(prompt),
                    "target_hash": sha("gold"),
                    "exact_match": d.score,
                }
                f.write(json.dumps(row) + "\n")
                if traces and d.final_steps is not None:
                    trace_rows += [
                        trace_row(task, d, r, model, settings=trace_settings) for r in range(len(d.final_steps))
                    ]
    config: dict[str, Any] = {
        "model": backend,
        "model_args": f"pretrained={model}",
        "batch_size": 1,
        "limit": limit,
        "gen_kwargs": gen_kwargs or {},
        "random_seed": 0,
        "numpy_seed": 1234,
        "torch_seed": 1234,
        "fewshot_seed": 1234,
    }
    if backend == "mdlm":
        config.update(mdlm_decoding=decoding or {"steps": 8}, mdlm_family="llada")
        if trace_name:  # as the adapter records it: relative to the results folder, and absolute
            config["mdlm_trace_file"] = trace_name
            config["mdlm_trace_file_abs"] = str((folder / trace_name).resolve())
    payload = {
        "results": results,
        "group_subtasks": groups or {},
        "configs": configs,
        "versions": {},
        "n-shot": {},
        "n-samples": n_samples,
        "config": config,
        "model_name": model,
        "task_hashes": {t: sha(t) for t in tasks},
        "lm_eval_version": lm_eval_version,
        "transformers_version": "5.23.0",
        "date": 1795452668.5,
        "pretty_env_info": "PyTorch version: 2.13.0+cpu\nIs debug build: False",
    }
    (folder / f"results_{date}.json").write_text(json.dumps(payload), encoding="utf-8")
    if traces and trace_name and (trace_rows or extra_trace_rows):
        rows = trace_rows + (extra_trace_rows or [])
        (folder / trace_name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def as_dict(obj: Any) -> Any:
    return dataclasses.asdict(obj)
