"""Margins, ranking and embedding losses: a score, a pair, a triplet or vectors against a label.

Pointwise: ``hinge``, ``squared_hinge`` (score against a ±1 label) and ``contrastive`` (a distance
against a similar / dissimilar label). Structured, reducing trailing axes of ``pred``:
``multi_margin`` (scores ``[..., C]``), ``margin_ranking`` (pairs ``[..., 2]``), ``triplet``
(``[..., 3, D]``), ``cosine_embedding`` (``[..., 2, D]``) and ``cosine_proximity`` (``[..., D]``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch

from lossviz.domains import BINARY, CLASS_INDEX, DISTANCE, REAL_VECTOR, SCORE, SIGN
from lossviz.errors import DomainError
from lossviz.losses._numerics import relu
from lossviz.registry import register
from lossviz.spec import Param

TRIPLET_EPS = 1e-6
"""The ε torch's ``pairwise_distance`` adds to the difference before the norm: ‖x₁ − x₂ + ε‖₂."""
COSINE_EMBEDDING_EPS = float(np.float32(1e-12))
"""The ε ``F.cosine_embedding_loss`` adds to each squared norm: 1e-12 as a float32 constant in ATen
(9.99999996e-13 exactly), which shows in the last digits for vectors of norm ≈ 1e-6."""
COSINE_SIMILARITY_EPS = 1e-8
"""The floor ``F.cosine_similarity`` puts under each norm (its default ``eps``)."""


def _margin(
    default: float, description: str, *, low: float = 0.0, high: float = math.inf, low_open: bool = False,
    ui_low: float = 0.0, ui_high: float = 3.0,
) -> Param:
    """A margin parameter m, valid from 0 up unless told otherwise."""
    return Param(
        "margin", default, low=low, high=high, low_open=low_open, ui_low=ui_low, ui_high=ui_high, step=0.05,
        symbol="m", description=description,
    )


def _require_axis(pred: np.ndarray, axis: int, size: int, loss: str, what: str) -> None:
    """Raise :class:`DomainError` unless ``pred.shape[axis] == size``."""
    if pred.shape[axis] != size:
        raise DomainError(
            f"pred of {loss!r} must hold {what} on axis {axis} (size {size}); got shape {pred.shape}"
        )


def _require_event_match(pred: np.ndarray, target: np.ndarray, ndim: int, loss: str) -> None:
    """Raise :class:`DomainError` unless the trailing ``ndim`` axes of pred and target agree."""
    p_event, t_event = pred.shape[pred.ndim - ndim :], target.shape[target.ndim - ndim :]
    if p_event != t_event:
        raise DomainError(
            f"pred and target of {loss!r} must have the same shape on their last {ndim} "
            f"ax{'es' if ndim > 1 else 'is'}; got {p_event} (pred of shape {pred.shape}) and {t_event} "
            f"(target of shape {target.shape})"
        )


@register(
    name="hinge",
    title="Hinge",
    family="ranking",
    latex=r"\max(0,\ m - y\,p)",
    use_when="Maximum-margin classifiers (SVM): a correct score beyond the margin costs nothing, a wrong one costs linearly.",
    pred=SCORE,
    target=SIGN,
    params=(_margin(1.0, "Scores with y·p ≥ m are free; below that the loss rises with slope 1."),),
    references=("Cortes & Vapnik, Support-Vector Networks, Machine Learning 1995",),
    kinks=lambda y, margin: () if y is None else ((margin * y, 1),),
    note="Not differentiable at y·p = m: lossviz reports the subgradient 0 there, as torch.relu does.",
)
def hinge(pred: torch.Tensor, target: torch.Tensor, *, margin: float = 1.0) -> torch.Tensor:
    """Hinge loss max(0, m − y·p) for labels y = ±1, elementwise."""
    return relu(margin - target * pred)


@register(
    name="squared_hinge",
    title="Squared hinge",
    family="ranking",
    latex=r"\max(0,\ m - y\,p)^2",
    use_when="An SVM loss with a continuous gradient (L2-SVM): punishes large violations harder than the hinge.",
    pred=SCORE,
    target=SIGN,
    params=(_margin(1.0, "Scores with y·p ≥ m are free; below that the loss grows quadratically."),),
    references=(
        "Janocha & Czarnecki, On Loss Functions for Deep Neural Networks in Classification, 2017",
        "keras.losses.squared_hinge",
    ),
    kinks=lambda y, margin: () if y is None else ((margin * y, 2),),
    note="The gradient is continuous; the curvature jumps from 2 to 0 at y·p = m (lossviz reports 0 there).",
)
def squared_hinge(pred: torch.Tensor, target: torch.Tensor, *, margin: float = 1.0) -> torch.Tensor:
    """Squared hinge max(0, m − y·p)² for labels y = ±1, elementwise."""
    return relu(margin - target * pred) ** 2


@register(
    name="contrastive",
    title="Contrastive (Hadsell et al.)",
    family="ranking",
    latex=r"\tfrac12\,y\,d^2 + \tfrac12\,(1-y)\max(0,\ m-d)^2",
    use_when="Siamese networks: pull similar pairs (y = 1) together, push dissimilar ones (y = 0) at least m apart.",
    pred=DISTANCE,
    target=BINARY,
    params=(
        _margin(
            1.0, "Dissimilar pairs farther apart than m cost nothing.",
            low_open=True, ui_low=0.05,
        ),
    ),
    references=("Hadsell, Chopra & LeCun, Dimensionality Reduction by Learning an Invariant Mapping, CVPR 2006",),
    kinks=lambda y, margin: ((margin, 2),) if y == 0 else (),
    note="Here y = 1 marks a similar pair; Hadsell et al. write Y = 0 for similar, the same loss with the label flipped.",
)
def contrastive(pred: torch.Tensor, target: torch.Tensor, *, margin: float = 1.0) -> torch.Tensor:
    """Contrastive loss ½·y·d² + ½·(1 − y)·max(0, m − d)² of a distance d ≥ 0, elementwise."""
    return 0.5 * target * pred**2 + 0.5 * (1.0 - target) * relu(margin - pred) ** 2


def _check_multi_margin(pred: np.ndarray, target: np.ndarray | None, params: Mapping[str, float]) -> None:
    assert target is not None
    classes = pred.shape[-1]
    bad = target >= classes
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DomainError(
            f"target of 'multi_margin' must be a class index in 0..{classes - 1} (pred has {classes} scores on "
            f"its last axis); got {target[index]:g} at index {index}"
        )


@register(
    name="multi_margin",
    title="Multi-class margin (Weston–Watkins)",
    family="ranking",
    latex=r"\frac{1}{C}\sum_{i\ne y}\max(0,\ m - x_y + x_i)",
    use_when="Multi-class SVM: every wrong class must score at least m below the right one.",
    pred=SCORE,
    target=CLASS_INDEX,
    params=(_margin(1.0, "How far the right class's score must lead every other score."),),
    references=(
        "Weston & Watkins, Support Vector Machines for Multi-Class Pattern Recognition, ESANN 1999",
        "torch.nn.functional.multi_margin_loss",
    ),
    kind="structured",
    pred_event_ndim=1,
    target_event_ndim=0,
    check_inputs=_check_multi_margin,
    note="Scores on the last axis of pred, one per class. Divided by C (not C − 1), as in torch.",
)
def multi_margin(pred: torch.Tensor, target: torch.Tensor, *, margin: float = 1.0) -> torch.Tensor:
    """Σ_{i≠y} max(0, m − x_y + x_i) / C over scores x of shape ``[..., C]``, as ``F.multi_margin_loss`` (p = 1)."""
    index = target.long().unsqueeze(-1)
    true_score = pred.gather(-1, index)
    violations = relu(margin - true_score + pred)
    wrong = torch.arange(pred.shape[-1], device=pred.device) != index
    return torch.where(wrong, violations, 0.0).sum(-1) / pred.shape[-1]


def _check_pair(pred: np.ndarray, target: np.ndarray | None, params: Mapping[str, float]) -> None:
    _require_axis(pred, -1, 2, "margin_ranking", "the pair (s₁, s₂)")


@register(
    name="margin_ranking",
    title="Margin ranking",
    family="ranking",
    latex=r"\max\big(0,\ -y\,(s_1 - s_2) + m\big)",
    use_when="Learning to rank from pairs: y = 1 means s₁ should beat s₂ by at least m, y = −1 the reverse.",
    pred=SCORE,
    target=SIGN,
    params=(_margin(0.0, "The lead the preferred score must have before the pair costs nothing."),),
    references=(
        "Joachims, Optimizing Search Engines using Clickthrough Data, KDD 2002",
        "torch.nn.functional.margin_ranking_loss",
    ),
    kind="structured",
    pred_event_ndim=1,
    target_event_ndim=0,
    check_inputs=_check_pair,
    note="pred holds the pair (s₁, s₂) on its last axis. Subgradient 0 at the kink (torch's clamp gives ±1 there).",
)
def margin_ranking(pred: torch.Tensor, target: torch.Tensor, *, margin: float = 0.0) -> torch.Tensor:
    """max(0, −y·(s₁ − s₂) + m) of pairs ``[..., 2]``, as ``F.margin_ranking_loss``."""
    return relu(-target * (pred[..., 0] - pred[..., 1]) + margin)


def _check_triplet(pred: np.ndarray, target: np.ndarray | None, params: Mapping[str, float]) -> None:
    _require_axis(pred, -2, 3, "triplet", "(anchor, positive, negative)")


def _distance(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """‖x₁ − x₂ + ε‖₂ over the last axis: torch's ``pairwise_distance`` with p = 2, ε = 1e-6."""
    return torch.linalg.vector_norm(x1 - x2 + TRIPLET_EPS, dim=-1)


@register(
    name="triplet",
    title="Triplet margin",
    family="ranking",
    latex=r"\max\big(0,\ \|a - p\|_2 - \|a - n\|_2 + m\big)",
    use_when="Metric learning (FaceNet): the anchor must be closer to the positive than to the negative by m.",
    pred=REAL_VECTOR,
    target=None,
    params=(
        _margin(
            1.0, "How much farther the negative must be than the positive.",
            low_open=True, ui_low=0.05,
        ),
    ),
    references=(
        "Schroff, Kalenichenko & Philbin, FaceNet, CVPR 2015",
        "Weinberger & Saul, Distance Metric Learning for Large Margin Nearest Neighbor Classification, JMLR 2009",
        "torch.nn.functional.triplet_margin_loss",
    ),
    kind="structured",
    pred_event_ndim=2,
    check_inputs=_check_triplet,
    note=(
        "pred is [..., 3, D]: anchor, positive, negative. Distances are unsquared with torch's ε: "
        "‖x₁ − x₂ + 10⁻⁶‖₂ (FaceNet uses squared distances). Hard negatives have d(a,n) < d(a,p), "
        "semi-hard d(a,p) < d(a,n) < d(a,p) + m, easy ones cost nothing."
    ),
)
def triplet(pred: torch.Tensor, target: None, *, margin: float = 1.0) -> torch.Tensor:
    """max(0, m + d(a, p) − d(a, n)), as ``F.triplet_margin_loss`` (p = 2, eps = 1e-6, swap = False)."""
    anchor, positive, negative = pred[..., 0, :], pred[..., 1, :], pred[..., 2, :]
    return relu(margin + _distance(anchor, positive) - _distance(anchor, negative))


def _check_cosine_pair(pred: np.ndarray, target: np.ndarray | None, params: Mapping[str, float]) -> None:
    _require_axis(pred, -2, 2, "cosine_embedding", "the pair of vectors (x₁, x₂)")


@register(
    name="cosine_embedding",
    title="Cosine embedding",
    family="ranking",
    latex=r"\begin{cases}1 - \cos(x_1, x_2) & y = 1\\ \max(0,\ \cos(x_1, x_2) - m) & y = -1\end{cases}",
    use_when="Learning embeddings by angle: similar pairs (y = 1) should point the same way, dissimilar ones apart.",
    pred=REAL_VECTOR,
    target=SIGN,
    params=(
        _margin(
            0.0, "Dissimilar pairs with cosine below m cost nothing.",
            low=-1.0, high=1.0, ui_low=-1.0, ui_high=1.0,
        ),
    ),
    references=("torch.nn.functional.cosine_embedding_loss",),
    kind="structured",
    pred_event_ndim=2,
    target_event_ndim=0,
    check_inputs=_check_cosine_pair,
    note="pred is [..., 2, D]. cos = x₁·x₂ / √((‖x₁‖² + ε)(‖x₂‖² + ε)) with torch's ε = 1e-12 (as float32).",
)
def cosine_embedding(pred: torch.Tensor, target: torch.Tensor, *, margin: float = 0.0) -> torch.Tensor:
    """1 − cos for y = 1, max(0, cos − m) for y = −1, as ``F.cosine_embedding_loss``.

    The cosine is computed as torch's ATen kernel does, ε inside each squared norm, so it is finite
    (0) for zero vectors and matches torch to the last digit for tiny ones.
    """
    x1, x2 = pred[..., 0, :], pred[..., 1, :]
    squared_norms = ((x1 * x1).sum(-1) + COSINE_EMBEDDING_EPS) * ((x2 * x2).sum(-1) + COSINE_EMBEDDING_EPS)
    cos = (x1 * x2).sum(-1) / torch.sqrt(squared_norms)
    return torch.where(target > 0, 1.0 - cos, relu(cos - margin))


def _check_cosine_proximity(pred: np.ndarray, target: np.ndarray | None, params: Mapping[str, float]) -> None:
    assert target is not None
    _require_event_match(pred, target, 1, "cosine_proximity")


@register(
    name="cosine_proximity",
    title="Cosine proximity (negative cosine similarity)",
    family="ranking",
    latex=r"-\frac{p \cdot y}{\max(\|p\|, \varepsilon)\,\max(\|y\|, \varepsilon)}",
    use_when="Only the direction of a vector matters (embeddings, normalised regression targets): −1 when aligned.",
    pred=REAL_VECTOR,
    target=REAL_VECTOR,
    references=("keras.losses.cosine_similarity", "torch.nn.functional.cosine_similarity"),
    kind="structured",
    pred_event_ndim=1,
    target_event_ndim=1,
    check_inputs=_check_cosine_proximity,
    note=(
        "Keras's cosine_similarity loss is this negative cosine. Each norm is floored at ε = 1e-8 as in "
        "F.cosine_similarity; below that floor lossviz reports the true gradient −ŷ/ε, where torch's "
        "autograd (which hides the floor from the backward pass) reports another value."
    ),
)
def cosine_proximity(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """−cos(p, y) over the last axis, as ``−F.cosine_similarity(p, y, dim=-1, eps=1e-8)``.

    Each vector is divided by its norm floored at ε before the dot product, in torch's order, so
    values agree with torch to the last digit and |cos| ≤ 1.
    """
    pred_norm = torch.linalg.vector_norm(pred, dim=-1, keepdim=True).clamp_min(COSINE_SIMILARITY_EPS)
    target_norm = torch.linalg.vector_norm(target, dim=-1, keepdim=True).clamp_min(COSINE_SIMILARITY_EPS)
    return -((pred / pred_norm) * (target / target_norm)).sum(-1)
