"""Figures of the training lab: loss/metric curves, decision boundaries, regression fits, predicted
against actual values, confusion matrices, weights.

Pure builders (arrays in, ``go.Figure`` out); the arrays come from :mod:`lossviz.training`.
Figures are assembled as one plain dict and turned into a ``go.Figure`` once, with side-by-side
panels laid out by :func:`columns_layout`: ``make_subplots`` and trace-by-trace ``add_trace``
cost several times more, and these pages redraw on every control change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from lossviz.figures.common import PALETTE, apply_layout, f32
from lossviz.toy_data import Dataset
from lossviz.training import Curves, DecisionGrid

CLASS_COLORS: tuple[str, ...] = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
"""Colours of the classes 0, 1, 2 …: points and decision regions share them."""
SPLIT_MARKERS = {"train": "circle", "validation": "x-thin-open"}

Trace = dict[str, Any]
TOP_MARGIN_WITH_TITLES = 90
"""Top margin of a figure with panel titles and a legend above them."""
BOTTOM_MARGIN = 50


def legend_above_titles(height: int, top: int = TOP_MARGIN_WITH_TITLES, bottom: int = BOTTOM_MARGIN) -> dict[str, Any]:
    """A horizontal legend 28 px above the plot area, clear of the panel titles that sit right on it.

    (The shared layout puts the legend just above the plot, where the titles are.) Plotly places
    legends in units of the plot area's height, hence the conversion from pixels.
    """
    plot_height = max(height - top - bottom, 50)
    return {"orientation": "h", "yanchor": "bottom", "y": 1.0 + 28 / plot_height, "xanchor": "left", "x": 0.0}


def run_color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def axis_refs(col: int) -> dict[str, str]:
    """The trace keys that put a trace in panel ``col`` (1-based) of :func:`columns_layout`."""
    suffix = "" if col == 1 else str(col)
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


def axis_key(col: int, axis: str = "x") -> str:
    """The layout key of panel ``col``'s x or y axis: ``xaxis``, ``xaxis2`` …"""
    return f"{axis}axis" if col == 1 else f"{axis}axis{col}"


def columns_layout(
    n: int, titles: Sequence[str] | None = None, spacing: float = 0.08, widths: Sequence[float] | None = None
) -> dict[str, Any]:
    """A layout of ``n`` panels side by side (what ``make_subplots(1, n)`` builds, much faster)."""
    widths = list(widths) if widths is not None else [1.0] * n
    usable = 1.0 - spacing * (n - 1)
    total = sum(widths)
    layout: dict[str, Any] = {}
    annotations = []
    left = 0.0
    for col in range(1, n + 1):
        right = left + usable * widths[col - 1] / total
        refs = axis_refs(col)
        layout[axis_key(col, "x")] = {"domain": [left, min(right, 1.0)], "anchor": refs["yaxis"]}
        layout[axis_key(col, "y")] = {"anchor": refs["xaxis"]}
        if titles:
            annotations.append(
                {"text": titles[col - 1], "x": (left + right) / 2, "y": 1.0, "xref": "paper", "yref": "paper",
                 "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 14}}
            )
        left = right + spacing
    if annotations:
        layout["annotations"] = annotations
    return layout


def figure_training_curves(
    runs: Sequence[tuple[str, Curves]], *, log_loss: bool = False, height: int = 360, title: str | None = None
) -> go.Figure:
    """Loss (left) and metric (right) per epoch: training solid, validation dashed, one colour per run.

    With several runs the legend names the runs (one entry each, toggling both of its lines); the
    panel titles say which line style is which split.
    """
    metric = runs[0][1].metric if runs else "accuracy"
    multiple = len(runs) > 1
    traces: list[Trace] = []
    for k, (label, curves) in enumerate(runs):
        color = run_color(k)
        x = f32(curves.epochs)
        for split, loss, value, dash in (
            ("train", curves.train_loss, curves.train_metric, "solid"),
            ("validation", curves.val_loss, curves.val_metric, "dash"),
        ):
            if multiple:  # one legend entry per run, on its training line
                name, shown, group = (label if split == "train" else f"{label} · {split}"), split == "train", label
            else:
                name, shown, group = split, True, split
            common = {"type": "scatter", "mode": "lines", "line": {"color": color, "dash": dash, "width": 2},
                      "legendgroup": group, "name": name}
            traces.append({**common, "x": x, "y": f32(loss), "showlegend": shown, **axis_refs(1)})
            traces.append({**common, "x": x, "y": f32(value), "showlegend": False, **axis_refs(2)})
    styles = " (solid: train, dashed: validation)" if multiple else ""
    layout = columns_layout(2, (f"Loss{styles}", metric[:1].upper() + metric[1:]))
    positive = all((c.train_loss > 0).all() and (c.val_loss > 0).all() for _l, c in runs)
    layout["yaxis"]["type"] = "log" if log_loss and positive else "linear"
    if metric == "accuracy":
        layout["yaxis2"]["range"] = [0, 1.02]
    for col in (1, 2):
        layout[axis_key(col)]["title"] = {"text": "epoch"}
    return apply_layout(go.Figure({"data": traces, "layout": layout}), height=height, title=title,
                        margin={"l": 60, "r": 20, "t": TOP_MARGIN_WITH_TITLES, "b": BOTTOM_MARGIN},
                        legend=legend_above_titles(height))


def _points(dataset: Dataset, col: int, legend: bool) -> list[Trace]:
    """The data points in the data's own units, one trace per class and split."""
    traces = []
    for split, x, y in (("train", dataset.x_train, dataset.y_train), ("validation", dataset.x_val, dataset.y_val)):
        x = dataset.raw_x(x)
        for c in range(max(dataset.n_classes, 2)):
            mask = y == c
            if not mask.any():
                continue
            name = f"{dataset.class_label(c)} · {split}"
            traces.append(
                {
                    "type": "scatter", "x": f32(x[mask, 0]), "y": f32(x[mask, 1]), "mode": "markers",
                    "name": name, "legendgroup": name, "showlegend": legend,
                    "marker": {
                        "color": CLASS_COLORS[c % len(CLASS_COLORS)], "symbol": SPLIT_MARKERS[split],
                        "size": 6 if split == "train" else 8,
                        "line": {"width": 0.5, "color": "white"} if split == "train"
                        else {"width": 2, "color": CLASS_COLORS[c % len(CLASS_COLORS)]},
                    },
                    **axis_refs(col),
                }
            )
    return traces


BINARY_COLORSCALE = [[0.0, "#aec7e8"], [0.5, "#ffffff"], [1.0, "#f4a6a6"]]


def _region_traces(grid: DecisionGrid, n_classes: int, col: int, colorbar: bool, axes: tuple[str, str]) -> list[Trace]:
    refs = axis_refs(col)
    common = {"x": f32(grid.xs), "y": f32(grid.ys), "z": f32(grid.value), **refs}
    if grid.threshold is None:  # multi-class: predicted class regions
        scale = []
        for c in range(n_classes):
            color = CLASS_COLORS[c % len(CLASS_COLORS)]
            scale += [[c / n_classes, color], [(c + 1) / n_classes, color]]
        return [{"type": "heatmap", **common, "zmin": -0.5, "zmax": n_classes - 0.5, "colorscale": scale,
                 "opacity": 0.3, "showscale": False, "hoverinfo": "skip"}]
    finite = grid.value[np.isfinite(grid.value)]
    spread = float(np.max(np.abs(finite - grid.threshold))) if finite.size else 1.0
    spread = spread or 1.0
    return [
        {
            "type": "heatmap", **common, "colorscale": BINARY_COLORSCALE, "zmid": grid.threshold,
            "zmin": grid.threshold - spread, "zmax": grid.threshold + spread, "showscale": colorbar,
            "colorbar": {"title": {"text": grid.label}, "len": 0.8},
            "hovertemplate": f"{axes[0]}=%{{x:.3g}}<br>{axes[1]}=%{{y:.3g}}<br>{grid.label}=%{{z:.3f}}<extra></extra>",
        },
        {
            "type": "contour", **common, "showscale": False, "hoverinfo": "skip", "showlegend": False,
            "contours": {"start": grid.threshold, "end": grid.threshold, "size": 1.0, "coloring": "none"},
            "line": {"color": "black", "width": 2}, "name": "decision boundary",
        },
    ]


def figure_decision_boundaries(
    grids: Sequence[tuple[str, DecisionGrid]], dataset: Dataset, *, height: int = 440
) -> go.Figure:
    """Decision regions of one or several models on the same data, side by side.

    Binary: the model's class-1 probability (or score) as a blue–white–red map with the boundary
    (pred = threshold) drawn black; multi-class: the predicted class as coloured regions.
    """
    k = max(len(grids), 1)
    layout = columns_layout(k, [label for label, _g in grids] if k > 1 else None, spacing=0.04 if k > 1 else 0.0)
    traces: list[Trace] = []
    axes = (dataset.feature_label(0), dataset.feature_label(1))
    for col, (_label, grid) in enumerate(grids, start=1):
        traces += _region_traces(grid, dataset.n_classes, col, colorbar=col == k, axes=axes)
        traces += _points(dataset, col, legend=col == 1)
        layout[axis_key(col, "x")].update(title={"text": axes[0]}, range=[float(grid.xs[0]), float(grid.xs[-1])])
        layout[axis_key(col, "y")].update(range=[float(grid.ys[0]), float(grid.ys[-1])],
                                          title={"text": axes[1] if col == 1 else ""})
    top = TOP_MARGIN_WITH_TITLES if k > 1 else 50
    legend = {"legend": legend_above_titles(height, top)} if k > 1 else {}
    return apply_layout(go.Figure({"data": traces, "layout": layout}), height=height,
                        margin={"l": 60, "r": 20, "t": top, "b": BOTTOM_MARGIN}, **legend)


def figure_regression_fit(
    xs: np.ndarray,
    fits: Sequence[tuple[str, np.ndarray]],
    dataset: Dataset,
    clean: np.ndarray | None = None,
    *,
    height: int = 420,
) -> go.Figure:
    """The data (outliers marked, when known), the noise-free curve (when known) and each model's
    prediction along x, all in the data's own units (``xs`` and the fits as :func:`regression_fit` gives)."""
    traces: list[Trace] = []
    for split, x, y, out in (
        ("train", dataset.x_train, dataset.y_train, dataset.outlier_train),
        ("validation", dataset.x_val, dataset.y_val, dataset.outlier_val),
    ):
        x, y = dataset.raw_x(x), dataset.raw_y(y)
        out = np.zeros(len(y), dtype=bool) if out is None else out
        for is_outlier in (False, True):
            mask = out == is_outlier
            if not mask.any():
                continue
            color = "#d62728" if is_outlier else "#7f7f7f"
            traces.append(
                {
                    "type": "scatter", "x": f32(x[mask, 0]), "y": f32(y[mask]), "mode": "markers",
                    "name": f"{'outlier' if is_outlier else 'point'} · {split}",
                    "marker": {"color": color, "symbol": SPLIT_MARKERS[split], "size": 6 if split == "train" else 7,
                               "opacity": 0.8, "line": {"width": 1.5 if split == "validation" else 0, "color": color}},
                }
            )
    if clean is not None:
        traces.append({"type": "scatter", "x": f32(xs), "y": f32(clean), "mode": "lines", "name": "true f(x)",
                       "line": {"color": "black", "dash": "dot"}})
    for k, (label, pred) in enumerate(fits):
        traces.append({"type": "scatter", "x": f32(xs), "y": f32(pred), "mode": "lines", "name": label,
                       "line": {"color": run_color(k), "width": 3}})
    x_title = dataset.feature_names[0] if dataset.feature_names else "x"
    layout = {"xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": dataset.target_name}}}
    return apply_layout(go.Figure({"data": traces, "layout": layout}), height=height)


def figure_predicted_vs_actual(
    runs: Sequence[tuple[str, np.ndarray, np.ndarray]], target_name: str = "y", *, height: int = 420
) -> go.Figure:
    """Predicted against actual targets per run (``(label, actual, predicted)``), with the line y = x
    on which a perfect model's points would lie."""
    traces: list[Trace] = []
    finite = [v for _l, a, p in runs for v in (a, p) if v.size]
    everything = np.concatenate(finite) if finite else np.zeros(1)
    lo, hi = float(np.min(everything)), float(np.max(everything))
    traces.append({"type": "scatter", "x": [lo, hi], "y": [lo, hi], "mode": "lines", "name": "predicted = actual",
                   "line": {"color": "black", "dash": "dot", "width": 1}})
    for k, (label, actual, predicted) in enumerate(runs):
        traces.append(
            {"type": "scatter", "x": f32(actual), "y": f32(predicted), "mode": "markers", "name": label,
             "marker": {"color": run_color(k), "size": 6, "opacity": 0.6},
             "hovertemplate": "actual %{x:.4g}<br>predicted %{y:.4g}<extra>" + label + "</extra>"}
        )
    layout = {"xaxis": {"title": {"text": f"actual {target_name}"}},
              "yaxis": {"title": {"text": f"predicted {target_name}"}, "scaleanchor": "x"}}
    return apply_layout(go.Figure({"data": traces, "layout": layout}), height=height)


def figure_confusion_matrices(
    runs: Sequence[tuple[str, np.ndarray]], class_names: Sequence[str], *, height: int = 400
) -> go.Figure:
    """Confusion matrices side by side: the share of each true class (row) predicted as each class
    (column), coloured by that share and annotated with the counts."""
    k = max(len(runs), 1)
    layout = columns_layout(k, [label for label, _m in runs] if k > 1 else None, spacing=0.06 if k > 1 else 0.0)
    traces: list[Trace] = []
    names = list(class_names)
    for col, (_label, matrix) in enumerate(runs, start=1):
        totals = matrix.sum(axis=1, keepdims=True)
        share = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
        traces.append(
            {"type": "heatmap", "x": names, "y": names, "z": share.tolist(), "zmin": 0.0, "zmax": 1.0,
             "colorscale": "Blues", "showscale": col == k, "colorbar": {"title": {"text": "share of row"}},
             "text": matrix.tolist(), "texttemplate": "%{text}",
             "hovertemplate": "true %{y}<br>predicted %{x}<br>%{text} points (%{z:.0%})<extra></extra>",
             **axis_refs(col)}
        )
        layout[axis_key(col, "x")].update(title={"text": "predicted class"}, type="category")
        layout[axis_key(col, "y")].update(title={"text": "true class" if col == 1 else ""}, type="category",
                                          autorange="reversed")
    top = TOP_MARGIN_WITH_TITLES if k > 1 else 40
    return apply_layout(go.Figure({"data": traces, "layout": layout}), height=height,
                        margin={"l": 80, "r": 20, "t": top, "b": BOTTOM_MARGIN})


def figure_weight_histogram(
    runs: Sequence[tuple[str, np.ndarray]], *, zero_tol: float = 1e-3, height: int = 300
) -> go.Figure:
    """Histogram of the trained weights (biases excluded) per run; the legend gives the share near 0."""
    everything = np.concatenate([w for _l, w in runs]) if runs else np.zeros(1)
    lim = float(np.max(np.abs(everything))) if everything.size else 1.0
    lim = lim or 1.0
    traces = []
    for k, (label, w) in enumerate(runs):
        share = float(np.mean(np.abs(w) < zero_tol)) if len(w) else 0.0
        traces.append(
            {"type": "histogram", "x": f32(w), "name": f"{label}: {share:.0%} of |w| < {zero_tol:g}", "opacity": 0.6,
             "marker": {"color": run_color(k)}, "xbins": {"start": -lim, "end": lim, "size": 2 * lim / 80}}
        )
    layout = {"barmode": "overlay", "xaxis": {"title": {"text": "weight value"}}, "yaxis": {"title": {"text": "count"}}}
    return apply_layout(go.Figure({"data": traces, "layout": layout}), height=height)
