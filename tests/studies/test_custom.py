"""The Custom loss page's maths: gallery examples against the built-ins, the check itself, undefined ranges."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lossviz
from lossviz.errors import FormulaError
from lossviz.registry import user_scope
from lossviz.studies import curves as lc
from lossviz.studies import custom as cg
from lossviz.toolkit.frames import even_values

WITH_BUILTIN = [ex for ex in cg.GALLERY if ex.builtin]
OTHER_VALUES = {
    # Parameter values besides the defaults at which each example must still match its built-in.
    "cauchy": [{"c": 0.3}, {"c": 2.5}],
    "welsch": [{"c": 0.2}, {"c": 4.0}],
    "tukey": [{"c": 1.0}, {"c": 9.5}],
    "huber": [{"delta": 0.1}, {"delta": 3.0}],
    "focal": [{"gamma": 0.0, "alpha": 0.5}, {"gamma": 0.5, "alpha": 0.1}, {"gamma": 4.5, "alpha": 0.9}],
}


def _norm_rel(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖∞ / ‖b‖∞ written out here, independently of the module's own helper."""
    assert np.isfinite(a).all() and np.isfinite(b).all()
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def test_gallery_has_the_promised_examples() -> None:
    keys = {ex.key for ex in cg.GALLERY}
    assert {"cauchy", "welsch", "tukey", "linex", "focal", "huber"} <= keys
    assert {ex.builtin for ex in WITH_BUILTIN} == {"cauchy", "welsch", "tukey_biweight", "huber", "focal"}
    assert len({ex.name for ex in cg.GALLERY}) == len(cg.GALLERY)


@pytest.mark.parametrize("ex", cg.GALLERY, ids=lambda ex: ex.key)
def test_each_example_loads_and_evaluates(ex: cg.Example) -> None:
    with user_scope({}):
        spec = lossviz.define(ex.name, ex.formula, **ex.params)
        assert lossviz.names(family="custom") == [ex.name]
        assert spec.param_names == tuple(ex.params)
        for name, (default, low, high) in ex.params.items():
            assert spec.param(name).default == default and spec.param(name).slider_range == (low, high)
        x = cg.x_grid(ex.center, ex.half_width)
        curve = lc.loss_curve(ex.name, x, ex.target, spec.defaults)
    finite = np.isfinite(curve.value)
    assert finite.mean() > 0.5  # MSLE is undefined left of −1 only
    assert cg.spec_for(ex.name, ex.formula, ex.params).latex == spec.latex


@pytest.mark.parametrize("ex", WITH_BUILTIN, ids=lambda ex: ex.key)
def test_examples_match_their_builtin_to_1e12(ex: cg.Example) -> None:
    spec = cg.spec_for(ex.name, ex.formula, ex.params)
    builtin = lossviz.spec(ex.builtin)
    for values in [spec.defaults, *({**spec.defaults, **v} for v in OTHER_VALUES[ex.key])]:
        check = cg.check_against_builtin(spec, ex.builtin, values, ex.target)
        assert check.ok, check.message
        assert "matches" in check.message
        # The same comparison written out independently, on the module's grid.
        mapped = {b: values[f] for b, f in cg.param_mapping(spec.param_names, builtin).items()}
        assert set(mapped) == set(builtin.param_names)  # every built-in parameter is driven by the formula
        preds = cg.check_preds(builtin)
        for t in cg.check_targets(builtin, ex.target):
            got = lossviz.evaluate(spec, preds, t, order=1, **values)
            ref = lossviz.evaluate(builtin, preds, t, order=1, **mapped)
            assert _norm_rel(got.value, ref.value) <= 1e-12
            assert _norm_rel(got.grad, ref.grad) <= 1e-12


def test_huber_matches_elementwise_too() -> None:
    """Where both formulas round alike, the match is elementwise (relative), not only norm-wise."""
    ex = cg.example("huber")
    spec = cg.spec_for(ex.name, ex.formula, ex.params)
    x = np.linspace(-7.0, 7.0, 1401)
    for delta in (0.3, 1.0, 2.0):
        got = lossviz.evaluate(spec, x, 0.25, order=1, delta=delta)
        ref = lossviz.evaluate("huber", x, 0.25, order=1, delta=delta)
        np.testing.assert_allclose(got.value, ref.value, rtol=1e-12, atol=0)
        np.testing.assert_allclose(got.grad, ref.grad, rtol=1e-12, atol=0)


def test_focal_targets_are_its_labels_and_other_targets_are_checked_too() -> None:
    assert cg.check_targets("focal") == (0.0, 1.0)
    assert cg.check_targets("huber", 0.7) == (0.0, 0.5, 0.7, 1.5)
    assert cg.check_targets("bce", 0.3) == (0.0, 0.3, 0.5)  # 1.5 is no probability
    preds = cg.check_preds("bce")
    assert 0.0 < preds[0] < preds[-1] < 1.0


def test_linex_against_its_formula() -> None:
    """Zellner's LINEX b(e^{ar} − ar − 1), r = p − y: value, gradient b·a(e^{ar} − 1), curvature b·a²e^{ar}."""
    ex = cg.example("linex")
    spec = cg.spec_for(ex.name, ex.formula, ex.params)
    p = np.linspace(-3.0, 3.0, 301)
    for a, b in ((1.0, 1.0), (-2.0, 0.5), (0.3, 4.0)):
        r = p - 0.4
        res = lossviz.evaluate(spec, p, 0.4, order=2, a=a, b=b)
        np.testing.assert_allclose(res.value, b * (np.exp(a * r) - a * r - 1), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(res.grad, b * a * np.expm1(a * r), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(res.curvature, b * a * a * np.exp(a * r), rtol=1e-12)


def test_msle_is_undefined_left_of_minus_one() -> None:
    ex = cg.example("msle")
    spec = cg.spec_for(ex.name, ex.formula, ex.params)
    x = cg.x_grid(ex.center, ex.half_width)
    res = lossviz.evaluate(spec, x, ex.target, order=2)
    inside = x > -1
    np.testing.assert_allclose(res.value[inside], (np.log1p(x[inside]) - np.log1p(ex.target)) ** 2, rtol=1e-12)
    assert np.isnan(res.value[~inside]).all() and np.isnan(res.grad[~inside]).all()
    note = cg.undefined_note(x, res.value, res.grad, res.curvature)
    assert note is not None and "p ≤ -1" in note and f"{(~inside).sum()} of {len(x)}" in note


# --- the check ---------------------------------------------------------------------------------------


def test_check_reports_a_wrong_formula() -> None:
    spec = cg.spec_for("half", "log1p(((p - y)/c)**2)", {"c": (1.0, 0.1, 5.0)})  # Cauchy without c²/2
    check = cg.check_against_builtin(spec, "cauchy", {"c": 1.0})
    assert not check.ok
    assert check.value_error == pytest.approx(1.0)  # twice the built-in: difference = the built-in itself
    assert check.grad_error == pytest.approx(1.0)
    assert "differs" in check.message and "worst at p =" in check.message


def test_check_reports_undefined_points() -> None:
    spec = cg.spec_for("logsq", "log(p - y + 20)**2", {})
    check = cg.check_against_builtin(spec, "mse", {})
    assert not check.ok and check.undefined == 0  # defined on the whole check grid (p ≥ −10): just different
    spec = cg.spec_for("logsq", "log(p - y + 5)**2", {})
    check = cg.check_against_builtin(spec, "mse", {})
    assert not check.ok and check.undefined > 0 and "undefined (NaN)" in check.message
    assert check.worst[0] <= -5.0 + check.worst[1]


def test_check_parameters_by_name_symbol_and_default() -> None:
    assert cg.param_mapping(("c",), "cauchy") == {"scale": "c"}
    assert cg.param_mapping(("scale", "c"), "cauchy") == {"scale": "scale"}
    assert cg.param_mapping(("alpha", "gamma"), "focal") == {"gamma": "gamma", "alpha": "alpha"}
    assert cg.param_mapping(("k",), "huber") == {}
    spec = cg.spec_for("sq", "k*(p - y)**2/2", {})
    check = cg.check_against_builtin(spec, "huber", {"k": 1.0})
    assert check.defaults_used == ("delta",) and check.extra_params == ("k",)
    assert "delta = 1 (its default)" in check.message
    assert not check.ok  # ½r² is Huber only inside ±δ


def test_check_refuses_values_outside_the_builtin_range() -> None:
    spec = cg.spec_for("cau", cg.example("cauchy").formula, {"c": (1.0, -5.0, 5.0)})
    check = cg.check_against_builtin(spec, "cauchy", {"c": -1.0})
    assert not check.ok and check.problem is not None and "scale" in check.problem
    assert check.message.startswith("Cannot compare")


def test_compare_candidates() -> None:
    candidates = cg.compare_candidates()
    assert {"huber", "cauchy", "welsch", "tukey_biweight", "focal", "mse", "bce"} <= set(candidates)
    assert "cross_entropy" not in candidates  # structured
    assert "l2_penalty" not in candidates  # no target
    spec = cg.spec_for("x", "(p - y)**2", {})
    assert cg.check_against_builtin(spec, "cross_entropy", {}).problem is not None


def test_overlay_target() -> None:
    assert cg.overlay_target_ok("focal", 1.0) and not cg.overlay_target_ok("focal", 0.5)
    assert cg.overlay_target_ok("huber", -3.3)


# --- curves -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["focal", "linex", "msle", "tukey"])
def test_sweep_equals_separate_curves(key: str) -> None:
    ex = cg.example(key)
    formula = ex.formula if ex.params else "k*" + ex.formula
    spec = cg.spec_for(ex.name, formula, ex.params)
    param = spec.params[0]
    frames = even_values(param)
    x = cg.x_grid(ex.center, ex.half_width, 201)
    curves = cg.sweep_curves(spec, param.name, frames, x, ex.target, spec.defaults)
    assert len(curves) == len(frames)
    for value, curve in zip(frames, curves, strict=True):
        one = lc.loss_curve(spec, x, ex.target, {**spec.defaults, param.name: float(value)})
        for a, b in ((curve.value, one.value), (curve.grad, one.grad), (curve.curvature, one.curvature)):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15 * max(1.0, np.nanmax(np.abs(b))))
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        assert curve.params[param.name] == float(value)


def test_undefined_ranges() -> None:
    x = np.arange(10.0)
    bad = np.zeros(10, dtype=bool)
    assert cg.undefined_ranges(x, bad) == []
    bad[[0, 1, 4, 9]] = True
    assert cg.undefined_ranges(x, bad) == [(0.0, 1.0), (4.0, 4.0), (9.0, 9.0)]
    nan = np.where(bad, np.nan, 1.0)
    note = cg.undefined_note(x, nan, np.ones(10), np.ones(10))
    assert note is not None and "p ≤ 1" in note and "p = 4" in note and "p ≥ 9" in note and "4 of 10" in note
    assert "value" in note
    grad_only = cg.undefined_note(x, np.ones(10), np.where(bad, np.nan, 1.0), np.ones(10))
    assert grad_only is not None and "gradient or curvature" in grad_only
    everywhere = cg.undefined_note(x, np.full(10, np.nan), np.ones(10), np.ones(10))
    assert everywhere is not None and "the whole plotted range" in everywhere
    middle = cg.undefined_note(x, np.where((x > 2) & (x < 6), np.nan, 1.0), np.ones(10), np.ones(10))
    assert middle is not None and "3 ≤ p ≤ 5" in middle


@given(st.lists(st.booleans(), min_size=1, max_size=60))
@settings(max_examples=60, deadline=None)
def test_undefined_ranges_cover_exactly_the_bad_points(mask: list[bool]) -> None:
    x = np.arange(len(mask), dtype=float)
    bad = np.array(mask)
    covered = np.zeros(len(mask), dtype=bool)
    previous_end = -2.0
    for lo, hi in cg.undefined_ranges(x, bad):
        assert lo > previous_end + 1  # maximal runs: separated by at least one good point
        covered[int(lo) : int(hi) + 1] = True
        previous_end = hi
    np.testing.assert_array_equal(covered, bad)


# --- page helpers ----------------------------------------------------------------------------------


def test_caret_lines() -> None:
    assert cg.caret_lines("log(p ** )", 9) == "log(p ** )\n         ^"
    assert cg.caret_lines("a +\n  b $", 8) == "  b $\n    ^"
    assert cg.caret_lines("abc", None) == "abc"
    try:
        lossviz.formula.parse_formula("p + q.__class__")
    except FormulaError as exc:
        lines = cg.caret_lines(exc.formula, exc.offset).split("\n")  # type: ignore[attr-defined]
        assert lines[0][len(lines[1]) - 1 :].startswith(".__class__")
    else:
        pytest.fail("attribute access was accepted")


def test_checked_decl() -> None:
    assert cg.checked_decl("c", 1, 0.1, 5) == ((1.0, 0.1, 5.0), None)
    decl, warning = cg.checked_decl("c", 7, 0.1, 5)
    assert decl == (5.0, 0.1, 5.0) and warning is not None and "outside" in warning
    with pytest.raises(FormulaError, match="below"):
        cg.checked_decl("c", 1, 5, 5)
    with pytest.raises(FormulaError, match="finite"):
        cg.checked_decl("c", math.nan, 0, 1)
    assert cg.formula_param("c", decl, "x").slider_range == (0.1, 5.0)


def test_keys() -> None:
    assert cg.param_keys("c") == {
        "value": "custom_c", "default": "custom_c_default", "low": "custom_c_low", "high": "custom_c_high"
    }  # fmt: skip
    assert cg.key_clashes(("c", "delta")) == []
    assert cg.key_clashes(("formula", "c")) == ["formula"]  # its slider would be custom_formula, the formula box
    assert cg.key_clashes(("form", "name_x")) == []
    assert cg.key_clashes(("c", "c_low")) == ["c_low"]
    assert cg.key_clashes(("half_width",)) == ["half_width"]
    assert cg.table_param_of("custom_c_low") == "c"
    assert cg.table_param_of("custom_my_param_default") == "my_param"
    assert cg.table_param_of("custom_half_width") is None
    assert cg.table_param_of("curves_c_low") is None


def test_names() -> None:
    assert cg.check_loss_name(" my_loss ") == "my_loss"
    for bad in ("1abc", "huber", "a b", "x" * 41, ""):
        with pytest.raises(FormulaError):
            cg.check_loss_name(bad)
    assert lossviz.names(family="custom") == []  # checking a name registers nothing


def test_a_typed_formula_is_matched_to_its_gallery_example_spaces_aside() -> None:
    huber = cg.example("huber")
    assert cg.matching_example(huber.formula.replace(" ", "")) is huber
    assert cg.matching_example("  " + huber.formula + " ") is huber
    assert cg.matching_example(huber.formula.replace("delta", "d")) is None


def test_decls_of_gives_back_the_table_a_loss_was_defined_with() -> None:
    decls = {"a": (1.5, -3.0, 3.0), "b": (0.25, 0.1, 5.0)}
    assert cg.decls_of(cg.spec_for("t_linex", "(exp(a*(p - y)) - a*(p - y) - 1) * b", decls)) == decls
    assert cg.decls_of(cg.spec_for("t_sq", "(p - y)**2", {})) == {}


def test_inside_domain_keeps_the_predictions_a_builtin_takes() -> None:
    x = np.linspace(-2.0, 2.0, 9)
    np.testing.assert_array_equal(cg.inside_domain("mse", x), x)
    kept = cg.inside_domain("bce", x)  # probabilities in [0, 1]
    assert kept.min() >= 0.0 and kept.max() <= 1.0 and set(kept) == {v for v in x if 0.0 <= v <= 1.0}
