"""lossviz.toolkit.optim: each rule step by step against torch.optim through both fronts, the batched
NumPy front against single runs, closed forms on quadratics, and divergence handling."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz.toolkit.optim import DIVERGED, SGD, Adam, Optimizer, RMSprop, Rule, run

A = np.array([[3.0, 0.5], [0.5, 1.0]])
C = np.array([1.0, -2.0])
THETA0 = np.array([-1.3, 0.2, 0.9, 2.1, -0.4, 1.7])

TorchFactory = Callable[[torch.Tensor, float], torch.optim.Optimizer]
CASES: dict[str, tuple[Rule, TorchFactory]] = {
    "sgd": (SGD(), lambda p, lr: torch.optim.SGD([p], lr=lr)),
    "momentum": (SGD(momentum=0.9), lambda p, lr: torch.optim.SGD([p], lr=lr, momentum=0.9)),
    "momentum 0.5": (SGD(momentum=0.5), lambda p, lr: torch.optim.SGD([p], lr=lr, momentum=0.5)),
    "adam": (Adam(), lambda p, lr: torch.optim.Adam([p], lr=lr)),
    "adam other betas": (
        Adam(betas=(0.5, 0.9), eps=1e-6),
        lambda p, lr: torch.optim.Adam([p], lr=lr, betas=(0.5, 0.9), eps=1e-6),
    ),
    "rmsprop": (RMSprop(), lambda p, lr: torch.optim.RMSprop([p], lr=lr)),
    "rmsprop other alpha": (
        RMSprop(alpha=0.9, eps=1e-6),
        lambda p, lr: torch.optim.RMSprop([p], lr=lr, alpha=0.9, eps=1e-6),
    ),
}


def quadratic(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F(θ) = ½ (θ − c)ᵀ A (θ − c) for a batch of θ."""
    d = theta - C
    return 0.5 * np.einsum("ki,ij,kj->k", d, A, d), d @ A


def rosenbrock(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = theta[:, 0], theta[:, 1]
    value = (1 - x) ** 2 + 100 * (y - x**2) ** 2
    grad = np.stack([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)], axis=-1)
    return value, grad


def wavy(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F(θ) = Σᵢ sin(3θᵢ)/3 + θᵢ⁴/40: many minima, gradients of changing sign and size."""
    return (np.sin(3 * theta) / 3 + theta**4 / 40).sum(-1), np.cos(3 * theta) + theta**3 / 10


def _torch_grad(theta: torch.Tensor, step: int) -> torch.Tensor:
    return torch.cos(3 * theta + step) + theta**3 / 10


# --- each rule against torch.optim, through both fronts ------------------------------------------------


@pytest.mark.parametrize("lr", [1e-3, 0.05, 0.3])
@pytest.mark.parametrize("case", list(CASES))
def test_torch_front_takes_torch_optims_steps(case: str, lr: float) -> None:
    rule, make = CASES[case]
    gen = torch.Generator().manual_seed(0)
    ours = torch.randn(30, dtype=torch.float64, generator=gen)
    ref = ours.clone().requires_grad_(True)
    opt, torch_opt = Optimizer(rule, lr, ours), make(ref, lr)
    for step in range(50):
        opt.step(ours, _torch_grad(ours, step))
        ref.grad = _torch_grad(ref.detach(), step)
        torch_opt.step()
        torch.testing.assert_close(ours, ref.detach(), rtol=1e-12, atol=1e-12)
    # The torch front calls torch.optim's own kernels in its order: the same bits, not just close.
    assert torch.equal(ours, ref.detach())


@pytest.mark.parametrize("lr", [1e-3, 0.05, 0.3])
@pytest.mark.parametrize("case", list(CASES))
def test_numpy_front_takes_torch_optims_steps(case: str, lr: float) -> None:
    rule, make = CASES[case]
    (traj,) = run(wavy, THETA0, [rule], lr, 50)
    ref = torch.tensor(THETA0, requires_grad=True)
    torch_opt = make(ref, lr)
    for step in range(51):
        np.testing.assert_allclose(traj.theta[step, 0], ref.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(traj.value[step, 0], wavy(ref.detach().numpy()[None])[0][0], rtol=1e-12)
        ref.grad = torch.from_numpy(wavy(ref.detach().numpy()[None])[1][0])
        torch_opt.step()
    assert traj.stopped.tolist() == [-1]


def test_adam_matches_torch_bit_for_bit_where_sqrt_and_half_power_differ() -> None:
    """√(1 − β₂ᵗ) is ``(1 − β₂ᵗ) ** 0.5`` in torch, which differs from ``math.sqrt`` by an ulp at t = 1270."""
    gen = torch.Generator().manual_seed(1)
    ours = torch.randn(1000, dtype=torch.float64, generator=gen)
    ref = ours.clone().requires_grad_(True)
    opt, torch_opt = Optimizer(Adam(), 0.01, ours), torch.optim.Adam([ref], lr=0.01)
    for step in range(1271):
        opt.step(ours, _torch_grad(ours, step))
        ref.grad = _torch_grad(ref.detach(), step)
        torch_opt.step()
    assert torch.equal(ours, ref.detach())


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_torch_on_rosenbrock(momentum: float) -> None:
    def torch_rosenbrock(t: torch.Tensor) -> torch.Tensor:
        return (1 - t[0]) ** 2 + 100 * (t[1] - t[0] ** 2) ** 2

    ours = run(rosenbrock, [-1.2, 1.0], [SGD(momentum=momentum)], 1e-4, 200)[0].theta[:, 0]
    theta = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([theta], lr=1e-4, momentum=momentum)
    for step in range(201):
        np.testing.assert_allclose(ours[step], theta.detach().numpy(), rtol=1e-12, atol=1e-14)
        opt.zero_grad()
        torch_rosenbrock(theta).backward()
        opt.step()


# --- closed forms -----------------------------------------------------------------------------------


def test_gradient_descent_matches_the_closed_form_on_a_quadratic() -> None:
    """θₜ − c = (I − ηA)ᵗ (θ₀ − c) exactly."""
    (traj,) = run(quadratic, [4.0, 4.0], [SGD()], 0.1, 30)
    assert traj.theta.shape == (31, 1, 2) and traj.value.shape == (31, 1)
    step = np.eye(2) - 0.1 * A
    expected = [np.linalg.matrix_power(step, t) @ (np.array([4.0, 4.0]) - C) + C for t in range(31)]
    np.testing.assert_allclose(traj.theta[:, 0], expected, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(traj.value[:, 0], quadratic(traj.theta[:, 0])[0], rtol=1e-14)
    assert traj.stopped.tolist() == [-1]


def test_momentum_starts_its_buffer_at_the_first_gradient() -> None:
    """Two steps by hand: b₁ = g₁, b₂ = μb₁ + g₂ (torch), so θ₂ = θ₁ − η(μg₁ + g₂)."""
    (traj,) = run(quadratic, [4.0, 4.0], [SGD(momentum=0.5)], 0.1, 2)
    theta0 = np.array([4.0, 4.0])
    g1 = quadratic(theta0[None])[1][0]
    theta1 = theta0 - 0.1 * g1
    g2 = quadratic(theta1[None])[1][0]
    np.testing.assert_allclose(traj.theta[1:, 0], [theta1, theta1 - 0.1 * (0.5 * g1 + g2)], rtol=1e-15)


def test_adam_steps_are_about_the_learning_rate_long() -> None:
    """Adam's first step is −η·g/(|g| + ε) ≈ −η·sign(g) (m̂ = g, √v̂ = |g|), whatever the gradient's size."""
    (traj,) = run(quadratic, [100.0, -50.0], [Adam()], 0.01, 1)
    first = traj.theta[1, 0] - traj.theta[0, 0]
    g = quadratic(np.array([[100.0, -50.0]]))[1][0]
    np.testing.assert_allclose(first, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-11)


def test_rmsprop_first_step_is_ten_learning_rates_long() -> None:
    """v₁ = (1 − α)g² and no bias correction: the first step is −η·g/(√(1 − α)|g| + ε) ≈ −10η·sign(g)."""
    (traj,) = run(quadratic, [100.0, -50.0], [RMSprop()], 0.01, 1)
    first = traj.theta[1, 0] - traj.theta[0, 0]
    g = quadratic(np.array([[100.0, -50.0]]))[1][0]
    np.testing.assert_allclose(first, -0.01 * g / (np.sqrt(0.01) * np.abs(g) + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(np.abs(first), 0.1, rtol=1e-6)  # ε shortens it by ε/(0.1|g|)


@settings(max_examples=40, deadline=None)
@given(
    lr=st.floats(1e-3, 0.3),
    start=st.tuples(st.floats(-5, 5), st.floats(-5, 5)),
)
def test_gradient_descent_never_increases_a_convex_quadratic_below_the_stability_limit(lr, start) -> None:
    """For η < 2/λ_max, GD on a convex quadratic decreases F monotonically (η = 0.3 < 0.64)."""
    (traj,) = run(quadratic, list(start), [SGD()], lr, 40)
    values = traj.value[:, 0]
    assert (np.diff(values) <= 1e-12 * (1 + values[:-1])).all()


# --- the batched front ---------------------------------------------------------------------------------


def test_lockstep_runs_equal_separate_runs_with_one_call_per_step() -> None:
    calls: list[int] = []

    def counted(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(len(theta))
        return rosenbrock(theta)

    rules = [SGD(), SGD(momentum=0.9), Adam(), RMSprop()]
    rates = [1e-4, 5e-4, 1e-3]
    together = run(counted, [-1.2, 1.0], rules, rates, 50)
    assert calls == [12] * 51  # 50 steps + the final value, all twelve runs in each call
    for rule, traj in zip(rules, together, strict=True):
        assert traj.theta.shape == (51, 3, 2)
        for k, lr in enumerate(rates):
            (alone,) = run(rosenbrock, [-1.2, 1.0], [rule], lr, 50)
            np.testing.assert_array_equal(traj.theta[:, k], alone.theta[:, 0])
            np.testing.assert_array_equal(traj.value[:, k], alone.value[:, 0])
            assert traj.stopped[k] == alone.stopped[0]


def test_a_diverging_run_leaves_its_neighbours_alone() -> None:
    """GD with η = 1 diverges on the quadratic; in the same batch, η = 0.1 runs as it would alone."""
    gd, adam = run(quadratic, [4.0, 4.0], [SGD(), Adam()], [1.0, 0.1], 200)
    assert gd.stopped.tolist()[1] == -1 and gd.stopped[0] > 0
    (alone,) = run(quadratic, [4.0, 4.0], [SGD()], 0.1, 200)
    np.testing.assert_array_equal(gd.theta[:, 1], alone.theta[:, 0])
    assert adam.stopped.tolist() == [-1, -1]


# --- divergence and arguments ----------------------------------------------------------------------------


def test_divergence_freezes_the_run_instead_of_feeding_nan() -> None:
    seen: list[np.ndarray] = []

    def watched(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert np.isfinite(theta).all() and (np.abs(theta) <= DIVERGED).all()
        seen.append(theta.copy())
        return quadratic(theta)

    # λ_max(A) ≈ 3.1: GD diverges for η > 2/λ_max ≈ 0.64; η = 0.1 converges.
    (traj,) = run(watched, [4.0, 4.0], [SGD()], [0.1, 1.0], 200)
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

    (traj,) = run(nan_beyond_half, [-3.0, 0.0], [SGD()], 0.05, 100)
    stop = traj.stopped[0]
    assert stop > 0 and traj.theta[stop, 0, 0] > 0.5 and traj.theta[stop - 1, 0, 0] <= 0.5


def test_zero_steps_and_bad_arguments() -> None:
    (traj,) = run(quadratic, [1.0, 2.0], [Adam()], 0.1, 0)
    assert traj.theta.shape == (1, 1, 2) and traj.value[0, 0] == quadratic(np.array([[1.0, 2.0]]))[0][0]
    with pytest.raises(ValueError, match="steps"):
        run(quadratic, [1.0, 2.0], [Adam()], 0.1, -1)
    with pytest.raises(ValueError, match="learning rates"):
        run(quadratic, [1.0, 2.0], [SGD()], -0.1, 3)
    with pytest.raises(ValueError, match="learning rates"):
        run(quadratic, [1.0, 2.0], [Adam()], float("nan"), 3)
