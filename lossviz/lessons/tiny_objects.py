"""Lesson: overlap losses on tiny objects (the Segmentation page).

Every answer comes from :mod:`lossviz.studies.segmentation` — :func:`~lossviz.studies.segmentation.true_mask`,
:func:`~lossviz.studies.segmentation.evaluate_all` (the numbers above the masks) and
:func:`~lossviz.studies.segmentation.sweep` (the sweep chart) — on the masks the link's values describe.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lossviz.lessons import base as lb
from lossviz.studies import segmentation as ss

PAGE = "pages/segmentation.py"
PREFIX = "segmentation"
TINY = {f"{PREFIX}_shape": "tiny object", f"{PREFIX}_sweep": "shift"}
EMPTY = {f"{PREFIX}_shape": "empty"}
DICE_LIMIT = 0.8
FAR_SHIFT = 12.0
"""A shift at which the prediction has slid well off the tiny object."""
SLOPE_LOSSES = ("dice", "jaccard", "tversky", "bce")


def shape(state: lb.Query) -> str:
    return lb.text(state, f"{PREFIX}_shape", ss.DEFAULT_SHAPE)


def prediction(state: lb.Query) -> ss.Prediction:
    return ss.Prediction(**{name: lb.number(state, f"{PREFIX}_{name}", p) for name, p in ss.PREDICTION_PARAMS.items()})


def settings(state: lb.Query) -> ss.LossSettings:
    return ss.LossSettings(
        smooth=lb.number(state, f"{PREFIX}_smooth", ss.SMOOTH),
        alpha=lb.number(state, f"{PREFIX}_alpha", ss.ALPHA),
        beta=lb.number(state, f"{PREFIX}_beta", ss.BETA),
    )


def loss_value(state: lb.Query, loss: str) -> float:
    """A loss of the current masks, as the numbers above the masks show it."""
    results, _ = ss.evaluate_all(
        ss.predicted_mask(shape(state), prediction(state)), ss.true_mask(shape(state)), settings(state)
    )
    return float(results[loss].value)


def shift_sweep(state: lb.Query) -> ss.Sweep:
    return _shift_sweep(shape(state), prediction(state), settings(state))


@lru_cache(maxsize=8)
def _shift_sweep(shape_: str, prediction_: ss.Prediction, settings_: ss.LossSettings) -> ss.Sweep:
    return ss.sweep(shape_, prediction_, settings_, "shift")


def relative_slope(state: lb.Query, loss: str, at: float = FAR_SHIFT) -> float:
    """|L(Δx + 1) − L(Δx − 1)| over the loss's range on the sweep: how much the curve still tilts at Δx."""
    sweep = shift_sweep(state)
    values = sweep.losses[loss]
    i = int(np.flatnonzero(sweep.values == at)[0])
    return float(abs(values[i + 1] - values[i - 1]) / (np.nanmax(values) - np.nanmin(values)))


def mass(state: lb.Query) -> float:
    """Σp, the prediction's soft mass."""
    return float(ss.predicted_mask(shape(state), prediction(state)).sum())


def still_tilting(state: lb.Query) -> str:
    return max(SLOPE_LOSSES, key=lambda n: relative_slope(state, n))


def dice_below(value: float, state: lb.Query) -> lb.Measured:
    dice = loss_value(state, "dice")
    return lb.Measured(dice < DICE_LIMIT, f"the Dice loss is {dice:.4f}")


LESSON = lb.Lesson(
    id="tiny-objects",
    title="Overlap losses on tiny objects",
    summary="Dice, Jaccard and Tversky against BCE when the object is a few pixels: what counts and what pulls.",
    steps=(
        lb.Step(
            "A few pixels",
            PAGE,
            "Segmentation: the tiny object",
            TINY,
            f"The true mask is a {ss.SIZE} × {ss.SIZE} image with a tiny object in the middle; the prediction is "
            "the same object shifted, blurred, and a false-positive blob in the upper left. The line beside the "
            "masks counts the true pixels Σg and the prediction's soft mass Σp.",
            lb.NumberQuestion(
                "How many true pixels Σg does the tiny object have?",
                lambda s: float(ss.true_mask(shape(s)).sum()),
                tolerance=0.5,
                hint="Read Σg in the sentence beside the masks.",
                explain="A handful of pixels: every one of them moves an overlap score a lot.",
            ),
        ),
        lb.Step(
            "The blob outweighs the object",
            PAGE,
            "Segmentation: the tiny object",
            TINY,
            "Dice loss = 1 − (2Σpg + s)/(Σp + Σg + s) scores the whole image at once. Here the false-positive blob "
            "holds more predicted mass than the object itself.",
            lb.NumberQuestion(
                "What is the Dice loss of this prediction?",
                lambda s: loss_value(s, "dice"),
                tolerance=0.001,
                hint="It is the first of the five numbers above the masks.",
                explain="High, although the object is found: the blob's mass sits in the denominator Σp.",
            ),
        ),
        lb.Step(
            "Removing the false alarm",
            PAGE,
            "Segmentation: the tiny object",
            TINY,
            "Lower the blob height b under *Predicted mask* and watch the Dice loss and BCE above the masks.",
            lb.SettingQuestion(
                f"Lower b until the Dice loss drops below {DICE_LIMIT:g}. Which b did you set?",
                f"{PREFIX}_blob",
                ss.BLOB,
                dice_below,
                hint="The blob's mass adds to Σp: the lower b, the smaller the denominator of Dice.",
                explain="On a tiny object a false alarm elsewhere in the image costs as much as missing the object.",
            ),
        ),
        lb.Step(
            "Sliding off",
            PAGE,
            "Segmentation: the tiny object, sweeping the shift",
            TINY,
            "The sweep chart draws every loss against the shift Δx of the prediction. Follow the overlap losses "
            "(Dice, Jaccard, Tversky) to the right.",
            lb.NumberQuestion(
                "From which shift Δx (pixels) on do the overlap losses sit flat at their ceiling?",
                lambda s: ss.plateau_shift(shift_sweep(s)),
                tolerance=1.0,
                unit=" px",
                hint="Find where the Dice curve stops rising; the text under the chart quotes it for the tiny object.",
                explain="Beyond it the prediction no longer overlaps the object: no gradient says which way it lies.",
            ),
        ),
        lb.Step(
            "Which loss still points the way",
            PAGE,
            "Segmentation: the tiny object, sweeping the shift",
            TINY,
            f"At Δx = {FAR_SHIFT:g} the prediction has left the object. A loss whose curve still tilts there "
            "still tells the model which way to move.",
            lb.ChoiceQuestion(
                f"At Δx = {FAR_SHIFT:g}, which loss's curve still tilts clearly?",
                SLOPE_LOSSES,
                still_tilting,
                hint=lambda picked, s: (
                    f"Around Δx = {FAR_SHIFT:g}, {picked} changes by {100 * relative_slope(s, picked):.2g} % "
                    "of its range per two pixels. Look for a curve that still rises there."
                ),
                explain=lambda s: (
                    f"{still_tilting(s)} still changes by {100 * relative_slope(s, still_tilting(s)):.2g} % "
                    f"of its range per two pixels there, Dice by {100 * relative_slope(s, 'dice'):.2g} %: a per-pixel loss "
                    "keeps a slope as the soft edge leaves the missed pixels ever more confidently wrong."
                ),
            ),
        ),
        lb.Step(
            "An empty mask",
            PAGE,
            "Segmentation: an empty mask",
            EMPTY,
            "With nothing to find, TP = Σg = 0 and Dice loss = Σp/(Σp + s): without smooth s it would be 1 for any "
            "prediction, and 0/0 for an all-zero one. The smooth term decides the score.",
            lb.NumberQuestion(
                f"With the empty mask and s = {lb.number(EMPTY, f'{PREFIX}_smooth', ss.SMOOTH):g}, what is the Dice loss?",
                lambda s: loss_value(s, "dice"),
                tolerance=0.001,
                hint="It is the first number above the masks; the text at the bottom of the page derives it from Σp.",
                explain=lambda s: (
                    f"Σp = {lb.fmt(mass(s))} here, so Σp/(Σp + s) is close to 1: an empty image is "
                    "scored by how small s is against Σp."
                ),
            ),
        ),
    ),
)
