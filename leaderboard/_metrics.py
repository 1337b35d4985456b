"""Decoding-order metrics, defined once: AFP, TPF, Kendall's tau (two variants), Spearman, stages.

Definitions (DESIGN.md section 5; README "Metrics" says which choice follows a source), for one
trace with ``n`` counted positions and ``order = final_step[:n]``:

* AFP = n / T_eff, T_eff = number of distinct values in ``order`` (steps finalizing nothing do not count).
  Pooled AFP = sum(n) / sum(T_eff) over samples.
* TPF = n / NFE.
* Answer tau-b (key ``tau_b``, the project's) = ``kendalltau(range(n), order)``: the answer prefix,
  *final* step. Spearman = ``spearmanr(range(n), order)``. Undefined (NaN, excluded from means and
  counted) when n < 2 or all counted tokens share one step.
* ParallelBench tau (key ``tau_pb``) = ``kendalltau(sorted(c), c)`` with ``c`` the *first* unmasking
  step of every canvas position, the EOS/pad tail included, a never-unmasked position given
  ``2**31 - 1`` (ranked last, tied with the others never unmasked), as ParallelBench's
  ``model/model_utils.py`` computes ``dec_order_kendall`` (commit 72de8f7). NaN when the canvas
  has fewer than two positions or one step for all of them.
* Stages: position p is in stage ``3 * p // n`` (first, middle, last third of the answer); each stage
  has its own AFP and mean normalised finalization step, where a position's normalised step is the
  rank of its step among the sample's distinct steps divided by ``T_eff - 1`` (NaN when T_eff = 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from leaderboard._kernels import order_stats


@dataclass(frozen=True)
class MetricSpec:
    """How a metric is shown: the site formats, sorts and writes tooltips from this."""

    key: str
    """Identifier used in data.json, data.csv and the page."""
    label: str
    """Short column header."""
    description: str
    """One-sentence definition, shown as a tooltip."""
    unit: str
    """Unit suffix ("" when dimensionless)."""
    decimals: int
    """Digits after the decimal point when displayed."""
    higher_is_better: bool | None
    """True or False for a quality direction; None when neither (generation order)."""


_SPECS = (
    MetricSpec(
        "accuracy",
        "Acc",
        "Primary metric of the task (first of its metric_list), mean over documents; "
        "domain and overall values are unweighted means over tasks, then domains. Stored as a fraction, shown in %.",
        "%",
        1,
        True,
    ),
    MetricSpec(
        "afp",
        "AFP",
        "Average finalized tokens per effective step: n / number of distinct steps that "
        "finalized a counted token, mean over samples. AR decoding gives 1.",
        "tok/step",
        2,
        True,
    ),
    MetricSpec("afp_pooled", "AFP pooled", "Sum of counted tokens over sum of effective steps.", "tok/step", 2, True),
    MetricSpec(
        "tpf",
        "TPF",
        "Counted tokens per model forward pass (n / NFE), mean over samples. NFE counts the passes run: "
        "with early_stop=eos_block (the LLaDA-style presets' default) decoding ends after the block holding "
        "EOS, so TPF is higher than LLaDA/Fast-dLLM/dllm report; compare with early_stop=none.",
        "tok/NFE",
        2,
        True,
    ),
    MetricSpec("nfe", "NFE", "Model forward passes per sample, mean.", "passes", 1, False),
    MetricSpec(
        "tau_b",
        "tau-b (answer)",
        "The project's order metric (the accuracy-vs-tau plot uses it; rows are ranked by accuracy): "
        "Kendall's tau-b between each counted answer token's final step and its position; 1 = left to right, "
        "tokens of one step count as ties. Mean over samples with a defined value.",
        "",
        3,
        None,
    ),
    MetricSpec(
        "tau_pb",
        "tau (ParallelBench)",
        "ParallelBench's dec_order_kendall: kendalltau(sorted(c), c) over the first unmasking step c of every "
        "canvas position, EOS/pad tail included, never-unmasked positions last; left-to-right "
        "multi-token decoding scores 1. Mean over samples with a defined value.",
        "",
        3,
        None,
    ),
    MetricSpec("spearman", "rho", "Spearman correlation between finalization step and position.", "", 3, None),
    MetricSpec(
        "stage_afp", "Stage AFP", "AFP within the first, middle and last third of the answer.", "tok/step", 2, True
    ),
    MetricSpec(
        "stage_step",
        "Stage step",
        "Mean normalised finalization step (0 = first effective step, 1 = last) of each third of the answer.",
        "",
        2,
        None,
    ),
    MetricSpec(
        "easy_first_tau",
        "Easy-first tau",
        "Sudoku: Kendall's tau-b between a blank's finalization step "
        "and its initial number of candidate digits, mean over puzzles.",
        "",
        3,
        None,
    ),
    MetricSpec(
        "easy_first_rho",
        "Easy-first rho",
        "Sudoku: Spearman correlation between a blank's finalization "
        "step and its initial number of candidate digits, mean over puzzles.",
        "",
        3,
        None,
    ),
)
METRICS: dict[str, MetricSpec] = {spec.key: spec for spec in _SPECS}
"""The metric registry, by key."""


@dataclass(frozen=True)
class TraceMetrics:
    """Per-sample metrics of one trace."""

    n: int
    """Counted generated tokens."""
    t_eff: int
    """Distinct steps that finalized at least one counted token."""
    nfe: int
    """Model forward passes."""
    afp: float
    """n / t_eff (NaN when n = 0)."""
    tpf: float
    """n / nfe (NaN when nfe = 0)."""
    tau_b: float
    """Kendall's tau-b of step against position (NaN when undefined)."""
    tau_pb: float
    """ParallelBench tau over the whole canvas's first steps (NaN when undefined or no canvas given)."""
    spearman: float
    """Spearman's rho of step against position (NaN when undefined)."""
    stage_afp: tuple[float, float, float]
    """AFP per third of the answer (NaN for an empty third)."""
    stage_step: tuple[float, float, float]
    """Mean normalised finalization step per third (NaN when undefined)."""


NEVER_UNMASKED = 2**31 - 1
"""ParallelBench's step for a position never unmasked: larger than any real step, so ranked last."""


def parallelbench_order(first_step: Sequence[int]) -> np.ndarray:
    """ParallelBench's decoding order of a whole canvas: first steps, never-unmasked (-1) mapped last."""
    c = np.asarray(first_step, dtype=np.int64)
    return np.where(c < 0, NEVER_UNMASKED, c)


def batch_trace_metrics(
    orders: Sequence[Sequence[int]],
    nfe: Sequence[int],
    canvases: Sequence[Sequence[int]] | None = None,
) -> dict[str, np.ndarray]:
    """Metrics of many traces at once (vectorised).

    Args:
        orders: Per sample, the counted finalization steps ``final_step[:n_tokens]``.
        nfe: Per sample, the number of forward passes.
        canvases: Per sample, ``first_step`` of the whole canvas (-1: never decoded), for the
            ParallelBench tau; ``tau_pb`` is NaN when omitted.

    Returns:
        Arrays over samples keyed like the fields of ``TraceMetrics`` (stage arrays have shape ``(S, 3)``).
    """
    stats = order_stats([np.asarray(o, dtype=np.int64) for o in orders])
    if canvases is None:
        tau_pb = np.full(len(orders), np.nan)
    else:
        if len(canvases) != len(orders):
            raise ValueError(f"{len(canvases)} canvases for {len(orders)} traces")
        # Same kernel, other input: its ``tau_pb`` is kendalltau(sorted(x), x) of whatever it is given.
        tau_pb = order_stats([parallelbench_order(c) for c in canvases])["tau_pb"]
    n = stats["n"].astype(float)
    nfe_arr = np.asarray(nfe, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        afp = np.where(n > 0, n / stats["t_eff"], np.nan)
        tpf = np.where(nfe_arr > 0, n / nfe_arr, np.nan)
        stage_afp = np.where(stats["stage_n"] > 0, stats["stage_n"] / stats["stage_t"], np.nan)
    return {
        "n": stats["n"],
        "t_eff": stats["t_eff"],
        "nfe": nfe_arr,
        "afp": afp,
        "tpf": tpf,
        "tau_b": stats["tau_b"],
        "tau_pb": tau_pb,
        "spearman": stats["spearman"],
        "stage_afp": stage_afp,
        "stage_step": stats["stage_rank"],
    }


def trace_metrics(
    final_step: Sequence[int], n_tokens: int, nfe: int, first_step: Sequence[int] | None = None
) -> TraceMetrics:
    """Metrics of one trace.

    Args:
        final_step: Finalization step per canvas position.
        n_tokens: Counted positions (a prefix of the canvas).
        nfe: Forward passes spent on the sample.
        first_step: First unmasking step per canvas position (-1: never), for the ParallelBench tau.

    Returns:
        The sample's metrics.
    """
    m = batch_trace_metrics([list(final_step)[:n_tokens]], [nfe], None if first_step is None else [first_step])
    return TraceMetrics(
        n=int(m["n"][0]),
        t_eff=int(m["t_eff"][0]),
        nfe=int(nfe),
        afp=float(m["afp"][0]),
        tpf=float(m["tpf"][0]),
        tau_b=float(m["tau_b"][0]),
        tau_pb=float(m["tau_pb"][0]),
        spearman=float(m["spearman"][0]),
        stage_afp=tuple(float(v) for v in m["stage_afp"][0]),  # type: ignore[arg-type]
        stage_step=tuple(float(v) for v in m["stage_step"][0]),  # type: ignore[arg-type]
    )


def pooled_afp(n_tokens: Sequence[int], t_eff: Sequence[int]) -> float:
    """Pooled AFP: total counted tokens over total effective steps (NaN when there are none)."""
    total_t = float(np.sum(t_eff))
    return float(np.sum(n_tokens)) / total_t if total_t > 0 else float("nan")


def _tau_b_pairs(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b with ties in both variables, by explicit pairs (for short inputs)."""
    iu = np.triu_indices(len(x), k=1)
    dx = np.sign(x[:, None] - x[None, :])[iu]
    dy = np.sign(y[:, None] - y[None, :])[iu]
    denom = np.sqrt(float(np.count_nonzero(dx)) * float(np.count_nonzero(dy)))
    return float((dx * dy).sum() / denom) if denom > 0 else float("nan")


def _average_ranks(v: np.ndarray) -> np.ndarray:
    return np.sum(v[None, :] < v[:, None], axis=1) + (np.sum(v[None, :] == v[:, None], axis=1) - 1) / 2.0


def easy_first_correlation(final_steps_of_blanks: Sequence[int], difficulties: Sequence[float]) -> tuple[float, float]:
    """Correlation between when a blank was finalized and how hard it was at the start.

    Args:
        final_steps_of_blanks: Finalization step of each blank cell's token.
        difficulties: The same blanks' initial difficulty (number of candidate digits).

    Returns:
        ``(spearman_rho, kendall_tau_b)``; positive means easy (few candidates) first. NaN when
        fewer than two blanks or either input is constant.
    """
    x = np.asarray(final_steps_of_blanks, dtype=float)
    y = np.asarray(difficulties, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"{len(x)} finalization steps but {len(y)} difficulties")
    if len(x) < 2:
        return float("nan"), float("nan")
    rx, ry = _average_ranks(x), _average_ranks(y)
    dx, dy = rx - rx.mean(), ry - ry.mean()
    denom = float(np.sqrt((dx * dx).sum() * (dy * dy).sum()))
    rho = float((dx * dy).sum() / denom) if denom > 0 else float("nan")
    return rho, _tau_b_pairs(x, y)
