"""Figures of the Generative page: valid Plotly, float32 arrays, the vanishing region and the TV frames
carrying the right numbers, and small payloads."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from lossviz.figures.generative import (
    DENOISED_TRACE,
    DISCRIMINATOR_SIDES,
    MARKER_TRACES,
    figure_discriminator_losses,
    figure_generator_losses,
    figure_tv_denoising,
    short_name,
)
from lossviz.studies import generative as gs
from lossviz.toolkit.data import IMAGE_NOISE
from lossviz.toolkit.frames import FINE_MANTISSAS, log_ladder
from tests.figure_helpers import as_array, figure_bytes, figure_json, frames_of, sent_dtype, validated

MAX_BYTES = 1_000_000


def generator_figure(axis: str = "logit", half_width: float = 6.0, threshold: float = 0.05) -> go.Figure:
    curves = gs.curves(gs.GENERATOR_LOSSES, axis, half_width)
    vanishing = gs.vanishing_intervals(axis, half_width, threshold)
    return figure_generator_losses(curves, axis=axis, vanishing=vanishing, threshold=threshold)


@pytest.mark.parametrize("axis", ["logit", "probability"])
def test_generator_figure_is_valid_and_small(axis: str) -> None:
    fig = validated(generator_figure(axis, 12.0))
    assert figure_bytes(fig) < MAX_BYTES
    lines = [t for t in fig.data if t.mode == "lines" and t.fill != "toself" and len(as_array(t.x)) > 2]
    expected = len(gs.plotted_losses(gs.GENERATOR_LOSSES, axis)) * (2 if axis == "logit" else 3)
    assert len(lines) == expected  # value + gradient (+ ∂L/∂a on the D axis) per loss
    assert all(sent_dtype(t.x) == sent_dtype(t.y) == "f4" for t in lines)


def test_generator_curves_carry_the_losses() -> None:
    fig = generator_figure()
    a = gs.logit_grid(6.0)
    saturating = next(t for t in fig.data if t.name == "saturating log(1 − D)")
    np.testing.assert_allclose(as_array(saturating.x), a.astype(np.float32))
    np.testing.assert_allclose(as_array(saturating.y), -np.logaddexp(0, a), rtol=1e-6)


@pytest.mark.parametrize("threshold", [0.01, 0.2])
def test_vanishing_region_is_shaded_over_both_panels(threshold: float) -> None:
    fig = generator_figure(threshold=threshold)
    shades = [t for t in fig.data if t.fill == "toself"]
    assert len(shades) == 2 and {t.yaxis for t in shades} == {"y3", "y4"}
    bound = gs.saturating_vanishing_bound(threshold)
    for t in shades:
        xs = [v for v in t.x if v is not None]
        assert min(xs) == -6.0 and max(xs) == pytest.approx(bound, abs=1e-3)
        assert [v for v in t.y if v is not None] == [0.0, 0.0, 1.0, 1.0, 0.0]
    assert fig.layout.yaxis3.overlaying == "y" and fig.layout.yaxis4.overlaying == "y2"


def test_no_shading_when_the_threshold_is_below_the_range() -> None:
    fig = generator_figure(half_width=2.0, threshold=0.001)  # logit(0.001) ≈ −6.9 < −2
    assert all(not [v for v in t.x if v is not None] for t in fig.data if t.fill == "toself")


@pytest.mark.parametrize("axis", ["logit", "probability"])
def test_discriminator_figures_split_real_and_fake(axis: str) -> None:
    curves = gs.discriminator_curves(gs.DISCRIMINATOR_LOSSES, axis, 6.0)
    real, fake = (validated(figure_discriminator_losses(curves, axis=axis, label=y)) for y in (1.0, 0.0))
    assert all(figure_bytes(fig) < MAX_BYTES for fig in (real, fake))
    assert len(real.data) + len(fake.data) == 2 * len(curves)
    for fig, label in ((real, 1.0), (fake, 0.0)):
        side = [c for c in curves if c.target == label]
        assert [t.xaxis for t in fig.data] == ["x", "x2"] * len(side)  # loss above, gradient below
        assert [t.name for t in fig.data[::2]] == [short_name(c.name) for c in side]
        assert [a.text for a in fig.layout.annotations] == [f"<b>{DISCRIMINATOR_SIDES[label]}</b>"]
        # one colour per loss on both sides
        assert {t.name: t.line.color for t in fig.data} == {t.name: t.line.color for t in real.data if t.name in
                                                            {u.name for u in fig.data}}
    if axis == "logit":
        hinge_fake = next(t for t in fake.data[::2] if t.name == short_name("hinge_gan_discriminator"))
        a = gs.logit_grid(6.0)
        np.testing.assert_allclose(as_array(hinge_fake.y), np.maximum(0, 1 + a), rtol=1e-6)
    with pytest.raises(ValueError, match="label must be one of"):
        figure_discriminator_losses(curves, axis=axis, label=0.5)


@pytest.fixture(scope="module")
def study() -> gs.TvStudy:
    return gs.tv_study(0.15, 0, 10, log_ladder(gs.TV_WEIGHT, FINE_MANTISSAS))


def test_tv_figure_is_valid_and_small(study: gs.TvStudy) -> None:
    built = figure_tv_denoising(study, 3)
    fig = validated(built)
    assert figure_bytes(built) < MAX_BYTES
    assert [t.type for t in fig.data[:4]] == ["heatmap"] * 4
    assert [c for _, c in fig.data[0].colorscale] == ["rgb(0,0,0)", "rgb(255,255,255)"]  # 0 black, 1 white
    assert len(frames_of(built)) == len(study.weights) and gs.TV_WEIGHT.default in study.weights
    assert not fig.layout.sliders


def test_tv_panels_and_frames_carry_the_images(study: gs.TvStudy) -> None:
    built = figure_tv_denoising(study, 5)
    fig = figure_json(built)
    for trace, image in zip(fig["data"][:4], (study.clean, study.noisy, study.tv_grad_noisy, study.denoised[5]),
                            strict=True):
        np.testing.assert_array_equal(trace["z"], image.astype(np.float32))
    assert len(frames_of(built)) == len(study.weights)
    for i, frame in enumerate(frames_of(built)):
        assert frame["traces"] == [DENOISED_TRACE, *MARKER_TRACES]
        np.testing.assert_array_equal(frame["data"][0]["z"], study.denoised[i].astype(np.float32))
        assert frame["data"][1]["y"][0] == pytest.approx(study.psnr_denoised[i])
        assert frame["data"][2]["y"][0] == pytest.approx(study.tv_denoised[i])
    gradient = fig["data"][2]
    assert gradient["zmid"] == 0
    assert gradient["zmax"] == -gradient["zmin"] == pytest.approx(np.abs(study.tv_grad_noisy).max())


def test_tv_figure_stays_small_at_the_largest_settings() -> None:
    study = gs.tv_study(IMAGE_NOISE.slider_range[1], 99, 3, log_ladder(gs.TV_WEIGHT, FINE_MANTISSAS))
    assert figure_bytes(figure_tv_denoising(study, 0)) < 400_000
