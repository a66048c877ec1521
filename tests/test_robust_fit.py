"""lossviz.studies.outliers against independent solvers: np.polyfit, scipy's linprog and minimize."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, minimize

import lossviz
from lossviz.studies import outliers as rf
from lossviz.toolkit import fit as fitting
from lossviz.toolkit.data import LineData, contaminate, line_with_outliers

COEF_TOL = 1e-6


def _data(seed: int, n: int = 40, outliers: int = 4, size: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, n)
    y = 1.0 + 2.0 * x + rng.standard_normal(n)
    y[:outliers] += size
    return x, y


def _page_line(n: int, seed: int = 0) -> LineData:
    """The Outliers page's clean points: σ = 1 around its true line, x in −1 … 1."""
    a, b = rf.TRUE_LINE
    return line_with_outliers(n, 1.0, 0, 0.0, seed, w_true=b, b_true=a, x_range=rf.X_RANGE)


def _quantile_lp(x: np.ndarray, y: np.ndarray, tau: float, weight: np.ndarray | None = None) -> np.ndarray:
    """The exact pinball-loss line as a linear program: min Σ w(τu⁺ + (1−τ)u⁻) s.t. a + bx + u⁺ − u⁻ = y.

    u⁺ − u⁻ = y − p is the residual split into its positive and negative parts (Koenker & Bassett 1978).
    """
    n = x.size
    w = np.ones(n) if weight is None else weight
    cost = np.concatenate([[0.0, 0.0], tau * w, (1 - tau) * w])
    a_eq = np.hstack([np.column_stack([np.ones(n), x]), np.eye(n), -np.eye(n)])
    bounds = [(None, None)] * 2 + [(0, None)] * (2 * n)
    res = linprog(cost, A_eq=a_eq, b_eq=y, bounds=bounds, method="highs")
    assert res.status == 0
    return res.x[:2]


def _minimize_line(loss: str, x: np.ndarray, y: np.ndarray, start: np.ndarray, **params: float) -> np.ndarray:
    """scipy's BFGS on Σρ(a + bx, y), with ρ and ψ written independently in NumPy."""
    rho, psi = _NUMPY_LOSSES[loss]

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        r = theta[0] + theta[1] * x - y
        g = psi(r, **params)
        return float(rho(r, **params).sum()), np.array([g.sum(), (g * x).sum()])

    res = minimize(f, start, jac=True, method="BFGS", options={"gtol": 1e-11, "maxiter": 10000})
    return res.x


def _huber(r: np.ndarray, delta: float = 1.0) -> np.ndarray:
    return np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))


def _barron(r: np.ndarray, alpha: float = 1.0, scale: float = 1.0) -> np.ndarray:
    b = abs(alpha - 2)
    return b / alpha * (((r / scale) ** 2 / b + 1) ** (alpha / 2) - 1)


def _barron_psi(r: np.ndarray, alpha: float = 1.0, scale: float = 1.0) -> np.ndarray:
    b = abs(alpha - 2)
    return r / scale**2 * ((r / scale) ** 2 / b + 1) ** (alpha / 2 - 1)


_NUMPY_LOSSES = {
    "huber": (_huber, lambda r, delta=1.0: np.clip(r, -delta, delta)),
    "log_cosh": (lambda r: np.logaddexp(r, -r) - np.log(2), np.tanh),
    "barron": (_barron, _barron_psi),
}


@pytest.mark.parametrize("seed", range(5))
def test_mse_matches_polyfit(seed: int) -> None:
    x, y = _data(seed)
    fit = fitting.fit_line("mse", x, y)
    np.testing.assert_allclose(fit.coef, np.polyfit(x, y, 1)[::-1], rtol=0, atol=COEF_TOL)
    assert fit.converged and fit.grad_norm < 1e-8


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(("loss", "tau"), [("mae", 0.5), ("quantile", 0.5), ("quantile", 0.1), ("quantile", 0.85)])
def test_piecewise_linear_matches_linprog(seed: int, loss: str, tau: float) -> None:
    x, y = _data(seed, n=30 + seed)
    params = {"tau": tau} if loss == "quantile" else {}
    fit = fitting.fit_line(loss, x, y, **params)
    np.testing.assert_allclose(fit.coef, _quantile_lp(x, y, tau), rtol=0, atol=COEF_TOL)
    assert fit.converged
    assert fit.grad_norm < 1e-9  # the minimal subgradient of an exact vertex solution


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("loss", "params"),
    [("huber", {"delta": 1.0}), ("huber", {"delta": 0.3}), ("log_cosh", {}), ("barron", {"alpha": 1.5})],
)
def test_smooth_convex_matches_bfgs(seed: int, loss: str, params: dict[str, float]) -> None:
    x, y = _data(seed)
    fit = fitting.fit_line(loss, x, y, **params)
    expected = _minimize_line(loss, x, y, np.polyfit(x, y, 1)[::-1], **params)
    np.testing.assert_allclose(fit.coef, expected, rtol=0, atol=COEF_TOL)
    assert fit.converged and fit.iterations < 50


@pytest.mark.parametrize("alpha", [0.5, -1.0, -4.0])
def test_nonconvex_barron_from_robust_start(alpha: float) -> None:
    """Barron α < 1: BFGS started at the L1 line reaches the same minimum, which ignores the outliers."""
    x, y = _data(3, n=50, outliers=6, size=25.0)
    fit = fitting.fit_line("barron", x, y, alpha=alpha)
    expected = _minimize_line("barron", x, y, _quantile_lp(x, y, 0.5), alpha=alpha)
    np.testing.assert_allclose(fit.coef, expected, rtol=0, atol=COEF_TOL)
    assert fit.converged
    assert abs(fit.coef[1] - 2.0) < 0.6 < abs(np.polyfit(x, y, 1)[0] - 2.0)


def test_weights_drop_points() -> None:
    x, y = _data(0)
    weight = np.ones_like(x)
    weight[:4] = 0.0
    for loss in ("mse", "mae", "huber"):
        dropped = fitting.fit_line(loss, x, y, weight)
        kept = fitting.fit_line(loss, x[4:], y[4:])
        np.testing.assert_allclose(dropped.coef, kept.coef, atol=COEF_TOL)


def test_integer_weights_equal_repeated_points() -> None:
    x, y = _data(1, n=25)
    weight = np.arange(25) % 3 + 1.0
    fit = fitting.fit_line("mae", x, y, weight)
    np.testing.assert_allclose(fit.coef, _quantile_lp(x, y, 0.5, weight), atol=COEF_TOL)


def test_batch_equals_separate_fits() -> None:
    sets = [_data(s, n=30) for s in range(6)]
    xs, ys = np.stack([s[0] for s in sets]), np.stack([s[1] for s in sets])
    for loss in ("mae", "huber", "barron"):
        batch = fitting.fit_line(loss, xs, ys)
        assert batch.coef.shape == (6, 2) and batch.converged.shape == (6,)
        for i, (x, y) in enumerate(sets):
            np.testing.assert_allclose(batch.coef[i], fitting.fit_line(loss, x, y).coef, atol=COEF_TOL)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(5, 40),
    tau=st.floats(0.05, 0.95),
)
def test_quantile_property_against_linprog(seed: int, n: int, tau: float) -> None:
    x, y = _data(seed, n=n, outliers=min(3, n))
    fit = fitting.fit_line("quantile", x, y, tau=tau)
    expected = _quantile_lp(x, y, tau)
    # The LP optimum may be a whole face (several optimal lines) for small n: compare objectives.
    assert fit.objective <= _pinball(expected, x, y, tau) * (1 + 1e-9) + 1e-12
    assert fit.converged


def _pinball(theta: np.ndarray, x: np.ndarray, y: np.ndarray, tau: float) -> float:
    u = y - theta[0] - theta[1] * x
    return float(np.maximum(tau * u, (tau - 1) * u).sum())


def test_location_estimates() -> None:
    y = np.array([0.3, -1.2, 5.0, 0.8, 2.2, 40.0, 1.1])
    assert fitting.fit_location("mse", y).coef[0] == pytest.approx(y.mean(), abs=1e-12)
    assert fitting.fit_location("mae", y).coef[0] == pytest.approx(np.median(y), abs=1e-12)
    huber = fitting.fit_location("huber", y, delta=1.0).coef[0]
    assert np.clip(y - huber, -1.0, 1.0).sum() == pytest.approx(0.0, abs=1e-10)


def test_convergence_report_for_every_regression_loss() -> None:
    x, y = _data(2)
    for loss in fitting.regression_losses(lossviz.names()):
        fit = fitting.fit_line(loss, x, y)
        assert fit.converged, (loss, fit.grad_norm)
        assert fit.iterations >= 1 and np.isfinite(fit.objective)


def test_regression_losses_filter() -> None:
    names = fitting.regression_losses(lossviz.names())
    assert {"mse", "mae", "huber", "log_cosh", "quantile", "barron"} <= set(names)
    assert "bce" not in names and "focal" not in names and "cross_entropy" not in names


def test_pull_and_share() -> None:
    pulls = fitting.pull("huber", np.array([0.0, 0.5, 10.0]), 0.0, delta=1.0)
    np.testing.assert_allclose(pulls, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(fitting.pull_share(pulls), [0.0, 1 / 3, 2 / 3])
    assert fitting.pull_share(np.zeros(3)).sum() == 0.0


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
    expected = [6 * (np.median(np.append(y, o)) - np.median(y)) for o in offsets]
    # With an even count the median is any point between the middle two: compare objectives instead.
    for o, t in zip(offsets, med.estimate, strict=True):
        data = np.append(y, o)
        assert np.abs(data - t).sum() == pytest.approx(np.abs(data - np.median(data)).sum(), abs=1e-12)
    assert len(expected) == 3


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


def test_bad_parameters_raise_parameter_error() -> None:
    x, y = _data(0)
    with pytest.raises(lossviz.ParameterError):
        fitting.fit_line("huber", x, y, delta=-1.0)
    with pytest.raises(ValueError, match="estimate"):
        rf.estimate("mse", x, y, None, "median", {})


def _epsilon_insensitive_lp(x: np.ndarray, y: np.ndarray, eps: float) -> float:
    """min Σ tᵢ s.t. tᵢ ≥ |a + bxᵢ − yᵢ| − ε, tᵢ ≥ 0: the optimal value of the ε-insensitive line."""
    n = x.size
    design = np.column_stack([np.ones(n), x])
    cost = np.concatenate([[0.0, 0.0], np.ones(n)])
    a_ub = np.vstack([np.hstack([design, -np.eye(n)]), np.hstack([-design, -np.eye(n)])])
    b_ub = np.concatenate([y + eps, -y + eps])
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=[(None, None)] * 2 + [(0, None)] * n, method="highs")
    assert res.status == 0
    return float(res.fun)


@pytest.mark.parametrize("seed", range(4))
def test_epsilon_insensitive_reaches_lp_optimum(seed: int) -> None:
    """A third piecewise-linear loss through the same generic kink path (ε-insensitive, kinks at y ± ε)."""
    x, y = _data(seed, n=35)
    fit = fitting.fit_line("epsilon_insensitive", x, y, epsilon=0.5)
    assert fit.objective == pytest.approx(_epsilon_insensitive_lp(x, y, 0.5), rel=1e-9, abs=1e-12)
    assert fit.converged


def test_every_row_of_a_sweep_matches_linprog() -> None:
    """The batched vertex walk on a sensitivity sweep: each row is its own exact L1 line."""
    x, y = _data(1, n=45, outliers=0)
    offsets = rf.sweep_offsets(30.0, 15)
    xs = np.broadcast_to(np.append(x, 0.8), (offsets.size, x.size + 1))
    ys = np.column_stack([np.broadcast_to(y, (offsets.size, x.size)), 2.6 + offsets])
    fit = fitting.fit_line("mae", xs, ys)
    assert fit.converged.all()
    for i in range(offsets.size):
        np.testing.assert_allclose(fit.coef[i], _quantile_lp(xs[i], ys[i], 0.5), atol=COEF_TOL)


def test_huber_with_few_inliers_converges_fast() -> None:
    """A third of the points in a tight leverage cluster: few residuals inside ±δ, a badly determined
    Newton matrix and a loose IRLS majorizer (which crawled for 200 steps before Newton backtracking)."""
    clean = _page_line(60)
    xc, yc, _ = contaminate(clean.x, clean.y, 20, 15.0, 0.8, rf.TRUE_LINE, seed=0)
    fit = fitting.fit_line("huber", xc, yc, delta=1.0)
    assert fit.converged and fit.iterations < 30
    expected = _minimize_line("huber", xc, yc, fit.coef + 0.5, delta=1.0)
    np.testing.assert_allclose(fit.coef, expected, atol=COEF_TOL)


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


def test_large_data_sets_fit_kinked_losses_by_irls_to_the_linear_program_optimum():
    """Above VERTEX_MAX_POINTS (an uploaded file) the exact vertex walk is skipped; IRLS still lands on
    the L1 optimum that a linear program finds."""
    import numpy as np
    from scipy.optimize import linprog

    from lossviz.toolkit import fit as fitting

    n = fitting.VERTEX_MAX_POINTS + 1000
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 10, n)
    y = 1 + 2 * x + rng.normal(size=n)
    y[: n // 50] += 40
    fit = rf.fit_study("mae", {}, rf.user_data(x, y)).fit
    design = np.column_stack([np.ones(n), x])
    lp = linprog(
        np.r_[0.0, 0.0, np.ones(2 * n)],
        A_eq=np.hstack([design, np.eye(n), -np.eye(n)]),
        b_eq=y,
        bounds=[(None, None)] * 2 + [(0, None)] * (2 * n),
        method="highs",
    )
    assert fit.converged
    np.testing.assert_allclose(fit.coef, lp.x[:2], rtol=1e-6, atol=1e-6)
