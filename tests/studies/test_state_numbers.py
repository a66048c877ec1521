"""The study functions behind numbers that page text quotes from the current state (and lessons ask about):
the focal share at the live γ, the PSNR peak of TV denoising, where overlap losses go flat on a tiny object,
and gradient descent's critical learning rate on a line fit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lossviz.studies import focal as fs
from lossviz.studies import generative as gs
from lossviz.studies import landscape as ll
from lossviz.studies import segmentation as ss
from lossviz.toolkit.data import line_with_outliers


def test_share_at_reads_the_share_curve_at_gamma() -> None:
    share = np.linspace(0.5, 0.0, fs.SHARE_GAMMAS.size)
    for i in (0, 7, 50):
        assert fs.share_at(share, float(fs.SHARE_GAMMAS[i])) == pytest.approx(share[i])
    midpoint = float(fs.SHARE_GAMMAS[0] + fs.SHARE_GAMMAS[1]) / 2
    assert fs.share_at(share, midpoint) == pytest.approx((share[0] + share[1]) / 2)


def test_the_best_tv_weight_has_the_highest_psnr_and_lies_inside() -> None:
    weights = np.geomspace(0.01, 10.0, 13)
    study = gs.tv_study(0.15, 0, 30, weights)
    assert study.psnr_denoised[study.best] == study.psnr_denoised.max()
    assert 0 < study.best < len(weights) - 1  # too little smoothing leaves noise, too much blurs
    assert study.psnr_denoised[study.best] > study.psnr_noisy
    quieter = gs.tv_study(0.05, 0, 30, weights)
    assert quieter.weights[quieter.best] < study.weights[study.best]  # less noise wants less smoothing


def test_plateau_shift_is_where_the_dice_loss_reaches_its_ceiling() -> None:
    sweep = ss.sweep("tiny object", ss.Prediction(), ss.LossSettings(), "shift")
    shift = ss.plateau_shift(sweep)
    right = sweep.values >= 0
    dice = sweep.losses["dice"][right]
    top, span = dice.max(), dice.max() - dice.min()
    at = int(np.flatnonzero(sweep.values[right] == shift)[0])
    assert dice[at] >= top - ss.PLATEAU_TOLERANCE * span > dice[at - 1]
    softer = ss.sweep("tiny object", ss.Prediction(softness=3.0), ss.LossSettings(), "shift")
    assert ss.plateau_shift(softer) > shift  # a softer edge reaches further
    with pytest.raises(ValueError, match="shift"):
        ss.plateau_shift(ss.sweep("tiny object", ss.Prediction(), ss.LossSettings(), "scale"))


def test_the_critical_learning_rate_separates_converging_from_diverging_descent() -> None:
    data = line_with_outliers()
    minimum = ll.fit_minimum("mse", data.x, data.y, {})
    critical = ll.critical_learning_rate("mse", data.x, data.y, {}, (minimum.w, minimum.b))
    hessian = 2 * np.array([[np.mean(data.x**2), np.mean(data.x)], [np.mean(data.x), 1.0]])
    assert ll.curvature_matrix("mse", data.x, data.y, {}, (0.0, 0.0)) == pytest.approx(hessian)
    gd = ll.descend("mse", data.x, data.y, {}, (-2.0, 3.0), [0.95 * critical, 1.05 * critical], 400)["gd"]
    assert gd.stopped[0] < 0 and gd.stopped[1] >= 0
    assert ll.critical_learning_rate("mae", data.x, data.y, {}, (minimum.w, minimum.b)) == math.inf
