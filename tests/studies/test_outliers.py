"""lossviz.studies.outliers: sensitivity and breakdown curves, the page's data and picks, against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

import lossviz
from lossviz.studies import outliers as rf
from lossviz.toolkit import fit as fitting
from lossviz.toolkit.data import LineData, contaminate, line_with_outliers


def _page_line(n: int, seed: int = 0) -> LineData:
    """The Outliers page's clean points: σ = 1 around its true line, x in −1 … 1."""
    a, b = rf.TRUE_LINE
    return line_with_outliers(n, 1.0, 0, 0.0, seed, w_true=b, b_true=a, x_range=rf.X_RANGE)


def _data(seed: int, n: int = 40, outliers: int = 4, size: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, n)
    y = 1.0 + 2.0 * x + rng.standard_normal(n)
    y[:outliers] += size
    return x, y


def test_sensitivity_curve_shapes_of_mse_mae_huber() -> None:
    """Tukey's SC: unbounded (linear) for least squares, bounded for MAE and Huber."""
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, 39)
    y = 1 + 2 * x + 0.5 * rng.standard_normal(39)
    offsets = rf.sweep_offsets(40.0, 21)
    mse = rf.sensitivity_curve("mse", x, y, 0.9, offsets, (1.0, 2.0))
    huber = rf.sensitivity_curve("huber", x, y, 0.9, offsets, (1.0, 2.0), params={"delta": 1.0})
    mae = rf.sensitivity_curve("mae", x, y, 0.9, offsets, (1.0, 2.0))
    # Least squares: the slope is linear in y₀, SC(y₀) = n·(T − T₀) checked against polyfit directly.
    for off, sc in zip(offsets[[0, 7, 20]], mse.curve[[0, 7, 20]], strict=True):
        with_point = np.polyfit(np.append(x, 0.9), np.append(y, 1 + 2 * 0.9 + off), 1)[0]
        assert sc == pytest.approx(40 * (with_point - np.polyfit(x, y, 1)[0]), abs=1e-8)
    assert np.ptp(np.diff(mse.curve)) < 1e-8  # a straight line
    assert np.abs(mse.curve).max() > 5 * np.abs(huber.curve).max()
    # Huber's is flat once the point is far out: the pull is clipped at δ.
    assert huber.curve[0] == pytest.approx(huber.curve[1], abs=1e-8)
    assert huber.curve[-1] == pytest.approx(huber.curve[-2], abs=1e-8)
    assert np.abs(mae.curve).max() < np.abs(mse.curve).max() / 5
    assert mse.converged and huber.converged and mae.converged


def test_sensitivity_of_location_matches_tukey_definition() -> None:
    y = np.array([-1.0, -0.4, 0.1, 0.5, 1.3])
    offsets = np.array([-10.0, 0.0, 3.0])
    sc = rf.sensitivity_curve("mse", np.zeros(5), y, 0.0, offsets, (0.0, 0.0), what="location")
    np.testing.assert_allclose(sc.curve, 6 * ((y.sum() + offsets) / 6 - y.mean()), atol=1e-12)
    med = rf.sensitivity_curve("mae", np.zeros(5), y, 0.0, offsets, (0.0, 0.0), what="location")
    # With an even count the median is any point between the middle two: compare objectives instead.
    for o, t in zip(offsets, med.estimate, strict=True):
        data = np.append(y, o)
        assert np.abs(data - t).sum() == pytest.approx(np.abs(data - np.median(data)).sum(), abs=1e-12)


def test_breakdown_least_squares_vs_median_regression() -> None:
    """Outliers at no leverage (x ≈ 0): the L1 line holds until about half the data, the LS line never."""
    x, y = _data(5, n=60, outliers=0)
    mse = rf.breakdown_curve("mse", x, y, 30.0, 0.0, (1.0, 2.0), seed=0, what="intercept")
    mae = rf.breakdown_curve("mae", x, y, 30.0, 0.0, (1.0, 2.0), seed=0, what="intercept")
    assert mse.error[0] < 1e-9 and mae.error[0] < 1e-9  # 0 % contamination: the clean fit again
    assert mse.error[2] > 1.0  # 5 % contamination already moves least squares by > 1
    below_40 = mae.fractions < 0.4
    assert mae.error[below_40].max() < 2.0
    assert mae.error[-1] > 5.0  # at 50 % the median has broken down
    assert mse.converged and mae.converged


@pytest.mark.parametrize("what", rf.ESTIMATES)
@pytest.mark.parametrize(("loss", "params"), [("mse", {}), ("mae", {}), ("huber", {"delta": 1.0}),
                                              ("barron", {"alpha": -2.0, "scale": 1.0})])  # fmt: skip
def test_both_curves_in_one_solve_equal_each_on_its_own(loss: str, params: dict, what: str) -> None:
    """The page's sweeps share one batched solve, the breakdown's data sets padded with points of weight 0: the
    same numbers as two solves, for the exact L1 path, Newton and a non-convex loss."""
    sens, brk = rf.robustness_curves(loss, params, 30, 1.0, 3, 12.0, 0.8, 20.0, what)
    x, y = rf.clean_points(30, 1.0, 3)
    alone = rf.sensitivity_curve(loss, x, y, 0.8, rf.sweep_offsets(20.0), rf.TRUE_LINE, what, params)
    np.testing.assert_allclose(sens.curve, alone.curve, rtol=1e-9, atol=1e-9)
    assert sens.base == alone.base and sens.offsets.size == rf.SWEEP_POINTS
    alone = rf.breakdown_curve(loss, x, y, 12.0, 0.8, rf.TRUE_LINE, 3, what, params=params)
    np.testing.assert_allclose(brk.error, alone.error, rtol=1e-9, atol=1e-9)
    assert brk.fractions.size == rf.CONTAMINATION.size and sens.converged and brk.converged


@pytest.mark.parametrize("loss", ["mae", "huber"])
def test_a_lines_slope_and_intercept_curves_come_from_one_solve(loss: str) -> None:
    """Switching the page between slope and intercept reads the other estimate of the same fits."""
    settings = (30, 1.0, 3, 12.0, 0.8, 20.0)
    both = rf.robustness_by_estimate(loss, {}, *settings, "intercept")
    assert set(both) == {"slope", "intercept"} == set(rf.fitted_together("slope"))
    assert set(rf.robustness_by_estimate(loss, {}, *settings, "location")) == {"location"}
    for what, (sens, brk) in both.items():
        alone_sens, alone_brk = rf.robustness_curves(loss, {}, *settings, what)
        np.testing.assert_array_equal(sens.curve, alone_sens.curve)
        np.testing.assert_array_equal(brk.error, alone_brk.error)
    assert not np.array_equal(both["slope"][0].curve, both["intercept"][0].curve)


def test_estimate_refuses_unknown_targets() -> None:
    x, y = _data(0)
    with pytest.raises(ValueError, match="estimate"):
        rf.estimate("mse", x, y, None, "median", {})
    with pytest.raises(lossviz.ParameterError):
        rf.estimate("huber", x, y, None, "slope", {"delta": -1.0})


def test_fit_study_is_the_line_fit_with_each_points_pull() -> None:
    """The page's fit of a user's file: lossviz.toolkit.fit's line, pulls |ψ(rᵢ)| and their shares."""
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 10, 5000)
    y = 1 + 2 * x + rng.normal(size=5000)
    y[:100] += 40
    study = rf.fit_study("quantile", {"tau": 0.8}, rf.user_data(x, y))
    fit = fitting.fit_line("quantile", x, y, tau=0.8)
    np.testing.assert_array_equal(study.fit.coef, fit.coef)
    assert study.fit.converged
    r = y - (fit.coef[0] + fit.coef[1] * x)
    np.testing.assert_allclose(study.pull, np.where(r > 0, 0.8, np.where(r < 0, 0.2, 0.0)), atol=1e-12)
    assert study.share.sum() == pytest.approx(1.0)


def test_apply_pick_and_indices() -> None:
    moved, dropped = rf.apply_pick({1}, {2}, {2, 3}, "outlier")
    assert moved == {1, 2, 3} and dropped == set()
    assert rf.apply_pick({1}, set(), {4}, "drop") == ({1}, {4})
    assert rf.apply_pick({1, 4}, {4, 5}, {4}, "restore") == ({1}, {5})
    with pytest.raises(ValueError, match="action"):
        rf.apply_pick(set(), set(), set(), "delete")
    assert rf.parse_indices("3, 7,12", 20) == ({3, 7, 12}, None)
    found, warning = rf.parse_indices("3,x,25", 20)
    assert found == {3} and "'x'" in warning and "'25'" in warning
    assert rf.format_indices({12, 3}) == "3,12"


def test_outlier_data_statuses() -> None:
    clean = _page_line(30)
    clean_x, clean_y = clean.x, clean.y
    _, _, generated = contaminate(clean_x, clean_y, 4, 10.0, 0.5, rf.TRUE_LINE, 0)
    a, b, c = [i for i in range(30) if i not in set(generated)][:3]
    data = rf.outlier_data(30, 1.0, 4, 10.0, 0.5, 0, moved=[a, b, 99], dropped=[b, c])
    assert set(np.flatnonzero(data.status == 1)) == {*generated, a}  # b is dropped, 99 ignored
    assert set(np.flatnonzero(data.status == 2)) == {b, c}
    assert data.y[a] == pytest.approx(clean_y[a] + 10.0) and data.x[a] == clean_x[a]
    np.testing.assert_array_equal(data.weight, data.status != 2)
    np.testing.assert_array_equal(data.clean_y, clean_y)
    assert np.all(np.diff(clean_x) >= 0)  # lossviz.toolkit.data sorts by x
