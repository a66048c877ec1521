"""Loss landscapes of a trained network, after Li et al., *Visualizing the Loss Landscape of Neural Nets*.

* 1-D linear interpolation (Goodfellow, Vinyals & Saxe, ICLR 2015; Li et al. §3): the loss at
  θ(α) = (1 − α)·θ₀ + α·θ₁ between the initial weights θ₀ (α = 0) and the trained ones θ₁ (α = 1).
* 2-D slices along two random directions with **filter normalisation** (Li et al. §4): each
  direction is Gaussian, then every filter — for a dense layer, the incoming weights of one unit,
  a row of W — is rescaled to the norm of the same filter of the trained weights, and the bias
  entries are set to 0 (Li et al.'s "ignore biases" choice). The plane is
  θ(a, b) = θ* + a·δ + b·η.
* The optimiser's trajectory on the top-2 PCA directions of the weight history (Li et al. §7):
  PCA of the matrix [θ₀ − θₙ; …; θₙ₋₁ − θₙ], each θᵢ projected as ((θᵢ − θₙ)·d₁, (θᵢ − θₙ)·d₂) with
  unit directions, so the final weights sit at the origin, and the loss drawn on θₙ + a·d₁ + b·d₂.
  A checkpoint is generally *not* on that plane (the loss drawn under its dot is not its loss): each one's
  distance from the plane, ‖(θᵢ − θₙ) − aᵢd₁ − bᵢd₂‖, is reported, and relative to the step that led to it
  (:func:`plane_residuals`) — a path drawn on a plane its points do not lie on is what users of Li et al.'s
  code asked about (tomgoldstein/loss-landscape issues #1 and #18).

A grid is evaluated in one batch: the parameter vectors of all grid points form a (G, P) tensor
and the MLP runs as batched matrix products (:meth:`lossviz.toolkit.training.MLP.forward`), the loss
through the catalogue's ``spec.fn`` on the (G, N) predictions — no Python loop over grid points.
:func:`surface_loop` is that loop, kept as the reference the tests and the benchmark compare with.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from lossviz.errors import ParameterError
from lossviz.registry import spec as get_spec
from lossviz.spec import Param
from lossviz.toolkit.training import (
    DEVICE,
    DTYPE,
    MLP,
    Objective,
    RunCache,
    TrainResult,
    loss_head,
    one_thread,
    shared_cache_allowed,
)

RESOLUTION = Param(
    "resolution", 41, low=3, high=201, integer=True, ui_low=11, ui_high=81, step=10,
    description="Grid points along each axis of a 2-D slice (the cost grows with its square).",
)
SPAN = Param(
    "span", 1.0, low=0.0, low_open=True, ui_low=0.25, ui_high=3.0, step=0.25,
    description="The random-direction plane covers a, b ∈ [−span, span] (in units of the filter-normalised directions).",
)
DIRECTION_SEED = Param(
    "direction_seed", 0, low=0, high=2**31 - 1, integer=True, ui_low=0, ui_high=99, step=1,
    description="Seed of the two random directions.",
)
INTERPOLATION_RANGE = (-0.5, 1.5)
"""α range of the 1-D interpolation: a little beyond both ends, as in Goodfellow et al. and Li et al."""
MAX_BATCH_ELEMENTS = 500_000
"""Largest hidden activation tensor (grid points × samples × width) evaluated at once: 4 MB of float64
stays in cache; a default 41 × 41 slice took 180 ms in chunks of 2 M elements and 95 ms in chunks of 0.5 M."""


# --- directions --------------------------------------------------------------------------------


def filter_normalized_direction(model: MLP, theta: np.ndarray, generator: torch.Generator) -> np.ndarray:
    """A Gaussian direction with each filter scaled to the norm of θ's filter, biases zero (Li et al. §4).

    A filter of a dense layer is one row of W (the incoming weights of one unit): row i of the
    direction becomes d_i · ‖θ_i‖ / ‖d_i‖ (exactly: Li et al.'s code adds 1e-10 to ‖d_i‖, which
    is visible for one-input filters).
    """
    direction = torch.randn(model.n_params, dtype=DTYPE, generator=generator).numpy()
    out = np.zeros_like(direction)
    for w, _b, fan_out, fan_in in model.layers:
        d_rows = direction[w].reshape(fan_out, fan_in)
        t_rows = np.asarray(theta)[w].reshape(fan_out, fan_in)
        d_norm = np.linalg.norm(d_rows, axis=1, keepdims=True)
        scale = np.linalg.norm(t_rows, axis=1, keepdims=True) / np.where(d_norm > 0, d_norm, 1.0)
        out[w] = (d_rows * scale).ravel()
    return out


@dataclass(frozen=True)
class Plane:
    """The plane θ(a, b) = center + a·d1 + b·d2; ``explained`` is the PCA variance ratio of d1, d2."""

    center: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    explained: tuple[float, float] | None = None

    def points(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Parameter vectors (n, P) at the coordinates (a[k], b[k])."""
        a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
        return self.center[None, :] + a[:, None] * self.d1[None, :] + b[:, None] * self.d2[None, :]


def random_plane(model: MLP, theta: np.ndarray, seed: int) -> Plane:
    """Two filter-normalised random directions around ``theta``, from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    d1 = filter_normalized_direction(model, theta, gen)
    d2 = filter_normalized_direction(model, theta, gen)
    return Plane(np.asarray(theta, dtype=np.float64).copy(), d1, d2)


def pca_plane(thetas: np.ndarray) -> Plane:
    """The top-2 PCA directions of the weight history around its last point (Li et al. §7).

    PCA (centred, as scikit-learn's) of the rows θᵢ − θₙ, i < n; unit directions, signed so that
    the initial weights get non-negative coordinates.
    """
    thetas = np.asarray(thetas, dtype=np.float64)
    final = thetas[-1]
    diffs = thetas[:-1] - final
    if len(diffs) < 2:
        raise ParameterError("a PCA plane needs a weight history of at least three points (two epochs)")
    centred = diffs - diffs.mean(axis=0)
    _u, s, vt = np.linalg.svd(centred, full_matrices=False)
    total = float((s**2).sum())
    directions = []
    for k in range(2):
        d = vt[k] if k < len(vt) else np.zeros_like(final)
        if float((thetas[0] - final) @ d) < 0:
            d = -d
        directions.append(d)
    ratios = tuple(float(s[k] ** 2 / total) if total > 0 and k < len(s) else 0.0 for k in range(2))
    return Plane(final.copy(), directions[0], directions[1], ratios)  # type: ignore[arg-type]


def plane_residuals(plane: Plane, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row of ``thetas``'s distance from the plane and the length of the step that led to it.

    The distance is the norm of what the projection leaves out, ‖(θᵢ − c) − P(θᵢ − c)‖ with P the orthogonal
    projection onto span(d₁, d₂) (orthonormalised first, so any two independent directions do); the step is
    ‖θᵢ − θᵢ₋₁‖, and for the first row the step that leaves it, ‖θ₁ − θ₀‖. Their ratio says how many steps away
    from the drawn plane a checkpoint lies: above about one, the path on the plane is not the path taken.
    """
    diffs = np.asarray(thetas, dtype=np.float64) - plane.center
    basis, _r = np.linalg.qr(np.stack([plane.d1, plane.d2], axis=1))
    residual = np.linalg.norm(diffs - (diffs @ basis) @ basis.T, axis=1)
    steps = np.linalg.norm(np.diff(thetas, axis=0), axis=1)
    return residual, np.r_[steps[:1], steps]


def project(plane: Plane, thetas: np.ndarray) -> np.ndarray:
    """Coordinates ((θ − center)·d1/‖d1‖, (θ − center)·d2/‖d2‖) of each row of ``thetas``."""
    diffs = np.asarray(thetas, dtype=np.float64) - plane.center
    n1 = np.linalg.norm(plane.d1) or 1.0
    n2 = np.linalg.norm(plane.d2) or 1.0
    return np.stack([diffs @ plane.d1 / n1, diffs @ plane.d2 / n2], axis=-1)


# --- batched evaluation ---------------------------------------------------------------------------


def batched_loss(objective: Objective, thetas: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean loss and metric at each row of ``thetas`` (G, P), in chunks that bound the memory."""
    thetas = torch.as_tensor(thetas, dtype=DTYPE, device=objective.device)
    width = max(objective.model.sizes)
    chunk = max(1, MAX_BATCH_ELEMENTS // max(1, len(objective.x) * width))
    losses, metrics = [], []
    with torch.no_grad():
        for start in range(0, len(thetas), chunk):
            loss, metric = objective.loss_and_metric(thetas[start : start + chunk])
            losses.append(loss)
            metrics.append(metric)
    return torch.cat(losses).cpu().numpy(), torch.cat(metrics).cpu().numpy()


def surface(objective: Objective, plane: Plane, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The mean loss on the plane at (xs[j], ys[i]) as ``z[i, j]``, all grid points in one batch."""
    a, b = np.meshgrid(xs, ys)
    with one_thread():
        loss, _metric = batched_loss(objective, plane.points(a, b))
    return loss.reshape(a.shape)


def surface_loop(objective: Objective, plane: Plane, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The same surface, one forward pass per grid point: the naive reference for tests and benchmarks."""
    z = np.empty((len(ys), len(xs)))
    with torch.no_grad(), one_thread():
        for i, b in enumerate(ys):
            for j, a in enumerate(xs):
                theta = torch.as_tensor(plane.center + a * plane.d1 + b * plane.d2, dtype=DTYPE, device=objective.device)
                z[i, j] = float(objective.loss(theta))
    return z


def interpolation(
    objective: Objective, theta0: np.ndarray, theta1: np.ndarray, alphas: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean loss and metric at θ(α) = (1 − α)·θ₀ + α·θ₁ for each α."""
    alphas = np.asarray(alphas, dtype=np.float64)
    thetas = (1.0 - alphas)[:, None] * theta0[None, :] + alphas[:, None] * theta1[None, :]
    with one_thread():
        return batched_loss(objective, thetas)


# --- objectives of a trained run ------------------------------------------------------------------


def objective_for(
    result: TrainResult,
    loss: str | None = None,
    params: dict[str, float] | None = None,
    split: str = "train",
    device: torch.device = DEVICE,
) -> Objective:
    """The mean loss of ``result``'s network on its training (or validation) data.

    With ``loss`` given, another catalogue loss is put on the same outputs; it must fit the same
    task with the same number of outputs (a 1-logit network cannot be scored by a 2-logit loss).
    """
    su = result.setup
    if loss is None:
        spec, head, values = su.spec, su.head, su.params
    else:
        spec = get_spec(loss)
        head = loss_head(spec, su.dataset.task, max(su.dataset.n_classes, 2))
        if head is None or head.n_outputs != su.head.n_outputs:
            raise ParameterError(
                f"loss {spec.name!r} cannot score this network: it needs "
                f"{'a different task' if head is None else f'{head.n_outputs} outputs'}, the network has "
                f"{su.head.n_outputs}"
            )
        values = spec.validate_params(params or {})
    d = su.dataset
    if split == "train":
        x, y, clean = d.x_train, d.y_train, d.clean_train
    else:
        x, y, clean = d.x_val, d.y_val, d.clean_val
    return Objective(su.model, head, spec, values, x, y, clean, device, d.metric_scale)


@dataclass(frozen=True)
class Interpolation:
    """Loss and metric along θ(α) = (1 − α)θ₀ + αθ₁ on the training and validation data."""

    alphas: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_metric: np.ndarray
    val_metric: np.ndarray


@dataclass(frozen=True)
class Slice:
    """The loss on a plane: ``z[i, j]`` at (xs[j], ys[i]); for a PCA plane also the projected trajectory, and
    each checkpoint's distance from the plane (``off_plane``) and the length of its step (``steps``), as
    :func:`plane_residuals` gives them."""

    xs: np.ndarray
    ys: np.ndarray
    z: np.ndarray
    seconds: float
    path: np.ndarray | None = None
    explained: tuple[float, float] | None = None
    off_plane: np.ndarray | None = None
    steps: np.ndarray | None = None

    @property
    def off_plane_in_steps(self) -> np.ndarray | None:
        """Each checkpoint's distance from the plane in units of its step (0 where both are 0, inf for a
        distance without a step)."""
        if self.off_plane is None or self.steps is None:
            return None
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.off_plane / self.steps
        return np.where(self.off_plane == 0, 0.0, ratio)

    def beyond_a_step(self) -> tuple[int, float]:
        """How many checkpoints lie more than one step from the plane, and the largest distance in steps."""
        ratio = self.off_plane_in_steps
        if ratio is None or not len(ratio):
            return 0, 0.0
        return int((ratio > 1).sum()), float(ratio.max())


def compute_interpolation(result: TrainResult, points: int = 101) -> Interpolation:
    """The 1-D interpolation from the initial to the trained weights, α in :data:`INTERPOLATION_RANGE`."""
    alphas = np.linspace(*INTERPOLATION_RANGE, points)
    tl, tm = interpolation(objective_for(result), result.theta_initial, result.theta_final, alphas)
    vl, vm = interpolation(objective_for(result, split="val"), result.theta_initial, result.theta_final, alphas)
    return Interpolation(alphas, tl, vl, tm, vm)


def compute_random_slice(
    result: TrainResult,
    resolution: int = int(RESOLUTION.default),
    span: float = SPAN.default,
    seed: int = int(DIRECTION_SEED.default),
    loss: str | None = None,
    params: dict[str, float] | None = None,
) -> Slice:
    """The training loss (or ``loss``) on the filter-normalised random plane through the trained weights."""
    start = time.perf_counter()
    n = RESOLUTION.validate(resolution, "landscape")
    span = SPAN.validate(span, "landscape")
    seed = DIRECTION_SEED.validate(seed, "landscape")
    objective = objective_for(result, loss, params)
    plane = random_plane(result.setup.model, result.theta_final, seed)
    xs = ys = np.linspace(-span, span, n)
    z = surface(objective, plane, xs, ys)
    return Slice(xs, ys, z, time.perf_counter() - start)


def compute_pca_slice(result: TrainResult, resolution: int = int(RESOLUTION.default)) -> Slice:
    """The trajectory on the top-2 PCA directions of the weight history, over the training loss there."""
    start = time.perf_counter()
    n = RESOLUTION.validate(resolution, "landscape")
    if len(result.thetas) < 3:
        raise ParameterError("the run is too short for PCA directions: it needs at least two epochs")
    plane = pca_plane(result.thetas)
    path = project(plane, result.thetas)
    off_plane, steps = plane_residuals(plane, result.thetas)
    xs, ys = pca_grid(path, n)
    z = surface(objective_for(result), plane, xs, ys)
    return Slice(xs, ys, z, time.perf_counter() - start, path, plane.explained, off_plane, steps)


def pca_grid(path: np.ndarray, resolution: int, margin: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Grid axes around the projected trajectory (origin included), widened by ``margin`` of its extent."""
    axes = []
    for k in range(2):
        lo, hi = min(path[:, k].min(), 0.0), max(path[:, k].max(), 0.0)
        pad = margin * max(hi - lo, 1e-3)
        axes.append(np.linspace(lo - pad, hi + pad, resolution))
    return axes[0], axes[1]


LANDSCAPES = RunCache(max_entries=32)
"""Computed interpolations and slices of this process, keyed by (what, run configuration, settings)."""


def cached(
    compute: Callable[..., Any],
    result: TrainResult,
    *args: Any,
    loss: str | None = None,
    cache: RunCache | None = None,
    **kwargs: Any,
) -> Any:
    """``compute(result, *args, **kwargs)`` through ``cache`` (default :data:`LANDSCAPES`).

    The entry belongs to the run's loss spec and the second loss's (if any): the same configuration
    with a custom loss redefined in another session never hits. A run on a user's own data needs a
    cache of that user's session (:func:`lossviz.toolkit.training.shared_cache_allowed`).
    """
    cache = LANDSCAPES if cache is None else cache
    shared_cache_allowed(result.config, cache, LANDSCAPES)
    owner = (result.setup.spec, get_spec(loss) if loss else None)
    frozen = tuple(sorted((k, tuple(sorted(v.items())) if isinstance(v, dict) else v) for k, v in kwargs.items()))
    key = (compute.__name__, result.config, args, loss, frozen)
    found = cache.get(key, owner)
    if found is None:
        found = compute(result, *args, loss=loss, **kwargs) if loss else compute(result, *args, **kwargs)
        cache.put(key, owner, found)
    return found
