"""Showing figures: one place for the Plotly display options every page uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lossviz.ui import url_state

PLOTLY_CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True}


def show(fig: go.Figure | dict[str, Any], key: str | None = None, container=st, **kwargs: Any) -> Any:
    """Display a figure built by a pure builder in ``lossviz.figures``: a ``go.Figure``, or a plain dict in
    Plotly's JSON structure (live figures), which ``st.plotly_chart`` validates once, as ``go.Figure`` would.
    A live figure's ``narrow`` layout (for the live chart on a phone) is not Plotly's and is left out."""
    if isinstance(fig, dict) and ("narrow" in fig or "narrow_traces" in fig):
        fig = {k: v for k, v in fig.items() if k not in ("narrow", "narrow_traces")}
    return container.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, **kwargs)


def lazy_tabs(labels: Sequence[str], key: str) -> Sequence[Any]:
    """Tabs of which only the open one is drawn: ``if tab.open: with tab: ...``.

    Why: a 3D surface is WebGL, and in a browser without a GPU drawing it took half of the Landscape page's
    load (docs/benchmarks.md); a tab nobody opened should cost neither the server nor the browser anything.
    Switching tabs reruns (the page's fragment) so the newly opened one is drawn, and the open tab is kept in
    the link (``bind="query-params"``: a classroom link can open the 3D view).
    """
    url_state.restore_choice(key, list(labels), labels[0])  # a link naming no tab warns and opens the first
    return st.tabs(list(labels), key=key, on_change="rerun", bind="query-params")


def lazy_expander(label: str, key: str) -> Any:
    """An expander whose content runs only while it is open: ``if (box := lazy_expander(...)).open: with box:``.

    Why: a plain ``st.expander`` runs (and sends) its content on every rerun, open or not; the Curves page's
    own-data section built two charts per rerun inside a closed expander (a quarter of the page's server time
    in a classroom profile). Opening it reruns the page, and the link keeps it open (``{key}=true``).
    """
    url_state.restore_flag(key)
    return st.expander(label, key=key, on_change="rerun", bind="query-params")


def show_table(table: pd.DataFrame, formats: Mapping[str, str] | None = None, *, decimals: int | None = None,
               **kwargs: Any) -> Any:
    """``st.dataframe`` with number formats per column: ``formats`` maps a column to a printf format or a preset
    of ``st.column_config.NumberColumn`` (``"%.1e"``, ``"percent"``); ``decimals`` formats every other float
    column with that many decimals.

    Why not a pandas ``Styler``: Streamlit computes a Styler's display values in Python, about 50 ms for the
    Outliers page's five-row table, on every rerun; a column's format is applied in the browser.
    """
    formats = dict(formats or {})
    if decimals is not None:
        for column in table.columns:
            if column not in formats and pd.api.types.is_float_dtype(table[column]):
                formats[column] = f"%.{decimals}f"
    config = {column: st.column_config.NumberColumn(format=fmt) for column, fmt in formats.items()}
    return st.dataframe(table, column_config=config, **kwargs)

