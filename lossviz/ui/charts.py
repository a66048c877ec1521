"""Showing figures: one place for the Plotly display options every page uses."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

PLOTLY_CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True}


def show(fig: go.Figure | dict[str, Any], key: str | None = None, container=st, **kwargs: Any) -> Any:
    """Display a figure built by a pure builder in ``lossviz.figures``: a ``go.Figure``, or a plain dict in
    Plotly's JSON structure (live figures), which ``st.plotly_chart`` validates once, as ``go.Figure`` would."""
    return container.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, **kwargs)
