"""Benchmark: build the leaderboard from 10 models x 60 tasks x 500 samples with traces.

Usage: python bench/bench_leaderboard.py [--models 10] [--tasks 60] [--samples 500] [--gen-length 64] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from leaderboard import build_site

DATE = "2026-11-23T10-00-00.000000"
DOMAINS = ("mdlm_knowledge", "mdlm_math", "mdlm_reasoning", "mdlm_language", "mdlm_agentic", "mdlm_coding")


def synthesize(root: Path, models: int, tasks: int, samples: int, gen_length: int, seed: int = 0) -> int:
    """Write lm-eval-shaped folders; returns the total bytes written."""
    rng = np.random.default_rng(seed)
    names = [f"task_{i:02d}" for i in range(tasks)]
    groups = {d: [t for j, t in enumerate(names) if j % len(DOMAINS) == k] for k, d in enumerate(DOMAINS)}
    prompts = {t: [f"Question {d} of {t}: what is {d} + {d}?" for d in range(samples)] for t in names}
    hashes = {t: [hashlib.sha256(p.encode()).hexdigest() for p in prompts[t]] for t in names}
    total = 0
    for m in range(models):
        ar = m >= models - 2  # the last two models are AR baselines
        folder = root / f"model-{m}"
        folder.mkdir(parents=True)
        per_step = 1 + m % 4
        results, configs, counts, trace_lines = {}, {}, {}, []
        for t in names:
            scores = (rng.random(samples) < 0.3 + 0.05 * m).astype(float)
            lines = []
            for d in range(samples):
                lines.append(
                    json.dumps(
                        {
                            "doc_id": d,
                            "doc": {"q": d},
                            "target": str(2 * d),
                            "arguments": {"gen_args_0": {"arg_0": prompts[t][d], "arg_1": {"until": ["\n"]}}},
                            "resps": [[f"answer {d}"]],
                            "filtered_resps": [f"answer {d}"],
                            "filter": "none",
                            "metrics": ["exact_match"],
                            "doc_hash": "0",
                            "prompt_hash": hashes[t][d],
                            "target_hash": "0",
                            "exact_match": scores[d],
                        }
                    )
                )
                if not ar:
                    n = int(rng.integers(gen_length // 4, gen_length + 1))
                    order = np.arange(n) // per_step
                    swap = rng.random(n) < 0.2
                    order = np.where(swap, rng.integers(0, max(1, order.max(initial=0) + 1), n), order).tolist()
                    pad = gen_length - n
                    last = max(order, default=0)
                    trace_lines.append(
                        json.dumps(
                            {
                                "task_name": t,
                                "doc_id": d,
                                "repeat": 0,
                                "prompt_hash": hashes[t][d],
                                "n_tokens": n,
                                "final_step": order + [last] * pad,
                                "first_step": order + [last] * pad,
                                "n_changes": [1] * gen_length,
                                "nfe": last + 1,
                                "steps": last + 1,
                                "gen_length": gen_length,
                                "stopped_early": False,
                                "token_ids": [],
                                "pieces": [],
                                "settings": {},
                                "model": f"model-{m}",
                                "schema": "mdlm-trace/1",
                            }
                        )
                    )
            text = "\n".join(lines) + "\n"
            (folder / f"samples_{t}_{DATE}.jsonl").write_text(text)
            total += len(text)
            results[t] = {
                "alias": t,
                "exact_match,none": float(scores.mean()),
                "exact_match_stderr,none": float(scores.std(ddof=1) / np.sqrt(samples)),
            }
            configs[t] = {"task": t, "metric_list": [{"metric": "exact_match"}]}
            counts[t] = {"original": samples, "effective": samples}
        config = {
            "model": "hf" if ar else "mdlm",
            "model_args": f"pretrained=model-{m}",
            "limit": None,
            "random_seed": 0,
            "numpy_seed": 1234,
            "torch_seed": 1234,
            "fewshot_seed": 1234,
        }
        if not ar:
            config.update(
                mdlm_decoding={"tokens_per_step": per_step}, mdlm_family="llada", mdlm_trace_file="traces.jsonl"
            )
            text = "\n".join(trace_lines) + "\n"
            (folder / "traces.jsonl").write_text(text)
            total += len(text)
        payload = json.dumps(
            {
                "results": results,
                "configs": configs,
                "n-samples": counts,
                "config": config,
                "group_subtasks": groups,
                "model_name": f"model-{m}",
                "lm_eval_version": "0.4.13",
                "task_hashes": {},
                "date": 1795452668.5,
            }
        )
        (folder / f"results_{DATE}.json").write_text(payload)
        total += len(payload)
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=60)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--gen-length", type=int, default=64)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep inputs and site here (inputs already there are reused)"
    )
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_lb_"))
    try:
        t0 = time.perf_counter()
        if (root / "runs").is_dir():  # --keep DIR from an earlier run: reuse its inputs
            size = sum(p.stat().st_size for p in (root / "runs").rglob("*") if p.is_file())
        else:
            size = synthesize(root / "runs", args.models, args.tasks, args.samples, args.gen_length)
        t1 = time.perf_counter()
        report = build_site([root / "runs"], root / "site", bootstrap=args.bootstrap)
        t2 = time.perf_counter()
        site_bytes = sum(p.stat().st_size for p in (root / "site").rglob("*") if p.is_file())
        n = args.models * args.tasks * args.samples
        print(
            f"inputs: {args.models} models x {args.tasks} tasks x {args.samples} samples = {n} samples "
            f"(gen_length {args.gen_length}), {size / 1e6:.1f} MB written in {t1 - t0:.1f} s"
        )
        # Peak resident memory of this process (Linux reports kilobytes); synthesizing the inputs stays far below
        # the build's peak, so this is the build's figure. The budget is 1.5 GB at 10 x 60 x 500.
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        print(
            f"build_site: {t2 - t1:.1f} s ({n / (t2 - t1):,.0f} samples/s), bootstrap {args.bootstrap}, "
            f"{len(report.rows)} rows, {len(report.files)} files, {site_bytes / 1e6:.1f} MB, "
            f"{len(report.warnings)} warnings, peak RSS {peak_gb:.2f} GB"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
