"""The Margins page's figure builders (lossviz.figures.margins)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from lossviz.figures.margins import (
    ARROW_SCALE,
    REGION_COLORS,
    figure_margin_panel,
    figure_triplet_plane,
    margin_frames,
)
from lossviz.studies import margins as es
from lossviz.toolkit.frames import round_values
from tests.figure_helpers import as_array, figure_bytes, frames_of, sent_dtype, validated

DEFAULT_MARGINS = {loss: es.margin_param(loss).default for loss in es.MARGIN_LOSSES}


def _live_figure(key: str, margin: float = 1.0) -> tuple[dict, es.Panel, list[float], list[es.Panel]]:
    values = [float(v) for v in round_values(es.live_param(key)[1])]
    frames = es.panel_frames(key, values)
    panel = es.panel(key, {**DEFAULT_MARGINS, **dict.fromkeys(es.PANELS[key][0], margin)})
    return figure_margin_panel(panel, margin_frames(frames)), panel, values, frames



@pytest.mark.parametrize("key", list(es.PANELS))
def test_panel_figure_validates_and_plots_every_series(key: str) -> None:
    live, panel, _, _ = _live_figure(key)
    fig = validated(live)
    assert len(fig.data) == 2 * len(panel.series) + 2
    for i, s in enumerate(panel.series):
        value, grad = fig.data[2 * i], fig.data[2 * i + 1]
        assert value.name == s.label and value.showlegend and not grad.showlegend
        assert (value.yaxis, grad.yaxis) == ("y", "y2")
        assert sent_dtype(value.x) == sent_dtype(value.y) == "f4"
        np.testing.assert_array_equal(as_array(value.x), s.x.astype(np.float32))
        np.testing.assert_array_equal(as_array(value.y), s.value.astype(np.float32))
        np.testing.assert_array_equal(as_array(grad.y), s.grad.astype(np.float32))
    lines = fig.data[-2:]
    assert [t.yaxis for t in lines] == ["y3", "y4"]
    assert [x for x in lines[0].x if x is not None] == [m for m in panel.margin_lines for _ in range(2)]
    assert fig.layout.yaxis3.overlaying == "y" and fig.layout.xaxis.matches == "x2"
    assert not fig.layout.sliders and figure_bytes(live) < 400_000


@pytest.mark.parametrize("key", list(es.PANELS))
def test_frames_move_the_live_curves_and_the_margin_lines(key: str) -> None:
    fig, panel, values, frames = _live_figure(key, margin=0.3)
    assert len(frames_of(fig)) == len(values)
    assert es.live_param(key)[1].default in values
    n = len(panel.series)
    for frame, moved in zip(frames_of(fig), frames, strict=True):
        live = [i for i, s in enumerate(moved.series) if s.live]
        assert frame["traces"] == [t for i in live for t in (2 * i, 2 * i + 1)] + [2 * n, 2 * n + 1]
        for k, i in enumerate(live):
            np.testing.assert_array_equal(frame["data"][2 * k]["y"], moved.series[i].value.astype(np.float32))
            np.testing.assert_array_equal(frame["data"][2 * k + 1]["y"], moved.series[i].grad.astype(np.float32))
        assert [x for x in frame["data"][-1]["x"] if x is not None] == [m for m in moved.margin_lines for _ in range(2)]


def test_cosine_proximity_has_no_margin_so_frames_leave_it_alone() -> None:
    fig, panel, _, _ = _live_figure("cosine", margin=0.0)
    proximity = [i for i, s in enumerate(panel.series) if s.loss == "cosine_proximity"]
    assert proximity == [2]
    assert all(4 not in frame["traces"] and 5 not in frame["traces"] for frame in frames_of(fig))


def test_squared_hinge_keeps_its_own_margin_while_the_hinge_moves() -> None:
    fig, _, _, _ = _live_figure("binary", margin=0.3)
    assert all(frame["traces"] == [0, 1, 4, 5] for frame in frames_of(fig))


def test_panel_without_frames_has_none() -> None:
    fig = figure_margin_panel(es.panel("binary", DEFAULT_MARGINS))
    assert "frames" not in fig
    validated(fig)


def test_kept_frames_are_shared_read_only() -> None:
    values = [0.5, 1.0]
    frames = margin_frames(es.panel_frames("binary", values))
    before = copy.deepcopy(frames)
    first = figure_margin_panel(es.panel("binary", DEFAULT_MARGINS), frames)
    second = figure_margin_panel(es.panel("binary", {**DEFAULT_MARGINS, "hinge": 0.5}), frames)
    validated(first), validated(second)
    shared = [fig["frames"][1]["data"][0] for fig in (first, second)]
    assert shared[0] is shared[1] is frames[1][0]
    assert frames == before
    out = frames_of(first)
    assert len(out) == 2
    np.testing.assert_array_equal(out[1]["data"][0]["y"], es.binary_panel(1.0, 1.0).series[0].value.astype(np.float32))


# --- triplet plane --------------------------------------------------------------------------------


def _plane(preset: str = "semi-hard", margin: float = 1.0) -> es.TripletPlane:
    return es.triplet_plane(es.triplet_from_coordinates(es.preset_coordinates(preset)), margin, n=61)


def test_triplet_figure_shades_regions_and_draws_boundaries() -> None:
    plane = _plane()
    fig = validated(figure_triplet_plane(plane))
    heatmap, *swatches = fig.data[:4]
    np.testing.assert_array_equal(as_array(heatmap.z), plane.region.astype(np.float32))
    assert [s.marker.color for s in swatches] == list(REGION_COLORS.values())
    contour = fig.data[4]
    np.testing.assert_array_equal(as_array(contour.z), plane.loss.astype(np.float32))
    inner, outer = fig.data[5:7]
    anchor = plane.points[0]
    for circle, radius in ((inner, plane.d_ap), (outer, plane.d_ap + plane.margin)):
        r = np.hypot(as_array(circle.x) - anchor[0], as_array(circle.y) - anchor[1])
        np.testing.assert_allclose(r, radius, rtol=1e-6)
    points = fig.data[7:]
    assert [t.name for t in points] == list(es.POINT_NAMES)
    np.testing.assert_array_equal([[t.x[0], t.y[0]] for t in points], plane.points)
    assert fig.layout.yaxis.scaleanchor == "x"
    assert figure_bytes(fig) < 200_000


def test_arrows_point_along_minus_the_gradient() -> None:
    plane = _plane()
    fig = figure_triplet_plane(plane)
    arrows = fig.layout.annotations
    assert len(arrows) == 3
    for arrow, point, grad in zip(arrows, plane.points, plane.grad, strict=True):
        assert (arrow.ax, arrow.ay) == pytest.approx(tuple(point))
        assert (arrow.x - arrow.ax, arrow.y - arrow.ay) == pytest.approx(tuple(-ARROW_SCALE * grad))


def test_easy_negative_has_no_arrows() -> None:
    fig = figure_triplet_plane(_plane("easy"))
    assert len(fig.layout.annotations) == 0
