"""Weight penalties: pred is a model weight, there is no target."""

from __future__ import annotations

import torch

from lossviz.domains import WEIGHT
from lossviz.registry import register


@register(
    name="l1_penalty",
    title="L1 penalty (lasso)",
    family="regularization",
    latex=r"|w|",
    use_when="Sparsity: its constant pull drives small weights to exactly zero.",
    pred=WEIGHT,
    target=None,
    references=("Tibshirani, Regression Shrinkage and Selection via the Lasso, 1996",),
    kinks=lambda _y: ((0.0, 1),),
)
def l1_penalty(pred: torch.Tensor, target: None = None) -> torch.Tensor:
    """|w| (subgradient 0 at w = 0)."""
    return pred.abs()


@register(
    name="l2_penalty",
    title="L2 penalty (ridge, weight decay)",
    family="regularization",
    latex=r"w^2",
    use_when="Shrinkage without sparsity: the pull is proportional to the weight, so weights shrink but rarely vanish.",
    pred=WEIGHT,
    target=None,
    references=("Hoerl & Kennard, Ridge Regression, 1970",),
)
def l2_penalty(pred: torch.Tensor, target: None = None) -> torch.Tensor:
    """w²."""
    return pred**2
