"""Probabilistic losses: negative log-likelihoods of counts and of Gaussian observations."""

from __future__ import annotations

import math

import torch

from lossviz.domains import COUNT, LOG_RATE, REAL
from lossviz.registry import register
from lossviz.spec import Param

GAUSSIAN_VAR_EPS = 1e-6
"""Variance floor of ``F.gaussian_nll_loss`` (its default ``eps``)."""


@register(
    name="poisson_nll",
    title="Poisson negative log-likelihood",
    family="probabilistic",
    latex=r"e^{p} - y\,p \quad (p = \log\lambda)",
    use_when="Count targets (clicks, photons, cases): the model predicts the log of the rate λ.",
    pred=LOG_RATE,
    target=COUNT,
    references=("torch.nn.functional.poisson_nll_loss (log_input=True, full=False)",),
    note="Drops the constant log y! (full=False), so the minimum over p is y − y log y, not 0.",
)
def poisson_nll(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """exp(p) − y·p: the Poisson NLL of count y under rate exp(p), up to the constant log y!."""
    return torch.exp(pred) - target * pred


@register(
    name="gaussian_nll",
    title="Gaussian negative log-likelihood",
    family="probabilistic",
    latex=r"\tfrac12\left(\log \sigma^2 + \frac{(p-y)^2}{\sigma^2}\right)",
    use_when="Regression with a known (or separately predicted) noise variance σ²: MSE scaled by 1/(2σ²) plus log σ.",
    pred=REAL,
    target=REAL,
    params=(
        Param(
            "var", 1.0, low=0.0, low_open=True, ui_low=0.01, ui_high=10.0, step=0.01, scale="log",
            symbol=r"\sigma^2", description="Variance σ² of the Gaussian noise (clamped below at 1e-6 as in torch).",
        ),
    ),
    references=("torch.nn.functional.gaussian_nll_loss (full=False)", "Nix & Weigend, 1994"),
    note="Drops the constant ½ log 2π (full=False).",
)
def gaussian_nll(pred: torch.Tensor, target: torch.Tensor, *, var: float = 1.0) -> torch.Tensor:
    """½(log max(σ², ε) + (p − y)² / max(σ², ε)) with ε = 1e-6, as ``F.gaussian_nll_loss``."""
    v = max(var, GAUSSIAN_VAR_EPS)
    return 0.5 * (math.log(v) + (pred - target) ** 2 / v)
