"""Sequence losses: a model emits a distribution over classes at each of T time steps, the target is a
shorter label sequence whose alignment to the time steps is unknown."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import numpy as np
import torch

from lossviz.errors import DomainError
from lossviz.registry import register
from lossviz.spec import Domain, Param

LOGITS_TC = Domain("logits [T, C] (real): T time steps, C classes", plot_range=(-6.0, 6.0))
LABEL_SEQUENCE = Domain("label sequence [S] of class indices", low=0.0, integer=True, plot_range=(0.0, 9.0))

_BLANK = Param(
    "blank", 0, low=0, integer=True, ui_low=0, ui_high=9, step=1, symbol=r"\varnothing",
    description="Index of the blank class (no label emitted); must be below C and differ from every label.",
)


def _min_time_steps(labels: np.ndarray) -> np.ndarray:
    """S + the number of repeated consecutive labels, per sequence: a repeat needs a blank between its copies."""
    repeats = (labels[..., 1:] == labels[..., :-1]).sum(axis=-1)
    return labels.shape[-1] + repeats


def _check_ctc(pred: np.ndarray, target: np.ndarray | None, params: Mapping[str, float]) -> None:
    """Labels below C and not blank, blank below C, and T long enough for every label sequence."""
    assert target is not None
    steps, classes = pred.shape[-2:]
    blank = int(params["blank"])
    if steps < 1 or classes < 1:
        raise DomainError(f"pred of 'ctc' must have T ≥ 1 time steps and C ≥ 1 classes; got shape {pred.shape}")
    if blank >= classes:
        raise DomainError(
            f"parameter 'blank' of 'ctc' is {blank}, but pred has only C = {classes} classes on its last axis; "
            f"blank must be in [0, {classes})"
        )
    valid = f"labels must be integers in [0, {classes}) other than blank = {blank}"
    for bad, why in ((target >= classes, f"beyond the C = {classes} classes of pred"), (target == blank, "the blank")):
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise DomainError(f"target of 'ctc' holds label {target[index]:g} at index {index}, {why}; {valid}")
    if target.size == 0:
        return
    needed = _min_time_steps(target)
    worst = np.unravel_index(int(np.argmax(needed)), needed.shape)
    if needed[worst] > steps:
        labels = target[worst].astype(int).tolist()
        where = f" at batch index {tuple(int(i) for i in worst)}" if needed.ndim else ""
        raise DomainError(
            f"ctc needs at least T = {int(needed[worst])} time steps for the target{where} "
            f"({labels}: S = {target.shape[-1]} labels plus one blank between each "
            f"pair of repeated consecutive labels), but pred has T = {steps}; no alignment exists"
        )


def _logsumexp(*terms: torch.Tensor) -> torch.Tensor:
    """log Σ exp over the given same-shape tensors, elementwise; −inf where all are −inf, with a zero
    (not NaN) gradient there.

    ``torch.logsumexp`` of all −inf returns −inf but differentiates to exp(−inf − (−inf)) = NaN; the
    unreachable states of the CTC lattice are exactly such entries, so they are routed around the log.
    Written elementwise because ``torch.logsumexp`` over a stacked axis of length 3 is ~100× slower.
    The shift m is detached: m + log Σ exp(xᵢ − m) does not depend on m, so its gradient is exact.
    """
    m = functools.reduce(torch.maximum, terms).detach()
    dead = m == -torch.inf
    m = torch.where(dead, 0.0, m)
    total = functools.reduce(torch.add, (torch.exp(x - m) for x in terms))
    return torch.where(dead, -torch.inf, m + torch.log(torch.where(dead, 1.0, total)))


def _extended_labels(labels: torch.Tensor, blank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Graves's l′: blank, l₁, blank, l₂, …, l_S, blank (length 2S + 1), and where a state may skip
    back two (a label differing from the label two states before, i.e. not a blank nor a repeat)."""
    batch, length = labels.shape[0], 2 * labels.shape[1] + 1
    extended = torch.full((batch, length), blank, dtype=torch.long)
    extended[:, 1::2] = labels
    skip = torch.zeros((batch, length), dtype=torch.bool)
    skip[:, 2:] = (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])
    return extended, skip


def _ctc_nll(log_probs: torch.Tensor, labels: torch.Tensor, blank: int) -> torch.Tensor:
    """−log p(l | x) by the forward (α) recursion in log space; log_probs [N, T, C], labels [N, S] → [N].

    α_t(s) = (α_{t−1}(s) ⊕ α_{t−1}(s−1) ⊕ [skip(s)] α_{t−1}(s−2)) + log y_t(l′_s), where ⊕ is log-add,
    started from the first blank or first label and read out at the last label or final blank
    (Graves et al. 2006, eqs. 6–8).
    """
    batch, steps, _ = log_probs.shape
    extended, skip = _extended_labels(labels, blank)
    length = extended.shape[1]
    emit = log_probs.gather(2, extended.unsqueeze(1).expand(batch, steps, length))  # [N, T, L]
    never = torch.full((batch, length), -torch.inf, dtype=log_probs.dtype, device=log_probs.device)
    start = torch.arange(length, device=log_probs.device) < 2
    alpha = torch.where(start, emit[:, 0], never)
    pad = torch.full((batch, 2), -torch.inf, dtype=log_probs.dtype, device=log_probs.device)
    for t in range(1, steps):
        shifted = torch.cat([pad, alpha], dim=1)
        one_back = shifted[:, 1 : length + 1]
        two_back = torch.where(skip, shifted[:, :length], never)
        alpha = _logsumexp(alpha, one_back, two_back) + emit[:, t]
    return -_logsumexp(*alpha[:, -2:].unbind(dim=1)) if length > 1 else -alpha[:, 0]


@register(
    name="ctc",
    title="Connectionist temporal classification (CTC)",
    family="sequence",
    latex=r"-\log \sum_{\pi \in \mathcal{B}^{-1}(l)} \prod_{t=1}^{T} y^{t}_{\pi_t},\quad y^t = \operatorname{softmax}(p_t)",
    use_when=(
        "Speech or handwriting recognition without frame-level alignment: sum the probability of every path of "
        "T per-step classes (blank included) that collapses to the label sequence (merge repeats, drop blanks)."
    ),
    pred=LOGITS_TC,
    target=LABEL_SEQUENCE,
    params=(_BLANK,),
    references=(
        "Graves, Fernández, Gomez & Schmidhuber, Connectionist Temporal Classification, ICML 2006",
        "torch.nn.functional.ctc_loss (reduction='none', zero_infinity=False)",
    ),
    kind="structured",
    pred_event_ndim=2,
    target_event_ndim=1,
    check_inputs=_check_ctc,
    note=(
        "pred holds logits (log-softmax is applied inside); every sequence uses all T steps and all S labels. "
        "A repeated label (a, a) needs a blank between its copies, so T must be at least S plus the number of "
        "repeats. An empty target (S = 0) is allowed: the loss is then −Σ_t log y^t_blank."
    ),
)
def ctc(pred: torch.Tensor, target: torch.Tensor, *, blank: int = 0) -> torch.Tensor:
    """CTC negative log-likelihood of the labels ``target[..., S]`` under logits ``pred[..., T, C]``.

    Returns one value per sequence (shape ``pred.shape[:-2]``); equal to
    ``F.ctc_loss(log_softmax(pred) as [T, N, C], target, T, S, blank, reduction="none")``.

    References: Graves et al. 2006, section 4.1.
    """
    batch_shape = pred.shape[:-2]
    batch = math.prod(batch_shape)
    log_probs = torch.log_softmax(pred, dim=-1).reshape(batch, *pred.shape[-2:])
    labels = target.reshape(batch, target.shape[-1]).round().long()
    return _ctc_nll(log_probs, labels, blank).reshape(batch_shape)
