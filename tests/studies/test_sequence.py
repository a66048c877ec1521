"""lossviz.studies.sequence against F.ctc_loss, a brute-force sum over every path of T classes (Graves et al.
2006, eq. 3, written out here), brute-force Viterbi, and F.poisson_nll_loss / F.gaussian_nll_loss."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz.errors import DomainError, ParameterError
from lossviz.studies import sequence as cs


def collapse_ref(path: tuple[int, ...]) -> tuple[int, ...]:
    merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return tuple(k for k in merged if k != 0)


def brute_force(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray, tuple[int, ...]]:
    """−log p(l | x), the occupancy q_t(k) = P(π_t = k | l) and the most probable path in B⁻¹(l),
    by enumerating all C^T paths."""
    frames, classes = logits.shape
    log_y = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    target = tuple(int(k) for k in labels)
    total = 0.0
    occupancy = np.zeros((frames, classes))
    best, best_path = -np.inf, ()
    for path in itertools.product(range(classes), repeat=frames):
        if collapse_ref(path) != target:
            continue
        log_p = sum(log_y[t, k] for t, k in enumerate(path))
        total += math.exp(log_p)
        occupancy[np.arange(frames), path] += math.exp(log_p)
        if log_p > best:
            best, best_path = log_p, path
    return -math.log(total), occupancy / total, best_path


def torch_ctc(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F.ctc_loss (blank 0) per sequence and its gradient with respect to the logits [B, T, C]."""
    u = torch.tensor(logits, requires_grad=True)
    log_probs = torch.log_softmax(u, dim=-1).transpose(0, 1)  # [T, B, C]
    batch, frames = logits.shape[0], logits.shape[1]
    target = torch.tensor(np.tile(labels, (batch, 1)), dtype=torch.long)
    loss = F.ctc_loss(log_probs, target, [frames] * batch, [len(labels)] * batch, blank=0, reduction="none")
    (grad,) = torch.autograd.grad(loss.sum(), u)
    return loss.detach().numpy(), grad.numpy()


# --- labels, paths, presets ---------------------------------------------------------------------


def test_parse_label() -> None:
    np.testing.assert_array_equal(cs.parse_label("abba", 3), [1, 2, 2, 1])
    np.testing.assert_array_equal(cs.parse_label(" A b C ", 3), [1, 2, 3])
    assert cs.parse_label("", 2).tolist() == []
    assert cs.label_text([1, 2, 2, 1], 3) == "abba"
    assert cs.class_names(3) == ["∅", "a", "b", "c"]


@pytest.mark.parametrize(("text", "letters", "bad", "position"), [("abd", 3, "d", 3), ("a1", 6, "1", 2), ("c", 2, "c", 1)])
def test_parse_label_names_the_bad_character(text: str, letters: int, bad: str, position: int) -> None:
    with pytest.raises(ParameterError) as info:
        cs.parse_label(text, letters)
    message = str(info.value)
    assert f"{bad!r} at position {position}" in message
    assert f"K = {letters}" in message


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 6).flatmap(lambda k: st.tuples(st.just(k), st.lists(st.integers(1, k), max_size=8))), st.data())
def test_spike_path_collapses_to_the_label(example: tuple[int, list[int]], data: st.DataObject) -> None:
    letters, label = example
    labels = np.array(label, dtype=np.int64)
    frames = data.draw(st.integers(max(cs.min_frames(labels), 1), 16))
    path = cs.spike_path(labels, frames)
    assert path.shape == (frames,)
    assert cs.collapse(path) == label
    assert collapse_ref(tuple(path.tolist())) == tuple(label)
    assert (path != cs.BLANK).sum() == len(label)  # each letter at exactly one frame
    assert path.max(initial=0) <= letters


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 3), max_size=7), st.integers(1, 12))
def test_examples_are_rejected_exactly_when_no_alignment_fits(label: list[int], frames: int) -> None:
    labels = np.array(label, dtype=np.int64)
    fits = any(collapse_ref(p) == tuple(label) for p in itertools.product(range(4), repeat=frames)) if frames <= 6 else (
        frames >= cs.min_frames(labels)
    )
    assert fits == (frames >= cs.min_frames(labels))
    if fits:
        cs.check_example(frames, 3, labels)
    else:
        with pytest.raises(DomainError, match=f"needs at least T = {cs.min_frames(labels)}"):
            cs.check_example(frames, 3, labels)
        with pytest.raises(ParameterError):
            cs.spike_path(labels, frames)


def test_presets() -> None:
    labels = cs.parse_label("abba", 3)
    aligned = cs.preset_logits("aligned", labels, 8, 3, 3.0)
    assert aligned.shape == (8, 4)
    np.testing.assert_array_equal(aligned.argmax(axis=1), [0, 1, 2, 0, 0, 2, 1, 0])
    assert set(np.unique(aligned)) == {0.0, 3.0}
    wrong = cs.preset_logits("wrong", labels, 8, 3, 3.0)
    assert cs.collapse(wrong.argmax(axis=1)) == [2, 3, 3, 2]  # every letter replaced by the next (bccb)
    np.testing.assert_array_equal(cs.preset_logits("uniform", labels, 8, 3, 3.0), np.zeros((8, 4)))
    np.testing.assert_array_equal(cs.preset_logits("blank", labels, 8, 3, 2.0).argmax(axis=1), np.zeros(8))
    assert cs.collapse(cs.preset_logits("wrong", cs.parse_label("c", 3), 3, 3, 1.0).argmax(axis=1)) == [1]
    with pytest.raises(ParameterError, match="unknown preset"):
        cs.preset_logits("nope", labels, 8, 3, 1.0)


def test_collapse_and_best_path() -> None:
    assert cs.collapse([1, 1, 0, 2, 2, 0, 0, 2]) == [1, 2, 2]
    assert cs.collapse([0, 0]) == []
    posteriors = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])
    np.testing.assert_array_equal(cs.best_path(posteriors), [1, 0, 2])


def test_boost_values_are_the_steps_of_the_boost_control() -> None:
    b = cs.boost_values()
    lo, hi = cs.BOOST.slider_range
    assert b[0] == lo and b[-1] == hi and len(b) == 25
    np.testing.assert_allclose(np.diff(b), cs.BOOST.slider_step)
    assert 0.0 in b


def test_frame_param_spans_the_frames() -> None:
    p = cs.frame_param(7)
    assert p.slider_range == (1, 7) and p.contains(7) and not p.contains(8) and p.integer


# --- the loss and its gradient -------------------------------------------------------------------


def test_default_example_against_ctc_loss_written_by_hand() -> None:
    """T = 8, K = 3, label abba, aligned preset with sharpness 3: the path ∅ a b ∅ ∅ b a ∅ gets logit 3."""
    logits = np.zeros((8, 4))
    logits[np.arange(8), [0, 1, 2, 0, 0, 2, 1, 0]] = 3.0
    labels = cs.parse_label(cs.DEFAULT_LABEL, 3)
    sweep = cs.ctc_sweep(cs.preset_logits("aligned", labels, 8, 3, 3.0), labels, 3, 0, 1, cs.boost_values())
    i = sweep.index(0.0)
    np.testing.assert_array_equal(sweep.logits[i], logits)
    loss, grad = torch_ctc(logits[None], labels)
    assert sweep.loss[i] == pytest.approx(float(loss[0]), rel=1e-12)
    np.testing.assert_allclose(sweep.grad[i], grad[0], rtol=1e-9, atol=1e-12)
    assert sweep.decoded(i) == "abba"
    assert sweep.probability(i) == pytest.approx(math.exp(-float(loss[0])), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(list(cs.PRESETS)),
    st.lists(st.integers(1, 3), max_size=5),
    st.integers(2, 12),
    st.floats(0.0, 8.0),
    st.integers(0, 11),
    st.integers(0, 3),
)
def test_sweep_matches_torch_ctc_loss(
    preset: str, label: list[int], frames: int, sharpness: float, frame: int, boosted: int
) -> None:
    labels = np.array(label, dtype=np.int64)
    if frames < cs.min_frames(labels):
        return
    frame = min(frame, frames - 1)
    base = cs.preset_logits(preset, labels, frames, 3, sharpness)
    boosts = np.array([-6.0, -1.5, 0.0, 2.5, 6.0])
    sweep = cs.ctc_sweep(base, labels, 3, frame, boosted, boosts)
    expected = np.repeat(base[None], len(boosts), axis=0)
    expected[:, frame, boosted] += boosts
    np.testing.assert_array_equal(sweep.logits, expected)
    loss, grad = torch_ctc(expected, labels)
    np.testing.assert_allclose(sweep.loss, loss, rtol=1e-9)
    np.testing.assert_allclose(sweep.grad, grad, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(sweep.posteriors.sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(sweep.best_paths, sweep.posteriors.argmax(axis=-1))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.integers(1, 2), max_size=3), st.integers(1, 6))
def test_loss_gradient_and_alignment_against_brute_force(seed: int, label: list[int], frames: int) -> None:
    """Sum over all 3^T paths (blank, a, b): the loss, the gradient y − q (Graves eq. 16), the Viterbi path."""
    labels = np.array(label, dtype=np.int64)
    if frames < cs.min_frames(labels):
        return
    logits = np.random.default_rng(seed).normal(scale=2.0, size=(frames, 3))
    sweep = cs.ctc_sweep(logits, labels, 2, 0, 0, np.array([0.0]))
    loss, occupancy, best = brute_force(logits, labels)
    assert sweep.loss[0] == pytest.approx(loss, rel=1e-10)
    np.testing.assert_allclose(sweep.grad[0], sweep.posteriors[0] - occupancy, atol=1e-12)
    log_y = np.log(sweep.posteriors[0])
    found = sweep.alignments[0]
    assert cs.collapse(found) == label
    # ties aside, the Viterbi path is the most probable path that collapses to the label
    assert log_y[np.arange(frames), found].sum() == pytest.approx(log_y[np.arange(frames), best].sum(), abs=1e-12)


def test_best_alignment_runs_a_batch_like_one_example_at_a_time() -> None:
    labels = np.array([1, 2, 2])
    log_probs = np.log(cs.softmax(np.random.default_rng(1).normal(scale=3.0, size=(2, 5, 7, 3))))
    batched = cs.best_alignment(log_probs, labels)
    assert batched.shape == (2, 5, 7)
    for i, j in itertools.product(range(2), range(5)):
        np.testing.assert_array_equal(batched[i, j], cs.best_alignment(log_probs[i, j], labels))


def test_best_alignment_of_an_impossible_label_raises() -> None:
    with pytest.raises(ParameterError, match="no alignment"):
        cs.best_alignment(np.log(np.full((2, 3), 1 / 3)), np.array([1, 1]))


def test_empty_label_means_all_blank() -> None:
    logits = np.random.default_rng(0).normal(size=(5, 3))
    sweep = cs.ctc_sweep(logits, np.array([], dtype=np.int64), 2, 0, 0, np.array([0.0]))
    log_y = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert sweep.loss[0] == pytest.approx(-log_y[:, 0].sum(), rel=1e-12)
    np.testing.assert_array_equal(sweep.alignments[0], np.zeros(5))


# --- Poisson and Gaussian NLL ---------------------------------------------------------------------


def test_poisson_curves_against_torch() -> None:
    counts = cs.count_values()
    np.testing.assert_array_equal(counts, np.arange(21))
    curves = cs.poisson_curves(counts)
    for c in curves:
        p = torch.tensor(c.x, requires_grad=True)
        ref = F.poisson_nll_loss(p, torch.full_like(p, c.setting), log_input=True, full=False, reduction="none")
        (grad,) = torch.autograd.grad(ref.sum(), p)
        np.testing.assert_allclose(c.value, ref.detach().numpy(), rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(c.grad, grad.numpy(), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("count", [1.0, 3.0, 17.0])
def test_poisson_minimiser_is_log_y(count: float) -> None:
    x_star, l_star = cs.poisson_minimiser(count)
    assert x_star == pytest.approx(math.log(count), rel=1e-15)
    (c,) = cs.poisson_curves([count])
    assert l_star == pytest.approx(math.exp(x_star) - count * x_star, rel=1e-14, abs=1e-14)
    assert l_star <= c.value.min() + 1e-12  # nothing on the grid lies below it
    assert cs.poisson_minimiser(0.0) is None


def test_gaussian_curves_against_torch() -> None:
    variances = [1e-7, 0.01, 0.5, 1.0, 7.0]  # 1e-7 is below the 1e-6 floor both apply
    curves = cs.gaussian_curves(0.7, variances)
    for c in curves:
        assert c.x[0] == pytest.approx(0.7 - cs.GAUSSIAN_HALF_WIDTH) and c.x[-1] == pytest.approx(0.7 + 4)
        p = torch.tensor(c.x, requires_grad=True)
        ref = F.gaussian_nll_loss(p, torch.full_like(p, 0.7), torch.full_like(p, c.setting), reduction="none")
        (grad,) = torch.autograd.grad(ref.sum(), p)
        np.testing.assert_allclose(c.value, ref.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(c.grad, grad.numpy(), rtol=1e-12, atol=1e-14)
        x_star, l_star = c.minimiser
        floored = max(c.setting, 1e-6)
        assert x_star == 0.7 and l_star == pytest.approx(0.5 * math.log(floored), rel=1e-15, abs=1e-15)
        assert l_star <= c.value.min() + 1e-12


def test_nearest_curve_and_the_bottoms_of_the_wells() -> None:
    variances = [0.01, 0.5, 1.0, 7.0]
    curves = cs.gaussian_curves(0.7, variances)
    assert [cs.nearest_curve(curves, v) for v in (0.0, 0.3, 0.9, 1.0, 100.0)] == [0, 1, 2, 2, 3]
    # The grid holds p = y, where the Gaussian NLL has its minimum ½ log σ².
    np.testing.assert_allclose(cs.lowest_values(curves), 0.5 * np.log(variances), rtol=1e-12, atol=1e-15)
    counts = cs.poisson_curves([0.0, 1.0, 2.0, 3.0])
    assert cs.nearest_curve(counts, 2.0) == 2
    floor = cs.lowest_values(cs.poisson_curves([0.0]))[0]  # y = 0: e^p, lowest at the left end of the grid
    assert floor == pytest.approx(math.exp(cs.LOG_RATE_RANGE[0]), rel=1e-12)


def test_variance_frames_contain_every_option_of_the_variance_control() -> None:
    import lossviz
    from lossviz.toolkit.frames import log_ladder

    var = lossviz.spec("gaussian_nll").param("var")
    frames = cs.variance_values(var)
    assert set(log_ladder(var)) <= set(frames) and len(frames) > len(log_ladder(var)) and frames == sorted(frames)


def test_page_settings_are_valid_params() -> None:
    for param in (cs.FRAMES, cs.ALPHABET_SIZE, cs.SHARPNESS, cs.BOOST, cs.COUNT, cs.GAUSSIAN_TARGET):
        lo, hi = param.slider_range
        assert param.contains(lo) and param.contains(hi) and lo <= param.default <= hi
    assert cs.min_frames(cs.parse_label(cs.DEFAULT_LABEL, 3)) <= cs.FRAMES.default
