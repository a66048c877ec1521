"""The one way to build a figure whose parameter moves live: the figure and a frame per value of the parameter.

A live figure carries one frame per value of its parameter (or per point of a two-parameter grid), and
:func:`lossviz.ui.live_chart.live_chart` draws it with the parameter's one control: dragging shows the
frames in the browser, with no Streamlit rerun, and releasing commits the value once. Builders hand
:func:`live_figure` the figure (traces drawn at one value, layout) and what each frame changes (the updates
of the traces ``traces``: an animation keeps whatever a frame does not set, so a frame holds only the arrays
that move).

A live figure is a plain dict in Plotly's JSON structure (``{"data", "layout", "frames"}``): plain data that
tests read directly (``tests/figure_helpers``: ``frames_of``, ``validated``) and that the component sends as
it is. Arrays go in already encoded (:func:`~lossviz.figures.common.typed_array`), the cheapest form to send.
Played figures (a training run, an optimiser's steps) move layout shapes and images instead of traces: see
the helpers below.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lossviz.figures.common import FigureSpec


def live_figure(
    data: list[dict[str, Any]],
    layout: dict[str, Any],
    frames: Sequence[Sequence[dict[str, Any]]],
    *,
    traces: Sequence[int],
    narrow: Mapping[str, Any] | None = None,
    narrow_traces: Mapping[int, Mapping[str, Any]] | None = None,
) -> FigureSpec:
    """A figure with one frame per value of its live parameter(s), as :func:`lossviz.ui.live_chart.live_chart`
    and :func:`~lossviz.ui.live_chart.live_pad` draw it: ``{"data", "layout", "frames"}``.

    ``frames[k]`` updates the traces ``traces`` (indices into ``data``, in that order) to their state at the
    k-th value (a pad's frame ``i * ny + j`` at the values (xᵢ, yⱼ)); an animation keeps whatever a frame does
    not set, so a frame holds only the arrays that move. ``data`` shows one of the frames (the builder's
    choice; the component draws the committed frame over it).

    ``narrow``: how the layout changes where the chart is narrower than :data:`NARROW_WIDTH` pixels (a phone),
    as ``Plotly.relayout`` attribute strings (``"xaxis2.domain"``, ``"annotations[0].y"``, ``"height"``); the
    component applies it there and restores the layout's own values when the chart is wide again. Build it with
    :func:`stacked_panels`. ``narrow_traces`` does the same for traces (``Plotly.restyle``): ``{trace index:
    {"colorbar.y": …}}``, for what a trace places in paper coordinates, such as a colour bar beside its panel.
    """
    traces = list(traces)
    for k, update in enumerate(frames):
        if len(update) != len(traces):
            raise ValueError(f"frame {k} updates {len(update)} traces, {len(traces)} named")
    bad = [t for t in traces if not 0 <= t < len(data)]
    if bad:
        raise ValueError(f"frames name trace {bad[0]}, the figure has {len(data)}")
    figure = {"data": data, "layout": layout, "frames": [{"data": list(update), "traces": traces} for update in frames]}
    return with_narrow(figure, narrow, narrow_traces)


def with_narrow(
    figure: dict[str, Any],
    narrow: Mapping[str, Any] | None,
    narrow_traces: Mapping[int, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """``figure`` (a live or played figure) with its phone layout (see :func:`live_figure`), checked: every path
    must belong to an object the layout has, every restyled trace must exist."""
    layout, data = figure["layout"], figure["data"]
    if narrow:
        # Where the layout does not set a path, the component restores Plotly's default (relayout with null);
        # but the object it belongs to (an axis, an annotation) must exist.
        unknown = [path for path in narrow if "." in path and _lookup(layout, path.rsplit(".", 1)[0]) is _MISSING]
        if unknown:
            raise ValueError(f"the narrow layout changes {unknown[0]!r}, of an object the layout does not have")
        figure["narrow"] = dict(narrow)
    if narrow_traces:
        bad = [t for t in narrow_traces if not 0 <= t < len(data)]
        if bad:
            raise ValueError(f"the narrow layout restyles trace {bad[0]}, the figure has {len(data)}")
        figure["narrow_traces"] = {str(t): dict(update) for t, update in narrow_traces.items()}
    return figure


NARROW_WIDTH = 600
"""Below this chart width (pixels) the component applies a live figure's ``narrow`` layout; side-by-side panels
of about 180 px each no longer fit their titles and tick labels there (lossviz/ui/live_chart.js)."""

_MISSING = object()


def _lookup(layout: Mapping[str, Any], path: str) -> Any:
    """The value at a ``Plotly.relayout`` path such as ``"annotations[2].x"`` (:data:`_MISSING` where none is)."""
    value: Any = layout
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(value, list) or index >= len(value):
                return _MISSING
            value = value[index]
        elif isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


def stacked_panels(
    layout: Mapping[str, Any],
    rows: Sequence[Sequence[tuple[str, str]]],
    titles: Sequence[Sequence[int]],
    height: int,
    *,
    gap: float = 0.1,
    top: float = 1.0,
    weights: Sequence[float] | None = None,
    across: float = 0.08,
) -> dict[str, Any]:
    """A ``narrow`` layout (see :func:`live_figure`) for ``layout``, with its panels in rows top to bottom.

    ``rows[r]`` are the (x axis, y axis) layout keys of the panels of row r, spread evenly over the width
    (``across``: the paper fraction between two of them); ``titles[r]`` the indices of their title annotations
    (anchored at the bottom, ``yref`` paper), moved over their row and, where placed in paper coordinates, centred
    over their panel (one placed in its axis' domain follows it). ``height`` is the figure's new height in
    pixels, ``top`` where the first row ends (below a legend), ``gap`` the paper fraction between rows (room for
    x axis titles), ``weights`` the rows' relative heights (equal by default).
    """
    weights = list(weights) if weights is not None else [1.0] * len(rows)
    unit = (top - gap * (len(rows) - 1)) / sum(weights)
    annotations = layout.get("annotations", [])
    narrow: dict[str, Any] = {"height": height}
    upper = top
    for panels, row_titles, weight in zip(rows, titles, weights, strict=True):
        lower = upper - weight * unit
        width = (1.0 - across * (len(panels) - 1)) / len(panels)
        centres = []
        for k, (x, y) in enumerate(panels):
            left = k * (width + across)
            narrow[f"{x}.domain"] = [round(left, 6), round(min(left + width, 1.0), 6)]
            narrow[f"{y}.domain"] = [max(0.0, round(lower, 6)), round(upper, 6)]  # Plotly rejects −1e-17
            centres.append(round(left + width / 2, 6))
        for k, index in enumerate(row_titles):
            narrow[f"annotations[{index}].y"] = round(upper, 6)
            if index < len(annotations) and annotations[index].get("xref", "paper") == "paper":
                narrow[f"annotations[{index}].x"] = centres[min(k, len(centres) - 1)]
                narrow[f"annotations[{index}].xanchor"] = "center"
        upper = lower - gap
    return narrow


# --- played figures: what moves, as layout shapes ---------------------------------------------------------
# A player's frames change only the layout (shapes and images): Plotly.relayout redraws those alone, while
# a frame of trace data makes Plotly.animate re-derive and re-calculate every trace of the figure (about
# 1 ms per trace per frame in Chromium), which a figure of many panels cannot afford at 20 frames a second.


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
