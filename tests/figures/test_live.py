"""The one builder of live figures (lossviz.figures.live) and the typed arrays every figure sends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.io as pio
import pytest

from lossviz.figures import live
from lossviz.figures.common import typed_array
from lossviz.figures.live import live_figure, stacked_panels
from tests.figure_helpers import as_array, frames_of, narrow_layout, validated

VALUES = [0.1, 0.5, 2.0]


def _figure(active: int = 1) -> dict:
    x = np.linspace(-1.0, 1.0, 5)
    data = [
        {"type": "scatter", "x": typed_array(x), "y": typed_array(x**2), "name": "still"},
        {"type": "scatter", "x": typed_array(x), "y": typed_array(VALUES[active] * x), "name": "moving"},
    ]
    frames = [[{"y": typed_array(v * x)}] for v in VALUES]
    return live_figure(data, {"height": 300}, frames, traces=[1])


def test_live_figure_is_a_plain_dict_that_plotly_validates() -> None:
    fig = _figure()
    assert set(fig) == {"data", "layout", "frames"} and "sliders" not in fig["layout"]
    full = validated(fig)  # the figure, and each frame checked against the trace it moves
    assert full.layout.height == 300
    assert pio.to_json(fig, validate=False)  # plain JSON data as it is


def test_one_frame_per_value_moving_the_given_traces() -> None:
    frames = frames_of(_figure())
    assert len(frames) == len(VALUES)
    for frame, v in zip(frames, VALUES, strict=True):
        assert frame["traces"] == [1]
        np.testing.assert_allclose(frame["data"][0]["y"], v * np.linspace(-1, 1, 5), rtol=1e-6)


def test_a_frame_updating_a_trace_of_another_type_fails_validation() -> None:
    fig = _figure()
    fig["frames"][0]["data"][0]["type"] = "heatmap"
    with pytest.raises(AssertionError):
        validated(fig)


def test_a_frame_with_a_property_its_trace_lacks_fails_validation() -> None:
    fig = _figure()
    fig["frames"][1]["data"][0]["zmid"] = 0.0  # a heatmap's, not a scatter's
    with pytest.raises(ValueError):
        validated(fig)


@pytest.mark.parametrize(("frames", "traces"), [([[{}], []], [1]), ([[{}]], [2]), ([[{}]], [-1])])
def test_frames_that_do_not_match_their_traces_raise(frames: list, traces: list) -> None:
    with pytest.raises(ValueError):
        live_figure([{"type": "scatter"}, {"type": "scatter"}], {}, frames, traces=traces)


def test_the_builders_layout_is_not_modified() -> None:
    layout = {"height": 300}
    live_figure([], layout, [[], [], []], traces=[])
    assert layout == {"height": 300}


def test_typed_array_round_trips_float32_grids_and_gaps() -> None:
    grid = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 1e300]])
    spec = typed_array(grid)
    assert spec["dtype"] == "f4" and spec["shape"] == "2, 3"
    decoded = as_array(spec)
    assert decoded.shape == (2, 3) and np.isnan(decoded[0, 1])
    assert decoded[1, 2] == np.float32(np.finfo(np.float32).max)  # clipped, not inf
    np.testing.assert_array_equal(decoded[0, [0, 2]], [1.0, 3.0])
    assert "shape" not in typed_array([1.0, 2.0]) and typed_array(np.array([])) == []


TWO_PANELS = {
    "xaxis": {"domain": [0, 0.45]}, "xaxis2": {"domain": [0.55, 1]}, "yaxis": {}, "yaxis2": {"anchor": "x2"},
    "annotations": [{"text": "a", "x": 0.2, "y": 1, "xref": "paper", "yref": "paper"},
                    {"text": "b", "x": 0.5, "y": 1, "xref": "x2 domain", "yref": "paper"}],
}


def test_stacked_panels_puts_side_by_side_panels_under_each_other_for_a_phone() -> None:
    narrow = stacked_panels(TWO_PANELS, [[("xaxis", "yaxis")], [("xaxis2", "yaxis2")]], titles=[[0], [1]],
                            height=700, gap=0.1, top=0.9)
    assert narrow["height"] == 700
    assert narrow["xaxis.domain"] == narrow["xaxis2.domain"] == [0.0, 1.0]
    assert narrow["yaxis.domain"] == pytest.approx([0.5, 0.9]) and narrow["yaxis2.domain"] == pytest.approx([0.0, 0.4])
    assert (narrow["annotations[0].y"], narrow["annotations[1].y"]) == pytest.approx((0.9, 0.4))  # over each panel
    # A title in paper coordinates is centred over its panel; one placed in its axis' domain follows the axis.
    assert narrow["annotations[0].x"] == 0.5 and narrow["annotations[0].xanchor"] == "center"
    assert "annotations[1].x" not in narrow


def test_stacked_panels_spreads_a_row_of_several_panels_over_the_width() -> None:
    layout = {**TWO_PANELS, "xaxis3": {}, "yaxis3": {}}
    rows = [[("xaxis", "yaxis"), ("xaxis2", "yaxis2")], [("xaxis3", "yaxis3")]]
    narrow = stacked_panels(layout, rows, titles=[[0, 1], []], height=900, gap=0.1, weights=[2.0, 1.0], across=0.1)
    assert narrow["xaxis.domain"] == pytest.approx([0.0, 0.45]) and narrow["xaxis2.domain"] == pytest.approx([0.55, 1])
    assert narrow["annotations[0].x"] == pytest.approx(0.225)
    assert narrow["yaxis.domain"] == narrow["yaxis2.domain"] == pytest.approx([0.4, 1.0])  # twice the height
    assert narrow["yaxis3.domain"] == pytest.approx([0.0, 0.3]) and narrow["xaxis3.domain"] == [0.0, 1.0]


def test_a_narrow_layout_travels_with_the_figure_and_validates() -> None:
    x = np.linspace(0.0, 1.0, 4)
    data = [{"type": "scatter", "x": typed_array(x), "y": typed_array(x), "xaxis": f"x{c}", "yaxis": f"y{c}"}
            for c in ("", "2")]
    layout = TWO_PANELS
    narrow = stacked_panels(layout, [[("xaxis", "yaxis")], [("xaxis2", "yaxis2")]], titles=[[0], [1]], height=600)
    fig = live_figure(data, layout, [[{"y": typed_array(v * x)}] for v in VALUES], traces=[1], narrow=narrow)
    assert fig["narrow"] == narrow and layout["xaxis2"]["domain"] == [0.55, 1]  # the wide layout is untouched
    validated(fig)
    phone = narrow_layout(fig)
    assert phone["xaxis2"]["domain"] == [0.0, 1.0] and phone["annotations"][1]["y"] == narrow["annotations[1].y"]
    with pytest.raises(ValueError, match=r"xaxis3\.domain"):
        live_figure(data, layout, [[{}]] * 3, traces=[1], narrow={"xaxis3.domain": [0, 1]})
    with pytest.raises(ValueError, match="annotations"):
        live_figure(data, layout, [[{}]] * 3, traces=[1], narrow={"annotations[5].y": 0.5})


def test_the_components_narrow_width_is_the_builders() -> None:
    source = (Path(live.__file__).parents[1] / "ui" / "live_chart.js").read_text()
    assert f"const NARROW_WIDTH = {live.NARROW_WIDTH};" in source
