"""Fuzzing the formula parser: whatever the text, the parser returns a formula or raises FormulaError.

Four sources of text: random strings over the formula alphabet (plus the characters an attacker
reaches for), soups of tokens of the language and of Python, arbitrary unicode, and well-formed
formulas generated from the grammar with the fewest brackets Python's precedence allows. For the
generated formulas the compiled loss must equal an independent torch evaluation of the same tree,
and through ``lossviz.evaluate`` give values, gradients and curvatures that are finite or NaN.

Every parse is timed (cache cleared first). The bound asserted is a generous 1 s so that a busy
machine cannot make the test flaky; the slowest time and the number of inputs are printed
(``pytest -s``) — on the development machine the slowest parse was a few milliseconds.
"""

from __future__ import annotations

import math
import string
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lossviz
from lossviz.formula import FUNCTIONS, MAX_LENGTH, CompiledFormula, FormulaError, define, parse_formula
from lossviz.formula._parse import _parse
from lossviz.losses._numerics import relu, softplus
from lossviz.registry import user_scope

# "1if p else 0" makes Python's tokenizer warn before the parser rejects it; the rejection is what counts.
# Hypothesis warns that the repr of the recursive grammar strategy is large; it is only used in reports.
pytestmark = [
    pytest.mark.filterwarnings("ignore::SyntaxWarning"),
    pytest.mark.filterwarnings("ignore:Generating overly large repr"),
]

PARSE_BOUND_S = 1.0
_FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fuzz(examples: int) -> settings:
    """Hypothesis settings for ``examples`` inputs, without the per-example deadline (the timing is ours)."""
    return settings(_FUZZ, max_examples=examples)


@dataclass
class Stats:
    """Inputs seen, how many parsed, and the slowest parse."""

    name: str
    inputs: int = 0
    accepted: int = 0
    slowest: float = 0.0
    slowest_text: str = ""

    def parse(self, text: str) -> CompiledFormula | None:
        """Parse and compile ``text``; only FormulaError may escape as a rejection."""
        _parse.cache_clear()
        start = time.perf_counter()
        try:
            formula = parse_formula(text)
        except FormulaError as err:
            formula = None
            assert str(err), "a FormulaError must say what is wrong"
        elapsed = time.perf_counter() - start
        self.inputs += 1
        if elapsed > self.slowest:
            self.slowest, self.slowest_text = elapsed, text
        assert elapsed < PARSE_BOUND_S, f"parsing {text!r} took {elapsed:.3f} s"
        if formula is None:
            return None
        self.accepted += 1
        _check_latex(formula.latex)
        return CompiledFormula(formula)

    def report(self) -> None:
        print(
            f"\n[fuzz {self.name}] {self.inputs} inputs, {self.accepted} accepted, "
            f"slowest parse {self.slowest * 1e3:.2f} ms for {self.slowest_text[:60]!r}"
        )
        assert self.inputs > 0


def _check_latex(latex: str) -> None:
    depth = 0
    for ch in latex.replace(r"\{", "").replace(r"\}", ""):
        depth += (ch == "{") - (ch == "}")
        assert depth >= 0, latex
    assert depth == 0 and latex.count(r"\left") == latex.count(r"\right"), latex


# --- random text -------------------------------------------------------------------------------

FORMULA_ALPHABET = "py" + "abcdeglmnorstwx" + string.digits + "+-*/().,<>=! _" + "[]{}:;'\"\\#@%^&|~`$?\t\n\x00"
TOKENS = [
    "p", "y", "d", "k1", "1", "0.5", "1e3", "2", "100", "1e999", "(", ")", ",", "+", "-", "*", "/", "**", "//",
    "<", "<=", "==", "!=", ">", "and", "or", "not", "if", "else", "lambda", ":", ":=", ".", "[", "]", "{", "}",
    "__class__", "__import__", "'os'", "f'", "'", "*", "=", "...", "pi", "e", "True", "None", "import", "р",
    *FUNCTIONS,
]  # fmt: skip


def test_random_strings_over_the_formula_alphabet() -> None:
    stats = Stats("alphabet")

    @fuzz(1500)
    @given(st.text(alphabet=FORMULA_ALPHABET, max_size=120))
    def run(text: str) -> None:
        stats.parse(text)

    run()
    stats.report()


def test_token_soups() -> None:
    stats = Stats("tokens")

    @fuzz(1500)
    @given(st.lists(st.sampled_from(TOKENS), max_size=60), st.sampled_from(["", " "]))
    def run(tokens: list[str], sep: str) -> None:
        stats.parse(sep.join(tokens))

    run()
    stats.report()


def test_arbitrary_unicode() -> None:
    stats = Stats("unicode")

    @fuzz(1200)
    @given(st.text(max_size=MAX_LENGTH + 20) | st.binary(max_size=60).map(lambda b: b.decode("latin-1")))
    def run(text: str) -> None:
        stats.parse(text)

    run()
    stats.report()


def test_deep_and_long_inputs() -> None:
    stats = Stats("deep")

    @fuzz(200)
    @given(st.sampled_from(["(", "[", "{", "-", "not ", "p**", "exp(", "p+", "+", "~"]), st.integers(0, 20_000))
    def run(piece: str, n: int) -> None:
        stats.parse(piece * n + "p" + ")" * (n if piece.endswith("(") else 0))

    run()
    stats.report()


# --- well-formed formulas from the grammar ------------------------------------------------------

Ref = Callable[[dict[str, torch.Tensor]], torch.Tensor]
# Python's precedence levels for the generator: a child gets brackets when its level requires them.
_CMP, _ADD, _MUL, _NEG, _POW, _ATOM = 3, 4, 5, 6, 7, 8
PARAMS = {"a": 0.7, "b": -1.3, "delta": 2.0}
PRED = torch.tensor([-2.0, -0.5, 0.0, 0.5, 1.0, 3.0], dtype=torch.float64)
TARGET = torch.tensor([0.0, 1.0, -1.0, 0.5, 2.0, 3.0], dtype=torch.float64)


@dataclass(frozen=True, repr=False)
class Gen:
    """A generated formula: its text, precedence level and an independent torch evaluation."""

    text: str
    level: int
    ref: Ref

    def __repr__(self) -> str:
        return f"Gen({self.text!r})"


def _wrap(g: Gen, needed: bool, extra: bool) -> str:
    return f"({g.text})" if needed or extra else g.text


def _tensor(value: float) -> torch.Tensor:
    return torch.tensor(value, dtype=torch.float64)


def _leaf(name: str) -> Gen:
    if name == "pi":
        return Gen(name, _ATOM, lambda env: _tensor(math.pi))
    if name == "e":
        return Gen(name, _ATOM, lambda env: _tensor(math.e))
    return Gen(name, _ATOM, lambda env: env[name])


def _number(value: float | int) -> Gen:
    text = repr(value) if isinstance(value, float) else str(value)
    return Gen(text, _ATOM, lambda env: _tensor(float(value)))


LEAVES = st.one_of(
    st.sampled_from(["p", "y", "a", "b", "delta", "pi", "e"]).map(_leaf),
    st.integers(0, 1000).map(_number),
    st.floats(0, 1e4, allow_nan=False, allow_infinity=False).map(_number),
)
BINARY = {"+": (_ADD, torch.add), "-": (_ADD, torch.sub), "*": (_MUL, torch.mul), "/": (_MUL, torch.div)}
UNARY = {
    "abs": torch.abs, "sign": torch.sign, "exp": torch.exp, "log": torch.log, "log1p": torch.log1p,
    "sqrt": torch.sqrt, "sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
    "softplus": softplus, "relu": relu,
}  # fmt: skip
COMPARE = {"<": torch.lt, "<=": torch.le, ">": torch.gt, ">=": torch.ge, "==": torch.eq, "!=": torch.ne}


@st.composite
def _binop(draw: st.DrawFn, sub: st.SearchStrategy[Gen]) -> Gen:
    op = draw(st.sampled_from([*BINARY, "**"]))
    left, right = draw(sub), draw(sub)
    extra = draw(st.booleans()), draw(st.booleans())
    if op == "**":  # right-associative, binds tighter than a unary minus on its left
        text = f"{_wrap(left, left.level <= _POW, extra[0])}**{_wrap(right, right.level < _NEG, extra[1])}"
        return Gen(text, _POW, lambda env: torch.pow(left.ref(env), right.ref(env)))
    level, fn = BINARY[op]
    # Left-associative; floating point is not associative, so a right operand at the same level keeps its brackets.
    text = f"{_wrap(left, left.level < level, extra[0])} {op} {_wrap(right, right.level <= level, extra[1])}"
    return Gen(text, level, lambda env: fn(left.ref(env), right.ref(env)))


@st.composite
def _negate(draw: st.DrawFn, sub: st.SearchStrategy[Gen]) -> Gen:
    operand = draw(sub)
    text = "-" + _wrap(operand, operand.level < _NEG, draw(st.booleans()))
    return Gen(text, _NEG, lambda env: torch.neg(operand.ref(env)))


@st.composite
def _call(draw: st.DrawFn, sub: st.SearchStrategy[Gen]) -> Gen:
    func = draw(st.sampled_from([*UNARY, "minimum", "maximum", "clamp", "where"]))
    if func in UNARY:
        x = draw(sub)
        return Gen(f"{func}({x.text})", _ATOM, lambda env: UNARY[func](x.ref(env)))
    if func in ("minimum", "maximum"):
        a, b = draw(sub), draw(sub)
        fn = torch.minimum if func == "minimum" else torch.maximum
        return Gen(f"{func}({a.text}, {b.text})", _ATOM, lambda env: fn(a.ref(env), b.ref(env)))
    if func == "clamp":
        x, lo, hi = draw(sub), draw(sub), draw(sub)
        return Gen(
            f"clamp({x.text}, {lo.text}, {hi.text})",
            _ATOM,
            lambda env: torch.clamp(x.ref(env), min=lo.ref(env), max=hi.ref(env)),
        )
    cond, a, b = draw(_condition(sub)), draw(sub), draw(sub)
    return Gen(
        f"where({cond.text}, {a.text}, {b.text})", _ATOM, lambda env: torch.where(cond.ref(env), a.ref(env), b.ref(env))
    )


@st.composite
def _comparison(draw: st.DrawFn, sub: st.SearchStrategy[Gen]) -> Gen:
    operands = draw(st.lists(sub, min_size=2, max_size=3))
    ops = draw(st.lists(st.sampled_from(list(COMPARE)), min_size=len(operands) - 1, max_size=len(operands) - 1))
    text = operands[0].text
    for op, operand in zip(ops, operands[1:], strict=True):
        text += f" {op} {operand.text}"

    def ref(env: dict[str, torch.Tensor]) -> torch.Tensor:
        values = [o.ref(env) for o in operands]
        result = torch.ones((), dtype=torch.bool)
        for op, left, right in zip(ops, values[:-1], values[1:], strict=True):
            result = result & COMPARE[op](left, right)
        return result

    return Gen(text, _CMP, ref)


def _condition(sub: st.SearchStrategy[Gen]) -> st.SearchStrategy[Gen]:
    def combine(children: st.SearchStrategy[Gen]) -> st.SearchStrategy[Gen]:
        def logic(pair: tuple[str, Gen, Gen]) -> Gen:
            op, x, y = pair
            level = 1 if op == "and" else 0
            text = f"{_wrap(x, x.level < level, False)} {op} {_wrap(y, y.level <= level, False)}"
            fn = torch.logical_and if op == "and" else torch.logical_or
            return Gen(text, level, lambda env: fn(x.ref(env), y.ref(env)))

        def negate(x: Gen) -> Gen:
            return Gen(f"not {_wrap(x, x.level < 2, False)}", 2, lambda env: torch.logical_not(x.ref(env)))

        return st.tuples(st.sampled_from(["and", "or"]), children, children).map(logic) | children.map(negate)

    return st.recursive(_comparison(sub), combine, max_leaves=3)


def _expressions(max_leaves: int) -> st.SearchStrategy[Gen]:
    return st.recursive(
        LEAVES,
        lambda sub: st.one_of(_binop(sub), _negate(sub), _call(sub)),
        max_leaves=max_leaves,
    )


LIMITS = ("exponent too large", "levels deep", "the limit is")


def _expected(g: Gen) -> np.ndarray:
    env = {"p": PRED, "y": TARGET, **{k: _tensor(v) for k, v in PARAMS.items()}}
    with torch.no_grad():
        value = torch.broadcast_to(g.ref(env), PRED.shape).numpy().copy()
    value[~np.isfinite(value)] = np.nan
    return value


def test_generated_formulas_compile_to_their_meaning() -> None:
    stats = Stats("grammar")

    @fuzz(400)
    @given(_expressions(max_leaves=24))
    def run(g: Gen) -> None:
        compiled = stats.parse(g.text)
        if compiled is None:
            # A well-formed formula may only hit a limit; anything else is a parser bug.
            with pytest.raises(FormulaError) as err:
                parse_formula(g.text)
            assert any(s in str(err.value) for s in LIMITS) or len(g.text) > MAX_LENGTH, (g.text, str(err.value))
            return
        params = {k: v for k, v in PARAMS.items() if k in compiled.formula.params}
        value = compiled(PRED, TARGET, **params).numpy()
        np.testing.assert_array_equal(value, _expected(g), err_msg=g.text)
        with user_scope({}):
            define("fuzzed", g.text)
            res = lossviz.evaluate("fuzzed", PRED.numpy(), TARGET.numpy(), order=2, **params)
        np.testing.assert_array_equal(res.value, value, err_msg=g.text)
        for arr in (res.value, res.grad, res.curvature):
            assert arr.shape == PRED.shape and not np.isinf(arr).any(), g.text
        assert np.isnan(res.grad[np.isnan(res.value)]).all(), g.text
        assert np.isnan(res.curvature[np.isnan(res.grad)]).all(), g.text

    run()
    stats.report()
