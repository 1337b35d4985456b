"""From lm-eval output folders to leaderboard rows, the prompt check and the viewer's samples."""

from __future__ import annotations

import datetime as dt
import math
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leaderboard._aggregate import VAL_KEYS, GenValues, aggregate_row, gen_metrics
from leaderboard._inputs import Run, load_runs
from leaderboard._join import (
    RowInput,
    applied_decoding,
    build_rows,
    display_name,
    distinguishing_labels,
    domain_map,
)
from leaderboard._records import LeaderboardRow, PromptCheck, RunInfo


class NothingUsableError(ValueError):
    """Raised when the given folders hold no readable lm-eval results."""


@dataclass
class Leaderboard:
    """Everything the site shows."""

    rows: list[LeaderboardRow]
    """Ranked rows."""
    prompt_check: PromptCheck
    """Identical-prompt check."""
    warnings: list[str]
    """Build-wide problems (row problems are also repeated here, prefixed by the row id)."""
    tasks: list[str]
    """Tasks with logged samples (one viewer page each), sorted."""
    domains: list[str]
    """Domains present, sorted."""
    local_paths: dict[str, str]
    """Paths of the build's inputs and local models, each with what the site shows instead (empty: keep them)."""
    row_inputs: list[RowInput]
    """The joined generations behind the rows (for ``samples``)."""
    values: GenValues
    """Per-generation metric values (for ``samples``)."""

    def samples(self, task: str) -> dict[str, Any]:
        """Viewer data of one task: prompts by prompt hash, generations of every row."""
        return viewer_page(self.row_inputs, self.values, task)


def _cmd_value(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)


def run_info(run: Run, local: dict[str, str] | None = None) -> RunInfo:
    """Reproducibility facts of one results file.

    Args:
        run: The run.
        local: Local paths to publish under another name (a local model's path -> its folder's name).
    """
    info = _run_info(run)
    for path, name in (local or {}).items():
        info.command = info.command.replace(path, name)
        info.model_args = info.model_args.replace(path, name)
    return info


def _run_info(run: Run) -> RunInfo:
    cfg, res = run.config, run.results
    seeds = {k: cfg.get(k) for k in ("random_seed", "numpy_seed", "torch_seed", "fewshot_seed") if k in cfg}
    cmd = ["lm_eval", "--model", str(cfg.get("model", "?"))]
    if cfg.get("model_args"):
        cmd += ["--model_args", _cmd_value(cfg["model_args"])]
    tasks = sorted(t for t in (res.get("configs") or {}) if t not in (res.get("group_subtasks") or {}))
    cmd += ["--tasks", ",".join(tasks)]
    if cfg.get("batch_size") is not None:
        cmd += ["--batch_size", str(cfg["batch_size"])]
    if cfg.get("gen_kwargs"):
        cmd += ["--gen_kwargs", _cmd_value(cfg["gen_kwargs"])]
    if cfg.get("limit") is not None:
        cmd += ["--limit", str(cfg["limit"])]
    if seeds:
        order = ("random_seed", "numpy_seed", "torch_seed", "fewshot_seed")
        cmd += ["--seed", ",".join(str(seeds.get(k)) for k in order)]
    if res.get("chat_template"):
        cmd.append("--apply_chat_template")
    cmd += ["--output_path", "OUT", "--log_samples"]
    torch = re.search(r"PyTorch version: (\S+)", str(res.get("pretty_env_info") or ""))
    date = res.get("date")
    when = (
        dt.datetime.fromtimestamp(float(date), tz=dt.timezone.utc).isoformat(timespec="seconds")
        if isinstance(date, (int, float))
        else ""
    )
    decoding = applied_decoding(run)  # what the traces say was applied; the run-wide default otherwise
    if not decoding and isinstance(cfg.get("mdlm_decoding"), dict):
        decoding = dict(cfg["mdlm_decoding"])
    if cfg.get("gen_kwargs"):
        decoding["gen_kwargs"] = cfg["gen_kwargs"]
    return RunInfo(
        results_file=run.label,
        command=shlex.join(cmd),
        model_args=_cmd_value(cfg.get("model_args") or ""),
        decoding=decoding,
        lm_eval_version=str(res.get("lm_eval_version") or "unknown"),
        transformers_version=str(res.get("transformers_version") or "unknown"),
        torch_version=torch.group(1) if torch else "unknown",
        seeds=seeds,
        task_hashes={k: str(v) for k, v in sorted((res.get("task_hashes") or {}).items())},
        date=when,
        limit=cfg.get("limit"),
        trace_files=list(run.trace_files),
        inputs=dict(sorted(run.inputs.items())),
    )


def _absolute(path: str) -> bool:
    """An absolute path, or lm-eval's folder name made of one (``/a/b`` -> ``__a__b``)."""
    return path.startswith(("/", "~", "__", "\\")) or re.match(r"^[A-Za-z]:[\\/]", path) is not None


def local_paths(rows: list[RowInput]) -> dict[str, str]:
    """Local model paths the runs recorded, each with the name the site shows instead (longest first)."""
    found: dict[str, str] = {}
    for source in {r.source for r in rows if r.source and display_name(r.source) != r.source}:
        found[source] = display_name(source)
        # lm-eval names the results folder after the path too (``sanitize_model_name``): that goes as well.
        found[re.sub(r"[\"<>:/|\\?*\[\]]+", "__", source)] = display_name(source)
    return dict(sorted(found.items(), key=lambda kv: -len(kv[0])))


def _prompt_check(rows: list[RowInput]) -> PromptCheck:
    seen: dict[tuple[str, int], dict[str, str]] = {}
    for row in rows:
        for task, t in row.tasks.items():
            for g in t.gens.values():
                if g.repeat == 0 and g.prompt_hash:
                    seen.setdefault((task, g.doc_id), {})[row.row_id] = g.prompt_hash
    multi = {k: v for k, v in seen.items() if len(v) > 1}
    bad = [
        {"task": k[0], "doc_id": k[1], "hashes": dict(sorted(v.items()))}
        for k, v in sorted(multi.items())
        if len(set(v.values())) > 1
    ]
    return PromptCheck(checked=len(multi), agreed=len(multi) - len(bad), mismatches=bad)


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def viewer_page(rows: list[RowInput], values: GenValues, task: str) -> dict[str, Any]:
    """Viewer data of one task: prompts by prompt hash and the generations of every row.

    Built one task at a time while the pages are written, so that the whole site's samples never sit
    in memory at once.
    """
    page: dict[str, Any] = {"prompts": {}, "gens": []}
    afp_col, tau_col = VAL_KEYS.index("afp"), VAL_KEYS.index("tau_b")
    for row in rows:
        t = row.tasks.get(task)
        if t is None:
            continue
        for (doc_id, rep), g in sorted(t.gens.items()):
            page["prompts"].setdefault(g.prompt_hash, g.prompt)  # models may (wrongly) differ: keep each
            tr = g.trace
            i = values.index.get(id(g))
            page["gens"].append(
                {
                    "row": row.row_id,
                    "doc": doc_id,
                    "repeat": rep,
                    "score": g.score,
                    "prompt_hash": g.prompt_hash,
                    "target": g.target,
                    "response": g.response,
                    "filtered": g.filtered,
                    "pieces": list(tr.pieces) if tr else [],
                    "steps": tr.final_step.tolist() if tr else [],
                    "nfe": tr.nfe if tr else None,
                    "afp": None if i is None else _finite(float(values.matrix[i, afp_col])),
                    "tau_b": None if i is None else _finite(float(values.matrix[i, tau_col])),
                }
            )
    return page


def collect(
    run_dirs: list[Path], bootstrap: int = 1000, names: dict[str, str] | None = None, keep_paths: bool = False
) -> Leaderboard:
    """Read the folders and compute every number the site shows.

    Args:
        run_dirs: lm-eval ``--output_path`` folders (or parents of them).
        bootstrap: Bootstrap replicates per task.
        names: Display names by model source (hub id or path) or by default display name.
        keep_paths: Publish local model paths in the reproduce commands instead of the folders' names.

    Returns:
        The leaderboard.

    Raises:
        NothingUsableError: When no readable results file was found.
    """
    runs, problems = load_runs(run_dirs)
    if not runs:
        detail = "; ".join(problems) or "no results_*.json found"
        raise NothingUsableError(f"nothing usable in {', '.join(map(str, run_dirs))}: {detail}")
    versions = sorted({str(r.results.get("lm_eval_version")) for r in runs})
    if len(versions) > 1:
        problems.append(f"runs come from different lm-eval versions: {', '.join(versions)}")
    row_inputs = build_rows(runs, names)
    values = gen_metrics(row_inputs, problems)
    domains = domain_map(runs)
    local = {} if keep_paths else local_paths(row_inputs)
    rows = [aggregate_row(r, domains, values, bootstrap, [run_info(x, local) for x in r.runs]) for r in row_inputs]
    for row, short in zip(rows, distinguishing_labels([(r.model, r.setting) for r in rows]), strict=True):
        row.setting_short = short
    ranked = sorted(rows, key=lambda r: (r.overall.accuracy is None, -(r.overall.accuracy or 0.0), r.row_id))
    for i, row in enumerate(ranked):
        row.rank = i + 1 if row.overall.accuracy is not None else None
    warnings = problems + [f"{r.row_id}: {w}" for r in ranked for w in r.warnings]
    check = _prompt_check(row_inputs)
    if check.mismatches:
        warnings.append(
            f"prompt mismatch: {len(check.mismatches)} of {check.checked} (task, doc) pairs were "
            "shown different prompts by different models"
        )
    present = sorted({d for r in rows for d in r.domains})
    if not keep_paths:  # the final guard replaces absolute paths only: a relative one could be ordinary text
        for d in run_dirs:
            local.update({str(d.absolute()): d.name, str(d.resolve()): d.name})
        local = dict(sorted(((p, n) for p, n in local.items() if _absolute(p)), key=lambda kv: -len(kv[0])))
    tasks = sorted({task for r in row_inputs for task, t in r.tasks.items() if t.gens})
    return Leaderboard(ranked, check, warnings, tasks, present, local, row_inputs, values)
