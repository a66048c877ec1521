"""Landscape figure builders: quiver geometry, maps, surface, (w, b) panels, fits, convergence."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lossviz.figures import landscape as fl
from lossviz.studies import landscape as ll
from lossviz.toolkit.data import line_with_outliers
from tests.figure_helpers import as_array, figure_bytes, narrow_layout, validated


def _arrows(xs, ys) -> list[np.ndarray]:
    """Split a quiver polyline into arrows: each (5, 2) tail, tip, barb, tip, barb; NaN separates them."""
    xs, ys = as_array(xs), as_array(ys)
    assert len(xs) % 6 == 0 and np.isnan(xs[5::6]).all() and np.isnan(ys[5::6]).all()
    points = np.stack([xs, ys], axis=-1).reshape(-1, 6, 2)[:, :5]
    assert np.isfinite(points).all()
    return list(points)


def test_quiver_arrows_point_along_the_field_with_sqrt_lengths() -> None:
    x = np.linspace(0.0, 10.0, 11)
    y = np.linspace(-1.0, 1.0, 11)
    u = np.ones((11, 11)) * np.where(x < 5, 4.0, 1.0)[None, :]  # two magnitudes, ratio 4
    v = np.zeros((11, 11))
    arrows = _arrows(*fl.quiver_segments(x, y, u, v, per_axis=11))
    assert len(arrows) == 121
    lengths = []
    for arrow in arrows:
        tail, tip, barb1, tip2, barb2 = arrow
        assert tip[1] == pytest.approx(tail[1]) and tip[0] > tail[0]  # points along +x
        np.testing.assert_array_equal(tip, tip2)
        assert barb1[0] < tip[0] and barb2[0] < tip[0] and barb1[1] != barb2[1]
        lengths.append(tip[0] - tail[0])
    assert max(lengths) / min(lengths) == pytest.approx(2.0)  # √4


def test_quiver_keeps_direction_in_data_units_whatever_the_spans() -> None:
    x = np.linspace(0.0, 100.0, 5)
    y = np.linspace(0.0, 1.0, 5)
    u = np.full((5, 5), 100.0)
    v = np.full((5, 5), 1.0)  # the diagonal of the plot in axis-relative units
    (arrow, *_) = _arrows(*fl.quiver_segments(x, y, u, v, per_axis=5))
    tail, tip = arrow[0], arrow[1]
    assert (tip[0] - tail[0]) / 100.0 == pytest.approx(tip[1] - tail[1])


def test_quiver_skips_zero_and_nan_vectors() -> None:
    x = y = np.linspace(0, 1, 4)
    xs, ys = fl.quiver_segments(x, y, np.zeros((4, 4)), np.zeros((4, 4)))
    assert len(xs) == len(ys) == 0
    u = np.ones((4, 4))
    u[0, 0] = np.nan
    xs, ys = fl.quiver_segments(x, y, u, np.zeros((4, 4)), per_axis=4)
    assert len(_arrows(xs, ys)) == 15


def test_input_map_and_surface() -> None:
    land = ll.pred_target_landscape("huber", {"delta": 1.0})
    fig = fl.figure_input_map(land)
    validated(fig)
    contour, arrows, heat = fig.data
    np.testing.assert_array_equal(as_array(contour.z), land.value.astype(np.float32))
    np.testing.assert_array_equal(as_array(heat.z), land.grad_norm.astype(np.float32))
    assert arrows.mode == "lines" and len(as_array(arrows.x)) > 0 and arrows.connectgaps is False
    # horizontal field: every arrow's tail and tip share y
    for arrow in _arrows(arrows.x, arrows.y):
        assert arrow[1][1] == pytest.approx(arrow[0][1])
    assert "∂L/∂p" in fig.layout.annotations[1].text
    surface = fl.figure_input_surface(land)
    validated(surface)
    assert surface.data[0].type == "surface"
    np.testing.assert_array_equal(as_array(surface.data[0].z), land.value.astype(np.float32))
    assert figure_bytes(fig) < 300_000 and figure_bytes(surface) < 100_000


def test_input_map_of_two_logits_labels_the_plane_gradient() -> None:
    land = ll.two_logit_landscape("cross_entropy", {}, points=21)
    fig = fl.figure_input_map(land)
    assert "plane" in fig.layout.annotations[1].text
    assert fig.layout.xaxis.title.text == "logit z₀ (class 0)"


DATA = line_with_outliers(20, 0.3, 2, 5.0, seed=2)


def _panels(steps: int = 40) -> list[fl.FitPanel]:
    w, b = np.linspace(-3, 4, 21), np.linspace(-2, 4, 17)
    panels = []
    for name in ("mse", "mae"):
        minimum = ll.fit_minimum(name, DATA.x, DATA.y, {})
        paths = ll.descend(name, DATA.x, DATA.y, {}, (-2.0, 3.0), [0.05, 2.0], steps)
        grid = ll.parameter_landscape(name, DATA.x, DATA.y, {}, w, b)
        panels.append(fl.FitPanel(name, w, b, grid, minimum, (-2.0, 3.0), ll.descent(paths, 1, minimum)))
    return panels


def _marks(frame: dict, xref: str) -> list[tuple[float, float]]:
    return [(s["xanchor"], s["yanchor"]) for s in frame["layout"]["shapes"] if s.get("xsizemode") == "pixel"
            and s["xref"] == xref]


def test_the_descent_plays_every_step_with_the_landscapes_the_lines_and_the_distance() -> None:
    panels = _panels()
    fig = fl.figure_descent(panels, DATA)
    go.Figure(fig)  # valid Plotly
    assert len(json.dumps(fig, allow_nan=False)) < 2_000_000
    assert len(fig["frames"]) == 41 and all(frame["data"] == [] for frame in fig["frames"])  # layout only
    contours = [t for t in fig["data"] if t["type"] == "contour"]
    assert [t["xaxis"] for t in contours] == ["x", "x2"]
    for panel, contour in zip(panels, contours, strict=True):
        np.testing.assert_allclose(as_array(contour["customdata"]), panel.value, rtol=1e-6)
        np.testing.assert_allclose(as_array(contour["z"]), fl.excess_root(panel), rtol=1e-6, atol=1e-6)
    minima = [t for t in fig["data"] if t.get("name") == "minimum"]
    assert [(m["x"][0], m["y"][0]) for m in minima] == [(p.minimum.w, p.minimum.b) for p in panels]
    gd = [t for t in fig["data"] if t.get("name") == "gradient descent"]
    np.testing.assert_allclose(as_array(gd[0]["x"]), panels[0].descent.path("gd")[:, 0], rtol=1e-6)
    assert "diverged" in fig["layout"]["annotations"][0]["text"]  # GD on MSE with η = 2
    assert fig["layout"]["xaxis2"]["matches"] == "x"
    for step in (0, 7, 40):
        frame = fig["frames"][step]
        for k, panel in enumerate(panels):  # each optimiser's point on its landscape, then its distance
            axis = "x" if k == 0 else f"x{k + 1}"
            expected = [tuple(panel.descent.theta[key][step]) for key in fl.OPTIMIZERS]
            np.testing.assert_allclose(_marks(frame, axis), expected, rtol=1e-12)
        gaps = [(step, p.descent.gap[key][step]) for p in panels for key in fl.OPTIMIZERS]
        np.testing.assert_allclose(_marks(frame, "x4"), gaps, rtol=1e-12)
        lines = [s for s in frame["layout"]["shapes"] if s["type"] == "line" and s["xref"] == "x3"]
        w, b = panels[1].descent.theta["adam"][step]
        assert lines[3]["y1"] == pytest.approx(w * lines[3]["x1"] + b) and lines[3]["line"]["dash"] == "dot"
        (now,) = [s for s in frame["layout"]["shapes"] if s["type"] == "line" and s["xref"] == "x4"]
        assert now["x0"] == now["x1"] == step
    assert fig["layout"]["shapes"] == fig["frames"][-1]["layout"]["shapes"]  # the base figure is the last step


def test_the_fits_and_the_distance_panels() -> None:
    panels = _panels()
    fig = fl.figure_descent(panels, DATA)
    names = [t.get("name") for t in fig["data"]]
    assert names.index("data") < names.index("outliers")
    assert len(as_array(fig["data"][names.index("outliers")]["x"])) == 2
    mse_best = next(t for t in fig["data"] if t.get("name", "").startswith("mse: best line"))
    m = panels[0].minimum
    np.testing.assert_allclose(as_array(mse_best["y"]), m.w * as_array(mse_best["x"]) + m.b, rtol=1e-5)
    gaps = [t for t in fig["data"] if t.get("xaxis") == "x4"]
    assert len(gaps) == 4 and fig["layout"]["yaxis4"]["type"] == "log"
    np.testing.assert_allclose(as_array(gaps[0]["y"]), panels[0].descent.gap["gd"], rtol=1e-6)


def test_long_descents_play_at_most_101_steps() -> None:
    fig = fl.figure_descent(_panels(steps=500), DATA)
    assert len(fig["frames"]) == 101
    assert {s["x0"] for s in fig["frames"][1]["layout"]["shapes"] if s["type"] == "line" and s["xref"] == "x4"} == {5}


def test_on_a_phone_the_descents_lower_panels_stack_under_the_landscapes() -> None:
    panels = _panels()
    fig = fl.figure_descent(panels, DATA)
    phone = narrow_layout(fig)
    validated(fig)  # the narrow layout included
    n = len(panels)
    fits, gap = fl.axis_key(n + 1, "y"), fl.axis_key(n + 2, "y")
    landscapes = phone["yaxis"]["domain"]
    assert phone[fl.axis_key(n + 1, "x")]["domain"] == phone[fl.axis_key(n + 2, "x")]["domain"] == [0.0, 1.0]
    assert landscapes[0] > phone[fits]["domain"][1] > phone[fits]["domain"][0] > phone[gap]["domain"][1]
    # the landscapes stay side by side, in one row
    assert all(phone[fl.axis_key(k + 1, "y")]["domain"] == landscapes for k in range(n))
    assert phone["xaxis"]["domain"][1] < phone["xaxis2"]["domain"][0]
    assert phone["height"] > fig["layout"]["height"]
