"""Fitting a line (or a location) with any pointwise loss: the one fitter of every page.

The fit minimises F(θ) = Σₖ Σᵢ wₖᵢ ρₖ(xᵢᵀθ, yᵢ) (+ ½ Σⱼ λⱼ θⱼ² when a ridge is asked for) for a whole
batch of data sets at once: one loss ρ with point weights wᵢ (:func:`minimize_pointwise`,
:func:`fit_line`), or a weighted sum of several (:class:`Term`, :func:`fit_line_terms`: a
multi-task objective). Every value ρ, pull ψ = ∂ρ/∂pred and curvature ρ'' comes from
:func:`lossviz.evaluate` (``order=2``), so built-in and session-scoped custom losses take one path.

Method (batched Newton / IRLS with a line search, then an exact finish where F has kinks):

* **Newton** with H = Σ wᵢ max(ρ''ᵢ, 0) xᵢxᵢᵀ, accepted when H is well conditioned and the full
  step passes an Armijo test. It converges quadratically for smooth losses (MSE, log-cosh, Barron).
* **IRLS** (iteratively reweighted least squares) with weights ωᵢ = Σₖ wₖᵢ|ψₖ(rᵢ)| / max(|rᵢ|, ε),
  r = pred − y, otherwise. For losses whose ψ(r)/r does not grow with |r| (Huber, MAE, quantile,
  Barron α ≤ 2, log-cosh) the weighted least-squares step minimises a quadratic that lies above F
  and touches it at θ, so every step lowers F (Huber 1981 §7.8; Holland & Welsch 1977). Steps that
  fail either test are halved until F decreases. Where IRLS crawls (its step gains under a tenth
  of the decrease the Newton model predicts: Huber with few residuals inside ±δ), a shortened
  Newton step is tried beside it and the better one kept.
* **Exact finish** where a loss has gradient jumps (``spec.kinks`` of order 1: MAE, quantile,
  ε-insensitive). A *piecewise-linear* F (every loss linear between its kinks, no ridge) attains its
  minimum at a vertex, where p of the kink constraints xᵢᵀθ = κᵢ hold (p = number of coefficients;
  a linear-programming vertex, as in Koenker & Bassett 1978). After a few IRLS steps a walk moves
  from vertex to vertex along the edges, each move the exact minimum along its edge (F is linear
  between the breakpoints, its slope rising by the jumps of the pulls it passes), until no edge
  descends, which for a convex piecewise-linear F is the minimum. Where kinks meet curvature (a
  weighted sum of MAE and MSE, or a ridge) the minimum need not be a vertex: some set S of at most p
  points sits on kinks and F is smooth on that affine set near it, so the subsets S of the closest
  kink constraints are tried, each candidate the minimiser of F on {xᵢᵀθ = κᵢ, i ∈ S} by Newton in
  that subspace, and the best is kept.
* **Large piecewise-linear fits** (an uploaded file: more than :data:`GLOB_MIN_POINTS` points, one
  loss of the residual) are solved exactly on a few thousand points (the "globbing" of Portnoy &
  Koenker 1997): the exact fit of a random subsample gives a centre; the points farthest from their
  kinks there are merged, per linear piece they sit on and per stretch of x, into single points
  (by Jensen's inequality the reduced F lies below F, and equals it where each merged group stays
  on its piece); the reduced problem is solved exactly, and its minimiser is the minimum of F once
  no merged point has crossed a kink, checked on every row. Otherwise the crossing points are kept
  too and the reduced problem is solved again.
* **Non-convex losses** (ρ'' < 0 somewhere on the residual scale of the data, e.g. Barron α < 1)
  start from a robust fit — Huber's, with δ = 1.345·σ̂ and σ̂ = 1.4826·MAD of the least-squares
  residuals — so that they find the minimum near the robust solution, not an arbitrary
  stationary point.

Convergence is reported per data set: the number of iterations, the norm of the minimal-norm
subgradient of F (at a kink the pull ranges over the one-sided derivatives) and a flag.

References: Huber, Robust Estimation of a Location Parameter, 1964; Huber, Robust Statistics,
1981; Holland & Welsch, Robust regression using iteratively reweighted least-squares, 1977;
Koenker & Bassett, Regression Quantiles, 1978; Portnoy & Koenker, The Gaussian hare and the
Laplacian tortoise: computability of squared-error versus absolute-error estimators, Statistical
Science 12(4), 1997 (§3, preprocessing).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypedDict, Unpack

import numpy as np
from scipy.optimize import lsq_linear

from lossviz.engine import Evaluation, evaluate
from lossviz.registry import names as loss_names
from lossviz.registry import spec as get_spec
from lossviz.spec import Domain, LossSpec

METHOD = (
    "batched Newton / IRLS on ψ and ρ'' from lossviz.evaluate, with a line search; "
    "losses with kinks finished exactly on the active kinks (piecewise-linear ones at a linear-programming vertex)"
)

ARMIJO = 1e-4
MAX_HALVINGS = 40
NEWTON_HALVINGS = 8
"""A Newton step that fails its full-length test is tried down to 1/256 of its length (beside IRLS)."""
BACKTRACK_POINTS = 2048
"""A line search tries up to 8 step lengths in one evaluation while this many values cover them."""
IRLS_FLOOR = 1e-9
"""ε of the IRLS weights |ψ(r)| / max(|r|, ε), relative to the residual scale of the start fit."""
CONVERGED_RTOL = 1e-8
"""A fit counts as converged when its minimal subgradient is below this times Σ wᵢ |ψᵢ| ‖xᵢ‖."""
VERTEX_FTOL = 1e-6
"""Losses with kinks leave IRLS once a step lowers F by less than this (relative); the finish is exact."""
VERTEX_IRLS_STEPS = 8
WALK_STEPS = 200
VERTEX_CANDIDATES = 6
"""How many of the closest kink constraints (beyond p) the finish of a kinked, curved F combines."""
SUBSPACE_NEWTON_STEPS = 12
"""Newton steps of the finish on each affine set {xᵢᵀθ = κᵢ, i ∈ S} (quadratic convergence: few are used)."""
KINK_TOL = 1e-9
"""A prediction within this (relative) of a kink sits on it."""
GLOB_MIN_POINTS = 10_000
"""Above this many points a one-loss piecewise-linear fit is solved on reduced problems (globbing)."""
GLOB_SAMPLE = 2000
"""Points of the random subsample whose exact fit is the centre."""
GLOB_KEEP = 2000
GLOB_KEEP_PER = 20_000
"""The reduced problem keeps the GLOB_KEEP points nearest their kinks per GLOB_KEEP_PER points: the
centre's error, and so the share of points that cross a kink on the way to the minimum, is fixed by
the subsample's size."""
GLOB_BINS = 64
GLOB_ROUNDS = 8
GLOB_SEED = 20_260_501
"""Seed of the subsample: the result is exact whatever it is; it only fixes the work done."""

# --- what is fitted, and the result ---------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One loss of the objective Σₖ Σᵢ wₖᵢ ρₖ(xᵢᵀθ, yᵢ): the loss, its parameters and its point weights.

    ``weight`` broadcasts against the target (..., n): a scalar, per-point weights, or one row of
    weights per data set of a batch (a multi-task objective (1 − ω)·L_A + ω·L_B for several ω at once).
    """

    loss: str | LossSpec
    params: Mapping[str, float] = field(default_factory=dict)
    weight: np.ndarray | float = 1.0


@dataclass(frozen=True)
class Fit:
    """A batch of fits: ``coef[..., j]`` is coefficient j (intercept, slope for a line).

    ``losses`` and ``term_params`` name the loss of each term with its validated parameters
    (:attr:`loss` and :attr:`params` for a one-loss fit). ``objective`` is F at the solution,
    ``iterations`` the Newton/IRLS iterations and vertex-walk steps used, ``grad_norm`` the norm of
    the minimal-norm subgradient of F there (the plain gradient for a smooth loss), ``converged``
    whether it is below :data:`CONVERGED_RTOL` times the scale Σ wᵢ |ψᵢ| ‖xᵢ‖ of the terms that
    make it up.
    """

    losses: tuple[str, ...]
    term_params: tuple[dict[str, float], ...]
    coef: np.ndarray
    objective: np.ndarray
    iterations: np.ndarray
    grad_norm: np.ndarray
    converged: np.ndarray
    method: str = METHOD

    @property
    def loss(self) -> str:
        """The loss of a one-loss fit."""
        return self.losses[self._single()]

    @property
    def params(self) -> dict[str, float]:
        """The validated parameters of a one-loss fit."""
        return self.term_params[self._single()]

    def _single(self) -> int:
        if len(self.losses) != 1:
            raise ValueError(f"a fit of {len(self.losses)} losses has no single loss: see .losses")
        return 0


@dataclass(frozen=True)
class _Term:
    """A validated term: the loss, its parameters and its weights (B, n)."""

    spec: LossSpec
    params: dict[str, float]
    weight: np.ndarray


@dataclass(frozen=True)
class _Problem:
    """A flattened batch: design (B, n, p), target (B, n), ridge (p,)."""

    terms: tuple[_Term, ...]
    design: np.ndarray
    target: np.ndarray
    ridge: np.ndarray

    @cached_property
    def weight(self) -> np.ndarray:
        """Σₖ wₖᵢ: the total weight of each point (0: the point is left out)."""
        return np.sum([t.weight for t in self.terms], axis=0)

    def take(self, rows: np.ndarray) -> _Problem:
        """The data sets ``rows`` of the batch."""
        terms = tuple(_Term(t.spec, t.params, t.weight[rows]) for t in self.terms)
        return _Problem(terms, self.design[rows], self.target[rows], self.ridge)

    def pred(self, theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.einsum("bnp,bp->bn", self.design[rows], theta)

    def _evaluate(self, pred: np.ndarray, rows: np.ndarray, order: int) -> list[Evaluation]:
        return [evaluate(t.spec, pred, self.target[rows], order=order, **t.params) for t in self.terms]

    def objective(self, theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """F(θ) for the given rows; +∞ where the loss is not finite (a step that went too far)."""
        evs = self._evaluate(self.pred(theta, rows), rows, 0)
        total = sum(np.einsum("bn,bn->b", t.weight[rows], ev.value) for t, ev in zip(self.terms, evs, strict=True))
        total = total + 0.5 * (self.ridge * theta**2).sum(-1)
        return np.where(np.isfinite(total), total, np.inf)

    def gradient(self, theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """∇F(θ) for the given rows."""
        evs = self._evaluate(self.pred(theta, rows), rows, 1)
        pull = sum(t.weight[rows] * ev.grad for t, ev in zip(self.terms, evs, strict=True))
        return np.einsum("bn,bnp->bp", pull, self.design[rows]) + self.ridge * theta

    def local_model(self, theta: np.ndarray, rows: np.ndarray, order: int = 2) -> dict[str, np.ndarray]:
        """F, its gradient, each point's weighted pull c = Σₖ wₖψₖ and its size Σₖ wₖ|ψₖ| (for the IRLS
        weights and the convergence scale) at θ for the given rows; with ``order=2`` the Newton matrix."""
        pred = self.pred(theta, rows)
        design = self.design[rows]
        evs = self._evaluate(pred, rows, order)
        weights = [t.weight[rows] for t in self.terms]
        total = sum(np.einsum("bn,bn->b", w, ev.value) for w, ev in zip(weights, evs, strict=True))
        total = total + 0.5 * (self.ridge * theta**2).sum(-1)
        pull = sum(w * ev.grad for w, ev in zip(weights, evs, strict=True))
        model = {
            "F": np.where(np.isfinite(total), total, np.inf),
            "g": np.einsum("bn,bnp->bp", pull, design) + self.ridge * theta,
            "pull": pull,
            "size": sum(w * np.abs(ev.grad) for w, ev in zip(weights, evs, strict=True)),
            "pred": pred,
        }
        if order == 2:
            curvature = sum(w * np.maximum(ev.curvature, 0.0) for w, ev in zip(weights, evs, strict=True))
            model["H"] = np.einsum("bn,bnp,bnq->bpq", curvature, design, design) + np.diag(self.ridge)
        return model

    def irls_matrix(self, size: np.ndarray, pred: np.ndarray, rows: np.ndarray, floor: np.ndarray) -> np.ndarray:
        residual = np.abs(pred - self.target[rows])
        omega = size / np.maximum(residual, floor[:, None])
        design = self.design[rows]
        return np.einsum("bn,bnp,bnq->bpq", omega, design, design) + np.diag(self.ridge)

    def scale(self, size: np.ndarray, theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Σᵢ Σₖ wₖᵢ|ψₖᵢ| ‖xᵢ‖ + |λθ|: the size of what makes up the gradient."""
        row_norm = np.linalg.norm(self.design[rows], axis=-1)
        return np.einsum("bn,bn->b", size, row_norm) + np.abs(self.ridge * theta).sum(-1)


# --- the descent -------------------------------------------------------------------------------------


def _directions(H: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """−H⁻¹g per row, and whether H was positive definite and well conditioned there."""
    eig = np.linalg.eigvalsh(H)
    ok = (eig[:, -1] > 0) & (eig[:, 0] > 1e-12 * eig[:, -1]) & np.isfinite(eig).all(-1)
    safe = np.where(ok[:, None, None], H, np.eye(H.shape[-1]))
    step = -np.linalg.solve(safe, g[..., None])[..., 0]
    return np.where(ok[:, None], step, 0.0), ok


def _damped_directions(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """−(H + λI)⁻¹g with λ = 10⁻³·tr(H)/p (and at least 10⁻¹²·‖g‖): always a descent direction."""
    n_coef = H.shape[-1]
    lam = 1e-3 * np.trace(H, axis1=-2, axis2=-1) / n_coef
    lam = np.maximum(np.nan_to_num(lam, nan=0.0), 1e-12 * np.linalg.norm(g, axis=-1) + 1e-300)
    damped = np.nan_to_num(H) + lam[:, None, None] * np.eye(n_coef)
    return -np.linalg.solve(damped, np.nan_to_num(g)[..., None])[..., 0]


def _backtrack(
    problem: _Problem,
    th: np.ndarray,
    F: np.ndarray,
    direction: np.ndarray,
    rows: np.ndarray,
    mask: np.ndarray,
    halvings: int = MAX_HALVINGS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Halve the step along ``direction`` (rows in ``mask``) until F decreases: new θ, F, found.

    Several halvings go into one evaluation when the data set is small (then the cost of a call, not
    of the points, dominates); the step taken is the longest that lowers F either way.
    """
    n_coef = th.shape[-1]
    step = th.copy()
    f_step = F.copy()
    pending = mask & (np.abs(direction).sum(-1) > 0)
    found = np.zeros(th.shape[0], dtype=bool)
    length = np.abs(direction).max(-1)
    scale = 1e-14 * (1.0 + np.abs(th).max(-1))
    per_call = int(np.clip(BACKTRACK_POINTS // problem.design.shape[1], 1, 8))
    done = 0
    while done < halvings:
        sizes = 0.5 ** np.arange(done, min(done + per_call, halvings))
        pending &= sizes[0] * length > scale  # a step below rounding cannot lower F: give up on it
        todo = np.flatnonzero(pending)
        if todo.size == 0:
            break
        trial = th[todo, None, :] + sizes[None, :, None] * direction[todo, None, :]  # (t, s, p)
        f_trial = problem.objective(trial.reshape(-1, n_coef), np.repeat(rows[todo], sizes.size))
        lower = (f_trial.reshape(todo.size, sizes.size) < F[todo, None]) & (
            sizes * length[todo, None] > scale[todo, None]
        )
        ok = lower.any(-1)
        first = np.argmax(lower, axis=-1)[ok]
        step[todo[ok]] = trial[ok, first]
        f_step[todo[ok]] = f_trial.reshape(todo.size, sizes.size)[ok, first]
        found[todo[ok]] = True
        pending[todo[ok]] = False
        done += sizes.size
    return step, f_step, found


def _descend(
    problem: _Problem, theta: np.ndarray, max_iter: int, irls: bool, floor: np.ndarray, ftol: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Newton / IRLS iterations with a line search on every row; returns θ and iteration counts.

    A row stops when no step lowers F, when its step is negligible, at a stationary point, or
    when F falls by at most ``ftol``·|F| in one step (used before the vertex finish).
    """
    n_rows = theta.shape[0]
    theta = theta.copy()
    iterations = np.zeros(n_rows, dtype=int)
    active = np.ones(n_rows, dtype=bool)
    for _ in range(max_iter):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        th = theta[rows]
        model = problem.local_model(th, rows)
        F, g = model["F"], model["g"]
        newton, newton_ok = _directions(model["H"], g)
        new = th.copy()
        f_new = F.copy()
        accepted = np.zeros(rows.size, dtype=bool)
        if newton_ok.any():
            trial = th + newton
            f_trial = problem.objective(trial, rows)
            slope = np.einsum("bp,bp->b", g, newton)
            # 4ε|F| of slack: near the optimum the decrease is below the rounding error of F.
            accepted = newton_ok & (f_trial <= F + ARMIJO * slope + 4e-16 * np.abs(F)) & (slope < 0)
            new[accepted] = trial[accepted]
            f_new[accepted] = f_trial[accepted]
        pending = ~accepted
        # Where Newton is unusable (H singular or indefinite), a Levenberg-Marquardt step.
        direction = np.where(newton_ok[:, None], newton, _damped_directions(model["H"], g))
        if irls:
            irls_step, irls_ok = _directions(problem.irls_matrix(model["size"], model["pred"], rows, floor[rows]), g)
            direction = np.where(irls_ok[:, None], irls_step, direction)
        step, f_step, found = _backtrack(problem, th, F, direction, rows, pending)
        if irls:
            # The IRLS majorizer can be loose along a badly determined direction (Huber with few points
            # inside ±δ), where it crawls: if its step gained under a tenth of the decrease the Newton
            # model predicts, try a shortened Newton step as well and keep whichever lowers F more.
            predicted = -0.5 * np.einsum("bp,bp->b", g, newton)
            with np.errstate(invalid="ignore"):  # F = ∞ where a custom loss is undefined: never crawling
                crawling = pending & newton_ok & ((F - f_step) < 0.1 * predicted) & (predicted > 1e-13 * np.abs(F))
            n_step, f_n, n_found = _backtrack(problem, th, F, newton, rows, crawling, NEWTON_HALVINGS)
            better = n_found & (f_n < f_step)
            step[better] = n_step[better]
            f_step[better] = f_n[better]
            found |= n_found
        new[found] = step[found]
        f_new[found] = f_step[found]
        pending &= ~found
        moved = ~pending
        iterations[rows[moved]] += 1
        change = np.abs(new - th).max(-1)
        small = change <= 1e-13 * (1.0 + np.abs(th).max(-1))
        stalled = (F - f_new) <= ftol * np.abs(F) if ftol > 0 else np.zeros(rows.size, dtype=bool)
        theta[rows] = new
        stationary = np.linalg.norm(g, axis=-1) <= 1e-14 * problem.scale(model["size"], th, rows)
        # Rows whose step did not lower F, whose step was negligible or that sit at a stationary point stop.
        active[rows[pending | small | stationary | stalled]] = False
    return theta, iterations


# --- kinks and the exact finish -------------------------------------------------------------------


def _order1_kinks(spec: LossSpec, target: np.ndarray | float, params: dict[str, float]) -> list[np.ndarray] | None:
    """The positions of a loss's gradient jumps (``spec.kinks`` of order 1) for ``target``; None where the
    declaration cannot give them for these targets."""
    if spec.kinks is None:
        return []
    try:
        return [np.asarray(pos, dtype=float) for pos, order in spec.kinks(target, **params) if order == 1]
    except (TypeError, ValueError):
        return None


def _kink_positions(problem: _Problem) -> np.ndarray | None:
    """Order-1 kinks (gradient jumps) of each point as predictions, shape (B, n, K), over all terms;
    +∞ where the term the kink belongs to has no weight on the point; None if there is none."""
    positions: list[np.ndarray] = []
    for t in problem.terms:
        for pos in _order1_kinks(t.spec, problem.target, t.params) or []:
            pos = np.where(t.weight > 0, np.broadcast_to(pos, problem.target.shape), np.inf)
            if not any(np.array_equal(pos, seen) for seen in positions):  # two terms kinked at the same place
                positions.append(pos)
    positions = [pos for pos in positions if np.isfinite(pos).any()]
    return np.stack(positions, axis=-1) if positions else None


def _piecewise_linear_rows(problem: _Problem, residual_scale: float) -> np.ndarray:
    """Per data set, whether F is convex and piecewise linear: no ridge, and every term weighted there
    has ρ'' = 0 across ±50·scale around the first target (a grid, as :func:`is_convex`) and a pull
    that does not fall across any of its kinks there."""
    linear = np.full(problem.target.shape[0], not problem.ridge.any())
    y0 = float(problem.target.reshape(-1)[0])
    pred = y0 + np.linspace(-50.0, 50.0, 2001) * max(residual_scale, 1e-12)
    for t in problem.terms:
        if not _straight_between_kinks(t, y0, pred, residual_scale):
            linear &= ~(t.weight > 0).any(-1)
    return linear


def _straight_between_kinks(term: _Term, y0: float, pred: np.ndarray, residual_scale: float) -> bool:
    """ρ(·, y0)'' = 0 on ``pred`` away from the kinks, and ψ rising (not falling) across each kink."""
    found = _order1_kinks(term.spec, y0, term.params)
    if found is None:
        return False
    kinks = np.array([float(k) for k in found])
    grid = pred[np.all(np.abs(pred[:, None] - kinks) > 1e-6 * np.ptp(pred), axis=-1)]
    h = 1e-6 * (1.0 + np.abs(kinks))
    try:
        ev = evaluate(term.spec, grid, y0, order=2, **term.params)
        side = evaluate(term.spec, np.concatenate([kinks - h, kinks + h, [y0]]), y0, order=1, **term.params).grad
    except ValueError:  # a loss whose domain is not around y0: not one the exact paths are for
        return False
    assert ev.grad is not None and ev.curvature is not None and side is not None
    below, above = side[: kinks.size], side[kinks.size : 2 * kinks.size]
    straight = np.abs(ev.curvature).max() <= 1e-12 * (1.0 + np.abs(ev.grad).max()) / max(residual_scale, 1e-12)
    return bool(straight and (above >= below - 1e-12 * (1.0 + np.abs(side).max())).all())


def _active_set_finish(problem: _Problem, theta: np.ndarray, kinks: np.ndarray, rounds: int = 4) -> np.ndarray:
    """Replace θ by the best minimiser of F on {xᵢᵀθ = κᵢ, i ∈ S} over subsets S (up to p of them) of
    the closest kink constraints, for a few rounds (each around the best point so far).

    |S| = p is a vertex (one linear solve); a smaller S keeps the component of θ off the constraints'
    span free and minimises F there by Newton in that subspace, where F is smooth near a minimum
    whose active kinks are S. A subspace where F has no curvature gives no candidate.
    """
    n_rows, n_points, n_coef = problem.design.shape
    rows = np.arange(n_rows)
    n_kinks = kinks.shape[-1]
    m = min(n_coef + VERTEX_CANDIDATES, n_points * n_kinks)
    # Every subset of up to p of the m closest constraints, padded with −1 (no constraint) to p entries.
    subsets = [c for size in range(min(n_coef, m) + 1) for c in itertools.combinations(range(m), size)]
    combos = np.array([[*c, *[-1] * (n_coef - len(c))] for c in subsets])  # (C, p)
    used = combos >= 0
    n_cand = len(subsets)
    flat_rows = np.repeat(rows, n_cand)
    f_best = problem.objective(theta, rows)
    for _ in range(rounds):
        pred = problem.pred(theta, rows)
        distance = np.abs(pred[..., None] - kinks)
        distance = np.where(problem.weight[..., None] > 0, distance, np.inf).reshape(n_rows, -1)
        nearest = np.argsort(distance, axis=-1, kind="stable")[:, :m]  # (B, m) flat (point, kink) ids
        chosen = nearest[:, np.maximum(combos, 0)]  # (B, C, p)
        a = np.take_along_axis(problem.design, (chosen // n_kinks).reshape(n_rows, -1, 1), axis=1)
        a = np.where(used[..., None], a.reshape(n_rows, n_cand, n_coef, n_coef), 0.0)  # (B, C, p, p)
        b = np.take_along_axis(kinks.reshape(n_rows, -1), chosen.reshape(n_rows, -1), axis=1).reshape(chosen.shape)
        ok = np.where(used, np.isfinite(b), True).all(-1)
        b = np.where(used & ok[..., None], b, 0.0)
        inverse = np.linalg.pinv(a, rcond=1e-10)
        singular = np.linalg.svd(a, compute_uv=False)
        ok &= (singular > 1e-10 * singular[..., :1]).sum(-1) == used.sum(-1)  # independent constraints
        cand = theta[:, None, :] + np.einsum("bcps,bcs->bcp", inverse, b - np.einsum("bcsp,bp->bcs", a, theta))
        cand = cand.reshape(-1, n_coef)
        free = np.flatnonzero(ok.reshape(-1) & np.tile(used.sum(-1) < n_coef, n_rows))
        projector = np.eye(n_coef) - inverse @ a
        cand[free], solved = _subspace_newton(
            problem, cand[free], flat_rows[free], projector.reshape(-1, n_coef, n_coef)[free]
        )
        ok = ok.reshape(-1)
        ok[free] &= solved
        f_cand = np.full(ok.size, np.inf)
        f_cand[ok] = problem.objective(cand[ok], flat_rows[ok])
        f_cand = f_cand.reshape(n_rows, n_cand)
        best = np.argmin(f_cand, axis=-1)
        f_new = f_cand[rows, best]
        better = f_new < f_best
        if not better.any():
            break
        theta = np.where(better[:, None], cand.reshape(n_rows, n_cand, n_coef)[rows, best], theta)
        f_best = np.where(better, f_new, f_best)
    return theta


def _subspace_newton(
    problem: _Problem, theta: np.ndarray, rows: np.ndarray, projector: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Newton with a line search on F over θ + range(P), one projector per row; returns θ and whether
    F had curvature in that subspace (a positive definite PHP there) at every step taken."""
    theta = theta.copy()
    n_coef = theta.shape[-1]
    eye = np.eye(n_coef)
    solved = np.ones(theta.shape[0], dtype=bool)
    active = np.ones(theta.shape[0], dtype=bool)
    for _ in range(SUBSPACE_NEWTON_STEPS):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        th, r, proj = theta[idx], rows[idx], projector[idx]
        model = problem.local_model(th, r)
        hessian = model["H"]
        # The fixed directions get the mean curvature, so that conditioning judges only the free ones.
        level = np.trace(hessian, axis1=-2, axis2=-1)[:, None, None] / n_coef
        matrix = proj @ hessian @ proj + level * (eye - proj)
        direction, ok = _directions(matrix, np.einsum("bpq,bq->bp", proj, model["g"]))
        direction = np.einsum("bpq,bq->bp", proj, direction)
        solved[idx[~ok]] = False
        step, _, found = _backtrack(problem, th, model["F"], direction, r, ok, NEWTON_HALVINGS)
        small = np.abs(step - th).max(-1) <= 1e-13 * (1.0 + np.abs(th).max(-1))
        theta[idx[found]] = step[found]
        active[idx[~ok | ~found | small]] = False
    return theta, solved


def _edge_directions(design: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Unit directions along the edges through a vertex: null vectors of each (p − 1)-subset of its
    active rows, both signs; shape (B, D, p), zero where the subset is not made of active rows."""
    n_rows, n_act, n_coef = design.shape
    if n_coef == 1:
        base = np.ones((n_rows, 1, 1))
        return np.concatenate([base, -base], axis=1)
    subsets = np.array(list(itertools.combinations(range(n_act), n_coef - 1)))  # (S, p − 1)
    rows = design[:, subsets]  # (B, S, p − 1, p)
    _, sv, vt = np.linalg.svd(rows, full_matrices=True)
    null = vt[..., -1, :]  # (B, S, p)
    ok = active[:, subsets].all(-1) & (sv[..., -1] > 1e-10 * sv[..., 0])
    null = np.where(ok[..., None], null, 0.0)
    return np.concatenate([null, -null], axis=1)


def _kink_jumps(problem: _Problem, kinks: np.ndarray) -> np.ndarray:
    """How much each point's weighted pull Σₖ wₖψₖ jumps at each of its kinks, (B, n, K) (0 at +∞)."""
    finite = np.isfinite(kinks)
    at = np.where(finite, kinks, 0.0)
    h = KINK_TOL * (1.0 + np.abs(at))
    target = np.broadcast_to(problem.target[..., None], kinks.shape)
    jumps = np.zeros(kinks.shape)
    for t in problem.terms:
        above = evaluate(t.spec, at + h, target, order=1, **t.params).grad
        below = evaluate(t.spec, at - h, target, order=1, **t.params).grad
        assert above is not None and below is not None
        jumps += t.weight[..., None] * (above - below)
    return np.where(finite, jumps, 0.0)


def _line_minimum(
    problem: _Problem,
    theta: np.ndarray,
    pred: np.ndarray,
    directions: np.ndarray,
    kinks: np.ndarray,
    jumps: np.ndarray,
    rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The exact minimum of a convex piecewise-linear F along each direction d: θ + t*d, and F there.

    Along d, F(θ + td) is linear between the breakpoints tᵢₖ = (κᵢₖ − predᵢ)/(xᵢᵀd) > 0, and its slope
    grows by Jᵢₖ·|xᵢᵀd| at each (Jᵢₖ ≥ 0 the jump of point i's pull at kink k). Its slope before the
    first breakpoint is ∇F·d there (halfway to it); t* is the first breakpoint where the slope, summed
    in order, is no longer negative: one gradient, one sort and one value per direction.
    """
    n_rows, n_dirs = directions.shape[:2]
    slope = np.einsum("bnp,bdp->bdn", problem.design[rows], directions)  # (b, D, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (kinks[:, None] - pred[:, None, :, None]) / slope[..., None]  # (b, D, n, K)
    scale_t = 1e-12 * (1.0 + np.abs(theta).max(-1))[:, None, None, None]
    usable = np.isfinite(t) & (t > scale_t) & (np.abs(directions).sum(-1) > 0)[..., None, None]
    t = np.where(usable, t, np.inf).reshape(n_rows, n_dirs, -1)
    rise = np.where(usable, jumps[:, None] * np.abs(slope)[..., None], 0.0).reshape(n_rows, n_dirs, -1)
    order = np.argsort(t, axis=-1)
    t = np.take_along_axis(t, order, -1)
    rise = np.take_along_axis(rise, order, -1)
    first = np.where(np.isfinite(t[..., 0]), t[..., 0], 1.0)
    # Only the directions that exist (a vertex has fewer edges than the candidates allow for).
    bb, dd = np.nonzero(np.abs(directions).sum(-1) > 0)
    probe = theta[bb] + 0.5 * first[bb, dd, None] * directions[bb, dd]
    g0 = np.zeros((n_rows, n_dirs))
    g0[bb, dd] = np.einsum("kp,kp->k", problem.gradient(probe, rows[bb]), directions[bb, dd])
    settled = g0[..., None] + np.cumsum(rise, axis=-1) >= 0
    last = np.maximum(np.isfinite(t).sum(-1) - 1, 0)
    stop = np.where(settled.any(-1), np.argmax(settled, axis=-1), last)
    t_star = np.take_along_axis(t, stop[..., None], -1)[..., 0]
    descends = (g0 < 0) & np.isfinite(t_star)
    cand = theta[:, None, :] + np.where(descends, t_star, 0.0)[..., None] * directions
    f_cand = np.full((n_rows, n_dirs), np.inf)
    bb, dd = np.nonzero(descends)
    f_cand[bb, dd] = problem.objective(cand[bb, dd], rows[bb])
    return cand, f_cand


def _vertex_walk(problem: _Problem, theta: np.ndarray, kinks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walk from vertex to vertex along edges with an exact line search, until no edge descends.

    At a vertex of a piecewise-linear F the directional derivative is linear on each cone of
    the kink arrangement, so if F does not decrease along any edge (and along −∇F) the vertex is
    a minimum for a convex F. Along a direction d, F(θ + t d) is linear between the breakpoints
    t = (κᵢₖ − predᵢ) / (xᵢᵀd): the walk moves to the exact minimum along the best direction
    (:func:`_line_minimum`).
    """
    n_rows, n_points, n_coef = problem.design.shape
    all_rows = np.arange(n_rows)
    jumps = _kink_jumps(problem, kinks)
    steps = np.zeros(n_rows, dtype=int)
    f_now = problem.objective(theta, all_rows)
    active_rows = np.ones(n_rows, dtype=bool)
    for _ in range(WALK_STEPS):
        rows = np.flatnonzero(active_rows)
        if rows.size == 0:
            break
        th, design, kk = theta[rows], problem.design[rows], kinks[rows]
        model = problem.local_model(th, rows, order=1)
        pred = model["pred"]
        gap = np.abs(pred[..., None] - kk).min(-1)
        gap = np.where(problem.weight[rows] > 0, gap, np.inf)
        n_act = min(n_coef + 2, n_points)
        nearest = np.argsort(gap, axis=-1, kind="stable")[:, :n_act]
        is_active = np.take_along_axis(gap, nearest, -1) <= KINK_TOL * (1.0 + np.abs(pred).max(-1, keepdims=True))
        picked = np.take_along_axis(design, nearest[..., None], axis=1)
        directions = _edge_directions(picked, is_active)
        g = model["g"]
        g_unit = -g / np.maximum(np.linalg.norm(g, axis=-1, keepdims=True), 1e-300)
        directions = np.concatenate([directions, g_unit[:, None, :]], axis=1)  # (b, D, p)
        cand, f_dir = _line_minimum(problem, th, pred, directions, kk, jumps[rows], rows)
        best = np.argmin(f_dir, axis=-1)
        pick = np.arange(rows.size)
        f_best = f_dir[pick, best]
        step_to = cand[pick, best]
        better = f_best < f_now[rows] - 1e-15 * np.abs(f_now[rows])
        moved = rows[better]
        theta[moved] = step_to[better]
        f_now[moved] = f_best[better]
        steps[moved] += 1
        active_rows[rows[~better]] = False
    return theta, steps


def _optimality(
    problem: _Problem, theta: np.ndarray, kinks: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """‖minimal-norm subgradient of F‖, the scale Σ wᵢ|ψᵢ|‖xᵢ‖ it is compared with, and F.

    At a point sitting on a kink κ its weighted pull cᵢ = Σₖ wₖᵢψₖ may be anything between the
    one-sided values at κ − h and κ + h; the smallest gradient norm over those choices is a bounded
    least squares problem: solved directly when p points sit on kinks (a vertex) and the solution is
    inside the bounds, else with scipy.optimize.lsq_linear.
    """
    n_rows, _, n_coef = problem.design.shape
    rows = np.arange(n_rows)
    model = problem.local_model(theta, rows, order=1)
    pull, pred, grad = model["pull"], model["pred"], model["g"]
    scale = problem.scale(model["size"], theta, rows)
    norm = np.linalg.norm(grad, axis=-1)
    if kinks is None:
        return norm, scale, model["F"]
    distance = np.abs(pred[..., None] - kinks)
    nearest = np.argmin(distance, axis=-1)
    at = np.take_along_axis(kinks, nearest[..., None], -1)[..., 0]
    with np.errstate(invalid="ignore"):  # +∞: no kink of a weighted term
        on_kink = np.isfinite(at) & (distance.min(-1) <= KINK_TOL * (1.0 + np.abs(at))) & (problem.weight > 0)
    b_idx, p_idx = np.nonzero(on_kink)
    if b_idx.size == 0:
        return norm, scale, model["F"]
    kink = at[b_idx, p_idx]
    h = KINK_TOL * (1.0 + np.abs(kink))
    both = np.concatenate([kink - h, kink + h])
    target = np.tile(problem.target[b_idx, p_idx], 2)
    side = sum(
        np.tile(t.weight[b_idx, p_idx], 2) * evaluate(t.spec, both, target, order=1, **t.params).grad
        for t in problem.terms
    )
    lo_all = np.minimum(side[: b_idx.size], side[b_idx.size :])
    hi_all = np.maximum(side[: b_idx.size], side[b_idx.size :])
    for b in np.unique(b_idx):
        sel = b_idx == b
        idx, lo, hi = p_idx[sel], lo_all[sel], hi_all[sel]
        x = problem.design[b, idx]  # (k, p)
        fixed = grad[b] - (pull[b, idx, None] * x).sum(0)
        choice = None
        if idx.size == n_coef and abs(np.linalg.det(x)) > 1e-12 * np.prod(np.linalg.norm(x, axis=-1)):
            direct = np.linalg.solve(x.T, -fixed)
            if np.all((direct >= lo - 1e-12) & (direct <= hi + 1e-12)):
                choice = np.clip(direct, lo, hi)
        if choice is None:
            pad = 1e-12 * (1.0 + np.abs(lo) + np.abs(hi))  # lsq_linear needs lo < hi strictly
            choice = lsq_linear(x.T, -fixed, bounds=(lo - pad, hi + pad), method="bvls").x
        norm[b] = min(norm[b], float(np.linalg.norm(x.T @ choice + fixed)))
        scale[b] += float(np.abs(x).sum(-1) @ np.maximum(np.abs(lo), np.abs(hi)))
    return norm, scale, model["F"]


def _exact_piecewise_linear(
    problem: _Problem, theta: np.ndarray, kinks: np.ndarray, irls_steps: int, irls: bool, floor: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A few IRLS steps, then the vertex walk: the exact minimum of a convex piecewise-linear F; θ and
    the iterations and walk steps used."""
    theta, iterations = _descend(problem, theta, irls_steps, irls, floor, VERTEX_FTOL)
    theta, steps = _vertex_walk(problem, theta, kinks)
    return theta, iterations + steps


# --- large piecewise-linear fits: exact on a reduced problem ----------------------------------------


def _globbed(
    problem: _Problem, theta: np.ndarray, kinks: np.ndarray, irls: bool, floor: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each data set of a large one-loss piecewise-linear fit solved exactly on reduced problems
    (Portnoy & Koenker 1997, §3); θ and the work done (iterations and walk steps of every solve)."""
    theta = theta.copy()
    work = np.zeros(theta.shape[0], dtype=int)
    for row in range(theta.shape[0]):
        theta[row], work[row] = _globbed_row(problem, row, theta[row], kinks[row], irls, floor[row : row + 1])
    return theta, work


def _subproblem(problem: _Problem, design: np.ndarray, target: np.ndarray, weight: np.ndarray) -> _Problem:
    """The one-loss problem on the given points (one data set)."""
    (term,) = problem.terms
    return _Problem((_Term(term.spec, term.params, weight[None]),), design[None], target[None], problem.ridge)


def _globbed_row(
    problem: _Problem, row: int, theta: np.ndarray, kinks: np.ndarray, irls: bool, floor: np.ndarray
) -> tuple[np.ndarray, int]:
    """One data set: the exact fit of a random subsample is the centre; the points farthest from their
    kinks there are merged into a few points, the reduced problem is solved exactly, and its minimiser
    is the answer once no merged point has left the linear piece of ρ it sat on at the centre.

    For ρ(p, y) = φ(p − y) convex, a group G merged into (x̄, ȳ) = Σ wᵢ(xᵢ, yᵢ) / W with weight
    W = Σ wᵢ gives W φ(x̄ᵀθ − ȳ) ≤ Σ wᵢ φ(xᵢᵀθ − yᵢ) for every θ (Jensen's inequality), with equality
    where all residuals of G lie on one linear piece of φ. So the reduced F is ≤ F everywhere, and
    equal to it at its minimiser θ* when no merged point crossed a kink: then F(θ*) = F_reduced(θ*)
    ≤ F_reduced(θ) ≤ F(θ) for all θ. The groups are the points of one piece within one of
    :data:`GLOB_BINS` quantile bins of the last regressor (x for a line), so that the merged points
    still hold the line's slope as the originals do. A few crossing points join the kept ones and
    the reduced problem is solved again; many mean the kept band was too narrow for the centre's
    error, and it is doubled.
    """
    design, target, weight = problem.design[row], problem.target[row], problem.weight[row]
    weighted = np.flatnonzero(weight > 0)
    rng = np.random.default_rng(GLOB_SEED)
    sample = np.sort(rng.choice(weighted, size=min(GLOB_SAMPLE, weighted.size), replace=False))
    sub = _subproblem(problem, design[sample], target[sample], weight[sample])
    centre, steps = _exact_piecewise_linear(sub, theta[None], kinks[None, sample], VERTEX_IRLS_STEPS, irls, floor)
    work = int(steps[0])
    pred = design @ centre[0]
    gap = np.where(weight > 0, np.abs(pred[:, None] - kinks).min(-1), np.inf)
    by_gap = np.argsort(gap)
    piece = (pred[:, None] > kinks).sum(-1)
    edges = np.quantile(design[weighted, -1], np.linspace(0.0, 1.0, GLOB_BINS + 1)[1:-1])
    group_of = piece * GLOB_BINS + np.searchsorted(edges, design[:, -1])
    # A point on (or within rounding of) a kink sits on no one piece: it is always kept.
    kept = (gap <= KINK_TOL * (1.0 + np.abs(pred))) & (weight > 0)
    n_near = int(min(GLOB_KEEP * max(1.0, weighted.size / GLOB_KEEP_PER), weighted.size))
    reduced = centre
    for _ in range(GLOB_ROUNDS):
        kept[by_gap[:n_near]] = True
        merged = np.flatnonzero(~kept & (weight > 0))
        groups, index = np.unique(group_of[merged], return_inverse=True)
        w_group = np.bincount(index, weight[merged], groups.size)
        x_group = np.stack([np.bincount(index, weight[merged] * c, groups.size) for c in design[merged].T], -1)
        y_group = np.bincount(index, weight[merged] * target[merged], groups.size)
        keep = np.flatnonzero(kept & (weight > 0))
        sub = _subproblem(
            problem,
            np.concatenate([design[keep], x_group / w_group[:, None]]),
            np.concatenate([target[keep], y_group / w_group]),
            np.concatenate([weight[keep], w_group]),
        )
        sub_kinks = _kink_positions(sub)
        assert sub_kinks is not None
        reduced, steps = _exact_piecewise_linear(sub, reduced, sub_kinks, VERTEX_IRLS_STEPS, irls, floor)
        work += int(steps[0])
        crossed = merged[((design[merged] @ reduced[0])[:, None] > kinks[merged]).sum(-1) != piece[merged]]
        if crossed.size == 0:
            return reduced[0], work
        if crossed.size <= n_near // 4:
            kept[crossed] = True
        else:  # the band missed much of the way from the centre to the minimum: widen it
            n_near = min(2 * n_near, weighted.size)
            reduced = centre
    # Not settled in GLOB_ROUNDS rounds: the exact fit of every point.
    whole = _subproblem(problem, design, target, weight)
    exact, steps = _exact_piecewise_linear(whole, reduced, kinks[None], 0, irls, floor)
    return exact[0], work + int(steps[0])


def _residual_loss(problem: _Problem, residual_scale: float) -> bool:
    """Whether the fit has one loss and it is a function of the residual, ρ(p, y) = φ(p − y), on the
    data's targets (checked on a few of them): what merging points in :func:`_globbed_row` needs."""
    if len(problem.terms) != 1:
        return False
    term = problem.terms[0]
    y = problem.target.reshape(-1)[:: max(1, problem.target.size // 16)][:, None]
    r = np.array([-3.0, -0.7, -0.1, 0.2, 1.1, 4.0]) * max(residual_scale, 1e-12)
    shifted = evaluate(term.spec, y + r, y, order=0, **term.params).value
    centred = evaluate(term.spec, r, 0.0, order=0, **term.params).value
    return bool(np.allclose(shifted, np.broadcast_to(centred, shifted.shape), rtol=1e-9, atol=1e-12 * residual_scale))


# --- the fitter ---------------------------------------------------------------------------------------


def is_convex(loss: str | LossSpec, residual_scale: float = 1.0, /, **params: float) -> bool:
    """Whether ρ'' ≥ 0 for residuals across ±50·scale (a check on a grid, for choosing the start)."""
    r = np.linspace(-50.0, 50.0, 2001) * max(residual_scale, 1e-12)
    ev = evaluate(loss, r, 0.0, order=2, **params)
    assert ev.curvature is not None
    return bool((ev.curvature >= -1e-12 * (1.0 + np.abs(ev.curvature).max())).all())


class SolverOptions(TypedDict, total=False):
    """The solver's keywords that :func:`minimize_pointwise` passes on to :func:`minimize_terms`."""

    theta0: np.ndarray | None
    ridge: Sequence[float] | np.ndarray | None
    max_iter: int
    irls: bool
    start: str


def minimize_terms(
    terms: Sequence[Term],
    design: np.ndarray,
    target: np.ndarray,
    *,
    theta0: np.ndarray | None = None,
    ridge: Sequence[float] | np.ndarray | None = None,
    max_iter: int = 200,
    irls: bool = True,
    start: str = "auto",
) -> Fit:
    """Minimise Σₖ Σᵢ wₖᵢ ρₖ(xᵢᵀθ, yᵢ) + ½ Σⱼ λⱼθⱼ² over θ for a batch of data sets.

    ``design`` has shape (..., n, p), ``target`` (..., n), and each :class:`Term`'s weights broadcast
    against the target (weight 0 drops a point from that term). ``irls=False`` uses Newton steps only
    (for losses that are not a function of a residual, such as classification losses on logits).
    ``start``: "auto" starts from weighted least squares, or from a robust Huber fit when a loss is
    not convex; "ls" always from least squares; ``theta0`` overrides both. Raises the loss's
    :class:`~lossviz.ParameterError` / :class:`~lossviz.DomainError` for bad parameters or data.
    """
    if not terms:
        raise ValueError("minimize_terms needs at least one term")
    design = np.asarray(design, dtype=np.float64)
    batch, (n_points, n_coef) = design.shape[:-2], design.shape[-2:]
    target = np.broadcast_to(np.asarray(target, dtype=np.float64), (*batch, n_points)).reshape(-1, n_points)
    checked = []
    for term in terms:
        s = get_spec(term.loss)
        weight = np.broadcast_to(np.asarray(term.weight, dtype=np.float64), (*batch, n_points)).reshape(-1, n_points)
        if (weight < 0).any() or not np.isfinite(weight).all():
            raise ValueError("weights must be finite and non-negative")
        checked.append(_Term(s, s.validate_params(dict(term.params)), weight))
    ridge_arr = np.zeros(n_coef) if ridge is None else np.broadcast_to(np.asarray(ridge, dtype=float), (n_coef,))
    problem = _Problem(tuple(checked), design.reshape(-1, n_points, n_coef), target, ridge_arr)
    for t in checked:  # domain/parameter errors first
        evaluate(t.spec, problem.design[:1, :1, 0], target[:1, :1], order=0, **t.params)

    theta_ls = _weighted_least_squares(problem)
    if theta0 is not None:
        theta = np.broadcast_to(np.asarray(theta0, dtype=float), (*batch, n_coef)).reshape(-1, n_coef).copy()
    else:
        theta = theta_ls
    r_scale = _residual_scale(problem, theta_ls)
    typical = float(np.median(r_scale))
    if theta0 is None and start == "auto" and irls and not all(is_convex(t.spec, typical, **t.params) for t in checked):
        theta = _huber_start(problem, theta_ls)
    floor = IRLS_FLOOR * r_scale
    kinks = _kink_positions(problem)
    iterations = np.zeros(theta.shape[0], dtype=int)
    kinked = np.zeros(theta.shape[0], dtype=bool) if kinks is None else np.isfinite(kinks).any(axis=(-2, -1))
    linear = kinked & _piecewise_linear_rows(problem, typical)
    for part, rows in (("smooth", ~kinked), ("linear", linear), ("kinked", kinked & ~linear)):
        rows = np.flatnonzero(rows)
        if rows.size == 0:
            continue
        sub, th, fl = problem.take(rows), theta[rows], floor[rows]
        if part == "smooth":
            theta[rows], iterations[rows] = _descend(sub, th, max_iter, irls, fl)
            continue
        assert kinks is not None
        if part == "linear" and n_points > GLOB_MIN_POINTS and _residual_loss(sub, typical):
            theta[rows], iterations[rows] = _globbed(sub, th, kinks[rows], irls, fl)
        elif part == "linear":
            theta[rows], iterations[rows] = _exact_piecewise_linear(
                sub, th, kinks[rows], min(max_iter, VERTEX_IRLS_STEPS), irls, fl
            )
        else:  # kinks and curvature (a weighted sum of MAE and MSE): the minimum need not be a vertex
            th, iterations[rows] = _descend(sub, th, min(max_iter, VERTEX_IRLS_STEPS), irls, fl, VERTEX_FTOL)
            theta[rows] = _active_set_finish(sub, th, kinks[rows])
    norm, scale, objective = _optimality(problem, theta, kinks)
    return Fit(
        losses=tuple(t.spec.name for t in checked),
        term_params=tuple(t.params for t in checked),
        coef=theta.reshape(*batch, n_coef),
        objective=objective.reshape(batch),
        iterations=iterations.reshape(batch),
        grad_norm=norm.reshape(batch),
        converged=(norm <= CONVERGED_RTOL * scale).reshape(batch),
    )


def minimize_pointwise(
    loss: str | LossSpec,
    design: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    params: Mapping[str, float] | None = None,
    **options: Unpack[SolverOptions],
) -> Fit:
    """Minimise Σᵢ wᵢ ρ(xᵢᵀθ, yᵢ) + ½ Σⱼ λⱼθⱼ² over θ: :func:`minimize_terms` with one loss.

    ``design`` has shape (..., n, p), ``target`` and ``weight`` (..., n) (weight 0 drops a point);
    ``params`` are the loss's parameters; ``options`` are :func:`minimize_terms`'s.
    """
    term = Term(loss, params or {}, 1.0 if weight is None else weight)
    return minimize_terms((term,), design, target, **options)


HUBER_K = 1.345
"""Huber's tuning constant (95 % efficiency at the normal), in units of the robust residual scale."""


def _huber_start(problem: _Problem, theta_ls: np.ndarray) -> np.ndarray:
    """The Huber fit with δ = 1.345·σ̂, σ̂ = 1.4826·MAD of the least-squares residuals, per row.

    The start of non-convex losses: close to the robust solution, and (unlike an L1 fit, which needs
    the vertex walk) reached by Newton in a few steps. All rows in one batch with δ = 1, on targets
    divided by each row's δ: Huber(r; δ) = δ²·Huber(r/δ; 1), so the coefficients scale back by δ.
    """
    r = problem.target - problem.pred(theta_ls, np.arange(theta_ls.shape[0]))
    r = np.where(problem.weight > 0, r, np.nan)
    mad = np.nanmedian(np.abs(r - np.nanmedian(r, axis=-1, keepdims=True)), axis=-1)
    delta = HUBER_K * 1.4826 * mad
    delta = np.where(np.isfinite(delta) & (delta > 0), delta, 1.0)[:, None]
    fit = minimize_pointwise(
        "huber", problem.design, problem.target / delta, problem.weight,
        params={"delta": 1.0}, theta0=theta_ls / delta, start="ls",
    )  # fmt: skip
    return fit.coef * delta


def _weighted_least_squares(problem: _Problem) -> np.ndarray:
    w = problem.weight[..., None]
    A = (
        np.einsum("bnp,bnq->bpq", w * problem.design, problem.design)
        + np.diag(problem.ridge)
        + 1e-12 * np.eye(problem.design.shape[-1])
    )
    rhs = np.einsum("bnp,bn->bp", w * problem.design, problem.target)
    return np.linalg.solve(A, rhs[..., None])[..., 0]


def _residual_scale(problem: _Problem, theta: np.ndarray) -> np.ndarray:
    """A per-row residual scale (mean |r| of the least-squares fit), for the IRLS floor."""
    r = np.abs(problem.pred(theta, np.arange(theta.shape[0])) - problem.target)
    total = problem.weight.sum(-1)
    mean = (problem.weight * r).sum(-1) / np.maximum(total, 1e-300)
    return np.maximum(mean, 1e-300)


# --- lines and locations ------------------------------------------------------------------------


def _whole_real_line(domain: Domain | None) -> bool:
    return (
        domain is not None
        and not domain.is_discrete
        and not domain.integer
        and domain.low == -math.inf
        and domain.high == math.inf
    )


def line_losses() -> list[str]:
    """The losses a line can be fitted with, this session's custom ones included: the pointwise losses
    whose prediction and target may each be any real number (a line a + b·x predicts every real value,
    and its targets are real measurements)."""
    return [n for n in loss_names() if (s := get_spec(n)).pointwise and _whole_real_line(s.pred_domain)
            and _whole_real_line(s.target_domain)]  # fmt: skip


def line_design(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[1, (x − m)/s] per point, with the centre m and spread s used (for conditioning)."""
    x = np.asarray(x, dtype=np.float64)
    m = x.mean(-1, keepdims=True)
    s = x.std(-1, keepdims=True)
    s = np.where(s > 0, s, 1.0)
    z = (x - m) / s
    return np.stack([np.ones_like(z), z], axis=-1), m[..., 0], s[..., 0]


def fit_line_terms(terms: Sequence[Term], x: np.ndarray, y: np.ndarray, *, start: np.ndarray | None = None) -> Fit:
    """Fit y ≈ a + b·x by minimising Σₖ Σᵢ wₖᵢ ρₖ(a + b xᵢ, yᵢ); ``coef[..., 0]`` = a, ``coef[..., 1]`` = b.

    x, y and the terms' weights broadcast to (..., n): a batch of data sets (or of weightings) is
    fitted at once. ``start`` (a, b), broadcast over the batch, replaces the automatic starting line.
    The solver works on standardised x; the result is mapped back (``grad_norm`` is that of the
    standardised problem, whose coefficients are (a + b·m, b·s)).
    """
    shape = np.broadcast_shapes(np.shape(x), np.shape(y), *(np.shape(t.weight) for t in terms))
    design, m, s = line_design(np.broadcast_to(x, shape))
    theta0 = None
    if start is not None:
        a, b = np.moveaxis(np.broadcast_to(np.asarray(start, dtype=float), (*m.shape, 2)), -1, 0)
        theta0 = np.stack([a + b * m, b * s], axis=-1)
    fit = minimize_terms(terms, design, np.broadcast_to(y, shape), theta0=theta0)
    slope = fit.coef[..., 1] / s
    intercept = fit.coef[..., 0] - slope * m
    return Fit(
        losses=fit.losses,
        term_params=fit.term_params,
        coef=np.stack([intercept, slope], axis=-1),
        objective=fit.objective,
        iterations=fit.iterations,
        grad_norm=fit.grad_norm,
        converged=fit.converged,
    )


def fit_line(
    loss: str | LossSpec,
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    start: np.ndarray | None = None,
    **params: float,
) -> Fit:
    """Fit y ≈ a + b·x by minimising Σ wᵢ ρ(a + b xᵢ, yᵢ): :func:`fit_line_terms` with one loss."""
    return fit_line_terms((Term(loss, params, 1.0 if weight is None else weight),), x, y, start=start)


def fit_location(
    loss: str | LossSpec,
    y: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    start: np.ndarray | None = None,
    **params: float,
) -> Fit:
    """The M-estimate of location: the μ minimising Σ wᵢ ρ(μ, yᵢ) (mean for MSE, median for MAE)."""
    y = np.asarray(y, dtype=np.float64)
    theta0 = None if start is None else np.broadcast_to(np.asarray(start, dtype=float)[..., :1], (*y.shape[:-1], 1))
    return minimize_pointwise(loss, np.ones((*y.shape, 1)), y, weight, params=params, theta0=theta0)


# --- pull of each point --------------------------------------------------------------------------


def pull(loss: str | LossSpec, pred: np.ndarray, target: np.ndarray, **params: float) -> np.ndarray:
    """|ψ(rᵢ)|: how hard each point pulls on the fit (the gradient weight of the point)."""
    ev = evaluate(loss, pred, target, order=1, **params)
    assert ev.grad is not None
    return np.abs(ev.grad)


def pull_share(pulls: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Each point's share of the total pull Σ|ψ|, in [0, 1] (0 everywhere when nothing pulls)."""
    w = pulls if weight is None else pulls * weight
    total = w.sum(-1, keepdims=True)
    return np.divide(w, total, out=np.zeros_like(w), where=total > 0)
