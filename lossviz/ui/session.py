"""Per-browser-session state: custom losses, and caches of results computed from a user's own data."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, MutableMapping

import streamlit as st

from lossviz.registry import spec, user_scope
from lossviz.spec import LossSpec
from lossviz.toolkit.training import RunCache, TrainConfig

_SESSION_KEY = "_lossviz_custom_losses"


@contextlib.contextmanager
def session_losses() -> Iterator[MutableMapping[str, LossSpec]]:
    """Run the page with this browser session's own custom losses (never another session's)."""
    store = st.session_state.setdefault(_SESSION_KEY, {})
    with user_scope(store):
        yield store


def loss_identity(name: str) -> tuple[object, ...]:
    """What identifies a loss's definition in a cache shared by all sessions.

    A built-in's name is enough; a custom loss's name is not (two sessions may define ``my_loss``
    differently), so its formula (as LaTeX, derived from the parsed formula) and parameters join it.
    Pass this to every ``st.cache_data`` function that takes a loss name.
    """
    s = spec(name)
    return (s.name,) if s.builtin else (s.name, s.latex, s.param_names)


def loss_key(name: str, params: Mapping[str, float]) -> tuple[str, tuple[object, ...], tuple[tuple[str, float], ...]]:
    """A loss with its parameter values as ``st.cache_data`` functions take it, ``f(*loss_key(name, params), …)``:
    its name, its :func:`loss_identity` and the values sorted by name (hashable)."""
    return name, loss_identity(name), tuple(sorted(params.items()))


PRIVATE_CACHE_ENTRIES = 8
"""Results on uploaded data kept per session and shared cache (runs, landscapes): enough to switch back and forth."""
_PRIVATE_KEY = "_lossviz_private_caches"


def results_cache(config: TrainConfig, shared: RunCache) -> RunCache:
    """Where results computed from ``config`` are kept: ``shared``, a cache of the process, or for a run on the
    user's uploaded data this browser session's own counterpart of it, which goes away with the session and
    which no other session reads."""
    if not config.data.private:
        return shared
    private = st.session_state.setdefault(_PRIVATE_KEY, {})
    # By identity: the shared caches are module-level objects that live as long as the process.
    return private.setdefault(id(shared), RunCache(max_entries=PRIVATE_CACHE_ENTRIES))
