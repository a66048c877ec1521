"""Two-parameter views: L1 versus L2 regularisation, and a weighted sum of two losses.

**Regularisation.** A linear model ŷ = w₁x₁ + w₂x₂ on correlated features
(:func:`lossviz.toolkit.data.correlated_regression`), data loss the mean
squared error L(w) = mean((Xw − y)²) = wᵀAw − 2bᵀw + c with A = XᵀX/n, b = Xᵀy/n. The lasso
minimises L(w) + λ‖w‖₁, ridge L(w) + λ‖w‖₂². Each is the constrained problem min L(w) subject to
‖w‖₁ ≤ t (a diamond) or ‖w‖₂ ≤ r (a disc) for the t, r its solution reaches (Tibshirani 1996,
Fig. 2; Hastie, Tibshirani & Friedman, *ESL*, 2009, Fig. 3.11): the elliptical contours of L first
touch the diamond at a corner — a coefficient exactly 0 — while they touch the disc anywhere.
Both solutions are exact: ridge solves (A + λI)w = b; the lasso tries every support and sign
pattern (there are nine in two dimensions) and keeps the best consistent one, so zeros are zeros.

**Multi-task.** A line ŷ = a + b·x fitted to the linear data with outliers of
:func:`lossviz.toolkit.data.line_with_outliers` (y = 2x + 0.5 + noise, 4 of 40 points 6 higher) under
(1 − ω)·L_A + ω·L_B for two catalogue losses: the landscape and its minimiser move from L_A's
(ω = 0) to L_B's (ω = 1). Every value comes from :func:`lossviz.evaluate`, every minimiser from the
exact fit of :func:`lossviz.toolkit.fit.fit_line_terms`: the objective is two terms over the same
points, weighted (1 − ω)/n and ω/n.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch

from lossviz.engine import evaluate
from lossviz.errors import ParameterError
from lossviz.registry import spec as get_spec
from lossviz.spec import LossSpec, Param
from lossviz.toolkit.data import LineData, correlated_regression, line_with_outliers
from lossviz.toolkit.fit import Term, fit_line_terms, line_losses
from lossviz.toolkit.frames import FINE_MANTISSAS, log_ladder, round_values

LAMBDA = Param(
    "lam", 0.3, low=0.0, ui_low=0.001, ui_high=10.0, scale="log", symbol=r"\lambda",
    description="Strength λ of the penalty: λ‖w‖₁ (lasso) or λ‖w‖₂² (ridge) added to the mean squared error.",
)
TASK_WEIGHT = Param(
    "weight", 0.5, low=0.0, high=1.0, ui_low=0.0, ui_high=1.0, step=0.05, symbol=r"\omega",
    description="Weight ω of the second loss in (1 − ω)·L_A + ω·L_B.",
)
TASK_WEIGHTS = round_values(TASK_WEIGHT)
"""The weights ω of the multi-task view and the frames of the live ω: 0, 0.05, …, 1, the steps of ω's control."""


# --- regularisation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinearProblem:
    """Data of the 2-parameter linear model and the quadratic form of its mean squared error.

    Built on generated data as ``LinearProblem(*lossviz.toolkit.data.correlated_regression(ρ))``.
    """

    x: np.ndarray
    y: np.ndarray

    @property
    def gram(self) -> np.ndarray:
        """A = XᵀX / n."""
        return self.x.T @ self.x / len(self.y)

    @property
    def moment(self) -> np.ndarray:
        """b = Xᵀy / n."""
        return self.x.T @ self.y / len(self.y)

    def data_loss(self, w: np.ndarray) -> np.ndarray:
        """Mean squared error at the weights ``w`` (..., 2), through the catalogue's ``mse``."""
        w = torch.as_tensor(np.asarray(w, dtype=np.float64))
        pred = w @ torch.as_tensor(self.x.T)  # (..., n)
        return get_spec("mse").fn(pred, torch.as_tensor(self.y)).mean(-1).numpy()

    def least_squares(self) -> np.ndarray:
        return np.linalg.solve(self.gram, self.moment)


def ridge(problem: LinearProblem, lam: float) -> np.ndarray:
    """argmin L(w) + λ‖w‖₂²: the solution of (A + λI)w = b."""
    return np.linalg.solve(problem.gram + lam * np.eye(2), problem.moment)


def lasso(problem: LinearProblem, lam: float) -> np.ndarray:
    """argmin L(w) + λ‖w‖₁, exactly.

    On a support S with signs s the stationarity condition 2A_SS w_S − 2b_S + λs_S = 0 gives
    w_S = A_SS⁻¹(b_S − λs_S/2); a candidate counts only if its signs are s. The objective is
    convex, so its minimiser is the best consistent candidate; w = 0 is always one.
    """
    a, b = problem.gram, problem.moment
    best, best_value = np.zeros(2), lasso_objective(problem, np.zeros(2), lam)
    for signs in itertools.product((-1.0, 0.0, 1.0), repeat=2):
        support = [i for i in range(2) if signs[i] != 0]
        if not support:
            continue
        s = np.array([signs[i] for i in support])
        w_s = np.linalg.solve(a[np.ix_(support, support)], b[support] - lam * s / 2)
        if not np.all(np.sign(w_s) == s):
            continue
        w = np.zeros(2)
        w[support] = w_s
        value = lasso_objective(problem, w, lam)
        if value < best_value:
            best, best_value = w, value
    return best


def lasso_objective(problem: LinearProblem, w: np.ndarray, lam: float) -> float:
    w = np.asarray(w, dtype=np.float64)
    return float(w @ problem.gram @ w - 2 * problem.moment @ w + problem.y @ problem.y / len(problem.y) + lam * np.abs(w).sum())


def lambda_max(problem: LinearProblem) -> float:
    """The smallest λ at which the lasso solution is w = 0: 2·max|bᵢ|."""
    return float(2 * np.abs(problem.moment).max())


def level_ellipse(problem: LinearProblem, level: float, points: int = 120) -> np.ndarray:
    """The contour {w : L(w) = level} (an ellipse around the least-squares fit) as (points, 2)."""
    a = problem.gram
    w0 = problem.least_squares()
    excess = level - float(problem.data_loss(w0))
    if excess <= 0:
        return np.repeat(w0[None, :], points, axis=0)
    vals, vecs = np.linalg.eigh(a)
    t = np.linspace(0, 2 * np.pi, points)
    circle = np.stack([np.cos(t) * np.sqrt(excess / vals[0]), np.sin(t) * np.sqrt(excess / vals[1])], axis=1)
    return w0 + circle @ vecs.T


def diamond(t: float, points: int = 5) -> np.ndarray:
    """The boundary of {‖w‖₁ ≤ t} (closed polygon)."""
    corners = np.array([[t, 0], [0, t], [-t, 0], [0, -t], [t, 0]], dtype=np.float64)
    return corners[:points]


def disc(r: float, points: int = 121) -> np.ndarray:
    """The boundary of {‖w‖₂ ≤ r} (closed)."""
    t = np.linspace(0, 2 * np.pi, points)
    return r * np.stack([np.cos(t), np.sin(t)], axis=1)


@dataclass(frozen=True)
class RegularizationPath:
    """Solutions for each λ of ``lams``: ``lasso[k]``, ``ridge[k]`` (each (2,)), the contour grid
    ``loss[i, j]`` at (w1[j], w2[i]), and the data-loss contour through each solution (``*_levels[k]``)."""

    lams: np.ndarray
    lasso: np.ndarray
    ridge: np.ndarray
    least_squares: np.ndarray
    w1: np.ndarray
    w2: np.ndarray
    loss: np.ndarray
    lasso_levels: tuple[np.ndarray, ...]
    ridge_levels: tuple[np.ndarray, ...]


def regularization_path(problem: LinearProblem, lams: np.ndarray, resolution: int = 81) -> RegularizationPath:
    """Lasso and ridge solutions along ``lams`` and the data loss on a grid that holds them all."""
    lams = np.asarray(lams, dtype=np.float64)
    if (lams < 0).any():
        raise ParameterError("λ must be ≥ 0")
    lasso_w = np.array([lasso(problem, lam) for lam in lams])
    ridge_w = np.array([ridge(problem, lam) for lam in lams])
    ols = problem.least_squares()
    extent = 1.4 * max(np.abs(ols).max(), 0.5)
    w1 = np.linspace(-extent, extent, resolution)
    w2 = np.linspace(-extent, extent, resolution)
    g1, g2 = np.meshgrid(w1, w2)
    loss = problem.data_loss(np.stack([g1, g2], axis=-1))
    lasso_levels = tuple(level_ellipse(problem, float(problem.data_loss(w))) for w in lasso_w)
    ridge_levels = tuple(level_ellipse(problem, float(problem.data_loss(w))) for w in ridge_w)
    return RegularizationPath(lams, lasso_w, ridge_w, ols, w1, w2, loss, lasso_levels, ridge_levels)


PATH_LAMBDAS = np.array(log_ladder(LAMBDA, FINE_MANTISSAS))
"""The λ of the path drawn and the frames of the live λ: 1, 1.5, 2, 3, 5, 7 × 10ᵏ from 0.001 to 10 (25 values),
the default 0.3 among them and a superset of the 1-2-5 values a λ link held before."""


@dataclass(frozen=True)
class RegularizationView:
    """The regularisation path over :data:`PATH_LAMBDAS`, the λ beyond which the lasso is 0, and from which λ of
    the path on the lasso has exactly one zero weight (None: nowhere on it)."""

    path: RegularizationPath
    lambda_max: float
    one_zero_from: float | None


def regularization_view(correlation: float) -> RegularizationView:
    """Lasso and ridge on :func:`lossviz.toolkit.data.correlated_regression` for each λ of :data:`PATH_LAMBDAS`."""
    problem = LinearProblem(*correlated_regression(correlation))
    path = regularization_path(problem, PATH_LAMBDAS)
    one_zero = [float(at) for at, w in zip(path.lams, path.lasso, strict=True) if np.sum(w == 0.0) == 1]
    return RegularizationView(path, lambda_max(problem), one_zero[0] if one_zero else None)


# --- multi-task: a weighted sum of two losses ---------------------------------------------------------


@dataclass(frozen=True)
class MultiTask:
    """(1 − ω)·L_A + ω·L_B over the line parameters (a, b): grids, and minimisers for each ω of ``weights``."""

    loss_a: str
    loss_b: str
    intercepts: np.ndarray
    slopes: np.ndarray
    z_a: np.ndarray
    z_b: np.ndarray
    weights: np.ndarray
    minimizers: np.ndarray
    x: np.ndarray
    y: np.ndarray

    def mixture(self, weight: float) -> np.ndarray:
        return (1.0 - weight) * self.z_a + weight * self.z_b


def _line_loss_grid(
    spec: LossSpec, params: dict[str, float], x: np.ndarray, y: np.ndarray, intercepts: np.ndarray, slopes: np.ndarray
) -> np.ndarray:
    """Mean loss of the lines a + b·x: ``out[i, j]`` at (``intercepts[j]``, ``slopes[i]``), one evaluate call."""
    pred = intercepts[None, :, None] + slopes[:, None, None] * x
    return evaluate(spec, pred, y, order=0, **params).value.mean(-1)


def multitask(
    loss_a: str,
    loss_b: str,
    params_a: dict[str, float] | None = None,
    params_b: dict[str, float] | None = None,
    weights: np.ndarray | None = None,
    resolution: int = 41,
    data: LineData | None = None,
) -> MultiTask:
    """Landscapes of two losses for a line fit, and the exact minimiser of their weighted sum for each weight
    (:data:`TASK_WEIGHTS` by default)."""
    spec_a, spec_b = get_spec(loss_a), get_spec(loss_b)
    allowed = set(line_losses())
    for s in (spec_a, spec_b):
        if s.name not in allowed:
            raise ParameterError(f"loss {s.name!r} does not fit a regression line (pred and target must be real)")
    pa, pb = spec_a.validate_params(params_a or {}), spec_b.validate_params(params_b or {})
    data = data if data is not None else line_with_outliers()
    x, y = data.x, data.y
    weights = TASK_WEIGHTS if weights is None else np.asarray(weights, dtype=np.float64)
    omega = weights[:, None]  # one data set per weight: a batch of fits
    found = fit_line_terms((Term(spec_a, pa, (1.0 - omega) / x.size), Term(spec_b, pb, omega / x.size)), x, y).coef
    # The grid shown: centred on the minimisers' range, wide enough to show the basins around it.
    centre = (found.min(axis=0) + found.max(axis=0)) / 2
    half = np.maximum(0.5, 1.2 * (found.max(axis=0) - found.min(axis=0)))
    intercepts = np.linspace(centre[0] - half[0], centre[0] + half[0], resolution)
    slopes = np.linspace(centre[1] - half[1], centre[1] + half[1], resolution)
    z_a = _line_loss_grid(spec_a, pa, x, y, intercepts, slopes)
    z_b = _line_loss_grid(spec_b, pb, x, y, intercepts, slopes)
    return MultiTask(spec_a.name, spec_b.name, intercepts, slopes, z_a, z_b, weights, found, x, y)
