"""Parse formula text into the whitelisted tree, rejecting everything else with a pointed message.

Three stages, each bounded before the next runs:

1. ``_prescan`` looks at the raw characters: type, length (:data:`MAX_LENGTH`), NUL and control
   characters, non-ASCII characters (look-alikes such as the Cyrillic 'р' are named), and bracket
   depth (:data:`MAX_DEPTH`), so that ``ast.parse`` never meets 10,000 nested parentheses.
2. ``ast.parse(mode="eval")`` builds Python's syntax tree (only the tree: nothing is compiled to
   bytecode or run). ``_scan`` walks it without recursion, counting nodes and depth and collecting
   every construct outside the whitelist (attributes, subscripts, strings, lambdas, comprehensions,
   keyword arguments, unknown functions, …); the first in the text is reported.
3. ``_Converter`` turns the checked tree into :mod:`lossviz.formula._tree` nodes (its recursion is
   bounded by the depth check), checking what depends on context: comparisons only as the
   condition of ``where``, the number of arguments of each function, functions used as values,
   finite numbers and constant exponents with |n| ≤ :data:`MAX_EXPONENT`.
"""

from __future__ import annotations

import ast
import difflib
import functools
import math
import unicodedata

from lossviz.errors import FormulaError
from lossviz.formula import _tree as t
from lossviz.formula._compile import constant_value  # a constant exponent is judged by the arithmetic the loss runs
from lossviz.formula._latex import to_latex

_WHITESPACE = " \t\n\r"
_OPEN, _CLOSE = "([{", ")]}"
_NO_MEANING = {
    # Characters Python would silently accept but that mean nothing in a formula.
    "#": "comments ('#') are not allowed",
    "\\": "backslashes are not allowed; a formula may simply continue on the next line",
}
_LOOK_ALIKES = {
    # Cyrillic and Greek letters that look like ASCII ones, and typographic operators.
    "а": "a", "в": "B", "е": "e", "к": "k", "м": "M", "н": "H", "о": "o", "р": "p", "с": "c", "т": "T",
    "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ѵ": "v",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "ο": "o", "ν": "v", "α": "a", "ρ": "p", "ι": "i", "κ": "k", "τ": "t", "υ": "u", "χ": "x",
    "γ": "y", "Ο": "O", "Ρ": "P", "Α": "A", "Β": "B", "Ε": "E", "Κ": "K", "Τ": "T", "Χ": "X",
    "−": "-", "–": "-", "—": "-", "×": "*", "·": "*", "∙": "*", "÷": "/", "≤": "<=", "≥": ">=", "≠": "!=",
    "π": "pi", "（": "(", "）": ")", "，": ",", "’": "'", "‘": "'", "“": '"', "”": '"',
}  # fmt: skip


def where_in(text: str, offset: int) -> str:
    """'column 5' (1-based), or 'line 2, column 3' when the text has several lines."""
    if "\n" not in text:
        return f"column {offset + 1}"
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def formula_error(text: str, offset: int | None, message: str) -> FormulaError:
    """A :class:`FormulaError` whose message starts with the position; ``.offset`` holds it (0-based)."""
    err = FormulaError(f"{where_in(text, offset)}: {message}" if offset is not None else message)
    err.offset = offset  # type: ignore[attr-defined]
    err.formula = text  # type: ignore[attr-defined]
    return err


# --- stage 1: characters ------------------------------------------------------------------------


def _describe_char(ch: str) -> str:
    """'character 'р' (CYRILLIC SMALL LETTER ER) is not allowed; it looks like 'p'' and the like."""
    name = unicodedata.name(ch, f"U+{ord(ch):04X}")
    text = f"non-ASCII character {ch!r} ({name}) is not allowed"
    hint = _LOOK_ALIKES.get(ch) or unicodedata.normalize("NFKC", ch)
    if hint.isascii() and hint.isprintable() and hint.strip():
        return f"{text}; it looks like {hint!r}: formulas use ASCII only"
    if name.startswith("GREEK") and "LETTER" in name:
        return f"{text}; write Greek letters by name, e.g. {name.split()[-1].lower()!r}"
    return f"{text}; formulas use ASCII letters, digits and + - * / ( ) , . < > = !"


def _prescan(text: object) -> str:
    """Check the raw characters and bracket depth; return the text with tabs and newlines as spaces."""
    if not isinstance(text, str):
        raise formula_error("", None, f"a formula must be a string, got {type(text).__name__}")
    if len(text) > t.MAX_LENGTH:
        raise formula_error(text, None, f"formula is {len(text)} characters; the limit is {t.MAX_LENGTH}")
    if not text.strip(_WHITESPACE):
        raise formula_error(text, None, "formula is empty; write an expression in p and y such as (p - y)**2")
    depth = 0
    for i, ch in enumerate(text):
        if ch == "\x00":
            raise formula_error(text, i, "NUL byte (\\x00) is not allowed; a formula is plain ASCII text")
        if not ch.isascii():
            raise formula_error(text, i, _describe_char(ch))
        if not ch.isprintable() and ch not in _WHITESPACE:
            raise formula_error(text, i, f"control character {ch!r} is not allowed; use spaces")
        if ch in _NO_MEANING:
            raise formula_error(text, i, _NO_MEANING[ch])
        if ch in _OPEN:
            depth += 1
            if depth > t.MAX_DEPTH:
                raise formula_error(
                    text, i, f"brackets nest more than {t.MAX_DEPTH} levels deep; the limit is {t.MAX_DEPTH}"
                )
        elif ch in _CLOSE:
            depth = max(depth - 1, 0)
    return "".join(" " if ch in _WHITESPACE else ch for ch in text)


def _parse_ast(text: str, flat: str) -> tuple[ast.expr, int]:
    """``ast.parse`` of the flattened text, with every failure turned into a FormulaError."""
    lead = len(flat) - len(flat.lstrip(" "))
    try:
        tree = ast.parse(flat[lead:], mode="eval")
    except SyntaxError as exc:
        offset = lead + max((exc.offset or 1) - 1, 0) if exc.lineno == 1 else None
        offset = None if offset is None else min(offset, len(text) - 1)
        message = exc.msg.replace("Perhaps you forgot a comma?", "Perhaps an operator such as * is missing?")
        raise formula_error(text, offset, f"syntax error: {message}; {t.ALLOWED_SUMMARY}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError, Warning) as exc:
        raise formula_error(text, None, f"the formula cannot be parsed ({type(exc).__name__}: {exc})") from None
    return tree.body, lead


# --- stage 2: a non-recursive scan of Python's tree ----------------------------------------------

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_BAD_BINOPS = {
    ast.FloorDiv: "'//' (floor division) is not allowed; use /",
    ast.Mod: "'%' (remainder) is not allowed",
    ast.MatMult: "'@' (matrix product) is not allowed; use *",
    ast.BitXor: "'^' is not a power; write a**b",
    ast.BitAnd: "'&' is not allowed; inside a where() condition write 'and'",
    ast.BitOr: "'|' is not allowed; inside a where() condition write 'or'",
    ast.LShift: "'<<' is not allowed",
    ast.RShift: "'>>' is not allowed",
}
_COMPARES = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_BAD_NODES = {
    ast.Attribute: "attribute access is not allowed",
    ast.Lambda: "lambda is not allowed; write the formula itself",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.IfExp: "'a if c else b' is not allowed; write where(c, a, b)",
    ast.NamedExpr: "':=' (assignment) is not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.List: "lists [...] are not allowed",
    ast.Tuple: "tuples are not allowed (a ',' outside a function's arguments)",
    ast.Set: "sets {...} are not allowed",
    ast.Dict: "dicts {...} are not allowed",
    ast.Slice: "slices are not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
}


class _Positions:
    """Offsets into the original text of the nodes of the flattened, left-stripped text."""

    def __init__(self, text: str, lead: int) -> None:
        self.text = text
        self.lead = lead

    def start(self, node: ast.AST) -> int:
        return self.lead + node.col_offset  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.lead + node.end_col_offset  # type: ignore[attr-defined]

    def source(self, node: ast.AST, limit: int = 40) -> str:
        s = " ".join(self.text[self.start(node) : self.end(node)].split())
        return s if len(s) <= limit else s[: limit - 1] + "…"

    def token_after(self, node: ast.AST, before: ast.AST | None = None) -> int:
        """Offset of the first character after ``node`` that is not a space or ')' (an operator)."""
        i = self.end(node)
        stop = self.start(before) if before is not None else len(self.text)
        while i < stop and self.text[i] in " \t\n\r)":
            i += 1
        return min(i, len(self.text) - 1)


def _unknown_function(name: str) -> str:
    if name in t.VARIABLES:
        what = "the prediction" if name == t.PRED else "the target"
        return f"'{name}' is {what}, not a function; to multiply write {name}*(...)"
    if name in t.CONSTANTS:
        return f"'{name}' is a constant, not a function; to multiply write {name}*(...)"
    if name.startswith("_"):
        return f"'{name}' is not allowed: names starting with '_' are never allowed; {t.ALLOWED_SUMMARY}"
    close = difflib.get_close_matches(name, list(t.FUNCTIONS), n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else f"if '{name}' is a parameter, multiply: {name}*(...); "
    return f"unknown function '{name}'; {hint}the functions are {', '.join(t.SIGNATURES.values())}"


def _name_problem(name: str) -> str | None:
    if name.startswith("_"):
        return f"name '{name}' is not allowed: names starting with '_' are never allowed; {t.ALLOWED_SUMMARY}"
    if name in t.RESERVED:
        hint = {"pred": "the prediction is p", "target": "the target is y"}.get(name, "choose another name")
        return f"'{name}' cannot be a parameter name ({hint})"
    return None


def _constant_problem(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return f"{value} is not allowed; {t.ALLOWED_SUMMARY}"
    if isinstance(value, int | float):
        return None
    what = {str: "strings", bytes: "bytes", complex: "complex numbers"}.get(type(value))
    if what is not None:
        return f"{what} are not allowed; {t.ALLOWED_SUMMARY}"
    if value is Ellipsis:
        return f"'...' is not allowed; {t.ALLOWED_SUMMARY}"
    return f"{type(value).__name__} constants are not allowed"


def _problem(node: ast.AST, pos: _Positions) -> tuple[int, str] | None:
    """The first thing wrong with ``node`` itself (not its children), as (offset, message)."""
    start = pos.start(node)
    if isinstance(node, ast.Constant):
        message = _constant_problem(node.value)
        return None if message is None else (start, message)
    if isinstance(node, ast.Name):
        message = _name_problem(node.id)
        return None if message is None else (start, message)
    if isinstance(node, ast.Attribute):
        dot = pos.text.rfind(".", pos.end(node.value), pos.end(node))
        return (dot, f"attribute access '.{node.attr}' is not allowed; {t.ALLOWED_SUMMARY}")
    if isinstance(node, ast.Subscript):
        bracket = pos.text.find("[", pos.end(node.value), pos.end(node))
        return (bracket, f"subscripts x[...] are not allowed; {t.ALLOWED_SUMMARY}")
    if isinstance(node, ast.BinOp) and type(node.op) in _BAD_BINOPS:
        return (pos.token_after(node.left, node.right), _BAD_BINOPS[type(node.op)])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        return (start, "'~' is not allowed; inside a where() condition write 'not'")
    if isinstance(node, ast.Compare):
        for op, left, right in zip(node.ops, [node.left, *node.comparators[:-1]], node.comparators, strict=True):
            if type(op) not in _COMPARES:
                return (pos.token_after(left, right), "'is' and 'in' are not allowed; compare with == or !=")
        return None
    if isinstance(node, ast.Call):
        return _call_problem(node, pos)
    if type(node) in _BAD_NODES:
        return (start, f"{_BAD_NODES[type(node)]}; {t.ALLOWED_SUMMARY}")
    if not isinstance(node, ast.BinOp | ast.UnaryOp | ast.BoolOp):
        return (start, f"{type(node).__name__} is not allowed; {t.ALLOWED_SUMMARY}")
    return None


def _call_problem(node: ast.Call, pos: _Positions) -> tuple[int, str] | None:
    if not isinstance(node.func, ast.Name):
        paren = pos.text.find("(", pos.end(node.func))
        return (paren, f"only the functions {', '.join(t.FUNCTIONS)} can be called")
    if node.func.id not in t.FUNCTIONS:
        return (pos.start(node.func), _unknown_function(node.func.id))
    for kw in node.keywords:
        if kw.arg is None:
            return (pos.start(kw), "'**' unpacking is not allowed")
        return (
            pos.start(kw),
            f"keyword argument '{kw.arg}=' is not allowed; pass arguments by position: {t.SIGNATURES[node.func.id]}",
        )
    return None


def _scan(root: ast.expr, pos: _Positions) -> tuple[int, int]:
    """Check every node without recursion; return (node count, depth) or raise the first problem."""
    problems: list[tuple[int, str]] = []
    nodes = depth = 0
    too_deep: int | None = None
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, level = stack.pop()
        nodes += 1
        depth = max(depth, level)
        if level > t.MAX_DEPTH and too_deep is None:
            too_deep = pos.start(node)
        problem = _problem(node, pos)
        if problem is not None:
            problems.append(problem)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.keyword):
                child = child.value
            if isinstance(child, ast.expr):
                stack.append((child, level + 1))
    if problems:
        offset, message = min(problems, key=lambda p: p[0])
        raise formula_error(pos.text, offset, message)
    if too_deep is not None:
        raise formula_error(
            pos.text, too_deep,
            f"the formula nests {depth} levels deep; the limit is {t.MAX_DEPTH} "
            f"(each operator of a chain a + b + c + … adds a level)",
        )  # fmt: skip
    if nodes > t.MAX_NODES:
        raise formula_error(
            pos.text,
            None,
            f"the formula has {nodes} parts (numbers, names, operators, calls); the limit is {t.MAX_NODES}",
        )
    return nodes, depth


# --- stage 3: conversion to the whitelisted tree --------------------------------------------------


class _Converter:
    """Python's checked tree → :mod:`lossviz.formula._tree` nodes; recursion depth ≤ MAX_DEPTH."""

    def __init__(self, pos: _Positions) -> None:
        self.pos = pos

    def fail(self, offset: int, message: str) -> FormulaError:
        return formula_error(self.pos.text, offset, message)

    def span(self, node: ast.AST) -> dict[str, int]:
        return {"pos": self.pos.start(node), "end": self.pos.end(node)}

    def expr(self, node: ast.expr) -> t.Expr:
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return t.Neg(self.expr(node.operand), **self.span(node))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
            return self.expr(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Compare | ast.BoolOp) or (
            isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
        ):
            raise self.fail(
                self.pos.start(node),
                f"'{self.pos.source(node)}' is true/false: comparisons, and, or, not are only allowed as "
                "the first argument of where(cond, a, b), e.g. where(p > y, p - y, 0)",
            )
        raise self.fail(self.pos.start(node), f"{type(node).__name__} is not allowed; {t.ALLOWED_SUMMARY}")

    def number(self, node: ast.Constant) -> t.Num:
        try:
            value = float(node.value)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise self.fail(self.pos.start(node), f"number {self.pos.source(node)} is too large (not a finite float)")
        return t.Num(value, **self.span(node))

    def name(self, node: ast.Name) -> t.Var | t.Const:
        if node.id in t.CONSTANTS:
            return t.Const(node.id, **self.span(node))
        if node.id in t.FUNCTIONS:
            raise self.fail(self.pos.start(node), f"'{node.id}' is a function; call it as {t.SIGNATURES[node.id]}")
        return t.Var(node.id, **self.span(node))

    def binop(self, node: ast.BinOp) -> t.BinOp:
        left, right = self.expr(node.left), self.expr(node.right)
        op = _BINOPS[type(node.op)]
        if op == "**" and not t.names_used(right):
            value = constant_value(right)
            if not abs(value) <= t.MAX_EXPONENT:  # also catches NaN
                shown = "" if isinstance(right, t.Num) else f" = {value:.6g}"
                raise self.fail(
                    self.pos.start(node.right),
                    f"exponent too large in {self.pos.source(node)}: the exponent {self.pos.source(node.right)}"
                    f"{shown}; constant exponents are limited to |n| ≤ {t.MAX_EXPONENT:g}",
                )
        return t.BinOp(op, left, right, **self.span(node))

    def call(self, node: ast.Call) -> t.Call:
        assert isinstance(node.func, ast.Name)  # guaranteed by _scan
        func = node.func.id
        if len(node.args) != t.FUNCTIONS[func]:
            n = t.FUNCTIONS[func]
            raise self.fail(
                self.pos.start(node),
                f"{func}() takes {n} argument{'s' if n > 1 else ''}, got {len(node.args)}: write {t.SIGNATURES[func]}",
            )
        if func == "where":
            cond, a, b = node.args
            args: tuple[t.Expr | t.Cond, ...] = (self.cond(cond), self.expr(a), self.expr(b))
        else:
            args = tuple(self.expr(a) for a in node.args)
        return t.Call(func, args, **self.span(node))

    def cond(self, node: ast.expr) -> t.Cond:
        if isinstance(node, ast.Compare):
            ops = tuple(_COMPARES[type(op)] for op in node.ops)
            operands = tuple(self.expr(e) for e in [node.left, *node.comparators])
            return t.Compare(ops, operands, **self.span(node))
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return t.Logic(op, tuple(self.cond(v) for v in node.values), **self.span(node))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return t.Not(self.cond(node.operand), **self.span(node))
        raise self.fail(
            self.pos.start(node),
            f"the condition of where() must be a comparison such as p > y (combined with and, or, not if "
            f"needed); got '{self.pos.source(node)}'",
        )


def _first_use(tree: t.Node, name: str) -> int:
    stack: list[t.Node] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Var) and node.name == name:
            return node.pos
        stack.extend(reversed(t.children(node)))
    raise KeyError(name)


def _check_params(tree: t.Expr, text: str) -> tuple[str, ...]:
    params = tuple(n for n in t.names_used(tree) if n not in t.VARIABLES)
    if len(params) > t.MAX_PARAMS:
        offset = _first_use(tree, params[t.MAX_PARAMS])
        raise formula_error(
            text, offset, f"the formula has {len(params)} parameters ({', '.join(params)}); the limit is {t.MAX_PARAMS}"
        )
    return params


def parse_formula(text: str) -> t.Formula:
    """Parse and check ``text``; raise :class:`~lossviz.FormulaError` pointing at the first problem.

    >>> f = parse_formula("where(abs(p - y) <= d, 0.5*(p - y)**2, d*(abs(p - y) - 0.5*d))")
    >>> f.params
    ('d',)
    """
    if not isinstance(text, str):
        raise formula_error("", None, f"a formula must be a string, got {type(text).__name__}")
    return _parse(text)


@functools.lru_cache(maxsize=512)  # the pages re-run on every interaction; parsing is pure
def _parse(text: str) -> t.Formula:
    flat = _prescan(text)
    root, lead = _parse_ast(text, flat)
    pos = _Positions(text, lead)
    nodes, depth = _scan(root, pos)
    tree = _Converter(pos).expr(root)
    params = _check_params(tree, text)
    used = t.names_used(tree)
    return t.Formula(
        text=text,
        tree=tree,
        params=params,
        uses_pred=t.PRED in used,
        uses_target=t.TARGET in used,
        latex=to_latex(tree),
        nodes=nodes,
        depth=depth,
    )
