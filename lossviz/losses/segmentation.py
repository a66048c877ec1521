"""Segmentation losses: a predicted mask against a true one, one value per image.

The overlap losses (``dice``, ``jaccard``, ``tversky``) take probabilities ``[..., H, W]`` against a
soft or hard mask of the same ``H, W`` and reduce both image axes; ``pixel_cross_entropy`` takes
logits ``[..., C, H, W]`` against class indices ``[..., H, W]`` and averages over pixels.

Soft overlaps use TP = Σ p·g, FP = Σ p·(1 − g), FN = Σ (1 − p)·g over the pixels of each image.
``smooth`` is added to numerator and denominator: an empty prediction on an empty mask then has
loss 0; with ``smooth = 0`` the ratio is 0/0 there and lossviz raises instead of returning NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from lossviz.domains import CLASS_INDEX, LOGIT, PROBABILITY
from lossviz.errors import DomainError
from lossviz.registry import register
from lossviz.spec import Domain, Param

MASK = Domain("mask value", low=0.0, high=1.0, plot_range=(0.0, 1.0))
"""A pixel of a true mask: 1 inside the object, 0 outside, anything between for soft labels."""

_SMOOTH = Param(
    "smooth", 1.0, low=0.0, ui_low=0.0, ui_high=10.0, step=0.1, symbol="s",
    description=(
        "Added to numerator and denominator: keeps empty masks defined (loss 0 for an empty prediction) "
        "and damps the gradient on small objects. 0 gives the plain overlap ratio."
    ),
)


def _tversky_weight(name: str, default: float, error: str) -> Param:
    return Param(
        name, default, low=0.0, high=5.0, ui_low=0.0, ui_high=1.0, step=0.05,
        symbol=rf"\{name}", description=f"Weight of the {error} in the denominator.",
    )


NumpyDenominator = Callable[[np.ndarray, np.ndarray, Mapping[str, float]], np.ndarray]


def _sums(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(TP, Σp, Σg) over the two image axes."""
    axes = (-2, -1)
    return (pred * target).sum(axes), pred.sum(axes), target.sum(axes)


def _first(bad: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()


def _require_same_image_shape(pred: np.ndarray, target: np.ndarray, loss: str) -> None:
    """Raise :class:`DomainError` unless pred's image axes (H, W), its last two, equal target's."""
    p_hw, t_hw = pred.shape[-2:], target.shape[-2:]
    if p_hw != t_hw:
        raise DomainError(
            f"pred and target of {loss!r} must have the same image size (H, W); got {p_hw} "
            f"(pred of shape {pred.shape}) and {t_hw} (target of shape {target.shape})"
        )


def _overlap_check(loss: str, denominator: NumpyDenominator) -> Callable[..., None]:
    """check_inputs of an overlap loss: same image size, and no 0/0 where smooth = 0."""

    def check(pred: np.ndarray, target: np.ndarray | None, params: Mapping[str, float]) -> None:
        assert target is not None
        _require_same_image_shape(pred, target, loss)
        bad = denominator(pred, target, params) == 0
        if not bad.any():
            return
        index = _first(bad)
        if not (pred[index].any() or target[index].any()):
            why = "pred and target are both empty (all zeros)"
            fix = "use smooth > 0 (smooth = 1 gives loss 0 for an empty prediction on an empty mask)"
        else:
            why = f"TP = 0 and α·FP + β·FN = 0 (α = {params['alpha']:g}, β = {params['beta']:g})"
            fix = "use smooth > 0, or α and β > 0"
        where = f" for the image at batch index {index}" if index else ""
        raise DomainError(f"{loss!r} is undefined (0/0){where}: {why} and smooth = 0; {fix}")

    return check


def _dice_denominator(pred: np.ndarray, target: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    # Also zero exactly where Jaccard's Σp + Σg − Σpg + s is: p + g − pg ≥ max(p, g) on [0, 1].
    return pred.sum((-2, -1)) + target.sum((-2, -1)) + params["smooth"]


def _tversky_denominator(pred: np.ndarray, target: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    tp = (pred * target).sum((-2, -1))
    fp = (pred * (1.0 - target)).sum((-2, -1))
    fn = ((1.0 - pred) * target).sum((-2, -1))
    return tp + params["alpha"] * fp + params["beta"] * fn + params["smooth"]


_OVERLAP = {
    "pred": PROBABILITY,
    "target": MASK,
    "kind": "structured",
    "pred_event_ndim": 2,
    "target_event_ndim": 2,
}


@register(
    name="dice",
    title="Soft Dice",
    family="segmentation",
    latex=r"1 - \frac{2\sum p\,g + s}{\sum p + \sum g + s}",
    use_when="Segmenting small objects on a large background: the score counts overlap, not background pixels.",
    params=(_SMOOTH,),
    references=(
        "Milletari, Navab & Ahmadi, V-Net, 3DV 2016",
        "Sudre et al., Generalised Dice Overlap as a Deep Learning Loss Function, DLMIA 2017",
    ),
    check_inputs=_overlap_check("dice", _dice_denominator),
    note="Milletari et al. square p and g in the denominator; this is the common linear form (optax, kornia).",
    **_OVERLAP,  # type: ignore[arg-type]
)
def dice(pred: torch.Tensor, target: torch.Tensor, *, smooth: float = 1.0) -> torch.Tensor:
    """Soft Dice loss 1 − (2·Σpg + s)/(Σp + Σg + s) over the image axes of ``[..., H, W]``."""
    tp, sum_p, sum_g = _sums(pred, target)
    return 1.0 - (2.0 * tp + smooth) / (sum_p + sum_g + smooth)


@register(
    name="jaccard",
    title="Soft Jaccard (IoU)",
    family="segmentation",
    latex=r"1 - \frac{\sum p\,g + s}{\sum p + \sum g - \sum p\,g + s}",
    use_when="When the metric you report is intersection over union: the soft IoU, stricter than Dice on partial overlaps.",
    params=(_SMOOTH,),
    references=(
        "Rahman & Wang, Optimizing Intersection-Over-Union in Deep Neural Networks for Image Segmentation, ISVC 2016",
        "Salehi, Erdogmus & Gholipour, Tversky Loss Function for Image Segmentation, MLMI 2017",
    ),
    check_inputs=_overlap_check("jaccard", _dice_denominator),
    note="Equals tversky with α = β = 1. Jaccard J and Dice D of the same masks satisfy J = D / (2 − D) at s = 0.",
    **_OVERLAP,  # type: ignore[arg-type]
)
def jaccard(pred: torch.Tensor, target: torch.Tensor, *, smooth: float = 1.0) -> torch.Tensor:
    """Soft Jaccard loss 1 − (Σpg + s)/(Σp + Σg − Σpg + s) over the image axes of ``[..., H, W]``."""
    tp, sum_p, sum_g = _sums(pred, target)
    return 1.0 - (tp + smooth) / (sum_p + sum_g - tp + smooth)


@register(
    name="tversky",
    title="Tversky",
    family="segmentation",
    latex=r"1 - \frac{TP + s}{TP + \alpha\,FP + \beta\,FN + s}",
    use_when="Imbalanced segmentation where misses hurt more than false alarms (β > α favours recall) or the reverse.",
    params=(
        _tversky_weight("alpha", 0.5, "false positives FP = Σp(1 − g)"),
        _tversky_weight("beta", 0.5, "false negatives FN = Σ(1 − p)g"),
        _SMOOTH,
    ),
    references=("Salehi, Erdogmus & Gholipour, Tversky Loss Function for Image Segmentation, MLMI 2017",),
    check_inputs=_overlap_check("tversky", _tversky_denominator),
    note=(
        "α weighs false positives, β false negatives (Salehi et al.). α = β = ½ is Dice (with smooth doubled), "
        "α = β = 1 is Jaccard. keras.losses.tversky had α and β swapped until keras-team/keras#23333."
    ),
    **_OVERLAP,  # type: ignore[arg-type]
)
def tversky(
    pred: torch.Tensor, target: torch.Tensor, *, alpha: float = 0.5, beta: float = 0.5, smooth: float = 1.0
) -> torch.Tensor:
    """Tversky loss 1 − (TP + s)/(TP + α·FP + β·FN + s) over the image axes of ``[..., H, W]``."""
    axes = (-2, -1)
    tp = (pred * target).sum(axes)
    fp = (pred * (1.0 - target)).sum(axes)
    fn = ((1.0 - pred) * target).sum(axes)
    return 1.0 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)


def _check_pixel_cross_entropy(pred: np.ndarray, target: np.ndarray | None, params: Mapping[str, float]) -> None:
    assert target is not None
    _require_same_image_shape(pred, target, "pixel_cross_entropy")
    classes = pred.shape[-3]
    bad = target >= classes
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DomainError(
            f"target of 'pixel_cross_entropy' must be a class index in 0..{classes - 1} (pred has {classes} "
            f"class logits on axis -3); got {target[index]:g} at index {index}"
        )


@register(
    name="pixel_cross_entropy",
    title="Pixel-wise cross-entropy",
    family="segmentation",
    latex=r"-\frac{1}{HW}\sum_{h,w} \log \operatorname{softmax}(z_{\cdot hw})_{y_{hw}}",
    use_when="Semantic segmentation with balanced classes: every pixel is a classification, averaged over the image.",
    pred=LOGIT,
    target=CLASS_INDEX,
    references=(
        "Long, Shelhamer & Darrell, Fully Convolutional Networks for Semantic Segmentation, CVPR 2015",
        "torch.nn.functional.cross_entropy",
    ),
    kind="structured",
    pred_event_ndim=3,
    target_event_ndim=2,
    check_inputs=_check_pixel_cross_entropy,
    note="pred holds logits [..., C, H, W], target class indices [..., H, W]. log-softmax keeps huge logits exact.",
)
def pixel_cross_entropy(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over pixels of −log softmax(z)_y, as ``F.cross_entropy(reduction="none").mean((-2, -1))``."""
    log_probs = F.log_softmax(pred, dim=-3)
    index = target.long().unsqueeze(-3)
    return -log_probs.gather(-3, index).squeeze(-3).mean((-2, -1))
