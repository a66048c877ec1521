"""Figures of the Focal-γ page: Lin et al.'s Fig. 1 with a live γ and α, loss shares, decision boundaries, PR curves.

Pure builders (data → ``go.Figure``, assembled from plain dicts). The curve figure is a live figure
(:func:`~lossviz.figures.live.live_figure`, a plain dict) with one frame per (γ, α) of a
:class:`~lossviz.studies.focal.FocalGrid`, so the highlighted curves follow a drag of the page's γ × α pad
in the browser without a rerun.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from lossviz.figures.common import LAYOUT_DEFAULTS, PALETTE, FigureSpec, typed_array
from lossviz.figures.live import live_figure, stacked_panels
from lossviz.studies.focal import CLASSES, FocalCurves, FocalGrid
from lossviz.toolkit.data import Blobs

PANELS = ("loss", "modulating", "grad")
PANEL_TITLES = ("loss FL(p<sub>t</sub>)", "(1 − p<sub>t</sub>)<sup>γ</sup> = FL / CE (log)", "gradient |∂FL/∂x|")
X_DOMAINS = ((0.0, 0.29), (0.355, 0.645), (0.71, 1.0))
NARROW_HEIGHT = 960
"""The curves' height on a phone, where their panels stack."""
LIVE_COLOR = "#111111"
LIVE_DASH = {"positive": "solid", "negative": "dash"}
"""The live curves of a positive (weight α) and of a negative example (weight 1 − α)."""
LIVE_CURVES: tuple[tuple[str, str | None], ...] = (
    ("loss", "positive"), ("loss", "negative"), ("modulating", None), ("grad", "positive"), ("grad", "negative"),
)
"""The live traces in figure order, as (panel, class): the modulating factor is the same for both classes."""
LIN_RATIOS = ((0.9, 100.0), (0.968, 1000.0))
"""Lin et al. §3.2: with γ = 2, p_t = 0.9 gets 100× less loss than CE and p_t ≈ 0.968 about 1000×."""


def gamma_colors(gammas: Sequence[float]) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(len(gammas))]


def _live_ys(grid: FocalGrid, i: int, j: int) -> list[np.ndarray]:
    """The y of each of :data:`LIVE_CURVES` at (γᵢ, αⱼ)."""
    return [
        grid.modulating[i] if label is None else getattr(grid, panel)[i, j, CLASSES.index(label)]
        for panel, label in LIVE_CURVES
    ]


def figure_focal_curves(reference: FocalCurves, grid: FocalGrid, active: tuple[int, int], height: int = 470) -> FigureSpec:
    """Three panels against p_t: FL, (1 − p_t)^γ (log axis) and |∂FL/∂x|.

    ``reference`` holds Lin et al.'s γ values with α off (their Fig. 1, thin). The thick black curves are
    the α-balanced loss and gradient of a positive (α_t = α, solid) and a negative example (α_t = 1 − α,
    dashed) and the modulating factor, at (γᵢ, αⱼ) of ``grid``: frame ``i * len(grid.alphas) + j``, for the
    component's γ × α pad; the figure's own data shows ``active`` = (i, j).
    """
    data: list[dict] = []
    for i, (g, colour) in enumerate(zip(reference.gammas, gamma_colors(reference.gammas), strict=True)):
        for j, panel in enumerate(PANELS):
            data.append({
                "type": "scatter", "mode": "lines", "x": typed_array(reference.p_t),
                "y": typed_array(getattr(reference, panel)[i]),
                "xaxis": f"x{j + 1 if j else ''}", "yaxis": f"y{j + 1 if j else ''}",
                "name": f"γ = {g:g}", "legendgroup": f"g{i}", "showlegend": j == 0,
                "line": {"color": colour, "width": 1.2},
                "hovertemplate": f"γ = {g:g}<br>p_t = %{{x:.3f}}<br>%{{y:.4g}}<extra></extra>",
            })
    n_ref = len(data)
    weighted = bool((grid.alphas >= 0).all())
    names = {
        "positive": "live: positive, weight α" if weighted else "live: positive, α off",
        "negative": "live: negative, weight 1 − α" if weighted else "live: negative, α off",
        None: "live: (1 − p<sub>t</sub>)<sup>γ</sup>",
    }
    for (panel, label), y in zip(LIVE_CURVES, _live_ys(grid, *active), strict=True):
        j = PANELS.index(panel)
        data.append({
            "type": "scatter", "mode": "lines", "x": typed_array(grid.p_t), "y": typed_array(y),
            "xaxis": f"x{j + 1 if j else ''}", "yaxis": f"y{j + 1 if j else ''}",
            "name": names[label], "legendgroup": f"live {label}",
            "showlegend": panel != "grad",  # each class once (from the loss panel), the factor once
            "line": {"color": LIVE_COLOR, "width": 3.0, "dash": "dot" if label is None else LIVE_DASH[label]},
            "hovertemplate": f"{names[label]}<br>p_t = %{{x:.3f}}<br>%{{y:.4g}}<extra></extra>",
        })
    # Frames leave x out: it never changes, and an animation keeps what a frame does not set.
    frames = [
        [{"y": typed_array(y)} for y in _live_ys(grid, i, j)]
        for i in range(len(grid.gammas))
        for j in range(len(grid.alphas))
    ]
    # On a phone the three panels stack, each full width, under the legend (which wraps to four lines there).
    layout = _curve_layout(height)
    narrow = stacked_panels(
        layout, [[("xaxis", "yaxis")], [("xaxis2", "yaxis2")], [("xaxis3", "yaxis3")]], titles=[[0], [1], [2]],
        height=NARROW_HEIGHT, top=0.79, gap=0.08,
    )
    return live_figure(
        data, layout, frames, traces=range(n_ref, n_ref + len(LIVE_CURVES)),
        narrow={**narrow, "legend.y": 1.0, "legend.yanchor": "top", "margin.t": 30},
    )


def _curve_layout(height: int) -> dict:
    layout: dict = {
        **LAYOUT_DEFAULTS, "height": height, "margin": {"l": 45, "r": 15, "t": 95, "b": 45},
        "legend": {**LAYOUT_DEFAULTS["legend"], "y": 1.14},  # type: ignore[dict-item]
    }
    annotations = []
    for j, (domain, title) in enumerate(zip(X_DOMAINS, PANEL_TITLES, strict=True)):
        suffix = str(j + 1) if j else ""
        layout[f"xaxis{suffix}"] = {
            "domain": list(domain), "range": [0, 1], "title": {"text": "p<sub>t</sub>", "standoff": 2},
            "anchor": f"y{suffix}",
        }
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}"}
        annotations.append({
            "x": (domain[0] + domain[1]) / 2, "y": 1.0, "xref": "paper", "yref": "paper", "yanchor": "bottom",
            "yshift": 6, "text": f"<b>{title}</b>", "showarrow": False, "font": {"size": 13},
        })
    layout["yaxis"]["range"] = [0, 5]  # as Fig. 1 of Lin et al.
    layout["yaxis2"].update({"type": "log", "range": [-6, 0.05], "exponentformat": "power"})
    layout["yaxis3"]["range"] = [0, 1.02]
    annotations += [
        {
            "x": p, "y": float(np.log10(1.0 / ratio)), "xref": "x2", "yref": "y2", "text": f"γ=2: {ratio:g}× less",
            "showarrow": True, "arrowhead": 2, "ax": -60, "ay": 28, "font": {"size": 11},
            "bgcolor": "rgba(255,255,255,0.8)",
        }
        for p, ratio in LIN_RATIOS
    ]
    layout["annotations"] = annotations
    return layout


def figure_loss_share(
    gammas: np.ndarray, share: np.ndarray, easy_fraction: float, gamma: float, height: int = 330
) -> go.Figure:
    """Share of the total focal loss from well-classified examples (p_t > 0.6) against γ.

    A dotted line marks the share of the *examples* that are well classified, and a marker the live γ.
    """
    live = float(np.interp(gamma, gammas, share))
    data = [
        {"type": "scatter", "mode": "lines", "x": typed_array(gammas), "y": typed_array(100 * share),
         "name": "share of the loss",
         "line": {"color": PALETTE[0], "width": 2.5},
         "hovertemplate": "γ = %{x:.1f}<br>%{y:.2f} % of the loss<extra></extra>"},
        {"type": "scatter", "mode": "lines", "x": [float(gammas[0]), float(gammas[-1])],
         "y": [100 * easy_fraction] * 2, "name": "share of the examples", "line": {"color": "#7f7f7f", "dash": "dot"},
         "hovertemplate": "%{y:.1f} % of the examples have p_t > 0.6<extra></extra>"},
        {"type": "scatter", "mode": "markers", "x": [gamma], "y": [100 * live], "name": f"live γ = {gamma:g}",
         "marker": {"color": LIVE_COLOR, "size": 11, "symbol": "diamond"},
         "hovertemplate": "γ = %{x:.1f}<br>%{y:.2f} %<extra></extra>"},
    ]
    layout = {
        **LAYOUT_DEFAULTS, "height": height,
        "xaxis": {"title": {"text": "γ"}, "range": [float(gammas[0]) - 0.05, float(gammas[-1]) + 0.05]},
        "yaxis": {"title": {"text": "% from examples with p<sub>t</sub> > 0.6"}, "range": [0, 102]},
    }
    return go.Figure({"data": data, "layout": layout})


@dataclass(frozen=True)
class Boundary:
    """A linear decision boundary w·x + b = 0 drawn under ``label`` in ``color``."""

    label: str
    w: np.ndarray
    b: float
    color: str


def boundary_segment(w: np.ndarray, b: float, xlim: tuple[float, float], ylim: tuple[float, float]) -> tuple[list[float], list[float]]:
    """The part of the line w₁x + w₂y + b = 0 inside the box (empty lists if it misses the box)."""
    w1, w2 = float(w[0]), float(w[1])
    points: list[tuple[float, float]] = []
    if abs(w2) > 1e-12:
        for x in xlim:
            y = -(b + w1 * x) / w2
            if ylim[0] <= y <= ylim[1]:
                points.append((x, y))
    if abs(w1) > 1e-12:
        for y in ylim:
            x = -(b + w2 * y) / w1
            if xlim[0] <= x <= xlim[1]:
                points.append((x, y))
    if len(points) < 2:
        return [], []
    points = sorted(set(points))
    (x0, y0), (x1, y1) = points[0], points[-1]
    return [x0, x1], [y0, y1]


def figure_boundaries(data: Blobs, boundaries: Sequence[Boundary], height: int = 430) -> go.Figure:
    """The imbalanced set (majority grey, minority red) with each model's boundary p = 0.5."""
    xlim = (float(data.x[:, 0].min()) - 0.3, float(data.x[:, 0].max()) + 0.3)
    ylim = (float(data.x[:, 1].min()) - 0.3, float(data.x[:, 1].max()) + 0.3)
    major, minor = data.y == 0, data.y == 1
    traces = [
        {"type": "scatter", "mode": "markers", "x": typed_array(data.x[major, 0]), "y": typed_array(data.x[major, 1]),
         "name": f"majority (0): {int(major.sum())}", "marker": {"color": "#9e9e9e", "size": 4, "opacity": 0.45},
         "hoverinfo": "skip"},
        {"type": "scatter", "mode": "markers", "x": typed_array(data.x[minor, 0]), "y": typed_array(data.x[minor, 1]),
         "name": f"minority (1): {int(minor.sum())}",
         "marker": {"color": "#d62728", "size": 7, "line": {"color": "white", "width": 0.8}},
         "hovertemplate": "minority<br>(%{x:.2f}, %{y:.2f})<extra></extra>"},
    ]
    for boundary in boundaries:
        xs, ys = boundary_segment(boundary.w, boundary.b, xlim, ylim)
        traces.append({
            "type": "scatter", "mode": "lines", "x": xs, "y": ys, "name": boundary.label,
            "line": {"color": boundary.color, "width": 3}, "hoverinfo": "name",
        })
    layout = {
        **LAYOUT_DEFAULTS, "height": height,
        "xaxis": {"range": list(xlim), "title": {"text": "x₁"}, "zeroline": False},
        "yaxis": {"range": list(ylim), "title": {"text": "x₂"}, "zeroline": False, "scaleanchor": "x"},
    }
    return go.Figure({"data": traces, "layout": layout})


def figure_pr_curves(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]], colors: Mapping[str, str], ap: Mapping[str, float],
    base_rate: float, height: int = 430,
) -> go.Figure:
    """Precision against recall (steps) for each model; the dotted line is a random ranking."""
    data = [
        {"type": "scatter", "mode": "lines", "x": [0.0, 1.0], "y": [base_rate, base_rate],
         "name": f"random ({100 * base_rate:.1f} % positives)", "line": {"color": "#9e9e9e", "dash": "dot"},
         "hoverinfo": "skip"},
    ]
    for i, (label, (precision, recall)) in enumerate(curves.items()):
        # Later curves drawn thinner on top of wider ones: identical rankings stay visible as two lines.
        width = max(6.0 - 2.5 * i, 2.0)
        data.append({
            "type": "scatter", "mode": "lines", "x": typed_array(np.concatenate([[0.0], recall])),
            "y": typed_array(np.concatenate([[precision[0] if len(precision) else 1.0], precision])),
            "opacity": 0.55 if i == 0 and len(curves) > 1 else 1.0,
            "line": {"color": colors[label], "width": width, "shape": "vh"}, "name": f"{label}: AP {ap[label]:.3f}",
            "hovertemplate": "recall %{x:.2f}<br>precision %{y:.2f}<extra></extra>",
        })
    layout = {
        **LAYOUT_DEFAULTS, "height": height,
        "xaxis": {"title": {"text": "minority recall"}, "range": [0, 1.02]},
        "yaxis": {"title": {"text": "minority precision"}, "range": [0, 1.05]},
    }
    return go.Figure({"data": data, "layout": layout})
