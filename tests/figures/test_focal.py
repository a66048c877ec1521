"""Figure builders of the Focal-γ page."""

from __future__ import annotations

import numpy as np
import pytest

from lossviz.figures.focal import (
    PANELS,
    Boundary,
    LiveGamma,
    boundary_segment,
    figure_boundaries,
    figure_focal_curves,
    figure_loss_share,
    figure_pr_curves,
)
from lossviz.studies import focal as fs
from lossviz.toolkit.data import imbalanced_blobs
from tests.figure_helpers import as_array, figure_bytes, figure_json, frames_of, sent_dtype, validated


@pytest.fixture(scope="module")
def curves() -> tuple[fs.FocalCurves, fs.FocalCurves]:
    return fs.focal_curves(fs.P_T, fs.LIN_GAMMAS, -1.0), fs.focal_curves(fs.P_T, fs.GAMMA_FRAMES, 0.25)


def test_focal_curves_figure_validates_and_has_one_frame_per_gamma(curves) -> None:
    reference, frames = curves
    fig = figure_focal_curves(reference, LiveGamma(2.0, 0.25, frames))
    full = validated(fig)  # full Plotly validation, frames included
    assert len(frames_of(fig)) == len(fs.GAMMA_FRAMES) == 51
    assert len(full.data) == 3 * (len(fs.LIN_GAMMAS) + 1)
    slider = full.layout.sliders[0]
    assert [s.label for s in slider.steps][:3] == ["0", "0.1", "0.2"]
    assert slider.active == 20 and slider.currentvalue.prefix == "live γ = "
    assert figure_bytes(fig) < 400_000


def test_reference_traces_are_lin_curves_in_float32(curves) -> None:
    reference, frames = curves
    fig = validated(figure_focal_curves(reference, LiveGamma(1.0, -1.0, frames)))
    for i, g in enumerate(fs.LIN_GAMMAS):
        for j, panel in enumerate(PANELS):
            trace = fig.data[3 * i + j]
            assert sent_dtype(trace.y) == "f4"
            np.testing.assert_array_equal(as_array(trace.y), getattr(reference, panel)[i].astype(np.float32))
            assert trace.name == f"γ = {g:g}" and trace.showlegend == (j == 0)


def test_frames_move_the_live_curves(curves) -> None:
    reference, frames = curves
    fig = figure_focal_curves(reference, LiveGamma(3.3, 0.25, frames))
    live = figure_json(fig)["data"][-3:]
    k = int(np.argmin(np.abs(fs.GAMMA_FRAMES - 3.3)))
    for j, panel in enumerate(PANELS):
        np.testing.assert_array_equal(live[j]["y"], getattr(frames, panel)[k].astype(np.float32))
    raw = frames_of(fig)
    n_ref = 3 * len(fs.LIN_GAMMAS)
    for k in (0, 20, 50):
        assert raw[k]["traces"] == [n_ref, n_ref + 1, n_ref + 2]
        for j, panel in enumerate(PANELS):
            np.testing.assert_array_equal(raw[k]["data"][j]["y"], getattr(frames, panel)[k].astype(np.float32))
    # γ = 0 frame: the loss is CE (times α); γ = 5 frame: tiny for confident examples
    assert raw[0]["data"][0]["y"][-1] > 10 * raw[50]["data"][0]["y"][-1]


def test_loss_share_figure() -> None:
    gammas = np.array([0.0, 1.0, 2.0])
    fig = figure_loss_share(gammas, np.array([0.5, 0.2, 0.05]), 0.97, 1.5)
    fig = validated(fig)
    np.testing.assert_allclose(as_array(fig.data[0].y), [50, 20, 5], rtol=1e-6)
    assert list(fig.data[1].y) == [pytest.approx(97.0)] * 2
    assert fig.data[2].x == (1.5,) and fig.data[2].y[0] == pytest.approx(12.5)  # interpolated at γ = 1.5


@pytest.mark.parametrize(
    ("w", "b", "expected"),
    [
        ((1.0, 1.0), 0.0, ([-1.0, 1.0], [1.0, -1.0])),  # the diagonal y = −x
        ((0.0, 1.0), -0.5, ([-1.0, 1.0], [0.5, 0.5])),  # horizontal y = 0.5
        ((1.0, 0.0), 0.25, ([-0.25, -0.25], [-1.0, 1.0])),  # vertical x = −0.25
        ((1.0, 1.0), 5.0, ([], [])),  # misses the box
    ],
)
def test_boundary_segment(w, b, expected) -> None:
    xs, ys = boundary_segment(np.array(w), b, (-1.0, 1.0), (-1.0, 1.0))
    assert xs == pytest.approx(expected[0]) and ys == pytest.approx(expected[1])


def test_boundaries_figure() -> None:
    data = imbalanced_blobs(50.0, 2.0, seed=0, n_majority=200)
    fig = figure_boundaries(data, [Boundary("ce", np.array([1.0, 1.0]), -2.0, "#123456")])
    fig = validated(fig)
    assert len(as_array(fig.data[0].x)) == 200 and len(as_array(fig.data[1].x)) == 4
    xs, ys = as_array(fig.data[2].x), as_array(fig.data[2].y)
    np.testing.assert_allclose(xs + ys, 2.0)  # on the line x + y = 2
    assert fig.data[2].line.color == "#123456"


def test_pr_figure() -> None:
    precision, recall, _ = fs.precision_recall_curve(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    fig = figure_pr_curves({"m": (precision, recall)}, {"m": "#000000"}, {"m": 5 / 6}, 0.5)
    fig = validated(fig)
    np.testing.assert_allclose(as_array(fig.data[1].x), [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(as_array(fig.data[1].y), [1, 1, 0.5, 2 / 3, 0.5], rtol=1e-6)
    assert "AP 0.833" in fig.data[1].name
