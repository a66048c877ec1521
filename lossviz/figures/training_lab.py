"""Figures of the training lab: a recorded run played back (the data with the model, loss and metric curves,
the per-example loss, the norms, all moving together), loss/metric curves while training, predicted against
actual values, confusion matrices, weights, an adaptive loss's shape and scale over training, and one epoch's
augmented training points. The regularisation path and the multi-task balance are live figures over λ or ω
(:func:`~lossviz.figures.live.live_figure`): a frame holds only the arrays that change.

Pure builders (arrays in, a figure out); the arrays come from :mod:`lossviz.toolkit.training`. Figures are
assembled as one plain dict, with side-by-side panels laid out by :func:`columns_layout`: ``make_subplots`` and
trace-by-trace ``add_trace`` cost several times more, and these pages redraw on every control change. The run
figure stays a plain dict (typed arrays and all), the form :func:`lossviz.ui.live_chart.live_chart` draws.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from lossviz.figures import common as fc
from lossviz.figures.live import diamonds_path, live_figure, stacked_panels, svg_path, with_narrow
from lossviz.studies.training_lab import MultiTask, RegularizationPath, diamond, disc
from lossviz.toolkit.data import Dataset
from lossviz.toolkit.training import LOSS_LEVELS, Curves, DecisionGrid, TrainResult, shared_time_axis

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
    traces: list[fc.Trace] = []
    for k, (label, curves) in enumerate(runs):
        color = fc.run_color(k)
        x = fc.f32(curves.epochs)
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
            traces.append({**common, "x": x, "y": fc.f32(loss), "showlegend": shown, **fc.axis_refs(1)})
            traces.append({**common, "x": x, "y": fc.f32(value), "showlegend": False, **fc.axis_refs(2)})
    styles = " (solid: train, dashed: validation)" if multiple else ""
    layout = fc.columns_layout(2, (f"Loss{styles}", metric[:1].upper() + metric[1:]))
    positive = all((c.train_loss > 0).all() and (c.val_loss > 0).all() for _l, c in runs)
    layout["yaxis"]["type"] = "log" if log_loss and positive else "linear"
    if metric == "accuracy":
        layout["yaxis2"]["range"] = [0, 1.02]
    for col in (1, 2):
        layout[fc.axis_key(col)]["title"] = {"text": "epoch"}
    return fc.apply_layout(go.Figure({"data": traces, "layout": layout}), height=height, title=title,
                        margin={"l": 60, "r": 20, "t": fc.TOP_MARGIN_WITH_TITLES, "b": fc.BOTTOM_MARGIN},
                        legend=fc.legend_above_titles(height))


PointGroup = tuple[str, np.ndarray, np.ndarray, dict[str, Any]]
"""A set of points drawn alike: its name, x, y and marker (colour, symbol, size, outline width and colour)."""


def _class_points(dataset: Dataset) -> list[PointGroup]:
    """A two-feature classification's points in the data's own units, one group per class and split."""
    groups = []
    for split, x, y in (("train", dataset.x_train, dataset.y_train), ("validation", dataset.x_val, dataset.y_val)):
        x = dataset.raw_x(x)
        for c in range(max(dataset.n_classes, 2)):
            mask = y == c
            if mask.any():
                color = CLASS_COLORS[c % len(CLASS_COLORS)]
                train = split == "train"
                marker = {"color": color, "symbol": SPLIT_MARKERS[split], "size": 6 if train else 8,
                          "line": {"width": 0.5 if train else 2, "color": "white" if train else color}}
                groups.append((f"{dataset.class_label(c)} · {split}", x[mask, 0], x[mask, 1], marker))
    return groups


def _regression_points(dataset: Dataset) -> list[PointGroup]:
    """A one-feature regression's points in the data's own units, outliers (when known) in red."""
    groups = []
    for split, x, y, out in (
        ("train", dataset.x_train, dataset.y_train, dataset.outlier_train),
        ("validation", dataset.x_val, dataset.y_val, dataset.outlier_val),
    ):
        x, y = dataset.raw_x(x), dataset.raw_y(y)
        out = np.zeros(len(y), dtype=bool) if out is None else out
        for is_outlier in (False, True):
            mask = out == is_outlier
            if mask.any():
                color = "#d62728" if is_outlier else "#7f7f7f"
                marker = {"color": color, "symbol": SPLIT_MARKERS[split], "size": 6 if split == "train" else 7,
                          "opacity": 0.8, "line": {"width": 1.5 if split == "validation" else 0, "color": color}}
                groups.append((f"{'outlier' if is_outlier else 'point'} · {split}", x[mask, 0], y[mask], marker))
    return groups


def _point_traces(groups: list[PointGroup], col: int, legend: bool) -> list[fc.Trace]:
    """The points of panel ``col``: one trace per group with a legend entry, or (``legend`` off) all groups in
    one trace styled point by point, which moves a played figure's frames faster (Plotly re-derives every trace
    of a figure at each frame)."""
    refs = fc.axis_refs(col)
    if legend:
        return [{"type": "scatter", "mode": "markers", "x": fc.typed_array(x), "y": fc.typed_array(y), "name": name,
                 "legendgroup": name, "marker": marker, **refs} for name, x, y, marker in groups]

    def each(key: str, inner: str | None = None) -> list[Any]:
        return [(m[key] if inner is None else m[key][inner]) for _n, x, _y, m in groups for _ in range(len(x))]

    merged = {"color": each("color"), "symbol": each("symbol"), "size": each("size"),
              "line": {"width": each("line", "width"), "color": each("line", "color")}}
    if any("opacity" in m for *_rest, m in groups):
        merged["opacity"] = groups[0][3].get("opacity", 1.0)
    return [{"type": "scatter", "mode": "markers", "name": "data", "showlegend": False, "marker": merged,
             "x": fc.typed_array(np.concatenate([g[1] for g in groups])),
             "y": fc.typed_array(np.concatenate([g[2] for g in groups])), **refs}]


# --- a recorded run, played ------------------------------------------------------------------------------

BINARY_COLORSCALE = [[0.0, "#aec7e8"], [0.5, "#ffffff"], [1.0, "#f4a6a6"]]
"""The map of a binary model: class 0 blue, the boundary white, class 1 red (the points' colours, paler)."""
_BINARY_RGB = np.array([[174.0, 199.0, 232.0], [255.0, 255.0, 255.0], [244.0, 166.0, 166.0]])
DATA_HEIGHT, CHART_HEIGHT, ROW_GAP = 360, 220, 100
NARROW_TOP = 220
"""The run's top margin on a phone, where its legend wraps to about seven lines."""
"""Pixel heights of a run figure's data row and of each row of charts, and the room between rows (titles)."""
_MARKER_LINE = "#7f7f7f"


def _png(rgb: np.ndarray) -> str:
    """An RGB image (rows top to bottom, uint8) as a PNG data URI (RFC 2083), each of its rows unfiltered or
    filtered "Up" (the difference from the row above), whichever deflates smaller for the whole image.

    A smooth 48 × 48 map takes 1–2 kB, a fifth of its values as float32, and the browser smooths it when it
    stretches it over the panel.
    """
    height, width, _ = rgb.shape
    flat = rgb.reshape(height, -1)
    up = np.diff(flat, axis=0, prepend=np.zeros((1, flat.shape[1]), np.uint8))  # uint8 wraps: mod 256, as PNG
    body = min(
        (zlib.compress(np.concatenate([np.full((height, 1), kind, np.uint8), rows], axis=1).tobytes(), 9)
         for kind, rows in ((0, flat), (2, up))),
        key=len,
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", body)
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _hex_rgb(color: str) -> np.ndarray:
    return np.array([int(color[k : k + 2], 16) for k in (1, 3, 5)], dtype=np.float64)


def _grid_image(grid: DecisionGrid, k: int, n_classes: int, spread: float) -> np.ndarray:
    """Snapshot ``k`` of ``grid`` as RGB rows from the top: a binary pred on :data:`BINARY_COLORSCALE` from
    threshold − spread to threshold + spread; a predicted class in its colour, paler where less confident."""
    if grid.threshold is None:
        assert grid.confidence is not None
        colors = np.array([_hex_rgb(CLASS_COLORS[c % len(CLASS_COLORS)]) for c in range(n_classes)])
        chance = 1.0 / n_classes
        alpha = 0.1 + 0.3 * np.clip((grid.confidence[k] - chance) / (1.0 - chance), 0.0, 1.0)
        rgb = 255.0 + alpha[..., None] * (colors[grid.value[k].astype(int)] - 255.0)
    else:
        t = np.clip((np.nan_to_num(grid.value[k], nan=grid.threshold) - grid.threshold) / spread, -1.0, 1.0)[..., None]
        low, mid, high = _BINARY_RGB
        rgb = np.where(t < 0, mid + t * (mid - low), mid + t * (high - mid))
    return np.round(rgb[::-1]).astype(np.uint8)


def _image(grid: DecisionGrid, source: str, col: int) -> dict[str, Any]:
    """A layout image covering the grid's cells (pixel centres on the grid points) in panel ``col``."""
    dx, dy = float(grid.xs[1] - grid.xs[0]), float(grid.ys[1] - grid.ys[0])
    refs = fc.axis_refs(col)
    return {
        "source": source, "xref": refs["xaxis"], "yref": refs["yaxis"], "x": float(grid.xs[0]) - dx / 2,
        "y": float(grid.ys[-1]) + dy / 2, "sizex": float(grid.xs[-1] - grid.xs[0]) + dx,
        "sizey": float(grid.ys[-1] - grid.ys[0]) + dy, "sizing": "stretch", "layer": "below",
    }  # anchored at its top left corner, Plotly's default


def _range(values: Sequence[np.ndarray], log: bool, floor: float | None = None, decades: float = 8.0) -> list[float]:
    """A fixed axis range around every finite value (log₁₀ ends for a log axis, at most ``decades`` below the
    largest value: a loss of 10⁻⁶⁰ on an example long learnt would flatten everything else), padded 5 %."""
    finite = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in values])
    finite = finite[np.isfinite(finite) & ((finite > 0) if log else True)]
    if not finite.size:
        return [0.0, 1.0]
    lo, hi = (np.log10(finite.min()), np.log10(finite.max())) if log else (finite.min(), finite.max())
    if log:
        lo = max(lo, hi - decades)
    if floor is not None:
        lo = min(lo, floor)
    pad = 0.05 * (hi - lo) or 0.5
    return [float(lo - pad), float(hi + pad)]


def _positive(values: Sequence[np.ndarray]) -> bool:
    return all(bool((np.asarray(v)[np.isfinite(v)] > 0).all()) for v in values)


def _title(text: str, x: tuple[float, float], y: tuple[float, float]) -> dict[str, Any]:
    return {"text": text, "x": (x[0] + x[1]) / 2, "y": y[1], "xref": "paper", "yref": "paper", "xanchor": "center",
            "yanchor": "bottom", "yshift": 4, "showarrow": False, "font": {"size": 13}}


def _positive_only(values: np.ndarray, log: bool) -> np.ndarray:
    """A path's values on a log axis (Plotly takes path coordinates in data units): non-positive ones are gaps."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(values > 0, values, np.nan) if log else values


def _path_shape(col: int, path: str, color: str, width: float = 2.0, dash: str = "solid") -> dict[str, Any]:
    refs = fc.axis_refs(col)
    line = {"color": color, "width": width, **({"dash": dash} if dash != "solid" else {})}
    return {"type": "path", "xref": refs["xaxis"], "yref": refs["yaxis"], "path": path, "line": line}


def _epoch_line(col: int, epoch: float) -> dict[str, Any]:
    """The epoch shown, across a chart (its whole height, whatever the axis's scale)."""
    refs = fc.axis_refs(col)
    return {"type": "line", "xref": refs["xaxis"], "yref": f"{refs['yaxis']} domain", "x0": epoch, "x1": epoch,
            "y0": 0, "y1": 1, "line": {"color": _MARKER_LINE, "width": 1.5, "dash": "dot"}}


def _legend_entry(name: str, **style: Any) -> fc.Trace:
    """A legend entry for something drawn as a shape (shapes move faster than traces, see figures.live)."""
    return {"type": "scatter", "x": [None], "y": [None], "name": name, "hoverinfo": "skip", **style}


TOP_MARK = (0.022, 0.035)
"""Half-widths of the diamond around a high-loss example, as shares of its panel's x and y spans."""


def figure_run(runs: Sequence[tuple[str, TrainResult]], *, log_loss: bool = False) -> dict[str, Any]:
    """A recorded run, or 2–4 runs compared on the same data, as one plain-dict figure whose frames step through
    their shared snapshot epochs (:func:`lossviz.toolkit.training.shared_time_axis`): frame t shows every run
    at its snapshot of shared epoch t (a run that stopped early holds its last), the base figure the end.

    Panels: the data with each model (a two-feature classification's decision map and boundary, or a
    one-feature regression's fitted curve), one per run, the :data:`TOP_K` training examples with the largest
    loss marked by diamonds; then the loss and the metric per epoch (training solid, validation dashed), the
    sorted per-example training loss (its quantiles; dotted, at epoch 0), and the gradient and weight norms,
    each with the epoch shown as a dotted line. Everything that moves is a layout shape or image (a frame is
    a layout change, see :mod:`lossviz.figures.live`); the curves are traces, with hover. Axis ranges are
    fixed, so that nothing but the data moves.
    """
    snapshots = [r.snapshots for _label, r in runs]
    epochs, index = shared_time_axis(snapshots)
    dataset = runs[0][1].dataset
    first = snapshots[0]
    has_data = first.grid is not None or first.fit is not None
    n = len(runs)
    multiple = n > 1
    colors = [fc.run_color(k) for k in range(n)]
    labels = [label + (f" (diverged at epoch {r.diverged_at})" if r.diverged_at is not None else "") for label, r in runs]

    # rows from the top: the data (one panel per run), then two rows of two charts
    rows = ([DATA_HEIGHT] if has_data else []) + [CHART_HEIGHT, CHART_HEIGHT]
    top, bottom = 90, 50
    plot = sum(rows) + ROW_GAP * (len(rows) - 1)
    heights, y = [], float(plot)
    for h in rows:
        heights.append(((y - h) / plot, y / plot))
        y -= h + ROW_GAP
    data_cols = n if has_data else 0
    loss_col, metric_col, spread_col, norm_col = (data_cols + k for k in range(1, 5))
    layout: dict[str, Any] = {"annotations": []}

    def panel(col: int, across: tuple[float, float], down: tuple[float, float], title: str,
              xaxis: dict[str, Any], yaxis: dict[str, Any]) -> None:
        refs = fc.axis_refs(col)
        layout[fc.axis_key(col, "x")] = {"domain": list(across), "anchor": refs["yaxis"], **xaxis}
        layout[fc.axis_key(col, "y")] = {"domain": list(down), "anchor": refs["xaxis"], **yaxis}
        layout["annotations"].append(_title(title, across, down))

    charts = heights[-2:]
    halves = ((0.0, 0.44), (0.56, 1.0))
    last_epoch = float(epochs[-1])
    epoch_axis = {"title": {"text": "epoch"}, "range": [-0.02 * last_epoch, 1.02 * last_epoch or 1.0]}
    traces: list[fc.Trace] = []

    # --- the data row: points and legend entries (traces), the maps, lines and marks of each frame (layout)
    spreads: list[float] = []
    data_ranges: list[tuple[list[float], list[float]]] = []
    if first.grid is not None:
        grids = [s.grid for s in snapshots]
        for g in grids:
            assert g is not None
            if g.threshold is not None:
                finite = np.abs(g.value[np.isfinite(g.value)] - g.threshold)
                spreads.append(float(finite.max()) if finite.size and finite.max() > 0 else 1.0)
        shared_scale = len({(g.label, g.threshold) for g in grids if g is not None}) == 1
        spread = max(spreads) if spreads and shared_scale else None
        axes = (dataset.feature_label(0), dataset.feature_label(1))
        for col, (g, label) in enumerate(zip(grids, labels, strict=True), start=1):
            assert g is not None
            x = (col - 1) / n + (0.02 if n > 1 else 0.0), col / n - (0.02 if n > 1 else 0.0)
            ranges = [float(g.xs[0]), float(g.xs[-1])], [float(g.ys[0]), float(g.ys[-1])]
            data_ranges.append(ranges)
            panel(col, x, heights[0], label if multiple else "the data and the model",
                  xaxis={"title": {"text": axes[0]}, "range": ranges[0]},
                  yaxis={"title": {"text": axes[1] if col == 1 else ""}, "range": ranges[1]})
            traces += _point_traces(_class_points(dataset), col, legend=col == 1)
        traces.append(_legend_entry("decision boundary", mode="lines", line={"color": "black", "width": 2}))
        if spread is not None and grids[0] is not None and grids[0].threshold is not None:
            t = grids[0].threshold
            traces.append({
                "type": "scatter", "x": [None], "y": [None], "mode": "markers", "showlegend": False,
                "hoverinfo": "skip", **fc.axis_refs(1),
                "marker": {"color": [t], "cmin": t - spread, "cmax": t + spread, "colorscale": BINARY_COLORSCALE,
                           # In pixels from the top, beside the data panel on a phone's taller layout too.
                           "showscale": True, "colorbar": {"title": {"text": grids[0].label}, "lenmode": "pixels",
                                                           "len": int(0.8 * DATA_HEIGHT), "y": 1.0,
                                                           "yanchor": "top", "thickness": 14}},
            })
    elif first.fit is not None:
        y_all = dataset.raw_y(np.concatenate([dataset.y_train, dataset.y_val]))
        pad = 0.15 * float(np.ptp(y_all) or 1.0)
        for col, label in enumerate(labels, start=1):
            x = (col - 1) / n + (0.02 if n > 1 else 0.0), col / n - (0.02 if n > 1 else 0.0)
            fit = snapshots[col - 1].fit
            assert fit is not None
            ranges = [float(fit.xs[0]), float(fit.xs[-1])], [float(y_all.min()) - pad, float(y_all.max()) + pad]
            data_ranges.append(ranges)
            panel(col, x, heights[0], label if multiple else "the data and the model",
                  xaxis={"title": {"text": dataset.feature_names[0] if dataset.feature_names else "x"},
                         "range": ranges[0]},
                  yaxis={"title": {"text": dataset.target_name if col == 1 else ""}, "range": ranges[1]})
            traces += _point_traces(_regression_points(dataset), col, legend=col == 1)
            if fit.truth is not None:
                traces.append({"type": "scatter", "x": fc.typed_array(fit.xs), "y": fc.typed_array(fit.truth),
                               "mode": "lines", "name": "true f(x)", "showlegend": col == 1,
                               "line": {"color": "black", "dash": "dot"}, **fc.axis_refs(col)})
        if not multiple:
            traces.append(_legend_entry("model", mode="lines", line={"color": colors[0], "width": 3}))
    if has_data:
        traces.append(_legend_entry(f"top {first.top.shape[1]} losses", mode="markers",
                                    marker={"symbol": "diamond-open", "size": 13, "color": "black",
                                            "line": {"width": 2}}))

    # --- the charts: the curves are static traces
    metric = runs[0][1].curves.metric
    curves = [r.curves for _label, r in runs]
    loss_log = log_loss and _positive([c.train_loss for c in curves] + [c.val_loss for c in curves])
    levels = 100.0 * LOSS_LEVELS
    for k, (label, c) in enumerate(zip(labels, curves, strict=True)):
        for split, loss, value, dash in (("train", c.train_loss, c.train_metric, "solid"),
                                         ("validation", c.val_loss, c.val_metric, "dash")):
            name, shown = (label, split == "train") if multiple else (split, True)
            common = {"type": "scatter", "mode": "lines", "line": {"color": colors[k], "dash": dash, "width": 2},
                      "legendgroup": label if multiple else split, "name": name, "x": fc.typed_array(c.epochs)}
            traces.append({**common, "y": fc.typed_array(loss), "showlegend": shown, **fc.axis_refs(loss_col),
                           "hovertemplate": f"{split} loss %{{y:.4g}} at epoch %{{x}}<extra>{label}</extra>"})
            traces.append({**common, "y": fc.typed_array(value), "showlegend": False, **fc.axis_refs(metric_col),
                           "hovertemplate": f"{split} {metric} %{{y:.4g}} at epoch %{{x}}<extra>{label}</extra>"})
        s = snapshots[k]
        for what, values, dash in (("‖∇L‖", s.grad_norm, "solid"), ("‖w‖", s.weight_norm, "dot")):
            traces.append({"type": "scatter", "mode": "lines", "x": fc.typed_array(s.epochs), "y": fc.typed_array(values),
                           "showlegend": False, "line": {"color": colors[k], "dash": dash, "width": 1.5},
                           "hovertemplate": f"{what} %{{y:.4g}} at epoch %{{x}}<extra>{label}</extra>",
                           **fc.axis_refs(norm_col)})
        traces.append({"type": "scatter", "mode": "lines", "x": fc.typed_array(levels),
                       "y": fc.typed_array(s.loss_quantiles[0]), "showlegend": False, "opacity": 0.5,
                       "line": {"color": colors[k], "dash": "dot", "width": 1}, **fc.axis_refs(spread_col),
                       "hovertemplate": "epoch 0: %{x:.0f} % of the examples below %{y:.4g}<extra>" + label
                       + "</extra>"})
    loss_range = _range([c.train_loss for c in curves] + [c.val_loss for c in curves], loss_log)
    metric_range = [0.0, 1.02] if metric == "accuracy" else _range(
        [c.train_metric for c in curves] + [c.val_metric for c in curves], False, floor=0.0)
    norm_log = _positive([s.grad_norm for s in snapshots] + [s.weight_norm for s in snapshots])
    norm_range = _range([s.grad_norm for s in snapshots] + [s.weight_norm for s in snapshots], norm_log)
    quantiles = [s.loss_quantiles for s in snapshots]
    spread_log = _positive(quantiles)
    spread_range = _range(quantiles, spread_log)

    def scale(log: bool, axis_range: list[float]) -> dict[str, Any]:
        return {"type": "log" if log else "linear", "range": axis_range, "exponentformat": "power"}

    data_titles = len(layout["annotations"])  # one per data panel; the four charts' titles follow
    panel(loss_col, halves[0], charts[0], "loss", xaxis=epoch_axis, yaxis=scale(loss_log, loss_range))
    panel(metric_col, halves[1], charts[0], metric, xaxis=epoch_axis, yaxis=scale(False, metric_range))
    panel(spread_col, halves[0], charts[1], "per-example loss, sorted",
          xaxis={"title": {"text": "% of training examples"}, "range": [0, 100]}, yaxis=scale(spread_log, spread_range))
    panel(norm_col, halves[1], charts[1], "‖∇L‖ (solid), ‖w‖ (dotted)", xaxis=epoch_axis,
          yaxis=scale(norm_log, norm_range))
    top_k = first.top.shape[1]
    band = {"type": "rect", "xref": fc.axis_refs(spread_col)["xaxis"], "yref": f"{fc.axis_refs(spread_col)['yaxis']} domain",
            "x0": 100.0 * (1 - top_k / len(dataset.y_train)), "x1": 100.0, "y0": 0, "y1": 1,
            "fillcolor": "#7f7f7f", "opacity": 0.12, "line": {"width": 0}, "layer": "below"}

    # --- the frames: layout only (shapes and images), see lossviz.figures.live
    sources: dict[tuple[int, int], str] = {}

    def frame(t: int) -> dict[str, Any]:
        shapes: list[dict[str, Any]] = [band]
        images = []
        for r, s in enumerate(snapshots):
            j = int(index[r, t])
            col = r + 1
            top_rows = s.top[j]
            if s.grid is not None:
                if (r, j) not in sources:
                    sources[r, j] = _png(_grid_image(s.grid, j, max(dataset.n_classes, 2), spreads[r] if spreads else 1.0))
                images.append(_image(s.grid, sources[r, j], col))
                shapes.append(_path_shape(col, svg_path(*s.grid.boundary[j]), "black"))
                points = dataset.raw_x(dataset.x_train[top_rows])
            elif s.fit is not None:
                shapes.append(_path_shape(col, svg_path(s.fit.xs, s.fit.value[j]), colors[r], width=3))
                points = np.stack([dataset.raw_x(dataset.x_train[top_rows])[:, 0],
                                   dataset.raw_y(dataset.y_train[top_rows])], axis=1)
            if has_data:
                (x0, x1), (y0, y1) = data_ranges[r]
                marks = diamonds_path(points[:, 0], points[:, 1], TOP_MARK[0] * (x1 - x0), TOP_MARK[1] * (y1 - y0))
                shapes.append(_path_shape(col, marks, "black"))
            shapes.append(_path_shape(spread_col, svg_path(levels, _positive_only(s.loss_quantiles[j], spread_log), log_y=spread_log),
                                      colors[r]))
        epoch = float(epochs[t])
        shapes += [_epoch_line(col, epoch) for col in (loss_col, metric_col, norm_col)]
        return {"data": [], "traces": [], "layout": {"shapes": shapes, **({"images": images} if images else {})}}

    frames = [frame(t) for t in range(len(epochs))]
    layout.update(frames[-1]["layout"])
    height = plot + top + bottom
    layout.update({**fc.LAYOUT_DEFAULTS, "height": height, "margin": {"l": 60, "r": 20, "t": top, "b": bottom},
                   "legend": fc.legend_above_titles(height, top, bottom), "hovermode": "closest"})
    # On a phone each chart gets a row of its own (two side by side overlapped their titles and axis labels);
    # the data panels stay one row, and the legend, about seven lines there, more room above them.
    chart_cols = (loss_col, metric_col, spread_col, norm_col)
    weights = [float(h) for h in ([DATA_HEIGHT] if has_data else []) + [CHART_HEIGHT] * len(chart_cols)]
    narrow_plot = int(sum(weights)) + ROW_GAP * (len(weights) - 1)
    narrow_height = NARROW_TOP + narrow_plot + bottom
    narrow = stacked_panels(
        layout,
        ([[(fc.axis_key(c, "x"), fc.axis_key(c, "y")) for c in range(1, data_cols + 1)]] if has_data else [])
        + [[(fc.axis_key(c, "x"), fc.axis_key(c, "y"))] for c in chart_cols],
        titles=([list(range(data_titles))] if has_data else []) + [[data_titles + k] for k in range(len(chart_cols))],
        height=narrow_height, gap=ROW_GAP / narrow_plot, weights=weights,
    )
    narrow |= {"margin.t": NARROW_TOP, "legend.y": fc.legend_above_titles(narrow_height, NARROW_TOP, bottom)["y"]}
    return with_narrow({"data": traces, "layout": layout, "frames": frames}, narrow)


def figure_predicted_vs_actual(
    runs: Sequence[tuple[str, np.ndarray, np.ndarray]], target_name: str = "y", *, height: int = 420
) -> go.Figure:
    """Predicted against actual targets per run (``(label, actual, predicted)``), with the line y = x
    on which a perfect model's points would lie."""
    traces: list[fc.Trace] = []
    finite = [v for _l, a, p in runs for v in (a, p) if v.size]
    everything = np.concatenate(finite) if finite else np.zeros(1)
    lo, hi = float(np.min(everything)), float(np.max(everything))
    traces.append({"type": "scatter", "x": [lo, hi], "y": [lo, hi], "mode": "lines", "name": "predicted = actual",
                   "line": {"color": "black", "dash": "dot", "width": 1}})
    for k, (label, actual, predicted) in enumerate(runs):
        traces.append(
            {"type": "scatter", "x": fc.f32(actual), "y": fc.f32(predicted), "mode": "markers", "name": label,
             "marker": {"color": fc.run_color(k), "size": 6, "opacity": 0.6},
             "hovertemplate": "actual %{x:.4g}<br>predicted %{y:.4g}<extra>" + label + "</extra>"}
        )
    layout = {"xaxis": {"title": {"text": f"actual {target_name}"}},
              "yaxis": {"title": {"text": f"predicted {target_name}"}, "scaleanchor": "x"}}
    return fc.apply_layout(go.Figure({"data": traces, "layout": layout}), height=height)


def figure_confusion_matrices(
    runs: Sequence[tuple[str, np.ndarray]], class_names: Sequence[str], *, height: int = 400
) -> go.Figure:
    """Confusion matrices side by side: the share of each true class (row) predicted as each class
    (column), coloured by that share and annotated with the counts."""
    k = max(len(runs), 1)
    layout = fc.columns_layout(k, [label for label, _m in runs] if k > 1 else None, spacing=0.06 if k > 1 else 0.0)
    traces: list[fc.Trace] = []
    names = list(class_names)
    for col, (_label, matrix) in enumerate(runs, start=1):
        totals = matrix.sum(axis=1, keepdims=True)
        share = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
        traces.append(
            {"type": "heatmap", "x": names, "y": names, "z": share.tolist(), "zmin": 0.0, "zmax": 1.0,
             "colorscale": "Blues", "showscale": col == k, "colorbar": {"title": {"text": "share of row"}},
             "text": matrix.tolist(), "texttemplate": "%{text}",
             "hovertemplate": "true %{y}<br>predicted %{x}<br>%{text} points (%{z:.0%})<extra></extra>",
             **fc.axis_refs(col)}
        )
        layout[fc.axis_key(col, "x")].update(title={"text": "predicted class"}, type="category")
        layout[fc.axis_key(col, "y")].update(title={"text": "true class" if col == 1 else ""}, type="category",
                                          autorange="reversed")
    top = fc.TOP_MARGIN_WITH_TITLES if k > 1 else 40
    return fc.apply_layout(go.Figure({"data": traces, "layout": layout}), height=height,
                        margin={"l": 80, "r": 20, "t": top, "b": fc.BOTTOM_MARGIN})


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
            {"type": "histogram", "x": fc.f32(w), "name": f"{label}: {share:.0%} of |w| < {zero_tol:g}", "opacity": 0.6,
             "marker": {"color": fc.run_color(k)}, "xbins": {"start": -lim, "end": lim, "size": 2 * lim / 80}}
        )
    layout = {"barmode": "overlay", "xaxis": {"title": {"text": "weight value"}}, "yaxis": {"title": {"text": "count"}}}
    return fc.apply_layout(go.Figure({"data": traces, "layout": layout}), height=height)


def figure_loss_shape(
    runs: Sequence[tuple[str, np.ndarray, np.ndarray]], *, alpha_range: tuple[float, float] = (0.0, 2.0),
    height: int = 320,
) -> go.Figure:
    """The adaptive loss's shape α (left) and scale c (right) after each epoch, one line per run
    (``(label, epochs, shapes)`` with ``shapes[k] = (α, c)``); dotted lines mark α = 2 (Gaussian), 1
    (pseudo-Huber) and 0 (Cauchy) within ``alpha_range``, the range α is learned in."""
    traces: list[fc.Trace] = []
    for k, (label, epochs, shapes) in enumerate(runs):
        common = {"type": "scatter", "mode": "lines", "line": {"color": fc.run_color(k), "width": 2}, "legendgroup": label,
                  "name": label}
        traces.append({**common, "y": fc.typed_array(shapes[:, 0]), "x": fc.typed_array(epochs), "showlegend": len(runs) > 1,
                       "hovertemplate": "epoch %{x}<br>α = %{y:.3f}<extra>" + label + "</extra>", **fc.axis_refs(1)})
        traces.append({**common, "y": fc.typed_array(shapes[:, 1]), "x": fc.typed_array(epochs), "showlegend": False,
                       "hovertemplate": "epoch %{x}<br>c = %{y:.4g}<extra>" + label + "</extra>", **fc.axis_refs(2)})
    last = max((float(e[-1]) for _l, e, _s in runs), default=1.0)
    for value, name in ((2.0, "Gaussian"), (1.0, "pseudo-Huber"), (0.0, "Cauchy")):
        traces.append({"type": "scatter", "mode": "lines+text", "x": [0.0, last], "y": [value, value],
                       "text": ["", name],
                       "textposition": "bottom left" if value == 2.0 else "top left",  # labels inside the range
                       "line": {"color": "#7f7f7f", "dash": "dot", "width": 1}, "hoverinfo": "skip",
                       "showlegend": False, **fc.axis_refs(1)})
    layout = fc.columns_layout(2, ("shape α", "scale c"), spacing=0.1)
    layout["yaxis"]["range"] = [alpha_range[0] - 0.05, alpha_range[1] + 0.05]
    scales = np.concatenate([s[:, 1] for _l, _e, s in runs]) if runs else np.ones(1)
    ladder = [m * 10.0**k for k in range(math.floor(math.log10(scales.min())), math.ceil(math.log10(scales.max())) + 1)
              for m in (1, 2, 5)]
    # 1-2-5 ticks labelled in full: c often spans a decade or less, where Plotly's log ticks print bare digits
    layout["yaxis2"].update(type="log", tickvals=ladder, ticktext=[f"{v:g}" for v in ladder])
    for col in (1, 2):
        layout[fc.axis_key(col)]["title"] = {"text": "epoch"}
    return fc.apply_layout(go.Figure({"data": traces, "layout": layout}), height=height,
                        margin={"l": 60, "r": 20, "t": fc.TOP_MARGIN_WITH_TITLES if len(runs) > 1 else 40,
                                "b": fc.BOTTOM_MARGIN},
                        **({"legend": fc.legend_above_titles(height)} if len(runs) > 1 else {}))


def figure_augmentation(dataset: Dataset, augmented: np.ndarray, *, height: int = 380) -> go.Figure:
    """The training points of a 2-D dataset (faint) and the augmented copy one epoch trained on (``augmented``,
    same rows, in the data's own units), coloured by class, each moved point joined to where it came from."""
    x = dataset.raw_x(dataset.x_train)
    traces: list[fc.Trace] = []
    for c in range(max(dataset.n_classes, 2)):
        mask = dataset.y_train == c
        if not mask.any():
            continue
        color = CLASS_COLORS[c % len(CLASS_COLORS)]
        a, b = x[mask], augmented[mask]
        gaps = np.full(len(a), np.nan)
        traces.append({"type": "scatter", "mode": "lines", "hoverinfo": "skip", "showlegend": False,
                       "x": fc.typed_array(np.stack([a[:, 0], b[:, 0], gaps], axis=1).ravel()),
                       "y": fc.typed_array(np.stack([a[:, 1], b[:, 1], gaps], axis=1).ravel()),
                       "line": {"color": color, "width": 0.5}, "opacity": 0.4})
        traces.append({"type": "scatter", "mode": "markers", "name": f"{dataset.class_label(c)} · original",
                       "x": fc.typed_array(a[:, 0]), "y": fc.typed_array(a[:, 1]),
                       "marker": {"color": color, "size": 6, "opacity": 0.25}})
        traces.append({"type": "scatter", "mode": "markers", "name": f"{dataset.class_label(c)} · augmented",
                       "x": fc.typed_array(b[:, 0]), "y": fc.typed_array(b[:, 1]),
                       "marker": {"color": color, "size": 6, "symbol": "diamond",
                                  "line": {"width": 0.5, "color": "white"}}})
    layout = {"xaxis": {"title": {"text": dataset.feature_label(0)}},
              "yaxis": {"title": {"text": dataset.feature_label(1)}, "scaleanchor": "x"}}
    return fc.apply_layout(go.Figure({"data": traces, "layout": layout}), height=height)


# --- regularisation paths and the multi-task balance --------------------------------------------

_L1_COLOR, _L2_COLOR = "#d62728", "#1f77b4"


def figure_regularization(path: RegularizationPath, *, height: int = 520) -> fc.FigureSpec:
    """L1 (left) and L2 (right) on the MSE contours of a 2-parameter linear model, live in λ.

    Each panel: the data-loss contours, the least-squares fit, the path of the regularised optimum
    over λ, and for the current λ the constraint region that optimum sits on (diamond ‖w‖₁ ≤ t,
    disc ‖w‖₂ ≤ r), the loss contour through it (``path.*_levels[k]``, tangent to the region) and the
    optimum itself. Frame k shows λ = ``path.lams[k]`` (:func:`lossviz.figures.live.live_figure`); the
    traces show the first.
    """
    layout = fc.columns_layout(2, ("L1 penalty (lasso): ‖w‖₁ ≤ t", "L2 penalty (ridge): ‖w‖₂ ≤ r"), spacing=0.08)
    shown, _label = fc.display_values(path.loss, log=True)
    traces: list[fc.Trace] = []
    for col, (name, solutions, color) in enumerate(
        (("lasso", path.lasso, _L1_COLOR), ("ridge", path.ridge, _L2_COLOR)), start=1
    ):
        refs = fc.axis_refs(col)
        traces += [
            {"type": "contour", "x": fc.typed_array(path.w1), "y": fc.typed_array(path.w2), "z": fc.typed_array(shown),
             "colorscale": "Greys",
             "reversescale": True, "opacity": 0.9, "showscale": False, "ncontours": 24,
             "contours": {"coloring": "lines"}, "hoverinfo": "skip", "name": "MSE", **refs},
            {"type": "scatter", "x": fc.typed_array(solutions[:, 0]), "y": fc.typed_array(solutions[:, 1]), "mode": "lines",
             "name": f"{name} path over λ", "line": {"color": color, "width": 2, "dash": "dot"}, **refs},
            {"type": "scatter", "x": [float(path.least_squares[0])], "y": [float(path.least_squares[1])],
             "mode": "markers", "name": "least squares", "showlegend": col == 1,
             "marker": {"symbol": "x", "size": 11, "color": "black"}, **refs},
        ]
    first_dynamic = len(traces)
    for col, (name, color) in enumerate((("lasso", _L1_COLOR), ("ridge", _L2_COLOR)), start=1):
        refs = fc.axis_refs(col)
        level_len = len(path.lasso_levels[0] if col == 1 else path.ridge_levels[0])
        traces += [
            {"type": "scatter", "mode": "lines", "fill": "toself", "opacity": 0.35, "line": {"color": color, "width": 2},
             "name": f"{name} constraint region", "hoverinfo": "skip", **refs},
            {"type": "scatter", "mode": "lines+markers", "name": f"{name} optimum and the MSE contour through it",
             "line": {"color": color, "width": 1.5, "dash": "dash"}, "hovertemplate": "w = (%{x:.4g}, %{y:.4g})<extra></extra>",
             "marker": {"size": [0] * (level_len + 1) + [11], "color": color, "line": {"color": "white", "width": 1}},
             **refs},
        ]
    frames = [_regularization_dynamic(path, k) for k in range(len(path.lams))]
    for trace, update in zip(traces[first_dynamic:], frames[0], strict=True):
        trace.update(update)
    extent = float(path.w1[-1])
    for col in (1, 2):
        layout[fc.axis_key(col, "x")].update(title={"text": "w₁"}, range=[-extent, extent])
        layout[fc.axis_key(col, "y")].update(title={"text": "w₂" if col == 1 else ""}, range=[-extent, extent],
                                          scaleanchor=fc.axis_refs(col)["xaxis"])
    layout["showlegend"] = False  # seven entries would bury the panel titles; the page's caption names them
    layout.update(fc.layout_defaults(height=height, margin={"l": 60, "r": 20, "t": fc.TOP_MARGIN_WITH_TITLES, "b": 40}))
    return live_figure(traces, layout, frames, traces=range(first_dynamic, len(traces)))


def _regularization_dynamic(path: RegularizationPath, k: int) -> list[fc.Trace]:
    """The arrays that move with λ: each panel's region, and its tangent contour + optimum (one trace)."""
    w_l1, w_l2 = path.lasso[k], path.ridge[k]
    out: list[fc.Trace] = []
    for region, level, w in (
        (diamond(float(np.abs(w_l1).sum())), path.lasso_levels[k], w_l1),
        (disc(float(np.linalg.norm(w_l2))), path.ridge_levels[k], w_l2),
    ):
        x = np.concatenate([level[:, 0], [np.nan, w[0]]])  # NaN: a gap between the contour and the optimum
        y = np.concatenate([level[:, 1], [np.nan, w[1]]])
        out += [
            {"type": "scatter", "x": fc.typed_array(region[:, 0]), "y": fc.typed_array(region[:, 1])},
            {"type": "scatter", "x": fc.typed_array(x), "y": fc.typed_array(y)},
        ]
    return out


# --- multi-task ---------------------------------------------------------------------------------------


def figure_multitask(mt: MultiTask, *, log: bool = True, height: int = 480) -> fc.FigureSpec:
    """(1 − ω)·L_A + ω·L_B over the line's (intercept, slope), with its minimiser, and the fitted line, live in ω.

    Left: contours of the weighted sum, the minimisers of L_A (ω = 0) and L_B (ω = 1), the path of
    minimisers over ω and the current one. Right: the data and the line of the current minimiser.
    Frame k shows ω = ``mt.weights[k]`` (:func:`lossviz.figures.live.live_figure`); the traces show the first.
    """
    layout = fc.columns_layout(2, spacing=0.2, widths=(0.55, 0.45))
    colorbar_x = layout["xaxis"]["domain"][1] + 0.01
    use_log = log and bool((mt.z_a > 0).all() and (mt.z_b > 0).all())
    m = mt.minimizers
    order = np.argsort(mt.x)
    xs = mt.x[order][[0, -1]]
    traces: list[fc.Trace] = [
        {"type": "contour", "x": fc.typed_array(mt.intercepts), "y": fc.typed_array(mt.slopes), "colorscale": fc.SURFACE_SCALE,
         "ncontours": 25,
         "colorbar": {"title": {"text": "log₁₀ loss" if use_log else "loss"}, "x": colorbar_x, "len": 0.85,
                      "thickness": 15},
         "line": {"width": 0.5}, "hovertemplate": "a=%{x:.3f}<br>b=%{y:.3f}<br>%{z:.4g}<extra></extra>",
         "name": "weighted loss", **fc.axis_refs(1)},
        {"type": "scatter", "x": fc.typed_array(m[:, 0]), "y": fc.typed_array(m[:, 1]), "mode": "lines",
         "name": "minimiser as ω moves",
         "line": {"color": "white", "width": 2, "dash": "dot"}, **fc.axis_refs(1)},
    ]
    for idx, name, symbol in ((0, f"minimiser of {mt.loss_a}", "square"), (-1, f"minimiser of {mt.loss_b}", "diamond")):
        traces.append({"type": "scatter", "x": [float(m[idx, 0])], "y": [float(m[idx, 1])], "mode": "markers", "name": name,
                       "marker": {"symbol": symbol, "size": 11, "color": "white", "line": {"color": "black", "width": 1.5}},
                       **fc.axis_refs(1)})
    traces.append({"type": "scatter", "x": fc.typed_array(mt.x), "y": fc.typed_array(mt.y), "mode": "markers",
                   "name": "training points",
                   "marker": {"color": "#7f7f7f", "size": 6}, **fc.axis_refs(2)})
    for idx, name, color in ((0, mt.loss_a, "#1f77b4"), (-1, mt.loss_b, "#ff7f0e")):
        traces.append({"type": "scatter", "x": fc.typed_array(xs), "y": fc.typed_array(m[idx, 0] + m[idx, 1] * xs),
                       "mode": "lines",
                       "name": f"fit of {name} alone", "line": {"color": color, "width": 1.5, "dash": "dash"},
                       **fc.axis_refs(2)})
    marker_index = len(traces)
    traces += [
        {"type": "scatter", "mode": "markers", "name": "current minimiser",
         "marker": {"symbol": "star", "size": 15, "color": "#d62728", "line": {"color": "white", "width": 1}},
         **fc.axis_refs(1)},
        {"type": "scatter", "mode": "lines", "name": "current fit", "line": {"color": "#d62728", "width": 3}, **fc.axis_refs(2)},
    ]
    indices = [0, marker_index, marker_index + 1]
    frames = [_multitask_dynamic(mt, k, use_log, xs) for k in range(len(mt.weights))]
    for i, update in zip(indices, frames[0], strict=True):
        traces[i].update(update)
    layout["xaxis"]["title"] = {"text": "intercept a"}
    layout["yaxis"]["title"] = {"text": "slope b"}
    layout["xaxis2"]["title"] = {"text": "x"}
    layout["yaxis2"]["title"] = {"text": "y"}
    layout.update(fc.layout_defaults(height=height, margin={"l": 60, "r": 20, "t": 110, "b": 40}))
    return live_figure(traces, layout, frames, traces=indices)


def _multitask_dynamic(mt: MultiTask, k: int, log: bool, xs: np.ndarray) -> list[fc.Trace]:
    """What moves with ω: the contour values, the minimiser, the fitted line."""
    z = mt.mixture(float(mt.weights[k]))
    a, b = mt.minimizers[k]
    return [
        {"type": "contour", "z": fc.typed_array(np.log10(z) if log else z)},
        {"type": "scatter", "x": [float(a)], "y": [float(b)]},
        {"type": "scatter", "x": fc.typed_array(xs), "y": fc.typed_array(a + b * xs)},
    ]
