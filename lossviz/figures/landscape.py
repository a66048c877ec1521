"""Landscape figures: a loss over a 2-D grid with its gradient field, and (w, b) landscapes of a
linear fit with gradient-descent and Adam paths.

Figures are assembled from plain dicts and wrapped in one ``go.Figure``. The gradient field is
a quiver built from line segments (:func:`quiver_segments`): arrows point down the gradient, the
way gradient descent moves, with lengths ∝ √|∇L| so that small gradients stay visible; the exact
magnitudes are in the |∇L| map beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from lossviz.figures.common import LAYOUT_DEFAULTS, loss_colors, typed_array
from lossviz.studies.landscape import InputLandscape, Minimum
from lossviz.toolkit.data import LineData

LANDSCAPE_SCALE = [
    [0.0, "rgb(5,10,172)"], [0.35, "rgb(40,60,190)"], [0.5, "rgb(70,100,245)"], [0.6, "rgb(90,120,245)"],
    [0.7, "rgb(106,137,247)"], [1.0, "rgb(220,220,220)"],
]
"""plotly.js's own "Blues" (dark blue to light grey), drawn reversed: low loss pale, high loss dark. Spelled
out because Plotly's Python validation reads the name as ColorBrewer's Blues, which runs the other way."""
GRADIENT_SCALE = "Inferno"
"""A name Python Plotly spells out when it validates the figure (plotly.js itself knows no Inferno)."""
ARROW_COLOUR = "#d62728"
PATH_STYLE = {
    "gd": {"name": "gradient descent", "color": "#d62728", "dash": "solid", "symbol": "circle"},
    "adam": {"name": "Adam", "color": "#ff7f0e", "dash": "dot", "symbol": "diamond"},
}
ARROWS_PER_AXIS = 15
ARROW_FILL = 0.85
"""The longest arrow spans this fraction of a grid cell between arrows."""
HEAD = 0.35
"""Arrow-head length as a fraction of the arrow."""
HEAD_ANGLE = np.deg2rad(25.0)


def quiver_segments(
    x: np.ndarray,
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    per_axis: int = ARROWS_PER_AXIS,
) -> tuple[np.ndarray, np.ndarray]:
    """Arrows for the vector field (u, v) given on the grid (x[i], y[j]) (``u[j, i]``): about
    ``per_axis`` arrows per axis, each one polyline tail → tip → barb → tip → barb followed by a
    NaN (a gap in a Plotly line).

    Geometry is done in axis-relative units (x and y divided by their spans) so that arrows keep
    their direction and shape whatever the aspect ratio; zero and non-finite vectors draw nothing.
    """
    step_x = max(1, len(x) // per_axis)
    step_y = max(1, len(y) // per_axis)
    ix = np.arange(step_x // 2, len(x), step_x)
    iy = np.arange(step_y // 2, len(y), step_y)
    span_x = float(x[-1] - x[0]) or 1.0
    span_y = float(y[-1] - y[0]) or 1.0
    uu = (u[np.ix_(iy, ix)] / span_x).ravel()
    vv = (v[np.ix_(iy, ix)] / span_y).ravel()
    norm = np.hypot(uu, vv)
    keep = np.isfinite(norm) & (norm > 0)
    if not keep.any():
        return np.empty(0), np.empty(0)
    x0 = np.broadcast_to((x[ix] - x[0]) / span_x, (len(iy), len(ix))).ravel()[keep]
    y0 = np.broadcast_to(((y[iy] - y[0]) / span_y)[:, None], (len(iy), len(ix))).ravel()[keep]
    dx, dy, norm = uu[keep] / norm[keep], vv[keep] / norm[keep], norm[keep]
    cell = ARROW_FILL * min(step_x / len(x), step_y / len(y))
    length = cell * np.sqrt(norm / norm.max())
    tip_x, tip_y = x0 + length * dx, y0 + length * dy
    head = HEAD * length
    barbs = [
        (tip_x - head * (dx * np.cos(t) - dy * np.sin(t)), tip_y - head * (dx * np.sin(t) + dy * np.cos(t)))
        for t in (HEAD_ANGLE, -HEAD_ANGLE)
    ]
    gap = np.full_like(x0, np.nan)
    xs = np.stack([x0, tip_x, barbs[0][0], tip_x, barbs[1][0], gap], axis=1).ravel()
    ys = np.stack([y0, tip_y, barbs[0][1], tip_y, barbs[1][1], gap], axis=1).ravel()
    return x[0] + xs * span_x, y[0] + ys * span_y


def _title_annotation(text: str, x: float, y: float = 1.0) -> dict:
    return {
        "text": f"<b>{text}</b>", "xref": "paper", "yref": "paper", "x": x, "y": y,
        "xanchor": "left", "yanchor": "bottom", "showarrow": False, "font": {"size": 13},
    }


def figure_input_map(land: InputLandscape, per_axis: int = ARROWS_PER_AXIS) -> go.Figure:
    """Left: the loss as a filled contour map with the descent field −∇L as arrows; right: |∇L|."""
    xs, ys = quiver_segments(land.x, land.y, -land.grad_x, -land.grad_y, per_axis)
    x, y = typed_array(land.x), typed_array(land.y)  # shared by both maps
    data = [
        {
            "type": "contour", "x": x, "y": y, "z": typed_array(land.value), "colorscale": LANDSCAPE_SCALE,
            "reversescale": True, "ncontours": 25, "contours": {"coloring": "heatmap"}, "line": {"width": 0.5},
            "colorbar": {"title": {"text": "L"}, "x": 0.45, "len": 0.9, "thickness": 12},
            "hovertemplate": "x %{x:.3g}, y %{y:.3g}<br>L = %{z:.4g}<extra></extra>", "xaxis": "x", "yaxis": "y",
        },
        {
            "type": "scatter", "x": typed_array(xs), "y": typed_array(ys), "mode": "lines",
            "name": "−∇L (descent direction)",
            "connectgaps": False,
            "line": {"color": ARROW_COLOUR, "width": 1.4}, "hoverinfo": "skip", "xaxis": "x", "yaxis": "y",
            "showlegend": True,
        },
        {
            "type": "heatmap", "x": x, "y": y, "z": typed_array(land.grad_norm), "colorscale": GRADIENT_SCALE,
            "colorbar": {"title": {"text": "|∇L|"}, "x": 1.0, "len": 0.9, "thickness": 12},
            "hovertemplate": "x %{x:.3g}, y %{y:.3g}<br>|∇L| = %{z:.4g}<extra></extra>", "xaxis": "x2", "yaxis": "y2",
        },
    ]
    grad_label = "|∂L/∂p|" if not np.any(land.grad_y) else "|∇L| in the plane shown"
    axis = {"showgrid": False, "zeroline": False}
    layout = {
        **LAYOUT_DEFAULTS,
        "height": 460,
        "margin": {"l": 60, "r": 20, "t": 60, "b": 50},
        "xaxis": {**axis, "domain": [0.0, 0.42], "title": {"text": land.x_label},
                  "range": [float(land.x[0]), float(land.x[-1])]},
        "yaxis": {**axis, "domain": [0.0, 1.0], "title": {"text": land.y_label},
                  "range": [float(land.y[0]), float(land.y[-1])]},
        "xaxis2": {**axis, "domain": [0.56, 0.97], "anchor": "y2", "title": {"text": land.x_label}},
        "yaxis2": {**axis, "domain": [0.0, 1.0], "anchor": "x2", "matches": "y", "showticklabels": False},
        "annotations": [
            _title_annotation(f"{land.loss}: loss and descent field", 0.0),
            _title_annotation(f"gradient magnitude {grad_label}", 0.56),
        ],
        "legend": {"orientation": "h", "x": 0.0, "y": -0.18, "xanchor": "left", "yanchor": "top"},
    }
    return go.Figure({"data": data, "layout": layout})


def figure_input_surface(land: InputLandscape) -> go.Figure:
    """The loss as a 3-D surface over the same grid."""
    data = [
        {
            "type": "surface", "x": typed_array(land.x), "y": typed_array(land.y), "z": typed_array(land.value),
            "colorscale": LANDSCAPE_SCALE, "reversescale": True, "showscale": False,
            "contours": {"z": {"show": True, "usecolormap": True, "project": {"z": True}, "width": 1}},
            "hovertemplate": "x %{x:.3g}, y %{y:.3g}<br>L = %{z:.4g}<extra></extra>",
        }
    ]
    layout = {
        **LAYOUT_DEFAULTS,
        "height": 460,
        "margin": {"l": 0, "r": 0, "t": 30, "b": 0},
        "scene": {
            "xaxis": {"title": {"text": land.x_label}},
            "yaxis": {"title": {"text": land.y_label}},
            "zaxis": {"title": {"text": "L"}},
            "camera": {"eye": {"x": 1.5, "y": -1.5, "z": 1.0}},
            "aspectmode": "cube",
        },
        "annotations": [_title_annotation(f"{land.loss}: surface", 0.0)],
    }
    return go.Figure({"data": data, "layout": layout})


# --- the (w, b) landscape ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FitPanel:
    """One loss's (w, b) landscape with its minimum and the optimiser paths drawn on it."""

    loss: str
    w: np.ndarray
    b: np.ndarray
    value: np.ndarray
    minimum: Minimum
    start: tuple[float, float]
    paths: Mapping[str, np.ndarray]
    """``{"gd": (m, 2), "adam": (m, 2)}``: the points visited (up to where a run stopped)."""
    diverged: Mapping[str, bool]


def excess_root(panel: FitPanel) -> np.ndarray:
    """√(F − F*), the colour of a (w, b) landscape: a quadratic bowl becomes a cone with evenly
    spaced contours, so the shape near the minimum shows as clearly as the far walls."""
    return np.sqrt(np.maximum(panel.value - panel.minimum.value, 0.0))


def _domains(count: int, gap: float = 0.05) -> list[tuple[float, float]]:
    width = (1.0 - gap * (count - 1)) / count
    return [(i * (width + gap), i * (width + gap) + width) for i in range(count)]


def figure_parameter_landscapes(panels: Sequence[FitPanel]) -> go.Figure:
    """The landscapes side by side (shared axes), each with its minimum (×), the start (★) and
    the gradient-descent and Adam paths. Colour and contours show √(F − F*) (:func:`excess_root`);
    hovering shows F itself."""
    data: list[dict] = []
    annotations: list[dict] = []
    layout: dict = {
        **LAYOUT_DEFAULTS,
        "height": 450,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 80},
        "legend": {"orientation": "h", "x": 0.0, "y": -0.2, "xanchor": "left", "yanchor": "top"},
    }
    for k, (panel, (lo, hi)) in enumerate(zip(panels, _domains(max(len(panels), 1)), strict=False)):
        a = "" if k == 0 else str(k + 1)
        xa, ya = f"x{a}", f"y{a}"
        data.append(
            {
                "type": "contour", "x": typed_array(panel.w), "y": typed_array(panel.b),
                "z": typed_array(excess_root(panel)),
                "customdata": typed_array(panel.value), "colorscale": LANDSCAPE_SCALE, "reversescale": True,
                "ncontours": 20, "showscale": False, "contours": {"coloring": "heatmap"}, "line": {"width": 0.5},
                "xaxis": xa, "yaxis": ya,
                "hovertemplate": "w %{x:.3g}, b %{y:.3g}<br>F = %{customdata:.4g}<extra>" + panel.loss + "</extra>",
            }
        )
        for key, style in PATH_STYLE.items():
            path = np.asarray(panel.paths.get(key, np.empty((0, 2))))
            data.append(
                {
                    "type": "scatter", "x": typed_array(path[:, 0]), "y": typed_array(path[:, 1]),
                    "mode": "lines+markers",
                    "name": style["name"], "legendgroup": key, "showlegend": k == 0, "xaxis": xa, "yaxis": ya,
                    "line": {"color": style["color"], "dash": style["dash"], "width": 2},
                    "marker": {"color": style["color"], "size": 4, "symbol": style["symbol"]},
                    "hovertemplate": style["name"] + ": w %{x:.4g}, b %{y:.4g}<extra></extra>",
                }
            )
        data.append(
            {
                "type": "scatter", "x": [panel.start[0]], "y": [panel.start[1]], "mode": "markers", "name": "start",
                "legendgroup": "start", "showlegend": k == 0, "xaxis": xa, "yaxis": ya,
                "marker": {"symbol": "star", "size": 14, "color": "#2ca02c", "line": {"color": "white", "width": 1}},
                "hovertemplate": "start: w %{x:.3g}, b %{y:.3g}<extra></extra>",
            }
        )
        data.append(
            {
                "type": "scatter", "x": [panel.minimum.w], "y": [panel.minimum.b], "mode": "markers",
                "name": "minimum", "legendgroup": "minimum", "showlegend": k == 0, "xaxis": xa, "yaxis": ya,
                "marker": {"symbol": "x", "size": 13, "color": "black", "line": {"color": "white", "width": 1}},
                "hovertemplate": (
                    f"minimum of {panel.loss}: w %{{x:.4f}}, b %{{y:.4f}}<br>F = {panel.minimum.value:.5g}<extra></extra>"
                ),
            }
        )
        diverged = [PATH_STYLE[k2]["name"] for k2, d in panel.diverged.items() if d]
        note = f" — {' and '.join(diverged)} diverged" if diverged else ""
        annotations.append(_title_annotation(f"{panel.loss}{note}", lo))
        layout[f"xaxis{a}"] = {
            "domain": [lo, hi], "anchor": ya, "title": {"text": "slope w"}, "range": [panel.w[0], panel.w[-1]],
            "showgrid": False, **({"matches": "x"} if k else {}),
        }
        layout[f"yaxis{a}"] = {
            "domain": [0.0, 1.0], "anchor": xa, "range": [panel.b[0], panel.b[-1]], "showgrid": False,
            **({"matches": "y", "showticklabels": False} if k else {"title": {"text": "intercept b"}}),
        }
    layout["annotations"] = annotations
    return go.Figure({"data": data, "layout": layout})


def figure_fits(data: LineData, minima: Mapping[str, Minimum]) -> go.Figure:
    """The dataset (outliers highlighted), the true line and the line each loss fits."""
    colours = loss_colors(minima)
    ends = np.array([data.x.min(), data.x.max()])
    traces: list[dict] = [
        {
            "type": "scatter", "x": typed_array(data.x[~data.is_outlier]), "y": typed_array(data.y[~data.is_outlier]),
            "mode": "markers", "name": "data", "marker": {"color": "#555555", "size": 7, "opacity": 0.8},
        },
        {
            "type": "scatter", "x": typed_array(data.x[data.is_outlier]), "y": typed_array(data.y[data.is_outlier]),
            "mode": "markers", "name": "outliers",
            "marker": {"color": "#d62728", "size": 9, "symbol": "circle-open", "line": {"width": 2}},
        },
        {
            "type": "scatter", "x": typed_array(ends), "y": typed_array(data.w_true * ends + data.b_true),
            "mode": "lines",
            "name": f"true line y = {data.w_true:g}x + {data.b_true:g}", "line": {"color": "#999999", "dash": "dash"},
        },
    ]
    for name, m in minima.items():
        traces.append(
            {
                "type": "scatter", "x": typed_array(ends), "y": typed_array(m.w * ends + m.b), "mode": "lines",
                "name": f"{name}: y = {m.w:.3f}x + {m.b:.3f}", "line": {"color": colours[name], "width": 2.5},
            }
        )
    layout = {
        **LAYOUT_DEFAULTS,
        "height": 400,
        "margin": {"l": 50, "r": 20, "t": 40, "b": 50},
        "xaxis": {"title": {"text": "x"}},
        "yaxis": {"title": {"text": "y"}},
        "legend": {"orientation": "h", "x": 0.0, "y": -0.2, "xanchor": "left", "yanchor": "top"},
        "annotations": [_title_annotation("data and the fitted lines", 0.0)],
    }
    return go.Figure({"data": traces, "layout": layout})


def figure_convergence(histories: Mapping[str, Mapping[str, np.ndarray]], minima: Mapping[str, Minimum]) -> go.Figure:
    """F(θₜ) − F* against the step t (log scale) for each loss and optimiser; values below 1e-12
    (the minimum's own precision) are drawn at 1e-12."""
    colours = loss_colors(histories)
    traces: list[dict] = []
    for name, runs in histories.items():
        for key, values in runs.items():
            style = PATH_STYLE[key]
            gap = np.maximum(np.asarray(values, dtype=np.float64) - minima[name].value, 1e-12)
            traces.append(
                {
                    "type": "scatter", "y": typed_array(gap), "mode": "lines", "name": f"{name} · {style['name']}",
                    "line": {"color": colours[name], "dash": style["dash"], "width": 2},
                    "hovertemplate": f"{name} · {style['name']}<br>step %{{x}}: F − F* = %{{y:.3g}}<extra></extra>",
                }
            )
    layout = {
        **LAYOUT_DEFAULTS,
        "height": 400,
        "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
        "xaxis": {"title": {"text": "step"}},
        "yaxis": {"title": {"text": "F(w, b) − F*"}, "type": "log", "exponentformat": "power"},
        "legend": {"orientation": "h", "x": 0.0, "y": -0.2, "xanchor": "left", "yanchor": "top"},
        "annotations": [_title_annotation("distance to the minimum", 0.0)],
    }
    return go.Figure({"data": traces, "layout": layout})
