"""Regression losses: pred and target are real numbers, the loss a function of the residual r = p − y."""

from __future__ import annotations

import math

import torch

from lossviz.domains import REAL
from lossviz.losses._numerics import relu
from lossviz.registry import register
from lossviz.spec import Param

_DELTA = Param(
    "delta", 1.0, low=0.0, low_open=True, ui_low=0.05, ui_high=5.0, step=0.05, symbol=r"\delta",
    description="Where the quadratic centre turns linear: residuals beyond ±δ get a constant pull δ.",
)


@register(
    name="mse",
    title="Mean squared error (L2)",
    family="regression",
    latex=r"(p - y)^2",
    use_when="Gaussian noise and no outliers: the mean is what you want, and big errors should cost a lot.",
    pred=REAL,
    target=REAL,
    references=("torch.nn.functional.mse_loss", "Gauss (1809), least squares"),
)
def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared error (p − y)², as ``F.mse_loss`` with reduction "none" (no ½)."""
    return (pred - target) ** 2


@register(
    name="mae",
    title="Mean absolute error (L1)",
    family="regression",
    latex=r"|p - y|",
    use_when="Heavy-tailed noise or outliers: estimates the median, every residual pulls with the same force.",
    pred=REAL,
    target=REAL,
    references=("torch.nn.functional.l1_loss", "Laplace (1774), least absolute deviations"),
    kinks=lambda y, **_: ((y, 1),),
    note="Not differentiable at r = 0: lossviz reports the subgradient 0 there, as torch.abs does.",
)
def mae(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Absolute error |p − y|, as ``F.l1_loss`` with reduction "none"."""
    return (pred - target).abs()


@register(
    name="huber",
    title="Huber",
    family="regression",
    latex=r"\begin{cases}\tfrac12 r^2 & |r|\le\delta\\ \delta\,(|r|-\tfrac12\delta) & |r|>\delta\end{cases},\ r=p-y",
    use_when="Mostly Gaussian noise with some outliers: quadratic near the fit, linear (bounded pull δ) beyond.",
    pred=REAL,
    target=REAL,
    params=(_DELTA,),
    references=("Huber, Robust Estimation of a Location Parameter, 1964", "torch.nn.functional.huber_loss"),
    kinks=lambda y, delta: ((y - delta, 2), (y + delta, 2)),
    note="Huber = δ · SmoothL1(β = δ). Its gradient is the residual clipped to [−δ, δ].",
    # The clipped residual, in closed form (2.5× faster than autograd on a 1000×1000 grid); clamp's
    # derivative is 1 on the bounds, so the curvature at |r| = δ is the inner piece's, as documented.
    grad_fn=lambda pred, target, delta=1.0: (pred - target).clamp(-delta, delta),
)
def huber(pred: torch.Tensor, target: torch.Tensor, *, delta: float = 1.0) -> torch.Tensor:
    """Huber loss ½r² for |r| ≤ δ, δ(|r| − ½δ) beyond, as ``F.huber_loss(delta=δ)``.

    Written with ``where`` rather than ``min(|r|, δ)`` so that the curvature at r = 0 is 1
    (the abs-based form has a zero second derivative there under autograd).
    """
    r = pred - target
    a = r.abs()
    return torch.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


@register(
    name="smooth_l1",
    title="Smooth L1",
    family="regression",
    latex=r"\begin{cases}\tfrac{1}{2\beta} r^2 & |r|<\beta\\ |r|-\tfrac12\beta & |r|\ge\beta\end{cases},\ r=p-y",
    use_when="Bounding-box regression (Fast R-CNN): like Huber, but the linear part has slope 1 whatever β.",
    pred=REAL,
    target=REAL,
    params=(
        Param(
            "beta", 1.0, low=0.0, low_open=True, ui_low=0.05, ui_high=5.0, step=0.05, symbol=r"\beta",
            description="Width of the quadratic zone; the slope beyond is always 1.",
        ),
    ),
    references=("Girshick, Fast R-CNN, ICCV 2015", "torch.nn.functional.smooth_l1_loss"),
    kinks=lambda y, beta: ((y - beta, 2), (y + beta, 2)),
    note="SmoothL1(β) = Huber(δ = β) / β.",
)
def smooth_l1(pred: torch.Tensor, target: torch.Tensor, *, beta: float = 1.0) -> torch.Tensor:
    """Smooth L1: ½r²/β for |r| < β, |r| − ½β beyond, as ``F.smooth_l1_loss(beta=β)``."""
    r = pred - target
    a = r.abs()
    return torch.where(a < beta, 0.5 * r * r / beta, a - 0.5 * beta)


def _tanh(r: torch.Tensor) -> torch.Tensor:
    """tanh r, written so that its autograd derivative sech² r keeps every digit.

    ``torch.tanh`` differentiates as 1 − tanh² r, which cancels (relative error e^{2|r|}·2⁻⁵³,
    exactly 0 beyond |r| ≈ 19); for |r| ≥ 1 the form sign(r)(1 − 2σ(−2|r|)) differentiates as
    4σ(1 − σ) with σ = σ(−2|r|), accurate to the last digit until it underflows (|r| ≈ 354).
    """
    a = r.abs()
    far = torch.sign(r) * (1.0 - 2.0 * torch.sigmoid(-2.0 * a))
    return torch.where(a < 1.0, torch.tanh(r), far)


@register(
    name="log_cosh",
    title="Log-cosh",
    family="regression",
    latex=r"\log\cosh(p - y)",
    use_when="A smooth Huber: ½r² near 0, |r| − log 2 far out, twice differentiable everywhere.",
    pred=REAL,
    target=REAL,
    references=("Chen et al., Log Hyperbolic Cosine Loss, 2019", "optax.losses.log_cosh"),
    # Closed form tanh(r): autograd's second derivative of logaddexp is NaN at |r| = 800.
    grad_fn=lambda pred, target: _tanh(pred - target),
)
def log_cosh(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """log cosh(r), exact at both ends.

    Small |r|: log1p(2 sinh²(r/2)) keeps every digit of ½r² (logaddexp(r, −r) − log 2 cancels to
    0 below |r| ≈ 1e-8). Large |r|: |r| + log1p(e^{−2|r|}) − log 2, where cosh would overflow.
    """
    r = pred - target
    a = r.abs()
    small = torch.log1p(2.0 * torch.sinh(0.5 * a.clamp(max=1.0)) ** 2)
    large = a + torch.log1p(torch.exp(-2.0 * a)) - math.log(2.0)
    return torch.where(a < 1.0, small, large)


@register(
    name="quantile",
    title="Quantile (pinball)",
    family="regression",
    latex=r"\max\big(\tau (y-p),\ (\tau-1)(y-p)\big)",
    use_when="Predicting a quantile (τ = 0.9: an upper bound that is exceeded 10 % of the time); τ = ½ is MAE/2.",
    pred=REAL,
    target=REAL,
    params=(
        Param(
            "tau", 0.5, low=0.0, high=1.0, low_open=True, high_open=True, ui_low=0.01, ui_high=0.99,
            step=0.01, symbol=r"\tau", description="The quantile to estimate: under-prediction costs τ, over-prediction 1 − τ.",
        ),
    ),
    references=("Koenker & Bassett, Regression Quantiles, Econometrica 1978",),
    kinks=lambda y, **_: ((y, 1),),
    note="Subgradient 0 at r = 0 (lossviz's kink convention).",
)
def quantile(pred: torch.Tensor, target: torch.Tensor, *, tau: float = 0.5) -> torch.Tensor:
    """Pinball loss max(τ(y − p), (τ − 1)(y − p)), written with relu for a 0 subgradient at the kink."""
    u = target - pred
    return tau * relu(u) + (1.0 - tau) * relu(-u)


@register(
    name="epsilon_insensitive",
    title="ε-insensitive (SVR)",
    family="regression",
    latex=r"\max(0,\ |p - y| - \varepsilon)",
    use_when="Support vector regression: errors inside the ε-tube are free, outside they cost linearly.",
    pred=REAL,
    target=REAL,
    params=(
        Param(
            "epsilon", 0.5, low=0.0, ui_low=0.0, ui_high=3.0, step=0.05, symbol=r"\varepsilon",
            description="Half-width of the tube of residuals that cost nothing.",
        ),
    ),
    references=("Vapnik, The Nature of Statistical Learning Theory, 1995",),
    kinks=lambda y, epsilon: ((y - epsilon, 1), (y + epsilon, 1)) if epsilon > 0 else ((y, 1),),
)
def epsilon_insensitive(pred: torch.Tensor, target: torch.Tensor, *, epsilon: float = 0.5) -> torch.Tensor:
    """max(0, |r| − ε)."""
    return relu((pred - target).abs() - epsilon)
