"""Figure builders of the training lab: the arrays they plot are the arrays they were given."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from lossviz.figures.training_lab import (
    columns_layout,
    figure_augmentation,
    figure_confusion_matrices,
    figure_decision_boundaries,
    figure_loss_shape,
    figure_predicted_vs_actual,
    figure_regression_fit,
    figure_training_curves,
    figure_weight_histogram,
)
from lossviz.toolkit import tables as ud
from lossviz.toolkit import tables as upload
from lossviz.toolkit import training as tr
from lossviz.toolkit.data import DataConfig, regression_curve
from tests.figure_helpers import as_array, figure_bytes


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


def test_decision_boundary_plots_the_grid_and_every_point(run: tr.TrainResult) -> None:
    grid = tr.decision_grid(run, resolution=25)
    fig = figure_decision_boundaries([("run", grid)], run.dataset)
    heat, contour = fig.data[0], fig.data[1]
    np.testing.assert_allclose(as_array(heat.z), grid.value, rtol=1e-6)
    assert heat.zmid == 0.5 and contour.contours.start == contour.contours.end == 0.5
    points = [t for t in fig.data if t.type == "scatter"]
    assert sum(len(as_array(t.x)) for t in points) == len(run.dataset.y_train) + len(run.dataset.y_val)
    assert {t.marker.symbol for t in points} == {"circle", "x-thin-open"}
    assert figure_bytes(fig) < 1_000_000


def test_comparison_boundaries_are_side_by_side(run: tr.TrainResult) -> None:
    grid = tr.decision_grid(run, resolution=10)
    fig = figure_decision_boundaries([("a", grid), ("b", grid), ("c", grid)], run.dataset)
    assert {t.xaxis for t in fig.data} == {"x", "x2", "x3"}
    assert [a.text for a in fig.layout.annotations] == ["a", "b", "c"]
    assert sum(1 for t in fig.data if t.type == "heatmap" and t.showscale) == 1


def test_multiclass_regions() -> None:
    result = tr.train(tr.default_config(DataConfig("spiral", classes=4), epochs=3))
    grid = tr.decision_grid(result, resolution=12)
    fig = figure_decision_boundaries([("run", grid)], result.dataset)
    assert fig.data[0].type == "heatmap" and fig.data[0].zmax == 3.5
    assert not any(t.type == "contour" for t in fig.data)
    assert {t.name.split(" ·")[0] for t in fig.data[1:]} == {"class 0", "class 1", "class 2", "class 3"}


def test_regression_fit_shows_outliers_truth_and_fits() -> None:
    result = tr.train(tr.default_config(DataConfig("regression"), epochs=3))
    xs, pred = tr.regression_fit(result, 40)
    fig = figure_regression_fit(xs, [("mse", pred), ("mae", pred + 1)], result.dataset, regression_curve(xs))
    names = [t.name for t in fig.data]
    assert "outlier · train" in names and "true f(x)" in names and names[-2:] == ["mse", "mae"]
    np.testing.assert_allclose(as_array(fig.data[-1].y), pred + 1, rtol=1e-6)
    n_out = int(result.dataset.outlier_train.sum())
    assert len(as_array(fig.data[names.index("outlier · train")].x)) == n_out


def test_weight_histogram_reports_the_share_of_small_weights() -> None:
    w = np.array([0.0, 0.0005, -0.0002, 0.5, -0.7, 1.0, 0.2, 0.3])
    fig = figure_weight_histogram([("l1", w)])
    assert fig.data[0].name == "l1: 38% of |w| < 0.001"
    np.testing.assert_allclose(as_array(fig.data[0].x), w, rtol=1e-6)


def _user_run(frame, features, target, epochs: int = 5) -> tr.TrainResult:
    data = ud.from_table(upload.select_dataset(frame, features, target), target, "f.csv")
    return tr.train(tr.default_config(data, epochs=epochs))


def test_user_data_boundary_is_in_the_columns_units_and_names() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"area": rng.uniform(20, 200, 60), "age": rng.uniform(0, 90, 60)})
    frame["kind"] = np.where(frame["area"] > 110, "house", "flat")
    run = _user_run(frame, ["area", "age"], "kind")
    fig = figure_decision_boundaries([("run", tr.decision_grid(run, resolution=30))], run.dataset)
    assert fig.layout.xaxis.title.text == "area" and fig.layout.yaxis.title.text == "age"
    points = [t for t in fig.data if t.type == "scatter"]
    assert {t.name for t in points} == {"flat · train", "house · train", "flat · validation", "house · validation"}
    xs = np.concatenate([as_array(t.x) for t in points])
    np.testing.assert_allclose(np.sort(xs), np.sort(frame["area"].to_numpy()), rtol=1e-6)  # float32 on the wire
    assert "area=" in fig.data[0].hovertemplate and fig.data[0].colorbar.title.text == "P(house)"


def test_regression_fit_without_a_known_curve() -> None:
    x = np.linspace(0, 50, 40)
    run = _user_run(pd.DataFrame({"size": x, "price": 3 * x + 100}), ["size"], "price")
    xs, fit = tr.regression_fit(run)
    fig = figure_regression_fit(xs, [("run", fit)], run.dataset)
    assert "true f(x)" not in {t.name for t in fig.data}
    assert fig.layout.xaxis.title.text == "size" and fig.layout.yaxis.title.text == "price"
    ys = np.concatenate([as_array(t.y) for t in fig.data if t.mode == "markers"])
    np.testing.assert_allclose(np.sort(ys), np.sort(3 * x + 100), rtol=1e-6)


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
