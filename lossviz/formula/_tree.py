"""The whitelisted tree of a custom formula, its vocabulary and its limits.

Every formula a user types becomes a tree of the frozen dataclasses below and nothing else: the
parser (``_parse``) builds them from Python's ``ast`` into a :class:`Formula`, the compiler
(``_compile``) maps each node to a torch operation, and ``_latex`` renders them. Positions (``pos``,
``end``) are 0-based character offsets into the formula text and take no part in equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MAX_LENGTH = 500
"""The most characters a formula may have."""
MAX_DEPTH = 50
"""The deepest nesting of brackets, and of the expression tree (a chain a + b + c + … is one level per operator)."""
MAX_NODES = 200
"""The most nodes (numbers, names, operators, calls) a formula's tree may have."""
MAX_EXPONENT = 100.0
"""The largest |n| a constant exponent (one without p, y or parameters) may have."""
MAX_PARAMS = 8
"""The most parameters one formula may have."""

PRED = "p"
TARGET = "y"
VARIABLES = (PRED, TARGET)
CONSTANTS = ("pi", "e")
FUNCTIONS: dict[str, int] = {
    "abs": 1,
    "sign": 1,
    "exp": 1,
    "log": 1,
    "log1p": 1,
    "sqrt": 1,
    "sin": 1,
    "cos": 1,
    "tanh": 1,
    "sigmoid": 1,
    "softplus": 1,
    "relu": 1,
    "minimum": 2,
    "maximum": 2,
    "clamp": 3,
    "where": 3,
}
"""The callable functions and their number of arguments."""
SIGNATURES: dict[str, str] = {
    **{f: f"{f}(x)" for f, n in FUNCTIONS.items() if n == 1},
    "minimum": "minimum(a, b)",
    "maximum": "maximum(a, b)",
    "clamp": "clamp(x, lo, hi)",
    "where": "where(cond, a, b)",
}
RESERVED = ("name", "pred", "target", "order")
"""Names that cannot be parameters: they are the arguments of ``lossviz.evaluate`` itself."""

ALLOWED_SUMMARY = (
    "a formula may use p (prediction), y (target), numbers, parameter names, + - * / **, "
    "the functions " + ", ".join(FUNCTIONS) + " and the constants pi, e"
)

BinOpName = Literal["+", "-", "*", "/", "**"]
CompareName = Literal["<", "<=", ">", ">=", "==", "!="]
LogicName = Literal["and", "or"]


@dataclass(frozen=True, kw_only=True)
class Span:
    """Where a node stands in the formula's text, characters ``pos`` to ``end`` (for error messages; not part of
    a node's identity: two nodes of the same expression compare equal wherever they stand)."""

    pos: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Num(Span):
    """A number literal."""

    value: float


@dataclass(frozen=True)
class Var(Span):
    """``p``, ``y`` or a parameter."""

    name: str


@dataclass(frozen=True)
class Const(Span):
    """``pi`` or ``e``."""

    name: str


@dataclass(frozen=True)
class Neg(Span):
    """Unary minus (unary plus is dropped while parsing)."""

    operand: Expr


@dataclass(frozen=True)
class BinOp(Span):
    """``left op right`` with op one of + - * / **."""

    op: BinOpName
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Call(Span):
    """One of :data:`FUNCTIONS` applied to its arguments; ``where``'s first argument is a condition."""

    func: str
    args: tuple[Expr | Cond, ...]


@dataclass(frozen=True)
class Compare(Span):
    """A comparison, possibly chained: ``a < b <= c`` means ``a < b and b <= c`` (a condition)."""

    ops: tuple[CompareName, ...]
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Logic(Span):
    """``c1 and c2 …`` or ``c1 or c2 …`` over conditions."""

    op: LogicName
    values: tuple[Cond, ...]


@dataclass(frozen=True)
class Not(Span):
    """``not c`` over a condition."""

    operand: Cond


Expr = Num | Var | Const | Neg | BinOp | Call
"""A node with a numeric value."""
Cond = Compare | Logic | Not
"""A node with a true/false value: only the first argument of ``where`` (and parts of one)."""
Node = Expr | Cond


@dataclass(frozen=True)
class Formula:
    """A checked formula: its text, tree, parameter names (in order of appearance) and LaTeX."""

    text: str
    tree: Expr
    params: tuple[str, ...]
    uses_pred: bool
    uses_target: bool
    latex: str
    nodes: int
    depth: int


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of ``node``."""
    if isinstance(node, Neg | Not):
        return (node.operand,)
    if isinstance(node, BinOp):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Compare):
        return node.operands
    if isinstance(node, Logic):
        return node.values
    return ()


def names_used(node: Node) -> list[str]:
    """The variable and parameter names in ``node``, in order of first appearance."""
    seen: dict[str, None] = {}
    stack: list[Node] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Var):
            seen.setdefault(n.name)
        stack.extend(reversed(children(n)))
    return list(seen)
