"""Figures of network loss landscapes (Li et al. 2018): the 1-D interpolation, random-direction planes, and the
PCA trajectory played epoch by epoch with each checkpoint's distance from the plane.

Pure builders: the arrays come from :mod:`lossviz.studies.neural_landscape`. Every figure is assembled as one
dict (see :mod:`lossviz.figures.training_lab`), which keeps the build fast enough to redraw on each control
change; the played one stays a plain dict, the form :func:`lossviz.ui.live_chart.live_chart` draws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from lossviz.figures import common as fc
from lossviz.figures.live import stacked_panels, with_narrow
from lossviz.studies.neural_landscape import Slice
from lossviz.toolkit.training import Curves


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
    x = fc.typed_array(alphas)
    traces: list[fc.Trace] = [
        {"type": "scatter", "x": x, "y": fc.typed_array(y), "name": name, "mode": "lines",
         "line": {"color": "#1f77b4", "dash": dash}}
        for name, y, dash in (("train loss", train_loss, "solid"), ("validation loss", val_loss, "dash"))
    ]
    traces += [
        {"type": "scatter", "x": x, "y": fc.typed_array(y), "name": name, "mode": "lines", "yaxis": "y2",
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
    return fc.apply_layout(fc.figure_from_dicts(traces, layout), height=height, margin={"l": 60, "r": 60, "t": 70, "b": 50})


def _contour(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, log: bool, col: int = 1, colorbar_x: float | None = None) -> fc.Trace:
    shown, label = fc.display_values(z, log)
    colorbar: dict[str, object] = {"title": {"text": label}, "len": 0.85}
    if colorbar_x is not None:
        colorbar["x"] = colorbar_x
    return {
        "type": "contour", "x": fc.typed_array(xs), "y": fc.typed_array(ys), "z": fc.typed_array(shown),
        "colorscale": fc.SURFACE_SCALE, "ncontours": 25,
        "colorbar": colorbar, "contours": {"showlines": True}, "line": {"width": 0.5},
        "hovertemplate": "a=%{x:.3f}<br>b=%{y:.3f}<br>" + label + "=%{z:.4g}<extra></extra>", **fc.axis_refs(col),
    }


def _centre_marker(name: str, col: int = 1, legend: bool = True) -> fc.Trace:
    return {
        "type": "scatter", "x": [0.0], "y": [0.0], "mode": "markers", "name": name, "showlegend": legend,
        "marker": {"symbol": "star", "size": 14, "color": "white", "line": {"color": "black", "width": 1.5}},
        **fc.axis_refs(col),
    }


def figure_plane_contour(
    xs: np.ndarray, ys: np.ndarray, z: np.ndarray, *, log: bool = True, title: str | None = None,
    x_title: str = "a (direction δ)", y_title: str = "b (direction η)", height: int = 460,
) -> go.Figure:
    """Contours of the loss on a plane θ* + a·δ + b·η, the trained weights θ* starred at the origin."""
    layout = {"xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": y_title}, "scaleanchor": "x"}}
    return fc.apply_layout(fc.figure_from_dicts([_contour(xs, ys, z, log), _centre_marker("trained weights θ*")], layout),
                        height=height, title=title)


def figure_plane_surface(
    xs: np.ndarray, ys: np.ndarray, z: np.ndarray, *, log: bool = True, title: str | None = None, height: int = 460
) -> go.Figure:
    """The same slice as a 3-D surface (Li et al.'s Fig. 1 style)."""
    shown, label = fc.display_values(z, log)
    trace = {
        "type": "surface", "x": fc.typed_array(xs), "y": fc.typed_array(ys), "z": fc.typed_array(shown),
        "colorscale": fc.SURFACE_SCALE,
        "colorbar": {"title": {"text": label}}, "contours": {"z": {"show": True, "usecolormap": True, "project": {"z": True}}},
    }
    layout = {"scene": {"xaxis": {"title": {"text": "a"}}, "yaxis": {"title": {"text": "b"}}, "zaxis": {"title": {"text": label}},
                        "camera": {"eye": {"x": 1.4, "y": 1.4, "z": 0.9}}}}
    return fc.apply_layout(fc.figure_from_dicts([trace], layout), height=height, title=title, margin={"l": 0, "r": 0, "t": 50, "b": 0})


PCA_HEIGHT = 860
OFF_PLANE_SCALE = [[0.0, "#fee8c8"], [0.5, "#fc8d59"], [1.0, "#7f0000"]]
"""Colour of a checkpoint's distance from the plane, in steps: pale on it, dark red many steps away."""


def figure_pca_player(pca: Slice, curves: Curves, shown: Sequence[int], *, log: bool = True) -> dict:
    """The optimiser's path on the top-2 PCA directions over the loss contours (Li et al. §7, Fig. 9), played.

    Top: the contours, the path (one dot per epoch, coloured by its distance from the plane in units of its
    step, ``pca.off_plane_in_steps``; hover for the numbers), the initial and final weights, and the epoch shown
    (a black ring). Below: the training and validation loss per epoch, and each checkpoint's distance from the
    plane in steps (dotted at one step: beyond it a dot is farther from the plane than the step that led to
    it, and the loss drawn under it is not its loss), both with the epoch shown. Frames are the epochs
    ``shown``; what moves is a layout shape (see :mod:`lossviz.figures.live`); the base figure shows the last.
    """
    assert pca.path is not None and pca.explained is not None and pca.off_plane is not None
    ratio = pca.off_plane_in_steps
    assert ratio is not None
    epochs = np.arange(len(pca.path))
    shown_ratio = np.where(np.isfinite(ratio), ratio, np.nan)
    top = float(np.nanmax(shown_ratio)) if np.isfinite(shown_ratio).any() else 1.0
    cmax = max(2.0, min(top, 10.0))
    texts = [
        f"epoch {e}: ({a:.3f}, {b:.3f})<br>off the plane by {r:.3g} = {q:.3g} steps"
        for e, (a, b), r, q in zip(epochs, pca.path, pca.off_plane, ratio, strict=True)
    ]
    shown_z, label = fc.display_values(pca.z, log)
    traces: list[fc.Trace] = [
        {
            "type": "contour", "x": fc.typed_array(pca.xs), "y": fc.typed_array(pca.ys), "z": fc.typed_array(shown_z),
            "colorscale": fc.SURFACE_SCALE, "ncontours": 25, "line": {"width": 0.5},
            "colorbar": {"title": {"text": label, "side": "top"}, "len": 0.5, "y": 0.74, "x": 0.84, "thickness": 10},
            "hovertemplate": "a=%{x:.3f}<br>b=%{y:.3f}<br>" + label + "=%{z:.4g}<extra></extra>", **fc.axis_refs(1),
        },
        {
            "type": "scatter", "x": fc.typed_array(pca.path[:, 0]), "y": fc.typed_array(pca.path[:, 1]),
            "mode": "lines+markers", "name": "trajectory (one dot per epoch)", "text": texts,
            "hovertemplate": "%{text}<extra></extra>", "line": {"color": "#7f7f7f", "width": 1.5},
            "marker": {"size": 7, "color": fc.typed_array(np.minimum(np.nan_to_num(shown_ratio, nan=cmax), cmax)),
                       "cmin": 0.0, "cmax": cmax, "colorscale": OFF_PLANE_SCALE, "line": {"color": "#555", "width": 0.5},
                       "colorbar": {"title": {"text": "steps off<br>the plane", "side": "top"}, "len": 0.5,
                                    "y": 0.74, "x": 0.95, "thickness": 10}},
            **fc.axis_refs(1),
        },
        {
            "type": "scatter", "x": [float(pca.path[0, 0])], "y": [float(pca.path[0, 1])], "mode": "markers",
            "name": "initial weights", "marker": {"symbol": "circle-open", "size": 14, "color": "#d62728",
                                                  "line": {"width": 2}}, **fc.axis_refs(1),
        },
        _centre_marker("final weights"),
    ]
    for split, values, dash in (("train", curves.train_loss, "solid"), ("validation", curves.val_loss, "dash")):
        traces.append({"type": "scatter", "mode": "lines", "x": fc.typed_array(curves.epochs), "y": fc.typed_array(values),
                       "name": f"{split} loss", "line": {"color": "#1f77b4", "dash": dash, "width": 2},
                       "hovertemplate": f"{split} loss %{{y:.4g}} at epoch %{{x}}<extra></extra>", **fc.axis_refs(2)})
    traces.append({"type": "scatter", "mode": "lines+markers", "x": fc.typed_array(epochs), "y": fc.typed_array(shown_ratio),
                   "name": "distance from the plane", "showlegend": False, "text": texts,
                   "hovertemplate": "%{text}<extra></extra>", "line": {"color": "#b30000", "width": 1.5},
                   "marker": {"size": 4}, **fc.axis_refs(3)})
    last = float(epochs[-1])
    epoch_axis = {"title": {"text": "epoch"}, "range": [-0.02 * last, 1.02 * last]}
    positive = bool((curves.train_loss > 0).all() and (curves.val_loss > 0).all())
    layout: dict = {
        "xaxis": {"domain": [0.0, 0.8], "anchor": "y",
                  "title": {"text": f"1st PCA component: {pca.explained[0]:.1%} of the variance"},
                  "range": [float(pca.xs[0]), float(pca.xs[-1])]},
        "yaxis": {"domain": [0.46, 1.0], "anchor": "x", "title": {"text": f"2nd PCA component: {pca.explained[1]:.1%}"},
                  "range": [float(pca.ys[0]), float(pca.ys[-1])]},
        "xaxis2": {"domain": [0.0, 0.44], "anchor": "y2", **epoch_axis},
        "yaxis2": {"domain": [0.0, 0.28], "anchor": "x2", "title": {"text": "loss"},
                   "type": "log" if log and positive else "linear", "exponentformat": "power"},
        "xaxis3": {"domain": [0.56, 1.0], "anchor": "y3", **epoch_axis},
        "yaxis3": {"domain": [0.0, 0.28], "anchor": "x3", "title": {"text": "steps off the plane"},
                   "range": [0.0, 1.08 * max(top if np.isfinite(top) else 1.0, 1.0)]},
        "annotations": [
            {"text": text, "x": x, "y": y, "xref": "paper", "yref": "paper", "xanchor": "center", "yanchor": "bottom",
             "showarrow": False, "font": {"size": 13}}
            for text, x, y in (("loss per epoch", 0.22, 0.28), ("distance from the plane", 0.78, 0.28))
        ],
    }
    one_step = {"type": "line", "xref": "x3", "yref": "y3", "x0": 0, "x1": last, "y0": 1, "y1": 1,
                "line": {"color": "#7f7f7f", "width": 1, "dash": "dot"}}

    def frame(epoch: int) -> dict:
        a, b = (float(v) for v in pca.path[epoch])
        ring = {"type": "circle", "xref": "x", "yref": "y", "xsizemode": "pixel", "ysizemode": "pixel", "xanchor": a,
                "yanchor": b, "x0": -9, "x1": 9, "y0": -9, "y1": 9, "line": {"color": "black", "width": 2.5}}
        lines = [{"type": "line", "xref": f"x{k}", "yref": f"y{k} domain", "x0": epoch, "x1": epoch, "y0": 0, "y1": 1,
                  "line": {"color": "#7f7f7f", "width": 1.5, "dash": "dot"}} for k in (2, 3)]
        return {"data": [], "traces": [], "layout": {"shapes": [one_step, ring, *lines]}}

    frames = [frame(int(e)) for e in shown]
    layout.update({**fc.LAYOUT_DEFAULTS, "height": PCA_HEIGHT, "margin": {"l": 60, "r": 20, "t": 60, "b": 60},
                   "shapes": frames[-1]["layout"]["shapes"]})
    narrow, colorbars = _pca_narrow(layout)
    return with_narrow({"data": traces, "layout": layout, "frames": frames}, narrow, colorbars)


# On a phone (see lossviz.figures.live.NARROW_WIDTH) the PCA player stacks its three panels; in pixels of plot
# height: the contour map, its x axis title, then the two curves with their titles and x axes. The two colour
# bars stand one above the other beside the map (abreast they overlapped each other). They stay upright:
# plotly.js leaves the old bar's title and ticks behind when a restyle turns a colour bar on its side.
PCA_NARROW = {"map": 330, "map_axis": 70, "title": 25, "curve": 190, "curve_axis": 85}
PCA_NARROW_PLOT = PCA_NARROW["map"] + PCA_NARROW["map_axis"] + 2 * (PCA_NARROW["title"] + PCA_NARROW["curve"]) + (
    PCA_NARROW["curve_axis"]
)
PCA_NARROW_MAP_WIDTH = 0.7
"""The map's share of the width on a phone; the colour bars and their ticks take the rest."""


def _pca_narrow(layout: Mapping[str, Any]) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """The PCA player's phone layout, and the restyles that stack its two colour bars (traces 0 and 1)."""
    n, plot = PCA_NARROW, PCA_NARROW_PLOT
    map_low = 1.0 - n["map"] / plot
    curves_top = map_low - (n["map_axis"] + n["title"]) / plot
    narrow = stacked_panels(
        layout, [[("xaxis2", "yaxis2")], [("xaxis3", "yaxis3")]], titles=[[0], [1]],
        height=plot + 120, gap=(n["curve_axis"] + n["title"]) / plot, top=curves_top,
    )  # fmt: skip  (120: the top and bottom margins)
    narrow |= {"xaxis.domain": [0.0, PCA_NARROW_MAP_WIDTH], "yaxis.domain": [round(map_low, 6), 1.0]}
    # The full axis title is wider than the map there; its first words say enough.
    narrow["xaxis.title.text"] = layout["xaxis"]["title"]["text"].removesuffix(" of the variance")
    height = 1.0 - map_low
    x = PCA_NARROW_MAP_WIDTH + 0.06

    def bar(prefix: str, centre: float) -> dict[str, Any]:
        # each bar a third of the map's height, its title above it: two of them fill the map's height
        return {f"{prefix}.x": x, f"{prefix}.y": round(map_low + centre * height, 6), f"{prefix}.len": round(height / 3, 6)}

    return narrow, {0: bar("colorbar", 0.78), 1: bar("marker.colorbar", 0.22)}


def figure_two_losses(
    xs: np.ndarray, ys: np.ndarray, slices: Sequence[tuple[str, np.ndarray]], *, log: bool = True, height: int = 440
) -> go.Figure:
    """The same random-direction slice scored by two losses, side by side, each with its own colour bar."""
    n = len(slices)
    layout = fc.columns_layout(n, [name for name, _z in slices], spacing=0.14)
    traces: list[fc.Trace] = []
    for col, (_name, z) in enumerate(slices, start=1):
        colorbar_x = 0.43 if col == 1 and n > 1 else 1.0
        traces.append(_contour(xs, ys, z, log, col=col, colorbar_x=colorbar_x))
        traces.append(_centre_marker("trained weights θ*", col=col, legend=col == 1))
        layout[fc.axis_key(col, "x")]["title"] = {"text": "a"}
        layout[fc.axis_key(col, "y")]["title"] = {"text": "b" if col == 1 else ""}
    layout["showlegend"] = False  # the star (trained weights) is explained in the page's caption
    return fc.apply_layout(fc.figure_from_dicts(traces, layout), height=height,
                        margin={"l": 60, "r": 20, "t": fc.TOP_MARGIN_WITH_TITLES, "b": 50})
