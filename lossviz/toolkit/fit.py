"""Fitting a line (or a location) with any pointwise loss: the one fitter of every page.

The fit minimises F(θ) = Σᵢ wᵢ ρ(xᵢᵀθ, yᵢ) (+ ½ Σⱼ λⱼ θⱼ² when a ridge is asked for) for a whole
batch of data sets at once. Every value ρ, pull ψ = ∂ρ/∂pred and curvature ρ'' comes from
:func:`lossviz.evaluate` (``order=2``), so built-in and session-scoped custom losses take one path.

Method (batched Newton / IRLS with a line search):

* **Newton** with H = Σ wᵢ max(ρ''ᵢ, 0) xᵢxᵢᵀ, accepted when H is well conditioned and the full
  step passes an Armijo test. It converges quadratically for smooth losses (MSE, log-cosh, Barron).
* **IRLS** (iteratively reweighted least squares) with weights ωᵢ = |ψ(rᵢ)| / max(|rᵢ|, ε),
  r = pred − y, otherwise. For losses whose ψ(r)/r does not grow with |r| (Huber, MAE, quantile,
  Barron α ≤ 2, log-cosh) the weighted least-squares step minimises a quadratic that lies above F
  and touches it at θ, so every step lowers F (Huber 1981 §7.8; Holland & Welsch 1977). Steps that
  fail either test are halved until F decreases. Where IRLS crawls (its step gains under a tenth
  of the decrease the Newton model predicts: Huber with few residuals inside ±δ), a shortened
  Newton step is tried beside it and the better one kept.
* **Vertex finish and walk** for losses with gradient jumps (``spec.kinks`` of order 1: MAE,
  quantile, ε-insensitive): a piecewise-linear objective attains its minimum where p of the kink
  constraints xᵢᵀθ = κᵢ hold (p = number of coefficients; a linear-programming vertex, as in
  Koenker & Bassett 1978). After a few IRLS steps, the p-subsets of the closest kink constraints
  are solved exactly and the best is kept; then the walk moves from vertex to vertex along the
  edges (exact line search over the breakpoints) until no edge descends, which for a convex
  piecewise-linear F is the minimum.
* **Non-convex losses** (ρ'' < 0 somewhere on the residual scale of the data, e.g. Barron α < 1)
  start from a robust fit — Huber's, with δ = 1.345·σ̂ and σ̂ = 1.4826·MAD of the least-squares
  residuals — so that they find the minimum near the robust solution, not an arbitrary
  stationary point.

Convergence is reported per data set: the number of iterations, the norm of the minimal-norm
subgradient of F (at a kink the pull ranges over the one-sided derivatives) and a flag.

References: Huber, Robust Estimation of a Location Parameter, 1964; Huber, Robust Statistics,
1981; Holland & Welsch, Robust regression using iteratively reweighted least-squares, 1977;
Koenker & Bassett, Regression Quantiles, 1978.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import lsq_linear

from lossviz.engine import evaluate
from lossviz.registry import spec as get_spec
from lossviz.spec import LossSpec

METHOD = (
    "batched Newton / IRLS on ψ and ρ'' from lossviz.evaluate, with a line search; "
    "losses with kinks finished exactly at a linear-programming vertex"
)

ARMIJO = 1e-4
MAX_HALVINGS = 40
NEWTON_HALVINGS = 8
"""A Newton step that fails its full-length test is tried down to 1/256 of its length (beside IRLS)."""
IRLS_FLOOR = 1e-9
"""ε of the IRLS weights |ψ(r)| / max(|r|, ε), relative to the residual scale of the start fit."""
CONVERGED_RTOL = 1e-8
"""A fit counts as converged when its minimal subgradient is below this times Σ wᵢ |ψᵢ| ‖xᵢ‖."""
VERTEX_FTOL = 1e-6
"""Losses with kinks leave IRLS once a step lowers F by less than this (relative); the vertex walk is exact."""
VERTEX_IRLS_STEPS = 8
VERTEX_MAX_POINTS = 4000
"""Above this many points a kinked loss is fitted by IRLS alone (the vertex walk grows like n²)."""
WALK_STEPS = 200
WALK_BREAKPOINTS = 24
"""How many of the nearest breakpoints along an edge the walk's line search tries per step."""
VERTEX_CANDIDATES = 6
"""How many of the closest kink constraints (beyond p) the vertex finish combines."""

# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """A batch of fits: ``coef[..., j]`` is coefficient j (intercept, slope for a line).

    ``objective`` is F at the solution, ``iterations`` the Newton/IRLS iterations used,
    ``grad_norm`` the norm of the minimal-norm subgradient of F there (the plain gradient for
    a smooth loss), ``converged`` whether it is below :data:`CONVERGED_RTOL` times the scale
    Σ wᵢ |ψᵢ| ‖xᵢ‖ of the terms that make it up.
    """

    loss: str
    params: dict[str, float]
    coef: np.ndarray
    objective: np.ndarray
    iterations: np.ndarray
    grad_norm: np.ndarray
    converged: np.ndarray
    method: str = METHOD


@dataclass(frozen=True)
class _Problem:
    """A flattened batch: design (B, n, p), target and weights (B, n), ridge (p,)."""

    spec: LossSpec
    params: dict[str, float]
    design: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    ridge: np.ndarray

    def pred(self, theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.einsum("bnp,bp->bn", self.design[rows], theta)

    def objective(self, theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """F(θ) for the given rows; +∞ where the loss is not finite (a step that went too far)."""
        value = evaluate(self.spec, self.pred(theta, rows), self.target[rows], order=0, **self.params).value
        total = np.einsum("bn,bn->b", self.weight[rows], value) + 0.5 * (self.ridge * theta**2).sum(-1)
        return np.where(np.isfinite(total), total, np.inf)

    def local_model(self, theta: np.ndarray, rows: np.ndarray) -> dict[str, np.ndarray]:
        """F, its gradient, the Newton and the IRLS matrices at θ for the given rows."""
        pred = self.pred(theta, rows)
        target, weight, design = self.target[rows], self.weight[rows], self.design[rows]
        ev = evaluate(self.spec, pred, target, order=2, **self.params)
        assert ev.grad is not None and ev.curvature is not None
        psi = ev.grad
        total = np.einsum("bn,bn->b", weight, ev.value) + 0.5 * (self.ridge * theta**2).sum(-1)
        grad = np.einsum("bn,bnp->bp", weight * psi, design) + self.ridge * theta
        ridge = np.diag(self.ridge)
        newton = np.einsum("bn,bnp,bnq->bpq", weight * np.maximum(ev.curvature, 0.0), design, design) + ridge
        return {"F": np.where(np.isfinite(total), total, np.inf), "g": grad, "H": newton, "psi": psi, "pred": pred}

    def irls_matrix(self, psi: np.ndarray, pred: np.ndarray, rows: np.ndarray, floor: np.ndarray) -> np.ndarray:
        residual = np.abs(pred - self.target[rows])
        omega = np.abs(psi) / np.maximum(residual, floor[:, None])
        design = self.design[rows]
        return np.einsum("bn,bnp,bnq->bpq", self.weight[rows] * omega, design, design) + np.diag(self.ridge)


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
    """Halve the step along ``direction`` (rows in ``mask``) until F decreases: new θ, F, found."""
    step = th.copy()
    f_step = F.copy()
    pending = mask & (np.abs(direction).sum(-1) > 0)
    found = np.zeros(th.shape[0], dtype=bool)
    size = 1.0
    length = np.abs(direction).max(-1)
    scale = 1e-14 * (1.0 + np.abs(th).max(-1))
    for _ in range(halvings):
        pending &= size * length > scale  # a step below rounding cannot lower F: give up on it
        todo = np.flatnonzero(pending)
        if todo.size == 0:
            break
        trial = th[todo] + size * direction[todo]
        f_trial = problem.objective(trial, rows[todo])
        ok = f_trial < F[todo]
        step[todo[ok]] = trial[ok]
        f_step[todo[ok]] = f_trial[ok]
        found[todo[ok]] = True
        pending[todo[ok]] = False
        size *= 0.5
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
            irls_step, irls_ok = _directions(problem.irls_matrix(model["psi"], model["pred"], rows, floor[rows]), g)
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
        gscale = np.einsum("bn,bn,bn->b", problem.weight[rows], np.abs(model["psi"]), np.linalg.norm(problem.design[rows], axis=-1))
        stationary = np.linalg.norm(g, axis=-1) <= 1e-14 * (gscale + np.abs(problem.ridge * th).sum(-1))
        # Rows whose step did not lower F, whose step was negligible or that sit at a stationary point stop.
        active[rows[pending | small | stationary | stalled]] = False
    return theta, iterations


def _kink_positions(problem: _Problem) -> np.ndarray | None:
    """Order-1 kinks (gradient jumps) of each point as predictions, shape (B, n, K); None if none."""
    s = problem.spec
    if s.kinks is None:
        return None
    try:
        kinks = s.kinks(problem.target, **problem.params)
        positions = [np.broadcast_to(np.asarray(pos, dtype=float), problem.target.shape) for pos, order in kinks if order == 1]
    except (TypeError, ValueError):
        return None
    return np.stack(positions, axis=-1) if positions else None


def _vertex_finish(problem: _Problem, theta: np.ndarray, kinks: np.ndarray, rounds: int = 4) -> np.ndarray:
    """Replace θ by the best vertex xᵢᵀθ = κᵢₖ (p of them) among the closest kink constraints."""
    n_rows, n_points, n_coef = problem.design.shape
    rows = np.arange(n_rows)
    n_kinks = kinks.shape[-1]
    m = min(n_coef + VERTEX_CANDIDATES, n_points * n_kinks)
    if m < n_coef:
        return theta
    combos = np.array(list(itertools.combinations(range(m), n_coef)))  # (C, p)
    f_best = problem.objective(theta, rows)
    for _ in range(rounds):
        pred = problem.pred(theta, rows)
        distance = np.abs(pred[..., None] - kinks)
        distance = np.where(problem.weight[..., None] > 0, distance, np.inf).reshape(n_rows, -1)
        nearest = np.argsort(distance, axis=-1, kind="stable")[:, :m]  # (B, m) flat (point, kink) ids
        chosen = nearest[:, combos]  # (B, C, p)
        point = chosen // n_kinks
        A = np.take_along_axis(problem.design, point.reshape(n_rows, -1, 1), axis=1).reshape(*point.shape, n_coef)
        b = np.take_along_axis(kinks.reshape(n_rows, -1), chosen.reshape(n_rows, -1), axis=1).reshape(point.shape)
        det = np.linalg.det(A)
        scale = np.prod(np.linalg.norm(A, axis=-1), axis=-1)
        ok = (np.abs(det) > 1e-10 * scale) & np.isfinite(distance[rows[:, None], chosen[..., 0]])
        safe = np.where(ok[..., None, None], A, np.eye(n_coef))
        candidates = np.linalg.solve(safe, b[..., None])[..., 0]  # (B, C, p)
        n_cand = candidates.shape[1]
        flat_rows = np.repeat(rows, n_cand)
        f_cand = problem.objective(candidates.reshape(-1, n_coef), flat_rows).reshape(n_rows, n_cand)
        f_cand = np.where(ok, f_cand, np.inf)
        best = np.argmin(f_cand, axis=-1)
        f_new = f_cand[rows, best]
        better = f_new < f_best
        if not better.any():
            break
        theta = np.where(better[:, None], candidates[rows, best], theta)
        f_best = np.where(better, f_new, f_best)
    return theta


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


def _vertex_walk(problem: _Problem, theta: np.ndarray, kinks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walk from vertex to vertex along edges with an exact line search, until no edge descends.

    At a vertex of a piecewise-linear F the directional derivative is linear on each cone of
    the kink arrangement, so if F does not decrease along any edge (and along −∇F) the vertex is
    a minimum for a convex F. Along a direction d, F(θ + t d) is linear between the breakpoints
    t = (κᵢₖ − predᵢ) / (xᵢᵀd): the walk evaluates F at the nearest of them and moves to the best.
    """
    n_rows, n_points, n_coef = problem.design.shape
    n_kinks = kinks.shape[-1]
    all_rows = np.arange(n_rows)
    steps = np.zeros(n_rows, dtype=int)
    f_now = problem.objective(theta, all_rows)
    active_rows = np.ones(n_rows, dtype=bool)
    for _ in range(WALK_STEPS):
        rows = np.flatnonzero(active_rows)
        if rows.size == 0:
            break
        th, design, kk = theta[rows], problem.design[rows], kinks[rows]
        model = problem.local_model(th, rows)
        pred = model["pred"]
        gap = np.abs(pred[..., None] - kk).min(-1)
        gap = np.where(problem.weight[rows] > 0, gap, np.inf)
        n_act = min(n_coef + 2, n_points)
        nearest = np.argsort(gap, axis=-1, kind="stable")[:, :n_act]
        is_active = np.take_along_axis(gap, nearest, -1) <= 1e-9 * (1.0 + np.abs(pred).max(-1, keepdims=True))
        picked = np.take_along_axis(design, nearest[..., None], axis=1)
        directions = _edge_directions(picked, is_active)
        g = model["g"]
        g_unit = -g / np.maximum(np.linalg.norm(g, axis=-1, keepdims=True), 1e-300)
        directions = np.concatenate([directions, g_unit[:, None, :]], axis=1)  # (b, D, p)
        slope = np.einsum("bnp,bdp->bdn", design, directions)  # (b, D, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (kk[:, None, :, :] - pred[:, None, :, None]) / slope[..., None]  # (b, D, n, K)
        t = t.reshape(rows.size, directions.shape[1], n_points * n_kinks)
        scale_t = 1e-12 * (1.0 + np.abs(th).max(-1))[:, None, None]
        t = np.where(np.isfinite(t) & (t > scale_t), t, np.inf)
        n_try = min(WALK_BREAKPOINTS, t.shape[-1])
        t = np.sort(t, axis=-1)[..., :n_try]  # (b, D, L)
        usable = np.isfinite(t) & (np.abs(directions).sum(-1) > 0)[..., None]
        t_safe = np.where(usable, t, 0.0)
        cand = th[:, None, None, :] + t_safe[..., None] * directions[:, :, None, :]  # (b, D, L, p)
        n_cand = cand.shape[1] * cand.shape[2]
        f_cand = problem.objective(cand.reshape(-1, n_coef), np.repeat(rows, n_cand)).reshape(rows.size, n_cand)
        f_cand = np.where(usable.reshape(rows.size, n_cand), f_cand, np.inf)
        best = np.argmin(f_cand, axis=-1)
        f_best = f_cand[np.arange(rows.size), best]
        better = f_best < f_now[rows] - 1e-15 * np.abs(f_now[rows])
        moved = rows[better]
        theta[moved] = cand.reshape(rows.size, n_cand, n_coef)[np.flatnonzero(better), best[better]]
        f_now[moved] = f_best[better]
        steps[moved] += 1
        active_rows[rows[~better]] = False
    return theta, steps


def _subgradient_norm(problem: _Problem, theta: np.ndarray, kinks: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """‖minimal-norm subgradient of F‖ and the scale Σ wᵢ|ψᵢ|‖xᵢ‖ it is compared with.

    At a point sitting on a kink κ the pull may be anything between the one-sided derivatives
    ψ(κ − h) and ψ(κ + h); the smallest gradient norm over those choices is a bounded least
    squares problem: solved directly when p points sit on kinks (a vertex) and the solution is
    inside the bounds, else with scipy.optimize.lsq_linear.
    """
    n_rows, _, n_coef = problem.design.shape
    model = problem.local_model(theta, np.arange(n_rows))
    psi, pred, grad = model["psi"], model["pred"], model["g"]
    row_norm = np.linalg.norm(problem.design, axis=-1)
    scale = np.einsum("bn,bn,bn->b", problem.weight, np.abs(psi), row_norm) + np.abs(problem.ridge * theta).sum(-1)
    norm = np.linalg.norm(grad, axis=-1)
    if kinks is None:
        return norm, scale
    distance = np.abs(pred[..., None] - kinks)
    nearest = np.argmin(distance, axis=-1)
    at = np.take_along_axis(kinks, nearest[..., None], -1)[..., 0]
    on_kink = (distance.min(-1) <= 1e-9 * (1.0 + np.abs(at))) & (problem.weight > 0)
    b_idx, p_idx = np.nonzero(on_kink)
    if b_idx.size == 0:
        return norm, scale
    h = 1e-7 * (1.0 + np.abs(at[b_idx, p_idx]))
    both = np.concatenate([at[b_idx, p_idx] - h, at[b_idx, p_idx] + h])
    side = evaluate(problem.spec, both, np.tile(problem.target[b_idx, p_idx], 2), order=1, **problem.params).grad
    assert side is not None
    lo_all = np.minimum(side[: b_idx.size], side[b_idx.size :])
    hi_all = np.maximum(side[: b_idx.size], side[b_idx.size :])
    for b in np.unique(b_idx):
        sel = b_idx == b
        idx, lo, hi = p_idx[sel], lo_all[sel], hi_all[sel]
        w_x = problem.weight[b, idx, None] * problem.design[b, idx]  # (k, p)
        fixed = grad[b] - (psi[b, idx, None] * w_x).sum(0)
        choice = None
        if idx.size == n_coef and abs(np.linalg.det(w_x)) > 1e-12 * np.prod(np.linalg.norm(w_x, axis=-1)):
            direct = np.linalg.solve(w_x.T, -fixed)
            if np.all((direct >= lo - 1e-12) & (direct <= hi + 1e-12)):
                choice = np.clip(direct, lo, hi)
        if choice is None:
            choice = lsq_linear(w_x.T, -fixed, bounds=(lo - 1e-15, hi + 1e-15), method="bvls").x
        norm[b] = min(norm[b], float(np.linalg.norm(w_x.T @ choice + fixed)))
        scale[b] += float(np.abs(w_x).sum(-1) @ np.maximum(np.abs(lo), np.abs(hi)))
    return norm, scale


def is_convex(loss: str | LossSpec, residual_scale: float = 1.0, /, **params: float) -> bool:
    """Whether ρ'' ≥ 0 for residuals across ±50·scale (a check on a grid, for choosing the start)."""
    r = np.linspace(-50.0, 50.0, 2001) * max(residual_scale, 1e-12)
    ev = evaluate(loss, r, 0.0, order=2, **params)
    assert ev.curvature is not None
    return bool((ev.curvature >= -1e-12 * (1.0 + np.abs(ev.curvature).max())).all())


def minimize_pointwise(
    loss: str | LossSpec,
    design: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    params: Mapping[str, float] | None = None,
    theta0: np.ndarray | None = None,
    ridge: Sequence[float] | np.ndarray | None = None,
    max_iter: int = 200,
    irls: bool = True,
    start: str = "auto",
) -> Fit:
    """Minimise Σᵢ wᵢ ρ(xᵢᵀθ, yᵢ) + ½ Σⱼ λⱼθⱼ² over θ for a batch of data sets.

    ``design`` has shape (..., n, p), ``target`` and ``weight`` (..., n) (weight 0 drops a point);
    ``params`` are the loss's parameters. ``irls=False`` uses Newton steps only (for losses that
    are not a function of a residual, such as classification losses on logits). ``start``:
    "auto" starts from weighted least squares, or from a robust Huber fit when the loss is not convex;
    "ls" always from least squares; ``theta0`` overrides both. Raises the loss's
    :class:`~lossviz.ParameterError` / :class:`~lossviz.DomainError` for bad parameters or data.
    """
    s = get_spec(loss)
    values = s.validate_params(dict(params or {}))
    design = np.asarray(design, dtype=np.float64)
    batch, (n_points, n_coef) = design.shape[:-2], design.shape[-2:]
    target = np.broadcast_to(np.asarray(target, dtype=np.float64), (*batch, n_points)).reshape(-1, n_points)
    weight = np.ones(1) if weight is None else np.asarray(weight, dtype=np.float64)
    weight = np.broadcast_to(weight, (*batch, n_points)).reshape(-1, n_points)
    if (weight < 0).any() or not np.isfinite(weight).all():
        raise ValueError("weights must be finite and non-negative")
    ridge_arr = np.zeros(n_coef) if ridge is None else np.broadcast_to(np.asarray(ridge, dtype=float), (n_coef,))
    problem = _Problem(s, values, design.reshape(-1, n_points, n_coef), target, weight, ridge_arr)
    evaluate(s, problem.design[:1, :1, 0], target[:1, :1], order=0, **values)  # domain/parameter errors first

    theta_ls = _weighted_least_squares(problem)
    if theta0 is not None:
        theta = np.broadcast_to(np.asarray(theta0, dtype=float), (*batch, n_coef)).reshape(-1, n_coef).copy()
    else:
        theta = theta_ls
    r_scale = _residual_scale(problem, theta_ls)
    if theta0 is None and start == "auto" and irls and not is_convex(s, float(np.median(r_scale)), **values):
        theta = _huber_start(problem, theta_ls)
    floor = IRLS_FLOOR * r_scale
    kinks = _kink_positions(problem)
    if kinks is None or n_points > VERTEX_MAX_POINTS:
        # The exact vertex walk costs O(n) per candidate vertex: beyond a few thousand points (an
        # uploaded file) IRLS alone stops close to the vertex, and the subgradient norm says how close.
        theta, iterations = _descend(problem, theta, max_iter, irls, floor)
    else:
        theta, iterations = _descend(problem, theta, min(max_iter, VERTEX_IRLS_STEPS), irls, floor, VERTEX_FTOL)
        theta = _vertex_finish(problem, theta, kinks)
        theta, steps = _vertex_walk(problem, theta, kinks)
        iterations = iterations + steps
    norm, scale = _subgradient_norm(problem, theta, kinks)
    rows = np.arange(theta.shape[0])
    return Fit(
        loss=s.name,
        params=values,
        coef=theta.reshape(*batch, n_coef),
        objective=problem.objective(theta, rows).reshape(batch),
        iterations=iterations.reshape(batch),
        grad_norm=norm.reshape(batch),
        converged=(norm <= CONVERGED_RTOL * scale).reshape(batch),
    )


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
    A = np.einsum("bnp,bnq->bpq", w * problem.design, problem.design) + np.diag(problem.ridge) + 1e-12 * np.eye(
        problem.design.shape[-1]
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


def line_design(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[1, (x − m)/s] per point, with the centre m and spread s used (for conditioning)."""
    x = np.asarray(x, dtype=np.float64)
    m = x.mean(-1, keepdims=True)
    s = x.std(-1, keepdims=True)
    s = np.where(s > 0, s, 1.0)
    z = (x - m) / s
    return np.stack([np.ones_like(z), z], axis=-1), m[..., 0], s[..., 0]


def fit_line(
    loss: str | LossSpec,
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    start: np.ndarray | None = None,
    **params: float,
) -> Fit:
    """Fit y ≈ a + b·x by minimising Σ wᵢ ρ(a + b xᵢ, yᵢ); ``coef[..., 0]`` = a, ``coef[..., 1]`` = b.

    x, y (and weight) have shape (..., n): a batch of data sets is fitted at once. ``start``
    (a, b), broadcast over the batch, replaces the automatic starting line. The solver works on
    standardised x; the result is mapped back (``grad_norm`` is that of the standardised problem,
    whose coefficients are (a + b·m, b·s)).
    """
    design, m, s = line_design(np.broadcast_to(x, np.broadcast_shapes(np.shape(x), np.shape(y))))
    theta0 = None
    if start is not None:
        a, b = np.moveaxis(np.broadcast_to(np.asarray(start, dtype=float), (*m.shape, 2)), -1, 0)
        theta0 = np.stack([a + b * m, b * s], axis=-1)
    fit = minimize_pointwise(loss, design, y, weight, params=params, theta0=theta0)
    slope = fit.coef[..., 1] / s
    intercept = fit.coef[..., 0] - slope * m
    return Fit(
        loss=fit.loss,
        params=fit.params,
        coef=np.stack([intercept, slope], axis=-1),
        objective=fit.objective,
        iterations=fit.iterations,
        grad_norm=fit.grad_norm,
        converged=fit.converged,
    )


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


def regression_losses(names: Sequence[str]) -> list[str]:
    """The pointwise losses of real pred and real target, the ones a line can be fitted with."""
    out = []
    for name in names:
        s = get_spec(name)
        if not (s.pointwise and s.target_domain is not None):
            continue
        p, t = s.pred_domain, s.target_domain
        if p.is_discrete or t.is_discrete or not (math.isinf(p.low) and math.isinf(p.high)):
            continue
        if not (math.isinf(t.low) and math.isinf(t.high)):
            continue
        out.append(name)
    return out


