"""Lesson: learning rates and optimisers (the Landscape page, its line-fit section).

Every answer comes from :mod:`lossviz.studies.landscape` — :func:`~lossviz.studies.landscape.descend` (the
gradient-descent and Adam paths, one run per learning rate of the control, as the page computes them),
:func:`~lossviz.studies.landscape.fit_minimum` and :func:`~lossviz.studies.landscape.critical_learning_rate`
— on the data :func:`lossviz.toolkit.data.line_with_outliers` draws from the link's values.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lossviz.lessons import base as lb
from lossviz.registry import spec
from lossviz.studies import landscape as ll
from lossviz.toolkit.data import LINE_DATA_PARAMS, line_with_outliers
from lossviz.toolkit.frames import log_ladder
from lossviz.toolkit.optim import Trajectory

PAGE = "pages/landscape.py"
PREFIX = "landscape_fit"
LR_KEY = f"{PREFIX}_lr"
MSE = {f"{PREFIX}_losses": ["mse"], LR_KEY: "0.1"}
MSE_FAST = {f"{PREFIX}_losses": ["mse"], LR_KEY: "1"}
MAE = {f"{PREFIX}_losses": ["mae"], LR_KEY: "0.1"}
RULES = {"gd": "gradient descent", "adam": "Adam"}


def data_key(state: lb.Query) -> tuple:
    return tuple(lb.number(state, f"{PREFIX}_{p.name}", p) for p in LINE_DATA_PARAMS)


def params(state: lb.Query, loss: str) -> tuple[tuple[str, float], ...]:
    return tuple((p.name, lb.number(state, f"{PREFIX}_{loss}_{p.name}", p)) for p in spec(loss).params)


def loss(state: lb.Query) -> str:
    """The first loss the link selects (each lesson step selects one)."""
    return lb.names(state, f"{PREFIX}_losses", ll.DEFAULT_FIT_LOSSES)[0]


def start(state: lb.Query) -> tuple[float, float]:
    return lb.number(state, f"{PREFIX}_w0", ll.W_START), lb.number(state, f"{PREFIX}_b0", ll.B_START)


RATES = tuple(log_ladder(ll.LEARNING_RATE))
"""The learning rates the page's control offers (it computes all of them at once)."""


@lru_cache(maxsize=16)
def _paths(name: str, loss_params: tuple, key: tuple, theta0: tuple[float, float], steps: int) -> dict[str, Trajectory]:
    data = line_with_outliers(*key)
    return ll.descend(name, data.x, data.y, dict(loss_params), theta0, RATES, steps)


def paths(state: lb.Query) -> dict[str, Trajectory]:
    name = loss(state)
    steps = int(lb.number(state, f"{PREFIX}_steps", ll.STEPS))
    return _paths(name, params(state, name), data_key(state), start(state), steps)


def run_index(state: lb.Query) -> int:
    lr = lb.number(state, LR_KEY, ll.LEARNING_RATE)
    return int(np.argmin([abs(r - lr) for r in RATES]))


def diverged(state: lb.Query, rule: str) -> bool:
    return bool(paths(state)[rule].stopped[run_index(state)] >= 0)


def critical_rate(state: lb.Query) -> float:
    """2/λ_max of MSE's bowl at its minimum, for the link's data."""
    data = line_with_outliers(*data_key(state))
    name = loss(state)
    minimum = ll.fit_minimum(name, data.x, data.y, dict(params(state, name)))
    return ll.critical_learning_rate(name, data.x, data.y, dict(params(state, name)), (minimum.w, minimum.b))


def diverges(value: float, state: lb.Query) -> lb.Measured:
    gone = diverged(state, "gd")
    return lb.Measured(gone, f"gradient descent {'diverges' if gone else 'converges'}")


def adam_first_step(state: lb.Query) -> float:
    path = paths(state)["adam"].path(run_index(state))
    return float(np.linalg.norm(path[1] - path[0]))


def final_loss(state: lb.Query, rule: str) -> float:
    """F at the last point of the path, as the convergence chart ends."""
    trajectory = paths(state)[rule]
    run = run_index(state)
    return float(trajectory.value[len(trajectory.path(run)) - 1, run])


def lower_end(state: lb.Query) -> str:
    return RULES[min(RULES, key=lambda rule: final_loss(state, rule))]


def _ends(state: lb.Query) -> str:
    return ", ".join(f"{label} F = {lb.fmt(final_loss(state, rule), 6)}" for rule, label in RULES.items())


LESSON = lb.Lesson(
    id="optimisers",
    title="Learning rates and optimisers",
    summary="How large a step gradient descent can take, and how Adam's steps differ, on a line fit's landscape.",
    steps=(
        lb.Step(
            "The largest stable step",
            PAGE,
            "Landscape: MSE's bowl, η = 0.1",
            MSE,
            "Scroll to the parameter landscape of a line fit: MSE's mean loss F(w, b) is a bowl. Gradient descent "
            "multiplies the distance to the minimum along each axis of the bowl by 1 − η·λ per step, where λ is "
            "the bowl's curvature along that axis: it converges only while η < 2/λ_max.",
            lb.NumberQuestion(
                "Below which learning rate η does gradient descent converge on this bowl (2/λ_max)?",
                critical_rate,
                tolerance=0.02,
                relative=True,
                hint="The caption under the landscape quotes λ_max and 2/λ_max for the current data.",
                explain="It depends on the data (through the spread of x), not on the start.",
            ),
        ),
        lb.Step(
            "Too large a step",
            PAGE,
            "Landscape: MSE's bowl, η = 0.1",
            MSE,
            "Raise the learning rate η and watch the gradient-descent path and the convergence chart; the page "
            "warns when a path diverges.",
            lb.SettingQuestion(
                "Raise η until gradient descent diverges. Which η did you set?",
                LR_KEY,
                ll.LEARNING_RATE,
                diverges,
                hint=lambda s: (
                    f"Gradient descent diverges above 2/λ_max = {lb.fmt(critical_rate(s))}: raise η past it."
                ),
                explain=lambda s: (
                    f"Every η above 2/λ_max = {lb.fmt(critical_rate(s))} makes each step overshoot the "
                    "minimum by more than it started from."
                ),
            ),
        ),
        lb.Step(
            "Adam at the same step",
            PAGE,
            "Landscape: MSE's bowl, η = 1",
            MSE_FAST,
            "At η = 1 gradient descent is gone. Adam takes the same η but divides each coordinate's step by the "
            "running size of its own gradient.",
            lb.ChoiceQuestion(
                "At η = 1, does Adam diverge too?",
                ("yes", "no"),
                lambda s: "yes" if diverged(s, "adam") else "no",
                hint="Look for Adam's path on the landscape and in the convergence chart, and read the warning "
                "above them: which paths does it name?",
                explain="Adam's steps are about η long whatever the gradient, so the curvature cannot blow them up — "
                "though with a constant η it does not settle exactly either.",
            ),
        ),
        lb.Step(
            "How long is an Adam step",
            PAGE,
            "Landscape: MSE's bowl, η = 0.1",
            MSE,
            "Hover the first two points of Adam's path on MSE's landscape: the start (w₀, b₀) and the point after "
            "one step.",
            lb.NumberQuestion(
                "How long is Adam's first step, ‖θ₁ − θ₀‖ in the (w, b) plane?",
                adam_first_step,
                tolerance=0.005,
                hint="Adam's first step moves every coordinate by η against the sign of its gradient.",
                explain="η along each of the two coordinates: √2·η, whatever the size of the gradient.",
            ),
        ),
        lb.Step(
            "A kinked landscape",
            PAGE,
            "Landscape: MAE, η = 0.1",
            MAE,
            "MAE's landscape is polyhedral: flat faces meeting in creases, with its minimum at a corner. Its "
            "gradient keeps the same size near the minimum, so neither method settles exactly with a fixed η.",
            lb.ChoiceQuestion(
                "After the steps, which path ends at the lower loss F?",
                tuple(RULES.values()),
                lower_end,
                hint="The convergence chart plots F − F* against the step for both paths (log scale): compare "
                "where the solid (gradient descent) and the dotted (Adam) curve end.",
                explain=lambda s: f"{_ends(s)}.",
            ),
        ),
    ),
)
