"""The loss doctor: what a loss will do to training, read off its value, gradient and curvature.

:func:`diagnose` takes a typed formula, :func:`diagnose_spec` any pointwise loss (a built-in's or a
custom :class:`~lossviz.LossSpec`); both run the same checks and return a list of :class:`Finding`.

How it works, and why it is fast
--------------------------------
Everything is evaluated by :func:`lossviz.evaluate` (autograd, or a loss's closed-form gradient) on
whole arrays of predictions, never point by point:

1. **One main pass** (value, gradient, curvature) over the grid of the range, the two points of a
   central finite difference beside each grid point, a few points at the target and a geometric
   chain of points beyond each end of the range.
2. **Screening** on the grid finds the cells that may hold a kink (the gradient changes more than
   the curvature explains), a jump (the value changes more than the gradient explains), a border of
   an undefined region, or a spike downwards between grid points.
3. **Refinement**: :data:`REFINE_ROUNDS` passes, each evaluating :data:`REFINE_SPLITS` + 1 points
   inside every suspicious cell at once and keeping the sub-cell that holds the feature, shrink each
   cell by 256³ ≈ 1.7e7 (to about 1e-9 of the range on the page's grid).
4. **One probe pass** reads autograd's gradient exactly at each kink (the subgradient lossviz
   reports), the one-sided slopes beside it, and geometric sequences of points walking into each
   border and spike (is the loss falling without bound there?).

A smooth formula defined everywhere stops after step 1. See ``bench/diagnose.py`` for times.

The codes and their rules
-------------------------
Every threshold is relative to a size of the loss itself on the range (its spread of values, its
typical gradient or curvature), so c·L gets the findings of L for any c > 0.

- ``sign`` (error): somewhere the loss is lower than at the predictions that match the target, by
  more than :data:`SIGN_RTOL` × its spread — a likelihood instead of a loss, or a minimum off the
  target. Which predictions match the target depends on how the formula uses y: see :func:`diagnose`.
- ``unbounded_below`` (error): the loss keeps falling, without slowing down geometrically, along a
  chain of points beyond an end of the range (up to 1e5 × its width), into the border of an undefined
  region, or into a downward spike between grid points (:func:`_falls_without_bound`).
- ``gradient_mismatch`` (error): autograd's gradient differs from the central difference of the
  values beside a grid point (:data:`FD_RTOL` plus the difference's own error), away from kinks and
  undefined points; or, at a point, from the equal slopes on both sides of it.
- ``nan`` (warning): grid runs where value, gradient or curvature is undefined.
- ``jump`` (warning): the value steps (or takes a value of its own at one point).
- ``flat`` (warning): |gradient| below :data:`FLAT_RTOL` × the mean slope over an interval of at
  least :data:`FLAT_MIN_WIDTH` of the range that stays above the minimum's level.
- ``kink`` (info): the gradient jumps; with autograd's subgradient at the point and the two slopes.
- ``nonconvex`` (info): curvature below −:data:`NONCONVEX_RTOL` × its typical size.
- ``negative`` (info): values below −:data:`NEGATIVE_RTOL` × their typical size.

Positions
---------
:attr:`Finding.where` is a tuple of closed intervals ``(lo, hi)`` of the prediction p; ``lo == hi``
is a single point, and an infinite end means "as p → ±∞" (beyond the range). Intervals found on the
grid are exact to the grid step; kinks, jumps and the borders of undefined regions to the grid step
/ 256³ (about 1e-10 of the range on the page's grid), spikes to a hundred times that. They are
reported as the shortest decimal number inside their final bracket — so a kink at p = y = 0.5 is reported at 0.5 itself, where autograd's gradient (the
subgradient lossviz shows) is read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypedDict, Unpack

import numpy as np

from lossviz.domains import REAL
from lossviz.engine import evaluate
from lossviz.errors import FormulaError, ParameterError
from lossviz.formula import _tree as t
from lossviz.formula._compile import CompiledFormula
from lossviz.formula._define import SUGGESTED_DEFAULT, formula_of, make_param
from lossviz.formula._parse import parse_formula
from lossviz.formula._tree import Formula
from lossviz.registry import spec as get_spec
from lossviz.spec import Domain, LossSpec

Code = Literal[
    "sign", "unbounded_below", "gradient_mismatch", "nan", "jump", "flat", "kink", "nonconvex", "negative"
]  # fmt: skip
Severity = Literal["error", "warning", "info"]
Interval = tuple[float, float]
"""A closed interval [lo, hi] of predictions; lo == hi is one point; ±inf means "as p → ±∞"."""

CODES: tuple[Code, ...] = (
    "sign", "unbounded_below", "gradient_mismatch", "nan", "jump", "flat", "kink", "nonconvex", "negative"
)  # fmt: skip
"""Every code, in the order findings are listed (within one severity)."""
SEVERITY: dict[Code, Severity] = {
    "sign": "error",
    "unbounded_below": "error",
    "gradient_mismatch": "error",
    "nan": "warning",
    "jump": "warning",
    "flat": "warning",
    "kink": "info",
    "nonconvex": "info",
    "negative": "info",
}
_SEVERITY_ORDER: dict[Severity, int] = {"error": 0, "warning": 1, "info": 2}

# --- thresholds (each relative to a scale of the loss itself, so that c·L gets the same findings) ------

SIGN_RTOL = 1e-6
"""``sign``: the loss must be lower than at the target by more than this × its spread on the range."""
NEGATIVE_RTOL = 1e-12
"""``negative``: values below −(this × max |L|); rounding never makes a non-negative formula that negative."""
NONCONVEX_RTOL = 1e-9
"""``nonconvex``: curvature below −(this × max |curvature|), so that rounding noise near 0 is not reported."""
FLAT_RTOL = 1e-2
"""``flat``: |gradient| below this × the mean slope (spread of the loss / width of the range) — a step
100 times shorter than one that would cross the loss's range."""
FLAT_MIN_WIDTH = 0.01
"""``flat``: a flat interval must span at least this fraction of the range (and 3 grid points)."""
FLAT_MIN_LEVEL = 1e-3
"""``flat``: an interval reaching within this × spread of the minimum value holds the minimum: a
vanishing gradient there is where training should stop, not a stall."""
SCREEN_RATIO = 10.0
"""A cell is a kink (jump) candidate when its unexplained change of gradient (value) exceeds this ×
the error a smooth loss would leave (estimated from the curvature around it)."""
SCREEN_RTOL = 1e-9
"""…and exceeds this × the gradient scale (value spread): rounding never does."""
MAX_KINK_CELLS = 64
"""At most this many kink candidates are refined (the strongest); the rest are reported as grid cells."""
MAX_JUMP_CELLS = 16
MAX_BORDER_CELLS = 16
MAX_SPIKE_CELLS = 4
REFINE_SPLITS = 256
"""Points per cell per refinement round (each round shrinks a kink's cell 256-fold)."""
REFINE_ROUNDS = 3
KINK_CONTRAST = 100.0
"""A refined kink's gradient change must exceed this × the median change of its neighbouring sub-cells
(a smooth loss changes alike in all of them)…"""
KINK_RTOL = 1e-7
"""…and this × the largest |gradient| on the range."""
JUMP_CONTRAST = 100.0
"""A refined jump's value change must exceed this × what the gradient explains over its sub-cell."""
FD_STEP = 1e-5
"""Central finite differences use h = FD_STEP · max(1, |p|)."""
FD_RTOL = 1e-4
"""``gradient_mismatch``: |autograd − finite difference| above this × their size, plus the difference
quotient's own rounding and truncation error (see :func:`_mismatch`)."""
TAIL_EXPONENTS = np.arange(-2, 11) / 2.0
"""Beyond each end of the range the loss is read at end ± width · 10^k for these k: 0.1 × … 1e5 × the width."""
PROBE_DECADES = 5
"""Into a border or spike the loss is read at distances grid step · 10^-k, k = 0 … PROBE_DECADES − 1."""
UNBOUNDED_KEEP = 0.5
"""A sequence of equal geometric steps falls without bound when it falls at every step and its last
fall is at least this × its largest (a bounded loss's falls shrink geometrically: a limit is near)."""


@dataclass(frozen=True)
class Finding:
    """One thing the doctor found.

    ``code`` is one of :data:`CODES`; ``severity`` "error" (the loss cannot train as meant), "warning"
    (it may stall or misbehave) or "info" (worth knowing); ``message`` says in plain words what it
    means for training; ``where`` holds the places in p (see the module docstring). For a ``kink``,
    ``subgradient`` is the gradient lossviz (autograd) reports exactly at the point and ``slopes`` the
    one-sided slopes (left, right); for a ``jump``, ``slopes`` holds the values on either side.
    """

    code: Code
    severity: Severity
    message: str
    where: tuple[Interval, ...]
    subgradient: float | None = None
    slopes: tuple[float, float] | None = None


@dataclass(frozen=True)
class DiagnosisExample:
    """A short formula that shows one finding, for the Custom page's gallery (None: the page's default)."""

    code: Code
    formula: str
    caption: str
    params: Mapping[str, float] = field(default_factory=dict)
    p_range: tuple[float, float] | None = None
    y: float | None = None


DIAGNOSIS_EXAMPLES: tuple[DiagnosisExample, ...] = (
    DiagnosisExample(
        "sign", "y*log(p) + (1-y)*log(1-p)",
        "Cross-entropy with its minus sign lost: this is the log-likelihood, which is highest at the label, so "
        "minimising it drives p away from y = 1.",
        y=1.0, p_range=(0.0, 1.0),
    ),
    DiagnosisExample(
        "unbounded_below", "log(abs(p - y))",
        "log|p − y| falls to −∞ as p reaches y, and is undefined at p = y itself: a loss must have a finite best "
        "value, or training chases a minimum it can never reach.",
    ),
    DiagnosisExample(
        "nan", "(log1p(p) - log1p(y))**2",
        "The squared log error is undefined for p ≤ −1 (log of a non-positive number): a prediction that "
        "wanders there gives NaN and stops training.",
        y=1.0,
    ),
    DiagnosisExample(
        "jump", "where(abs(p - y) < 1, 0, 1)",
        "A 0–1 loss (a miss counts 1): its value steps at |p − y| = 1 but its gradient is 0 everywhere, so "
        "gradient descent never moves.",
    ),
    DiagnosisExample(
        "flat", "log(1 - sigmoid(p))",
        "The saturating GAN generator loss log(1 − D), D = sigmoid(p): where the discriminator confidently "
        "rejects a fake (p ≪ 0) the gradient vanishes and the generator stops learning.",
        p_range=(-10.0, 10.0),
    ),
    DiagnosisExample(
        "kink", "abs(p - y)",
        "The absolute error has a corner at p = y: the slope jumps from −1 to 1, and exactly there lossviz "
        "reports the subgradient 0 (as torch.abs does).",
        y=0.5,
    ),
    DiagnosisExample(
        "nonconvex", "where(abs(p - y) <= c, c**2/6 * (1 - (1 - ((p - y)/c)**2)**3), c**2/6)",
        "Tukey's biweight bends downwards for residuals between c/√5 and c: far points pull less and less "
        "(robust to outliers), but a sum of such terms can have several minima.",
        params={"c": 4.685},
    ),
    DiagnosisExample(
        "gradient_mismatch", "relu(p - y) - relu(y - p)",
        "This is p − y written with two relus: at p = y autograd adds their subgradients 0 + 0 and reports the "
        "slope 0, where the loss's slope is 1 on both sides.",
    ),
    DiagnosisExample(
        "negative", "(p - y)**2 - 1",
        "A constant shift changes no gradient, so training is the same as for (p − y)², but the reported loss "
        "can now be negative.",
    ),
)  # fmt: skip
"""One example per code. Each shows its code and may show others (the flat GAN loss is also unbounded
below as p → ∞); ``p_range`` and ``y`` left None are the Custom page's."""


# --- entry points -------------------------------------------------------------------------------------


class Where(TypedDict, total=False):
    """Where :func:`diagnose` and :func:`diagnose_spec` look at a loss; each key left out (or None) takes
    the default its function describes."""

    p_range: tuple[float, float] | None
    """The predictions checked, lo to hi."""
    y: float | None
    """The target."""
    best: tuple[float, float] | None
    """The predictions where the loss should be lowest (lo, hi), for the sign check."""


def _where(where: Where) -> tuple[float | None, tuple[float, float] | None, tuple[float, float] | None]:
    """``y``, ``p_range`` and ``best`` of a call's keywords; an unknown keyword is a TypeError, as it would
    be in a signature that named them."""
    if unknown := sorted(set(where) - set(Where.__annotations__)):
        raise TypeError(f"unexpected keyword argument {', '.join(unknown)} (known: {', '.join(Where.__annotations__)})")
    return where.get("y"), where.get("p_range"), where.get("best")


def diagnose(
    formula: Formula | str,
    params: Mapping[str, float] | None = None,
    **where: Unpack[Where],
) -> list[Finding]:
    """Diagnose a typed loss formula over a range of predictions at one target.

    ``formula`` is text (parsed first, so a rejected formula raises :class:`~lossviz.FormulaError`
    before anything runs) or a parsed :class:`Formula`. ``params`` gives parameter values; missing ones
    take :data:`~lossviz.formula.SUGGESTED_DEFAULT` (1.0), as on the Custom page. ``p_range`` and ``y``
    default to the Custom page's view: predictions from centre − half width to centre + half width
    (−5 … 5) on its grid of 501 points, and target 0.

    **sign** needs the prediction that matches the target, ``best`` = (lo, hi), the predictions where
    the loss should be lowest. By default it is read off the formula:

    - *regression-style* — the formula compares p with y through a difference (``p - y``,
      ``log1p(p) - log1p(y)``, ``maximum(p, y)``, a comparison ``p < y``): best = (y, y), the loss
      must be lowest at p = y;
    - *classification-style* — p and y both occur but never in such a difference, so y is a label or a
      weight (``-y*log(p) - (1-y)*log(1-p)``, a margin ``p*y``, ``exp(p) - y*p``): for y ≥ 1 (the
      positive class) best = [y, ∞), the loss must be lowest at p = y or beyond it (a logit or score
      may overshoot its label); for y ≤ 0 (the negative class, 0 or −1) best = (−∞, y]; for a soft
      label 0 < y < 1 the best prediction depends on what p measures (y itself for a probability,
      logit(y) for a logit), so there is no sign check;
    - a formula without p or without y has no sign check.

    Pass ``best`` when p is on another scale than y (a log-rate has best = (log y, log y)).

    Returns the findings sorted by severity (error, warning, info), then in the order of :data:`CODES`;
    an empty list when nothing is wrong. Each check's rule is in the module docstring.
    """
    parsed = formula if isinstance(formula, Formula) else parse_formula(formula)
    values = _formula_params(parsed, params)
    page = DEFAULT_VIEW
    y, p_range, best = _where(where)
    target = page.target if y is None else _finite(y, "y")
    spec = _formula_spec(parsed, values)
    lo, hi = _checked_range(page.p_range if p_range is None else p_range, spec.pred_domain, "the formula")
    best = _formula_best(parsed, target) if best is None else _checked_best(best)
    return _run(_Problem(spec, values, lo, hi, page.points, target, best))


def diagnose_spec(
    loss: str | LossSpec,
    params: Mapping[str, float] | None = None,
    *,
    points: int | None = None,
    **where: Unpack[Where],
) -> list[Finding]:
    """Diagnose a pointwise loss (a built-in's name or any :class:`LossSpec`) with the checks of :func:`diagnose`.

    ``params`` are validated by the spec (defaults filled in). ``p_range`` defaults to the prediction
    domain's plotting range, moved in by 1e-3 of its width at a finite bound (where log-losses clamp),
    as the Custom page's check does; ``y`` to the Custom page's target 0 if the target domain has it,
    else the domain value nearest to 0. ``best`` defaults to (y, y) for a continuous target (p and y on
    one scale), to [y, ∞) / (−∞, y] for a label target at or above 1 / at or below 0 (a score or
    probability of the positive class), and to no sign check for a loss without a target; a custom
    formula's spec (from :func:`lossviz.define`) is read as :func:`diagnose` reads its formula. Pass it for
    a loss whose prediction lives on another scale (Poisson's log-rate: (log y, log y)).
    Raises :class:`~lossviz.ParameterError` for a structured loss or a discrete prediction.
    """
    spec = get_spec(loss)
    if not spec.pointwise or spec.pred_domain.is_discrete:
        raise ParameterError(f"{spec.name!r} is not a pointwise loss of one real prediction; it cannot be diagnosed")
    values = spec.validate_params(params or {})
    y, p_range, best = _where(where)
    target = _spec_target(spec, y)
    default_range = _inset_range(spec.pred_domain)
    lo, hi = _checked_range(default_range if p_range is None else p_range, spec.pred_domain, repr(spec.name))
    best = _spec_best(spec, target) if best is None else _checked_best(best)
    n = DEFAULT_VIEW.points if points is None else int(points)
    if n < 3:
        raise ParameterError(f"points must be at least 3, got {points!r}")
    return _run(_Problem(spec, values, lo, hi, n, target, best))


# --- setting up ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """Where a typed loss is looked at: the range of predictions, the target and the grid size."""

    p_range: tuple[float, float]
    target: float
    points: int


DEFAULT_VIEW = View(p_range=(-5.0, 5.0), target=0.0, points=501)
"""The Custom page's default view, declared here so that the doctor's defaults and the page's controls
(:mod:`lossviz.studies.custom` derives its defaults from it) are one declaration."""


def _finite(x: object, what: str) -> float:
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(f"{what} must be a number, got {x!r}") from None
    if not math.isfinite(value):
        raise ParameterError(f"{what} must be finite, got {x!r}")
    return value


def _formula_params(formula: Formula, given: Mapping[str, float] | None) -> dict[str, float]:
    """Every parameter's value: the given one, else the Custom page's suggested default (1.0)."""
    given = dict(given or {})
    unknown = [n for n in given if n not in formula.params]
    if unknown:
        have = ", ".join(formula.params) or "none"
        raise FormulaError(
            f"{', '.join(map(repr, unknown))} not a parameter of {formula.text!r}; its parameters: {have}"
        )
    return {n: _finite(given.get(n, SUGGESTED_DEFAULT), f"parameter {n!r}") for n in formula.params}


def _formula_spec(formula: Formula, values: Mapping[str, float]) -> LossSpec:
    """An unregistered LossSpec of the formula (as :func:`lossviz.define` builds it), for the engine."""
    name = "diagnosed_formula"
    return LossSpec(
        name=name, title=name, family="custom", latex=formula.latex, use_when=formula.text,
        fn=CompiledFormula(formula), pred_domain=REAL, target_domain=REAL,
        params=tuple(make_param(n, v, name) for n, v in values.items()), builtin=False,
    )  # fmt: skip


def _checked_range(p_range: tuple[float, float], domain: Domain, what: str) -> tuple[float, float]:
    lo, hi = (_finite(v, "p_range") for v in p_range)
    if not lo < hi:
        raise ParameterError(f"p_range must have lo < hi, got {p_range!r}")
    if domain.invalid_mask(np.array([lo, hi])).any():
        raise ParameterError(f"p_range {p_range!r} leaves the predictions of {what}: {domain.describe()}")
    return lo, hi


def _checked_best(best: tuple[float, float]) -> tuple[float, float]:
    """(lo, hi) with lo ≤ hi, not NaN (either may be infinite)."""
    lo, hi = (float(v) for v in best)
    if math.isnan(lo) or math.isnan(hi) or lo > hi:
        raise ParameterError(f"best must be (lo, hi) with lo <= hi (either may be infinite), got {best!r}")
    return lo, hi


def _inset_range(domain: Domain) -> tuple[float, float]:
    """The domain's plotting range, moved in by 1e-3 of its width at a finite bound."""
    lo, hi = domain.plot_range
    inset = 1e-3 * (hi - lo)
    if math.isfinite(domain.low):
        lo = max(lo, domain.low + inset)
    if math.isfinite(domain.high):
        hi = min(hi, domain.high - inset)
    return float(lo), float(hi)


def _spec_target(spec: LossSpec, y: float | None) -> float | None:
    domain = spec.target_domain
    if domain is None:
        return None
    if y is not None:
        target = _finite(y, "y")
        domain.check(np.array([target]), "target", spec.name)
        return target
    if domain.is_discrete:
        return float(min(domain.values, key=abs))
    return float(np.clip(0.0, domain.low, domain.high))


def _label_best(y: float) -> tuple[float, float] | None:
    """At or beyond the label: [y, ∞) for the positive class (y ≥ 1), (−∞, y] for the negative (y ≤ 0)."""
    if y >= 1.0:
        return (y, math.inf)
    if y <= 0.0:
        return (-math.inf, y)
    return None


def _spec_best(spec: LossSpec, y: float | None) -> tuple[float, float] | None:
    """A custom formula's spec: as :func:`diagnose` reads the formula; else by the target domain."""
    if y is None or spec.target_domain is None:
        return None
    formula = formula_of(spec)
    if formula is not None:
        return _formula_best(formula, y)
    return _label_best(y) if spec.target_domain.is_discrete else (y, y)


def _uses(node: t.Node) -> frozenset[str]:
    return frozenset(n for n in t.names_used(node) if n in t.VARIABLES)


def _compares_p_with_y(node: t.Node) -> bool:
    """Whether ``node`` sets a term in p alone against a term in y alone (p − y, maximum(p, y), p < y)."""
    if isinstance(node, t.BinOp) and node.op in "+-":
        pairs = [(node.left, node.right)]
    elif isinstance(node, t.Call) and node.func in ("minimum", "maximum"):
        pairs = [(node.args[0], node.args[1])]
    elif isinstance(node, t.Compare):
        pairs = list(zip(node.operands[:-1], node.operands[1:], strict=True))
    else:
        return False
    sides = {frozenset({t.PRED}), frozenset({t.TARGET})}
    return any({_uses(a), _uses(b)} == sides for a, b in pairs)


def formula_style(formula: Formula) -> Literal["regression", "classification", "none"]:
    """How the formula relates p to y (see :func:`diagnose`): "none" without p or y."""
    if not (formula.uses_pred and formula.uses_target):
        return "none"
    stack: list[t.Node] = [formula.tree]
    while stack:
        node = stack.pop()
        if _compares_p_with_y(node):
            return "regression"
        stack.extend(t.children(node))
    return "classification"


def _formula_best(formula: Formula, y: float) -> tuple[float, float] | None:
    style = formula_style(formula)
    if style == "regression":
        return (y, y)
    return _label_best(y) if style == "classification" else None


# --- evaluation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    """A loss to diagnose: spec and parameters, the range, grid size, target and best predictions."""

    spec: LossSpec
    params: Mapping[str, float]
    lo: float
    hi: float
    points: int
    y: float | None
    best: tuple[float, float] | None

    def evaluate(self, p: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Value, gradient and curvature (NaN when not asked) at ``p``; NaN outside the prediction domain."""
        p = np.asarray(p, dtype=np.float64)
        out = np.full((3, p.size), np.nan)
        ok = ~self.spec.pred_domain.invalid_mask(p)
        if ok.any():
            target = self.y if self.spec.has_target else None
            res = evaluate(self.spec, p[ok], target, order=order, **self.params)
            out[0, ok] = res.value
            if res.grad is not None:
                out[1, ok] = res.grad
            if res.curvature is not None:
                out[2, ok] = res.curvature
        return out[0], out[1], out[2]

    @property
    def width(self) -> float:
        return self.hi - self.lo


@dataclass(frozen=True)
class _Main:
    """The main pass: the grid with value, gradient, curvature and finite differences; target and tail points."""

    x: np.ndarray
    value: np.ndarray
    grad: np.ndarray
    curv: np.ndarray
    fd: np.ndarray
    h: np.ndarray
    best_value: np.ndarray
    """The loss at the ends of the best region and just beside them (see :func:`_best_points`)."""
    tails: tuple[tuple[int, np.ndarray, np.ndarray], ...]
    """(direction ±1, points, values) beyond each end of the range the domain allows."""

    @property
    def step(self) -> float:
        return float(self.x[1] - self.x[0])

    @property
    def ok(self) -> np.ndarray:
        """Grid points where value, gradient and curvature are all finite."""
        return np.isfinite(self.value) & np.isfinite(self.grad) & np.isfinite(self.curv)


@dataclass(frozen=True)
class _Scales:
    """Sizes of the loss on the range that thresholds are relative to: lowest and highest value, the
    spread between the 1st and 99th percentile of values, and the 99th percentile of |value|,
    |gradient| and |curvature| (each at least 1e-300)."""

    low: float
    high: float
    spread: float
    value: float
    grad: float
    curv: float


def _typical_max(a: np.ndarray) -> float:
    """The 99th percentile of |a| over its finite entries: the largest size, unless a few points near a
    singularity (|gradient| 1e15 next to log|p − y|) would set every threshold out of reach."""
    finite = np.abs(a[np.isfinite(a)])
    return float(np.percentile(finite, 99.0)) if finite.size else 0.0


def _scales(main: _Main) -> _Scales:
    finite = main.value[np.isfinite(main.value)]
    if finite.size == 0:
        return _Scales(math.nan, math.nan, 1e-300, 1e-300, 1e-300, 1e-300)
    low, high = float(finite.min()), float(finite.max())
    # The spread between the 1st and 99th percentiles: one singular spike does not set the scale.
    p1, p99 = np.percentile(finite, [1.0, 99.0])
    spread = max(float(p99 - p1), high - low if p99 == p1 else 0.0, 1e-300)
    return _Scales(
        low, high, spread, max(_typical_max(main.value), 1e-300), max(_typical_max(main.grad), 1e-300),
        max(_typical_max(main.curv), 1e-300),
    )  # fmt: skip


def _best_points(problem: _Problem) -> np.ndarray:
    """The ends of the best region inside the range, and points just beside them (a formula may be
    undefined exactly at p = y, as cross-entropy is at p = y = 1, yet defined next to it)."""
    if problem.best is None:
        return np.empty(0)
    eta = 1e-9 * problem.width
    ends = [v for v in sorted(set(problem.best)) if problem.lo <= v <= problem.hi]
    pts = np.array([e + d for e in ends for d in (-eta, 0.0, eta)])
    return pts[(pts >= problem.lo) & (pts <= problem.hi)] if pts.size else pts


def _tail_points(problem: _Problem) -> list[tuple[int, np.ndarray]]:
    """The end of the range and points beyond it, end ± width · 10^k, where the prediction domain allows."""
    offsets = np.concatenate([[0.0], problem.width * 10.0**TAIL_EXPONENTS])
    tails = []
    domain = problem.spec.pred_domain
    if math.isinf(domain.high):
        tails.append((1, problem.hi + offsets))
    if math.isinf(domain.low):
        tails.append((-1, problem.lo - offsets))
    return tails


def _main_pass(problem: _Problem) -> _Main:
    """Value, gradient and curvature on the grid, and every other point of the first pass, in one call."""
    x = np.linspace(problem.lo, problem.hi, problem.points)
    h = FD_STEP * np.maximum(1.0, np.abs(x))
    best = _best_points(problem)
    tails = _tail_points(problem)
    pts = np.concatenate([x, x + h, x - h, best, *(p for _, p in tails)])
    value, grad, curv = problem.evaluate(pts, order=2)
    n = x.size
    fd = (value[n : 2 * n] - value[2 * n : 3 * n]) / (2.0 * h)
    start = 3 * n + best.size
    tail_values = []
    for direction, p in tails:
        tail_values.append((direction, p, value[start : start + p.size]))
        start += p.size
    return _Main(x, value[:n], grad[:n], curv[:n], fd, h, value[3 * n : 3 * n + best.size], tuple(tail_values))


# --- screening: which grid cells hold something narrower than the grid -----------------------------------

KINK, JUMP, BORDER, SPIKE = 0, 1, 2, 3


@dataclass(frozen=True)
class _Cells:
    """Cells [a, b] to refine, each with its kind (KINK, JUMP, BORDER, SPIKE) and the grid cell it came from."""

    a: np.ndarray
    b: np.ndarray
    kind: np.ndarray
    cell: np.ndarray
    finite_left: np.ndarray
    """For a BORDER: whether the value is defined at a (else at b)."""

    @property
    def size(self) -> int:
        return int(self.a.size)


def _zero_nan(a: np.ndarray) -> np.ndarray:
    """``a`` with NaN as 0 (a difference next to an undefined point counts as no change)."""
    return np.where(np.isnan(a), 0.0, a)


def _strongest(score: np.ndarray, mask: np.ndarray, limit: int) -> np.ndarray:
    """Indices where ``mask`` holds, the ``limit`` highest scores first."""
    idx = np.flatnonzero(mask)
    return idx[np.argsort(-score[idx], kind="stable")[:limit]]


def _neighbour_max(a: np.ndarray) -> np.ndarray:
    """Elementwise max of a cell's value and its two neighbours' (at the ends, the one there is)."""
    padded = np.pad(a, 1, mode="edge")
    return np.maximum(np.maximum(padded[:-2], padded[1:-1]), padded[2:])


def _screen(main: _Main, scales: _Scales) -> tuple[_Cells, np.ndarray, np.ndarray]:
    """Grid cells that may hold a kink, a jump, a border of an undefined region or a downward spike.

    Kink: the gradient changes across the cell by more than the trapezoid rule over the curvature
    gives, beyond :data:`SCREEN_RATIO` × that rule's own error for a smooth loss (Δ·|c″|Δ²/12, with
    c″ from the curvature's second difference around the cell). Jump: likewise for the value against
    its slope, beyond what a kink could explain (Δ × the gradient's unexplained change); the slope is
    the finite difference where it is defined, so that a wrong gradient shows as a mismatch, not as
    steps everywhere. Border:
    the value is defined at one end only. Spike: a grid local minimum with negative (or undefined)
    curvature — the loss dips between grid points, possibly to −∞.

    Also returns the kink and the jump candidates beyond the caps (masks over grid cells): they are
    not refined, only reported as cells, and the finite-difference check skips their ends.
    """
    x, v, g, c, d = main.x, main.value, main.grad, main.curv, main.step
    slope = np.where(np.isfinite(main.fd), main.fd, g)
    ok = main.ok
    cell_ok = ok[:-1] & ok[1:]
    with np.errstate(invalid="ignore"):
        second = np.abs(np.diff(_zero_nan(c), 2))
    c2 = _neighbour_max(np.concatenate([second[:1], second, second[-1:]]))  # one per grid point
    c2_cell = np.maximum(c2[:-1], c2[1:])
    dc_cell = _neighbour_max(np.abs(np.diff(_zero_nan(c))))
    smooth_g = d * c2_cell / 12.0
    smooth_v = d * d * dc_cell / 12.0
    with np.errstate(invalid="ignore", over="ignore"):
        unexplained_g = np.abs(np.diff(g) - d * (c[:-1] + c[1:]) / 2.0)
        unexplained_v = np.abs(np.diff(v) - d * (slope[:-1] + slope[1:]) / 2.0)
        kink = cell_ok & (unexplained_g > SCREEN_RATIO * smooth_g + SCREEN_RTOL * scales.grad)
        jump = cell_ok & (unexplained_v > SCREEN_RATIO * smooth_v + d * unexplained_g + SCREEN_RTOL * scales.spread)
    kinks = _strongest(unexplained_g / (smooth_g + 1e-300), kink, MAX_KINK_CELLS)
    jumps = _strongest(unexplained_v / (smooth_v + 1e-300), jump, MAX_JUMP_CELLS)
    kink[kinks] = False
    jump[jumps] = False

    defined = np.isfinite(v)
    borders = np.flatnonzero(defined[:-1] != defined[1:])[:MAX_BORDER_CELLS]
    inner = np.arange(1, x.size - 1)
    with np.errstate(invalid="ignore"):
        local_min = (
            defined[inner - 1] & defined[inner] & defined[inner + 1]
            & (v[inner] <= v[inner - 1]) & (v[inner] <= v[inner + 1]) & ~(c[inner] >= 0)
        )  # fmt: skip
    spikes = inner[_strongest(-np.where(np.isnan(v[inner]), np.inf, v[inner]), local_min, MAX_SPIKE_CELLS)]

    cells = np.concatenate([kinks, jumps, borders, spikes - 1])
    b_index = np.concatenate([kinks + 1, jumps + 1, borders + 1, spikes + 1])
    kind = np.concatenate([np.full(kinks.size, KINK), np.full(jumps.size, JUMP), np.full(borders.size, BORDER),
                           np.full(spikes.size, SPIKE)])  # fmt: skip
    return _Cells(x[cells], x[b_index], kind, cells, defined[cells]), kink, jump


# --- refinement ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Refined:
    """The last refinement round: its samples (cells × splits + 1), values and gradients, the chosen sub-cell."""

    cells: _Cells
    s: np.ndarray
    value: np.ndarray
    grad: np.ndarray
    j: np.ndarray

    def sub(self) -> tuple[np.ndarray, np.ndarray]:
        """The chosen sub-cell [a, b] of each cell (two sub-cells around the lowest sample for a SPIKE)."""
        rows = np.arange(self.s.shape[0])
        wide = np.where(self.cells.kind == SPIKE, np.minimum(self.j + 2, REFINE_SPLITS), self.j + 1)
        return self.s[rows, self.j], self.s[rows, wide]


def _samples(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    frac = np.linspace(0.0, 1.0, REFINE_SPLITS + 1)
    s = a[:, None] + (b - a)[:, None] * frac[None, :]
    s[:, -1] = b  # a + (b − a)·1 need not round to b
    return s


def _choose(kind: np.ndarray, finite_left: np.ndarray, value: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """The sub-cell index each cell keeps: largest gradient change (KINK), value change (JUMP), the
    defined/undefined crossing nearest the defined end (BORDER), the cell left of the lowest sample (SPIKE)."""
    dg = _zero_nan(np.abs(np.diff(grad, axis=1)))
    dv = _zero_nan(np.abs(np.diff(value, axis=1)))
    defined = np.isfinite(value)
    to_undefined = defined[:, :-1] & ~defined[:, 1:]
    from_undefined = ~defined[:, :-1] & defined[:, 1:]
    first = np.argmax(to_undefined, axis=1)
    last = to_undefined.shape[1] - 1 - np.argmax(from_undefined[:, ::-1], axis=1)
    low = np.argmin(np.where(defined, value, np.inf), axis=1)
    spike = np.clip(low - 1, 0, REFINE_SPLITS - 2)  # keep two sub-cells around the lowest sample
    return np.select(
        [kind == KINK, kind == JUMP, (kind == BORDER) & finite_left, kind == BORDER],
        [np.argmax(dg, axis=1), np.argmax(dv, axis=1), first, last],
        default=spike,
    )


def _refine(problem: _Problem, cells: _Cells) -> _Refined | None:
    """Shrink every cell :data:`REFINE_ROUNDS` times, all cells in one evaluation per round."""
    if cells.size == 0:
        return None
    a, b = cells.a, cells.b
    for _ in range(REFINE_ROUNDS):
        s = _samples(a, b)
        value, grad, _ = problem.evaluate(s.ravel(), order=1)
        value, grad = value.reshape(s.shape), grad.reshape(s.shape)
        j = _choose(cells.kind, cells.finite_left, value, grad)
        rows = np.arange(s.shape[0])
        wide = cells.kind == SPIKE
        a = s[rows, j]
        b = np.where(wide, s[rows, np.minimum(j + 2, REFINE_SPLITS)], s[rows, j + 1])
    return _Refined(cells, s, value, grad, j)


def _shortest_decimal(a: float, b: float) -> float:
    """The number with the fewest decimal digits in [a, b] (0 if the interval holds 0)."""
    if a <= 0.0 <= b:
        return 0.0
    mid = 0.5 * (a + b)
    top = math.floor(math.log10(max(abs(a), abs(b))))
    for digits in range(-top, 18):
        q = round(mid, digits)
        if a <= q <= b:
            return float(q)
    return mid


# --- the checks ------------------------------------------------------------------------------------------


def _runs(x: np.ndarray, mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of consecutive True in ``mask`` as (first index, last index)."""
    if not mask.any():
        return []
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist(), strict=True))


def _split(runs: list[tuple[int, int]], breaks: list[int]) -> list[tuple[int, int]]:
    """The runs cut at each break cell c (between grid points c and c + 1)."""
    out = []
    for i, j in runs:
        for c in sorted(b for b in breaks if i <= b < j):
            out.append((i, c))
            i = c + 1
        out.append((i, j))
    return out


def _intervals(x: np.ndarray, mask: np.ndarray) -> tuple[Interval, ...]:
    return tuple((float(x[i]), float(x[j])) for i, j in _runs(x, mask))


def _num(v: float) -> str:
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"{v:.4g}"


def _describe(where: tuple[Interval, ...], limit: int = 3) -> str:
    """The intervals in words: 'p = 0.5', '−5 ≤ p ≤ 0', 'as p → ∞'."""
    parts = []
    for lo, hi in where[:limit]:
        if math.isinf(hi) and hi > 0:
            parts.append("as p → ∞")
        elif math.isinf(lo) and lo < 0:
            parts.append("as p → −∞")
        elif lo == hi:
            parts.append(f"p = {_num(lo)}")
        else:
            parts.append(f"{_num(lo)} ≤ p ≤ {_num(hi)}")
    more = f" and {len(where) - limit} more" if len(where) > limit else ""
    return ", ".join(parts) + more


def _finding(code: Code, message: str, where: tuple[Interval, ...], **extra: object) -> Finding:
    return Finding(code, SEVERITY[code], message, where, **extra)  # type: ignore[arg-type]


def _best_level(problem: _Problem, main: _Main) -> float | None:
    """The lowest defined loss over the best predictions (the range end nearest them if they lie outside)."""
    assert problem.best is not None
    eta = 1e-9 * problem.width  # a grid point 1e-16 from y is at the target (log|p − y| is −35 there)
    lo, hi = problem.best
    inside = (main.x >= lo - eta) & (main.x <= hi + eta)
    if hi < problem.lo or lo > problem.hi:  # all beyond one end: the nearest end stands for them
        inside[0 if hi < problem.lo else -1] = True
    levels = np.concatenate([main.value[inside], main.best_value])
    levels = levels[np.isfinite(levels)]
    return float(levels.min()) if levels.size else None


def _check_sign(problem: _Problem, main: _Main, scales: _Scales) -> list[Finding]:
    """``sign``: somewhere on the range the loss is lower than at the best predictions.

    With best = (y, y) (regression-style) this catches both a loss that falls as p moves away from y
    (a likelihood or gain: the target is its maximum) and one whose minimum lies elsewhere. Lower
    means by more than :data:`SIGN_RTOL` × the loss's spread, so a flat bottom (hinge beyond the
    margin, equal to its value at the label) is no finding.
    """
    if problem.best is None:
        return []
    level = _best_level(problem, main)
    if level is None:
        return []
    with np.errstate(invalid="ignore"):
        lower = main.value < level - SIGN_RTOL * scales.spread
    if not lower.any():
        return []
    where = _intervals(main.x, lower)
    k = int(np.nanargmin(main.value))
    b_lo, b_hi = problem.best
    target = f"p = {_num(b_lo)}" if b_lo == b_hi else ("p ≥ " + _num(b_lo) if math.isinf(b_hi) else "p ≤ " + _num(b_hi))
    if level >= scales.high - SIGN_RTOL * scales.spread:
        message = (
            f"The loss is highest at the target ({target}) and falls as the prediction moves away: this is a "
            "gain or a likelihood, not a loss, so minimising it pushes predictions away from y. Is a minus sign "
            "missing or extra?"
        )
    else:
        message = (
            f"The loss is lower at p = {_num(main.x[k])} ({_num(main.value[k])}) than at the target, {target} "
            f"({_num(level)}): training will move predictions towards p ≈ {_num(main.x[k])}, not to y. If p is on "
            "another scale than y (a logit, a log-rate), tell the doctor where the best prediction lies."
        )
    return [_finding("sign", message, where)]


def _falls_without_bound(values: np.ndarray) -> np.ndarray:
    """For each row, a sequence at equal geometric steps towards a border, a spike or infinity: whether
    it falls at every step (by more than rounding) and its last fall is at least :data:`UNBOUNDED_KEEP` ×
    its largest. log-like and power-like singularities keep falling; a loss nearing a finite limit
    falls less and less (by a constant factor per step). Rows need 4 defined values (3 falls), counted
    from the start up to the first undefined one.
    """
    values = np.atleast_2d(values)
    defined = np.cumprod(np.isfinite(values), axis=1).astype(bool)
    with np.errstate(invalid="ignore"):
        falls = values[:, :-1] - values[:, 1:]
    both = defined[:, :-1] & defined[:, 1:]
    with np.errstate(invalid="ignore"):
        # A fall must beat the rounding of the two values it is the difference of.
        tol = 1e-12 * np.maximum(np.abs(values[:, :-1]), np.abs(values[:, 1:])) + 1e-300
        falling = np.where(both, falls > tol, True).all(axis=1)
    count = both.sum(axis=1)
    last_index = np.maximum(count - 1, 0)
    rows = np.arange(values.shape[0])
    last = np.where(count > 0, falls[rows, last_index], 0.0)
    largest = np.where(both, falls, -np.inf).max(axis=1)
    with np.errstate(invalid="ignore"):
        return (count >= 3) & falling & (last >= UNBOUNDED_KEEP * largest)


def _check_tails(main: _Main, problem: _Problem) -> list[Interval]:
    """Directions beyond the range along which the loss falls without bound."""
    out = []
    for direction, _, values in main.tails:
        if _falls_without_bound(values)[0]:
            out.append((problem.hi, math.inf) if direction > 0 else (-math.inf, problem.lo))
    return out


@dataclass(frozen=True)
class _Feature:
    """A kink, jump, border or spike located by refinement (position exact to the final sub-cell)."""

    kind: int
    at: float
    a: float
    b: float
    cell: int
    strength: float
    confirmed: bool
    finite_left: bool


def _features(refined: _Refined, scales: _Scales) -> list[_Feature]:
    """Decide, for each refined cell, whether it really holds its feature, and where.

    Kink: the chosen sub-cell's gradient change exceeds :data:`KINK_CONTRAST` × the median over all
    sub-cells and :data:`KINK_RTOL` × the largest gradient (a smooth loss changes by about the same in
    every sub-cell, ~curvature × 1e-9). Jump: the value change exceeds :data:`JUMP_CONTRAST` × what the
    gradient explains over the sub-cell. Borders and spikes are always kept (the probes decide).
    """
    rows = np.arange(refined.s.shape[0])
    j = refined.j
    a, b = refined.sub()
    dg = _zero_nan(np.abs(np.diff(refined.grad, axis=1)))
    dv = _zero_nan(np.abs(np.diff(refined.value, axis=1)))
    kink_size = dg[rows, j]
    kink_ok = (kink_size > KINK_CONTRAST * np.median(dg, axis=1)) & (kink_size > KINK_RTOL * scales.grad)
    slope = _zero_nan(np.maximum(np.abs(refined.grad[rows, j]), np.abs(refined.grad[rows, j + 1])))
    jump_size = dv[rows, j]
    jump_ok = jump_size > JUMP_CONTRAST * slope * (b - a) + SCREEN_RTOL * scales.spread
    kinds = refined.cells.kind
    confirmed = np.select([kinds == KINK, kinds == JUMP], [kink_ok, jump_ok], default=True)
    strength = np.select([kinds == KINK, kinds == JUMP], [kink_size, jump_size], default=0.0)
    out = []
    for i in range(kinds.size):  # one per refined cell (a handful), never per grid point
        at = _shortest_decimal(float(a[i]), float(b[i]))
        out.append(_Feature(int(kinds[i]), at, float(a[i]), float(b[i]), int(refined.cells.cell[i]),
                            float(strength[i]), bool(confirmed[i]), bool(refined.cells.finite_left[i])))  # fmt: skip
    return out


def _distinct(features: list[_Feature], tol: float) -> list[_Feature]:
    """One feature per place: two grid cells beside a kink on a grid point both find it."""
    kept: list[_Feature] = []
    for f in sorted(features, key=lambda f: (f.kind, f.at, -f.strength)):
        if kept and kept[-1].kind == f.kind and abs(kept[-1].at - f.at) <= tol:
            continue
        kept.append(f)
    return kept


@dataclass(frozen=True)
class _Probes:
    """The last pass: gradient at each kink and beside it, values beside each jump, walks into borders and spikes."""

    corner: np.ndarray
    """(features, 5): value at at − 2ε, at − ε, at, at + ε, at + 2ε."""
    corner_grad: np.ndarray
    """(features, 5): gradient at the same points."""
    walks: np.ndarray
    """(walks, PROBE_DECADES) values at distances step · 10^-k, far to near."""


def _probe_pass(problem: _Problem, main: _Main, corners: list[_Feature], walks: list[tuple[float, float]]) -> _Probes:
    """Evaluate every probe point in one call (order 1)."""
    eps = 1e-7 * problem.width
    at = np.array([f.at for f in corners], dtype=np.float64)
    corner_pts = np.clip(at[:, None] + eps * np.arange(-2.0, 3.0)[None, :], problem.lo, problem.hi)
    origin = np.array([w[0] for w in walks], dtype=np.float64)
    direction = np.array([w[1] for w in walks], dtype=np.float64)
    distances = main.step * 10.0 ** -np.arange(PROBE_DECADES)
    walk_pts = np.clip(origin[:, None] + direction[:, None] * distances[None, :], problem.lo, problem.hi)
    pts = np.concatenate([corner_pts.ravel(), walk_pts.ravel()])
    if pts.size == 0:
        return _Probes(np.empty((0, 5)), np.empty((0, 5)), np.empty((0, PROBE_DECADES)))
    value, grad, _ = problem.evaluate(pts, order=1)
    n = corner_pts.size
    return _Probes(value[:n].reshape(-1, 5), grad[:n].reshape(-1, 5), value[n:].reshape(-1, PROBE_DECADES))


def _one_sided(samples: np.ndarray) -> tuple[float, float, float]:
    """(left limit, at the point, right limit) from samples at −2ε, −ε, 0, ε, 2ε: each limit extrapolated
    linearly (2·f(±ε) − f(±2ε)), exact for a piece that is linear near the point."""
    far_l, near_l, at, near_r, far_r = (float(v) for v in samples)
    return 2.0 * near_l - far_l, at, 2.0 * near_r - far_r


def _kink_finding(f: _Feature, grads: np.ndarray) -> Finding:
    left, at, right = _one_sided(grads)
    close = 1e-4 * abs(right - left)  # the one-sided limits are extrapolated: equal to about ε²·|g‴|
    if abs(at - left) <= close:
        which = "the slope on its left"
    elif abs(at - right) <= close:
        which = "the slope on its right"
    elif min(left, right) <= at <= max(left, right):
        which = "a subgradient between the two slopes"
    else:
        which = "a value outside the two slopes"
    message = (
        f"The loss has a corner at p = {_num(f.at)}: its slope jumps from {_num(left)} to {_num(right)}. Exactly "
        f"there lossviz (autograd) reports the gradient {_num(at)}, {which}; with a fixed step size gradient "
        "descent zig-zags around a corner instead of settling on it."
    )
    return _finding("kink", message, ((f.at, f.at),), subgradient=at, slopes=(left, right))


def _differ(a: float, b: float, scale: float) -> bool:
    """Whether two one-sided limits (or a limit and the value at the point) differ beyond extrapolation error."""
    return abs(a - b) > 1e-6 * (abs(a) + abs(b)) + 1e-9 * scale


def _jump_finding(f: _Feature, values: np.ndarray, scales: _Scales) -> list[Finding]:
    left, at, right = _one_sided(values)
    if _differ(left, right, scales.spread):
        message = (
            f"The loss jumps from {_num(left)} to {_num(right)} at p = {_num(f.at)}. The gradient does not see a "
            "step (it is the slope on either side), so training cannot tell which side is lower."
        )
    elif _differ(at, left, scales.spread):
        message = (
            f"The loss is {_num(at)} at the single point p = {_num(f.at)} but {_num(left)} on either side of it: "
            "a value no gradient leads to or away from."
        )
    else:
        return []
    return [_finding("jump", message, ((f.at, f.at),), slopes=(left, right))]


def _corners(corners: list[_Feature], grads: np.ndarray, scales: _Scales) -> tuple[list[Finding], list[Interval]]:
    """Kink findings, and the points where the slopes on both sides agree but autograd's gradient at the
    point differs from them (e.g. relu(p) − relu(−p) = p, whose autograd gradient at 0 is 0 + 0): a
    gradient mismatch at one point, not a kink."""
    kinks, glitches = [], []
    for f, g in zip(corners, grads, strict=True):
        left, at, right = _one_sided(g)
        if _differ(left, right, scales.grad):
            kinks.append(_kink_finding(f, g))
        elif _differ(at, 0.5 * (left + right), scales.grad):
            glitches.append((f.at, f.at))
    return kinks, glitches


def _all_real(features: list[_Feature], kind: int) -> bool:
    """Whether every refined candidate of this kind was confirmed (then the weaker ones beyond the cap
    probably are real too)."""
    of_kind = [f for f in features if f.kind == kind]
    return bool(of_kind) and all(f.confirmed for f in of_kind)


def _unlocated(main: _Main, cells: np.ndarray, code: Code, limit: int, plausible: bool) -> list[Finding]:
    """Kink or jump candidates beyond the cap, as the grid cells [x_i, x_{i+1}] that hold them; reported
    only when ``plausible`` (every refined candidate of the kind was real)."""
    if not cells.any() or not plausible:
        return []
    idx = np.flatnonzero(cells)
    where = tuple((float(main.x[i]), float(main.x[i + 1])) for i in idx)
    what = "corners (the slope jumps)" if code == "kink" else "steps (the value jumps)"
    message = (
        f"The loss probably has more {what} inside {len(where)} grid cells, {_describe(where)}; only the "
        f"strongest {limit} are located precisely."
    )
    return [_finding(code, message, where)]


def _check_nan(main: _Main, borders: list[_Feature]) -> list[Finding]:
    """``nan``: grid runs where value, gradient or curvature is undefined; ends sharpened at refined borders."""
    bad = ~main.ok
    runs = _runs(main.x, bad)
    if not runs:
        return []
    sharp = {f.cell: f.at for f in borders}
    where = []
    for i, j in runs:
        lo = sharp.get(i - 1, float(main.x[i]))  # the border cell left of the run is cell i − 1
        hi = sharp.get(j, float(main.x[j]))
        where.append((lo, hi))
    value_bad = (~np.isfinite(main.value)).any()
    what = "value" if value_bad else "gradient or curvature (an infinite slope)"
    cause = "log or sqrt of a negative number, 0/0 or 1/0" if value_bad else "e.g. sqrt or a power below 1 at 0"
    message = (
        f"The loss's {what} is undefined (NaN) at {_describe(tuple(where))} ({cause}). A prediction that reaches "
        "there gives NaN, and one NaN in a batch spoils every weight it touches."
    )
    return [_finding("nan", message, tuple(where))]


def _check_unbounded(problem: _Problem, main: _Main, walks: list[_Feature], walked: np.ndarray) -> list[Finding]:
    """``unbounded_below``: the loss falls without bound beyond the range, into a border of an undefined
    region, or into a spike between grid points (see :func:`_falls_without_bound`)."""
    where: list[Interval] = list(_check_tails(main, problem))
    falling = _falls_without_bound(walked) if walked.size else np.zeros(0, dtype=bool)
    seen = []
    for f, falls in zip(walks, falling, strict=True):
        if falls and not any(abs(f.at - s) <= 1e-6 * problem.width for s in seen):
            seen.append(f.at)
            where.append((f.at, f.at))
    if not where:
        return []
    places = ", ".join(
        "as p → ∞" if b == math.inf else "as p → −∞" if a == -math.inf else f"towards p = {_num(a)}"
        for a, b in sorted(where)
    )
    message = (
        f"The loss falls without bound {places}: it has no lowest value, so training can lower it forever by "
        "pushing predictions there instead of towards the target."
    )
    return [_finding("unbounded_below", message, tuple(sorted(where)))]


def _where_finding(code: Code, x: np.ndarray, mask: np.ndarray, message: Callable[[str], str]) -> list[Finding]:
    """One finding over the intervals of ``x`` where ``mask`` holds (none where it never does); ``message``
    gets those intervals in words."""
    if not mask.any():
        return []
    where = _intervals(x, mask)
    return [_finding(code, message(_describe(where)), where)]


def _check_curvature_and_sign(main: _Main, scales: _Scales) -> list[Finding]:
    """``nonconvex``: curvature below −(:data:`NONCONVEX_RTOL` × max |curvature|); ``negative``: values below
    −(:data:`NEGATIVE_RTOL` × max |L|)."""
    with np.errstate(invalid="ignore"):
        concave = main.curv < -NONCONVEX_RTOL * scales.curv
        below = main.value < -NEGATIVE_RTOL * scales.value
    nonconvex = _where_finding("nonconvex", main.x, concave, lambda places: (
        f"The loss bends downwards (negative curvature) at {places}: there the pull of a point weakens as it "
        "moves away (redescending influence, robust to outliers), and summed over data the loss can have several "
        "minima, so where training ends depends on where it starts."
    ))
    negative = _where_finding("negative", main.x, below, lambda places: (
        f"The loss is negative at {places} (down to {_num(float(np.nanmin(main.value)))}). That is allowed — "
        "gradients and training are the same as for the loss plus a constant — but its value is no longer "
        "'distance from perfect', so don't compare it with other losses."
    ))
    return nonconvex + negative


def _check_flat(problem: _Problem, main: _Main, scales: _Scales, jumps: list[int]) -> list[Finding]:
    """``flat``: intervals of at least 3 grid points and :data:`FLAT_MIN_WIDTH` of the range where
    |gradient| < :data:`FLAT_RTOL` × the mean slope (spread of the loss / width of the range) and the
    loss stays above its minimum (by :data:`FLAT_MIN_LEVEL` × spread); the grid cells holding a jump
    (``jumps``) end an interval, as a step separates two plateaus. A loss constant on the whole range is
    flat everywhere."""
    finite = np.isfinite(main.value)
    if not finite.any():
        return []
    if scales.high - scales.low <= 1e-12 * scales.value and scales.grad <= 1e-300:
        where = ((problem.lo, problem.hi),)
        message = (
            "The loss does not change with the prediction on this range (its gradient is 0 everywhere): training "
            "gets no signal at all. Does the formula use p, and is the target one the formula expects?"
        )
        return [_finding("flat", message, where)]
    slope = (scales.high - scales.low) / problem.width
    with np.errstate(invalid="ignore"):
        small = finite & np.isfinite(main.grad) & (np.abs(main.grad) < FLAT_RTOL * slope)
    floor = scales.low + FLAT_MIN_LEVEL * (scales.high - scales.low)
    where = []
    for i, j in _split(_runs(main.x, small), jumps):
        wide = j - i >= 2 and main.x[j] - main.x[i] >= FLAT_MIN_WIDTH * problem.width
        if wide and np.nanmin(main.value[i : j + 1]) > floor:
            where.append((float(main.x[i]), float(main.x[j])))
    if not where:
        return []
    message = (
        f"The gradient all but vanishes at {_describe(tuple(where))} although the loss is not at its minimum there: "
        "predictions that land there barely move, so training stalls (as the saturating GAN loss does)."
    )
    return [_finding("flat", message, tuple(where))]


def _mismatch(main: _Main, scales: _Scales, exclude: np.ndarray, points: list[Interval]) -> list[Finding]:
    """``gradient_mismatch``: autograd's gradient against the central difference (L(p+h) − L(p−h)) / 2h
    on the grid, and ``points`` found by refinement where it differs from the slope on both sides.

    Skipped where any of the three values is undefined and within 2h of a kink or jump. Allowed:
    :data:`FD_RTOL` × the larger of the two, 1e-9 × the gradient scale, the quotient's rounding error
    (1e-12 × max |L| / h: formulas may cancel digits) and its truncation error (h² × |L‴|, with L‴
    from the change of curvature over a grid step).
    """
    g, fd, h = main.grad, main.fd, main.h
    dc = np.abs(np.diff(_zero_nan(main.curv)))
    third = np.maximum(np.concatenate([dc[:1], dc]), np.concatenate([dc, dc[-1:]])) / main.step
    allowed = (
        FD_RTOL * np.maximum(np.abs(g), np.abs(fd)) + 1e-9 * scales.grad
        + 1e-12 * scales.value / h + h * h * third
    )  # fmt: skip
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(fd) & main.ok & ~exclude & (np.abs(g - fd) > allowed)
    where = _intervals(main.x, bad)
    where += tuple(p for p in points if not any(lo <= p[0] <= hi for lo, hi in where))
    if not where:
        return []
    worst = ""
    if bad.any():
        k = int(np.argmax(np.where(bad, np.abs(g - fd), -np.inf)))
        worst = f" (at p = {_num(main.x[k])}: {_num(g[k])} against a finite difference of {_num(fd[k])})"
    message = (
        f"The gradient lossviz computes disagrees with the slope of the loss itself at {_describe(where)}{worst}. "
        "Training would follow a wrong direction there: autograd's rule for a tie or a corner, or a bug in a "
        "closed-form gradient."
    )
    return [_finding("gradient_mismatch", message, tuple(sorted(where)))]


def _near(x: np.ndarray, points: list[float], radius: np.ndarray) -> np.ndarray:
    if not points:
        return np.zeros(x.size, dtype=bool)
    return (np.abs(x[:, None] - np.array(points)[None, :]) <= radius[:, None]).any(axis=1)


# --- the whole diagnosis ------------------------------------------------------------------------------------


def _walks(borders: list[_Feature], spikes: list[_Feature]) -> tuple[list[_Feature], list[tuple[float, float]]]:
    """Walks into each border (from its undefined end, on the defined side) and each spike (both sides),
    as (origin, direction): the probes lie at origin + direction · step · 10^-k."""
    features: list[_Feature] = []
    specs: list[tuple[float, float]] = []
    for f in borders:
        specs.append((f.b, -1.0) if f.finite_left else (f.a, 1.0))
        features.append(f)
    for f in spikes:
        specs += [(f.at, -1.0), (f.at, 1.0)]
        features += [f, f]
    return features, specs


def _is(features: list[_Feature], kind: int) -> np.ndarray:
    return np.array([f.kind == kind for f in features], dtype=bool)


def _run(problem: _Problem) -> list[Finding]:
    main = _main_pass(problem)
    scales = _scales(main)
    cells, more_kinks, more_jumps = _screen(main, scales)
    skipped = more_kinks | more_jumps
    unrefined = np.concatenate([skipped, [False]]) | np.concatenate([[False], skipped])
    refined = _refine(problem, cells)
    features = _features(refined, scales) if refined is not None else []
    corners = _distinct([f for f in features if f.kind in (KINK, JUMP) and f.confirmed], 1e-6 * problem.width)
    borders = [f for f in features if f.kind == BORDER]
    walk_features, walk_specs = _walks(borders, [f for f in features if f.kind == SPIKE])
    probes = _probe_pass(problem, main, corners, walk_specs)
    kinks, glitches = _corners([f for f in corners if f.kind == KINK], probes.corner_grad[_is(corners, KINK)], scales)
    jumps = [f.at for f in corners if f.kind == JUMP]
    glitches = [g for g in glitches if not any(abs(g[0] - at) <= 1e-6 * problem.width for at in jumps)]
    real = jumps + [k.where[0][0] for k in kinks]
    exclude = _near(main.x, real, 2.0 * main.h) | unrefined

    findings: list[Finding] = []
    findings += _check_sign(problem, main, scales)
    findings += _check_unbounded(problem, main, walk_features, probes.walks)
    findings += _mismatch(main, scales, exclude, glitches)
    findings += _check_nan(main, borders)
    for f, values in zip([f for f in corners if f.kind == JUMP], probes.corner[_is(corners, JUMP)], strict=True):
        findings += _jump_finding(f, values, scales)
    findings += _unlocated(main, more_jumps, "jump", MAX_JUMP_CELLS, _all_real(features, JUMP))
    findings += _check_flat(problem, main, scales, [f.cell for f in corners if f.kind == JUMP])
    findings += kinks
    findings += _unlocated(main, more_kinks, "kink", MAX_KINK_CELLS, _all_real(features, KINK))
    findings += _check_curvature_and_sign(main, scales)
    return sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.severity], CODES.index(f.code)))
