"""Landscape figures: a loss over a 2-D grid with its gradient field, and (w, b) landscapes of a
linear fit with gradient-descent and Adam paths.

Figures are assembled from plain dicts and wrapped in one ``go.Figure``. The gradient field is
a quiver built from line segments (:func:`quiver_segments`): arrows point down the gradient, the
way gradient descent moves, with lengths ∝ √|∇L| so that small gradients stay visible; the exact
magnitudes are in the |∇L| map beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from lossviz.figures.common import LAYOUT_DEFAULTS, axis_key, loss_colors, typed_array
from lossviz.figures.live import stacked_panels, with_narrow
from lossviz.studies.landscape import Descent, InputLandscape, Minimum
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
    """One loss's (w, b) landscape with its minimum, and the optimisers' descent on it from ``start``."""

    loss: str
    w: np.ndarray
    b: np.ndarray
    value: np.ndarray
    minimum: Minimum
    start: tuple[float, float]
    descent: Descent


def excess_root(panel: FitPanel) -> np.ndarray:
    """√(F − F*), the colour of a (w, b) landscape: a quadratic bowl becomes a cone with evenly
    spaced contours, so the shape near the minimum shows as clearly as the far walls."""
    return np.sqrt(np.maximum(panel.value - panel.minimum.value, 0.0))


def _domains(count: int, gap: float = 0.05) -> list[tuple[float, float]]:
    width = (1.0 - gap * (count - 1)) / count
    return [(i * (width + gap), i * (width + gap) + width) for i in range(count)]


LANDSCAPE_HEIGHT, CHART_HEIGHT, ROW_GAP = 400, 300, 120
NARROW_LEGEND = 330
"""Pixels under the descent's panels on a phone, where its legend wraps to about eight lines."""
"""Pixel heights of the landscapes' row and of the data and convergence row, and the room between (titles)."""
OPTIMIZERS = ("gd", "adam")
_MARKS = {"gd": "M-7,0L0,7L7,0L0,-7Z", "adam": "M-6,-6L6,-6L6,6L-6,6Z"}
"""The moving point of each optimiser, in pixels around it: a diamond (gradient descent), a square (Adam)."""


def _mark(key: str, xref: str, yref: str, x: float, y: float, color: str) -> dict:
    """Where optimiser ``key`` is: its mark, a fixed size in pixels, at (x, y) in data units."""
    return {"type": "path", "xref": xref, "yref": yref, "xsizemode": "pixel", "ysizemode": "pixel", "xanchor": x,
            "yanchor": y, "path": _MARKS[key], "fillcolor": color, "line": {"color": "white", "width": 1.5}}


def _log_range(values: Sequence[np.ndarray]) -> list[float]:
    finite = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in values])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    lo, hi = (float(np.log10(finite.min())), float(np.log10(finite.max()))) if finite.size else (-1.0, 1.0)
    pad = 0.05 * (hi - lo) or 0.5
    return [lo - pad, hi + pad]


def figure_descent(panels: Sequence[FitPanel], data: LineData) -> dict:
    """The descents played step by step, as one plain-dict figure whose frames are ``panels[0].descent.shown``.

    Top: the landscapes side by side (shared axes), each with its minimum (×), the start (★), the whole
    gradient-descent and Adam paths, and where each optimiser is at the step (◆ gradient descent, ■ Adam);
    colour and contours show √(F − F*) (:func:`excess_root`), hovering shows F itself. Bottom left: the data
    (outliers highlighted), the true line, each loss's best line (dashed) and the lines of both optimisers at
    the step (gradient descent solid, Adam dotted). Bottom right: F(θₜ) − F* of every run per step (log scale)
    with the step marked. The contours never change; everything that moves is a layout shape, so a frame is a
    layout change (see :mod:`lossviz.figures.live`) and the base figure shows the last step.
    """
    colours = loss_colors([p.loss for p in panels])
    n = len(panels)
    top, bottom = 60, 90
    plot = LANDSCAPE_HEIGHT + ROW_GAP + CHART_HEIGHT
    upper = ((CHART_HEIGHT + ROW_GAP) / plot, 1.0)
    lower = (0.0, CHART_HEIGHT / plot)
    fits_col, gap_col = n + 1, n + 2
    data_traces: list[dict] = []
    annotations: list[dict] = []
    layout: dict = {
        **LAYOUT_DEFAULTS,
        "height": plot + top + bottom,
        "margin": {"l": 60, "r": 20, "t": top, "b": bottom},
        "legend": {"orientation": "h", "x": 0.0, "y": -0.12, "xanchor": "left", "yanchor": "top"},
    }

    def axes(col: int) -> tuple[str, str]:
        a = "" if col == 1 else str(col)
        return f"x{a}", f"y{a}"

    for k, (panel, (lo, hi)) in enumerate(zip(panels, _domains(max(n, 1)), strict=False)):
        xa, ya = axes(k + 1)
        data_traces.append(
            {
                "type": "contour", "x": typed_array(panel.w), "y": typed_array(panel.b), "z": typed_array(excess_root(panel)),
                "customdata": typed_array(panel.value), "colorscale": LANDSCAPE_SCALE, "reversescale": True,
                "ncontours": 20, "showscale": False, "contours": {"coloring": "heatmap"}, "line": {"width": 0.5},
                "xaxis": xa, "yaxis": ya,
                "hovertemplate": "w %{x:.3g}, b %{y:.3g}<br>F = %{customdata:.4g}<extra>" + panel.loss + "</extra>",
            }
        )
        for key, style in PATH_STYLE.items():
            path = panel.descent.path(key)
            data_traces.append(
                {
                    "type": "scatter", "x": typed_array(path[:, 0]), "y": typed_array(path[:, 1]), "mode": "lines+markers",
                    "name": style["name"], "legendgroup": key, "showlegend": k == 0, "xaxis": xa, "yaxis": ya,
                    "line": {"color": style["color"], "dash": style["dash"], "width": 1.5},
                    "marker": {"color": style["color"], "size": 3, "symbol": style["symbol"]}, "opacity": 0.7,
                    "hovertemplate": style["name"] + ": w %{x:.4g}, b %{y:.4g}<extra></extra>",
                }
            )
        data_traces.append(
            {
                "type": "scatter", "x": [panel.start[0]], "y": [panel.start[1]], "mode": "markers", "name": "start",
                "legendgroup": "start", "showlegend": k == 0, "xaxis": xa, "yaxis": ya,
                "marker": {"symbol": "star", "size": 14, "color": "#2ca02c", "line": {"color": "white", "width": 1}},
                "hovertemplate": "start: w %{x:.3g}, b %{y:.3g}<extra></extra>",
            }
        )
        data_traces.append(
            {
                "type": "scatter", "x": [panel.minimum.w], "y": [panel.minimum.b], "mode": "markers",
                "name": "minimum", "legendgroup": "minimum", "showlegend": k == 0, "xaxis": xa, "yaxis": ya,
                "marker": {"symbol": "x", "size": 13, "color": "black", "line": {"color": "white", "width": 1}},
                "hovertemplate": (
                    f"minimum of {panel.loss}: w %{{x:.4f}}, b %{{y:.4f}}<br>F = {panel.minimum.value:.5g}<extra></extra>"
                ),
            }
        )
        diverged = [PATH_STYLE[key]["name"] for key, d in panel.descent.diverged.items() if d]
        note = f" — {' and '.join(diverged)} diverged" if diverged else ""
        annotations.append(_title_annotation(f"{panel.loss}{note}", lo))
        layout[f"xaxis{xa[1:]}"] = {
            "domain": [lo, hi], "anchor": ya, "title": {"text": "slope w"}, "range": [panel.w[0], panel.w[-1]],
            "showgrid": False, **({"matches": "x"} if k else {}),
        }
        layout[f"yaxis{ya[1:]}"] = {
            "domain": list(upper), "anchor": xa, "range": [panel.b[0], panel.b[-1]], "showgrid": False,
            **({"matches": "y", "showticklabels": False} if k else {"title": {"text": "intercept b"}}),
        }

    # the data and the lines (bottom left), the distance to the minimum (bottom right)
    fx, fy = axes(fits_col)
    ends = np.array([data.x.min(), data.x.max()])
    span_x, span_y = float(np.ptp(data.x) or 1.0), float(np.ptp(data.y) or 1.0)
    for name, mask, marker in (
        ("data", ~data.is_outlier, {"color": "#555555", "size": 7, "opacity": 0.8}),
        ("outliers", data.is_outlier, {"color": "#d62728", "size": 9, "symbol": "circle-open", "line": {"width": 2}}),
    ):
        data_traces.append({"type": "scatter", "x": typed_array(data.x[mask]), "y": typed_array(data.y[mask]), "mode": "markers",
                            "name": name, "marker": marker, "xaxis": fx, "yaxis": fy})
    data_traces.append({"type": "scatter", "x": typed_array(ends), "y": typed_array(data.w_true * ends + data.b_true), "mode": "lines",
                        "name": f"true line y = {data.w_true:g}x + {data.b_true:g}", "xaxis": fx, "yaxis": fy,
                        "line": {"color": "#999999", "dash": "dash"}})
    gx, gy = axes(gap_col)
    for panel in panels:
        m = panel.minimum
        data_traces.append({"type": "scatter", "x": typed_array(ends), "y": typed_array(m.w * ends + m.b), "mode": "lines",
                            "name": f"{panel.loss}: best line y = {m.w:.3f}x + {m.b:.3f}", "xaxis": fx, "yaxis": fy,
                            "line": {"color": colours[panel.loss], "width": 1.5, "dash": "dash"}, "opacity": 0.6})
        for key in OPTIMIZERS:
            style = PATH_STYLE[key]
            data_traces.append(
                {
                    "type": "scatter", "y": typed_array(panel.descent.gap[key]), "mode": "lines", "showlegend": False,
                    "name": f"{panel.loss} · {style['name']}", "xaxis": gx, "yaxis": gy,
                    "line": {"color": colours[panel.loss], "dash": style["dash"], "width": 2},
                    "hovertemplate": f"{panel.loss} · {style['name']}<br>step %{{x}}: F − F* = %{{y:.3g}}<extra></extra>",
                }
            )
    steps = int(len(panels[0].descent.theta["gd"]) - 1) if panels else 0
    annotations += [_title_annotation("the data and the lines at the step", 0.0, lower[1]),
                    _title_annotation("distance to the minimum, F − F*", 0.56, lower[1])]
    layout[f"xaxis{fx[1:]}"] = {"domain": [0.0, 0.44], "anchor": fy, "title": {"text": "x"},
                                "range": [float(ends[0]) - 0.05 * span_x, float(ends[1]) + 0.05 * span_x]}
    layout[f"yaxis{fy[1:]}"] = {"domain": list(lower), "anchor": fx, "title": {"text": "y"},
                                "range": [float(data.y.min()) - 0.1 * span_y, float(data.y.max()) + 0.1 * span_y]}
    layout[f"xaxis{gx[1:]}"] = {"domain": [0.56, 1.0], "anchor": gy, "title": {"text": "step"},
                                "range": [-0.02 * steps, 1.02 * steps or 1.0]}
    layout[f"yaxis{gy[1:]}"] = {"domain": list(lower), "anchor": gx, "type": "log", "exponentformat": "power",
                                "range": _log_range([g for p in panels for g in p.descent.gap.values()])}
    layout["annotations"] = annotations

    def frame(step: int) -> dict:
        shapes: list[dict] = [{"type": "line", "xref": gx, "yref": f"{gy} domain", "x0": step, "x1": step, "y0": 0,
                               "y1": 1, "line": {"color": "#7f7f7f", "width": 1.5, "dash": "dot"}}]
        for k, panel in enumerate(panels):
            xa, ya = axes(k + 1)
            colour = colours[panel.loss]
            for key in OPTIMIZERS:
                style = PATH_STYLE[key]
                w, b = (float(v) for v in panel.descent.theta[key][step])
                gap = float(panel.descent.gap[key][step])
                if not (np.isfinite(w) and np.isfinite(b)):
                    continue
                shapes.append(_mark(key, xa, ya, w, b, style["color"]))
                shapes.append({"type": "line", "xref": fx, "yref": fy, "x0": float(ends[0]), "x1": float(ends[1]),
                               "y0": w * float(ends[0]) + b, "y1": w * float(ends[1]) + b,
                               "line": {"color": colour, "width": 2.5, "dash": style["dash"]}})
                if np.isfinite(gap):
                    shapes.append(_mark(key, gx, gy, float(step), gap, colour))
        return {"data": [], "traces": [], "layout": {"shapes": shapes}}

    frames = [frame(int(t)) for t in (panels[0].descent.shown if panels else [0])]
    layout["shapes"] = frames[-1]["layout"]["shapes"]
    # On a phone the two lower panels go under each other (their titles overlapped side by side); the legend,
    # which wraps to about eight lines there, gets the room under them.
    narrow_plot = LANDSCAPE_HEIGHT + 2 * (ROW_GAP + CHART_HEIGHT)
    def panel(col: int) -> tuple[str, str]:
        return axis_key(col, "x"), axis_key(col, "y")

    narrow = stacked_panels(
        layout, [[panel(k + 1) for k in range(n)], [panel(fits_col)], [panel(gap_col)]],
        titles=[list(range(n)), [n], [n + 1]],
        height=top + narrow_plot + NARROW_LEGEND,
        gap=ROW_GAP / narrow_plot,
        weights=[LANDSCAPE_HEIGHT, CHART_HEIGHT, CHART_HEIGHT],
    )
    narrow |= {"margin.b": NARROW_LEGEND, "legend.y": -60 / narrow_plot}
    return with_narrow({"data": data_traces, "layout": layout, "frames": frames}, narrow)
