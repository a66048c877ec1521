"""Lesson: GAN generator saturation (the Generative page).

Every answer comes from :mod:`lossviz.studies.generative` — :func:`~lossviz.studies.generative.curves` (the
generator chart, on the logit or the probability axis) and
:func:`~lossviz.studies.generative.vanishing_intervals` (its shading) — at the link's axis, range and ε.
Its words are in ``gan_saturation.toml``; this module computes what they quote.
"""

from __future__ import annotations

import numpy as np

from lossviz.lessons import base as lb
from lossviz.studies import generative as gs

PREFIX = "generative"
SATURATING, NON_SATURATING = "gan_generator_saturating", "gan_generator_nonsaturating"
MINIMAX = {f"{PREFIX}_generators": [SATURATING, NON_SATURATING]}
ON_D = {**MINIMAX, f"{PREFIX}_axis": "probability"}
ALL = {f"{PREFIX}_generators": list(gs.GENERATOR_LOSSES)}
CONSTANT_CHOICES = (SATURATING, NON_SATURATING, "lsgan_generator", "wasserstein_generator")
BAD_FAKE = -4.0
"""A discriminator output for fakes it rejects easily (D = σ(−4) ≈ 0.018)."""
SHADE_END = -4.0
"""The edge of the shading that step 2 asks ε to move past."""
SMALL_D = 0.02
"""The discriminator output D at which step 5 reads the saturating loss's slope on the D axis."""
VANISH = gs.VANISH
"""The page's threshold ε (its control ``generative_vanish``)."""


def axis(state: lb.Query) -> str:
    return lb.text(state, f"{PREFIX}_axis", "logit")


def half_width(state: lb.Query) -> float:
    return lb.number(state, f"{PREFIX}_range", gs.LOGIT_RANGE)


def threshold(state: lb.Query) -> float:
    return lb.number(state, f"{PREFIX}_vanish", VANISH)


def shaded_end(state: lb.Query) -> float:
    """The upper end of the shaded region (where the saturating loss's |∂L/∂a| < ε), as the chart draws it."""
    return gs.vanishing_intervals("logit", half_width(state), threshold(state))[0][1]


def grad_logit(state: lb.Query, loss: str, a: float) -> float:
    """∂L/∂a at one discriminator output a (the gradient that reaches the generator)."""
    (curve,) = gs.curves([loss], "logit", half_width(state))
    return float(np.interp(a, curve.x, curve.grad_logit))


def slope_on_d(state: lb.Query, loss: str, d: float) -> float:
    (curve,) = gs.curves([loss], "probability", half_width(state))
    return float(np.interp(d, curve.x, curve.grad))


def spread(state: lb.Query, loss: str) -> float:
    """How much ∂L/∂a varies over the chart (largest minus smallest)."""
    (curve,) = gs.curves([loss], "logit", half_width(state))
    return float(np.ptp(curve.grad_logit))


def non_saturating_pull(state: lb.Query) -> float:
    """The non-saturating loss's ∂L/∂a at the badly rejected fake (a = BAD_FAKE)."""
    return grad_logit(state, NON_SATURATING, BAD_FAKE)


def saturating_pull(state: lb.Query) -> float:
    """The saturating loss's ∂L/∂a at the badly rejected fake (a = BAD_FAKE)."""
    return grad_logit(state, SATURATING, BAD_FAKE)


def pull_ratio(state: lb.Query) -> str:
    """How many times the non-saturating pull at a = BAD_FAKE exceeds the saturating one."""
    return lb.fmt(non_saturating_pull(state) / saturating_pull(state))


def saturating_slope(state: lb.Query) -> float:
    """The saturating loss's slope ∂L/∂D at D = SMALL_D, on the probability axis."""
    return slope_on_d(state, SATURATING, SMALL_D)


def constant_pull(state: lb.Query) -> str:
    """The loss among :data:`CONSTANT_CHOICES` whose ∂L/∂a varies least over the chart."""
    return min(CONSTANT_CHOICES, key=lambda n: spread(state, n))


def picked_spread(state: lb.Query, picked: str) -> str:
    return lb.fmt(spread(state, picked))


def constant_pull_value(state: lb.Query) -> str:
    """∂L/∂a of :func:`constant_pull`'s loss (at a = 0; it is the same at every a)."""
    return lb.fmt(grad_logit(state, constant_pull(state), 0.0))


def shade_ends_below(value: float, state: lb.Query) -> lb.Measured:
    """Where the shading ends: log(ε / (1 − ε)), which the chart draws while it lies within ±range."""
    end = gs.saturating_vanishing_bound(threshold(state))
    off_chart = " (left of the chart: widen the range of a to see it)" if end < -half_width(state) else ""
    return lb.Measured(end < SHADE_END, f"the shading ends at a = {lb.fmt(end)}{off_chart}")


LESSON = lb.load(__name__)
