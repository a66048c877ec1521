"""Gradient descent and Adam on small parameter vectors, many runs in lockstep.

An *objective* maps a batch of parameter vectors ``theta`` of shape ``(K, d)`` to their values
``(K,)`` and gradients ``(K, d)`` in one call (for lossviz: one :func:`lossviz.evaluate` call).
:func:`run` steps several update rules at once, each with one or more learning rates, and calls
the objective once per step for all of them, so that comparing GD with Adam over ten learning
rates costs as many objective calls as one run.

The update rules follow ``torch.optim.SGD`` (momentum μ: v ← μv + g, θ ← θ − ηv) and
``torch.optim.Adam`` (Kingma & Ba, Adam: A Method for Stochastic Optimization, ICLR 2015, Alg. 1,
with ε added to √v̂ as torch does); the tests compare both with torch step by step.

A run that leaves the finite world (|θ| > :data:`DIVERGED` or a non-finite value or gradient) is
frozen at its last good point and reported in ``Trajectory.stopped``, instead of feeding NaN to
the next objective call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Protocol

import numpy as np

Objective = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
DIVERGED = 1e6
"""A parameter beyond this magnitude counts as diverged."""


class UpdateRule(Protocol):
    """A first-order method: ``init`` its state for ``theta`` ``(k, d)``, then ``update`` returns
    the step to add to ``theta`` and the new state, given the gradient and the 1-based step count."""

    def runs(self) -> int: ...

    def init(self, theta: np.ndarray) -> Any: ...

    def update(self, grad: np.ndarray, state: Any, step: int) -> tuple[np.ndarray, Any]: ...


def _rates(lr: float | Sequence[float] | np.ndarray) -> np.ndarray:
    rates = np.atleast_1d(np.asarray(lr, dtype=np.float64))
    if rates.ndim != 1 or not (np.isfinite(rates) & (rates > 0)).all():
        raise ValueError(f"learning rates must be positive numbers, got {lr!r}")
    return rates


@dataclass(frozen=True)
class GradientDescent:
    """θ ← θ − η·v with v ← μ·v + g (plain gradient descent for μ = 0), as ``torch.optim.SGD``.

    ``lr`` may be a sequence: one run per learning rate.
    """

    lr: float | Sequence[float] | np.ndarray
    momentum: float = 0.0

    def runs(self) -> int:
        return len(_rates(self.lr))

    def init(self, theta: np.ndarray) -> np.ndarray:
        return np.zeros_like(theta)

    def update(self, grad: np.ndarray, velocity: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
        velocity = self.momentum * velocity + grad if self.momentum else grad
        return -_rates(self.lr)[:, None] * velocity, velocity


@dataclass(frozen=True)
class Adam:
    """Adam with bias correction: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − η·m̂/(√v̂ + ε)."""

    lr: float | Sequence[float] | np.ndarray
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def runs(self) -> int:
        return len(_rates(self.lr))

    def init(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros_like(theta), np.zeros_like(theta)

    def update(
        self, grad: np.ndarray, state: tuple[np.ndarray, np.ndarray], step: int
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        m, v = state
        m = self.beta1 * m + (1.0 - self.beta1) * grad
        v = self.beta2 * v + (1.0 - self.beta2) * grad * grad
        m_hat = m / (1.0 - self.beta1**step)
        v_hat = v / (1.0 - self.beta2**step)
        return -_rates(self.lr)[:, None] * m_hat / (np.sqrt(v_hat) + self.eps), (m, v)


@dataclass(frozen=True)
class Trajectory:
    """One rule's runs: ``theta`` ``(steps + 1, k, d)``, ``value`` ``(steps + 1, k)``, and for each
    run the index of the point where it was frozen (−1 if never): the last point before its next
    step would have left the finite world, or the point whose value or gradient was not finite.
    After that index, ``theta`` repeats the frozen point."""

    theta: np.ndarray
    value: np.ndarray
    stopped: np.ndarray

    def path(self, run: int = 0) -> np.ndarray:
        """The points visited by one run, up to where it stopped: ``(m, d)``."""
        end = self.stopped[run] if self.stopped[run] >= 0 else len(self.theta) - 1
        return self.theta[: end + 1, run]


def run(
    objective: Objective, theta0: Sequence[float] | np.ndarray, rules: Sequence[UpdateRule], steps: int
) -> list[Trajectory]:
    """Run every rule (each with its learning rates) from ``theta0`` ``(d,)`` for ``steps`` steps,
    with one objective call per step for all runs; returns one :class:`Trajectory` per rule."""
    if steps < 0 or int(steps) != steps:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    start = np.asarray(theta0, dtype=np.float64)
    counts = [rule.runs() for rule in rules]
    bounds = np.cumsum([0, *counts])
    theta = np.tile(start, (bounds[-1], 1))
    states = [rule.init(theta[lo:hi]) for rule, (lo, hi) in zip(rules, pairwise(bounds), strict=True)]
    stopped = np.full(bounds[-1], -1)
    thetas, values = [theta.copy()], []
    for step in range(1, steps + 1):
        value, grad = objective(theta)
        values.append(value)
        bad = ~(np.isfinite(value) & np.isfinite(grad).all(-1)) & (stopped < 0)
        stopped[bad] = step - 1
        new = theta.copy()
        for i, (rule, (lo, hi)) in enumerate(zip(rules, pairwise(bounds), strict=True)):
            delta, states[i] = rule.update(grad[lo:hi], states[i], step)
            new[lo:hi] += delta
        escaped = ~(np.isfinite(new).all(-1) & (np.abs(new) <= DIVERGED).all(-1)) & (stopped < 0)
        stopped[escaped] = step - 1
        frozen = stopped >= 0
        new[frozen] = theta[frozen]
        theta = new
        thetas.append(theta.copy())
    final, _ = objective(theta)
    values.append(final)
    theta_all, value_all = np.stack(thetas), np.stack(values)
    return [
        Trajectory(theta_all[:, lo:hi], value_all[:, lo:hi], stopped[lo:hi])
        for lo, hi in pairwise(bounds)
    ]
