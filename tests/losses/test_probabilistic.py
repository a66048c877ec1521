"""Probabilistic losses (lossviz/losses/probabilistic.py) against torch.nn.functional in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossviz


def poisson_reference(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(target, dtype=torch.float64)
    value = F.poisson_nll_loss(p, t, log_input=True, full=False, reduction="none")
    (grad,) = torch.autograd.grad(value.sum(), p)
    return value.detach().numpy(), grad.numpy()


def gaussian_reference(pred: np.ndarray, target: np.ndarray, var: float) -> tuple[np.ndarray, np.ndarray]:
    p = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(target, dtype=torch.float64)
    v = torch.full_like(t, var)
    value = F.gaussian_nll_loss(p, t, v, full=False, eps=1e-6, reduction="none")
    (grad,) = torch.autograd.grad(value.sum(), p)
    return value.detach().numpy(), grad.numpy()


def test_poisson_nll_matches_torch() -> None:
    rng = np.random.default_rng(3)
    pred = np.concatenate([rng.uniform(-5, 5, 300), [-30.0, 0.0, 20.0, 50.0]])
    target = np.concatenate([rng.poisson(3.0, 300).astype(float), [0.0, 0.0, 1e3, 7.5]])
    value, grad = poisson_reference(pred, target)
    res = lossviz.evaluate("poisson_nll", pred, target, order=2)
    np.testing.assert_allclose(res.value, value, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(res.curvature, np.exp(pred), rtol=1e-15)


def test_poisson_nll_minimum_is_at_log_of_the_count() -> None:
    y = np.array([0.5, 1.0, 3.0, 40.0])
    res = lossviz.evaluate("poisson_nll", np.log(y), y)
    # e^{log y} is y only to within an ulp, and the minimum y − y log y cancels near y = e
    np.testing.assert_allclose(res.value, y - y * np.log(y), rtol=1e-14)
    np.testing.assert_allclose(res.grad, 0.0, atol=1e-13)


def test_poisson_nll_rejects_negative_counts() -> None:
    with pytest.raises(lossviz.DomainError, match=r"target of 'poisson_nll' must be count in \[0, ∞\); got -1 at index \(1,\)"):
        lossviz.evaluate("poisson_nll", 0.0, [1.0, -1.0])


@pytest.mark.parametrize("var", [1e-8, 5e-7, 1e-6, 2e-6, 0.01, 1.0, 10.0, 1e4])
def test_gaussian_nll_matches_torch_including_the_variance_floor(var: float) -> None:
    rng = np.random.default_rng(5)
    pred, target = rng.normal(0, 2, 200), rng.normal(0, 2, 200)
    value, grad = gaussian_reference(pred, target, var)
    res = lossviz.evaluate("gaussian_nll", pred, target, order=2, var=var)
    np.testing.assert_allclose(res.value, value, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-15, atol=0)
    np.testing.assert_allclose(res.curvature, 1 / max(var, 1e-6), rtol=1e-15)


def test_gaussian_nll_below_the_floor_equals_the_floor() -> None:
    a = lossviz.evaluate("gaussian_nll", [0.0, 1e-3, 1.0], 0.0, var=1e-9)
    b = lossviz.evaluate("gaussian_nll", [0.0, 1e-3, 1.0], 0.0, var=1e-6)
    np.testing.assert_array_equal(a.value, b.value)
    np.testing.assert_array_equal(a.grad, b.grad)
    assert a.value[0] == 0.5 * math.log(1e-6)


@pytest.mark.parametrize(("name", "params"), [("poisson_nll", {}), ("gaussian_nll", {"var": 0.3})])
def test_gradient_and_curvature_match_finite_differences(name: str, params: dict, fd_check) -> None:
    rng = np.random.default_rng(9)
    pred = rng.uniform(-3, 3, 200)
    target = rng.uniform(0, 10, 200) if name == "poisson_nll" else rng.normal(0, 2, 200)
    fd_check(name, pred, target, **params)


@settings(max_examples=300, deadline=None)
@given(
    pred=st.floats(min_value=-20, max_value=20, allow_nan=False),
    target=st.floats(min_value=-50, max_value=50, allow_nan=False),
    var=st.floats(min_value=1e-6, max_value=1e6, allow_nan=False),
)
def test_gaussian_nll_is_scaled_mse_plus_half_log_var(pred: float, target: float, var: float) -> None:
    g = lossviz.evaluate("gaussian_nll", pred, target, var=var)
    m = lossviz.evaluate("mse", pred, target)
    expected = 0.5 * math.log(var) + m.value / (2 * var)
    assert g.value == pytest.approx(expected, rel=1e-14, abs=1e-14 * (1 + abs(math.log(var))))
    assert g.grad == pytest.approx(m.grad / (2 * var), rel=1e-14, abs=1e-300)
