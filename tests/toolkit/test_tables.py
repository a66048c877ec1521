"""Users' tables: parsing and validation of uploaded CSV files (each bad input gets its message), the task a
target makes, and a table as training-lab data (sampling, split, standardisation, units of the results, privacy)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lossviz.errors import ParameterError
from lossviz.studies import neural_landscape as nl
from lossviz.toolkit import training as tr
from lossviz.toolkit.tables import (
    Table,
    UploadError,
    UploadLimits,
    UserData,
    from_table,
    infer_classify,
    plot_subsample,
    read_csv,
    select_dataset,
    select_numeric,
    tail_share,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# --- parsing and validating a file -----------------------------------------------------------------

def test_reads_comma_semicolon_and_bom():
    for text in ("x,y\n1,2\n3,4\n", "x;y\n1;2\n3;4\n", "\ufeffx,y\n1,2\n3,4\n"):
        frame = read_csv(text.encode("utf-8"))
        assert list(frame.columns) == ["x", "y"]
        assert frame.shape == (2, 2)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"x,y\n", "no data rows"),
        (b"x,y\n\xff\xfe1,2\n", "not UTF-8"),
        (b"x,y\n1\x002\n", "NUL"),
        (b"x,x\n1,2\n", "same name"),
    ],
)
def test_bad_files_are_rejected_with_a_message(data, message):
    with pytest.raises(UploadError, match=message):
        read_csv(data)


def test_size_and_row_limits():
    with pytest.raises(UploadError, match="limit is"):
        read_csv(b"x,y\n" + b"1,2\n" * 100, UploadLimits(max_bytes=50))
    with pytest.raises(UploadError, match="more than 10 rows"):
        read_csv(b"x,y\n" + b"1,2\n" * 11, UploadLimits(max_rows=10))
    assert len(read_csv(b"x,y\n" + b"1,2\n" * 10, UploadLimits(max_rows=10))) == 10


def test_nan_inf_and_text_rows_are_dropped_and_counted():
    frame = read_csv(b"x,y\n1,2\n2,nan\n3,inf\nfoo,4\n5,6\n,7\n8,9\n")
    cleaned = select_numeric(frame, ["x", "y"])
    np.testing.assert_array_equal(cleaned.columns["x"], [1, 5, 8])
    np.testing.assert_array_equal(cleaned.columns["y"], [2, 6, 9])
    assert cleaned.rows_dropped == 4
    assert "Dropped 4 of 7 rows" in cleaned.notes[0]


@pytest.mark.parametrize(
    ("text", "columns", "message"),
    [
        ("x,y\n1,2\n3,4\n", ["x", "z"], "not in the file"),
        ("x,y\na,2\nb,4\n", ["x", "y"], "no numeric values"),
        ("x,y\n1,2\n", ["x", "y"], "at least 2"),
        ("x,y\n1,2\n1,4\n1,5\n", ["x", "y"], "constant"),
        ("x,y\n1,2\n3,4\n", ["x", "x"], "picked twice"),
    ],
)
def test_bad_column_choices(text, columns, message):
    with pytest.raises(UploadError, match=message):
        select_numeric(read_csv(text.encode()), columns)


def test_classes_are_inferred_from_text_or_few_integers():
    assert infer_classify(pd.Series(["cat", "dog", "cat"]))
    assert infer_classify(pd.Series([0, 1, 1, 0]))
    assert not infer_classify(pd.Series([0.5, 1.25, 3.0]))
    assert not infer_classify(pd.Series(range(100)))
    assert infer_classify(pd.Series(range(20)))
    assert not infer_classify(pd.Series(range(20)), UploadLimits(max_classes=19))


def test_classes_make_a_multiclass_task_and_too_many_are_refused():
    frame = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [0.0, 1, 0, 1], "label": ["x", "y", "x", "z"]})
    data = select_dataset(frame, ["a", "b"], "label")
    assert data.task == "multiclass"
    assert data.class_names == ("x", "y", "z")
    np.testing.assert_array_equal(data.y, [0, 1, 0, 2])
    assert data.x.shape == (4, 2)
    many = pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0) % 7, "label": [f"c{i}" for i in range(50)]})
    with pytest.raises(UploadError, match="50 distinct values"):
        select_dataset(many, ["a", "b"], "label", classify=True, limits=UploadLimits(max_classes=20))
    with pytest.raises(UploadError, match="cannot also be a feature"):
        select_dataset(frame, ["a", "label"], "label")
    with pytest.raises(UploadError, match="single class"):
        select_dataset(frame.assign(label="x"), ["a"], "label")


def test_two_classes_make_a_binary_task_and_values_a_regression():
    frame = pd.DataFrame({"a": [1.0, 2, 3, 4], "t": [0, 1, 1, 0]})
    binary = select_dataset(frame, ["a"], "t")
    assert binary.task == "binary" and binary.class_names == ("0", "1")
    data = select_dataset(frame, ["a"], "t", classify=False)
    assert data.task == "regression" and data.class_names == ()
    np.testing.assert_array_equal(data.y, [0, 1, 1, 0])
    # three integer values: inferred as classes, or values when asked
    three = frame.assign(t=[0, 1, 2, 0])
    assert select_dataset(three, ["a"], "t").task == "multiclass"
    assert select_dataset(three, ["a"], "t", classify=False).task == "regression"


def test_plot_subsample_and_tail_share():
    index, note = plot_subsample(100, limit=200)
    assert len(index) == 100 and note is None
    index, note = plot_subsample(10_000, limit=500, seed=1)
    assert len(index) == 500 and len(np.unique(index)) == 500 and "500 of 10,000" in note
    values = np.array([100.0] + [1.0] * 99)
    shares = tail_share(values)
    assert shares[0.01] == pytest.approx(100 / 199)
    assert shares[0.10] == pytest.approx(109 / 199)


# --- a table as the training lab's data -----------------------------------------------------------


def _table(frame: pd.DataFrame, features: list[str], target: str) -> Table:
    return select_dataset(frame, features, target)


def _blobs(**changes) -> UserData:
    frame = read_csv((EXAMPLES / "classification_blobs.csv").read_bytes())
    return from_table(_table(frame, ["feature_1", "feature_2"], "label"), "label", "blobs.csv", **changes)


def _line(n: int = 400, seed: int = 0, scale: float = 1000.0, features: int = 1) -> UserData:
    """y = scale·(2x₁ + 1) + noise in large units, x₁ in [0, 100]."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 100, (n, features))
    y = scale * (2 * x[:, 0] / 100 + 1) + rng.normal(0, 0.05 * scale, n)
    frame = pd.DataFrame({**{f"x{i}": x[:, i] for i in range(features)}, "y": y})
    return from_table(_table(frame, [f"x{i}" for i in range(features)], "y"), "y", "line.csv")


def test_classification_source_describes_the_table() -> None:
    data = _blobs()
    assert data.task == "multiclass" and data.class_names == ("common_a", "common_b", "rare")
    assert data.n_classes == 3 and data.rows_in_file == 600 and data.n_samples == 600
    assert data.private and not tr.DataConfig().private
    assert "600 rows" in data.describe() and "3 classes" in data.describe()


def test_two_classes_are_a_binary_task() -> None:
    frame = pd.DataFrame({"a": [0.1, 0.5, 0.9, 0.3, 0.7, 0.2], "label": ["no", "yes", "yes", "no", "yes", "no"]})
    data = from_table(_table(frame, ["a"], "label"), "label", "f.csv")
    assert data.task == "binary" and data.class_names == ("no", "yes")
    assert "bce_logits" in tr.compatible_losses(data.task, data.n_classes)


def test_make_standardises_with_the_training_split_and_maps_back() -> None:
    data = _blobs()
    d = data.make()
    np.testing.assert_allclose(d.x_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(d.x_train.std(axis=0), 1.0, rtol=1e-12)
    raw = np.concatenate([d.raw_x(d.x_train), d.raw_x(d.x_val)])
    np.testing.assert_allclose(np.sort(raw, axis=0), np.sort(data.x, axis=0), rtol=1e-12, atol=1e-12)
    assert len(d.y_train) + len(d.y_val) == 600
    assert d.feature_names == ("feature_1", "feature_2") and d.class_label(2) == "rare"


def test_split_is_stratified_and_deterministic_in_the_seed() -> None:
    data = _blobs(val_fraction=0.3)
    a, b = data.make(), data.make()
    np.testing.assert_array_equal(a.x_train, b.x_train)
    everything = np.concatenate([a.y_train, a.y_val])
    for c in range(3):  # each class sends its own 30 % to validation, the rare one included
        assert np.sum(a.y_val == c) / np.sum(everything == c) == pytest.approx(0.3, abs=0.01)
    other = dataclasses.replace(data, seed=1).make()
    assert not np.array_equal(a.y_val, other.y_val) or not np.array_equal(a.x_val, other.x_val)


def test_rows_draw_a_seeded_sample_of_a_larger_file() -> None:
    data = _blobs(rows=200)
    d = data.make()
    assert data.n_samples == 200 and len(d.y_train) + len(d.y_val) == 200
    raw = np.concatenate([d.raw_x(d.x_train), d.raw_x(d.x_val)])
    rows = {tuple(np.round(r, 6)) for r in data.x}
    assert all(tuple(np.round(r, 6)) in rows for r in raw)
    assert dataclasses.replace(data, rows=5000).n_samples == 600


def test_regression_target_is_standardised_unless_asked_not_to() -> None:
    data = _line()
    d = data.make()
    assert abs(d.y_train.mean()) < 1e-12 and d.y_train.std() == pytest.approx(1.0)
    np.testing.assert_allclose(d.raw_y(d.y_train).mean(), data.y.mean(), rtol=0.05)
    raw = dataclasses.replace(data, standardize_target=False).make()
    assert raw.y_scale == 1.0 and raw.y_shift == 0.0 and raw.y_train.std() > 100
    assert d.metric_scale == pytest.approx(d.y_scale) and _blobs().make().metric_scale == 1.0


def test_equality_and_hash_go_by_content_digest() -> None:
    a, b = _blobs(), _blobs()
    assert a == b and hash(a) == hash(b) and a.x is not b.x
    assert dataclasses.replace(a, rows=100) != a
    c = _line()
    assert c.digest != a.digest
    frame = read_csv((EXAMPLES / "classification_blobs.csv").read_bytes())
    frame.loc[0, "feature_1"] += 1e-9
    changed = from_table(_table(frame, ["feature_1", "feature_2"], "label"), "label", "blobs.csv")
    assert changed.digest != a.digest


@pytest.mark.parametrize(("field", "value"), [("rows", 5), ("rows", 10_000), ("val_fraction", 0.95), ("seed", -1)])
def test_out_of_range_settings_are_refused(field: str, value: float) -> None:
    with pytest.raises(ParameterError):
        dataclasses.replace(_blobs(), **{field: value}).make()


def test_rmse_is_in_the_targets_units() -> None:
    """The metric undoes the target's standardisation: it equals the RMSE of the raw predictions."""
    config = tr.default_config(_line(), epochs=60)
    result, _ = tr.cached_train(config, cache=tr.RunCache())
    assert result.curves.metric == "RMSE"
    actual, predicted = tr.predicted_vs_actual(result)
    rmse = float(np.sqrt(np.mean((actual - predicted) ** 2)))
    assert result.curves.val_metric[-1] == pytest.approx(rmse, rel=1e-9)
    # a line through targets of size ~1000–3000 with 5 % noise: the fit is within a few noise widths
    assert rmse < 0.2 * np.std(actual)
    fit = result.snapshots.fit
    assert fit.xs[0] < 1 and fit.xs[-1] > 99 and fit.truth is None  # the data's own units
    np.testing.assert_allclose(fit.value[-1, len(fit.xs) // 2], 2000, rtol=0.1)


def test_several_features_have_no_curve_but_predicted_values() -> None:
    result, _ = tr.cached_train(tr.default_config(_line(features=3), epochs=20), cache=tr.RunCache())
    assert result.snapshots.fit is None
    with pytest.raises(ParameterError, match="one input feature"):
        tr.regression_fits(result.setup, result.thetas[-1:])
    actual, predicted = tr.predicted_vs_actual(result, "train")
    assert actual.shape == predicted.shape == (len(result.dataset.y_train),)


def test_confusion_matrix_agrees_with_the_accuracy() -> None:
    result, _ = tr.cached_train(tr.default_config(_blobs(), epochs=20), cache=tr.RunCache())
    m = tr.confusion_matrix(result)
    assert m.shape == (3, 3) and m.sum() == len(result.dataset.y_val)
    assert np.trace(m) / m.sum() == pytest.approx(result.curves.val_metric[-1], rel=1e-12)
    np.testing.assert_array_equal(m.sum(axis=1), np.bincount(result.dataset.y_val.astype(int), minlength=3))
    with pytest.raises(ParameterError):
        tr.predicted_vs_actual(result)


def test_binary_confusion_uses_the_heads_threshold() -> None:
    frame = pd.DataFrame({"a": np.linspace(-1, 1, 80), "b": np.cos(np.linspace(0, 3, 80)),
                          "label": ["low"] * 40 + ["high"] * 40})
    data = from_table(_table(frame, ["a", "b"], "label"), "label", "f.csv")
    for loss in ("bce_logits", "hinge", "mse"):
        result, _ = tr.cached_train(tr.default_config(data, epochs=30, loss=loss), cache=tr.RunCache())
        m = tr.confusion_matrix(result)
        assert np.trace(m) / m.sum() == pytest.approx(result.curves.val_metric[-1], rel=1e-12), loss


def test_decision_grid_is_drawn_in_the_datas_units() -> None:
    result, _ = tr.cached_train(tr.default_config(_blobs(), epochs=5), cache=tr.RunCache())
    grid = tr.decision_grids(result.setup, result.thetas[-1:], resolution=20)
    x = result.dataset.raw_x(result.dataset.x_train)
    assert grid.xs[0] < x[:, 0].min() and grid.xs[-1] > x[:, 0].max()
    assert grid.ys[0] < x[:, 1].min() and grid.ys[-1] > x[:, 1].max()
    # each cell holds the class the model predicts at that cell's point, in the data's units
    d = result.dataset
    for i, j in ((0, 0), (7, 12), (19, 3)):
        point = (np.array([[grid.xs[j], grid.ys[i]]]) - d.x_shift) / d.x_scale
        assert grid.value[0, i, j] == int(result.pred(point).argmax())


def test_decision_grid_needs_two_features() -> None:
    frame = pd.DataFrame({"a": np.linspace(0, 1, 30), "b": np.linspace(1, 0, 30) ** 2,
                          "c": np.sin(np.arange(30)), "label": [0, 1, 2] * 10})
    data = from_table(_table(frame, ["a", "b", "c"], "label"), "label", "f.csv")
    result, _ = tr.cached_train(tr.default_config(data, epochs=2), cache=tr.RunCache())
    assert result.snapshots.grid is None
    with pytest.raises(ParameterError, match="two input features"):
        tr.decision_grids(result.setup, result.thetas[-1:])


def test_toy_data_is_unchanged_by_the_unit_mapping() -> None:
    d = tr.DataConfig("regression").make()
    np.testing.assert_array_equal(d.raw_x(d.x_train), d.x_train)
    np.testing.assert_array_equal(d.raw_y(d.y_train), d.y_train)
    assert d.feature_label(0) == "x₁" and d.class_label(1) == "class 1"
    assert tr.DataConfig("spiral", classes=4).n_classes == 4 and tr.DataConfig("regression").n_classes == 0


def test_runs_on_uploaded_data_never_enter_the_shared_caches() -> None:
    config = tr.default_config(_blobs(), epochs=3)
    before = len(tr.RUNS)
    with pytest.raises(ValueError, match="stay in the uploading session"):
        tr.cached_train(config)
    assert len(tr.RUNS) == before
    own = tr.RunCache()
    result, cached = tr.cached_train(config, cache=own)
    assert not cached and len(own) == 1
    assert tr.cached_train(config, cache=own) == (result, True)
    with pytest.raises(ValueError, match="stay in the uploading session"):
        nl.cached(nl.compute_interpolation, result)
    mine = tr.RunCache()
    nl.cached(nl.compute_interpolation, result, cache=mine)
    assert len(mine) == 1


def test_neural_landscape_scores_a_run_on_uploaded_data() -> None:
    """The landscape's objectives are the run's: same loss and metric (in y's units) at the trained weights."""
    data = _line(n=120)
    result, _ = tr.cached_train(tr.default_config(data, epochs=10), cache=tr.RunCache())
    interp = nl.compute_interpolation(result)
    assert np.isfinite(interp.train_loss).all()
    # the metric at the trained weights (α = 1) is the run's own final RMSE, in the target's units
    trained = int(np.argmin(np.abs(interp.alphas - 1.0)))
    assert interp.alphas[trained] == pytest.approx(1.0)
    assert interp.val_metric[trained] == pytest.approx(result.curves.val_metric[-1], rel=1e-9)
    objective = nl.objective_for(result, split="validation")
    with torch.no_grad():
        loss, _ = objective.loss_and_metric(torch.from_numpy(result.theta_final))
    assert float(loss) == pytest.approx(result.curves.val_loss[-1], rel=1e-12)
