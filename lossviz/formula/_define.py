"""Register a custom loss: parameters with defaults and ranges, a LossSpec in the session's scope."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from lossviz.domains import REAL
from lossviz.errors import FormulaError
from lossviz.formula._compile import CompiledFormula
from lossviz.formula._latex import symbol
from lossviz.formula._parse import parse_formula
from lossviz.formula._tree import Formula
from lossviz.registry import builtin_names, user_losses
from lossviz.spec import LossSpec, Param

MAX_CUSTOM_LOSSES = 20
"""The most custom losses one scope (browser session) may hold; redefining a name replaces it."""
SUGGESTED_DEFAULT = 1.0
SUGGESTED_RANGE = (-10.0, 10.0)
NAN_NOTE = (
    "A custom formula may be undefined at some points (log of a negative number, 0/0, 1/0): its value, "
    "gradient and curvature are NaN there, shown as gaps. Built-in losses never return NaN."
)
_LOSS_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")

Default = float | tuple[float, float, float] | Param


def suggest_params(text: str) -> dict[str, tuple[float, float, float]]:
    """The parameters of ``text`` with suggested (default, low, high): 1.0 in [−10, 10] for each.

    The result is what :func:`define` accepts, so a page can show it as an editable table.
    Raises :class:`~lossviz.FormulaError` if the formula is rejected.
    """
    return {name: (SUGGESTED_DEFAULT, *SUGGESTED_RANGE) for name in parse_formula(text).params}


def _is_number(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_)


def _default_range(default: float) -> tuple[float, float]:
    """[−10, 10], widened to the next power of ten around a larger default."""
    if abs(default) <= SUGGESTED_RANGE[1]:
        return SUGGESTED_RANGE
    bound = 10.0 ** math.ceil(math.log10(abs(default)))
    return -bound, bound


def make_param(name: str, given: Any, loss: str) -> Param:
    """A :class:`Param` from a number, a (default, low, high) triple or a Param; FormulaError if invalid."""
    where = f"parameter {name!r} of {loss!r}"
    if isinstance(given, Param):
        if given.name != name:
            raise FormulaError(f"{where} was given a Param named {given.name!r}")
        try:
            given.slider_range  # noqa: B018  (the UI needs a finite slider range)
        except ValueError as exc:
            raise FormulaError(f"{where}: {exc}") from None
        return given
    if _is_number(given):
        default = float(given)
        if not math.isfinite(default) or abs(default) > 1e15:
            raise FormulaError(f"{where}: the default must be a finite number up to 1e15 in size, got {given!r}")
        low, high = _default_range(default)
    elif isinstance(given, tuple | list) and len(given) == 3 and all(_is_number(v) for v in given):
        default, low, high = (float(v) for v in given)
        if not all(math.isfinite(v) for v in (default, low, high)) or not low < high:
            raise FormulaError(f"{where}: (default, low, high) needs finite numbers with low < high, got {given!r}")
        if not low <= default <= high:
            raise FormulaError(f"{where}: the default {given[0]!r} lies outside [{given[1]!r}, {given[2]!r}]")
    else:
        raise FormulaError(f"{where} must be a number (the default) or a (default, low, high) tuple, got {given!r}")
    return Param(
        name, default, low=low, high=high, ui_low=low, ui_high=high, symbol=symbol(name),
        description=f"Parameter of the custom formula, valid in [{low:g}, {high:g}].",
    )  # fmt: skip


def make_params(formula: Formula, given: Mapping[str, Any], loss: str) -> tuple[Param, ...]:
    """One Param per parameter of ``formula``, in order of appearance; unknown names are an error."""
    unknown = [n for n in given if n not in formula.params]
    if unknown:
        have = ", ".join(formula.params) or "none"
        raise FormulaError(
            f"{', '.join(map(repr, unknown))} {'is' if len(unknown) == 1 else 'are'} not a parameter of "
            f"{formula.text!r}; its parameters are: {have}"
        )
    return tuple(make_param(n, given.get(n, (SUGGESTED_DEFAULT, *SUGGESTED_RANGE)), loss) for n in formula.params)


def _check_loss_name(name: object) -> str:
    if not isinstance(name, str) or not _LOSS_NAME.fullmatch(name):
        raise FormulaError(
            f"a custom loss name must be a letter followed by up to 39 letters, digits or '_'; got {name!r}"
        )
    if name in builtin_names():
        raise FormulaError(f"{name!r} is a built-in loss; choose another name for your formula")
    return name


def define(name: str, formula: str, /, **defaults: Default) -> LossSpec:
    """Parse, compile and register the custom loss ``name`` in the current scope; return its spec.

    ``defaults`` gives each parameter a default (its range is then [−10, 10], widened to the next
    power of ten around a larger default), a ``(default, low, high)`` triple, or a :class:`Param`;
    parameters not given get 1.0 in [−10, 10]. The loss takes ``pred`` and ``target`` (both real;
    a formula without ``y`` ignores the target) and lives in :func:`lossviz.registry.user_losses`,
    at most :data:`MAX_CUSTOM_LOSSES` per scope. Every rejection raises :class:`~lossviz.FormulaError`.

    >>> import lossviz
    >>> spec = lossviz.define("my_huber", "where(abs(p-y) <= d, 0.5*(p-y)**2, d*(abs(p-y) - 0.5*d))", d=(1.0, 0.1, 5.0))
    >>> lossviz.evaluate("my_huber", [0.0, 3.0], 0.0).value.tolist()
    [0.0, 2.5]
    """
    _check_loss_name(name)
    parsed = parse_formula(formula)
    spec = LossSpec(
        name=name,
        title=f"{name} (custom)",
        family="custom",
        latex=parsed.latex,
        use_when=f"Your own formula: {parsed.text}",
        fn=CompiledFormula(parsed),
        pred_domain=REAL,
        target_domain=REAL,
        params=make_params(parsed, defaults, name),
        references=("Custom formula, compiled by lossviz.formula",),
        note=NAN_NOTE,
        builtin=False,
    )
    store = user_losses()
    if name not in store and len(store) >= MAX_CUSTOM_LOSSES:
        raise FormulaError(
            f"this session already has {len(store)} custom losses, the limit is {MAX_CUSTOM_LOSSES}; "
            "redefine or remove one of them: " + ", ".join(sorted(store))
        )
    store[name] = spec
    return spec


def formula_of(spec: LossSpec) -> Formula | None:
    """The parsed formula behind a custom loss's spec (None for built-ins)."""
    fn = spec.fn
    return fn.formula if isinstance(fn, CompiledFormula) else None
