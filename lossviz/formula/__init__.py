"""Custom losses typed by users: a small, safe formula language compiled to torch.

>>> import lossviz
>>> spec = lossviz.define("my_cauchy", "log(1 + ((p - y)/c)**2)", c=(1.0, 0.1, 5.0))
>>> spec.latex
'\\\\log\\\\left(1 + \\\\left(\\\\frac{p - y}{c}\\\\right)^{2}\\\\right)'

The language
------------
- ``p`` (the prediction), ``y`` (the target), numbers (``2``, ``0.5``, ``1e-3``), the constants
  ``pi`` and ``e``, and parameter names: every other ASCII name not starting with ``_`` is a
  parameter (at most :data:`MAX_PARAMS`; not ``name``, ``pred``, ``target``, ``order``).
- ``+ - * / **``, unary minus and plus, brackets; Python's precedence (``-p**2`` is −(p²)).
- Functions: abs, sign, exp, log, log1p, sqrt, sin, cos, tanh, sigmoid, softplus (stable, as
  the built-ins), relu, minimum(a, b), maximum(a, b), clamp(x, lo, hi), where(cond, a, b).
- Conditions, only as the first argument of ``where``: ``< <= > >= == !=``, chained comparisons
  (``0 < p < 1`` means ``0 < p and p < 1``), and ``and``, ``or``, ``not`` over conditions.

Anything else is rejected by :class:`~lossviz.FormulaError` (a ``ValueError``) with the position
(``column N``, and ``.offset`` on the exception) and what is allowed instead: attribute access,
subscripts, strings, lambdas, comprehensions, keyword arguments, ``a if c else b``, unknown
functions (with a suggestion), non-ASCII characters (look-alikes such as the Cyrillic 'р' are
named), NUL bytes. Limits: :data:`MAX_LENGTH` characters, :data:`MAX_DEPTH` levels of nesting,
:data:`MAX_NODES` nodes, constant exponents with |n| ≤ :data:`MAX_EXPONENT`.

Safety: the text is parsed by ``ast.parse`` (which only builds a syntax tree) after a character
pre-scan that bounds its size and nesting; the tree is converted to lossviz's own node classes
and compiled by mapping each node to a torch operation. User text is never passed to ``eval``,
``exec`` or ``compile``.

Semantics: a custom loss always takes a target (ignored when the formula has no ``y``); where a
formula is undefined its value, gradient and curvature are NaN (built-in losses never return
NaN); gradients through ``where`` come from the branch taken only; kinks follow torch.
"""

from lossviz.errors import FormulaError
from lossviz.formula._compile import CompiledFormula
from lossviz.formula._define import (
    MAX_CUSTOM_LOSSES,
    NAN_NOTE,
    SUGGESTED_DEFAULT,
    SUGGESTED_RANGE,
    define,
    formula_of,
    make_param,
    suggest_params,
)
from lossviz.formula._diagnose import (
    DEFAULT_VIEW,
    DIAGNOSIS_EXAMPLES,
    DiagnosisExample,
    Finding,
    View,
    diagnose,
    diagnose_spec,
)
from lossviz.formula._latex import symbol, to_latex
from lossviz.formula._parse import parse_formula
from lossviz.formula._tree import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_LENGTH,
    MAX_NODES,
    MAX_PARAMS,
    Formula,
)


def compile_formula(formula: Formula | str) -> CompiledFormula:
    """The torch function ``fn(pred, target, **params)`` of a formula (parsed first if text)."""
    return CompiledFormula(formula if isinstance(formula, Formula) else parse_formula(formula))


__all__ = [
    "DEFAULT_VIEW",
    "DIAGNOSIS_EXAMPLES",
    "FUNCTIONS",
    "MAX_CUSTOM_LOSSES",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_PARAMS",
    "NAN_NOTE",
    "SUGGESTED_DEFAULT",
    "SUGGESTED_RANGE",
    "CompiledFormula",
    "DiagnosisExample",
    "Finding",
    "Formula",
    "FormulaError",
    "View",
    "compile_formula",
    "define",
    "diagnose",
    "diagnose_spec",
    "formula_of",
    "make_param",
    "parse_formula",
    "suggest_params",
    "symbol",
    "to_latex",
]
