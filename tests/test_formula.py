"""Custom formulas (lossviz.formula): correctness against the built-ins, parameters, NaN points,
LaTeX, per-session registration, limits and a corpus of hostile inputs."""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import math
import os
import pickle
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import torch

import lossviz
from lossviz import DomainError, FormulaError, ParameterError
from lossviz.formula import (
    MAX_CUSTOM_LOSSES,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_LENGTH,
    MAX_NODES,
    MAX_PARAMS,
    NAN_NOTE,
    compile_formula,
    define,
    formula_of,
    parse_formula,
    suggest_params,
    to_latex,
)
from lossviz.registry import builtin_names, user_losses, user_scope
from lossviz.spec import Param


@pytest.fixture(autouse=True)
def session_store() -> Iterator[dict]:
    """Every test defines its losses in a fresh scope of its own."""
    with user_scope({}) as store:
        yield store


def _close(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float, what: str) -> None:
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


# --- hand-written formulas equal the built-ins ---------------------------------------------------

P = np.linspace(-4.0, 4.0, 161)  # step 0.05: includes p = y and |p − y| = δ, the kinks
Y = np.array([-1.0, 0.0, 0.5, 2.0])
HUBER = "where(abs(p-y) <= d, 0.5*(p-y)**2, d*(abs(p-y) - 0.5*d))"
PT = "(y*sigmoid(p) + (1 - y)*(1 - sigmoid(p)))"
FOCAL = f"-(alpha*y + (1 - alpha)*(1 - y)) * (1 - {PT})**gamma * log({PT})"

# (built-in, formula, custom defaults, [(built-in params, custom params)], curvature compared at kinks too)
CASES = [
    ("mse", "(p - y)**2", {}, [({}, {})], True),
    ("mae", "abs(p - y)", {}, [({}, {})], False),
    ("huber", HUBER, {"d": (1.0, 0.01, 5.0)}, [({"delta": v}, {"d": v}) for v in (0.5, 1.0, 2.5)], True),
    ("smooth_l1", "where(abs(p-y) < b, 0.5*(p-y)**2/b, abs(p-y) - 0.5*b)", {"b": (1.0, 0.01, 5.0)},
     [({"beta": v}, {"b": v}) for v in (0.5, 1.0, 2.0)], True),
    ("log_cosh", "softplus(2*(p - y)) - (p - y) - log(2)", {}, [({}, {})], True),
    ("quantile", "tau*relu(y - p) + (1 - tau)*relu(p - y)", {"tau": (0.5, 0.01, 0.99)},
     [({"tau": v}, {"tau": v}) for v in (0.1, 0.5, 0.9)], False),
    ("epsilon_insensitive", "relu(abs(p - y) - eps)", {"eps": (0.5, 0.0, 3.0)},
     [({"epsilon": v}, {"eps": v}) for v in (0.0, 0.5, 1.5)], False),
]  # fmt: skip


@pytest.mark.parametrize(("builtin", "formula", "defaults", "settings", "curvature_at_kinks"), CASES)
def test_hand_written_regression_losses_equal_builtins(
    builtin: str, formula: str, defaults: dict, settings: list, curvature_at_kinks: bool
) -> None:
    define("mine", formula, **defaults)
    kinks = lossviz.spec(builtin).kink_points
    for builtin_params, custom_params in settings:
        ours = lossviz.evaluate("mine", P[None, :], Y[:, None], order=2, **custom_params)
        ref = lossviz.evaluate(builtin, P[None, :], Y[:, None], order=2, **builtin_params)
        what = f"{builtin} {builtin_params}"
        _close(ours.value, ref.value, 1e-12, 1e-14, f"{what}: value")
        _close(ours.grad, ref.grad, 1e-12, 1e-14, f"{what}: gradient (kinks included)")
        smooth = np.ones(ours.value.shape, dtype=bool)
        if not curvature_at_kinks:
            for row, y in enumerate(Y):
                for at, _order in kinks(y, **builtin_params):
                    smooth[row] &= ~np.isclose(P, at, atol=1e-9)
        _close(ours.curvature[smooth], ref.curvature[smooth], 1e-12, 1e-12, f"{what}: curvature")


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("alpha", [0.25, 0.5, 1.0])
def test_hand_written_focal_equals_builtin(gamma: float, alpha: float) -> None:
    define("my_focal", FOCAL, gamma=(2.0, 0.0, 5.0), alpha=(0.25, 0.0, 1.0))
    logits = np.linspace(-8.0, 8.0, 161)
    labels = np.array([0.0, 1.0])
    ours = lossviz.evaluate("my_focal", logits[None, :], labels[:, None], order=2, gamma=gamma, alpha=alpha)
    ref = lossviz.evaluate("focal", logits[None, :], labels[:, None], order=2, gamma=gamma, alpha=alpha)
    # 1 − σ(8) ≈ 3e-4 loses ~13 of 16 digits' worth of relative accuracy to cancellation at most.
    _close(ours.value, ref.value, 1e-9, 1e-15, "focal value")
    _close(ours.grad, ref.grad, 1e-9, 1e-15, "focal gradient")
    _close(ours.curvature, ref.curvature, 1e-8, 1e-14, "focal curvature")


def test_hand_written_focal_matches_the_paper_formula() -> None:
    """FL(p_t) = −α_t (1 − p_t)^γ log p_t (Lin et al. 2017, Eq. 5), written here with math."""
    define("my_focal", FOCAL, gamma=(2.0, 0.0, 5.0), alpha=(0.25, 0.0, 1.0))
    for x in (-3.0, -0.5, 0.0, 1.5, 4.0):
        for y in (0.0, 1.0):
            s = 1 / (1 + math.exp(-x))
            pt = s if y == 1 else 1 - s
            at = 0.25 if y == 1 else 0.75
            expected = -at * (1 - pt) ** 2 * math.log(pt)
            got = lossviz.evaluate("my_focal", x, y, order=0).value
            assert got == pytest.approx(expected, rel=1e-13)


SMOOTH_FORMULAS = [
    ("log(1 + ((p - y)/c)**2)", {"c": 0.7}),
    ("sqrt(1 + (p - y)**2) - 1", {}),
    ("exp(-p*y) + sigmoid(p)*tanh(y)", {}),
    ("sin(p)*cos(p - y) + log1p(p**2)", {}),
    ("softplus(-y*p) + k*p**3", {"k": -0.3}),
    ("where(p > y, (p - y)**3, -(p - y)**2)", {}),
    ("minimum(p**2, 4) + maximum(p, y)/2 + clamp(p, -1, 1)", {}),
    ("2**p + p**-2 + e**(p/3) + pi*p", {}),
]


@pytest.mark.parametrize(("formula", "params"), SMOOTH_FORMULAS)
def test_gradient_and_curvature_match_finite_differences(formula: str, params: dict, fd_check: Any) -> None:
    define("mine", formula)
    rng = np.random.default_rng(7)
    pred = rng.uniform(-3, 3, size=200)
    target = rng.uniform(-2, 2, size=200)
    # Stay away from the kinks (p = y, p² = 4, p = y, |p| = 1) and from p = 0 (p**-2).
    ok = (np.abs(pred - target) > 1e-3) & (np.abs(np.abs(pred) - 2) > 1e-3) & (np.abs(np.abs(pred) - 1) > 1e-3)
    ok &= np.abs(pred) > 0.1
    fd_check("mine", pred[ok], target[ok], **params)


def test_gradient_matches_direct_torch_autograd() -> None:
    """An independent reference: the same formula written directly in torch."""
    define("mine", "log(1 + ((p - y)/c)**2) + s*sigmoid(p*y)", c=(1.0, 0.1, 5.0), s=(0.5, -2.0, 2.0))
    rng = np.random.default_rng(3)
    pred, target = rng.normal(size=100), rng.normal(size=100)
    res = lossviz.evaluate("mine", pred, target, c=0.7, s=1.5)
    p = torch.tensor(pred, requires_grad=True)
    y = torch.tensor(target)
    value = torch.log(1 + ((p - y) / 0.7) ** 2) + 1.5 * torch.sigmoid(p * y)
    (grad,) = torch.autograd.grad(value.sum(), p)
    _close(res.value, value.detach().numpy(), 1e-15, 0, "value")
    _close(res.grad, grad.numpy(), 1e-15, 0, "gradient")


# --- the language: precedence, conditions, functions ---------------------------------------------

PRECEDENCE = [
    ("-p**2", 3.0, 0.0, -9.0),
    ("(-p)**2", 3.0, 0.0, 9.0),
    ("2**3**2", 0.0, 0.0, 512.0),
    ("2**-p", 2.0, 0.0, 0.25),
    ("-2**2", 0.0, 0.0, -4.0),
    ("p - y - 1", 5.0, 2.0, 2.0),
    ("p / y / 2", 8.0, 2.0, 2.0),
    ("p - y*2 + 1", 5.0, 2.0, 2.0),
    ("+p * -y", 3.0, 2.0, -6.0),
    ("(p + 1)*(y - 1)", 2.0, 3.0, 6.0),
    ("where(0 < p < 1, 1, 0)", 0.5, 0.0, 1.0),
    ("where(0 < p < 1, 1, 0)", 1.5, 0.0, 0.0),
    ("where(p > 0 and y > 0, 1, 0)", 1.0, -1.0, 0.0),
    ("where(p > 0 or y > 0, 1, 0)", 1.0, -1.0, 1.0),
    ("where(not p > 0, 1, 0)", 1.0, -1.0, 0.0),
    ("where(p == y, 1, 0) + where(p != y, 10, 0)", 1.0, 1.0, 1.0),
    ("where(p >= y, 1, 0) + where(p <= y, 10, 0)", 1.0, 1.0, 11.0),
    ("1e-3*p + 0x10 + 1_000", 1000.0, 0.0, 1017.0),
    ("relu(p) + sign(y) + abs(-3)", -2.0, -5.0, 2.0),
    ("clamp(p, -1, 1) + minimum(p, y) + maximum(p, y)", 5.0, 2.0, 8.0),
    ("log(e) + cos(pi)", 0.0, 0.0, 0.0),
    ("(p\n + y)", 1.0, 2.0, 3.0),
    ("p +\n y\r\n", 1.0, 2.0, 3.0),
    ("  \tp", 4.0, 0.0, 4.0),
]


@pytest.mark.parametrize(("formula", "pred", "target", "expected"), PRECEDENCE)
def test_python_precedence_and_conditions(formula: str, pred: float, target: float, expected: float) -> None:
    value = compile_formula(formula)(torch.tensor(pred, dtype=torch.float64), torch.tensor(target, dtype=torch.float64))
    assert float(value) == pytest.approx(expected, rel=1e-15)


def test_softplus_is_the_stable_one() -> None:
    """softplus(x) = −log σ(−x) exactly: no cut-off at 20, finite at ±800."""
    f = compile_formula("softplus(p)")
    x = torch.tensor([-800.0, -30.0, 0.0, 25.0, 800.0], dtype=torch.float64)
    expected = [0.0, math.log1p(math.exp(-30.0)), math.log(2.0), 25.0 + math.log1p(math.exp(-25.0)), 800.0]
    assert f(x).tolist() == pytest.approx(expected, rel=1e-15, abs=0)


def test_kinks_follow_torch() -> None:
    define("k", "abs(p) + relu(p) + sign(p) + maximum(p, 0) + clamp(p, 0, 1)")
    res = lossviz.evaluate("k", [0.0, 1.0], 0.0)
    # abs, relu, sign: 0 at 0; maximum splits the tie: ½; clamp passes the bound: 1.
    assert res.grad.tolist() == [1.5, 1 + 1 + 0 + 1 + 1]


# --- undefined points: NaN, never ±inf, never an exception ---------------------------------------


def test_undefined_points_are_nan_and_defined_ones_exact() -> None:
    spec = define("logp", "log(p)")
    assert spec.note == NAN_NOTE
    res = lossviz.evaluate("logp", [-1.0, 0.0, 1.0, 2.0], 0.0, order=2)
    assert np.isnan(res.value[:2]).all() and np.isnan(res.grad[:2]).all() and np.isnan(res.curvature[:2]).all()
    assert res.value[2:].tolist() == [0.0, math.log(2.0)]
    assert res.grad[2:].tolist() == [1.0, 0.5]
    assert res.curvature[2:].tolist() == [-1.0, -0.25]


@pytest.mark.parametrize("formula", ["1/p", "p/p", "exp(1000*p)", "sqrt(p)", "(-1)**p + 0*y", "log(p)*0"])
def test_no_infinite_values_or_gradients(formula: str) -> None:
    define("bad", formula)
    res = lossviz.evaluate("bad", np.linspace(-2, 2, 41), 0.5, order=2)
    for arr in (res.value, res.grad, res.curvature):
        assert not np.isinf(arr).any()
    assert np.isnan(res.value).any()


def test_gradient_and_curvature_are_nan_wherever_the_value_is() -> None:
    """Even where an op with zero derivative (sign) would drop the NaN coming back."""
    define("s", "y / sign(p)")
    res = lossviz.evaluate("s", [0.0, 2.0], -1.0, order=2)
    assert math.isnan(res.value[0]) and math.isnan(res.grad[0]) and math.isnan(res.curvature[0])
    assert (res.value[1], res.grad[1], res.curvature[1]) == (-1.0, 0.0, 0.0)


def test_where_takes_gradient_from_the_branch_taken_only() -> None:
    define("safe", "where(p > 0, sqrt(p), 0)")
    res = lossviz.evaluate("safe", [-1.0, 0.0, 1.0, 4.0], 0.0, order=2)
    assert res.value.tolist() == [0.0, 0.0, 1.0, 2.0]
    assert res.grad.tolist() == [0.0, 0.0, 0.5, 0.25]  # plain autograd gives NaN at p = 0 (0·∞)
    assert res.curvature.tolist() == [0.0, 0.0, -0.25, -1 / 32]
    define("edge", "where(p >= 0, sqrt(p), 0)")  # the branch taken at 0 has an infinite slope there
    res = lossviz.evaluate("edge", [0.0, 1.0], 0.0)
    assert math.isnan(res.grad[0]) and res.grad[1] == 0.5


def test_nested_where_gates_compose() -> None:
    define("nested", "where(p > 0, where(p > 1, log(p - 1), sqrt(p)), log(-p))")
    res = lossviz.evaluate("nested", [-2.0, 0.5, 1.0, 3.0], 0.0)
    np.testing.assert_allclose(res.value, [math.log(2), math.sqrt(0.5), 1.0, math.log(2)])
    np.testing.assert_allclose(res.grad, [-0.5, 0.5 / math.sqrt(0.5), 0.5, 0.5])


# --- target, shapes, parameters ------------------------------------------------------------------


def test_formula_without_y_still_takes_a_target_and_ignores_it() -> None:
    spec = define("l2", "p**2")
    assert spec.has_target and spec.target_domain is not None
    a = lossviz.evaluate("l2", [1.0, 2.0], 0.0)
    b = lossviz.evaluate("l2", [1.0, 2.0], [5.0, -7.0])
    assert a.value.tolist() == b.value.tolist() == [1.0, 4.0]
    with pytest.raises(DomainError, match="needs a target"):
        lossviz.evaluate("l2", [1.0, 2.0])


def test_formula_without_p_has_zero_gradient_and_the_batch_shape() -> None:
    define("const", "y**2 + k", k=3)
    res = lossviz.evaluate("const", np.zeros((2, 1)), np.array([1.0, 2.0, 3.0]), order=2)
    assert res.value.shape == res.grad.shape == res.curvature.shape == (2, 3)
    assert res.value.tolist() == [[4.0, 7.0, 12.0]] * 2
    assert not res.grad.any() and not res.curvature.any()
    define("cond_only", "where(p > 0, 1, 0)")
    res = lossviz.evaluate("cond_only", [-1.0, 1.0], 0.0, order=2)
    assert res.value.tolist() == [0.0, 1.0] and not res.grad.any()


def test_parameters_are_declared_like_builtins() -> None:
    spec = define("h", HUBER, d=(1.0, 0.01, 5.0))
    (d,) = spec.params
    assert (d.name, d.default, d.low, d.high, d.slider_range) == ("d", 1.0, 0.01, 5.0, (0.01, 5.0))
    assert d.slider_step > 0 and spec.summary()["params"][0]["range"] == "[0.01, 5]"
    assert lossviz.evaluate("h", 3.0, 0.0).value == 2.5
    assert lossviz.evaluate("h", 3.0, 0.0, d=2.0).value == 4.0
    with pytest.raises(ParameterError, match=r"outside its valid range \[0.01, 5\]"):
        lossviz.evaluate("h", 3.0, 0.0, d=20.0)
    with pytest.raises(ParameterError, match="unknown parameter 'delta'"):
        lossviz.evaluate("h", 3.0, 0.0, delta=1.0)
    with pytest.raises(ParameterError, match="must be a number"):
        lossviz.evaluate("h", 3.0, 0.0, d="1")


def test_parameter_defaults_and_suggestions() -> None:
    text = "a*p + b*y + c*(p - y)**2 + delta"
    assert suggest_params(text) == {n: (1.0, -10.0, 10.0) for n in ("a", "b", "c", "delta")}
    spec = define(
        "m", text, a=2, b=50.0, c=(0.5, 0.0, 1.0), delta=Param("delta", 0.1, low=0.0, ui_low=0.0, ui_high=1.0)
    )
    a, b, c, delta = spec.params
    assert spec.param_names == ("a", "b", "c", "delta")
    assert (a.default, a.low, a.high) == (2.0, -10.0, 10.0)
    assert (b.default, b.low, b.high) == (50.0, -100.0, 100.0)
    assert (c.default, c.low, c.high) == (0.5, 0.0, 1.0)
    assert delta.symbol == "" and delta.default == 0.1
    assert define("m2", text).defaults == {"a": 1.0, "b": 1.0, "c": 1.0, "delta": 1.0}
    assert [p.symbol for p in define("s", "alpha*k1 + eps*lr + x_max").params] == [
        r"\alpha",
        "k_{1}",
        r"\varepsilon",
        r"\mathrm{lr}",
        r"x_{\mathrm{max}}",
    ]


@pytest.mark.parametrize(
    ("defaults", "message"),
    [
        ({"q": 1.0}, "'q' is not a parameter of"),
        ({"p": 1.0}, "'p' is not a parameter of"),
        ({"d": (1.0, 2.0, 3.0)}, "outside"),
        ({"d": (1.0, 3.0, 2.0)}, "low < high"),
        ({"d": (1.0, -math.inf, 2.0)}, "finite"),
        ({"d": math.nan}, "finite"),
        ({"d": True}, "must be a number"),
        ({"d": "1"}, "must be a number"),
        ({"d": (1.0, 2.0)}, "must be a number"),
        ({"d": Param("e", 1.0)}, "Param named 'e'"),
        ({"d": Param("d", 1.0)}, "ui_low/ui_high"),
    ],
)
def test_bad_parameter_defaults_are_formula_errors(defaults: dict, message: str) -> None:
    with pytest.raises(FormulaError, match=message):
        define("h", HUBER, **defaults)
    assert "h" not in user_losses()


# --- LaTeX ---------------------------------------------------------------------------------------

LATEX = [
    ("(p - y)**2", r"\left(p - y\right)^{2}"),
    ("p/y", r"\frac{p}{y}"),
    ("(p/y)**2", r"\left(\frac{p}{y}\right)^{2}"),
    ("sigmoid(p)", r"\sigma\left(p\right)"),
    ("maximum(p, y) - minimum(p, 0)", r"\max\left(p, y\right) - \min\left(p, 0\right)"),
    ("relu(p)", r"\max\left(0, p\right)"),
    ("abs(p - y)", r"\left|p - y\right|"),
    ("sqrt(p) + log1p(y)", r"\sqrt{p} + \log\left(1 + y\right)"),
    ("-p**2", "-p^{2}"),
    ("(-p)**2", r"\left(-p\right)^{2}"),
    ("p - (y - 1)", r"p - \left(y - 1\right)"),
    ("p + (y - 1)", "p + y - 1"),
    ("p*-y", r"p \left(-y\right)"),
    ("2*3*p", r"2 \cdot 3 p"),
    ("0.5*delta*p + 1e-05*pi", r"0.5 \delta p + 10^{-5} \pi"),
    ("2.5e-7 + e**p", r"2.5 \cdot 10^{-7} + e^{p}"),
    ("where(abs(p) <= d, p, -p)", r"\begin{cases} p & \text{if } \left|p\right| \le d \\ -p & \text{otherwise} \end{cases}"),
    ("where(0 < p < 1 and not y != 1 or p >= 2, 1, 0)",
     r"\begin{cases} 1 & \text{if } 0 < p < 1 \land \lnot \left(y \ne 1\right) \lor p \ge 2 \\ 0 & \text{otherwise} \end{cases}"),
    ("where(p > 0, 1, 0)**2", r"\left(\begin{cases} 1 & \text{if } p > 0 \\ 0 & \text{otherwise} \end{cases}\right)^{2}"),
    ("clamp(p, lo, hi) + sign(p) + softplus(p)",
     r"\operatorname{clamp}\left(p, \mathrm{lo}, \mathrm{hi}\right) + \operatorname{sign}\left(p\right) + \operatorname{softplus}\left(p\right)"),
]  # fmt: skip


@pytest.mark.parametrize(("formula", "latex"), LATEX)
def test_latex(formula: str, latex: str) -> None:
    assert to_latex(parse_formula(formula).tree) == latex
    assert parse_formula(formula).latex == latex


def test_spec_carries_latex_and_formula() -> None:
    spec = define("h", HUBER, d=(1.0, 0.01, 5.0))
    assert spec.latex.startswith(r"\begin{cases} 0.5 \left(p - y\right)^{2} & \text{if } \left|p - y\right| \le d")
    assert (spec.family, spec.builtin, spec.title) == ("custom", False, "h (custom)")
    formula = formula_of(spec)
    assert formula is not None and formula.text == HUBER and formula.params == ("d",)
    assert formula_of(lossviz.spec("huber")) is None


def test_specs_of_custom_losses_pickle_and_copy() -> None:
    spec = define("h", HUBER, d=(1.0, 0.01, 5.0))
    for clone in (pickle.loads(pickle.dumps(spec)), copy.deepcopy(spec)):
        assert formula_of(clone) == formula_of(spec) and clone.params == spec.params
        assert lossviz.evaluate(clone, 3.0, 0.0, d=2.0).value == 4.0


# --- registration per session --------------------------------------------------------------------


def test_define_registers_in_the_scope_not_the_builtins(session_store: dict) -> None:
    before = builtin_names()
    spec = define("mine", "(p - y)**2")
    assert session_store["mine"] is spec and lossviz.spec("mine") is spec
    assert builtin_names() == before and "mine" not in before
    assert "mine" in lossviz.names() and lossviz.names("custom") == ["mine"]
    assert [s.name for s in lossviz.by_family()["custom"]] == ["mine"]


def test_two_scopes_keep_custom_losses_apart() -> None:
    alice: dict = {}
    bob: dict = {}
    with user_scope(alice):
        define("mine", "(p - y)**2")
    with user_scope(bob):
        define("mine", "abs(p - y)")
        define("only_bob", "p")
    with user_scope(alice):
        assert lossviz.evaluate("mine", 3.0, 0.0).value == 9.0
        assert "only_bob" not in lossviz.names()
        with pytest.raises(lossviz.UnknownLossError):
            lossviz.spec("only_bob")
    with user_scope(bob):
        assert lossviz.evaluate("mine", 3.0, 0.0).value == 3.0
    assert "mine" not in lossviz.names()  # the test's own scope saw neither


def test_builtin_and_invalid_names_are_refused() -> None:
    for name in ("mse", "huber", "focal"):
        with pytest.raises(FormulaError, match="is a built-in loss"):
            define(name, "(p - y)**2")
    for name in ("", "1abc", "my loss", "a" * 41, "ünï", None, 3):
        with pytest.raises(FormulaError, match="custom loss name"):
            define(name, "(p - y)**2")  # type: ignore[arg-type]
    assert lossviz.evaluate("mse", 3.0, 0.0).value == 9.0


def test_per_scope_bound_and_redefinition(session_store: dict) -> None:
    for i in range(MAX_CUSTOM_LOSSES):
        define(f"l{i}", f"(p - y)**2 + {i}")
    with pytest.raises(FormulaError, match=f"already has {MAX_CUSTOM_LOSSES} custom losses, the limit is"):
        define("one_more", "p")
    define("l3", "abs(p - y)")  # redefining replaces, within the bound
    assert len(session_store) == MAX_CUSTOM_LOSSES
    assert lossviz.evaluate("l3", 3.0, 0.0).value == 3.0
    with user_scope({}):
        define("one_more", "p")  # another session has its own bound


def test_rejected_definition_leaves_the_old_one(session_store: dict) -> None:
    define("mine", "(p - y)**2")
    with pytest.raises(FormulaError):
        define("mine", "p.x")
    assert lossviz.evaluate("mine", 3.0, 0.0).value == 9.0


# --- limits and messages -------------------------------------------------------------------------


def test_length_limit() -> None:
    parse_formula("p" + " " * (MAX_LENGTH - 1))
    with pytest.raises(FormulaError, match=f"formula is {MAX_LENGTH + 234} characters; the limit is {MAX_LENGTH}"):
        parse_formula("p" + " " * (MAX_LENGTH + 233))


def test_depth_limits_without_recursion_errors() -> None:
    parse_formula("(" * MAX_DEPTH + "p" + ")" * MAX_DEPTH)
    with pytest.raises(FormulaError, match=f"column {MAX_DEPTH + 1}: brackets nest more than {MAX_DEPTH}") as err:
        parse_formula("(" * (MAX_DEPTH + 1) + "p" + ")" * (MAX_DEPTH + 1))
    assert err.value.offset == MAX_DEPTH  # type: ignore[attr-defined]
    with pytest.raises(FormulaError, match="nests 401 levels deep; the limit is 50"):
        parse_formula("-" * 400 + "p")
    with pytest.raises(FormulaError, match="levels deep"):
        parse_formula("+".join(["p"] * 60))
    start = time.perf_counter()
    for text in ["(" * 10_000 + "p" + ")" * 10_000, "(" * 499, "[" * 499, "-" * 499 + "p", "not " * 124 + "p"]:
        with pytest.raises(FormulaError):
            parse_formula(text)
    assert time.perf_counter() - start < 1.0


def test_node_and_parameter_limits() -> None:
    wide = "+".join(["(p*p*p*p*p)"] * 40)  # 399 parts, 42 levels
    with pytest.raises(FormulaError, match=f"has 399 parts .* the limit is {MAX_NODES}"):
        parse_formula(wide)
    names = [f"a{i}" for i in range(MAX_PARAMS + 1)]
    parse_formula("+".join(names[:-1]))
    with pytest.raises(FormulaError, match=f"has {MAX_PARAMS + 1} parameters .* the limit is {MAX_PARAMS}") as err:
        parse_formula("+".join(names))
    assert err.value.offset == len("+".join(names[:-1])) + 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("ok", ["p**100", "p**-100", "p**100.0", "p**(50 + 50)", "p**k", "p**(2*k)", "2**p", "p**-0.5"])
def test_exponents_within_the_bound(ok: str) -> None:
    parse_formula(ok)


@pytest.mark.parametrize(
    ("bad", "column", "shown"),
    [
        ("9**9**9", 4, "the exponent 9**9 = 3.8742e+08"),
        ("p**101", 4, "the exponent 101;"),
        ("p**-101", 4, "the exponent -101 = -101"),
        ("p**(50 + 51)", 5, "the exponent 50 + 51 = 101"),
        ("p**100.5", 4, "the exponent 100.5;"),
        ("p**log(-1)", 4, "= nan"),
        ("2**2**2**2**2", 4, "the exponent 2**2**2**2 = 65536"),
    ],
)
def test_exponents_beyond_the_bound(bad: str, column: int, shown: str) -> None:
    with pytest.raises(FormulaError, match=f"column {column}: exponent too large") as err:
        parse_formula(bad)
    assert shown in str(err.value) and f"|n| ≤ {MAX_EXPONENT:g}" in str(err.value)


def test_messages_point_at_the_problem() -> None:
    cases = {
        "p + y.__class__": (5, "attribute access '.__class__' is not allowed"),
        "p +\n  q.x": (7, "line 2, column 4: attribute access '.x'"),
        "(p - y)**2 + exq(p)": (13, "unknown function 'exq'; did you mean exp?"),
        "d(p - y)": (0, "if 'd' is a parameter, multiply: d*(...)"),
        "p(y)": (0, "'p' is the prediction, not a function"),
        "2*exp": (2, "'exp' is a function; call it as exp(x)"),
        "р - y": (0, "non-ASCII character 'р' (CYRILLIC SMALL LETTER ER) is not allowed; it looks like 'p'"),
        "p − y": (2, "(MINUS SIGN) is not allowed; it looks like '-'"),
        "δ*p": (0, "write Greek letters by name, e.g. 'delta'"),
        "p\x00": (1, "NUL byte"),
        "p\x0c+y": (1, "control character"),
        "where(p > 0, 1)": (0, "where() takes 3 arguments, got 2: write where(cond, a, b)"),
        "where(p, 1, 0)": (6, "the condition of where() must be a comparison"),
        "p > 0": (0, "only allowed as the first argument of where(cond, a, b)"),
        "abs(p > 0)": (4, "only allowed as the first argument of where"),
        "p ^ 2": (2, "'^' is not a power; write a**b"),
        "p // 2": (2, "'//' (floor division) is not allowed; use /"),
        "clamp(p, 0, hi=1)": (
            12,
            "keyword argument 'hi=' is not allowed; pass arguments by position: clamp(x, lo, hi)",
        ),
        "1e999*p": (0, "number 1e999 is too large"),
        "p y": (2, "syntax error: invalid syntax"),
        "target*p": (0, "'target' cannot be a parameter name (the target is y)"),
        "order + p": (0, "'order' cannot be a parameter name"),
    }
    for text, (offset, fragment) in cases.items():
        with pytest.raises(FormulaError) as err:
            parse_formula(text)
        assert fragment in str(err.value), (text, str(err.value))
        assert err.value.offset == offset, (text, err.value.offset)  # type: ignore[attr-defined]
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        assert f"column {column}:" in str(err.value)


def test_python_syntax_warnings_as_errors_are_rejections_too() -> None:
    """'1if p else 0' makes the tokenizer warn; with warnings as errors it must still be a FormulaError."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for text in ("1if p else 0", "0x1for"):
            with pytest.raises(FormulaError, match="column"):
                parse_formula(text)


def test_errors_without_a_position() -> None:
    for text, fragment in [("", "formula is empty"), ("  \n ", "formula is empty"), (None, "must be a string"),
                           (b"p", "must be a string"), (["p"], "must be a string")]:  # fmt: skip
        with pytest.raises(FormulaError, match=fragment) as err:
            parse_formula(text)  # type: ignore[arg-type]
        assert err.value.offset is None  # type: ignore[attr-defined]
    assert issubclass(FormulaError, ValueError) and lossviz.FormulaError is FormulaError
    assert lossviz.define is define and lossviz.suggest_params is suggest_params


# --- hostile inputs: rejected with a message, nothing executed -----------------------------------

HOSTILE = {
    "__import__('os').system('id')": "names starting with '_' are never allowed",
    "p.__class__.__mro__": "attribute access '.__class__'",
    "().__class__": "tuples are not allowed",
    "().__class__.__bases__[0].__subclasses__()": "tuples are not allowed",
    "[x for x in ()]": "comprehensions are not allowed",
    "{x: 1 for x in p}": "comprehensions are not allowed",
    "(x for x in p)": "generator expressions are not allowed",
    "lambda: 0": "lambda is not allowed",
    "(lambda p: p)(1)": "lambda is not allowed",
    "open('/etc/passwd')": "unknown function 'open'",
    "globals()": "unknown function 'globals'",
    "eval('1')": "unknown function 'eval'",
    "exec('import os')": "unknown function 'exec'",
    "compile('1', 'f', 'eval')": "unknown function 'compile'",
    "getattr(p, 'x')": "unknown function 'getattr'",
    "lossviz_sentinel()": "unknown function 'lossviz_sentinel'",
    "exp.__globals__": "attribute access '.__globals__'",
    "x" * 10_000: "the limit is 500",
    "9**9**9": "exponent too large",
    "10**400": "exponent too large",
    "(" * 10_000 + "p" + ")" * 10_000: "the limit is 500",
    "р": "CYRILLIC SMALL LETTER ER",
    "pу": "CYRILLIC SMALL LETTER U",
    "ｐ": "FULLWIDTH LATIN SMALL LETTER P",
    "p\x00 + y": "NUL byte",
    "\x00": "NUL byte",
    "f'{p}'": "f-strings are not allowed",
    "f'{__import__(\"os\")}'": "f-strings are not allowed",
    "(x := p)": "':=' (assignment) is not allowed",
    "maximum(*p, y)": "'*' unpacking is not allowed",
    "maximum(**p)": "'**' unpacking is not allowed",
    "*p": "syntax error",
    "clamp(x=p, lo=0, hi=1)": "keyword argument 'x='",
    "y if p else 0": "'a if c else b' is not allowed; write where(c, a, b)",
    "'p'": "strings are not allowed",
    "b'p'": "bytes are not allowed",
    "p[0]": "subscripts x[...] are not allowed",
    "p[0:1]": "subscripts x[...] are not allowed",
    "[p, y]": "lists [...] are not allowed",
    "{p: y}": "dicts {...} are not allowed",
    "...": "'...' is not allowed",
    "None": "None is not allowed",
    "True + p": "True is not allowed",
    "1j*p": "complex numbers are not allowed",
    "await p": "'await' is not allowed",
    "yield p": "syntax error",
    "import os": "syntax error",
    "p; import os": "syntax error",
    "p # comment": "comments ('#') are not allowed",
    "p\\\n+y": "backslashes are not allowed",
    "__builtins__": "names starting with '_' are never allowed",
    "_": "names starting with '_' are never allowed",
    "p is None": "'is' and 'in' are not allowed",
    "p in y": "'is' and 'in' are not allowed",
    "~p": "'~' is not allowed",
    "p @ y": "'@' (matrix product) is not allowed",
    "p & y": "'&' is not allowed",
    "p << 2": "'<<' is not allowed",
    "exp(p)(y)": "only the functions",
}


@contextlib.contextmanager
def nothing_may_run() -> Iterator[list[str]]:
    """Make every way of running code fail while the block runs; ``compile`` may only build syntax trees."""
    calls: list[str] = []
    real_compile = builtins.compile

    def forbidden(name: str) -> Callable[..., None]:
        def fail(*args: Any, **kwargs: Any) -> None:
            calls.append(name)
            raise AssertionError(f"{name} was called while parsing a formula")

        return fail

    def ast_only_compile(source: Any, filename: Any, mode: str, flags: int = 0, *args: Any, **kwargs: Any) -> Any:
        if not flags & ast.PyCF_ONLY_AST:
            calls.append("compile")
            raise AssertionError("compile() to bytecode was called while parsing a formula")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    patches = {name: forbidden(name) for name in ("eval", "exec", "open", "__import__", "breakpoint", "input")}
    patches["compile"] = ast_only_compile
    patches["lossviz_sentinel"] = forbidden("lossviz_sentinel")
    saved = {name: getattr(builtins, name, None) for name in patches}
    real_system = os.system
    try:
        for name, fn in patches.items():
            setattr(builtins, name, fn)
        os.system = forbidden("os.system")  # type: ignore[assignment]
        yield calls
    finally:
        os.system = real_system
        for name, fn in saved.items():
            if fn is None:
                delattr(builtins, name)
            else:
                setattr(builtins, name, fn)


@pytest.mark.parametrize(("text", "fragment"), HOSTILE.items(), ids=range(len(HOSTILE)))
def test_hostile_inputs_are_rejected_without_running_anything(text: str, fragment: str) -> None:
    with pytest.raises(FormulaError) as err, nothing_may_run() as calls:
        define("evil", text)
    message = str(err.value)
    assert fragment in message, message
    if len(text) <= MAX_LENGTH and "syntax error" not in message:
        assert err.value.offset is not None and message.startswith(("column ", "line "))  # type: ignore[attr-defined]
    assert calls == []
    assert "evil" not in user_losses()


def test_the_guard_would_notice() -> None:
    """The guard above is live: a call it forbids is recorded and fails."""
    with pytest.raises(AssertionError), nothing_may_run() as calls:
        eval("1")
    with pytest.raises(AssertionError), nothing_may_run() as calls2:
        builtins.compile("1", "<test>", "eval")
    assert calls == ["eval"] and calls2 == ["compile"]
    assert eval("1") == 1  # restored


def test_valid_formulas_also_run_nothing() -> None:
    parse_formula(HUBER)  # warm caches and lazy imports of torch outside the guard
    with nothing_may_run() as calls:
        spec = define("ok", HUBER + " ", d=1.0)
        value = spec.fn(torch.tensor([3.0], dtype=torch.float64), torch.tensor([0.0], dtype=torch.float64), d=1.0)
    assert value.item() == 2.5
    assert calls == []
