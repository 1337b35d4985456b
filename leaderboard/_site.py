"""Render the static site: index, per-model pages, per-task sample viewers, data.json and data.csv.

One jinja2 Environment (autoescape, StrictUndefined); data embedded with ``|tojson``; CSS and
JS inlined from package resources, so the folder works from disk with no network. Output is
byte-identical for identical inputs: sorted keys, no timestamps.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from leaderboard._aggregate import COLUMNS
from leaderboard._build import Leaderboard, collect
from leaderboard._join import MODEL_TYPES
from leaderboard._metrics import METRICS
from leaderboard._plots import COLORS, Point, by_category, scatter
from leaderboard._records import BuildReport, LeaderboardRow, ScopeStats

SCHEMA = "mdlm-leaderboard/1"
"""Version tag of data.json."""


def _spec_key(key: str) -> str:
    base = re.sub(r"_(correct|incorrect|[123])$", "", key)
    return base if base in METRICS else key


def fmt(value: float | None, key: str) -> str:
    """Format a value with its metric's decimals and unit scaling (``-`` when missing)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    spec = METRICS.get(_spec_key(key))
    if spec is not None and spec.unit == "%":  # stored as a fraction, shown as a percentage
        value = 100.0 * value
    return f"{value:.{spec.decimals if spec else 3}f}"


def fmt_params(count: int | None) -> str:
    """Parameter count as 25.3k / 7.6M / 8.0B (``-`` when unknown)."""
    if not count:
        return "-"
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if count >= scale:
            return f"{count / scale:.1f}{suffix}"
    return str(count)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("leaderboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = fmt
    env.filters["params"] = fmt_params
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    return env


def _asset(name: str) -> str:
    return resources.files("leaderboard").joinpath("assets", name).read_text(encoding="utf-8")


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("mdlm-bench")
    except Exception:  # noqa: BLE001 - a source checkout without metadata still builds
        return "unknown"


def _git_commit() -> str | None:
    """Commit of the source checkout this package runs from (None when installed from a wheel)."""
    import subprocess

    try:
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return (res.stdout.strip() or None) if res.returncode == 0 else None


def row_title(r: LeaderboardRow) -> str:
    """A row as the legend and the pickers name it: model and the setting that tells it apart."""
    return f"{r.model} ({r.setting_short or r.setting_label})"


def _plots(lb: Leaderboard) -> dict[str, Any]:
    number = {r.row_id: i for i, r in enumerate(lb.rows, 1)}  # the table's order: the legend lists them so

    def pts(fx: Any, fy: Any) -> list[Point]:
        out = []
        for r in lb.rows:
            x, y = fx(r), fy(r)
            if x is not None and y is not None:
                out.append(Point(r.row_id, row_title(r), number[r.row_id], x, y, r.model_type))
        return out

    acc = lambda r: r.overall.accuracy  # noqa: E731
    dom_pts = [
        Point(r.row_id, f"{row_title(r)}: {d}", number[r.row_id], i, s.metrics["afp"].value, r.model_type)
        for r in lb.rows
        for i, d in enumerate(lb.domains)
        if (s := r.domains.get(d)) is not None and s.metrics["afp"].value is not None
    ]
    return {
        "acc_afp": scatter(pts(lambda r: r.overall.metrics["afp"].value, acc), "Accuracy vs AFP", "AFP", "accuracy"),
        "acc_tau": scatter(
            pts(lambda r: r.overall.metrics["tau_b"].value, acc), "Accuracy vs tau", "tau-b", "accuracy"
        ),
        "afp_domain": by_category(dom_pts, lb.domains, "AFP by domain", "AFP"),
        "afp_split": scatter(
            pts(lambda r: r.overall.metrics["afp_correct"].value, lambda r: r.overall.metrics["afp_incorrect"].value),
            "AFP: correct vs incorrect",
            "AFP (correct)",
            "AFP (incorrect)",
            diagonal=True,
        ),
        "legend": [(number[r.row_id], row_title(r), r.model_type, r.row_id) for r in lb.rows],
        "colors": COLORS,
    }


def _csv(rows: list[LeaderboardRow]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    # n: samples defining the value (k); of: samples that could have; thin: too few to lean on (tau's
    # single-step samples are undefined, so its k can be far below its n).
    w.writerow(
        ["row_id", "model", "model_type", "setting", "scope_kind", "scope", "metric", "value", "low", "high", "n",
         "of", "thin"]
    )

    def scope(r: LeaderboardRow, kind: str, name: str, s: ScopeStats) -> None:
        base = [r.row_id, r.model, r.model_type, r.setting_label, kind, name]
        w.writerow([*base, "accuracy", s.accuracy, "", "", s.n_docs])
        w.writerow([*base, "accuracy_stderr", s.accuracy_stderr, "", "", s.n_docs])
        for k in ("n_docs", "n_docs_full", "n_generations", "n_traced", "n_tau_undefined"):
            w.writerow([*base, k, getattr(s, k), "", "", ""])
        for key in COLUMNS:
            e = s.metrics[key]
            w.writerow([*base, key, e.value, e.low, e.high, e.n, e.of, int(e.thin)])

    for r in rows:
        scope(r, "overall", "overall", r.overall)
        for d, s in r.domains.items():
            scope(r, "domain", d, s)
        for t, s in r.tasks.items():
            scope(r, "task", t, s)
    return buf.getvalue()  # csv writes None as an empty field


def _unlocal(text: str, paths: dict[str, str]) -> str:
    """Last guard against publishing the build machine's paths (in warnings, say): each becomes its short name."""
    for path, name in paths.items():
        if path in text:
            text = text.replace(path, name)
    return text


def _page_name(task: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", task) + ".html"


def build_site(
    run_dirs: list[str | Path],
    output: str | Path,
    *,
    bootstrap: int = 1000,
    names: dict[str, str] | None = None,
    keep_paths: bool = False,
) -> BuildReport:
    """Build the leaderboard site from lm-eval output folders.

    Args:
        run_dirs: lm-eval ``--output_path`` folders (or parents of them).
        output: Site folder to write (created; existing files of the same name are replaced).
        bootstrap: Bootstrap replicates per task for the 95% intervals.
        names: Display names, by model source (the hub id or path the run records) or by default
            display name (a hub id, or a local model's folder name).
        keep_paths: Publish local paths (model folders in the reproduce commands, input folders) as they are;
            by default the site names a local model by its folder and an input folder by its name.

    Returns:
        What was built and every warning.

    Raises:
        NothingUsableError: When the folders hold no readable lm-eval results.
    """
    lb = collect([Path(p) for p in run_dirs], bootstrap=bootstrap, names=names, keep_paths=keep_paths)
    out = Path(output)
    (out / "models").mkdir(parents=True, exist_ok=True)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    env = _env()
    rows_data = [dataclasses.asdict(r) for r in lb.rows]
    specs = {k: dataclasses.asdict(v) for k, v in METRICS.items()}
    check = dataclasses.asdict(lb.prompt_check) | {"share_agreed": lb.prompt_check.share_agreed}
    data = {
        "schema": SCHEMA,
        "generator": {
            "package": "mdlm-bench",
            "version": _package_version(),
            "git_commit": _git_commit(),
            "bootstrap": bootstrap,
            "run_dirs": [str(p) if keep_paths else Path(p).name for p in run_dirs],
        },
        "metrics": specs,
        "domains": lb.domains,
        "rows": rows_data,
        "prompt_check": check,
        "warnings": lb.warnings,
    }
    pages = {f"samples/{_page_name(t)}": t for t in lb.tasks}
    common = {"css": _asset("style.css"), "specs": METRICS, "warnings": lb.warnings, "sample_pages": pages}
    written: list[str] = []

    def write(rel: str, text: str) -> None:  # page by page: the site never sits in memory whole
        (out / rel).write_text(_unlocal(text, lb.local_paths), encoding="utf-8")
        written.append(rel)

    files: dict[str, str] = {
        "data.json": json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n",
        "data.csv": _csv(lb.rows),
        "index.html": env.get_template("index.html.j2").render(
            rows=lb.rows,
            domains=lb.domains,
            plots=_plots(lb),
            check=lb.prompt_check,
            table_js=_asset("table.js"),
            root="",
            **common,
        ),
    }
    files["metrics.html"] = env.get_template("metrics.html.j2").render(root="", **common)
    for rel, text in files.items():
        write(rel, text)
    del files
    for r in lb.rows:
        write(f"models/{r.row_id}.html", env.get_template("model.html.j2").render(row=r, root="../", **common))
    kinds = {kind: i for i, kind in enumerate(MODEL_TYPES)}  # diffusion first: the pickers open on one
    for path, task in pages.items():
        ordered = sorted((r for r in lb.rows if task in r.tasks), key=lambda r: (kinds.get(r.model_type, 3), r.row_id))
        rows = [{"id": r.row_id, "name": row_title(r), "type": r.model_type} for r in ordered]
        page = env.get_template("samples.html.j2").render(
            task=task,
            payload={"task": task, "rows": rows, **lb.samples(task)},
            viewer_js=_asset("viewer.js"),
            root="../",
            **common,
        )
        write(path, page)
    return BuildReport(
        output=out, rows=lb.rows, prompt_check=lb.prompt_check, warnings=lb.warnings, files=sorted(written)
    )
