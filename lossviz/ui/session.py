"""Per-browser-session scoping of custom losses."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, MutableMapping

import streamlit as st

from lossviz.registry import user_scope
from lossviz.spec import LossSpec

_SESSION_KEY = "_lossviz_custom_losses"


@contextlib.contextmanager
def session_losses() -> Iterator[MutableMapping[str, LossSpec]]:
    """Run the page with this browser session's own custom losses (never another session's)."""
    store = st.session_state.setdefault(_SESSION_KEY, {})
    with user_scope(store):
        yield store
