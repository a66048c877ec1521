"""The values a live parameter steps through: the frames of a live figure and the options of a control.

Three ladders, each for a kind of parameter:

* :func:`even_values` — evenly spaced across the control range (geometrically for a log-scale
  parameter): a smooth sweep for curves that change continuously (Huber δ, focal γ).
* :func:`round_values` — multiples of a 1-2-2.5-5 spacing plus the range ends: values a reader can
  quote (a margin of 0.25, 0.5 …).
* :func:`log_ladder` — mantissas × 10ᵏ (1-2-5 by default) for a log-scale parameter spanning
  decades (a learning rate, a total-variation weight), its default included.

And two for time: :func:`snapshot_steps`, the epochs (or optimiser steps) a recorded run keeps, which a
player steps through, and :func:`time_param`, that player's control.

Every ladder keeps only values the parameter accepts (:meth:`lossviz.spec.Param.contains`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lossviz.spec import Param

EVEN_COUNT = 25
"""Frames of a continuous sweep: 20–60 keeps a drag smooth and the figure small."""
ROUND_COUNT = 30
"""About how many round values :func:`round_values` gives."""
LOG_MANTISSAS: tuple[float, ...] = (1.0, 2.0, 5.0)
"""The 1-2-5 ladder of a control's options."""
FINE_MANTISSAS: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)
"""A finer ladder for the frames of a live figure: a superset of the 1-2-5 options."""
SNAPSHOT_LIMIT = 100
"""Steps of a recorded run beyond which its snapshots thin out: at most ``SNAPSHOT_LIMIT + 1`` frames."""


def even_values(param: Param, count: int = EVEN_COUNT) -> np.ndarray:
    """``count`` valid values across the control range (log-spaced for log-scale parameters; integers
    rounded and deduplicated)."""
    lo, hi = param.slider_range
    values = np.geomspace(lo, hi, count) if param.scale == "log" else np.linspace(lo, hi, count)
    if param.integer:
        values = np.unique(np.round(values))
    return np.array([v for v in values if param.contains(float(v))])


def round_values(param: Param, count: int = ROUND_COUNT) -> np.ndarray:
    """Multiples of a 1-2-2.5-5 spacing giving at most about ``count`` values, plus the ends of the range."""
    lo, hi = param.slider_range
    raw = (hi - lo) / count
    exponent = math.floor(math.log10(raw))
    spacing = next(m * 10.0**exponent for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * 10.0**exponent >= raw)
    inner = np.arange(math.ceil(lo / spacing), math.floor(hi / spacing) + 1) * spacing
    values = np.unique(np.round(np.concatenate([[lo], inner, [hi]]), 10))
    return np.array([v for v in values if param.contains(float(v))])


def log_ladder(param: Param, mantissas: Sequence[float] = LOG_MANTISSAS) -> list[float]:
    """``mantissas`` × 10ᵏ inside the control range of a log-scale parameter, plus its default, sorted.

    With 1, 2 and 5 among the mantissas a finer ladder is a superset of the 1-2-5 one, so a value chosen
    on a 1-2-5 control is always one of its frames.
    """
    lo, hi = param.slider_range
    values = {float(param.default)}
    for exponent in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for mantissa in mantissas:
            v = float(f"{mantissa * 10.0**exponent:.6g}")
            if lo <= v <= hi:
                values.add(v)
    return sorted(values)


def nearest_index(values: Sequence[float] | np.ndarray, value: float) -> int:
    """The index of the value closest to ``value`` (where a live control starts)."""
    return int(np.argmin(np.abs(np.asarray(values, dtype=np.float64) - value)))


def snapshot_steps(total: int, limit: int = SNAPSHOT_LIMIT) -> np.ndarray:
    """The steps 0 … ``total`` a recorded run keeps: every one up to ``limit`` steps, else ``limit + 1`` evenly
    spaced (rounded) with both ends, so that a player has at most ``limit + 1`` frames whatever the run's length."""
    if total < 0 or int(total) != total:
        raise ValueError(f"a run has a non-negative whole number of steps, got {total!r}")
    if total <= limit:
        return np.arange(int(total) + 1)
    return np.unique(np.round(np.linspace(0, total, limit + 1)).astype(np.int64))


def time_param(name: str, last: int, description: str) -> Param:
    """The step (or epoch) a player of a recorded run shows, 0 … ``last``; the end of the run by default."""
    top = max(int(last), 1)
    return Param(name, int(last), low=0, high=top, integer=True, ui_low=0, ui_high=top, step=1, description=description)
