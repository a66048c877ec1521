"""Per-browser-session scoping of custom losses."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, MutableMapping

import streamlit as st

from lossviz.registry import spec, user_scope
from lossviz.spec import LossSpec

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
