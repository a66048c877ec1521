"""The Custom page's marks of the loss doctor's findings on the curves figure."""

import math

import plotly.graph_objects as go

from lossviz.figures.curves import figure_loss_curves
from lossviz.figures.custom import MAX_MARKS, SEVERITY_COLORS, finding_marks, mark_findings
from lossviz.formula import Finding
from lossviz.studies import custom as cg
from lossviz.toolkit.curve import loss_curve

X_RANGE = (-5.0, 5.0)


def test_points_are_lines_and_intervals_are_bands_clipped_to_the_view() -> None:
    found = [
        Finding("kink", "info", "", ((0.5, 0.5),)),
        Finding("nan", "warning", "", ((-9.0, -1.0),)),
        Finding("unbounded_below", "error", "", ((7.0, math.inf),)),  # beyond the view: named in the list only
    ]
    shapes, labels = finding_marks(found, X_RANGE)
    assert [s["type"] for s in shapes] == ["line", "rect"]
    assert shapes[0]["x0"] == shapes[0]["x1"] == 0.5 and shapes[0]["line"]["color"] == SEVERITY_COLORS["info"]
    assert (shapes[1]["x0"], shapes[1]["x1"]) == (-5.0, -1.0) and shapes[1]["fillcolor"] == SEVERITY_COLORS["warning"]
    assert [a["text"] for a in labels] == ["kink", "nan"]


def test_marks_are_capped() -> None:
    found = [Finding("kink", "info", "", tuple((float(i) / 10, float(i) / 10) for i in range(40)))]
    shapes, _ = finding_marks(found, X_RANGE)
    assert len(shapes) == MAX_MARKS


def test_marked_figure_is_valid_plotly_and_leaves_the_original_alone() -> None:
    spec = cg.spec_for("doc_abs", "abs(p - y)", {})
    x = cg.x_grid(0.0, 5.0, 101)
    fig = figure_loss_curves([loss_curve(spec, x, 0.5, {})], x_label="p", symbol="p")
    found = cg.doctor("abs(p - y)", {}, 0.0, 5.0, 0.5)
    marked = mark_findings(fig, found, X_RANGE)
    assert len(marked["layout"]["shapes"]) == len(fig["layout"].get("shapes", [])) + 1
    assert "shapes" not in fig["layout"] or len(fig["layout"]["shapes"]) == 0
    go.Figure(marked)  # validates against Plotly's schema
