"""Compile a formula tree to a torch function ``fn(pred, target, **params)``.

Each node of :mod:`lossviz.formula._tree` maps to one torch operation; nothing else can run (the
tree holds no code, only names from a fixed table). The compiled function follows three
conventions of its own:

- **Undefined points give NaN, never ±inf.** log of a negative number, 0/0 or 1/0 makes the value
  NaN there; an infinite gradient or curvature is NaN as well (``_NanGradient``), and where the
  value is NaN so are gradient and curvature. Built-in losses never return NaN; custom formulas may.
- **The branch ``where`` does not take gives no gradient.** ``where(p > 0, sqrt(p), 0)`` has
  gradient 0 at p = 0, not the NaN that ``0 · ∞`` from the untaken ``sqrt`` branch gives under
  plain autograd: each branch sees a copy of p that passes gradient only where it is taken.
- **Kinks follow torch:** abs, relu and sign have subgradient 0 at 0; minimum/maximum split the
  gradient evenly at a tie; clamp(x, lo, hi) passes it (1) at the bounds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch

from lossviz.formula import _tree as t
from lossviz.losses._numerics import relu, softplus

Env = Mapping[str, torch.Tensor]
Op = Callable[[Env], torch.Tensor]

_DTYPE = torch.float64
_UNARY: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "abs": torch.abs,
    "sign": torch.sign,
    "exp": torch.exp,
    "log": torch.log,
    "log1p": torch.log1p,
    "sqrt": torch.sqrt,
    "sin": torch.sin,
    "cos": torch.cos,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softplus": softplus,
    "relu": relu,
}
_BINARY: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "+": torch.add,
    "-": torch.sub,
    "*": torch.mul,
    "/": torch.div,
    "**": torch.pow,
    "minimum": torch.minimum,
    "maximum": torch.maximum,
}
_COMPARE: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "<": torch.lt,
    "<=": torch.le,
    ">": torch.gt,
    ">=": torch.ge,
    "==": torch.eq,
    "!=": torch.ne,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}


def _nan_factor(x: torch.Tensor) -> torch.Tensor:
    """1 where ``x`` is finite, NaN elsewhere (a constant: multiplying by it is exact)."""
    x = x.detach()
    return torch.where(torch.isfinite(x), torch.ones((), dtype=x.dtype), torch.full((), math.nan, dtype=x.dtype))


class _NanGradient(torch.autograd.Function):
    """The identity, whose backward turns an infinite or NaN gradient into NaN.

    Applied to ``pred`` before the formula sees it, so every gradient (and, by double backward,
    every curvature) that reaches ``pred`` is finite or NaN.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return x.clone()

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return grad * _nan_factor(grad)  # differentiable in grad, so curvature passes through it too


def _constant(value: float) -> Op:
    tensor = torch.tensor(value, dtype=_DTYPE)
    return lambda env: tensor


def _variable(name: str) -> Op:
    return lambda env: env[name]


def _unary(fn: Callable[[torch.Tensor], torch.Tensor], operand: Op) -> Op:
    return lambda env: fn(operand(env))


def _binary(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], left: Op, right: Op) -> Op:
    return lambda env: fn(left(env), right(env))


def _clamp(x: Op, lo: Op, hi: Op) -> Op:
    return lambda env: torch.clamp(x(env), min=lo(env), max=hi(env))


def _gated(env: Env, mask: torch.Tensor) -> Env:
    """``env`` with a p that equals p but carries gradient only where ``mask`` holds."""
    p = env.get(t.PRED)
    if p is None or not p.requires_grad:
        return env
    return {**env, t.PRED: torch.where(mask, p, p.detach())}


def _where(cond: Op, a: Op, b: Op) -> Op:
    def run(env: Env) -> torch.Tensor:
        mask = cond(env)
        return torch.where(mask, a(_gated(env, mask)), b(_gated(env, ~mask)))

    return run


def _compare(ops: tuple[str, ...], operands: tuple[Op, ...]) -> Op:
    def run(env: Env) -> torch.Tensor:
        values = [f(env) for f in operands]
        pairs = [_COMPARE[op](left, right) for op, left, right in zip(ops, values[:-1], values[1:], strict=True)]
        result = pairs[0]
        for pair in pairs[1:]:
            result = torch.logical_and(result, pair)
        return result

    return run


def _logic(op: str, values: tuple[Op, ...]) -> Op:
    combine = torch.logical_and if op == "and" else torch.logical_or

    def run(env: Env) -> torch.Tensor:
        result = values[0](env)
        for f in values[1:]:
            result = combine(result, f(env))
        return result

    return run


def build(node: t.Node) -> Op:
    """The torch operation of ``node``: a function of the environment {name: tensor}."""
    if isinstance(node, t.Num):
        return _constant(node.value)
    if isinstance(node, t.Const):
        return _constant(_CONSTANTS[node.name])
    if isinstance(node, t.Var):
        return _variable(node.name)
    if isinstance(node, t.Neg):
        return _unary(torch.neg, build(node.operand))
    if isinstance(node, t.Not):
        return _unary(torch.logical_not, build(node.operand))
    if isinstance(node, t.BinOp):
        return _binary(_BINARY[node.op], build(node.left), build(node.right))
    if isinstance(node, t.Compare):
        return _compare(node.ops, tuple(build(o) for o in node.operands))
    if isinstance(node, t.Logic):
        return _logic(node.op, tuple(build(v) for v in node.values))
    if isinstance(node, t.Call):
        args = tuple(build(a) for a in node.args)
        if node.func in _UNARY:
            return _unary(_UNARY[node.func], *args)
        if node.func in _BINARY:
            return _binary(_BINARY[node.func], *args)
        if node.func == "clamp":
            return _clamp(*args)
        if node.func == "where":
            return _where(*args)
    raise TypeError(f"not a formula node: {node!r}")  # unreachable for trees from parse_formula


def constant_value(node: t.Expr) -> float:
    """The value of a subtree without p, y or parameters (NaN or ±inf where undefined)."""
    with torch.no_grad():
        return float(build(node)({}))


class CompiledFormula:
    """A parsed formula as a loss function ``fn(pred, target, **params)`` on float64 tensors.

    ``target`` is always accepted (a formula without ``y`` ignores it). The result has the shape
    of ``pred`` (which :func:`lossviz.evaluate` has already broadcast against ``target``), and is
    finite or NaN; see the module docstring for gradients.
    """

    def __init__(self, formula: t.Formula) -> None:
        self.formula = formula
        self._op = build(formula.tree)

    def __repr__(self) -> str:
        return f"CompiledFormula({self.formula.text!r})"

    def __reduce__(self) -> tuple[type[CompiledFormula], tuple[t.Formula]]:
        # The closures cannot be pickled or deep-copied; the checked formula (plain frozen
        # dataclasses) is all it takes to rebuild them.
        return CompiledFormula, (self.formula,)

    def __call__(self, pred: torch.Tensor, target: torch.Tensor | None = None, **params: float) -> torch.Tensor:
        missing = [n for n in self.formula.params if n not in params]
        if missing:
            raise TypeError(f"formula {self.formula.text!r} needs the parameters {', '.join(missing)}")
        pred = torch.as_tensor(pred, dtype=_DTYPE)
        p = _NanGradient.apply(pred) if pred.requires_grad else pred
        env: dict[str, torch.Tensor] = {t.PRED: p}
        if target is not None:
            env[t.TARGET] = torch.as_tensor(target, dtype=_DTYPE)
        elif self.formula.uses_target:
            raise TypeError(f"formula {self.formula.text!r} uses y: pass a target")
        for name in self.formula.params:
            env[name] = torch.as_tensor(params[name], dtype=_DTYPE)
        value = self._op(env)
        if value.shape != p.shape or (p.requires_grad and not value.requires_grad):
            # A formula without p (or with p only in a condition) still gives one value per
            # sample, connected to p so that autograd reports a zero gradient.
            value = value + p * 0.0
        factor = _nan_factor(value)
        value = value * factor
        if p.requires_grad:
            # d = p − p is 0, so this adds 0 to the value; its first and second derivatives are
            # (factor − 1): NaN where the value is undefined, 0 elsewhere. So gradient and
            # curvature are NaN wherever the value is, even where an op with zero derivative
            # (sign, a constant branch) would drop the NaN coming back.
            d = p - p.detach()
            value = value + (d + 0.5 * d * d) * (factor - 1.0)
        return value
