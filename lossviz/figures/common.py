"""Shared styling for every figure builder: one colour per loss, float32 arrays, layout defaults.

Builders in ``lossviz.figures`` are pure (``data -> go.Figure``, no Streamlit). They send their
arrays through :func:`f32` so that Plotly ships compact float32 typed arrays (half the bytes of
float64; a screen needs no more digits), take loss colours from :func:`loss_colors`, so that MSE is
the same blue on every page, and finish with :func:`apply_layout`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go

PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#843c39", "#7b4173", "#3182bd",
)
"""Distinct colours (Plotly/D3 category10 first, then darker tones) that read on a white background."""

PREFERRED: dict[str, str] = {
    "mse": PALETTE[0],
    "mae": PALETTE[1],
    "huber": PALETTE[2],
    "smooth_l1": PALETTE[3],
    "log_cosh": PALETTE[4],
    "quantile": PALETTE[5],
    "bce": PALETTE[0],
    "bce_logits": PALETTE[1],
    "focal": PALETTE[2],
    "logistic": PALETTE[3],
    "exponential": PALETTE[4],
    "hinge": PALETTE[5],
    "squared_hinge": PALETTE[6],
    "cross_entropy": PALETTE[0],
}
"""The colours of the losses people compare most, so that the classic trios never clash."""

FLOAT32_MAX = float(np.finfo(np.float32).max)

LAYOUT_DEFAULTS: dict[str, object] = {
    "template": "plotly_white",
    "font": {"size": 13},
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0.0},
}


def loss_color(name: str) -> str:
    """The colour of one loss: its preferred colour, else one picked by a stable hash of its name."""
    if name in PREFERRED:
        return PREFERRED[name]
    return PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


def loss_colors(names: Iterable[str]) -> dict[str, str]:
    """Colours for losses drawn together: each its :func:`loss_color` unless already taken in this
    figure, then the next free palette colour (colours repeat only beyond ``len(PALETTE)`` losses)."""
    out: dict[str, str] = {}
    for name in names:
        colour = loss_color(name)
        if colour in out.values() and len(out) < len(PALETTE):
            start = PALETTE.index(colour)
            free = [PALETTE[(start + i) % len(PALETTE)] for i in range(1, len(PALETTE))]
            colour = next(c for c in free if c not in out.values())
        out[name] = colour
    return out


def f32(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """``values`` as a float32 array for Plotly; NaN stays NaN (a gap), finite values beyond the
    float32 range are clipped to ±3.4e38 instead of overflowing to ±inf."""
    arr = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(arr)
    clipped = np.where(finite, np.clip(arr, -FLOAT32_MAX, FLOAT32_MAX), arr)
    return clipped.astype(np.float32)


def apply_layout(fig: go.Figure, *, height: int, title: str | None = None, **overrides: object) -> go.Figure:
    """Apply the shared layout (white template, horizontal legend on top, compact margins)."""
    layout = {**LAYOUT_DEFAULTS, "height": height, **overrides}
    if title is not None:
        layout["title"] = {"text": title, "x": 0.0, "xanchor": "left"}
    fig.update_layout(**layout)
    return fig


GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "varepsilon": "ε", "epsilon": "ϵ", "lambda": "λ",
    "mu": "μ", "sigma": "σ", "tau": "τ", "kappa": "κ", "eta": "η", "theta": "θ", "rho": "ρ", "nu": "ν",
}


def plain_symbol(latex: str) -> str:
    """A parameter's LaTeX symbol as plain text for Plotly labels (``\\delta`` → δ, ``c_0`` → c0)."""
    text = latex
    for name, char in sorted(GREEK.items(), key=lambda kv: -len(kv[0])):
        text = text.replace("\\" + name, char)
    return text.replace("\\", "").replace("{", "").replace("}", "").replace("_", "")


def figure_bytes(fig: go.Figure) -> int:
    """Size of the figure's JSON, what Streamlit sends to the browser (keep it below 1 MB)."""
    return len(fig.to_json().encode())
