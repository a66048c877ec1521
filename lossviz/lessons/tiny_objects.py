"""Lesson: overlap losses on tiny objects (the Segmentation page).

Every answer comes from :mod:`lossviz.studies.segmentation` — :func:`~lossviz.studies.segmentation.true_mask`,
:func:`~lossviz.studies.segmentation.evaluate_all` (the numbers above the masks) and
:func:`~lossviz.studies.segmentation.sweep` (the sweep chart) — on the masks the link's values describe.

Its words are in ``tiny_objects.toml``; this module computes what they quote.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lossviz.lessons import base as lb
from lossviz.studies import segmentation as ss

PREFIX = "segmentation"
TINY = {f"{PREFIX}_shape": "tiny object", f"{PREFIX}_sweep": "shift"}
EMPTY = {f"{PREFIX}_shape": "empty"}
DICE_LIMIT = 0.8
FAR_SHIFT = 12.0
"""A shift at which the prediction has slid well off the tiny object."""
SLOPE_LOSSES = ("dice", "jaccard", "tversky", "bce")
"""The options of step 5, the losses whose tilt at :data:`FAR_SHIFT` it compares."""
SIZE = ss.SIZE
"""The masks' side in pixels."""
BLOB = ss.BLOB


def shape(state: lb.Query) -> str:
    return lb.text(state, f"{PREFIX}_shape", ss.DEFAULT_SHAPE)


def prediction(state: lb.Query) -> ss.Prediction:
    return ss.Prediction(**{name: lb.number(state, f"{PREFIX}_{name}", p) for name, p in ss.PREDICTION_PARAMS.items()})


def smooth(state: lb.Query) -> float:
    """The Dice/Jaccard smooth term s."""
    return lb.number(state, f"{PREFIX}_smooth", ss.SMOOTH)


def settings(state: lb.Query) -> ss.LossSettings:
    return ss.LossSettings(
        smooth=smooth(state),
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


def still_tilting(state: lb.Query) -> str:
    return max(SLOPE_LOSSES, key=lambda n: relative_slope(state, n))


def dice_below(value: float, state: lb.Query) -> lb.Measured:
    dice = dice_loss(state)
    return lb.Measured(dice < DICE_LIMIT, f"the Dice loss is {dice:.4f}")


def true_pixels(state: lb.Query) -> float:
    """Σg, the true mask's pixel count."""
    return float(ss.true_mask(shape(state)).sum())


def mass_text(state: lb.Query) -> str:
    """Σp, the prediction's soft mass, as a message quotes it."""
    return lb.fmt(float(ss.predicted_mask(shape(state), prediction(state)).sum()))


def dice_loss(state: lb.Query) -> float:
    return loss_value(state, "dice")


def plateau(state: lb.Query) -> float:
    """The shift from which on the overlap losses sit flat on the sweep chart."""
    return ss.plateau_shift(shift_sweep(state))


def slope_percent(state: lb.Query, loss: str) -> float:
    """:func:`relative_slope` at :data:`FAR_SHIFT`, in per cent of the loss's range."""
    return 100 * relative_slope(state, loss)


def picked_slope(state: lb.Query, picked: str) -> float:
    return slope_percent(state, picked)


def tilting_slope(state: lb.Query) -> float:
    return slope_percent(state, still_tilting(state))


def dice_slope(state: lb.Query) -> float:
    return slope_percent(state, "dice")


LESSON = lb.load(__name__)
