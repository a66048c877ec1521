"""Robust losses: bounded or redescending influence, so that outliers stop pulling the fit."""

from __future__ import annotations

import math

import torch

from lossviz.domains import REAL
from lossviz.registry import register
from lossviz.spec import Param

ALPHA_AT_ZERO = 1e-20
"""Barron's ρ for |α| below this equals its α = 0 limit to float64 precision (the relative
difference is about |α|·log(1 + z/2)/4 < 4e-18), and |α−2|/α would overflow for subnormal α."""


def _expm1_accurate_slope(t: torch.Tensor) -> torch.Tensor:
    """eᵗ − 1 whose autograd derivative eᵗ keeps its digits for any t.

    ``torch.expm1`` differentiates as (result + 1), which cancels for t ≪ 0 (the slope of a
    redescending loss would read exactly 0 beyond a few scales); ``exp`` is used there instead.
    """
    return torch.where(t < -1.0, torch.exp(t) - 1.0, torch.expm1(t))


def _scale(default: float = 1.0, description: str = "Residual scale c: the loss is a function of r / c.") -> Param:
    return Param(
        "scale", default, low=0.0, low_open=True, ui_low=0.1, ui_high=10.0 if default > 3 else 5.0,
        step=0.05, symbol="c", description=description,
    )


@register(
    name="barron",
    title="Barron general robust loss",
    family="robust",
    latex=(
        r"\frac{|\alpha-2|}{\alpha}\left(\left(\frac{(r/c)^2}{|\alpha-2|}+1\right)^{\alpha/2}-1\right),"
        r"\ r=p-y"
    ),
    use_when="One knob α sweeps L2 (α=2), pseudo-Huber (1), Cauchy (0), Geman-McClure (−2) and Welsch (−∞).",
    pred=REAL,
    target=REAL,
    params=(
        Param(
            "alpha", 1.0, high=10.0, ui_low=-10.0, ui_high=3.0, step=0.1, symbol=r"\alpha",
            special={-math.inf: "the Welsch limit"},
            description="Shape: 2 is L2, 1 pseudo-Huber, 0 Cauchy, −2 Geman-McClure, −∞ Welsch; below 1 the pull redescends.",
        ),
        _scale(),
    ),
    references=("Barron, A General and Adaptive Robust Loss Function, CVPR 2019",),
    note="α = 2, α = 0 (|α| < 1e-20) and α = −∞ use their exact limits; elsewhere expm1/log1p keep the formula exact near them.",
)
def barron(pred: torch.Tensor, target: torch.Tensor, *, alpha: float = 1.0, scale: float = 1.0) -> torch.Tensor:
    """Barron's ρ(r, α, c).

    Written as |α−2|/α · expm1(α/2 · log1p(z/|α−2|)) with z = (r/c)², which equals the paper's
    formula and loses no digits as α approaches 0 or 2 (pow takes over where the power is large);
    the removable singularities α = 0, 2 and the limit α → −∞ are evaluated by their closed forms.
    """
    z = ((pred - target) / scale) ** 2
    if alpha == 2.0:
        return 0.5 * z
    if abs(alpha) < ALPHA_AT_ZERO:
        return torch.log1p(0.5 * z)
    if alpha == -math.inf:
        return -_expm1_accurate_slope(-0.5 * z)
    b = abs(alpha - 2.0)
    log_base = torch.log1p(z / b)
    t = 0.5 * alpha * log_base
    # base^{α/2} − 1 two ways: expm1(t) passes on the rounding of t (a relative error |t|·2⁻⁵³,
    # 20 ulps at |r/c| = 1000), pow(base, α/2) that of base (α/2 · 2⁻⁵³); pow wins where both
    # |t| and log(base) exceed 1.
    power = torch.pow(1.0 + z / b, 0.5 * alpha) - 1.0
    use_power = (t.abs() > 1.0) & (log_base > 1.0)
    return (b / alpha) * torch.where(use_power, power, _expm1_accurate_slope(t))


@register(
    name="cauchy",
    title="Cauchy (Lorentzian)",
    family="robust",
    latex=r"\tfrac{c^2}{2}\log\!\left(1 + (r/c)^2\right),\ r=p-y",
    use_when="Gross outliers: the pull ψ(r) peaks at |r| = c and then falls back towards 0.",
    pred=REAL,
    target=REAL,
    params=(_scale(),),
    references=("Black & Anandan, The robust estimation of multiple motions, CVIU 1996", "Barron 2019, α = 0"),
)
def cauchy(pred: torch.Tensor, target: torch.Tensor, *, scale: float = 1.0) -> torch.Tensor:
    """c²/2 · log(1 + (r/c)²): ½r² near 0, logarithmic growth beyond c."""
    r = (pred - target) / scale
    return 0.5 * scale**2 * torch.log1p(r * r)


@register(
    name="geman_mcclure",
    title="Geman-McClure",
    family="robust",
    latex=r"\frac{2\,(r/c)^2}{(r/c)^2 + 4},\ r=p-y",
    use_when="Outliers that should be ignored almost entirely: the loss saturates at 2.",
    pred=REAL,
    target=REAL,
    params=(_scale(),),
    references=("Geman & McClure, Statistical methods for tomographic image reconstruction, 1987", "Barron 2019, α = −2"),
)
def geman_mcclure(pred: torch.Tensor, target: torch.Tensor, *, scale: float = 1.0) -> torch.Tensor:
    """2z/(z + 4) with z = (r/c)², Barron's α = −2 member (½(r/c)² near 0).

    Beyond z = 4 it is written 2 − 8/(z + 4): the same value, but autograd then differentiates
    it as 8/(z + 4)² instead of a difference of two nearly equal quotients.
    """
    z = ((pred - target) / scale) ** 2
    return torch.where(z < 4.0, 2.0 * z / (z + 4.0), 2.0 - 8.0 / (z + 4.0))


@register(
    name="welsch",
    title="Welsch (Leclerc)",
    family="robust",
    latex=r"1 - \exp\!\left(-\tfrac12 (r/c)^2\right),\ r=p-y",
    use_when="A smooth redescending loss bounded by 1: far outliers exert no pull at all.",
    pred=REAL,
    target=REAL,
    params=(_scale(),),
    references=("Dennis & Welsch, Techniques for nonlinear least squares and robust regression, 1978", "Barron 2019, α → −∞"),
)
def welsch(pred: torch.Tensor, target: torch.Tensor, *, scale: float = 1.0) -> torch.Tensor:
    """1 − exp(−½(r/c)²), with expm1 for full precision near 0 and a slope exact in the tails."""
    r = (pred - target) / scale
    return -_expm1_accurate_slope(-0.5 * r * r)


@register(
    name="tukey_biweight",
    title="Tukey biweight",
    family="robust",
    latex=r"\begin{cases}\tfrac{c^2}{6}\left(1-\left(1-(r/c)^2\right)^3\right) & |r|\le c\\ \tfrac{c^2}{6} & |r|>c\end{cases}",
    use_when="Hard rejection: residuals beyond c have exactly zero influence (95 % Gaussian efficiency at c = 4.685).",
    pred=REAL,
    target=REAL,
    params=(_scale(4.685, "Rejection point c: residuals beyond ±c have no influence."),),
    references=("Beaton & Tukey, The fitting of power series, Technometrics 1974",),
    kinks=lambda y, scale: ((y - scale, 2), (y + scale, 2)),
)
def tukey_biweight(pred: torch.Tensor, target: torch.Tensor, *, scale: float = 4.685) -> torch.Tensor:
    """c²/6 · (1 − (1 − (r/c)²)³) inside |r| ≤ c, the constant c²/6 outside."""
    u = ((pred - target) / scale) ** 2
    # 1 − (1 − u)³ expanded as u(3 − 3u + u²): no cancellation for small residuals.
    inside = (scale**2 / 6.0) * (u * (3.0 - 3.0 * u + u * u))
    return torch.where(u <= 1.0, inside, torch.full_like(u, scale**2 / 6.0))
