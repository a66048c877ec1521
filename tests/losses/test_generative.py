"""GAN losses and total variation against torch references and formulas written out independently here."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lossviz
from lossviz import DomainError

RefFn = Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]

# Independent formulas, straight from the papers (no clamping: used away from D = 0, 1).
REFERENCES: dict[str, RefFn] = {
    "gan_generator_saturating": lambda d, y: torch.log(1 - d),
    "gan_generator_nonsaturating": lambda d, y: -torch.log(d),
    "gan_discriminator": lambda d, y: -(y * torch.log(d) + (1 - y) * torch.log(1 - d)),
    "lsgan_generator": lambda d, y: (d - 1) ** 2 / 2,
    "lsgan_discriminator": lambda d, y: (d - y) ** 2 / 2,
    "wasserstein_generator": lambda d, y: -d,
    "wasserstein_critic": lambda d, y: torch.where(y == 1, -d, d),
    "hinge_gan_generator": lambda d, y: -d,
    "hinge_gan_discriminator": lambda d, y: torch.where(y == 1, torch.clamp(1 - d, min=0), torch.clamp(1 + d, min=0)),
}
POINTWISE = sorted(REFERENCES)
PROBABILITY_LOSSES = ["gan_discriminator", "gan_generator_nonsaturating", "gan_generator_saturating"]


def _inputs(name: str, n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """Random D (probabilities in [0.02, 0.98], or scores in [−3, 3] kept 1e-3 off the hinge kinks) and labels."""
    rng = np.random.default_rng(seed)
    s = lossviz.spec(name)
    if name in PROBABILITY_LOSSES:
        d = rng.uniform(0.02, 0.98, n)
    else:
        d = rng.uniform(-3.0, 3.0, n)
        near_kink = np.abs(np.abs(d) - 1.0) < 1e-3
        d[near_kink] += 0.01
    y = rng.integers(0, 2, n).astype(np.float64) if s.has_target else None
    return d, y


def _reference(name: str, d: np.ndarray, y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value, gradient and second derivative of the reference formula by autograd."""
    dt = torch.tensor(d, requires_grad=True)
    yt = None if y is None else torch.tensor(y)
    value = REFERENCES[name](dt, yt)
    (grad,) = torch.autograd.grad(value.sum(), dt, create_graph=True)
    curvature = torch.autograd.grad(grad.sum(), dt)[0] if grad.requires_grad else torch.zeros_like(dt)
    return value.detach().numpy(), grad.detach().numpy(), curvature.numpy()


def _value(name: str, d: np.ndarray, y: np.ndarray | None) -> np.ndarray:
    return lossviz.evaluate(name, d, y, order=0).value


def test_family_has_exactly_the_declared_losses() -> None:
    assert set(lossviz.names("generative")) == {*POINTWISE, "total_variation", "perceptual"}
    for name in POINTWISE:
        s = lossviz.spec(name)
        assert s.pointwise and s.family == "generative" and s.references
    assert lossviz.spec("total_variation").kind == "structured"
    assert lossviz.spec("total_variation").pred_event_ndim == 2


@pytest.mark.parametrize("name", POINTWISE)
def test_value_gradient_curvature_match_reference(name: str) -> None:
    d, y = _inputs(name)
    res = lossviz.evaluate(name, d, y, order=2)
    value, grad, curvature = _reference(name, d, y)
    np.testing.assert_allclose(res.value, value, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(res.curvature, curvature, rtol=1e-13, atol=1e-15)


def test_discriminator_matches_binary_cross_entropy() -> None:
    """Values and gradients against ``F.binary_cross_entropy`` (its double backward is only good to ~1e-10,
    so curvature is checked against the written-out formula above instead)."""
    d, y = _inputs("gan_discriminator", seed=4)
    res = lossviz.evaluate("gan_discriminator", d, y)
    dt = torch.tensor(d, requires_grad=True)
    ref = F.binary_cross_entropy(dt, torch.tensor(y), reduction="none")
    ref.sum().backward()
    np.testing.assert_allclose(res.value, ref.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(res.grad, dt.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("name", POINTWISE)
def test_gradient_and_curvature_match_finite_differences(name: str) -> None:
    d, y = _inputs(name, n=200, seed=1)
    h = 1e-6
    res = lossviz.evaluate(name, d, y, order=2)
    fd_grad = (_value(name, d + h, y) - _value(name, d - h, y)) / (2 * h)
    np.testing.assert_allclose(res.grad, fd_grad, rtol=1e-6, atol=1e-8)
    grad_plus = lossviz.evaluate(name, d + h, y).grad
    grad_minus = lossviz.evaluate(name, d - h, y).grad
    np.testing.assert_allclose(res.curvature, (grad_plus - grad_minus) / (2 * h), rtol=1e-6, atol=1e-7)


def test_saturating_generator_at_the_ends_of_the_unit_interval() -> None:
    res = lossviz.evaluate("gan_generator_saturating", [0.0, 1.0], order=2)
    assert res.value.tolist() == [0.0, -100.0]  # log 1 and the BCE clamp of log 0
    assert res.grad.tolist() == [-1.0, -1e12]  # −1/(1 − D), then −1/max(0, 1e-12)
    assert np.isfinite(res.curvature).all()
    assert res.curvature[0] == -1.0


def test_nonsaturating_generator_at_the_ends_of_the_unit_interval() -> None:
    res = lossviz.evaluate("gan_generator_nonsaturating", [0.0, 1.0], order=2)
    assert res.value.tolist() == [100.0, 0.0]
    assert res.grad.tolist() == [-1e12, -1.0]
    assert np.isfinite(res.curvature).all()
    assert res.curvature[1] == 1.0


def test_discriminator_at_the_clamp_matches_binary_cross_entropy() -> None:
    d = np.array([0.0, 1.0, 0.0, 1.0])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    res = lossviz.evaluate("gan_discriminator", d, y, order=2)
    dt = torch.tensor(d, requires_grad=True)
    ref = F.binary_cross_entropy(dt, torch.tensor(y), reduction="none")
    ref.sum().backward()
    np.testing.assert_array_equal(res.value, ref.detach().numpy())  # 100, 100, 0, 0
    # Where the log is clamped both give ±1/1e-12 (torch's 1e-12 is a float32 constant, hence rtol 1e-8);
    # at D = y lossviz keeps the true derivative, where torch's (D − y)/max(D(1 − D), 1e-12) reads 0.
    assert res.grad[:2].tolist() == [-1e12, 1e12]
    np.testing.assert_allclose(res.grad[:2], dt.grad.numpy()[:2], rtol=1e-8)
    assert res.grad[2:].tolist() == [1.0, -1.0]
    assert np.isfinite(res.curvature).all()


def test_goodfellow_saturation_argument() -> None:
    """Early in training D(G(z)) ≈ 0: the saturating gradient is ≈ −1, the non-saturating one ≈ −1/D."""
    d = np.array([1e-6, 1e-3, 1e-2])
    saturating = lossviz.evaluate("gan_generator_saturating", d).grad
    nonsaturating = lossviz.evaluate("gan_generator_nonsaturating", d).grad
    np.testing.assert_allclose(saturating, -1 / (1 - d), rtol=1e-14)
    np.testing.assert_allclose(nonsaturating, -1 / d, rtol=1e-14)
    # The non-saturating pull is (1 − D)/D times stronger: 99× at D = 0.01, a million at D = 1e-6.
    np.testing.assert_allclose(nonsaturating / saturating, (1 - d) / d, rtol=1e-14)
    assert "−1" in lossviz.spec("gan_generator_saturating").note
    assert "D(G(z)) ≈ 0" in lossviz.spec("gan_generator_saturating").use_when


@pytest.mark.parametrize(("label", "kink"), [(1.0, 1.0), (0.0, -1.0)])
def test_hinge_discriminator_kink(label: float, kink: float) -> None:
    s = lossviz.spec("hinge_gan_discriminator")
    assert s.kink_points(label) == ((kink, 1),)
    res = lossviz.evaluate(s.name, [kink - 1e-9, kink, kink + 1e-9], label, order=2)
    np.testing.assert_allclose(res.value, [1e-9 if label else 0.0, 0.0, 0.0 if label else 1e-9], atol=1e-15)
    outside = -1.0 if label else 1.0  # the slope on the active side of the hinge
    assert res.grad.tolist() == ([outside, 0.0, 0.0] if label else [0.0, 0.0, outside])
    assert res.curvature.tolist() == [0.0, 0.0, 0.0]


def test_hinge_kinks_without_a_target_lists_both() -> None:
    assert lossviz.spec("hinge_gan_discriminator").kink_points(None) == ((-1.0, 1), (1.0, 1))


@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 1.0))
def test_discriminator_is_the_generator_loss_of_each_label(d: float) -> None:
    """BCE at y = 1 is −log D (non-saturating); at y = 0 it is −log(1 − D), minus the saturating loss."""
    real = lossviz.evaluate("gan_discriminator", d, 1.0)
    fake = lossviz.evaluate("gan_discriminator", d, 0.0)
    nonsaturating = lossviz.evaluate("gan_generator_nonsaturating", d)
    saturating = lossviz.evaluate("gan_generator_saturating", d)
    assert real.value == nonsaturating.value and real.grad == nonsaturating.grad
    assert fake.value == -saturating.value and fake.grad == -saturating.grad


@settings(max_examples=50, deadline=None)
@given(st.floats(-1e6, 1e6))
def test_score_losses_agree_where_the_papers_agree(d: float) -> None:
    ev = lossviz.evaluate
    assert ev("lsgan_discriminator", d, 1.0).value == ev("lsgan_generator", d).value
    assert ev("wasserstein_critic", d, 1.0).value == ev("wasserstein_generator", d).value
    assert ev("wasserstein_critic", d, 0.0).value == -ev("wasserstein_generator", d).value
    assert ev("hinge_gan_generator", d).value == ev("wasserstein_generator", d).value
    assert ev("hinge_gan_discriminator", d, 1.0).value >= 0.0


@pytest.mark.parametrize("name", [n for n in POINTWISE if lossviz.spec(n).has_target])
def test_grid_broadcasting_equals_a_loop(name: str) -> None:
    d = np.linspace(0.0, 1.0, 11) if name in PROBABILITY_LOSSES else np.linspace(-3.0, 3.0, 13)
    y = np.array([0.0, 1.0])
    grid = lossviz.evaluate(name, d[None, :], y[:, None], order=2)
    assert grid.value.shape == grid.grad.shape == grid.curvature.shape == (2, d.size)
    for i, label in enumerate(y):
        row = [lossviz.evaluate(name, float(x), float(label), order=2) for x in d]
        np.testing.assert_array_equal(grid.value[i], [r.value for r in row])
        np.testing.assert_array_equal(grid.grad[i], [r.grad for r in row])
        np.testing.assert_array_equal(grid.curvature[i], [r.curvature for r in row])


@pytest.mark.parametrize("name", PROBABILITY_LOSSES)
@pytest.mark.parametrize("bad", [-0.1, 1.5, np.nan, np.inf])
def test_probability_outside_the_unit_interval_is_rejected(name: str, bad: float) -> None:
    target = 1.0 if lossviz.spec(name).has_target else None
    with pytest.raises(DomainError, match=r"pred of '\w+' must be probability in \[0, 1\]"):
        lossviz.evaluate(name, [0.5, bad], target)


@pytest.mark.parametrize(
    "name", ["gan_discriminator", "lsgan_discriminator", "wasserstein_critic", "hinge_gan_discriminator"]
)
def test_labels_other_than_real_and_fake_are_rejected(name: str) -> None:
    with pytest.raises(DomainError, match=r"target of '\w+' must be label \(one of 0, 1\); got (np\.float64\()?0\.5"):
        lossviz.evaluate(name, 0.5, [1.0, 0.5])
    with pytest.raises(DomainError, match="needs a target"):
        lossviz.evaluate(name, 0.5)


@pytest.mark.parametrize("name", ["gan_generator_saturating", "lsgan_generator", "wasserstein_generator"])
def test_generator_losses_take_no_target(name: str) -> None:
    with pytest.raises(DomainError, match="takes no target"):
        lossviz.evaluate(name, 0.5, 1.0)


def test_scores_must_be_finite() -> None:
    with pytest.raises(
        DomainError, match=r"pred of 'hinge_gan_discriminator' must be score \(real\); got (np\.float64\()?inf"
    ):
        lossviz.evaluate("hinge_gan_discriminator", [0.0, np.inf], 1.0)


# --- total variation ------------------------------------------------------------------------------------------


def _tv_loop(image: np.ndarray) -> float:
    """The squared anisotropic total variation, pixel by pixel."""
    h, w = image.shape
    total = 0.0
    for i in range(h):
        for j in range(w):
            if j + 1 < w:
                total += (image[i, j + 1] - image[i, j]) ** 2
            if i + 1 < h:
                total += (image[i + 1, j] - image[i, j]) ** 2
    return total


def _tv_gradient(image: np.ndarray) -> np.ndarray:
    """∂TV/∂x[i, j] = 2 Σ over the in-bounds 4-neighbours n of (x[i, j] − x[n]): a graph Laplacian."""
    h, w = image.shape
    grad = np.zeros_like(image)
    for i in range(h):
        for j in range(w):
            for a, b in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)):
                if 0 <= a < h and 0 <= b < w:
                    grad[i, j] += 2 * (image[i, j] - image[a, b])
    return grad


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (4, 1), (3, 4), (2, 3, 5, 6)])
def test_total_variation_matches_the_pixel_loop(shape: tuple[int, ...]) -> None:
    images = np.random.default_rng(2).normal(size=shape)
    res = lossviz.evaluate("total_variation", images, order=2)
    assert res.value.shape == shape[:-2] and res.grad.shape == shape
    assert res.curvature is None  # structured: no elementwise curvature
    flat = images.reshape(-1, *shape[-2:])
    np.testing.assert_allclose(res.value.reshape(-1), [_tv_loop(x) for x in flat], rtol=1e-14)
    np.testing.assert_allclose(res.grad.reshape(flat.shape), [_tv_gradient(x) for x in flat], rtol=1e-13, atol=1e-14)


def test_total_variation_gradient_matches_finite_differences() -> None:
    image = np.random.default_rng(3).uniform(0.0, 1.0, (4, 5))
    grad = lossviz.evaluate("total_variation", image).grad
    h = 1e-6
    fd = np.zeros_like(image)
    for index in np.ndindex(image.shape):
        step = np.zeros_like(image)
        step[index] = h
        plus = lossviz.evaluate("total_variation", image + step, order=0).value
        minus = lossviz.evaluate("total_variation", image - step, order=0).value
        fd[index] = (plus - minus) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


_images = arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=st.floats(-100.0, 100.0))


@settings(max_examples=60, deadline=None)
@given(st.tuples(st.integers(1, 6), st.integers(1, 6)), st.floats(-1e6, 1e6))
def test_total_variation_of_a_constant_image_is_zero(shape: tuple[int, int], c: float) -> None:
    res = lossviz.evaluate("total_variation", np.full(shape, c))
    assert res.value == 0.0
    assert (res.grad == 0.0).all()


@settings(max_examples=60, deadline=None)
@given(_images, st.floats(-100.0, 100.0))
def test_total_variation_is_invariant_to_adding_a_constant(image: np.ndarray, c: float) -> None:
    base = lossviz.evaluate("total_variation", image)
    shifted = lossviz.evaluate("total_variation", image + c)
    # (x + c) − (x' + c) rounds differently from x − x': allow a few ulps of the pixel magnitudes.
    scale = 1e-13 * (1.0 + np.abs(image).max() + abs(c)) ** 2 * image.size
    assert abs(shifted.value - base.value) <= scale
    np.testing.assert_allclose(shifted.grad, base.grad, atol=scale)


@settings(max_examples=60, deadline=None)
@given(_images)
def test_total_variation_is_nonnegative_and_transpose_invariant(image: np.ndarray) -> None:
    value = lossviz.evaluate("total_variation", image, order=0).value
    assert value >= 0.0
    np.testing.assert_allclose(lossviz.evaluate("total_variation", image.T, order=0).value, value, rtol=1e-13)


def test_total_variation_rejects_bad_images() -> None:
    with pytest.raises(DomainError, match=r"pred of 'total_variation' must have at least 2 trailing axes"):
        lossviz.evaluate("total_variation", [1.0, 2.0, 3.0])
    with pytest.raises(
        DomainError, match=r"pred of 'total_variation' must be image .*; got (np\.float64\()?nan\)? at index \(1, 0\)"
    ):
        lossviz.evaluate("total_variation", [[0.0, 1.0], [np.nan, 2.0]])
    with pytest.raises(DomainError, match="takes no target"):
        lossviz.evaluate("total_variation", np.zeros((2, 2)), np.zeros((2, 2)))
