"""Aggregates per task, domain and overall, with seeded bootstrap intervals.

Every trace metric is a ratio of sums over generations (a mean is ``sum(value) / count``),
so one resampling serves all of them. Documents are resampled within each task (the repeats
of a document move together); a domain's value is the unweighted mean over its tasks and the
overall value the unweighted mean over domains, and their replicates are the same means of the
task replicates (a bootstrap stratified by task). The seed of each task derives from the row id
and task name, so the numbers do not depend on the order of inputs.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass

import numpy as np

from leaderboard._easy_first import easy_first_for_sample, is_sudoku_doc, sudoku_helpers
from leaderboard._join import Gen, RowInput, TaskInput, setting_label
from leaderboard._metrics import batch_trace_metrics
from leaderboard._records import Estimate, LeaderboardRow, RunInfo, ScopeStats, TaskStats, is_thin

MEAN_KEYS = (
    "afp",
    "tpf",
    "nfe",
    "tau_b",
    "tau_pb",
    "spearman",
    "stage_afp_1",
    "stage_afp_2",
    "stage_afp_3",
    "stage_step_1",
    "stage_step_2",
    "stage_step_3",
    "easy_first_rho",
    "easy_first_tau",
)
SPLIT_KEYS = ("afp", "tpf", "tau_b")
COLUMNS = (*MEAN_KEYS, "afp_pooled", *(f"{k}_{s}" for k in SPLIT_KEYS for s in ("correct", "incorrect")))
"""Estimate keys of every scope, in a fixed order."""
_SPLIT_OF = {f"{k}_{s}": v for k in SPLIT_KEYS for s, v in (("correct", 1.0), ("incorrect", 0.0))}
"""Correctness a split column counts its samples among (others count every traced sample)."""
_AR_ONES = ("afp", "tpf", "tau_b", "tau_pb", "spearman", "stage_afp_1", "stage_afp_2", "stage_afp_3")


def _r(x: float) -> float | None:
    """Round to 12 significant digits (stable bytes whatever the BLAS summation order); NaN -> None."""
    return None if x is None or not math.isfinite(x) else float(f"{x:.12g}")


@dataclass
class _TaskCalc:
    stats: TaskStats
    replicates: np.ndarray  # (B, K) ratios, NaN where undefined


VAL_KEYS = (*MEAN_KEYS, "n", "t_eff")
"""Per-generation value columns."""


@dataclass
class GenValues:
    """Per-generation metric values: one matrix row per traced (or AR) generation."""

    index: dict[int, int]
    """``id(gen)`` -> matrix row."""
    matrix: np.ndarray
    """``(G, len(VAL_KEYS))`` values, NaN where undefined."""

    def rows_of(self, gens: list[Gen]) -> np.ndarray:
        """Values for ``gens`` (all-NaN rows for generations without values)."""
        idx = np.array([self.index.get(id(g), -1) for g in gens], dtype=np.int64)
        out = np.full((len(gens), len(VAL_KEYS)), np.nan)
        has = idx >= 0
        out[has] = self.matrix[idx[has]]
        return out


def gen_metrics(rows: list[RowInput], problems: list[str]) -> GenValues:
    """Metric values of every traced generation (and the by-construction values of AR generations)."""
    traced = [
        g
        for r in rows
        if r.model_type == "diffusion"
        for t in r.tasks.values()
        for g in t.gens.values()
        if g.trace is not None
    ]
    ar = [g for r in rows if r.model_type == "AR" for t in r.tasks.values() for g in t.gens.values()]
    batch = batch_trace_metrics(
        [g.trace.final_step[: g.trace.n_tokens] for g in traced],  # type: ignore[union-attr]
        [g.trace.nfe for g in traced],  # type: ignore[union-attr]
        [g.trace.first_step for g in traced],  # type: ignore[union-attr]  # whole canvas: ParallelBench tau
    )
    col = {k: j for j, k in enumerate(VAL_KEYS)}
    matrix = np.full((len(traced) + len(ar), len(VAL_KEYS)), np.nan)
    for key in ("afp", "tpf", "nfe", "tau_b", "tau_pb", "spearman", "n", "t_eff"):
        matrix[: len(traced), col[key]] = batch[key]
    for s in range(3):
        matrix[: len(traced), col[f"stage_afp_{s + 1}"]] = batch["stage_afp"][:, s]
        matrix[: len(traced), col[f"stage_step_{s + 1}"]] = batch["stage_step"][:, s]
    for key in (*_AR_ONES, "n", "t_eff"):
        matrix[len(traced) :, col[key]] = 1.0
    helpers = sudoku_helpers()
    skipped = 0
    for i, g in enumerate(traced):
        if not is_sudoku_doc(g.doc) or g.trace is None:
            continue
        if helpers is None:
            skipped += 1
        elif g.trace.pieces:
            res = easy_first_for_sample(g.doc, g.trace.pieces, g.trace.final_step[: g.trace.n_tokens], helpers)
            if res is not None:
                matrix[i, col["easy_first_rho"]], matrix[i, col["easy_first_tau"]] = res
    if skipped:
        problems.append(
            f"Sudoku easy-first skipped for {skipped} generation(s): mdlm_tasks.synthetic "
            "(blank_difficulty, parse_sudoku) is not importable"
        )
    index = {id(g): i for i, g in enumerate(traced + ar)}
    return GenValues(index, matrix)


def _accuracy(t: TaskInput, docs: dict[int, Gen], warn: list[str]) -> tuple[float | None, float | None, str]:
    scores = [g.score for g in docs.values() if g.score is not None]
    mean = float(np.mean(scores)) if scores else None
    reported = set(t.reported)
    if len(reported) == 1:
        value, stderr = next(iter(reported))
        if mean is not None and abs(mean - value) > 1e-6 and len(scores) == len(docs):
            warn.append(
                f"{t.task}: lm-eval reports {t.metric}={value:.6g} but its samples average {mean:.6g} "
                "(non-mean aggregation?); showing lm-eval's value"
            )
        return value, stderr, "results"
    if mean is not None:
        if len(reported) > 1:
            warn.append(f"{t.task}: runs report different {t.metric}; recomputed from the merged samples")
        se = float(np.std(scores, ddof=1) / math.sqrt(len(scores))) if len(scores) > 1 else None
        return mean, se, "samples"
    if reported:
        warn.append(f"{t.task}: runs report different {t.metric} and no samples; showing the first")
        value, stderr = t.reported[0]
        return value, stderr, "results"
    return None, None, ""


def _columns(vals: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator per generation and estimate column (every estimate is sum(num) / sum(den))."""
    m = len(MEAN_KEYS)
    num = np.zeros((len(vals), len(COLUMNS)))
    den = np.zeros((len(vals), len(COLUMNS)))
    fin = np.isfinite(vals[:, :m])
    num[:, :m] = np.where(fin, vals[:, :m], 0.0)
    den[:, :m] = fin
    n, t_eff = vals[:, m], vals[:, m + 1]
    pooled = np.isfinite(t_eff) & (t_eff > 0)
    num[:, m] = np.where(pooled, n, 0.0)
    den[:, m] = np.where(pooled, t_eff, 0.0)
    for k, key in enumerate(SPLIT_KEYS):
        j = MEAN_KEYS.index(key)
        for half, want in enumerate((1.0, 0.0)):
            use = fin[:, j] & (correct == want)
            num[:, m + 1 + 2 * k + half] = np.where(use, vals[:, j], 0.0)
            den[:, m + 1 + 2 * k + half] = use
    return num, den


def _resample_counts(n_docs: int, b: int, seed: int) -> np.ndarray:
    """``(b, n_docs)`` multiplicities of each document in each bootstrap replicate."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_docs, (b, n_docs), dtype=np.int64) + (np.arange(b) * n_docs)[:, None]
    small = np.uint16 if n_docs < 1 << 16 else np.uint32  # compact: cached across rows
    return np.bincount(draws.ravel(), minlength=b * n_docs).reshape(b, n_docs).astype(small)


def _bootstrap(num: np.ndarray, den: np.ndarray, doc_idx: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Replicate ratios ``(B, K)``: each generation weighted by its document's multiplicity."""
    identity = len(doc_idx) == counts.shape[1] and bool(np.all(doc_idx == np.arange(counts.shape[1])))
    w = (counts if identity else counts[:, doc_idx]).astype(float)
    used = np.flatnonzero(den.any(axis=0))  # columns with no defined value stay NaN
    out = np.full((counts.shape[0], num.shape[1]), np.nan)
    if len(used):
        sums = w @ np.concatenate([num[:, used], den[:, used]], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, used] = sums[:, : len(used)] / sums[:, len(used) :]
    return out


def _estimates(
    values: list[float | None], reps: np.ndarray | None, counts: list[int], of: list[int]
) -> dict[str, Estimate]:
    bounds = np.full((2, len(COLUMNS)), np.nan)
    if reps is not None:
        full = np.isfinite(reps).all(axis=0)
        if full.any():  # the common case, one vectorised call
            bounds[:, full] = np.percentile(reps[:, full], [2.5, 97.5], axis=0)
        for j in np.flatnonzero(~full & np.isfinite(reps).any(axis=0)):
            bounds[:, j] = np.percentile(reps[np.isfinite(reps[:, j]), j], [2.5, 97.5])
    out: dict[str, Estimate] = {}
    for j, key in enumerate(COLUMNS):
        v = values[j]
        lo, hi = (_r(float(bounds[0, j])), _r(float(bounds[1, j]))) if v is not None else (None, None)
        k, total = int(counts[j]), int(of[j])
        out[key] = Estimate(
            value=_r(v) if v is not None else None, low=lo, high=hi, n=k, of=total,
            thin=v is not None and is_thin(k, total),
        )
    return out


_COUNTS_CACHE: dict[tuple[str, int, int], tuple[tuple[int, ...], np.ndarray]] = {}


def _counts_for(task: str, doc_ids: tuple[int, ...], b: int) -> np.ndarray:
    """Resampling of a task's documents, seeded by the task and its document set.

    Rows evaluated on the same documents share it (a paired bootstrap), and the numbers do not
    depend on the order of inputs.
    """
    digest = hashlib.sha256(task.encode() + b"|" + np.asarray(doc_ids, dtype=np.int64).tobytes()).digest()
    key = (task, b, int.from_bytes(digest[:8], "little"))
    hit = _COUNTS_CACHE.get(key)
    if hit is None or hit[0] != doc_ids:
        if len(_COUNTS_CACHE) >= 256:
            _COUNTS_CACHE.clear()
        hit = (doc_ids, _resample_counts(len(doc_ids), b, int.from_bytes(digest[8:16], "little")))
        _COUNTS_CACHE[key] = hit
    return hit[1]


def _task(row: RowInput, t: TaskInput, domain: str, values: GenValues, b: int) -> _TaskCalc:
    gens = [t.gens[k] for k in sorted(t.gens)]
    docs = {g.doc_id: g for g in reversed(gens)}  # repeat 0 carries the document's score
    acc, se, source = _accuracy(t, docs, row.warnings)
    scores = [g.score for g in gens]
    binary = all(s is not None and 0.0 <= s <= 1.0 for s in scores)
    correct = np.array([(1.0 if s >= 1.0 - 1e-12 else 0.0) if binary else math.nan for s in scores])  # type: ignore[operator]
    vals = values.rows_of(gens)
    num, den = _columns(vals, correct)
    doc_ids = sorted(docs)
    doc_idx = np.searchsorted(np.array(doc_ids), [g.doc_id for g in gens]) if gens else np.zeros(0, dtype=int)
    reps = (
        _bootstrap(num, den, doc_idx, _counts_for(t.task, tuple(doc_ids), b))
        if gens
        else np.full((b, len(COLUMNS)), np.nan)
    )
    sums, dens = num.sum(axis=0), den.sum(axis=0)
    point = [float(s / d) if d > 0 else None for s, d in zip(sums, dens, strict=True)]
    counts = [int((den[:, j] > 0).sum()) for j in range(len(COLUMNS))]
    has = np.isfinite(vals[:, len(MEAN_KEYS)])  # n is known for every traced or AR generation
    of = [int((has & (correct == _SPLIT_OF[key]) if key in _SPLIT_OF else has).sum()) for key in COLUMNS]
    traced = int(has.sum())
    tau_undefined = int((has & ~np.isfinite(vals[:, MEAN_KEYS.index("tau_b")])).sum())
    stats = TaskStats(
        accuracy=_r(acc) if acc is not None else None,
        accuracy_stderr=_r(se) if se is not None else None,
        n_tasks=1,
        n_docs=len(docs) if t.has_samples else t.n_effective,
        n_docs_full=t.n_original,
        n_generations=len(gens),
        n_traced=traced,
        n_tau_undefined=tau_undefined,
        metrics=_estimates(point, reps, counts, of),
        task=t.task,
        domain=domain,
        metric=t.metric,
        filter=t.filter,
        accuracy_source=source,
        task_hash=t.task_hash,
    )
    return _TaskCalc(stats, reps)


def _combine(parts: list[tuple[ScopeStats, np.ndarray]]) -> tuple[ScopeStats, np.ndarray]:
    """Unweighted mean over parts (tasks of a domain, or domains), replicates alike."""
    accs = [p.accuracy for p, _ in parts if p.accuracy is not None]
    ses = [p.accuracy_stderr for p, _ in parts if p.accuracy is not None]
    se = math.sqrt(sum(s * s for s in ses)) / len(ses) if ses and all(s is not None for s in ses) else None  # type: ignore[misc]
    values, reps = [], []
    stacked = np.stack([r for _, r in parts])  # (P, B, K)
    for j, key in enumerate(COLUMNS):
        defined = [i for i, (p, _) in enumerate(parts) if p.metrics[key].value is not None]
        values.append(float(np.mean([parts[i][0].metrics[key].value for i in defined])) if defined else None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN replicate columns are expected
            reps.append(np.nanmean(stacked[defined, :, j], axis=0) if defined else np.full(stacked.shape[1], np.nan))
    rep = np.stack(reps, axis=1)
    counts = [sum(p.metrics[key].n for p, _ in parts) for key in COLUMNS]
    of = [sum(p.metrics[key].of for p, _ in parts) for key in COLUMNS]
    stats = ScopeStats(
        accuracy=_r(float(np.mean(accs))) if accs else None,
        accuracy_stderr=_r(se) if se is not None else None,
        n_tasks=sum(p.n_tasks for p, _ in parts),
        n_docs=sum(p.n_docs for p, _ in parts),
        n_docs_full=sum(p.n_docs_full for p, _ in parts),
        n_generations=sum(p.n_generations for p, _ in parts),
        n_traced=sum(p.n_traced for p, _ in parts),
        n_tau_undefined=sum(p.n_tau_undefined for p, _ in parts),
        metrics=_estimates(values, rep, counts, of),
    )
    return stats, rep


def aggregate_row(
    row: RowInput, domains: dict[str, str], values: GenValues, b: int, runs: list[RunInfo]
) -> LeaderboardRow:
    """Aggregate one row's tasks into task, domain and overall statistics."""
    calcs = {name: _task(row, t, domains.get(name, "other"), values, b) for name, t in sorted(row.tasks.items())}
    by_domain: dict[str, list[tuple[ScopeStats, np.ndarray]]] = {}
    for c in calcs.values():
        by_domain.setdefault(c.stats.domain, []).append((c.stats, c.replicates))
    dom = {d: _combine(parts) for d, parts in sorted(by_domain.items())}
    if dom:
        overall, _ = _combine(list(dom.values()))
    else:
        zeros = [0] * len(COLUMNS)
        overall = ScopeStats(None, None, 0, 0, 0, 0, 0, 0, _estimates([None] * len(COLUMNS), None, zeros, zeros))
    partial = any(r.limit is not None for r in runs) or any(
        c.stats.n_docs_full and c.stats.n_docs < c.stats.n_docs_full for c in calcs.values()
    )
    return LeaderboardRow(
        row_id=row.row_id,
        model=row.model,
        model_type=row.model_type,
        backend=row.backend,
        family=row.family,
        params=row.params,
        setting=row.setting,
        setting_label=setting_label(row.setting),
        partial=partial,
        overall=overall,
        domains={d: s for d, (s, _) in dom.items()},
        tasks={k: c.stats for k, c in calcs.items()},
        runs=runs,
        warnings=row.warnings,
    )
