"""Regression losses (lossviz/losses/regression.py) and the weight penalties (regularization.py).

Each loss is compared on values and gradients with an independent reference: torch.nn.functional
with reduction "none", a high-precision :mod:`decimal` evaluation of the formula, or the formula
written out here; then kinks, finite differences and hypothesis properties.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal, localcontext

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossviz

RNG_SEED = 20260
finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-3, max_value=1e2, allow_nan=False, allow_infinity=False)


def random_pairs(n: int = 400, spread: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(RNG_SEED)
    return rng.normal(0, spread, n), rng.normal(0, spread, n)


def torch_reference(fn: Callable[..., torch.Tensor], pred: np.ndarray, target: np.ndarray, **kw: float):
    """Values and d/dpred of a torch.nn.functional loss with reduction "none", in float64."""
    p = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(target, dtype=torch.float64)
    value = fn(p, t, reduction="none", **kw)
    (grad,) = torch.autograd.grad(value.sum(), p)
    return value.detach().numpy(), grad.numpy()


# ---------------------------------------------------------------- torch references

TORCH_CASES = [
    ("mse", F.mse_loss, {}, {}),
    ("mae", F.l1_loss, {}, {}),
    *[("huber", F.huber_loss, {"delta": d}, {"delta": d}) for d in (0.05, 0.5, 1.0, 3.0)],
    *[("smooth_l1", F.smooth_l1_loss, {"beta": b}, {"beta": b}) for b in (0.05, 0.5, 1.0, 3.0)],
]


def _edge_residuals(width: float) -> np.ndarray:
    """r = 0, exactly ±width, and just either side of it."""
    return np.array([0.0, width, -width, np.nextafter(width, 0), np.nextafter(width, 9), -np.nextafter(width, 0)])


@pytest.mark.parametrize(("name", "fn", "params", "kw"), TORCH_CASES)
def test_matches_torch_on_random_inputs(name, fn, params, kw) -> None:
    pred, target = random_pairs()
    ref_value, ref_grad = torch_reference(fn, pred, target, **kw)
    res = lossviz.evaluate(name, pred, target, **params)
    np.testing.assert_allclose(res.value, ref_value, rtol=1e-15, atol=0)
    np.testing.assert_allclose(res.grad, ref_grad, rtol=1e-15, atol=0)


@pytest.mark.parametrize(("name", "fn", "params", "kw"), TORCH_CASES)
def test_matches_torch_at_zero_and_at_the_quadratic_edge(name, fn, params, kw) -> None:
    width = float(next(iter(params.values()), 1.0))
    target = np.full(6, 0.75)
    pred = target + _edge_residuals(width)
    ref_value, ref_grad = torch_reference(fn, pred, target, **kw)
    res = lossviz.evaluate(name, pred, target, **params)
    np.testing.assert_allclose(res.value, ref_value, rtol=1e-15, atol=0)
    np.testing.assert_allclose(res.grad, ref_grad, rtol=1e-15, atol=0)


def test_huber_gradient_is_the_residual_clipped_to_delta_even_at_the_edge() -> None:
    for delta in (0.05, 1.0, 2.5):
        res = lossviz.evaluate("huber", [-delta, delta, 0.0, 7 * delta, -7 * delta], 0.0, order=2, delta=delta)
        assert res.grad.tolist() == [-delta, delta, 0.0, delta, -delta]
        # the kink point belongs to the quadratic piece (curvature 1), beyond it the loss is linear
        assert res.curvature.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]


def test_smooth_l1_edge_belongs_to_the_linear_piece() -> None:
    res = lossviz.evaluate("smooth_l1", [-0.5, 0.5, 0.0, 0.25], 0.0, order=2, beta=0.5)
    assert res.grad.tolist() == [-1.0, 1.0, 0.0, 0.5]
    assert res.curvature.tolist() == [0.0, 0.0, 2.0, 2.0]


def test_mae_subgradient_at_zero_is_zero() -> None:
    res = lossviz.evaluate("mae", [1.5, 1.5 + 1e-300, 1.5 - 2**-52], 1.5, order=2)
    assert res.grad.tolist() == [0.0, 0.0, -1.0]
    assert res.curvature.tolist() == [0.0, 0.0, 0.0]


def test_mse_curvature_is_two_and_gradient_twice_the_residual() -> None:
    res = lossviz.evaluate("mse", [-3.0, 0.0, 2.0], 1.0, order=2)
    assert res.grad.tolist() == [-8.0, -2.0, 2.0]
    assert res.curvature.tolist() == [2.0, 2.0, 2.0]


# ---------------------------------------------------------------- log-cosh


def log_cosh_reference(r: float) -> float:
    """log cosh r in 700-digit decimal arithmetic (enough for r = 1e-300), independent of any float64 formula."""
    with localcontext() as ctx:
        ctx.prec = 700
        x = Decimal(r)
        return float(((x.exp() + (-x).exp()) / 2).ln())


def sech2_reference(r: float) -> float:
    with localcontext() as ctx:
        ctx.prec = 700
        x = Decimal(r)
        return float(4 / (x.exp() + (-x).exp()) ** 2)


def tanh_reference(r: float) -> float:
    with localcontext() as ctx:
        ctx.prec = 700
        e = (-2 * abs(Decimal(r))).exp()
        return math.copysign(float((1 - e) / (1 + e)), r)


LOG_COSH_POINTS = [
    0.0, 1e-300, 1e-9, -1e-9, 1e-5, 9.99e-5, 1e-3, 0.1, 0.5, -0.5,
    np.nextafter(1.0, 0), 1.0, np.nextafter(1.0, 2), 1.5, 5.0, 19.0, 20.0, 25.0, 40.0, 100.0, 800.0, -800.0,
]


def test_log_cosh_matches_high_precision_reference() -> None:
    r = np.array(LOG_COSH_POINTS)
    res = lossviz.evaluate("log_cosh", r, 0.0, order=2)
    ref = np.array([log_cosh_reference(x) for x in r])
    np.testing.assert_allclose(res.value, ref, rtol=4e-16, atol=0)
    np.testing.assert_allclose(res.grad, [tanh_reference(x) for x in r], rtol=4e-16, atol=0)
    # d²/dr² log cosh r = sech² r, to the last digit even where 1 − tanh² r would cancel (r ≥ 5)
    np.testing.assert_allclose(res.curvature, [sech2_reference(x) for x in r], rtol=4e-16, atol=0)


def test_log_cosh_identities_at_both_ends() -> None:
    tiny = np.array([1e-9, -3e-7, 5e-5, 9e-5])
    far = np.array([2.0, 30.0, 800.0])
    np.testing.assert_allclose(
        lossviz.evaluate("log_cosh", tiny, 0.0).value, 0.5 * tiny**2 - tiny**4 / 12, rtol=1e-15
    )
    np.testing.assert_allclose(
        lossviz.evaluate("log_cosh", -far, 0.0).value, far + np.log1p(np.exp(-2 * far)) - math.log(2), rtol=1e-15
    )


def test_log_cosh_is_finite_at_800_including_curvature() -> None:
    res = lossviz.evaluate("log_cosh", [800.0, -800.0, 1e4], 0.0, order=2)
    assert np.isfinite(res.value).all() and np.isfinite(res.grad).all() and np.isfinite(res.curvature).all()
    assert res.grad.tolist() == [1.0, -1.0, 1.0]
    assert res.curvature.tolist() == [0.0, 0.0, 0.0]


def test_log_cosh_closed_form_gradient_agrees_with_autograd() -> None:
    r = torch.linspace(-30, 30, 601, dtype=torch.float64).requires_grad_(True)
    spec = lossviz.spec("log_cosh")
    target = torch.zeros_like(r)
    (autograd_grad,) = torch.autograd.grad(spec.fn(r, target).sum(), r)
    closed = spec.grad_fn(r, target)
    torch.testing.assert_close(closed, autograd_grad, rtol=1e-15, atol=1e-15)


# ---------------------------------------------------------------- quantile and ε-insensitive


def pinball(pred: np.ndarray, target: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Koenker-Bassett check function of u = y − p and its p-derivative (0 at u = 0)."""
    u = target - pred
    value = np.maximum(tau * u, (tau - 1) * u)
    grad = np.where(u > 0, -tau, np.where(u < 0, 1 - tau, 0.0))
    return value, grad


@pytest.mark.parametrize("tau", [0.01, 0.1, 0.5, 0.9, 0.99])
def test_quantile_matches_pinball_formula(tau: float) -> None:
    pred, target = random_pairs()
    pred = np.concatenate([pred, target[:5]])  # five exact zeros of the residual
    target = np.concatenate([target, target[:5]])
    value, grad = pinball(pred, target, tau)
    res = lossviz.evaluate("quantile", pred, target, order=2, tau=tau)
    np.testing.assert_allclose(res.value, value, rtol=1e-15, atol=1e-300)
    np.testing.assert_array_equal(res.grad, grad)
    np.testing.assert_array_equal(res.curvature, 0.0)


def test_quantile_subgradient_at_zero_is_zero() -> None:
    res = lossviz.evaluate("quantile", 2.0, 2.0, tau=0.9)
    assert res.value == 0.0 and res.grad == 0.0


@pytest.mark.parametrize("epsilon", [0.0, 0.3, 2.0])
def test_epsilon_insensitive_matches_formula(epsilon: float) -> None:
    pred, target = random_pairs()
    r = pred - target
    res = lossviz.evaluate("epsilon_insensitive", pred, target, epsilon=epsilon)
    np.testing.assert_allclose(res.value, np.maximum(0.0, np.abs(r) - epsilon), rtol=1e-15, atol=1e-15)
    np.testing.assert_array_equal(res.grad, np.where(np.abs(r) > epsilon, np.sign(r), 0.0))


def test_epsilon_insensitive_gradient_is_zero_on_the_tube_edge() -> None:
    res = lossviz.evaluate("epsilon_insensitive", [-0.5, 0.5, 0.0, 0.75], 0.0, order=2, epsilon=0.5)
    assert res.value.tolist() == [0.0, 0.0, 0.0, 0.25]
    assert res.grad.tolist() == [0.0, 0.0, 0.0, 1.0]


def test_epsilon_zero_is_mae() -> None:
    pred, target = random_pairs()
    a = lossviz.evaluate("epsilon_insensitive", pred, target, epsilon=0.0)
    b = lossviz.evaluate("mae", pred, target)
    np.testing.assert_array_equal(a.value, b.value)
    np.testing.assert_array_equal(a.grad, b.grad)


# ---------------------------------------------------------------- finite differences


FD_CASES = [
    ("mse", {}),
    ("mae", {}),
    ("huber", {"delta": 0.7}),
    ("smooth_l1", {"beta": 0.3}),
    ("log_cosh", {}),
    ("quantile", {"tau": 0.8}),
    ("epsilon_insensitive", {"epsilon": 0.4}),
]


@pytest.mark.parametrize(("name", "params"), FD_CASES)
def test_gradient_and_curvature_match_finite_differences_away_from_kinks(name, params, fd_check) -> None:
    pred, target = random_pairs(300, spread=2.0)
    kinks = [k for k, _ in lossviz.spec(name).kink_points(0.0, **params)]
    r = pred - target
    keep = np.all([np.abs(r - k) > 1e-3 for k in kinks], axis=0) if kinks else np.ones_like(r, bool)
    assert keep.sum() > 250
    fd_check(name, pred[keep], target[keep], **params)


# ---------------------------------------------------------------- weight penalties (regularization.py)


def test_l1_penalty_is_abs_with_zero_subgradient() -> None:
    w = np.array([-2.5, -1e-12, 0.0, 3.0])
    res = lossviz.evaluate("l1_penalty", w, order=2)
    np.testing.assert_array_equal(res.value, np.abs(w))
    assert res.grad.tolist() == [-1.0, -1.0, 0.0, 1.0]
    assert res.curvature.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_l2_penalty_is_square() -> None:
    w = np.array([-2.5, 0.0, 3.0])
    res = lossviz.evaluate("l2_penalty", w, order=2)
    np.testing.assert_array_equal(res.value, w**2)
    np.testing.assert_array_equal(res.grad, 2 * w)
    np.testing.assert_array_equal(res.curvature, 2.0)


@pytest.mark.parametrize("name", ["l1_penalty", "l2_penalty"])
def test_penalties_take_no_target(name: str) -> None:
    with pytest.raises(lossviz.DomainError, match="takes no target"):
        lossviz.evaluate(name, 1.0, 0.0)


# ---------------------------------------------------------------- hypothesis properties


@settings(max_examples=300, deadline=None)
@given(pred=finite, target=finite, delta=positive)
def test_huber_is_half_mse_inside_and_shifted_scaled_mae_outside(pred: float, target: float, delta: float) -> None:
    huber = lossviz.evaluate("huber", pred, target, delta=delta)
    r = pred - target
    if abs(r) <= delta:
        expected = lossviz.evaluate("mse", pred, target).value / 2
        expected_grad = r
    else:
        expected = delta * lossviz.evaluate("mae", pred, target).value - delta**2 / 2
        expected_grad = math.copysign(delta, r)
    assert huber.value == pytest.approx(expected, rel=1e-12, abs=1e-12 * delta**2)
    assert huber.grad == expected_grad


@settings(max_examples=300, deadline=None)
@given(pred=finite, target=finite, beta=positive)
def test_smooth_l1_is_huber_over_beta(pred: float, target: float, beta: float) -> None:
    smooth = lossviz.evaluate("smooth_l1", pred, target, beta=beta)
    huber = lossviz.evaluate("huber", pred, target, delta=beta)
    assert smooth.value == pytest.approx(huber.value / beta, rel=1e-12, abs=1e-300)
    assert smooth.grad == pytest.approx(huber.grad / beta, rel=1e-12, abs=1e-300)


@settings(max_examples=300, deadline=None)
@given(pred=finite, target=finite)
def test_quantile_at_one_half_is_half_mae(pred: float, target: float) -> None:
    q = lossviz.evaluate("quantile", pred, target, tau=0.5)
    m = lossviz.evaluate("mae", pred, target)
    assert q.value == m.value / 2
    assert q.grad == m.grad / 2


@settings(max_examples=200, deadline=None)
@given(pred=finite, target=finite, shift=finite)
def test_regression_losses_depend_on_the_residual_only(pred: float, target: float, shift: float) -> None:
    for name in ("mse", "mae", "huber", "log_cosh", "quantile"):
        a = lossviz.evaluate(name, pred, target)
        b = lossviz.evaluate(name, pred - target + shift, shift)
        r = pred - target
        # (pred − target + shift) − shift reproduces r only up to rounding of the shifted sum
        slack = 4e-16 * (abs(shift) + abs(r))
        assert abs(float(a.value) - float(b.value)) <= 1e-12 * abs(float(a.value)) + slack * (2 * abs(r) + 2)
