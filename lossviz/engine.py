"""evaluate(): value, gradient and curvature of any loss over grids — one path for every loss.

Values come from the loss's declared function, run on float64 torch tensors. Gradients come from
autograd over that function, or from the loss's closed-form ``grad_fn`` where it declares one
(tests check each closed form against autograd). Curvature (pointwise losses only) is the
autograd derivative of the gradient: a pointwise loss's Hessian is diagonal, so the gradient of
``grad.sum()`` is exactly the elementwise second derivative.

Kink convention: at a point where a loss is not differentiable, lossviz reports the
minimal-norm subgradient — 0 for |r| at 0, for max(0, m − y·p) at the margin, for the pinball
loss at 0 — which is also what ``torch.abs`` and ``torch.relu`` give. Curvature at a kink is
the one-sided value of the piece that holds the kink point.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from lossviz.errors import DomainError, ParameterError
from lossviz.registry import spec as get_spec
from lossviz.spec import LossSpec


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate`.

    ``value`` has the broadcast batch shape (per-sample, reduction "none"); ``grad`` is
    d value / d pred with the broadcast shape of ``pred``; ``curvature`` is d² value / d pred²
    elementwise (pointwise losses with ``order=2``), else ``None``.
    """

    name: str
    value: np.ndarray
    grad: np.ndarray | None
    curvature: np.ndarray | None
    params: dict[str, float] = field(default_factory=dict)


def _as_array(x: Any, what: str, loss: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{what} of {loss!r} must be numbers (float, list or array): {exc}") from None
    return arr


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    """A tensor as numpy; ``force`` because autograd returns a ZeroTensor for |x|'s second derivative."""
    return t.numpy(force=True)


def _target_event_ndim(s: LossSpec, pred: np.ndarray, target: np.ndarray) -> int:
    te = s.target_event_ndim
    return te(pred.ndim, target.ndim) if callable(te) else te


def _broadcast(s: LossSpec, pred: np.ndarray, target: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Broadcast the batch axes of pred and target; event axes stay as they are."""
    pe = s.pred_event_ndim
    if pred.ndim < pe:
        raise DomainError(
            f"pred of {s.name!r} must have at least {pe} trailing axes ({s.pred_domain.describe()}); "
            f"got shape {pred.shape}"
        )
    pred_event = pred.shape[pred.ndim - pe :]
    if target is None:
        # np.array, not np.ascontiguousarray: the latter turns a 0-d pred into shape (1,).
        return np.array(pred, dtype=np.float64, order="C"), None
    te = _target_event_ndim(s, pred, target)
    if target.ndim < te:
        raise DomainError(f"target of {s.name!r} must have at least {te} trailing axes; got shape {target.shape}")
    target_event = target.shape[target.ndim - te :]
    try:
        batch = np.broadcast_shapes(pred.shape[: pred.ndim - pe], target.shape[: target.ndim - te])
    except ValueError:
        raise DomainError(
            f"pred of shape {pred.shape} and target of shape {target.shape} do not broadcast for {s.name!r}"
        ) from None
    # pred gets its own memory (every element needs its own gradient); target stays a view.
    pred_b = np.array(np.broadcast_to(pred, batch + pred_event), dtype=np.float64, order="C")
    return pred_b, np.broadcast_to(target, batch + target_event)


def _target_tensor(t: np.ndarray) -> torch.Tensor:
    """A broadcast (read-only, zero-stride) view as a torch tensor without copying repeats."""
    strides = np.array(t.strides)
    if t.flags.writeable and (strides > 0).all():
        return torch.from_numpy(np.ascontiguousarray(t)).reshape(t.shape)  # keeps 0-d targets 0-d
    # Collapse the repeated axes to length 1, copy that small core, let torch expand it again.
    core = t[tuple(slice(0, 1) if s == 0 else slice(None) for s in t.strides)]
    return torch.from_numpy(np.array(core)).expand(t.shape)


def prepare(
    name: str | LossSpec, pred: Any, target: Any = None, **params: Any
) -> tuple[LossSpec, np.ndarray, np.ndarray | None, dict[str, float]]:
    """Validate and broadcast the inputs of a loss: (spec, pred, target, params)."""
    s = get_spec(name)
    values = s.validate_params(params)
    p = _as_array(pred, "pred", s.name)
    if s.target_domain is None:
        if target is not None:
            raise DomainError(f"{s.name!r} takes no target (got {target!r}); pass target=None")
        t = None
    else:
        if target is None:
            raise DomainError(f"{s.name!r} needs a target: {s.target_domain.describe()}")
        t = _as_array(target, "target", s.name)
    s.pred_domain.check(p, "pred", s.name)
    if t is not None and s.target_domain is not None:
        s.target_domain.check(t, "target", s.name)
    p, t = _broadcast(s, p, t)
    if s.check_inputs is not None:
        s.check_inputs(p, t, values)
    return s, p, t, values


def evaluate(name: str | LossSpec, pred: Any, target: Any = None, order: int = 1, **params: Any) -> Evaluation:
    """Evaluate a loss, its gradient (``order >= 1``) and curvature (``order == 2``).

    ``pred`` and ``target`` are floats, lists or arrays that broadcast against each other, so one
    call covers a whole grid (``pred[None, :]`` against ``target[:, None]``). Raises
    :class:`~lossviz.ParameterError` for bad parameters or inputs outside the loss's domain and
    :class:`~lossviz.UnknownLossError` for unknown names.
    """
    if isinstance(order, (bool, np.bool_)) or not isinstance(order, (int, np.integer)) or order not in (0, 1, 2):
        raise ParameterError(f"order must be 0 (value), 1 (gradient) or 2 (curvature), got {order!r}")
    order = int(order)
    s, p, t, values = prepare(name, pred, target, **params)
    pred_t = torch.from_numpy(p).requires_grad_(order >= 1)
    target_t = None if t is None else _target_tensor(t)
    with torch.enable_grad():
        # With a closed-form gradient the value needs no autograd graph.
        with torch.no_grad() if s.grad_fn is not None else contextlib.nullcontext():
            value = s.fn(pred_t, target_t, **values)
        grad = curvature = None
        if order >= 1:
            want_curvature = order == 2 and s.pointwise
            if s.grad_fn is not None:
                with torch.enable_grad() if want_curvature else torch.no_grad():
                    grad = s.grad_fn(pred_t, target_t, **values)
            else:
                (grad,) = torch.autograd.grad(value.sum(), pred_t, create_graph=want_curvature)
            if want_curvature:
                if grad.requires_grad:
                    (curvature,) = torch.autograd.grad(grad.sum(), pred_t, allow_unused=True)
                if curvature is None:  # the gradient does not depend on pred: a linear loss
                    curvature = torch.zeros_like(pred_t)
    return Evaluation(
        name=s.name,
        value=value.detach().numpy(),
        grad=None if grad is None else _to_numpy(torch.broadcast_to(grad.detach(), pred_t.shape)),
        curvature=None if curvature is None else _to_numpy(curvature.detach()),
        params=values,
    )
