"""The perceptual loss against φ written out again here in NumPy/SciPy, its gradient against autograd and
finite differences, and the properties of its filter bank."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.ndimage import correlate

import lossviz
from lossviz import DomainError, ParameterError
from lossviz.losses import perceptual as lp

# --- φ written independently: scipy's correlate with mode="nearest" is replicate padding ----------------


def gabor_pair(wavelength: float, theta: float, taps: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """(even, odd) Gabor filters, σ = 0.45 λ, the even one made blind to a constant, the pair scaled so that
    Σ even² + Σ odd² = 2 (the module docstring's recipe)."""
    half = taps // 2
    y, x = np.mgrid[-half : half + 1, -half : half + 1].astype(float)
    envelope = np.exp(-(x**2 + y**2) / (2 * (0.45 * wavelength) ** 2))
    u = x * math.cos(theta) + y * math.sin(theta)
    even = envelope * np.cos(2 * np.pi * u / wavelength)
    even = even - envelope * even.sum() / envelope.sum()
    odd = envelope * np.sin(2 * np.pi * u / wavelength)
    scale = np.sqrt(((even**2).sum() + (odd**2).sum()) / 2)
    return even / scale, odd / scale


def gaussian(sigma: float = 1.0) -> np.ndarray:
    t = np.arange(-2, 3)
    g = np.exp(-(t**2) / (2 * sigma**2))
    return np.outer(g, g) / g.sum() ** 2


def pool(m: np.ndarray) -> np.ndarray:
    """Blur, then the mean of each 2 × 2 block (an odd last row or column dropped)."""
    b = correlate(m, gaussian(), mode="nearest")
    h, w = (b.shape[0] // 2) * 2, (b.shape[1] // 2) * 2
    return b[:h, :w].reshape(h // 2, 2, w // 2, 2).mean((1, 3))


def phi_numpy(image: np.ndarray, depth: int) -> list[np.ndarray]:
    x = image
    levels = []
    for level in range(depth):
        if level:
            x = correlate(x, gaussian(), mode="nearest")[::2, ::2]
        maps = []
        for wavelength in (2.5, 4.0):
            for k in range(4):
                even, odd = gabor_pair(wavelength, math.pi * k / 4)
                e, o = correlate(x, even, mode="nearest"), correlate(x, odd, mode="nearest")
                maps.append(pool(np.sqrt(e**2 + o**2 + 0.01**2) - 0.01))
        if level == depth - 1:
            maps.append(pool(x))
        levels.append(np.stack(maps))
    return levels


def loss_numpy(p: np.ndarray, y: np.ndarray, depth: int) -> float:
    return sum(float(((a - b) ** 2).mean()) for a, b in zip(phi_numpy(p, depth), phi_numpy(y, depth), strict=True))


def images(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Smooth random images with edges: uniform noise plus a bright square, so φ has something to see."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, shape)
    x[..., 4:10, 5:12] += 1.0
    return x


# --- declaration -----------------------------------------------------------------------------------


def test_declaration() -> None:
    s = lossviz.spec("perceptual")
    assert s.family == "generative" and s.kind == "structured"
    assert (s.pred_event_ndim, s.target_event_ndim) == (2, 2)
    assert s.param_names == ("depth",) and s.defaults == {"depth": 3}
    assert any("Johnson" in r for r in s.references)
    assert "not VGG" in s.note


# --- φ -----------------------------------------------------------------------------------------------


def test_gabor_bank_is_the_documented_one() -> None:
    bank = lp.gabor_bank()
    assert bank.shape == (16, 9, 9)
    expected = [f for w in (2.5, 4.0) for k in range(4) for f in gabor_pair(w, math.pi * k / 4)]
    np.testing.assert_allclose(bank, np.stack(expected), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(bank[0::2].sum((-2, -1)), 0.0, atol=1e-12)  # even filters ignore a constant
    np.testing.assert_allclose(bank[1::2].sum((-2, -1)), 0.0, atol=1e-12)  # odd ones by symmetry


def test_each_filter_prefers_its_own_orientation() -> None:
    """A grating of wavelength 4 along angle θ drives the pair at θ (wavelength 4) hardest."""
    size = 33
    y, x = np.mgrid[0:size, 0:size].astype(float)
    bank = lp.gabor_bank()
    for k in range(4):
        theta = math.pi * k / 4
        grating = np.cos(2 * np.pi * (x * math.cos(theta) + y * math.sin(theta)) / 4.0)
        energies = [
            np.hypot(correlate(grating, bank[2 * i], mode="wrap"), correlate(grating, bank[2 * i + 1], mode="wrap"))[
                16, 16
            ]
            for i in range(8)
        ]
        assert int(np.argmax(energies)) == 4 + k


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("shape", [(8, 8), (16, 16), (21, 18)])
def test_features_equal_the_numpy_reference(depth: int, shape: tuple[int, int]) -> None:
    image = images(shape, 1)
    got = lp.features(torch.from_numpy(image), depth)
    want = phi_numpy(image, depth)
    assert len(got) == depth
    for level, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g.shape == w.shape == (8 + (level == depth - 1), *w.shape[1:])
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-10, atol=1e-12)


def test_features_keep_batch_axes() -> None:
    batch = images((2, 3, 16, 16), 2)
    got = lp.features(torch.from_numpy(batch), 2)
    assert [f.shape for f in got] == [(2, 3, 8, 8, 8), (2, 3, 9, 4, 4)]
    np.testing.assert_allclose(got[1][1, 2].numpy(), phi_numpy(batch[1, 2], 2)[1], rtol=1e-10, atol=1e-12)


def test_feature_distance_against_mean_features_is_the_average_loss_minus_a_constant() -> None:
    targets = torch.from_numpy(images((4, 16, 16), 3))
    x = torch.from_numpy(images((16, 16), 4))
    each = [lp.feature_distance(lp.features(x), lp.features(t)) for t in targets]
    per_target = lp.features(targets)
    mean = [f.mean(0) for f in per_target]
    spread = lp.feature_distance(per_target, mean).mean()
    np.testing.assert_allclose(float(lp.feature_distance(lp.features(x), mean) + spread), float(sum(each) / 4))


# --- values and gradients ------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_value_equals_the_numpy_reference(depth: int) -> None:
    p, y = images((3, 17, 16), 5), images((3, 17, 16), 6)
    res = lossviz.evaluate("perceptual", p, y, order=0, depth=depth)
    assert res.value.shape == (3,)
    np.testing.assert_allclose(res.value, [loss_numpy(a, b, depth) for a, b in zip(p, y, strict=True)], rtol=1e-10)


@pytest.mark.parametrize("depth", [1, 3])
def test_gradient_equals_autograd_through_phi(depth: int) -> None:
    p, y = images((2, 16, 16), 7), images((2, 16, 16), 8)
    pt = torch.from_numpy(p.copy()).requires_grad_(True)
    value = sum(
        ((a - b) ** 2).mean((-3, -2, -1))
        for a, b in zip(lp.features(pt, depth), lp.features(torch.from_numpy(y), depth), strict=True)
    )
    (grad,) = torch.autograd.grad(value.sum(), pt)
    res = lossviz.evaluate("perceptual", p, y, depth=depth)
    np.testing.assert_allclose(res.grad, grad.numpy(), rtol=1e-12, atol=1e-18)


def test_gradient_equals_finite_differences_of_the_numpy_reference() -> None:
    p, y = images((10, 12), 9), images((10, 12), 10)
    res = lossviz.evaluate("perceptual", p, y, depth=2)
    h = 1e-6
    fd = np.empty_like(p)
    for index in np.ndindex(p.shape):
        up, down = p.copy(), p.copy()
        up[index] += h
        down[index] -= h
        fd[index] = (loss_numpy(up, y, 2) - loss_numpy(down, y, 2)) / (2 * h)
    np.testing.assert_allclose(res.grad, fd, rtol=1e-5, atol=1e-9)


def test_zero_for_equal_images_positive_otherwise_and_symmetric() -> None:
    p, y = images((16, 16), 11), images((16, 16), 12)
    same = lossviz.evaluate("perceptual", p, p)
    assert same.value == 0.0 and not same.grad.any()
    forward = lossviz.evaluate("perceptual", p, y, order=0).value
    assert forward > 0
    assert lossviz.evaluate("perceptual", y, p, order=0).value == pytest.approx(forward, rel=1e-14)


def test_flat_images_have_finite_gradients() -> None:
    """The energy's ε keeps √(even² + odd²) differentiable where nothing varies."""
    flat = np.full((16, 16), 0.5)
    res = lossviz.evaluate("perceptual", flat, images((16, 16), 13))
    assert np.isfinite(res.value) and np.isfinite(res.grad).all() and res.grad.any()


def test_one_image_against_several_targets_broadcasts() -> None:
    p, targets = images((16, 16), 14), images((3, 16, 16), 15)
    batch = lossviz.evaluate("perceptual", p, targets)
    assert batch.value.shape == (3,) and batch.grad.shape == (3, 16, 16)
    for i in range(3):
        one = lossviz.evaluate("perceptual", p, targets[i])
        np.testing.assert_allclose(batch.value[i], one.value, rtol=1e-13)
        np.testing.assert_allclose(batch.grad[i], one.grad, rtol=1e-12, atol=1e-18)


# --- errors --------------------------------------------------------------------------------------------


def test_images_of_different_sizes_are_refused() -> None:
    with pytest.raises(DomainError, match=r"same image size.*\(16, 16\).*\(16, 17\)"):
        lossviz.evaluate("perceptual", np.zeros((16, 16)), np.zeros((16, 17)))


def test_too_small_images_are_refused() -> None:
    with pytest.raises(DomainError, match=r"at least 8 × 8 pixels .*; got 7 × 20"):
        lossviz.evaluate("perceptual", np.zeros((7, 20)), np.zeros((7, 20)))
    assert np.isfinite(lossviz.evaluate("perceptual", np.zeros((8, 8)), np.eye(8)).value)


@pytest.mark.parametrize("depth", [0, 4, 1.5])
def test_depth_outside_1_to_3_is_refused(depth: float) -> None:
    with pytest.raises(ParameterError, match="depth"):
        lossviz.evaluate("perceptual", np.zeros((16, 16)), np.zeros((16, 16)), depth=depth)


def test_non_finite_pixels_are_refused() -> None:
    p = np.zeros((16, 16))
    p[3, 4] = np.nan
    with pytest.raises(DomainError, match="pred of 'perceptual'"):
        lossviz.evaluate("perceptual", p, np.zeros((16, 16)))
