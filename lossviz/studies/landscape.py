"""Loss landscapes: a loss over a 2-D grid of its inputs, and over the parameters of a linear fit.

Two views, every number from :func:`lossviz.evaluate`:

* **Input landscape** — a pointwise loss over a prediction × target grid, or a multi-class loss
  over two of its C = 3 logits with the third fixed; with the gradient with respect to the
  prediction(s) (the target is data, not a parameter, so on a prediction × target grid the
  gradient field is horizontal).
* **Parameter landscape** — the mean loss of the line ŷ = w·x + b on a dataset,
  F(w, b) = (1/n) Σᵢ L(w·xᵢ + b, yᵢ), over a (w, b) grid in one broadcast ``evaluate`` call
  (grid × points), its minimum (the exact fit of :func:`lossviz.toolkit.fit.fit_line`), and
  gradient-descent / Adam paths on F with
  ∂F/∂w = (1/n) Σᵢ ∂L/∂p · xᵢ and ∂F/∂b = (1/n) Σᵢ ∂L/∂p, played step by step (:class:`Descent`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lossviz.engine import evaluate
from lossviz.registry import names
from lossviz.registry import spec as get_spec
from lossviz.spec import Domain, LossSpec, Param
from lossviz.toolkit.fit import fit_line
from lossviz.toolkit.frames import snapshot_steps, time_param
from lossviz.toolkit.optim import SGD, Adam, Objective, Trajectory, run

MULTICLASS = ("cross_entropy", "softmax_focal", "multi_margin", "kl_div")
"""Losses over a vector of class scores that the input landscape shows over two logits."""
N_CLASSES = 3
GRID_POINTS = 61
"""Grid points per axis of the input landscape."""
FIT_GRID_POINTS = 51
"""Grid points per axis of the (w, b) landscape: 51² × n evaluations in one call."""
INSET = 1e-3
DEFAULT_INPUT_LOSS = "huber"
DEFAULT_FIT_LOSSES = ("mse", "mae", "huber")
MAX_FIT_LOSSES = 4

TARGET_CLASS = Param(
    "target_class", 0, low=0, high=N_CLASSES - 1, integer=True, ui_low=0, ui_high=N_CLASSES - 1, step=1,
    symbol="y", description="The true class among the 3.",
)
OTHER_LOGIT = Param(
    "other_logit", 0.0, ui_low=-6.0, ui_high=6.0, step=0.1, symbol="z_2",
    description="The logit of class 2, held fixed while classes 0 and 1 vary.",
)
TARGET_PROBABILITY = Param(
    "target_probability", 0.7, low=0.0, high=1.0, ui_low=0.0, ui_high=1.0, step=0.05, symbol="q",
    description="For kl_div: the target distribution puts q on the true class and (1 − q)/2 on each other.",
)
W_START = Param("w0", -2.0, ui_low=-6.0, ui_high=6.0, step=0.1, symbol="w_0", description="Starting slope.")
B_START = Param("b0", 3.0, ui_low=-6.0, ui_high=6.0, step=0.1, symbol="b_0", description="Starting intercept.")
LEARNING_RATE = Param(
    "lr", 0.1, low=0.0, low_open=True, ui_low=0.001, ui_high=2.0, scale="log", symbol=r"\eta",
    description="Step size of gradient descent and Adam.",
)
STEPS = Param(
    "steps", 100, low=0, high=5000, integer=True, ui_low=1, ui_high=500, step=1,
    description="Number of optimisation steps.",
)
GAP_FLOOR = 1e-12
"""F − F* below this is the minimum's own precision (Nelder–Mead's tolerance): shown as this."""


# --- input landscape ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputLandscape:
    """A loss over a 2-D grid: ``value[j, i]`` at (``x[i]``, ``y[j]``), with the gradient components
    along x and y (``grad_y`` is 0 when y is the target)."""

    loss: str
    x: np.ndarray
    y: np.ndarray
    value: np.ndarray
    grad_x: np.ndarray
    grad_y: np.ndarray
    x_label: str
    y_label: str
    params: dict[str, float]

    @property
    def grad_norm(self) -> np.ndarray:
        return np.hypot(self.grad_x, self.grad_y)

    @property
    def nonfinite(self) -> int:
        """How many grid points have no finite value (left blank on the map)."""
        return int((~np.isfinite(self.value)).sum())


def is_multiclass(loss: str) -> bool:
    return loss in MULTICLASS


def input_losses() -> list[str]:
    """Losses the input landscape can show: pointwise ones with a continuous target (a grid over
    the target makes sense), and the multi-class ones over two logits."""
    out = []
    for name in names():
        s = get_spec(name)
        if s.pointwise and s.target_domain is not None and not s.target_domain.is_discrete:
            out.append(name)
    return out + [n for n in MULTICLASS if n in names()]


def grid_axis(domain: Domain, points: int = GRID_POINTS) -> np.ndarray:
    """``points`` values over the domain's plot range, kept ``INSET`` of the span inside finite bounds."""
    lo, hi = domain.plot_range
    inset = INSET * (hi - lo)
    if math.isfinite(domain.low):
        lo = max(lo, domain.low + inset)
    if math.isfinite(domain.high):
        hi = min(hi, domain.high - inset)
    return np.linspace(lo, hi, points)


def pred_target_landscape(loss: str | LossSpec, params: Mapping[str, float], points: int = GRID_POINTS) -> InputLandscape:
    """A pointwise loss over prediction (x) × target (y), one :func:`evaluate` call."""
    s = get_spec(loss)
    if not s.pointwise or s.target_domain is None:
        raise ValueError(f"{s.name!r} has no pred × target landscape (it needs a pointwise loss with a target)")
    pred = grid_axis(s.pred_domain, points)
    target = grid_axis(s.target_domain, points)
    res = evaluate(s, pred[None, :], target[:, None], order=1, **params)
    assert res.grad is not None
    return InputLandscape(
        s.name, pred, target, res.value, res.grad, np.zeros_like(res.grad),
        f"prediction p ({s.pred_domain.label})", f"target y ({s.target_domain.label})", dict(res.params),
    )


def multiclass_target(loss: str, target_class: int, target_probability: float) -> np.ndarray:
    """The target of a 3-class loss: the class index, or for ``kl_div`` the distribution with
    ``target_probability`` on that class and the rest split evenly."""
    if loss != "kl_div":
        return np.asarray(float(target_class))
    q = np.full(N_CLASSES, (1.0 - target_probability) / (N_CLASSES - 1))
    q[int(target_class)] = target_probability
    return q


def two_logit_landscape(
    loss: str,
    params: Mapping[str, float],
    target_class: int = 0,
    other_logit: float = 0.0,
    target_probability: float = 0.7,
    points: int = GRID_POINTS,
) -> InputLandscape:
    """A multi-class loss over logits z₀ (x) and z₁ (y) with z₂ = ``other_logit``, one
    :func:`evaluate` call on a ``(points, points, 3)`` batch of logit vectors."""
    s = get_spec(loss)
    z = grid_axis(s.pred_domain, points)
    logits = np.empty((points, points, N_CLASSES))
    logits[..., 0] = z[None, :]
    logits[..., 1] = z[:, None]
    logits[..., 2] = other_logit
    target = multiclass_target(s.name, target_class, target_probability)
    res = evaluate(s, logits, target, order=1, **params)
    assert res.grad is not None
    return InputLandscape(
        s.name, z, z, res.value, res.grad[..., 0], res.grad[..., 1],
        "logit z₀ (class 0)", "logit z₁ (class 1)", dict(res.params),
    )


# --- parameter landscape of a linear model -------------------------------------------------------


def linear_predictions(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """ŷ = w·x + b for parameter vectors ``theta[..., :] = (w, b)``: shape ``(..., n)``."""
    theta = np.asarray(theta, dtype=np.float64)
    return theta[..., 0:1] * x + theta[..., 1:2]


def mean_loss(loss: str, x: np.ndarray, y: np.ndarray, params: Mapping[str, float], theta: np.ndarray) -> np.ndarray:
    """F(w, b) for parameter vectors ``theta`` ``(..., 2)`` (values only)."""
    return evaluate(loss, linear_predictions(theta, x), y, order=0, **params).value.mean(-1)


def linear_objective(loss: str, x: np.ndarray, y: np.ndarray, params: Mapping[str, float]) -> Objective:
    """F and ∇F for a batch of (w, b) ``(K, 2)``: one :func:`evaluate` call on ``(K, n)`` predictions."""

    def objective(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        res = evaluate(loss, linear_predictions(theta, x), y, order=1, **params)
        assert res.grad is not None
        grad = np.stack([(res.grad * x).mean(-1), res.grad.mean(-1)], axis=-1)
        return res.value.mean(-1), grad

    return objective


def parameter_landscape(
    loss: str, x: np.ndarray, y: np.ndarray, params: Mapping[str, float], w: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """F over the grid: ``out[j, i] = F(w[i], b[j])``, one :func:`evaluate` call on
    ``(len(b), len(w), n)`` predictions."""
    pred = w[None, :, None] * x + b[:, None, None]
    return evaluate(loss, pred, y, order=0, **params).value.mean(-1)


def curvature_matrix(
    loss: str, x: np.ndarray, y: np.ndarray, params: Mapping[str, float], theta: tuple[float, float]
) -> np.ndarray:
    """The Hessian of F at θ = (w, b): (1/n) Σᵢ L''(ŷᵢ, yᵢ)·[xᵢ, 1][xᵢ, 1]ᵀ (F depends on θ only through
    ŷᵢ = w·xᵢ + b), with L'' from :func:`evaluate` (``order=2``)."""
    res = evaluate(loss, linear_predictions(np.asarray(theta), x), y, order=2, **params)
    assert res.curvature is not None
    c = res.curvature
    return np.array([[np.mean(c * x * x), np.mean(c * x)], [np.mean(c * x), np.mean(c)]])


def critical_learning_rate(
    loss: str, x: np.ndarray, y: np.ndarray, params: Mapping[str, float], theta: tuple[float, float]
) -> float:
    """2/λ_max of the Hessian at θ: on a quadratic F (MSE), gradient descent multiplies the error along each
    eigenvector by 1 − ηλ per step, so it converges for η < 2/λ_max and diverges beyond (LeCun, Bottou, Orr
    & Müller, Efficient BackProp, 1998, §5.1). ∞ where F has no curvature (a piecewise-linear loss)."""
    top = float(np.linalg.eigvalsh(curvature_matrix(loss, x, y, params, theta))[-1])
    return 2.0 / top if top > 0 else math.inf


@dataclass(frozen=True)
class Minimum:
    w: float
    b: float
    value: float


def fit_minimum(loss: str, x: np.ndarray, y: np.ndarray, params: Mapping[str, float]) -> Minimum:
    """The (w, b) minimising F: :func:`lossviz.toolkit.fit.fit_line` (exact where the loss has kinks, as
    MAE's), with F there from :func:`mean_loss`, the values of the landscape."""
    intercept, slope = fit_line(loss, x, y, **params).coef
    return Minimum(float(slope), float(intercept), float(mean_loss(loss, x, y, params, np.array([slope, intercept]))))


def landscape_window(
    points: Sequence[tuple[float, float]], pad: float = 0.5, min_span: float = 2.0
) -> tuple[float, float, float, float]:
    """(w_lo, w_hi, b_lo, b_hi): the box around ``points`` (minima, start), grown by ``pad`` of its
    span on each side (each side at least ``min_span`` wide), then widened to a multiple of a 1-2-5
    step of about a fifth of the span, so that a small move of the start keeps the same window
    (and the cached landscape)."""
    arr = np.asarray(points, dtype=np.float64)
    lo, hi = arr.min(0), arr.max(0)
    centre, half = (lo + hi) / 2, np.maximum((hi - lo) * (0.5 + pad), min_span / 2)
    out = []
    for c, h in zip(centre, half, strict=True):
        q = _nice_step(2 * h / 5)
        out += [math.floor((c - h) / q) * q, math.ceil((c + h) / q) * q]
    return float(out[0]), float(out[1]), float(out[2]), float(out[3])


def _nice_step(x: float) -> float:
    """The smallest 1-2-5 × 10^k at least ``x``."""
    exponent = math.floor(math.log10(x))
    for mantissa in (1.0, 2.0, 5.0, 10.0):
        if mantissa * 10.0**exponent >= x * (1 - 1e-12):
            return mantissa * 10.0**exponent
    raise AssertionError("unreachable")


def descend(
    loss: str,
    x: np.ndarray,
    y: np.ndarray,
    params: Mapping[str, float],
    start: tuple[float, float],
    learning_rates: Sequence[float],
    steps: int,
) -> dict[str, Trajectory]:
    """Gradient descent and Adam (``torch.optim``'s defaults) from ``start``, one run per learning rate, in
    lockstep (one :func:`evaluate` call per step for all runs): ``{"gd": ..., "adam": ...}``."""
    gd, adam = run(linear_objective(loss, x, y, params), start, [SGD(), Adam()], learning_rates, steps)
    return {"gd": gd, "adam": adam}


def window_axes(
    window: tuple[float, float, float, float], points: int = FIT_GRID_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """The w and b axes of the (w, b) grid over a :func:`landscape_window`."""
    return np.linspace(window[0], window[1], points), np.linspace(window[2], window[3], points)


@dataclass(frozen=True)
class Descent:
    """Gradient descent and Adam from one start on one loss's F at one learning rate, ready to be played.

    ``theta[k]`` (steps + 1, 2) is (w, b) after each step of optimiser k (``"gd"``, ``"adam"``; a run that
    stopped holds its last point), ``gap[k]`` = F(θₜ) − F* (at least :data:`GAP_FLOOR`), ``stopped[k]`` the
    point where it stopped (−1 if never; see :class:`lossviz.toolkit.optim.Trajectory`), and ``shown`` the
    steps a player shows (:func:`lossviz.toolkit.frames.snapshot_steps`: every one up to 100).
    """

    theta: dict[str, np.ndarray]
    gap: dict[str, np.ndarray]
    stopped: dict[str, int]
    shown: np.ndarray

    def path(self, key: str) -> np.ndarray:
        """The points optimiser ``key`` visited, up to where it stopped: ``(m, 2)``."""
        stop = self.stopped[key]
        return self.theta[key] if stop < 0 else self.theta[key][: stop + 1]

    @property
    def diverged(self) -> dict[str, bool]:
        return {k: s >= 0 for k, s in self.stopped.items()}


def descent(paths: Mapping[str, Trajectory], rate: int, minimum: Minimum) -> Descent:
    """The runs of :func:`descend` with its ``rate``-th learning rate, measured against ``minimum``."""
    steps = len(next(iter(paths.values())).theta) - 1
    return Descent(
        theta={k: t.theta[:, rate] for k, t in paths.items()},
        gap={k: np.maximum(t.value[:, rate] - minimum.value, GAP_FLOOR) for k, t in paths.items()},
        stopped={k: int(t.stopped[rate]) for k, t in paths.items()},
        shown=snapshot_steps(steps),
    )


def step_param(last: int) -> Param:
    """The step a player of the descents shows, 0 … ``last`` (the end by default)."""
    return time_param("step", last, "The optimisers' step shown: the (w, b) after that many updates.")
