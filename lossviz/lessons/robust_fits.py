"""Lesson: MSE vs MAE vs Huber on outliers (the Outlier-sensitivity page).

Its words are in ``robust_fits.toml``; this module computes what they quote.

Every answer comes from :func:`lossviz.studies.outliers.fit_study` (the fitted lines, each point's pull and
its share) and :func:`lossviz.studies.outliers.robustness_curves` (the sensitivity curve), on the data
:func:`lossviz.studies.outliers.outlier_data` generates from the link's values, as the page does.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lossviz.lessons import base as lb
from lossviz.registry import spec
from lossviz.studies import outliers as rf
from lossviz.toolkit.data import SEED

PREFIX = "outliers"
ONE_FAR = {"outliers_losses": ["mse", "mae", "huber"], "outliers_count": "1", "outliers_size": "25"}
FIVE = {
    "outliers_losses": ["mse", "mae", "huber"],
    "outliers_count": "5",
    "outliers_size": "15",
    "outliers_huber_delta": "5",
}
BARRON = {"outliers_losses": ["mse", "huber", "barron"], "outliers_count": "5", "outliers_size": "15"}
REDESCENDING = {**BARRON, "outliers_barron_alpha": "-2"}
SENSITIVITY = {**REDESCENDING, "outliers_view": rf.VIEWS[1]}
"""The same, with the sensitivity curve's tab open under the chart."""
HUBER_LIMIT = 0.10
"""The outliers' share of Huber's pull that step 3 asks δ to get below."""
BARRON_LIMIT = 0.01
"""The outliers' share of Barron's pull that step 4 asks α to get below."""
HUBER_LIMIT_PERCENT = 100 * HUBER_LIMIT
BARRON_LIMIT_PERCENT = 100 * BARRON_LIMIT
TRUE_INTERCEPT, TRUE_SLOPE = rf.TRUE_LINE
HUBER_DELTA = spec("huber").param("delta")
BARRON_ALPHA = spec("barron").param("alpha")


def params(state: lb.Query, loss: str) -> tuple[tuple[str, float], ...]:
    return tuple((p.name, lb.number(state, f"{PREFIX}_{loss}_{p.name}", p)) for p in spec(loss).params)


def point_count(state: lb.Query) -> int:
    """How many clean points the page draws."""
    return int(lb.number(state, f"{PREFIX}_n", rf.N_POINTS))


def outlier_count(state: lb.Query) -> int:
    return int(lb.number(state, f"{PREFIX}_count", rf.N_OUTLIERS))


def outlier_size(state: lb.Query) -> float:
    """How far the outliers sit above the true line."""
    return lb.number(state, f"{PREFIX}_size", rf.OUTLIER_SIZE)


def outlier_position(state: lb.Query) -> float:
    """The x near which the outliers sit."""
    return lb.number(state, f"{PREFIX}_position", rf.OUTLIER_POSITION)


def huber_delta(state: lb.Query) -> float:
    return lb.number(state, f"{PREFIX}_huber_delta", HUBER_DELTA)


def data_key(state: lb.Query) -> tuple[int, float, int, float, float, int]:
    """The arguments of :func:`~lossviz.studies.outliers.outlier_data` that the page reads from the link."""
    return (
        point_count(state),
        lb.number(state, f"{PREFIX}_noise", rf.CLEAN_NOISE),
        outlier_count(state),
        outlier_size(state),
        outlier_position(state),
        int(lb.number(state, f"{PREFIX}_seed", SEED)),
    )


@lru_cache(maxsize=64)
def _fit(loss: str, loss_params: tuple, key: tuple) -> rf.FitStudy:
    return rf.fit_study(loss, dict(loss_params), rf.outlier_data(*key))


def fit(state: lb.Query, loss: str) -> rf.FitStudy:
    return _fit(loss, params(state, loss), data_key(state))


def slope(state: lb.Query, loss: str) -> float:
    """The slope of the line the loss fits."""
    return float(fit(state, loss).fit.coef[1])


def slope_error(state: lb.Query, loss: str) -> float:
    return abs(slope(state, loss) - TRUE_SLOPE)


def outlier_share(state: lb.Query, loss: str) -> float:
    """The outliers' share of the loss's total pull Σ|ψ(rᵢ)|, as the pull chart shows it."""
    outliers = rf.outlier_data(*data_key(state)).status == 1
    return float(fit(state, loss).share[outliers].sum())


def mse_outlier_share(state: lb.Query) -> float:
    """The outliers' share of MSE's total pull, in per cent."""
    return 100 * outlier_share(state, "mse")


def most_tilted(state: lb.Query) -> str:
    return max(lb.names(state, f"{PREFIX}_losses", ()), key=lambda n: slope_error(state, n))


def slopes(state: lb.Query) -> str:
    return ", ".join(f"{n} {lb.fmt(slope(state, n))}" for n in lb.names(state, f"{PREFIX}_losses", ()))


def picked_slope(state: lb.Query, picked: str) -> str:
    return lb.fmt(slope(state, picked))


def share_below(state: lb.Query, loss: str, limit: float) -> lb.Measured:
    """Whether the outliers hold less than ``limit`` of the loss's total pull."""
    share = outlier_share(state, loss)
    return lb.Measured(share < limit, f"the outliers hold {100 * share:.1f} % of {loss}'s total pull")


def huber_share_below(value: float, state: lb.Query) -> lb.Measured:
    return share_below(state, "huber", HUBER_LIMIT)


def barron_share_below(value: float, state: lb.Query) -> lb.Measured:
    return share_below(state, "barron", BARRON_LIMIT)


@lru_cache(maxsize=16)
def _sensitivity(loss: str, loss_params: tuple, key: tuple, sweep: float, what: str) -> rf.Sensitivity:
    n, noise, _count, size, position, seed = key
    sens, _ = rf.robustness_curves(loss, dict(loss_params), n, noise, seed, size, position, sweep, what)
    return sens


def sensitivity(state: lb.Query, loss: str) -> rf.Sensitivity:
    what = lb.text(state, f"{PREFIX}_estimate", "slope")
    return _sensitivity(
        loss, params(state, loss), data_key(state), lb.number(state, f"{PREFIX}_sweep", rf.SWEEP_RANGE), what
    )


def far_influence(state: lb.Query, loss: str) -> float:
    """|SC| at the ends of the sweep (the extra point R away) over its largest |SC|: 0 for a redescending loss."""
    curve = np.abs(sensitivity(state, loss).curve)
    return float(max(curve[0], curve[-1]) / curve.max())


def least_far_influence(state: lb.Query) -> str:
    return min(lb.names(state, f"{PREFIX}_losses", ()), key=lambda n: far_influence(state, n))


def _sc_words(state: lb.Query, loss: str) -> str:
    curve = sensitivity(state, loss).curve
    return (
        f"{loss}'s curve ends at {lb.fmt(float(curve[-1]))} with its largest |SC| {lb.fmt(float(np.abs(curve).max()))}"
    )


def picked_sc(state: lb.Query, picked: str) -> str:
    """The end and the largest |SC| of the picked loss's sensitivity curve, in words."""
    return _sc_words(state, picked)


def barron_sc(state: lb.Query) -> str:
    """The end and the largest |SC| of Barron's sensitivity curve, in words."""
    return _sc_words(state, "barron")


LESSON = lb.load(__name__)
