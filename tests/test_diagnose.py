"""The loss doctor: each finding on a formula that has it and not on a similar one that hasn't, kinks located
to 1e-8 with autograd's own subgradient, the built-in catalogue, hostile formulas, the defaults of the page."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lossviz
from lossviz.domains import REAL
from lossviz.errors import FormulaError, ParameterError
from lossviz.formula import SUGGESTED_DEFAULT, Finding, compile_formula, diagnose, parse_formula
from lossviz.formula import _diagnose as doctor
from lossviz.formula._diagnose import CODES, DIAGNOSIS_EXAMPLES, diagnose_spec, formula_style
from lossviz.registry import builtin_names
from lossviz.spec import LossSpec
from lossviz.studies import custom as cg

PAGE = (cg.CENTER.default - cg.HALF_WIDTH.default, cg.CENTER.default + cg.HALF_WIDTH.default)
"""The Custom page's default range of predictions, the doctor's default."""
LO, HI = PAGE
TUKEY = "where(abs(p - y) <= c, c**2/6 * (1 - (1 - ((p - y)/c)**2)**3), c**2/6)"
HUBER = "where(abs(p - y) <= d, 0.5*(p - y)**2, d*(abs(p - y) - 0.5*d))"


def codes(found: list[Finding]) -> set[str]:
    return {f.code for f in found}


def of(found: list[Finding], code: str) -> list[Finding]:
    return [f for f in found if f.code == code]


def explain(found: list[Finding]) -> str:
    return "\n".join(f"{f.code}: {f.where[:4]} {f.message}" for f in found)


def torch_grad(formula: str, p: float, y: float = 0.0, **params: float) -> float:
    """d formula / dp at exactly p, by autograd on the compiled formula (not through the doctor or the engine)."""
    pred = torch.tensor([p], dtype=torch.float64, requires_grad=True)
    value = compile_formula(formula)(pred, torch.tensor(y, dtype=torch.float64), **params)
    (grad,) = torch.autograd.grad(value.sum(), pred)
    return float(grad[0])


# --- each code: a formula that has it, a similar one that has not ------------------------------------------

PAIRS: list[tuple[str, tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]] = [
    ("sign", ("-(p - y)**2", {}), ("(p - y)**2", {})),
    ("sign", ("(p - y - 1)**2", {}), ("(p - y)**2", {})),
    ("sign", ("abs(p - y)", {"best": (2.0, 2.0)}), ("abs(p - 2)", {"best": (2.0, 2.0)})),
    # The classic slip: the log-likelihood instead of cross-entropy, for either label.
    ("sign", ("y*log(p) + (1-y)*log(1-p)", {"y": 1.0}), ("-y*log(p) - (1-y)*log(1-p)", {"y": 1.0})),
    ("sign", ("y*log(p) + (1-y)*log(1-p)", {"y": 0.0}), ("-y*log(p) - (1-y)*log(1-p)", {"y": 0.0})),
    # Margin losses may overshoot their label (a logit of 5 for y = 1 is fine), but not fall the other way.
    ("sign", ("log(1 + exp(p*y))", {"y": 1.0}), ("log(1 + exp(-p*y))", {"y": 1.0})),
    ("sign", ("relu(1 + p*y)", {"y": -1.0}), ("relu(1 - p*y)", {"y": -1.0})),
    ("unbounded_below", ("log(abs(p - y))", {}), ("log(1 + abs(p - y))", {})),
    ("unbounded_below", ("-log1p(p**2)", {}), ("-p**2/(1 + p**2)", {})),
    ("unbounded_below", ("(1 - 2*y)*p", {"y": 1.0}), ("(1 - 2*y)*p + exp(p - 4)", {"y": 1.0})),
    ("negative", ("(p - y)**2 - 1", {}), ("(p - y)**2", {})),
    # p − y with its slope 1 written as two relus: autograd's subgradients 0 + 0 at p = y give slope 0 there.
    ("gradient_mismatch", ("relu(p - y) - relu(y - p)", {}), ("p - y", {})),
    ("nan", ("log(p)", {}), ("log1p(p**2)", {})),
    ("nan", ("sqrt(abs(p))", {}), ("sqrt(1 + p**2)", {})),
    ("jump", ("where(abs(p - y) < 1, 0, 1)", {}), ("sigmoid(10*((p - y)**2 - 1))", {})),
    ("jump", ("sign(p - y)", {}), ("tanh(p - y)", {})),
    ("kink", ("abs(p - y)", {"y": 0.5}), ("(p - y)**2", {"y": 0.5})),
    ("kink", ("relu(abs(p - y) - 1)", {}), (HUBER, {})),
    ("nonconvex", (TUKEY, {"params": {"c": 4.685}}), ("softplus(p - y) + softplus(y - p)", {})),
    ("nonconvex", ("1 - exp(-(p - y)**2/2)", {}), ("(p - y)**2", {})),
    ("flat", ("log(1 - sigmoid(p))", {"p_range": (-10.0, 10.0)}), ("-log(sigmoid(p))", {"p_range": (-10.0, 10.0)})),
    ("flat", ("1 - exp(-(p - y)**2/2)", {}), ("c**2/2*log1p(((p - y)/c)**2)", {})),
    ("flat", ("where(abs(p - y) < 1, 0, 1)", {}), ("relu(abs(p - y) - 1)", {})),
]


@pytest.mark.parametrize(("code", "bad", "good"), PAIRS, ids=lambda v: v if isinstance(v, str) else v[0])
def test_code_found_on_one_formula_and_not_on_its_sibling(
    code: str, bad: tuple[str, dict[str, Any]], good: tuple[str, dict[str, Any]]
) -> None:
    found = diagnose(bad[0], **bad[1])
    assert code in codes(found), explain(found)
    finding = of(found, code)[0]
    assert finding.severity == doctor.SEVERITY[code] and finding.message and finding.where
    clean = diagnose(good[0], **good[1])
    assert code not in codes(clean), explain(clean)


def _square(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (pred - target) ** 2


SQUARE = LossSpec(
    name="square_by_hand", title="square", family="custom", latex="(p-y)^2", use_when="tests", fn=_square,
    pred_domain=REAL, target_domain=REAL, builtin=False,
)  # fmt: skip


def test_gradient_mismatch_catches_a_wrong_closed_form_gradient() -> None:
    wrong = dataclasses.replace(SQUARE, grad_fn=lambda pred, target: pred - target)  # the factor 2 forgotten
    found = diagnose_spec(wrong, y=0.0)
    [mismatch] = of(found, "gradient_mismatch")
    assert mismatch.severity == "error" and codes(found) == {"gradient_mismatch"}, explain(found)
    # Wrong at every grid point but p = y = 0, where both are 0.
    grid = np.linspace(*doctor._inset_range(REAL), cg.POINTS)
    assert mismatch.where == ((grid[0], grid[249]), (grid[251], grid[-1])) and grid[250] == 0.0
    right = dataclasses.replace(SQUARE, grad_fn=lambda pred, target: 2.0 * (pred - target))
    assert codes(diagnose_spec(right, y=0.0)) == set()
    assert codes(diagnose_spec(SQUARE, y=0.0)) == set()  # autograd


def test_sign_through_a_spec_and_where_the_loss_beats_the_target() -> None:
    gain = dataclasses.replace(SQUARE, fn=lambda pred, target: -_square(pred, target))
    assert "sign" in codes(diagnose_spec(gain, y=0.0))
    found = diagnose("(p - y - 1)**2")  # lower than at p = y = 0 wherever |p − 1| < 1
    [(lo, hi)] = of(found, "sign")[0].where
    step = (HI - LO) / (cg.POINTS - 1)
    assert 0.0 < lo <= step + 1e-12 and 2.0 - step - 1e-12 <= hi < 2.0


def test_an_unknown_keyword_is_a_type_error_not_ignored() -> None:
    with pytest.raises(TypeError, match="yy"):
        diagnose("(p - y)**2", yy=1.0)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="p_rang"):
        diagnose_spec("mse", p_rang=(0.0, 1.0))  # type: ignore[call-arg]
    assert diagnose_spec("mse", y=1.0, p_range=(-2.0, 3.0)) == diagnose("(p - y)**2", y=1.0, p_range=(-2.0, 3.0))


def test_flat_needs_an_interval_not_a_point() -> None:
    # −(p − y)² has a vanishing gradient at its maximum, over a few grid points only.
    assert "flat" not in codes(diagnose("-(p - y)**2"))
    [flat] = of(diagnose("log(1 - sigmoid(p))", p_range=(-10.0, 10.0)), "flat")
    [(lo, hi)] = flat.where
    assert lo == -10.0 and -6.0 < hi < -4.5  # sigmoid(p) < 1 % of the mean slope 0.5 left of p ≈ −5.3


def test_a_constant_loss_is_flat_everywhere() -> None:
    for text in ("y**2", "log(1 + exp(-p*y))"):  # the margin loss at the page's target y = 0 is log 2
        [flat] = of(diagnose(text), "flat")
        assert flat.where == (PAGE,)


def test_nan_intervals_end_where_the_value_stops_being_defined() -> None:
    [nan] = of(diagnose("log(p - 0.013)"), "nan")
    [(lo, hi)] = nan.where
    assert lo == LO and hi == pytest.approx(0.013, abs=1e-8)
    [nan] = of(diagnose("log(abs(p - y))"), "nan")
    assert nan.where == ((0.0, 0.0),)


def test_unbounded_below_between_grid_points_and_beyond_the_range() -> None:
    # y = 0.1 is not a grid point: log|p − y| dips to −∞ between two of them, with no NaN on the grid.
    [below] = of(diagnose("log(abs(p - y))", y=0.1), "unbounded_below")
    [(a, b)] = below.where
    assert a == b == pytest.approx(0.1, abs=1e-8)
    [below] = of(diagnose("-log1p(p**2)"), "unbounded_below")
    assert below.where == ((-math.inf, LO), (HI, math.inf))


# --- kinks: where exactly, and which subgradient ---------------------------------------------------------


KINKS = [
    ("abs(p - y)", 0.5, {}, [0.5]),
    ("abs(p - y)", 0.1, {}, [0.1]),
    ("relu(p - 0.3)", 0.0, {}, [0.3]),
    ("abs(p - 0.123456789)", 0.0, {}, [0.123456789]),
    ("abs(p**2 - 2)", 0.0, {}, [-math.sqrt(2.0), math.sqrt(2.0)]),
    ("abs(3*p - 1)", 0.0, {}, [1.0 / 3.0]),
    ("maximum(p, 2*p - 1)", 0.0, {}, [1.0]),
    ("clamp(p, -1, 2)", 0.0, {}, [-1.0, 2.0]),
    ("relu(1 - p*y)", 1.0, {}, [1.0]),
    ("tau*relu(y - p) + (1 - tau)*relu(p - y)", 0.7, {"tau": 0.9}, [0.7]),
]


@pytest.mark.parametrize(("text", "y", "params", "expected"), KINKS, ids=[k[0] for k in KINKS])
def test_kinks_are_located_to_1e8_and_report_autograds_subgradient(
    text: str, y: float, params: dict[str, float], expected: list[float]
) -> None:
    found = diagnose(text, params, y=y)
    kinks = of(found, "kink")
    assert [k.where[0][0] for k in kinks] == pytest.approx(expected, abs=1e-8), explain(found)
    for k in kinks:
        at = k.where[0][0]
        assert k.where == ((at, at),)
        assert k.subgradient == torch_grad(text, at, y, **params)  # exactly what autograd gives there
        left, right = k.slopes
        assert left == pytest.approx(torch_grad(text, at - 1e-4, y, **params), abs=1e-3)
        assert right == pytest.approx(torch_grad(text, at + 1e-4, y, **params), abs=1e-3)
        assert abs(right - left) > 0.1
    assert "gradient_mismatch" not in codes(found)


def test_kink_at_y_gets_torchs_tie_subgradient() -> None:
    [k] = of(diagnose("abs(p - y)", y=0.5), "kink")
    assert k.where == ((0.5, 0.5),) and k.subgradient == 0.0 and k.slopes == pytest.approx((-1.0, 1.0))
    [k] = of(diagnose("maximum(p, 2*p - 1)"), "kink")
    assert k.subgradient == 1.5  # torch splits a tie of maximum evenly: (1 + 2) / 2


def test_curvature_jumps_are_not_kinks() -> None:
    for text, params in ((HUBER, {"d": 1.0}), (TUKEY, {"c": 2.0}), ("relu(p - y)**2", {})):
        found = of(diagnose(text, params), "kink")
        assert found == [], explain(found)


@settings(max_examples=25, deadline=None)
@given(st.floats(-4.5, 4.5), st.floats(0.05, 20.0))
def test_the_kink_of_a_scaled_absolute_error_is_where_it_should_be(a: float, scale: float) -> None:
    found = diagnose("s*abs(p - a)", {"a": a, "s": scale})
    [k] = of(found, "kink")
    at = k.where[0][0]
    assert at == pytest.approx(a, abs=1e-8)
    assert k.subgradient == torch_grad("s*abs(p - a)", at, a=a, s=scale)
    assert k.slopes == pytest.approx((-scale, scale), rel=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.floats(1e-3, 1e3), st.floats(-4.0, 4.0))
def test_a_scaled_squared_error_is_always_healthy(c: float, y: float) -> None:
    found = diagnose("c*(p - y)**2", {"c": c}, y=y)
    assert codes(found) == set(), explain(found)


# --- the built-in catalogue through the same doctor ------------------------------------------------------

POINTWISE = [n for n in builtin_names() if lossviz.spec(n).pointwise]
STRUCTURED = [n for n in builtin_names() if not lossviz.spec(n).pointwise]
"""Structured losses (cross-entropy over C logits, margin ranking of pairs, triplets, Dice/Jaccard/Tversky over
masks, CTC over sequences, total variation over images, ...) reduce a vector, sequence or image of predictions
to one value: there is no single real p to sweep, so the doctor (and the formula language) cannot take them."""

UNBOUNDED = {"wasserstein_generator", "wasserstein_critic", "hinge_gan_generator"}
"""−D (and (1 − 2y)·D): unbounded below by design; WGAN needs a Lipschitz critic (the loss's own note)."""


def _best(name: str, y: float | None) -> tuple[float, float] | None:
    """Where a loss whose prediction is on another scale than its target should be lowest.

    Poisson: p is a log-rate, best at log y (at the left end for y = 0). BCE with logits: a soft label y is
    best at logit(y), a hard one beyond its label. Contrastive: p is a distance, a similar pair (y = 1) is
    best at 0, a dissimilar one (y = 0) at the margin 1 or beyond. Others: the doctor's own default.
    """
    if y is None:
        return None
    if name == "poisson_nll":
        return (math.log(y), math.log(y)) if y > 0 else (-math.inf, -math.inf)
    if name == "bce_logits":
        return doctor._label_best(y) or (math.log(y / (1 - y)),) * 2
    if name == "contrastive":
        return (0.0, 0.0) if y == 1 else (1.0, math.inf)
    return None


def _targets(name: str) -> list[float | None]:
    """The labels of a discrete target; targets 0, 0.5, 1, 1.5 (those in the domain) of a continuous one."""
    domain = lossviz.spec(name).target_domain
    if domain is None:
        return [None]
    if domain.is_discrete:
        return [float(v) for v in domain.values]
    return [v for v in (0.0, 0.5, 1.0, 1.5) if not domain.invalid_mask(np.array([v])).any()]


CATALOGUE = [(n, y) for n in POINTWISE for y in _targets(n)]


def test_catalogue_coverage() -> None:
    assert len(POINTWISE) >= 30 and set(POINTWISE) | set(STRUCTURED) == set(builtin_names())
    for name in STRUCTURED:
        with pytest.raises(ParameterError, match="not a pointwise loss"):
            diagnose_spec(name)


@pytest.mark.parametrize(("name", "y"), CATALOGUE, ids=[f"{n}-y={y}" for n, y in CATALOGUE])
def test_builtin_loss_on_its_natural_range(name: str, y: float | None) -> None:
    spec = lossviz.spec(name)
    found = diagnose_spec(name, y=y, best=_best(name, y))
    forbidden = {"sign", "nan", "gradient_mismatch", "jump"} | (set() if name in UNBOUNDED else {"unbounded_below"})
    assert not codes(found) & forbidden, explain(found)
    if name in UNBOUNDED:
        assert "unbounded_below" in codes(found)
    lo, hi = doctor._inset_range(spec.pred_domain)
    documented = sorted(k for k, order in spec.kink_points(y) if order == 1 and lo <= k <= hi)
    kinks = of(found, "kink")
    assert [k.where[0][0] for k in kinks] == pytest.approx(documented, abs=1e-6), explain(found)
    for k in kinks:
        at = k.where[0][0]
        left, right = k.slopes
        minimal_norm = 0.0 if left * right <= 0 else min(left, right, key=abs)  # the engine's kink convention
        assert k.subgradient == pytest.approx(minimal_norm, abs=1e-12)
        assert k.subgradient == lossviz.evaluate(name, np.array([at]), y).grad[0]


# --- hostile text, defaults, the API ----------------------------------------------------------------------

HOSTILE = [
    "__import__('os')",
    "__import__('os').system('true')",
    "p.__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd')",
    "lambda: p",
    "[p for p in y]",
    "p**1000",
    "exp(p)**1e6",
    "(" * 60 + "p" + ")" * 60,
    "p + " * 200 + "p",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_formulas_are_rejected_before_anything_is_evaluated(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    monkeypatch.setattr(doctor, "evaluate", lambda *a, **k: calls.append(a))
    with pytest.raises(FormulaError):
        diagnose(text)
    assert calls == []


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    real: Callable[..., Any] = doctor.evaluate

    def counted(name: Any, pred: Any, *args: Any, **kwargs: Any) -> Any:
        sizes.append(int(np.size(pred)))
        return real(name, pred, *args, **kwargs)

    monkeypatch.setattr(doctor, "evaluate", counted)
    return sizes


def test_a_diagnosis_is_a_handful_of_vectorised_evaluations(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = _counting(monkeypatch)
    diagnose("(p - y)**2")
    assert sizes == [3 * cg.POINTS + 3 + 2 * (1 + doctor.TAIL_EXPONENTS.size)]  # grid, ±h, target, tails
    sizes.clear()
    diagnose("abs(p - y)", y=0.5)
    assert len(sizes) == 2 + doctor.REFINE_ROUNDS  # main, refinement rounds, probes
    assert all(n > 1 for n in sizes)


def test_defaults_are_the_custom_pages() -> None:
    [k] = of(diagnose("abs(p - c)"), "kink")  # a new parameter starts at the suggested default
    assert k.where == ((SUGGESTED_DEFAULT, SUGGESTED_DEFAULT),)
    [k] = of(diagnose("abs(p - y)"), "kink")  # the page's target
    assert k.where == ((cg.TARGET.default, cg.TARGET.default),)
    [neg] = of(diagnose("p"), "negative")  # the page's range
    grid = cg.x_grid(cg.CENTER.default, cg.HALF_WIDTH.default)
    assert neg.where[0][0] == grid[0]
    parsed = parse_formula("abs(p - y)")
    assert diagnose(parsed, y=0.5) == diagnose("abs(p - y)", y=0.5)


def test_bad_arguments() -> None:
    with pytest.raises(FormulaError, match="not a parameter"):
        diagnose("abs(p - c)", {"d": 1.0})
    with pytest.raises(ParameterError):
        diagnose("p", y=math.nan)
    with pytest.raises(ParameterError):
        diagnose("p", p_range=(1.0, -1.0))
    with pytest.raises(ParameterError, match="leaves the predictions"):
        diagnose_spec("bce", p_range=(-1.0, 1.0))


def test_findings_are_frozen_and_ordered_by_severity() -> None:
    found = diagnose("-(p - y)**2 + abs(p - 1)")
    assert [f.code for f in found] == sorted(
        (f.code for f in found), key=lambda c: (("error", "warning", "info").index(doctor.SEVERITY[c]), CODES.index(c))
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        found[0].code = "kink"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ("(p - y)**2", "regression"),
        ("(log1p(p) - log1p(y))**2", "regression"),
        ("where(p < y, 1, 2) * p", "regression"),
        ("-y*log(p) - (1-y)*log(1-p)", "classification"),
        ("relu(1 - p*y)", "classification"),
        ("exp(p) - y*p", "classification"),
        ("p**2", "none"),
        ("y", "none"),
    ],
)
def test_formula_style(text: str, style: str) -> None:
    assert formula_style(parse_formula(text)) == style


def test_a_defined_custom_loss_is_read_as_its_formula() -> None:
    spec = cg.spec_for("my_logistic", "log(1 + exp(-p*y))", {})
    assert "sign" not in codes(diagnose_spec(spec, y=1.0))  # classification-style: may overshoot the label
    assert "sign" in codes(diagnose_spec(spec, y=1.0, best=(1.0, 1.0)))
    assert diagnose_spec(spec, y=1.0, p_range=PAGE) == diagnose("log(1 + exp(-p*y))", y=1.0)


def test_soft_labels_of_a_classification_formula_get_no_sign_check() -> None:
    # The best prediction for y = 0.3 is 0.3 for a probability and logit(0.3) for a logit: unknown here.
    assert "sign" not in codes(diagnose("y*softplus(-p) + (1 - y)*softplus(p)", y=0.3))
    assert "sign" in codes(diagnose("y*softplus(-p) + (1 - y)*softplus(p)", y=0.3, best=(0.3, 0.3)))


@pytest.mark.parametrize("example", DIAGNOSIS_EXAMPLES, ids=[e.code for e in DIAGNOSIS_EXAMPLES])
def test_each_diagnosis_example_shows_its_code(example: doctor.DiagnosisExample) -> None:
    found = diagnose(example.formula, example.params, p_range=example.p_range, y=example.y)
    assert example.code in codes(found), explain(found)
    assert example.caption.endswith(".") and len(example.caption) < 300


def test_the_examples_cover_every_code_a_formula_can_show() -> None:
    assert {e.code for e in DIAGNOSIS_EXAMPLES} == set(CODES)


# --- any formula: the doctor answers, and what it says about kinks holds ------------------------------------

_LEAVES = st.sampled_from(["p", "y", "a", "0.5", "1", "2", "3", "(p - y)", "(p*y)"])
_UNARY = ["abs", "exp", "log", "log1p", "sqrt", "sin", "tanh", "sigmoid", "softplus", "relu", "sign", "-"]


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    unary = st.tuples(st.sampled_from(_UNARY), inner).map(lambda t: f"{t[0]}({t[1]})")
    binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    power = st.tuples(inner, st.sampled_from(["2", "3", "0.5", "-1"])).map(lambda t: f"({t[0]})**{t[1]}")
    calls = st.tuples(st.sampled_from(["minimum", "maximum"]), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})")
    branch = st.tuples(inner, inner, inner).map(lambda t: f"where({t[0]} < 0, {t[1]}, {t[2]})")
    clamp = inner.map(lambda x: f"clamp({x}, -1, 1)")
    return unary | binary | power | calls | branch | clamp


FORMULAS = st.recursive(_LEAVES, _extend, max_leaves=10)


@settings(max_examples=60, deadline=None)
@given(FORMULAS, st.floats(-2.0, 2.0), st.floats(-3.0, 3.0))
def test_any_formula_gets_a_well_formed_diagnosis(text: str, y: float, a: float) -> None:
    params = {"a": a} if "a" in parse_formula(text).params else {}
    found = diagnose(text, params, y=y)
    for f in found:
        assert f.code in CODES and f.severity == doctor.SEVERITY[f.code] and f.message
        for lo, hi in f.where:
            assert lo <= hi
            assert (LO <= lo and hi <= HI) or (f.code == "unbounded_below" and math.isinf(lo) != math.isinf(hi))
    for k in of(found, "kink"):
        if k.subgradient is None:  # kinks beyond the cap, reported as grid cells
            continue
        at = k.where[0][0]
        assert k.subgradient == torch_grad(text, at, y, **params) or math.isnan(k.subgradient)
        assert abs(k.slopes[1] - k.slopes[0]) > 0
