"""CTC against ``F.ctc_loss``, against single-path and empty-label formulas, and against finite differences."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossviz
from lossviz import DomainError, ParameterError


def _labels(rng: np.random.Generator, shape: tuple[int, ...], classes: int, blank: int) -> np.ndarray:
    """Random labels in [0, C) \\ {blank}."""
    choices = np.array([c for c in range(classes) if c != blank])
    return choices[rng.integers(0, choices.size, shape)].astype(np.float64)


def _torch_ctc(logits: np.ndarray, labels: np.ndarray, blank: int) -> tuple[np.ndarray, np.ndarray]:
    """``F.ctc_loss`` (reduction "none") on log_softmax(logits) and its gradient w.r.t. the logits."""
    batch_shape = logits.shape[:-2]
    steps, classes = logits.shape[-2:]
    n = int(np.prod(batch_shape))
    x = torch.tensor(logits.reshape(n, steps, classes), requires_grad=True)
    targets = torch.tensor(labels.reshape(n, labels.shape[-1]), dtype=torch.long)
    loss = F.ctc_loss(
        x.log_softmax(-1).transpose(0, 1),
        targets,
        input_lengths=torch.full((n,), steps, dtype=torch.long),
        target_lengths=torch.full((n,), labels.shape[-1], dtype=torch.long),
        blank=blank,
        reduction="none",
        zero_infinity=False,
    )
    loss.sum().backward()
    return loss.detach().numpy().reshape(batch_shape), x.grad.numpy().reshape(logits.shape)


def _repeats(labels: np.ndarray) -> np.ndarray:
    return (labels[..., 1:] == labels[..., :-1]).sum(axis=-1)


CASES = [
    # batch shape, T, C, S, blank
    ((), 1, 2, 1, 0),
    ((), 3, 3, 0, 0),
    ((4,), 10, 6, 4, 0),
    ((2, 3), 12, 5, 5, 2),
    ((3,), 8, 3, 3, 2),
    ((5,), 20, 30, 8, 7),
    ((2,), 50, 4, 20, 1),
]


@pytest.mark.parametrize(("batch_shape", "steps", "classes", "length", "blank"), CASES)
def test_matches_torch_ctc_loss(
    batch_shape: tuple[int, ...], steps: int, classes: int, length: int, blank: int
) -> None:
    rng = np.random.default_rng(steps * 100 + classes)
    logits = rng.normal(0.0, 2.0, (*batch_shape, steps, classes))
    labels = _labels(rng, (*batch_shape, length), classes, blank)
    assert (length + _repeats(labels) <= steps).all()
    res = lossviz.evaluate("ctc", logits, labels, blank=blank)
    value, grad = _torch_ctc(logits, labels, blank)
    assert res.value.shape == batch_shape and res.grad.shape == logits.shape
    np.testing.assert_allclose(res.value, value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-9, atol=1e-12)


def test_repeated_labels_match_torch_at_the_tightest_length() -> None:
    """(2, 2, 3, 3, 3) needs T = 5 + 3 repeats = 8: at T = 8 exactly one path remains, at T = 9 a few."""
    labels = np.array([[2.0, 2.0, 3.0, 3.0, 3.0]])
    for steps in (8, 9, 12):
        logits = np.random.default_rng(steps).normal(size=(1, steps, 4))
        res = lossviz.evaluate("ctc", logits, labels)
        value, grad = _torch_ctc(logits, labels, 0)
        np.testing.assert_allclose(res.value, value, rtol=1e-12)
        np.testing.assert_allclose(res.grad, grad, rtol=1e-9, atol=1e-12)


def test_tightest_length_is_the_single_path_with_blanks_between_repeats() -> None:
    logits = np.random.default_rng(5).normal(size=(8, 4))
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    path = [2, 0, 2, 3, 0, 3, 0, 3]  # the only alignment of (2, 2, 3, 3, 3) in 8 steps
    value = lossviz.evaluate("ctc", logits, [2.0, 2.0, 3.0, 3.0, 3.0], order=0).value
    np.testing.assert_allclose(value, -log_probs[np.arange(8), path].sum(), rtol=1e-14)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(3, 6), st.integers(0, 10_000))
def test_no_slack_means_one_path(length: int, classes: int, seed: int) -> None:
    """T = S with no repeats: the only path emits l_t at step t, so the loss is −Σ_t log y_t(l_t)."""
    rng = np.random.default_rng(seed)
    labels = [int(rng.integers(1, classes))]
    for _ in range(length - 1):  # step to a different non-blank label
        labels.append(1 + (labels[-1] - 1 + int(rng.integers(1, classes - 1))) % (classes - 1))
    assert 0 not in labels and all(a != b for a, b in itertools.pairwise(labels))
    logits = rng.normal(0.0, 3.0, (length, classes))
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    value = lossviz.evaluate("ctc", logits, np.array(labels, dtype=np.float64), order=0).value
    np.testing.assert_allclose(value, -log_probs[np.arange(length), labels].sum(), rtol=1e-13)


@pytest.mark.parametrize("blank", [0, 3])
def test_empty_label_is_all_blanks(blank: int) -> None:
    logits = np.random.default_rng(6).normal(size=(3, 7, 4))
    res = lossviz.evaluate("ctc", logits, np.zeros((3, 0)), blank=blank)
    log_probs = torch.tensor(logits).log_softmax(-1).numpy()
    np.testing.assert_allclose(res.value, -log_probs[..., blank].sum(axis=-1), rtol=1e-14)
    value, grad = _torch_ctc(logits, np.zeros((3, 0)), blank)
    np.testing.assert_allclose(res.value, value, rtol=1e-12)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-9, atol=1e-12)


def test_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(2, 6, 4))
    labels = np.array([[1.0, 1.0, 2.0], [3.0, 2.0, 3.0]])
    grad = lossviz.evaluate("ctc", logits, labels, blank=0).grad
    h = 1e-6
    fd = np.zeros_like(logits)
    for index in np.ndindex(logits.shape):
        step = np.zeros_like(logits)
        step[index] = h
        plus = lossviz.evaluate("ctc", logits + step, labels, order=0).value
        minus = lossviz.evaluate("ctc", logits - step, labels, order=0).value
        fd[index] = (plus - minus)[index[0]] / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(2, 6), st.integers(0, 5), st.integers(0, 5), st.integers(0, 10_000))
def test_random_shapes_match_torch(steps: int, classes: int, length: int, blank: int, seed: int) -> None:
    blank = blank % classes
    rng = np.random.default_rng(seed)
    labels = _labels(rng, (3, length), classes, blank)
    labels = labels[length + _repeats(labels) <= steps]
    logits = rng.normal(0.0, 2.0, (labels.shape[0], steps, classes))
    res = lossviz.evaluate("ctc", logits, labels, blank=blank)
    value, grad = _torch_ctc(logits, labels, blank) if labels.shape[0] else (res.value, res.grad)
    np.testing.assert_allclose(res.value, value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-9, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(-50.0, 50.0))
def test_invariant_to_shifting_the_logits_of_a_step(seed: int, shift: float) -> None:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(6, 5))
    labels = np.array([1.0, 4.0, 4.0])
    shifted = logits.copy()
    shifted[int(rng.integers(0, 6))] += shift
    a = lossviz.evaluate("ctc", logits, labels)
    b = lossviz.evaluate("ctc", shifted, labels)
    np.testing.assert_allclose(b.value, a.value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad, a.grad, rtol=1e-9, atol=1e-12)
    assert a.value >= 0.0


def test_huge_logits_stay_finite_and_match_torch() -> None:
    rng = np.random.default_rng(8)
    logits = rng.choice([-800.0, 0.0, 800.0], size=(2, 9, 5)) + rng.normal(size=(2, 9, 5))
    labels = np.array([[1.0, 2.0, 2.0, 4.0], [3.0, 3.0, 3.0, 3.0]])
    res = lossviz.evaluate("ctc", logits, labels)
    value, grad = _torch_ctc(logits, labels, 0)
    assert np.isfinite(res.value).all() and np.isfinite(res.grad).all()
    np.testing.assert_allclose(res.value, value, rtol=1e-12)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-9, atol=1e-12)


def test_batch_broadcasting_equals_a_loop() -> None:
    rng = np.random.default_rng(9)
    logits = rng.normal(size=(2, 1, 7, 5))
    labels = _labels(rng, (3, 3), 5, 0)
    res = lossviz.evaluate("ctc", logits, labels)
    assert res.value.shape == (2, 3) and res.grad.shape == (2, 3, 7, 5)
    for i in range(2):
        for j in range(3):
            single = lossviz.evaluate("ctc", logits[i, 0], labels[j])
            assert res.value[i, j] == single.value
            np.testing.assert_array_equal(res.grad[i, j], single.grad)


def test_one_label_sequence_for_a_batch_of_logits() -> None:
    logits = np.random.default_rng(10).normal(size=(4, 6, 3))
    res = lossviz.evaluate("ctc", logits, [1.0, 2.0])
    value, grad = _torch_ctc(logits, np.tile([1.0, 2.0], (4, 1)), 0)
    np.testing.assert_allclose(res.value, value, rtol=1e-12)
    np.testing.assert_allclose(res.grad, grad, rtol=1e-9, atol=1e-12)


def test_declaration() -> None:
    s = lossviz.spec("ctc")
    assert s.family == "sequence" and s.kind == "structured"
    assert (s.pred_event_ndim, s.target_event_ndim) == (2, 1)
    assert s.param("blank").integer and s.defaults == {"blank": 0}
    assert lossviz.evaluate("ctc", np.zeros((3, 2)), [1.0], order=2).curvature is None


# --- bad inputs -----------------------------------------------------------------------------------------------

_LOGITS = np.zeros((2, 5, 4))


@pytest.mark.parametrize(
    ("labels", "blank", "message"),
    [
        (
            [[1.0, 4.0], [1.0, 2.0]],
            0,
            r"holds label 4 at index \(0, 1\), beyond the C = 4 classes of pred; "
            r"labels must be integers in \[0, 4\) other than blank = 0",
        ),
        ([[1.0, 2.0], [0.0, 2.0]], 0, r"holds label 0 at index \(1, 0\), the blank; labels must be integers"),
        ([[1.0, 2.0], [3.0, 2.0]], 3, r"holds label 3 at index \(1, 0\), the blank"),
        ([[1.0, 2.5], [1.0, 2.0]], 0, r"target of 'ctc' must be label sequence \[S\] of class indices"),
        ([[1.0, -1.0], [1.0, 2.0]], 0, r"target of 'ctc' must be label sequence \[S\] of class indices"),
        ([[1.0, np.nan], [1.0, 2.0]], 0, r"target of 'ctc' must be label sequence"),
        (
            [[1.0, 2.0], [1.0, 2.0]],
            4,
            r"parameter 'blank' of 'ctc' is 4, but pred has only C = 4 classes on its "
            r"last axis; blank must be in \[0, 4\)",
        ),
    ],
)
def test_bad_labels_are_rejected(labels: list[list[float]], blank: int, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        lossviz.evaluate("ctc", _LOGITS, labels, blank=blank)


def test_impossible_alignment_names_the_minimum_length() -> None:
    labels = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])  # needs T = 3 and T = 5
    with pytest.raises(
        DomainError,
        match=r"ctc needs at least T = 5 time steps for the target at batch index \(1,\) \(\[1, 1, 1\]: S = 3 labels "
        r"plus one blank between each pair of repeated consecutive labels\), but pred has T = 4",
    ):
        lossviz.evaluate("ctc", np.zeros((2, 4, 4)), labels)
    assert np.isfinite(lossviz.evaluate("ctc", np.zeros((2, 5, 4)), labels).value).all()


def test_labels_longer_than_the_sequence_are_rejected() -> None:
    with pytest.raises(DomainError, match=r"at least T = 4 time steps .* but pred has T = 3"):
        lossviz.evaluate("ctc", np.zeros((3, 5)), [1.0, 2.0, 3.0, 4.0])


def test_bad_shapes_and_logits_are_rejected() -> None:
    with pytest.raises(DomainError, match=r"pred of 'ctc' must have at least 2 trailing axes"):
        lossviz.evaluate("ctc", np.zeros(5), [1.0])
    with pytest.raises(DomainError, match=r"target of 'ctc' must have at least 1 trailing axes"):
        lossviz.evaluate("ctc", np.zeros((5, 3)), 1.0)
    with pytest.raises(DomainError, match=r"pred of 'ctc' must have T ≥ 1 time steps and C ≥ 1 classes"):
        lossviz.evaluate("ctc", np.zeros((0, 3)), np.zeros(0))
    with pytest.raises(DomainError, match=r"pred of 'ctc' must be logits \[T, C\]"):
        lossviz.evaluate("ctc", [[0.0, np.inf]], [1.0])
    with pytest.raises(DomainError, match=r"do not broadcast"):
        lossviz.evaluate("ctc", np.zeros((2, 5, 3)), np.ones((3, 2)))


@pytest.mark.parametrize("blank", [-1, 1.5, "0"])
def test_bad_blank_parameter_is_rejected(blank: object) -> None:
    with pytest.raises(ParameterError, match=r"parameter 'blank' of 'ctc'"):
        lossviz.evaluate("ctc", _LOGITS, [[1.0], [2.0]], blank=blank)
