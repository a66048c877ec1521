"""Barron's adaptive robust loss: ρ with a learnable α, the partition function Z(α) against scipy's adaptive
quadrature and closed forms, the NLL against the catalogue's fixed-α loss, gradients against finite differences,
and training that learns α and c."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad
from scipy.special import k1

import lossviz
from lossviz.errors import ParameterError
from lossviz.toolkit import adaptive as ad
from lossviz.toolkit import training as tr
from lossviz.toolkit.data import DataConfig

ALPHAS = [0.0, 1e-9, 1e-6, 1e-3, 0.01, 0.1, 0.5, 1.0, 1.5, 1.9, 1.99, 1.999, 2 - 1e-6, 2.0]


def _rho_reference(x: float, alpha: float) -> float:
    """Barron's ρ(x, α, 1) in plain floats: the paper's |α−2|/α·((x²/|α−2| + 1)^{α/2} − 1) with its power
    written exp(α/2·log(…)) − 1 through expm1/log1p, which the paper's form would lose to cancellation near
    α = 0 (7 digits at α = 10⁻⁹), and its limits at α = 0 and 2."""
    if alpha == 0.0:
        return math.log1p(0.5 * x * x)
    if alpha == 2.0:
        return 0.5 * x * x
    b = abs(alpha - 2.0)
    return b / alpha * math.expm1(alpha / 2.0 * math.log1p(x * x / b))


def _log_z_quad(alpha: float) -> float:
    """log Z(α) by scipy's adaptive quadrature over x (QUADPACK's qagi on [0, ∞), doubled)."""
    value, _error = quad(
        lambda x: math.exp(-_rho_reference(x, alpha)), 0.0, math.inf, epsabs=0.0, epsrel=1e-13, limit=500
    )
    return math.log(2.0 * value)


# --- the partition function -------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", ALPHAS)
def test_log_partition_equals_scipy_quad(alpha: float) -> None:
    assert float(ad.log_partition(alpha)) == pytest.approx(_log_z_quad(alpha), rel=0, abs=1e-13)


@pytest.mark.parametrize(
    ("alpha", "z"),
    [(2.0, math.sqrt(2 * math.pi)), (0.0, math.sqrt(2) * math.pi), (1.0, 2 * math.e * k1(1.0))],
    ids=["gaussian", "cauchy", "pseudo-huber"],
)
def test_log_partition_closed_forms(alpha: float, z: float) -> None:
    """α = 2: ∫exp(−x²/2) = √(2π); α = 0: ∫dx/(1 + x²/2) = √2·π; α = 1: ∫exp(1 − √(1 + x²)) = 2e·K₁(1)."""
    assert float(ad.log_partition(alpha)) == pytest.approx(math.log(z), rel=0, abs=2e-15)


def test_log_partition_batches_and_its_derivative_matches_finite_differences() -> None:
    alphas = torch.tensor([0.001, 0.3, 1.0, 1.7, 1.99, 1.999], dtype=torch.float64, requires_grad=True)
    values = ad.log_partition(alphas)
    np.testing.assert_allclose(
        values.detach().numpy(), [float(ad.log_partition(a)) for a in alphas.tolist()], rtol=0, atol=1e-15
    )
    (grad,) = torch.autograd.grad(values.sum(), alphas)
    for a, g in zip(alphas.tolist(), grad.tolist(), strict=True):
        h = 1e-4 * min(a, 2 - a)
        fd = (_log_z_quad(a + h) - _log_z_quad(a - h)) / (2 * h)
        assert g == pytest.approx(fd, rel=1e-6)
    # d log Z/dα → −∞ as α → 2: the (2 − α)·log(2 − α) term no polynomial spline follows
    assert grad[-1] < grad[-2] < -0.8


@pytest.mark.parametrize(("alpha", "scale"), [(0.0, 1.0), (0.7, 0.3), (1.0, 2.0), (1.95, 0.5), (2.0, 1.5)])
def test_the_density_integrates_to_one(alpha: float, scale: float) -> None:
    def density(x: float) -> float:
        return math.exp(
            -float(
                ad.nll(
                    torch.tensor(x, dtype=torch.float64),
                    torch.tensor(0.0, dtype=torch.float64),
                    alpha=alpha,
                    scale=scale,
                )
            )
        )

    total = 2 * quad(density, 0.0, math.inf, epsabs=0.0, epsrel=1e-12, limit=500)[0]
    assert total == pytest.approx(1.0, abs=1e-11)


# --- ρ and the NLL ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", ALPHAS)
def test_rho_equals_the_catalogue_barron_loss(alpha: float) -> None:
    r = torch.linspace(-30, 30, 241, dtype=torch.float64)
    fixed = lossviz.spec("barron").fn(r, torch.zeros_like(r), alpha=alpha, scale=0.7)
    np.testing.assert_allclose(
        ad.rho(r, torch.tensor(alpha, dtype=torch.float64), 0.7).numpy(), fixed.numpy(), rtol=1e-13, atol=1e-300
    )


@pytest.mark.parametrize("alpha", [0.0, 0.001, 0.4, 1.0, 1.6, 1.999, 2.0])
@pytest.mark.parametrize("scale", [0.05, 1.0, 3.0])
def test_nll_is_the_fixed_alpha_barron_loss_plus_the_normaliser(alpha: float, scale: float) -> None:
    gen = torch.Generator().manual_seed(3)
    pred = 3 * torch.randn(50, dtype=torch.float64, generator=gen)
    target = torch.randn(50, dtype=torch.float64, generator=gen)
    fixed = lossviz.spec("barron").fn(pred, target, alpha=alpha, scale=scale)
    expected = fixed + math.log(scale) + _log_z_quad(alpha)
    np.testing.assert_allclose(
        ad.nll(pred, target, alpha=alpha, scale=scale).numpy(), expected.numpy(), rtol=1e-12, atol=1e-12
    )


def test_nll_at_the_ends_is_the_gaussian_and_the_cauchy_log_density() -> None:
    r = torch.linspace(-8, 8, 33, dtype=torch.float64)
    c = 0.6
    gaussian = -torch.distributions.Normal(0.0, torch.tensor(c, dtype=torch.float64)).log_prob(r)
    np.testing.assert_allclose(ad.nll(r, torch.zeros_like(r), alpha=2.0, scale=c).numpy(), gaussian.numpy(), rtol=1e-14)
    cauchy = -torch.distributions.Cauchy(0.0, torch.tensor(math.sqrt(2) * c, dtype=torch.float64)).log_prob(
        r
    )  # α = 0: Cauchy of scale √2·c
    np.testing.assert_allclose(ad.nll(r, torch.zeros_like(r), alpha=0.0, scale=c).numpy(), cauchy.numpy(), rtol=1e-14)


def test_nll_is_negative_where_the_density_exceeds_one() -> None:
    """robust_loss_pytorch issue #2: a narrow density (small c) has −log p < 0 near its centre."""
    zero = torch.zeros(1, dtype=torch.float64)
    assert float(ad.nll(zero, zero, alpha=1.0, scale=0.1)) < 0 < float(ad.nll(zero, zero, alpha=1.0, scale=1.0))
    assert float(ad.nll(zero, zero, alpha=1.0, scale=0.1)) == pytest.approx(math.log(0.1 * 2 * math.e * k1(1.0)))


@pytest.mark.parametrize("alpha", [0.002, 0.3, 1.0, 1.7, 1.998])
@pytest.mark.parametrize("scale", [0.2, 1.5])
def test_gradients_in_alpha_scale_and_pred_match_finite_differences(alpha: float, scale: float) -> None:
    gen = torch.Generator().manual_seed(11)
    pred = 2 * torch.randn(20, dtype=torch.float64, generator=gen)
    target = torch.zeros(20, dtype=torch.float64)

    def total(p: torch.Tensor, a: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return ad.nll(p, target, alpha=a, scale=c).sum()

    a = torch.tensor(alpha, dtype=torch.float64, requires_grad=True)
    c = torch.tensor(scale, dtype=torch.float64, requires_grad=True)
    p = pred.clone().requires_grad_(True)
    g_p, g_a, g_c = torch.autograd.grad(total(p, a, c), (p, a, c))
    with torch.no_grad():
        h = 1e-6 * min(alpha, 2 - alpha, 1.0)
        fd_a = (total(pred, a + h, c) - total(pred, a - h, c)) / (2 * h)
        fd_c = (total(pred, a, c + 1e-6) - total(pred, a, c - 1e-6)) / 2e-6
        bump = 1e-6 * torch.eye(20, dtype=torch.float64)
        fd_p = torch.stack([(total(pred + e, a, c) - total(pred - e, a, c)) / 2e-6 for e in bump])
    assert float(g_a) == pytest.approx(float(fd_a), rel=1e-6, abs=1e-7)
    assert float(g_c) == pytest.approx(float(fd_c), rel=1e-6, abs=1e-7)
    np.testing.assert_allclose(g_p.numpy(), fd_p.numpy(), rtol=1e-6, atol=1e-7)


# --- the learned parameters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("alpha", "scale"), [(1.0, 1.0), (0.0015, 1e-4), (1.998, 50.0), (0.3, 0.05)])
def test_latent_and_shape_are_inverse(alpha: float, scale: float) -> None:
    a, c = ad.shape(ad.latent(alpha, scale))
    assert float(a) == pytest.approx(alpha, rel=1e-12) and float(c) == pytest.approx(scale, rel=1e-12)


def test_shape_stays_in_its_range_for_any_latent() -> None:
    latent = torch.tensor([[-800.0, -800.0], [800.0, 800.0], [0.0, 0.0]], dtype=torch.float64).T
    alpha, scale = ad.shape(latent)
    assert (alpha >= ad.ALPHA_LOW).all() and (alpha <= ad.ALPHA_HIGH).all() and (scale >= ad.SCALE_LOW).all()
    assert float(alpha[2]) == pytest.approx(1.0) and float(scale[2]) == pytest.approx(math.log(2) + ad.SCALE_LOW)


@pytest.mark.parametrize(("alpha", "scale"), [(0.0, 1.0), (2.0, 1.0), (-1.0, 1.0), (1.0, 0.0), (1.0, 1e-6)])
def test_a_start_outside_the_learned_range_is_refused(alpha: float, scale: float) -> None:
    with pytest.raises(ParameterError):
        ad.latent(alpha, scale)
    config = tr.default_config(
        DataConfig("regression"), loss="barron", adaptive=True, loss_params={"alpha": alpha, "scale": scale}
    )
    with pytest.raises(ParameterError):
        tr.setup(config)


# --- training with the adaptive loss ------------------------------------------------------------------------


def _adaptive(outliers: float = 0.1, **changes) -> tr.TrainConfig:
    return tr.with_loss_choice(
        tr.default_config(DataConfig("regression", n_samples=200, outliers=outliers), **{"epochs": 20, **changes}),
        tr.ADAPTIVE_BARRON,
    )


def test_only_barron_learns_its_shape() -> None:
    with pytest.raises(ParameterError, match="barron"):
        tr.setup(tr.default_config(DataConfig("regression"), loss="huber", adaptive=True))
    with pytest.raises(ParameterError, match="regression"):
        tr.setup(tr.default_config(loss="barron", adaptive=True))  # two moons: labels, not residuals
    assert tr.ADAPTIVE_BARRON in tr.loss_choices("regression")
    assert tr.ADAPTIVE_BARRON not in tr.loss_choices("binary")
    config = _adaptive()
    assert (config.loss, config.adaptive) == ("barron", True) and tr.loss_choice(config) == tr.ADAPTIVE_BARRON
    assert tr.setup(config).spec is ad.BARRON_NLL


def test_adaptive_training_matches_a_torch_loop_over_model_alpha_and_scale() -> None:
    """Two epochs of Adam on the network and the latent (a, b) together, as robust_loss_pytorch trains them."""
    config = _adaptive(epochs=2, batch_size=16)
    result = tr.train(config)
    su = result.setup
    theta = su.model.init(config.data.seed).requires_grad_(True)
    latent = ad.latent(1.0, 1.0).requires_grad_(True)
    opt = torch.optim.Adam([theta, latent], lr=config.lr)
    x, y = torch.as_tensor(su.dataset.x_train), torch.as_tensor(su.dataset.y_train)
    shuffle = torch.Generator().manual_seed(tr._stream_seed(config.data.seed, tr.SHUFFLE_STREAM))
    shapes = [(1.0, 1.0)]
    for _epoch in range(2):
        order = torch.randperm(len(y), generator=shuffle)
        for start in range(0, len(y), 16):
            idx = order[start : start + 16]
            opt.zero_grad()
            alpha, scale = ad.shape(latent)
            pred = su.model.forward(theta, x[idx])[:, 0]
            ad.nll(pred, y[idx], alpha=alpha, scale=scale).mean().backward()
            opt.step()
        shapes.append(tuple(float(v) for v in ad.shape(latent.detach())))
    np.testing.assert_allclose(result.theta_final, theta.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(result.shapes, shapes, rtol=1e-10)
    assert su.params == pytest.approx({"alpha": shapes[-1][0], "scale": shapes[-1][1]}, rel=1e-12)


def test_the_curves_are_the_nll_at_the_alpha_and_scale_of_each_epoch() -> None:
    result = tr.train(_adaptive(epochs=5))
    assert result.shapes.shape == (6, 2)
    np.testing.assert_allclose(result.shapes[0], [1.0, 1.0], rtol=1e-15)
    train_obj, _val = tr.objectives(result.setup)
    for k in (0, 5):
        alpha, scale = result.shapes[k]
        expected = train_obj.with_params({"alpha": alpha, "scale": scale}).loss(torch.as_tensor(result.thetas[k]))
        assert result.curves.train_loss[k] == pytest.approx(float(expected), rel=1e-12)
    assert tr.train(_adaptive(epochs=5)).shapes.tolist() == result.shapes.tolist()  # seeded


def test_alpha_settles_lower_with_outliers() -> None:
    """Barron §3: outliers make heavy tails likelier, so the learned α drops towards Cauchy (0); on clean
    Gaussian noise it climbs towards the Gaussian (2)."""
    clean = tr.train(_adaptive(outliers=0.0)).shapes[-1, 0]
    dirty = tr.train(_adaptive(outliers=0.1)).shapes[-1, 0]
    assert clean > 1.3 and dirty < 1.1 and dirty < clean - 0.3


def test_a_fixed_loss_records_no_shapes() -> None:
    result = tr.train(tr.default_config(DataConfig("regression", n_samples=100), loss="barron", epochs=3))
    assert result.shapes is None and result.setup.spec is lossviz.spec("barron")


def test_compare_mode_offers_the_adaptive_loss_for_regression() -> None:
    base = tr.default_config(DataConfig("regression"), loss="barron", loss_params={"alpha": -2.0})
    assert tr.ADAPTIVE_BARRON in tr.compare_options("loss", "regression")
    varied = tr.varied(base, "loss", tr.ADAPTIVE_BARRON)
    assert varied.adaptive and varied.loss == "barron" and varied.loss_params == ()  # Barron's α = −2 cannot start
    started = tr.with_loss_choice(base, tr.ADAPTIVE_BARRON, {"alpha": 0.5, "scale": 2.0})
    assert tr.varied(started, "loss", tr.ADAPTIVE_BARRON).loss_params == (("alpha", 0.5), ("scale", 2.0))
    assert not tr.varied(started, "loss", "mse").adaptive


def test_the_outlier_twin_changes_only_the_outlier_share() -> None:
    config = _adaptive(outliers=0.2)
    twin = tr.outlier_twin(config)
    assert twin.data.outliers == 0.0 and tr.outlier_twin(twin).data.outliers == DataConfig().outliers
    assert twin.replace(data=config.data) == config
    assert tr.outlier_twin(tr.default_config()) is None  # no outliers to take away from two moons
