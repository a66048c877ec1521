"""Figures of the Segmentation page: the masks, per-pixel gradient maps, sweeps and the smooth study.

Builders are pure (data → ``go.Figure``), send float32 arrays and assemble plain dicts.
Images are drawn with row 0 at the top (``autorange="reversed"``) and square pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from lossviz.figures.common import DIVERGING, LAYOUT_DEFAULTS, FigureSpec, loss_color, loss_colors, typed_array
from lossviz.figures.live import live_figure, stacked_panels
from lossviz.studies.segmentation import LOSSES, SHAPES, SmoothStudy, Sweep, TverskyGrid

MASK_SCALE = [[0.0, "rgb(255,255,255)"], [1.0, "rgb(0,0,0)"]]
"""The true mask in black on white (by value, not by name: plotly.js's "Greys" and Python Plotly's run
opposite ways)."""
SATURATION_PERCENTILE = 99.0
"""Each gradient map's colours span ±(this percentile of |gradient|); larger values saturate."""
TRUE_EDGE_COLOR = "#2ca02c"


def _axes(count: int, gap: float = 0.04) -> list[tuple[float, float]]:
    width = (1.0 - gap * (count - 1)) / count
    return [(i * (width + gap), i * (width + gap) + width) for i in range(count)]


def _image_axes(count: int, titles: Sequence[str]) -> dict:
    """x/y axes for ``count`` square images side by side, each titled by an annotation."""
    layout: dict = {"annotations": []}
    for i, (lo, hi) in enumerate(_axes(count)):
        a = "" if i == 0 else str(i + 1)
        layout[f"xaxis{a}"] = {"domain": [lo, hi], "anchor": f"y{a}", "showticklabels": False, "showgrid": False,
                               "zeroline": False, "constrain": "domain"}
        layout[f"yaxis{a}"] = {"domain": [0.0, 1.0], "anchor": f"x{a}", "autorange": "reversed",
                               "showticklabels": False, "showgrid": False, "zeroline": False,
                               "scaleanchor": f"x{a}", "scaleratio": 1, "constrain": "domain"}
        layout["annotations"].append(
            {"text": titles[i], "xref": "paper", "yref": "paper", "x": (lo + hi) / 2, "y": 1.0, "xanchor": "center",
             "yanchor": "bottom", "showarrow": False, "font": {"size": 13}}
        )
    return layout


def _edge_trace(mask: np.ndarray, axis: str) -> dict:
    """The outline of the true mask (its 0.5 level) as a contour line."""
    return {
        "type": "contour",
        "z": typed_array(mask),
        "contours": {"start": 0.5, "end": 0.5, "size": 1.0, "coloring": "lines"},
        "colorscale": [[0.0, TRUE_EDGE_COLOR], [1.0, TRUE_EDGE_COLOR]],
        "line": {"width": 2},
        "showscale": False,
        "hoverinfo": "skip",
        "xaxis": f"x{axis}",
        "yaxis": f"y{axis}",
        "name": "true edge",
    }


def figure_masks(true: np.ndarray, predicted: np.ndarray, height: int = 330) -> go.Figure:
    """The true mask and the predicted soft mask side by side; the true edge outlined on the prediction.

    Traces: true mask heatmap, predicted heatmap, the true edge on the prediction.
    """
    data = [
        {"type": "heatmap", "z": typed_array(true), "zmin": 0.0, "zmax": 1.0, "colorscale": MASK_SCALE,
         "showscale": False, "name": "true mask", "hovertemplate": "row %{y}, col %{x}: g = %{z:.0f}<extra></extra>"},
        {"type": "heatmap", "z": typed_array(predicted), "zmin": 0.0, "zmax": 1.0, "colorscale": "Viridis",
         "colorbar": {"title": {"text": "p"}, "len": 0.9, "thickness": 12}, "name": "prediction",
         "xaxis": "x2", "yaxis": "y2", "hovertemplate": "row %{y}, col %{x}: p = %{z:.4f}<extra></extra>"},
    ]
    if true.any():
        data.append(_edge_trace(true, "2"))
    layout = {**LAYOUT_DEFAULTS, "height": height, "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
              **_image_axes(2, ["true mask g", "predicted soft mask p (green: true edge)"])}
    return go.Figure({"data": data, "layout": layout})


def saturation(grad: np.ndarray) -> float:
    """The colour limit of a gradient map: the :data:`SATURATION_PERCENTILE` of |grad| (a tiny floor if all 0)."""
    top = float(np.percentile(np.abs(grad), SATURATION_PERCENTILE))
    return top if top > 0 else max(float(np.abs(grad).max()), 1e-12)


def figure_gradient_maps(
    grads: Mapping[str, np.ndarray], titles: Mapping[str, str], true: np.ndarray, height: int = 300
) -> go.Figure:
    """One heatmap of the per-pixel gradient of each loss, each on its own symmetric colour range.

    Traces: for each loss (in ``grads`` order) its heatmap, then the true edge on it (when the
    mask is not empty).
    """
    names = list(grads)
    data: list[dict] = []
    for i, name in enumerate(names):
        a = "" if i == 0 else str(i + 1)
        g = grads[name]
        limit = saturation(g)
        data.append(
            {
                "type": "heatmap",
                "z": typed_array(g),
                "zmin": -limit,
                "zmax": limit,
                "colorscale": DIVERGING,  # blue: a descent step raises p there; red: lowers it
                "showscale": False,
                "name": name,
                "xaxis": f"x{a}",
                "yaxis": f"y{a}",
                "hovertemplate": f"{titles[name]}<br>row %{{y}}, col %{{x}}: %{{z:.3g}}<extra></extra>",
            }
        )
        if true.any():
            data.append({**_edge_trace(true, a), "line": {"width": 1}, "showlegend": False})
    captions = [f"{titles[n]}<br><sub>max |g| = {np.abs(grads[n]).max():.2g}</sub>" for n in names]
    layout = {**LAYOUT_DEFAULTS, "height": height, "margin": {"l": 10, "r": 10, "t": 55, "b": 10},
              "showlegend": False, **_image_axes(len(names), captions)}
    return go.Figure({"data": data, "layout": layout})


def figure_sweep(sw: Sweep, current: float, x_label: str, titles: Mapping[str, str], height: int = 380) -> go.Figure:
    """Every loss against the swept control, with a dotted line at the control's current value.

    Traces: one line per loss (in :data:`LOSSES` order), then the current-value line.
    """
    colours = loss_colors(LOSSES)
    data = [
        {
            "type": "scatter",
            "x": typed_array(sw.values),
            "y": typed_array(sw.losses[name]),
            "mode": "lines",
            "name": titles[name],
            "line": {"color": colours[name], "width": 2, "dash": "dot" if name == "pixel_cross_entropy" else "solid"},
            "hovertemplate": f"{titles[name]}: %{{y:.4f}}<extra></extra>",
        }
        for name in LOSSES
    ]
    finite = [v[np.isfinite(v)] for v in sw.losses.values()]
    top = max((float(v.max()) for v in finite if v.size), default=1.0)
    data.append(
        {"type": "scatter", "x": [current, current], "y": [0.0, top], "mode": "lines", "name": "current value",
         "line": {"color": "#888888", "width": 1, "dash": "dot"}, "hoverinfo": "skip"}
    )
    layout = {**LAYOUT_DEFAULTS, "height": height, "hovermode": "x unified", "margin": {"l": 60, "r": 20, "t": 40,
              "b": 50}, "xaxis": {"title": {"text": x_label}}, "yaxis": {"title": {"text": "loss"}, "rangemode": "tozero"}}
    return go.Figure({"data": data, "layout": layout})


def figure_smooth_study(study: SmoothStudy, current: float, height: int = 380) -> go.Figure:
    """Dice loss against ``smooth`` (log axis) for every shape; the value at smooth = 0 as a marker on the left.

    Traces: for each shape its curve over the positive smooth values, then a dotted line at the
    current smooth (when it is positive).
    """
    colours = dict(zip(SHAPES, ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"), strict=True))
    positive = study.smooth > 0
    data: list[dict] = []
    for shape in SHAPES:
        at_zero = study.dice[shape][~positive]
        zero_text = f"; at s = 0: {at_zero[0]:.4f}" if at_zero.size else ""
        data.append(
            {
                "type": "scatter",
                "x": typed_array(study.smooth[positive]),
                "y": typed_array(study.dice[shape][positive]),
                "mode": "lines",
                "name": f"{shape} (Σg = {study.sum_g[shape]:.0f}, Σp = {study.sum_p[shape]:.1f})",
                "line": {"color": colours[shape], "width": 2},
                "hovertemplate": f"{shape}: %{{y:.4f}} at s = %{{x:.3g}}{zero_text}<extra></extra>",
            }
        )
    if current > 0:
        data.append({"type": "scatter", "x": [current, current], "y": [0.0, 1.0], "mode": "lines",
                     "name": "current smooth", "line": {"color": "#888888", "width": 1, "dash": "dot"},
                     "hoverinfo": "skip"})
    layout = {**LAYOUT_DEFAULTS, "height": height, "hovermode": "x unified",
              "margin": {"l": 60, "r": 20, "t": 70, "b": 50},
              "xaxis": {"type": "log", "title": {"text": "smooth s (log scale)"}},
              "yaxis": {"title": {"text": "Dice loss"}, "range": [0.0, 1.02]}}
    return go.Figure({"data": data, "layout": layout})


TERMS = ("TP", "α·FP", "β·FN")
"""The bars of the Tversky figure: the denominator's terms besides s."""


def figure_tversky(grid: TverskyGrid, height: int = 380) -> FigureSpec:
    """Tversky's loss against the predicted object's size k (left) and the terms of its denominator for the
    page's prediction (right), live in (α, β): frame i·nβ + j shows (``grid.alphas[i]``, ``grid.betas[j]``)
    (:func:`lossviz.figures.live.live_figure`, for a pad).

    Traces: the loss over k, the page's prediction on it (a marker), k = 1 (dotted, static), the bars TP, α·FP,
    β·FN of the page's prediction (α and β act through those two bars: raising α makes spilling onto the
    background, k > 1, cost more; raising β, missing object pixels, k < 1).
    """
    sweep, colour = grid.sweep, loss_color("tversky")
    frames = [
        [
            {"y": typed_array(grid.loss[i, j, sweep])},
            {"y": typed_array(grid.loss[i, j, -1:])},
            {"y": typed_array(terms), "text": [f"{t:.1f}" for t in terms]},
        ]
        for i, a in enumerate(grid.alphas.tolist())
        for j, b in enumerate(grid.betas.tolist())
        for terms in [grid.terms(a, b)]
    ]
    data = [
        {"type": "scatter", "mode": "lines", "x": typed_array(grid.scales[sweep]), "name": "Tversky loss",
         "line": {"color": colour, "width": 2}, "hovertemplate": "k = %{x:.2f}: %{y:.4f}<extra></extra>"},
        {"type": "scatter", "mode": "markers", "x": typed_array(grid.scales[-1:]), "name": "the prediction above",
         "marker": {"color": colour, "size": 11, "line": {"color": "white", "width": 1.5}},
         "hovertemplate": "the prediction above (k = %{x:.2f}): %{y:.4f}<extra></extra>"},
        {"type": "scatter", "mode": "lines", "x": [1.0, 1.0], "y": [0.0, 1.0], "name": "true size k = 1",
         "line": {"color": "#888888", "width": 1, "dash": "dot"}, "hoverinfo": "skip"},
        {"type": "bar", "x": list(TERMS), "name": "denominator terms", "marker": {"color": ["#2ca02c", "#ff7f0e",
         "#1f77b4"]}, "textposition": "outside", "xaxis": "x2", "yaxis": "y2", "showlegend": False,
         "hovertemplate": "%{x} = %{y:.2f}<extra></extra>"},
    ]
    for trace, update in zip((data[0], data[1], data[3]), frames[0], strict=True):
        trace.update(update)
    top = max(grid.tp[-1], grid.fp[-1], grid.fn[-1], 1.0) * 1.15  # α, β ≤ 1: no bar is higher; room for its number
    layout = {
        **LAYOUT_DEFAULTS, "height": height, "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
        "legend": {"orientation": "h", "y": 1.12, "x": 0.0},
        "xaxis": {"domain": [0.0, 0.6], "title": {"text": "size k of the predicted object (other settings as above)"}},
        "yaxis": {"title": {"text": f"Tversky loss (s = {grid.smooth:g})"}, "range": [0.0, 1.02]},
        "xaxis2": {"domain": [0.7, 1.0], "anchor": "y2", "title": {"text": "the prediction above"}},
        "yaxis2": {"anchor": "x2", "range": [0.0, top], "title": {"text": "soft pixel count"}},
    }
    # On a phone the bars go under the curve: side by side, the axis titles ran into each other.
    narrow = stacked_panels(layout, [[("xaxis", "yaxis")], [("xaxis2", "yaxis2")]], titles=[[], []],
                            height=2 * height, gap=0.16, weights=[1.2, 1.0])
    narrow["xaxis.title.text"] = "size k of the predicted object"  # the full title is wider than a phone
    return live_figure(data, layout, frames, traces=[0, 1, 3], narrow=narrow)
