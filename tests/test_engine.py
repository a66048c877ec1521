"""The public API: lossviz.evaluate / spec / names, validation errors, shapes, dtypes and input types.

Structured-loss behaviour is checked on small specs declared here, so that these tests do not
depend on any one family's losses.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
import torch

import lossviz
from lossviz import DomainError, LossSpec, Param, ParameterError, UnknownLossError
from lossviz.domains import CLASS_INDEX, PROBABILITY, REAL, REAL_VECTOR, SIGN


def make_spec(name: str = "test_loss", fn=lambda p, t: (p - t) ** 2, **kw: Any) -> LossSpec:
    fields: dict[str, Any] = {
        "title": name, "family": "custom", "latex": "", "use_when": "", "pred_domain": REAL, "target_domain": REAL,
    }
    fields.update(kw)
    return LossSpec(name=name, fn=fn, **fields)


# ---------------------------------------------------------------- parameter errors


@pytest.mark.parametrize("bad", [0.0, -1.0, -math.inf, math.inf, math.nan])
def test_out_of_range_parameter_names_parameter_value_and_range(bad: float) -> None:
    with pytest.raises(ParameterError) as err:
        lossviz.evaluate("huber", 1.0, 0.0, delta=bad)
    message = str(err.value)
    assert "'delta'" in message and "'huber'" in message
    assert repr(bad) in message
    assert "(0, ∞)" in message


@pytest.mark.parametrize("bad", ["1.0", "abc", True, False, np.True_, None, [1.0], (1.0,), {"v": 1}, np.array([1.0])])
def test_wrongly_typed_parameter_names_parameter_value_and_range(bad: Any) -> None:
    with pytest.raises(ParameterError) as err:
        lossviz.evaluate("quantile", 1.0, 0.0, tau=bad)
    message = str(err.value)
    assert "'tau'" in message and "must be a number" in message
    assert repr(bad) in message
    assert "(0, 1)" in message


def test_closed_and_open_bounds_are_respected() -> None:
    assert lossviz.evaluate("epsilon_insensitive", 1.0, 0.0, epsilon=0.0).value == 1.0  # [0, ∞)
    for tau in (0.0, 1.0):  # (0, 1)
        with pytest.raises(ParameterError, match=r"'tau' of 'quantile' is [01]\.0, outside its valid range \(0, 1\)"):
            lossviz.evaluate("quantile", 1.0, 0.0, tau=tau)


def test_unknown_parameter_lists_the_valid_ones() -> None:
    with pytest.raises(ParameterError, match=r"unknown parameter 'detla' for 'huber'; its parameters are: delta"):
        lossviz.evaluate("huber", 1.0, 0.0, detla=1.0)
    with pytest.raises(ParameterError, match=r"unknown parameters 'a', 'b' for 'mse'; its parameters are: none"):
        lossviz.evaluate("mse", 1.0, 0.0, a=1, b=2)


def test_numpy_scalars_and_ints_are_valid_parameter_values() -> None:
    ref = lossviz.evaluate("huber", 3.0, 0.0, delta=2.0).value
    for delta in (2, np.float32(2.0), np.float64(2.0), np.int64(2), np.array(2.0)):
        res = lossviz.evaluate("huber", 3.0, 0.0, delta=delta)
        assert res.value == ref
        assert type(res.params["delta"]) is float


def test_special_parameter_values() -> None:
    assert np.isfinite(lossviz.evaluate("barron", 2.0, 0.0, alpha=-math.inf).value)
    for bad in (math.inf, math.nan):
        with pytest.raises(ParameterError, match=r"'alpha'.*or -∞ \(the Welsch limit\)"):
            lossviz.evaluate("barron", 2.0, 0.0, alpha=bad)


def test_integer_parameter() -> None:
    p = Param("k", 2, low=1, high=10, integer=True)
    assert p.validate(3.0, "x") == 3 and isinstance(p.validate(3.0, "x"), int)
    with pytest.raises(ParameterError, match=r"'k' of 'x' is 2.5, outside its valid range integers in \[1, 10\]"):
        p.validate(2.5, "x")


def test_a_default_outside_its_own_range_is_a_declaration_error() -> None:
    with pytest.raises(ValueError, match="default of 'bad'"):
        Param("bad", -1.0, low=0.0)


def test_defaults_are_filled_in_and_reported() -> None:
    assert lossviz.evaluate("huber", 1.0, 0.0).params == {"delta": 1.0}
    assert lossviz.evaluate("barron", 1.0, 0.0, scale=2.0).params == {"alpha": 1.0, "scale": 2.0}
    assert lossviz.evaluate("mse", 1.0, 0.0).params == {}


# ---------------------------------------------------------------- unknown losses


def test_unknown_loss_suggests_the_closest_names() -> None:
    with pytest.raises(UnknownLossError) as err:
        lossviz.spec("hubr")
    assert isinstance(err.value, KeyError) and isinstance(err.value, ValueError)
    assert str(err.value).startswith("unknown loss 'hubr'; closest: huber")
    with pytest.raises(KeyError, match=r"closest: .*smooth_l1"):
        lossviz.evaluate("smoth_l1", 1.0, 0.0)
    with pytest.raises(ValueError, match=r"closest: .*log_cosh"):
        lossviz.evaluate("logcosh", 1.0, 0.0)


def test_unknown_loss_without_a_close_name_points_to_names() -> None:
    with pytest.raises(UnknownLossError, match=r"unknown loss 'qqqqqqqq'; see lossviz.names\(\) for all \d+"):
        lossviz.evaluate("qqqqqqqq", 1.0, 0.0)


@pytest.mark.parametrize("bad", [None, 3, ["mse"]])
def test_a_loss_name_must_be_a_string(bad: Any) -> None:
    with pytest.raises(UnknownLossError, match="must be a string"):
        lossviz.evaluate(bad, 1.0, 0.0)


# ---------------------------------------------------------------- pred/target errors


def test_target_given_to_a_target_less_loss() -> None:
    with pytest.raises(DomainError, match=r"'l2_penalty' takes no target \(got 0.0\); pass target=None"):
        lossviz.evaluate("l2_penalty", 1.0, 0.0)


def test_missing_target() -> None:
    with pytest.raises(DomainError, match=r"'mse' needs a target: real number"):
        lossviz.evaluate("mse", 1.0)


def test_shapes_that_do_not_broadcast() -> None:
    with pytest.raises(DomainError, match=r"pred of shape \(3,\) and target of shape \(2,\) do not broadcast for 'mse'"):
        lossviz.evaluate("mse", [1.0, 2.0, 3.0], [1.0, 2.0])


def test_domain_violations_name_argument_value_index_and_domain() -> None:
    prob = make_spec("prob_loss", pred_domain=PROBABILITY, target_domain=SIGN, fn=lambda p, t: p * t)
    with pytest.raises(DomainError, match=r"^pred of 'prob_loss' must be probability in \[0, 1\]; got 1.5 at index \(1,\) "
                       r"\(2 invalid values\)$"):
        lossviz.evaluate(prob, [0.5, 1.5, -0.1], 1.0)
    with pytest.raises(DomainError, match=r"^target of 'prob_loss' must be label \(one of -1, 1\); got 0 \(1 invalid value\)$"):
        lossviz.evaluate(prob, 0.5, 0.0)
    index = make_spec("index_loss", target_domain=CLASS_INDEX, fn=lambda p, t: p * t)
    with pytest.raises(DomainError, match=r"target of 'index_loss' must be class index in \[0, ∞\); got 1.5"):
        lossviz.evaluate(index, 0.5, [1.0, 1.5])


@pytest.mark.parametrize(("pred", "target", "which"), [(math.nan, 0.0, "pred"), (1.0, math.inf, "target"),
                                                       ([0.0, -math.inf], 0.0, "pred")])
def test_non_finite_inputs_are_domain_errors(pred: Any, target: Any, which: str) -> None:
    with pytest.raises(DomainError, match=rf"^{which} of 'mse' must be real number; got -?(nan|inf)"):
        lossviz.evaluate("mse", pred, target)


@pytest.mark.parametrize("bad", ["abc", [1.0, "x"], {"a": 1}, [[1.0], [1.0, 2.0]]])
def test_inputs_that_are_not_numbers(bad: Any) -> None:
    with pytest.raises(ParameterError, match=r"pred of 'mse' must be numbers"):
        lossviz.evaluate("mse", bad, 0.0)


@pytest.mark.parametrize("order", [3, -1, "1", 1.5, 1.0, True, None])
def test_order_must_be_0_1_or_2(order: Any) -> None:
    with pytest.raises(ParameterError, match=r"order must be 0 \(value\), 1 \(gradient\) or 2 \(curvature\), got "
                       + re.escape(repr(order))):
        lossviz.evaluate("mse", 1.0, 0.0, order=order)


# ---------------------------------------------------------------- results: shapes, dtypes, orders


def test_order_controls_what_is_computed() -> None:
    r0 = lossviz.evaluate("mse", [1.0, 2.0], 0.0, order=0)
    r1 = lossviz.evaluate("mse", [1.0, 2.0], 0.0, order=1)
    r2 = lossviz.evaluate("mse", [1.0, 2.0], 0.0, order=2)
    r_np = lossviz.evaluate("mse", [1.0, 2.0], 0.0, order=np.int64(2))
    assert r0.grad is None and r0.curvature is None
    assert r1.curvature is None and r1.grad.tolist() == [2.0, 4.0]
    assert r2.curvature.tolist() == [2.0, 2.0] and r_np.curvature.tolist() == [2.0, 2.0]
    assert r0.value.tolist() == r1.value.tolist() == r2.value.tolist() == [1.0, 4.0]
    assert r2.name == "mse"


@pytest.mark.parametrize(
    ("pred_shape", "target_shape", "batch"),
    [((), (), ()), ((5,), (), (5,)), ((), (4,), (4,)), ((1, 5), (3, 1), (3, 5)), ((2, 1, 5), (3, 1), (2, 3, 5)),
     ((0,), (), (0,)), ((0, 3), (1, 3), (0, 3))],
)
def test_shapes_and_dtypes(pred_shape: tuple, target_shape: tuple, batch: tuple) -> None:
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=pred_shape), rng.normal(size=target_shape)
    res = lossviz.evaluate("huber", pred, target, order=2)
    for arr in (res.value, res.grad, res.curvature):
        assert isinstance(arr, np.ndarray)
        assert arr.dtype == np.float64
        assert arr.shape == batch
    np.testing.assert_array_equal(res.grad, np.clip(np.broadcast_to(pred - target, batch), -1, 1))


@pytest.mark.parametrize("shape", [(), (1,), (2, 3)])
def test_target_less_loss_keeps_the_pred_shape(shape: tuple) -> None:
    res = lossviz.evaluate("l2_penalty", np.ones(shape), order=2)
    assert res.value.shape == res.grad.shape == res.curvature.shape == shape


def test_grid_evaluation_equals_a_loop_over_points() -> None:
    pred = np.linspace(-3, 3, 13)
    target = np.linspace(-2, 2, 7)
    grid = lossviz.evaluate("log_cosh", pred[None, :], target[:, None], order=2)
    assert grid.value.shape == (7, 13)
    for i, y in enumerate(target):
        for j, p in enumerate(pred):
            one = lossviz.evaluate("log_cosh", p, y, order=2)
            at_point = [float(one.value), float(one.grad), float(one.curvature)]
            in_grid = [grid.value[i, j], grid.grad[i, j], grid.curvature[i, j]]
            assert in_grid == pytest.approx(at_point, rel=1e-15, abs=1e-300)


def test_a_broadcast_read_only_target_view_is_accepted() -> None:
    target = np.broadcast_to(np.arange(3.0)[:, None], (3, 400))
    assert not target.flags.writeable
    res = lossviz.evaluate("mse", np.linspace(-1, 1, 400), target)
    np.testing.assert_array_equal(res.value, (np.linspace(-1, 1, 400) - target) ** 2)


def test_the_callers_arrays_are_not_modified() -> None:
    pred, target = np.array([1.0, 2.0]), np.array([0.5, 0.5])
    res = lossviz.evaluate("mse", pred, target, order=2)
    res.grad[:] = 0.0
    assert pred.tolist() == [1.0, 2.0] and target.tolist() == [0.5, 0.5]


# ---------------------------------------------------------------- input types

INPUTS = [
    ("float", 1.5, 0.5),
    ("int", 2, 1),
    ("list", [1.5, -1.0], [0.5, 0.5]),
    ("nested list", [[1.5], [-1.0]], [0.5]),
    ("numpy float64", np.array([1.5, -1.0]), np.array(0.5)),
    ("numpy float32", np.array([1.5, -1.0], dtype=np.float32), np.float32(0.5)),
    ("numpy int", np.array([2, -1]), np.int64(1)),
    ("numpy scalar", np.float64(1.5), np.float64(0.5)),
    ("torch float64", torch.tensor([1.5, -1.0], dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64)),
    ("torch float32", torch.tensor([1.5, -1.0]), torch.tensor([0.5])),
    ("torch requiring grad", torch.tensor([1.5, -1.0], requires_grad=True), 0.5),
]


@pytest.mark.parametrize(("kind", "pred", "target"), INPUTS, ids=[i[0] for i in INPUTS])
def test_input_types_give_the_same_float64_result(kind: str, pred: Any, target: Any) -> None:
    res = lossviz.evaluate("huber", pred, target, order=2, delta=1.0)
    p = np.asarray(pred.detach() if isinstance(pred, torch.Tensor) else pred, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    r = p - t
    np.testing.assert_array_equal(res.value, np.where(np.abs(r) <= 1, 0.5 * r * r, np.abs(r) - 0.5))
    np.testing.assert_array_equal(res.grad, np.clip(r, -1, 1))
    assert res.value.dtype == res.grad.dtype == res.curvature.dtype == np.float64


# ---------------------------------------------------------------- structured losses, grad_fn, check_inputs


def sum_of_squares_spec(**kw: Any) -> LossSpec:
    return make_spec(
        "sum_sq", fn=lambda p, t: ((p - t) ** 2).sum(-1), pred_domain=REAL_VECTOR, target_domain=REAL_VECTOR,
        kind="structured", pred_event_ndim=1, target_event_ndim=1, **kw,
    )


def test_structured_loss_broadcasts_batch_axes_and_keeps_event_axes() -> None:
    rng = np.random.default_rng(1)
    pred, target = rng.normal(size=(2, 1, 3)), rng.normal(size=(4, 3))
    res = lossviz.evaluate(sum_of_squares_spec(), pred, target, order=2)
    assert res.value.shape == (2, 4) and res.grad.shape == (2, 4, 3)
    assert res.curvature is None  # no elementwise curvature for a structured loss
    np.testing.assert_allclose(res.value, ((pred - target) ** 2).sum(-1), rtol=1e-15)
    np.testing.assert_allclose(res.grad, 2 * (pred - target), rtol=1e-15)


def test_structured_loss_needs_its_event_axes() -> None:
    with pytest.raises(DomainError, match=r"pred of 'sum_sq' must have at least 1 trailing axes .*got shape \(\)"):
        lossviz.evaluate(sum_of_squares_spec(), 1.0, [1.0])
    with pytest.raises(DomainError, match=r"target of 'sum_sq' must have at least 1 trailing axes; got shape \(\)"):
        lossviz.evaluate(sum_of_squares_spec(), [1.0], 1.0)
    with pytest.raises(DomainError, match=r"do not broadcast"):
        lossviz.evaluate(sum_of_squares_spec(), np.zeros((2, 3)), np.zeros((3, 3)))


def test_target_event_ndim_may_depend_on_the_shapes() -> None:
    """Class indices (one fewer axis than pred) or probabilities (same axes), as in cross_entropy."""

    def pick(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if t.ndim == p.ndim:
            return (p * t).sum(-1)
        return p.gather(-1, t.long()[..., None])[..., 0]

    spec = make_spec("pick", fn=pick, pred_domain=REAL_VECTOR, target_domain=REAL, kind="structured",
                     pred_event_ndim=1, target_event_ndim=lambda pn, tn: 1 if tn == pn else 0)
    pred = np.arange(12.0).reshape(4, 3)
    by_index = lossviz.evaluate(spec, pred, [0.0, 1.0, 2.0, 1.0])
    by_probs = lossviz.evaluate(spec, pred, np.eye(3)[[0, 1, 2, 1]])
    assert by_index.value.tolist() == by_probs.value.tolist() == [0.0, 4.0, 8.0, 10.0]
    np.testing.assert_array_equal(by_index.grad, np.eye(3)[[0, 1, 2, 1]])


def test_closed_form_grad_fn_is_used_and_differentiated_for_curvature() -> None:
    spec = make_spec("cubic", fn=lambda p, t: (p - t) ** 3 / 3, grad_fn=lambda p, t: (p - t) ** 2 + 0 * p)
    res = lossviz.evaluate(spec, [1.0, -2.0], 0.0, order=2)
    assert res.grad.tolist() == [1.0, 4.0]
    assert res.curvature.tolist() == [2.0, -4.0]


def test_grad_fn_with_a_smaller_shape_is_broadcast_to_pred() -> None:
    spec = make_spec("linear", fn=lambda p, t: 3.0 * p - t, grad_fn=lambda p, t: torch.tensor(3.0, dtype=torch.float64))
    res = lossviz.evaluate(spec, [1.0, 2.0, 5.0], 0.0, order=2)
    assert res.grad.tolist() == [3.0, 3.0, 3.0]
    assert res.curvature.tolist() == [0.0, 0.0, 0.0]


def test_linear_loss_has_zero_curvature() -> None:
    res = lossviz.evaluate(make_spec("lin", fn=lambda p, t: 2.0 * p * t), [1.0, 2.0], 3.0, order=2)
    assert res.grad.tolist() == [6.0, 6.0] and res.curvature.tolist() == [0.0, 0.0]


def test_check_inputs_sees_broadcast_arrays_and_params() -> None:
    seen: list[tuple] = []

    def check(pred: np.ndarray, target: np.ndarray | None, params) -> None:
        seen.append((pred.shape, None if target is None else target.shape, dict(params)))
        if (pred > params["cap"]).any():
            raise DomainError(f"pred of 'capped' must be at most cap = {params['cap']:g}")

    spec = make_spec("capped", fn=lambda p, t, cap: (p - t) ** 2, params=(Param("cap", 1.0),), check_inputs=check)
    lossviz.evaluate(spec, [0.0, 0.5], [[0.0], [1.0]], cap=1.0)
    assert seen == [((2, 2), (2, 2), {"cap": 1.0})]
    with pytest.raises(DomainError, match=r"at most cap = 0\.2"):
        lossviz.evaluate(spec, [0.0, 0.5], 0.0, cap=0.2)


# ---------------------------------------------------------------- kinks, summaries, scopes


def test_kink_points_validate_their_parameters() -> None:
    assert lossviz.spec("huber").kink_points(1.0, delta=2.0) == ((-1.0, 2), (3.0, 2))
    assert lossviz.spec("mse").kink_points(1.0) == ()
    with pytest.raises(ParameterError, match="'delta'"):
        lossviz.spec("huber").kink_points(1.0, delta=-2.0)


def test_summary_is_plain_data() -> None:
    summary = lossviz.spec("huber").summary()
    assert summary["name"] == "huber" and summary["family"] == "regression"
    assert summary["params"][0]["name"] == "delta" and summary["params"][0]["range"] == "(0, ∞)"
    assert summary["pred"] == "real number" and summary["target"] == "real number"


def test_custom_losses_live_in_their_scope_only() -> None:
    mine = make_spec("my_scoped_loss")
    with lossviz.user_scope({}) as store:
        store[mine.name] = mine
        assert "my_scoped_loss" in lossviz.names()
        assert lossviz.evaluate("my_scoped_loss", 3.0, 1.0).value == 4.0
        with lossviz.user_scope({}):
            assert "my_scoped_loss" not in lossviz.names()
    assert "my_scoped_loss" not in lossviz.names()
    with pytest.raises(UnknownLossError):
        lossviz.spec("my_scoped_loss")


def test_names_by_family_and_by_family_grouping() -> None:
    assert set(lossviz.names("regression")) >= {"mse", "mae", "huber", "smooth_l1", "log_cosh", "quantile"}
    grouped = lossviz.by_family()
    assert list(grouped) == [f for f in lossviz.FAMILIES if f in grouped]
    assert sorted(s.name for specs in grouped.values() for s in specs) == lossviz.names()
