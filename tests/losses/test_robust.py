"""Robust losses (lossviz/losses/robust.py) against their formulas in 90-digit decimal arithmetic.

References: Barron, A General and Adaptive Robust Loss Function, CVPR 2019 (ρ, its derivative
ψ and the limits α = 2, 1, 0, −2, −∞); the Cauchy, Geman-McClure, Welsch and Tukey formulas as
given in Barron's Table/Fig. 1 and Beaton & Tukey 1974.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lossviz

D = Decimal
Triple = tuple[Decimal, Decimal, Decimal]

# |r / c| at which every formula is checked: the plotted range and well beyond it.
RATIOS = (1e-5, 0.1, 0.5, 0.9, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)
SCALES = (0.1, 1.0, 4.685)


def cauchy_ref(r: Decimal, c: Decimal) -> Triple:
    z = (r / c) ** 2
    return c * c / 2 * (1 + z).ln(), r / (1 + z), (1 - z) / (1 + z) ** 2


def geman_mcclure_ref(r: Decimal, c: Decimal) -> Triple:
    z = (r / c) ** 2
    return 2 * z / (z + 4), 16 * r / (c * c * (z + 4) ** 2), 16 * (4 - 3 * z) / (c * c * (z + 4) ** 3)


def welsch_ref(r: Decimal, c: Decimal) -> Triple:
    z = (r / c) ** 2
    e = (-z / 2).exp()
    return 1 - e, r / (c * c) * e, (1 - z) / (c * c) * e


def tukey_ref(r: Decimal, c: Decimal) -> Triple:
    u = (r / c) ** 2
    if u > 1:
        return c * c / 6, D(0), D(0)
    return c * c / 6 * (1 - (1 - u) ** 3), r * (1 - u) ** 2, (1 - u) * (1 - 5 * u)


def barron_ref(alpha: float) -> Callable[[Decimal, Decimal], Triple]:
    """The paper's ρ(x, α, c) = |α−2|/α ((z/|α−2| + 1)^{α/2} − 1), z = (x/c)², and its x-derivatives."""

    def ref(r: Decimal, c: Decimal) -> Triple:
        a = D(alpha)
        b = abs(a - 2)
        z = (r / c) ** 2
        base = z / b + 1
        sign = 1 if a > 2 else -1  # (α − 2)/|α − 2|
        value = b / a * (base ** (a / 2) - 1)
        grad = r / (c * c) * base ** (a / 2 - 1)
        curvature = base ** (a / 2 - 2) / (c * c) * (1 + z / b + sign * z)
        return value, grad, curvature

    return ref


def check_against(name: str, ref: Callable[[Decimal, Decimal], Triple], scales=SCALES, ratios=RATIOS, **params) -> None:
    """Value to 1e-15 relative; derivatives to 1e-14 + z·1e-15 (the conditioning of e^{−z/2})."""
    for c in scales:
        r = np.array([s * k * c for k in ratios for s in (1.0, -1.0)])
        res = lossviz.evaluate(name, r, 0.0, order=2, scale=c, **params)
        with localcontext() as ctx:
            ctx.prec = 90
            exact = np.array([[float(v) for v in ref(D(x), D(c))] for x in r])
        z = (r / c) ** 2
        np.testing.assert_allclose(res.value, exact[:, 0], rtol=1e-15, atol=0, err_msg=f"{name} value, c={c}")
        for got, want, what in ((res.grad, exact[:, 1], "grad"), (res.curvature, exact[:, 2], "curvature")):
            bound = (1e-14 + 1e-15 * z) * np.abs(want)
            bad = np.abs(got - want) > bound
            assert not bad.any(), f"{name} {what}, c={c}: at r={r[bad]}: {got[bad]} vs {want[bad]}"


@pytest.mark.parametrize(
    ("name", "ref"),
    [("cauchy", cauchy_ref), ("geman_mcclure", geman_mcclure_ref), ("welsch", welsch_ref), ("tukey_biweight", tukey_ref)],
)
def test_named_robust_losses_match_their_formulas(name: str, ref) -> None:
    check_against(name, ref)


GENERIC_ALPHAS = (-10.0, -5.0, -2.0, -1.0, -0.5, -1e-8, 1e-8, 1e-4, 0.5, 1.0, 1.5, 2 - 1e-8, 2 + 1e-8, 2.5, 3.0, 10.0)


@pytest.mark.parametrize("alpha", GENERIC_ALPHAS)
def test_barron_matches_the_paper_formula(alpha: float) -> None:
    check_against("barron", barron_ref(alpha), alpha=alpha)


LIMITS: dict[float, Callable[[Decimal, Decimal], Triple]] = {
    2.0: lambda r, c: ((r / c) ** 2 / 2, r / (c * c), 1 / (c * c)),
    0.0: lambda r, c: (((r / c) ** 2 / 2 + 1).ln(), 2 * r / (r * r + 2 * c * c), 2 * (2 * c * c - r * r) / (r * r + 2 * c * c) ** 2),
    -math.inf: welsch_ref,
    1.0: lambda r, c: (((r / c) ** 2 + 1).sqrt() - 1, r / (c * c) / ((r / c) ** 2 + 1).sqrt(), 1 / (c * c) / ((r / c) ** 2 + 1) ** D(1.5)),
    -2.0: geman_mcclure_ref,
}


@pytest.mark.parametrize("alpha", list(LIMITS))
def test_barron_special_members(alpha: float) -> None:
    """α = 2 L2, 0 Cauchy, −∞ Welsch (closed-form branches), 1 pseudo-Huber, −2 Geman-McClure (generic)."""
    check_against("barron", LIMITS[alpha], alpha=alpha)


@pytest.mark.parametrize(("near", "limit"), [(1e-8, 0.0), (-1e-8, 0.0), (2 + 1e-8, 2.0), (2 - 1e-8, 2.0)])
def test_barron_is_continuous_at_the_removable_singularities(near: float, limit: float) -> None:
    r = np.linspace(-10, 10, 401)
    for c in (0.1, 1.0, 5.0):
        a = lossviz.evaluate("barron", r, 0.0, order=2, alpha=near, scale=c)
        b = lossviz.evaluate("barron", r, 0.0, order=2, alpha=limit, scale=c)
        np.testing.assert_allclose(a.value, b.value, rtol=2e-7, atol=0)
        np.testing.assert_allclose(a.grad, b.grad, rtol=2e-7, atol=0)
        np.testing.assert_allclose(a.curvature, b.curvature, rtol=2e-7, atol=2e-7 * np.abs(b.curvature).max())


@pytest.mark.parametrize("alpha", [5e-324, -1e-300, 1e-25, -9e-21])
def test_barron_at_a_vanishing_alpha_is_its_alpha_zero_limit(alpha: float) -> None:
    """|α−2|/α overflows for subnormal α; below 1e-20 the α = 0 limit is exact to float64."""
    r = np.array([0.0, 1e-5, 0.7, 2.0, 30.0])
    a = lossviz.evaluate("barron", r, 0.0, order=2, alpha=alpha)
    b = lossviz.evaluate("barron", r, 0.0, order=2, alpha=0.0)
    for got, want in ((a.value, b.value), (a.grad, b.grad), (a.curvature, b.curvature)):
        np.testing.assert_array_equal(got, want)
    check_against("barron", barron_ref(1e-20 if alpha > 0 else -1e-20), alpha=1e-20 if alpha > 0 else -1e-20)


def test_redescending_slopes_keep_their_digits_far_out() -> None:
    """ψ of Welsch and of Barron α < 0 is tiny but not 0 (and accurate) far beyond the scale."""
    r = np.array([8.0, 20.0, 35.0])
    with localcontext() as ctx:
        ctx.prec = 90
        want_welsch = [float(welsch_ref(D(x), D(1))[1]) for x in r]
        want_barron = [float(barron_ref(-10.0)(D(x), D(1))[1]) for x in r]
    for name, params, want in (
        ("welsch", {}, want_welsch),
        ("barron", {"alpha": -math.inf}, want_welsch),
        ("barron", {"alpha": -10.0}, want_barron),
    ):
        grad = lossviz.evaluate(name, r, 0.0, **params).grad
        assert (grad > 0).all()
        np.testing.assert_allclose(grad, want, rtol=1e-12)


def test_members_of_the_barron_family_coincide() -> None:
    rng = np.random.default_rng(7)
    r = rng.normal(0, 4, 300)
    for c in (0.3, 1.0, 2.0):
        gm = lossviz.evaluate("geman_mcclure", r, 0.0, scale=c)
        bgm = lossviz.evaluate("barron", r, 0.0, alpha=-2.0, scale=c)
        np.testing.assert_allclose(gm.value, bgm.value, rtol=1e-15)
        np.testing.assert_allclose(gm.grad, bgm.grad, rtol=1e-14)
        we = lossviz.evaluate("welsch", r, 0.0, scale=c)
        bwe = lossviz.evaluate("barron", r, 0.0, alpha=-math.inf, scale=c)
        np.testing.assert_array_equal(we.value, bwe.value)
        np.testing.assert_array_equal(we.grad, bwe.grad)
        # Cauchy(c) = c²/2 · log(1 + (r/c)²) = c²/2 · Barron(α = 0, scale c/√2)
        ca = lossviz.evaluate("cauchy", r, 0.0, scale=c)
        b0 = lossviz.evaluate("barron", r, 0.0, alpha=0.0, scale=c / math.sqrt(2))
        np.testing.assert_allclose(ca.value, c * c / 2 * b0.value, rtol=1e-14)
        np.testing.assert_allclose(ca.grad, c * c / 2 * b0.grad, rtol=1e-14)


def test_tukey_is_flat_beyond_the_rejection_point() -> None:
    c = 4.685
    res = lossviz.evaluate("tukey_biweight", [c, -c, 1.01 * c, 100.0], 0.0, order=2)
    np.testing.assert_allclose(res.value, c * c / 6, rtol=1e-15)
    assert res.grad.tolist() == [0.0, 0.0, 0.0, 0.0]
    assert res.curvature.tolist() == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("name", "params"),
    [("barron", {"alpha": a}) for a in (-math.inf, -10.0, -2.0, 0.0, 1e-8, 1.0, 2.0, 3.0)]
    + [("cauchy", {"scale": 0.3}), ("geman_mcclure", {}), ("welsch", {"scale": 2.0}), ("tukey_biweight", {"scale": 1.5})],
)
def test_gradient_and_curvature_match_finite_differences(name: str, params: dict, fd_check) -> None:
    rng = np.random.default_rng(11)
    pred, target = rng.normal(0, 2, 300), rng.normal(0, 1, 300)
    kinks = [k for k, _ in lossviz.spec(name).kink_points(0.0, **params)]
    keep = np.all([np.abs(pred - target - k) > 1e-3 for k in kinks], axis=0) if kinks else slice(None)
    fd_check(name, pred[keep], target[keep], **params)


# ---------------------------------------------------------------- hypothesis properties

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)
alphas = st.floats(min_value=-20.0, max_value=9.5, allow_nan=False)
scales = st.floats(min_value=0.05, max_value=20.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(pred=finite, target=finite)
def test_barron_alpha_two_scale_one_is_half_mse(pred: float, target: float) -> None:
    b = lossviz.evaluate("barron", pred, target, alpha=2.0, scale=1.0)
    m = lossviz.evaluate("mse", pred, target)
    assert b.value == m.value / 2
    assert b.grad == m.grad / 2


@settings(max_examples=300, deadline=None)
@given(r=finite, alpha=alphas, c=scales)
def test_barron_depends_on_r_over_c_only(r: float, alpha: float, c: float) -> None:
    scaled = lossviz.evaluate("barron", r, 0.0, alpha=alpha, scale=c)
    unit = lossviz.evaluate("barron", r / c, 0.0, alpha=alpha, scale=1.0)
    assert scaled.value == pytest.approx(unit.value, rel=1e-13, abs=1e-300)
    assert scaled.grad * c == pytest.approx(unit.grad, rel=1e-13, abs=1e-300)


@settings(max_examples=300, deadline=None)
@given(r=finite, alpha=alphas)
def test_barron_is_nonnegative_even_and_grows_with_alpha(r: float, alpha: float) -> None:
    """ρ ≥ 0, ρ(−r) = ρ(r), and ρ is nondecreasing in α (Barron 2019, §2)."""
    a = lossviz.evaluate("barron", [r, -r], 0.0, alpha=alpha).value
    higher = lossviz.evaluate("barron", r, 0.0, alpha=alpha + 0.5).value
    assert a[0] >= 0 and a[0] == a[1]
    assert higher >= a[0] * (1 - 1e-14) - 1e-300  # slack for subnormal values
