"""Landscape figure builders: quiver geometry, maps, surface, (w, b) panels, fits, convergence."""

from __future__ import annotations

import numpy as np
import pytest

from lossviz.figures import landscape as fl
from lossviz.studies import landscape as ll
from lossviz.toolkit.data import line_with_outliers
from tests.figure_helpers import as_array, figure_bytes, validated


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


def _panels() -> tuple[list[fl.FitPanel], dict]:
    data = line_with_outliers(20, 0.3, 2, 5.0, seed=2)
    w, b = np.linspace(-3, 4, 21), np.linspace(-2, 4, 17)
    panels, histories = [], {}
    for name in ("mse", "mae"):
        minimum = ll.fit_minimum(name, data.x, data.y, {})
        paths = ll.descend(name, data.x, data.y, {}, (-2.0, 3.0), [0.05, 2.0], 40)
        grid = ll.parameter_landscape(name, data.x, data.y, {}, w, b)
        panels.append(
            fl.FitPanel(
                name, w, b, grid, minimum, (-2.0, 3.0),
                {k: t.path(1) for k, t in paths.items()}, {k: bool(t.stopped[1] >= 0) for k, t in paths.items()},
            )
        )
        histories[name] = {k: t.value[: len(t.path(0)), 0] for k, t in paths.items()}
    return panels, histories


def test_parameter_landscapes_side_by_side() -> None:
    panels, _ = _panels()
    fig = fl.figure_parameter_landscapes(panels)
    validated(fig)
    contours = [t for t in fig.data if t.type == "contour"]
    assert len(contours) == 2 and [t.xaxis for t in contours] == ["x", "x2"]
    for panel, contour in zip(panels, contours, strict=True):
        np.testing.assert_allclose(as_array(contour.customdata), panel.value, rtol=1e-6)
        np.testing.assert_allclose(as_array(contour.z), fl.excess_root(panel), rtol=1e-6, atol=1e-6)
        assert as_array(contour.z).min() >= 0.0
    minima = [t for t in fig.data if t.name == "minimum"]
    assert [(m.x[0], m.y[0]) for m in minima] == [(p.minimum.w, p.minimum.b) for p in panels]
    gd = [t for t in fig.data if t.name == "gradient descent"]
    np.testing.assert_allclose(as_array(gd[0].x), panels[0].paths["gd"][:, 0], rtol=1e-6)
    assert sum(bool(t.showlegend) for t in fig.data) == 4  # gd, adam, start, minimum: once each
    assert "diverged" in fig.layout.annotations[0].text  # GD on MSE with η = 2
    assert fig.layout.xaxis2.matches == "x" and fig.layout.xaxis.range == (panels[0].w[0], panels[0].w[-1])


def test_fits_and_convergence() -> None:
    panels, histories = _panels()
    data = line_with_outliers(20, 0.3, 2, 5.0, seed=2)
    minima = {p.loss: p.minimum for p in panels}
    fits = fl.figure_fits(data, minima)
    validated(fits)
    assert [t.name for t in fits.data][:2] == ["data", "outliers"]
    assert len(as_array(fits.data[1].x)) == 2
    mse_line = fits.data[3]
    np.testing.assert_allclose(
        as_array(mse_line.y), minima["mse"].w * as_array(mse_line.x) + minima["mse"].b, rtol=1e-5
    )
    conv = fl.figure_convergence(histories, minima)
    validated(conv)
    assert len(conv.data) == 4 and conv.layout.yaxis.type == "log"
    gap = as_array(conv.data[0].y)
    assert (gap >= np.float32(1e-12)).all()
    np.testing.assert_allclose(gap[0], histories["mse"]["gd"][0] - minima["mse"].value, rtol=1e-6)
