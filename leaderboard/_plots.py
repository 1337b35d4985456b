"""Inline SVG plots, drawn in Python so that the site needs no plotting library and stays deterministic.

Every point links to its table row (``#row-<id>``) and carries ``data-row`` for highlighting.
Labels go through ``markupsafe.escape``; the returned markup is safe to embed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

_W, _H, _PAD_L, _PAD_B, _PAD_T, _PAD_R = 420, 300, 52, 40, 40, 12
COLORS = {"diffusion": "#1f77b4", "AR": "#d62728", "unknown": "#7f7f7f"}
"""Point colour by model type; every plot draws this key."""


@dataclass(frozen=True)
class Point:
    """One plotted row."""

    row_id: str
    """Row the point links to."""
    label: str
    """Tooltip text."""
    number: int
    """Marker drawn beside the point; the legend under the plots names its row."""
    x: float
    """Horizontal value."""
    y: float
    """Vertical value."""
    kind: str
    """``diffusion`` or ``AR`` (colour)."""


def nice_step(span: float, n: int = 7) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about ``n`` ticks over ``span``."""
    raw = span / max(n - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))


def _ticks(lo: float, hi: float) -> list[float]:
    """The multiples of a round step that lie inside ``[lo, hi]``."""
    step = nice_step(hi - lo)
    first = math.ceil(lo / step - 1e-9)
    return [round(k * step, 12) for k in range(first, math.floor(hi / step + 1e-9) + 1)]


def _decimals(ticks: Sequence[float]) -> int:
    """The fewest decimals that write every tick exactly (0.25 needs two, 2.0 none)."""
    return next((d for d in range(10) if all(abs(round(t, d) - t) < 1e-9 for t in ticks)), 10)


def _span(values: Sequence[float]) -> tuple[float, float]:
    """The values' range with a margin."""
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    margin = (hi - lo) * 0.08
    return lo - margin, hi + margin


def _frame(
    title: str,
    x_label: str,
    y_label: str,
    xs: tuple[float, float],
    ys: tuple[float, float],
    x_names: Sequence[str] | None = None,
) -> list[str]:
    parts = [
        f'<svg class="plot" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img" '
        f'aria-label="{escape(title)}"><text x="{_W / 2:.1f}" y="16" class="title">{escape(title)}</text>'
    ]
    x0, x1, y0, y1 = _PAD_L, _W - _PAD_R, _H - _PAD_B, _PAD_T
    parts.append(
        f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" class="axis"/>'
        f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" class="axis"/>'
    )
    ticks = _ticks(*ys)
    for v in ticks:
        py = _sy(v, ys)
        parts.append(
            f'<text x="{x0 - 4}" y="{py + 3:.1f}" class="tick" text-anchor="end">{v:.{_decimals(ticks)}f}</text>'
        )
    if x_names is None:
        ticks = _ticks(*xs)
        for v in ticks:
            px = _sx(v, xs)
            parts.append(
                f'<text x="{px:.1f}" y="{y0 + 14}" class="tick" text-anchor="middle">{v:.{_decimals(ticks)}f}</text>'
            )
    else:
        for i, name in enumerate(x_names):
            px = _sx(i, xs)
            parts.append(f'<text x="{px:.1f}" y="{y0 + 14}" class="tick" text-anchor="middle">{escape(name)}</text>')
    parts.append(
        f'<text x="{(x0 + x1) / 2:.1f}" y="{_H - 6}" class="label" '
        f'text-anchor="middle">{escape(x_label)}</text>'
        f'<text x="12" y="{(y0 + y1) / 2:.1f}" class="label" text-anchor="middle" '
        f'transform="rotate(-90 12 {(y0 + y1) / 2:.1f})">{escape(y_label)}</text>'
    )
    parts.append(_key())
    return parts


def _key() -> str:
    """The colour key, top right: one swatch per model type."""
    out, x = ['<g class="key">'], _W - _PAD_R
    for kind, colour in reversed(list(COLORS.items())):
        x -= 8 + 6 * len(kind) + 14
        out.append(
            f'<circle cx="{x + 5}" cy="28" r="4" fill="{colour}"/>'
            f'<text x="{x + 12}" y="31" class="tick">{escape(kind)}</text>'
        )
    out.append("</g>")
    return "".join(out)


def _sx(v: float, xs: tuple[float, float]) -> float:
    return _PAD_L + (v - xs[0]) / (xs[1] - xs[0]) * (_W - _PAD_R - _PAD_L)


def _sy(v: float, ys: tuple[float, float]) -> float:
    return _H - _PAD_B - (v - ys[0]) / (ys[1] - ys[0]) * (_H - _PAD_B - _PAD_T)


def _dot(p: Point, cx: float, cy: float) -> str:
    fill = COLORS.get(p.kind, "#555")
    return (
        f'<a href="#row-{escape(p.row_id)}"><circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{fill}" '
        f'data-row="{escape(p.row_id)}"><title>{p.number}: {escape(p.label)}</title></circle>'
        f'<text x="{cx + 6:.1f}" y="{cy - 5:.1f}" class="pnum">{p.number}</text></a>'
    )


def scatter(points: Sequence[Point], title: str, x_label: str, y_label: str, diagonal: bool = False) -> Markup:
    """A scatter plot of rows; empty plots say so instead of drawing axes."""
    if not points:
        return Markup(f'<p class="noplot">{escape(title)}: no row has both values.</p>')
    xs, ys = _span([p.x for p in points]), _span([p.y for p in points])
    if diagonal:
        xs = ys = _span([p.x for p in points] + [p.y for p in points])
    parts = _frame(title, x_label, y_label, xs, ys)
    if diagonal:
        lo, hi = xs
        parts.append(
            f'<line x1="{_sx(lo, xs):.1f}" y1="{_sy(lo, ys):.1f}" x2="{_sx(hi, xs):.1f}" '
            f'y2="{_sy(hi, ys):.1f}" class="diag"/>'
        )
    parts += [_dot(p, _sx(p.x, xs), _sy(p.y, ys)) for p in points]
    parts.append("</svg>")
    return Markup("".join(parts))


def by_category(points: Sequence[Point], names: Sequence[str], title: str, y_label: str) -> Markup:
    """A dot plot: x is the index of a category in ``names`` (``Point.x``), one dot per row and category."""
    if not points or not names:
        return Markup(f'<p class="noplot">{escape(title)}: nothing to plot.</p>')
    xs = (-0.5, len(names) - 0.5)
    ys = _span([p.y for p in points])
    parts = _frame(title, "", y_label, xs, ys, x_names=[n.removeprefix("mdlm_") for n in names])
    parts += [_dot(p, _sx(p.x, xs), _sy(p.y, ys)) for p in points]
    parts.append("</svg>")
    return Markup("".join(parts))
