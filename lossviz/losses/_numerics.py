"""Numerically careful building blocks shared by the loss families."""

from __future__ import annotations

import math
from typing import Any

import torch

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


def log_sigmoid_both(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(log σ(z), log σ(−z)) = (min(z, 0) − t, min(−z, 0) − t), t = log1p(e^{−|z|}): exact, one exp, one log1p.

    In-place steps on fresh tensors (no autograd here): on a million-point grid each new
    8 MB buffer costs about as much as the arithmetic.
    """
    t = z.abs().neg_().exp_().log1p_()
    return z.clamp(max=0.0).sub_(t), z.neg().clamp_(max=0.0).sub_(t)


class _LogSigmoidPair(torch.autograd.Function):
    """log σ(z) and log σ(−z) together, at the cost of one ``F.logsigmoid``.

    The backward is the exact derivative (σ(−z), −σ(z)) written with differentiable ops, so
    double backward works, and it has no kink at z = 0 (autograd through |z| would have one).
    """

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        pos, neg = log_sigmoid_both(z)
        ctx.save_for_backward(pos, neg)
        return pos, neg

    @staticmethod
    def backward(ctx: Any, g_pos: torch.Tensor, g_neg: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        pos, neg = ctx.saved_tensors
        return g_pos * torch.exp(neg) - g_neg * torch.exp(pos)


def log_sigmoid_pair(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(log σ(z), log σ(−z)) with exact first and second derivatives at any finite z."""
    return _LogSigmoidPair.apply(z)


def softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + eˣ) = −log σ(−x) exactly.

    Unlike ``F.softplus`` it has no linear cut-off above x = 20 (an error of e⁻²⁰); unlike
    ``logaddexp(0, x)`` or twice-differentiated ``F.logsigmoid`` its second derivative stays exact
    far into the tails (x = −30, −800).
    """
    return -log_sigmoid_pair(x)[1]


def relu(x: torch.Tensor) -> torch.Tensor:
    """max(0, x) with gradient 0 at x = 0 (lossviz's minimal-norm subgradient convention)."""
    return torch.relu(x)
