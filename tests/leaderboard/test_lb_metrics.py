"""Metric definitions: hand-worked JSON cases, and the vectorised kernels against scipy."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from leaderboard import METRICS, batch_trace_metrics, easy_first_correlation, pooled_afp, trace_metrics

CASES = json.loads((Path(__file__).with_name("metric_cases.json")).read_text())
TOL = CASES["tolerance"]


def _close(actual: float, expected: float | None) -> bool:
    if expected is None:
        return math.isnan(actual)
    return math.isclose(actual, expected, rel_tol=TOL, abs_tol=TOL)


@pytest.mark.parametrize("case", CASES["traces"], ids=[c["name"] for c in CASES["traces"]])
def test_trace_case(case: dict) -> None:
    m = trace_metrics(case["final_step"], case["n_tokens"], case["nfe"])
    for key, expected in case["expected"].items():
        actual = getattr(m, key)
        if isinstance(expected, list):
            assert all(_close(a, e) for a, e in zip(actual, expected, strict=True)), (key, actual, expected)
        else:
            assert _close(float(actual), expected), (key, actual, expected)


@pytest.mark.parametrize("case", CASES["pooled"], ids=[c["name"] for c in CASES["pooled"]])
def test_pooled_case(case: dict) -> None:
    assert _close(pooled_afp(case["n_tokens"], case["t_eff"]), case["expected"])


@pytest.mark.parametrize("case", CASES["easy_first"], ids=[c["name"] for c in CASES["easy_first"]])
def test_easy_first_case(case: dict) -> None:
    rho, tau = easy_first_correlation(case["steps"], case["difficulty"])
    assert _close(rho, case["rho"]) and _close(tau, case["tau"])


PB_NEVER = 2**31 - 1  # ParallelBench's step for a position never unmasked (model/model_utils.py)


def _parallelbench_tau(first_step: list[int]) -> float:
    """ParallelBench's definition, transcribed: first steps of the whole canvas, never-unmasked last."""
    c = np.array([PB_NEVER if s < 0 else s for s in first_step])
    return float(stats.kendalltau(np.sort(c), c).statistic)


TAU_CASES = CASES["tau_variants"]["cases"]


@pytest.mark.parametrize("case", TAU_CASES, ids=[c["name"] for c in TAU_CASES])
def test_tau_variants_on_handmade_canvases(case: dict) -> None:
    m = trace_metrics(case["final_step"], case["n_tokens"], len(case["final_step"]), case["first_step"])
    assert _close(m.tau_b, case["tau_b"]) and _close(m.tau_pb, case["tau_pb"]), (m.tau_b, m.tau_pb)
    assert _close(_parallelbench_tau(case["first_step"]), case["tau_pb"])
    if "tau_pb_if_ranked_first" in case:  # ranking never-unmasked positions last is what changes the value
        raw = np.array(case["first_step"])
        assert _close(float(stats.kendalltau(np.sort(raw), raw).statistic), case["tau_pb_if_ranked_first"])
        assert not _close(m.tau_pb, case["tau_pb_if_ranked_first"])


def test_parallelbench_tau_needs_the_canvas() -> None:
    assert math.isnan(trace_metrics([0, 1, 2], 3, 3).tau_pb)
    with pytest.raises(ValueError, match="canvases"):
        batch_trace_metrics([[0, 1]], [2], [])


def _random_orders(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    orders = []
    for _ in range(count):
        n = int(rng.integers(0, 70))
        kind = rng.integers(0, 4)
        if kind == 0:
            o = rng.integers(0, 6, n)  # many ties, any order
        elif kind == 1:
            o = np.sort(rng.integers(0, 3 * n + 1, n))  # monotone with ties
        elif kind == 2:
            o = rng.permutation(n)  # a permutation
        else:
            o = np.arange(n) // int(rng.integers(1, 5)) + int(rng.integers(0, 100))  # block left to right
        orders.append(o.astype(np.int64))
    return orders


def test_kernels_match_scipy_on_random_traces() -> None:
    rng = np.random.default_rng(7)
    orders = _random_orders(rng, 400)
    # Canvases: the same orders with some positions never unmasked (-1).
    canvases = [np.where(rng.random(len(o)) < 0.1, -1, o) for o in orders]
    m = batch_trace_metrics(orders, [max(1, len(o)) for o in orders], canvases)
    for i, o in enumerate(orders):
        n = len(o)
        defined = n >= 2 and len(set(o.tolist())) > 1
        pos = np.arange(n)
        expected = {
            "tau_b": stats.kendalltau(pos, o).statistic if defined else math.nan,
            "tau_pb": _parallelbench_tau(canvases[i].tolist()) if len(canvases[i]) >= 2 else math.nan,
            "spearman": stats.spearmanr(pos, o).statistic if defined else math.nan,
            "afp": n / len(np.unique(o)) if n else math.nan,
        }
        for key, value in expected.items():
            got = m[key][i]
            assert (math.isnan(got) and math.isnan(value)) or math.isclose(got, value, abs_tol=1e-9), (key, o, got)
        thirds = (3 * pos) // max(n, 1)
        for k in range(3):
            part = o[thirds == k]
            want = len(part) / len(np.unique(part)) if len(part) else math.nan
            got = m["stage_afp"][i, k]
            assert (math.isnan(got) and math.isnan(want)) or math.isclose(got, want), (o, k)


@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")  # constant inputs are part of the test
def test_easy_first_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(2, 30))
        steps, diff = rng.integers(0, 8, n), rng.integers(1, 5, n)
        rho, tau = easy_first_correlation(steps, diff)
        want_rho = stats.spearmanr(steps, diff).statistic
        want_tau = stats.kendalltau(steps, diff).statistic
        assert (math.isnan(rho) and math.isnan(want_rho)) or math.isclose(rho, want_rho, abs_tol=1e-9)
        assert (math.isnan(tau) and math.isnan(want_tau)) or math.isclose(tau, want_tau, abs_tol=1e-9)


def test_easy_first_rejects_length_mismatch() -> None:
    with pytest.raises(ValueError):
        easy_first_correlation([0, 1], [1])


def test_metric_registry_directions() -> None:
    assert METRICS["tau_b"].higher_is_better is None and METRICS["tau_pb"].higher_is_better is None
    assert METRICS["afp"].higher_is_better is True and METRICS["nfe"].higher_is_better is False
    assert all(spec.key == key and spec.description for key, spec in METRICS.items())


def test_setting_label_shows_each_key_once() -> None:
    from leaderboard._join import setting_label

    label = setting_label({"decoding": {"schedule": "fixed", "threshold": None, "steps": 8},
                           "gen_kwargs": {"schedule": "threshold", "threshold": 0.9}})
    assert label == "schedule=threshold, steps=8, threshold=0.9"


def test_distinguishing_labels_show_the_strategy_and_what_differs_within_a_model() -> None:
    from leaderboard._join import distinguishing_labels

    base = {"schedule": "fixed", "remasking": "low_confidence", "threshold": None, "seed": 1234}
    rows = [
        ("m", {"decoding": base}),
        ("m", {"decoding": base, "gen_kwargs": {"schedule": "threshold", "threshold": 0.9}}),
        ("ar", {}),
        ("other", {"decoding": {**base, "seed": 7}}),  # the only row of its model: its schedule alone
        ("m2", {"decoding": {**base, "seed": 1}}),
        ("m2", {"decoding": {**base, "seed": 2}}),
    ]
    assert distinguishing_labels(rows) == [
        "schedule=fixed", "schedule=threshold, threshold=0.9", "default", "schedule=fixed",
        "schedule=fixed, seed=1", "schedule=fixed, seed=2",
    ]
