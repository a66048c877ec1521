"""What every page repeats, written once: the loss card, the failure guard around evaluating losses, and
figures kept across reruns."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from functools import partial
from typing import TypeVar

import plotly.graph_objects as go
import streamlit as st

from lossviz.registry import spec as get_spec
from lossviz.spec import LossSpec

T = TypeVar("T")

_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()#+-.!$<>|~:")


def plain(text: str) -> str:
    """``text`` with Markdown's special characters backslash-escaped, so that user text (a formula, a
    link value) shows as typed in a message: ``__import__`` stays ``__import__``, not bold."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in text)


# --- the loss card --------------------------------------------------------------------------------


def loss_card(loss: str | LossSpec, container=st, *, label: str | None = None, heading: bool = True) -> None:
    """A loss as its declaration describes it: **title** (`name`), the formula, when to use it (and its
    note), the references.

    ``label`` prefixes the title (``Training loss: …``); ``heading=False`` leaves title and name out where
    the page's own heading already names the loss.
    """
    s = get_spec(loss)
    if heading:
        container.markdown(f"**{f'{label}: ' if label else ''}{s.title}** (`{s.name}`)")
    container.latex(s.latex)
    container.caption(s.use_when + (f" {s.note}" if s.note else ""))
    if s.references:
        container.caption("Reference: " + "; ".join(s.references))


def loss_cards(losses: Sequence[str | LossSpec], per_row: int = 1, container=st) -> None:
    """The cards of several losses, one under the other, or ``per_row`` side by side in rows of columns."""
    if per_row <= 1:
        for loss in losses:
            loss_card(loss, container)
        return
    for start in range(0, len(losses), per_row):
        row = losses[start : start + per_row]
        for loss, column in zip(row, container.columns(per_row), strict=False):
            loss_card(loss, column)


# --- the failure guard ----------------------------------------------------------------------------


def guarded(what: str, compute: Callable[[], T], losses: Iterable[str | LossSpec] = (), container=st) -> T | None:
    """``compute()``, or None after saying why it failed, so that the rest of the page keeps working.

    A ``ValueError`` (a parameter out of range, data a loss does not take; the core's errors derive from
    it) is shown with ``what`` in front. Any other exception is shown only when one of ``losses`` is a
    custom loss, whose formula may fail in ways no declaration foresaw; with built-in losses only it is a
    bug, and it propagates.
    """
    try:
        return compute()
    except ValueError as exc:
        container.error(f"{what}: {exc}")
    except Exception as exc:
        if all(get_spec(loss).builtin for loss in losses):
            raise
        # The message may quote the formula, whose * and _ Markdown would read as emphasis.
        container.error(f"{what}: the formula could not be evaluated ({type(exc).__name__}: {plain(str(exc))})")
    return None


def guarded_each(losses: Iterable[str], compute: Callable[[str], T], container=st) -> dict[str, T]:
    """``{loss: compute(loss)}`` for each loss through :func:`guarded`: a loss that fails is shown and left
    out, the others go on."""
    results: dict[str, T] = {}
    for name in losses:
        result = guarded(name, partial(compute, name), (name,), container)
        if result is not None:
            results[name] = result
    return results


# --- kept figures -----------------------------------------------------------------------------------

KEPT_FIGURES = 96
"""Figures kept by the process (every page together): each a few hundred kB."""


@st.cache_resource(max_entries=KEPT_FIGURES, show_spinner=False)
def _kept_figure(kind: str, ident: Hashable, _build: Callable[[], go.Figure]) -> go.Figure:
    return _build()


def kept_figure(
    kind: str,
    ident: Hashable,
    build: Callable[[], go.Figure],
    losses: Iterable[str | LossSpec] = (),
    private: bool = False,
) -> go.Figure:
    """The figure ``build()`` makes, built once per ``(kind, ident)`` and kept for every session (never mutated):
    building and validating a large Plotly figure costs more than the rest of a rerun.

    ``kind`` names the figure, page prefix included (``training_fit``); ``ident`` is everything the figure
    depends on. A figure of a custom loss (its name is this session's own) or of the user's uploaded data
    (``private``: it never leaves its session) is built again each time instead.
    """
    if private or not all(get_spec(loss).builtin for loss in losses):
        return build()
    return _kept_figure(kind, ident, build)
