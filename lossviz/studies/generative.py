"""The maths of the Generative page: GAN losses on one axis, and total-variation denoising.

GAN losses
    Every discriminator ends in one real number a (its last layer). The original GAN squashes it
    into a probability D = σ(a); LSGAN, WGAN and hinge GAN use it as it is, a score. So the natural
    shared axis is a: the minimax and non-saturating losses are evaluated at D = σ(a) and their
    gradient is carried to a by the chain rule ∂L/∂a = ∂L/∂D · σ(a)·σ(−a); the score losses are
    evaluated at a directly. On this axis Goodfellow et al.'s (2014) argument is plain: the
    saturating loss log(1 − σ(a)) has ∂L/∂a = −σ(a) → 0 when the discriminator rejects the fakes
    (a → −∞), while the non-saturating −log σ(a) has ∂L/∂a = −σ(−a) → −1. On the probability axis
    the same loss has slope −1/(1 − D), never small: it is the sigmoid's σ(a)σ(−a) that kills it.

Total variation
    Denoising by gradient descent on E(x) = ½‖x − y‖² + λ·TV(x), where y is a noisy synthetic image
    (:func:`lossviz.toolkit.data.noisy_image`) and TV is lossviz's squared anisotropic total variation;
    ∇TV comes from ``lossviz.evaluate("total_variation", …)``, the same path as every other loss.

Every number comes from :func:`lossviz.evaluate`; this module only arranges grids and steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import expit

from lossviz.engine import evaluate
from lossviz.registry import spec as get_spec
from lossviz.spec import Param
from lossviz.toolkit.data import clean_image, noisy_image

Axis = Literal["logit", "probability"]

GENERATOR_LOSSES: tuple[str, ...] = (
    "gan_generator_saturating",
    "gan_generator_nonsaturating",
    "lsgan_generator",
    "wasserstein_generator",
    "hinge_gan_generator",
)
DISCRIMINATOR_LOSSES: tuple[str, ...] = (
    "gan_discriminator",
    "lsgan_discriminator",
    "wasserstein_critic",
    "hinge_gan_discriminator",
)
SATURATING = "gan_generator_saturating"
REAL, FAKE = 1.0, 0.0
POINTS = 601
"""Points per curve on the logit axis (a step of 0.02 at the default half-width 6)."""
PROBABILITY_INSET = 0.005
"""The probability axis spans [0.005, 0.995]: −1/D and −1/(1 − D) would swamp the plot at the ends."""

LOGIT_RANGE = Param(
    "range", 6.0, low=0.0, low_open=True, ui_low=2.0, ui_high=12.0, step=0.5, symbol="a_{max}",
    description="Half-width of the plotted range of the discriminator output a (the logit of D = σ(a)).",
)
VANISH = Param(
    "vanish", 0.05, low=0.0, high=1.0, low_open=True, high_open=True, ui_low=0.001, ui_high=0.5, scale="log",
    symbol=r"\varepsilon",
    description="Threshold below which the saturating loss's gradient |∂L/∂a| counts as vanished (shaded).",
)


def is_probability_loss(name: str) -> bool:
    """True for losses whose prediction is the probability D ∈ [0, 1] (the original GAN's)."""
    domain = get_spec(name).pred_domain
    return not domain.is_discrete and domain.low == 0.0 and domain.high == 1.0


def logit_grid(half_width: float, points: int = POINTS) -> np.ndarray:
    """``points`` discriminator outputs a evenly spread over [−half_width, half_width]."""
    return np.linspace(-half_width, half_width, points)


def probability_grid(points: int = POINTS) -> np.ndarray:
    """Probabilities D evenly spread over [PROBABILITY_INSET, 1 − PROBABILITY_INSET]."""
    return np.linspace(PROBABILITY_INSET, 1.0 - PROBABILITY_INSET, points)


def sigmoid_slope(a: np.ndarray) -> np.ndarray:
    """dD/da = σ(a)·σ(−a), accurate in both tails (1 − σ(a) would round to 0 for large a)."""
    return expit(a) * expit(-a)


@dataclass(frozen=True)
class GanCurve:
    """One loss along the plotted axis ``x`` (logit a or probability D).

    ``grad`` is the derivative along the plotted axis; ``grad_logit`` the derivative with respect
    to the discriminator output a, the signal that flows back into the networks.
    """

    name: str
    x: np.ndarray
    value: np.ndarray
    grad: np.ndarray
    grad_logit: np.ndarray
    target: float | None = None


def curve_on_logit(name: str, a: np.ndarray, target: float | None = None) -> GanCurve:
    """The loss against the discriminator output a: at D = σ(a) for probability losses, at a otherwise."""
    if is_probability_loss(name):
        res = evaluate(name, expit(a), target)
        grad = res.grad * sigmoid_slope(a)  # chain rule through D = σ(a)
    else:
        res = evaluate(name, a, target)
        grad = res.grad
    return GanCurve(name, a, res.value, grad, grad, target)


def curve_on_probability(name: str, d: np.ndarray, target: float | None = None) -> GanCurve:
    """A probability loss against D itself; ``grad_logit`` is ∂L/∂D · D(1 − D) (a = logit D)."""
    if not is_probability_loss(name):
        raise ValueError(f"{name!r} takes a real score, not a probability; plot it on the logit axis")
    res = evaluate(name, d, target)
    return GanCurve(name, d, res.value, res.grad, res.grad * d * (1.0 - d), target)


def plotted_losses(names: Sequence[str], axis: Axis) -> list[str]:
    """The losses that live on ``axis``: all on the logit axis, the probability losses on D."""
    return [n for n in names if axis == "logit" or is_probability_loss(n)]


def axis_grid(axis: Axis, half_width: float) -> np.ndarray:
    return logit_grid(half_width) if axis == "logit" else probability_grid()


def curves(names: Sequence[str], axis: Axis, half_width: float, target: float | None = None) -> list[GanCurve]:
    """Curves of the losses in ``names`` that live on ``axis`` (see :func:`plotted_losses`)."""
    x = axis_grid(axis, half_width)
    make = curve_on_logit if axis == "logit" else curve_on_probability
    return [make(n, x, target) for n in plotted_losses(names, axis)]


def discriminator_curves(names: Sequence[str], axis: Axis, half_width: float) -> list[GanCurve]:
    """Each discriminator (critic) loss on real (y = 1) and on fake (y = 0) samples."""
    return [c for y in (REAL, FAKE) for c in curves(names, axis, half_width, y)]


def below_threshold_intervals(x: np.ndarray, grad: np.ndarray, threshold: float) -> list[tuple[float, float]]:
    """Maximal intervals of ``x`` where |grad| < threshold; ends found by linear interpolation of
    |grad| between the grid points on either side of each crossing (grid ends where it never crosses)."""
    g = np.abs(grad)
    inside = g < threshold
    intervals: list[tuple[float, float]] = []
    i, n = 0, len(x)
    while i < n:
        if not inside[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and inside[j + 1]:
            j += 1
        lo = x[i] if i == 0 else _crossing(x[i - 1], x[i], g[i - 1], g[i], threshold)
        hi = x[j] if j == n - 1 else _crossing(x[j], x[j + 1], g[j], g[j + 1], threshold)
        intervals.append((float(lo), float(hi)))
        i = j + 1
    return intervals


def _crossing(x0: float, x1: float, g0: float, g1: float, threshold: float) -> float:
    return x0 + (threshold - g0) * (x1 - x0) / (g1 - g0)


def vanishing_intervals(axis: Axis, half_width: float, threshold: float) -> list[tuple[float, float]]:
    """Where the saturating generator loss's |∂L/∂a| is below ``threshold``, in plotted coordinates.

    On either axis the test is on ∂L/∂a (the gradient that reaches the generator through the
    discriminator); on the logit axis it is the interval a < logit(ε), on the probability axis D < ε.
    """
    (curve,) = curves([SATURATING], axis, half_width)
    return below_threshold_intervals(curve.x, curve.grad_logit, threshold)


def saturating_vanishing_bound(threshold: float) -> float:
    """The exact logit below which |∂/∂a log(1 − σ(a))| = σ(a) < ε: a = log(ε / (1 − ε))."""
    return math.log(threshold / (1.0 - threshold))


# ---------------------------------------------------------------------------------------------
# Total-variation denoising
# ---------------------------------------------------------------------------------------------

TV_LIPSCHITZ = 16.0
"""A bound on the largest eigenvalue of the Hessian of TV: TV(x) = ‖Dx‖², Hessian 2DᵀD, and the
grid Laplacian DᵀD has eigenvalues below 8 (4 neighbours, each difference at most doubling)."""

TV_WEIGHT = Param(
    "weight", 0.2, low=0.0, low_open=True, ui_low=0.01, ui_high=10.0, scale="log", symbol=r"\lambda",
    description="Weight λ of total variation in ½‖x − y‖² + λ·TV(x): larger is smoother (and blurrier).",
)
STEPS = Param(
    "steps", 30, low=0, integer=True, ui_low=0, ui_high=100, step=1, symbol="K",
    description="Gradient-descent steps, each of size 1 / (1 + 16λ), started from the noisy image.",
)


def step_size(weight: float | np.ndarray) -> float | np.ndarray:
    """1 / L with L = 1 + 16λ ≥ the Lipschitz constant of ∇E: every step lowers E (descent lemma)."""
    return 1.0 / (1.0 + TV_LIPSCHITZ * np.asarray(weight, dtype=np.float64))


def tv_value_and_grad(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TV of each image in ``images[..., H, W]`` and its per-pixel gradient, by lossviz.evaluate."""
    res = evaluate("total_variation", images)
    return res.value, res.grad


def energy(x: np.ndarray, noisy: np.ndarray, weight: float | np.ndarray) -> np.ndarray:
    """E(x) = ½‖x − y‖² + λ·TV(x), one value per image."""
    data = 0.5 * ((x - noisy) ** 2).sum(axis=(-2, -1))
    return data + np.asarray(weight) * tv_value_and_grad(x)[0]


def denoise(noisy: np.ndarray, weights: Sequence[float], steps: int) -> np.ndarray:
    """``steps`` gradient steps on E for each weight at once (the weights are a batch axis of
    lossviz.evaluate); returns the images ``[len(weights), H, W]``."""
    w = np.asarray(weights, dtype=np.float64)[:, None, None]
    eta = step_size(w)
    x = np.repeat(noisy[None], len(w), axis=0)
    for _ in range(steps):
        _, tv_grad = tv_value_and_grad(x)
        x = x - eta * ((x - noisy) + w * tv_grad)
    return x


def psnr(image: np.ndarray, reference: np.ndarray, peak: float = 1.0) -> np.ndarray:
    """Peak signal-to-noise ratio 10·log₁₀(peak² / MSE) in dB over the last two axes (∞ if equal)."""
    mse = ((image - reference) ** 2).mean(axis=(-2, -1))
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(peak**2 / mse)




@dataclass(frozen=True)
class TvStudy:
    """A denoising experiment: the images, ∇TV of the noisy image, and one result per weight."""

    clean: np.ndarray
    noisy: np.ndarray
    tv_grad_noisy: np.ndarray
    weights: np.ndarray
    denoised: np.ndarray
    tv_clean: float
    tv_noisy: float
    tv_denoised: np.ndarray
    psnr_noisy: float
    psnr_denoised: np.ndarray
    steps: int

    def index(self, weight: float) -> int:
        """The frame whose weight is closest to ``weight`` (on a log scale)."""
        return int(np.argmin(np.abs(np.log(self.weights) - math.log(weight))))

    def psnr_gain(self, i: int) -> float:
        """How many dB closer to the clean image the denoised frame ``i`` is than the noisy image."""
        return float(self.psnr_denoised[i] - self.psnr_noisy)

    @property
    def best(self) -> int:
        """The frame with the highest PSNR: the weight that denoises best, between too little smoothing
        (noise left) and too much (edges blurred)."""
        return int(np.argmax(self.psnr_denoised))


def tv_study(noise: float, seed: int, steps: int, weights: Sequence[float]) -> TvStudy:
    """Run the denoising for every weight in ``weights`` on the synthetic image with this noise."""
    clean = clean_image()
    noisy = noisy_image(clean, noise, seed)
    denoised = denoise(noisy, weights, steps)
    tv_noisy, grad_noisy = tv_value_and_grad(noisy)
    return TvStudy(
        clean=clean,
        noisy=noisy,
        tv_grad_noisy=grad_noisy,
        weights=np.asarray(weights, dtype=np.float64),
        denoised=denoised,
        tv_clean=float(tv_value_and_grad(clean)[0]),
        tv_noisy=float(tv_noisy),
        tv_denoised=tv_value_and_grad(denoised)[0],
        psnr_noisy=float(psnr(noisy, clean)),
        psnr_denoised=psnr(denoised, clean),
        steps=steps,
    )
