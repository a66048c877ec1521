"""Lesson: tuning focal γ on imbalanced data (the Focal γ page).

Its words are in ``focal_gamma.toml``; this module computes what they quote.

Every answer comes from :mod:`lossviz.studies.focal` — :func:`~lossviz.studies.focal.ce_to_focal_ratio` (the
"how much less loss" line), :func:`~lossviz.studies.focal.well_classified_share` (the share chart) and
:func:`~lossviz.studies.focal.train_logistic` with :func:`~lossviz.studies.focal.minority_scores` (the table) —
on the blobs :func:`lossviz.toolkit.data.imbalanced_blobs` draws from the link's values, as the page does.
"""

from __future__ import annotations

from functools import lru_cache

from scipy.optimize import brentq

from lossviz.lessons import base as lb
from lossviz.registry import spec
from lossviz.studies import focal as fs
from lossviz.toolkit import data as td

PREFIX = "focal"
GAMMA_KEY = f"{PREFIX}_focal_gamma"
GAMMA = spec("focal").param("gamma")
ALPHA = spec("focal").param("alpha")
LIN = {GAMMA_KEY: "2"}
IMBALANCED = {f"{PREFIX}_ratio": "100", GAMMA_KEY: "0"}
TRAINED = {f"{PREFIX}_ratio": "100", GAMMA_KEY: "2"}
RATIO = 100.0
"""The loss ratio CE/FL of Lin et al.'s example (§3.2)."""
EASY_PT = 0.968
"""The p_t of an easy example: at γ = 2 it gets about a thousand times less loss."""
TARGET_RATIO = 1000.0
"""The CE/FL at p_t = 0.9 that step 3 asks γ to reach."""
EASY_LIMIT = 0.10
"""The share of the loss that step 5 asks γ to leave the well-classified examples."""
EASY_LIMIT_PERCENT = 100 * EASY_LIMIT
RETINANET_ALPHA = ALPHA.default
MODELS = ("cross-entropy", "focal")


def gamma(state: lb.Query) -> float:
    return lb.number(state, GAMMA_KEY, GAMMA)


def alpha(state: lb.Query) -> float:
    """α as the page uses it: the slider's value, or −1 (no class weighting) with the toggle off."""
    weighted = lb.text(state, f"{PREFIX}_weighting", "true").lower() == "true"
    return lb.number(state, f"{PREFIX}_focal_alpha", ALPHA) if weighted else -1.0


def ratio_at(p_t: float, g: float) -> float:
    return float(fs.ce_to_focal_ratio(p_t, g)[0])


def p_t_for_ratio(state: lb.Query) -> float:
    """The p_t at which CE/FL reaches :data:`RATIO` at the link's γ (CE/FL grows with p_t)."""
    g = gamma(state)
    return float(brentq(lambda p: ratio_at(p, g) - RATIO, 0.5, 1 - 1e-9, xtol=1e-12))


def easy_ratio(state: lb.Query) -> float:
    """CE/FL at p_t = :data:`EASY_PT` at the link's γ."""
    return ratio_at(EASY_PT, gamma(state))


def target_ratio_reached(value: float, state: lb.Query) -> lb.Measured:
    """Whether γ = ``value`` gives an example with p_t = 0.9 at least :data:`TARGET_RATIO` times less loss."""
    ratio = ratio_at(0.9, value)
    return lb.Measured(ratio >= TARGET_RATIO * (1 - 1e-9), f"CE/FL at p_t = 0.9 is {lb.fmt(ratio)}")


def blobs_key(state: lb.Query) -> tuple[float, float, int]:
    return (
        lb.number(state, f"{PREFIX}_ratio", td.BLOBS_RATIO),
        lb.number(state, f"{PREFIX}_separation", td.BLOBS_SEPARATION),
        int(lb.number(state, f"{PREFIX}_seed", td.SEED)),
    )


@lru_cache(maxsize=32)
def _model(loss: str, params: tuple, key: tuple[float, float, int]) -> fs.Logistic:
    return fs.train_logistic(loss, td.imbalanced_blobs(*key), dict(params))


def easy_share(state: lb.Query, g: float) -> float:
    """The share of the focal loss (at γ = g and the page's α) from examples the CE model gets right with
    p_t > 0.6, as the page's share chart plots it."""
    key = blobs_key(state)
    data = td.imbalanced_blobs(*key)
    logits = _model("bce_logits", (), key).logits(data.x)
    return float(fs.well_classified_share(logits, data.y, [g], alpha(state))[0])


def easy_share_percent(state: lb.Query) -> float:
    """The well-classified examples' share of the loss at the link's γ, in per cent."""
    return 100 * easy_share(state, gamma(state))


def easy_share_below(value: float, state: lb.Query) -> lb.Measured:
    share = easy_share(state, value)
    return lb.Measured(share < EASY_LIMIT, f"the well-classified examples carry {100 * share:.1f} % of the loss")


def recalls(state: lb.Query) -> dict[str, float]:
    """Minority recall at p = 0.5 on the test set (the next seed) of the CE and the focal model."""
    key = blobs_key(state)
    test = td.imbalanced_blobs(key[0], key[1], key[2] + 1)
    models = {
        "cross-entropy": _model("bce_logits", (), key),
        "focal": _model("focal", (("alpha", alpha(state)), ("gamma", gamma(state))), key),
    }
    return {name: fs.minority_scores(m.logits(test.x), test.y).recall for name, m in models.items()}


def better_recall(state: lb.Query) -> str:
    found = recalls(state)
    return max(MODELS, key=lambda name: found[name])


def recall_words(state: lb.Query) -> str:
    return ", ".join(f"{name} {lb.fmt(r)}" for name, r in recalls(state).items())


def picked_recall(state: lb.Query, picked: str) -> str:
    return lb.fmt(recalls(state)[picked])


LESSON = lb.load(__name__)
