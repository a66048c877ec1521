"""Figures of the training lab: loss/metric curves, decision boundaries, regression fits, predicted
against actual values, confusion matrices, weights, an adaptive loss's shape and scale over training, and
one epoch's augmented training points.

Pure builders (arrays in, ``go.Figure`` out); the arrays come from :mod:`lossviz.toolkit.training`.
Figures are assembled as one plain dict and turned into a ``go.Figure`` once, with side-by-side
panels laid out by :func:`columns_layout`: ``make_subplots`` and trace-by-trace ``add_trace``
cost several times more, and these pages redraw on every control change. The regularisation path
and the multi-task balance are live figures over λ or ω (:func:`~lossviz.figures.live.live_figure`,
plain dicts): a frame holds only the arrays that change (Plotly merges them into the traces it names).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lossviz.figures.common import (
    BOTTOM_MARGIN,
    SURFACE_SCALE,
    TOP_MARGIN_WITH_TITLES,
    FigureSpec,
    Trace,
    apply_layout,
    axis_key,
    axis_refs,
    columns_layout,
    display_values,
    layout_defaults,
    legend_above_titles,
    run_color,
    typed_array,
)
from lossviz.figures.live import live_figure
from lossviz.studies.training_lab import MultiTask, RegularizationPath, diamond, disc
from lossviz.toolkit.data import Dataset
from lossviz.toolkit.training import Curves, DecisionGrid

CLASS_COLORS: tuple[str, ...] = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
"""Colours of the classes 0, 1, 2 …: points and decision regions share them."""
SPLIT_MARKERS = {"train": "circle", "validation": "x-thin-open"}

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
        x = typed_array(curves.epochs)
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
            traces.append({**common, "x": x, "y": typed_array(loss), "showlegend": shown, **axis_refs(1)})
            traces.append({**common, "x": x, "y": typed_array(value), "showlegend": False, **axis_refs(2)})
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
                    "type": "scatter", "x": typed_array(x[mask, 0]), "y": typed_array(x[mask, 1]), "mode": "markers",
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
    common = {"x": typed_array(grid.xs), "y": typed_array(grid.ys), "z": typed_array(grid.value), **refs}
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
                    "type": "scatter", "x": typed_array(x[mask, 0]), "y": typed_array(y[mask]), "mode": "markers",
                    "name": f"{'outlier' if is_outlier else 'point'} · {split}",
                    "marker": {"color": color, "symbol": SPLIT_MARKERS[split], "size": 6 if split == "train" else 7,
                               "opacity": 0.8, "line": {"width": 1.5 if split == "validation" else 0, "color": color}},
                }
            )
    if clean is not None:
        traces.append({"type": "scatter", "x": typed_array(xs), "y": typed_array(clean), "mode": "lines",
                       "name": "true f(x)",
                       "line": {"color": "black", "dash": "dot"}})
    for k, (label, pred) in enumerate(fits):
        traces.append({"type": "scatter", "x": typed_array(xs), "y": typed_array(pred), "mode": "lines", "name": label,
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
            {"type": "scatter", "x": typed_array(actual), "y": typed_array(predicted), "mode": "markers", "name": label,
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
            {"type": "histogram", "x": typed_array(w), "name": f"{label}: {share:.0%} of |w| < {zero_tol:g}",
             "opacity": 0.6,
             "marker": {"color": run_color(k)}, "xbins": {"start": -lim, "end": lim, "size": 2 * lim / 80}}
        )
    layout = {"barmode": "overlay", "xaxis": {"title": {"text": "weight value"}}, "yaxis": {"title": {"text": "count"}}}
    return apply_layout(go.Figure({"data": traces, "layout": layout}), height=height)


def figure_loss_shape(
    runs: Sequence[tuple[str, np.ndarray, np.ndarray]], *, alpha_range: tuple[float, float] = (0.0, 2.0),
    height: int = 320,
) -> go.Figure:
    """The adaptive loss's shape α (left) and scale c (right) after each epoch, one line per run
    (``(label, epochs, shapes)`` with ``shapes[k] = (α, c)``); dotted lines mark α = 2 (Gaussian), 1
    (pseudo-Huber) and 0 (Cauchy) within ``alpha_range``, the range α is learned in."""
    traces: list[Trace] = []
    for k, (label, epochs, shapes) in enumerate(runs):
        common = {"type": "scatter", "mode": "lines", "line": {"color": run_color(k), "width": 2}, "legendgroup": label,
                  "name": label}
        traces.append({**common, "y": typed_array(shapes[:, 0]), "x": typed_array(epochs), "showlegend": len(runs) > 1,
                       "hovertemplate": "epoch %{x}<br>α = %{y:.3f}<extra>" + label + "</extra>", **axis_refs(1)})
        traces.append({**common, "y": typed_array(shapes[:, 1]), "x": typed_array(epochs), "showlegend": False,
                       "hovertemplate": "epoch %{x}<br>c = %{y:.4g}<extra>" + label + "</extra>", **axis_refs(2)})
    last = max((float(e[-1]) for _l, e, _s in runs), default=1.0)
    for value, name in ((2.0, "Gaussian"), (1.0, "pseudo-Huber"), (0.0, "Cauchy")):
        traces.append({"type": "scatter", "mode": "lines+text", "x": [0.0, last], "y": [value, value],
                       "text": ["", name],
                       "textposition": "bottom left" if value == 2.0 else "top left",  # labels inside the range
                       "line": {"color": "#7f7f7f", "dash": "dot", "width": 1}, "hoverinfo": "skip",
                       "showlegend": False, **axis_refs(1)})
    layout = columns_layout(2, ("shape α", "scale c"), spacing=0.1)
    layout["yaxis"]["range"] = [alpha_range[0] - 0.05, alpha_range[1] + 0.05]
    scales = np.concatenate([s[:, 1] for _l, _e, s in runs]) if runs else np.ones(1)
    ladder = [m * 10.0**k for k in range(math.floor(math.log10(scales.min())), math.ceil(math.log10(scales.max())) + 1)
              for m in (1, 2, 5)]
    # 1-2-5 ticks labelled in full: c often spans a decade or less, where Plotly's log ticks print bare digits
    layout["yaxis2"].update(type="log", tickvals=ladder, ticktext=[f"{v:g}" for v in ladder])
    for col in (1, 2):
        layout[axis_key(col)]["title"] = {"text": "epoch"}
    return apply_layout(go.Figure({"data": traces, "layout": layout}), height=height,
                        margin={"l": 60, "r": 20, "t": TOP_MARGIN_WITH_TITLES if len(runs) > 1 else 40,
                                "b": BOTTOM_MARGIN},
                        **({"legend": legend_above_titles(height)} if len(runs) > 1 else {}))


def figure_augmentation(dataset: Dataset, augmented: np.ndarray, *, height: int = 380) -> go.Figure:
    """The training points of a 2-D dataset (faint) and the augmented copy one epoch trained on (``augmented``,
    same rows, in the data's own units), coloured by class, each moved point joined to where it came from."""
    x = dataset.raw_x(dataset.x_train)
    traces: list[Trace] = []
    for c in range(max(dataset.n_classes, 2)):
        mask = dataset.y_train == c
        if not mask.any():
            continue
        color = CLASS_COLORS[c % len(CLASS_COLORS)]
        a, b = x[mask], augmented[mask]
        gaps = np.full(len(a), np.nan)
        traces.append({"type": "scatter", "mode": "lines", "hoverinfo": "skip", "showlegend": False,
                       "x": typed_array(np.stack([a[:, 0], b[:, 0], gaps], axis=1).ravel()),
                       "y": typed_array(np.stack([a[:, 1], b[:, 1], gaps], axis=1).ravel()),
                       "line": {"color": color, "width": 0.5}, "opacity": 0.4})
        traces.append({"type": "scatter", "mode": "markers", "name": f"{dataset.class_label(c)} · original",
                       "x": typed_array(a[:, 0]), "y": typed_array(a[:, 1]),
                       "marker": {"color": color, "size": 6, "opacity": 0.25}})
        traces.append({"type": "scatter", "mode": "markers", "name": f"{dataset.class_label(c)} · augmented",
                       "x": typed_array(b[:, 0]), "y": typed_array(b[:, 1]),
                       "marker": {"color": color, "size": 6, "symbol": "diamond",
                                  "line": {"width": 0.5, "color": "white"}}})
    layout = {"xaxis": {"title": {"text": dataset.feature_label(0)}},
              "yaxis": {"title": {"text": dataset.feature_label(1)}, "scaleanchor": "x"}}
    return apply_layout(go.Figure({"data": traces, "layout": layout}), height=height)


# --- regularisation paths and the multi-task balance --------------------------------------------

_L1_COLOR, _L2_COLOR = "#d62728", "#1f77b4"


def figure_regularization(path: RegularizationPath, active: int, *, height: int = 520) -> FigureSpec:
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
            {"type": "contour", "x": typed_array(path.w1), "y": typed_array(path.w2), "z": typed_array(shown),
             "colorscale": "Greys",
             "reversescale": True, "opacity": 0.9, "showscale": False, "ncontours": 24,
             "contours": {"coloring": "lines"}, "hoverinfo": "skip", "name": "MSE", **refs},
            {"type": "scatter", "x": typed_array(solutions[:, 0]), "y": typed_array(solutions[:, 1]), "mode": "lines",
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
    extent = float(path.w1[-1])
    for col in (1, 2):
        layout[axis_key(col, "x")].update(title={"text": "w₁"}, range=[-extent, extent])
        layout[axis_key(col, "y")].update(title={"text": "w₂" if col == 1 else ""}, range=[-extent, extent],
                                          scaleanchor=axis_refs(col)["xaxis"])
    layout["showlegend"] = False  # seven entries would bury the panel titles; the page's caption names them
    layout.update(layout_defaults(height=height, margin={"l": 60, "r": 20, "t": TOP_MARGIN_WITH_TITLES, "b": 40}))
    return live_figure(
        traces, layout, [_regularization_dynamic(path, k) for k in range(len(path.lams))],
        traces=range(first_dynamic, first_dynamic + len(dynamic)), values=path.lams, active=active, label="λ",
        redraw=True,
    )


def _regularization_dynamic(path: RegularizationPath, k: int) -> list[Trace]:
    """The arrays that move with λ: each panel's region, and its tangent contour + optimum (one trace)."""
    w_l1, w_l2 = path.lasso[k], path.ridge[k]
    out: list[Trace] = []
    for region, level, w in (
        (diamond(float(np.abs(w_l1).sum())), path.lasso_levels[k], w_l1),
        (disc(float(np.linalg.norm(w_l2))), path.ridge_levels[k], w_l2),
    ):
        x = np.concatenate([level[:, 0], [np.nan, w[0]]])  # NaN: a gap between the contour and the optimum
        y = np.concatenate([level[:, 1], [np.nan, w[1]]])
        out += [
            {"type": "scatter", "x": typed_array(region[:, 0]), "y": typed_array(region[:, 1])},
            {"type": "scatter", "x": typed_array(x), "y": typed_array(y)},
        ]
    return out


# --- multi-task ---------------------------------------------------------------------------------------


def figure_multitask(mt: MultiTask, active: int, *, log: bool = True, height: int = 480) -> FigureSpec:
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
        {"type": "contour", "x": typed_array(mt.intercepts), "y": typed_array(mt.slopes), "colorscale": SURFACE_SCALE,
         "ncontours": 25,
         "colorbar": {"title": {"text": "log₁₀ loss" if use_log else "loss"}, "x": colorbar_x, "len": 0.85,
                      "thickness": 15},
         "line": {"width": 0.5}, "hovertemplate": "a=%{x:.3f}<br>b=%{y:.3f}<br>%{z:.4g}<extra></extra>",
         "name": "weighted loss", **axis_refs(1)},
        {"type": "scatter", "x": typed_array(m[:, 0]), "y": typed_array(m[:, 1]), "mode": "lines",
         "name": "minimiser as ω moves",
         "line": {"color": "white", "width": 2, "dash": "dot"}, **axis_refs(1)},
    ]
    for idx, name, symbol in ((0, f"minimiser of {mt.loss_a}", "square"), (-1, f"minimiser of {mt.loss_b}", "diamond")):
        traces.append({"type": "scatter", "x": [float(m[idx, 0])], "y": [float(m[idx, 1])], "mode": "markers", "name": name,
                       "marker": {"symbol": symbol, "size": 11, "color": "white", "line": {"color": "black", "width": 1.5}},
                       **axis_refs(1)})
    traces.append({"type": "scatter", "x": typed_array(mt.x), "y": typed_array(mt.y), "mode": "markers",
                   "name": "training points",
                   "marker": {"color": "#7f7f7f", "size": 6}, **axis_refs(2)})
    for idx, name, color in ((0, mt.loss_a, "#1f77b4"), (-1, mt.loss_b, "#ff7f0e")):
        traces.append({"type": "scatter", "x": typed_array(xs), "y": typed_array(m[idx, 0] + m[idx, 1] * xs),
                       "mode": "lines",
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
    layout["xaxis"]["title"] = {"text": "intercept a"}
    layout["yaxis"]["title"] = {"text": "slope b"}
    layout["xaxis2"]["title"] = {"text": "x"}
    layout["yaxis2"]["title"] = {"text": "y"}
    layout.update(layout_defaults(height=height, margin={"l": 60, "r": 20, "t": 110, "b": 40}))
    return live_figure(
        traces, layout, [_multitask_dynamic(mt, k, use_log, xs) for k in range(len(mt.weights))], traces=indices,
        values=mt.weights, active=active, label="ω", redraw=True,
    )


def _multitask_dynamic(mt: MultiTask, k: int, log: bool, xs: np.ndarray) -> list[Trace]:
    """What moves with ω: the contour values, the minimiser, the fitted line."""
    z = mt.mixture(float(mt.weights[k]))
    a, b = mt.minimizers[k]
    return [
        {"type": "contour", "z": typed_array(np.log10(z) if log else z)},
        {"type": "scatter", "x": [float(a)], "y": [float(b)]},
        {"type": "scatter", "x": typed_array(xs), "y": typed_array(a + b * xs)},
    ]
