"""Toy datasets: shapes, determinism, the geometry each generator promises, and the split."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz.errors import ParameterError
from lossviz.toolkit.data import DATASETS, DataConfig, make_dataset, regression_curve

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
