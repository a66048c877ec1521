"""lossviz.studies.landscape against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.special import logsumexp

import lossviz
from lossviz.studies import landscape as ll
from lossviz.toolkit.data import line_with_outliers
from lossviz.toolkit.fit import fit_line

# --- input landscapes ---------------------------------------------------------------------------


def test_input_losses() -> None:
    losses = ll.input_losses()
    assert {"mse", "mae", "huber", "bce", "bce_logits", "poisson_nll"} <= set(losses)
    assert losses[-4:] == list(ll.MULTICLASS)
    for name in ("focal", "hinge", "logistic", "l1_penalty", "triplet", "weighted_cross_entropy"):
        assert name not in losses


def test_pred_target_landscape_of_huber() -> None:
    land = ll.pred_target_landscape("huber", {"delta": 0.5}, points=21)
    r = land.x[None, :] - land.y[:, None]
    expected = np.where(np.abs(r) <= 0.5, 0.5 * r**2, 0.5 * (np.abs(r) - 0.25))
    np.testing.assert_allclose(land.value, expected, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(land.grad_x, np.clip(r, -0.5, 0.5), atol=1e-15)
    assert not land.grad_y.any() and land.value.shape == (21, 21)
    np.testing.assert_array_equal(land.grad_norm, np.abs(land.grad_x))
    assert land.params == {"delta": 0.5} and land.x_label.startswith("prediction")


def test_pred_target_landscape_stays_inside_bounded_domains() -> None:
    land = ll.pred_target_landscape("bce", {}, points=11)
    assert 0.0 < land.x[0] and land.x[-1] < 1.0 and land.y[0] > 0.0 and land.y[-1] < 1.0
    p, y = land.x[None, :], land.y[:, None]
    np.testing.assert_allclose(land.value, -(y * np.log(p) + (1 - y) * np.log1p(-p)), rtol=1e-12)
    with pytest.raises(ValueError, match="pred × target"):
        ll.pred_target_landscape("cross_entropy", {})


def _logit_grid(land: ll.InputLandscape, other: float) -> np.ndarray:
    z = np.empty((len(land.y), len(land.x), 3))
    z[..., 0], z[..., 1], z[..., 2] = land.x[None, :], land.y[:, None], other
    return z


@pytest.mark.parametrize("target_class", [0, 1, 2])
def test_two_logit_cross_entropy(target_class: int) -> None:
    land = ll.two_logit_landscape("cross_entropy", {}, target_class=target_class, other_logit=1.5, points=15)
    z = _logit_grid(land, 1.5)
    log_softmax = z - logsumexp(z, axis=-1, keepdims=True)
    np.testing.assert_allclose(land.value, -log_softmax[..., target_class], rtol=1e-12)
    grad = np.exp(log_softmax) - np.eye(3)[target_class]
    np.testing.assert_allclose(land.grad_x, grad[..., 0], atol=1e-15)
    np.testing.assert_allclose(land.grad_y, grad[..., 1], atol=1e-15)
    assert land.x_label.startswith("logit z₀")


def test_two_logit_kl_div_and_multi_margin_against_torch() -> None:
    land = ll.two_logit_landscape("kl_div", {}, target_class=1, target_probability=0.6, points=9)
    z = torch.tensor(_logit_grid(land, 0.0))
    q = torch.tensor([0.2, 0.6, 0.2], dtype=torch.float64).expand_as(z)
    ref = F.kl_div(torch.log_softmax(z, -1), q, reduction="none").sum(-1)
    np.testing.assert_allclose(land.value, ref.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ll.multiclass_target("kl_div", 1, 0.6), [0.2, 0.6, 0.2])
    assert ll.multiclass_target("cross_entropy", 2, 0.6) == 2.0

    mm = ll.two_logit_landscape("multi_margin", {"margin": 1.0}, target_class=2, other_logit=0.5, points=9)
    zz = torch.tensor(_logit_grid(mm, 0.5)).reshape(-1, 3)
    ref = F.multi_margin_loss(zz, torch.full((len(zz),), 2), reduction="none").reshape(9, 9)
    np.testing.assert_allclose(mm.value, ref.numpy(), rtol=1e-12)


def test_softmax_focal_two_logits_with_gamma_zero_is_cross_entropy() -> None:
    focal = ll.two_logit_landscape("softmax_focal", {"gamma": 0.0, "alpha": 1.0}, points=11)
    ce = ll.two_logit_landscape("cross_entropy", {}, points=11)
    np.testing.assert_allclose(focal.value, ce.value, rtol=1e-12)
    np.testing.assert_allclose(focal.grad_x, ce.grad_x, rtol=1e-10, atol=1e-14)


# --- the (w, b) landscape ----------------------------------------------------------------------------

DATA = line_with_outliers(25, 0.3, 3, 5.0, seed=3)


def _huber(r: np.ndarray, delta: float = 1.0) -> np.ndarray:
    return np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))


def test_linear_objective_and_minimum_of_a_custom_loss() -> None:
    with lossviz.user_scope({}):
        lossviz.define("my_cauchy", "log(1 + (p - y)**2)")
        value, _ = ll.linear_objective("my_cauchy", DATA.x, DATA.y, {})(np.array([[1.0, 0.0]]))
        r = DATA.x - DATA.y
        np.testing.assert_allclose(value, np.mean(np.log1p(r**2)), rtol=1e-12)
        m = ll.fit_minimum("my_cauchy", DATA.x, DATA.y, {})
        builtin = ll.fit_minimum("cauchy", DATA.x, DATA.y, {})  # (c²/2)·log(1 + (r/c)²), c = 1: half of it
        assert m.w == pytest.approx(builtin.w, abs=1e-6) and m.value == pytest.approx(2 * builtin.value, rel=1e-9)


def test_linear_objective_value_and_gradient() -> None:
    theta = np.array([[1.0, 0.0], [2.5, -1.0], [-3.0, 4.0]])
    value, grad = ll.linear_objective("mse", DATA.x, DATA.y, {})(theta)
    r = theta[:, :1] * DATA.x + theta[:, 1:] - DATA.y
    np.testing.assert_allclose(value, (r**2).mean(-1), rtol=1e-14)
    np.testing.assert_allclose(grad, np.stack([(2 * r * DATA.x).mean(-1), (2 * r).mean(-1)], -1), rtol=1e-13)


@settings(max_examples=30, deadline=None)
@given(w=st.floats(-5, 5), b=st.floats(-5, 5), delta=st.floats(0.2, 3.0))
def test_linear_objective_gradient_matches_finite_differences(w: float, b: float, delta: float) -> None:
    objective = ll.linear_objective("huber", DATA.x, DATA.y, {"delta": delta})
    h = 1e-6
    theta = np.array([[w, b], [w + h, b], [w - h, b], [w, b + h], [w, b - h]])
    value, grad = objective(theta)
    fd = np.array([(value[1] - value[2]) / (2 * h), (value[3] - value[4]) / (2 * h)])
    np.testing.assert_allclose(grad[0], fd, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(value[0], _huber(w * DATA.x + b - DATA.y, delta).mean(), rtol=1e-13)


def test_parameter_landscape_is_one_broadcast_evaluate_call(monkeypatch) -> None:
    calls = []
    original = ll.evaluate

    def counting(*args, **kwargs):
        calls.append(np.shape(args[1]))
        return original(*args, **kwargs)

    monkeypatch.setattr(ll, "evaluate", counting)
    w, b = np.linspace(0, 4, 7), np.linspace(-1, 2, 5)
    grid = ll.parameter_landscape("huber", DATA.x, DATA.y, {"delta": 1.5}, w, b)
    assert calls == [(5, 7, DATA.n)]
    expected = np.array([[_huber(wi * DATA.x + bj - DATA.y, 1.5).mean() for wi in w] for bj in b])
    np.testing.assert_allclose(grid, expected, rtol=1e-14)


def test_mse_minimum_is_least_squares() -> None:
    m = ll.fit_minimum("mse", DATA.x, DATA.y, {})
    w, b = np.polyfit(DATA.x, DATA.y, 1)
    assert m.w == pytest.approx(w, abs=1e-8) and m.b == pytest.approx(b, abs=1e-8)
    assert m.value == pytest.approx(((w * DATA.x + b - DATA.y) ** 2).mean(), rel=1e-12)


@pytest.mark.parametrize(
    ("loss", "params"),
    [("mse", {}), ("mae", {}), ("huber", {"delta": 0.8}), ("quantile", {"tau": 0.2}), ("welsch", {})],
)
def test_minimum_is_the_line_fit_of_the_toolkit(loss: str, params: dict[str, float]) -> None:
    """The page's minimum is lossviz.toolkit.fit.fit_line's line in (w, b) = (slope, intercept), with F
    the landscape's mean loss there."""
    m = ll.fit_minimum(loss, DATA.x, DATA.y, params)
    fit = fit_line(loss, DATA.x, DATA.y, **params)
    assert (m.b, m.w) == (float(fit.coef[0]), float(fit.coef[1]))
    assert m.value == pytest.approx(float(fit.objective) / DATA.n, rel=1e-12)
    assert m.value == float(ll.mean_loss(loss, DATA.x, DATA.y, params, np.array([m.w, m.b])))


def test_huber_minimum_matches_an_independent_solver() -> None:
    def f(theta):
        return _huber(theta[0] * DATA.x + theta[1] - DATA.y, 0.8).mean()

    def g(theta):
        psi = np.clip(theta[0] * DATA.x + theta[1] - DATA.y, -0.8, 0.8)
        return np.array([(psi * DATA.x).mean(), psi.mean()])

    ref = minimize(f, [0.0, 0.0], jac=g, method="BFGS", options={"gtol": 1e-12})
    m = ll.fit_minimum("huber", DATA.x, DATA.y, {"delta": 0.8})
    assert m.w == pytest.approx(ref.x[0], abs=1e-6) and m.b == pytest.approx(ref.x[1], abs=1e-6)
    assert m.value == pytest.approx(ref.fun, rel=1e-10)


def test_outliers_pull_the_mse_line_more_than_mae_and_huber() -> None:
    d = line_with_outliers(40, 0.2, 6, 8.0, seed=0)
    errors = {
        name: abs(ll.fit_minimum(name, d.x, d.y, {}).b - d.b_true) for name in ("mse", "mae", "huber")
    }
    assert errors["mse"] > 3 * max(errors["mae"], errors["huber"])


def test_landscape_window() -> None:
    points = [(2.0, 0.6), (1.9, 1.2), (-2.0, 3.0)]
    w_lo, w_hi, b_lo, b_hi = ll.landscape_window(points)
    for w, b in points:
        assert w_lo < w < w_hi and b_lo < b < b_hi
    assert ll.landscape_window([(2.0, 0.6), (1.9, 1.2), (-1.9, 3.0)]) == (w_lo, w_hi, b_lo, b_hi)
    assert ll.landscape_window([(0.0, 0.0)]) == (-1.0, 1.0, -1.0, 1.0)  # min_span
    lo, hi, _, _ = ll.landscape_window([(0.0, 0.0), (10.0, 0.0)])
    assert hi - lo >= 20.0 and lo <= -5.0 and hi >= 15.0


def test_descend_runs_gd_and_adam_for_every_rate() -> None:
    rates = [0.01, 0.1, 1.0]
    paths = ll.descend("mse", DATA.x, DATA.y, {}, (-2.0, 3.0), rates, 30)
    assert set(paths) == {"gd", "adam"}
    gd = paths["gd"]
    assert gd.theta.shape == (31, 3, 2)
    # independent GD on the MSE objective with η = 0.1
    theta = np.array([-2.0, 3.0])
    for t in range(30):
        r = theta[0] * DATA.x + theta[1] - DATA.y
        np.testing.assert_allclose(gd.theta[t, 1], theta, rtol=1e-12, atol=1e-14)
        theta = theta - 0.1 * np.array([(2 * r * DATA.x).mean(), (2 * r).mean()])
    first = paths["adam"].theta[1, :, :] - paths["adam"].theta[0, :, :]
    np.testing.assert_allclose(np.abs(first), np.array(rates)[:, None] * np.ones((3, 2)), rtol=1e-6)


def test_window_axes_span_the_window() -> None:
    w, b = ll.window_axes((-1.0, 3.0, 0.0, 2.0), points=5)
    np.testing.assert_allclose(w, [-1.0, 0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(b, [0.0, 0.5, 1.0, 1.5, 2.0])
    assert ll.window_axes((0.0, 1.0, 0.0, 1.0))[0].size == ll.FIT_GRID_POINTS


def test_input_landscape_counts_its_blank_points() -> None:
    assert ll.pred_target_landscape("huber", {}).nonfinite == 0
    with lossviz.user_scope({}):
        lossviz.define("t_log", "log(p - y)")
        land = ll.pred_target_landscape("t_log", {})
    below = land.x[None, :] <= land.y[:, None]  # log of a non-positive number: −∞ or NaN
    assert land.nonfinite == int(below.sum()) > 0
def test_descent_holds_each_run_at_one_rate_and_its_distance_to_the_minimum() -> None:
    rates = [0.05, 2.0]
    paths = ll.descend("mse", DATA.x, DATA.y, {}, (-2.0, 3.0), rates, 150)
    minimum = ll.fit_minimum("mse", DATA.x, DATA.y, {})
    played = ll.descent(paths, 0, minimum)
    np.testing.assert_array_equal(played.theta["gd"], paths["gd"].theta[:, 0])
    expected = ll.mean_loss("mse", DATA.x, DATA.y, {}, paths["adam"].theta[:, 0]) - minimum.value
    np.testing.assert_allclose(played.gap["adam"], np.maximum(expected, ll.GAP_FLOOR), rtol=1e-9, atol=1e-12)
    assert (played.gap["gd"] >= ll.GAP_FLOOR).all() and played.diverged == {"gd": False, "adam": False}
    assert len(played.shown) == 101 and played.shown[0] == 0 and played.shown[-1] == 150  # every 1.5 steps
    np.testing.assert_array_equal(played.path("gd"), paths["gd"].theta[:, 0])
    fast = ll.descent(paths, 1, minimum)  # GD with η = 2 leaves the bowl: it stops, and holds its last point
    stop = fast.stopped["gd"]
    assert fast.diverged["gd"] and 0 <= stop < 150 and len(fast.path("gd")) == stop + 1
    assert (fast.theta["gd"][stop:] == fast.theta["gd"][stop]).all()
    param = ll.step_param(150)
    assert param.name == "step" and param.default == 150 and param.slider_range == (0, 150)


def test_page_settings_are_valid_declarations() -> None:
    for param in (ll.TARGET_CLASS, ll.OTHER_LOGIT, ll.TARGET_PROBABILITY, ll.W_START, ll.B_START,
                  ll.LEARNING_RATE, ll.STEPS):
        lo, hi = param.slider_range
        assert lo < hi and param.contains(param.default)
    assert ll.LEARNING_RATE.scale == "log"
