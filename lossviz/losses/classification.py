"""Classification losses: probabilities, logits or scores against labels, class indices or distributions.

Binary losses are pointwise (one probability, logit or score per sample). Multi-class losses are
structured: ``pred`` holds C logits on its last axis and the loss reduces that axis, so a batch of
shape ``(...)`` needs ``pred`` of shape ``(..., C)``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from lossviz.domains import BINARY, CLASS_INDEX, LOGIT, PROBABILITY, SCORE, SIGN, UNIT_INTERVAL
from lossviz.errors import DomainError
from lossviz.losses._numerics import clamped_log, log_sigmoid_both, log_sigmoid_pair
from lossviz.registry import register
from lossviz.spec import Domain, Param

LOGITS = Domain("logits (real vector over the last axis)", plot_range=(-6.0, 6.0))
PROBABILITY_VECTOR = Domain("probabilities over the last axis (summing to 1)", low=0.0, high=1.0, plot_range=(0.0, 1.0))
INDEX_OR_PROBABILITIES = Domain(
    "class index, or probabilities over the last axis (summing to 1)", low=0.0, plot_range=(0.0, 9.0)
)

SUM_TOLERANCE = 1e-6
"""How far a probability target's sum over the classes may be from 1."""

_GAMMA = Param(
    "gamma", 2.0, low=0.0, ui_low=0.0, ui_high=5.0, step=0.1, symbol=r"\gamma",
    description="Focusing: (1 − p_t)^γ shrinks the loss of well-classified examples; γ = 0 is cross-entropy.",
)


# --- input checks -----------------------------------------------------------------------------


def _first_bad(bad: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(bad)[0])


def _check_classes(pred: np.ndarray, loss: str, at_least: int = 2) -> int:
    """The number of classes C (the last axis of pred); DomainError if it is below ``at_least``."""
    n_classes = pred.shape[-1]
    if n_classes < at_least:
        raise DomainError(
            f"pred of {loss!r} must hold at least {at_least} class logit{'s' if at_least > 1 else ''} "
            f"on its last axis; got shape {pred.shape}"
        )
    return n_classes


def _check_class_index(target: np.ndarray, n_classes: int, loss: str, hint: str = "") -> None:
    """Class indices must be integers 0 … C − 1 (the domain check has already excluded negatives)."""
    fractional = target != np.round(target)
    if fractional.any():
        where = _first_bad(fractional)
        raise DomainError(
            f"target of {loss!r} must hold integer class indices; got {float(target[where])!r} at index {where}{hint}"
        )
    too_big = target >= n_classes
    if too_big.any():
        where = _first_bad(too_big)
        raise DomainError(
            f"target of {loss!r} holds class index {int(target[where])} at index {where}, but pred has "
            f"C = {n_classes} classes; valid class indices are 0 … {n_classes - 1}{hint}"
        )


def _check_probability_vectors(target: np.ndarray, loss: str) -> None:
    """Probability targets: every entry in [0, 1] and each vector summing to 1 within 1e-6."""
    above = target > 1.0
    if above.any():
        where = _first_bad(above)
        raise DomainError(
            f"probability target of {loss!r} must lie in [0, 1]; got {float(target[where])!r} at index {where}"
        )
    sums = target.sum(axis=-1)
    off = np.abs(sums - 1.0) > SUM_TOLERANCE
    if off.any():
        where = _first_bad(off)
        raise DomainError(
            f"probability target of {loss!r} must sum to 1 over its last axis (tolerance {SUM_TOLERANCE:g}); "
            f"got sum {float(sums[where])!r} for the vector at batch index {where}"
        )


def _check_cross_entropy(pred: np.ndarray, target: np.ndarray | None, params: Mapping[str, float]) -> None:
    n_classes = _check_classes(pred, "cross_entropy")
    assert target is not None
    if target.ndim == pred.ndim:
        _check_probability_vectors(target, "cross_entropy")
    else:
        hint = " (for probability targets, give target as many axes as pred)"
        _check_class_index(target, n_classes, "cross_entropy", hint)


def _check_index_target(
    pred: np.ndarray, target: np.ndarray | None, params: Mapping[str, float], *, loss: str
) -> None:
    assert target is not None
    _check_class_index(target, _check_classes(pred, loss), loss)


def _check_weighted_cross_entropy(pred: np.ndarray, target: np.ndarray | None, params: Mapping[str, float]) -> None:
    _check_index_target(pred, target, params, loss="weighted_cross_entropy")
    n_classes = pred.shape[-1]
    weighted = int(params["weighted_class"])
    if weighted >= n_classes:
        raise DomainError(
            f"parameter 'weighted_class' of 'weighted_cross_entropy' is {weighted}, but pred has C = {n_classes} "
            f"classes; valid values are 0 … {n_classes - 1}"
        )


def _check_kl_div(pred: np.ndarray, target: np.ndarray | None, params: Mapping[str, float]) -> None:
    assert target is not None
    _check_classes(pred, "kl_div", at_least=1)
    _check_probability_vectors(target, "kl_div")


def _probability_target_ndim(pred_ndim: int, target_ndim: int) -> int:
    """As torch decides: a target with as many axes as pred holds probabilities, one fewer class indices."""
    return 1 if target_ndim == pred_ndim else 0


def _gather(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x[..., index[...]]: the entry of each class vector at its (float-stored) class index."""
    return x.gather(-1, index.long().unsqueeze(-1)).squeeze(-1)


def _target_margin(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """d = x_y − logsumexp_{c≠y} x_c, the logit of p_y = softmax(x)_y.

    log p_y = log σ(d) and log(1 − p_y) = log σ(−d) are then exact even where p_y rounds to 1
    (x_y − logsumexp(x) would keep only the absolute accuracy of x_y). Needs C ≥ 2.
    """
    is_target = torch.arange(pred.shape[-1], device=pred.device) == target.long().unsqueeze(-1)
    others = torch.logsumexp(torch.where(is_target, -torch.inf, pred), dim=-1)
    return _gather(pred, target) - others


# --- binary: probabilities and logits ---------------------------------------------------------


@register(
    name="bce",
    title="Binary cross-entropy (on probabilities)",
    family="classification",
    latex=r"-\big(y\log p + (1-y)\log(1-p)\big)",
    use_when="A model that outputs a probability p of the positive class: the log-loss of a yes/no prediction.",
    pred=PROBABILITY,
    target=UNIT_INTERVAL,
    references=(
        "torch.nn.functional.binary_cross_entropy (log clamped at −100)",
        "Goodfellow, Bengio & Courville, Deep Learning, 2016, §6.2.2.2",
    ),
    note=(
        "Each log is clamped at −100 as in torch, so p = 0 or 1 gives at most 100, not ∞. The gradient is the "
        "exact derivative (1 − y)/max(1 − p, 1e-12) − y/max(p, 1e-12). torch's own backward, "
        "(p − y)/max(p(1 − p), 1e-12), agrees everywhere except at p = 0 with y = 0 and p = 1 with y = 1 "
        "(torch 0, lossviz +1 and −1, the one-sided slopes) and within 1e-12 of those ends."
    ),
)
def bce(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """−(y log p + (1 − y) log(1 − p)) with each log clamped at −100, as ``F.binary_cross_entropy``.

    The clamped log differentiates as 1/max(x, 1e-12), so the gradient is finite at p = 0 and 1 and
    is the true one-sided slope there (+1 at p = 0 for y = 0, −1 at p = 1 for y = 1, where torch's
    backward reports 0).
    """
    return -target * clamped_log(pred) - (1.0 - target) * clamped_log(1.0 - pred)


@register(
    name="bce_logits",
    title="Binary cross-entropy with logits",
    family="classification",
    latex=r"-w_+\,y\log\sigma(x) - (1-y)\log\big(1-\sigma(x)\big),\ x = \text{pred}",
    use_when="The standard binary classifier loss: BCE on a logit, stable for any logit; w₊ > 1 up-weights positives.",
    pred=LOGIT,
    target=UNIT_INTERVAL,
    params=(
        Param(
            "pos_weight", 1.0, low=0.0, ui_low=0.1, ui_high=100.0, step=0.1, scale="log", symbol="w_+",
            description="Weight of the positive term: w₊ = #negatives/#positives balances a rare positive class.",
        ),
    ),
    references=("torch.nn.functional.binary_cross_entropy_with_logits (pos_weight)",),
    note=(
        "torch writes it (1 − y)x + (1 + (w₊ − 1)y)·softplus(−x); lossviz uses the equal form "
        "(1 − y)·softplus(x) + w₊·y·softplus(−x), which does not cancel digits when x ≪ 0 and y = 0."
    ),
)
def bce_logits(pred: torch.Tensor, target: torch.Tensor, *, pos_weight: float = 1.0) -> torch.Tensor:
    """(1 − y)·softplus(x) + w₊·y·softplus(−x), equal to ``F.binary_cross_entropy_with_logits``.

    softplus(x) = −log σ(−x) and softplus(−x) = −log σ(x) come from one :func:`~lossviz.losses._numerics.log_sigmoid_pair`,
    exact at logits ±800 and with exact curvature σ(x)σ(−x) (autograd through ``F.logsigmoid``
    forms 1 − σ and loses the curvature's digits beyond |x| ≈ 20).
    """
    log_p, log_one_minus_p = log_sigmoid_pair(pred)
    return -(1.0 - target) * log_one_minus_p - pos_weight * target * log_p


def _compact(t: torch.Tensor) -> torch.Tensor:
    """A broadcast view cut to length 1 along its repeated (zero-stride) axes.

    Quantities of the target alone then cost one row of a grid instead of all of it, and
    broadcasting against pred restores the full shape.
    """
    repeated = (st == 0 and n > 1 for st, n in zip(t.stride(), t.shape, strict=True))
    return t[tuple(slice(0, 1) if r else slice(None) for r in repeated)]


def _focal_label_terms(target: torch.Tensor, alpha: float) -> tuple[torch.Tensor, torch.Tensor | float]:
    """The sign 2y − 1 (so z = (2y − 1)x is the logit of p_t) and the class weight α_t (1 when α = −1)."""
    y = _compact(target)
    if alpha < 0:
        return 2.0 * y - 1.0, 1.0
    return 2.0 * y - 1.0, alpha * y + (1.0 - alpha) * (1.0 - y)


class _FocalGrad(torch.autograd.Function):
    """The closed-form gradient of the focal loss; its backward is the closed-form curvature.

    With z = (2y − 1)x, σ₊ = σ(z) = p_t, σ₋ = σ(−z) = 1 − p_t, log σ₊ = −CE and w = α_t σ₋^γ:
        dL/dx   = (2y − 1) · w · b,          b = γ σ₊ log σ₊ − σ₋
        d²L/dx² = w · σ₊ · (σ₋ (γ (1 + log σ₊) + 1) − γ b)
    (differentiate w·b in z: w' = −γ σ₊ w and b' = σ₊ σ₋ (γ (1 + log σ₊) + 1); (2y − 1)² = 1).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, pred: torch.Tensor, target: torch.Tensor, gamma: float, alpha: float
    ) -> torch.Tensor:
        # In place wherever a buffer is fresh and not needed again (see _numerics.log_sigmoid_both).
        sign, alpha_t = _focal_label_terms(target, alpha)
        z = sign * pred
        log_pos, log_neg = log_sigmoid_both(z)
        sig_pos = torch.sigmoid(z)
        sig_neg = z.neg_().sigmoid_()
        w = log_neg.mul_(gamma).exp_().mul_(alpha_t)
        b = torch.mul(sig_pos, log_pos).mul_(gamma).sub_(sig_neg)
        ctx.save_for_backward(w, b, sig_pos, sig_neg, log_pos)
        ctx.gamma = gamma
        return torch.mul(w, b).mul_(sign)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:  # type: ignore[override]
        w, b, sig_pos, sig_neg, log_pos = ctx.saved_tensors
        gamma = ctx.gamma
        # w · σ₊ · (σ₋ (γ (1 + log σ₊) + 1) − γ b), built in one fresh buffer.
        curvature = (log_pos + 1.0).mul_(gamma).add_(1.0).mul_(sig_neg).add_(b, alpha=-gamma).mul_(sig_pos).mul_(w)
        return curvature.mul_(grad), None, None, None


def focal_grad(pred: torch.Tensor, target: torch.Tensor, *, gamma: float = 2.0, alpha: float = 0.25) -> torch.Tensor:
    """Closed-form d focal / dx = (2y − 1)·α_t·(1 − p_t)^γ·(γ p_t log p_t − (1 − p_t)).

    Autograd of this gives the curvature from :class:`_FocalGrad`'s closed-form backward — about
    half the time of autograd's double backward through the loss (bench/core.py).
    """
    return _FocalGrad.apply(pred, target, gamma, alpha)


@register(
    name="focal",
    title="Focal loss (sigmoid)",
    family="classification",
    latex=r"-\alpha_t\,(1-p_t)^{\gamma}\log p_t,\quad p_t = \sigma\big((2y-1)\,x\big),\ x = \text{pred}",
    use_when="Dense detection with a flood of easy negatives: (1 − p_t)^γ silences examples already classified well.",
    pred=LOGIT,
    target=BINARY,
    params=(
        _GAMMA,
        Param(
            "alpha", 0.25, low=0.0, high=1.0, ui_low=0.0, ui_high=1.0, step=0.05, symbol=r"\alpha",
            special={-1.0: "no class weighting"},
            description="Weight α of positives (1 − α of negatives); RetinaNet uses 0.25. −1 switches weighting off.",
        ),
    ),
    references=(
        "Lin, Goyal, Girshick, He & Dollár, Focal Loss for Dense Object Detection, ICCV 2017, Eq. 5",
        "torchvision.ops.sigmoid_focal_loss",
    ),
    grad_fn=focal_grad,
    note=(
        "α_t = α for positives and 1 − α for negatives (α = 0.25 down-weights the positives, as in RetinaNet); "
        "γ = 0 with α = −1 is exactly bce_logits. (1 − p_t)^γ is computed as e^{−γ softplus(z)}, so 0 < γ < 1 "
        "has no infinite slope when p_t → 1 and logits of ±800 stay finite."
    ),
)
def focal(pred: torch.Tensor, target: torch.Tensor, *, gamma: float = 2.0, alpha: float = 0.25) -> torch.Tensor:
    """α_t·(1 − p_t)^γ·CE with CE = softplus(−z) and (1 − p_t)^γ = exp(−γ·softplus(z)), z = (2y − 1)x.

    The formula of ``torchvision.ops.sigmoid_focal_loss`` for 0/1 targets, written in log space:
    torchvision's (1 − p_t)**γ has an infinite derivative at p_t = 1 for 0 < γ < 1 and rounds
    1 − p_t to 0 for logits beyond ±37.
    """
    sign, alpha_t = _focal_label_terms(target, alpha)
    log_pt, log_one_minus_pt = log_sigmoid_pair(sign * pred)
    return -alpha_t * torch.exp(gamma * log_one_minus_pt) * log_pt


# --- multi-class: logits over the last axis ---------------------------------------------------


@register(
    name="cross_entropy",
    title="Cross-entropy (softmax)",
    family="classification",
    latex=r"-\sum_{c} q_c \log \operatorname{softmax}(x)_c,\quad q = (1-\varepsilon)\,y + \varepsilon / C",
    use_when="Choosing one of C classes from C logits: the log-loss of the softmax; ε > 0 smooths overconfident labels.",
    pred=LOGITS,
    target=INDEX_OR_PROBABILITIES,
    params=(
        Param(
            "label_smoothing", 0.0, low=0.0, high=1.0, high_open=True, ui_low=0.0, ui_high=0.5, step=0.01,
            symbol=r"\varepsilon", description="Mixes the target with the uniform distribution: q = (1 − ε)y + ε/C.",
        ),
    ),
    references=(
        "torch.nn.functional.cross_entropy (class indices or probabilities, label_smoothing)",
        "Szegedy et al., Rethinking the Inception Architecture for Computer Vision, CVPR 2016 (label smoothing)",
    ),
    kind="structured",
    pred_event_ndim=1,
    target_event_ndim=_probability_target_ndim,
    check_inputs=_check_cross_entropy,
    note=(
        "As in torch, the target's shape decides its meaning: with one axis fewer than pred it holds class "
        "indices, with as many axes (…, C) it holds probabilities summing to 1. The minimum is 0 only for a "
        "one-hot target without smoothing; otherwise it is the target's entropy."
    ),
)
def cross_entropy(pred: torch.Tensor, target: torch.Tensor, *, label_smoothing: float = 0.0) -> torch.Tensor:
    """−Σ_c q_c log softmax(x)_c with q = (1 − ε)·y + ε/C, as ``F.cross_entropy`` with reduction "none".

    ``target`` holds class indices (shape ``(...)``, y one-hot) or probabilities (shape ``(..., C)``).
    For class indices −log p_y is computed as −log σ(d), d = x_y − logsumexp over the other
    classes (:func:`_target_margin`), exact also where p_y rounds to 1. Needs C ≥ 2.
    """
    n_classes = pred.shape[-1]
    if target.ndim == pred.ndim:
        q = (1.0 - label_smoothing) * target + label_smoothing / n_classes
        return -(q * torch.log_softmax(pred, dim=-1)).sum(-1)
    nll = -log_sigmoid_pair(_target_margin(pred, target))[0]
    if label_smoothing == 0.0:
        return nll
    return (1.0 - label_smoothing) * nll - (label_smoothing / n_classes) * torch.log_softmax(pred, dim=-1).sum(-1)


@register(
    name="weighted_cross_entropy",
    title="Class-weighted cross-entropy",
    family="classification",
    latex=r"-w_y \log \operatorname{softmax}(x)_y,\quad w_c = \begin{cases} w & c = k\\ 1 & c \ne k\end{cases}",
    use_when="Imbalanced classes: mistakes on the rare class k cost w times more than on the others.",
    pred=LOGITS,
    target=CLASS_INDEX,
    params=(
        Param(
            "weight", 10.0, low=0.0, low_open=True, ui_low=0.1, ui_high=100.0, step=0.1, scale="log", symbol="w",
            description="Weight of the weighted class k (every other class has weight 1).",
        ),
        Param(
            "weighted_class", 1, low=0.0, integer=True, ui_low=0.0, ui_high=9.0, step=1.0, symbol="k",
            description="The class whose examples get weight w (must be below the number of classes C).",
        ),
    ),
    references=("torch.nn.functional.cross_entropy (weight=, reduction='none')",),
    kind="structured",
    pred_event_ndim=1,
    target_event_ndim=0,
    check_inputs=_check_weighted_cross_entropy,
    note=(
        "Per sample the weight of its target class multiplies the loss (reduction 'none'); torch's 'mean' "
        "reduction would also divide by the sum of the weights, which rescales but does not reshape the loss."
    ),
)
def weighted_cross_entropy(
    pred: torch.Tensor, target: torch.Tensor, *, weight: float = 10.0, weighted_class: int = 1
) -> torch.Tensor:
    """−w_y log softmax(x)_y with w_c = weight for c = weighted_class, 1 otherwise (−log p_y as in cross_entropy)."""
    nll = -log_sigmoid_pair(_target_margin(pred, target))[0]
    is_weighted = target == int(weighted_class)
    return torch.where(is_weighted, weight * nll, nll)


@register(
    name="softmax_focal",
    title="Focal loss (softmax, multi-class)",
    family="classification",
    latex=r"-\alpha\,(1-p_y)^{\gamma}\log p_y,\quad p = \operatorname{softmax}(x)",
    use_when="Multi-class problems dominated by easy examples: cross-entropy with well-classified examples muted.",
    pred=LOGITS,
    target=CLASS_INDEX,
    params=(
        _GAMMA,
        Param(
            "alpha", 1.0, low=0.0, ui_low=0.0, ui_high=1.0, step=0.05, symbol=r"\alpha",
            description="A constant scale of the loss (the same for every class).",
        ),
    ),
    references=("Lin, Goyal, Girshick, He & Dollár, Focal Loss for Dense Object Detection, ICCV 2017, Eq. 5",),
    kind="structured",
    pred_event_ndim=1,
    target_event_ndim=0,
    check_inputs=functools.partial(_check_index_target, loss="softmax_focal"),
    note="γ = 0 and α = 1 give cross_entropy. Needs at least 2 classes (with one, p_y = 1 always).",
)
def softmax_focal(pred: torch.Tensor, target: torch.Tensor, *, gamma: float = 2.0, alpha: float = 1.0) -> torch.Tensor:
    """−α(1 − p_y)^γ log p_y with p = softmax(x).

    With d = x_y − logsumexp over the other classes, log p_y = log σ(d) and log(1 − p_y) =
    log σ(−d) (= logsumexp over the others − logsumexp over all), exact where 1 − softmax(x)_y
    would round to 0, so (1 − p_y)^γ = exp(γ log(1 − p_y)) is finite for every γ ≥ 0. With C = 2
    it is the sigmoid focal loss of the logit difference (α_t = α).
    """
    log_pt, log_one_minus_pt = log_sigmoid_pair(_target_margin(pred, target))
    return -alpha * torch.exp(gamma * log_one_minus_pt) * log_pt


@register(
    name="kl_div",
    title="KL divergence (to a target distribution)",
    family="classification",
    latex=r"\sum_c y_c\big(\log y_c - \log \operatorname{softmax}(x)_c\big)",
    use_when="Matching a whole target distribution (distillation, soft labels): cross-entropy minus the target's entropy.",
    pred=LOGITS,
    target=PROBABILITY_VECTOR,
    references=(
        "torch.nn.functional.kl_div (input log_softmax(x), reduction='none', summed over classes)",
        "Kullback & Leibler, On Information and Sufficiency, 1951",
        "Hinton, Vinyals & Dean, Distilling the Knowledge in a Neural Network, 2015",
    ),
    kind="structured",
    pred_event_ndim=1,
    target_event_ndim=1,
    check_inputs=_check_kl_div,
    note=(
        "torch's kl_div takes log-probabilities as input (not logits) and probabilities as target; lossviz "
        "applies log_softmax to pred for you. 0·log 0 = 0, and the minimum is 0 at softmax(x) = y."
    ),
)
def kl_div(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """KL(y ‖ softmax(x)) = Σ_c y_c (log y_c − log softmax(x)_c), with xlogy making 0·log 0 = 0."""
    return (torch.xlogy(target, target) - target * torch.log_softmax(pred, dim=-1)).sum(-1)


# --- margin losses on a real score and a ±1 label ---------------------------------------------


@register(
    name="logistic",
    title="Logistic (margin form)",
    family="classification",
    latex=r"\log\big(1 + e^{-y\,p}\big)",
    use_when="Logistic regression written on the margin y·p with ±1 labels: a smooth hinge that never reaches 0.",
    pred=SCORE,
    target=SIGN,
    references=(
        "torch.nn.functional.soft_margin_loss",
        "Hastie, Tibshirani & Friedman, The Elements of Statistical Learning, 2009, §10.6 (binomial deviance)",
    ),
    note="Equals bce_logits with target (y + 1)/2: the same loss, with labels ±1 instead of 0/1.",
)
def logistic(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """softplus(−y·p) = −log σ(y·p) = log(1 + e^{−y p}), exact (with its curvature) for any margin."""
    log_sigmoid_margin, _ = log_sigmoid_pair(target * pred)
    return -log_sigmoid_margin


@register(
    name="exponential",
    title="Exponential (AdaBoost)",
    family="classification",
    latex=r"e^{-y\,p}",
    use_when="AdaBoost's loss: like logistic near the margin, but a misclassified point costs exponentially more.",
    pred=SCORE,
    target=SIGN,
    references=(
        "Freund & Schapire, A Decision-Theoretic Generalization of On-Line Learning, JCSS 1997",
        "Friedman, Hastie & Tibshirani, Additive Logistic Regression, Annals of Statistics 2000",
    ),
    note="Very sensitive to mislabelled points; overflows to ∞ beyond a margin of −709 (float64).",
)
def exponential(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """exp(−y·p)."""
    return torch.exp(-target * pred)
