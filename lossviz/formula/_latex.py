r"""Render a formula tree as LaTeX (KaTeX-compatible), with the brackets Python's precedence needs.

Division is ``\frac``, powers ``^{}``, sigmoid ``\sigma``, minimum/maximum ``\min``/``\max``,
relu ``\max(0, x)``, abs ``|x|``, where a ``cases`` block; p and y stay p and y, as in the
built-in losses' formulas, and parameters named after Greek letters become those letters.
"""

from __future__ import annotations

import re

from lossviz.formula import _tree as t

_GREEK = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa mu nu xi rho sigma tau upsilon phi chi psi omega "
    "Gamma Delta Theta Lambda Xi Sigma Upsilon Phi Psi Omega"
).split()
_GREEK_ALIASES = {"epsilon": r"\varepsilon", "eps": r"\varepsilon", "lam": r"\lambda", "lmbda": r"\lambda"}

# Precedence levels, Python's order; a child is bracketed when its level is below what its place needs.
_OR, _AND, _NOT, _CMP, _ADD, _MUL, _NEG, _POW, _BLOCK, _ATOM = range(10)
_CMP_LATEX = {"<": "<", "<=": r"\le", ">": ">", ">=": r"\ge", "==": "=", "!=": r"\ne"}
_FUNC_LATEX = {
    "exp": r"\exp",
    "log": r"\log",
    "sin": r"\sin",
    "cos": r"\cos",
    "tanh": r"\tanh",
    "sigmoid": r"\sigma",
    "sign": r"\operatorname{sign}",
    "softplus": r"\operatorname{softplus}",
    "minimum": r"\min",
    "maximum": r"\max",
    "clamp": r"\operatorname{clamp}",
}


def symbol(name: str) -> str:
    r"""LaTeX for a variable or parameter name: ``delta`` → ``\delta``, ``k1`` → ``k_{1}``, ``lr`` → ``\mathrm{lr}``."""
    if name in _GREEK_ALIASES:
        return _GREEK_ALIASES[name]
    if name in _GREEK:
        return "\\" + name
    match = re.fullmatch(r"([A-Za-z]+?)_?(\d+)", name)
    if match:
        return f"{symbol(match[1])}_{{{match[2]}}}"
    head, _, tail = name.partition("_")
    if head and tail:
        return f"{symbol(head)}_{{{symbol(tail)}}}"
    if len(name) == 1:
        return name
    return r"\mathrm{" + name.replace("_", r"\_") + "}"


def _number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = repr(value)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    return power if mantissa in ("1", "1.0") else rf"{mantissa} \cdot {power}"


def _paren(s: str) -> str:
    return r"\left(" + s + r"\right)"


def _render(node: t.Node) -> tuple[str, int]:
    """(LaTeX, precedence level) of ``node``."""
    if isinstance(node, t.Num):
        return _number(node.value), _ATOM
    if isinstance(node, t.Const):
        return (r"\pi" if node.name == "pi" else "e"), _ATOM
    if isinstance(node, t.Var):
        return symbol(node.name), _ATOM
    if isinstance(node, t.Neg):
        inner, level = _render(node.operand)
        needs = level < _NEG or isinstance(node.operand, t.Neg)
        return "-" + (_paren(inner) if needs else inner), _NEG
    if isinstance(node, t.BinOp):
        return _binop(node)
    if isinstance(node, t.Call):
        return _call(node)
    if isinstance(node, t.Compare):
        parts = [_at_least(o, _ADD) for o in node.operands]
        text = parts[0]
        for op, part in zip(node.ops, parts[1:], strict=True):
            text += f" {_CMP_LATEX[op]} {part}"
        return text, _CMP
    if isinstance(node, t.Logic):
        level = _AND if node.op == "and" else _OR
        joiner = r" \land " if node.op == "and" else r" \lor "
        return joiner.join(_at_least(v, level + 1) for v in node.values), level
    if isinstance(node, t.Not):
        return r"\lnot " + _at_least(node.operand, _ATOM), _NOT
    raise TypeError(f"not a formula node: {node!r}")


def _at_least(node: t.Node, level: int) -> str:
    text, own = _render(node)
    return _paren(text) if own < level else text


def _binop(node: t.BinOp) -> tuple[str, int]:
    if node.op == "/":
        return rf"\frac{{{_render(node.left)[0]}}}{{{_render(node.right)[0]}}}", _BLOCK
    if node.op == "**":
        return f"{_at_least(node.left, _ATOM)}^{{{_render(node.right)[0]}}}", _POW
    left = _at_least(node.left, _ADD if node.op in "+-" else _MUL)
    right_text, right_level = _render(node.right)
    # a - (b + c) keeps its brackets, a + (b + c) needs none; a negated right operand always gets them.
    need = {"+": _ADD, "-": _ADD + 1, "*": _MUL}[node.op]
    if right_level < need or isinstance(node.right, t.Neg):
        right_text = _paren(right_text)
    if node.op == "*":
        joiner = r" \cdot " if right_text[0].isdigit() or right_text[0] == "." else " "
        return left + joiner + right_text, _MUL
    return f"{left} {node.op} {right_text}", _ADD


def _call(node: t.Call) -> tuple[str, int]:
    args = [_render(a)[0] for a in node.args]
    f = node.func
    if f == "abs":
        return r"\left|" + args[0] + r"\right|", _ATOM
    if f == "sqrt":
        return r"\sqrt{" + args[0] + "}", _ATOM
    if f == "log1p":
        return r"\log" + _paren("1 + " + args[0]), _ATOM
    if f == "relu":
        return r"\max" + _paren("0, " + args[0]), _ATOM
    if f == "where":
        cond, a, b = args
        return (
            r"\begin{cases} " + a + r" & \text{if } " + cond + r" \\ " + b + r" & \text{otherwise} \end{cases}",
            _BLOCK,
        )
    return _FUNC_LATEX[f] + _paren(", ".join(args)), _ATOM


def to_latex(tree: t.Node) -> str:
    r"""Readable LaTeX for a formula tree.

    >>> from lossviz.formula import parse_formula
    >>> to_latex(parse_formula("delta*(abs(p - y) - 0.5*delta)").tree)
    '\\delta \\left(\\left|p - y\\right| - 0.5 \\delta\\right)'
    """
    return _render(tree)[0]
