"""The catalogue: built-in losses, plus custom losses scoped to a user session.

Built-ins are registered once at import by the family modules. Custom losses live in a
dictionary chosen by a :class:`contextvars.ContextVar`: a plain Python process shares one, while
the Streamlit pages wrap each script run in :func:`user_scope` with that browser session's own
dictionary, so one user's custom losses never reach another's.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable, Iterator, MutableMapping
from contextvars import ContextVar

from lossviz.errors import UnknownLossError
from lossviz.spec import Domain, LossFn, LossSpec, Param

FAMILIES: dict[str, str] = {
    "regression": "Regression",
    "robust": "Robust regression",
    "probabilistic": "Probabilistic & count",
    "classification": "Classification",
    "ranking": "Margins, ranking & embeddings",
    "segmentation": "Segmentation",
    "generative": "Generative (GAN) & image",
    "sequence": "Sequence",
    "regularization": "Regularization",
    "custom": "Custom",
}

_BUILTINS: dict[str, LossSpec] = {}
_PROCESS_USER_LOSSES: dict[str, LossSpec] = {}
_user_losses: ContextVar[MutableMapping[str, LossSpec]] = ContextVar(
    "lossviz_user_losses", default=_PROCESS_USER_LOSSES
)


def register(
    *,
    name: str,
    title: str,
    family: str,
    latex: str,
    use_when: str,
    pred: Domain,
    target: Domain | None,
    params: tuple[Param, ...] = (),
    references: tuple[str, ...] = (),
    **extra: object,
) -> Callable[[LossFn], LossFn]:
    """Decorator that declares a built-in loss and adds it to the catalogue."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}")

    def decorate(fn: LossFn) -> LossFn:
        if name in _BUILTINS:
            raise ValueError(f"loss {name!r} registered twice")
        _BUILTINS[name] = LossSpec(
            name=name,
            title=title,
            family=family,
            latex=latex,
            use_when=use_when,
            fn=fn,
            pred_domain=pred,
            target_domain=target,
            params=params,
            references=references,
            **extra,  # type: ignore[arg-type]
        )
        return fn

    return decorate


def user_losses() -> MutableMapping[str, LossSpec]:
    """The custom losses of the current scope (session)."""
    return _user_losses.get()


@contextlib.contextmanager
def user_scope(store: MutableMapping[str, LossSpec]) -> Iterator[MutableMapping[str, LossSpec]]:
    """Make ``store`` the home of custom losses defined and looked up inside the block."""
    token = _user_losses.set(store)
    try:
        yield store
    finally:
        _user_losses.reset(token)


def builtin_names() -> list[str]:
    return sorted(_BUILTINS)


def names(family: str | None = None) -> list[str]:
    """Every registered loss name (built-in and this scope's custom ones), sorted."""
    specs = {**_BUILTINS, **user_losses()}
    return sorted(n for n, s in specs.items() if family is None or s.family == family)


def spec(name: str | LossSpec) -> LossSpec:
    """The declaration of ``name``; unknown names raise :class:`UnknownLossError` with suggestions."""
    if isinstance(name, LossSpec):
        return name
    if not isinstance(name, str):
        raise UnknownLossError(f"a loss name must be a string, got {name!r}")
    found = user_losses().get(name) or _BUILTINS.get(name)
    if found is None:
        close = difflib.get_close_matches(name, names(), n=5, cutoff=0.5)
        hint = f"; closest: {', '.join(close)}" if close else f"; see lossviz.names() for all {len(names())}"
        raise UnknownLossError(f"unknown loss {name!r}{hint}")
    return found


def by_family(builtin_only: bool = False) -> dict[str, list[LossSpec]]:
    """Specs grouped by family, in the order of :data:`FAMILIES`, each sorted by name; ``builtin_only``
    leaves this scope's custom losses out."""
    grouped: dict[str, list[LossSpec]] = {f: [] for f in FAMILIES}
    for n in builtin_names() if builtin_only else names():
        s = spec(n)
        grouped[s.family].append(s)
    return {f: specs for f, specs in grouped.items() if specs}
