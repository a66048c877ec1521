"""Lesson: loss curves and gradients — what a loss's gradient does to one example (the Curves page).

Every answer is read from :func:`lossviz.studies.curves.loss_curve`, the function that draws the page's
three panels, at the link's loss parameters.
"""

from __future__ import annotations

import numpy as np

from lossviz.lessons import base as lb
from lossviz.registry import spec
from lossviz.studies import curves as lc

PAGE = "pages/curves.py"
PREFIX = "curves"
REGRESSION = {"curves_family": lc.curve_families()["regression"], "curves_losses": ["mse", "mae", "huber"]}
WITH_LOG_COSH = {**REGRESSION, "curves_losses": ["mse", "mae", "huber", "log_cosh"]}
ROBUST = {"curves_family": lc.curve_families()["robust"], "curves_losses": ["barron", "cauchy", "tukey_biweight"]}
NEAR = 0.1
"""A residual of an example the model nearly gets right."""
HUBER_PULL = 1.5
"""The pull on the example at r = 2 that step 4 asks Huber's δ to give."""


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


def _near_zero_numbers(state: lb.Query) -> str:
    return ", ".join(f"{n} {lb.fmt(gradient(state, n, NEAR))}" for n in lb.names(state, "curves_losses", ()))


LESSON = lb.Lesson(
    id="gradients",
    title="Loss curves and gradients",
    summary="What a loss's gradient does to one example: the pull that training puts on its prediction.",
    steps=(
        lb.Step(
            "The gradient is a pull",
            PAGE,
            "Curves: MSE, MAE and Huber",
            REGRESSION,
            "The middle panel is the gradient ∂L/∂r: how hard one example with residual r = p − y pulls on its "
            "prediction. A gradient-descent step moves p by −η·∂L/∂r, so a larger gradient means a larger "
            "correction for that example. Hover the curves to read their values.",
            lb.NumberQuestion(
                "How hard does MSE pull on an example with residual r = 2 (its gradient there)?",
                lambda s: gradient(s, "mse", 2.0),
                tolerance=0.05,
                hint="Follow the MSE curve in the gradient panel (the middle one) to r = 2 and hover it.",
                explain="MSE = r², so its pull 2r grows with the residual: an example twice as far off pulls "
                "twice as hard.",
            ),
        ),
        lb.Step(
            "MAE pulls with one force",
            PAGE,
            "Curves: MSE, MAE and Huber",
            REGRESSION,
            "Now the same example under MAE. Look at the shape of MAE's gradient over the whole axis, not only "
            "at r = 2.",
            lb.NumberQuestion(
                "What is MAE's gradient at r = 2?",
                lambda s: gradient(s, "mae", 2.0),
                tolerance=0.05,
                hint="MAE's gradient is a step in the middle panel: read its height right of r = 0.",
                explain="MAE's pull has the same size at every residual: far examples pull no harder than near "
                "ones, which is why an MAE fit is a median.",
            ),
        ),
        lb.Step(
            "Nearly right examples",
            PAGE,
            "Curves: MSE, MAE and Huber",
            REGRESSION,
            f"An example the model nearly gets right has a residual of about r = {NEAR:g}. Zoom into the "
            "gradient panel just right of 0 (drag a box on it; double-click to zoom out).",
            lb.ChoiceQuestion(
                f"Which loss pulls hardest on an example with residual r = {NEAR:g}?",
                ("mse", "mae", "huber"),
                strongest_near_zero,
                hint=lambda picked, s: (
                    f"{picked}'s gradient at r = {NEAR:g} is {lb.fmt(gradient(s, picked, NEAR))}; "
                    "look for the curve that is highest just right of r = 0."
                ),
                explain=lambda s: (
                    f"Gradients at r = {NEAR:g}: {_near_zero_numbers(s)}. MAE keeps pushing on "
                    "examples that are almost right; MSE and Huber let them rest."
                ),
            ),
        ),
        lb.Step(
            "Huber clips the pull",
            PAGE,
            "Curves: MSE, MAE and Huber",
            REGRESSION,
            "Huber's loss is quadratic within ±δ and linear beyond: its gradient is the residual clipped to ±δ. "
            "Move δ with the slider under *Loss parameters* and watch Huber's gradient at r = 2.",
            lb.SettingQuestion(
                f"Set δ so that Huber pulls on the example at r = 2 with force {HUBER_PULL:g}. Which δ did you set?",
                f"{PREFIX}_huber_delta",
                spec("huber").param("delta"),
                huber_pull,
                hint="Huber's gradient at r = 2 is min(2, δ): raise δ for a stronger pull, lower it for a weaker one.",
                explain="Beyond δ every example pulls with the same force δ: an outlier cannot pull harder than that.",
            ),
        ),
        lb.Step(
            "Between MSE and MAE",
            PAGE,
            "Curves: MSE, MAE, Huber and log-cosh",
            WITH_LOG_COSH,
            "log-cosh is smooth everywhere: like r²/2 near 0 and like |r| far away. Its gradient tanh(r) climbs "
            "from 0 towards MAE's constant.",
            lb.NumberQuestion(
                "What is log-cosh's gradient at r = 1?",
                lambda s: gradient(s, "log_cosh", 1.0),
                tolerance=0.01,
                hint="Read the log-cosh curve of the gradient panel at r = 1: it lies between Huber's and MAE's.",
                explain=lambda s: (
                    f"tanh(1): already {100 * gradient(s, 'log_cosh', 1.0) / gradient(s, 'mae', 1.0):.0f} % of MAE's "
                    "pull at r = 1, and still no kink anywhere."
                ),
            ),
        ),
        lb.Step(
            "A pull that fades",
            PAGE,
            "Curves: robust losses (Barron, Cauchy, Tukey)",
            ROBUST,
            "Redescending losses go further than Huber: far from the target their pull falls back towards 0, so "
            "a far outlier is ignored. Follow Cauchy's gradient from r = 0 to the right.",
            lb.NumberQuestion(
                "At which residual r > 0 is Cauchy's pull strongest?",
                cauchy_peak,
                tolerance=0.05,
                hint="Find the top of Cauchy's curve in the gradient panel, right of r = 0, and hover it.",
                explain="Cauchy's pull r/(1 + (r/c)²) peaks at r = c, the scale, and fades beyond it.",
            ),
        ),
    ),
)
