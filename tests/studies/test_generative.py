"""lossviz.studies.generative against formulas written out independently here (numpy), and TV denoising against
a numpy total variation, its gradient 2·Lx (L the grid Laplacian) and the exact minimiser of the
quadratic denoising objective."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from lossviz.studies import generative as gs
from lossviz.toolkit.data import IMAGE_NOISE, SEED, clean_image, noisy_image

A = np.linspace(-12.0, 12.0, 481)


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


# Generator losses against the discriminator output a, and ∂/∂a, written from the papers.
GENERATOR_FORMULAS = {
    "gan_generator_saturating": (lambda a: -softplus(a), lambda a: -expit(a)),  # log(1 − σ(a))
    "gan_generator_nonsaturating": (lambda a: softplus(-a), lambda a: -expit(-a)),  # −log σ(a)
    "lsgan_generator": (lambda a: 0.5 * (a - 1.0) ** 2, lambda a: a - 1.0),
    "wasserstein_generator": (lambda a: -a, lambda a: -np.ones_like(a)),
    "hinge_gan_generator": (lambda a: -a, lambda a: -np.ones_like(a)),
}
DISCRIMINATOR_FORMULAS = {
    ("gan_discriminator", 1.0): (lambda a: softplus(-a), lambda a: -expit(-a)),
    ("gan_discriminator", 0.0): (lambda a: softplus(a), lambda a: expit(a)),
    ("lsgan_discriminator", 1.0): (lambda a: 0.5 * (a - 1.0) ** 2, lambda a: a - 1.0),
    ("lsgan_discriminator", 0.0): (lambda a: 0.5 * a**2, lambda a: a),
    ("wasserstein_critic", 1.0): (lambda a: -a, lambda a: -np.ones_like(a)),
    ("wasserstein_critic", 0.0): (lambda a: a, lambda a: np.ones_like(a)),
    ("hinge_gan_discriminator", 1.0): (lambda a: np.maximum(0.0, 1.0 - a), lambda a: -(a < 1.0).astype(float)),
    ("hinge_gan_discriminator", 0.0): (lambda a: np.maximum(0.0, 1.0 + a), lambda a: (a > -1.0).astype(float)),
}


@pytest.mark.parametrize("name", gs.GENERATOR_LOSSES)
def test_generator_curves_on_the_logit_axis(name: str) -> None:
    value, grad = GENERATOR_FORMULAS[name]
    c = gs.curve_on_logit(name, A)
    np.testing.assert_allclose(c.value, value(A), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(c.grad, grad(A), rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(c.grad, c.grad_logit)


@pytest.mark.parametrize(("name", "target"), list(DISCRIMINATOR_FORMULAS))
def test_discriminator_curves_on_the_logit_axis(name: str, target: float) -> None:
    value, grad = DISCRIMINATOR_FORMULAS[(name, target)]
    a = A[np.abs(np.abs(A) - 1.0) > 1e-9]  # away from the hinge's kinks at ±1
    c = gs.curve_on_logit(name, a, target)
    np.testing.assert_allclose(c.value, value(a), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(c.grad, grad(a), rtol=1e-9, atol=1e-15)


def test_discriminator_curves_come_real_then_fake_for_each_loss() -> None:
    curves = gs.discriminator_curves(gs.DISCRIMINATOR_LOSSES, "logit", 6.0)
    assert [(c.name, c.target) for c in curves] == [(n, 1.0) for n in gs.DISCRIMINATOR_LOSSES] + [
        (n, 0.0) for n in gs.DISCRIMINATOR_LOSSES
    ]


def test_probability_axis_gives_the_loss_in_d_and_the_gradient_through_the_sigmoid() -> None:
    d = gs.probability_grid()
    sat, nonsat = gs.curves(["gan_generator_saturating", "gan_generator_nonsaturating"], "probability", 6.0)
    np.testing.assert_allclose(sat.value, np.log1p(-d), rtol=1e-12)
    np.testing.assert_allclose(sat.grad, -1.0 / (1.0 - d), rtol=1e-12)
    np.testing.assert_allclose(sat.grad_logit, -d, rtol=1e-12)  # Goodfellow: vanishes as D → 0
    np.testing.assert_allclose(nonsat.value, -np.log(d), rtol=1e-12)
    np.testing.assert_allclose(nonsat.grad_logit, -(1.0 - d), rtol=1e-12)  # → −1 as D → 0


def test_only_probability_losses_live_on_the_probability_axis() -> None:
    assert [n for n in gs.GENERATOR_LOSSES if gs.is_probability_loss(n)] == [
        "gan_generator_saturating",
        "gan_generator_nonsaturating",
    ]
    assert gs.plotted_losses(gs.DISCRIMINATOR_LOSSES, "probability") == ["gan_discriminator"]
    assert gs.plotted_losses(gs.GENERATOR_LOSSES, "logit") == list(gs.GENERATOR_LOSSES)
    with pytest.raises(ValueError, match="real score"):
        gs.curve_on_probability("lsgan_generator", np.array([0.5]))


def test_sigmoid_slope_is_exact_in_both_tails() -> None:
    a = np.array([-40.0, -12.0, 0.0, 12.0, 40.0])
    expected = np.exp(-np.abs(a)) / (1.0 + np.exp(-np.abs(a))) ** 2
    np.testing.assert_allclose(gs.sigmoid_slope(a), expected, rtol=1e-14)


@pytest.mark.parametrize("threshold", [0.001, 0.01, 0.05, 0.2, 0.5])
@pytest.mark.parametrize("half_width", [2.0, 6.0, 12.0])
def test_vanishing_region_on_the_logit_axis_is_a_below_logit_epsilon(threshold: float, half_width: float) -> None:
    bound = gs.saturating_vanishing_bound(threshold)
    assert bound == pytest.approx(math.log(threshold) - math.log1p(-threshold), rel=1e-15)
    intervals = gs.vanishing_intervals("logit", half_width, threshold)
    if bound <= -half_width:
        assert intervals == []
    else:
        ((lo, hi),) = intervals
        assert lo == -half_width
        step = 2 * half_width / (gs.POINTS - 1)
        # linear interpolation of σ(a) between grid points: error below step² · max|σ''| / 8 < step²
        assert hi == pytest.approx(bound, abs=step**2)


@pytest.mark.parametrize("threshold", [0.01, 0.05, 0.3])
def test_vanishing_region_on_the_probability_axis_is_d_below_epsilon(threshold: float) -> None:
    ((lo, hi),) = gs.vanishing_intervals("probability", 6.0, threshold)
    assert lo == gs.PROBABILITY_INSET
    assert hi == pytest.approx(threshold, abs=1e-12)  # |∂L/∂a| = D is linear in D: interpolation is exact


def test_below_threshold_intervals_finds_every_region_and_interpolates_the_ends() -> None:
    x = np.linspace(-3.0, 3.0, 601)
    g = x**2 - 1.0  # |g| < 0.5 where 0.5 < x² < 1.5: two intervals
    intervals = gs.below_threshold_intervals(x, g, 0.5)
    expected = [(-math.sqrt(1.5), -math.sqrt(0.5)), (math.sqrt(0.5), math.sqrt(1.5))]
    assert len(intervals) == 2
    for (lo, hi), (elo, ehi) in zip(intervals, expected, strict=True):
        assert lo == pytest.approx(elo, abs=1e-4)
        assert hi == pytest.approx(ehi, abs=1e-4)
    assert gs.below_threshold_intervals(x, np.full_like(x, 2.0), 1.0) == []
    assert gs.below_threshold_intervals(x, np.zeros_like(x), 1.0) == [(-3.0, 3.0)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=2, max_size=40), st.floats(0.01, 4.0))
def test_below_threshold_intervals_cover_exactly_the_points_below(values: list[float], threshold: float) -> None:
    x = np.arange(len(values), dtype=float)
    g = np.array(values)
    intervals = gs.below_threshold_intervals(x, g, threshold)
    closed = np.zeros(len(x), dtype=bool)
    open_ = np.zeros(len(x), dtype=bool)
    for lo, hi in intervals:
        assert lo <= hi
        closed |= (x >= lo) & (x <= hi)
        open_ |= (x > lo) & (x < hi)
    assert closed[np.abs(g) < threshold].all()  # every point below is covered
    assert not open_[np.abs(g) > threshold].any()  # no point above is inside (ends may touch |g| = threshold)


# ---------------------------------------------------------------------------------------------
# Total variation and denoising
# ---------------------------------------------------------------------------------------------


def numpy_tv(x: np.ndarray) -> np.ndarray:
    return (np.diff(x, axis=-1) ** 2).sum(axis=(-2, -1)) + (np.diff(x, axis=-2) ** 2).sum(axis=(-2, -1))


def numpy_tv_grad(x: np.ndarray) -> np.ndarray:
    """2 Σ over the 4-neighbours present of (x − neighbour): the gradient of Σ squared differences."""
    g = np.zeros_like(x)
    dh = np.diff(x, axis=-1)
    dv = np.diff(x, axis=-2)
    g[..., :, :-1] -= 2 * dh
    g[..., :, 1:] += 2 * dh
    g[..., :-1, :] -= 2 * dv
    g[..., 1:, :] += 2 * dv
    return g


def laplacian_matrix(h: int, w: int) -> np.ndarray:
    """DᵀD of the grid graph (Neumann boundary) as a dense (hw × hw) matrix."""
    n = h * w
    lap = np.zeros((n, n))
    for i in range(h):
        for j in range(w):
            for di, dj in ((0, 1), (1, 0)):
                if i + di < h and j + dj < w:
                    a, b = i * w + j, (i + di) * w + (j + dj)
                    lap[a, a] += 1
                    lap[b, b] += 1
                    lap[a, b] -= 1
                    lap[b, a] -= 1
    return lap


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 9), st.integers(2, 9))
def test_tv_value_and_gradient_match_numpy(seed: int, h: int, w: int) -> None:
    x = np.random.default_rng(seed).normal(size=(3, h, w))
    value, grad = gs.tv_value_and_grad(x)
    np.testing.assert_allclose(value, numpy_tv(x), rtol=1e-13)
    np.testing.assert_allclose(grad, numpy_tv_grad(x), rtol=1e-12, atol=1e-13)


def test_tv_lipschitz_bound_covers_the_largest_curvature() -> None:
    lap = laplacian_matrix(12, 12)
    largest = np.linalg.eigvalsh(2 * lap).max()  # Hessian of TV = 2 DᵀD
    assert largest < gs.TV_LIPSCHITZ
    assert largest > 0.9 * gs.TV_LIPSCHITZ  # and the bound is not loose


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 1000), st.floats(0.0, 0.5), st.sampled_from([0.01, 0.2, 1.0, 10.0]))
def test_every_denoising_step_lowers_the_objective(seed: int, noise: float, weight: float) -> None:
    clean = clean_image(10)
    noisy = noisy_image(clean, noise, seed)
    energies = [gs.energy(gs.denoise(noisy, [weight], k)[0], noisy, weight) for k in range(6)]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(energies))


@pytest.mark.parametrize("weight", [0.05, 0.3])
def test_denoising_converges_to_the_exact_minimiser(weight: float) -> None:
    """E is quadratic: its minimiser solves (I + 2λ DᵀD) x = y."""
    h = w = 8
    noisy = noisy_image(clean_image(h), 0.2, 3)
    exact = np.linalg.solve(np.eye(h * w) + 2 * weight * laplacian_matrix(h, w), noisy.ravel()).reshape(h, w)
    (x,) = gs.denoise(noisy, [weight], 400)
    np.testing.assert_allclose(x, exact, atol=1e-10)


def test_denoising_batches_the_weights_independently() -> None:
    noisy = noisy_image(clean_image(12), 0.1, 1)
    together = gs.denoise(noisy, [0.1, 1.0, 5.0], 7)
    for i, weight in enumerate([0.1, 1.0, 5.0]):
        np.testing.assert_allclose(together[i], gs.denoise(noisy, [weight], 7)[0], rtol=0, atol=0)


def test_zero_steps_return_the_noisy_image() -> None:
    noisy = noisy_image(clean_image(), 0.15, 0)
    np.testing.assert_array_equal(gs.denoise(noisy, [1.0], 0)[0], noisy)


def test_psnr() -> None:
    ref = np.zeros((4, 4))
    assert float(gs.psnr(ref + 0.1, ref)) == pytest.approx(20.0, rel=1e-12)  # MSE 0.01 → 20 dB
    assert float(gs.psnr(ref, ref)) == math.inf


def test_tv_study_numbers_match_numpy() -> None:
    weights = [0.1, 0.2, 1.0]
    study = gs.tv_study(0.15, 0, 5, weights)
    clean = clean_image()
    noisy = clean + 0.15 * np.random.default_rng(0).standard_normal(clean.shape)
    assert study.tv_clean == pytest.approx(float(numpy_tv(clean)), rel=1e-13)
    assert study.tv_noisy == pytest.approx(float(numpy_tv(noisy)), rel=1e-13)
    x = np.stack([noisy] * 3)
    w = np.array(weights)[:, None, None]
    for _ in range(5):  # the same steps, with numpy's gradient
        x = x - ((x - noisy) + w * numpy_tv_grad(x)) / (1 + 16 * w)
    np.testing.assert_allclose(study.denoised, x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(study.tv_denoised, numpy_tv(x), rtol=1e-12)
    mse = ((x - clean) ** 2).mean(axis=(1, 2))
    np.testing.assert_allclose(study.psnr_denoised, -10 * np.log10(mse), rtol=1e-12)
    assert study.index(0.21) == 1 and study.index(100.0) == 2
    noisy_mse = ((noisy - clean) ** 2).mean()
    for i in range(3):  # the gain in dB is 10·log₁₀ of the ratio of the errors
        assert study.psnr_gain(i) == pytest.approx(10 * np.log10(noisy_mse / mse[i]), rel=1e-12)


def test_page_settings_are_valid_params() -> None:
    for param in (gs.LOGIT_RANGE, gs.VANISH, IMAGE_NOISE, SEED, gs.TV_WEIGHT, gs.STEPS):
        lo, hi = param.slider_range
        assert param.contains(lo) and param.contains(hi) and lo <= param.default <= hi
