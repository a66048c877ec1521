"""Figures of the Outlier-sensitivity page: fitted lines over the data, each point's pull, SC and breakdown.

Pure builders (data → ``go.Figure``, assembled from plain dicts). Every data point carries its index
in ``customdata``, so that a click, box or lasso selection on the scatter
(``st.plotly_chart(on_select="rerun")``) names the points picked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from lossviz.figures.common import LAYOUT_DEFAULTS, f32, typed_array

CLEAN, OUTLIER, DROPPED = 0, 1, 2
"""Point status codes: a clean point, an outlier (generated or picked), a point left out of the fit."""
PULL_SCALE = [[0.0, "#fff5eb"], [0.35, "#fdae6b"], [0.7, "#e6550d"], [1.0, "#7f2704"]]
"""Light (little pull) to dark orange-red (much pull)."""
DROPPED_COLOR = "#b0b0b0"


@dataclass(frozen=True)
class FittedLine:
    """One loss's fitted line a + b·x, its colour, and whether the solver converged."""

    loss: str
    intercept: float
    slope: float
    color: str
    converged: bool = True


@dataclass(frozen=True)
class Points:
    """The data as shown: coordinates, status codes (:data:`CLEAN` …) and each point's pull share."""

    x: np.ndarray
    y: np.ndarray
    status: np.ndarray
    pull: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.x)
        if not (len(self.y) == len(self.status) == len(self.pull) == n):
            raise ValueError("x, y, status and pull must have one entry per point")


def _point_trace(points: Points, mask: np.ndarray, name: str, symbol: str, outline: str) -> dict:
    idx = np.flatnonzero(mask)
    return {
        "type": "scatter", "mode": "markers", "x": typed_array(points.x[idx]), "y": typed_array(points.y[idx]),
        "customdata": idx.astype(np.int32), "name": name, "xaxis": "x", "yaxis": "y",
        "marker": {
            # Plotly takes a colour array only as NumPy or a list, not as a typed array
            "color": f32(100 * points.pull[idx]), "coloraxis": "coloraxis", "symbol": symbol, "size": 9,
            "line": {"color": outline, "width": 1.2},
        },
        "hovertemplate": "point %{customdata}<br>(%{x:.2f}, %{y:.2f})<br>pull %{marker.color:.1f} %<extra>" + name + "</extra>",
    }


def figure_fits(
    points: Points, lines: Sequence[FittedLine], focus: str, x_range: tuple[float, float], height: int = 620
) -> go.Figure:
    """Top: the scatter (colour = share of the focus loss's total pull) with every fitted line.
    Bottom, on the same x axis: each point's share of the pull Σ|ψ(rᵢ)| of the focus loss, as bars.
    """
    clean, outlier, dropped = (points.status == s for s in (CLEAN, OUTLIER, DROPPED))
    data = [
        _point_trace(points, clean, "clean points", "circle", "#555555"),
        _point_trace(points, outlier, "outliers", "diamond", "#000000"),
    ]
    idx = np.flatnonzero(dropped)
    data.append({
        "type": "scatter", "mode": "markers", "x": typed_array(points.x[idx]), "y": typed_array(points.y[idx]),
        "customdata": idx.astype(np.int32), "name": "dropped (not fitted)", "xaxis": "x", "yaxis": "y",
        "marker": {"color": DROPPED_COLOR, "symbol": "x-thin-open", "size": 9, "line": {"width": 2, "color": DROPPED_COLOR}},
        "hovertemplate": "point %{customdata} (dropped)<br>(%{x:.2f}, %{y:.2f})<extra></extra>",
    })
    xs = np.array(x_range, dtype=float)
    for line in lines:
        label = line.loss if line.converged else f"{line.loss} (not converged)"
        data.append({
            "type": "scatter", "mode": "lines", "x": typed_array(xs),
            "y": typed_array(line.intercept + line.slope * xs),
            "name": label, "xaxis": "x", "yaxis": "y",
            "line": {"color": line.color, "width": 3 if line.loss == focus else 2, "dash": "solid" if line.converged else "dot"},
            "hovertemplate": f"{line.loss}: y = {line.intercept:.3f} + {line.slope:.3f}·x<extra></extra>",
        })
    kept = ~dropped
    bar_idx = np.flatnonzero(kept)
    data.append({
        "type": "bar", "x": typed_array(points.x[bar_idx]), "y": typed_array(100 * points.pull[bar_idx]),
        "customdata": bar_idx.astype(np.int32), "xaxis": "x2", "yaxis": "y2", "name": f"pull share ({focus})",
        "marker": {"color": np.where(outlier[bar_idx], "#d62728", "#6b6b6b").tolist()},
        "width": 0.012 * float(x_range[1] - x_range[0]), "showlegend": False,
        "hovertemplate": "point %{customdata}<br>x = %{x:.2f}<br>%{y:.1f} % of the pull<extra></extra>",
    })
    layout = {
        **LAYOUT_DEFAULTS, "height": height, "dragmode": "lasso",
        "margin": {"l": 60, "r": 20, "t": 60, "b": 45},
        "xaxis": {"domain": [0, 1], "anchor": "y", "range": list(x_range), "showticklabels": False, "matches": "x2"},
        "yaxis": {"domain": [0.36, 1.0], "title": {"text": "y"}},
        "xaxis2": {"domain": [0, 1], "anchor": "y2", "range": list(x_range), "title": {"text": "x"}},
        "yaxis2": {"domain": [0.0, 0.27], "title": {"text": f"% of pull ({focus})", "font": {"size": 12}}, "rangemode": "tozero"},
        "coloraxis": {
            "colorscale": PULL_SCALE, "cmin": 0.0, "cmax": float(max(100 * points.pull.max(initial=0.0), 1e-9)),
            "colorbar": {"title": {"text": f"% pull<br>({focus})", "side": "top"}, "len": 0.6, "y": 0.68, "thickness": 14},
        },
    }
    return go.Figure({"data": data, "layout": layout})


def figure_outlier_pull(shares: Mapping[str, float], colors: Mapping[str, str], fair: float, height: int = 300) -> go.Figure:
    """Per loss, the share of the total pull Σ|ψ| that the outliers hold; ``fair`` is their share of the points."""
    names = list(shares)
    data = [{
        "type": "bar", "orientation": "h", "y": names, "x": typed_array([100 * shares[n] for n in names]),
        "marker": {"color": [colors[n] for n in names]}, "name": "outliers' pull", "showlegend": False,
        "text": [f"{100 * shares[n]:.0f} %" for n in names], "textposition": "outside", "cliponaxis": False,
        "hovertemplate": "%{y}: the outliers hold %{x:.1f} % of the pull<extra></extra>",
    }]
    layout = {
        **LAYOUT_DEFAULTS, "height": height, "showlegend": False,
        "title": {"text": "Pull held by the outliers", "x": 0.0, "xanchor": "left", "font": {"size": 14}},
        "xaxis": {"title": {"text": "% of the total pull Σ|ψ|"}, "range": [0, 100]},
        "yaxis": {"autorange": "reversed"},
        "margin": {"l": 90, "r": 30, "t": 60, "b": 45},
        "shapes": [{"type": "line", "xref": "x", "yref": "paper", "x0": 100 * fair, "x1": 100 * fair, "y0": 0, "y1": 1,
                    "line": {"color": "#333333", "dash": "dot", "width": 1.5}}],
        "annotations": [{"x": 100 * fair, "y": 1.0, "xref": "x", "yref": "paper", "yanchor": "bottom", "xanchor": "left",
                         "text": f" their share of the points: {100 * fair:.0f} %", "showarrow": False,
                         "font": {"size": 11, "color": "#333333"}}],
    }
    return go.Figure({"data": data, "layout": layout})


def figure_sensitivity(
    offsets: np.ndarray, curves: Mapping[str, np.ndarray], colors: Mapping[str, str], what: str, marker: float | None = None,
    height: int = 380,
) -> go.Figure:
    """Tukey's sensitivity curve of the tracked estimate against the swept point's offset."""
    data = [
        {"type": "scatter", "mode": "lines+markers", "x": typed_array(offsets), "y": typed_array(curve), "name": name,
         "line": {"color": colors[name], "width": 2.2}, "marker": {"size": 4},
         "hovertemplate": f"{name}<br>offset %{{x:.1f}}<br>SC %{{y:.3g}}<extra></extra>"}
        for name, curve in curves.items()
    ]
    shapes = []
    if marker is not None:
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": marker, "x1": marker, "y0": 0, "y1": 1,
                       "line": {"color": "#888888", "dash": "dot", "width": 1}})
    yaxis: dict = {"title": {"text": f"SC of the {what}"}, "zeroline": True}
    annotations = []
    y_range = sensitivity_range(curves)
    if y_range is not None:
        yaxis["range"] = list(y_range)
        off = [name for name, c in curves.items() if np.nanmax(np.abs(c)) > y_range[1]]
        annotations.append({
            "x": 0.01, "y": 0.99, "xref": "paper", "yref": "paper", "xanchor": "left", "yanchor": "top",
            "showarrow": False, "font": {"size": 11, "color": "#444444"}, "bgcolor": "rgba(255,255,255,0.8)",
            "text": f"{', '.join(off)} run{'s' if len(off) == 1 else ''} off the chart (unbounded)",
        })
    layout = {
        **LAYOUT_DEFAULTS, "height": height, "shapes": shapes, "annotations": annotations,
        "xaxis": {"title": {"text": "offset y₀ − (a + b·x₀) of the extra point"}},
        "yaxis": yaxis,
    }
    return go.Figure({"data": data, "layout": layout})


def sensitivity_range(curves: Mapping[str, np.ndarray], ratio: float = 4.0) -> tuple[float, float] | None:
    """A y range that shows the bounded curves, or None when no curve dwarfs the others.

    When the largest |SC| is over ``ratio`` times the next curve's, that curve (least squares: a
    straight, unbounded line) would flatten every bounded one; the range then covers the others
    with room to spare and lets it run off the chart.
    """
    peaks = sorted(float(np.nanmax(np.abs(c))) for c in curves.values() if np.isfinite(c).any())
    if len(peaks) < 2 or peaks[-1] <= ratio * peaks[-2] or peaks[-2] <= 0:
        return None
    top = 2.0 * peaks[-2]
    return -top, top


def figure_breakdown(
    fractions: np.ndarray, errors: Mapping[str, np.ndarray], colors: Mapping[str, str], what: str, height: int = 380
) -> go.Figure:
    """|T(ε) − T(0)| against the contaminated fraction ε of the data (0 … 50 %)."""
    data = [
        {"type": "scatter", "mode": "lines+markers", "x": typed_array(100 * fractions), "y": typed_array(err),
         "name": name,
         "line": {"color": colors[name], "width": 2.2}, "marker": {"size": 5},
         "hovertemplate": f"{name}<br>%{{x:.1f}} % contaminated<br>error %{{y:.3g}}<extra></extra>"}
        for name, err in errors.items()
    ]
    layout = {
        **LAYOUT_DEFAULTS, "height": height,
        "xaxis": {"title": {"text": "contamination: % of points moved to the cluster"}, "range": [0, 51]},
        "yaxis": {"title": {"text": f"|{what}(ε) − {what}(0)|"}, "rangemode": "tozero"},
    }
    return go.Figure({"data": data, "layout": layout})
