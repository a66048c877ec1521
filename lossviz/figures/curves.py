"""The curves figure: value, gradient and curvature of several losses in three aligned panels.

``figure_loss_curves`` stacks the panels on one shared x axis, so that a kink (a dotted vertical
line through all panels, and a marker on the value curve) lines up with the jump it causes in the
gradient (order 1) or the curvature (order 2). With :class:`LiveCurves`, the figure carries one frame
per value of a live parameter (or per point of a two-parameter grid), which
:func:`lossviz.ui.live_chart.live_chart` (or ``live_pad``) shows while its control is dragged, without a
Streamlit rerun (:func:`~lossviz.figures.live.live_figure`).

The figure is a plain dict (:data:`~lossviz.figures.common.FigureSpec`) with arrays already in
Plotly's base64 typed-array form (:func:`~lossviz.figures.live.typed_array`): ``st.plotly_chart``
validates it once; the unit tests validate it too. A loss's kink lines are one trace on a hidden y axis over the
whole plot height (range 0–1), a segment per panel, so that frames can move them and they never stretch a
panel's autorange.
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
TRACES_PER_CURVE = 5
"""value, gradient, curvature, kink markers, and the kink lines through all three panels."""
KINK_SYMBOL = {1: "x", 2: "diamond-open"}
KINK_TEXT = {1: "kink: the gradient jumps", 2: "the curvature jumps"}
HEIGHT = 720
PANEL_AXES = (("x2", "y2"), ("x3", "y3"), ("x4", "y4"))
"""The panels' axes, top to bottom; the bottom x axis carries the title and the others match it."""
LINE_AXES = ("x", "y")
"""Hidden axes over the whole plot (y: 0 to 1, the panels' domains), carrying the kink lines: one trace per loss
for all three panels, since a live frame's cost in plotly.js grows with the figure's trace count (two traces fewer
per loss took about a quarter off a Curves drag frame, docs/benchmarks.md). They are the first axes so that their
subplot lies under the panels', which take the pointer: hover and zoom work in each panel as before."""


@dataclass(frozen=True)
class LiveCurves:
    """The curves of one loss at each frame of a live control, in frame order (a pad's frame ``i * ny + j``
    at its ``(x_i, y_j)``), all on the x grid of that loss's drawn curve."""

    loss: str
    curves: Sequence[Curve]


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
    """One polyline of vertical segments through every kink, one segment per panel (on the hidden axis, whose
    0 to 1 is the plot's height, a panel spans its domain)."""
    x: list[float | None] = []
    y: list[float | None] = []
    for k, _ in curve.kinks:
        for lo, hi in DOMAINS:
            x += [k, k, None]
            y += [lo, hi, None]
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
            "xaxis": PANEL_AXES[i][0],
            "yaxis": PANEL_AXES[i][1],
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
            "xaxis": PANEL_AXES[0][0],
            "yaxis": PANEL_AXES[0][1],
        }
    )
    traces.append(
        {
            "type": "scatter",
            **_kink_lines(curve),
            "mode": "lines",
            "name": f"{curve.name} kink lines",
            "legendgroup": curve.name,
            "showlegend": False,
            "line": {"color": colour, "width": 1, "dash": "dot"},
            "opacity": 0.7,
            "xaxis": LINE_AXES[0],
            "yaxis": LINE_AXES[1],
            "hoverinfo": "skip",
        }
    )
    return traces


def _frame(moved: Curve, abs_grad: bool) -> list[dict]:
    """What one frame changes in the live loss's ``TRACES_PER_CURVE`` traces: the panels' y, the kinks."""
    data: list[dict] = [{"y": typed_array(_panel_y(moved, row, abs_grad))} for row in ROWS]
    markers = _kink_markers(moved)
    data.append({"x": markers["x"], "y": markers["y"], "text": markers["text"]})
    data.append(_kink_lines(moved))
    return data


def _layout(x_label: str, symbol: str, log_y: bool, abs_grad: bool, title: str | None) -> dict:
    grad_title = f"|∂L/∂{symbol}|" if abs_grad else f"∂L/∂{symbol}"
    titles = ("loss L", f"gradient {grad_title}", f"curvature ∂²L/∂{symbol}²")
    y_titles = ("L", grad_title, f"∂²L/∂{symbol}²")
    types = ("log" if log_y else "linear", "log" if log_y and abs_grad else "linear", "linear")
    # Transparent plot areas: the kink lines' subplot spans all three panels, and an opaque background of its own
    # would hide theirs.
    layout: dict = {**LAYOUT_DEFAULTS, "height": HEIGHT, "hovermode": "x unified", "margin": {"t": 70, "b": 40},
                    "plot_bgcolor": "rgba(0,0,0,0)"}
    bottom = PANEL_AXES[-1][0]
    for i, ((lo, hi), (x, y)) in enumerate(zip(DOMAINS, PANEL_AXES, strict=True)):
        layout[x.replace("x", "xaxis")] = {
            "anchor": y,
            "domain": [0.0, 1.0],
            "showticklabels": i == 2,
            "showspikes": True,
            "spikemode": "across",
            "spikethickness": 1,
            "spikedash": "dot",
            "showgrid": False,
            "zeroline": False,
            **({"matches": bottom} if i < 2 else {"title": {"text": x_label}}),
        }
        layout[y.replace("y", "yaxis")] = {
            "anchor": x,
            "domain": [lo, hi],
            "type": types[i],
            "title": {"text": y_titles[i]},
            "zeroline": True,
            "zerolinecolor": "#bbbbbb",
            "zerolinewidth": 1,
        }
    # The vertical grid and zero line are the kink axes' (under the kink lines, through all panels): a panel's own
    # would be drawn over the kink lines (its subplot lies above theirs) and hide a kink on a grid line (MAE's at 0).
    layout["xaxis"] = {
        "anchor": "y", "domain": [0.0, 1.0], "matches": bottom, "showline": False, "showticklabels": False,
        "ticks": "", "zeroline": True, "zerolinelayer": "below traces",
    }
    layout["yaxis"] = {"anchor": "x", "domain": [0.0, 1.0], "range": [0.0, 1.0], "visible": False, "fixedrange": True}
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
    ``TRACES_PER_CURVE`` consecutive traces: value, gradient, curvature, kink markers, kink lines (through
    all three panels).
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
