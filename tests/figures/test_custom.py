"""The Custom page's marks of the loss doctor's findings on the curves figure."""

import math

import numpy as np
import plotly.graph_objects as go

from lossviz.figures.curves import TRACES_PER_CURVE, LiveCurves, figure_loss_curves
from lossviz.figures.custom import MAX_MARKS, SEVERITY_COLORS, finding_marks, mark_findings
from lossviz.formula import Finding
from lossviz.studies import curves as lc
from lossviz.studies import custom as cg
from lossviz.toolkit.curve import loss_curve
from tests.figure_helpers import figure_bytes, frames_of, validated

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


def test_the_live_figure_shows_the_formula_at_each_frame_value_with_the_doctor_marks() -> None:
    """The page's live chart: the formula's first parameter at each of its frame values (the Curves page's
    frame values), the doctor's marks on top; each frame the formula's curve at that value."""
    spec = cg.spec_for("k_abs", "k*abs(p - y)**1.5 - 2*(p - y)", {"k": (1.0, -2.0, 3.0)})
    param = spec.params[0]
    values = lc.frame_values(param)
    assert param.default in values
    x, target = cg.x_grid(0.0, 5.0), 0.5
    live = LiveCurves(spec.name, cg.sweep_curves(spec, "k", values, x, target, {}))
    fig = figure_loss_curves([loss_curve(spec, x, target, {"k": 1.0})], x_label="p", symbol="p", live=live)
    found = cg.doctor(spec.fn.formula.text, {"k": 1.0}, 0.0, 5.0, target)
    assert found
    marked = mark_findings(fig, found, X_RANGE)
    frames = frames_of(marked)
    assert len(frames) == len(values)
    r = x - target
    for k, frame in zip(values, frames, strict=True):
        assert frame["traces"] == list(range(TRACES_PER_CURVE))
        value, grad, curvature = (frame["data"][i]["y"] for i in range(3))
        np.testing.assert_allclose(value, k * np.abs(r) ** 1.5 - 2 * r, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(grad, 1.5 * k * np.abs(r) ** 0.5 * np.sign(r) - 2, rtol=1e-6, atol=1e-6)
        inside = np.abs(r) > 1e-3  # the curvature is infinite at the target itself
        np.testing.assert_allclose(curvature[inside], 0.75 * k * np.abs(r[inside]) ** -0.5, rtol=1e-5)
    validated(marked)
    assert "sliders" not in marked["layout"]
    assert {a["text"] for a in marked["layout"]["annotations"]} >= {f.code for f in found if f.where}
    assert figure_bytes(marked) < 1_000_000
