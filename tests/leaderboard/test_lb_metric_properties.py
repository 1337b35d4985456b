"""Property tests: the metrics never crash on any trace and agree with scipy and with their bounds."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import kendalltau, spearmanr

from leaderboard import batch_trace_metrics, trace_metrics

# Valid traces: every counted position was decoded at some step >= 0 (the engine guarantees it).
steps_lists = st.lists(st.integers(min_value=0, max_value=40), min_size=0, max_size=60)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-5, max_value=10**6), max_size=60), st.integers(-3, 70), st.integers(-3, 99))
def test_trace_metrics_never_crash(final_step, n, nfe) -> None:
    trace_metrics(final_step, max(0, min(n, len(final_step))), nfe)


@settings(max_examples=300, deadline=None)
@given(steps_lists, st.data())
def test_trace_metrics_bounds_and_scipy(final_step, data) -> None:
    n = data.draw(st.integers(min_value=0, max_value=len(final_step)))
    nfe = data.draw(st.integers(min_value=0, max_value=80))
    m = trace_metrics(final_step, n, nfe)
    counted = final_step[:n]
    if n == 0:
        return
    assert m.t_eff == len(set(counted))
    assert 1.0 <= m.afp <= n + 1e-9
    for value in (m.tau_b, m.tau_pb, m.spearman):
        assert math.isnan(value) or -1.0 - 1e-9 <= value <= 1.0 + 1e-9
    if len(set(counted)) > 1:
        expected = kendalltau(np.arange(n), counted).statistic
        assert math.isclose(m.tau_b, expected, rel_tol=1e-9, abs_tol=1e-9)
        expected_rho = spearmanr(np.arange(n), counted).statistic
        assert math.isclose(m.spearman, expected_rho, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=0, max_value=30), min_size=0, max_size=40), min_size=1, max_size=8))
def test_batch_metrics_equal_one_by_one(orders) -> None:
    nfe = [max(o, default=0) + 1 for o in orders]
    batch = batch_trace_metrics(orders, nfe, orders)
    for i, order in enumerate(orders):
        single = trace_metrics(order, len(order), nfe[i], order)
        for key in ("afp", "tau_b", "tau_pb"):
            a, b = float(batch[key][i]), getattr(single, key)
            assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), key
