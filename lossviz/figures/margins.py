"""Figures of the Margins page: loss and gradient panels with a live margin, and the triplet plane.

``figure_margin_panel`` stacks a value panel over a gradient panel on one x axis. With frames
(the same panel at other margins) it is a live figure (:func:`~lossviz.figures.live.live_figure`, a
plain dict) whose live control moves the margin in the browser, with no Streamlit rerun. Dotted lines mark
where the margin sits on the x axis; they are traces on hidden y axes (range 0–1) overlaying each
panel, so that frames can move them.

``figure_triplet_plane`` shades the regions of the negative (easy / semi-hard / hard, FaceNet),
draws the loss as contour lines over the negative's position, the three points, and an arrow on
each point along −∂L/∂point: where one gradient-descent step moves it.

Builders are pure (data → figure, assembled from plain dicts). :func:`margin_frames` builds a panel's
frames apart from its figure, as plain data that a page can keep across reruns (they do not depend on
the controls).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lossviz.figures.common import LAYOUT_DEFAULTS, FigureSpec, loss_colors, typed_array
from lossviz.figures.live import live_figure
from lossviz.studies.margins import REGIONS, Panel, TripletPlane

VALUE_DOMAIN = (0.55, 1.0)
GRAD_DOMAIN = (0.0, 0.45)
LINE_COLOR = "#888888"

REGION_COLORS = {"easy": "#d9f0d3", "semi-hard": "#fee8c8", "hard": "#fbc4c4"}
"""Pale fills for the negative's regions (green: no loss; orange: loss below m; red: loss above m)."""
POINT_COLORS = {"anchor": "#222222", "positive": "#1f77b4", "negative": "#d62728"}
ARROW_SCALE = 0.8
"""Plane units per unit of gradient norm for the arrows (‖∂L/∂p‖ = ‖∂L/∂n‖ = 1 whenever L > 0)."""


# --- margin panels -------------------------------------------------------------------------------


def _margin_lines(panel: Panel) -> dict:
    """One polyline of vertical segments (0 → 1 on a hidden axis) at each of the panel's margin lines."""
    x: list[float | None] = []
    y: list[float | None] = []
    for m in panel.margin_lines:
        x += [m, m, None]
        y += [0.0, 1.0, None]
    return {"x": x, "y": y}


def _panel_traces(panel: Panel) -> list[dict]:
    colours = loss_colors(dict.fromkeys(s.loss for s in panel.series))
    traces: list[dict] = []
    for s in panel.series:
        for row, (values, axis) in enumerate(((s.value, ""), (s.grad, "2"))):
            traces.append(
                {
                    "type": "scatter",
                    "x": typed_array(s.x),
                    "y": typed_array(values),
                    "mode": "lines",
                    "name": s.label,
                    "legendgroup": s.label,
                    "showlegend": row == 0,
                    "line": {"color": colours[s.loss], "width": 2, "dash": s.dash},
                    "xaxis": f"x{axis}",
                    "yaxis": f"y{axis}",
                    "hovertemplate": f"{s.label}: %{{y:.4g}}<extra></extra>",
                }
            )
    lines = _margin_lines(panel)
    for axis in ("y3", "y4"):
        traces.append(
            {
                "type": "scatter",
                **lines,
                "mode": "lines",
                "name": "margin",
                "showlegend": False,
                "line": {"color": LINE_COLOR, "width": 1, "dash": "dot"},
                "xaxis": "x" if axis == "y3" else "x2",
                "yaxis": axis,
                "hoverinfo": "skip",
            }
        )
    return traces


def _live_traces(panel: Panel) -> list[int]:
    """The traces a frame moves: value and gradient of each live series, then the two margin lines."""
    n = 2 * len(panel.series)
    return [k for i, s in enumerate(panel.series) if s.live for k in (2 * i, 2 * i + 1)] + [n, n + 1]


def _frame(moved: Panel) -> list[dict]:
    """What one frame changes (in :func:`_live_traces` order): the live curves, and the margin lines."""
    data: list[dict] = []
    for s in moved.series:
        if s.live:
            data += [{"y": typed_array(s.value)}, {"y": typed_array(s.grad)}]
    lines = _margin_lines(moved)
    return [*data, lines, lines]


def _panel_layout(panel: Panel, height: int) -> dict:
    axis_common = {"zeroline": True, "zerolinecolor": "#bbbbbb", "zerolinewidth": 1}
    return {
        **LAYOUT_DEFAULTS,
        "height": height,
        "hovermode": "x unified",
        "title": {"text": panel.title, "x": 0.0, "xanchor": "left", "yref": "container", "y": 1.0,
                  "yanchor": "top", "pad": {"t": 8}},
        "margin": {"l": 60, "r": 20, "t": 95, "b": 40},
        "legend": {**LAYOUT_DEFAULTS["legend"], "y": 1.02},
        "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "matches": "x2", "showticklabels": False},
        "xaxis2": {"anchor": "y2", "domain": [0.0, 1.0], "title": {"text": panel.x_label}},
        "yaxis": {"anchor": "x", "domain": list(VALUE_DOMAIN), "title": {"text": "loss L"}, **axis_common},
        "yaxis2": {"anchor": "x2", "domain": list(GRAD_DOMAIN), "title": {"text": panel.grad_label}, **axis_common},
        "yaxis3": {"overlaying": "y", "range": [0.0, 1.0], "visible": False, "fixedrange": True},
        "yaxis4": {"overlaying": "y2", "range": [0.0, 1.0], "visible": False, "fixedrange": True},
    }


def margin_frames(panels: Sequence[Panel]) -> tuple[tuple[dict, ...], ...]:
    """The frames of :func:`figure_margin_panel` (``panels[i]``: the panel at the i-th margin value),
    as plain data. Encoding them costs milliseconds and they do not depend on the controls, so a page
    builds them once per panel and keeps them, read-only (figures never modify their frames)."""
    return tuple(tuple(_frame(moved)) for moved in panels)


def figure_margin_panel(panel: Panel, frames: Sequence[Sequence[dict]] = (), height: int = 460) -> FigureSpec:
    """Loss (top) and gradient (bottom) of each series of ``panel`` against its x axis, as a plain dict.

    ``frames`` (from :func:`margin_frames`) hold the panel at each value of its live margin; with them the
    figure is live (:func:`~lossviz.figures.live.live_figure`, frame ``k`` at the k-th value). Series ``i``
    owns traces ``2i`` (value) and ``2i + 1`` (gradient); the two margin-line traces come last.
    """
    data = _panel_traces(panel)
    layout = _panel_layout(panel, height)
    if not frames:
        return {"data": data, "layout": layout}
    return live_figure(data, layout, frames, traces=_live_traces(panel))


# --- the triplet plane ---------------------------------------------------------------------------


def _circle(centre: np.ndarray, radius: float, points: int = 181) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0.0, 2 * np.pi, points)
    return centre[0] + radius * np.cos(t), centre[1] + radius * np.sin(t)


def _region_traces(plane: TripletPlane) -> list[dict]:
    """The regions as one pale heatmap, and one legend entry per region."""
    colours = [REGION_COLORS[r] for r in REGIONS]
    n = len(REGIONS)
    scale = [[v, colours[i]] for i in range(n) for v in (i / n, (i + 1) / n)]
    traces: list[dict] = [
        {
            "type": "heatmap",
            "x": typed_array(plane.x),
            "y": typed_array(plane.y),
            "z": typed_array(plane.region),
            "zmin": -0.5,
            "zmax": n - 0.5,
            "colorscale": scale,
            "showscale": False,
            "hoverinfo": "skip",
            "name": "regions",
        }
    ]
    traces += [
        {
            "type": "scatter",
            "x": [None],
            "y": [None],
            "mode": "markers",
            "marker": {"symbol": "square", "size": 14, "color": colours[i], "line": {"color": "#999999", "width": 1}},
            "name": f"{region} negatives",
        }
        for i, region in enumerate(REGIONS)
    ]
    return traces


def _loss_contours(plane: TripletPlane) -> dict:
    top = float(plane.loss.max())
    step = max(plane.margin / 2, top / 12) if top > 0 else 1.0
    return {
        "type": "contour",
        "x": typed_array(plane.x),
        "y": typed_array(plane.y),
        "z": typed_array(plane.loss),
        "contours": {"coloring": "lines", "showlabels": True, "start": step, "end": max(top, step), "size": step,
                     "labelfont": {"size": 10, "color": "#555555"}},
        "colorscale": [[0.0, "#777777"], [1.0, "#777777"]],
        "line": {"width": 1},
        "showscale": False,
        "name": "loss L",
        "hovertemplate": "negative at (%{x:.2f}, %{y:.2f})<br>L = %{z:.3f}<extra></extra>",
    }


def _boundary_traces(plane: TripletPlane) -> list[dict]:
    anchor = plane.points[0]
    traces = []
    for radius, label, dash in (
        (plane.d_ap, "d(a,n) = d(a,p): hard | semi-hard", "solid"),
        (plane.d_ap + plane.margin, "d(a,n) = d(a,p) + m: semi-hard | easy", "dash"),
    ):
        x, y = _circle(anchor, radius)
        traces.append(
            {
                "type": "scatter",
                "x": typed_array(x),
                "y": typed_array(y),
                "mode": "lines",
                "line": {"color": "#555555", "width": 1.5, "dash": dash},
                "name": label,
                "hoverinfo": "skip",
            }
        )
    return traces


def _point_traces(plane: TripletPlane) -> list[dict]:
    return [
        {
            "type": "scatter",
            "x": [float(plane.points[k, 0])],
            "y": [float(plane.points[k, 1])],
            "mode": "markers+text",
            "marker": {"size": 13, "color": POINT_COLORS[name], "line": {"color": "white", "width": 1.5}},
            "text": [name],
            "textposition": "top center",
            "textfont": {"color": POINT_COLORS[name], "size": 13},
            "name": name,
            "showlegend": False,
            "hovertemplate": (
                f"{name} (%{{x:.2f}}, %{{y:.2f}})<br>∂L/∂{name} = ({plane.grad[k, 0]:.3f}, {plane.grad[k, 1]:.3f})"
                "<extra></extra>"
            ),
        }
        for k, name in enumerate(("anchor", "positive", "negative"))
    ]


def _arrows(plane: TripletPlane) -> list[dict]:
    """An arrow from each point along −∂L/∂point (scaled by :data:`ARROW_SCALE`); none where it is 0."""
    arrows = []
    for k, name in enumerate(("anchor", "positive", "negative")):
        step = -ARROW_SCALE * plane.grad[k]
        if np.hypot(*step) < 1e-9:
            continue
        tail = plane.points[k]
        arrows.append(
            {
                "x": float(tail[0] + step[0]),
                "y": float(tail[1] + step[1]),
                "ax": float(tail[0]),
                "ay": float(tail[1]),
                "xref": "x",
                "yref": "y",
                "axref": "x",
                "ayref": "y",
                "showarrow": True,
                "arrowhead": 3,
                "arrowsize": 1.2,
                "arrowwidth": 2.5,
                "arrowcolor": POINT_COLORS[name],
                "text": "",
            }
        )
    return arrows


def figure_triplet_plane(plane: TripletPlane, height: int = 600) -> go.Figure:
    """The plane of the negative's positions: regions shaded, loss contours, points and −gradient arrows.

    Traces: region heatmap, three legend swatches, loss contours, the two region boundaries
    (circles about the anchor of radius d(a,p) and d(a,p) + m), then anchor, positive, negative.
    """
    half = float(plane.x[-1])
    data = [*_region_traces(plane), _loss_contours(plane), *_boundary_traces(plane), *_point_traces(plane)]
    layout = {
        **LAYOUT_DEFAULTS,
        "height": height,
        "margin": {"l": 50, "r": 20, "t": 90, "b": 50},
        "legend": {**LAYOUT_DEFAULTS["legend"], "y": 1.01},
        "xaxis": {"range": [-half, half], "title": {"text": "embedding dimension 1"}, "constrain": "domain",
                  "showgrid": False, "zeroline": False},
        "yaxis": {"range": [-half, half], "title": {"text": "embedding dimension 2"}, "scaleanchor": "x",
                  "scaleratio": 1, "constrain": "domain", "showgrid": False, "zeroline": False},
        "annotations": _arrows(plane),
        "hovermode": "closest",
    }
    return go.Figure({"data": data, "layout": layout})
