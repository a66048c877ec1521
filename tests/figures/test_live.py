"""The one builder of live figures (lossviz.figures.live) and the typed arrays every figure sends."""

from __future__ import annotations

import numpy as np
import plotly.io as pio
import pytest

from lossviz.figures.common import typed_array
from lossviz.figures.live import live_figure
from tests.figure_helpers import as_array, frames_of, validated

VALUES = [0.1, 0.5, 2.0]


def _figure(active: int = 1, **kwargs) -> dict:
    x = np.linspace(-1.0, 1.0, 5)
    data = [
        {"type": "scatter", "x": typed_array(x), "y": typed_array(x**2), "name": "still"},
        {"type": "scatter", "x": typed_array(x), "y": typed_array(VALUES[active] * x), "name": "moving"},
    ]
    frames = [[{"y": typed_array(v * x)}] for v in VALUES]
    return live_figure(data, {"height": 300}, frames, traces=[1], values=VALUES, active=active, label="k", **kwargs)


def test_live_figure_is_a_plain_dict_that_plotly_validates() -> None:
    fig = _figure()
    assert set(fig) == {"data", "layout"}
    full = validated(fig)  # what st.plotly_chart does with a dict, and each frame checked too
    assert len(full.layout.sliders[0].steps) == len(VALUES) and full.layout.height == 300
    assert pio.to_json(fig, validate=False)  # plain JSON data as it is


def test_one_frame_per_value_moving_the_given_traces() -> None:
    frames = frames_of(_figure())
    assert len(frames) == len(VALUES)
    for frame, v in zip(frames, VALUES, strict=True):
        assert frame["traces"] == [1]
        np.testing.assert_allclose(frame["data"][0]["y"], v * np.linspace(-1, 1, 5), rtol=1e-6)


def test_a_frame_updating_a_trace_of_another_type_fails_validation() -> None:
    fig = _figure()
    fig["layout"]["sliders"][0]["steps"][0]["args"][0][0]["data"][0]["type"] = "heatmap"
    with pytest.raises(AssertionError):
        validated(fig)


def test_the_slider_steps_animate_to_their_frames_without_a_transition() -> None:
    slider = validated(_figure(active=2, labels=["a", "b", "c"])).layout.sliders[0]
    assert slider.active == 2 and slider.currentvalue.prefix == "k = "
    assert [s.label for s in slider.steps] == ["a", "b", "c"]
    for step in slider.steps:
        assert step.method == "animate" and len(step.args[0]) == 1 and step.args[0][0]["traces"] == [1]
        options = step.args[1]
        assert options["mode"] == "immediate" and options["transition"]["duration"] == 0
        assert options["frame"] == {"duration": 0, "redraw": False}
    redrawn = validated(_figure(redraw=True)).layout.sliders[0].steps[0]
    assert redrawn.args[1]["frame"]["redraw"] is True


def test_default_labels_have_three_significant_digits() -> None:
    fig = live_figure([], {}, [[], []], traces=[], values=[0.012345, 1234.5], active=0, label="x")
    assert [s["label"] for s in fig["layout"]["sliders"][0]["steps"]] == ["0.0123", "1.23e+03"]


@pytest.mark.parametrize(("frames", "active"), [([[]] * 2, 0), ([[]] * 3, 3), ([[]] * 3, -1)])
def test_mismatched_frames_or_active_frame_raise(frames: list, active: int) -> None:
    with pytest.raises(ValueError):
        live_figure([], {}, frames, traces=[], values=VALUES, active=active, label="k")


def test_the_builders_layout_is_not_modified() -> None:
    layout = {"height": 300}
    live_figure([], layout, [[], [], []], traces=[], values=VALUES, active=0, label="k")
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
