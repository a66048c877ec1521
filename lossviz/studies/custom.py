"""The Custom loss page's maths: worked examples, the check against a built-in, and undefined ranges.

Everything here is plain Python over :mod:`lossviz` (no Streamlit), so it is unit-tested directly.

* :data:`GALLERY` — worked examples written in the formula language of :mod:`lossviz.formula`
  (Cauchy, Welsch, Tukey biweight, Huber, LINEX, focal loss by hand, and the squared log error,
  which is undefined for p ≤ −1). Each names the built-in it reproduces, if any.
* :func:`check_against_builtin` — evaluates a custom loss and a built-in on one grid (value and
  gradient) and reports ‖custom − built-in‖∞ / ‖built-in‖∞. Parameters are matched by name or by
  LaTeX symbol (a formula's ``c`` is the robust losses' ``scale``, whose symbol is c).
* :func:`undefined_ranges` / :func:`undefined_note` — where (in p) a curve has no finite value,
  gradient or curvature, for the note under the chart.

References: the robust losses as in Barron, *A General and Adaptive Robust Loss Function*, CVPR 2019
(Cauchy α = 0, Welsch α → −∞); Beaton & Tukey, Technometrics 1974 (biweight); Huber 1964; Lin et al.,
*Focal Loss for Dense Object Detection*, ICCV 2017, Eq. 5; Varian 1975 and Zellner, *Bayesian
Estimation and Prediction Using Asymmetric Loss Functions*, JASA 1986 (LINEX).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from lossviz.engine import evaluate
from lossviz.errors import FormulaError
from lossviz.formula import (
    DEFAULT_VIEW,
    DIAGNOSIS_EXAMPLES,
    SUGGESTED_DEFAULT,
    SUGGESTED_RANGE,
    DiagnosisExample,
    Finding,
    define,
    diagnose,
    make_param,
    parse_formula,
    symbol,
)
from lossviz.registry import builtin_names, user_scope
from lossviz.registry import spec as get_spec
from lossviz.spec import LossSpec, Param
from lossviz.toolkit.curve import Curve

PREFIX = "custom"
"""URL/session key prefix of the Custom loss page."""
DEFAULT_NAME = "my_loss"
DEFAULT_FORMULA = "(p - y)**2"
TOLERANCE = 1e-12
"""A custom formula *matches* a built-in when both value and gradient agree to this (see :class:`Check`)."""
POINTS = DEFAULT_VIEW.points
"""Points per plotted curve (as the Curves page)."""
CHECK_POINTS = 2001
"""Predictions of the check grid, over [−CHECK_HALF_WIDTH, CHECK_HALF_WIDTH] (clipped to the built-in's domain)."""
CHECK_HALF_WIDTH = 10.0
CHECK_TARGETS = (0.0, 0.5, 1.5)
"""Targets of the check for built-ins with a continuous target (those in its domain); discrete ones use their labels."""

TARGET = Param(
    "target", DEFAULT_VIEW.target, ui_low=-5.0, ui_high=5.0, step=0.1, symbol="y",
    description="The target y at which the curves are drawn against the prediction p.",
)  # fmt: skip
CENTER = Param(
    "center", sum(DEFAULT_VIEW.p_range) / 2, ui_low=-10.0, ui_high=10.0, step=0.5,
    description="Centre of the plotted range of predictions p.",
)  # fmt: skip
HALF_WIDTH = Param(
    "half_width", (DEFAULT_VIEW.p_range[1] - DEFAULT_VIEW.p_range[0]) / 2, low=0.0, low_open=True, ui_low=0.1, ui_high=100.0, scale="log",
    description="Half the width of the plotted range: p runs from centre − w to centre + w.",
)  # fmt: skip
PAGE_CONTROLS = ("formula", "name", "target", "center", "half_width", "compare")
"""Names of the page-level controls (their keys are ``custom_<name>``); parameters may not clash with them."""
NO_COMPARISON = "none"

Decl = tuple[float, float, float]
"""A parameter declaration as the page edits it: (default, low, high)."""


@dataclass(frozen=True)
class Example:
    """A worked example of the gallery: a formula, its parameters and the view that shows it best."""

    key: str
    title: str
    formula: str
    params: Mapping[str, Decl]
    about: str
    reference: str
    builtin: str | None = None
    target: float = 0.0
    center: float = 0.0
    half_width: float = 5.0

    @property
    def name(self) -> str:
        """The name the example registers under (``my_<key>``: built-in names are taken)."""
        return f"my_{self.key}"


GALLERY_FILE = Path(__file__).with_name("custom_gallery.toml")


def load_gallery(path: Path = GALLERY_FILE) -> tuple[Example, ...]:
    """The gallery's examples, in the file's order (``[[example]]`` tables with :class:`Example`'s fields;
    ``params`` maps each parameter to [default, low, high])."""
    with path.open("rb") as file:
        entries = tomllib.load(file)["example"]
    examples = []
    for entry in entries:
        params = {name: tuple(float(v) for v in decl) for name, decl in entry.pop("params", {}).items()}
        if any(len(decl) != 3 for decl in params.values()):
            raise ValueError(f"{path.name}: example {entry.get('key')!r}: params are [default, low, high]")
        examples.append(Example(**entry, params=params))
    return tuple(examples)


GALLERY: tuple[Example, ...] = load_gallery()


def example(key: str) -> Example:
    for ex in GALLERY:
        if ex.key == key:
            return ex
    raise KeyError(f"no gallery example {key!r}; examples: {', '.join(e.key for e in GALLERY)}")


def matching_example(formula: str) -> Example | None:
    """The gallery example this formula is (spaces aside), for its description and suggested ranges."""
    text = "".join(formula.split())
    return next((ex for ex in GALLERY if "".join(ex.formula.split()) == text), None)


# --- keys and the parameter table ---------------------------------------------------------------


def control_key(name: str) -> str:
    """The URL key of a page-level control, e.g. ``custom_formula``."""
    return f"{PREFIX}_{name}"


def param_keys(param: str) -> dict[str, str]:
    """URL keys of one formula parameter: its live slider and its default/low/high table entries."""
    base = f"{PREFIX}_{param}"
    return {"value": base, "default": f"{base}_default", "low": f"{base}_low", "high": f"{base}_high"}


def table_param_of(key: str) -> str | None:
    """The parameter whose table entry ``key`` is (``custom_c_low`` → ``c``), else None."""
    head, _, field_name = key.rpartition("_")
    if not head.startswith(f"{PREFIX}_") or field_name not in ("default", "low", "high"):
        return None
    param = head[len(PREFIX) + 1 :]
    return param if param.isidentifier() and param.isascii() and not param.startswith("_") else None


def key_clashes(params: Sequence[str]) -> list[str]:
    """Parameters whose URL keys collide with a page control or another parameter's keys (e.g. a
    parameter ``formula``, or ``c`` beside ``c_low``): the page asks for a rename instead of guessing."""
    taken = {control_key(n) for n in PAGE_CONTROLS}
    clashes = []
    for p in params:
        keys = set(param_keys(p).values())
        if keys & taken:
            clashes.append(p)
        taken |= keys
    return clashes


def check_loss_name(name: str) -> str:
    """The name as :func:`lossviz.define` accepts it, else FormulaError (same rule and message)."""
    stripped = name.strip()
    with user_scope({}):
        define(stripped, "p")  # validates the name only; the throwaway scope keeps nothing
    return stripped


def checked_decl(name: str, default: float, low: float, high: float) -> tuple[Decl, str | None]:
    """A usable (default, low, high) for parameter ``name``, and a warning when the default had to move.

    A default outside [low, high] is moved to the nearest end (with a warning); non-finite numbers
    or low ≥ high raise :class:`FormulaError` — there is no sensible guess for those.
    """
    values = (float(default), float(low), float(high))
    if not all(math.isfinite(v) for v in values):
        raise FormulaError(f"parameter {name!r}: default, low and high must be finite numbers, got {values}")
    d, lo, hi = values
    if not lo < hi:
        raise FormulaError(f"parameter {name!r}: low ({lo:g}) must be below high ({hi:g})")
    if lo <= d <= hi:
        return (d, lo, hi), None
    fixed = min(max(d, lo), hi)
    return (fixed, lo, hi), f"The default of {name!r} ({d:g}) lies outside [{lo:g}, {hi:g}]; using {fixed:g}."


def formula_param(name: str, decl: Decl, loss: str) -> Param:
    """The Param the page's live slider is generated from (as :func:`lossviz.define` makes it)."""
    return make_param(name, decl, loss)


def decls_of(spec: LossSpec) -> dict[str, Decl]:
    """The parameter table of a defined custom loss: each parameter's (default, low, high)."""
    return {p.name: (p.default, *p.slider_range) for p in spec.params}


def spec_for(name: str, formula: str, decls: Mapping[str, Decl]) -> LossSpec:
    """The spec of a custom loss built in a throwaway scope (for caches and checks that must not
    touch the session's own losses)."""
    with user_scope({}):
        return define(name, formula, **decls)


def caret_lines(text: str, offset: int | None) -> str:
    """The line of ``text`` holding ``offset`` with a ``^`` under that character (for a code block)."""
    if offset is None:
        return text
    offset = max(0, min(offset, len(text)))
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start : end if end >= 0 else len(text)]
    return f"{line}\n{' ' * (offset - start)}^"


# --- the plotted range and where a curve is undefined -------------------------------------------------


def x_grid(center: float, half_width: float, points: int = POINTS) -> np.ndarray:
    return np.linspace(center - half_width, center + half_width, points)


def undefined_ranges(x: np.ndarray, bad: np.ndarray) -> list[tuple[float, float]]:
    """Maximal runs of consecutive grid points where ``bad`` holds, as (first x, last x) pairs."""
    bad = np.asarray(bad, dtype=bool)
    if not bad.any():
        return []
    edges = np.diff(np.concatenate([[0], bad.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1) - 1
    return [(float(x[a]), float(x[b])) for a, b in zip(starts, stops, strict=True)]


def _interval(lo: float, hi: float, x: np.ndarray) -> str:
    """A run of undefined points in words; one touching an end of the plot may go on beyond it."""
    left = f"p ≤ {hi:.4g}" if lo == x[0] else None
    right = f"p ≥ {lo:.4g}" if hi == x[-1] else None
    if left and right:
        return "the whole plotted range"
    if left or right:
        return left or right  # type: ignore[return-value]
    return f"p = {lo:.4g}" if lo == hi else f"{lo:.4g} ≤ p ≤ {hi:.4g}"


def undefined_note(
    x: np.ndarray, value: np.ndarray, grad: np.ndarray, curvature: np.ndarray, max_ranges: int = 4
) -> str | None:
    """A sentence saying where (in p) the curve has no finite value, gradient or curvature; None if nowhere."""
    bad = ~(np.isfinite(value) & np.isfinite(grad) & np.isfinite(curvature))
    ranges = undefined_ranges(x, bad)
    if not ranges:
        return None
    shown = ", ".join(_interval(lo, hi, x) for lo, hi in ranges[:max_ranges])
    more = f" and {len(ranges) - max_ranges} more stretches" if len(ranges) > max_ranges else ""
    what = "value" if not np.isfinite(value[bad]).all() else "gradient or curvature"
    return (
        f"The formula's {what} is undefined (NaN) on {int(bad.sum())} of {len(x)} plotted points: {shown}{more}. "
        "They are drawn as gaps."
    )


# --- the check against a built-in --------------------------------------------------------------------


def compare_candidates() -> list[str]:
    """Built-in losses a formula can be checked against: pointwise, with a target and a continuous
    prediction (the formula language has one real p and one real y)."""
    out = []
    for n in builtin_names():
        s = get_spec(n)
        if s.pointwise and s.target_domain is not None and not s.pred_domain.is_discrete:
            out.append(n)
    return out


def param_mapping(formula_params: Sequence[str], builtin: str | LossSpec) -> dict[str, str]:
    """``{built-in parameter: formula parameter}``: same name, else the same LaTeX symbol (``c`` → scale)."""
    s = get_spec(builtin)
    mapping: dict[str, str] = {}
    for bp in s.params:
        same = [fp for fp in formula_params if fp == bp.name]
        alike = [fp for fp in formula_params if bp.symbol and symbol(fp) == bp.symbol]
        chosen = (same or alike or [None])[0]
        if chosen is not None and chosen not in mapping.values():
            mapping[bp.name] = chosen
    return mapping


def check_targets(builtin: str | LossSpec, target: float | None = None) -> tuple[float, ...]:
    """The targets of the check: a discrete domain's labels; else :data:`CHECK_TARGETS` and ``target``
    (the one on the page), those inside the domain."""
    domain = get_spec(builtin).target_domain
    assert domain is not None
    if domain.is_discrete:
        return tuple(float(v) for v in domain.values)
    wanted = sorted({*CHECK_TARGETS, *(() if target is None else (float(target),))})
    return tuple(t for t in wanted if not domain.invalid_mask(np.array([t])).any())


def check_preds(builtin: str | LossSpec, points: int = CHECK_POINTS) -> np.ndarray:
    """The check grid of predictions: [−10, 10] clipped to the built-in's prediction domain (inset by
    a thousandth of the span at a finite bound, where log-losses clamp)."""
    d = get_spec(builtin).pred_domain
    lo, hi = -CHECK_HALF_WIDTH, CHECK_HALF_WIDTH
    inset = 1e-3 * (hi - lo)
    if math.isfinite(d.low):
        lo = max(lo, d.low + inset)
    if math.isfinite(d.high):
        hi = min(hi, d.high - inset)
    return np.linspace(lo, hi, points)


def _norm_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖∞ / ‖b‖∞ (0 when equal; inf where a is NaN but b is not)."""
    if not np.isfinite(a).all():
        return math.inf
    scale = float(np.abs(b).max(initial=0.0))
    diff = float(np.abs(a - b).max(initial=0.0))
    if diff == 0.0:
        return 0.0
    return diff / scale if scale > 0 else math.inf


@dataclass(frozen=True)
class Check:
    """The outcome of :func:`check_against_builtin`.

    ``value_error``/``grad_error`` are ‖custom − built-in‖∞ / ‖built-in‖∞ over the grid: relative
    to the size of the built-in's curve, so that points where the built-in is 0 (the minimum, where
    both formulas round differently in the last bits) do not divide by zero.
    """

    builtin: str
    value_error: float
    grad_error: float
    points: int
    targets: tuple[float, ...]
    builtin_params: dict[str, float]
    mapping: dict[str, str]
    defaults_used: tuple[str, ...] = ()
    worst: tuple[float, float] = (math.nan, math.nan)
    tolerance: float = TOLERANCE
    problem: str | None = None
    extra_params: tuple[str, ...] = field(default_factory=tuple)
    undefined: int = 0
    """Check points where the formula's value or gradient is NaN (the built-in is always finite)."""

    @property
    def ok(self) -> bool:
        return self.problem is None and self.undefined == 0 and max(self.value_error, self.grad_error) <= self.tolerance

    @property
    def message(self) -> str:
        if self.problem is not None:
            return f"Cannot compare with `{self.builtin}`: {self.problem}"
        params = ", ".join(
            f"`{self.mapping[b]}` → {b} = {v:g}" if b in self.mapping else f"{b} = {v:g} (its default)"
            for b, v in self.builtin_params.items()
        )
        where = f" ({params})" if params else ""
        grid = f"{self.points:,} points: {self.points // len(self.targets):,} predictions × targets " + ", ".join(
            f"{t:g}" for t in self.targets
        )
        errs = f"value {self.value_error:.1e}, gradient {self.grad_error:.1e}"
        if self.ok:
            return (
                f"Your formula matches `{self.builtin}`{where} to {self.tolerance:.0e}: largest difference / "
                f"largest built-in value = {errs}, over {grid}."
            )
        p, y = self.worst
        if self.undefined:
            return (
                f"Your formula differs from `{self.builtin}`{where}: it is undefined (NaN) at {self.undefined:,} of "
                f"{grid} (first at p = {p:.4g}, y = {y:g}), where the built-in is finite."
            )
        return (
            f"Your formula differs from `{self.builtin}`{where}: largest difference / largest built-in value = "
            f"{errs} (worst at p = {p:.4g}, y = {y:g}), over {grid}."
        )


def check_against_builtin(
    custom: str | LossSpec,
    builtin: str,
    values: Mapping[str, float],
    target: float | None = None,
    tolerance: float = TOLERANCE,
) -> Check:
    """Compare a custom loss with a built-in on the check grid: value and gradient.

    ``values`` are the custom loss's parameter values; each built-in parameter takes the value of
    the formula parameter of the same name or LaTeX symbol (:func:`param_mapping`), else its own
    default. Formula values outside the built-in's valid range make the check impossible
    (``problem``), as does a built-in the check cannot take (:func:`compare_candidates`).
    """
    c = get_spec(custom)
    b = get_spec(builtin)
    if b.name not in compare_candidates():
        return Check(b.name, math.nan, math.nan, 0, (), {}, {}, problem="it is not a pointwise loss of p and y")
    mapping = param_mapping(c.param_names, b)
    given = {bp: float(values[fp]) for bp, fp in mapping.items() if fp in values}
    try:
        bvalues = b.validate_params(given)
    except ValueError as exc:
        return Check(b.name, math.nan, math.nan, 0, (), {}, mapping, problem=str(exc))
    targets = check_targets(b, target)
    preds = check_preds(b)
    pred = np.tile(preds, len(targets))
    tgt = np.repeat(np.array(targets), len(preds))
    ref = evaluate(b, pred, tgt, order=1, **bvalues)
    got = evaluate(c, pred, tgt, order=1, **{k: float(v) for k, v in values.items() if k in c.param_names})
    assert ref.grad is not None and got.grad is not None
    diff = np.abs(got.value - ref.value) + np.abs(got.grad - ref.grad)
    undefined = ~np.isfinite(diff)
    worst = int(np.argmax(undefined)) if undefined.any() else int(np.argmax(diff))
    return Check(
        b.name,
        _norm_error(got.value, ref.value),
        _norm_error(got.grad, ref.grad),
        len(pred),
        targets,
        bvalues,
        mapping,
        tuple(n for n in b.param_names if n not in mapping),
        (float(pred[worst]), float(tgt[worst])),
        tolerance,
        extra_params=tuple(n for n in c.param_names if n not in mapping.values()),
        undefined=int(undefined.sum()),
    )


def inside_domain(builtin: str | LossSpec, x: np.ndarray) -> np.ndarray:
    """The predictions of ``x`` that the built-in takes (its overlay is drawn there only)."""
    return x[~get_spec(builtin).pred_domain.invalid_mask(x)]


def overlay_target_ok(builtin: str, target: float) -> bool:
    """Whether the built-in takes the page's target (focal only takes 0 or 1)."""
    domain = get_spec(builtin).target_domain
    return domain is not None and not domain.invalid_mask(np.array([float(target)])).any()


def parses(formula: str) -> bool:
    try:
        parse_formula(formula)
    except FormulaError:
        return False
    return True


# --- curves -------------------------------------------------------------------------------------------


def sweep_curves(
    loss: LossSpec, param: str, frame_values: Sequence[float], x: np.ndarray, target: float, values: Mapping[str, float]
) -> list[Curve]:
    """The curve of a custom loss at each of ``frame_values`` of one parameter, the others at ``values``.

    One :func:`evaluate` call for all frames: a pointwise formula evaluated on a (frames, points)
    grid, with the swept parameter as a column — its Hessian is still diagonal, so gradient and
    curvature are those of the separate calls (to rounding in the last bit).
    """
    column = torch.tensor(np.asarray(frame_values, dtype=np.float64)).reshape(-1, 1)
    fn = loss.fn

    def swept(pred: torch.Tensor, target: torch.Tensor | None, **others: float) -> torch.Tensor:
        return fn(pred, target, **others, **{param: column})

    others = {k: float(v) for k, v in values.items() if k != param}
    batched = replace(loss, fn=swept, params=tuple(p for p in loss.params if p.name != param))
    grid = np.broadcast_to(np.asarray(x, dtype=np.float64), (len(column), len(x)))
    res = evaluate(batched, grid, float(target), order=2, **others)
    assert res.grad is not None and res.curvature is not None
    return [
        Curve(loss.name, x, res.value[i], res.grad[i], res.curvature[i], (), float(target), {**others, param: float(v)})
        for i, v in enumerate(frame_values)
    ]


# --- the loss doctor on the page -----------------------------------------------------------------------

DOCTOR_EXAMPLES: tuple[DiagnosisExample, ...] = DIAGNOSIS_EXAMPLES
"""One formula per finding, for the gallery "what each warning means"."""
DOCTOR_NAME = "doctor_example"


def doctor(text: str, values: Mapping[str, float], center: float, half_width: float, target: float) -> list[Finding]:
    """The doctor's findings for the formula at the page's view: p over [centre − w, centre + w] at target y."""
    return diagnose(text, dict(values), p_range=(center - half_width, center + half_width), y=target)


def _number(x: float) -> str:
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.4g}".replace("-", "−")


def where_text(finding: Finding) -> str:
    """Where a finding happens, in words: "at p = 0.5", "for p in [−5, −1]", "as p → ∞" (several joined by ", ")."""
    parts = []
    for lo, hi in finding.where:
        if lo == hi:
            parts.append(f"at p = {_number(lo)}")
        elif math.isinf(lo) and math.isinf(hi):
            parts.append("for every p")
        elif math.isinf(hi):
            parts.append(f"as p → ∞ (from p = {_number(lo)})" if lo > -math.inf else "as p → ∞")
        elif math.isinf(lo):
            parts.append(f"as p → −∞ (up to p = {_number(hi)})")
        else:
            parts.append(f"for p in [{_number(lo)}, {_number(hi)}]")
    return ", ".join(parts)


def doctor_example_setup(ex: DiagnosisExample) -> tuple[str, dict[str, Decl], dict[str, float]]:
    """What loading a doctor example puts into the editor: its formula, a parameter table with each value as
    the default (inside the suggested range, widened around it) and the view that shows the finding."""
    decls = {}
    for name in parse_formula(ex.formula).params:
        value = float(ex.params.get(name, SUGGESTED_DEFAULT))
        low, high = SUGGESTED_RANGE
        bound = max(abs(low), abs(high), 2 * abs(value))
        decls[name] = (value, -bound, bound)
    lo, hi = ex.p_range or DEFAULT_VIEW.p_range
    view = {"target": float(DEFAULT_VIEW.target if ex.y is None else ex.y), "center": (lo + hi) / 2,
            "half_width": (hi - lo) / 2}  # fmt: skip
    return ex.formula, decls, view
