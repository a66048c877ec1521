"""Figure builders of the neural landscape page and of the two-parameter views."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lossviz.figures.common import display_values
from lossviz.figures.neural_landscape import (
    figure_interpolation,
    figure_pca_player,
    figure_plane_contour,
    figure_plane_surface,
    figure_two_losses,
)
from lossviz.figures.training_lab import figure_multitask, figure_regularization
from lossviz.studies import training_lab as rv
from lossviz.studies.neural_landscape import Slice
from lossviz.toolkit.data import correlated_regression
from lossviz.toolkit.training import Curves
from tests.figure_helpers import as_array, frames_of, narrow_data, narrow_layout, validated

XS = np.linspace(-1, 1, 9)
Z = 1.0 + np.add.outer(XS**2, 2 * XS**2)


def test_display_values_take_logs_only_of_positive_losses() -> None:
    shown, label = display_values(Z, log=True)
    np.testing.assert_allclose(shown, np.log10(Z))
    assert label == "log₁₀ loss"
    shown, label = display_values(Z - 2.0, log=True)
    np.testing.assert_array_equal(shown, Z - 2.0)
    assert label == "loss"


def test_interpolation_figure_has_loss_and_metric_axes() -> None:
    a = np.linspace(-0.5, 1.5, 5)
    fig = figure_interpolation(a, a + 2, a + 3, a / 2, a / 3, "accuracy", log=True)
    assert [t.name for t in fig.data] == ["train loss", "validation loss", "train accuracy", "validation accuracy"]
    assert fig.data[2].yaxis == "y2" and fig.layout.yaxis.type == "log"
    np.testing.assert_allclose(as_array(fig.data[1].y), a + 3, rtol=1e-6)
    assert [s.x0 for s in fig.layout.shapes] == [0.0, 1.0]
    negative = figure_interpolation(a, a - 2, a, a, a, "accuracy", log=True)
    assert negative.layout.yaxis.type == "linear"


def test_plane_contour_and_surface() -> None:
    contour = figure_plane_contour(XS, XS, Z, log=False)
    np.testing.assert_allclose(as_array(contour.data[0].z), Z, rtol=1e-6)
    assert contour.data[1].x == (0.0,) and contour.layout.yaxis.scaleanchor == "x"
    surface = figure_plane_surface(XS, XS, Z, log=True)
    assert surface.data[0].type == "surface"
    np.testing.assert_allclose(as_array(surface.data[0].z), np.log10(Z), rtol=1e-6)


def test_the_pca_player_marks_the_epoch_and_each_checkpoints_distance_from_the_plane() -> None:
    path = np.array([[1.0, 0.5], [0.6, 0.3], [0.4, 0.2], [0.0, 0.0]])
    pca = Slice(XS, XS, Z, 0.1, path, (0.9, 0.06), off_plane=np.array([0.2, 0.5, 0.1, 0.0]),
                steps=np.array([0.4, 0.4, 0.25, 0.45]))
    e = np.arange(4.0)
    curves = Curves(e, 1 / (e + 1), 1.2 / (e + 1), e / 4, e / 5)
    fig = figure_pca_player(pca, curves, [0, 1, 2, 3])
    go.Figure(fig)  # valid Plotly
    json.dumps(fig, allow_nan=False)  # plain JSON, what the live chart sends
    assert "90.0%" in fig["layout"]["xaxis"]["title"]["text"] and "6.0%" in fig["layout"]["yaxis"]["title"]["text"]
    contour, trajectory, start, end = fig["data"][:4]
    np.testing.assert_allclose(as_array(contour["z"]), np.log10(Z), rtol=1e-6)
    np.testing.assert_allclose(as_array(trajectory["x"]), path[:, 0], rtol=1e-6)
    np.testing.assert_allclose(as_array(trajectory["marker"]["color"]), [0.5, 1.25, 0.4, 0.0], rtol=1e-6)
    assert "off the plane by 0.5 = 1.25 steps" in trajectory["text"][1]
    assert start["x"] == [1.0] and end["x"] == [0.0]
    distance = fig["data"][-1]
    assert distance["xaxis"] == "x3" and "steps" in fig["layout"]["yaxis3"]["title"]["text"]
    np.testing.assert_allclose(as_array(distance["y"]), [0.5, 1.25, 0.4, 0.0], rtol=1e-6)
    assert len(fig["frames"]) == 4 and all(f["data"] == [] for f in fig["frames"])  # layout only
    for epoch, frame in enumerate(fig["frames"]):
        ring = next(s for s in frame["layout"]["shapes"] if s["type"] == "circle")
        assert (ring["xanchor"], ring["yanchor"]) == tuple(path[epoch])
        lines = [s for s in frame["layout"]["shapes"] if s["type"] == "line" and s["yref"].endswith("domain")]
        assert [s["xref"] for s in lines] == ["x2", "x3"] and {s["x0"] for s in lines} == {epoch}
    assert fig["layout"]["shapes"] == fig["frames"][-1]["layout"]["shapes"]

    # On a phone: the map over the curves, its two colour bars one above the other beside it.
    validated(fig)  # the narrow layout and restyles included
    phone, traces = narrow_layout(fig), narrow_data(fig)
    assert phone["xaxis2"]["domain"] == phone["xaxis3"]["domain"] == [0.0, 1.0]
    map_x, map_y = phone["xaxis"]["domain"], phone["yaxis"]["domain"]
    assert map_y[0] > phone["yaxis2"]["domain"][1] > phone["yaxis2"]["domain"][0] > phone["yaxis3"]["domain"][1]
    assert phone["xaxis"]["title"]["text"] == "1st PCA component: 90.0%"
    upper, lower = traces[0]["colorbar"], traces[1]["marker"]["colorbar"]
    assert upper["x"] == lower["x"] > map_x[1]
    assert map_y[1] > upper["y"] - upper["len"] / 2 > lower["y"] + lower["len"] / 2 > lower["y"] - lower["len"] / 2 > map_y[0]
    assert phone["height"] > fig["layout"]["height"]


def test_two_losses_side_by_side() -> None:
    fig = figure_two_losses(XS, XS, [("bce_logits", Z), ("mse", 2 * Z)], log=False)
    contours = [t for t in fig.data if t.type == "contour"]
    assert [c.xaxis for c in contours] == ["x", "x2"]
    np.testing.assert_allclose(as_array(contours[1].z), 2 * Z, rtol=1e-6)
    assert [a.text for a in fig.layout.annotations] == ["bce_logits", "mse"]


@pytest.fixture(scope="module")
def path() -> rv.RegularizationPath:
    return rv.regularization_path(rv.LinearProblem(*correlated_regression()), np.geomspace(0.01, 5, 12), resolution=31)


def live_bytes(fig: dict) -> int:
    """The size of a live figure as the live chart sends it: data, layout and every frame."""
    return len(json.dumps(fig, allow_nan=False, separators=(",", ":")).encode())


def test_regularization_frames_follow_lambda(path: rv.RegularizationPath) -> None:
    built = figure_regularization(path)
    fig, frames = validated(built), frames_of(built)
    assert len(frames) == len(path.lams) == 12
    assert "sliders" not in built["layout"]
    # the traces show the first frame
    for index, update in zip(frames[0]["traces"], frames[0]["data"], strict=True):
        np.testing.assert_array_equal(as_array(fig.data[index].x), update["x"])
    # each frame's optimum marker is the exact lasso/ridge solution
    for k in (0, 7, 11):
        lasso_x, lasso_y = frames[k]["data"][1]["x"], frames[k]["data"][1]["y"]
        ridge_x, ridge_y = frames[k]["data"][3]["x"], frames[k]["data"][3]["y"]
        # frame arrays are float32
        np.testing.assert_allclose([lasso_x[-1], lasso_y[-1]], path.lasso[k], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose([ridge_x[-1], ridge_y[-1]], path.ridge[k], rtol=1e-6, atol=1e-7)
        assert np.isnan(lasso_x[-2])  # the gap between the tangent contour and the optimum
        np.testing.assert_allclose(lasso_x[:-2], path.lasso_levels[k][:, 0], rtol=1e-6, atol=1e-6)
        region = np.stack([frames[k]["data"][0]["x"], frames[k]["data"][0]["y"]], axis=1)
        np.testing.assert_allclose(np.abs(region).sum(axis=1), np.abs(path.lasso[k]).sum(), rtol=1e-6, atol=1e-6)
        disc = np.stack([frames[k]["data"][2]["x"], frames[k]["data"][2]["y"]], axis=1)
        np.testing.assert_allclose(np.linalg.norm(disc, axis=1), np.linalg.norm(path.ridge[k]), rtol=1e-6, atol=1e-7)


def test_regularization_payload_over_the_live_lambdas() -> None:
    built = figure_regularization(rv.regularization_view(0.5).path)
    assert len(frames_of(built)) == len(rv.PATH_LAMBDAS) == 25
    assert live_bytes(built) < 1_000_000


def test_multitask_frames_follow_the_weight() -> None:
    mt = rv.multitask("mse", "mae", weights=np.linspace(0, 1, 5), resolution=21)
    built = figure_multitask(mt)
    fig, frames = validated(built), frames_of(built)
    assert len(frames) == 5 and "sliders" not in built["layout"]
    for k, weight in enumerate(mt.weights):
        contour_index, marker_index, line_index = frames[k]["traces"]
        contour, marker, line = frames[k]["data"]
        np.testing.assert_allclose(contour["z"], np.log10(mt.mixture(weight)), rtol=1e-6)
        np.testing.assert_allclose([marker["x"][0], marker["y"][0]], mt.minimizers[k])
        np.testing.assert_allclose(line["y"], mt.minimizers[k][0] + mt.minimizers[k][1] * line["x"], atol=2e-5)
    np.testing.assert_allclose(as_array(fig.data[contour_index].z), np.log10(mt.mixture(0.0)), rtol=1e-6)
    assert fig.data[marker_index].x[0] == pytest.approx(mt.minimizers[0][0])
    assert fig.data[line_index].type == "scatter"
    full = figure_multitask(rv.multitask("mse", "mae"))
    assert len(frames_of(full)) == len(rv.TASK_WEIGHTS) and live_bytes(full) < 1_000_000
