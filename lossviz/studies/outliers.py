"""The Outliers page: robustness studies of line fits (sensitivity curve, breakdown) and the page's data.

Every fit comes from :mod:`lossviz.toolkit.fit`; the points, and the outlier clusters placed in them, from
:func:`lossviz.toolkit.data.line_with_outliers` and :func:`lossviz.toolkit.data.contaminate`.

References: Hampel et al., Robust Statistics: The Approach Based on Influence Functions, 1986
(sensitivity curve, breakdown point); Tukey, Exploratory Data Analysis, 1977 (sensitivity curve).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from lossviz.spec import LossSpec, Param
from lossviz.toolkit.data import (
    LINE_NOISE,
    LINE_OUTLIER_SIZE,
    LINE_OUTLIERS,
    LINE_POINTS,
    contaminate,
    line_with_outliers,
)
from lossviz.toolkit.fit import Fit, fit_line, fit_location, is_convex, pull, pull_share
from lossviz.toolkit.tables import tail_share

ESTIMATES = ("slope", "intercept", "location")
"""What a study tracks: the fitted slope or intercept of a line, or a location (intercept-only fit)."""
VIEWS = ("Pull and fit table", "Sensitivity curve and breakdown")
"""The page's two views under the fit, one open at a time (a link names one: ``outliers_view``)."""

# --- page-level settings, declared once (controls, URL validation and ranges come from here) ---

# The synthetic set is toolkit.data's line with outliers, so its controls are that line's parameters,
# with this page's link names (n, noise, count, size), defaults and ranges (x spans −1 … 1 here).
N_POINTS = replace(LINE_POINTS, default=60, low=5, high=2000, ui_low=10, ui_high=300)
CLEAN_NOISE = replace(LINE_NOISE, default=1.0, ui_high=5.0, step=0.1)
N_OUTLIERS = replace(
    LINE_OUTLIERS, name="count", default=5, high=2000, ui_high=60, symbol="k",
    description="Number of clean points turned into outliers: moved into a cluster at the outlier position.",
)  # fmt: skip
OUTLIER_SIZE = replace(
    LINE_OUTLIER_SIZE, name="size", default=15.0, ui_low=-40.0, ui_high=40.0, symbol="s",
    description="How far the outliers sit above (s > 0) or below (s < 0) the true line y = 1 + 2x.",
)  # fmt: skip
OUTLIER_POSITION = Param(
    "position", 0.8, low=-1.0, high=1.0, ui_low=-1.0, ui_high=1.0, step=0.05, symbol="x_o",
    description="Where along x the outliers sit (x spans −1 … 1): near ±1 they have high leverage, near 0 none.",
)
SWEEP_RANGE = Param(
    "sweep", 30.0, low=0.0, low_open=True, ui_low=2.0, ui_high=100.0, step=1.0, symbol="R",
    description="The swept outlier moves from R below to R above the true line (sensitivity curve).",
)

TRUE_LINE = (1.0, 2.0)
"""Intercept and slope of the line the synthetic data scatter around."""
X_RANGE = (-1.0, 1.0)
"""The synthetic data's x: uniform in −1 … 1."""
SWEEP_POINTS = 41
CONTAMINATION = np.linspace(0.0, 0.5, 21)
"""Contamination fractions of the breakdown plot: 0 … 50 % in steps of 2.5 %."""


def estimate(
    loss: str | LossSpec,
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray | None,
    what: str,
    params: Mapping[str, float],
    start: np.ndarray | None = None,
) -> Fit:
    """Fit for the tracked ``what`` (one of :data:`ESTIMATES`), optionally from ``start``."""
    if what not in ESTIMATES:
        raise ValueError(f"estimate must be one of {', '.join(ESTIMATES)}, got {what!r}")
    if what == "location":
        return fit_location(loss, y, weight, start=start, **params)
    return fit_line(loss, x, y, weight, start=start, **params)


def _warm_start(
    loss: str | LossSpec, x: np.ndarray, y: np.ndarray, what: str, params: Mapping[str, float]
) -> tuple[Fit, np.ndarray | None]:
    """The fit of the clean sample, and the start a sweep over variations of it may use.

    A sweep's data sets differ from the clean sample in a few points, so for a convex loss its
    solution is a good start (fewer iterations, the same unique minimum). A non-convex loss gets
    no warm start (None): each row keeps its own start (a robust Huber fit), as a lone fit would.
    """
    base = estimate(loss, x, y, None, what, params)
    t = base.coef[..., 0] + (base.coef[..., 1] * x if what != "location" else 0.0)
    scale = float(np.mean(np.abs(np.asarray(y) - t))) or 1.0
    return base, (base.coef if is_convex(loss, scale, **base.params) else None)


def tracked(coef: np.ndarray, what: str) -> np.ndarray:
    """The number a study follows in a fit's coefficients ``(…, 2)`` (intercept, slope): slope, intercept or
    location."""
    return coef[..., 1] if what == "slope" else coef[..., 0]


def fitted_together(what: str) -> tuple[str, ...]:
    """The estimates that one fit gives with ``what``: a line's slope and intercept, or a location."""
    return ("location",) if what == "location" else ("slope", "intercept")


# --- sensitivity curve and breakdown ------------------------------------------------------------


@dataclass(frozen=True)
class Sensitivity:
    """Tukey's sensitivity curve SC(y₀) = n·(T(x₁…x_{n−1}, (x₀, y₀)) − T(x₁…x_{n−1})).

    ``offsets`` are the swept outlier's distances y₀ − (a + b x₀) from the reference line, ``curve``
    the values SC, ``estimate`` T with the outlier, ``base`` T without it.
    """

    offsets: np.ndarray
    curve: np.ndarray
    estimate: np.ndarray
    base: float
    converged: bool


@dataclass(frozen=True)
class Sweep:
    """Data sets that vary one clean sample, solved as one batch: x and y, each (sets, points)."""

    x: np.ndarray
    y: np.ndarray


def sensitivity_sweep(x: np.ndarray, y: np.ndarray, x0: float, offsets: np.ndarray, line: tuple[float, float]) -> Sweep:
    """The clean sample with one extra point at x₀, ``offsets`` away from ``line`` = (a, b): (x₀, a + b·x₀ + offset)."""
    x, y, offsets = (np.asarray(v, dtype=float) for v in (x, y, offsets))
    xs = np.broadcast_to(np.append(x, x0), (offsets.size, x.size + 1))
    y0 = line[0] + line[1] * x0 + offsets
    ys = np.concatenate([np.broadcast_to(y, (offsets.size, x.size)), y0[:, None]], axis=1)
    return Sweep(xs, ys)


def breakdown_sweep(
    x: np.ndarray, y: np.ndarray, size: float, position: float, line: tuple[float, float], seed: int,
    fractions: np.ndarray = CONTAMINATION,
) -> Sweep:
    """The clean sample with a fraction ε of its points moved into the outlier cluster, for each of ``fractions``
    (:func:`~lossviz.toolkit.data.contaminate`)."""
    x = np.asarray(x, dtype=float)
    counts = np.round(np.asarray(fractions, dtype=float) * x.size).astype(int)
    sets = [contaminate(x, y, int(c), size, position, line, seed)[:2] for c in counts]
    return Sweep(np.stack([s[0] for s in sets]), np.stack([s[1] for s in sets]))


def solve_sweeps(
    loss: str | LossSpec, x: np.ndarray, y: np.ndarray, sweeps: Sequence[Sweep], what: str,
    params: Mapping[str, float] | None = None,
) -> tuple[Fit, list[np.ndarray], bool]:
    """The clean fit, then the tracked estimate on every data set of ``sweeps``, all in one batched solve (started
    from the clean fit when the loss is convex): a solve's cost is mostly per iteration, not per data set. Sweeps
    of fewer points are padded with points of weight 0. Returns the clean fit, the estimates per sweep and
    whether every fit converged. The estimates are the fits' coefficients ``(sets, 2)``, :func:`tracked` picks
    ``what`` or any estimate :func:`fitted_together` with it."""
    params = params or {}
    base, start = _warm_start(loss, x, y, what, params)
    width = max(sw.x.shape[1] for sw in sweeps)

    def stacked(arrays: Sequence[np.ndarray]) -> np.ndarray:  # padded with zeros to the widest sweep
        return np.concatenate([np.pad(a, ((0, 0), (0, width - a.shape[1]))) for a in arrays])

    weight = stacked([np.ones_like(sw.x) for sw in sweeps])  # 0 on the padding
    fit = estimate(loss, stacked([sw.x for sw in sweeps]), stacked([sw.y for sw in sweeps]), weight, what, params, start)
    ends = np.cumsum([sw.x.shape[0] for sw in sweeps])[:-1]
    return base, np.split(np.asarray(fit.coef), ends), bool(fit.converged.all() and base.converged)


def _sensitivity(offsets: np.ndarray, n: int, base: Fit, coef: np.ndarray, what: str, converged: bool) -> Sensitivity:
    t_base, t = float(tracked(base.coef, what)), tracked(coef, what)
    return Sensitivity(offsets=offsets, curve=n * (t - t_base), estimate=t, base=t_base, converged=converged)


def sensitivity_curve(
    loss: str | LossSpec,
    x: np.ndarray,
    y: np.ndarray,
    x0: float,
    offsets: np.ndarray,
    line: tuple[float, float],
    what: str = "slope",
    params: Mapping[str, float] | None = None,
) -> Sensitivity:
    """SC of the tracked estimate as one extra point at x₀ moves through ``offsets`` from ``line``.

    ``line`` = (a, b): the swept point is (x₀, a + b·x₀ + offset); use the true line of the data.

    The fit without the extra point comes first; all sweep positions are then fitted as one batch,
    started from it when the loss is convex.
    """
    offsets = np.asarray(offsets, dtype=float)
    base, (t,), converged = solve_sweeps(loss, x, y, [sensitivity_sweep(x, y, x0, offsets, line)], what, params)
    return _sensitivity(offsets, np.size(x) + 1, base, t, what, converged)


@dataclass(frozen=True)
class Breakdown:
    """How far contamination moves the tracked estimate: |T(ε) − T(0)| against the fraction ε.

    ``clean`` is T(0), the estimate on the uncontaminated data; ``estimate`` T(ε).
    """

    fractions: np.ndarray
    error: np.ndarray
    estimate: np.ndarray
    clean: float
    converged: bool


def breakdown_curve(
    loss: str | LossSpec,
    x: np.ndarray,
    y: np.ndarray,
    size: float,
    position: float,
    line: tuple[float, float],
    seed: int,
    what: str = "slope",
    fractions: np.ndarray = CONTAMINATION,
    params: Mapping[str, float] | None = None,
) -> Breakdown:
    """|T(ε) − T(0)| as a fraction ε (0 … 50 %) of the points joins the outlier cluster; one batched solve
    (started from the clean fit T(0) when the loss is convex).

    The breakdown point is where this stops being bounded as the cluster moves away (Hampel et
    al. 1986, §2.2): 0 for the mean/least squares (one point suffices), 50 % for the median and
    for L1 regression without leverage, but only 1/n for L1 when the cluster sits at high leverage.
    """
    fractions = np.asarray(fractions, dtype=float)
    sweep = breakdown_sweep(x, y, size, position, line, seed, fractions)
    base, (t,), converged = solve_sweeps(loss, x, y, [sweep], what, params)
    return _breakdown(fractions, base, t, what, converged)


def _breakdown(fractions: np.ndarray, base: Fit, coef: np.ndarray, what: str, converged: bool) -> Breakdown:
    clean, t = float(tracked(base.coef, what)), tracked(coef, what)
    return Breakdown(fractions=fractions, error=np.abs(t - clean), estimate=t, clean=clean, converged=converged)


def sweep_offsets(sweep: float, count: int = SWEEP_POINTS) -> np.ndarray:
    """The offsets of the swept outlier: ``count`` values from −R to R (0 included for odd counts)."""
    return np.linspace(-sweep, sweep, count)


# --- the page's data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutlierData:
    """The data of the page: clean x, y; shown x, y after outliers and picks; status per point.

    ``status`` is 0 (clean), 1 (outlier: generated, or picked and moved by the outlier size) or 2
    (dropped: shown but left out of the fits).
    """

    clean_x: np.ndarray
    clean_y: np.ndarray
    x: np.ndarray
    y: np.ndarray
    status: np.ndarray

    @property
    def weight(self) -> np.ndarray:
        return (self.status != 2).astype(float)

    def take(self, index: np.ndarray) -> OutlierData:
        """The points at ``index`` only (a subsample to draw)."""
        return OutlierData(self.clean_x[index], self.clean_y[index], self.x[index], self.y[index], self.status[index])


def outlier_data(
    n: int,
    noise: float,
    count: int,
    size: float,
    position: float,
    seed: int,
    moved: Sequence[int] = (),
    dropped: Sequence[int] = (),
) -> OutlierData:
    """The synthetic set: n clean points sorted by x, x ~ U(−1, 1) and y = 1 + 2x + σ·N(0, 1) (:data:`TRUE_LINE`),
    with ``count`` of them moved into an outlier cluster (:func:`lossviz.toolkit.data.contaminate`), the points
    in ``moved`` shifted vertically by ``size`` and those in ``dropped`` marked for leaving out (indices ≥ n are
    ignored; a point both moved and dropped is dropped)."""
    clean = line_with_outliers(n, noise, 0, 0.0, seed, w_true=TRUE_LINE[1], b_true=TRUE_LINE[0], x_range=X_RANGE)
    clean_x, clean_y = clean.x, clean.y
    x, y, generated = contaminate(clean_x, clean_y, count, size, position, TRUE_LINE, seed)
    status = np.zeros(n, dtype=int)
    status[generated] = 1
    picked = np.array([i for i in set(moved) if 0 <= i < n and i not in set(generated)], dtype=int)
    y[picked] += size
    status[picked] = 1
    status[[i for i in set(dropped) if 0 <= i < n]] = 2
    return OutlierData(clean_x, clean_y, x, y, status)


def user_data(x: np.ndarray, y: np.ndarray) -> OutlierData:
    """A user's own (x, y) points as the page's data: all clean, none dropped (no true line is known)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return OutlierData(x, y, x, y, np.zeros(x.size, dtype=int))


@dataclass(frozen=True)
class FitStudy:
    """One loss fitted to the page's data, with each point's pull |ψ(rᵢ)| (0 for dropped points)
    and its share of the total pull."""

    fit: Fit
    pull: np.ndarray
    share: np.ndarray


def fit_study(loss: str | LossSpec, params: Mapping[str, float], data: OutlierData) -> FitStudy:
    fit = fit_line(loss, data.x, data.y, data.weight, **params)
    pred = fit.coef[0] + fit.coef[1] * data.x
    pulls = pull(loss, pred, data.y, **fit.params) * data.weight
    return FitStudy(fit=fit, pull=pulls, share=pull_share(pulls))


def clean_points(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The synthetic set's clean points (x, y) before any outlier: what the sweeps start from."""
    clean = outlier_data(n, noise, 0, 0.0, 0.0, seed)
    return clean.clean_x, clean.clean_y


def robustness_curves(
    loss: str | LossSpec, params: Mapping[str, float], n: int, noise: float, seed: int, size: float, position: float,
    sweep: float, what: str = "slope",
) -> tuple[Sensitivity, Breakdown]:
    """The synthetic set's sensitivity curve (one extra point at x₀ = ``position`` swept over ±``sweep`` around the
    true line) and breakdown curve (its clean points contaminated 0 … 50 % by a cluster at ``position``, ``size``
    above the line) of the estimate ``what``; see :func:`robustness_by_estimate`."""
    return robustness_by_estimate(loss, params, n, noise, seed, size, position, sweep, what)[what]


def robustness_by_estimate(
    loss: str | LossSpec, params: Mapping[str, float], n: int, noise: float, seed: int, size: float, position: float,
    sweep: float, what: str = "slope",
) -> dict[str, tuple[Sensitivity, Breakdown]]:
    """:func:`robustness_curves` of ``what`` and of every estimate :func:`fitted_together` with it (a line's slope
    and intercept come from the same fits), all in one batched solve (:func:`solve_sweeps`): about 40 % less
    time than two. Neither curve depends on the outliers' count."""
    x, y = clean_points(n, noise, seed)
    offsets = sweep_offsets(sweep)
    sweeps = [sensitivity_sweep(x, y, position, offsets, TRUE_LINE), breakdown_sweep(x, y, size, position, TRUE_LINE, seed)]
    base, (sens, brk), converged = solve_sweeps(loss, x, y, sweeps, what, params)
    return {
        t: (_sensitivity(offsets, x.size + 1, base, sens, t, converged), _breakdown(CONTAMINATION, base, brk, t, converged))
        for t in fitted_together(what)
    }


PICK_ACTIONS = ("outlier", "drop", "restore")


def apply_pick(
    moved: set[int], dropped: set[int], picked: set[int], action: str
) -> tuple[set[int], set[int]]:
    """New (moved, dropped) index sets after turning the picked points into outliers, dropping them
    or restoring them."""
    if action == "outlier":
        return moved | picked, dropped - picked
    if action == "drop":
        return moved, dropped | picked
    if action == "restore":
        return moved - picked, dropped - picked
    raise ValueError(f"action must be one of {', '.join(PICK_ACTIONS)}, got {action!r}")


def parse_indices(text: str, n: int) -> tuple[set[int], str | None]:
    """Point indices from a link value such as "3,7,12"; returns the valid ones and a warning."""
    found: set[int] = set()
    bad: list[str] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if part.isdigit() and int(part) < n:
            found.add(int(part))
        else:
            bad.append(part)
    warning = None
    if bad:
        warning = f"ignored {', '.join(map(repr, bad[:5]))}: not point indices 0 … {n - 1}"
    return found, warning


def format_indices(indices: set[int]) -> str:
    return ",".join(str(i) for i in sorted(indices))


# --- what the page shows of the fits ------------------------------------------------------------------

PLOT_X_RANGE = (-1.05, 1.05)
"""The least x range of the synthetic set's chart: x ∈ [−1, 1] and a margin (an outlier cluster at x₀ = ±1
may reach a little beyond)."""
X_PAD = 0.025
"""The synthetic chart's margin, as a share of the points' span: about 0.05 on x ∈ [−1, 1]."""
TOP_PULLS = 0.01
"""The fraction of points whose share of the pull the fit table reports (the largest pulls)."""


def plot_x_range(x: np.ndarray, pad: float = 0.03, cover: tuple[float, float] | None = None) -> tuple[float, float]:
    """The x range of a fit chart: the points' span widened by ``pad`` of it on each side, and covering ``cover``."""
    lo, hi = float(np.min(x)), float(np.max(x))
    margin = pad * (hi - lo)
    lo, hi = lo - margin, hi + margin
    return (lo, hi) if cover is None else (min(lo, cover[0]), max(hi, cover[1]))


def outlier_pull(studies: Mapping[str, FitStudy], data: OutlierData) -> tuple[dict[str, float], float] | None:
    """Each loss's share of its total pull Σ|ψ| held by the outliers, and the outliers' share of the fitted
    points (the share an equal pull per point would give them); None without outliers."""
    outliers = data.status == 1
    if not outliers.any():
        return None
    fitted = max(int((data.status != 2).sum()), 1)
    return {name: float(s.share[outliers].sum()) for name, s in studies.items()}, float(outliers.sum()) / fitted


def fit_table(studies: Mapping[str, FitStudy], top: float = TOP_PULLS) -> pd.DataFrame:
    """One row per loss: the fitted line, the solver's report, and the share of the pull held by the ``top``
    fraction of points with the largest pulls (:func:`lossviz.toolkit.tables.tail_share`)."""
    fits = [s.fit for s in studies.values()]
    return pd.DataFrame(
        {
            "intercept a": [float(f.coef[0]) for f in fits],
            "slope b": [float(f.coef[1]) for f in fits],
            f"largest {100 * top:g} % of pulls, share": [tail_share(s.share, (top,))[top] for s in studies.values()],
            "iterations": [int(f.iterations) for f in fits],
            "‖subgradient‖": [float(f.grad_norm) for f in fits],
            "converged": ["✓" if f.converged else "✗" for f in fits],
        },
        index=list(studies),
    )
