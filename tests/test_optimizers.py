"""lossviz.toolkit.optim against torch.optim (SGD, Adam) step by step, and closed forms on quadratics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz.toolkit.optim import DIVERGED, Adam, GradientDescent, run

A = np.array([[3.0, 0.5], [0.5, 1.0]])
C = np.array([1.0, -2.0])


def quadratic(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F(θ) = ½ (θ − c)ᵀ A (θ − c) for a batch of θ."""
    d = theta - C
    return 0.5 * np.einsum("ki,ij,kj->k", d, A, d), d @ A


def rosenbrock(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = theta[:, 0], theta[:, 1]
    value = (1 - x) ** 2 + 100 * (y - x**2) ** 2
    grad = np.stack([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)], axis=-1)
    return value, grad


def _torch_path(optimizer_cls, theta0, steps: int, fn, **kwargs) -> np.ndarray:
    theta = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    opt = optimizer_cls([theta], **kwargs)
    path = [theta.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        fn(theta).backward()
        opt.step()
        path.append(theta.detach().numpy().copy())
    return np.stack(path)


def _torch_rosenbrock(t: torch.Tensor) -> torch.Tensor:
    return (1 - t[0]) ** 2 + 100 * (t[1] - t[0] ** 2) ** 2


def test_gradient_descent_matches_the_closed_form_on_a_quadratic() -> None:
    """θₜ − c = (I − ηA)ᵗ (θ₀ − c) exactly."""
    (traj,) = run(quadratic, [4.0, 4.0], [GradientDescent(0.1)], 30)
    assert traj.theta.shape == (31, 1, 2) and traj.value.shape == (31, 1)
    step = np.eye(2) - 0.1 * A
    expected = [np.linalg.matrix_power(step, t) @ (np.array([4.0, 4.0]) - C) + C for t in range(31)]
    np.testing.assert_allclose(traj.theta[:, 0], expected, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(traj.value[:, 0], quadratic(traj.theta[:, 0])[0], rtol=1e-14)
    assert traj.stopped.tolist() == [-1]


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_gradient_descent_matches_torch_sgd(momentum: float) -> None:
    ours = run(rosenbrock, [-1.2, 1.0], [GradientDescent(1e-4, momentum=momentum)], 200)[0].theta[:, 0]
    ref = _torch_path(torch.optim.SGD, [-1.2, 1.0], 200, _torch_rosenbrock, lr=1e-4, momentum=momentum)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("lr", [1e-3, 0.05, 0.5])
def test_adam_matches_torch_adam(lr: float) -> None:
    ours = run(rosenbrock, [-1.2, 1.0], [Adam(lr)], 300)[0].theta[:, 0]
    ref = _torch_path(torch.optim.Adam, [-1.2, 1.0], 300, _torch_rosenbrock, lr=lr)
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)


def test_adam_with_other_betas_matches_torch() -> None:
    ours = run(rosenbrock, [0.5, -0.5], [Adam(0.01, beta1=0.5, beta2=0.9, eps=1e-6)], 100)[0].theta[:, 0]
    ref = _torch_path(torch.optim.Adam, [0.5, -0.5], 100, _torch_rosenbrock, lr=0.01, betas=(0.5, 0.9), eps=1e-6)
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)


def test_lockstep_runs_equal_separate_runs_with_one_call_per_step() -> None:
    calls: list[int] = []

    def counted(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(len(theta))
        return rosenbrock(theta)

    rates = [1e-4, 5e-4, 1e-3]
    gd, adam = run(counted, [-1.2, 1.0], [GradientDescent(rates), Adam(rates)], 50)
    assert calls == [6] * 51  # 50 steps + the final value, all six runs in each call
    for k, lr in enumerate(rates):
        alone_gd = run(rosenbrock, [-1.2, 1.0], [GradientDescent(lr)], 50)[0]
        alone_adam = run(rosenbrock, [-1.2, 1.0], [Adam(lr)], 50)[0]
        np.testing.assert_array_equal(gd.theta[:, k], alone_gd.theta[:, 0])
        np.testing.assert_array_equal(adam.theta[:, k], alone_adam.theta[:, 0])
        np.testing.assert_array_equal(adam.value[:, k], alone_adam.value[:, 0])


def test_divergence_freezes_the_run_instead_of_feeding_nan() -> None:
    seen: list[np.ndarray] = []

    def watched(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert np.isfinite(theta).all() and (np.abs(theta) <= DIVERGED).all()
        seen.append(theta.copy())
        return quadratic(theta)

    # λ_max(A) ≈ 3.1: GD diverges for η > 2/λ_max ≈ 0.64; η = 0.1 converges.
    (traj,) = run(watched, [4.0, 4.0], [GradientDescent([0.1, 1.0])], 200)
    assert traj.stopped[0] == -1
    stop = traj.stopped[1]
    assert 0 < stop < 200
    path = traj.path(1)
    assert len(path) == stop + 1 and np.abs(path).max() <= DIVERGED
    np.testing.assert_array_equal(traj.theta[stop:, 1], np.repeat(path[-1:], 201 - stop, axis=0))
    np.testing.assert_allclose(traj.theta[-1, 0], C, atol=1e-8)


def test_a_non_finite_objective_stops_the_run() -> None:
    def nan_beyond_half(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        value, grad = quadratic(theta)
        bad = theta[:, 0] > 0.5
        return np.where(bad, np.nan, value), grad

    (traj,) = run(nan_beyond_half, [-3.0, 0.0], [GradientDescent(0.05)], 100)
    stop = traj.stopped[0]
    assert stop > 0 and traj.theta[stop, 0, 0] > 0.5 and traj.theta[stop - 1, 0, 0] <= 0.5


def test_zero_steps_and_bad_arguments() -> None:
    (traj,) = run(quadratic, [1.0, 2.0], [Adam(0.1)], 0)
    assert traj.theta.shape == (1, 1, 2) and traj.value[0, 0] == quadratic(np.array([[1.0, 2.0]]))[0][0]
    with pytest.raises(ValueError, match="steps"):
        run(quadratic, [1.0, 2.0], [Adam(0.1)], -1)
    with pytest.raises(ValueError, match="learning rates"):
        run(quadratic, [1.0, 2.0], [GradientDescent(-0.1)], 3)
    with pytest.raises(ValueError, match="learning rates"):
        run(quadratic, [1.0, 2.0], [Adam(float("nan"))], 3)


@settings(max_examples=40, deadline=None)
@given(
    lr=st.floats(1e-3, 0.3),
    start=st.tuples(st.floats(-5, 5), st.floats(-5, 5)),
)
def test_gradient_descent_never_increases_a_convex_quadratic_below_the_stability_limit(lr, start) -> None:
    """For η < 2/λ_max, GD on a convex quadratic decreases F monotonically (η = 0.3 < 0.64)."""
    (traj,) = run(quadratic, list(start), [GradientDescent(lr)], 40)
    values = traj.value[:, 0]
    assert (np.diff(values) <= 1e-12 * (1 + values[:-1])).all()


def test_adam_steps_are_about_the_learning_rate_long() -> None:
    """Adam's first step is −η·g/(|g| + ε) ≈ −η·sign(g) (m̂ = g, √v̂ = |g|), whatever the gradient's size."""
    (traj,) = run(quadratic, [100.0, -50.0], [Adam(0.01)], 1)
    first = traj.theta[1, 0] - traj.theta[0, 0]
    g = quadratic(np.array([[100.0, -50.0]]))[1][0]
    np.testing.assert_allclose(first, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-11)
