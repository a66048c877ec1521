"""One loss along one axis: its value, gradient and curvature over a grid of predictions, and its kinks.

The shared currency of the pages that draw loss curves (Curves, Custom): every point comes from one
:func:`lossviz.evaluate` call (``order=2``), so built-in and custom losses take one path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from lossviz.engine import evaluate
from lossviz.registry import spec as get_spec
from lossviz.spec import LossSpec


@dataclass(frozen=True)
class Curve:
    """One loss along one axis: value, gradient and curvature at ``x``, its kinks, and its settings."""

    name: str
    x: np.ndarray
    value: np.ndarray
    grad: np.ndarray
    curvature: np.ndarray
    kinks: tuple[tuple[float, int], ...] = ()
    target: float | None = None
    params: dict[str, float] = field(default_factory=dict)
    kink_values: np.ndarray = field(default_factory=lambda: np.empty(0))
    """The loss at each kink (for markers on the value curve)."""

    @property
    def nonfinite(self) -> int:
        """How many points have no finite value, gradient or curvature (drawn as gaps)."""
        bad = ~(np.isfinite(self.value) & np.isfinite(self.grad) & np.isfinite(self.curvature))
        return int(bad.sum())


def loss_curve(
    loss: str | LossSpec, x: np.ndarray, target: float | None, params: Mapping[str, float]
) -> Curve:
    """Value, gradient and curvature of ``loss`` at predictions ``x``, and its value at each kink
    inside the range (one :func:`evaluate` call for both).

    ``target`` is the actual target on a prediction axis; on a residual or margin axis pass the
    axis's ``fixed_target``. Raises the ``ValueError`` subclasses of :func:`evaluate`.
    """
    s = get_spec(loss)
    y = target if s.has_target else None
    lo, hi = float(x[0]), float(x[-1])
    kinks = tuple((float(k), o) for k, o in s.kink_points(y, **params) if lo <= k <= hi)
    points = np.concatenate([np.asarray(x, dtype=np.float64), [k for k, _ in kinks]])
    res = evaluate(s, points, y, order=2, **params)
    assert res.grad is not None and res.curvature is not None
    n = len(x)
    return Curve(
        s.name, x, res.value[:n], res.grad[:n], res.curvature[:n], kinks, y, dict(res.params), res.value[n:]
    )
