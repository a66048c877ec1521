"""Figures of losses over uploaded (prediction, target) pairs: distributions and tail shares."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lossviz.figures.common import apply_layout, f32, loss_colors
from lossviz.pair_analysis import PairLossSummary

HISTOGRAM_BINS = 60


def _histogram(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(0), np.zeros(0)
    counts, edges = np.histogram(finite, bins=bins)
    return 0.5 * (edges[:-1] + edges[1:]), counts / finite.size


def figure_pair_distributions(summaries: Sequence[PairLossSummary], bins: int = HISTOGRAM_BINS) -> go.Figure:
    """Histograms (as share of pairs) of each loss's value and |gradient| over the pairs.

    Binned here, so the figure carries ``bins`` numbers per loss whatever the number of pairs.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss value per pair", "|gradient| per pair"))
    colors = loss_colors(s.name for s in summaries)
    for s in summaries:
        for col, data in ((1, s.value), (2, np.abs(s.grad))):
            centers, share = _histogram(np.asarray(data, dtype=np.float64), bins)
            fig.add_trace(
                go.Scatter(
                    x=f32(centers),
                    y=f32(share),
                    mode="lines",
                    line={"shape": "hvh", "color": colors[s.name]},
                    name=s.name,
                    legendgroup=s.name,
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(title_text="share of pairs", type="log", row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    return apply_layout(fig, height=360)


def figure_tail_shares(summaries: Sequence[PairLossSummary]) -> go.Figure:
    """Bars: the share of the total loss and of the total |gradient| from the worst 1 % and 10 % of pairs."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("share of total loss", "share of total |gradient|"))
    names = [s.name for s in summaries]
    for fraction, opacity in ((0.01, 1.0), (0.10, 0.55)):
        label = f"worst {fraction:.0%}"
        for col, attr in ((1, "value_tail_share"), (2, "grad_tail_share")):
            fig.add_trace(
                go.Bar(
                    x=names,
                    y=f32([getattr(s, attr)[fraction] for s in summaries]),
                    name=label,
                    marker={"color": "#d62728", "opacity": opacity},
                    legendgroup=label,
                    showlegend=col == 1,
                    text=[f"{getattr(s, attr)[fraction]:.0%}" for s in summaries],
                    textposition="outside",
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(range=[0, 1.1], tickformat=".0%")
    fig.update_layout(barmode="group")
    return apply_layout(fig, height=340)
