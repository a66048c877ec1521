"""Segmentation losses (lossviz/losses/segmentation.py).

Dice, Jaccard and Tversky are compared with the papers' formulas written out here in NumPy, values
and hand-derived gradients; pixel-wise cross-entropy with torch.nn.functional.cross_entropy. Then
empty and full masks, the 0/0 of smooth = 0, finite differences, hypothesis identities between the
three overlaps, broadcasting and bad inputs.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lossviz
from lossviz.errors import DomainError, ParameterError

RNG = np.random.default_rng(20262)
FD_STEP = 1e-6
SMOOTHS = (0.0, 1e-3, 1.0, 7.5)
OVERLAPS = ("dice", "jaccard", "tversky")


@pytest.fixture(autouse=True)
def _fresh_rng(request: pytest.FixtureRequest) -> None:
    """Each test draws its own reproducible numbers, whatever runs before it."""
    global RNG
    RNG = np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


# ---------------------------------------------------------------- the papers' formulas


def dice_numpy(p: np.ndarray, g: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """Milletari et al. 2016 (linear form): L = 1 − N/D, N = 2Σpg + s, D = Σp + Σg + s.

    dL/dp = −(2g·D − N)/D².
    """
    n = 2 * (p * g).sum((-2, -1)) + s
    d = p.sum((-2, -1)) + g.sum((-2, -1)) + s
    n_, d_ = n[..., None, None], d[..., None, None]
    return 1 - n / d, -(2 * g * d_ - n_) / d_**2


def jaccard_numpy(p: np.ndarray, g: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """Soft IoU: L = 1 − N/D, N = Σpg + s, D = Σp + Σg − Σpg + s.

    dN/dp = g, dD/dp = 1 − g, so dL/dp = −(g·D − N·(1 − g))/D².
    """
    tp = (p * g).sum((-2, -1))
    n = tp + s
    d = p.sum((-2, -1)) + g.sum((-2, -1)) - tp + s
    n_, d_ = n[..., None, None], d[..., None, None]
    return 1 - n / d, -(g * d_ - n_ * (1 - g)) / d_**2


def tversky_numpy(p: np.ndarray, g: np.ndarray, alpha: float, beta: float, s: float) -> tuple[np.ndarray, np.ndarray]:
    """Salehi et al. 2017: L = 1 − (TP + s)/(TP + α·FP + β·FN + s), α on FP = Σp(1−g), β on FN = Σ(1−p)g.

    dN/dp = g, dD/dp = g + α(1 − g) − βg, so dL/dp = −(g·D − N·dD/dp)/D².
    """
    tp = (p * g).sum((-2, -1))
    fp = (p * (1 - g)).sum((-2, -1))
    fn = ((1 - p) * g).sum((-2, -1))
    n = tp + s
    d = tp + alpha * fp + beta * fn + s
    n_, d_ = n[..., None, None], d[..., None, None]
    return 1 - n / d, -(g * d_ - n_ * (g + alpha * (1 - g) - beta * g)) / d_**2


def reference(name: str, p: np.ndarray, g: np.ndarray, smooth: float, **ab: float) -> tuple[np.ndarray, np.ndarray]:
    if name == "dice":
        return dice_numpy(p, g, smooth)
    if name == "jaccard":
        return jaccard_numpy(p, g, smooth)
    return tversky_numpy(p, g, ab.get("alpha", 0.5), ab.get("beta", 0.5), smooth)


def random_masks(shape: tuple[int, ...], hard: bool) -> tuple[np.ndarray, np.ndarray]:
    p = RNG.random(shape)
    g = (RNG.random(shape) < 0.3).astype(float) if hard else RNG.random(shape)
    return p, g


def structured_fd_grad(name: str, pred: np.ndarray, target: np.ndarray, **params: float) -> np.ndarray:
    """Central differences of Σ value, one pred element at a time."""
    grad = np.empty_like(pred)
    for i in np.ndindex(pred.shape):
        up, down = pred.copy(), pred.copy()
        up[i] += FD_STEP
        down[i] -= FD_STEP
        f_up = lossviz.evaluate(name, up, target, order=0, **params).value.sum()
        f_down = lossviz.evaluate(name, down, target, order=0, **params).value.sum()
        grad[i] = (f_up - f_down) / (2 * FD_STEP)
    return grad


# ---------------------------------------------------------------- dice, jaccard, tversky


@pytest.mark.parametrize("name", OVERLAPS)
@pytest.mark.parametrize("smooth", SMOOTHS)
@pytest.mark.parametrize("hard", [True, False])
def test_overlaps_match_the_papers(name: str, smooth: float, hard: bool) -> None:
    p, g = random_masks((6, 5, 7), hard)
    value, grad = reference(name, p, g, smooth)
    res = lossviz.evaluate(name, p, g, smooth=smooth)
    np.testing.assert_allclose(res.value, value, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("alpha", "beta"), [(0.0, 1.0), (1.0, 0.0), (0.3, 0.7), (0.7, 0.3), (2.0, 5.0), (1.0, 1.0)])
@pytest.mark.parametrize("smooth", SMOOTHS)
def test_tversky_matches_the_paper_for_any_weights(alpha: float, beta: float, smooth: float) -> None:
    p, g = random_masks((4, 6, 6), hard=False)
    value, grad = tversky_numpy(p, g, alpha, beta, smooth)
    res = lossviz.evaluate("tversky", p, g, alpha=alpha, beta=beta, smooth=smooth)
    np.testing.assert_allclose(res.value, value, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-12, atol=1e-15)


def test_tversky_alpha_weighs_false_positives_and_beta_false_negatives() -> None:
    # Predicting everything covers the mask: no false negatives, only false positives.
    g = np.zeros((4, 4))
    g[:2] = 1.0
    p = np.ones((4, 4))
    fp_only = lossviz.evaluate("tversky", p, g, alpha=1.0, beta=0.0, smooth=0.0).value
    fn_only = lossviz.evaluate("tversky", p, g, alpha=0.0, beta=1.0, smooth=0.0).value
    assert fp_only == pytest.approx(1 - 8 / (8 + 8), abs=1e-15)
    assert fn_only == 0.0


@pytest.mark.parametrize("name", OVERLAPS)
@pytest.mark.parametrize("smooth", [0.5, 1.0, 3.0])
def test_an_empty_prediction_on_an_empty_mask_costs_nothing_when_smooth(name: str, smooth: float) -> None:
    zeros = np.zeros((3, 4))
    res = lossviz.evaluate(name, zeros, zeros, smooth=smooth)
    assert res.value == 0.0
    _, grad = reference(name, zeros, zeros, smooth)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-15)
    assert (res.grad > 0).all()  # any predicted pixel now is a false positive


@pytest.mark.parametrize("name", OVERLAPS)
@pytest.mark.parametrize("smooth", SMOOTHS)
def test_a_perfect_full_mask_costs_nothing(name: str, smooth: float) -> None:
    ones = np.ones((3, 4))
    res = lossviz.evaluate(name, ones, ones, smooth=smooth)
    assert res.value == 0.0
    _, grad = reference(name, ones, ones, smooth)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-14, atol=1e-17)


@pytest.mark.parametrize("name", OVERLAPS)
def test_disjoint_masks_cost_one_without_smoothing(name: str) -> None:
    p, g = np.zeros((2, 2)), np.zeros((2, 2))
    p[0, 0], g[1, 1] = 1.0, 1.0
    assert lossviz.evaluate(name, p, g, smooth=0.0).value == 1.0
    assert lossviz.evaluate(name, p, np.zeros((2, 2)), smooth=0.0).value == 1.0  # empty mask, something predicted


@pytest.mark.parametrize("name", OVERLAPS)
def test_smooth_zero_on_empty_masks_raises_instead_of_nan(name: str) -> None:
    zeros = np.zeros((3, 4))
    with pytest.raises(DomainError, match=rf"'{name}' is undefined \(0/0\): pred and target are both empty .* use smooth > 0"):
        lossviz.evaluate(name, zeros, zeros, smooth=0.0)
    batch = np.stack([np.ones((3, 4)), zeros])
    with pytest.raises(DomainError, match=r"for the image at batch index \(1,\)"):
        lossviz.evaluate(name, batch, zeros, smooth=0.0)


def test_tversky_without_weights_is_undefined_where_there_is_no_overlap() -> None:
    p, g = np.zeros((2, 2)), np.zeros((2, 2))
    p[0, 0] = 1.0
    with pytest.raises(DomainError, match=r"TP = 0 and α·FP \+ β·FN = 0 \(α = 0, β = 0.5\) and smooth = 0"):
        lossviz.evaluate("tversky", p, g, alpha=0.0, smooth=0.0)
    assert lossviz.evaluate("tversky", p, g, alpha=0.0, smooth=1.0).value == 0.0


@pytest.mark.parametrize("name", OVERLAPS)
def test_overlap_gradients_match_finite_differences(name: str) -> None:
    p = 0.02 + 0.96 * RNG.random((2, 3, 4))
    g = RNG.random((3, 4))
    for smooth in (0.0, 1.0):
        res = lossviz.evaluate(name, p, g, smooth=smooth)
        fd = structured_fd_grad(name, p, g, smooth=smooth)
        np.testing.assert_allclose(res.grad, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", OVERLAPS)
def test_overlap_grid_broadcasting_equals_a_loop(name: str) -> None:
    p = RNG.random((5, 3, 4))
    g = (RNG.random((2, 1, 3, 4)) < 0.5).astype(float)
    res = lossviz.evaluate(name, p, g, smooth=0.5)
    assert res.value.shape == (2, 5) and res.grad.shape == (2, 5, 3, 4)
    for k, b in np.ndindex(2, 5):
        one = lossviz.evaluate(name, p[b], g[k, 0], smooth=0.5)
        assert res.value[k, b] == one.value
        np.testing.assert_array_equal(res.grad[k, b], one.grad)


@pytest.mark.parametrize("name", OVERLAPS)
def test_overlaps_reject_masks_of_another_size(name: str) -> None:
    with pytest.raises(
        DomainError,
        match=r"same image size \(H, W\); got \(4, 5\) \(pred of shape \(2, 4, 5\)\) and \(4, 6\) \(target of shape \(2, 4, 6\)\)",
    ):
        lossviz.evaluate(name, np.zeros((2, 4, 5)), np.zeros((4, 6)))


@pytest.mark.parametrize("name", OVERLAPS)
def test_overlaps_want_probabilities_and_masks_in_the_unit_interval(name: str) -> None:
    with pytest.raises(DomainError, match=rf"pred of '{name}' must be probability in \[0, 1\]"):
        lossviz.evaluate(name, np.full((2, 2), 1.5), np.zeros((2, 2)))
    with pytest.raises(DomainError, match=rf"target of '{name}' must be mask value in \[0, 1\]"):
        lossviz.evaluate(name, np.zeros((2, 2)), np.full((2, 2), -0.5))
    with pytest.raises(DomainError, match=rf"pred of '{name}' must have at least 2 trailing axes"):
        lossviz.evaluate(name, [0.5, 0.5], [[1.0, 0.0]])
    with pytest.raises(ParameterError, match="'smooth'"):
        lossviz.evaluate(name, np.zeros((2, 2)), np.zeros((2, 2)), smooth=-1.0)


# ---------------------------------------------------------------- identities (hypothesis)

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
masks = arrays(np.float64, (3, 4), elements=unit)
hard_masks = arrays(np.float64, (3, 4), elements=st.sampled_from([0.0, 1.0]))
smooth = st.sampled_from([0.0, 1e-6, 0.5, 1.0, 10.0])


@settings(max_examples=150, deadline=None)
@given(p=masks, g=st.one_of(masks, hard_masks), s=smooth)
def test_tversky_with_halves_is_dice_with_smooth_doubled(p: np.ndarray, g: np.ndarray, s: float) -> None:
    """TP + ½FP + ½FN = TP + ½(Σp − TP) + ½(Σg − TP) = ½(Σp + Σg), so

    (TP + s) / (½(Σp + Σg) + s) = (2TP + 2s) / (Σp + Σg + 2s): Dice with smooth 2s.
    At s = 0 both are the same function (2·0 = 0).
    """
    assume(s > 0 or p.any() or g.any())
    t = lossviz.evaluate("tversky", p, g, alpha=0.5, beta=0.5, smooth=s)
    d = lossviz.evaluate("dice", p, g, smooth=2 * s)
    np.testing.assert_allclose(t.value, d.value, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t.grad, d.grad, rtol=1e-10, atol=1e-12 * (1 + np.abs(d.grad).max()))


@settings(max_examples=150, deadline=None)
@given(p=masks, g=st.one_of(masks, hard_masks), s=smooth)
def test_tversky_with_ones_is_jaccard(p: np.ndarray, g: np.ndarray, s: float) -> None:
    """TP + FP + FN = TP + (Σp − TP) + (Σg − TP) = Σp + Σg − TP, Jaccard's denominator."""
    assume(s > 0 or p.any() or g.any())
    t = lossviz.evaluate("tversky", p, g, alpha=1.0, beta=1.0, smooth=s)
    j = lossviz.evaluate("jaccard", p, g, smooth=s)
    np.testing.assert_allclose(t.value, j.value, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t.grad, j.grad, rtol=1e-10, atol=1e-12 * (1 + np.abs(j.grad).max()))


@settings(max_examples=150, deadline=None)
@given(p=masks, g=st.one_of(masks, hard_masks))
def test_jaccard_and_dice_scores_are_tied_without_smoothing(p: np.ndarray, g: np.ndarray) -> None:
    """With S = Σp + Σg: D = 2TP/S and J = TP/(S − TP), so J = D/(2 − D), soft masks included."""
    assume(p.any() or g.any())
    d = 1 - lossviz.evaluate("dice", p, g, smooth=0.0).value
    j = 1 - lossviz.evaluate("jaccard", p, g, smooth=0.0).value
    np.testing.assert_allclose(j, d / (2 - d), rtol=1e-12, atol=1e-14)
    assert 0.0 <= j <= d <= 1.0 + 1e-15


# ---------------------------------------------------------------- pixel-wise cross-entropy


def cross_entropy_torch(logits: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = torch.tensor(logits, requires_grad=True)
    value = F.cross_entropy(z, torch.tensor(target, dtype=torch.long), reduction="none").mean((-2, -1))
    (grad,) = torch.autograd.grad(value.sum(), z)
    return value.detach().numpy(), grad.numpy()


@pytest.mark.parametrize("classes", [1, 2, 5])
@pytest.mark.parametrize("spread", [1.0, 30.0])
def test_pixel_cross_entropy_matches_torch(classes: int, spread: float) -> None:
    logits, target = RNG.normal(0, spread, (4, classes, 3, 5)), RNG.integers(0, classes, (4, 3, 5))
    value, grad = cross_entropy_torch(logits, target)
    res = lossviz.evaluate("pixel_cross_entropy", logits, target)
    np.testing.assert_allclose(res.value, value, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-14, atol=1e-300)


def test_pixel_cross_entropy_is_exact_and_finite_at_huge_logits() -> None:
    logits = np.zeros((1, 3, 2, 2))
    logits[0, 0] = [[800.0, -800.0], [80.0, 0.0]]
    target = np.array([[[0, 0], [1, 2]]])
    value, grad = cross_entropy_torch(logits, target)
    res = lossviz.evaluate("pixel_cross_entropy", logits, target)
    np.testing.assert_array_equal(res.value, value)
    np.testing.assert_array_equal(res.grad, grad)
    # Pixel by pixel: 0, 800 + log 2, 80 + log(1 + e⁻⁸⁰), log 3, averaged over the 4 pixels.
    expected = (0.0 + (800 + np.log(2)) + (80 + np.log1p(2 * np.exp(-80)) - np.log(1)) + np.log(3)) / 4
    np.testing.assert_allclose(res.value, [expected], rtol=1e-15)
    assert np.isfinite(res.grad).all()


def test_pixel_cross_entropy_gradient_matches_finite_differences_and_broadcasts() -> None:
    logits, target = RNG.normal(0, 2, (3, 2, 3)), RNG.integers(0, 3, (4, 2, 3))
    res = lossviz.evaluate("pixel_cross_entropy", logits, target)
    assert res.value.shape == (4,) and res.grad.shape == (4, 3, 2, 3)
    for b in range(4):
        one = lossviz.evaluate("pixel_cross_entropy", logits, target[b])
        assert res.value[b] == one.value
        np.testing.assert_array_equal(res.grad[b], one.grad)
    fd = structured_fd_grad("pixel_cross_entropy", logits, target[0])
    np.testing.assert_allclose(lossviz.evaluate("pixel_cross_entropy", logits, target[0]).grad, fd, rtol=1e-6, atol=1e-8)


def test_pixel_cross_entropy_rejects_bad_targets() -> None:
    logits = np.zeros((3, 2, 2))
    with pytest.raises(DomainError, match=r"same image size \(H, W\); got \(2, 2\) .* and \(2, 3\)"):
        lossviz.evaluate("pixel_cross_entropy", logits, np.zeros((2, 3)))
    with pytest.raises(DomainError, match=r"class index in 0..2 \(pred has 3 class logits on axis -3\); got 3 at index \(1, 0\)"):
        lossviz.evaluate("pixel_cross_entropy", logits, [[0, 1], [3, 0]])
    with pytest.raises(DomainError, match="target of 'pixel_cross_entropy' must be class index"):
        lossviz.evaluate("pixel_cross_entropy", logits, [[0, 1], [0.5, 0]])
    with pytest.raises(DomainError, match="pred of 'pixel_cross_entropy' must have at least 3 trailing axes"):
        lossviz.evaluate("pixel_cross_entropy", np.zeros((2, 2)), np.zeros((2, 2)))


# ---------------------------------------------------------------- the family


def test_the_family_is_declared() -> None:
    assert lossviz.names("segmentation") == ["dice", "jaccard", "pixel_cross_entropy", "tversky"]
    for name in lossviz.names("segmentation"):
        s = lossviz.spec(name)
        assert s.kind == "structured" and s.references and s.latex and s.use_when
    assert lossviz.spec("tversky").defaults == {"alpha": 0.5, "beta": 0.5, "smooth": 1.0}
    assert lossviz.spec("tversky").param("alpha").slider_range == (0.0, 1.0)
