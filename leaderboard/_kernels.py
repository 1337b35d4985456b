"""Vectorised order statistics over many traces at once.

scipy's ``kendalltau`` costs about 0.7 ms a call, far too slow for hundreds of thousands of
samples, so the same quantities are computed here in bulk with numpy: traces are padded into
rows of a power-of-two width and every statistic is a row-wise operation. The tests check
these kernels against scipy on random traces.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_PAD = np.int64(1) << 40
"""Padding value after a trace's counted positions; larger than any step so pads never pair up."""


_CHUNK_CELLS = 1 << 20
"""Padded positions processed at once (8 MB per int64 temporary)."""


def _inversions(rows: np.ndarray) -> np.ndarray:
    """Count pairs i < j with ``rows[:, i] > rows[:, j]`` per row (bottom-up merge sort).

    Pads must form a suffix of each row; equal values are not inversions.
    """
    s, width = rows.shape
    runs = rows.copy()
    total = np.zeros(s, dtype=np.int64)
    w = 1
    while w < width:
        blocks = runs.reshape(s, width // (2 * w), 2 * w)
        tag = np.zeros(2 * w, dtype=rows.dtype)
        tag[w:] = 1
        # On equal values the left element sorts first, so it is not counted as greater.
        order = np.argsort(blocks * 2 + tag, axis=-1, kind="stable")
        tags = tag[order]
        left_seen = np.cumsum(tags == 0, axis=-1)
        total += np.where(tags == 1, w - left_seen, 0).sum(axis=(1, 2))
        runs = np.take_along_axis(blocks, order, axis=-1).reshape(s, width)
        w *= 2
    return total


def _group_starts(sorted_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sorted row: the index where each element's run of equal values starts, and new-run flags."""
    width = sorted_rows.shape[1]
    idx = np.broadcast_to(np.arange(width), sorted_rows.shape)
    new = np.ones(sorted_rows.shape, dtype=bool)
    new[:, 1:] = sorted_rows[:, 1:] != sorted_rows[:, :-1]
    starts = np.maximum.accumulate(np.where(new, idx, 0), axis=1)
    return starts, new


def order_stats(final_steps: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Rank statistics of each trace's counted finalization steps against position.

    Args:
        final_steps: One integer array per sample: ``final_step[:n]``.

    Returns:
        Arrays over samples: ``n``, ``t_eff`` (distinct steps), ``tau_b``, ``tau_pb``, ``spearman``,
        ``stage_n`` / ``stage_t`` / ``stage_rank`` (shape ``(S, 3)``: counted tokens, distinct steps and
        mean normalised step rank per third of the answer).
    """
    count = len(final_steps)
    out = {
        "n": np.zeros(count, dtype=np.int64),
        "t_eff": np.zeros(count, dtype=np.int64),
        "tau_b": np.full(count, np.nan),
        "tau_pb": np.full(count, np.nan),
        "spearman": np.full(count, np.nan),
        "stage_n": np.zeros((count, 3), dtype=np.int64),
        "stage_t": np.zeros((count, 3), dtype=np.int64),
        "stage_rank": np.full((count, 3), np.nan),
    }
    lengths = np.array([len(f) for f in final_steps], dtype=np.int64)
    widths = np.maximum(2, 1 << np.ceil(np.log2(np.maximum(lengths, 1))).astype(np.int64))
    flat = np.concatenate([np.asarray(f, dtype=np.int64) for f in final_steps]) if count else np.zeros(0, np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if count else np.zeros(0, np.int64)
    for width in np.unique(widths):
        bucket = np.flatnonzero(widths == width)
        # Chunks of bounded size: the bucket's sorts and temporaries would otherwise take gigabytes at 300k samples.
        step = max(1, _CHUNK_CELLS // int(width))
        for first in range(0, len(bucket), step):
            members = bucket[first : first + step]
            rows = np.full((len(members), int(width)), _PAD, dtype=np.int64)
            ln = lengths[members]
            r_idx = np.repeat(np.arange(len(members)), ln)
            c_idx = np.arange(int(ln.sum())) - np.repeat(np.cumsum(ln) - ln, ln)
            rows[r_idx, c_idx] = flat[np.repeat(starts[members], ln) + c_idx]
            for key, value in _bucket_stats(rows, ln).items():
                out[key][members] = value
    return out


def _bucket_stats(rows: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    """``order_stats`` for rows of one padded width."""
    s, width = rows.shape
    real = np.arange(width)[None, :] < n[:, None]
    perm = np.argsort(rows, axis=1, kind="stable")
    srt = np.take_along_axis(rows, perm, axis=1)
    starts, new = _group_starts(srt)
    real_sorted = srt < _PAD
    ties = np.where(real_sorted, np.arange(width)[None, :] - starts, 0).sum(axis=1)
    t_eff = (new & real_sorted).sum(axis=1)
    pairs = n * (n - 1) // 2
    dense_sorted = np.cumsum(new, axis=1) - 1
    dense = np.empty_like(dense_sorted)
    np.put_along_axis(dense, perm, dense_sorted, axis=1)
    # All statistics are rank-invariant: count inversions on small int32 dense ranks (pads = width).
    small = np.int32 if width <= 1 << 14 else np.int64  # keys 2 * width**2 + 1 must fit
    disc = _inversions(np.where(real, dense, width).astype(small))
    with np.errstate(invalid="ignore", divide="ignore"):
        tau_b = (pairs - ties - 2 * disc) / np.sqrt(pairs * (pairs - ties))
        # ParallelBench: x = sorted(order). Pairs inside one x-block are x-ties; blocks are offset
        # apart so that only within-block pairs can still be discordant or tied.
        blocked = np.where(real, dense + dense_sorted * width, width * width).astype(small)
        sblocked = np.sort(blocked, axis=1)
        bstarts, _ = _group_starts(sblocked)
        ties_w = np.where(sblocked < width * width, np.arange(width)[None, :] - bstarts, 0).sum(axis=1)
        within = ties - ties_w - 2 * _inversions(blocked)
        tau_pb = (pairs - ties - 2 * disc - within) / (pairs - ties)
        # Spearman: Pearson correlation of positions with average ranks of the steps.
        ends = width - 1 - _group_starts(srt[:, ::-1])[0][:, ::-1]
        avg_sorted = (starts + ends) / 2.0
        ranks = np.empty_like(avg_sorted)
        np.put_along_axis(ranks, perm, avg_sorted, axis=1)
        mean = (n - 1) / 2.0
        pos = np.arange(width)[None, :] - mean[:, None]
        dev = np.where(real, ranks - mean[:, None], 0.0)
        cov = (pos * dev).sum(axis=1)
        var_r = (dev * dev).sum(axis=1)
        var_p = np.where(real, pos * pos, 0.0).sum(axis=1)
        spearman = cov / np.sqrt(var_p * var_r)
        norm = dense / (t_eff[:, None] - 1)
    stage = np.where(real, (3 * np.arange(width)[None, :]) // np.maximum(n, 1)[:, None], 3)
    stage_n = np.stack([(stage == k).sum(axis=1) for k in range(3)], axis=1)
    stride = _PAD // 8  # steps stay far below 2**37
    staged = np.sort(np.where(real, rows + stage * stride, _PAD), axis=1)
    _, snew = _group_starts(staged)
    sstage = np.where(staged < _PAD, staged // stride, 3)
    stage_t = np.stack([(snew & (sstage == k)).sum(axis=1) for k in range(3)], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        stage_rank = np.stack([np.where(stage == k, norm, 0.0).sum(axis=1) for k in range(3)], axis=1) / stage_n
    degenerate = (n < 2) | (t_eff < 2)
    for arr in (tau_b, tau_pb, spearman):
        arr[degenerate] = np.nan
    stage_rank[t_eff < 2] = np.nan
    return {
        "n": n,
        "t_eff": t_eff,
        "tau_b": tau_b,
        "tau_pb": tau_pb,
        "spearman": spearman,
        "stage_n": stage_n,
        "stage_t": stage_t,
        "stage_rank": stage_rank,
    }
