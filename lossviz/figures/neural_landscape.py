"""Figures of network loss landscapes (Li et al. 2018) and of the two-parameter views.

Pure builders: the arrays come from :mod:`lossviz.neural_landscape` and
:mod:`lossviz.regularization_view`. The regularisation and multi-task figures carry Plotly
``frames`` over λ or ω, so that their sliders move the picture in the browser without a rerun;
a frame holds only the arrays that change (Plotly merges them into the traces it names), and
every figure is assembled as one dict (see :mod:`lossviz.figures.training`), which keeps the
build fast enough to redraw on each control change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from lossviz.figures.common import apply_layout, f32
from lossviz.figures.training import (
    TOP_MARGIN_WITH_TITLES,
    Trace,
    axis_key,
    axis_refs,
    columns_layout,
)
from lossviz.regularization_view import MultiTask, RegularizationPath, diamond, disc

SURFACE_SCALE = "Viridis"


def display_values(z: np.ndarray, log: bool) -> tuple[np.ndarray, str]:
    """The values to colour and their label: log₁₀(loss) when asked and every value is positive."""
    finite = z[np.isfinite(z)]
    if log and finite.size and (finite > 0).all():
        return np.log10(z), "log₁₀ loss"
    return z, "loss"


def plain(values: np.ndarray, decimals: int = 5) -> list[float | None]:
    """A short array as a plain list (NaN → None, a gap): Plotly turns every NumPy array into a base64
    typed array at a fixed cost of about 0.7 ms, which dominates for the hundreds of tiny arrays of
    animation frames; a list of a hundred rounded numbers costs almost nothing."""
    return [None if not np.isfinite(v) else v for v in np.round(np.asarray(values, dtype=np.float64), decimals).tolist()]


def _figure(traces: list[Trace], layout: dict[str, Any], frames: list[dict[str, Any]] | None = None) -> go.Figure:
    spec: dict[str, Any] = {"data": traces, "layout": layout}
    if frames:
        spec["frames"] = frames
    return go.Figure(spec)


def figure_interpolation(
    alphas: np.ndarray,
    train_loss: np.ndarray,
    val_loss: np.ndarray,
    train_metric: np.ndarray,
    val_metric: np.ndarray,
    metric: str,
    *,
    log: bool = False,
    height: int = 380,
) -> go.Figure:
    """Loss (left axis) and metric (right axis) along θ(α) = (1 − α)θ₀ + αθ₁, as Li et al.'s Fig. 2."""
    x = f32(alphas)
    traces: list[Trace] = [
        {"type": "scatter", "x": x, "y": f32(y), "name": name, "mode": "lines", "line": {"color": "#1f77b4", "dash": dash}}
        for name, y, dash in (("train loss", train_loss, "solid"), ("validation loss", val_loss, "dash"))
    ]
    traces += [
        {"type": "scatter", "x": x, "y": f32(y), "name": name, "mode": "lines", "yaxis": "y2",
         "line": {"color": "#d62728", "dash": dash}}
        for name, y, dash in ((f"train {metric}", train_metric, "solid"), (f"validation {metric}", val_metric, "dash"))
    ]
    positive = bool((train_loss > 0).all() and (val_loss > 0).all())
    layout = {
        "xaxis": {"title": {"text": "α  (θ = (1 − α)·θ₀ + α·θ₁)"}},
        "yaxis": {"title": {"text": "loss"}, "type": "log" if log and positive else "linear"},
        "yaxis2": {"title": {"text": metric}, "overlaying": "y", "side": "right", "showgrid": False},
        "shapes": [
            {"type": "line", "x0": a, "x1": a, "y0": 0, "y1": 1, "yref": "paper", "line": {"color": "#7f7f7f", "dash": "dot"}}
            for a in (0.0, 1.0)
        ],
        "annotations": [
            {"x": a, "y": 0.98, "yref": "paper", "text": text, "showarrow": False, "yanchor": "top", "xanchor": "left",
             "xshift": 4, "font": {"color": "#7f7f7f"}}
            for a, text in ((0.0, "initial θ₀"), (1.0, "trained θ₁"))
        ],
    }
    return apply_layout(_figure(traces, layout), height=height, margin={"l": 60, "r": 60, "t": 70, "b": 50})


def _contour(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, log: bool, col: int = 1, colorbar_x: float | None = None) -> Trace:
    shown, label = display_values(z, log)
    colorbar: dict[str, object] = {"title": {"text": label}, "len": 0.85}
    if colorbar_x is not None:
        colorbar["x"] = colorbar_x
    return {
        "type": "contour", "x": f32(xs), "y": f32(ys), "z": f32(shown), "colorscale": SURFACE_SCALE, "ncontours": 25,
        "colorbar": colorbar, "contours": {"showlines": True}, "line": {"width": 0.5},
        "hovertemplate": "a=%{x:.3f}<br>b=%{y:.3f}<br>" + label + "=%{z:.4g}<extra></extra>", **axis_refs(col),
    }


def _centre_marker(name: str, col: int = 1, legend: bool = True) -> Trace:
    return {
        "type": "scatter", "x": [0.0], "y": [0.0], "mode": "markers", "name": name, "showlegend": legend,
        "marker": {"symbol": "star", "size": 14, "color": "white", "line": {"color": "black", "width": 1.5}},
        **axis_refs(col),
    }


def figure_plane_contour(
    xs: np.ndarray, ys: np.ndarray, z: np.ndarray, *, log: bool = True, title: str | None = None,
    x_title: str = "a (direction δ)", y_title: str = "b (direction η)", height: int = 460,
) -> go.Figure:
    """Contours of the loss on a plane θ* + a·δ + b·η, the trained weights θ* starred at the origin."""
    layout = {"xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": y_title}, "scaleanchor": "x"}}
    return apply_layout(_figure([_contour(xs, ys, z, log), _centre_marker("trained weights θ*")], layout),
                        height=height, title=title)


def figure_plane_surface(
    xs: np.ndarray, ys: np.ndarray, z: np.ndarray, *, log: bool = True, title: str | None = None, height: int = 460
) -> go.Figure:
    """The same slice as a 3-D surface (Li et al.'s Fig. 1 style)."""
    shown, label = display_values(z, log)
    trace = {
        "type": "surface", "x": f32(xs), "y": f32(ys), "z": f32(shown), "colorscale": SURFACE_SCALE,
        "colorbar": {"title": {"text": label}}, "contours": {"z": {"show": True, "usecolormap": True, "project": {"z": True}}},
    }
    layout = {"scene": {"xaxis": {"title": {"text": "a"}}, "yaxis": {"title": {"text": "b"}}, "zaxis": {"title": {"text": label}},
                        "camera": {"eye": {"x": 1.4, "y": 1.4, "z": 0.9}}}}
    return apply_layout(_figure([trace], layout), height=height, title=title, margin={"l": 0, "r": 0, "t": 50, "b": 0})


def figure_pca_trajectory(
    xs: np.ndarray, ys: np.ndarray, z: np.ndarray, path: np.ndarray, explained: tuple[float, float],
    *, log: bool = True, epochs: np.ndarray | None = None, height: int = 480,
) -> go.Figure:
    """The optimiser's path on the top-2 PCA directions over the loss contours (Li et al. §7, Fig. 9)."""
    epochs = np.arange(len(path)) if epochs is None else epochs
    traces = [
        _contour(xs, ys, z, log),
        {
            "type": "scatter", "x": f32(path[:, 0]), "y": f32(path[:, 1]), "mode": "lines+markers",
            "name": "trajectory (one dot per epoch)", "line": {"color": "#d62728", "width": 2},
            "marker": {"size": 5, "color": "#d62728"}, "customdata": f32(epochs),
            "hovertemplate": "epoch %{customdata:.0f}<br>(%{x:.3f}, %{y:.3f})<extra></extra>",
        },
        {
            "type": "scatter", "x": f32(path[:1, 0]), "y": f32(path[:1, 1]), "mode": "markers", "name": "initial weights",
            "marker": {"symbol": "circle-open", "size": 12, "color": "#d62728", "line": {"width": 2}},
        },
        _centre_marker("final weights"),
    ]
    layout = {
        "xaxis": {"title": {"text": f"1st PCA component: {explained[0]:.1%} of the variance"}},
        "yaxis": {"title": {"text": f"2nd PCA component: {explained[1]:.1%}"}},
    }
    return apply_layout(_figure(traces, layout), height=height)


def figure_two_losses(
    xs: np.ndarray, ys: np.ndarray, slices: Sequence[tuple[str, np.ndarray]], *, log: bool = True, height: int = 440
) -> go.Figure:
    """The same random-direction slice scored by two losses, side by side, each with its own colour bar."""
    n = len(slices)
    layout = columns_layout(n, [name for name, _z in slices], spacing=0.14)
    traces: list[Trace] = []
    for col, (_name, z) in enumerate(slices, start=1):
        colorbar_x = 0.43 if col == 1 and n > 1 else 1.0
        traces.append(_contour(xs, ys, z, log, col=col, colorbar_x=colorbar_x))
        traces.append(_centre_marker("trained weights θ*", col=col, legend=col == 1))
        layout[axis_key(col, "x")]["title"] = {"text": "a"}
        layout[axis_key(col, "y")]["title"] = {"text": "b" if col == 1 else ""}
    layout["showlegend"] = False  # the star (trained weights) is explained in the page's caption
    return apply_layout(_figure(traces, layout), height=height,
                        margin={"l": 60, "r": 20, "t": TOP_MARGIN_WITH_TITLES, "b": 50})


# --- regularisation -------------------------------------------------------------------------------

_L1_COLOR, _L2_COLOR = "#d62728", "#1f77b4"


def _slider(values: np.ndarray, active: int, prefix: str) -> dict[str, object]:
    return {
        "active": int(active),
        "currentvalue": {"prefix": prefix, "font": {"size": 14}},
        "pad": {"t": 40},
        "steps": [
            {
                "label": f"{v:.3g}",
                "method": "animate",
                "args": [[f"{v:.4g}"], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                        "transition": {"duration": 0}}],
            }
            for v in values
        ],
    }


def figure_regularization(path: RegularizationPath, active: int, *, height: int = 520) -> go.Figure:
    """L1 (left) and L2 (right) on the MSE contours of a 2-parameter linear model, with a λ slider.

    Each panel: the data-loss contours, the least-squares fit, the path of the regularised optimum
    over λ, and for the current λ the constraint region that optimum sits on (diamond ‖w‖₁ ≤ t,
    disc ‖w‖₂ ≤ r), the loss contour through it (``path.*_levels[k]``, tangent to the region) and the
    optimum itself. Frames hold every λ of ``path.lams``; ``active`` is the one shown first.
    """
    layout = columns_layout(2, ("L1 penalty (lasso): ‖w‖₁ ≤ t", "L2 penalty (ridge): ‖w‖₂ ≤ r"), spacing=0.08)
    shown, _label = display_values(path.loss, log=True)
    traces: list[Trace] = []
    for col, (name, solutions, color) in enumerate(
        (("lasso", path.lasso, _L1_COLOR), ("ridge", path.ridge, _L2_COLOR)), start=1
    ):
        refs = axis_refs(col)
        traces += [
            {"type": "contour", "x": f32(path.w1), "y": f32(path.w2), "z": f32(shown), "colorscale": "Greys",
             "reversescale": True, "opacity": 0.9, "showscale": False, "ncontours": 24,
             "contours": {"coloring": "lines"}, "hoverinfo": "skip", "name": "MSE", **refs},
            {"type": "scatter", "x": f32(solutions[:, 0]), "y": f32(solutions[:, 1]), "mode": "lines",
             "name": f"{name} path over λ", "line": {"color": color, "width": 2, "dash": "dot"}, **refs},
            {"type": "scatter", "x": [float(path.least_squares[0])], "y": [float(path.least_squares[1])],
             "mode": "markers", "name": "least squares", "showlegend": col == 1,
             "marker": {"symbol": "x", "size": 11, "color": "black"}, **refs},
        ]
    first_dynamic = len(traces)
    for col, (name, color) in enumerate((("lasso", _L1_COLOR), ("ridge", _L2_COLOR)), start=1):
        refs = axis_refs(col)
        level_len = len(path.lasso_levels[active] if col == 1 else path.ridge_levels[active])
        traces += [
            {"type": "scatter", "mode": "lines", "fill": "toself", "opacity": 0.35, "line": {"color": color, "width": 2},
             "name": f"{name} constraint region", "hoverinfo": "skip", **refs},
            {"type": "scatter", "mode": "lines+markers", "name": f"{name} optimum and the MSE contour through it",
             "line": {"color": color, "width": 1.5, "dash": "dash"}, "hovertemplate": "w = (%{x:.4g}, %{y:.4g})<extra></extra>",
             "marker": {"size": [0] * (level_len + 1) + [11], "color": color, "line": {"color": "white", "width": 1}},
             **refs},
        ]
    dynamic = _regularization_dynamic(path, active)
    for trace, update in zip(traces[first_dynamic:], dynamic, strict=True):
        trace.update(update)
    indices = list(range(first_dynamic, first_dynamic + len(dynamic)))
    frames = [
        {"name": f"{lam:.4g}", "data": _regularization_dynamic(path, k), "traces": indices}
        for k, lam in enumerate(path.lams)
    ]
    extent = float(path.w1[-1])
    for col in (1, 2):
        layout[axis_key(col, "x")].update(title={"text": "w₁"}, range=[-extent, extent])
        layout[axis_key(col, "y")].update(title={"text": "w₂" if col == 1 else ""}, range=[-extent, extent],
                                          scaleanchor=axis_refs(col)["xaxis"])
    layout["sliders"] = [_slider(path.lams, active, "λ = ")]
    layout["showlegend"] = False  # seven entries would bury the panel titles; the page's caption names them
    fig = _figure(traces, layout, frames)
    return apply_layout(fig, height=height, margin={"l": 60, "r": 20, "t": TOP_MARGIN_WITH_TITLES, "b": 40})


def _regularization_dynamic(path: RegularizationPath, k: int) -> list[Trace]:
    """The arrays that move with λ: each panel's region, and its tangent contour + optimum (one trace)."""
    w_l1, w_l2 = path.lasso[k], path.ridge[k]
    out: list[Trace] = []
    for region, level, w in (
        (diamond(float(np.abs(w_l1).sum())), path.lasso_levels[k], w_l1),
        (disc(float(np.linalg.norm(w_l2))), path.ridge_levels[k], w_l2),
    ):
        x = np.concatenate([level[:, 0], [np.nan, w[0]]])
        y = np.concatenate([level[:, 1], [np.nan, w[1]]])
        out += [
            {"type": "scatter", "x": plain(region[:, 0]), "y": plain(region[:, 1])},
            {"type": "scatter", "x": plain(x), "y": plain(y)},
        ]
    return out


# --- multi-task ---------------------------------------------------------------------------------------


def figure_multitask(mt: MultiTask, active: int, *, log: bool = True, height: int = 480) -> go.Figure:
    """(1 − ω)·L_A + ω·L_B over the line's (intercept, slope), with its minimiser, and the fitted line.

    Left: contours of the weighted sum, the minimisers of L_A (ω = 0) and L_B (ω = 1), the path of
    minimisers over ω and the current one. Right: the data and the line of the current minimiser.
    Frames hold every ω of ``mt.weights``.
    """
    layout = columns_layout(2, spacing=0.2, widths=(0.55, 0.45))
    colorbar_x = layout["xaxis"]["domain"][1] + 0.01
    use_log = log and bool((mt.z_a > 0).all() and (mt.z_b > 0).all())
    m = mt.minimizers
    order = np.argsort(mt.x)
    xs = mt.x[order][[0, -1]]
    traces: list[Trace] = [
        {"type": "contour", "x": f32(mt.intercepts), "y": f32(mt.slopes), "colorscale": SURFACE_SCALE, "ncontours": 25,
         "colorbar": {"title": {"text": "log₁₀ loss" if use_log else "loss"}, "x": colorbar_x, "len": 0.85,
                      "thickness": 15},
         "line": {"width": 0.5}, "hovertemplate": "a=%{x:.3f}<br>b=%{y:.3f}<br>%{z:.4g}<extra></extra>",
         "name": "weighted loss", **axis_refs(1)},
        {"type": "scatter", "x": f32(m[:, 0]), "y": f32(m[:, 1]), "mode": "lines", "name": "minimiser as ω moves",
         "line": {"color": "white", "width": 2, "dash": "dot"}, **axis_refs(1)},
    ]
    for idx, name, symbol in ((0, f"minimiser of {mt.loss_a}", "square"), (-1, f"minimiser of {mt.loss_b}", "diamond")):
        traces.append({"type": "scatter", "x": [float(m[idx, 0])], "y": [float(m[idx, 1])], "mode": "markers", "name": name,
                       "marker": {"symbol": symbol, "size": 11, "color": "white", "line": {"color": "black", "width": 1.5}},
                       **axis_refs(1)})
    traces.append({"type": "scatter", "x": f32(mt.x), "y": f32(mt.y), "mode": "markers", "name": "training points",
                   "marker": {"color": "#7f7f7f", "size": 6}, **axis_refs(2)})
    for idx, name, color in ((0, mt.loss_a, "#1f77b4"), (-1, mt.loss_b, "#ff7f0e")):
        traces.append({"type": "scatter", "x": f32(xs), "y": f32(m[idx, 0] + m[idx, 1] * xs), "mode": "lines",
                       "name": f"fit of {name} alone", "line": {"color": color, "width": 1.5, "dash": "dash"},
                       **axis_refs(2)})
    marker_index = len(traces)
    traces += [
        {"type": "scatter", "mode": "markers", "name": "current minimiser",
         "marker": {"symbol": "star", "size": 15, "color": "#d62728", "line": {"color": "white", "width": 1}},
         **axis_refs(1)},
        {"type": "scatter", "mode": "lines", "name": "current fit", "line": {"color": "#d62728", "width": 3}, **axis_refs(2)},
    ]
    indices = [0, marker_index, marker_index + 1]
    for i, update in zip(indices, _multitask_dynamic(mt, active, use_log, xs), strict=True):
        traces[i].update(update)
    frames = [
        {"name": f"{w:.4g}", "data": _multitask_dynamic(mt, k, use_log, xs), "traces": indices}
        for k, w in enumerate(mt.weights)
    ]
    layout["xaxis"]["title"] = {"text": "intercept a"}
    layout["yaxis"]["title"] = {"text": "slope b"}
    layout["xaxis2"]["title"] = {"text": "x"}
    layout["yaxis2"]["title"] = {"text": "y"}
    layout["sliders"] = [_slider(mt.weights, active, "ω = ")]
    return apply_layout(_figure(traces, layout, frames), height=height, margin={"l": 60, "r": 20, "t": 110, "b": 40})


def _multitask_dynamic(mt: MultiTask, k: int, log: bool, xs: np.ndarray) -> list[Trace]:
    """What moves with ω: the contour values, the minimiser, the fitted line."""
    z = mt.mixture(float(mt.weights[k]))
    a, b = mt.minimizers[k]
    return [
        {"type": "contour", "z": f32(np.log10(z) if log else z)},
        {"type": "scatter", "x": [float(a)], "y": [float(b)]},
        {"type": "scatter", "x": plain(xs), "y": plain(a + b * xs)},
    ]
