"""Every generated data set: shapes, determinism, the geometry each generator promises, the toy sets' split."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz.errors import ParameterError
from lossviz.toolkit.data import (
    BLOBS_MAJORITY,
    DATASETS,
    IMAGE_SIZE,
    LINE_DATA_PARAMS,
    DataConfig,
    clean_image,
    contaminate,
    correlated_regression,
    imbalanced_blobs,
    line_with_outliers,
    make_dataset,
    noisy_image,
    regression_curve,
    two_blobs,
)

CLASSIFIERS = [name for name, info in DATASETS.items() if info.task != "regression"]


def _all(ds):
    return np.concatenate([ds.x_train, ds.x_val]), np.concatenate([ds.y_train, ds.y_val])


@pytest.mark.parametrize("name", list(DATASETS))
def test_same_seed_same_arrays_other_seed_other_arrays(name: str) -> None:
    a = make_dataset(DataConfig(name, seed=3))
    b = make_dataset(DataConfig(name, seed=3))
    c = make_dataset(DataConfig(name, seed=4))
    for field in ("x_train", "y_train", "x_val", "y_val"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.x_train, c.x_train)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classification_shapes_labels_and_stratified_split(name: str) -> None:
    ds = make_dataset(DataConfig(name, n_samples=200, val_fraction=0.25))
    x, y = _all(ds)
    assert x.shape == (200, 2) and y.shape == (200,)
    assert set(np.unique(y)) == set(range(ds.n_classes))
    for c in range(ds.n_classes):
        in_train, in_val = (ds.y_train == c).sum(), (ds.y_val == c).sum()
        assert in_train > 0 and in_val > 0
        assert in_val == round(0.25 * (in_train + in_val))
    assert ds.task == ("multiclass" if ds.n_classes > 2 else "binary")


def test_moons_without_noise_lie_on_their_half_circles() -> None:
    x, y = _all(make_dataset(DataConfig("moons", noise=0.0)))
    p = x + np.array([0.5, 0.25])
    outer, inner = p[y == 0], p[y == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0, rtol=1e-12)
    assert (outer[:, 1] >= -1e-12).all()
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1.0, inner[:, 1] - 0.5), 1.0, rtol=1e-12)
    assert (inner[:, 1] <= 0.5 + 1e-12).all()


def test_circles_without_noise_have_radii_one_and_a_half() -> None:
    x, y = _all(make_dataset(DataConfig("circles", noise=0.0)))
    np.testing.assert_allclose(np.hypot(*x[y == 0].T), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.hypot(*x[y == 1].T), 0.5, rtol=1e-12)


def test_xor_without_noise_is_the_sign_of_the_product() -> None:
    x, y = _all(make_dataset(DataConfig("xor", noise=0.0)))
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] > 0).astype(float))
    assert np.abs(x).max() <= 1.5


def test_spiral_has_balanced_arms_and_two_arms_is_binary() -> None:
    ds = make_dataset(DataConfig("spiral", n_samples=301, classes=4))
    _x, y = _all(ds)
    counts = np.bincount(y.astype(int))
    assert counts.max() - counts.min() <= 1 and counts.sum() == 301
    assert DataConfig("spiral", classes=2).task == "binary"
    assert make_dataset(DataConfig("spiral", classes=2)).n_classes == 2


def test_spiral_without_noise_follows_its_arm() -> None:
    ds = make_dataset(DataConfig("spiral", noise=0.0, classes=3))
    x, y = _all(ds)
    r = np.hypot(*x.T) / 2.0
    angle = np.arctan2(x[:, 1], x[:, 0])
    expected = 2 * np.pi * y / 3 + 4.0 * r
    np.testing.assert_allclose(np.cos(angle - expected), 1.0, atol=1e-9)


@pytest.mark.parametrize("minority", [0.05, 0.1, 0.3])
def test_blobs_minority_share(minority: float) -> None:
    _x, y = _all(make_dataset(DataConfig("blobs", n_samples=400, minority=minority)))
    assert y.sum() == round(minority * 400)


def test_blobs_sit_at_their_centres_with_their_spread() -> None:
    x, y = _all(make_dataset(DataConfig("blobs", n_samples=4000, noise=0.2, minority=0.5)))
    for label, centre in ((0, [-0.6, 0.0]), (1, [0.6, 0.0])):
        np.testing.assert_allclose(x[y == label].mean(axis=0), centre, atol=0.05)
        np.testing.assert_allclose(x[y == label].std(axis=0), 0.6, rtol=0.05)


def test_regression_outliers_are_pushed_up_by_two_to_four() -> None:
    ds = make_dataset(DataConfig("regression", noise=0.0, outliers=0.2, n_samples=100))
    assert ds.x_train.shape[1] == 1 and ds.n_classes == 0 and ds.task == "regression"
    for x, y, clean, out in ((ds.x_train, ds.y_train, ds.clean_train, ds.outlier_train),
                             (ds.x_val, ds.y_val, ds.clean_val, ds.outlier_val)):
        np.testing.assert_allclose(clean, np.sin(1.5 * x[:, 0]) + 0.3 * x[:, 0], rtol=1e-13)
        np.testing.assert_allclose(clean, regression_curve(x[:, 0]))
        excess = y - clean
        np.testing.assert_array_equal(excess[~out], 0.0)
        assert ((excess[out] >= 2.0) & (excess[out] <= 4.0)).all()
    assert ds.outlier_train.sum() + ds.outlier_val.sum() == 20


def test_bounds_hold_every_point() -> None:
    ds = make_dataset(DataConfig("moons"))
    (x0, x1), (y0, y1) = ds.bounds()
    x, _y = _all(ds)
    assert x0 < x[:, 0].min() and x[:, 0].max() < x1 and y0 < x[:, 1].min() and x[:, 1].max() < y1


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (DataConfig("nope"), "unknown dataset"),
        (DataConfig("moons", n_samples=5), "n_samples"),
        (DataConfig("moons", noise=-0.1), "noise"),
        (DataConfig("moons", val_fraction=0.95), "val_fraction"),
        (DataConfig("spiral", classes=1), "classes"),
        (DataConfig("moons", seed=1.5), "seed"),  # type: ignore[arg-type]
    ],
)
def test_bad_configurations_raise_parameter_errors(config: DataConfig, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        make_dataset(config)


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(list(DATASETS)),
    n=st.integers(20, 300),
    seed=st.integers(0, 10_000),
    val=st.floats(0.05, 0.8),
)
def test_split_is_a_partition(name: str, n: int, seed: int, val: float) -> None:
    ds = make_dataset(DataConfig(name, n_samples=n, seed=seed, val_fraction=val))
    assert len(ds.y_train) + len(ds.y_val) == n
    assert len(ds.y_train) > 0 and len(ds.y_val) > 0
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.y_val).all()


# --- two blobs: the toy set "blobs" and the Focal page's imbalanced set ------------------------------------


def test_two_blobs_draws_the_majority_then_the_minority() -> None:
    x, y = two_blobs(np.random.default_rng(5), 4, 2, np.array([1.0, 2.0]), 0.5, np.array([-3.0, 0.0]), 2.0)
    z = np.random.default_rng(5).standard_normal((6, 2))
    np.testing.assert_array_equal(x[:4], np.array([1.0, 2.0]) + 0.5 * z[:4])
    np.testing.assert_array_equal(x[4:], np.array([-3.0, 0.0]) + 2.0 * z[4:])
    np.testing.assert_array_equal(y, [0, 0, 0, 0, 1, 1])


def test_imbalanced_blobs_ratio_and_determinism() -> None:
    data = imbalanced_blobs(100.0, 2.5, seed=3)
    assert data.y.size == BLOBS_MAJORITY + 30 and data.n_minority == 30
    again = imbalanced_blobs(100.0, 2.5, seed=3)
    np.testing.assert_array_equal(data.x, again.x)
    assert not np.array_equal(data.x, imbalanced_blobs(100.0, 2.5, seed=4).x)
    assert imbalanced_blobs(1e4, 2.5, seed=3).n_minority == 3  # at least 3 minority points
    assert imbalanced_blobs(1.0, 2.5, seed=3).n_minority == BLOBS_MAJORITY


def test_imbalanced_blobs_centres_and_spreads() -> None:
    data = imbalanced_blobs(2.0, 3.0, seed=0, n_majority=20_000)
    major, minor = data.x[data.y == 0], data.x[data.y == 1]
    np.testing.assert_allclose(major.mean(axis=0), 0.0, atol=0.03)
    np.testing.assert_allclose(major.std(axis=0), 1.0, rtol=0.03)
    np.testing.assert_allclose(minor.mean(axis=0), 3.0 / np.sqrt(2.0), atol=0.03)
    np.testing.assert_allclose(minor.std(axis=0), 0.7, rtol=0.03)


# --- a line with outliers, and outlier clusters ------------------------------------------------------


def test_line_is_reproducible_and_has_the_outliers_asked_for() -> None:
    a = line_with_outliers(30, 0.2, 5, -4.0, seed=7)
    b = line_with_outliers(30, 0.2, 5, -4.0, seed=7)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert a.n == 30 and a.is_outlier.sum() == 5 and (np.diff(a.x) >= 0).all()
    assert -2.0 <= a.x.min() and a.x.max() <= 2.0
    c = line_with_outliers(30, 0.2, 5, -4.0, seed=8)
    assert not np.array_equal(a.y, c.y)


def test_line_without_noise_lies_on_the_line_except_the_outliers() -> None:
    d = line_with_outliers(50, 0.0, 6, 3.5, seed=1)
    residual = d.y - (d.w_true * d.x + d.b_true)
    np.testing.assert_allclose(residual[~d.is_outlier], 0.0, atol=1e-15)
    np.testing.assert_allclose(residual[d.is_outlier], 3.5, rtol=1e-14)
    other = line_with_outliers(20, 0.0, 0, 0.0, seed=1, w_true=-1.0, b_true=3.0, x_range=(5.0, 6.0))
    assert 5.0 <= other.x.min() and other.x.max() <= 6.0 and not other.is_outlier.any()
    np.testing.assert_allclose(other.y, 3.0 - other.x, rtol=1e-15)


def test_line_validates_its_arguments() -> None:
    with pytest.raises(ParameterError, match="n_outliers"):
        line_with_outliers(5, 0.1, 6)
    with pytest.raises(ParameterError, match="noise"):
        line_with_outliers(5, -0.1, 1)
    with pytest.raises(ParameterError, match="'n'"):
        line_with_outliers(1.5, 0.1, 1)
    assert [p.name for p in LINE_DATA_PARAMS] == ["n", "noise", "n_outliers", "outlier_size", "seed"]
    for p in LINE_DATA_PARAMS:
        assert p.contains(p.default)


def test_contaminate_is_nested_and_placed() -> None:
    clean = line_with_outliers(20, 1.0, 0, 0.0, seed=0, w_true=2.0, b_true=1.0, x_range=(-1.0, 1.0))
    x, y = clean.x, clean.y
    x3, y3, moved3 = contaminate(x, y, 3, 10.0, 0.5, (1.0, 2.0), seed=1)
    x5, _, moved5 = contaminate(x, y, 5, 10.0, 0.5, (1.0, 2.0), seed=1)
    assert set(moved3) <= set(moved5) and len(moved5) == 5
    np.testing.assert_allclose(x3[moved3], x5[moved3])
    assert np.all(np.abs(x3[moved3] - 0.5) <= 0.02 * np.ptp(x) + 1e-12)
    assert np.all(y3[moved3] - (1 + 2 * x3[moved3]) > 5.0)
    untouched = np.setdiff1d(np.arange(20), moved3)
    np.testing.assert_array_equal(y3[untouched], y[untouched])
    assert contaminate(x, y, 99, 10.0, 0.5, (1.0, 2.0), seed=1)[2].size == 20  # at most every point


# --- two correlated features -----------------------------------------------------------------------


def test_features_have_the_asked_correlation_and_target() -> None:
    x, y = correlated_regression(correlation=0.8, n=20_000)
    assert np.corrcoef(x.T)[0, 1] == pytest.approx(0.8, abs=0.01)
    np.testing.assert_allclose(x.std(axis=0), 1.0, rtol=0.02)
    np.testing.assert_allclose(np.linalg.lstsq(x, y, rcond=None)[0], [1.5, 0.5], atol=0.02)
    _, noiseless = correlated_regression(0.3, n=50, noise=0.0, seed=2)
    x2, _ = correlated_regression(0.3, n=50, seed=2)
    np.testing.assert_allclose(noiseless, x2 @ [1.5, 0.5], rtol=1e-14)
    with pytest.raises(ParameterError):
        correlated_regression(correlation=1.0)


# --- a test image and its noisy copy -------------------------------------------------------------------


def test_clean_and_noisy_images() -> None:
    clean = clean_image()
    assert clean.shape == (IMAGE_SIZE, IMAGE_SIZE)
    assert clean.min() >= 0.0 and clean.max() <= 1.0
    assert len(np.unique(clean)) > 5  # a square, a disk, a ramp and the background
    np.testing.assert_array_equal(noisy_image(clean, 0.0, 5), clean)
    np.testing.assert_array_equal(noisy_image(clean, 0.2, 5), noisy_image(clean, 0.2, 5))
    assert not np.array_equal(noisy_image(clean, 0.2, 5), noisy_image(clean, 0.2, 6))
    residual = noisy_image(clean, 0.2, 5) - clean
    assert residual.std() == pytest.approx(0.2, rel=0.1)
