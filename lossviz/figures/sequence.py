"""Figures of the Sequence & count page: the CTC example, and NLL curves with their minimiser.

Both are live figures (:func:`~lossviz.figures.live.live_figure`, plain dicts): one frame per value of the
live parameter (the boost of the CTC example, the count y of the Poisson NLL, the variance σ² of the
Gaussian NLL), which the live chart's control moves between in the browser without a Streamlit rerun (the
CTC heatmaps are redrawn at each frame: Plotly cannot animate a heatmap).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lossviz.figures.common import DIVERGING, LAYOUT_DEFAULTS, FigureSpec, typed_array
from lossviz.figures.live import live_figure, stacked_panels
from lossviz.studies.sequence import CtcSweep, NllCurve

HEATMAP_ROW = (0.40, 0.92)
LOSS_ROW = (0.0, 0.24)
NARROW_HEIGHT = 1100
"""The CTC figure's height on a phone, its three panels under each other."""
CTC_FRAME_TRACES = (0, 1, 2, 3, 7)
"""Posteriors, gradient, best path, best alignment, loss marker: what a boost frame changes."""
NLL_FRAME_TRACES = (0, 1, 2, 3, 4, 5)
"""Value, gradient, minimiser marker, minimiser line (top and bottom panel), zero-gradient marker."""
MARKER_COLOUR = "#ff7f0e"
SEQUENTIAL = [[0.0, "#f7fbff"], [0.5, "#6baed6"], [1.0, "#08306b"]]
"""White (0) to dark blue (1); Plotly's own "Blues" runs the other way."""
CORNER = 0.3
"""Offset (in cells) of the path markers from the cell centre, so they do not cover the numbers."""


# ---------------------------------------------------------------------------------------------
# CTC
# ---------------------------------------------------------------------------------------------


def _ctc_frame_data(sweep: CtcSweep, i: int) -> list[dict]:
    frames = np.arange(1, sweep.posteriors.shape[1] + 1)
    return [
        {"type": "heatmap", "z": typed_array(sweep.posteriors[i].T)},
        {"type": "heatmap", "z": typed_array(sweep.grad[i].T)},
        # a dozen numbers: shorter as JSON lists than as typed arrays
        {"type": "scatter", "x": (frames - CORNER).tolist(), "y": (sweep.best_paths[i] - CORNER).tolist()},
        {"type": "scatter", "x": (frames + CORNER).tolist(), "y": (sweep.alignments[i] + CORNER).tolist()},
        {"type": "scatter", "x": [float(sweep.boosts[i])], "y": [float(sweep.loss[i])], "text": [_loss_text(sweep, i)]},
    ]


def _loss_text(sweep: CtcSweep, i: int) -> str:
    decoded = sweep.decoded(i) or "(empty)"
    return f"loss {sweep.loss[i]:.4f} · best path → {decoded}"


def _heatmap(z: dict, axis: str, **style: object) -> dict:
    return {
        "type": "heatmap",
        "z": z,
        "x0": 1,
        "dx": 1,
        "xaxis": f"x{axis}",
        "yaxis": f"y{axis}",
        "showscale": False,
        "texttemplate": "%{z:.2f}",
        "textfont": {"size": 11},
        **style,
    }


def figure_ctc(sweep: CtcSweep, active: int) -> FigureSpec:
    """Posteriors y_t(k) (left) and ∂L/∂logits (right) over frames × classes, and the loss against the
    boost (below). Crosses mark the best path (argmax per frame), circles the most likely alignment
    of the label, a square the boosted cell; one frame per boost value, the figure drawn at ``active``."""
    names = sweep.class_names
    first = _ctc_frame_data(sweep, active)
    grad_max = float(np.abs(sweep.grad).max()) or 1.0
    boosted = {"x": [sweep.frame + 1], "y": [sweep.boosted_class]}
    data = [
        _heatmap(
            first[0]["z"], "", colorscale=SEQUENTIAL, zmin=0.0, zmax=1.0,
            hovertemplate="frame %{x}, class %{y}: y = %{z:.3f}<extra>posterior</extra>",
        ),
        _heatmap(
            first[1]["z"], "2", colorscale=DIVERGING, zmid=0.0, zmin=-grad_max, zmax=grad_max,
            hovertemplate="frame %{x}, class %{y}: ∂L/∂u = %{z:.3f}<extra>gradient</extra>",
        ),
        {
            "type": "scatter", "mode": "markers", **first[2], "name": "best path (argmax per frame)",
            "marker": {"symbol": "x-thin", "size": 10, "line": {"width": 3, "color": MARKER_COLOUR}},
            "xaxis": "x", "yaxis": "y", "hoverinfo": "skip",
        },
        {
            "type": "scatter", "mode": "markers", **first[3], "name": "most likely alignment of the label",
            "marker": {"symbol": "circle", "size": 9, "color": "#2ca02c", "line": {"width": 1, "color": "white"}},
            "xaxis": "x2", "yaxis": "y2", "hoverinfo": "skip",
        },
    ]
    for axis in ("", "2"):
        data.append(
            {
                "type": "scatter", "mode": "markers", **boosted, "name": "boosted cell",
                "marker": {"symbol": "square-open", "size": 30, "line": {"width": 3}, "color": "#9467bd"},
                "xaxis": f"x{axis}", "yaxis": f"y{axis}", "hoverinfo": "skip", "showlegend": axis == "",
            }
        )
    data.append(
        {
            "type": "scatter", "mode": "lines", "x": typed_array(sweep.boosts), "y": typed_array(sweep.loss),
            "name": "CTC loss",
            "line": {"color": "#1f77b4", "width": 2}, "xaxis": "x3", "yaxis": "y3", "showlegend": False,
            "hovertemplate": "β = %{x:+.1f}: loss %{y:.4f}<extra></extra>",
        }
    )
    data.append(
        {
            "type": "scatter", "mode": "markers+text", **first[4], "textposition": "top center",
            "marker": {"size": 12, "color": MARKER_COLOUR, "symbol": "diamond"}, "xaxis": "x3", "yaxis": "y3",
            "showlegend": False, "hoverinfo": "skip", "cliponaxis": False,
        }
    )
    layout = _ctc_layout(names, sweep)
    # On a phone the two heat maps go under each other (their titles overlapped side by side).
    narrow = stacked_panels(
        layout, [[("xaxis", "yaxis")], [("xaxis2", "yaxis2")], [("xaxis3", "yaxis3")]], titles=[[0], [1], []],
        height=NARROW_HEIGHT, top=HEATMAP_ROW[1], gap=0.1,
    )
    return live_figure(
        data, layout, [_ctc_frame_data(sweep, i) for i in range(len(sweep.boosts))], traces=CTC_FRAME_TRACES,
        narrow=narrow,
    )


def _ctc_layout(names: Sequence[str], sweep: CtcSweep) -> dict:
    steps = sweep.posteriors.shape[1]
    class_axis = {
        "tickmode": "array", "tickvals": list(range(len(names))), "ticktext": list(names), "autorange": "reversed",
        "title": {"text": "class k"}, "domain": list(HEATMAP_ROW), "showgrid": False,
    }
    frame_axis = {
        "tickmode": "linear", "tick0": 1, "dtick": 1, "title": {"text": "frame t"}, "showgrid": False,
        "range": [0.5, steps + 0.5],
    }
    layout: dict = {
        **LAYOUT_DEFAULTS,
        "height": 700,
        "margin": {"l": 60, "r": 20, "t": 90, "b": 60},
        "xaxis": {**frame_axis, "domain": [0.0, 0.47], "anchor": "y"},
        "yaxis": {**class_axis, "anchor": "x"},
        "xaxis2": {**frame_axis, "domain": [0.53, 1.0], "anchor": "y2"},
        "yaxis2": {**class_axis, "anchor": "x2", "title": {"text": ""}},
        "xaxis3": {"domain": [0.0, 1.0], "anchor": "y3", "title": {"text": "boost β (logit added to the boosted cell)"}},
        "yaxis3": {"domain": list(LOSS_ROW), "anchor": "x3", "title": {"text": "CTC loss"}},
        "annotations": [
            _title("posteriors y_t(k) = softmax of the logits", "x domain", HEATMAP_ROW[1]),
            _title("gradient ∂L/∂u_t(k) = y_t(k) − q_t(k)", "x2 domain", HEATMAP_ROW[1]),
        ],
    }
    return layout


def _title(text: str, xref: str, y: float) -> dict:
    return {
        "text": f"<b>{text}</b>", "xref": xref, "yref": "paper", "x": 0.5, "y": y, "xanchor": "center",
        "yanchor": "bottom", "showarrow": False, "font": {"size": 13},
    }


# ---------------------------------------------------------------------------------------------
# NLL curves
# ---------------------------------------------------------------------------------------------


def padded_range(arrays: Sequence[np.ndarray], pad: float = 0.05) -> tuple[float, float]:
    """The span of the finite values of ``arrays``, widened by ``pad`` of itself on each side."""
    values = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])
    values = values[np.isfinite(values)]
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    span = hi - lo or 1.0
    return lo - pad * span, hi + pad * span


def _nll_frame_data(curve: NllCurve, symbol: str) -> list[dict]:
    if curve.minimiser is None:
        marker: dict = {"x": [], "y": [], "text": []}
        vline: dict = {"x": [], "y": []}
        zero: dict = {"x": [], "y": []}
    else:
        x_star, l_star = curve.minimiser
        marker = {"x": [x_star], "y": [l_star], "text": [f"  minimum at {symbol} = {x_star:.4g}, L = {l_star:.4g}"]}
        vline = {"x": [x_star, x_star], "y": [0.0, 1.0]}
        zero = {"x": [x_star], "y": [0.0]}
    data = [{"y": typed_array(curve.value)}, {"y": typed_array(curve.grad)}, marker, vline, vline, zero]
    return [{"type": "scatter", **d} for d in data]


def figure_nll_curves(
    curves: Sequence[NllCurve],
    active: int,
    *,
    x_label: str,
    symbol: str,
    value_range: tuple[float, float] | None = None,
    grad_range: tuple[float, float] | None = None,
    colour: str = "#1f77b4",
) -> FigureSpec:
    """An NLL (top) and its gradient (bottom) against the prediction, the minimiser marked by a
    diamond and a dotted line; one frame per setting (count or variance), the figure drawn at ``active``,
    with fixed y ranges (all frames' span unless given) so the curve visibly moves."""
    curve = curves[active]
    first = _nll_frame_data(curve, symbol)
    line_style = {"type": "scatter", "mode": "lines", "x": typed_array(curve.x), "line": {"color": colour, "width": 2}}
    data = [
        {**line_style, **first[0], "name": "loss", "xaxis": "x", "yaxis": "y",
         "hovertemplate": f"{symbol} = %{{x:.3f}}: L = %{{y:.4g}}<extra></extra>"},
        {**line_style, **first[1], "name": "gradient", "xaxis": "x2", "yaxis": "y2",
         "hovertemplate": f"{symbol} = %{{x:.3f}}: ∂L/∂{symbol} = %{{y:.4g}}<extra></extra>"},
        {"type": "scatter", "mode": "markers+text", **first[2], "textposition": "bottom right", "name": "minimiser",
         "marker": {"size": 12, "color": MARKER_COLOUR, "symbol": "diamond"}, "xaxis": "x", "yaxis": "y",
         "hoverinfo": "skip", "cliponaxis": False},
        *(
            {"type": "scatter", "mode": "lines", **first[3 + k], "name": "minimiser line", "xaxis": axis,
             "yaxis": hidden, "line": {"color": MARKER_COLOUR, "dash": "dot", "width": 1.5}, "hoverinfo": "skip",
             "showlegend": False}
            for k, (axis, hidden) in enumerate((("x", "y3"), ("x2", "y4")))
        ),
        {"type": "scatter", "mode": "markers", **first[5], "name": "zero gradient", "xaxis": "x2", "yaxis": "y2",
         "marker": {"size": 10, "color": MARKER_COLOUR, "symbol": "diamond"}, "hoverinfo": "skip",
         "showlegend": False},
    ]
    value_range = value_range or padded_range([c.value for c in curves])
    grad_range = grad_range or padded_range([c.grad for c in curves])
    layout: dict = {
        **LAYOUT_DEFAULTS,
        "height": 560,
        "showlegend": False,
        "hovermode": "x unified",
        "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
        "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "matches": "x2", "showticklabels": False},
        "xaxis2": {"anchor": "y2", "domain": [0.0, 1.0], "title": {"text": x_label}},
        "yaxis": {"anchor": "x", "domain": [0.5, 1.0], "title": {"text": "loss L"}, "range": list(value_range)},
        "yaxis2": {"anchor": "x2", "domain": [0.0, 0.42], "title": {"text": f"∂L/∂{symbol}"},
                   "range": list(grad_range), "zerolinecolor": "#999999"},
        "yaxis3": {"overlaying": "y", "range": [0.0, 1.0], "visible": False, "fixedrange": True},
        "yaxis4": {"overlaying": "y2", "range": [0.0, 1.0], "visible": False, "fixedrange": True},
    }
    return live_figure(data, layout, [_nll_frame_data(c, symbol) for c in curves], traces=NLL_FRAME_TRACES)
