"""Margin, ranking and embedding losses (lossviz/losses/ranking.py).

Each loss is compared on values and gradients with torch.nn.functional (reduction "none") or with
the paper's formula written out here in NumPy; then kinks, edge cases (tiny vectors, anchor ==
positive), finite differences, curvature, hypothesis properties, broadcasting and bad inputs.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossviz
from lossviz.errors import DomainError, ParameterError

RNG = np.random.default_rng(20261)
FD_STEP = 1e-6
MARGINS = (0.0, 0.3, 1.0, 2.5)
score = st.floats(min_value=-50, max_value=50, allow_nan=False, allow_infinity=False)
sign = st.sampled_from([-1.0, 1.0])


@pytest.fixture(autouse=True)
def _fresh_rng(request: pytest.FixtureRequest) -> None:
    """Each test draws its own reproducible numbers, whatever runs before it."""
    global RNG
    RNG = np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


def structured_fd_grad(name: str, pred: np.ndarray, target: np.ndarray | None, **params: float) -> np.ndarray:
    """Central differences of Σ value, one pred element at a time (a structured value mixes elements)."""
    grad = np.empty_like(pred)
    for i in np.ndindex(pred.shape):
        up, down = pred.copy(), pred.copy()
        up[i] += FD_STEP
        down[i] -= FD_STEP
        f_up = lossviz.evaluate(name, up, target, order=0, **params).value.sum()
        f_down = lossviz.evaluate(name, down, target, order=0, **params).value.sum()
        grad[i] = (f_up - f_down) / (2 * FD_STEP)
    return grad


def assert_grad_matches_fd(name: str, pred: np.ndarray, target: np.ndarray | None, **params: float) -> None:
    res = lossviz.evaluate(name, pred, target, **params)
    fd = structured_fd_grad(name, pred, target, **params)
    np.testing.assert_allclose(res.grad, fd, rtol=1e-6, atol=1e-8 * (1 + np.abs(res.value).max()))


def torch_reference(fn: Callable[..., torch.Tensor], inputs: list[np.ndarray], target: np.ndarray, **kw: object):
    """Values of a torch.nn.functional loss (reduction "none") and d/d each input, in float64."""
    tensors = [torch.tensor(x, requires_grad=True) for x in inputs]
    value = fn(*tensors, torch.tensor(target), reduction="none", **kw)
    grads = torch.autograd.grad(value.sum(), tensors)
    return value.detach().numpy(), [g.numpy() for g in grads]


def random_signs(shape: tuple[int, ...]) -> np.ndarray:
    return RNG.choice([-1.0, 1.0], size=shape)


# ---------------------------------------------------------------- hinge and squared hinge


def hinge_numpy(p: np.ndarray, y: np.ndarray, m: float) -> tuple[np.ndarray, np.ndarray]:
    """max(0, m − y·p) and its derivative −y·[m − y·p > 0] (Cortes & Vapnik 1995)."""
    u = m - y * p
    return np.maximum(0.0, u), np.where(u > 0, -y, 0.0)


def away_from_margin(p: np.ndarray, y: np.ndarray, m: float, gap: float = 1e-3) -> np.ndarray:
    return np.abs(m - y * p) > gap


@pytest.mark.parametrize("margin", MARGINS)
def test_hinge_matches_its_formula(margin: float) -> None:
    p, y = RNG.normal(0, 2, 500), random_signs((500,))
    value, grad = hinge_numpy(p, y, margin)
    res = lossviz.evaluate("hinge", p, y, order=2, margin=margin)
    np.testing.assert_array_equal(res.value, value)
    np.testing.assert_array_equal(res.grad, grad)
    np.testing.assert_array_equal(res.curvature, 0.0)


@pytest.mark.parametrize("margin", MARGINS)
def test_squared_hinge_matches_its_formula(margin: float) -> None:
    p, y = RNG.normal(0, 2, 500), random_signs((500,))
    u = margin - y * p
    res = lossviz.evaluate("squared_hinge", p, y, order=2, margin=margin)
    np.testing.assert_allclose(res.value, np.maximum(0.0, u) ** 2, rtol=1e-15, atol=0)
    np.testing.assert_allclose(res.grad, -2.0 * y * np.maximum(0.0, u), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(res.curvature, np.where(u > 0, 2.0, 0.0))


@pytest.mark.parametrize("name", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("margin", MARGINS)
def test_hinge_exactly_at_the_margin_has_value_and_gradient_zero(name: str, margin: float) -> None:
    y = np.array([1.0, -1.0])
    res = lossviz.evaluate(name, margin * y, y, order=2, margin=margin)
    assert res.value.tolist() == [0.0, 0.0]
    assert res.grad.tolist() == [0.0, 0.0]
    assert res.curvature.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(("name", "order"), [("hinge", 1), ("squared_hinge", 2)])
def test_hinge_kinks_are_where_the_derivative_jumps(name: str, order: int) -> None:
    for y in (1.0, -1.0):
        ((where, declared_order),) = lossviz.spec(name).kink_points(y, margin=0.7)
        assert (where, declared_order) == (0.7 * y, order)
        side = lossviz.evaluate(name, [where - 1e-9, where + 1e-9], y, order=2, margin=0.7)
        jump = side.grad if order == 1 else side.curvature
        assert abs(jump[1] - jump[0]) > 0.9


@pytest.mark.parametrize("name", ["hinge", "squared_hinge"])
def test_hinge_gradient_and_curvature_match_finite_differences(name: str, fd_check) -> None:
    p, y = RNG.normal(0, 2, 400), random_signs((400,))
    keep = away_from_margin(p, y, 1.0)
    fd_check(name, p[keep], y[keep], margin=1.0)


def test_hinge_is_margin_ranking_against_a_zero_score() -> None:
    p, y = RNG.normal(0, 2, 200), random_signs((200,))
    pairs = np.stack([p, np.zeros_like(p)], axis=-1)
    hinge = lossviz.evaluate("hinge", p, y, margin=0.8)
    ranking = lossviz.evaluate("margin_ranking", pairs, y, margin=0.8)
    np.testing.assert_array_equal(hinge.value, ranking.value)
    np.testing.assert_array_equal(hinge.grad, ranking.grad[..., 0])


@settings(max_examples=200, deadline=None)
@given(p=score, y=sign, margin=st.floats(min_value=0, max_value=5))
def test_squared_hinge_is_the_square_of_hinge(p: float, y: float, margin: float) -> None:
    h = lossviz.evaluate("hinge", p, y, margin=margin)
    sq = lossviz.evaluate("squared_hinge", p, y, margin=margin)
    assert sq.value == h.value**2
    assert sq.grad == 2 * h.value * h.grad


@pytest.mark.parametrize("bad", [0.0, 0.5, 2.0, np.nan])
def test_hinge_rejects_targets_other_than_plus_minus_one(bad: float) -> None:
    with pytest.raises(DomainError, match=r"target of 'hinge' must be label \(one of -1, 1\)"):
        lossviz.evaluate("hinge", [0.3, 0.1], [1.0, bad])


def test_hinge_rejects_a_negative_margin() -> None:
    with pytest.raises(ParameterError, match=r"'margin' of 'hinge' is -0.5, outside its valid range \[0, ∞\)"):
        lossviz.evaluate("hinge", 0.3, 1.0, margin=-0.5)


# ---------------------------------------------------------------- contrastive


def contrastive_numpy(d: np.ndarray, y: np.ndarray, m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hadsell, Chopra & LeCun 2006 with y = 1 similar: value, d/dd and d²/dd²."""
    gap = np.maximum(0.0, m - d)
    value = 0.5 * y * d**2 + 0.5 * (1 - y) * gap**2
    grad = y * d - (1 - y) * gap
    curvature = y + (1 - y) * (m - d > 0)
    return value, grad, curvature


@pytest.mark.parametrize("margin", [0.05, 1.0, 2.0])
def test_contrastive_matches_the_paper(margin: float) -> None:
    d, y = np.abs(RNG.normal(0, 1.5, 500)), RNG.choice([0.0, 1.0], 500)
    value, grad, curvature = contrastive_numpy(d, y, margin)
    res = lossviz.evaluate("contrastive", d, y, order=2, margin=margin)
    np.testing.assert_allclose(res.value, value, rtol=1e-15, atol=0)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(res.curvature, curvature)


def test_contrastive_at_the_margin_and_at_zero_distance() -> None:
    res = lossviz.evaluate("contrastive", [1.5, 0.0, 0.0], [0.0, 0.0, 1.0], order=2, margin=1.5)
    assert res.value.tolist() == [0.0, 0.5 * 1.5**2, 0.0]
    assert res.grad.tolist() == [0.0, -1.5, 0.0]
    assert res.curvature.tolist() == [0.0, 1.0, 1.0]
    assert lossviz.spec("contrastive").kink_points(0.0, margin=1.5) == ((1.5, 2),)
    assert lossviz.spec("contrastive").kink_points(1.0, margin=1.5) == ()


def test_contrastive_gradient_and_curvature_match_finite_differences(fd_check) -> None:
    d, y = np.abs(RNG.normal(0, 1.5, 400)) + 1e-3, RNG.choice([0.0, 1.0], 400)
    keep = np.abs(d - 1.0) > 1e-3
    fd_check("contrastive", d[keep], y[keep], margin=1.0)


def test_contrastive_rejects_negative_distances_and_non_binary_labels() -> None:
    with pytest.raises(DomainError, match=r"pred of 'contrastive' must be distance in \[0, ∞\); got .*-0\.1"):
        lossviz.evaluate("contrastive", [0.5, -0.1], 1.0)
    with pytest.raises(DomainError, match=r"target of 'contrastive' must be label \(one of 0, 1\)"):
        lossviz.evaluate("contrastive", 0.5, -1.0)
    with pytest.raises(ParameterError, match="'margin' of 'contrastive' is 0"):
        lossviz.evaluate("contrastive", 0.5, 1.0, margin=0.0)


# ---------------------------------------------------------------- multi-class margin


@pytest.mark.parametrize("margin", MARGINS)
@pytest.mark.parametrize("classes", [1, 2, 5])
def test_multi_margin_matches_torch(margin: float, classes: int) -> None:
    x, y = RNG.normal(0, 1.5, (60, classes)), RNG.integers(0, classes, 60)
    value, (grad,) = torch_reference(F.multi_margin_loss, [x], y, margin=margin)
    res = lossviz.evaluate("multi_margin", x, y, margin=margin)
    np.testing.assert_allclose(res.value, value, rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-15, atol=0)


def test_multi_margin_on_its_kinks_agrees_with_torch_too() -> None:
    # torch's kernel counts a violation only when m − x_y + x_i > 0, the same 0 subgradient as relu.
    x, y = np.array([[0.0, 1.0, 0.5], [2.0, 1.0, 1.0]]), np.array([1, 0])
    value, (grad,) = torch_reference(F.multi_margin_loss, [x], y)
    res = lossviz.evaluate("multi_margin", x, y)
    np.testing.assert_array_equal(res.value, value)
    np.testing.assert_array_equal(res.grad, grad)
    assert res.grad[1].tolist() == [0.0, 0.0, 0.0]


def test_multi_margin_broadcasts_batch_axes_and_matches_finite_differences() -> None:
    x, y = RNG.normal(0, 1.5, (2, 3, 4)), RNG.integers(0, 4, (3,))
    res = lossviz.evaluate("multi_margin", x, y)
    flat_value, _ = torch_reference(F.multi_margin_loss, [x.reshape(6, 4)], np.tile(y, 2))
    np.testing.assert_allclose(res.value, flat_value.reshape(2, 3), rtol=1e-15)
    assert_grad_matches_fd("multi_margin", x, y)


def test_multi_margin_rejects_class_indices_out_of_range() -> None:
    with pytest.raises(DomainError, match=r"target of 'multi_margin' must be a class index in 0..2 .* got 3"):
        lossviz.evaluate("multi_margin", np.zeros((2, 3)), [0, 3])
    with pytest.raises(DomainError, match="target of 'multi_margin' must be class index"):
        lossviz.evaluate("multi_margin", np.zeros(3), 1.5)


# ---------------------------------------------------------------- margin ranking


@pytest.mark.parametrize("margin", MARGINS)
def test_margin_ranking_matches_torch_away_from_the_kink(margin: float) -> None:
    s, y = RNG.normal(0, 2, (300, 2)), random_signs((300,))
    keep = np.abs(margin - y * (s[:, 0] - s[:, 1])) > 1e-3
    s, y = s[keep], y[keep]
    value, (g1, g2) = torch_reference(F.margin_ranking_loss, [s[:, 0], s[:, 1]], y, margin=margin)
    res = lossviz.evaluate("margin_ranking", s, y, margin=margin)
    np.testing.assert_array_equal(res.value, value)
    np.testing.assert_array_equal(res.grad, np.stack([g1, g2], axis=-1))


def test_margin_ranking_at_the_kink_has_value_and_gradient_zero() -> None:
    s = np.array([[1.5, 1.0], [1.0, 1.5], [0.25, 0.25]])
    res = lossviz.evaluate("margin_ranking", s, [1.0, -1.0, 1.0], margin=0.5)
    assert res.value.tolist() == [0.0, 0.0, 0.5]
    assert res.grad.tolist() == [[0.0, 0.0], [0.0, 0.0], [-1.0, 1.0]]
    res = lossviz.evaluate("margin_ranking", [[2.0, 2.0]], 1.0)
    assert res.value.tolist() == [0.0] and res.grad.tolist() == [[0.0, 0.0]]


@settings(max_examples=200, deadline=None)
@given(s1=score, s2=score, y=sign, margin=st.floats(min_value=0, max_value=5))
def test_margin_ranking_is_symmetric_under_swapping_the_pair_and_the_label(
    s1: float, s2: float, y: float, margin: float
) -> None:
    a = lossviz.evaluate("margin_ranking", [s1, s2], y, margin=margin)
    b = lossviz.evaluate("margin_ranking", [s2, s1], -y, margin=margin)
    assert a.value == b.value
    assert a.grad.tolist() == b.grad[::-1].tolist()


def test_margin_ranking_grid_broadcasting_equals_a_loop() -> None:
    s1, s2 = np.meshgrid(np.linspace(-2, 2, 9), np.linspace(-2, 2, 7), indexing="ij")
    grid = np.stack([s1, s2], axis=-1)  # (9, 7, 2)
    targets = np.array([1.0, -1.0]).reshape(2, 1, 1)
    res = lossviz.evaluate("margin_ranking", grid, targets, margin=0.3)
    assert res.value.shape == (2, 9, 7) and res.grad.shape == (2, 9, 7, 2)
    for k, y in enumerate((1.0, -1.0)):
        for i, j in np.ndindex(9, 7):
            one = lossviz.evaluate("margin_ranking", grid[i, j], y, margin=0.3)
            assert res.value[k, i, j] == one.value
            assert res.grad[k, i, j].tolist() == one.grad.tolist()


def test_margin_ranking_rejects_anything_but_pairs() -> None:
    with pytest.raises(DomainError, match=r"pred of 'margin_ranking' must hold the pair .* \(size 2\); got shape \(4, 3\)"):
        lossviz.evaluate("margin_ranking", np.zeros((4, 3)), 1.0)
    with pytest.raises(DomainError, match=r"target of 'margin_ranking' must be label \(one of -1, 1\)"):
        lossviz.evaluate("margin_ranking", [0.0, 1.0], 0.0)


# ---------------------------------------------------------------- triplet


def triplet_torch(pred: np.ndarray, margin: float):
    anchor, positive, negative = (torch.tensor(pred[..., k, :], requires_grad=True) for k in range(3))
    value = F.triplet_margin_loss(anchor, positive, negative, margin=margin, reduction="none")
    grads = torch.autograd.grad(value.sum(), (anchor, positive, negative))
    return value.detach().numpy(), np.stack([g.numpy() for g in grads], axis=-2)


@pytest.mark.parametrize("margin", [0.05, 1.0, 3.0])
@pytest.mark.parametrize("dim", [1, 2, 8])
def test_triplet_matches_torch(margin: float, dim: int) -> None:
    pred = RNG.normal(0, 1, (200, 3, dim))
    pred[:, 2] *= 4.0  # far negatives, so that some triplets are easy (loss 0)
    value, grad = triplet_torch(pred, margin)
    res = lossviz.evaluate("triplet", pred, margin=margin)
    assert (value > 0).any() and (value == 0).any()
    np.testing.assert_array_equal(res.value, value)
    active = value > 1e-9  # torch's clamp_min passes the gradient at 0 too; lossviz gives 0 there
    np.testing.assert_allclose(res.grad[active], grad[active], rtol=1e-14, atol=1e-15)
    assert (res.grad[value == 0] == 0).all()


def test_triplet_with_anchor_equal_to_positive_matches_torch() -> None:
    # d(a, p) = ‖ε·1‖ = ε·√D, not 0: torch's ε enters before the norm, so the gradient is finite.
    pred = RNG.normal(0, 1, (50, 3, 4))
    pred[:, 1] = pred[:, 0]
    value, grad = triplet_torch(pred, 5.0)
    res = lossviz.evaluate("triplet", pred, margin=5.0)
    np.testing.assert_array_equal(res.value, value)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-14, atol=1e-15)
    anchor_minus_negative = np.linalg.norm(pred[:, 0] - pred[:, 2] + 1e-6, axis=-1)
    np.testing.assert_allclose(res.value, np.maximum(0.0, 5.0 + 1e-6 * 2.0 - anchor_minus_negative), rtol=1e-15)


def test_triplet_gradient_matches_finite_differences() -> None:
    pred = RNG.normal(0, 1, (2, 3, 3, 2))
    res = lossviz.evaluate("triplet", pred, margin=2.0)
    assert (res.value > 1e-3).all()
    assert_grad_matches_fd("triplet", pred, None, margin=2.0)


@settings(max_examples=100, deadline=None)
@given(shift=st.floats(min_value=-10, max_value=10), seed=st.integers(0, 2**32 - 1))
def test_triplet_is_invariant_under_translation(shift: float, seed: int) -> None:
    pred = np.random.default_rng(seed).normal(0, 1, (3, 5))
    a = lossviz.evaluate("triplet", pred).value
    b = lossviz.evaluate("triplet", pred + shift).value
    np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


def test_triplet_rejects_a_target_a_wrong_shape_and_a_zero_margin() -> None:
    with pytest.raises(DomainError, match=r"pred of 'triplet' must hold \(anchor, positive, negative\) on axis -2"):
        lossviz.evaluate("triplet", np.zeros((4, 2, 5)))
    with pytest.raises(DomainError, match="pred of 'triplet' must have at least 2 trailing axes"):
        lossviz.evaluate("triplet", np.zeros(3))
    with pytest.raises(ParameterError, match="'triplet' takes no target"):
        lossviz.evaluate("triplet", np.zeros((3, 2)), 1.0)
    with pytest.raises(ParameterError, match="'margin' of 'triplet' is 0"):
        lossviz.evaluate("triplet", np.zeros((3, 2)), margin=0.0)


# ---------------------------------------------------------------- cosine embedding


def cosine_embedding_torch(pred: np.ndarray, y: np.ndarray, margin: float):
    value, grads = torch_reference(F.cosine_embedding_loss, [pred[..., 0, :], pred[..., 1, :]], y, margin=margin)
    return value, np.stack(grads, axis=-2)


@pytest.mark.parametrize("margin", [-1.0, -0.3, 0.0, 0.5])
def test_cosine_embedding_matches_torch(margin: float) -> None:
    pred, y = RNG.normal(0, 1, (300, 2, 4)), random_signs((300,))
    value, grad = cosine_embedding_torch(pred, y, margin)
    res = lossviz.evaluate("cosine_embedding", pred, y, margin=margin)
    np.testing.assert_array_equal(res.value, value)
    active = (y > 0) | (value > 1e-9)  # off torch's clamp kink
    np.testing.assert_allclose(res.grad[active], grad[active], rtol=1e-13, atol=1e-15)
    assert (res.grad[~active] == 0).all()


@pytest.mark.parametrize("scale", [1e-3, 1e-6, 1e-7, 1e-9, 1e-15, 0.0])
def test_cosine_embedding_matches_torch_on_tiny_vectors(scale: float) -> None:
    # ε = 1e-12 as float32 (≈ 9.99999996e-13) inside each squared norm: visible at these scales.
    pred, y = RNG.normal(0, 1, (40, 2, 3)), random_signs((40,))
    pred[:20, 0] *= scale
    pred[20:] *= scale
    value, grad = cosine_embedding_torch(pred, y, -0.5)
    res = lossviz.evaluate("cosine_embedding", pred, y, margin=-0.5)
    np.testing.assert_array_equal(res.value, value)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-13, atol=1e-300)
    assert np.isfinite(res.grad).all()


def test_cosine_embedding_at_its_kink_has_value_and_gradient_zero() -> None:
    # Orthogonal vectors: cos is exactly 0 = m, the kink of max(0, cos − m).
    pred = np.array([[[1.0, 2.0, 0.0], [-2.0, 1.0, 3.0]]])
    res = lossviz.evaluate("cosine_embedding", pred, -1.0, margin=0.0)
    assert res.value.tolist() == [0.0] and (res.grad == 0).all()
    value, _ = cosine_embedding_torch(pred, np.array([-1.0]), 0.0)
    assert value.tolist() == [0.0]


def test_cosine_embedding_gradient_matches_finite_differences() -> None:
    pred, y = RNG.normal(0, 1, (3, 2, 2, 3)), np.array([1.0, -1.0, -1.0])[:, None]
    res = lossviz.evaluate("cosine_embedding", pred, y, margin=-1.0)
    assert (res.value > 1e-3).all()  # cos > −1 = m: away from the kink
    assert_grad_matches_fd("cosine_embedding", pred, y, margin=-1.0)


def test_cosine_embedding_rejects_a_wrong_shape_and_margins_outside_minus_one_one() -> None:
    with pytest.raises(DomainError, match=r"pred of 'cosine_embedding' must hold the pair of vectors .* axis -2"):
        lossviz.evaluate("cosine_embedding", np.zeros((3, 4)), 1.0)
    with pytest.raises(ParameterError, match=r"outside its valid range \[-1, 1\]"):
        lossviz.evaluate("cosine_embedding", np.zeros((2, 4)), 1.0, margin=1.5)


# ---------------------------------------------------------------- cosine proximity


def negative_cosine_torch(pred: np.ndarray, target: np.ndarray):
    p = torch.tensor(pred, requires_grad=True)
    value = -F.cosine_similarity(p, torch.tensor(target), dim=-1)
    (grad,) = torch.autograd.grad(value.sum(), p)
    return value.detach().numpy(), grad.numpy()


def test_cosine_proximity_matches_torch() -> None:
    pred, target = RNG.normal(0, 3, (300, 5)), RNG.normal(0, 3, (300, 5))
    value, grad = negative_cosine_torch(pred, target)
    res = lossviz.evaluate("cosine_proximity", pred, target)
    np.testing.assert_array_equal(res.value, value)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("scale", [1e-4, 1e-7, 1e-8, 1e-9, 1e-12, 0.0])
def test_cosine_proximity_values_match_torch_on_tiny_vectors(scale: float) -> None:
    pred, target = RNG.normal(0, 1, (20, 3)), RNG.normal(0, 1, (20, 3))
    pred[:10] *= scale
    target[10:] *= scale
    value, grad = negative_cosine_torch(pred, target)
    res = lossviz.evaluate("cosine_proximity", pred, target)
    np.testing.assert_array_equal(res.value, value)
    assert (np.abs(res.value) <= 1).all() and np.isfinite(res.grad).all()
    # The gradients agree wherever pred's norm is above torch's floor ε = 1e-8, and at pred = 0.
    norm = np.linalg.norm(pred, axis=-1)
    same = (norm >= 1e-8) | (norm == 0)
    np.testing.assert_allclose(res.grad[same], grad[same], rtol=1e-13, atol=0)


def test_cosine_proximity_below_the_floor_reports_the_true_gradient() -> None:
    # For ‖p‖ < ε the value is −p·ŷ/ε: linear in p with gradient −ŷ/ε. torch's autograd hides the
    # floor from the backward pass and reports something else there; lossviz follows the value.
    target = np.array([1.0, 2.0, -0.5])
    pred = np.array([0.3, -0.2, 0.9]) * 1e-9
    res = lossviz.evaluate("cosine_proximity", pred, target)
    expected = -target / np.linalg.norm(target) / 1e-8
    np.testing.assert_allclose(res.grad, expected, rtol=1e-15)
    h = 1e-12  # the function is linear here: a step below the floor is exact
    step = np.array([h, 0.0, 0.0])
    up = lossviz.evaluate("cosine_proximity", pred + step, target, order=0).value
    down = lossviz.evaluate("cosine_proximity", pred - step, target, order=0).value
    np.testing.assert_allclose((up - down) / (2 * h), expected[0], rtol=1e-6)


def test_cosine_proximity_gradient_matches_finite_differences() -> None:
    pred, target = RNG.normal(0, 1, (2, 3, 4)), RNG.normal(0, 1, (3, 4))
    assert_grad_matches_fd("cosine_proximity", pred, target)


@settings(max_examples=100, deadline=None)
@given(scale=st.floats(min_value=1e-3, max_value=1e3), seed=st.integers(0, 2**32 - 1))
def test_cosine_proximity_ignores_the_length_of_pred(scale: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pred, target = rng.normal(0, 1, 4), rng.normal(0, 1, 4)
    a = lossviz.evaluate("cosine_proximity", pred, target)
    b = lossviz.evaluate("cosine_proximity", scale * pred, target)
    np.testing.assert_allclose(b.value, a.value, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(scale * b.grad, a.grad, rtol=1e-10, atol=1e-13)
    assert -1 <= a.value <= 1


def test_cosine_proximity_of_aligned_and_opposite_vectors() -> None:
    v = np.array([3.0, 4.0])
    res = lossviz.evaluate("cosine_proximity", [v, -v, [-4.0, 3.0]], v)
    np.testing.assert_allclose(res.value, [-1.0, 1.0, 0.0], atol=1e-16)


def test_cosine_proximity_rejects_vectors_of_different_lengths() -> None:
    with pytest.raises(DomainError, match=r"same shape on their last 1 axis; got \(3,\) .* and \(4,\)"):
        lossviz.evaluate("cosine_proximity", np.ones((2, 3)), np.ones(4))


# ---------------------------------------------------------------- the family


def test_the_family_is_declared_and_structured_losses_give_no_curvature() -> None:
    assert lossviz.names("ranking") == [
        "contrastive", "cosine_embedding", "cosine_proximity", "hinge",
        "margin_ranking", "multi_margin", "squared_hinge", "triplet",
    ]  # fmt: skip
    for name in lossviz.names("ranking"):
        s = lossviz.spec(name)
        assert s.references and s.latex and s.use_when
        assert s.pointwise == (name in {"hinge", "squared_hinge", "contrastive"})
    res = lossviz.evaluate("multi_margin", [[0.0, 1.0]], [0], order=2)
    assert res.curvature is None


def test_hinge_grid_broadcasting_equals_a_loop() -> None:
    p = np.linspace(-3, 3, 13)
    y = np.array([-1.0, 1.0])
    grid = lossviz.evaluate("squared_hinge", p[None, :], y[:, None], order=2, margin=0.5)
    for i, j in np.ndindex(2, 13):
        one = lossviz.evaluate("squared_hinge", p[j], y[i], order=2, margin=0.5)
        assert (grid.value[i, j], grid.grad[i, j], grid.curvature[i, j]) == (one.value, one.grad, one.curvature)
