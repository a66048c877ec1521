"""Lesson: loss curves and gradients — what a loss's gradient does to one example (the Curves page).

Its words are in ``gradients.toml``; this module computes what they quote.

Every answer is read from :func:`lossviz.studies.curves.loss_curve`, the function that draws the page's
three panels, at the link's loss parameters.
"""

from __future__ import annotations

import numpy as np

from lossviz.lessons import base as lb
from lossviz.registry import spec
from lossviz.studies import curves as lc

PREFIX = "curves"
REGRESSION = {"curves_family": lc.curve_families()["regression"], "curves_losses": ["mse", "mae", "huber"]}
WITH_LOG_COSH = {**REGRESSION, "curves_losses": ["mse", "mae", "huber", "log_cosh"]}
ROBUST = {"curves_family": lc.curve_families()["robust"], "curves_losses": ["barron", "cauchy", "tukey_biweight"]}
NEAR = 0.1
"""A residual of an example the model nearly gets right."""
HUBER_PULL = 1.5
"""The pull on the example at r = 2 that step 4 asks Huber's δ to give."""
HUBER_DELTA = spec("huber").param("delta")


def params(state: lb.Query, loss: str) -> dict[str, float]:
    """The loss's parameters as the page's controls read them from the link (``curves_huber_delta`` …)."""
    return {p.name: lb.number(state, f"{PREFIX}_{loss}_{p.name}", p) for p in spec(loss).params}


def gradient(state: lb.Query, loss: str, residual: float) -> float:
    """∂L/∂r at one residual, as the gradient panel draws it."""
    axis = lc.natural_axis(loss)
    return float(lc.loss_curve(loss, np.array([residual]), axis.fixed_target, params(state, loss)).grad[0])


def strongest_near_zero(state: lb.Query) -> str:
    losses = lb.names(state, "curves_losses", lc.default_losses(lc.DEFAULT_FAMILY))
    return max(losses, key=lambda n: abs(gradient(state, n, NEAR)))


def huber_pull(delta: float, state: lb.Query) -> lb.Measured:
    g = gradient(state, "huber", 2.0)
    return lb.Measured(abs(g - HUBER_PULL) <= 0.01, f"Huber's gradient at r = 2 is {lb.fmt(g)}")


def cauchy_peak(state: lb.Query) -> float:
    """The residual r > 0 where Cauchy's gradient is largest on the page's grid (at zoom 1)."""
    axis = lc.natural_axis("cauchy")
    x = lc.x_grid(axis, lb.number(state, f"{PREFIX}_range", lc.ZOOM))
    curve = lc.loss_curve("cauchy", x, axis.fixed_target, params(state, "cauchy"))
    return float(x[np.argmax(np.where(x > 0, curve.grad, -np.inf))])


def near_zero_numbers(state: lb.Query) -> str:
    return ", ".join(f"{n} {lb.fmt(gradient(state, n, NEAR))}" for n in lb.names(state, "curves_losses", ()))


def picked_near_zero(state: lb.Query, picked: str) -> str:
    return lb.fmt(gradient(state, picked, NEAR))


def mse_pull(state: lb.Query) -> float:
    return gradient(state, "mse", 2.0)


def mae_pull(state: lb.Query) -> float:
    return gradient(state, "mae", 2.0)


def log_cosh_pull(state: lb.Query) -> float:
    return gradient(state, "log_cosh", 1.0)


def log_cosh_share(state: lb.Query) -> float:
    """log-cosh's pull at r = 1 in per cent of MAE's."""
    return 100 * gradient(state, "log_cosh", 1.0) / gradient(state, "mae", 1.0)


LESSON = lb.load(__name__)
