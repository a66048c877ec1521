"""The Perceptual loss page's builders (lossviz.figures.perceptual): 8-bit images for st.image that keep their
pixels, valid Plotly charts carrying the study's numbers, small payloads."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from lossviz.figures.perceptual import (
    ENERGY_LUT,
    IMAGE_TITLES,
    ZOOM,
    distortion_tiles,
    energy_image,
    energy_tiles,
    figure_descent,
    figure_loss_bars,
    grey_image,
    reconstruction_tiles,
)
from lossviz.studies import perceptual as sp
from tests.figure_helpers import figure_bytes

MAX_BYTES = 1_000_000


@pytest.fixture(scope="module")
def comparison() -> sp.Comparison:
    return sp.compare(1.5, 0.05, 2)


@pytest.fixture(scope="module")
def reconstruction() -> sp.Reconstruction:
    return sp.reconstruct(1, 20, 1)


def validated(fig: go.Figure) -> go.Figure:
    go.Figure(fig.to_dict())
    return fig


def test_grey_image_maps_0_to_black_and_1_to_white_and_repeats_pixels() -> None:
    image = np.array([[0.0, 1.0], [0.5, 2.0]])
    out = grey_image(image, zoom=3)
    assert out.dtype == np.uint8 and out.shape == (6, 6)
    np.testing.assert_array_equal(out[::3, ::3], [[0, 255], [128, 255]])  # 2.0 is clipped
    np.testing.assert_array_equal(out[:3, :3], 0)


def test_energy_image_uses_viridis_from_zero_to_top() -> None:
    out = energy_image(np.array([[0.0, 1.0], [2.0, 4.0]]), top=2.0, zoom=2)
    assert out.shape == (4, 4, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0, 0], [68, 1, 84])  # Viridis's first colour
    np.testing.assert_array_equal(out[2, 0], [253, 231, 37])  # its last
    np.testing.assert_array_equal(out[2, 2], out[2, 0])  # above top saturates
    np.testing.assert_array_equal(out[0, 2], ENERGY_LUT[128])


def test_distortion_and_energy_tiles(comparison: sp.Comparison) -> None:
    tiles = distortion_tiles(comparison)
    assert tiles.captions == ["original", *comparison.labels]
    assert all(t.shape == (sp.SIZE * ZOOM,) * 2 for t in tiles.images)
    np.testing.assert_array_equal(tiles.images[3], grey_image(comparison.images[2]))
    energy = energy_tiles(comparison)
    assert len(energy.images) == 6 and energy.captions[0] == "φ: original"
    assert all(t.shape == (sp.SIZE * ZOOM, sp.SIZE * ZOOM, 3) for t in energy.images)


def test_reconstruction_tiles(reconstruction: sp.Reconstruction) -> None:
    tiles = reconstruction_tiles(reconstruction)
    assert tiles.captions == [IMAGE_TITLES[name] for name in sp.IMAGES]
    np.testing.assert_array_equal(tiles.images[4], grey_image(reconstruction.images["perceptual"]))


def test_loss_bars_show_both_losses_and_the_blur_line(comparison: sp.Comparison) -> None:
    fig = validated(figure_loss_bars(comparison))
    mse_bars, perceptual_bars, mse_line, perceptual_line = fig.data
    assert list(mse_bars.x) == comparison.labels
    np.testing.assert_allclose(mse_bars.y, comparison.mse, rtol=1e-6)
    np.testing.assert_allclose(perceptual_bars.y, comparison.perceptual, rtol=1e-6)
    blur = sp.DISTORTIONS.index("blur")
    assert mse_line.y == (pytest.approx(comparison.mse[blur]),) * 2
    assert perceptual_line.y == (pytest.approx(comparison.perceptual[blur]),) * 2
    assert mse_bars.xaxis == "x" and perceptual_bars.xaxis == "x2"
    assert "L = 2" in fig.layout.annotations[1].text
    assert figure_bytes(fig) < MAX_BYTES


def test_descent_starts_at_one_and_shows_the_mse_floor(reconstruction: sp.Reconstruction) -> None:
    fig = validated(figure_descent(reconstruction))
    mse_run, perceptual_run, floor = fig.data
    assert len(mse_run.y) == reconstruction.steps + 1
    assert mse_run.y[0] == perceptual_run.y[0] == 1.0
    np.testing.assert_allclose(perceptual_run.y, reconstruction.history[:, 1] / reconstruction.history[0, 1], rtol=1e-6)
    assert floor.y[0] == pytest.approx(reconstruction.mse["pixel mean"] / reconstruction.history[0, 0])
    assert fig.layout.yaxis.type == "log"
    assert figure_bytes(fig) < MAX_BYTES
