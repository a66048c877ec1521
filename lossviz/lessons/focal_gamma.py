"""Lesson: tuning focal γ on imbalanced data (the Focal γ page).

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

PAGE = "pages/focal.py"
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
TARGET_RATIO = 1000.0
EASY_LIMIT = 0.10
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


def _recall_words(state: lb.Query) -> str:
    return ", ".join(f"{name} {lb.fmt(r)}" for name, r in recalls(state).items())


LESSON = lb.Lesson(
    id="focal",
    title="Tuning focal γ on imbalanced data",
    summary="How (1 − p_t)^γ silences easy examples, and what that does to a model on rare positives.",
    steps=(
        lb.Step(
            "100 times less",
            PAGE,
            "Focal γ: γ = 2",
            LIN,
            "Focal loss multiplies cross-entropy by (1 − p_t)^γ, where p_t is the probability the model gives the "
            "true class. The line under the chart says how many times less loss than cross-entropy an example "
            "gets at a few values of p_t; the modulating-factor panel shows (1 − p_t)^γ itself.",
            lb.NumberQuestion(
                f"At which p_t does γ = 2 give {RATIO:g} times less loss than cross-entropy?",
                p_t_for_ratio,
                tolerance=0.005,
                hint=f"CE/FL = 1/(1 − p_t)^γ: find the p_t where the modulating factor is 1/{RATIO:g}; the line "
                "under the chart lists the ratio at a few p_t.",
                explain="Lin et al. (§3.2) quote the same: an example with p_t = 0.9 gets 100× less loss.",
            ),
        ),
        lb.Step(
            "Easy examples fall silent",
            PAGE,
            "Focal γ: γ = 2",
            LIN,
            "An example the model already classifies with p_t near 1 is what floods a detector by the hundred "
            "thousand: background boxes. Read the same line under the chart further right.",
            lb.NumberQuestion(
                f"At γ = 2, how many times less loss does an example with p_t = {EASY_PT:g} get?",
                lambda s: ratio_at(EASY_PT, gamma(s)),
                tolerance=0.02,
                relative=True,
                hint="The line under the chart quotes CE/FL at p_t = 0.968 for the current γ.",
                explain="About a thousand times less: such examples barely count any more.",
            ),
        ),
        lb.Step(
            "Stronger focusing",
            PAGE,
            "Focal γ: γ = 2",
            LIN,
            "γ sets how hard the easy examples are muted. Move the γ slider and watch the ratio at p_t = 0.9 in "
            "the line under the chart.",
            lb.SettingQuestion(
                f"Raise γ until an example with p_t = 0.9 gets at least {TARGET_RATIO:g} times less loss than "
                "cross-entropy. Which γ did you set?",
                GAMMA_KEY,
                GAMMA,
                lambda g, s: lb.Measured(
                    ratio_at(0.9, g) >= TARGET_RATIO * (1 - 1e-9), f"CE/FL at p_t = 0.9 is {lb.fmt(ratio_at(0.9, g))}"
                ),
                hint="At p_t = 0.9 the ratio is 10^γ: each step of 1 in γ multiplies it by ten.",
            ),
        ),
        lb.Step(
            "Who carries the loss",
            PAGE,
            "Focal γ: 1:100 imbalance, γ = 0",
            IMBALANCED,
            "Scroll to the imbalanced set: a rare class against a hundred times more common points. The last "
            "chart shows how much of the total loss comes from well-classified examples (p_t > 0.6, scored by "
            "the cross-entropy model) as γ varies; its marker sits at the γ of the slider.",
            lb.NumberQuestion(
                "With γ = 0 — cross-entropy weighted by α — what share of the total loss comes from the "
                "well-classified examples (in %)?",
                lambda s: 100 * easy_share(s, gamma(s)),
                tolerance=1.0,
                unit=" %",
                hint="Read the curve of the last chart at γ = 0; the caption under it quotes the number too.",
                explain="Examples that are already right carry a large part of the loss, and so of the gradient.",
            ),
        ),
        lb.Step(
            "Silencing them",
            PAGE,
            "Focal γ: 1:100 imbalance, γ = 0",
            IMBALANCED,
            "Now raise γ with the slider at the top of the page and watch the marker of the share chart.",
            lb.SettingQuestion(
                f"Raise γ until the well-classified examples carry less than {100 * EASY_LIMIT:g} % of the loss. "
                "Which γ did you set?",
                GAMMA_KEY,
                GAMMA,
                easy_share_below,
                hint="The share falls as γ grows: read the curve of the last chart where it crosses "
                f"{100 * EASY_LIMIT:g} %.",
                explain="The loss — and the gradient — now comes from the hard examples.",
            ),
        ),
        lb.Step(
            "What it does to the model",
            PAGE,
            f"Focal γ: 1:100 imbalance, γ = 2, α = {ALPHA.default:g}",
            TRAINED,
            "Two logistic models are trained on the same set: one with cross-entropy, one with focal loss at the "
            f"page's γ and α (RetinaNet's {ALPHA.default:g}). The table lists each model's minority recall on a "
            "test set.",
            lb.ChoiceQuestion(
                "Which model finds more of the rare class (the higher minority recall at p = 0.5)?",
                MODELS,
                better_recall,
                hint=lambda picked, s: (
                    f"The {picked} model's minority recall is {lb.fmt(recalls(s)[picked])}: compare the "
                    "column 'minority recall (p > 0.5)' of the table."
                ),
                explain=lambda s: (
                    f"Minority recall: {_recall_words(s)}. α weights the classes as well as γ mutes the "
                    f"easy examples: α = {alpha(s):g} weights the rare positives by α and the common negatives by 1 − α."
                ),
            ),
        ),
    ),
)
