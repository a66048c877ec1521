"""The Segmentation page's maths (lossviz.studies.segmentation) against formulas written out here in NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz.engine import evaluate
from lossviz.studies import segmentation as ss

HW = ss.SIZE * ss.SIZE


def _centres() -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres relative to the image centre, from np.indices (independent of pixel_grid)."""
    rows, cols = np.indices((ss.SIZE, ss.SIZE)).astype(float)
    c = (ss.SIZE - 1) / 2
    return cols - c, rows - c


# --- independent formulas -------------------------------------------------------------------------


def dice(p: np.ndarray, g: np.ndarray, s: float) -> float:
    return 1 - (2 * (p * g).sum() + s) / (p.sum() + g.sum() + s)


def jaccard(p: np.ndarray, g: np.ndarray, s: float) -> float:
    tp = (p * g).sum()
    return 1 - (tp + s) / (p.sum() + g.sum() - tp + s)


def tversky(p: np.ndarray, g: np.ndarray, s: float, a: float, b: float) -> float:
    tp, fp, fn = (p * g).sum(), (p * (1 - g)).sum(), ((1 - p) * g).sum()
    return 1 - (tp + s) / (tp + a * fp + b * fn + s)


def bce_mean(p: np.ndarray, g: np.ndarray) -> float:
    return float(-(g * np.log(p) + (1 - g) * np.log(1 - p)).mean())


def dice_grad(p: np.ndarray, g: np.ndarray, s: float) -> np.ndarray:
    """∂/∂pᵢ of 1 − N/D, N = 2Σpg + s, D = Σp + Σg + s: (N − 2gᵢD)/D²."""
    n, d = 2 * (p * g).sum() + s, p.sum() + g.sum() + s
    return (n - 2 * g * d) / d**2


def jaccard_grad(p: np.ndarray, g: np.ndarray, s: float) -> np.ndarray:
    """N = Σpg + s, D = Σp + Σg − Σpg + s: ∂(1 − N/D)/∂pᵢ = −(gᵢD − N(1 − gᵢ))/D²."""
    tp = (p * g).sum()
    n, d = tp + s, p.sum() + g.sum() - tp + s
    return -(g * d - n * (1 - g)) / d**2


def tversky_grad(p: np.ndarray, g: np.ndarray, s: float, a: float, b: float) -> np.ndarray:
    """N = TP + s, D = TP + αFP + βFN + s; ∂N/∂pᵢ = gᵢ, ∂D/∂pᵢ = gᵢ + α(1 − gᵢ) − βgᵢ."""
    tp, fp, fn = (p * g).sum(), (p * (1 - g)).sum(), ((1 - p) * g).sum()
    n, d = tp + s, tp + a * fp + b * fn + s
    return -(g * d - n * (g + a * (1 - g) - b * g)) / d**2


PREDICTIONS = st.builds(
    ss.Prediction,
    shift=st.integers(-24, 24).map(float),
    scale=st.floats(0.25, 2.0),
    softness=st.floats(0.0, 5.0),
    confidence=st.floats(0.05, 1.0),
    blob=st.floats(0.0, 1.0),
)
# Weights are 0 or at least 1e-100: the reference gradients divide by D², which underflows to 0 in float64
# for a denominator D made of a weight like 1e-272 alone (hypothesis found α = 8e-272 on the empty mask).
_WEIGHT = st.one_of(st.just(0.0), st.floats(1e-100, 1.0))
LOSS_SETTINGS = st.builds(ss.LossSettings, smooth=st.one_of(st.just(0.0), st.floats(1e-100, 10.0)), alpha=_WEIGHT, beta=_WEIGHT)


# --- masks ----------------------------------------------------------------------------------------


def test_true_masks_have_the_declared_geometry() -> None:
    x, y = _centres()
    r = np.hypot(x, y)
    np.testing.assert_array_equal(ss.true_mask("disc"), (r < ss.DISC_RADIUS).astype(float))
    assert ss.true_mask("square").sum() == (2 * ss.SQUARE_HALF) ** 2  # 22 × 22 half-integer centres
    ring = ss.true_mask("thin ring").astype(bool)
    assert ring.any() and (np.abs(r[ring] - ss.RING_RADIUS) < ss.RING_HALF_WIDTH).all()
    assert ring.sum() < 0.5 * ss.true_mask("disc").sum()
    tiny = ss.true_mask("tiny object")
    assert 0 < tiny.sum() <= np.pi * (ss.TINY_RADIUS + 1) ** 2
    assert ss.true_mask("empty").sum() == 0
    for shape in ss.SHAPES:
        g = ss.true_mask(shape)
        assert g.shape == (ss.SIZE, ss.SIZE) and set(np.unique(g)) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="unknown shape"):
        ss.true_mask("star")


@pytest.mark.parametrize("shape", ["disc", "square", "thin ring", "tiny object"])
def test_a_hard_confident_prediction_is_the_mask_moved(shape: str) -> None:
    """softness 0, confidence 1, no blob: p is the true mask shifted by whole pixels (within p_min)."""
    for shift in (0, 3, -5):
        p = ss.predicted_mask(shape, ss.Prediction(shift=shift, scale=1.0, softness=0.0, confidence=1.0, blob=0.0))
        expected = np.roll(ss.true_mask(shape), shift, axis=1)
        np.testing.assert_allclose(p, np.clip(expected, ss.P_MIN, 1 - ss.P_MIN), rtol=0, atol=0)


@settings(max_examples=40, deadline=None)
@given(shape=st.sampled_from(ss.SHAPES), prediction=PREDICTIONS)
def test_predicted_masks_stay_strictly_inside_zero_one(shape: str, prediction: ss.Prediction) -> None:
    p = ss.predicted_mask(shape, prediction)
    assert p.shape == (ss.SIZE, ss.SIZE)
    assert p.min() >= ss.P_MIN and p.max() <= 1 - ss.P_MIN
    assert p.max() <= max(prediction.confidence, prediction.blob) + 1e-12


def test_softness_confidence_scale_and_blob_do_what_they_say() -> None:
    base = ss.Prediction(shift=0.0, scale=1.0, softness=1.0, confidence=0.8, blob=0.0)
    p = ss.predicted_mask("disc", base)
    x, y = _centres()
    r = np.hypot(x, y)
    # p = c·σ(−(r − R)/τ): the edge pixel at distance d from the rim has c·σ(−d).
    np.testing.assert_allclose(p, np.clip(0.8 / (1 + np.exp((r - ss.DISC_RADIUS) / 1.0)), ss.P_MIN, 1), rtol=1e-12)
    bigger = ss.predicted_mask("disc", base.replace(scale=1.5))
    assert bigger.sum() > 1.4 * p.sum()
    blob = ss.predicted_mask("empty", base.replace(blob=0.7))
    iy, ix = np.unravel_index(np.argmax(blob), blob.shape)
    assert (x[iy, ix], y[iy, ix]) == pytest.approx(ss.BLOB_CENTRE, abs=0.5)
    assert blob.max() == pytest.approx(0.7 * np.exp(-0.25 / ss.BLOB_SIGMA**2), rel=1e-12)  # nearest centre 0.5 px off in x and y
    np.testing.assert_array_equal(ss.predicted_mask("empty", base), np.full((ss.SIZE, ss.SIZE), ss.P_MIN))


def test_two_class_logits_give_softmax_one_minus_p_and_p() -> None:
    p = np.array([[ss.P_MIN, 0.2], [0.5, 1 - ss.P_MIN]])
    z = ss.two_class_logits(p)
    assert z.shape == (2, 2, 2)
    softmax = np.exp(z) / np.exp(z).sum(axis=0)
    np.testing.assert_allclose(softmax[1], p, rtol=1e-9)
    np.testing.assert_allclose(softmax[0], 1 - p, rtol=1e-9)
    assert np.abs(z).max() <= ss.LOGIT_CLIP + 1e-12


# --- losses ---------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(shape=st.sampled_from(ss.SHAPES), prediction=PREDICTIONS, loss_settings=LOSS_SETTINGS)
def test_values_and_gradients_against_the_formulas(
    shape: str, prediction: ss.Prediction, loss_settings: ss.LossSettings
) -> None:
    g = ss.true_mask(shape)
    p = ss.predicted_mask(shape, prediction)
    s, a, b = loss_settings.smooth, loss_settings.alpha, loss_settings.beta
    results, errors = ss.evaluate_all(p, g, loss_settings)
    if errors:
        # Only Tversky can be 0/0: TP = 0 needs an empty mask (p ≥ p_min), where FN = 0 too, so α·FP + s = 0.
        assert list(errors) == ["tversky"] and shape == "empty" and s == a == 0
        return
    assert float(results["dice"].value) == pytest.approx(dice(p, g, s), rel=1e-12, abs=1e-14)
    assert float(results["jaccard"].value) == pytest.approx(jaccard(p, g, s), rel=1e-12, abs=1e-14)
    assert float(results["tversky"].value) == pytest.approx(tversky(p, g, s, a, b), rel=1e-12, abs=1e-14)
    assert float(results["bce"].value) == pytest.approx(bce_mean(p, g), rel=1e-12)
    assert float(results["pixel_cross_entropy"].value) == pytest.approx(bce_mean(p, g), rel=1e-9)
    # Each gradient is a difference of terms of size ~1/D (D the denominator); allow rounding of those.
    tp, fp, fn = (p * g).sum(), (p * (1 - g)).sum(), ((1 - p) * g).sum()
    for name, expected, denominator in (
        ("dice", dice_grad(p, g, s), p.sum() + g.sum() + s),
        ("jaccard", jaccard_grad(p, g, s), p.sum() + g.sum() - tp + s),
        ("tversky", tversky_grad(p, g, s, a, b), tp + a * fp + b * fn + s),
    ):
        np.testing.assert_allclose(results[name].grad, expected, rtol=1e-10, atol=1e-13 / denominator, err_msg=name)
    expected = (-g / p + (1 - g) / (1 - p)) / HW
    np.testing.assert_allclose(results["bce"].grad, expected, rtol=1e-9)
    np.testing.assert_allclose(results["pixel_cross_entropy"].grad, (p - g) / HW, rtol=1e-8, atol=1e-20)


def test_overlap_identities() -> None:
    """Tversky(α = β = ½, 2s) = Dice(s); Tversky(α = β = 1) = Jaccard; Jaccard loss ≥ Dice loss."""
    for shape in ("disc", "thin ring", "tiny object"):
        g = ss.true_mask(shape)
        p = ss.predicted_mask(shape, ss.Prediction())
        d = ss.evaluate_loss("dice", p, g, ss.LossSettings(smooth=1.0)).value
        t = ss.evaluate_loss("tversky", p, g, ss.LossSettings(smooth=0.5, alpha=0.5, beta=0.5)).value
        assert float(t) == pytest.approx(float(d), rel=1e-13)
        j = ss.evaluate_loss("jaccard", p, g, ss.LossSettings(smooth=1.0)).value
        t1 = ss.evaluate_loss("tversky", p, g, ss.LossSettings(smooth=1.0, alpha=1.0, beta=1.0)).value
        assert float(t1) == pytest.approx(float(j), rel=1e-13)
        assert float(j) >= float(d)


def test_overlap_gradients_take_two_values_and_bce_is_local() -> None:
    """The point of the gradient maps: Dice's map is constant on the object and on the background."""
    g = ss.true_mask("disc")
    p = ss.predicted_mask("disc", ss.Prediction())
    grad = ss.evaluate_loss("dice", p, g, ss.LossSettings()).grad
    assert len(np.unique(np.round(grad[g == 1], 15))) == 1 and len(np.unique(np.round(grad[g == 0], 15))) == 1
    assert grad[g == 1][0] < 0 < grad[g == 0][0]
    bce = ss.evaluate_loss("bce", p, g, ss.LossSettings()).grad
    assert len(np.unique(bce)) > 100


@pytest.mark.parametrize("control", list(ss.SWEEPS))
def test_sweep_matches_one_evaluation_per_value(control: str) -> None:
    prediction, loss_settings = ss.Prediction(), ss.LossSettings(smooth=0.5, alpha=0.3, beta=0.7)
    sw = ss.sweep("tiny object", prediction, loss_settings, control)
    np.testing.assert_array_equal(sw.values, ss.sweep_values(control))
    g = ss.true_mask("tiny object")
    for i in (0, len(sw.values) // 3, len(sw.values) - 1):
        v = float(sw.values[i])
        if control == "smooth":
            p, at = ss.predicted_mask("tiny object", prediction), ss.LossSettings(smooth=v, alpha=0.3, beta=0.7)
        else:
            p, at = ss.predicted_mask("tiny object", prediction.replace(**{control: v})), loss_settings
        assert sw.losses["dice"][i] == pytest.approx(dice(p, g, at.smooth), rel=1e-12)
        assert sw.losses["tversky"][i] == pytest.approx(tversky(p, g, at.smooth, 0.3, 0.7), rel=1e-12)
        assert sw.losses["bce"][i] == pytest.approx(bce_mean(p, g), rel=1e-12)
        assert sw.losses["pixel_cross_entropy"][i] == pytest.approx(bce_mean(p, g), rel=1e-9)


def test_shift_sweep_runs_from_minus_to_plus_half_width() -> None:
    values = ss.sweep_values("shift")
    assert values[0] == -ss.SIZE / 2 and values[-1] == ss.SIZE / 2 and np.all(np.diff(values) == 1)


def test_overlap_losses_are_flat_once_the_tiny_object_is_missed_but_bce_is_not() -> None:
    sw = ss.sweep("tiny object", ss.Prediction(), ss.LossSettings(), "shift")
    far = (sw.values >= 9) & (sw.values <= 14)
    assert np.ptp(sw.losses["dice"][far]) < 1e-3
    assert np.all(np.diff(sw.losses["bce"][far]) > 1e-3)


def test_smooth_study_for_the_empty_mask_is_sum_p_over_sum_p_plus_s() -> None:
    study = ss.smooth_study(ss.Prediction())
    assert study.smooth[0] == 0.0 and study.sum_g["empty"] == 0.0
    sum_p = ss.predicted_mask("empty", ss.Prediction()).sum()
    assert study.sum_p["empty"] == pytest.approx(sum_p)
    np.testing.assert_allclose(study.dice["empty"], sum_p / (sum_p + study.smooth), rtol=1e-12)
    for shape in ss.SHAPES:
        g, p = ss.true_mask(shape), ss.predicted_mask(shape, ss.Prediction())
        expected = [dice(p, g, s) for s in study.smooth]
        np.testing.assert_allclose(study.dice[shape], expected, rtol=1e-12)


@pytest.mark.parametrize("smooth", [1e-3, 1.0, 50.0])
def test_empty_mask_dice_is_the_dice_loss_of_an_empty_mask(smooth: float) -> None:
    g, p = ss.true_mask("empty"), ss.predicted_mask("empty", ss.Prediction())
    expected = float(evaluate("dice", p, g, order=0, smooth=smooth).value)
    assert ss.empty_mask_dice(float(p.sum()), smooth) == pytest.approx(expected, rel=1e-12)


def test_empty_mask_and_empty_prediction_with_smooth_zero_is_an_error_not_nan() -> None:
    g = ss.true_mask("empty")
    p = np.zeros_like(g)
    with pytest.raises(ValueError, match="0/0"):
        ss.evaluate_loss("dice", p, g, ss.LossSettings(smooth=0.0))
    assert float(ss.evaluate_loss("dice", p, g, ss.LossSettings(smooth=1.0)).value) == 0.0


def test_an_undefined_loss_is_reported_and_the_others_still_computed() -> None:
    g = ss.true_mask("empty")
    p = ss.predicted_mask("empty", ss.Prediction())
    zero = ss.LossSettings(smooth=0.0, alpha=0.0, beta=0.0)
    results, errors = ss.evaluate_all(p, g, zero)
    assert list(errors) == ["tversky"] and "0/0" in errors["tversky"]
    assert set(results) == set(ss.LOSSES) - {"tversky"}
    assert float(results["dice"].value) == 1.0  # 1 − 0/Σp: any non-zero prediction on an empty mask
    sw = ss.sweep("empty", ss.Prediction(), zero, "blob")
    assert list(sw.errors) == ["tversky"] and np.isnan(sw.losses["tversky"]).all()
    assert np.isfinite(sw.losses["dice"]).all()
    sw = ss.sweep("empty", ss.Prediction(), zero, "smooth")
    assert np.isnan(sw.losses["tversky"][0]) and np.isfinite(sw.losses["tversky"][1:]).all()


def test_controls_are_declared_params_with_valid_defaults() -> None:
    for name, param in ss.PREDICTION_PARAMS.items():
        assert getattr(ss.Prediction(), name) == param.default
        lo, hi = param.slider_range
        assert lo < hi and param.contains(param.default)
    assert ss.LossSettings().params("tversky") == {"smooth": 1.0, "alpha": 0.5, "beta": 0.5}
    assert ss.LossSettings().params("bce") == {}


# --- Tversky's α × β grid ---------------------------------------------------------------------------------


def test_tversky_frames_are_the_steps_of_alpha_and_beta() -> None:
    for values, param in ((ss.TVERSKY_ALPHAS, ss.ALPHA), (ss.TVERSKY_BETAS, ss.BETA)):
        assert values.tolist() == [round(0.05 * k, 2) for k in range(21)] and param.default in values.tolist()


@pytest.mark.parametrize(("shape", "smooth"), [("disc", 1.0), ("tiny object", 0.3), ("thin ring", 0.0)])
def test_tversky_grid_is_the_loss_at_every_alpha_beta_and_size(shape: str, smooth: float) -> None:
    prediction = ss.Prediction(shift=-2.0, scale=1.3)
    grid = ss.tversky_grid(shape, prediction, smooth)
    assert grid.loss.shape == (21, 21, ss.SWEEP_POINTS + 1)
    np.testing.assert_array_equal(grid.scales, np.append(ss.sweep_values("scale"), 1.3))
    g = ss.true_mask(shape)
    p = ss.predicted_mask(shape, prediction)
    for i, j in ((0, 20), (4, 17), (10, 10), (20, 0)):
        a, b = grid.alphas[i], grid.betas[j]
        assert grid.loss[i, j, -1] == pytest.approx(tversky(p, g, smooth, a, b), rel=1e-12)
        batch = evaluate("tversky", ss.predicted_masks(shape, prediction, "scale", grid.scales[grid.sweep]), g,
                         order=0, alpha=a, beta=b, smooth=smooth).value
        np.testing.assert_allclose(grid.loss[i, j, grid.sweep], batch, rtol=1e-12)
        tp, fp_term, fn_term = grid.terms(a, b)
        assert (tp, fp_term, fn_term) == pytest.approx(
            ((p * g).sum(), a * (p * (1 - g)).sum(), b * ((1 - p) * g).sum()), rel=1e-12
        )


def test_tversky_grid_is_nan_where_evaluate_finds_0_over_0() -> None:
    grid = ss.tversky_grid("empty", ss.Prediction(), 0.0)
    assert np.isnan(grid.loss[0]).all() and np.isfinite(grid.loss[1:]).all()  # α = 0: TP = FN = 0 = α·FP
    p = ss.predicted_mask("empty", ss.Prediction())
    with pytest.raises(ValueError, match="0/0"):
        evaluate("tversky", p, ss.true_mask("empty"), order=0, alpha=0.0, beta=0.5, smooth=0.0)


def test_beta_weighs_the_misses_of_a_small_prediction_and_alpha_the_spill_of_a_large_one() -> None:
    grid = ss.tversky_grid("disc", ss.Prediction(shift=0.0, blob=0.0), 1.0)
    small, large = np.argmin(np.abs(grid.scales[grid.sweep] - 0.6)), np.argmin(np.abs(grid.scales[grid.sweep] - 1.6))
    assert grid.loss[2, 18, small] > grid.loss[18, 2, small]  # β high: the missed pixels cost more
    assert grid.loss[18, 2, large] > grid.loss[2, 18, large]  # α high: the spilled pixels cost more


def test_soft_counts() -> None:
    g, p = ss.true_mask("square"), ss.predicted_mask("square", ss.Prediction())
    tp, fp, fn = ss.soft_counts(p, g)
    assert tp + fn == pytest.approx(g.sum()) and tp + fp == pytest.approx(p.sum())
    assert fp == pytest.approx(sum(p[r, c] for r, c in zip(*np.nonzero(g == 0), strict=True)))
