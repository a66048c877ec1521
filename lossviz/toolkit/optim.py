"""First-order update rules, written once, with two fronts: many NumPy runs in lockstep, and one torch tensor.

The rules — gradient descent with optional momentum (:class:`SGD`), :class:`Adam` and :class:`RMSprop` —
follow ``torch.optim``'s conventions and its order of operations. Each is a pure function of the
parameters, the gradient, its state and the step count, written against a small array namespace
(:class:`ArrayOps`: the fused operations ``torch.optim`` uses — ``add`` with a factor, ``lerp``,
``addcmul``, ``addcdiv`` — plus arithmetic operators), so the same code steps torch tensors and NumPy
arrays. :data:`TORCH_OPS` calls the very kernels ``torch.optim`` calls, so the torch front takes
``torch.optim``'s steps bit for bit (its kernels round a fused multiply-add once); :data:`NUMPY_OPS`
writes them as NumPy expressions, which agree to rounding. The learning rate is the front's: a float,
or a ``(k, 1)`` column of rates that broadcasts over ``k`` parameter rows.

* :func:`run` — the batched NumPy front. An *objective* maps a batch of parameter vectors ``theta``
  ``(K, d)`` to their values ``(K,)`` and gradients ``(K, d)`` in one call (for lossviz: one
  :func:`lossviz.evaluate` call); :func:`run` steps several rules, each with every learning rate, and
  calls the objective once per step for all of them, so that comparing GD with Adam over ten learning
  rates costs as many objective calls as one run. A run that leaves the finite world (|θ| >
  :data:`DIVERGED` or a non-finite value or gradient) is frozen at its last good point and reported in
  ``Trajectory.stopped``, instead of feeding NaN to the next objective call.
* :class:`Optimizer` — the torch front: one rule stepping one flat parameter tensor in place (the
  training lab's MLP). It needs no ``torch.optim``, whose first step imports the compiler stack
  (seconds of cold start).

References: Polyak, *Some methods of speeding up the convergence of iteration methods*, 1964 (heavy
ball); Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015, Alg. 1; Tieleman & Hinton,
*Lecture 6.5 — RMSprop*, COURSERA: Neural Networks for Machine Learning, 2012; the ``torch.optim``
documentation of SGD, Adam and RMSprop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Protocol

import numpy as np
import torch

Objective = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
Array = Any
"""A NumPy array or a torch tensor (whichever the front steps)."""
State = tuple[Any, ...]
"""A rule's running averages, arrays like θ (``None`` for a buffer not yet started)."""
DIVERGED = 1e6
"""A parameter beyond this magnitude counts as diverged."""


# --- the array namespace -----------------------------------------------------------------------------


class ArrayOps(Protocol):
    """What the rules need beyond + − × ÷ and powers of scalars: ``torch.optim``'s fused operations.

    ``value`` and ``alpha`` are floats, or (NumPy) arrays that broadcast against ``x``.
    """

    def zeros_like(self, x: Array) -> Array: ...

    def sqrt(self, x: Array) -> Array: ...

    def add(self, x: Array, other: Array, alpha: Any) -> Array:
        """x + alpha·other."""
        ...

    def lerp(self, start: Array, end: Array, weight: float) -> Array:
        """start + weight·(end − start)."""
        ...

    def addcmul(self, x: Array, value: Any, a: Array, b: Array) -> Array:
        """x + value·a·b."""
        ...

    def addcdiv(self, x: Array, value: Any, a: Array, b: Array) -> Array:
        """x + value·a/b."""
        ...


class _TorchOps:
    """The out-of-place forms of the in-place kernels ``torch.optim`` calls (same kernels, same rounding)."""

    zeros_like = staticmethod(torch.zeros_like)
    sqrt = staticmethod(torch.sqrt)

    @staticmethod
    def add(x: torch.Tensor, other: torch.Tensor, alpha: float) -> torch.Tensor:
        return torch.add(x, other, alpha=alpha)

    @staticmethod
    def lerp(start: torch.Tensor, end: torch.Tensor, weight: float) -> torch.Tensor:
        return torch.lerp(start, end, weight)

    @staticmethod
    def addcmul(x: torch.Tensor, value: float, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(x, a, b, value=value)

    @staticmethod
    def addcdiv(x: torch.Tensor, value: float, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.addcdiv(x, a, b, value=value)


class _NumPyOps:
    """The same operations as NumPy expressions, in torch's order (without its fused multiply-adds)."""

    zeros_like = staticmethod(np.zeros_like)
    sqrt = staticmethod(np.sqrt)

    @staticmethod
    def add(x: np.ndarray, other: np.ndarray, alpha: Any) -> np.ndarray:
        return x + alpha * other

    @staticmethod
    def lerp(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
        # torch's two forms: each is exact at its own end (weight 0, or weight 1).
        if abs(weight) < 0.5:
            return start + weight * (end - start)
        return end - (end - start) * (1 - weight)

    @staticmethod
    def addcmul(x: np.ndarray, value: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return x + value * a * b

    @staticmethod
    def addcdiv(x: np.ndarray, value: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return x + value * a / b


TORCH_OPS: ArrayOps = _TorchOps()
NUMPY_OPS: ArrayOps = _NumPyOps()


# --- the rules ----------------------------------------------------------------------------------------


class Rule(Protocol):
    """A first-order method: ``update`` returns the new θ and state from θ, its gradient, the state
    (``init`` before the first step), the 1-based step count and the learning rate ``lr`` (a float,
    or an array that broadcasts against θ), computing with ``xp``."""

    def init(self, xp: ArrayOps, theta: Array) -> State: ...

    def update(
        self, xp: ArrayOps, theta: Array, grad: Array, state: State, step: int, lr: Any
    ) -> tuple[Array, State]: ...


@dataclass(frozen=True)
class SGD:
    r"""Gradient descent with heavy-ball momentum μ, as ``torch.optim.SGD`` (no dampening, no Nesterov):

    .. math:: b_1 = g_1,\quad b_t = \mu b_{t-1} + g_t,\quad \theta_t = \theta_{t-1} - \eta\, b_t

    and θₜ = θₜ₋₁ − η gₜ (plain gradient descent) for μ = 0.

    .. note:: The buffer starts at the first gradient, as in torch; texts that write v ← μv + ηg
       describe the same path for a constant η.
    """

    momentum: float = 0.0

    def init(self, xp: ArrayOps, theta: Array) -> State:
        return (None,) if self.momentum else ()

    def update(self, xp: ArrayOps, theta: Array, grad: Array, state: State, step: int, lr: Any) -> tuple[Array, State]:
        if not self.momentum:
            return xp.add(theta, grad, -lr), state
        (buffer,) = state
        buffer = grad if buffer is None else buffer * self.momentum + grad
        return xp.add(theta, buffer, -lr), (buffer,)


@dataclass(frozen=True)
class Adam:
    r"""Adam with bias correction (Kingma & Ba 2015, Alg. 1), in ``torch.optim.Adam``'s form:

    .. math:: m_t = m_{t-1} + (1-\beta_1)(g_t - m_{t-1}),\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,

    .. math:: \theta_t = \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,
              \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \varepsilon}

    .. note:: ε is added to the bias-corrected √v̂ₜ (the paper's Alg. 1, and torch), not to the
       uncorrected √vₜ of the paper's efficient form at the end of its Sec. 2.
    """

    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8

    def init(self, xp: ArrayOps, theta: Array) -> State:
        return xp.zeros_like(theta), xp.zeros_like(theta)

    def update(self, xp: ArrayOps, theta: Array, grad: Array, state: State, step: int, lr: Any) -> tuple[Array, State]:
        beta1, beta2 = self.betas
        m, v = state
        m = xp.lerp(m, grad, 1 - beta1)
        v = xp.addcmul(v * beta2, 1 - beta2, grad, grad)
        # In torch's order: the correction of m folds into the step size, that of v divides √v.
        step_size = lr / (1 - beta1**step)
        denom = xp.sqrt(v) / (1 - beta2**step) ** 0.5 + self.eps
        return xp.addcdiv(theta, -step_size, m, denom), (m, v)


@dataclass(frozen=True)
class RMSprop:
    r"""RMSprop (Tieleman & Hinton 2012) as ``torch.optim.RMSprop`` (not centred, no momentum):

    .. math:: v_t = \alpha v_{t-1} + (1-\alpha) g_t^2,\quad
              \theta_t = \theta_{t-1} - \eta\,\frac{g_t}{\sqrt{v_t} + \varepsilon}

    .. note:: ε sits outside the square root and v starts at 0 without bias correction, as in torch
       (TensorFlow puts ε inside the root), so the first steps are about η/√(1 − α) = 10η long.
    """

    alpha: float = 0.99
    eps: float = 1e-8

    def init(self, xp: ArrayOps, theta: Array) -> State:
        return (xp.zeros_like(theta),)

    def update(self, xp: ArrayOps, theta: Array, grad: Array, state: State, step: int, lr: Any) -> tuple[Array, State]:
        (v,) = state
        v = xp.addcmul(v * self.alpha, 1 - self.alpha, grad, grad)
        return xp.addcdiv(theta, -lr, grad, xp.sqrt(v) + self.eps), (v,)


# --- the torch front ---------------------------------------------------------------------------------


class Optimizer:
    """``rule`` with learning rate ``lr`` on one parameter tensor, which :meth:`step` updates in place
    (outside autograd, like ``torch.optim``'s ``step``)."""

    def __init__(self, rule: Rule, lr: float, theta: torch.Tensor) -> None:
        self.rule, self.lr = rule, lr
        self.steps = 0
        self.state = rule.init(TORCH_OPS, theta)

    @torch.no_grad()
    def step(self, theta: torch.Tensor, grad: torch.Tensor) -> None:
        """One update of ``theta`` from its gradient ``grad``."""
        self.steps += 1
        new, self.state = self.rule.update(TORCH_OPS, theta, grad, self.state, self.steps, self.lr)
        theta.copy_(new)


# --- the batched NumPy front -------------------------------------------------------------------------


def _rates(lr: float | Sequence[float] | np.ndarray) -> np.ndarray:
    rates = np.atleast_1d(np.asarray(lr, dtype=np.float64))
    if rates.ndim != 1 or not (np.isfinite(rates) & (rates > 0)).all():
        raise ValueError(f"learning rates must be positive numbers, got {lr!r}")
    return rates


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
    objective: Objective,
    theta0: Sequence[float] | np.ndarray,
    rules: Sequence[Rule],
    lr: float | Sequence[float] | np.ndarray,
    steps: int,
) -> list[Trajectory]:
    """Run every rule with every learning rate in ``lr`` from ``theta0`` ``(d,)`` for ``steps`` steps,
    with one objective call per step for all runs; returns one :class:`Trajectory` per rule, its run
    ``k`` with ``lr[k]``."""
    if steps < 0 or int(steps) != steps:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    rates = _rates(lr)[:, None]
    start = np.asarray(theta0, dtype=np.float64)
    bounds = [k * len(rates) for k in range(len(rules) + 1)]
    theta = np.tile(start, (bounds[-1], 1))
    states = [rule.init(NUMPY_OPS, theta[lo:hi]) for rule, (lo, hi) in zip(rules, pairwise(bounds), strict=True)]
    stopped = np.full(bounds[-1], -1)
    thetas, values = [theta], []
    for step in range(1, steps + 1):
        value, grad = objective(theta)
        values.append(value)
        bad = ~(np.isfinite(value) & np.isfinite(grad).all(-1)) & (stopped < 0)
        stopped[bad] = step - 1
        new = np.empty_like(theta)
        for i, (rule, (lo, hi)) in enumerate(zip(rules, pairwise(bounds), strict=True)):
            new[lo:hi], states[i] = rule.update(NUMPY_OPS, theta[lo:hi], grad[lo:hi], states[i], step, rates)
        escaped = ~(np.isfinite(new).all(-1) & (np.abs(new) <= DIVERGED).all(-1)) & (stopped < 0)
        stopped[escaped] = step - 1
        frozen = stopped >= 0
        new[frozen] = theta[frozen]
        theta = new
        thetas.append(theta)
    final, _ = objective(theta)
    values.append(final)
    theta_all, value_all = np.stack(thetas), np.stack(values)
    return [Trajectory(theta_all[:, lo:hi], value_all[:, lo:hi], stopped[lo:hi]) for lo, hi in pairwise(bounds)]
