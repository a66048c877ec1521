"""Lesson: write your own loss (the Custom loss page).

Formulas are parsed and compiled by :mod:`lossviz.formula` (through
:func:`lossviz.studies.custom.spec_for`, in a throwaway scope: a lesson never touches the session's own
losses) and evaluated by :func:`lossviz.evaluate` or :func:`lossviz.studies.curves.loss_curve`, as the page
draws them; :func:`lossviz.studies.custom.check_against_builtin` is the page's check against a built-in.
Its words are in ``own_loss.toml``; this module computes what they quote.
"""

from __future__ import annotations

import numpy as np

from lossviz.engine import evaluate
from lossviz.errors import FormulaError
from lossviz.formula import SUGGESTED_DEFAULT, SUGGESTED_RANGE, parse_formula
from lossviz.lessons import base as lb
from lossviz.spec import LossSpec
from lossviz.studies import curves as lc
from lossviz.studies import custom as cg

ANSWER_NAME = "lesson_answer"
"""The name a student's formula is compiled under (in a throwaway scope)."""
CUBIC = {cg.control_key("formula"): "abs(p - y)**3", cg.control_key("name"): "cubic"}
AT = 2.0
"""The prediction p at which step 1 reads the cubic loss's gradient (target y = 0)."""
HALF_CAUCHY = "c**2 * log1p(((p - y)/c)**2)"
"""Cauchy's loss without its ½: the formula step 3 checks against the built-in."""


def example_link(key: str, formula: str | None = None) -> dict[str, str]:
    """The link that opens a gallery example as its button loads it: formula, name, parameter table, view and
    the built-in it is checked against (``formula`` replaces the example's own)."""
    ex = cg.example(key)
    link = {cg.control_key("formula"): formula or ex.formula, cg.control_key("name"): ex.name}
    for param, decl in ex.params.items():
        keys = cg.param_keys(param)
        link.update({keys[what]: lb.link_value(v) for what, v in zip(("default", "low", "high"), decl, strict=True)})
    view = {"target": ex.target, "center": ex.center, "half_width": ex.half_width}
    link.update({cg.control_key(name): lb.link_value(v) for name, v in view.items()})
    link[cg.control_key("compare")] = ex.builtin or cg.NO_COMPARISON
    return link


CAUCHY = example_link("cauchy")
HALVED = {**example_link("cauchy", HALF_CAUCHY), cg.control_key("name"): "half_cauchy"}


def _table(state: lb.Query, key: str, fallback: float) -> float:
    raw = state.get(key)
    return fallback if raw is None else float(str(raw))


def page_spec(state: lb.Query) -> LossSpec:
    """The loss the page defines from the link: its formula with the parameter table's declarations."""
    formula = lb.text(state, cg.control_key("formula"), cg.DEFAULT_FORMULA)
    decls = {}
    for param in parse_formula(formula).params:
        keys = cg.param_keys(param)
        decls[param] = (
            _table(state, keys["default"], SUGGESTED_DEFAULT),
            _table(state, keys["low"], SUGGESTED_RANGE[0]),
            _table(state, keys["high"], SUGGESTED_RANGE[1]),
        )
    return cg.spec_for(lb.text(state, cg.control_key("name"), cg.DEFAULT_NAME), formula, decls)


def values(state: lb.Query, spec: LossSpec) -> dict[str, float]:
    """The parameter sliders' values (``custom_<param>``), each at its declared default unless the link sets it."""
    return {p.name: lb.number(state, cg.param_keys(p.name)["value"], p) for p in spec.params}


def target(state: lb.Query) -> float:
    return lb.number(state, cg.control_key("target"), cg.TARGET)


def page_curve(state: lb.Query) -> lc.Curve:
    """The curve the page draws: the formula over its plotted range of p."""
    spec = page_spec(state)
    x = cg.x_grid(
        lb.number(state, cg.control_key("center"), cg.CENTER),
        lb.number(state, cg.control_key("half_width"), cg.HALF_WIDTH),
    )
    return lc.loss_curve(spec, x, target(state), values(state, spec))


def gradient_at(state: lb.Query, p: float) -> float:
    spec = page_spec(state)
    return float(evaluate(spec, p, target(state), order=1, **values(state, spec)).grad)


def asked_gradient(state: lb.Query) -> float:
    """The page's gradient at p = AT."""
    return gradient_at(state, AT)


def peak_pull(state: lb.Query) -> float:
    """The prediction right of the target where the page's gradient curve is highest."""
    curve = page_curve(state)
    grad = np.where(curve.x > target(state), curve.grad, -np.inf)
    return float(curve.x[np.argmax(grad)] - target(state))


def builtin_check(state: lb.Query) -> cg.Check:
    spec = page_spec(state)
    return cg.check_against_builtin(
        spec, lb.text(state, cg.control_key("compare"), cg.NO_COMPARISON), values(state, spec), target(state)
    )


def matches_builtin(state: lb.Query) -> str:
    """Whether the page's check finds the formula equal to the built-in it is compared with: "yes" or "no"."""
    return "yes" if builtin_check(state).ok else "no"


def value_error(state: lb.Query) -> float:
    """The check's largest difference of value, relative to the built-in's largest value."""
    return builtin_check(state).value_error


def answer_curve(formula: str, preds: list[float]) -> tuple[np.ndarray, np.ndarray] | str:
    """(values, gradients) of a typed formula at ``preds`` with target 0 and every parameter at the Custom
    page's suggested default, or why it could not be evaluated."""
    try:
        params = parse_formula(formula).params
        spec = cg.spec_for(ANSWER_NAME, formula, {p: (SUGGESTED_DEFAULT, *SUGGESTED_RANGE) for p in params})
        res = evaluate(spec, np.array(preds, dtype=np.float64), 0.0, order=1, **spec.defaults)
    except FormulaError as exc:
        return f"the formula is rejected: {exc}"
    except Exception as exc:  # a formula may fail in ways no declaration foresaw
        return f"the formula could not be evaluated ({type(exc).__name__}: {exc})"
    assert res.grad is not None
    if not (np.isfinite(res.value).all() and np.isfinite(res.grad).all()):
        return f"the formula is undefined at some of p = {', '.join(f'{p:g}' for p in preds)} (y = 0)"
    return res.value, res.grad


def fading_pull(formula: str) -> lb.Measured:
    """A loss (smallest at p = y, defined on both sides) whose pull at r = 10 is weaker than at r = 1."""
    found = answer_curve(formula, [-10.0, -1.0, 0.0, 1.0, 10.0])
    if isinstance(found, str):
        return lb.Measured(False, found)
    value, grad = found
    if value[2] > value.min():
        return lb.Measured(False, f"its smallest value is not at p = y: L(0, 0) = {lb.fmt(float(value[2]))}")
    reading = f"its gradient is {lb.fmt(float(grad[3]))} at r = 1 and {lb.fmt(float(grad[4]))} at r = 10"
    return lb.Measured(bool(abs(grad[4]) < abs(grad[3])), reading)


def over_costs_more(formula: str) -> lb.Measured:
    found = answer_curve(formula, [-1.0, 0.0, 1.0])
    if isinstance(found, str):
        return lb.Measured(False, found)
    value, grad = found
    reading = (
        f"L(−1, 0) = {lb.fmt(float(value[0]))}, L(1, 0) = {lb.fmt(float(value[2]))} and the gradient at p = y is "
        f"{lb.fmt(float(grad[1]))}"
    )
    minimum = abs(float(grad[1])) <= 1e-9 and value[1] <= min(value[0], value[2])
    return lb.Measured(bool(value[2] > value[0] and minimum), reading)


def gallery_formulas() -> list[str]:
    return [ex.formula for ex in cg.GALLERY]


LESSON = lb.load(__name__)
