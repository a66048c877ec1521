"""Lesson: learning rates and optimisers (the Landscape page, its line-fit section).

Every answer comes from :mod:`lossviz.studies.landscape` — :func:`~lossviz.studies.landscape.descend` (the
gradient-descent and Adam paths, one run per learning rate of the control, as the page computes them),
:func:`~lossviz.studies.landscape.fit_minimum` and :func:`~lossviz.studies.landscape.critical_learning_rate`
— on the data :func:`lossviz.toolkit.data.line_with_outliers` draws from the link's values.
Its words are in ``optimisers.toml``; this module computes what they quote.
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

PREFIX = "landscape_fit"
LR_KEY = f"{PREFIX}_lr"
MSE = {f"{PREFIX}_losses": ["mse"], LR_KEY: "0.1"}
MSE_FAST = {f"{PREFIX}_losses": ["mse"], LR_KEY: "1"}
MAE = {f"{PREFIX}_losses": ["mae"], LR_KEY: "0.1"}
RULES = {"gd": "gradient descent", "adam": "Adam"}
RULE_LABELS = tuple(RULES.values())
"""The update rules as the choice question names them."""
LEARNING_RATE = ll.LEARNING_RATE
"""The page's learning rate η (its control ``landscape_fit_lr``)."""


def data_key(state: lb.Query) -> tuple:
    return tuple(lb.number(state, f"{PREFIX}_{p.name}", p) for p in LINE_DATA_PARAMS)


def params(state: lb.Query, loss: str) -> tuple[tuple[str, float], ...]:
    return tuple((p.name, lb.number(state, f"{PREFIX}_{loss}_{p.name}", p)) for p in spec(loss).params)


def loss(state: lb.Query) -> str:
    """The first loss the link selects (each lesson step selects one)."""
    return lb.names(state, f"{PREFIX}_losses", ll.DEFAULT_FIT_LOSSES)[0]


def start(state: lb.Query) -> tuple[float, float]:
    return lb.number(state, f"{PREFIX}_w0", ll.W_START), lb.number(state, f"{PREFIX}_b0", ll.B_START)


RATES = tuple(log_ladder(LEARNING_RATE))
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
    lr = lb.number(state, LR_KEY, LEARNING_RATE)
    return int(np.argmin([abs(r - lr) for r in RATES]))


def diverged(state: lb.Query, rule: str) -> bool:
    return bool(paths(state)[rule].stopped[run_index(state)] >= 0)


def critical_rate(state: lb.Query) -> float:
    """2/λ_max of MSE's bowl at its minimum, for the link's data."""
    data = line_with_outliers(*data_key(state))
    name = loss(state)
    minimum = ll.fit_minimum(name, data.x, data.y, dict(params(state, name)))
    return ll.critical_learning_rate(name, data.x, data.y, dict(params(state, name)), (minimum.w, minimum.b))


def critical_rate_text(state: lb.Query) -> str:
    return lb.fmt(critical_rate(state))


def diverges(value: float, state: lb.Query) -> lb.Measured:
    gone = diverged(state, "gd")
    return lb.Measured(gone, f"gradient descent {'diverges' if gone else 'converges'}")


def adam_diverges(state: lb.Query) -> str:
    """Whether Adam's path diverges at the link's η: "yes" or "no"."""
    return "yes" if diverged(state, "adam") else "no"


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


def path_ends(state: lb.Query) -> str:
    """Each path's final loss F, in words."""
    return ", ".join(f"{label} F = {lb.fmt(final_loss(state, rule), 6)}" for rule, label in RULES.items())


LESSON = lb.load(__name__)
