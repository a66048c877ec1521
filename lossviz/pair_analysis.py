"""Which loss would my outliers dominate? Loss values and gradients over a model's (prediction, target) pairs.

Given a file of predictions and targets (a model's validation output), each candidate loss is
evaluated on every pair in one :func:`lossviz.evaluate` call; the summary says how much of the
total loss, and of the total gradient magnitude, comes from the worst 1 % and 10 % of the pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lossviz.engine import evaluate
from lossviz.registry import spec as get_spec
from lossviz.upload import tail_share

TAIL_FRACTIONS: tuple[float, ...] = (0.01, 0.10)


@dataclass(frozen=True)
class PairLossSummary:
    """One loss over all pairs: per-pair values and gradients, totals and tail shares."""

    name: str
    value: np.ndarray
    grad: np.ndarray
    total: float
    mean: float
    value_tail_share: dict[float, float]
    grad_tail_share: dict[float, float]


def analyze_pairs(
    losses: Sequence[str],
    pred: np.ndarray,
    target: np.ndarray,
    params: Mapping[str, Mapping[str, float]] | None = None,
) -> list[PairLossSummary]:
    """Evaluate each pointwise loss on the pairs; raises ``ValueError`` (DomainError…) with a clear message."""
    params = params or {}
    out = []
    for name in losses:
        spec = get_spec(name)
        if not spec.pointwise or not spec.has_target:
            raise ValueError(f"{name!r} is not a pointwise loss of (prediction, target) pairs")
        res = evaluate(name, pred, target, order=1, **params.get(name, {}))
        finite = np.isfinite(res.value)
        values = res.value[finite]
        magnitudes = np.abs(res.grad[finite])
        out.append(
            PairLossSummary(
                name=name,
                value=res.value,
                grad=res.grad,
                total=float(values.sum()),
                mean=float(values.mean()) if values.size else float("nan"),
                value_tail_share=tail_share(values, TAIL_FRACTIONS),
                grad_tail_share=tail_share(magnitudes, TAIL_FRACTIONS),
            )
        )
    return out
