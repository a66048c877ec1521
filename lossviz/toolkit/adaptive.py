"""Barron's general and adaptive robust loss: the robust loss as a negative log-likelihood whose shape α and
scale c are learned with the model.

Barron's loss (the catalogue's ``barron``) is, for a residual x,

    ρ(x, α, c) = |α − 2|/α · (((x/c)²/|α − 2| + 1)^{α/2} − 1),

with the limits ρ = log(1 + (x/c)²/2) at α = 0 and ρ = (x/c)²/2 at α = 2. Minimising ρ over α would
always pick the α that ignores the most residuals, so Barron (§3) learns α as the shape of a probability
density instead,

    p(x | α, c) = exp(−ρ(x, α, c)) / (c·Z(α)),   Z(α) = ∫ exp(−ρ(x, α, 1)) dx,

and trains on the negative log-likelihood

    −log p(x | α, c) = ρ(x, α, c) + log c + log Z(α).

Z is finite for α ≥ 0; α = 2 gives the normal density (Z = √(2π)), α = 0 the Cauchy density of scale √2
(Z = √2·π), α = 1 Z = 2e·K₁(1). The normaliser is what makes α and c learnable: a smaller c or α shrinks
ρ, and log c + log Z(α) charges for it. It is also why this loss goes negative: a density can exceed 1,
so −log p < 0 wherever p(x) > 1 — a narrow fit (small c) on small residuals (robust_loss_pytorch issue #2).

log Z(α) is computed here by a torch-differentiable quadrature (:func:`log_partition`) rather than Barron's
precomputed spline: the trapezoid rule in u = log|x| on a fixed grid, Z(α) = 2∫ exp(u − ρ(eᵘ, α, 1)) du.
The integrand is smooth and decays at least like e^{−|u|} at both ends, so the rule converges
geometrically: on u ∈ [−40, 40] with step ⅛ (641 nodes), at α ∈ {0, 10⁻⁹, 10⁻⁶, 10⁻³, 0.01, 0.1, 0.5, 1, 1.5,
1.9, 1.99, 1.999, 2 − 10⁻⁶, 2}, log Z agrees with ``scipy.integrate.quad`` over x ∈ [0, ∞) (relative tolerance
10⁻¹³) to 9·10⁻¹⁵ — quad's own error; to 3.4·10⁻¹⁶ against mpmath's 40-digit quadrature — and
with the closed forms at α = 0, 1, 2 to 2·10⁻¹⁶. Its autograd derivative agrees with mpmath's derivative of a
40-digit quadrature to 10⁻¹³ (relative) at α ∈ {0.001, 0.3, 1, 1.7, 1.99, 1.999}. tests/toolkit/test_adaptive.py
checks the values against quad (to 10⁻¹³) and the closed forms, and the derivative against quad's finite
differences. A spline would struggle near α = 2: log Z has a (2 − α)·log(2 − α) term there, so
d log Z/dα → −∞ (−0.86 at α = 1.99, −1.41 at 1.999), which no polynomial piece follows; the quadrature
has no such trouble.

α and c are learned through unconstrained latent values (Barron's ``AdaptiveLossFunction`` in
robust_loss_pytorch): α = α_lo + (α_hi − α_lo)·σ(a) and c = softplus(b) + c_min, with his defaults
α ∈ (0.001, 1.999), c_min = 10⁻⁵, starting at α = 1, c = 1.

References: Barron, A General and Adaptive Robust Loss Function, CVPR 2019, §3 and eq. (16)–(17);
github.com/jonbarron/robust_loss_pytorch (``adaptive.py``, ``distribution.py``).
"""

from __future__ import annotations

import functools
import math

import torch

from lossviz.domains import REAL
from lossviz.spec import LossSpec, Param

ALPHA_LOW = 0.001
ALPHA_HIGH = 1.999
"""The range α is learned in (Barron's ``alpha_lo``, ``alpha_hi``): Z(α) is finite only for α ≥ 0, and the
sigmoid never reaches its ends."""
SCALE_LOW = 1e-5
"""The smallest scale c (Barron's ``scale_lo``): c → 0 would make log c, and the loss, unbounded below."""

ALPHA_INIT = Param(
    "alpha",
    1.0,
    low=ALPHA_LOW,
    high=ALPHA_HIGH,
    low_open=True,
    high_open=True,
    ui_low=0.05,
    ui_high=1.95,
    step=0.05,
    symbol=r"\alpha_0",
    description="Shape α where training starts (2: Gaussian, 1: pseudo-Huber, 0: Cauchy); it is then learned in "
    f"({ALPHA_LOW:g}, {ALPHA_HIGH:g}).",
)
SCALE_INIT = Param(
    "scale",
    1.0,
    low=SCALE_LOW,
    low_open=True,
    ui_low=0.01,
    ui_high=10.0,
    scale="log",
    symbol="c_0",
    description="Scale c where training starts, in the target's units; it is then learned (c > 10⁻⁵).",
)

_STEP = 0.125
_U = (-40.0, 40.0)
"""Trapezoid nodes in u = log|x|: the tails beyond hold less than 10⁻¹⁶ of Z for every α in [0, 2]
(≈ 2eᵘ below −40; at most ≈ 4e⁻ᵘ above 40, the Cauchy tail of α = 0)."""


def _rho_of_squares(z: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """ρ as a function of z = (x/c)², differentiable in z and α (α ≥ 0).

    Written b/α · expm1(α/2 · log1p(z/b)), b = |α − 2|, as the catalogue's ``barron``, so that no digits are
    lost near α = 0 or 2; for α ∈ [0, 2] the exponent is ≥ 0, where expm1's derivative (result + 1) is exact.
    α = 0 and α = 2 exactly take their closed forms, and the general branch then sees a harmless α = 1
    (the double ``where`` keeps its 0/0 out of the gradient). The gradient in α is that of the closed form
    there, 0: the learned α never lands exactly on 0 or 2.
    """
    if alpha.numel() == 1 and float(alpha.detach()) not in (0.0, 2.0):  # the trainer's one α: no `where`s
        b = (alpha - 2.0).abs()
        return (b / alpha) * torch.expm1(0.5 * alpha * torch.log1p(z / b))
    at_zero, at_two = alpha == 0.0, alpha == 2.0
    safe = torch.where(at_zero | at_two, torch.ones_like(alpha), alpha)
    b = (safe - 2.0).abs()
    general = (b / safe) * torch.expm1(0.5 * safe * torch.log1p(z / b))
    return torch.where(at_zero, torch.log1p(0.5 * z), torch.where(at_two, 0.5 * z, general))


def rho(x: torch.Tensor, alpha: torch.Tensor | float, scale: torch.Tensor | float) -> torch.Tensor:
    """Barron's ρ(x, α, c) for residuals ``x``, differentiable in x, α and c (float64 tensors or numbers).

    Equals the catalogue's ``barron`` loss for every α in [0, 2]; here α and c may be tensors that require
    gradients.
    """
    alpha = torch.as_tensor(alpha, dtype=x.dtype, device=x.device)
    scale = torch.as_tensor(scale, dtype=x.dtype, device=x.device)
    return _rho_of_squares((x / scale) ** 2, alpha)


@functools.lru_cache(maxsize=4)
def _nodes(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(x² at the nodes, log of the trapezoid weight times the Jacobian eᵘ and the factor 2 for x < 0)."""
    u = torch.arange(_U[0], _U[1] + _STEP / 2, _STEP, dtype=torch.float64, device=device)
    return torch.exp(2.0 * u), u + math.log(2.0 * _STEP)


def log_partition(alpha: torch.Tensor | float) -> torch.Tensor:
    """log Z(α), Z(α) = ∫ exp(−ρ(x, α, 1)) dx, for α in [0, 2] (any shape; differentiable in α).

    The trapezoid rule in u = log|x| (see the module's docstring for its accuracy), summed as a
    log-sum-exp so that no term underflows.
    """
    alpha = torch.as_tensor(alpha, dtype=torch.float64)
    squares, log_weights = _nodes(alpha.device)
    return torch.logsumexp(log_weights - _rho_of_squares(squares, alpha[..., None]), dim=-1)


def nll(
    pred: torch.Tensor, target: torch.Tensor, *, alpha: torch.Tensor | float = 1.0, scale: torch.Tensor | float = 1.0
) -> torch.Tensor:
    """−log p(pred − target | α, c) = ρ(r, α, c) + log c + log Z(α), elementwise.

    ``alpha`` and ``scale`` may be numbers or scalar tensors that require gradients (the trainer's learned ones).
    """
    r = pred - target
    alpha = torch.as_tensor(alpha, dtype=r.dtype, device=r.device)
    scale = torch.as_tensor(scale, dtype=r.dtype, device=r.device)
    return rho(r, alpha, scale) + torch.log(scale) + log_partition(alpha)


BARRON_NLL = LossSpec(
    name="barron_nll",
    title="Adaptive robust loss (Barron), negative log-likelihood",
    family="robust",
    latex=(
        r"\rho(r,\alpha,c) + \log c + \log Z(\alpha),\quad "
        r"Z(\alpha)=\int_{-\infty}^{\infty} e^{-\rho(x,\alpha,1)}\,dx,\ r=p-y"
    ),
    use_when="Let the data choose how robust the fit is: α and c are learned with the model, and outliers "
    "pull α down towards the Cauchy loss (α = 0).",
    fn=nll,
    pred_domain=REAL,
    target_domain=REAL,
    params=(
        Param(
            "alpha",
            1.0,
            low=0.0,
            high=2.0,
            symbol=r"\alpha",
            description="Shape α in [0, 2]: 2 is the Gaussian NLL, 1 pseudo-Huber, 0 Cauchy.",
        ),
        Param("scale", 1.0, low=0.0, low_open=True, symbol="c", description="Scale c of the residuals."),
    ),
    references=("Barron, A General and Adaptive Robust Loss Function, CVPR 2019, §3",),
    note="Negative values are normal: log c + log Z(α) is negative for small c, where the density exceeds 1.",
)
"""The training objective of the lab's adaptive loss; no catalogue entry (its α and c are learned, not set)."""


def latent(alpha: float, scale: float) -> torch.Tensor:
    """The unconstrained (a, b) that give α and c (the inverse of :func:`shape`), as a float64 tensor (2,)."""
    ALPHA_INIT.validate(alpha, "the adaptive loss")
    SCALE_INIT.validate(scale, "the adaptive loss")
    share = (alpha - ALPHA_LOW) / (ALPHA_HIGH - ALPHA_LOW)
    a = math.log(share) - math.log1p(-share)
    excess = scale - SCALE_LOW
    b = excess + math.log(-math.expm1(-excess))  # softplus⁻¹(y) = log(eʸ − 1), without overflow for large y
    return torch.tensor([a, b], dtype=torch.float64)


def shape(latent_ab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(α, c) from the latent (a, b): α = α_lo + (α_hi − α_lo)·σ(a), c = softplus(b) + c_min."""
    alpha = ALPHA_LOW + (ALPHA_HIGH - ALPHA_LOW) * torch.sigmoid(latent_ab[0])
    scale = torch.nn.functional.softplus(latent_ab[1]) + SCALE_LOW
    return alpha, scale
