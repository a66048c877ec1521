"""lossviz: values, gradients and curvature of loss functions, for seeing how losses behave.

>>> import lossviz
>>> res = lossviz.evaluate("huber", [0.0, 3.0], 0.0, delta=1.0)
>>> res.value.tolist(), res.grad.tolist()
([0.0, 2.5], [0.0, 1.0])
"""

from lossviz import losses as _losses  # noqa: F401  (registers the built-ins)
from lossviz.engine import Evaluation, evaluate
from lossviz.errors import DomainError, FormulaError, ParameterError, UnknownLossError
from lossviz.formula import define, suggest_params
from lossviz.registry import FAMILIES, by_family, names, spec, user_losses, user_scope
from lossviz.spec import Domain, LossSpec, Param

__all__ = [
    "FAMILIES",
    "Domain",
    "DomainError",
    "Evaluation",
    "FormulaError",
    "LossSpec",
    "Param",
    "ParameterError",
    "UnknownLossError",
    "by_family",
    "define",
    "evaluate",
    "names",
    "spec",
    "suggest_params",
    "user_losses",
    "user_scope",
]
