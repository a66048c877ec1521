"""Lesson: GAN generator saturation (the Generative page).

Every answer comes from :mod:`lossviz.studies.generative` — :func:`~lossviz.studies.generative.curves` (the
generator chart, on the logit or the probability axis) and
:func:`~lossviz.studies.generative.vanishing_intervals` (its shading) — at the link's axis, range and ε.
"""

from __future__ import annotations

import numpy as np

from lossviz.lessons import base as lb
from lossviz.studies import generative as gs

PAGE = "pages/generative.py"
PREFIX = "generative"
SATURATING, NON_SATURATING = "gan_generator_saturating", "gan_generator_nonsaturating"
MINIMAX = {f"{PREFIX}_generators": [SATURATING, NON_SATURATING]}
ON_D = {**MINIMAX, f"{PREFIX}_axis": "probability"}
ALL = {f"{PREFIX}_generators": list(gs.GENERATOR_LOSSES)}
CONSTANT_CHOICES = (SATURATING, NON_SATURATING, "lsgan_generator", "wasserstein_generator")
BAD_FAKE = -4.0
"""A discriminator output for fakes it rejects easily (D = σ(−4) ≈ 0.018)."""
SHADE_END = -4.0
SMALL_D = 0.02


def axis(state: lb.Query) -> str:
    return lb.text(state, f"{PREFIX}_axis", "logit")


def half_width(state: lb.Query) -> float:
    return lb.number(state, f"{PREFIX}_range", gs.LOGIT_RANGE)


def threshold(state: lb.Query) -> float:
    return lb.number(state, f"{PREFIX}_vanish", gs.VANISH)


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


def constant_pull(state: lb.Query) -> str:
    """The loss among :data:`CONSTANT_CHOICES` whose ∂L/∂a varies least over the chart."""
    return min(CONSTANT_CHOICES, key=lambda n: spread(state, n))


def shade_ends_below(value: float, state: lb.Query) -> lb.Measured:
    """Where the shading ends: log(ε / (1 − ε)), which the chart draws while it lies within ±range."""
    end = gs.saturating_vanishing_bound(threshold(state))
    off_chart = " (left of the chart: widen the range of a to see it)" if end < -half_width(state) else ""
    return lb.Measured(end < SHADE_END, f"the shading ends at a = {lb.fmt(end)}{off_chart}")


LESSON = lb.Lesson(
    id="gan-saturation",
    title="GAN generator saturation",
    summary="Why the original minimax generator loss stalls at the start of training, and what −log D fixes.",
    steps=(
        lb.Step(
            "Where the gradient vanishes",
            PAGE,
            "Generative: the saturating and non-saturating generator losses",
            MINIMAX,
            "The discriminator ends in one number a; D = σ(a) is its probability that a sample is real. A fresh "
            "generator's fakes are easy to reject: a is very negative. The shading marks where the saturating "
            "loss log(1 − D) gives the generator a gradient smaller than ε.",
            lb.NumberQuestion(
                "Below which discriminator output a is the saturating loss's gradient smaller than ε (the shading)?",
                shaded_end,
                tolerance=0.05,
                hint="Read the right edge of the shaded band; the sentence under the chart gives it exactly.",
                explain="log(ε / (1 − ε)): exactly where a generator starts.",
            ),
        ),
        lb.Step(
            "A stricter ε",
            PAGE,
            "Generative: the saturating and non-saturating generator losses",
            MINIMAX,
            "ε is only a reading aid: the gradient σ(a) shrinks smoothly. Move the threshold ε (right of the loss "
            "picker) and watch the shading.",
            lb.SettingQuestion(
                f"Lower ε until the shading ends below a = {SHADE_END:g}. Which ε did you set?",
                f"{PREFIX}_vanish",
                gs.VANISH,
                shade_ends_below,
                hint="The shading ends at a = log(ε / (1 − ε)): a smaller ε moves it left.",
                explain="A tenfold smaller ε moves the edge by about log 10 ≈ 2.3 to the left: the gradient decays "
                "like e^a.",
            ),
        ),
        lb.Step(
            "The non-saturating pull",
            PAGE,
            "Generative: the saturating and non-saturating generator losses",
            MINIMAX,
            "Goodfellow et al. train the generator with −log D instead. Compare the two gradient curves at a badly "
            f"rejected fake, a = {BAD_FAKE:g}.",
            lb.NumberQuestion(
                f"What is the non-saturating loss's gradient ∂L/∂a at a = {BAD_FAKE:g}?",
                lambda s: grad_logit(s, NON_SATURATING, BAD_FAKE),
                tolerance=0.005,
                hint=f"Hover the non-saturating curve of the gradient panel at a = {BAD_FAKE:g}; it is −(1 − D).",
                explain="Almost −1: the strongest pull exactly where the fakes are worst.",
            ),
        ),
        lb.Step(
            "The saturating pull",
            PAGE,
            "Generative: the saturating and non-saturating generator losses",
            MINIMAX,
            f"And the original minimax loss at the same a = {BAD_FAKE:g}.",
            lb.NumberQuestion(
                f"What is the saturating loss's gradient ∂L/∂a at a = {BAD_FAKE:g}?",
                lambda s: grad_logit(s, SATURATING, BAD_FAKE),
                tolerance=0.002,
                hint=f"Hover the saturating curve of the gradient panel at a = {BAD_FAKE:g}; it is −D = −σ(a).",
                explain=lambda s: (
                    f"About {lb.fmt(grad_logit(s, NON_SATURATING, BAD_FAKE) / grad_logit(s, SATURATING, BAD_FAKE))} "
                    "times weaker than the non-saturating pull: both losses have the same fixed point, but only one "
                    "gets the generator moving."
                ),
            ),
        ),
        lb.Step(
            "It is the sigmoid",
            PAGE,
            "Generative: the same losses against D",
            ON_D,
            "On the D axis the saturating loss log(1 − D) does not look flat at all near D = 0. What vanishes is "
            "the gradient that flows back through the sigmoid, ∂L/∂a = ∂L/∂D · D(1 − D) (dotted).",
            lb.NumberQuestion(
                f"What is the saturating loss's slope ∂L/∂D at D = {SMALL_D:g}?",
                lambda s: slope_on_d(s, SATURATING, SMALL_D),
                tolerance=0.01,
                hint=f"Hover the solid saturating curve of the gradient panel at D = {SMALL_D:g}; it is −1/(1 − D).",
                explain="About −1: not small. The factor D(1 − D) of the sigmoid is what kills the gradient.",
            ),
        ),
        lb.Step(
            "A constant pull",
            PAGE,
            "Generative: all five generator losses",
            ALL,
            "LSGAN, WGAN and hinge GAN use the score a directly, without a sigmoid. Compare the shapes of their "
            "gradient curves.",
            lb.ChoiceQuestion(
                "Which of these generator losses pulls with the same force at every a?",
                CONSTANT_CHOICES,
                constant_pull,
                hint=lambda picked, s: (
                    f"{picked}'s gradient varies by {lb.fmt(spread(s, picked))} over the chart. Look "
                    "for a horizontal gradient curve."
                ),
                explain=lambda s: (
                    f"{constant_pull(s)} has ∂L/∂a = {lb.fmt(grad_logit(s, constant_pull(s), 0.0))} at every "
                    "a: it never saturates, but it never settles either — the critic must be kept Lipschitz."
                ),
            ),
        ),
    ),
)
