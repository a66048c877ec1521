"""Classification losses (lossviz/losses/classification.py).

Each loss is compared on values and gradients with an independent reference: torch.nn.functional
with reduction "none", torchvision's sigmoid_focal_loss formula re-implemented here, a
high-precision :mod:`mpmath` evaluation at huge logits, or the formula written out here; then
finite differences, hypothesis properties, broadcasting and the input checks.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossviz
from lossviz.errors import DomainError
from lossviz.losses.classification import focal, focal_grad

RNG_SEED = 31337
HUGE_LOGITS = np.array([-800.0, -80.0, 80.0, 800.0])
logits = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)
labels01 = st.sampled_from([0.0, 1.0])


def rng() -> np.random.Generator:
    return np.random.default_rng(RNG_SEED)


def autograd(fn: Callable[[torch.Tensor], torch.Tensor], pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value and d value / d pred of a torch reference, in float64."""
    p = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    value = fn(p)
    (grad,) = torch.autograd.grad(value.sum(), p)
    return value.detach().numpy(), grad.numpy()


def assert_matches(res: lossviz.Evaluation, value: np.ndarray, grad: np.ndarray, rtol: float, atol: float = 0.0):
    np.testing.assert_allclose(res.value, value, rtol=rtol, atol=atol, err_msg="value")
    np.testing.assert_allclose(res.grad, grad, rtol=rtol, atol=atol, err_msg="grad")


# ---------------------------------------------------------------- bce


def test_bce_matches_torch_on_random_inputs() -> None:
    g = rng()
    p, y = g.uniform(0, 1, 500), g.uniform(0, 1, 500)
    y[:100] = np.round(y[:100])
    ref = autograd(lambda t: F.binary_cross_entropy(t, torch.tensor(y), reduction="none"), p)
    assert_matches(lossviz.evaluate("bce", p, y), *ref, rtol=1e-13)


def test_bce_at_p_exactly_0_and_1_clamps_the_log_at_minus_100_like_torch() -> None:
    p = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    y = np.array([1.0, 0.3, 0.0, 0.0, 0.3, 1.0])
    ref_value, ref_grad = autograd(lambda t: F.binary_cross_entropy(t, torch.tensor(y), reduction="none"), p)
    res = lossviz.evaluate("bce", p, y, order=2)
    np.testing.assert_allclose(ref_value, [100.0, 30.0, 0.0, 100.0, 70.0, 0.0])
    np.testing.assert_allclose(res.value, ref_value, rtol=1e-15)
    assert np.isfinite(res.grad).all() and np.isfinite(res.curvature).all()
    # Where y is not at the same end as p both give ∓y·1e12-sized slopes; torch's 1e-12 floor is
    # the float32 number 9.99999996e-13, hence 4e-9 apart.
    mixed = [0, 1, 3, 4]
    np.testing.assert_allclose(res.grad[mixed], ref_grad[mixed], rtol=5e-9)


def test_bce_gradient_convention_at_p_0_y_0_and_p_1_y_1() -> None:
    """The documented difference: lossviz gives the one-sided slopes +1 and −1, torch's backward 0."""
    p, y = np.array([0.0, 1.0]), np.array([0.0, 1.0])
    _, torch_grad = autograd(lambda t: F.binary_cross_entropy(t, torch.tensor(y), reduction="none"), p)
    assert torch_grad.tolist() == [0.0, 0.0]
    assert lossviz.evaluate("bce", p, y).grad.tolist() == [1.0, -1.0]


def test_bce_gradient_is_the_exact_derivative_with_clamped_denominators() -> None:
    p = np.array([0.0, 1e-15, 1e-12, 0.25, 1 - 1e-12, 1.0, 1.0, 0.0])
    y = np.array([0.5, 0.5, 0.0, 0.7, 1.0, 0.2, 1.0, 0.0])
    expected = (1 - y) / np.maximum(1 - p, 1e-12) - y / np.maximum(p, 1e-12)
    np.testing.assert_allclose(lossviz.evaluate("bce", p, y).grad, expected, rtol=1e-13)


# ---------------------------------------------------------------- bce with logits


@pytest.mark.parametrize("pos_weight", [1.0, 0.3, 5.0, 0.0])
def test_bce_logits_matches_torch(pos_weight: float) -> None:
    g = rng()
    x, y = g.normal(0, 6, 500), g.uniform(0, 1, 500)
    y[:200] = np.round(y[:200])
    x[:4] = HUGE_LOGITS
    pw = torch.tensor(pos_weight, dtype=torch.float64)
    ref = autograd(
        lambda t: F.binary_cross_entropy_with_logits(t, torch.tensor(y), pos_weight=pw, reduction="none"), x
    )
    # torch's (1 − y)x + … form cancels digits when x ≪ 0 and y = 0: an absolute slack covers that.
    assert_matches(lossviz.evaluate("bce_logits", x, y, pos_weight=pos_weight), *ref, rtol=1e-12, atol=1e-12)


def _mp_derivatives(f: Callable[[mpmath.mpf], mpmath.mpf], x: float) -> tuple[float, float, float]:
    with mpmath.workdps(60):
        return tuple(float(mpmath.diff(f, mpmath.mpf(x), n)) for n in range(3))  # type: ignore[return-value]


def _mp_softplus(v: mpmath.mpf) -> mpmath.mpf:
    return mpmath.log1p(mpmath.exp(v))


@pytest.mark.parametrize("x", [*HUGE_LOGITS, -30.0, -3.0, 0.0, 0.7, 30.0])
@pytest.mark.parametrize("y", [0.0, 0.25, 1.0])
def test_bce_logits_is_exact_at_huge_logits(x: float, y: float) -> None:
    pw = 3.0
    value, grad, curvature = _mp_derivatives(lambda v: (1 - y) * _mp_softplus(v) + pw * y * _mp_softplus(-v), x)
    res = lossviz.evaluate("bce_logits", x, y, order=2, pos_weight=pw)
    np.testing.assert_allclose([res.value, res.grad, res.curvature], [value, grad, curvature], rtol=1e-13)


# ---------------------------------------------------------------- focal


def torchvision_focal(x: torch.Tensor, y: torch.Tensor, gamma: float, alpha: float) -> torch.Tensor:
    """torchvision.ops.sigmoid_focal_loss (reduction "none"), as documented, in plain torch."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss


GAMMAS = [0.0, 0.1, 0.25, 0.5, 0.9, 1.0, 1.5, 2.0, 3.0, 5.0]


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("alpha", [0.25, 0.5, 1.0, 0.0, -1.0])
def test_focal_matches_torchvision_formula_at_moderate_logits(gamma: float, alpha: float) -> None:
    g = rng()
    x, y = g.uniform(-8, 8, 400), g.integers(0, 2, 400).astype(np.float64)
    ref = autograd(lambda t: torchvision_focal(t, torch.tensor(y), gamma, alpha), x)
    # torchvision's 1 − p_t loses ~1e-13 relative at |x| = 8; lossviz works in log space.
    assert_matches(lossviz.evaluate("focal", x, y, gamma=gamma, alpha=alpha), *ref, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("alpha", [0.25, -1.0])
def test_focal_is_finite_at_huge_logits(gamma: float, alpha: float) -> None:
    x = HUGE_LOGITS[None, :]
    y = np.array([0.0, 1.0])[:, None]
    res = lossviz.evaluate("focal", x, y, order=2, gamma=gamma, alpha=alpha)
    for arr in (res.value, res.grad, res.curvature):
        assert arr.shape == (2, 4) and np.isfinite(arr).all()


def _mp_focal(y: float, gamma: float, alpha: float) -> Callable[[mpmath.mpf], mpmath.mpf]:
    def f(x: mpmath.mpf) -> mpmath.mpf:
        p_t = 1 / (1 + mpmath.exp(-(2 * y - 1) * x))
        alpha_t = 1 if alpha < 0 else alpha * y + (1 - alpha) * (1 - y)
        return alpha_t * (1 - p_t) ** gamma * -mpmath.log(p_t)

    return f


@pytest.mark.parametrize("x", [*HUGE_LOGITS, -37.0, -5.0, -0.3, 0.0, 0.3, 5.0, 37.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
@pytest.mark.parametrize(("gamma", "alpha"), [(0.0, -1.0), (0.5, 0.25), (2.0, 0.25), (5.0, 0.9)])
def test_focal_value_grad_and_curvature_are_exact(x: float, y: float, gamma: float, alpha: float) -> None:
    """Against a 60-digit evaluation: every digit, also where (1 − p_t)^γ and CE are e^{−800}."""
    expected = _mp_derivatives(_mp_focal(y, gamma, alpha), x)
    res = lossviz.evaluate("focal", x, y, order=2, gamma=gamma, alpha=alpha)
    got = [float(res.value), float(res.grad), float(res.curvature)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("alpha", [0.25, -1.0])
def test_focal_closed_form_gradient_and_curvature_match_autograd(gamma: float, alpha: float) -> None:
    g = rng()
    x = np.concatenate([g.normal(0, 10, 300), [0.0, -0.0, 1e-300, 40.0, -40.0]])
    y = g.integers(0, 2, x.size).astype(np.float64)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.tensor(y)
    (auto_grad,) = torch.autograd.grad(focal(xt, yt, gamma=gamma, alpha=alpha).sum(), xt, create_graph=True)
    (auto_curvature,) = torch.autograd.grad(auto_grad.sum(), xt)
    closed = focal_grad(xt, yt, gamma=gamma, alpha=alpha)
    (closed_curvature,) = torch.autograd.grad(closed.sum(), xt)
    np.testing.assert_allclose(closed.detach().numpy(), auto_grad.detach().numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(closed_curvature.numpy(), auto_curvature.numpy(), rtol=1e-10, atol=1e-300)


def test_focal_reproduces_the_papers_down_weighting_of_easy_examples() -> None:
    """Lin et al. 2017: with γ = 2, p_t = 0.9 costs 100× less than CE (and ≈1000× less at p_t ≈ 0.968)."""
    for p_t, factor in ((0.9, 100.0), (0.968, 1 / 0.032**2)):
        x = np.log(p_t / (1 - p_t))
        fl = lossviz.evaluate("focal", x, 1.0, order=0, gamma=2.0, alpha=-1.0).value
        ce = lossviz.evaluate("bce_logits", x, 1.0, order=0).value
        np.testing.assert_allclose(ce / fl, factor, rtol=1e-9)


# ---------------------------------------------------------------- cross-entropy family


BATCHES = [(7,), (3, 4)]


def ce_reference(pred: torch.Tensor, target: np.ndarray, **kw: object) -> torch.Tensor:
    """F.cross_entropy over any batch shape (torch wants the classes on axis 1)."""
    n_classes = pred.shape[-1]
    batch = pred.shape[:-1]
    if target.ndim == pred.ndim:
        t = torch.tensor(target.reshape(-1, n_classes))
    else:
        t = torch.tensor(target.reshape(-1)).long()
    return F.cross_entropy(pred.reshape(-1, n_classes), t, reduction="none", **kw).reshape(batch)


def random_logits(g: np.random.Generator, batch: tuple[int, ...], n_classes: int) -> np.ndarray:
    x = g.normal(0, 3, (*batch, n_classes))
    x.reshape(-1, n_classes)[0] = [800.0 if c == 0 else -800.0 for c in range(n_classes)]
    x.reshape(-1, n_classes)[1] = [80.0 * (-1) ** c for c in range(n_classes)]
    return x


def random_distributions(g: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    w = g.exponential(1.0, shape)
    w.reshape(-1, shape[-1])[0, 0] = 0.0  # a zero probability
    return w / w.sum(-1, keepdims=True)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.5])
def test_cross_entropy_with_class_indices_matches_torch(batch, n_classes, label_smoothing) -> None:
    g = rng()
    x = random_logits(g, batch, n_classes)
    y = g.integers(0, n_classes, batch).astype(np.float64)
    ref = autograd(lambda t: ce_reference(t, y, label_smoothing=label_smoothing), x)
    res = lossviz.evaluate("cross_entropy", x, y, label_smoothing=label_smoothing)
    assert res.value.shape == batch and res.grad.shape == x.shape
    assert_matches(res, *ref, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.5])
def test_cross_entropy_with_probabilities_matches_torch(batch, n_classes, label_smoothing) -> None:
    g = rng()
    x = random_logits(g, batch, n_classes)
    y = random_distributions(g, x.shape)
    ref = autograd(lambda t: ce_reference(t, y, label_smoothing=label_smoothing), x)
    assert_matches(lossviz.evaluate("cross_entropy", x, y, label_smoothing=label_smoothing), *ref, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize(("weight", "weighted_class"), [(10.0, 1), (0.3, 0), (100.0, 1)])
def test_weighted_cross_entropy_matches_torch(batch, n_classes, weight, weighted_class) -> None:
    g = rng()
    x = random_logits(g, batch, n_classes)
    y = g.integers(0, n_classes, batch).astype(np.float64)
    w = torch.ones(n_classes, dtype=torch.float64)
    w[weighted_class] = weight
    ref = autograd(lambda t: ce_reference(t, y, weight=w), x)
    res = lossviz.evaluate("weighted_cross_entropy", x, y, weight=weight, weighted_class=weighted_class)
    assert_matches(res, *ref, rtol=1e-13, atol=1e-13)


def softmax_focal_reference(x: torch.Tensor, y: np.ndarray, gamma: float, alpha: float) -> torch.Tensor:
    """−α(1 − p_t)^γ log p_t with p = softmax(x), written naively (fine at moderate logits)."""
    p_t = torch.softmax(x, -1).gather(-1, torch.tensor(y).long().unsqueeze(-1)).squeeze(-1)
    return -alpha * (1 - p_t) ** gamma * torch.log(p_t)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize(("gamma", "alpha"), [(0.0, 1.0), (0.5, 0.25), (2.0, 1.0), (5.0, 0.5)])
def test_softmax_focal_matches_its_formula(batch, n_classes, gamma, alpha) -> None:
    g = rng()
    x = g.uniform(-4, 4, (*batch, n_classes))
    y = g.integers(0, n_classes, batch).astype(np.float64)
    ref = autograd(lambda t: softmax_focal_reference(t, y, gamma, alpha), x)
    res = lossviz.evaluate("softmax_focal", x, y, gamma=gamma, alpha=alpha)
    assert_matches(res, *ref, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_softmax_focal_is_finite_and_right_at_huge_logits(gamma: float) -> None:
    x = np.array([[800.0, -800.0, 0.0], [-80.0, 80.0, 0.0], [800.0, -800.0, 0.0], [-80.0, 80.0, 80.0]])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    res = lossviz.evaluate("softmax_focal", x, y, gamma=gamma)
    assert np.isfinite(res.value).all() and np.isfinite(res.grad).all()
    # A confident wrong answer costs the CE, 1600 and 160 nats; a confident right one e^{−80}·… ≈ 0.
    np.testing.assert_allclose(res.value[[1, 2]], [160.0, 1600.0], rtol=1e-15)
    np.testing.assert_allclose(res.value[3], np.log(2) * 0.5**gamma, rtol=1e-13)


@pytest.mark.parametrize("n_classes", [2, 5])
def test_softmax_focal_with_gamma_0_is_cross_entropy(n_classes: int) -> None:
    g = rng()
    x = g.normal(0, 5, (20, n_classes))
    y = g.integers(0, n_classes, 20).astype(np.float64)
    fl = lossviz.evaluate("softmax_focal", x, y, gamma=0.0, alpha=1.0)
    ce = lossviz.evaluate("cross_entropy", x, y)
    assert_matches(fl, ce.value, ce.grad, rtol=1e-14, atol=1e-300)


@settings(max_examples=200, deadline=None)
@given(a=logits, b=logits, y=labels01, gamma=st.sampled_from([0.0, 0.5, 2.0]))
def test_two_class_softmax_focal_is_sigmoid_focal_of_the_logit_difference(a, b, y, gamma) -> None:
    two = lossviz.evaluate("softmax_focal", [b, a], y, gamma=gamma, alpha=0.5)
    one = lossviz.evaluate("focal", a - b, y, gamma=gamma, alpha=0.5)
    np.testing.assert_allclose(two.value, one.value, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(two.grad, [-one.grad, one.grad], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("x", [[0.0, 15.0], [40.0, 0.0, 1.0], [-3.0, 5.0, 4.0, 20.0]])
def test_cross_entropy_keeps_every_digit_of_a_tiny_loss(x: list[float]) -> None:
    """−log softmax(x)_y near 0: every digit, where x_y − logsumexp(x) would keep only 1e-16 absolute."""
    y = int(np.argmax(x))
    with mpmath.workdps(60):
        expected = float(mpmath.log(sum(mpmath.exp(v) for v in x)) - x[y])
    for name in ("cross_entropy", "weighted_cross_entropy", "softmax_focal"):
        params = {"softmax_focal": {"gamma": 0.0}, "weighted_cross_entropy": {"weight": 1.0}}.get(name, {})
        res = lossviz.evaluate(name, x, float(y), **params)
        np.testing.assert_allclose(res.value, expected, rtol=1e-14, err_msg=name)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("n_classes", [2, 5])
def test_kl_div_matches_torch(batch, n_classes) -> None:
    g = rng()
    x = random_logits(g, batch, n_classes)
    y = random_distributions(g, x.shape)
    y.reshape(-1, n_classes)[1] = np.eye(n_classes)[1]  # a one-hot target: 0·log 0 = 0
    ref = autograd(lambda t: F.kl_div(F.log_softmax(t, -1), torch.tensor(y), reduction="none").sum(-1), x)
    res = lossviz.evaluate("kl_div", x, y)
    assert_matches(res, *ref, rtol=1e-13, atol=1e-13)
    assert (res.value >= -1e-15).all()


def test_kl_div_is_zero_at_the_target_distribution() -> None:
    y = np.array([0.1, 0.2, 0.7])
    res = lossviz.evaluate("kl_div", np.log(y) + 3.0, y)
    np.testing.assert_allclose([res.value], [0.0], atol=1e-15)
    np.testing.assert_allclose(res.grad, 0.0, atol=1e-15)


# ---------------------------------------------------------------- margin losses


def test_logistic_matches_torch_soft_margin_loss() -> None:
    g = rng()
    p, y = g.normal(0, 5, 300), g.choice([-1.0, 1.0], 300)
    ref = autograd(lambda t: F.soft_margin_loss(t, torch.tensor(y), reduction="none"), p)
    assert_matches(lossviz.evaluate("logistic", p, y), *ref, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("p", [*HUGE_LOGITS, -30.0, 0.0, 30.0])
@pytest.mark.parametrize("y", [-1.0, 1.0])
def test_logistic_is_exact_at_huge_margins(p: float, y: float) -> None:
    """torch's soft_margin_loss overflows to ∞ at y·p = −800; lossviz gives 800 and every digit."""
    expected = _mp_derivatives(lambda v: _mp_softplus(-y * v), p)
    res = lossviz.evaluate("logistic", p, y, order=2)
    np.testing.assert_allclose([res.value, res.grad, res.curvature], expected, rtol=1e-13, atol=1e-300)


def test_exponential_matches_its_formula() -> None:
    g = rng()
    p, y = g.normal(0, 5, 300), g.choice([-1.0, 1.0], 300)
    res = lossviz.evaluate("exponential", p, y, order=2)
    np.testing.assert_allclose(res.value, np.exp(-y * p), rtol=1e-15)
    np.testing.assert_allclose(res.grad, -y * np.exp(-y * p), rtol=1e-15)
    np.testing.assert_allclose(res.curvature, np.exp(-y * p), rtol=1e-15)


# ---------------------------------------------------------------- finite differences


POINTWISE_FD_CASES = [
    ("bce", lambda g: g.uniform(0.05, 0.95, 200), lambda g: g.uniform(0, 1, 200), {}),
    ("bce_logits", lambda g: g.normal(0, 4, 200), lambda g: g.uniform(0, 1, 200), {"pos_weight": 2.5}),
    ("focal", lambda g: g.normal(0, 4, 200), lambda g: g.integers(0, 2, 200).astype(float), {}),
    ("focal", lambda g: g.normal(0, 4, 200), lambda g: g.integers(0, 2, 200).astype(float), {"gamma": 0.5}),
    ("focal", lambda g: g.normal(0, 4, 200), lambda g: g.integers(0, 2, 200).astype(float), {"gamma": 0.0}),
    ("logistic", lambda g: g.normal(0, 4, 200), lambda g: g.choice([-1.0, 1.0], 200), {}),
    ("exponential", lambda g: g.normal(0, 2, 200), lambda g: g.choice([-1.0, 1.0], 200), {}),
]


@pytest.mark.parametrize(("name", "pred", "target", "params"), POINTWISE_FD_CASES)
def test_pointwise_gradient_and_curvature_match_finite_differences(fd_check, name, pred, target, params) -> None:
    g = rng()
    fd_check(name, pred(g), target(g), **params)


@pytest.mark.parametrize(
    ("name", "target", "params"),
    [
        ("cross_entropy", np.array([0.0, 2.0, 1.0]), {"label_smoothing": 0.2}),
        ("cross_entropy", np.array([[0.2, 0.5, 0.3]] * 3), {}),
        ("weighted_cross_entropy", np.array([0.0, 2.0, 1.0]), {"weight": 4.0}),
        ("softmax_focal", np.array([0.0, 2.0, 1.0]), {"gamma": 0.5}),
        ("kl_div", np.array([[0.2, 0.5, 0.3]] * 3), {}),
    ],
)
def test_structured_gradient_matches_finite_differences(name, target, params) -> None:
    h = 1e-6
    x = rng().normal(0, 2, (3, 3))
    res = lossviz.evaluate(name, x, target, **params)
    fd = np.zeros_like(x)
    for c in range(x.shape[-1]):
        step = np.zeros_like(x)
        step[:, c] = h
        up = lossviz.evaluate(name, x + step, target, order=0, **params).value
        down = lossviz.evaluate(name, x - step, target, order=0, **params).value
        fd[:, c] = (up - down) / (2 * h)
    np.testing.assert_allclose(res.grad, fd, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(x=logits, y=labels01)
def test_focal_with_gamma_0_and_no_weighting_is_bce_logits(x: float, y: float) -> None:
    fl = lossviz.evaluate("focal", x, y, order=2, gamma=0.0, alpha=-1.0)
    bce = lossviz.evaluate("bce_logits", x, y, order=2)
    for a, b in ((fl.value, bce.value), (fl.grad, bce.grad), (fl.curvature, bce.curvature)):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-300)


@settings(max_examples=200, deadline=None)
@given(p=logits, y=st.sampled_from([-1.0, 1.0]))
def test_logistic_is_bce_logits_with_labels_mapped_to_0_1(p: float, y: float) -> None:
    lg = lossviz.evaluate("logistic", p, y, order=2)
    bce = lossviz.evaluate("bce_logits", p, (y + 1) / 2, order=2)
    for a, b in ((lg.value, bce.value), (lg.grad, bce.grad), (lg.curvature, bce.curvature)):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-300)


@settings(max_examples=100, deadline=None)
@given(
    x=st.lists(st.floats(-50, 50), min_size=2, max_size=6),
    data=st.data(),
    label_smoothing=st.sampled_from([0.0, 0.1, 0.9]),
)
def test_cross_entropy_one_hot_probabilities_equal_class_index(x, data, label_smoothing) -> None:
    n_classes = len(x)
    k = data.draw(st.integers(0, n_classes - 1))
    by_index = lossviz.evaluate("cross_entropy", x, float(k), label_smoothing=label_smoothing)
    by_probs = lossviz.evaluate("cross_entropy", x, np.eye(n_classes)[k], label_smoothing=label_smoothing)
    assert_matches(by_probs, by_index.value, by_index.grad, rtol=1e-13, atol=1e-13)


ULPS = 1e-14
"""Grid against single points: torch's vectorised exp/sigmoid (grids) and scalar ones (one point) differ by an ulp."""

GRID_CASES = [
    ("bce", np.linspace(0, 1, 6), np.linspace(0, 1, 4), {}),
    ("bce_logits", np.linspace(-6, 6, 7), np.linspace(0, 1, 3), {"pos_weight": 3.0}),
    ("focal", np.linspace(-6, 6, 7), np.array([0.0, 1.0, 1.0]), {"gamma": 0.5}),
    ("logistic", np.linspace(-3, 3, 5), np.array([-1.0, 1.0]), {}),
    ("exponential", np.linspace(-3, 3, 5), np.array([-1.0, 1.0]), {}),
]


@pytest.mark.parametrize(("name", "pred", "target", "params"), GRID_CASES)
def test_pointwise_grid_equals_a_loop_over_points(name, pred, target, params) -> None:
    grid = lossviz.evaluate(name, pred[None, :], target[:, None], order=2, **params)
    assert grid.value.shape == (target.size, pred.size)
    for i, y in enumerate(target):
        for j, p in enumerate(pred):
            one = lossviz.evaluate(name, p, y, order=2, **params)
            got = (grid.value[i, j], grid.grad[i, j], grid.curvature[i, j])
            np.testing.assert_allclose(got, (one.value, one.grad, one.curvature), rtol=ULPS, atol=0)


@settings(max_examples=60, deadline=None)
@given(
    pred=st.lists(logits, min_size=1, max_size=6),
    target=st.lists(labels01, min_size=1, max_size=4),
    gamma=st.sampled_from([0.0, 0.5, 2.0]),
)
def test_focal_grid_equals_a_loop_over_points(pred, target, gamma) -> None:
    """Exercises the closed-form gradient on broadcast (zero-stride) targets against single points."""
    grid = lossviz.evaluate("focal", np.array(pred)[None, :], np.array(target)[:, None], order=2, gamma=gamma)
    for i, y in enumerate(target):
        for j, p in enumerate(pred):
            one = lossviz.evaluate("focal", p, y, order=2, gamma=gamma)
            got = (grid.value[i, j], grid.grad[i, j], grid.curvature[i, j])
            np.testing.assert_allclose(got, (one.value, one.grad, one.curvature), rtol=ULPS, atol=0)


@pytest.mark.parametrize("name", ["cross_entropy", "weighted_cross_entropy", "softmax_focal", "kl_div"])
def test_structured_grid_equals_a_loop_over_points(name: str) -> None:
    g = rng()
    pred = g.normal(0, 3, (5, 4))
    if name == "kl_div":
        target, target_grid = random_distributions(g, (3, 4)), None
        target_grid = target[:, None, :]
    else:
        target = np.array([0.0, 3.0, 1.0])
        target_grid = target[:, None]
    grid = lossviz.evaluate(name, pred[None, :, :], target_grid)
    assert grid.value.shape == (3, 5) and grid.grad.shape == (3, 5, 4)
    for i in range(3):
        for j in range(5):
            one = lossviz.evaluate(name, pred[j], target[i])
            np.testing.assert_allclose(grid.value[i, j], one.value, rtol=ULPS, atol=0)
            np.testing.assert_allclose(grid.grad[i, j], one.grad, rtol=ULPS, atol=1e-300)


def test_cross_entropy_probability_grid_needs_matching_axes() -> None:
    """pred[None] (1, P, C) against target[:, None] (T, 1, C) holds probabilities: a (T, P) grid."""
    g = rng()
    pred, target = g.normal(0, 2, (4, 3)), random_distributions(g, (2, 3))
    grid = lossviz.evaluate("cross_entropy", pred[None], target[:, None])
    ref = -(target[:, None, :] * torch.log_softmax(torch.tensor(pred), -1).numpy()[None]).sum(-1)
    np.testing.assert_allclose(grid.value, ref, rtol=1e-14)


# ---------------------------------------------------------------- bad input


# spec.Domain.check prints numpy scalars with their repr, np.float64(0.5): \D* accepts either form.
@pytest.mark.parametrize(
    ("name", "pred", "target", "params", "message"),
    [
        ("cross_entropy", np.zeros((2, 3)), [0.0, 3.0], {}, r"class index 3 .* C = 3"),
        ("weighted_cross_entropy", np.zeros((2, 5)), [7.0, 1.0], {}, r"class index 7 .* C = 5"),
        ("softmax_focal", np.zeros(3), 4.0, {}, r"class index 4 .* C = 3"),
        ("cross_entropy", np.zeros((2, 3)), [0.0, 1.5], {}, r"integer class indices; got 1\.5"),
        ("weighted_cross_entropy", np.zeros((2, 3)), [0.0, 1.5], {}, r"got \D*1\.5"),
        ("cross_entropy", np.zeros((2, 3)), [[0.2, 0.2, 0.2], [0.2, 0.3, 0.5]], {}, r"sum to 1 .* got sum 0\.6"),
        ("kl_div", np.zeros(3), [0.5, 0.5, 0.5], {}, r"sum to 1 .* got sum 1\.5"),
        ("kl_div", np.zeros(3), [-0.5, 0.5, 1.0], {}, r"got \D*-0\.5"),
        ("cross_entropy", np.zeros(3), [2.0, -0.5, -0.5], {}, r"got \D*-0\.5"),
        ("cross_entropy", np.zeros(2), [1.5, 0.0], {}, r"must lie in \[0, 1\]; got 1\.5"),
        ("bce", [0.5, 1.5], [0.0, 1.0], {}, r"pred of 'bce' .* got \D*1\.5"),
        ("bce", [0.5, 0.5], [0.0, -0.2], {}, r"target of 'bce' .* got \D*-0\.2"),
        ("focal", [0.5], [0.5], {}, r"target of 'focal' .* got \D*0\.5"),
        ("logistic", [0.5], [0.5], {}, r"target of 'logistic' .* got \D*0\.5"),
        ("cross_entropy", np.zeros((2, 1)), [0.0, 0.0], {}, r"at least 2 class logits"),
        ("weighted_cross_entropy", np.zeros((2, 3)), [0.0, 1.0], {"weighted_class": 3}, r"'weighted_class' .* is 3"),
        ("softmax_focal", np.zeros((2, 1)), [0.0, 0.0], {}, r"at least 2 class logits"),
    ],
)
def test_bad_input_raises_domain_error_naming_the_value(name, pred, target, params, message) -> None:
    with pytest.raises(DomainError, match=message):
        lossviz.evaluate(name, pred, target, **params)


# ---------------------------------------------------------------- declarations


def test_declarations_are_complete() -> None:
    specs = [lossviz.spec(n) for n in lossviz.names("classification")]
    assert {s.name for s in specs} == {
        "bce", "bce_logits", "focal", "cross_entropy", "weighted_cross_entropy",
        "softmax_focal", "kl_div", "logistic", "exponential",
    }
    for s in specs:
        assert s.title and s.latex and s.use_when and s.references and s.kinks is None, s.name
        assert s.kind == ("pointwise" if s.pred_event_ndim == 0 else "structured"), s.name
    assert lossviz.spec("focal").param("alpha").contains(-1.0)
    assert not lossviz.spec("focal").param("alpha").contains(-0.5)
