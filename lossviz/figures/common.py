"""Shared styling for every figure builder: one colour per loss, float32 arrays, layout defaults.

Builders in ``lossviz.figures`` are pure (data -> ``go.Figure`` or, for live figures, a plain
:data:`FigureSpec` dict; no Streamlit). They send their arrays as float32 typed arrays
(:func:`typed_array`: half the bytes of float64, a screen needs no more digits, and the cheapest form
for Plotly to validate and encode), take loss colours from :func:`loss_colors`, so that MSE is the
same blue on every page, and start from :data:`LAYOUT_DEFAULTS` (:func:`apply_layout`,
:func:`layout_defaults`).
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

FigureSpec = dict[str, Any]
"""A figure in Plotly's JSON structure (``{"data", "layout", "frames"}``): what ``go.Figure``,
``plotly.io`` and ``st.plotly_chart`` take; live figures are built as one (:mod:`lossviz.figures.live`)."""

OKABE_ITO: tuple[str, ...] = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
"""Okabe & Ito's colour-blind-safe set (M. Okabe and K. Ito, *Color Universal Design*, 2008): orange, sky
blue, bluish green, yellow, blue, vermillion, reddish purple, black."""

PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
"""Line colours: Okabe–Ito without its yellow (#F0E442 has a contrast of 1.2:1 on white and a thin line
of it all but vanishes), blue first so that MSE keeps its blue. Pairwise distinguishable under
deuteranopia and protanopia (tests/figures/test_palette.py). Beyond seven curves colours repeat, and
:func:`line_dashes` tells them apart."""

DASHES: tuple[str, ...] = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
"""Plotly dash patterns, by curve index, for charts with more curves than :data:`SOLID_UP_TO`."""
SOLID_UP_TO = 4
"""Up to this many curves colour alone tells them apart; beyond it a projector's washed-out colours, a
grey-scale print or a colour-blind viewer need the line's pattern too."""

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
    # Streamlit's theme styles every chart (colours, fonts, grid) on top of the figure's template, and its
    # frontend drops a template given by name. "none" (Plotly's bare template) says so explicitly and
    # costs nothing, where "plotly_white" costs 12 ms of deep copy per validated figure and 7 KB of JSON.
    "template": "none",
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


def line_dashes(names: Iterable[str]) -> dict[str, str]:
    """A dash pattern per curve drawn together: all solid up to :data:`SOLID_UP_TO` curves, else
    :data:`DASHES` by index, so that no two of the first ``len(DASHES)`` curves share colour and pattern."""
    unique = list(dict.fromkeys(names))
    if len(unique) <= SOLID_UP_TO:
        return dict.fromkeys(unique, "solid")
    return {name: DASHES[i % len(DASHES)] for i, name in enumerate(unique)}


def f32(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """``values`` as a float32 array for Plotly; NaN stays NaN (a gap), finite values beyond the
    float32 range are clipped to ±3.4e38 instead of overflowing to ±inf."""
    arr = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(arr)
    clipped = np.where(finite, np.clip(arr, -FLOAT32_MAX, FLOAT32_MAX), arr)
    return clipped.astype(np.float32)


def typed_array(values: Sequence[float] | np.ndarray) -> dict[str, str] | list:
    """``values`` as float32 in Plotly's typed-array JSON form: ``{"dtype": "f4", "bdata": base64}``, plus
    ``"shape": "rows, cols"`` for a grid; an empty array stays an empty list.

    The form Plotly ≥ 6 writes NumPy arrays in (and plotly.js decodes), encoded here directly: Plotly's
    validation and its encoder inspect every NumPy array through narwhals (about 0.2 ms each), which for
    the hundreds of arrays of a figure with frames is most of a rerun, while a typed array passes both as
    it is. Little-endian, as plotly.js reads it.
    """
    arr = f32(values)
    if arr.size == 0:
        return []
    spec = {"dtype": "f4", "bdata": base64.b64encode(arr.astype("<f4").tobytes()).decode("ascii")}
    if arr.ndim > 1:
        spec["shape"] = ", ".join(str(n) for n in arr.shape)
    return spec


def layout_defaults(*, height: int, title: str | None = None, **overrides: object) -> dict[str, Any]:
    """The shared layout (bare template, horizontal legend on top, compact margins) at ``height``,
    with ``title`` on the left and ``overrides`` on top."""
    layout: dict[str, Any] = {**LAYOUT_DEFAULTS, "height": height, **overrides}
    if title is not None:
        layout["title"] = {"text": title, "x": 0.0, "xanchor": "left"}
    return layout


def apply_layout(fig: go.Figure, *, height: int, title: str | None = None, **overrides: object) -> go.Figure:
    """Apply :func:`layout_defaults` to ``fig``."""
    fig.update_layout(**layout_defaults(height=height, title=title, **overrides))
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


# --- panels side by side, as plain dicts ---------------------------------------------------------

Trace = dict[str, Any]
TOP_MARGIN_WITH_TITLES = 90
"""Top margin of a figure with panel titles and a legend above them."""
BOTTOM_MARGIN = 50


def legend_above_titles(height: int, top: int = TOP_MARGIN_WITH_TITLES, bottom: int = BOTTOM_MARGIN) -> dict[str, Any]:
    """A horizontal legend 28 px above the plot area, clear of the panel titles that sit right on it.

    (The shared layout puts the legend just above the plot, where the titles are.) Plotly places
    legends in units of the plot area's height, hence the conversion from pixels.
    """
    plot_height = max(height - top - bottom, 50)
    return {"orientation": "h", "yanchor": "bottom", "y": 1.0 + 28 / plot_height, "xanchor": "left", "x": 0.0}


def run_color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def axis_refs(col: int) -> dict[str, str]:
    """The trace keys that put a trace in panel ``col`` (1-based) of :func:`columns_layout`."""
    suffix = "" if col == 1 else str(col)
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


def axis_key(col: int, axis: str = "x") -> str:
    """The layout key of panel ``col``'s x or y axis: ``xaxis``, ``xaxis2`` …"""
    return f"{axis}axis" if col == 1 else f"{axis}axis{col}"


def columns_layout(
    n: int, titles: Sequence[str] | None = None, spacing: float = 0.08, widths: Sequence[float] | None = None
) -> dict[str, Any]:
    """A layout of ``n`` panels side by side (what ``make_subplots(1, n)`` builds, much faster)."""
    widths = list(widths) if widths is not None else [1.0] * n
    usable = 1.0 - spacing * (n - 1)
    total = sum(widths)
    layout: dict[str, Any] = {}
    annotations = []
    left = 0.0
    for col in range(1, n + 1):
        right = left + usable * widths[col - 1] / total
        refs = axis_refs(col)
        layout[axis_key(col, "x")] = {"domain": [left, min(right, 1.0)], "anchor": refs["yaxis"]}
        layout[axis_key(col, "y")] = {"anchor": refs["xaxis"]}
        if titles:
            annotations.append(
                {"text": titles[col - 1], "x": (left + right) / 2, "y": 1.0, "xref": "paper", "yref": "paper",
                 "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 14}}
            )
        left = right + spacing
    if annotations:
        layout["annotations"] = annotations
    return layout


SURFACE_SCALE = "Viridis"
DIVERGING = [[0.0, "#2166ac"], [0.5, "#f7f7f7"], [1.0, "#b2182b"]]
"""Signed values (gradients): blue (negative) – white (0) – red (positive). Plotly's own "RdBu" runs blue
to red through grey, and plotly.js knows no "RdBu_r"."""


def display_values(z: np.ndarray, log: bool) -> tuple[np.ndarray, str]:
    """The values to colour and their label: log₁₀(loss) when asked and every value is positive."""
    finite = z[np.isfinite(z)]
    if log and finite.size and (finite > 0).all():
        return np.log10(z), "log₁₀ loss"
    return z, "loss"


def figure_from_dicts(traces: list[Trace], layout: dict[str, Any]) -> go.Figure:
    """``go.Figure`` of traces and layout given as plain dicts: one validation, much faster than
    ``make_subplots`` and trace-by-trace ``add_trace``."""
    return go.Figure({"data": traces, "layout": layout})
