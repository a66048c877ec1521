"""Figure builders of the training lab: the arrays they plot are the arrays they were given."""

from __future__ import annotations

import base64
import itertools
import json
import re
import struct
import zlib

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from lossviz.figures.common import columns_layout
from lossviz.figures.training_lab import (
    figure_augmentation,
    figure_confusion_matrices,
    figure_loss_shape,
    figure_predicted_vs_actual,
    figure_run,
    figure_training_curves,
    figure_weight_histogram,
)
from lossviz.toolkit import tables as ud
from lossviz.toolkit import tables as upload
from lossviz.toolkit import training as tr
from lossviz.toolkit.data import DataConfig
from tests.figure_helpers import as_array


def _curves(n: int = 11, metric: str = "accuracy", offset: float = 0.0) -> tr.Curves:
    e = np.arange(n, dtype=float)
    return tr.Curves(e, 1 / (e + 1) + offset, 1.2 / (e + 1) + offset, e / n, e / (n + 1), metric)


@pytest.fixture(scope="module")
def run() -> tr.TrainResult:
    return tr.train(tr.default_config(epochs=5))


def test_columns_layout_domains_are_ordered_and_inside_the_paper() -> None:
    layout = columns_layout(3, ("a", "b", "c"), spacing=0.05, widths=(2, 1, 1))
    domains = [layout[k]["domain"] for k in ("xaxis", "xaxis2", "xaxis3")]
    assert domains[0][0] == 0.0 and domains[-1][1] == pytest.approx(1.0)
    assert all(d[0] < d[1] for d in domains) and all(a[1] < b[0] for a, b in itertools.pairwise(domains))
    assert (domains[0][1] - domains[0][0]) == pytest.approx(2 * (domains[1][1] - domains[1][0]))
    assert [a["text"] for a in layout["annotations"]] == ["a", "b", "c"]
    assert layout["yaxis2"]["anchor"] == "x2" and layout["xaxis3"]["anchor"] == "y3"


def test_training_curves_plot_loss_and_metric_per_split() -> None:
    c = _curves()
    fig = figure_training_curves([("run", c)])
    assert len(fig.data) == 4
    loss_train, metric_train, loss_val, metric_val = fig.data
    np.testing.assert_allclose(as_array(loss_train.y), c.train_loss, rtol=1e-6)
    np.testing.assert_allclose(as_array(metric_val.y), c.val_metric, rtol=1e-6)
    assert loss_val.line.dash == "dash" and loss_train.xaxis == "x" and metric_train.xaxis == "x2"
    assert fig.layout.yaxis2.range == (0, 1.02) and fig.layout.yaxis.type == "linear"
    assert figure_training_curves([("run", c)], log_loss=True).layout.yaxis.type == "log"


def test_log_loss_axis_only_for_positive_losses() -> None:
    negative = _curves(offset=-5.0)
    assert figure_training_curves([("run", negative)], log_loss=True).layout.yaxis.type == "linear"


def test_several_runs_get_their_own_colours_and_names() -> None:
    fig = figure_training_curves([("η = 0.1", _curves()), ("η = 0.01", _curves(offset=1))])
    assert len(fig.data) == 8
    assert fig.data[0].name == "η = 0.1" and fig.data[4].name == "η = 0.01"
    assert fig.data[2].name == "η = 0.1 · validation" and not fig.data[2].showlegend
    assert [t.showlegend for t in fig.data].count(True) == 2
    assert fig.data[0].line.color != fig.data[4].line.color
    assert "dashed: validation" in fig.layout.annotations[0].text


def test_regression_metric_has_no_fixed_range() -> None:
    fig = figure_training_curves([("run", _curves(metric="RMSE vs. true curve"))])
    assert fig.layout.yaxis2.range is None
    assert fig.layout.annotations[1].text == "RMSE vs. true curve"


def test_weight_histogram_reports_the_share_of_small_weights() -> None:
    w = np.array([0.0, 0.0005, -0.0002, 0.5, -0.7, 1.0, 0.2, 0.3])
    fig = figure_weight_histogram([("l1", w)])
    assert fig.data[0].name == "l1: 38% of |w| < 0.001"
    np.testing.assert_allclose(as_array(fig.data[0].x), w, rtol=1e-6)


def _user_run(frame, features, target, epochs: int = 5) -> tr.TrainResult:
    data = ud.from_table(upload.select_dataset(frame, features, target), target, "f.csv")
    return tr.train(tr.default_config(data, epochs=epochs))


def test_predicted_vs_actual_plots_each_run_and_the_diagonal() -> None:
    actual = np.array([1.0, 2.0, 3.0])
    fig = figure_predicted_vs_actual([("a", actual, actual + 0.5), ("b", actual, actual * 2)], "price")
    assert [t.name for t in fig.data] == ["predicted = actual", "a", "b"]
    assert list(fig.data[0].x) == [1.0, 6.0] == list(fig.data[0].y)
    np.testing.assert_allclose(as_array(fig.data[2].y), [2, 4, 6])
    assert fig.layout.xaxis.title.text == "actual price" and fig.layout.yaxis.scaleanchor == "x"


def test_confusion_matrices_colour_row_shares_and_print_counts() -> None:
    m = np.array([[8, 2, 0], [1, 1, 0], [0, 0, 0]])
    fig = figure_confusion_matrices([("run", m), ("other", np.eye(3, dtype=int))], ["a", "b", "c"])
    first = fig.data[0]
    np.testing.assert_allclose(np.array(first.z, dtype=float), [[0.8, 0.2, 0.0], [0.5, 0.5, 0.0], [0, 0, 0]])
    assert np.array(first.text).tolist() == m.tolist() and list(first.x) == ["a", "b", "c"]
    assert fig.data[1].xaxis == "x2" and [a.text for a in fig.layout.annotations] == ["run", "other"]
    assert fig.layout.yaxis.autorange == "reversed"


def test_loss_shape_plots_alpha_and_scale_per_run() -> None:
    epochs = np.arange(4.0)
    shapes = np.array([[1.0, 1.0], [0.8, 0.6], [0.5, 0.3], [0.4, 0.25]])
    fig = figure_loss_shape([("clean", epochs, shapes[::-1].copy()), ("outliers", epochs, shapes)])
    runs = [t for t in fig.data if t.legendgroup]
    assert [t.legendgroup for t in runs] == ["clean", "clean", "outliers", "outliers"]
    np.testing.assert_allclose(as_array(runs[2].y), shapes[:, 0], rtol=1e-6)
    np.testing.assert_allclose(as_array(runs[3].y), shapes[:, 1], rtol=1e-6)
    assert runs[0].xaxis == "x" and runs[1].xaxis == "x2"
    references = [t for t in fig.data if not t.legendgroup]
    assert sorted(as_array(t.y)[0] for t in references) == [0.0, 1.0, 2.0] and as_array(references[0].x)[-1] == 3.0
    assert fig.layout.yaxis2.type == "log"
    assert {"0.2", "0.5", "1"} <= set(fig.layout.yaxis2.ticktext)  # 1-2-5 ticks in full, not bare digits


def test_augmentation_joins_each_point_to_its_augmented_copy() -> None:
    dataset = DataConfig("moons", n_samples=60).make()
    moved = dataset.x_train + 0.1
    fig = figure_augmentation(dataset, moved)
    originals = [t for t in fig.data if t.name and t.name.endswith("original")]
    copies = [t for t in fig.data if t.name and t.name.endswith("augmented")]
    assert len(originals) == len(copies) == 2
    for c, (o, a) in enumerate(zip(originals, copies, strict=True)):
        mask = dataset.y_train == c
        np.testing.assert_allclose(as_array(o.x), dataset.x_train[mask, 0], rtol=1e-6)
        np.testing.assert_allclose(as_array(a.y), moved[mask, 1], rtol=1e-6)
    links = [t for t in fig.data if t.mode == "lines"]
    assert sum(int(np.isnan(as_array(t.x)).sum()) for t in links) == len(dataset.y_train)
# --- a recorded run, played -----------------------------------------------------------------------------

MAX_PAYLOAD = 2_000_000
"""Bytes of a played figure at the defaults (what the browser receives once per run)."""


def _array(values) -> np.ndarray:
    """A trace array: Plotly's typed-array form ({"dtype": "f4", "bdata": ...}) decoded, or a list."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype="<" + values["dtype"]).astype(np.float64)
    return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)


def _vertices(path: str) -> np.ndarray:
    """The (x, y) points of an SVG path of M/L/Z commands, NaN rows where a new piece starts (M)."""
    rows = []
    for command, x, y in re.findall(r"([ML])([^,MLZ]+),([^MLZ]+)", path):
        if command == "M" and rows:
            rows.append((np.nan, np.nan))
        rows.append((float(x), float(y)))
    return np.array(rows).reshape(-1, 2)


def _png_size(uri: str) -> tuple[int, int]:
    png = base64.b64decode(uri.removeprefix("data:image/png;base64,"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    at = png.index(b"IDAT")
    (length,) = struct.unpack(">I", png[at - 4 : at])
    assert len(zlib.decompress(png[at + 4 : at + 4 + length])) == height * (1 + 3 * width)  # filter byte + RGB
    return width, height


def _payload(fig: dict) -> int:
    return len(json.dumps(fig, allow_nan=False, separators=(",", ":")).encode())


def _shapes(frame: dict, xref: str, kind: str = "path") -> list[dict]:
    return [s for s in frame["layout"]["shapes"] if s["xref"] == xref and s["type"] == kind]


def _close_to(path: str, x: np.ndarray, y: np.ndarray, span: float) -> None:
    """A path's vertices are (x, y) to the thousandth of the span it is written to."""
    points = _vertices(path)
    np.testing.assert_allclose(points[:, 0], x, atol=1e-3 * span, equal_nan=True)
    np.testing.assert_allclose(points[:, 1], y, atol=1e-3 * span, equal_nan=True)


@pytest.fixture(scope="module")
def default_run() -> tr.TrainResult:
    return tr.train(tr.default_config())


def test_the_played_figure_has_one_frame_per_snapshot_and_opens_at_the_end(default_run: tr.TrainResult) -> None:
    fig = figure_run([("run", default_run)])
    s, dataset = default_run.snapshots, default_run.dataset
    assert len(fig["frames"]) == len(s.epochs) == 101
    go.Figure(fig)  # valid Plotly, typed arrays and all
    assert all(frame["data"] == [] for frame in fig["frames"])  # frames move layout only: shapes and images
    spread_axis = next(t["xaxis"] for t in fig["data"] if t.get("hovertemplate", "").startswith("epoch 0"))
    for t in (0, 37, 100):
        frame = fig["frames"][t]
        boundary, marks = _shapes(frame, "x")
        line = s.grid.boundary[t]
        _close_to(boundary["path"], line[0], line[1], 5.0)
        corners = _vertices(marks["path"])
        centres = corners[~np.isnan(corners[:, 0])].reshape(-1, 4, 2).mean(axis=1)  # a diamond around each example
        np.testing.assert_allclose(centres, dataset.raw_x(dataset.x_train[s.top[t]]), atol=5e-3)
        (image,) = frame["layout"]["images"]
        assert _png_size(image["source"]) == (tr.SNAPSHOT_RESOLUTION, tr.SNAPSHOT_RESOLUTION)
        lines = [shape for shape in frame["layout"]["shapes"] if shape["type"] == "line"]
        assert len(lines) == 3 and all(shape["x0"] == shape["x1"] == t for shape in lines)  # loss, metric, norms
        (spread,) = _shapes(frame, spread_axis)
        np.testing.assert_allclose(_vertices(spread["path"])[:, 1], s.loss_quantiles[t], rtol=1e-3)
    # pictures differ from frame to frame, and the base figure shows the end of training
    assert fig["frames"][0]["layout"]["images"][0]["source"] != fig["frames"][100]["layout"]["images"][0]["source"]
    assert all(fig["layout"][key] == fig["frames"][-1]["layout"][key] for key in ("images", "shapes"))
    loss = next(t for t in fig["data"] if t.get("name") == "train")
    np.testing.assert_allclose(_array(loss["y"]), default_run.curves.train_loss, rtol=1e-6)
    assert _payload(fig) <= MAX_PAYLOAD


def test_compared_runs_move_together_within_the_payload_budget(default_run: tr.TrainResult) -> None:
    runs = [("η = 0.001", tr.train(tr.default_config(lr=0.001))), ("η = 0.01", default_run),
            ("η = 0.1", tr.train(tr.default_config(lr=0.1))),
            ("η = 1", tr.train(tr.default_config(lr=1.0, optimizer="sgd")))]
    for count in (3, 4):  # the lab's default comparison (three learning rates) and its largest
        fig = figure_run(runs[:count])
        assert len(fig["frames"]) == 101 and _payload(fig) <= MAX_PAYLOAD
        frame = fig["frames"][20]
        axes = ["x", *(f"x{k}" for k in range(2, count + 1))]
        assert [i["xref"] for i in frame["layout"]["images"]] == axes
        for axis, (_label, run) in zip(axes, runs[:count], strict=False):  # every run at epoch 20, in its panel
            boundary = _shapes(frame, axis)[0]
            line = run.snapshots.grid.boundary[20]
            _close_to(boundary["path"], line[0], line[1], 5.0)
        assert {shape["x0"] for shape in frame["layout"]["shapes"] if shape["type"] == "line"} == {20.0}


def test_a_run_that_stopped_early_holds_its_last_snapshot() -> None:
    data = DataConfig("regression")
    good = tr.train(tr.default_config(data, epochs=30))
    stopped = tr.train(tr.default_config(data, optimizer="sgd", lr=1.0, epochs=30))
    last = int(stopped.snapshots.epochs[-1])
    assert last < 30
    fig = figure_run([("good", good), ("stopped", stopped)])
    assert len(fig["frames"]) == 31
    assert "diverged at epoch" in fig["layout"]["annotations"][1]["text"]
    fit = stopped.snapshots.fit
    for t in (last, 30):
        path = _shapes(fig["frames"][t], "x2")[0]["path"]
        _close_to(path, fit.xs, fit.value[-1], 10.0)
        _close_to(_shapes(fig["frames"][t], "x")[0]["path"], good.snapshots.fit.xs, good.snapshots.fit.value[t], 10.0)


def test_a_regression_run_moves_its_fitted_curve() -> None:
    run = tr.train(tr.default_config(DataConfig("regression"), epochs=15))
    fig = figure_run([("run", run)])
    fit = run.snapshots.fit
    assert "images" not in fig["frames"][0]["layout"]
    names = [t.get("name") for t in fig["data"]]
    assert "outlier · train" in names and "true f(x)" in names and "model" in names
    np.testing.assert_allclose(_array(fig["data"][names.index("true f(x)")]["x"]), fit.xs, rtol=1e-6)
    np.testing.assert_allclose(_array(fig["data"][names.index("true f(x)")]["y"]), fit.truth, rtol=1e-6)
    for t in (0, 15):
        _close_to(_shapes(fig["frames"][t], "x")[0]["path"], fit.xs, fit.value[t], 10.0)


def test_multiclass_regions_are_coloured_by_class() -> None:
    run = tr.train(tr.default_config(DataConfig("spiral", classes=4), epochs=3))
    fig = figure_run([("run", run)])
    image = fig["frames"][1]["layout"]["images"][0]
    assert _png_size(image["source"]) == (tr.SNAPSHOT_RESOLUTION, tr.SNAPSHOT_RESOLUTION)
    assert not any(t.get("marker", {}).get("showscale") for t in fig["data"])  # no probability scale
    assert {t["name"].split(" ·")[0] for t in fig["data"] if " · " in t.get("name", "")} == {
        "class 0", "class 1", "class 2", "class 3"}


def test_user_data_are_drawn_in_the_columns_units_and_names() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"area": rng.uniform(20, 200, 60), "age": rng.uniform(0, 90, 60)})
    frame["kind"] = np.where(frame["area"] > 110, "house", "flat")
    run = _user_run(frame, ["area", "age"], "kind")
    fig = figure_run([("run", run)])
    layout = fig["layout"]
    assert layout["xaxis"]["title"]["text"] == "area" and layout["yaxis"]["title"]["text"] == "age"
    points = [t for t in fig["data"] if " · " in t.get("name", "")]
    assert {t["name"] for t in points} == {"flat · train", "house · train", "flat · validation", "house · validation"}
    xs = np.concatenate([_array(t["x"]) for t in points])
    np.testing.assert_allclose(np.sort(xs), np.sort(frame["area"].to_numpy()), rtol=1e-6)  # float32 on the wire
    scale = next(t for t in fig["data"] if t.get("marker", {}).get("showscale"))
    assert scale["marker"]["colorbar"]["title"]["text"] == "P(house)"
    image = layout["images"][0]
    grid = run.snapshots.grid
    assert image["x"] < grid.xs[0] and image["x"] + image["sizex"] > grid.xs[-1]


def test_without_a_plane_the_played_figure_has_the_charts_only() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80), "c": rng.normal(size=80)})
    frame["y"] = frame["a"] - 2 * frame["b"] + frame["c"]
    run = _user_run(frame, ["a", "b", "c"], "y")
    fig = figure_run([("run", run)])
    assert {k for k in fig["layout"] if k.startswith("xaxis")} == {"xaxis", "xaxis2", "xaxis3", "xaxis4"}
    assert "images" not in fig["frames"][0]["layout"] and len(fig["frames"]) == 6
