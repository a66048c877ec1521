"""The Perceptual loss study: the scene and its distortions, the canonical MSE-against-perceptual ranking,
the average-loss objectives against lossviz.evaluate, and the blurry MSE reconstruction beside the sharp one."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

import lossviz
from lossviz.studies import perceptual as sp


@pytest.fixture(scope="module")
def default() -> sp.Comparison:
    return sp.compare(sp.BLUR.default, sp.NOISE.default, sp.DEPTH.default)


@pytest.fixture(scope="module")
def reconstruction() -> sp.Reconstruction:
    return sp.reconstruct(sp.JITTER.default, sp.STEPS.default, sp.DEPTH.default)


# --- the scene -------------------------------------------------------------------------------------


def test_scene_is_a_grey_image_whose_texture_alone_depends_on_the_seed() -> None:
    a, b = sp.scene(0), sp.scene(1)
    assert a.shape == (sp.SIZE + 2 * sp.MARGIN,) * 2
    patch = np.zeros_like(a, dtype=bool)
    patch[sp.MARGIN + 34 : sp.MARGIN + 60, sp.MARGIN + 34 : sp.MARGIN + 60] = True
    assert a[~patch].min() == pytest.approx(0.1) and a[~patch].max() == pytest.approx(0.85)
    assert a[patch].mean() == pytest.approx(0.55) and a[patch].std() == pytest.approx(sp.TEXTURE_CONTRAST)
    different = a != b
    rows, cols = np.nonzero(different)
    assert different.any()
    # Only the texture patch (rows and columns 34 … 59 of the view) changes.
    assert rows.min() >= sp.MARGIN + 34 and rows.max() < sp.MARGIN + 60
    assert cols.min() >= sp.MARGIN + 34 and cols.max() < sp.MARGIN + 60
    np.testing.assert_array_equal(sp.scene(0), a)  # deterministic


def test_a_shifted_view_is_the_same_scene_moved_by_whole_pixels() -> None:
    canvas = sp.scene()
    still, moved = sp.view(canvas), sp.view(canvas, 0, 1)
    np.testing.assert_array_equal(moved[:, :-1], still[:, 1:])
    down = sp.view(canvas, 2, 0)
    np.testing.assert_array_equal(down[:-2], still[2:])
    assert not np.array_equal(moved[:, -1], still[:, -1])  # new content enters at the border, no wrap-around
    with pytest.raises(ValueError, match="margin"):
        sp.view(canvas, 0, sp.MARGIN + 1)


def test_distortions_are_the_documented_ones(default: sp.Comparison) -> None:
    canvas = sp.scene()
    clean = sp.view(canvas)
    np.testing.assert_array_equal(default.original, clean)
    shift1, shift2, blurred, noisy, texture = default.images
    np.testing.assert_array_equal(shift1, sp.view(canvas, 0, 1))
    np.testing.assert_array_equal(shift2, sp.view(canvas, 0, 2))
    np.testing.assert_allclose(blurred, gaussian_filter(clean, 1.0, mode="nearest"))
    assert np.std(noisy - clean) == pytest.approx(sp.NOISE.default, rel=0.05)
    np.testing.assert_array_equal(texture, sp.view(sp.scene(1)))
    assert default.labels == ["shifted 1 px", "shifted 2 px", "blurred, σ = 1", "noise, σ = 0.1", "texture re-drawn"]


# --- the canonical comparison ----------------------------------------------------------------------


def test_losses_are_the_pixel_mean_squared_error_and_the_perceptual_loss(default: sp.Comparison) -> None:
    np.testing.assert_allclose(default.mse, ((default.images - default.original) ** 2).mean((-2, -1)), rtol=1e-13)
    for image, value in zip(default.images, default.perceptual, strict=True):
        assert lossviz.evaluate("perceptual", image, default.original, order=0).value == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("blur", [sp.BLUR.slider_range[0], 1.0, 2.0, sp.BLUR.slider_range[1]])
def test_mse_calls_a_one_pixel_shift_worse_than_a_blur_and_the_perceptual_loss_does_not(
    blur: float, depth: int
) -> None:
    """Johnson et al.'s point, at every blur the page offers and with every depth of φ."""
    c = sp.compare(blur, sp.NOISE.default, depth)
    shift, blurred, texture = (sp.DISTORTIONS.index(name) for name in ("shift1", "blur", "texture"))
    assert c.mse[shift] > c.mse[blurred]
    assert c.perceptual[shift] < c.perceptual[blurred]
    mse_ratio, perceptual_ratio = c.ratio_to_blur()
    assert perceptual_ratio[texture] < mse_ratio[texture]  # the page says "only"


def test_default_numbers_tell_the_story(default: sp.Comparison) -> None:
    mse_ratio, perceptual_ratio = default.ratio_to_blur()
    shift1, shift2, blur, noise, texture = range(5)
    assert mse_ratio[blur] == perceptual_ratio[blur] == 1.0
    assert mse_ratio[shift1] > 2 and perceptual_ratio[shift1] < 0.1  # 2.5 and 0.06 at the defaults
    assert default.perceptual[shift1] < default.perceptual[shift2] < default.perceptual[blur]
    # The re-drawn texture: MSE about as bad as the blur, the perceptual loss far less.
    assert mse_ratio[texture] > 0.8 and perceptual_ratio[texture] < 0.25
    assert perceptual_ratio[noise] < mse_ratio[noise]


def test_table_holds_the_comparison_numbers(default: sp.Comparison) -> None:
    table = default.table()
    assert list(table) == ["distortion", "pixel MSE", "perceptual", "MSE ÷ the blur's", "perceptual ÷ the blur's"]
    assert table["distortion"] == default.labels
    np.testing.assert_array_equal(table["pixel MSE"], default.mse)
    np.testing.assert_array_equal(table["perceptual ÷ the blur's"], default.ratio_to_blur()[1])


def test_no_noise_is_no_loss() -> None:
    c = sp.compare(1.0, 0.0, 3)
    noise = sp.DISTORTIONS.index("noise")
    assert c.mse[noise] == 0.0 and c.perceptual[noise] == 0.0


def test_energy_maps_show_what_the_blur_removes(default: sp.Comparison) -> None:
    assert default.energy.shape == (6, sp.SIZE // 2, sp.SIZE // 2)
    original, shift1, _, blurred, noisy, _ = default.energy
    assert blurred.sum() < 0.7 * original.sum()
    assert noisy.sum() > original.sum()
    assert abs(shift1.sum() - original.sum()) < 0.05 * original.sum()


# --- helpers ---------------------------------------------------------------------------------------


def test_edge_energy() -> None:
    assert sp.edge_energy(np.full((8, 8), 0.3)) == 0.0
    checkerboard = np.indices((8, 8)).sum(0) % 2.0
    assert sp.edge_energy(checkerboard) == pytest.approx(1.0)
    ramp = np.tile(np.arange(8.0), (8, 1))  # horizontal steps of 1, vertical of 0
    assert sp.edge_energy(ramp) == pytest.approx(np.sqrt(0.5))


def test_low_res_start_keeps_the_block_means() -> None:
    image = np.random.default_rng(0).uniform(size=(8, 8))
    start = sp.low_res_start(image, 4)
    np.testing.assert_allclose(start[:4, :4], image[:4, :4].mean())
    np.testing.assert_allclose(start[4:, :4], image[4:, :4].mean())
    np.testing.assert_allclose(start.mean(), image.mean())


def test_answers_are_the_original_then_shifted_redraws() -> None:
    ys = sp.answers(2, count=4)
    assert ys.shape == (4, sp.SIZE, sp.SIZE)
    np.testing.assert_array_equal(ys[0], sp.original())
    unshifted = sp.answers(0, count=4)
    for k in range(1, 4):
        np.testing.assert_array_equal(unshifted[k], sp.view(sp.scene(k)))
        assert not np.array_equal(unshifted[k], ys[0])
    assert any(not np.array_equal(a, b) for a, b in zip(ys[1:], unshifted[1:], strict=True))


# --- the average-loss objectives -------------------------------------------------------------------


@pytest.fixture(scope="module")
def objective() -> sp.AverageLoss:
    return sp.AverageLoss(sp.answers(2, count=3), depth=2)


def test_average_mse_objective_is_the_mean_squared_error_over_answers(objective: sp.AverageLoss) -> None:
    x = sp.low_res_start(sp.original())
    value, grad = objective.mse(x)
    diff = x - objective.targets
    assert value == pytest.approx((diff**2).mean(), rel=1e-13)
    np.testing.assert_allclose(grad, 2 * diff.mean(0) / x.size, rtol=1e-12, atol=1e-18)


def test_average_perceptual_objective_is_the_mean_of_evaluate_minus_the_spread(objective: sp.AverageLoss) -> None:
    x = sp.low_res_start(sp.original())
    value, grad = objective.perceptual(x)
    res = lossviz.evaluate("perceptual", x, objective.targets, depth=2)
    assert value + objective.spread == pytest.approx(res.value.mean(), rel=1e-12)
    np.testing.assert_allclose(grad, res.grad.mean(0), rtol=1e-9, atol=1e-15)
    values, grads = objective.both(np.stack([x.ravel(), x.ravel()]))
    np.testing.assert_array_equal(values, [objective.mse(x)[0], value])
    np.testing.assert_array_equal(grads[1], grad.ravel())


# --- the reconstruction ----------------------------------------------------------------------------


def test_mse_reaches_the_pixel_mean(reconstruction: sp.Reconstruction) -> None:
    images = reconstruction.images
    assert np.abs(images["MSE"] - images["pixel mean"]).max() < 0.01
    assert reconstruction.mse["MSE"] == pytest.approx(reconstruction.mse["pixel mean"], rel=1e-3)


def test_perceptual_reconstruction_is_sharp_and_the_mse_one_blurry(reconstruction: sp.Reconstruction) -> None:
    sharp = reconstruction.sharpness
    assert sharp["MSE"] < 0.4 * sharp["truth"]  # 0.055 against 0.179 at the defaults
    assert sharp["perceptual"] > 0.8 * sharp["truth"]  # 0.161
    assert sharp["perceptual"] > 2.5 * sharp["MSE"]


def test_each_result_wins_under_its_own_loss(reconstruction: sp.Reconstruction) -> None:
    mse, perceptual = reconstruction.mse, reconstruction.perceptual
    assert mse["MSE"] < mse["perceptual"] and mse["MSE"] < mse["truth"]
    assert perceptual["perceptual"] < perceptual["MSE"] and perceptual["perceptual"] < perceptual["truth"]


def test_reported_losses_are_averages_of_evaluate(reconstruction: sp.Reconstruction) -> None:
    targets = sp.answers(reconstruction.jitter)
    image = reconstruction.images["perceptual"]
    assert reconstruction.perceptual["perceptual"] == pytest.approx(
        lossviz.evaluate("perceptual", image, targets, order=0).value.mean(), rel=1e-12
    )
    assert reconstruction.mse["perceptual"] == pytest.approx(((image - targets) ** 2).mean(), rel=1e-12)


def test_history_starts_at_the_start_and_descends(reconstruction: sp.Reconstruction) -> None:
    h = reconstruction.history
    assert h.shape == (sp.STEPS.default + 1, 2)
    np.testing.assert_allclose(h[0], [reconstruction.mse["start"], reconstruction.perceptual["start"]], rtol=1e-10)
    np.testing.assert_allclose(h[-1], [reconstruction.mse["MSE"], reconstruction.perceptual["perceptual"]], rtol=1e-10)
    assert (h[-1] < 0.9 * h[0]).all()


def test_table_lists_every_image(reconstruction: sp.Reconstruction) -> None:
    table = reconstruction.table()
    assert table["image"] == list(sp.IMAGES)
    assert table["edge energy"] == [reconstruction.sharpness[name] for name in sp.IMAGES]


def test_a_longer_descent_holds_every_shorter_one_to_the_bit() -> None:
    """The page runs Adam once per (J, L) and reads each steps setting from it: the first T steps of a longer
    run must be the run of T steps (Adam's update at step t knows nothing of the run's length)."""
    path = sp.descend(1, 1, (20, 40))
    for steps in (20, 40):
        kept, alone = path.at(steps), sp.descend(1, 1, (steps,)).at(steps)
        for name in sp.IMAGES:
            np.testing.assert_array_equal(kept.images[name], alone.images[name])
        np.testing.assert_array_equal(kept.history, alone.history)
        assert kept.history.shape == (steps + 1, 2)
        assert (kept.mse, kept.perceptual, kept.sharpness) == (alone.mse, alone.perceptual, alone.sharpness)
    with pytest.raises(ValueError, match="kept"):
        path.at(30)
    with pytest.raises(ValueError, match="non-negative"):
        sp.descend(1, 1, ())


def test_checkpoints_are_every_slider_position_up_to_the_count_and_the_count_itself() -> None:
    assert sp.checkpoints(100) == (20, 40, 60, 80, 100)
    assert sp.checkpoints(37) == (20, 37)
    assert sp.checkpoints(int(sp.STEPS.high))[-1] == sp.STEPS.high
