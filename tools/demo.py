"""Offline demo: evaluate the embedded tiny models on synthetic tasks and build the leaderboard.

Runs, each with lm-eval's progress bars: `lm_eval --model mdlm` (embedded diffusion model, default decoding:
one token per step, low-confidence remasking), the same model with confidence-threshold decoding, and
`lm_eval --model hf` on the embedded AR model; then builds the static site and prints a summary.

    python tools/demo.py                 # writes demo_out/runs and demo_out/site
    python tools/demo.py --limit 50 --tasks mdlm_sudoku4_easy,mdlm_pb_copy_small
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tqdm import tqdm

# What the embedded models were trained on (tools/train_tiny.py DEFAULT_TASKS); the rest of mdlm_synthetic is
# beyond them (9x9 Sudoku, longer lines), so the demo would show only zeros there.
DEMO_TASKS = (
    "mdlm_sudoku4_easy,mdlm_sudoku4_hard,mdlm_countdown3,mdlm_pb_copy_small,mdlm_pb_reverse_small,mdlm_pb_sort_small"
)


DEMO_NAMES = {"diffusion": "embedded-mdlm-tiny", "ar": "embedded-ar-tiny"}
"""Display names of the embedded models (by default the site would show their folders' names)."""


def lm_eval_runs(tasks: str, limit: int, runs: Path, batch_size: int) -> list[tuple[str, list[str]]]:
    """The lm_eval command lines of the demo, each with a short label."""
    from model_adapters._embedded import embedded_path

    common = ["--tasks", tasks, "--limit", str(limit), "--output_path", str(runs), "--log_samples",
              "--device", "cpu", "--batch_size", str(batch_size)]  # fmt: skip
    ar = f"pretrained={embedded_path('ar')},max_length=256,dtype=float32"
    return [
        ("diffusion, 1 token/step", ["--model", "mdlm", *common]),
        ("diffusion, threshold 0.9", ["--model", "mdlm", "--gen_kwargs", "schedule=threshold,threshold=0.9", *common]),
        ("autoregressive (hf)", ["--model", "hf", "--model_args", ar, *common]),
    ]


def _fmt(x: float | None, decimals: int = 2) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{decimals}f}"


def _tau(est) -> str:  # noqa: ANN001
    """tau with the samples that define it (k/n); ``*`` marks too few (single-step samples have no tau)."""
    if est is None or est.value is None:
        return "-"
    return f"{est.value:.2f} {est.n}/{est.of}{'*' if est.thin else ''}"


def summary(rows) -> str:  # noqa: ANN001
    """A plain-text table per leaderboard row (model + decoding setting) and task: accuracy, AFP, Kendall's tau
    with its coverage (generation order) and, on Sudoku, the easy-first correlation (Spearman rho of finalization
    step against how constrained each cell is)."""
    lines = [f"[{i}] {row.model_type:9} {row.backend:4} {row.model}: "
             f"{row.setting_short or row.setting_label}" for i, row in enumerate(rows, 1)]
    lines += ["", f"{'row':>3}  {'task':24} {'acc':>6} {'AFP':>6} {'tau-b (k/n)':>14} {'easy1st':>7} {'n':>4}"]
    for i, row in enumerate(rows, 1):
        for task, st in sorted(row.tasks.items()):
            afp, tau, easy = (st.metrics.get(k) for k in ("afp", "tau_b", "easy_first_rho"))
            lines.append(
                f"{f'[{i}]':>3}  {task:24} {_fmt(st.accuracy):>6} {_fmt(afp.value if afp else None):>6} "
                f"{_tau(tau):>14} {_fmt(easy.value if easy else None):>7} {st.n_docs:>4}"
            )
    lines += ["tau-b (answer) k/n: samples with a defined tau of those traced (a single-step sample has none);",
              "* = fewer than 10 or under half. AR rows: 1 by construction, not measured."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("demo_out"))
    p.add_argument("--tasks", default=DEMO_TASKS, help="comma-separated synthetic tasks")
    p.add_argument("--limit", type=int, default=20, help="documents per task")
    p.add_argument("--batch-size", type=int, default=16)
    args = p.parse_args(argv)

    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    runs, site = args.out / "runs", args.out / "site"
    shutil.rmtree(args.out, ignore_errors=True)  # a demo re-run replaces, never merges into, an old one
    t0 = time.time()
    commands = lm_eval_runs(args.tasks, args.limit, runs, args.batch_size)
    for label, cmd in tqdm(commands, desc="demo runs", unit="run", file=sys.stdout):
        tqdm.write(f"\n== {label}: lm_eval {' '.join(cmd)}", file=sys.stdout)
        done = subprocess.run([sys.executable, "-m", "lm_eval", *cmd], env=env)
        if done.returncode != 0:
            print(f"demo: lm_eval failed ({label}), exit status {done.returncode}", file=sys.stderr)
            return done.returncode

    from leaderboard import build_site

    report = build_site([runs], site, names=DEMO_NAMES)
    print("\n" + summary(report.rows))
    for w in report.warnings:
        print(f"warning: {w}")
    check = report.prompt_check
    print(f"\nidentical prompts across rows: {check.agreed}/{check.checked} (task, doc) pairs")
    print(f"leaderboard: {(site / 'index.html').resolve()}  ({len(report.files)} files)")
    print(f"demo wall time: {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
