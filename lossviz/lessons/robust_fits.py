"""Lesson: MSE vs MAE vs Huber on outliers (the Outlier-sensitivity page).

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

PAGE = "pages/outliers.py"
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
HUBER_LIMIT = 0.10
BARRON_LIMIT = 0.01


def params(state: lb.Query, loss: str) -> tuple[tuple[str, float], ...]:
    return tuple((p.name, lb.number(state, f"{PREFIX}_{loss}_{p.name}", p)) for p in spec(loss).params)


def data_key(state: lb.Query) -> tuple[int, float, int, float, float, int]:
    """The arguments of :func:`~lossviz.studies.outliers.outlier_data` that the page reads from the link."""
    return (
        int(lb.number(state, f"{PREFIX}_n", rf.N_POINTS)),
        lb.number(state, f"{PREFIX}_noise", rf.CLEAN_NOISE),
        int(lb.number(state, f"{PREFIX}_count", rf.N_OUTLIERS)),
        lb.number(state, f"{PREFIX}_size", rf.OUTLIER_SIZE),
        lb.number(state, f"{PREFIX}_position", rf.OUTLIER_POSITION),
        int(lb.number(state, f"{PREFIX}_seed", SEED)),
    )


@lru_cache(maxsize=64)
def _fit(loss: str, loss_params: tuple, key: tuple) -> rf.FitStudy:
    return rf.fit_study(loss, dict(loss_params), rf.outlier_data(*key))


def fit(state: lb.Query, loss: str) -> rf.FitStudy:
    return _fit(loss, params(state, loss), data_key(state))


def slope_error(state: lb.Query, loss: str) -> float:
    return abs(float(fit(state, loss).fit.coef[1]) - rf.TRUE_LINE[1])


def outlier_share(state: lb.Query, loss: str) -> float:
    """The outliers' share of the loss's total pull Σ|ψ(rᵢ)|, as the pull chart shows it."""
    outliers = rf.outlier_data(*data_key(state)).status == 1
    return float(fit(state, loss).share[outliers].sum())


def most_tilted(state: lb.Query) -> str:
    return max(lb.names(state, f"{PREFIX}_losses", ()), key=lambda n: slope_error(state, n))


def slopes(state: lb.Query) -> str:
    return ", ".join(f"{n} {lb.fmt(float(fit(state, n).fit.coef[1]))}" for n in lb.names(state, f"{PREFIX}_losses", ()))


def share_below(loss: str, limit: float):
    def measure(value: float, state: lb.Query) -> lb.Measured:
        share = outlier_share(state, loss)
        return lb.Measured(share < limit, f"the outliers hold {100 * share:.1f} % of {loss}'s total pull")

    return measure


@lru_cache(maxsize=16)
def _sensitivity(loss: str, loss_params: tuple, key: tuple, sweep: float, what: str) -> rf.Sensitivity:
    n, noise, _count, size, position, seed = key
    clean = rf.outlier_data(n, noise, 0, size, position, seed)
    sens, _ = rf.robustness_curves(
        loss, dict(loss_params), clean.clean_x, clean.clean_y, size, position, sweep, seed, what
    )
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


LESSON = lb.Lesson(
    id="outliers",
    title="MSE vs MAE vs Huber on outliers",
    summary="How far one bad point moves a fit, and how bounded and redescending pulls stop it.",
    steps=(
        lb.Step(
            "One far point",
            PAGE,
            "Outliers: one point 25 above the line",
            ONE_FAR,
            f"{rf.N_POINTS.default} points scatter around the true line y = {rf.TRUE_LINE[0]:g} + "
            f"{rf.TRUE_LINE[1]:g}x, and one of them sits {ONE_FAR['outliers_size']} above it. Each loss fits its "
            "own line; the table beside the chart lists their intercepts and slopes.",
            lb.ChoiceQuestion(
                f"Which loss's line tilts furthest from the true slope {rf.TRUE_LINE[1]:g}?",
                ("mse", "mae", "huber"),
                most_tilted,
                hint=lambda picked, s: (
                    f"{picked}'s slope is {lb.fmt(float(fit(s, picked).fit.coef[1]))}. Compare the "
                    "slope b column of the table with the true slope."
                ),
                explain=lambda s: f"Slopes: {slopes(s)}. One point is enough to tilt the least-squares line.",
            ),
        ),
        lb.Step(
            "Who holds the pull",
            PAGE,
            "Outliers: one point 25 above the line",
            ONE_FAR,
            "At its fitted line each point pulls with |ψ(rᵢ)| = |ρ′(rᵢ)|. The bar chart under the fits shows "
            "what share of each loss's total pull the outliers hold; colouring the points by a loss's pull shows "
            "the same point by point.",
            lb.NumberQuestion(
                "What share of MSE's total pull does the one outlier hold (in %)?",
                lambda s: 100 * outlier_share(s, "mse"),
                tolerance=1.0,
                unit=" %",
                hint="Read the MSE bar of the chart 'share of the total pull', or hover the outlier with the points "
                "coloured by the pull of mse.",
                explain=f"One point in {rf.N_POINTS.default} holds that much because its residual is far larger "
                "than the others' and MSE's pull grows with the residual.",
            ),
        ),
        lb.Step(
            "Huber caps the pull",
            PAGE,
            "Outliers: five outliers, Huber with δ = 5",
            FIVE,
            f"{FIVE['outliers_count']} points now sit {FIVE['outliers_size']} above the line, near x = "
            f"{rf.OUTLIER_POSITION.default:g}. With δ = {FIVE['outliers_huber_delta']} Huber treats them almost like "
            "MSE does. Open *Loss parameters* and move Huber's δ, watching Huber's bar in the pull chart.",
            lb.SettingQuestion(
                f"Lower δ until the outliers hold less than {100 * HUBER_LIMIT:g} % of Huber's total pull. "
                "Which δ did you settle on?",
                f"{PREFIX}_huber_delta",
                spec("huber").param("delta"),
                share_below("huber", HUBER_LIMIT),
                hint="Beyond δ an outlier pulls with force δ only, while the clean points pull with their small "
                "residuals: a smaller δ takes pull away from the outliers.",
                explain="Huber's pull is bounded by δ: however far the outliers, they cannot pull harder.",
            ),
        ),
        lb.Step(
            "Bounded is not zero",
            PAGE,
            "Outliers: five outliers, MSE, Huber and Barron",
            BARRON,
            "A bounded pull still pulls. Barron's loss with α < 1 has a redescending pull: it falls back towards 0 "
            "for far points. Move Barron's α under *Loss parameters* and watch its bar in the pull chart.",
            lb.SettingQuestion(
                f"Lower Barron's α until the outliers hold less than {100 * BARRON_LIMIT:g} % of its total pull. "
                "Which α did you settle on?",
                f"{PREFIX}_barron_alpha",
                spec("barron").param("alpha"),
                share_below("barron", BARRON_LIMIT),
                hint="α = 2 is MSE, α = 1 a smooth L1; the lower α, the faster the pull of a far point fades.",
                explain="With a redescending pull the outliers are all but ignored: the line follows the clean points.",
            ),
        ),
        lb.Step(
            "The sensitivity curve",
            PAGE,
            "Outliers: Barron with α = −2 beside MSE and Huber",
            REDESCENDING,
            "Scroll to the sensitivity curve: one extra point moves from far below the line to far above it, and "
            "the curve shows how much it moves the slope. Compare the three curves at the ends of the sweep.",
            lb.ChoiceQuestion(
                "Which loss's sensitivity curve comes back to 0 when the extra point is far away?",
                ("mse", "huber", "barron"),
                least_far_influence,
                hint=lambda picked, s: (
                    f"{_sc_words(s, picked)}. Look for the curve that returns towards 0 at both ends of the sweep."
                ),
                explain=lambda s: (
                    f"{_sc_words(s, 'barron')}: a far point has no influence at all; MSE's influence "
                    "grows without bound, Huber's levels off."
                ),
            ),
        ),
    ),
)
