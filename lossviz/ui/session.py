"""Per-browser-session state: custom losses, and caches of results computed from a user's own data."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, MutableMapping

import streamlit as st

from lossviz.registry import spec, user_scope
from lossviz.spec import LossSpec
from lossviz.studies.neural_landscape import LANDSCAPES
from lossviz.toolkit.training import RUNS, RunCache, TrainConfig

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


PRIVATE_CACHE_ENTRIES = 8
"""Results on uploaded data kept per session and kind (runs, landscapes): enough to switch back and forth."""


def private_cache(kind: str) -> RunCache:
    """A cache of this browser session only: it goes away with the session and no other session reads it."""
    return st.session_state.setdefault(f"_lossviz_private_{kind}", RunCache(max_entries=PRIVATE_CACHE_ENTRIES))


def runs_cache(config: TrainConfig) -> RunCache:
    """Where trained runs of ``config`` are kept: the process-wide :data:`RUNS`, or this session's own
    cache for a run on the user's uploaded data."""
    return private_cache("runs") if config.data.private else RUNS


def landscapes_cache(config: TrainConfig) -> RunCache:
    """As :func:`runs_cache`, for the neural landscape's interpolations and slices."""
    return private_cache("landscapes") if config.data.private else LANDSCAPES
