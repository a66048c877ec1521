"""Checks that hold for every registered loss, written over ``lossviz.names()``.

A loss added to any family is covered as soon as it is registered: its declaration (title,
formula, use-when, references, parameters, domains), and for pointwise losses gradient and
curvature against finite differences, the grid property, finiteness at the domain edges and at
the extremes of every slider, and the kink convention. Structured losses need an example input
(``STRUCTURED_EXAMPLES``); a structured loss without one fails ``test_every_structured_loss_has_an_example``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lossviz
from lossviz import Domain, LossSpec
from lossviz.registry import builtin_names

REQUIRED = (
    "mse mae huber smooth_l1 log_cosh quantile barron poisson_nll gaussian_nll bce bce_logits focal hinge "
    "squared_hinge contrastive gan_generator_saturating gan_generator_nonsaturating lsgan_generator "
    "lsgan_discriminator wasserstein_generator wasserstein_critic cross_entropy softmax_focal kl_div multi_margin "
    "margin_ranking triplet cosine_embedding cosine_proximity dice jaccard tversky total_variation ctc"
).split()

NAMES = builtin_names()
POINTWISE = [n for n in NAMES if lossviz.spec(n).pointwise]
STRUCTURED = [n for n in NAMES if not lossviz.spec(n).pointwise]
KINK_CLEARANCE = 1e-3


def test_the_required_losses_are_all_registered() -> None:
    missing = sorted(set(REQUIRED) - set(NAMES))
    assert not missing, f"not registered: {missing}"


# ---------------------------------------------------------------- declarations


def _balanced_braces(latex: str) -> bool:
    depth = 0
    for ch in re.sub(r"\\[{}]", "", latex):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize("name", NAMES)
def test_declaration_is_complete(name: str) -> None:
    s = lossviz.spec(name)
    assert re.fullmatch(r"[a-z][a-z0-9_]*", s.name)
    assert s.family in lossviz.FAMILIES and s.family != "custom"
    for text in (s.title, s.latex, s.use_when):
        assert isinstance(text, str) and text.strip() and text == text.strip()
    assert _balanced_braces(s.latex), s.latex
    assert s.references and all(isinstance(r, str) and r.strip() for r in s.references)
    assert s.kind in ("pointwise", "structured")
    assert s.pointwise == (s.pred_event_ndim == 0 and s.target_event_ndim == 0)
    for domain in (s.pred_domain, s.target_domain):
        if domain is not None:
            _check_domain(domain)


def _check_domain(d: Domain) -> None:
    assert d.label and d.describe()
    lo, hi = d.plot_range
    assert lo < hi
    if d.values:
        assert all(lo <= v <= hi for v in d.values)
    else:
        assert d.low <= lo and hi <= d.high


@pytest.mark.parametrize("name", [n for n in NAMES if lossviz.spec(n).params])
def test_parameters_have_valid_defaults_and_slider_ranges(name: str) -> None:
    s = lossviz.spec(name)
    assert len(set(s.param_names)) == len(s.params)
    for p in s.params:
        assert p.description.strip(), f"{name}.{p.name} has no description"
        assert p.validate(p.default, name) == p.default
        lo, hi = p.slider_range
        assert math.isfinite(lo) and math.isfinite(hi) and lo < hi
        assert p.contains(lo) and p.contains(hi), f"{name}.{p.name}: slider ends {lo}, {hi} outside {p.range_text}"
        assert 0 < p.slider_step <= hi - lo
        if p.scale == "log":
            assert lo > 0
        if p.integer:
            assert lo == int(lo) and hi == int(hi) and p.slider_step == int(p.slider_step)
        assert p.nearest_valid(p.default) == p.default or not (lo <= p.default <= hi)


# ---------------------------------------------------------------- pointwise sampling


def interior(d: Domain) -> tuple[float, float]:
    """The plotting range inside the domain, 2 % in from each end (room for finite differences)."""
    lo, hi = max(d.plot_range[0], d.low), min(d.plot_range[1], d.high)
    margin = 0.02 * (hi - lo)
    return lo + margin, hi - margin


def sample(d: Domain, rng: np.random.Generator, n: int) -> np.ndarray:
    if d.values:
        return rng.choice(np.array(d.values), n)
    x = rng.uniform(*interior(d), n)
    return np.round(x) if d.integer else x


def edges(d: Domain) -> np.ndarray:
    """The ends of the domain: its closed bounds, just inside open ones, 10× the plot range where unbounded."""
    if d.values:
        return np.array(d.values)
    out = []
    for bound, is_open, plot_end in ((d.low, d.low_open, d.plot_range[0]), (d.high, d.high_open, d.plot_range[1])):
        if math.isinf(bound):
            out += [plot_end, 10 * plot_end if plot_end else math.copysign(10.0, bound)]
        else:
            out.append(bound + (math.copysign(1e-9 * max(1.0, abs(bound)), -bound) if is_open else 0.0))
            out.append(plot_end)
    return np.unique(np.array(out))


def away_from_kinks(s: LossSpec, pred: np.ndarray, target: np.ndarray | None, **params: float) -> np.ndarray:
    keep = np.ones(pred.shape, bool)
    if s.kinks is None:
        return keep
    for i in range(pred.size):
        y = None if target is None else float(target[i])
        for position, _order in s.kink_points(y, **params):
            keep[i] &= abs(pred[i] - position) > KINK_CLEARANCE
    return keep


def pointwise_points(name: str, n: int = 120, seed: int = 0, **params: float):
    s = lossviz.spec(name)
    rng = np.random.default_rng([seed, *name.encode()])
    pred = sample(s.pred_domain, rng, n)
    target = None if s.target_domain is None else sample(s.target_domain, rng, n)
    keep = away_from_kinks(s, pred, target, **params)
    assert keep.mean() > 0.5, f"{name}: most sample points lie within {KINK_CLEARANCE} of a kink"
    return pred[keep], None if target is None else target[keep]


@pytest.mark.parametrize("name", POINTWISE)
def test_pointwise_gradient_and_curvature_match_finite_differences(name: str, fd_check) -> None:
    pred, target = pointwise_points(name)
    fd_check(name, pred, target)


@pytest.mark.parametrize("name", POINTWISE)
def test_pointwise_grid_equals_a_loop_over_points(name: str) -> None:
    s = lossviz.spec(name)
    rng = np.random.default_rng(1)
    pred = sample(s.pred_domain, rng, 9)
    if s.target_domain is None:
        grid = lossviz.evaluate(name, pred[None, :], order=2)
        targets: list[Any] = [None]
    else:
        target = np.unique(sample(s.target_domain, rng, 5))
        grid = lossviz.evaluate(name, pred[None, :], target[:, None], order=2)
        targets = list(target)
    assert grid.value.shape == grid.grad.shape == grid.curvature.shape == (len(targets), pred.size)
    for i, y in enumerate(targets):
        for j, p in enumerate(pred):
            one = lossviz.evaluate(name, p, y, order=2)
            got = [grid.value[i, j], grid.grad[i, j], grid.curvature[i, j]]
            assert got == pytest.approx([float(one.value), float(one.grad), float(one.curvature)], rel=1e-14, abs=1e-300)


def _assert_finite(res: lossviz.Evaluation, what: str) -> None:
    for label, arr in (("value", res.value), ("grad", res.grad), ("curvature", res.curvature)):
        if arr is not None:
            bad = ~np.isfinite(arr)
            assert not bad.any(), f"{what}: {label} not finite at {np.argwhere(bad)[:3].tolist()}: {arr[bad][:3]}"


@pytest.mark.parametrize("name", POINTWISE)
def test_pointwise_loss_is_finite_at_the_domain_edges(name: str) -> None:
    s = lossviz.spec(name)
    pred = edges(s.pred_domain)
    if s.target_domain is None:
        res = lossviz.evaluate(name, pred, order=2)
    else:
        target = np.unique(np.concatenate([edges(s.target_domain), sample(s.target_domain, np.random.default_rng(2), 3)]))
        res = lossviz.evaluate(name, pred[None, :], target[:, None], order=2)
    _assert_finite(res, f"{name} at pred {pred}")


def _param_extremes(s: LossSpec) -> list[tuple[str, float]]:
    out = []
    for p in s.params:
        out += [(p.name, v) for v in (*p.slider_range, *p.special)]
    return out


@pytest.mark.parametrize(
    ("name", "param", "value"),
    [(n, p, v) for n in POINTWISE for p, v in _param_extremes(lossviz.spec(n))],
)
def test_pointwise_loss_is_finite_at_slider_extremes(name: str, param: str, value: float) -> None:
    s = lossviz.spec(name)
    rng = np.random.default_rng(3)
    pred = np.concatenate([sample(s.pred_domain, rng, 50), edges(s.pred_domain)])
    target = None if s.target_domain is None else sample(s.target_domain, rng, pred.size)
    _assert_finite(lossviz.evaluate(name, pred, target, order=2, **{param: value}), f"{name} with {param}={value}")


@pytest.mark.parametrize(
    ("name", "param", "value"),
    [(n, p, v) for n in POINTWISE for p, v in _param_extremes(lossviz.spec(n)) if math.isfinite(v)],
)
def test_pointwise_derivatives_at_slider_extremes_match_finite_differences(name, param, value, fd_check) -> None:
    pred, target = pointwise_points(name, n=60, seed=4, **{param: value})
    fd_check(name, pred, target, **{param: value})


# ---------------------------------------------------------------- the kink convention

NICE_TARGETS = (-1.0, 0.0, 0.5, 1.0, 2.0)
ONE_SIDED_STEP = 1e-7


def _kinks_to_check() -> list[tuple[str, float | None, float, int]]:
    cases = []
    for name in POINTWISE:
        s = lossviz.spec(name)
        if s.kinks is None:
            continue
        d = s.target_domain
        targets: list[float | None] = [None] if d is None else [
            y for y in (d.values or NICE_TARGETS) if not d.invalid_mask(np.array(y)).any()
        ]
        lo, hi = interior(s.pred_domain)
        for y in targets:
            for position, order in s.kink_points(y):
                if lo <= position <= hi:
                    cases.append((name, y, position, order))
    return cases


@pytest.mark.parametrize(("name", "target", "position", "order"), _kinks_to_check())
def test_gradient_at_a_kink_is_the_minimal_norm_subgradient(name, target, position, order) -> None:
    """One-sided slopes either side of a declared kink; lossviz reports the element of smallest norm.

    At an order-2 kink (the curvature jumps) the two slopes agree and the gradient is continuous.
    """
    h = ONE_SIDED_STEP
    f = lossviz.evaluate(name, [position - h, position, position + h], target, order=2)
    left, right = (f.value[1] - f.value[0]) / h, (f.value[2] - f.value[1]) / h
    if order == 1:
        expected = 0.0 if left * right <= 0 else min(left, right, key=abs)
    else:
        assert left == pytest.approx(right, rel=1e-5, abs=1e-5)
        expected = (left + right) / 2
    assert f.grad[1] == pytest.approx(expected, rel=1e-5, abs=1e-5), (left, right)
    _assert_finite(f, f"{name} at its kink {position}")


# ---------------------------------------------------------------- structured losses

rng_examples = np.random.default_rng(2024)


def _probs(shape: tuple[int, ...]) -> np.ndarray:
    x = rng_examples.uniform(0.05, 1.0, shape)
    return x / x.sum(-1, keepdims=True)


STRUCTURED_EXAMPLES: dict[str, tuple[np.ndarray, np.ndarray | None]] = {
    "cosine_embedding": (rng_examples.normal(size=(2, 2, 4)), np.array([1.0, -1.0])),
    "cosine_proximity": (rng_examples.normal(size=(3, 4)), rng_examples.normal(size=(3, 4))),
    "cross_entropy": (rng_examples.normal(0, 2, (3, 4)), np.array([0.0, 2.0, 3.0])),
    "ctc": (rng_examples.normal(0, 2, (2, 7, 10)), np.array([[1.0, 3.0, 3.0], [8.0, 2.0, 5.0]])),
    "dice": (rng_examples.uniform(0.05, 0.95, (2, 3, 3)), np.array([np.eye(3), np.ones((3, 3))])),
    "jaccard": (rng_examples.uniform(0.05, 0.95, (2, 3, 3)), np.array([np.eye(3), np.zeros((3, 3))])),
    "tversky": (rng_examples.uniform(0.05, 0.95, (2, 3, 3)), np.array([np.eye(3), np.fliplr(np.eye(3))])),
    "kl_div": (rng_examples.normal(0, 2, (3, 4)), _probs((3, 4))),
    "margin_ranking": (rng_examples.normal(size=(3, 2)), np.array([1.0, -1.0, 1.0])),
    "multi_margin": (rng_examples.normal(size=(3, 4)), np.array([0.0, 1.0, 3.0])),
    "pixel_cross_entropy": (rng_examples.normal(0, 2, (2, 3, 2, 2)), np.array([[[0.0, 1], [2, 1]], [[2, 2], [0, 1]]])),
    "softmax_focal": (rng_examples.normal(0, 2, (3, 4)), np.array([0.0, 2.0, 3.0])),
    "total_variation": (rng_examples.uniform(0, 1, (2, 3, 4)), None),
    "triplet": (rng_examples.normal(size=(2, 3, 4)), None),
    "weighted_cross_entropy": (rng_examples.normal(0, 2, (3, 10)), np.array([0.0, 1.0, 9.0])),
    "perceptual": (rng_examples.uniform(0, 1, (2, 8, 8)), rng_examples.uniform(0, 1, (2, 8, 8))),
}


def test_every_structured_loss_has_an_example() -> None:
    missing = sorted(set(STRUCTURED) - set(STRUCTURED_EXAMPLES))
    assert not missing, f"structured losses without an example input here: {missing}"


def _batch_size(s: LossSpec, pred: np.ndarray) -> int:
    return pred.shape[0] if pred.ndim > s.pred_event_ndim else 1


@pytest.mark.parametrize("name", [n for n in STRUCTURED if n in STRUCTURED_EXAMPLES])
def test_structured_gradient_matches_finite_differences(name: str) -> None:
    pred, target = STRUCTURED_EXAMPLES[name]
    res = lossviz.evaluate(name, pred, target)
    assert res.grad.shape == pred.shape and res.curvature is None
    _assert_finite(res, name)
    h = 1e-6
    flat = pred.reshape(-1)
    fd = np.empty_like(flat)
    for k in range(flat.size):
        up, down = flat.copy(), flat.copy()
        up[k] += h
        down[k] -= h
        f_up = lossviz.evaluate(name, up.reshape(pred.shape), target, order=0).value.sum()
        f_down = lossviz.evaluate(name, down.reshape(pred.shape), target, order=0).value.sum()
        fd[k] = (f_up - f_down) / (2 * h)
    total = float(np.abs(res.value).sum())
    np.testing.assert_allclose(res.grad.reshape(-1), fd, rtol=1e-6, atol=1e-8 * (1 + total))


@pytest.mark.parametrize("name", [n for n in STRUCTURED if n in STRUCTURED_EXAMPLES])
def test_structured_batch_equals_a_loop_over_samples(name: str) -> None:
    s = lossviz.spec(name)
    pred, target = STRUCTURED_EXAMPLES[name]
    batch = lossviz.evaluate(name, pred, target)
    assert batch.value.shape == (_batch_size(s, pred),)
    for i in range(pred.shape[0]):
        one = lossviz.evaluate(name, pred[i], None if target is None else target[i])
        assert one.value.shape == ()
        np.testing.assert_allclose(one.value, batch.value[i], rtol=1e-14, atol=1e-300)
        np.testing.assert_allclose(one.grad, batch.grad[i], rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize(
    ("name", "param", "value"),
    [(n, p, v) for n in STRUCTURED if n in STRUCTURED_EXAMPLES for p, v in _param_extremes(lossviz.spec(n))],
)
def test_structured_loss_is_finite_at_slider_extremes(name: str, param: str, value: float) -> None:
    pred, target = STRUCTURED_EXAMPLES[name]
    _assert_finite(lossviz.evaluate(name, pred, target, **{param: value}), f"{name} with {param}={value}")


@pytest.mark.parametrize("name", [n for n in STRUCTURED if n in STRUCTURED_EXAMPLES])
def test_structured_loss_is_finite_at_the_pred_domain_edges(name: str) -> None:
    """Every pred element pushed to an end of its domain (logits ±60, probabilities 0 and 1)."""
    s = lossviz.spec(name)
    pred, target = STRUCTURED_EXAMPLES[name]
    ends = edges(s.pred_domain)
    extreme = np.where(pred > np.median(pred), ends.max(), ends.min())
    _assert_finite(lossviz.evaluate(name, extreme, target), f"{name} at pred {ends.min()}/{ends.max()}")


# ---------------------------------------------------------------- the generated docs


def test_committed_docs_equal_the_generator_output() -> None:
    from lossviz import docs

    committed = Path(__file__).resolve().parents[1] / "docs" / "losses.md"
    assert committed.read_text(encoding="utf-8") == docs.render(), (
        "docs/losses.md is out of date: run `python -m lossviz.docs`"
    )
