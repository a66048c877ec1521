"""The "predictions vs targets" section: upload a model's (prediction, target) pairs and see which
loss its worst pairs would dominate. Used on the Curves page; thin like a page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

import lossviz
from lossviz.figures.curves import figure_pair_distributions, figure_tail_shares
from lossviz.studies.curves import analyze_pairs
from lossviz.toolkit.tables import UploadError, numeric_columns, select_numeric
from lossviz.ui.charts import show
from lossviz.ui.controls import multichoice_control, param_controls
from lossviz.ui.upload import csv_source


def pair_losses() -> list[str]:
    """Pointwise losses of a real prediction against a real target (regression, robust, custom…)."""
    out = []
    for name in lossviz.names():
        s = lossviz.spec(name)
        if s.pointwise and s.target_domain is not None and not s.target_domain.is_discrete:
            if s.pred_domain.low == -np.inf and s.target_domain.low == -np.inf:
                out.append(name)
    return out


def render_pairs_section(prefix: str) -> None:
    st.markdown(
        "Upload a file of **(prediction, target)** pairs — a model's validation output — to see each loss's "
        "value and gradient over *your* residuals, and how much of the total comes from the worst 1 % and "
        "10 % of pairs: the share a loss hands to your outliers."
    )
    frame = csv_source(f"{prefix}_pairs", "Predictions and targets (CSV)", default_example=None)
    if frame is None:
        return
    columns = numeric_columns(frame)
    if len(columns) < 2:
        st.error("The file needs at least two numeric columns: predictions and targets.")
        return
    left, right = st.columns(2)
    guess_pred = next((c for c in columns if "pred" in c.lower()), columns[0])
    guess_target = next(
        (c for c in columns if c != guess_pred and ("target" in c.lower() or "true" in c.lower())),
        next(c for c in columns if c != guess_pred),
    )
    pred_col = left.selectbox("Prediction column", columns, index=columns.index(guess_pred), key=f"{prefix}_pairs_pred")
    target_col = right.selectbox(
        "Target column", columns, index=columns.index(guess_target), key=f"{prefix}_pairs_target"
    )
    try:
        cleaned = select_numeric(frame, [pred_col, target_col], allow_constant=[pred_col, target_col])
    except UploadError as exc:
        st.error(str(exc))
        return
    for note in cleaned.notes:
        st.info(note)
    options = pair_losses()
    chosen = multichoice_control(
        "Losses", options, [n for n in ("mse", "mae", "huber") if n in options], f"{prefix}_pairs_losses"
    )
    if not chosen:
        st.info("Pick at least one loss.")
        return
    params = {}
    with st.expander("Loss parameters"):
        for name in chosen:
            params[name] = param_controls(name, f"{prefix}_pairs")
    try:
        summaries = analyze_pairs(chosen, cleaned.columns[pred_col], cleaned.columns[target_col], params)
    except ValueError as exc:
        st.error(str(exc))
        return
    st.dataframe(
        pd.DataFrame(
            {
                "loss": [s.name for s in summaries],
                "mean loss": [s.mean for s in summaries],
                "worst 1 % share of loss": [s.value_tail_share[0.01] for s in summaries],
                "worst 10 % share of loss": [s.value_tail_share[0.10] for s in summaries],
                "worst 1 % share of |gradient|": [s.grad_tail_share[0.01] for s in summaries],
            }
        ).style.format(
            {
                c: "{:.1%}"
                for c in ("worst 1 % share of loss", "worst 10 % share of loss", "worst 1 % share of |gradient|")
            }
            | {"mean loss": "{:.4g}"}
        ),
        hide_index=True,
    )
    show(figure_tail_shares(summaries), key=f"{prefix}_pairs_tail")
    show(figure_pair_distributions(summaries), key=f"{prefix}_pairs_dist")
    st.caption(f"{cleaned.rows:,} pairs; histograms are binned over all of them.")
