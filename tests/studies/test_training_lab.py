"""Two-parameter views: exact lasso and ridge optima, their geometry, and the weighted sum of two losses."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

import lossviz
from lossviz.errors import ParameterError
from lossviz.studies import training_lab as rv
from lossviz.toolkit.data import correlated_regression, line_with_outliers


@pytest.fixture(scope="module")
def problem() -> rv.LinearProblem:
    return rv.LinearProblem(*correlated_regression())


def test_data_loss_through_the_catalogue_is_the_quadratic_form(problem: rv.LinearProblem) -> None:
    rng = np.random.default_rng(0)
    w = rng.standard_normal((5, 2))
    direct = ((problem.x @ w.T - problem.y[:, None]) ** 2).mean(axis=0)
    np.testing.assert_allclose(problem.data_loss(w), direct, rtol=1e-13)
    a, b = problem.gram, problem.moment
    c = problem.y @ problem.y / len(problem.y)
    quadratic = np.einsum("ki,ij,kj->k", w, a, w) - 2 * w @ b + c
    np.testing.assert_allclose(problem.data_loss(w), quadratic, rtol=1e-12)


def test_ridge_solves_the_augmented_least_squares(problem: rv.LinearProblem) -> None:
    lam = 0.7
    n = len(problem.y)
    x_aug = np.vstack([problem.x / np.sqrt(n), np.sqrt(lam) * np.eye(2)])
    y_aug = np.concatenate([problem.y / np.sqrt(n), np.zeros(2)])
    expected = np.linalg.lstsq(x_aug, y_aug, rcond=None)[0]
    np.testing.assert_allclose(rv.ridge(problem, lam), expected, rtol=1e-12)
    np.testing.assert_allclose(rv.ridge(problem, 0.0), problem.least_squares(), rtol=1e-12)


def _kkt_holds(problem: rv.LinearProblem, w: np.ndarray, lam: float) -> bool:
    grad = 2 * (problem.gram @ w - problem.moment)
    for g, wi in zip(grad, w, strict=True):
        if wi != 0:
            if abs(g + lam * np.sign(wi)) > 1e-10:
                return False
        elif abs(g) > lam + 1e-12:
            return False
    return True


@settings(max_examples=40, deadline=None)
@given(lam=st.floats(0.0, 6.0), rho=st.floats(-0.9, 0.9), seed=st.integers(0, 50))
def test_lasso_is_the_exact_minimiser(lam: float, rho: float, seed: int) -> None:
    p = rv.LinearProblem(*correlated_regression(rho, seed=seed))
    w = rv.lasso(p, lam)
    assert _kkt_holds(p, w, lam)
    # No start of a derivative-free search finds a lower objective.
    best = min(
        minimize(lambda v: rv.lasso_objective(p, v, lam), start, method="Nelder-Mead",
                 options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000}).fun
        for start in (np.zeros(2), p.least_squares(), np.array([1.0, -1.0]))
    )
    assert rv.lasso_objective(p, w, lam) <= best + 1e-12


def test_lasso_reaches_exact_zeros_and_ridge_does_not(problem: rv.LinearProblem) -> None:
    lam_max = rv.lambda_max(problem)
    np.testing.assert_array_equal(rv.lasso(problem, lam_max), 0.0)
    np.testing.assert_array_equal(rv.lasso(problem, 2 * lam_max), 0.0)
    assert np.abs(rv.lasso(problem, 0.99 * lam_max)).sum() > 0
    corner = [lam for lam in np.linspace(0.01, lam_max, 200) if np.sum(rv.lasso(problem, lam) == 0.0) == 1]
    assert corner, "some λ must put the lasso optimum on a corner of the diamond (one weight exactly 0)"
    assert all((rv.ridge(problem, lam) != 0).all() for lam in corner)
    assert rv.lasso(problem, 0.0) == pytest.approx(problem.least_squares())


def test_level_ellipse_lies_on_the_contour(problem: rv.LinearProblem) -> None:
    w = rv.lasso(problem, 1.0)
    level = float(problem.data_loss(w))
    ellipse = rv.level_ellipse(problem, level)
    np.testing.assert_allclose(problem.data_loss(ellipse), level, rtol=1e-10)
    assert np.min(np.linalg.norm(ellipse - w, axis=1)) < 0.05  # the contour passes through the optimum
    below = rv.level_ellipse(problem, 0.5 * float(problem.data_loss(problem.least_squares())))
    np.testing.assert_allclose(below, np.repeat(problem.least_squares()[None], len(below), 0))


def test_regularization_view_over_the_live_lambdas() -> None:
    view = rv.regularization_view(0.7)
    problem = rv.LinearProblem(*correlated_regression(0.7))
    np.testing.assert_array_equal(view.path.lams, rv.PATH_LAMBDAS)
    assert view.lambda_max == rv.lambda_max(problem)
    for k in (0, 12, 24):
        np.testing.assert_allclose(view.path.lasso[k], rv.lasso(problem, rv.PATH_LAMBDAS[k]), atol=1e-12)
    # From that λ of the path on exactly one lasso weight is 0, and before it none is.
    zeros = (view.path.lasso == 0.0).sum(axis=1)
    first = int(np.flatnonzero(zeros == 1)[0])
    assert view.one_zero_from == view.path.lams[first] and (zeros[:first] == 0).all()


def test_live_lambdas_hold_the_default_and_every_old_link_value() -> None:
    lams = rv.PATH_LAMBDAS
    assert (np.diff(lams) > 0).all() and lams[0] == rv.LAMBDA.ui_low and lams[-1] == rv.LAMBDA.ui_high
    old_links = [m * 10.0**k for k in range(-3, 2) for m in (1, 2, 5) if m * 10.0**k <= 10]  # the 1-2-5 λ control
    assert set(old_links) | {rv.LAMBDA.default} <= set(lams.tolist())


def test_task_weights_are_the_steps_of_omega() -> None:
    assert rv.TASK_WEIGHTS.tolist() == [round(0.05 * k, 2) for k in range(21)]
    np.testing.assert_array_equal(rv.multitask("mse", "mae", resolution=5).weights, rv.TASK_WEIGHTS)


def test_constraint_shapes() -> None:
    np.testing.assert_allclose(np.abs(rv.diamond(0.7)).sum(axis=1), 0.7)
    np.testing.assert_allclose(np.linalg.norm(rv.disc(0.4), axis=1), 0.4)


def test_path_contours_through_each_optimum(problem: rv.LinearProblem) -> None:
    lams = np.geomspace(0.01, 5, 9)
    path = rv.regularization_path(problem, lams, resolution=21)
    assert path.lasso.shape == path.ridge.shape == (9, 2) and path.loss.shape == (21, 21)
    for k in range(9):
        np.testing.assert_array_equal(path.lasso[k], rv.lasso(problem, lams[k]))
        level = problem.data_loss(path.ridge[k])
        np.testing.assert_allclose(problem.data_loss(path.ridge_levels[k]), level, rtol=1e-10)
    g1, g2 = np.meshgrid(path.w1, path.w2)
    np.testing.assert_allclose(path.loss[3, 7], problem.data_loss(np.array([g1[3, 7], g2[3, 7]])), rtol=1e-14)
    with pytest.raises(ParameterError):
        rv.regularization_path(problem, np.array([-1.0]))


# --- multi-task ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mse_mae() -> rv.MultiTask:
    return rv.multitask("mse", "mae", weights=np.array([0.0, 0.5, 1.0]))


def test_weight_zero_is_least_squares(mse_mae: rv.MultiTask) -> None:
    design = np.stack([np.ones_like(mse_mae.x), mse_mae.x], axis=1)
    ols = np.linalg.lstsq(design, mse_mae.y, rcond=None)[0]
    np.testing.assert_allclose(mse_mae.minimizers[0], ols, atol=1e-7)


def test_weight_one_is_least_absolute_deviations(mse_mae: rv.MultiTask) -> None:
    """An L1 line fit passes through two data points: try every pair (an independent exact answer)."""
    x, y = mse_mae.x, mse_mae.y
    best = np.inf
    for i, j in itertools.combinations(range(len(x)), 2):
        if x[i] == x[j]:
            continue
        b = (y[j] - y[i]) / (x[j] - x[i])
        a = y[i] - b * x[i]
        best = min(best, np.abs(a + b * x - y).mean())
    a, b = mse_mae.minimizers[-1]
    assert np.abs(a + b * x - y).mean() == pytest.approx(best, abs=1e-9)


def test_mixture_is_linear_in_the_weight(mse_mae: rv.MultiTask) -> None:
    np.testing.assert_allclose(mse_mae.mixture(0.5), 0.5 * (mse_mae.z_a + mse_mae.z_b))
    i, j = 10, 20
    a, b = mse_mae.intercepts[j], mse_mae.slopes[i]
    assert mse_mae.z_a[i, j] == pytest.approx(((a + b * mse_mae.x - mse_mae.y) ** 2).mean(), rel=1e-13)
    assert mse_mae.z_b[i, j] == pytest.approx(np.abs(a + b * mse_mae.x - mse_mae.y).mean(), rel=1e-13)
    # the outliers pull MSE's line up: its intercept lies above MAE's
    assert mse_mae.minimizers[0][0] > mse_mae.minimizers[-1][0]


def test_parameters_of_each_loss_are_used() -> None:
    narrow = rv.multitask("huber", "mse", {"delta": 0.1}, weights=np.array([0.0]))
    wide = rv.multitask("huber", "mse", {"delta": 5.0}, weights=np.array([0.0]))
    assert not np.allclose(narrow.minimizers, wide.minimizers)
    with pytest.raises(ParameterError, match="delta"):
        rv.multitask("huber", "mse", {"delta": -1.0})


def test_losses_that_cannot_fit_a_line_are_refused_and_custom_ones_fit() -> None:
    with pytest.raises(ParameterError, match="regression line"):
        rv.multitask("mse", "bce_logits")
    with lossviz.user_scope({}):
        lossviz.define("my_l1", "abs(p - y)")
        custom = rv.multitask("mse", "my_l1", weights=np.array([0.0, 0.4]))
    builtin = rv.multitask("mse", "log_cosh", weights=np.array([0.0]))
    np.testing.assert_allclose(custom.minimizers[0], builtin.minimizers[0], atol=1e-9)
    assert custom.z_b[3, 4] == pytest.approx(
        np.abs(custom.intercepts[4] + custom.slopes[3] * custom.x - custom.y).mean(), rel=1e-13
    )


def _pull(loss: str, params: dict[str, float], r: np.ndarray) -> np.ndarray:
    """∂L/∂p off the kink, written independently (r = y − p)."""
    if loss == "mse":
        return -2 * r
    if loss == "mae":
        return -np.sign(r)
    if loss == "huber":
        return -np.clip(r, -params["delta"], params["delta"])
    tau = params["tau"]  # quantile: τ·(y − p)⁺ + (1 − τ)·(p − y)⁺
    return -np.where(r > 0, tau, tau - 1)


@pytest.mark.parametrize(
    ("a", "b", "pa", "pb", "jump"),
    [("mse", "mae", {}, {}, 2.0), ("huber", "quantile", {"delta": 0.5}, {"tau": 0.8}, 1.0)],
)
def test_every_minimiser_meets_the_subgradient_condition(a, b, pa, pb, jump) -> None:
    """0 ∈ ∂F at each ω: Σ_{rᵢ≠0} [(1 − ω)ψ_A + ωψ_B](rᵢ)xᵢ + Σ_{rᵢ=0} dᵢxᵢ = 0 for some dᵢ within ω·jump/2
    of the middle of L_B's kink (L_A is smooth), by least squares over the (at most two) points on it."""
    mt = rv.multitask(a, b, pa, pb)
    design = np.stack([np.ones_like(mt.x), mt.x], axis=1)
    for w, theta in zip(mt.weights, mt.minimizers, strict=True):
        r = mt.y - design @ theta
        on_kink = np.abs(r) <= 1e-9 * (1 + np.abs(mt.y))
        pulls = (1 - w) * _pull(a, pa, r) + w * _pull(b, pb, r)
        fixed = design[~on_kink].T @ pulls[~on_kink]
        scale = np.abs(design).T @ np.abs(pulls) + 1.0
        side = _pull(b, pb, r[on_kink] + 1e-12) + _pull(b, pb, r[on_kink] - 1e-12)
        middle = (1 - w) * _pull(a, pa, r[on_kink]) + w * side / 2
        d, *_ = np.linalg.lstsq(design[on_kink].T, -fixed - design[on_kink].T @ middle, rcond=None)
        assert np.all(np.abs(design[on_kink].T @ (middle + d) + fixed) <= 1e-9 * scale), (w, on_kink.sum())
        assert np.all(np.abs(d) <= w * jump / 2 + 1e-12), (w, d)


def test_multitask_on_other_data() -> None:
    data = line_with_outliers(n=30, n_outliers=0, noise=0.1, seed=3)
    mt = rv.multitask("mse", "huber", data=data, weights=np.array([0.0, 1.0]))
    np.testing.assert_array_equal(mt.x, data.x)
    # without outliers both losses find nearly the same line, close to the true one
    np.testing.assert_allclose(mt.minimizers[0], mt.minimizers[1], atol=0.05)
    np.testing.assert_allclose(mt.minimizers[0], [data.b_true, data.w_true], atol=0.1)


def test_the_default_data_is_the_outlier_pages() -> None:
    mt = rv.multitask("mse", "mae", weights=np.array([0.0, 1.0]))
    data = line_with_outliers()
    np.testing.assert_array_equal(mt.y, data.y)
    # the outliers lift the least-squares line well above the least-absolute-deviations one
    assert mt.minimizers[0][0] - mt.minimizers[1][0] > 0.3
    for k in range(2):
        assert mt.intercepts[0] < mt.minimizers[k][0] < mt.intercepts[-1]
        assert mt.slopes[0] < mt.minimizers[k][1] < mt.slopes[-1]
