"""A ``go.Figure`` whose animation frames skip Plotly's validation and deep copy.

Even with ``_validate=False``, ``go.Figure(...)`` validates every frame, and ``to_dict()`` (which
``st.plotly_chart`` calls) deep-copies them: for the 51 frames of a live-γ figure that is about
100 ms of a page rerun, more than all of its maths. :class:`FramedFigure` keeps the frames as the
plain dicts the builder assembled and hands them out from ``to_dict``, shallow-copied (the base64
encoding of typed arrays replaces them in place, and must not touch the builder's dicts). Data and layout
are an ordinary unvalidated figure. Unit tests validate the whole thing once:
``go.Figure(fig.to_dict())``.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64

from lossviz.figures.common import f32


def typed_array(values: np.ndarray) -> dict[str, str]:
    """``values`` as float32 in Plotly's typed-array JSON form ({"dtype": "f4", "bdata": base64}).

    What ``to_dict`` would produce, encoded here directly: Plotly's own encoder inspects every array
    through narwhals (about 0.5 ms each), which for 150 frame arrays is most of a rerun.
    """
    return {"dtype": "f4", "bdata": base64.b64encode(f32(values).astype("<f4").tobytes()).decode("ascii")}


class FramedFigure(go.Figure):
    """``go.Figure(data, layout)`` plus raw ``frames`` that :meth:`to_dict` and :attr:`raw_frames` return."""

    def __init__(self, data: list[dict], layout: dict, frames: list[dict]) -> None:
        super().__init__({"data": data, "layout": layout}, _validate=False)
        self._raw_frames = frames

    @property
    def raw_frames(self) -> list[dict]:
        return self._raw_frames

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        frames = [{**frame, "data": [dict(trace) for trace in frame.get("data", [])]} for frame in self._raw_frames]
        convert_to_base64(frames)  # as BaseFigure.to_dict does for data and layout: typed arrays in the JSON
        out["frames"] = frames
        return out


# --- played figures: what moves, as layout shapes ---------------------------------------------------------
# A player's frames change only the layout (shapes and images): Plotly.relayout redraws those alone, while
# a frame of trace data makes Plotly.animate re-derive and re-calculate every trace of the figure (about
# 1 ms per trace per frame in Chromium), which a figure of many panels cannot afford at 20 frames a second.


def typed_grid(z: np.ndarray) -> dict[str, str]:
    """A 2-D array in Plotly's typed-array form, float32, with its shape (rows, columns)."""
    return {**typed_array(z), "shape": f"{z.shape[0]}, {z.shape[1]}"}


def _decimals(values: np.ndarray) -> int:
    """Decimals that resolve a thousandth of the values' span (far below a pixel of any panel)."""
    finite = values[np.isfinite(values)]
    span = float(finite.max() - finite.min()) if finite.size else 0.0
    return max(0, 3 - int(np.floor(np.log10(span)))) if span > 0 else 3


def svg_path(x: np.ndarray, y: np.ndarray, *, log_y: bool = False) -> str:
    """The polyline through (x, y) as an SVG path for a Plotly shape, in data units (on a log axis too, unlike a
    line's or a rectangle's ends); a non-finite value starts a new piece. Values are written to a thousandth of
    their span, or with ``log_y`` to four significant digits (a log axis resolves ratios, not differences)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    dx, dy = _decimals(x), _decimals(y)
    parts, pen = [], "M"
    for a, b in zip(x.tolist(), y.tolist(), strict=True):
        if not (np.isfinite(a) and np.isfinite(b)):
            pen = "M"
            continue
        parts.append(f"{pen}{_number(a, dx)},{f'{b:.4g}' if log_y else _number(b, dy)}")
        pen = "L"
    return "".join(parts)


def _number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return (text.rstrip("0").rstrip(".") or "0") if decimals else text


def diamonds_path(x: np.ndarray, y: np.ndarray, rx: float, ry: float) -> str:
    """Closed diamonds of half-widths ``rx`` and ``ry`` (data units) around each point (x, y), as one SVG path."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    dx, dy = _decimals(np.r_[x - rx, x + rx]), _decimals(np.r_[y - ry, y + ry])
    return "".join(
        f"M{_number(a - rx, dx)},{_number(b, dy)}L{_number(a, dx)},{_number(b + ry, dy)}"
        f"L{_number(a + rx, dx)},{_number(b, dy)}L{_number(a, dx)},{_number(b - ry, dy)}Z"
        for a, b in zip(x.tolist(), y.tolist(), strict=True)
        if np.isfinite(a) and np.isfinite(b)
    )
