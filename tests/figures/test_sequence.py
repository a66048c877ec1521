"""Figures of the Sequence & count page: valid Plotly (validated once here), the CTC heatmaps and frames
carrying the sweep's numbers, and the NLL curves with their minimiser, frames and fixed ranges."""

from __future__ import annotations

import numpy as np
import pytest

import lossviz
from lossviz.figures.sequence import (
    CORNER,
    CTC_FRAME_TRACES,
    NLL_FRAME_TRACES,
    figure_ctc,
    figure_nll_curves,
    padded_range,
)
from lossviz.studies import sequence as cs
from tests.figure_helpers import as_array, figure_bytes, frames_of, validated


def sweep(label: str = "abba", frames: int = 8, letters: int = 3, preset: str = "aligned") -> cs.CtcSweep:
    labels = cs.parse_label(label, letters)
    base = cs.preset_logits(preset, labels, frames, letters, 3.0)
    return cs.ctc_sweep(base, labels, letters, 2, 1, cs.boost_values())


def test_ctc_figure_is_valid_and_carries_the_sweep() -> None:
    s = sweep()
    active = s.index(1.5)
    fig = validated(figure_ctc(s, active))
    posteriors, gradient, best, alignment = fig.data[:4]
    np.testing.assert_allclose(as_array(posteriors.z), s.posteriors[active].T, rtol=1e-6, atol=1e-7)  # float32
    np.testing.assert_allclose(as_array(gradient.z), s.grad[active].T, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(as_array(best.y) + CORNER, s.best_paths[active], atol=1e-6)  # float32
    np.testing.assert_allclose(as_array(alignment.y) - CORNER, s.alignments[active], atol=1e-6)
    assert gradient.zmax == -gradient.zmin == pytest.approx(np.abs(s.grad).max())
    assert list(fig.layout.yaxis.ticktext) == s.class_names
    boosted = [t for t in fig.data if t.name == "boosted cell"]
    assert [(t.x[0], t.y[0]) for t in boosted] == [(3, 1)] * 2  # frame 2 (0-based) shown as 3
    loss_curve = fig.data[6]
    np.testing.assert_allclose(as_array(loss_curve.y), s.loss, rtol=1e-6)
    assert not fig.layout.sliders


def test_ctc_frames_follow_the_boost() -> None:
    s = sweep()
    frames = frames_of(figure_ctc(s, 0))
    assert len(frames) == len(s.boosts) and cs.BOOST.default in s.boosts
    for i, frame in enumerate(frames):
        assert frame["traces"] == list(CTC_FRAME_TRACES)
        np.testing.assert_allclose(frame["data"][0]["z"], s.posteriors[i].T, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(frame["data"][1]["z"], s.grad[i].T, rtol=1e-6, atol=1e-7)
        assert frame["data"][4]["y"][0] == pytest.approx(s.loss[i])
        assert f"loss {s.loss[i]:.4f}" in frame["data"][4]["text"][0]


def test_ctc_figure_is_small_at_the_largest_example() -> None:
    s = sweep("abcdefabcdef", 12, 6)
    assert figure_bytes(figure_ctc(s, 12)) < 200_000


def test_empty_label_decodes_to_empty() -> None:
    s = sweep("", 4, 2, "blank")
    assert s.decoded(0) == ""
    assert "(empty)" in figure_ctc(s, 0)["data"][7]["text"][0]


@pytest.fixture(scope="module")
def poisson() -> list[cs.NllCurve]:
    return cs.poisson_curves(cs.count_values())


def test_nll_figure_is_valid_with_frames_and_minimiser(poisson: list[cs.NllCurve]) -> None:
    live = figure_nll_curves(poisson, 3, x_label="p", symbol="p")
    fig = validated(live)
    assert figure_bytes(live) < 300_000
    frames = frames_of(live)
    assert len(frames) == len(poisson) and [c.setting for c in poisson] == list(cs.count_values())
    assert not fig.layout.sliders
    value, grad, marker = fig.data[:3]
    np.testing.assert_allclose(as_array(value.y), poisson[3].value, rtol=1e-6)
    np.testing.assert_allclose(as_array(grad.y), poisson[3].grad, rtol=1e-6, atol=1e-6)
    assert marker.x[0] == pytest.approx(np.log(3.0)) and marker.y[0] == pytest.approx(3 - 3 * np.log(3.0))
    for frame, curve in zip(frames, poisson, strict=True):
        assert frame["traces"] == list(NLL_FRAME_TRACES)
        np.testing.assert_allclose(frame["data"][0]["y"], curve.value, rtol=1e-6)
        np.testing.assert_allclose(frame["data"][1]["y"], curve.grad, rtol=1e-6, atol=1e-6)
    # y = 0 has no minimiser: its frame empties the markers and lines
    assert frames[0]["data"][2]["x"] == [] and frames[0]["data"][3]["x"] == []
    lo, hi = fig.layout.yaxis.range
    assert lo <= min(c.value.min() for c in poisson) and hi >= max(c.value.max() for c in poisson)


def test_nll_figure_takes_given_ranges() -> None:
    curves = cs.gaussian_curves(0.0, [0.01, 1.0, 10.0])
    live = figure_nll_curves(curves, 1, x_label="p", symbol="p", value_range=(-3, 9), grad_range=(-5, 5))
    fig = validated(live)
    assert tuple(fig.layout.yaxis.range) == (-3, 9) and tuple(fig.layout.yaxis2.range) == (-5, 5)
    for frame, curve in zip(frames_of(live), curves, strict=True):
        np.testing.assert_allclose(frame["data"][0]["y"], curve.value, rtol=1e-6)
        assert frame["data"][2]["x"] == [pytest.approx(curve.minimiser[0])]


def test_gaussian_frames_hold_every_variance_of_the_ladder() -> None:
    var = lossviz.spec("gaussian_nll").param("var")
    values = cs.variance_values(var)
    curves = cs.gaussian_curves(0.0, values)
    live = figure_nll_curves(curves, values.index(var.default), x_label="p", symbol="p")
    assert len(frames_of(live)) == len(values) and var.default in values
    assert figure_bytes(live) < 300_000


def test_padded_range_ignores_non_finite_values() -> None:
    assert padded_range([np.array([0.0, 10.0, np.inf, np.nan])]) == (-0.5, 10.5)
    assert padded_range([np.array([2.0])]) == (1.95, 2.05)
