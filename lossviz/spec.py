"""Declarations of losses: their parameters, the domains of pred and target, formula and references.

A loss is declared once, with :func:`lossviz.losses.register`. That one declaration drives
validation (:meth:`Param.validate`, :meth:`Domain.check`), defaults, the UI controls and the docs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from lossviz.errors import DomainError, ParameterError

Scale = Literal["linear", "log"]
Kind = Literal["pointwise", "structured"]


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return f"{x:g}"


@dataclass(frozen=True)
class Param:
    """One scalar parameter of a loss.

    ``low``/``high`` bound the valid values (inclusive unless ``*_open``); ``ui_low``/``ui_high``
    bound the slider, which may be narrower than the valid range (δ may be any positive number;
    the slider shows 0.05–5). ``special`` lists extra valid values with a meaning of their own
    (focal's α = −1 switches the class weighting off).
    """

    name: str
    default: float
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    description: str = ""
    symbol: str = ""
    ui_low: float | None = None
    ui_high: float | None = None
    step: float | None = None
    scale: Scale = "linear"
    integer: bool = False
    special: Mapping[float, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.contains(self.default):
            raise ValueError(f"default of {self.name!r} lies outside its own range")

    @property
    def label(self) -> str:
        """A short label for a control: the LaTeX symbol when there is one."""
        return f"${self.symbol}$ ({self.name})" if self.symbol else self.name

    @property
    def range_text(self) -> str:
        left = "(" if self.low_open or math.isinf(self.low) else "["
        right = ")" if self.high_open or math.isinf(self.high) else "]"
        text = f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}"
        if self.integer:
            text = "integers in " + text
        for value, meaning in self.special.items():
            text += f", or {_fmt(value)} ({meaning})"
        return text

    @property
    def slider_range(self) -> tuple[float, float]:
        """The range a control offers: ``ui_low``/``ui_high`` or the finite valid bounds."""
        lo = self.ui_low if self.ui_low is not None else self.low
        hi = self.ui_high if self.ui_high is not None else self.high
        if math.isinf(lo) or math.isinf(hi):
            raise ValueError(f"parameter {self.name!r} needs ui_low/ui_high for a control")
        return float(lo), float(hi)

    @property
    def slider_step(self) -> float:
        if self.step is not None:
            return self.step
        if self.integer:
            return 1.0
        lo, hi = self.slider_range
        return float(f"{(hi - lo) / 100:.1g}")

    def contains(self, value: float) -> bool:
        if value in self.special:
            return True
        if not math.isfinite(value):
            return False
        if self.integer and value != int(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def validate(self, value: Any, loss: str) -> float:
        """Return ``value`` as a float (or int) or raise :class:`ParameterError` naming the range."""
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            if isinstance(value, np.ndarray) and value.ndim == 0:
                return self.validate(value.item(), loss)
            raise ParameterError(
                f"parameter {self.name!r} of {loss!r} must be a number, got {value!r} "
                f"({type(value).__name__}); valid range: {self.range_text}"
            )
        number = float(value)
        if not self.contains(number):
            raise ParameterError(
                f"parameter {self.name!r} of {loss!r} is {value!r}, outside its valid range "
                f"{self.range_text}"
            )
        return int(number) if self.integer else number

    def nearest_valid(self, value: float) -> float:
        """The valid slider value closest to ``value`` (for URLs holding out-of-range values)."""
        lo, hi = self.slider_range
        if math.isnan(value):
            return self.default
        clipped = min(max(value, lo), hi)
        if self.integer:
            clipped = float(round(clipped))
        return clipped if self.contains(clipped) else self.default


@dataclass(frozen=True)
class Domain:
    """The values ``pred`` or ``target`` may take, with a label and a natural plotting range.

    ``values`` lists the allowed values of a discrete domain (labels 0/1 or ±1); otherwise
    ``low``/``high`` bound a continuous one (inclusive unless ``*_open``).
    """

    label: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    values: tuple[float, ...] = ()
    integer: bool = False
    plot_range: tuple[float, float] = (-3.0, 3.0)

    @property
    def is_discrete(self) -> bool:
        return bool(self.values)

    def describe(self) -> str:
        if self.values:
            return f"{self.label} (one of {', '.join(_fmt(v) for v in self.values)})"
        if math.isinf(self.low) and math.isinf(self.high):
            return self.label
        left = "(" if self.low_open or math.isinf(self.low) else "["
        right = ")" if self.high_open or math.isinf(self.high) else "]"
        return f"{self.label} in {left}{_fmt(self.low)}, {_fmt(self.high)}{right}"

    def invalid_mask(self, x: np.ndarray) -> np.ndarray:
        bad = ~np.isfinite(x)
        if self.values:
            bad |= ~np.isin(x, self.values)
        else:
            bad |= (x <= self.low) if self.low_open else (x < self.low)
            bad |= (x >= self.high) if self.high_open else (x > self.high)
        if self.integer:
            bad |= np.isfinite(x) & (x != np.round(x))
        return bad

    def check(self, x: np.ndarray, what: str, loss: str) -> None:
        """Raise :class:`DomainError` if any element of ``x`` is outside the domain."""
        bad = self.invalid_mask(x)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            where = f" at index {index}" if x.ndim else ""
            raise DomainError(
                f"{what} of {loss!r} must be {self.describe()}; got {float(x[index]):g}{where} "
                f"({int(bad.sum())} invalid value{'s' if bad.sum() > 1 else ''})"
            )


LossFn = Callable[..., Any]
KinkFn = Callable[..., tuple[float, ...]]


@dataclass(frozen=True)
class LossSpec:
    """The declaration of one loss.

    ``fn(pred, target, **params)`` computes the per-sample loss on float64 torch tensors
    (``target`` is ``None`` when ``target_domain`` is ``None``). Pointwise losses act elementwise;
    structured ones reduce the trailing ``pred_event_ndim`` axes of ``pred`` (and
    ``target_event_ndim`` of ``target``) to one value per sample.

    ``grad_fn``, when given, is a closed-form gradient used instead of autograd (tests check it
    against autograd); ``kinks(target, **params)`` gives the predictions where a pointwise loss's
    gradient (order 1) or curvature (order 2) jumps, as ``(position, order)`` pairs.
    """

    name: str
    title: str
    family: str
    latex: str
    use_when: str
    fn: LossFn
    pred_domain: Domain
    target_domain: Domain | None
    params: tuple[Param, ...] = ()
    references: tuple[str, ...] = ()
    kind: Kind = "pointwise"
    pred_event_ndim: int = 0
    target_event_ndim: int | Callable[[int, int], int] = 0
    grad_fn: LossFn | None = None
    kinks: KinkFn | None = None
    check_inputs: Callable[[np.ndarray, np.ndarray | None, Mapping[str, float]], None] | None = None
    note: str = ""
    builtin: bool = True

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    @property
    def has_target(self) -> bool:
        return self.target_domain is not None

    @property
    def pointwise(self) -> bool:
        return self.kind == "pointwise"

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def validate_params(self, given: Mapping[str, Any]) -> dict[str, float]:
        """Defaults filled in, every value checked; unknown names raise :class:`ParameterError`."""
        unknown = sorted(set(given) - set(self.param_names))
        if unknown:
            valid = ", ".join(self.param_names) or "none"
            raise ParameterError(
                f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                f"for {self.name!r}; its parameters are: {valid}"
            )
        out = self.defaults
        for name, value in given.items():
            out[name] = self.param(name).validate(value, self.name)
        return out

    def kink_points(self, target: float | None = None, **params: float) -> tuple[tuple[float, int], ...]:
        """Kinks of a pointwise loss at the given target and parameters, as (pred, order) pairs."""
        if self.kinks is None:
            return ()
        values = self.validate_params(params)
        return tuple(self.kinks(target, **values))

    def summary(self) -> dict[str, Any]:
        """A plain-data view for docs, tables and tests."""
        return {
            "name": self.name,
            "title": self.title,
            "family": self.family,
            "latex": self.latex,
            "use_when": self.use_when,
            "pred": self.pred_domain.describe(),
            "target": self.target_domain.describe() if self.target_domain else None,
            "references": list(self.references),
            "params": [
                {
                    "name": p.name,
                    "default": p.default,
                    "range": p.range_text,
                    "step": p.slider_step if p.ui_low is not None or not math.isinf(p.low) else None,
                    "scale": p.scale,
                    "description": p.description,
                }
                for p in self.params
            ],
        }
