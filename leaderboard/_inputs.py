"""Reading lm-eval output folders: results JSON, samples JSONL and trace side-cars.

Nothing here raises on a damaged input: every problem becomes a warning string that the
build report and the site show.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from leaderboard._easy_first import is_sudoku_doc
from model_adapters import TraceRecord, read_traces

try:  # several times faster on large samples files
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover
    _fast_loads = json.loads

_SAMPLES_RE = re.compile(r"^samples_(?P<task>.+)_(?P<date>\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.jsonl$")
_RESULTS_RE = re.compile(r"^results_(?P<date>\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.json$")


class Trace:
    """What the leaderboard keeps of a trace row: its counted part (and the canvas's first steps), compactly.

    A 10 models x 60 tasks x 500 samples build holds hundreds of thousands of these; the full
    ``TraceRecord`` (three canvas-long lists, token ids, settings) would take gigabytes.
    """

    __slots__ = ("final_step", "first_step", "n_tokens", "nfe", "pieces", "prompt_hash")

    def __init__(self, rec: TraceRecord) -> None:
        self.prompt_hash: str = rec.prompt_hash
        """sha256 of the prompt, checked against the sample row's."""
        self.n_tokens: int = rec.n_tokens
        """Counted tokens (those of the scored text)."""
        self.final_step: np.ndarray = np.asarray(rec.final_step[: rec.n_tokens], dtype=np.int32)
        """Finalization step of each counted position."""
        self.first_step: np.ndarray = np.asarray(rec.first_step, dtype=np.int32)
        """First-commit step of every canvas position, the tail included (ParallelBench's tau reads it)."""
        self.nfe: int = rec.nfe
        """Model forward passes."""
        self.pieces: tuple[str, ...] = tuple(map(sys.intern, rec.pieces[: rec.n_tokens]))
        """Text of each counted token (interned: the same pieces recur across samples)."""

    def same_as(self, other: Trace) -> bool:
        """Whether two rows describe the same decoding (a resumed run may write a key twice)."""
        return (self.prompt_hash, self.n_tokens, self.nfe, self.pieces) == (
            other.prompt_hash, other.n_tokens, other.nfe, other.pieces
        ) and bool(np.array_equal(self.final_step, other.final_step))


_SAMPLE_KEYS = frozenset({"doc_id", "filter", "resps", "filtered_resps", "target", "prompt_hash"})


def _slim(row: dict[str, Any], prompts: dict[str, str]) -> dict[str, Any]:
    """The parts of a sample row the leaderboard uses.

    Ids, answers, target, scalar scores and the prompt (one string per prompt hash across all runs); the
    document only where Sudoku easy-first needs it.
    """
    out = {k: v for k, v in row.items() if k in _SAMPLE_KEYS or isinstance(v, (int, float))}
    args = (row.get("arguments") or {}).get("gen_args_0") if isinstance(row.get("arguments"), dict) else None
    prompt = str(args.get("arg_0", "")) if isinstance(args, dict) else ""
    out["prompt"] = prompts.setdefault(str(row.get("prompt_hash", "")), prompt) if prompt else ""
    if is_sudoku_doc(row.get("doc")):
        out["doc"] = row["doc"]
    return out


@dataclass
class Run:
    """One results file with the samples and traces that belong to it."""

    path: Path
    """The results file."""
    label: str
    """Path shown to users (relative to the run folder's parent)."""
    results: dict[str, Any]
    """Parsed results JSON."""
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Sample rows per task."""
    traces: dict[tuple[str, int, int], Trace] = field(default_factory=dict)
    """Trace rows by (task, doc_id, repeat); the last row wins on duplicates."""
    trace_files: list[str] = field(default_factory=list)
    """Trace files read."""
    warnings: list[str] = field(default_factory=list)
    """Problems met while reading this run."""
    inputs: dict[str, str] = field(default_factory=dict)
    """sha256 of every file read for this run, by file name."""
    trace_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The distinct decoding settings its trace rows record (what was applied), by their JSON."""

    @property
    def config(self) -> dict[str, Any]:
        """The ``config`` block (model, model_args, seeds, model info)."""
        cfg = self.results.get("config")
        return cfg if isinstance(cfg, dict) else {}


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes (provenance of the inputs)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_jsonl(path: Path, problems: list[str], prompts: dict[str, str] | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    bad = 0
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    row = _fast_loads(line)
                except ValueError:
                    try:  # lm-eval may write NaN/Infinity, which only the standard parser accepts
                        row = json.loads(line)
                    except json.JSONDecodeError:
                        bad += 1
                        continue
                if isinstance(row, dict) and "doc_id" in row:
                    rows.append(_slim(row, {} if prompts is None else prompts))
                else:
                    bad += 1
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path.name}: unreadable ({exc})")
    if bad:
        problems.append(f"{path.name}: skipped {bad} torn or invalid sample line(s)")
    return rows


def _load_traces(run: Run, path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        count = 0
        last: dict[str, Any] | None = None
        for rec in read_traces(path):
            trace = Trace(rec)
            if rec.key in run.traces and not run.traces[rec.key].same_as(trace):
                run.warnings.append(f"{path.name}: duplicate trace for {rec.key}; keeping the last one")
            run.traces[rec.key] = trace
            if rec.settings != last:  # consecutive rows mostly share their settings: compare before serialising
                last = rec.settings
                run.trace_settings.setdefault(json.dumps(last, sort_keys=True, default=str), last)
            count += 1
    run.warnings.extend(f"{path.name}: {w.message}".replace(f"{path}: ", "") for w in caught)
    run.trace_files.append(path.name)
    run.inputs[path.name] = sha256_of(path)
    if count == 0:
        run.warnings.append(f"{path.name}: no usable trace rows")


def _locate(run: Run, name: str) -> Path | None:
    """A trace file named by the results, looked for relative to the results folder first.

    The name is relative to the results folder (``traces_x.jsonl``, or ``../traces_x.jsonl`` when lm-eval
    chose a random folder); older runs named it relative to the output folder, hence the basename beside
    the results and one level up. The absolute path recorded at run time is the last resort: a copied
    run must read its own traces, never the original's.
    """
    folder = run.path.parent
    given = Path(name)
    if not given.is_absolute():
        for candidate in (folder / given, folder / given.name, folder.parent / given.name):
            if candidate.is_file():
                return candidate
    recorded = run.config.get("mdlm_trace_file_abs")  # rank 0's file; the other ranks' lie beside it
    absolute = Path(recorded).parent / given.name if isinstance(recorded, str) and recorded else None
    for path in (given, absolute):
        if path is not None and path.is_absolute() and path.is_file():
            run.warnings.append(
                f"trace file {given.name!r} not found beside the results; read from the absolute path "
                "recorded at run time (move or copy the trace file with the run to keep it portable)"
            )
            return path
    return None


def _find_traces(run: Run) -> list[Path]:
    named = run.config.get("mdlm_trace_file")
    per_rank = run.config.get("mdlm_trace_files")  # data-parallel runs: one file per rank
    if isinstance(per_rank, list) and len(per_rank) > 1:
        files = []
        for name in (n for n in per_rank if isinstance(n, str)):
            if (found := _locate(run, name)) is None:
                run.warnings.append(f"trace file {Path(name).name!r} named by the results is missing")
            else:
                files.append(found)
        return files
    if isinstance(named, str) and named:
        if (found := _locate(run, named)) is not None:
            return [found]
        run.warnings.append(f"trace file {Path(named).name!r} named by the results is missing")
    found = sorted(p for pat in ("traces_*.jsonl", "traces_*.jsonl.gz") for p in run.path.parent.glob(pat))
    if found and isinstance(named, str) and named:
        run.warnings.append(f"using {', '.join(p.name for p in found)} found beside the results instead")
    return found


def load_runs(run_dirs: list[Path]) -> tuple[list[Run], list[str]]:
    """Find and read every lm-eval results file under the given folders.

    Args:
        run_dirs: Folders given to ``--output_path`` (or any parent of them).

    Returns:
        The runs (sorted by path) and the problems that are not tied to one run.
    """
    problems: list[str] = []
    runs: list[Run] = []
    prompts: dict[str, str] = {}  # one copy of each prompt, however many models saw it
    for root in run_dirs:
        if not root.is_dir():
            problems.append(f"{root}: not a folder")
            continue
        results_files = sorted(p for p in root.rglob("results_*.json") if _RESULTS_RE.match(p.name))
        sample_files = sorted(p for p in root.rglob("samples_*.jsonl") if _SAMPLES_RE.match(p.name))
        claimed: set[Path] = set()
        for path in results_files:
            label = str(path.relative_to(root.parent))
            try:
                results = json.loads(path.read_text(encoding="utf-8"))
                if not isinstance(results, dict) or not isinstance(results.get("results"), dict):
                    raise ValueError("no 'results' block")
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                problems.append(f"{label}: unreadable results file, skipped ({exc})")
                continue
            run = Run(path=path, label=label, results=results, inputs={path.name: sha256_of(path)})
            date = _RESULTS_RE.match(path.name)["date"]  # type: ignore[index]
            for sp in sample_files:
                m = _SAMPLES_RE.match(sp.name)
                if sp.parent == path.parent and m and m["date"] == date:
                    claimed.add(sp)
                    run.samples[m["task"]] = _read_jsonl(sp, run.warnings, prompts)
                    run.inputs[sp.name] = sha256_of(sp)
            for tp in _find_traces(run):
                _load_traces(run, tp)
            runs.append(run)
        for sp in sample_files:
            if sp not in claimed:
                problems.append(f"{sp.relative_to(root.parent)}: samples without a results file, skipped")
    return runs, problems
