"""lossviz.studies.curves: axes, targets, kinks and the curve data, against independent formulas."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lossviz
from lossviz.domains import BINARY, PROBABILITY, REAL, SIGN, UNIT_INTERVAL
from lossviz.spec import LossSpec
from lossviz.studies import curves as lc

RESIDUAL_LOSSES = lc.curve_losses("regression") + lc.curve_losses("robust")


def _margin_losses() -> list[str]:
    return [n for n in lossviz.names() if lossviz.spec(n).pointwise and lc.natural_axis(n).kind == "margin"]


def _custom(name: str = "test_custom", fn=None, target=REAL, family: str = "custom") -> LossSpec:
    return LossSpec(
        name=name,
        title="Test custom",
        family=family,
        latex=r"\log(p - y)",
        use_when="testing",
        fn=fn or (lambda pred, target: torch.log(pred - target)),
        pred_domain=REAL,
        target_domain=target,
        builtin=False,
    )


@pytest.fixture
def custom_scope():
    store: dict[str, LossSpec] = {}
    with lossviz.user_scope(store):
        yield store


# --- axes ------------------------------------------------------------------------------------


def test_regression_and_robust_losses_use_the_residual_axis() -> None:
    assert RESIDUAL_LOSSES, "regression/robust families must have pointwise losses"
    for name in RESIDUAL_LOSSES:
        axis = lc.natural_axis(name)
        assert axis.kind == "residual" and axis.fixed_target == 0.0, name
        assert axis.label == "residual r = p − y" and axis.symbol == "r"


def test_pm1_label_losses_use_the_margin_axis() -> None:
    margin = _margin_losses()
    assert {"logistic", "exponential", "hinge", "squared_hinge"} <= set(margin)
    for name in margin:
        assert lossviz.spec(name).target_domain == SIGN
        assert lc.natural_axis(name).fixed_target == 1.0


def test_other_losses_use_the_prediction_axis() -> None:
    for name in ("bce", "bce_logits", "focal", "poisson_nll", "gaussian_nll", "contrastive", "l1_penalty"):
        axis = lc.natural_axis(name)
        assert axis.kind == "prediction" and axis.fixed_target is None, name
        assert axis.domain == lossviz.spec(name).pred_domain


def test_custom_losses_never_assume_a_margin(custom_scope) -> None:
    custom_scope["c_sign"] = _custom("c_sign", target=SIGN)
    assert lc.natural_axis("c_sign").kind == "prediction"


@settings(max_examples=60, deadline=None)
@given(
    p=st.floats(-5, 5, allow_nan=False),
    y=st.floats(-5, 5, allow_nan=False),
)
def test_residual_axis_losses_depend_on_the_residual_only(p: float, y: float) -> None:
    """The residual axis draws L(r, 0); that is L(p, y) for every p, y with p − y = r."""
    for name in RESIDUAL_LOSSES:
        a = lossviz.evaluate(name, p, y, order=1)
        b = lossviz.evaluate(name, p - y, 0.0, order=1)
        np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-12, err_msg=name)
        if abs(p - y) > 1e-6:  # away from kinks at r = 0
            np.testing.assert_allclose(a.grad, b.grad, rtol=1e-9, atol=1e-12, err_msg=name)


@settings(max_examples=60, deadline=None)
@given(m=st.floats(-5, 5, allow_nan=False))
def test_margin_axis_losses_depend_on_the_margin_only(m: float) -> None:
    """The margin axis draws L(p = m, y = +1); for y = −1 the same margin is p = −m, with ∂L/∂m = y·∂L/∂p."""
    for name in _margin_losses():
        plus = lossviz.evaluate(name, m, 1.0, order=1)
        minus = lossviz.evaluate(name, -m, -1.0, order=1)
        np.testing.assert_allclose(plus.value, minus.value, rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(plus.grad, -minus.grad, rtol=1e-12, atol=1e-15, err_msg=name)


def test_axis_groups_keep_first_appearance_order() -> None:
    groups = lc.axis_groups(["bce", "mse", "hinge", "mae", "bce_logits", "focal"])
    kinds = [(a.kind, a.domain.label) for a in groups]
    assert kinds == [
        ("prediction", PROBABILITY.label),
        ("residual", REAL.label),
        ("margin", lossviz.spec("hinge").pred_domain.label),
        ("prediction", lossviz.spec("bce_logits").pred_domain.label),
    ]
    assert list(groups.values()) == [["bce"], ["mse", "mae"], ["hinge"], ["bce_logits", "focal"]]


def test_target_groups_one_per_target_domain() -> None:
    groups = lc.target_groups(["mse", "bce", "bce_logits", "focal", "hinge", "l1_penalty"])
    assert [(g.domain, g.losses) for g in groups] == [
        (UNIT_INTERVAL, ("bce", "bce_logits")),
        (BINARY, ("focal",)),
    ]
    assert groups[0].key == "target_bce"


def test_target_param_spans_the_plot_range() -> None:
    unit = lc.target_param(UNIT_INTERVAL)
    assert unit.default == 1.0 and unit.slider_range == (0.0, 1.0) and unit.contains(0.0)
    real = lc.target_param(REAL)
    assert real.default == 0.0 and real.slider_range == REAL.plot_range
    count = lc.target_param(lossviz.spec("poisson_nll").target_domain)
    assert count.default == 5.0 and not count.contains(-1.0)
    assert lc.target_options(BINARY) == ["0", "1"] and lc.target_options(SIGN) == ["-1", "1"]
    assert lc.default_target(BINARY) == 1.0 and lc.default_target(UNIT_INTERVAL) == 1.0


# --- ranges and curves -----------------------------------------------------------------------------


def test_x_range_zooms_about_the_centre_and_stays_inside_the_domain() -> None:
    residual = lc.natural_axis("mse")
    assert lc.x_range(residual) == (-3.0, 3.0)
    assert lc.x_range(residual, 2.0) == (-6.0, 6.0)
    assert lc.x_range(residual, 0.5) == (-1.5, 1.5)
    prob = lc.natural_axis("bce")
    lo, hi = lc.x_range(prob)
    assert lo == pytest.approx(1e-3) and hi == pytest.approx(1 - 1e-3)
    lo, hi = lc.x_range(prob, 8.0)  # zooming out never leaves [0, 1]
    assert 0.0 < lo < 0.01 and 0.99 < hi < 1.0
    distance = lc.natural_axis("contrastive")
    assert lc.x_range(distance)[0] > 0.0
    grid = lc.x_grid(residual)
    assert len(grid) == lc.POINTS and 0.0 in grid  # odd count: the kink at r = 0 is sampled exactly


def _huber_reference(r: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Huber (1964) written independently: value, ψ = clip(r, −δ, δ), ψ' = 1 inside |r| ≤ δ."""
    inside = np.abs(r) <= delta
    value = np.where(inside, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
    return value, np.clip(r, -delta, delta), inside.astype(float)


def test_loss_curve_matches_an_independent_huber() -> None:
    x = lc.x_grid(lc.natural_axis("huber"))
    off_kink = np.abs(np.abs(x) - 0.7) > 1e-9
    curve = lc.loss_curve("huber", x, 0.0, {"delta": 0.7})
    value, grad, curvature = _huber_reference(x, 0.7)
    np.testing.assert_allclose(curve.value, value, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(curve.grad, grad, rtol=1e-15, atol=1e-15)
    np.testing.assert_array_equal(curve.curvature[off_kink], curvature[off_kink])
    assert curve.kinks == ((-0.7, 2), (0.7, 2))
    assert curve.params == {"delta": 0.7} and curve.target == 0.0 and curve.nonfinite == 0


def test_loss_curve_on_a_prediction_axis_uses_the_target() -> None:
    x = lc.x_grid(lc.natural_axis("bce"))
    curve = lc.loss_curve("bce", x, 0.25, {})
    expected = -(0.25 * np.log(x) + 0.75 * np.log1p(-x))
    np.testing.assert_allclose(curve.value, expected, rtol=1e-12)
    np.testing.assert_allclose(curve.grad, (x - 0.25) / (x * (1 - x)), rtol=1e-9)
    np.testing.assert_allclose(curve.curvature, 0.25 / x**2 + 0.75 / (1 - x) ** 2, rtol=1e-9)


def test_loss_curve_without_target_ignores_the_target() -> None:
    x = lc.x_grid(lc.natural_axis("l1_penalty"))
    curve = lc.loss_curve("l1_penalty", x, 0.3, {})
    assert curve.target is None
    np.testing.assert_array_equal(curve.value, np.abs(x))
    assert curve.kinks == ((0.0, 1),)


def test_kinks_outside_the_range_are_dropped() -> None:
    x = lc.x_grid(lc.natural_axis("huber"))
    assert lc.loss_curve("huber", x, 0.0, {"delta": 4.0}).kinks == ()
    hinge = lc.loss_curve("hinge", lc.x_grid(lc.natural_axis("hinge")), 1.0, {"margin": 0.5})
    assert hinge.kinks == ((0.5, 1),)
    np.testing.assert_allclose(hinge.value, np.maximum(0.0, 0.5 - hinge.x), atol=1e-15)


def test_loss_curve_rejects_bad_parameters() -> None:
    x = lc.x_grid(lc.natural_axis("huber"))
    with pytest.raises(lossviz.ParameterError, match="delta"):
        lc.loss_curve("huber", x, 0.0, {"delta": -1.0})
    with pytest.raises(lossviz.DomainError, match="target"):
        lc.loss_curve("focal", lc.x_grid(lc.natural_axis("focal")), 0.5, {})


def test_nan_from_a_custom_formula_is_counted_not_raised(custom_scope) -> None:
    custom_scope["c_log"] = _custom("c_log")
    x = lc.x_grid(lc.natural_axis("c_log"))
    curve = lc.loss_curve("c_log", x, 0.0, {})
    assert curve.nonfinite == int((x <= 0).sum()) > 0
    np.testing.assert_allclose(curve.value[x > 0], np.log(x[x > 0]))


def test_curve_target_uses_the_fixed_target_on_residual_and_margin_axes() -> None:
    targets = {"bce": 0.3, "mse": 5.0}
    assert lc.curve_target("mse", targets) == 0.0
    assert lc.curve_target("hinge", targets) == 1.0
    assert lc.curve_target("bce", targets) == 0.3


# --- families, defaults, live parameter --------------------------------------------------------------


def test_curve_families_and_losses_are_pointwise_only() -> None:
    families = lc.curve_families()
    assert list(families)[:2] == ["regression", "robust"]
    for family in families:
        names = lc.curve_losses(family)
        assert names and all(lossviz.spec(n).pointwise and lossviz.spec(n).family == family for n in names)
    assert "cross_entropy" not in lc.curve_losses("classification")
    assert {"hinge", "squared_hinge", "contrastive"} <= set(lc.curve_losses("ranking"))
    assert "multi_margin" not in lc.curve_losses("ranking")


def test_custom_family_lists_session_losses(custom_scope) -> None:
    assert "custom" not in lc.curve_families()
    custom_scope["c_one"] = _custom("c_one")
    assert lc.curve_families()["custom"] == "Custom"
    assert lc.curve_losses("custom") == ["c_one"] == lc.default_losses("custom")


def test_default_losses() -> None:
    assert lc.default_losses("regression") == ["mse", "mae", "huber"]
    for family in lc.curve_families():
        chosen = lc.default_losses(family)
        assert 1 <= len(chosen) <= 3 and set(chosen) <= set(lc.curve_losses(family))


def test_live_parameters_are_the_first_parameterised_loss_s_first_or_its_pad_pair() -> None:
    assert lc.live_parameters(["mse", "mae", "huber"]) == ("huber", (lossviz.spec("huber").params[0],))
    assert [p.name for p in lc.live_parameters(["focal", "bce"])[1]] == ["gamma"]
    assert lc.live_parameters(["mse", "mae"]) is None
    loss, pad = lc.live_parameters(["mse", "barron", "cauchy"])
    assert loss == "barron" and pad == (lossviz.spec("barron").param("alpha"), lossviz.spec("barron").param("scale"))


@pytest.mark.parametrize(("loss", "name"), [("huber", "delta"), ("focal", "gamma"), ("tukey_biweight", "scale"),
                                            ("quantile", "tau"), ("barron", "alpha"), ("barron", "scale")])
def test_frame_values_are_valid_increasing_and_hold_the_default(loss: str, name: str) -> None:
    param = lossviz.spec(loss).param(name)
    values = lc.frame_values(param)
    assert param.default in values and all(param.contains(v) for v in values)
    assert all(b > a for a, b in itertools.pairwise(values))
    assert values[0] == param.slider_range[0] and values[-1] == param.slider_range[1]
    assert 10 <= len(values) <= 40


def test_frame_values_of_a_log_scale_parameter_are_its_fine_ladder() -> None:
    values = lc.frame_values(lc.ZOOM)
    assert lc.ZOOM.default in values and {0.5, 2.0, 5.0} <= set(values)
    assert all(b > a for a, b in itertools.pairwise(values))


def test_frame_settings_put_a_pad_s_frame_i_ny_plus_j_at_x_i_y_j() -> None:
    assert lc.frame_settings([("delta", [0.5, 1.0])]) == [{"delta": 0.5}, {"delta": 1.0}]
    alphas, scales = [-2.0, 0.0, 2.0], [0.5, 1.0]
    settings = lc.frame_settings([("alpha", alphas), ("scale", scales)])
    assert len(settings) == 6
    for i, a in enumerate(alphas):
        for j, c in enumerate(scales):
            assert settings[i * len(scales) + j] == {"alpha": a, "scale": c}


def test_parameter_sweep_moves_only_the_swept_parameters() -> None:
    x = lc.x_grid(lc.natural_axis("quantile"), 0.5)
    sweep = lc.parameter_sweep("quantile", [{"tau": 0.1}, {"tau": 0.9}], x, 0.0, {"tau": 0.5})
    assert [c.params["tau"] for c in sweep] == [0.1, 0.9]
    u = -x  # y − p
    for c, tau in zip(sweep, (0.1, 0.9), strict=True):
        np.testing.assert_allclose(c.value, np.maximum(tau * u, (tau - 1) * u), atol=1e-15)
    pad = lc.parameter_sweep("barron", lc.frame_settings([("alpha", [2.0]), ("scale", [0.5, 2.0])]), x, 0.0, {})
    for c, scale in zip(pad, (0.5, 2.0), strict=True):  # α = 2 is L2 scaled by c: ½ (x/c)²
        assert c.params == {"alpha": 2.0, "scale": scale}
        np.testing.assert_allclose(c.value, 0.5 * (x / scale) ** 2, rtol=1e-12)


def test_curves_table_holds_every_plotted_number() -> None:
    x = lc.x_grid(lc.natural_axis("mse"))
    curves = [lc.loss_curve("mse", x, 0.0, {}), lc.loss_curve("huber", x, 0.0, {"delta": 2.0})]
    table = lc.curves_table(curves, lambda n: lc.natural_axis(n).label)
    assert list(table.columns) == ["loss", "axis", "x", "target", "value", "gradient", "curvature", "params"]
    assert len(table) == 2 * len(x)
    huber = table[table["loss"] == "huber"]
    np.testing.assert_array_equal(huber["value"].to_numpy(), curves[1].value)
    assert set(huber["params"]) == {"delta=2"} and set(table["axis"]) == {"residual r = p − y"}
    assert lc.curves_table([], str).empty


def test_zoom_param_is_a_log_control() -> None:
    assert lc.ZOOM.scale == "log" and lc.ZOOM.default == 1.0 and lc.ZOOM.contains(8.0)
    assert not lc.ZOOM.contains(0.0)
    assert math.isclose(lc.ZOOM.slider_range[0], 0.25)
