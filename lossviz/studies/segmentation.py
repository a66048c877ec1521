"""Segmentation: a small true mask, a soft predicted mask you shape, and five losses on them.

The true mask (48 × 48) is one of :data:`SHAPES`: a disc, a square, a thin ring, a tiny object or
nothing at all. The prediction is the same shape moved and blurred by five controls (each a
:class:`~lossviz.spec.Param` below)::

    p(x) = clip(max(c · σ(−sd′(x) / τ), b · exp(−|x − x_b|² / 2σ_b²)), p_min, 1 − p_min)

where sd′ is the signed distance to the shape (negative inside) shifted by ``shift`` pixels to the
right and scaled by ``scale``, τ the edge ``softness`` in pixels (τ = 0: a hard edge), c the
``confidence`` inside the object, and b the height of a false-positive ``blob`` in the upper left.
p stays within ``p_min`` = 10⁻⁶ of 0 and 1 because a sigmoid output never reaches them: the logit
log(p / (1 − p)) is then finite (|logit| ≤ 13.8) and BCE and two-class pixel cross-entropy agree.

Every loss value and gradient comes from :func:`lossviz.evaluate`: the overlap losses (``dice``,
``jaccard``, ``tversky``) on p against the mask; ``bce`` pixel by pixel, averaged over the image;
``pixel_cross_entropy`` on two class logits per pixel, (0, log(p / (1 − p))), whose softmax is
(1 − p, p). A sweep of one control evaluates all its masks in one call per loss (batch axis).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lossviz.engine import evaluate
from lossviz.registry import spec as get_spec
from lossviz.spec import Param
from lossviz.toolkit.frames import round_values

SIZE = 48
"""Height and width of the masks in pixels."""
CENTRE = (SIZE - 1) / 2
SHAPES = ("disc", "square", "thin ring", "tiny object", "empty")
DEFAULT_SHAPE = "disc"
DISC_RADIUS = 12.0
SQUARE_HALF = 11.0
RING_RADIUS = 14.0
RING_HALF_WIDTH = 1.25
TINY_RADIUS = 2.5
BLOB_CENTRE = (-16.0, -16.0)
"""(x, y) of the false-positive blob relative to the image centre: upper left, clear of every shape."""
BLOB_SIGMA = 3.0
P_MIN = 1e-6
"""Predictions stay in [p_min, 1 − p_min], as a sigmoid output does."""
LOGIT_CLIP = math.log((1 - P_MIN) / P_MIN)
"""The largest |logit| a prediction can have (≈ 13.8)."""

LOSSES = ("dice", "jaccard", "tversky", "bce", "pixel_cross_entropy")
OVERLAP_LOSSES = ("dice", "jaccard", "tversky")

SHIFT = Param(
    "shift", 3.0, low=-SIZE / 2, high=SIZE / 2, step=1.0, symbol=r"\Delta x",
    description="Moves the predicted object right (positive) or left (negative), in pixels.",
)
SCALE = Param(
    "scale", 1.0, low=0.25, high=2.0, step=0.05, symbol="k",
    description="Size of the predicted object relative to the true one.",
)
SOFTNESS = Param(
    "softness", 1.0, low=0.0, high=5.0, step=0.1, symbol=r"\tau",
    description="Width of the predicted object's edge in pixels: p = c·σ(−distance/τ); 0 gives a hard edge.",
)
CONFIDENCE = Param(
    "confidence", 0.9, low=0.05, high=1.0, step=0.05, symbol="c",
    description="The probability the prediction reaches inside the object.",
)
BLOB = Param(
    "blob", 0.5, low=0.0, high=1.0, step=0.05, symbol="b",
    description="Height of a false-positive blob in the upper left, where the true mask is empty.",
)
PREDICTION_PARAMS: dict[str, Param] = {p.name: p for p in (SHIFT, SCALE, SOFTNESS, CONFIDENCE, BLOB)}
"""The controls of the predicted mask."""

SMOOTH = get_spec("dice").param("smooth")
"""One ``smooth`` for the three overlap losses (the declaration they share)."""
ALPHA = get_spec("tversky").param("alpha")
BETA = get_spec("tversky").param("beta")

TVERSKY_ALPHAS = round_values(ALPHA)
"""The α of the Tversky pad's frames: 0, 0.05, …, 1 (the steps of α's control, its default ½ among them)."""
TVERSKY_BETAS = round_values(BETA)
"""The β of the Tversky pad's frames, as :data:`TVERSKY_ALPHAS`."""

SWEEPS: dict[str, Param] = {**PREDICTION_PARAMS, "smooth": SMOOTH}
"""The controls a sweep can run over: the prediction's five, and ``smooth``."""
SWEEP_POINTS = 49
SMOOTH_VALUES = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 37)])
"""smooth values of the smooth study: 0, then 10⁻³ to 10³ (log-spaced)."""


@dataclass(frozen=True)
class Prediction:
    """The settings of the predicted soft mask (see the module docstring)."""

    shift: float = SHIFT.default
    scale: float = SCALE.default
    softness: float = SOFTNESS.default
    confidence: float = CONFIDENCE.default
    blob: float = BLOB.default

    def replace(self, **changes: float) -> Prediction:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class LossSettings:
    """The loss parameters: ``smooth`` for all three overlap losses, Tversky's α and β."""

    smooth: float = SMOOTH.default
    alpha: float = ALPHA.default
    beta: float = BETA.default

    def params(self, loss: str) -> dict[str, float]:
        """The keyword parameters of ``loss`` for :func:`lossviz.evaluate`."""
        if loss == "tversky":
            return {"smooth": self.smooth, "alpha": self.alpha, "beta": self.beta}
        if loss in OVERLAP_LOSSES:
            return {"smooth": self.smooth}
        return {}


# --- masks ---------------------------------------------------------------------------------------


def pixel_grid(size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of every pixel centre relative to the image centre, each ``[size, size]`` (row = y)."""
    offsets = np.arange(size) - (size - 1) / 2
    return np.meshgrid(offsets, offsets)


def signed_distance(shape: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Distance in pixels to the edge of ``shape`` centred at 0: negative inside, positive outside.

    Exact for the disc, ring and tiny disc; for the square it is the Chebyshev distance
    max(|x|, |y|) − h, exact inside and along the axes, which is all a soft edge needs.
    """
    r = np.hypot(x, y)
    if shape == "disc":
        return r - DISC_RADIUS
    if shape == "square":
        return np.maximum(np.abs(x), np.abs(y)) - SQUARE_HALF
    if shape == "thin ring":
        return np.abs(r - RING_RADIUS) - RING_HALF_WIDTH
    if shape == "tiny object":
        return r - TINY_RADIUS
    if shape == "empty":
        return np.full(np.broadcast_shapes(x.shape, y.shape), np.inf)
    raise ValueError(f"unknown shape {shape!r}; choose one of {', '.join(SHAPES)}")


def true_mask(shape: str, size: int = SIZE) -> np.ndarray:
    """The ground truth: 1.0 at pixels whose centre lies inside ``shape``, else 0.0."""
    x, y = pixel_grid(size)
    return (signed_distance(shape, x, y) < 0).astype(np.float64)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) without overflow warnings (z may be ±∞)."""
    out = np.empty_like(z)
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    e = np.exp(z[~positive])
    out[~positive] = e / (1.0 + e)
    return out


def predicted_mask(shape: str, prediction: Prediction, size: int = SIZE) -> np.ndarray:
    """The soft predicted mask ``[size, size]`` of ``shape`` under ``prediction`` (module docstring)."""
    x, y = pixel_grid(size)
    k = prediction.scale
    distance = k * signed_distance(shape, (x - prediction.shift) / k, y / k)
    if prediction.softness > 0:
        with np.errstate(over="ignore"):  # a tiny τ sends −d/τ to ±∞, where σ is exactly 0 or 1
            inside = _sigmoid(-distance / prediction.softness)
    else:
        inside = (distance < 0).astype(np.float64)
    blob = prediction.blob * np.exp(-((x - BLOB_CENTRE[0]) ** 2 + (y - BLOB_CENTRE[1]) ** 2) / (2 * BLOB_SIGMA**2))
    return np.clip(np.maximum(prediction.confidence * inside, blob), P_MIN, 1.0 - P_MIN)


def sweep_values(control: str, points: int = SWEEP_POINTS) -> np.ndarray:
    """``points`` values across the control range of a sweepable control (integers for the shift)."""
    lo, hi = SWEEPS[control].slider_range
    if control == "shift":
        return np.arange(lo, hi + 1.0)
    return np.linspace(lo, hi, points)


def predicted_masks(shape: str, prediction: Prediction, control: str, values: Sequence[float]) -> np.ndarray:
    """Predicted masks ``[len(values), H, W]`` with one prediction control set to each of ``values``."""
    return np.stack([predicted_mask(shape, prediction.replace(**{control: float(v)})) for v in values])


def two_class_logits(p: np.ndarray) -> np.ndarray:
    """Logits ``[..., 2, H, W]`` = (0, log(p / (1 − p))) of masks ``[..., H, W]``: softmax gives (1 − p, p).

    The logit is clipped to ±:data:`LOGIT_CLIP` (a no-op for masks from :func:`predicted_mask`).
    """
    logit = np.clip(np.log(p) - np.log1p(-p), -LOGIT_CLIP, LOGIT_CLIP)
    return np.stack([np.zeros_like(logit), logit], axis=-3)


# --- losses --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LossMap:
    """One loss on masks ``[..., H, W]``: its value per image and (order 1) its gradient per pixel.

    ``grad`` is ∂L/∂p for the overlap losses and BCE (averaged over pixels, so it is the per-pixel
    BCE gradient divided by H·W), and ∂L/∂logit for pixel cross-entropy (the logit of class 1).
    """

    loss: str
    value: np.ndarray
    grad: np.ndarray | None


def evaluate_loss(loss: str, p: np.ndarray, g: np.ndarray, settings: LossSettings, order: int = 1) -> LossMap:
    """Value (and gradient for ``order = 1``) of one of :data:`LOSSES` on predictions ``p`` and masks ``g``."""
    if loss == "bce":
        res = evaluate("bce", p, g, order=order)
        pixels = p.shape[-1] * p.shape[-2]
        return LossMap(loss, res.value.mean((-2, -1)), None if res.grad is None else res.grad / pixels)
    if loss == "pixel_cross_entropy":
        res = evaluate("pixel_cross_entropy", two_class_logits(p), g, order=order)
        return LossMap(loss, res.value, None if res.grad is None else res.grad[..., 1, :, :])
    res = evaluate(loss, p, g, order=order, **settings.params(loss))
    return LossMap(loss, res.value, res.grad)


def evaluate_all(
    p: np.ndarray, g: np.ndarray, settings: LossSettings, order: int = 1
) -> tuple[dict[str, LossMap], dict[str, str]]:
    """Every loss of :data:`LOSSES` on the same masks: (results, errors).

    A loss that is undefined on these masks (Tversky's 0/0 with α = β = s = 0 on an empty mask)
    is left out of the results, with its message in ``errors``; the others are unaffected.
    """
    results: dict[str, LossMap] = {}
    errors: dict[str, str] = {}
    for loss in LOSSES:
        try:
            results[loss] = evaluate_loss(loss, p, g, settings, order)
        except ValueError as exc:
            errors[loss] = str(exc)
    return results, errors


@dataclass(frozen=True)
class Sweep:
    """Every loss while one control runs over ``values`` (the others held).

    A loss undefined somewhere along the sweep has NaN there (a gap in the curve) and its
    message in ``errors``.
    """

    control: str
    values: np.ndarray
    losses: dict[str, np.ndarray]
    errors: dict[str, str] = dataclasses.field(default_factory=dict)


def _values_or_nan(
    loss: str, p: np.ndarray, g: np.ndarray, settings: LossSettings, errors: dict[str, str]
) -> np.ndarray:
    """Loss values of a batch (or one image); NaN with the message in ``errors`` where undefined."""
    try:
        return np.asarray(evaluate_loss(loss, p, g, settings, order=0).value, dtype=np.float64)
    except ValueError as exc:
        errors.setdefault(loss, str(exc))
        return np.full(p.shape[:-2], np.nan)


def sweep(shape: str, prediction: Prediction, settings: LossSettings, control: str) -> Sweep:
    """Loss values against one control: one evaluate call per loss over a batch of masks.

    For ``smooth`` (a loss parameter, not a mask) the mask stays and each value is one call.
    """
    values = sweep_values(control)
    g = true_mask(shape)
    errors: dict[str, str] = {}
    if control == "smooth":
        p = predicted_mask(shape, prediction)
        curves = {loss: np.empty(len(values)) for loss in LOSSES}
        for i, s in enumerate(values):
            at = dataclasses.replace(settings, smooth=float(s))
            for loss in LOSSES:
                curves[loss][i] = float(_values_or_nan(loss, p, g, at, errors))
        return Sweep(control, values, curves, errors)
    masks = predicted_masks(shape, prediction, control, values)
    curves = {loss: _values_or_nan(loss, masks, g, settings, errors) for loss in LOSSES}
    return Sweep(control, values, curves, errors)


PLATEAU_TOLERANCE = 0.01
"""How close to its ceiling a loss must come, as a share of its range over the sweep, to count as flat."""


def plateau_shift(sweep: Sweep, loss: str = "dice", tolerance: float = PLATEAU_TOLERANCE) -> float:
    """The smallest shift Δx ≥ 0 at which ``loss`` reaches its ceiling in a shift sweep: within ``tolerance``
    × (its range over Δx ≥ 0) of its largest value there.

    Once the prediction has slid off a small object the overlap terms TP = Σ p·g vanish and an overlap loss
    stays near 1 − s/(Σp + Σg + s) whatever the shift: flat, with no gradient saying where the object lies.
    """
    if sweep.control != "shift":
        raise ValueError(f"plateau_shift needs a sweep of the shift, got one of {sweep.control!r}")
    right = sweep.values >= 0
    shifts, values = sweep.values[right], sweep.losses[loss][right]
    top, bottom = np.nanmax(values), np.nanmin(values)
    return float(shifts[np.flatnonzero(values >= top - tolerance * (top - bottom))[0]])


@dataclass(frozen=True)
class TverskyGrid:
    """Tversky's loss over a grid of (α, β), for predictions of every size k and for the page's prediction.

    ``loss[i, j, m]`` is 1 − (TP + s)/(TP + αᵢ·FP + βⱼ·FN + s) for the m-th prediction, NaN where it is 0/0
    (TP = 0, αᵢ·FP + βⱼ·FN = 0, s = 0); ``scales`` are the sizes k of :func:`sweep_values`, then the page's
    prediction (its own k) last. ``tp``, ``fp`` and ``fn`` are the soft counts Σp·g, Σp·(1 − g), Σ(1 − p)·g of
    each prediction.
    """

    alphas: np.ndarray
    betas: np.ndarray
    scales: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    loss: np.ndarray
    smooth: float

    @property
    def sweep(self) -> slice:
        """The predictions of the size sweep (all but the page's)."""
        return slice(0, len(self.scales) - 1)

    def terms(self, alpha: float, beta: float) -> tuple[float, float, float]:
        """TP, α·FP and β·FN of the page's prediction: the denominator TP + α·FP + β·FN + s without s."""
        return float(self.tp[-1]), alpha * float(self.fp[-1]), beta * float(self.fn[-1])


def soft_counts(p: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TP = Σp·g, FP = Σp·(1 − g) and FN = Σ(1 − p)·g over the image axes of ``[..., H, W]``."""
    return (p * g).sum((-2, -1)), (p * (1.0 - g)).sum((-2, -1)), ((1.0 - p) * g).sum((-2, -1))


def tversky_grid(
    shape: str,
    prediction: Prediction,
    smooth: float,
    alphas: Sequence[float] = tuple(TVERSKY_ALPHAS),
    betas: Sequence[float] = tuple(TVERSKY_BETAS),
) -> TverskyGrid:
    """Tversky's loss at every (α, β) of ``alphas`` × ``betas`` for the predicted object scaled by each k of
    :func:`sweep_values` (k < 1 misses object pixels: false negatives, weighed by β; k > 1 spills onto the
    background: false positives, weighed by α) and for ``prediction`` itself (Salehi, Erdogmus & Gholipour,
    Tversky Loss Function for Image Segmentation, MLMI 2017).

    One call of the catalogue's ``tversky`` function with α and β as broadcast tensors does the whole grid
    (441 :func:`lossviz.evaluate` calls cost about a second); it skips evaluate's 0/0 check, so an undefined
    value is NaN here where evaluate raises.
    """
    scales = np.append(sweep_values("scale"), prediction.scale)
    masks = np.concatenate([predicted_masks(shape, prediction, "scale", scales[:-1]),
                            predicted_mask(shape, prediction)[None]])
    g = true_mask(shape)
    a = torch.as_tensor(np.asarray(alphas, dtype=np.float64))[:, None, None]
    b = torch.as_tensor(np.asarray(betas, dtype=np.float64))[None, :, None]
    with np.errstate(invalid="ignore"):
        loss = get_spec("tversky").fn(torch.as_tensor(masks), torch.as_tensor(g), alpha=a, beta=b, smooth=smooth)
    tp, fp, fn = soft_counts(masks, g)
    return TverskyGrid(np.asarray(alphas, dtype=np.float64), np.asarray(betas, dtype=np.float64), scales, tp, fp,
                       fn, loss.numpy(), float(smooth))


@dataclass(frozen=True)
class SmoothStudy:
    """The Dice loss of each shape against ``smooth`` (same prediction controls), plus the masses Σp, Σg."""

    smooth: np.ndarray
    dice: dict[str, np.ndarray]
    sum_p: dict[str, float]
    sum_g: dict[str, float]


def smooth_study(prediction: Prediction, smooth_values: Sequence[float] = tuple(SMOOTH_VALUES)) -> SmoothStudy:
    """Dice of every shape at each smooth value: one evaluate call per value over the batch of shapes."""
    g = np.stack([true_mask(shape) for shape in SHAPES])
    p = np.stack([predicted_mask(shape, prediction) for shape in SHAPES])
    values = np.asarray(smooth_values, dtype=np.float64)
    dice = np.stack([evaluate("dice", p, g, order=0, smooth=float(s)).value for s in values], axis=-1)
    return SmoothStudy(
        smooth=values,
        dice={shape: dice[i] for i, shape in enumerate(SHAPES)},
        sum_p={shape: float(p[i].sum()) for i, shape in enumerate(SHAPES)},
        sum_g={shape: float(g[i].sum()) for i, shape in enumerate(SHAPES)},
    )


def empty_mask_dice(sum_p: float, smooth: float) -> float:
    """The Dice loss of a prediction of mass Σp against an empty mask: TP = Σg = 0 leave Σp / (Σp + s)."""
    return sum_p / (sum_p + smooth)


def loss_titles() -> Mapping[str, str]:
    """Short display names of :data:`LOSSES`."""
    return {
        "dice": "Dice",
        "jaccard": "Jaccard (IoU)",
        "tversky": "Tversky",
        "bce": "BCE (mean)",
        "pixel_cross_entropy": "pixel CE",
    }
