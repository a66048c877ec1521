"""Figures of the Custom page: its curves (drawn by the Curves page's builder, :mod:`lossviz.figures.curves`,
which the page calls) marked where the loss doctor found something.

Marks are layout shapes on the shared x axis, spanning the three panels: a shaded band for an interval, a
dashed line for a point, coloured by severity (Okabe–Ito orange-red for errors, orange for warnings, blue for
information), and each labelled with its finding's code above the top panel. Only the doctor's own codes and
numbers are written on the chart, never the user's formula.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from lossviz.figures.common import FigureSpec
from lossviz.formula import Finding

SEVERITY_COLORS = {"error": "#D55E00", "warning": "#E69F00", "info": "#0072B2"}
BAND_OPACITY = 0.12
MAX_MARKS = 24
"""Marks drawn at most (the list beside the chart names every finding)."""


def _clipped(lo: float, hi: float, x_range: tuple[float, float]) -> tuple[float, float] | None:
    a, b = max(lo, x_range[0]), min(hi, x_range[1])
    if math.isinf(lo) and math.isinf(hi):
        return x_range
    return (a, b) if a <= b else None


def finding_marks(findings: Sequence[Finding], x_range: tuple[float, float]) -> tuple[list[dict], list[dict]]:
    """Layout shapes and annotations marking each finding's places inside ``x_range`` (places beyond it,
    such as "as p → ∞", are named in the list only)."""
    shapes: list[dict] = []
    labels: list[dict] = []
    for finding in findings:
        color = SEVERITY_COLORS[finding.severity]
        for lo, hi in finding.where:
            place = _clipped(lo, hi, x_range)
            if place is None or len(shapes) >= MAX_MARKS:
                continue
            a, b = place
            common = {"xref": "x", "yref": "paper", "y0": 0.0, "y1": 1.0, "layer": "below"}
            if a == b:
                shapes.append(
                    {**common, "type": "line", "x0": a, "x1": a, "line": {"color": color, "dash": "dash", "width": 1.5}}
                )
            else:
                shapes.append({**common, "type": "rect", "x0": a, "x1": b, "fillcolor": color, "opacity": BAND_OPACITY,
                               "line": {"width": 0}})  # fmt: skip
            labels.append({"text": finding.code, "x": (a + b) / 2, "xref": "x", "y": 1.0, "yref": "paper",
                           "yanchor": "bottom", "showarrow": False, "font": {"size": 11, "color": color}})  # fmt: skip
    return shapes, labels


def mark_findings(fig: FigureSpec, findings: Sequence[Finding], x_range: tuple[float, float]) -> FigureSpec:
    """``fig`` (a loss-curves figure) with the findings marked; a new dict, ``fig`` is left as it was."""
    shapes, labels = finding_marks(findings, x_range)
    layout = dict(fig["layout"])
    layout["shapes"] = [*layout.get("shapes", []), *shapes]
    layout["annotations"] = [*layout.get("annotations", []), *labels]
    return {**fig, "layout": layout}
