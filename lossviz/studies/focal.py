"""Focal loss against cross-entropy: Lin et al.'s curves, and what γ does on imbalanced data.

Everything goes through :func:`lossviz.evaluate` with the registered ``focal`` and ``bce_logits``
losses. The p_t axis is mapped to a logit with target 1: x = log(p_t / (1 − p_t)), so that
p_t = σ(x) is the probability the model gives the true class.

* :func:`focal_curves` — FL(p_t) for several γ (Fig. 1 of Lin et al. 2017 with γ = 0, 0.5, 1, 2,
  5), the modulating factor (1 − p_t)^γ = FL/CE, and the gradient magnitude |∂FL/∂x|.
* :func:`focal_grid` — the α-balanced loss FL(p_t) = −α_t (1 − p_t)^γ log p_t (Eq. 5) of a positive
  (α_t = α) and a negative (α_t = 1 − α) example, and its gradient, at every (γ, α) of the page's pad.
* :func:`train_logistic` — a logistic model x ↦ w·x + b, on the imbalanced blobs of
  :func:`lossviz.toolkit.data.imbalanced_blobs`, trained to convergence (Newton with a
  line search, :func:`lossviz.toolkit.fit.minimize_pointwise`) on the mean of any binary loss.
* :func:`well_classified_share` — the share of the total loss that comes from examples the model
  already gets right with p_t > 0.6, as γ varies (the point of Lin et al.'s Fig. 4: easy negatives
  dominate cross-entropy, focal loss silences them).
* :func:`average_precision` — PR-AUC as average precision, Σₖ (Rₖ − Rₖ₋₁)·Pₖ over the distinct
  score thresholds (the step-wise definition of scikit-learn's ``average_precision_score``).

Reference: Lin, Goyal, Girshick, He & Dollár, Focal Loss for Dense Object Detection, ICCV 2017
(Eq. 5, Fig. 1, §3.2 numbers: with γ = 2 an example with p_t = 0.9 gets 100× less loss than with
CE, ≈ 1000× less at p_t ≈ 0.968).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lossviz.engine import evaluate
from lossviz.registry import spec
from lossviz.toolkit.data import Blobs
from lossviz.toolkit.fit import minimize_pointwise
from lossviz.toolkit.frames import even_values

GAMMA = spec("focal").param("gamma")
ALPHA = spec("focal").param("alpha")
LIN_GAMMAS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 5.0)
"""The γ values of Fig. 1 in Lin et al. 2017."""
PAD_COUNT = 21
"""Frames along each axis of the γ × α pad: 21 × 21 = 441 frames keep the live figure under 1.5 MB."""
GAMMA_FRAMES = even_values(GAMMA, PAD_COUNT)
"""γ values of the pad's frames: 0, 0.25, …, 5 (the default 2 and all of :data:`LIN_GAMMAS` among them)."""
ALPHA_FRAMES = even_values(ALPHA, PAD_COUNT)
"""α values of the pad's frames: 0, 0.05, …, 1 (the declared step; the default 0.25 among them)."""
P_T = np.linspace(0.001, 0.999, 201)
"""The p_t axis of the reference curves: 201 points in (0, 1); the loss is infinite at p_t = 0."""
P_T_LIVE = np.linspace(0.001, 0.999, 101)
"""The p_t axis of the live curves: 441 frames of 5 curves at 101 points stay under 1.5 MB."""
WELL_CLASSIFIED = 0.6
"""Lin et al.'s threshold: examples with p_t > 0.6 count as well classified."""
SHARE_GAMMAS = even_values(GAMMA, 101)
"""γ values of the share chart: steps of 0.05, so every γ frame of the pad is one of them."""
RIDGE = 1e-4
"""L2 penalty ½λ‖w‖² on the weights (not the bias) of the logistic model: keeps its minimum finite."""


def logit_of(p_t: np.ndarray | Sequence[float]) -> np.ndarray:
    """x = log(p_t / (1 − p_t)): the logit whose σ is p_t (target 1)."""
    p = np.asarray(p_t, dtype=np.float64)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class FocalCurves:
    """Curves over ``p_t`` for each of ``gammas`` (rows): loss, |∂loss/∂x| and (1 − p_t)^γ."""

    p_t: np.ndarray
    gammas: np.ndarray
    alpha: float
    loss: np.ndarray
    grad: np.ndarray
    modulating: np.ndarray
    ce: np.ndarray


def focal_curves(p_t: np.ndarray, gammas: Sequence[float], alpha: float = -1.0) -> FocalCurves:
    """Focal loss of a positive example (target 1) as a function of p_t, for each γ.

    ``alpha = −1`` switches class weighting off (Fig. 1 of Lin et al. has none); otherwise the
    positive's weight α multiplies loss and gradient. The modulating factor is FL/CE with α off,
    which equals (1 − p_t)^γ.
    """
    x = logit_of(p_t)
    ce = evaluate("bce_logits", x, 1.0, order=0).value
    rows = [evaluate("focal", x, 1.0, order=1, gamma=float(g), alpha=alpha) for g in gammas]
    unweighted = [evaluate("focal", x, 1.0, order=0, gamma=float(g), alpha=-1.0).value for g in gammas]
    return FocalCurves(
        p_t=np.asarray(p_t, dtype=float),
        gammas=np.asarray(gammas, dtype=float),
        alpha=alpha,
        loss=np.stack([r.value for r in rows]),
        grad=np.abs(np.stack([r.grad for r in rows])),  # type: ignore[misc]
        modulating=np.stack(unweighted) / ce,
        ce=ce,
    )


CLASSES = ("positive", "negative")
"""The classes of :class:`FocalGrid`'s second-to-last axis: y = 1 (weight α) and y = 0 (weight 1 − α)."""


@dataclass(frozen=True)
class FocalGrid:
    """α-balanced focal loss over ``p_t`` at every (γ, α) of a grid: ``loss[i, j, c]`` and ``grad[i, j, c]``
    at (``gammas[i]``, ``alphas[j]``) for class ``CLASSES[c]`` of an example with probability p_t for its
    true class; ``modulating[i]`` is (1 − p_t)^γ at ``gammas[i]`` (independent of α)."""

    p_t: np.ndarray
    gammas: np.ndarray
    alphas: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    modulating: np.ndarray


def focal_grid(p_t: np.ndarray, gammas: Sequence[float], alphas: Sequence[float]) -> FocalGrid:
    """FL(p_t) = −α_t (1 − p_t)^γ log p_t and |∂FL/∂x| of a positive and a negative example, for each γ and α.

    α_t = α for the positive (y = 1, logit x) and 1 − α for the negative (y = 0, logit −x, so that its
    p_t is also σ(x)): Lin et al. 2017, Eq. 5, the balanced form RetinaNet trains with (α = 0.25, γ = 2).
    An α of −1 switches weighting off (α_t = 1 for both classes).
    """
    x = logit_of(p_t)
    pred, target = np.stack([x, -x]), np.array([[1.0], [0.0]])  # rows in the order of CLASSES
    # With weighting off every α is −1: one evaluation per γ serves every column.
    unique, column = np.unique(np.asarray(alphas, dtype=float), return_inverse=True)
    rows = [
        [evaluate("focal", pred, target, order=1, gamma=float(g), alpha=float(a)) for a in unique] for g in gammas
    ]
    loss = np.array([[r.value for r in row] for row in rows])[:, column]
    grad = np.abs(np.array([[r.grad for r in row] for row in rows]))[:, column]
    return FocalGrid(
        p_t=np.asarray(p_t, dtype=float),
        gammas=np.asarray(gammas, dtype=float),
        alphas=np.asarray(alphas, dtype=float),
        loss=loss,
        grad=grad,
        modulating=focal_curves(p_t, gammas).modulating,
    )


def pad_grid(weighting: bool) -> FocalGrid:
    """The page's live curves: :func:`focal_grid` on :data:`P_T_LIVE` at every γ of :data:`GAMMA_FRAMES` and α of
    :data:`ALPHA_FRAMES`, or with ``weighting`` off at α = −1 in every column (the pad's α then changes nothing)."""
    alphas = ALPHA_FRAMES if weighting else np.full(ALPHA_FRAMES.size, -1.0)
    return focal_grid(P_T_LIVE, GAMMA_FRAMES, alphas)


RATIO_P_T = (0.5, 0.9, 0.968, 0.99)
"""Where the page quotes CE / FL: Lin et al. give 100× at p_t = 0.9 and about 1000× at p_t ≈ 0.968 for γ = 2."""


def ce_to_focal_ratio(p_t: float | np.ndarray, gamma: float) -> np.ndarray:
    """CE / FL for a positive with probability p_t (α off): how many times less loss focal gives."""
    x = logit_of(np.atleast_1d(p_t))
    ce = evaluate("bce_logits", x, 1.0, order=0).value
    fl = evaluate("focal", x, 1.0, order=0, gamma=gamma, alpha=-1.0).value
    return ce / fl


# --- a logistic model on imbalanced data ------------------------------------------------------------


@dataclass(frozen=True)
class Logistic:
    """A trained logistic model: logit = w·x + b, with the solver's convergence report."""

    loss: str
    params: dict[str, float]
    w: np.ndarray
    b: float
    iterations: int
    grad_norm: float
    converged: bool

    def logits(self, x: np.ndarray) -> np.ndarray:
        return x @ self.w + self.b


def train_logistic(loss: str, data: Blobs, params: Mapping[str, float] | None = None) -> Logistic:
    """Minimise mean(loss(w·x + b, y)) + ½λ‖w‖² (λ = :data:`RIDGE`) by Newton with a line search.

    The curvature comes from ``lossviz.evaluate(order=2)``; where it is negative (focal loss is not
    convex in the logit for every γ) it is clipped at 0 and a damped step is taken instead.
    """
    n = data.y.size
    design = np.column_stack([np.ones(n), data.x])
    fit = minimize_pointwise(
        loss, design, data.y, np.full(n, 1.0 / n), params=params, ridge=[0.0, RIDGE, RIDGE], irls=False
    )
    return Logistic(
        loss=loss,
        params=dict(fit.params),
        w=np.asarray(fit.coef[1:]),
        b=float(fit.coef[0]),
        iterations=int(fit.iterations),
        grad_norm=float(fit.grad_norm),
        converged=bool(fit.converged),
    )


def p_true(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """p_t = σ((2y − 1)·x): the probability the model gives each example's true class."""
    z = (2.0 * np.asarray(y) - 1.0) * np.asarray(logits)
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def easy_fraction(logits: np.ndarray, y: np.ndarray, threshold: float = WELL_CLASSIFIED) -> float:
    """The fraction of examples with p_t > threshold: those the model already classifies well."""
    return float((p_true(logits, y) > threshold).mean())


def well_classified_share(
    logits: np.ndarray, y: np.ndarray, gammas: Sequence[float], alpha: float = -1.0, threshold: float = WELL_CLASSIFIED
) -> np.ndarray:
    """For each γ, Σ FL over examples with p_t > threshold divided by Σ FL over all examples."""
    easy = p_true(logits, y) > threshold
    shares = []
    for g in gammas:
        values = evaluate("focal", logits, y, order=0, gamma=float(g), alpha=alpha).value
        total = values.sum()
        shares.append(values[easy].sum() / total if total > 0 else 0.0)
    return np.asarray(shares)


def share_at(share: np.ndarray, gamma: float, gammas: np.ndarray = SHARE_GAMMAS) -> float:
    """The share of :func:`well_classified_share` at ``gamma``, linearly interpolated between the ``gammas``
    it was computed at (every γ frame of the page is one of :data:`SHARE_GAMMAS`, so this is the computed value
    there)."""
    return float(np.interp(gamma, gammas, share))


# --- precision, recall, average precision ------------------------------------------------------------


def precision_recall_curve(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall at each distinct score threshold (predict 1 when score ≥ threshold).

    Returns (precision, recall, thresholds) with thresholds decreasing; tied scores form one step.
    """
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=float)
    if scores.shape != labels.shape or scores.ndim != 1:
        raise ValueError(f"scores and labels must be 1-D of one length, got {scores.shape} and {labels.shape}")
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], labels[order]
    last_of_tie = np.flatnonzero(np.append(np.diff(s) != 0, True))
    tp = np.cumsum(t)[last_of_tie]
    predicted = last_of_tie + 1.0
    positives = t.sum()
    recall = tp / positives if positives > 0 else np.zeros_like(tp)
    return tp / predicted, recall, s[last_of_tie]


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """AP = Σₖ (Rₖ − Rₖ₋₁)·Pₖ over decreasing thresholds, R₀ = 0 (NaN without positives)."""
    precision, recall, _ = precision_recall_curve(scores, labels)
    if np.asarray(labels).sum() == 0:
        return float("nan")
    return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))


@dataclass(frozen=True)
class Scores:
    """Minority-class metrics of a model on a set, at the threshold p = 0.5 (logit 0)."""

    recall: float
    precision: float
    average_precision: float


def minority_scores(logits: np.ndarray, y: np.ndarray) -> Scores:
    predicted = logits > 0
    positives = y == 1
    tp = float(np.sum(predicted & positives))
    recall = tp / positives.sum() if positives.any() else float("nan")
    precision = tp / predicted.sum() if predicted.any() else float("nan")
    return Scores(recall=recall, precision=precision, average_precision=average_precision(logits, y))


@dataclass(frozen=True)
class Comparison:
    """Models scored on one set, by label: minority metrics and precision-recall curves, and the set's share
    of minority examples (the precision of a random ranking: the floor of a PR curve)."""

    scores: dict[str, Scores]
    curves: dict[str, tuple[np.ndarray, np.ndarray]]
    """``(precision, recall)`` at each score threshold (:func:`precision_recall_curve`)."""
    base_rate: float


def compare_models(models: Mapping[str, Logistic], data: Blobs) -> Comparison:
    """Each model's minority metrics and PR curve on ``data`` (a test set)."""
    logits = {label: m.logits(data.x) for label, m in models.items()}
    return Comparison(
        scores={label: minority_scores(z, data.y) for label, z in logits.items()},
        curves={label: precision_recall_curve(z, data.y)[:2] for label, z in logits.items()},
        base_rate=data.n_minority / data.y.size,
    )


def metrics_table(models: Mapping[str, Logistic], comparison: Comparison) -> pd.DataFrame:
    """One row per model: minority recall and precision at p = 0.5, PR-AUC, and the solver's report."""
    scores = [comparison.scores[label] for label in models]
    return pd.DataFrame(
        {
            "minority recall (p > 0.5)": [s.recall for s in scores],
            "minority precision": [s.precision for s in scores],
            "PR-AUC (average precision)": [s.average_precision for s in scores],
            "Newton iterations": [m.iterations for m in models.values()],
            "converged": ["✓" if m.converged else "✗" for m in models.values()],
        },
        index=list(models),
    )
