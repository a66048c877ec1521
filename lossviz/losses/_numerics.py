"""Numerically careful building blocks shared by the loss families."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_CLAMP = -100.0
"""Lower bound on log p, as in ``torch.nn.functional.binary_cross_entropy``."""
GRAD_EPS = 1e-12
"""The smallest p whose 1/p a clamped log differentiates with (torch's BCE uses the same 1e-12)."""
_TINY = math.exp(LOG_CLAMP)


class _ClampedLog(torch.autograd.Function):
    """max(log x, −100), differentiated as 1 / max(x, 1e-12): finite at x = 0, exact inside."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        return torch.log(x.clamp_min(_TINY))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        # Written with differentiable ops so that double backward (curvature) works.
        return grad / x.clamp_min(GRAD_EPS)


def clamped_log(x: torch.Tensor) -> torch.Tensor:
    """log x clamped at −100 (the BCE convention), with a finite gradient at x = 0."""
    return _ClampedLog.apply(x)


def log_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """log σ(x), exact and finite for any finite logit, with finite first and second derivatives."""
    return F.logsigmoid(x)


def softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + eˣ) = −log σ(−x) exactly.

    Unlike ``F.softplus`` it has no linear cut-off above x = 20 (an error of e⁻²⁰), and unlike
    ``logaddexp(0, x)`` its second derivative stays finite at x = −800.
    """
    return -F.logsigmoid(-x)


def relu(x: torch.Tensor) -> torch.Tensor:
    """max(0, x) with gradient 0 at x = 0 (lossviz's minimal-norm subgradient convention)."""
    return torch.relu(x)
