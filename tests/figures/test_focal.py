"""Figure builders of the Focal-γ page."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lossviz
from lossviz.figures.focal import (
    LIVE_CURVES,
    PANELS,
    Boundary,
    boundary_segment,
    figure_boundaries,
    figure_focal_curves,
    figure_loss_share,
    figure_pr_curves,
)
from lossviz.studies import focal as fs
from lossviz.toolkit.data import imbalanced_blobs
from tests.figure_helpers import as_array, figure_json, frames_of, sent_dtype, validated

NG, NA = fs.GAMMA_FRAMES.size, fs.ALPHA_FRAMES.size


@pytest.fixture(scope="module")
def reference() -> fs.FocalCurves:
    return fs.focal_curves(fs.P_T, fs.LIN_GAMMAS, -1.0)


@pytest.fixture(scope="module")
def grid() -> fs.FocalGrid:
    return fs.pad_grid(True)


@pytest.fixture(scope="module")
def figure(reference, grid) -> dict:
    return figure_focal_curves(reference, grid, (8, 5))


def _expected(grid: fs.FocalGrid, i: int, j: int) -> list[np.ndarray]:
    """The study's numbers at (γᵢ, αⱼ), in the order of LIVE_CURVES, as the browser gets them (float32)."""
    positive, negative = 0, 1
    return [
        a.astype(np.float32)
        for a in (
            grid.loss[i, j, positive], grid.loss[i, j, negative], grid.modulating[i],
            grid.grad[i, j, positive], grid.grad[i, j, negative],
        )
    ]


def test_focal_curves_figure_validates_and_has_one_frame_per_gamma_and_alpha(figure) -> None:
    full = validated(figure)  # full Plotly validation, every frame included
    assert len(frames_of(figure)) == NG * NA == 441
    assert len(full.data) == 3 * len(fs.LIN_GAMMAS) + len(LIVE_CURVES)
    assert "sliders" not in figure["layout"] and "updatemenus" not in figure["layout"]
    # What the live chart sends (the plain figure, frames included): within a pad's 1.5 MB.
    assert len(json.dumps(figure, separators=(",", ":"))) < 1_500_000


def test_reference_traces_are_lin_curves_in_float32(reference, grid) -> None:
    fig = validated(figure_focal_curves(reference, grid, (4, 0)))
    for i, g in enumerate(fs.LIN_GAMMAS):
        for j, panel in enumerate(PANELS):
            trace = fig.data[3 * i + j]
            assert sent_dtype(trace.y) == "f4"
            np.testing.assert_array_equal(as_array(trace.y), getattr(reference, panel)[i].astype(np.float32))
            assert trace.name == f"γ = {g:g}" and trace.showlegend == (j == 0)


def test_frame_i_ny_plus_j_is_the_study_at_gamma_i_alpha_j(figure, grid) -> None:
    raw = frames_of(figure)
    n_ref = 3 * len(fs.LIN_GAMMAS)
    for i in range(NG):
        for j in range(NA):
            frame = raw[i * NA + j]
            assert frame["traces"] == list(range(n_ref, n_ref + len(LIVE_CURVES)))
            for update, expected in zip(frame["data"], _expected(grid, i, j), strict=True):
                np.testing.assert_array_equal(update["y"], expected)
    # the figure's own data is the active frame (γ = 2, α = 0.25), drawn over the study's live p_t axis
    live = figure_json(figure)["data"][n_ref:]
    for trace, expected in zip(live, _expected(grid, 8, 5), strict=True):
        np.testing.assert_array_equal(trace["x"], fs.P_T_LIVE.astype(np.float32))
        np.testing.assert_array_equal(trace["y"], expected)


@pytest.mark.parametrize(("i", "j"), [(0, 0), (8, 5), (13, 17), (20, 20)])
def test_frames_are_lossviz_focal_at_their_gamma_and_alpha(figure, i: int, j: int) -> None:
    """Frame i·ny + j against lossviz.evaluate("focal") at (γᵢ, αⱼ), for a positive at logit x and a negative at −x."""
    g, a = float(fs.GAMMA_FRAMES[i]), float(fs.ALPHA_FRAMES[j])
    x = fs.logit_of(fs.P_T_LIVE)
    positive = lossviz.evaluate("focal", x, 1.0, gamma=g, alpha=a)
    negative = lossviz.evaluate("focal", -x, 0.0, gamma=g, alpha=a)
    frame = frames_of(figure)[i * NA + j]["data"]
    expected = [positive.value, negative.value, None, np.abs(positive.grad), np.abs(negative.grad)]
    for update, values in zip(frame, expected, strict=True):
        if values is not None:
            np.testing.assert_allclose(update["y"], values, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(frame[2]["y"], (1 - fs.P_T_LIVE) ** g, rtol=1e-5, atol=1e-30)
    np.testing.assert_allclose(frame[1]["y"] * a, frame[0]["y"] * (1 - a), rtol=1e-5)  # α_t: α against 1 − α


def test_weighting_off_names_and_frames(reference) -> None:
    fig = figure_focal_curves(reference, fs.pad_grid(False), (8, 5))
    validated(fig)
    live = figure_json(fig)["data"][3 * len(fs.LIN_GAMMAS):]
    assert [t["name"] for t in live[:2]] == ["live: positive, α off", "live: negative, α off"]
    raw = frames_of(fig)
    x = fs.P_T_LIVE
    for k in (8 * NA, 8 * NA + NA - 1):
        np.testing.assert_allclose(raw[k]["data"][0]["y"], -((1 - x) ** 2) * np.log(x), rtol=1e-5)
        np.testing.assert_array_equal(raw[k]["data"][0]["y"], raw[k]["data"][1]["y"])


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
