"""The curves figure: value, gradient and curvature of several losses in three aligned panels.

``figure_loss_curves`` stacks the panels on one shared x axis, so that a kink (a dotted vertical
line through all panels, and a marker on the value curve) lines up with the jump it causes in the
gradient (order 1) or the curvature (order 2). With :class:`LiveCurves`, the figure carries one frame
per value of a live parameter (or per point of a two-parameter grid), which
:func:`lossviz.ui.live_chart.live_chart` (or ``live_pad``) shows while its control is dragged, without a
Streamlit rerun (:func:`~lossviz.figures.live.live_figure`).

The figure is a plain dict (:data:`~lossviz.figures.common.FigureSpec`) with arrays already in
Plotly's base64 typed-array form (:func:`~lossviz.figures.live.typed_array`): ``st.plotly_chart``
validates it once; the unit tests validate it too. Kink lines are traces on hidden y axes (range 0–1)
overlaying each panel, so that frames can move them and they never stretch a panel's autorange.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lossviz.figures.common import LAYOUT_DEFAULTS, FigureSpec, apply_layout, line_dashes, loss_colors, typed_array
from lossviz.figures.live import live_figure
from lossviz.studies.curves import Curve, PairLossSummary

ROWS = ("value", "gradient", "curvature")
DOMAINS = ((0.69, 1.0), (0.355, 0.645), (0.0, 0.31))
"""Vertical extent of the three panels (top to bottom)."""
TRACES_PER_CURVE = 7
"""value, gradient, curvature, kink markers, and kink lines in each of the three panels."""
KINK_SYMBOL = {1: "x", 2: "diamond-open"}
KINK_TEXT = {1: "kink: the gradient jumps", 2: "the curvature jumps"}
HEIGHT = 720
LINE_AXES = ("y4", "y5", "y6")
"""Hidden y axes (0 to 1) overlaying the three panels, carrying the kink lines."""


@dataclass(frozen=True)
class LiveCurves:
    """The curves of one loss at each frame of a live control, in frame order (a pad's frame ``i * ny + j``
    at its ``(x_i, y_j)``), all on the x grid of that loss's drawn curve."""

    loss: str
    curves: Sequence[Curve]


def _axis(i: int) -> str:
    return "" if i == 0 else str(i + 1)


def _panel_y(curve: Curve, row: str, abs_grad: bool) -> np.ndarray:
    if row == "value":
        return curve.value
    if row == "gradient":
        return np.abs(curve.grad) if abs_grad else curve.grad
    return curve.curvature


def _kink_markers(curve: Curve) -> dict:
    """Markers on the value curve at each kink."""
    return {
        "x": [k for k, _ in curve.kinks],
        "y": [float(v) if np.isfinite(v) else None for v in curve.kink_values],
        "text": [KINK_TEXT.get(o, "kink") for _, o in curve.kinks],
        "marker.symbol": [KINK_SYMBOL.get(o, "x") for _, o in curve.kinks],
    }


def _kink_lines(curve: Curve) -> dict:
    """One polyline of vertical segments (0 → 1 on the hidden axis) through every kink."""
    x: list[float | None] = []
    y: list[float | None] = []
    for k, _ in curve.kinks:
        x += [k, k, None]
        y += [0.0, 1.0, None]
    return {"x": x, "y": y}


def _curve_traces(curve: Curve, colour: str, abs_grad: bool, dash: str) -> list[dict]:
    traces: list[dict] = [
        {
            "type": "scatter",
            "x": typed_array(curve.x),
            "y": typed_array(_panel_y(curve, row, abs_grad)),
            "mode": "lines",
            "name": curve.name,
            "legendgroup": curve.name,
            "showlegend": row == "value",
            "line": {"color": colour, "width": 2, "dash": dash},
            "xaxis": f"x{_axis(i)}",
            "yaxis": f"y{_axis(i)}",
            "connectgaps": False,
            "hovertemplate": f"{curve.name}: %{{y:.4g}}<extra></extra>",
        }
        for i, row in enumerate(ROWS)
    ]
    markers = _kink_markers(curve)
    traces.append(
        {
            "type": "scatter",
            "x": markers["x"],
            "y": markers["y"],
            "text": markers["text"],
            "mode": "markers",
            "name": f"{curve.name} kinks",
            "legendgroup": curve.name,
            "showlegend": False,
            "marker": {"color": colour, "size": 11, "symbol": markers["marker.symbol"], "line": {"width": 2}},
            "hovertemplate": f"{curve.name} at %{{x:.4g}}: %{{text}}<extra></extra>",
        }
    )
    lines = _kink_lines(curve)
    traces.extend(
        {
            "type": "scatter",
            **lines,
            "mode": "lines",
            "name": f"{curve.name} kink lines",
            "legendgroup": curve.name,
            "showlegend": False,
            "line": {"color": colour, "width": 1, "dash": "dot"},
            "opacity": 0.7,
            "xaxis": f"x{_axis(i)}",
            "yaxis": axis,
            "hoverinfo": "skip",
        }
        for i, axis in enumerate(LINE_AXES)
    )
    return traces


def _frame(moved: Curve, abs_grad: bool) -> list[dict]:
    """What one frame changes in the live loss's ``TRACES_PER_CURVE`` traces: the panels' y, the kinks."""
    data: list[dict] = [{"y": typed_array(_panel_y(moved, row, abs_grad))} for row in ROWS]
    markers = _kink_markers(moved)
    data.append({"x": markers["x"], "y": markers["y"], "text": markers["text"]})
    data.extend([_kink_lines(moved)] * len(LINE_AXES))
    return data


def _layout(x_label: str, symbol: str, log_y: bool, abs_grad: bool, title: str | None) -> dict:
    grad_title = f"|∂L/∂{symbol}|" if abs_grad else f"∂L/∂{symbol}"
    titles = ("loss L", f"gradient {grad_title}", f"curvature ∂²L/∂{symbol}²")
    y_titles = ("L", grad_title, f"∂²L/∂{symbol}²")
    types = ("log" if log_y else "linear", "log" if log_y and abs_grad else "linear", "linear")
    layout: dict = {**LAYOUT_DEFAULTS, "height": HEIGHT, "hovermode": "x unified", "margin": {"t": 70, "b": 40}}
    for i, (lo, hi) in enumerate(DOMAINS):
        a = _axis(i)
        layout[f"xaxis{a}"] = {
            "anchor": f"y{a}",
            "domain": [0.0, 1.0],
            "showticklabels": i == 2,
            "showspikes": True,
            "spikemode": "across",
            "spikethickness": 1,
            "spikedash": "dot",
            **({"matches": "x3"} if i < 2 else {"title": {"text": x_label}}),
        }
        layout[f"yaxis{a}"] = {
            "anchor": f"x{a}",
            "domain": [lo, hi],
            "type": types[i],
            "title": {"text": y_titles[i]},
            "zeroline": True,
            "zerolinecolor": "#bbbbbb",
            "zerolinewidth": 1,
        }
    for i, axis in enumerate(LINE_AXES):
        layout[axis.replace("y", "yaxis")] = {
            "overlaying": f"y{_axis(i)}",
            "range": [0.0, 1.0],
            "visible": False,
            "fixedrange": True,
        }
    layout["annotations"] = [
        {
            "text": f"<b>{t}</b>",
            "xref": "paper",
            "yref": "paper",
            "x": 0.0,
            "y": hi,
            "xanchor": "left",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"size": 13},
        }
        for t, (_, hi) in zip(titles, DOMAINS, strict=True)
    ]
    if title is not None:
        layout["title"] = {"text": title, "x": 0.0, "xanchor": "left"}
        layout["margin"] = {"t": 100, "b": 40}
    return layout


def figure_loss_curves(
    curves: Sequence[Curve],
    *,
    x_label: str,
    symbol: str = "p",
    log_y: bool = False,
    abs_grad: bool = False,
    live: LiveCurves | None = None,
    dashed: Collection[str] = (),
    title: str | None = None,
) -> FigureSpec:
    """Value, gradient and curvature of each curve against ``x``, with kinks marked, as a plain dict.

    ``symbol`` names the x variable in the panel titles (∂L/∂r on a residual axis); ``log_y``
    puts the value panel (and the |gradient| panel) on a log scale; ``live`` gives the figure a frame per
    curve of ``live.curves`` moving that loss's traces (the live form of
    :func:`~lossviz.figures.live.live_figure`; ignored when that loss is not drawn); the curves named in
    ``dashed`` are drawn dashed (a reference under another curve stays visible). Each curve owns
    ``TRACES_PER_CURVE`` consecutive traces: value, gradient, curvature, kink markers, kink lines in
    each panel.
    """
    colours = loss_colors(c.name for c in curves)
    dashes = {**line_dashes(c.name for c in curves), **dict.fromkeys(dashed, "dash")}
    data = [t for c in curves for t in _curve_traces(c, colours[c.name], abs_grad, dashes[c.name])]
    layout = _layout(x_label, symbol, log_y, abs_grad, title)
    names = [c.name for c in curves]
    if live is None or live.loss not in names:
        return {"data": data, "layout": layout}
    first = TRACES_PER_CURVE * names.index(live.loss)
    drawn = curves[names.index(live.loss)].x
    if any(not np.array_equal(moved.x, drawn) for moved in live.curves):
        raise ValueError(f"the live curves of {live.loss} must share the x grid of its drawn curve")
    return live_figure(
        data,
        layout,
        [_frame(moved, abs_grad) for moved in live.curves],
        traces=range(first, first + TRACES_PER_CURVE),
    )


# --- losses over uploaded pairs ----------------------------------------------------------------------
# Figures of losses over uploaded (prediction, target) pairs: distributions and tail shares.

HISTOGRAM_BINS = 60


def _histogram(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(0), np.zeros(0)
    counts, edges = np.histogram(finite, bins=bins)
    return 0.5 * (edges[:-1] + edges[1:]), counts / finite.size


def figure_pair_distributions(summaries: Sequence[PairLossSummary], bins: int = HISTOGRAM_BINS) -> go.Figure:
    """Histograms (as share of pairs) of each loss's value and |gradient| over the pairs.

    Binned here, so the figure carries ``bins`` numbers per loss whatever the number of pairs.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss value per pair", "|gradient| per pair"))
    colors = loss_colors(s.name for s in summaries)
    for s in summaries:
        for col, data in ((1, s.value), (2, np.abs(s.grad))):
            centers, share = _histogram(np.asarray(data, dtype=np.float64), bins)
            fig.add_trace(
                go.Scatter(
                    x=typed_array(centers),
                    y=typed_array(share),
                    mode="lines",
                    line={"shape": "hvh", "color": colors[s.name]},
                    name=s.name,
                    legendgroup=s.name,
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(title_text="share of pairs", type="log", row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    return apply_layout(fig, height=360)


def figure_tail_shares(summaries: Sequence[PairLossSummary]) -> go.Figure:
    """Bars: the share of the total loss and of the total |gradient| from the worst 1 % and 10 % of pairs."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("share of total loss", "share of total |gradient|"))
    names = [s.name for s in summaries]
    for fraction, opacity in ((0.01, 1.0), (0.10, 0.55)):
        label = f"worst {fraction:.0%}"
        for col, attr in ((1, "value_tail_share"), (2, "grad_tail_share")):
            fig.add_trace(
                go.Bar(
                    x=names,
                    y=typed_array([getattr(s, attr)[fraction] for s in summaries]),
                    name=label,
                    marker={"color": "#d62728", "opacity": opacity},
                    legendgroup=label,
                    showlegend=col == 1,
                    text=[f"{getattr(s, attr)[fraction]:.0%}" for s in summaries],
                    textposition="outside",
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(range=[0, 1.1], tickformat=".0%")
    fig.update_layout(barmode="group")
    return apply_layout(fig, height=340)
