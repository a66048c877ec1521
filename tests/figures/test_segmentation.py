"""The Segmentation page's figure builders (lossviz.figures.segmentation)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lossviz.figures.segmentation import (
    SATURATION_PERCENTILE,
    figure_gradient_maps,
    figure_masks,
    figure_smooth_study,
    figure_sweep,
    figure_tversky,
    saturation,
)
from lossviz.studies import segmentation as ss
from tests.figure_helpers import as_array, figure_bytes, frames_of, validated

TITLES = ss.loss_titles()


def _masks(shape: str = "disc") -> tuple[np.ndarray, np.ndarray]:
    return ss.true_mask(shape), ss.predicted_mask(shape, ss.Prediction())


def test_mask_figure_shows_both_masks_and_the_true_edge() -> None:
    true, predicted = _masks()
    fig = figure_masks(true, predicted)
    validated(fig)
    gt, pred, edge = fig.data
    np.testing.assert_array_equal(as_array(gt.z), true.astype(np.float32))
    np.testing.assert_array_equal(as_array(pred.z), predicted.astype(np.float32))
    assert edge.type == "contour" and edge.contours.start == 0.5 and edge.xaxis == "x2"
    assert gt.colorscale[-1][1] == "rgb(0,0,0)" and not gt.reversescale  # the mask in black on white
    assert fig.layout.yaxis.autorange == "reversed" and fig.layout.yaxis2.scaleanchor == "x2"
    assert figure_bytes(fig) < 100_000


def test_mask_figure_of_the_empty_mask_has_no_edge() -> None:
    true, predicted = _masks("empty")
    assert len(figure_masks(true, predicted).data) == 2


def test_gradient_maps_one_symmetric_heatmap_per_loss() -> None:
    true, predicted = _masks()
    results, _ = ss.evaluate_all(predicted, true, ss.LossSettings())
    grads = {name: results[name].grad for name in ss.LOSSES}
    fig = figure_gradient_maps(grads, TITLES, true)
    validated(fig)
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert [t.name for t in heatmaps] == list(ss.LOSSES)
    for t, name in zip(heatmaps, ss.LOSSES, strict=True):
        np.testing.assert_array_equal(as_array(t.z), grads[name].astype(np.float32))
        limit = np.percentile(np.abs(grads[name]), SATURATION_PERCENTILE)
        assert t.zmax == pytest.approx(limit) and t.zmin == pytest.approx(-limit)
    assert [t.xaxis for t in heatmaps] == ["x", "x2", "x3", "x4", "x5"]
    assert len(fig.data) == 2 * len(ss.LOSSES)  # each map with the true edge
    assert figure_bytes(fig) < 200_000


def test_saturation_of_an_all_zero_map_is_positive() -> None:
    assert saturation(np.zeros((3, 3))) > 0
    assert saturation(np.array([0.0, 0.0, 2.0])) == pytest.approx(np.percentile([0, 0, 2.0], SATURATION_PERCENTILE))


def test_sweep_figure_plots_every_loss_and_the_current_value() -> None:
    sw = ss.sweep("disc", ss.Prediction(), ss.LossSettings(), "shift")
    fig = figure_sweep(sw, 3.0, "shift", TITLES)
    validated(fig)
    assert [t.name for t in fig.data[:-1]] == [TITLES[n] for n in ss.LOSSES]
    for t, name in zip(fig.data, ss.LOSSES, strict=False):
        np.testing.assert_array_equal(as_array(t.x), sw.values.astype(np.float32))
        np.testing.assert_array_equal(as_array(t.y), sw.losses[name].astype(np.float32))
    assert list(fig.data[-1].x) == [3.0, 3.0]


def test_sweep_figure_with_an_undefined_loss_keeps_the_others() -> None:
    sw = ss.sweep("empty", ss.Prediction(), ss.LossSettings(smooth=0.0, alpha=0.0, beta=0.0), "blob")
    fig = figure_sweep(sw, 0.5, "blob", TITLES)
    validated(fig)
    finite = [v[np.isfinite(v)].max() for v in sw.losses.values() if np.isfinite(v).any()]
    assert fig.data[-1].y[1] == pytest.approx(max(finite))
    assert np.isnan(as_array(fig.data[ss.LOSSES.index("tversky")].y)).all()


def test_smooth_figure_leaves_smooth_zero_off_the_log_axis() -> None:
    study = ss.smooth_study(ss.Prediction())
    fig = figure_smooth_study(study, 1.0)
    validated(fig)
    assert fig.layout.xaxis.type == "log"
    curves = fig.data[: len(ss.SHAPES)]
    for t, shape in zip(curves, ss.SHAPES, strict=True):
        assert t.name.startswith(shape)
        np.testing.assert_array_equal(as_array(t.x), study.smooth[1:].astype(np.float32))
        np.testing.assert_array_equal(as_array(t.y), study.dice[shape][1:].astype(np.float32))
        assert "at s = 0" in t.hovertemplate
    assert list(fig.data[-1].x) == [1.0, 1.0]
    assert len(figure_smooth_study(study, 0.0).data) == len(ss.SHAPES)


def test_tversky_pad_frames_are_the_grid() -> None:
    grid = ss.tversky_grid("tiny object", ss.Prediction(shift=-2.0), 0.0)
    built = figure_tversky(grid)
    fig, frames = validated(built), frames_of(built)
    nb = len(grid.betas)
    assert len(frames) == len(grid.alphas) * nb == 441 and "sliders" not in built["layout"]
    np.testing.assert_allclose(as_array(fig.data[0].x), grid.scales[grid.sweep], rtol=1e-6)
    for i, j in ((0, 0), (0, 20), (7, 3), (20, 20)):
        curve, marker, bars = frames[i * nb + j]["data"]
        np.testing.assert_allclose(curve["y"], grid.loss[i, j, grid.sweep], rtol=1e-6, equal_nan=True)
        np.testing.assert_allclose(marker["y"], grid.loss[i, j, -1:], rtol=1e-6, equal_nan=True)
        terms = grid.terms(grid.alphas[i], grid.betas[j])
        np.testing.assert_allclose(bars["y"], terms, rtol=1e-6)
        assert bars["text"] == [f"{t:.1f}" for t in terms]
    assert frames[0]["traces"] == [0, 1, 3] and fig.data[3].type == "bar"
    # the traces show frame 0
    np.testing.assert_allclose(as_array(fig.data[0].y), grid.loss[0, 0, grid.sweep], rtol=1e-6, equal_nan=True)
    assert len(json.dumps(built, allow_nan=False, separators=(",", ":"))) < 1_500_000
