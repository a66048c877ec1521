"""lossviz.toolkit.fit against closed forms and independent solvers: np.polyfit, scipy's linprog and minimize."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, minimize

import lossviz
from lossviz.toolkit import fit as fitting
from lossviz.toolkit.training import compatible_losses

COEF_TOL = 1e-6
LP_RTOL = 1e-9


def _data(seed: int, n: int = 40, outliers: int = 4, size: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, n)
    y = 1.0 + 2.0 * x + rng.standard_normal(n)
    y[:outliers] += size
    return x, y


def _upload_like(seed: int, n: int, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Rows like bench/upload.py's file: x in [0, 100], y = 3x + 20 + noise, 2 % gross outliers, 4 decimals;
    ``ties``: x takes 10 integer values and y one decimal (many points on one line: degenerate vertices)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 10, n).astype(float) if ties else rng.uniform(0, 100, n)
    y = 3 * x + 20 + rng.normal(0, 5, n)
    outliers = rng.random(n) < 0.02
    y[outliers] += rng.uniform(100, 400, outliers.sum())
    return np.round(x, 4), np.round(y, 1 if ties else 4)


def _quantile_lp(x: np.ndarray, y: np.ndarray, tau: float, weight: np.ndarray | None = None) -> np.ndarray:
    """The exact pinball-loss line as a linear program: min Σ w(τu⁺ + (1−τ)u⁻) s.t. a + bx + u⁺ − u⁻ = y.

    u⁺ − u⁻ = y − p is the residual split into its positive and negative parts (Koenker & Bassett 1978).
    """
    n = x.size
    w = np.ones(n) if weight is None else weight
    cost = np.concatenate([[0.0, 0.0], tau * w, (1 - tau) * w])
    a_eq = np.hstack([np.column_stack([np.ones(n), x]), np.eye(n), -np.eye(n)])
    bounds = [(None, None)] * 2 + [(0, None)] * (2 * n)
    res = linprog(cost, A_eq=a_eq, b_eq=y, bounds=bounds, method="highs")
    assert res.status == 0
    return res.x[:2]


def _lp_optimum(x: np.ndarray, y: np.ndarray, below: float, above: float, epsilon: float = 0.0) -> float:
    """min over (a, b) of Σᵢ [above·(yᵢ − pᵢ − ε)⁺ + below·(pᵢ − yᵢ − ε)⁺], p = a + b·x, by its dual linear
    program: max yᵀd − ε‖d‖₁ subject to Xᵀd = 0, −below ≤ d ≤ above (d = u − v, u, v ≥ 0).

    ``below`` = ``above`` = 1 is MAE (ε = 0) or ε-insensitive; (1 − τ, τ) is the pinball loss.
    """
    xt = sp.csr_matrix(np.column_stack([np.ones_like(x), x]).T)
    res = linprog(
        np.r_[epsilon - y, epsilon + y], A_eq=sp.hstack([xt, -xt]), b_eq=np.zeros(2),
        bounds=[(0.0, above)] * x.size + [(0.0, below)] * x.size, method="highs-ipm",
    )  # fmt: skip
    assert res.status == 0, res.message
    return -float(res.fun)


def _minimize_line(loss: str, x: np.ndarray, y: np.ndarray, start: np.ndarray, **params: float) -> np.ndarray:
    """scipy's BFGS on Σρ(a + bx, y), with ρ and ψ written independently in NumPy."""
    rho, psi = _NUMPY_LOSSES[loss]

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        r = theta[0] + theta[1] * x - y
        g = psi(r, **params)
        return float(rho(r, **params).sum()), np.array([g.sum(), (g * x).sum()])

    res = minimize(f, start, jac=True, method="BFGS", options={"gtol": 1e-11, "maxiter": 10000})
    return res.x


def _huber(r: np.ndarray, delta: float = 1.0) -> np.ndarray:
    return np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))


def _barron(r: np.ndarray, alpha: float = 1.0, scale: float = 1.0) -> np.ndarray:
    b = abs(alpha - 2)
    return b / alpha * (((r / scale) ** 2 / b + 1) ** (alpha / 2) - 1)


def _barron_psi(r: np.ndarray, alpha: float = 1.0, scale: float = 1.0) -> np.ndarray:
    b = abs(alpha - 2)
    return r / scale**2 * ((r / scale) ** 2 / b + 1) ** (alpha / 2 - 1)


_NUMPY_LOSSES = {
    "huber": (_huber, lambda r, delta=1.0: np.clip(r, -delta, delta)),
    "log_cosh": (lambda r: np.logaddexp(r, -r) - np.log(2), np.tanh),
    "barron": (_barron, _barron_psi),
}


# --- one loss: closed forms and independent solvers ----------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_mse_matches_polyfit(seed: int) -> None:
    x, y = _data(seed)
    fit = fitting.fit_line("mse", x, y)
    np.testing.assert_allclose(fit.coef, np.polyfit(x, y, 1)[::-1], rtol=0, atol=COEF_TOL)
    assert fit.converged and fit.grad_norm < 1e-8


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(("loss", "tau"), [("mae", 0.5), ("quantile", 0.5), ("quantile", 0.1), ("quantile", 0.85)])
def test_piecewise_linear_matches_linprog(seed: int, loss: str, tau: float) -> None:
    x, y = _data(seed, n=30 + seed)
    params = {"tau": tau} if loss == "quantile" else {}
    fit = fitting.fit_line(loss, x, y, **params)
    np.testing.assert_allclose(fit.coef, _quantile_lp(x, y, tau), rtol=0, atol=COEF_TOL)
    assert fit.converged
    assert fit.grad_norm < 1e-9  # the minimal subgradient of an exact vertex solution


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("loss", "params"),
    [("huber", {"delta": 1.0}), ("huber", {"delta": 0.3}), ("log_cosh", {}), ("barron", {"alpha": 1.5})],
)
def test_smooth_convex_matches_bfgs(seed: int, loss: str, params: dict[str, float]) -> None:
    x, y = _data(seed)
    fit = fitting.fit_line(loss, x, y, **params)
    expected = _minimize_line(loss, x, y, np.polyfit(x, y, 1)[::-1], **params)
    np.testing.assert_allclose(fit.coef, expected, rtol=0, atol=COEF_TOL)
    assert fit.converged and fit.iterations < 50


@pytest.mark.parametrize("alpha", [0.5, -1.0, -4.0])
def test_nonconvex_barron_from_robust_start(alpha: float) -> None:
    """Barron α < 1: BFGS started at the L1 line reaches the same minimum, which ignores the outliers."""
    x, y = _data(3, n=50, outliers=6, size=25.0)
    fit = fitting.fit_line("barron", x, y, alpha=alpha)
    expected = _minimize_line("barron", x, y, _quantile_lp(x, y, 0.5), alpha=alpha)
    np.testing.assert_allclose(fit.coef, expected, rtol=0, atol=COEF_TOL)
    assert fit.converged
    assert abs(fit.coef[1] - 2.0) < 0.6 < abs(np.polyfit(x, y, 1)[0] - 2.0)


def test_weights_drop_points() -> None:
    x, y = _data(0)
    weight = np.ones_like(x)
    weight[:4] = 0.0
    for loss in ("mse", "mae", "huber"):
        dropped = fitting.fit_line(loss, x, y, weight)
        kept = fitting.fit_line(loss, x[4:], y[4:])
        np.testing.assert_allclose(dropped.coef, kept.coef, atol=COEF_TOL)


def test_integer_weights_equal_repeated_points() -> None:
    x, y = _data(1, n=25)
    weight = np.arange(25) % 3 + 1.0
    fit = fitting.fit_line("mae", x, y, weight)
    np.testing.assert_allclose(fit.coef, _quantile_lp(x, y, 0.5, weight), atol=COEF_TOL)


def test_batch_equals_separate_fits() -> None:
    sets = [_data(s, n=30) for s in range(6)]
    xs, ys = np.stack([s[0] for s in sets]), np.stack([s[1] for s in sets])
    for loss in ("mae", "huber", "barron"):
        batch = fitting.fit_line(loss, xs, ys)
        assert batch.coef.shape == (6, 2) and batch.converged.shape == (6,)
        for i, (x, y) in enumerate(sets):
            np.testing.assert_allclose(batch.coef[i], fitting.fit_line(loss, x, y).coef, atol=COEF_TOL)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(5, 40),
    tau=st.floats(0.05, 0.95),
)
def test_quantile_property_against_linprog(seed: int, n: int, tau: float) -> None:
    x, y = _data(seed, n=n, outliers=min(3, n))
    fit = fitting.fit_line("quantile", x, y, tau=tau)
    expected = _quantile_lp(x, y, tau)
    # The LP optimum may be a whole face (several optimal lines) for small n: compare objectives.
    assert fit.objective <= _pinball(expected, x, y, tau) * (1 + 1e-9) + 1e-12
    assert fit.converged


def _pinball(theta: np.ndarray, x: np.ndarray, y: np.ndarray, tau: float) -> float:
    u = y - theta[0] - theta[1] * x
    return float(np.maximum(tau * u, (tau - 1) * u).sum())


def test_location_estimates() -> None:
    y = np.array([0.3, -1.2, 5.0, 0.8, 2.2, 40.0, 1.1])
    assert fitting.fit_location("mse", y).coef[0] == pytest.approx(y.mean(), abs=1e-12)
    assert fitting.fit_location("mae", y).coef[0] == pytest.approx(np.median(y), abs=1e-12)
    huber = fitting.fit_location("huber", y, delta=1.0).coef[0]
    assert np.clip(y - huber, -1.0, 1.0).sum() == pytest.approx(0.0, abs=1e-10)


def test_convergence_report_for_every_line_loss() -> None:
    x, y = _data(2)
    for loss in fitting.line_losses():
        fit = fitting.fit_line(loss, x, y)
        assert fit.converged, (loss, fit.grad_norm)
        assert fit.iterations >= 1 and np.isfinite(fit.objective)
        assert fit.loss == loss and fit.params == lossviz.spec(loss).defaults


def test_pull_and_share() -> None:
    pulls = fitting.pull("huber", np.array([0.0, 0.5, 10.0]), 0.0, delta=1.0)
    np.testing.assert_allclose(pulls, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(fitting.pull_share(pulls), [0.0, 1 / 3, 2 / 3])
    assert fitting.pull_share(np.zeros(3)).sum() == 0.0


def test_bad_parameters_and_weights_raise() -> None:
    x, y = _data(0)
    with pytest.raises(lossviz.ParameterError):
        fitting.fit_line("huber", x, y, delta=-1.0)
    with pytest.raises(ValueError, match="non-negative"):
        fitting.fit_line("mae", x, y, -np.ones_like(x))
    with pytest.raises(ValueError, match="at least one term"):
        fitting.minimize_terms((), np.ones((3, 1)), np.zeros(3))


@pytest.mark.parametrize("seed", range(4))
def test_epsilon_insensitive_reaches_lp_optimum(seed: int) -> None:
    """A third piecewise-linear loss through the same generic kink path (ε-insensitive, kinks at y ± ε)."""
    x, y = _data(seed, n=35)
    fit = fitting.fit_line("epsilon_insensitive", x, y, epsilon=0.5)
    assert fit.objective == pytest.approx(_lp_optimum(x, y, 1.0, 1.0, 0.5), rel=LP_RTOL, abs=1e-12)
    assert fit.converged


def test_every_row_of_a_sweep_matches_linprog() -> None:
    """The batched vertex walk on a sensitivity sweep: each row is its own exact L1 line."""
    x, y = _data(1, n=45, outliers=0)
    offsets = np.linspace(-30.0, 30.0, 15)
    xs = np.broadcast_to(np.append(x, 0.8), (offsets.size, x.size + 1))
    ys = np.column_stack([np.broadcast_to(y, (offsets.size, x.size)), 2.6 + offsets])
    fit = fitting.fit_line("mae", xs, ys)
    assert fit.converged.all()
    for i in range(offsets.size):
        np.testing.assert_allclose(fit.coef[i], _quantile_lp(xs[i], ys[i], 0.5), atol=COEF_TOL)


def test_huber_with_few_inliers_converges_fast() -> None:
    """A third of the points in a tight leverage cluster 15 above the line: few residuals inside ±δ, a
    badly determined Newton matrix and a loose IRLS majorizer (which crawled for 200 steps before
    Newton backtracking)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.0, 1.0, 60)
    y = 1.0 + 2.0 * x + rng.standard_normal(60)
    x[:20] = 0.8 + 0.04 * rng.uniform(-1.0, 1.0, 20)
    y[:20] = 1.0 + 2.0 * x[:20] + 15.0 + 0.75 * rng.standard_normal(20)
    fit = fitting.fit_line("huber", x, y, delta=1.0)
    assert fit.converged and fit.iterations < 30
    expected = _minimize_line("huber", x, y, fit.coef + 0.5, delta=1.0)
    np.testing.assert_allclose(fit.coef, expected, atol=COEF_TOL)


def test_a_ridge_makes_a_kinked_loss_curved_and_still_exact() -> None:
    """MAE + ½λθ²: no longer piecewise linear (the minimum need not be a vertex). Optimality, written
    independently: λθ + Σ sign(rᵢ)xᵢ + Σ_{rᵢ=0} dᵢxᵢ = 0 for some dᵢ in [−1, 1]."""
    x, y = _data(4, n=30)
    design = np.column_stack([np.ones_like(x), x])
    ridge = np.array([0.0, 25.0])
    fit = fitting.minimize_pointwise("mae", design, y, ridge=ridge)
    _assert_subgradient_condition(design, y - design @ fit.coef, ridge * fit.coef, lambda r: np.sign(-r), 2.0)
    assert fit.converged


# --- large files: the exact fit of a reduced problem ---------------------------------------------------


LARGE = 2 * fitting.GLOB_MIN_POINTS
"""Rows of the large cases: well into the reduced-problem path, still a fast test."""


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize(
    ("loss", "params", "below", "above", "epsilon"),
    [
        ("mae", {}, 1.0, 1.0, 0.0),
        ("quantile", {"tau": 0.9}, 0.1, 0.9, 0.0),
        ("epsilon_insensitive", {"epsilon": 0.5}, 1.0, 1.0, 0.5),
    ],
)
def test_large_piecewise_linear_fits_reach_the_lp_optimum(
    loss: str, params: dict[str, float], below: float, above: float, epsilon: float, ties: bool
) -> None:
    x, y = _upload_like(7, LARGE, ties)
    fit = fitting.fit_line(loss, x, y, **params)
    optimum = _lp_optimum(x, y, below, above, epsilon)
    assert abs(float(fit.objective) - optimum) <= LP_RTOL * optimum
    assert fit.converged


@pytest.mark.parametrize(("setting", "value"), [("GLOB_KEEP", 40), ("GLOB_SAMPLE", 60), ("GLOB_ROUNDS", 0)])
def test_globbing_is_exact_however_its_first_guess_goes(monkeypatch, setting: str, value: int) -> None:
    """A kept band far too narrow (crossing points join it, then it widens), a poor first centre, or no
    round at all (the whole problem is solved): the same optimum every time."""
    x, y = _upload_like(3, fitting.GLOB_MIN_POINTS + 2000)
    reference = fitting.fit_line("mae", x, y)
    monkeypatch.setattr(fitting, setting, value)
    fit = fitting.fit_line("mae", x, y)
    assert fit.objective == pytest.approx(reference.objective, rel=1e-12)
    assert fit.converged and reference.converged


def test_large_fits_with_dropped_points_and_in_batches() -> None:
    """Weight 0 drops points (the kept 8,000 are fitted directly, the 12,000 with zeros by reduced
    problems), and a batch of two large data sets equals two separate fits."""
    x, y = _upload_like(11, 12_000)
    weight = np.ones_like(x)
    weight[::3] = 0.0
    dropped = fitting.fit_line("quantile", x, y, weight, tau=0.25)
    kept = fitting.fit_line("quantile", x[weight > 0], y[weight > 0], tau=0.25)
    assert dropped.objective == pytest.approx(kept.objective, rel=1e-12)
    x2, y2 = _upload_like(12, 12_000)
    batch = fitting.fit_line("mae", np.stack([x, x2]), np.stack([y, y2]))
    for i, (xi, yi) in enumerate([(x, y), (x2, y2)]):
        assert batch.objective[i] == pytest.approx(fitting.fit_line("mae", xi, yi).objective, rel=1e-12)


# --- weighted sums of losses (a multi-task objective) --------------------------------------------------


def _assert_subgradient_condition(design, residual, smooth_grad, pull, jump, tol: float = 1e-9) -> None:
    """0 ∈ ∂F: smooth_grad + Σ_{rᵢ≠0} pull(rᵢ)xᵢ + Σ_{rᵢ=0} dᵢxᵢ = 0 with |dᵢ| ≤ ``jump``/2 around the
    mean pull there, solved by least squares over the points on the kink (r = y − p)."""
    on_kink = np.abs(residual) <= 1e-9 * (1.0 + np.abs(residual).max())
    fixed = smooth_grad + design[~on_kink].T @ pull(residual[~on_kink])
    scale = np.abs(design).T @ np.abs(pull(residual)) + np.abs(smooth_grad) + 1.0
    if not on_kink.any():
        assert np.all(np.abs(fixed) <= tol * scale), fixed
        return
    centre = (pull(np.full(on_kink.sum(), 1e-12)) + pull(np.full(on_kink.sum(), -1e-12))) / 2
    d, *_ = np.linalg.lstsq(design[on_kink].T, -fixed - design[on_kink].T @ centre, rcond=None)
    assert np.all(np.abs(design[on_kink].T @ (d + centre) + fixed) <= tol * scale)
    assert np.all(np.abs(d) <= jump / 2 * (1 + 1e-9)), d


@pytest.mark.parametrize("seed", range(4))
def test_mse_plus_mae_meets_the_subgradient_condition_for_every_weight(seed: int) -> None:
    """(1 − ω)·mean (p − y)² + ω·mean |p − y| for 11 weights at once; at most two points on the kink."""
    x, y = _data(seed, n=40)
    omega = np.linspace(0.0, 1.0, 11)[:, None]
    n = x.size
    terms = (fitting.Term("mse", {}, (1 - omega) / n), fitting.Term("mae", {}, omega / n))
    fit = fitting.fit_line_terms(terms, x, y)
    assert fit.coef.shape == (11, 2) and fit.losses == ("mse", "mae") and fit.converged.all()
    design = np.column_stack([np.ones_like(x), x])
    for k, w in enumerate(omega[:, 0]):
        r = y - design @ fit.coef[k]
        _assert_subgradient_condition(
            design, r, np.zeros(2), lambda r, w=w: (-(1 - w) * 2 * r - w * np.sign(r)) / n, 2 * w / n
        )
    np.testing.assert_allclose(fit.coef[0], np.polyfit(x, y, 1)[::-1], atol=COEF_TOL)
    np.testing.assert_allclose(fit.coef[-1], _quantile_lp(x, y, 0.5), atol=COEF_TOL)


@pytest.mark.parametrize("seed", range(3))
def test_huber_plus_quantile_meets_the_subgradient_condition(seed: int) -> None:
    x, y = _data(seed, n=35, outliers=5)
    terms = (fitting.Term("huber", {"delta": 0.5}, 0.3), fitting.Term("quantile", {"tau": 0.8}, 1.0))
    fit = fitting.fit_line_terms(terms, x, y)
    design = np.column_stack([np.ones_like(x), x])
    r = y - design @ fit.coef

    def pull(r: np.ndarray) -> np.ndarray:  # ∂/∂p of 0.3·huber(p − y) + pinball_0.8(y − p)
        return -0.3 * np.clip(r, -0.5, 0.5) - np.where(r > 0, 0.8, -0.2)

    _assert_subgradient_condition(design, r, np.zeros(2), pull, 1.0)
    assert fit.converged


@pytest.mark.parametrize("omega", [0.2, 0.7])
def test_two_piecewise_linear_losses_sum_to_the_lp_optimum(omega: float) -> None:
    """(1 − ω)|p − y| + ω·pinball_τ: asymmetric absolute loss with slopes (1 − ω) + ωτ above and
    (1 − ω) + ω(1 − τ) below, whose exact minimum the dual LP gives."""
    x, y = _data(5, n=60)
    tau = 0.9
    terms = (fitting.Term("mae", {}, 1 - omega), fitting.Term("quantile", {"tau": tau}, omega))
    fit = fitting.fit_line_terms(terms, x, y)
    optimum = _lp_optimum(x, y, (1 - omega) + omega * (1 - tau), (1 - omega) + omega * tau)
    assert fit.objective == pytest.approx(optimum, rel=LP_RTOL)
    assert fit.converged


def test_one_term_is_the_one_loss_fit_and_a_sum_has_no_single_loss() -> None:
    x, y = _data(6)
    one = fitting.fit_line_terms((fitting.Term("huber", {"delta": 0.7}, 2.0),), x, y)
    np.testing.assert_allclose(one.coef, fitting.fit_line("huber", x, y, delta=0.7).coef, atol=1e-12)
    assert one.loss == "huber" and one.params == {"delta": 0.7}
    both = fitting.fit_line_terms((fitting.Term("mse"), fitting.Term("log_cosh")), x, y)
    with pytest.raises(ValueError, match="no single loss"):
        _ = both.loss
    assert both.term_params == ({}, {})


# --- which losses fit a line ------------------------------------------------------------------------------


def test_line_losses_are_the_real_pointwise_ones_custom_included() -> None:
    names = fitting.line_losses()
    assert {"mse", "mae", "huber", "log_cosh", "quantile", "barron", "epsilon_insensitive", "cauchy"} <= set(names)
    for name in ("bce", "bce_logits", "focal", "cross_entropy", "poisson_nll", "hinge", "l1_penalty", "triplet"):
        assert name not in names
    assert names == compatible_losses("regression")  # the Training lab's regression head takes the same ones
    with lossviz.user_scope({}):
        lossviz.define("my_cauchy", "log(1 + (p - y)**2)")
        assert "my_cauchy" in fitting.line_losses()
        fit = fitting.fit_line("my_cauchy", *_data(1))
        np.testing.assert_allclose(fit.coef, fitting.fit_line("cauchy", *_data(1)).coef, atol=COEF_TOL)
    assert "my_cauchy" not in fitting.line_losses()
