"""Figures of network loss landscapes (Li et al. 2018) and of the two-parameter views.

Pure builders: the arrays come from :mod:`lossviz.studies.neural_landscape`. Every figure is
assembled as one dict (:func:`~lossviz.figures.common.figure_from_dicts`), which keeps the build
fast enough to redraw on each control change.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lossviz.figures.common import (
    SURFACE_SCALE,
    TOP_MARGIN_WITH_TITLES,
    Trace,
    apply_layout,
    axis_key,
    axis_refs,
    columns_layout,
    display_values,
    figure_from_dicts,
    typed_array,
)


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
    x = typed_array(alphas)
    traces: list[Trace] = [
        {"type": "scatter", "x": x, "y": typed_array(y), "name": name, "mode": "lines",
         "line": {"color": "#1f77b4", "dash": dash}}
        for name, y, dash in (("train loss", train_loss, "solid"), ("validation loss", val_loss, "dash"))
    ]
    traces += [
        {"type": "scatter", "x": x, "y": typed_array(y), "name": name, "mode": "lines", "yaxis": "y2",
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
    return apply_layout(figure_from_dicts(traces, layout), height=height, margin={"l": 60, "r": 60, "t": 70, "b": 50})


def _contour(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, log: bool, col: int = 1, colorbar_x: float | None = None) -> Trace:
    shown, label = display_values(z, log)
    colorbar: dict[str, object] = {"title": {"text": label}, "len": 0.85}
    if colorbar_x is not None:
        colorbar["x"] = colorbar_x
    return {
        "type": "contour", "x": typed_array(xs), "y": typed_array(ys), "z": typed_array(shown),
        "colorscale": SURFACE_SCALE, "ncontours": 25,
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
    return apply_layout(figure_from_dicts([_contour(xs, ys, z, log), _centre_marker("trained weights θ*")], layout),
                        height=height, title=title)


def figure_plane_surface(
    xs: np.ndarray, ys: np.ndarray, z: np.ndarray, *, log: bool = True, title: str | None = None, height: int = 460
) -> go.Figure:
    """The same slice as a 3-D surface (Li et al.'s Fig. 1 style)."""
    shown, label = display_values(z, log)
    trace = {
        "type": "surface", "x": typed_array(xs), "y": typed_array(ys), "z": typed_array(shown),
        "colorscale": SURFACE_SCALE,
        "colorbar": {"title": {"text": label}}, "contours": {"z": {"show": True, "usecolormap": True, "project": {"z": True}}},
    }
    layout = {"scene": {"xaxis": {"title": {"text": "a"}}, "yaxis": {"title": {"text": "b"}}, "zaxis": {"title": {"text": label}},
                        "camera": {"eye": {"x": 1.4, "y": 1.4, "z": 0.9}}}}
    return apply_layout(figure_from_dicts([trace], layout), height=height, title=title, margin={"l": 0, "r": 0, "t": 50, "b": 0})


def figure_pca_trajectory(
    xs: np.ndarray, ys: np.ndarray, z: np.ndarray, path: np.ndarray, explained: tuple[float, float],
    *, log: bool = True, epochs: np.ndarray | None = None, height: int = 480,
) -> go.Figure:
    """The optimiser's path on the top-2 PCA directions over the loss contours (Li et al. §7, Fig. 9)."""
    epochs = np.arange(len(path)) if epochs is None else epochs
    traces = [
        _contour(xs, ys, z, log),
        {
            "type": "scatter", "x": typed_array(path[:, 0]), "y": typed_array(path[:, 1]), "mode": "lines+markers",
            "name": "trajectory (one dot per epoch)", "line": {"color": "#d62728", "width": 2},
            "marker": {"size": 5, "color": "#d62728"}, "customdata": typed_array(epochs),
            "hovertemplate": "epoch %{customdata:.0f}<br>(%{x:.3f}, %{y:.3f})<extra></extra>",
        },
        {
            "type": "scatter", "x": typed_array(path[:1, 0]), "y": typed_array(path[:1, 1]), "mode": "markers",
            "name": "initial weights",
            "marker": {"symbol": "circle-open", "size": 12, "color": "#d62728", "line": {"width": 2}},
        },
        _centre_marker("final weights"),
    ]
    layout = {
        "xaxis": {"title": {"text": f"1st PCA component: {explained[0]:.1%} of the variance"}},
        "yaxis": {"title": {"text": f"2nd PCA component: {explained[1]:.1%}"}},
    }
    return apply_layout(figure_from_dicts(traces, layout), height=height)


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
    return apply_layout(figure_from_dicts(traces, layout), height=height,
                        margin={"l": 60, "r": 20, "t": TOP_MARGIN_WITH_TITLES, "b": 50})


# --- regularisation -------------------------------------------------------------------------------

