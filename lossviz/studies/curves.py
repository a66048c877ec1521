"""Loss curves: value, gradient and curvature of pointwise losses along their natural axis.

Every number comes from :func:`lossviz.evaluate` (one call per loss and setting, ``order=2``).
This module decides what to plot against:

* ``residual`` r = p − y for the regression and robust families, whose losses depend on the
  residual only (evaluated at y = 0, so the prediction *is* the residual);
* ``margin`` m = y·p for built-in losses on ±1 labels (logistic, exponential, hinge, squared hinge),
  which depend on the product only (evaluated at y = +1, so ∂L/∂m = ∂L/∂p);
* ``prediction`` p itself otherwise, at a target the user picks from the loss's target domain
  (a radio for discrete labels, a slider over ``plot_range`` for continuous ones).

Kinks come from the loss declaration (``spec.kink_points``), in prediction coordinates, which on all
three axes are also the plotted coordinates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from lossviz.engine import evaluate
from lossviz.registry import FAMILIES, by_family
from lossviz.registry import spec as get_spec
from lossviz.spec import Domain, LossSpec, Param
from lossviz.toolkit.curve import Curve, loss_curve
from lossviz.toolkit.frames import FINE_MANTISSAS, ROUND_COUNT, log_ladder, round_values
from lossviz.toolkit.tables import tail_share

AxisKind = Literal["residual", "margin", "prediction"]

RESIDUAL_FAMILIES = ("regression", "robust")
"""Families whose losses are functions of the residual p − y alone (their modules say so)."""
DEFAULT_FAMILY = "regression"
DEFAULT_LOSSES: dict[str, tuple[str, ...]] = {
    "regression": ("mse", "mae", "huber"),
    "robust": ("barron", "cauchy", "tukey_biweight"),
    "classification": ("bce_logits", "focal"),
    "ranking": ("hinge", "squared_hinge"),
}
"""The first losses shown for a family (the first three of the family where none is listed)."""
MAX_LOSSES = 6
POINTS = 501
"""Points per curve: smooth at any zoom, and 3 panels × 6 losses stay far below 1 MB as float32."""
INSET = 1e-3
"""Fraction of the plot span kept inside a finite domain bound (log-losses are clamped right at p = 0, 1)."""

ZOOM = Param(
    "range",
    1.0,
    low=0.0,
    low_open=True,
    ui_low=0.25,
    ui_high=8.0,
    scale="log",
    description="Width of the plotted x range relative to the loss's natural range (clipped to its domain).",
)
"""The prediction-range control: a zoom factor around the centre of the domain's ``plot_range``."""


@dataclass(frozen=True)
class Axis:
    """The x axis of a curve: its kind, the prediction domain it spans and the fixed target it implies."""

    kind: AxisKind
    domain: Domain

    @property
    def fixed_target(self) -> float | None:
        """The target the curve is evaluated at on a residual (0) or margin (+1) axis; else None."""
        return {"residual": 0.0, "margin": 1.0}.get(self.kind)

    @property
    def label(self) -> str:
        if self.kind == "residual":
            return "residual r = p − y"
        if self.kind == "margin":
            return "margin m = y·p"
        return f"prediction p ({self.domain.label})"

    @property
    def symbol(self) -> str:
        return {"residual": "r", "margin": "m"}.get(self.kind, "p")


@dataclass(frozen=True)
class TargetGroup:
    """Losses on a prediction axis that share one target domain, hence one target control."""

    domain: Domain
    losses: tuple[str, ...]

    @property
    def key(self) -> str:
        """URL key suffix: named after the group's first loss, so it is stable while that loss is shown."""
        return f"target_{self.losses[0]}"


# --- which losses, on which axis ---------------------------------------------------------------


def curve_families() -> dict[str, str]:
    """Families with at least one pointwise loss, as ``{family: title}`` in catalogue order."""
    return {f: FAMILIES[f] for f, specs in by_family().items() if any(s.pointwise for s in specs)}


def curve_losses(family: str) -> list[str]:
    """The pointwise losses of ``family`` (built-in and this session's custom ones), sorted."""
    return [s.name for s in by_family().get(family, []) if s.pointwise]


def default_losses(family: str) -> list[str]:
    """The losses shown first for ``family``: its listed defaults that exist, else its first three."""
    available = curve_losses(family)
    chosen = [n for n in DEFAULT_LOSSES.get(family, ()) if n in available]
    return chosen or available[:3]


def natural_axis(loss: str | LossSpec) -> Axis:
    """The axis a pointwise loss reads best against (see the module docstring)."""
    s = get_spec(loss)
    target = s.target_domain
    if s.family in RESIDUAL_FAMILIES and target is not None and not target.is_discrete:
        return Axis("residual", s.pred_domain)
    if s.builtin and target is not None and tuple(sorted(target.values)) == (-1.0, 1.0):
        return Axis("margin", s.pred_domain)
    return Axis("prediction", s.pred_domain)


def axis_groups(losses: Sequence[str]) -> dict[Axis, list[str]]:
    """Losses grouped by axis, in order of first appearance: one figure per group."""
    groups: dict[Axis, list[str]] = {}
    for name in losses:
        groups.setdefault(natural_axis(name), []).append(name)
    return groups


def target_groups(losses: Sequence[str]) -> list[TargetGroup]:
    """Losses that need a target control (prediction axis, with a target), grouped by target domain."""
    groups: dict[Domain, list[str]] = {}
    for name in losses:
        s = get_spec(name)
        if natural_axis(s).kind == "prediction" and s.target_domain is not None:
            groups.setdefault(s.target_domain, []).append(name)
    return [TargetGroup(domain, tuple(names)) for domain, names in groups.items()]


def target_param(domain: Domain) -> Param:
    """A slider declaration for a continuous target domain, over its ``plot_range``.

    The default is 1 for targets in [0, 1] (the positive class of a soft label), else the centre of
    the plot range (0 for real targets).
    """
    lo, hi = domain.plot_range
    default = 1.0 if (domain.low, domain.high) == (0.0, 1.0) else (lo + hi) / 2
    return Param(
        "target",
        default,
        low=domain.low,
        high=domain.high,
        low_open=domain.low_open,
        high_open=domain.high_open,
        ui_low=lo,
        ui_high=hi,
        step=float(f"{(hi - lo) / 100:.1g}"),
        integer=domain.integer,
        symbol="y",
        description=f"The target y: {domain.describe()}.",
    )


def target_options(domain: Domain) -> list[str]:
    """The labels of a discrete target domain, as radio options (``"0"``, ``"1"``, ``"-1"``)."""
    return [f"{v:g}" for v in domain.values]


def default_target(domain: Domain) -> float:
    """The target shown first: the last label of a discrete domain (1, the positive class)."""
    return float(domain.values[-1]) if domain.is_discrete else target_param(domain).default


# --- the curves -----------------------------------------------------------------------------------


def x_range(axis: Axis, zoom: float = 1.0) -> tuple[float, float]:
    """The plotted range: the domain's ``plot_range`` scaled by ``zoom`` about its centre, kept
    ``INSET`` of the span inside finite domain bounds."""
    lo, hi = axis.domain.plot_range
    centre, half = (lo + hi) / 2, (hi - lo) / 2 * zoom
    lo, hi = centre - half, centre + half
    inset = INSET * (hi - lo)
    if math.isfinite(axis.domain.low):
        lo = max(lo, axis.domain.low + inset)
    if math.isfinite(axis.domain.high):
        hi = min(hi, axis.domain.high - inset)
    return lo, hi


def x_grid(axis: Axis, zoom: float = 1.0, points: int = POINTS) -> np.ndarray:
    lo, hi = x_range(axis, zoom)
    return np.linspace(lo, hi, points)


def curve_target(loss: str, targets: Mapping[str, float]) -> float | None:
    """The target a loss is drawn at: its axis's fixed target, else the one chosen for it."""
    axis = natural_axis(loss)
    return axis.fixed_target if axis.kind != "prediction" else targets.get(loss)


PAD_PARAMS: dict[str, tuple[str, str]] = {"barron": ("alpha", "scale")}
"""Losses whose two parameters interact, so the page moves both live on one pad (x, y): Barron's α picks
the shape (2: L2, 1: pseudo-Huber, 0: Cauchy, −2: Geman–McClure) and c the width of its quadratic bowl."""
PAD_COUNT = 21
"""About how many frame values each axis of a pad gets (:func:`frame_values`)."""
PAD_POINTS = 201
"""Points per curve of a pad's loss: its 14 × 21 frames of three panels stay under 1.5 MB as float32."""


def live_parameters(losses: Sequence[str | LossSpec]) -> tuple[str, tuple[Param, ...]] | None:
    """The parameters that move live in the browser: those of the first selected loss that has any, both
    of a :data:`PAD_PARAMS` pair (Barron's α and c), else its first one (Huber's δ in the default view)."""
    for name in losses:
        s = get_spec(name)
        if s.params:
            pair = PAD_PARAMS.get(s.name)
            return s.name, tuple(s.param(p) for p in pair) if pair else (s.params[0],)
    return None


def frame_values(param: Param, count: int = ROUND_COUNT) -> tuple[float, ...]:
    """The values a live parameter steps through, its declared default among them (a link without the
    parameter shows the default exactly): round values across the control range (a 1-2-2.5-5 spacing,
    :func:`~lossviz.toolkit.frames.round_values`), or a 1-1.5-2-3-5-7 ladder for a log-scale parameter."""
    if param.scale == "log":
        return tuple(log_ladder(param, FINE_MANTISSAS))
    return tuple(float(v) for v in np.union1d(round_values(param, count), [param.default]))


def frame_settings(live: Sequence[tuple[str, Sequence[float]]]) -> list[dict[str, float]]:
    """The parameter setting of each frame of a live figure over ``(name, values)`` pairs: one per value
    for one parameter; for a pad (x, y) the grid, frame ``i * ny + j`` at ``(x_i, y_j)``."""
    names = [name for name, _ in live]
    return [dict(zip(names, map(float, point), strict=True)) for point in itertools.product(*(v for _, v in live))]


def parameter_sweep(
    loss: str,
    settings: Sequence[Mapping[str, float]],
    x: np.ndarray,
    target: float | None,
    params: Mapping[str, float],
) -> list[Curve]:
    """The curve of ``loss`` at each setting of some of its parameters, the others held at ``params``."""
    return [loss_curve(loss, x, target, {**params, **setting}) for setting in settings]


def curves_table(curves: Sequence[Curve], axis_label: Callable[[str], str]) -> pd.DataFrame:
    """The plotted data in long form, one row per loss and point, for the CSV download."""
    frames = [
        pd.DataFrame(
            {
                "loss": c.name,
                "axis": axis_label(c.name),
                "x": c.x,
                "target": np.nan if c.target is None else c.target,
                "value": c.value,
                "gradient": c.grad,
                "curvature": c.curvature,
                "params": ", ".join(f"{k}={v:g}" for k, v in c.params.items()),
            }
        )
        for c in curves
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# --- losses over uploaded (prediction, target) pairs -------------------------------------------------
# Which loss would my outliers dominate? Loss values and gradients over a model's (prediction, target) pairs.
#
# Given a file of predictions and targets (a model's validation output), each candidate loss is
# evaluated on every pair in one :func:`lossviz.evaluate` call; the summary says how much of the
# total loss, and of the total gradient magnitude, comes from the worst 1 % and 10 % of the pairs.

TAIL_FRACTIONS: tuple[float, ...] = (0.01, 0.10)


@dataclass(frozen=True)
class PairLossSummary:
    """One loss over all pairs: per-pair values and gradients, totals and tail shares."""

    name: str
    value: np.ndarray
    grad: np.ndarray
    total: float
    mean: float
    value_tail_share: dict[float, float]
    grad_tail_share: dict[float, float]


def analyze_pairs(
    losses: Sequence[str],
    pred: np.ndarray,
    target: np.ndarray,
    params: Mapping[str, Mapping[str, float]] | None = None,
) -> list[PairLossSummary]:
    """Evaluate each pointwise loss on the pairs; raises ``ValueError`` (DomainError…) with a clear message."""
    params = params or {}
    out = []
    for name in losses:
        spec = get_spec(name)
        if not spec.pointwise or not spec.has_target:
            raise ValueError(f"{name!r} is not a pointwise loss of (prediction, target) pairs")
        res = evaluate(name, pred, target, order=1, **params.get(name, {}))
        finite = np.isfinite(res.value)
        values = res.value[finite]
        magnitudes = np.abs(res.grad[finite])
        out.append(
            PairLossSummary(
                name=name,
                value=res.value,
                grad=res.grad,
                total=float(values.sum()),
                mean=float(values.mean()) if values.size else float("nan"),
                value_tail_share=tail_share(values, TAIL_FRACTIONS),
                grad_tail_share=tail_share(magnitudes, TAIL_FRACTIONS),
            )
        )
    return out


SHARE_COLUMNS = ("worst 1 % share of loss", "worst 10 % share of loss", "worst 1 % share of |gradient|")
"""The columns of :func:`pairs_table` that are shares of a total."""


def guess_pair_columns(columns: Sequence[str]) -> tuple[str, str]:
    """Which of at least two columns likely hold the predictions and the targets: by name (``pred…``;
    ``…target…`` or ``…true…``), else the first two."""
    pred = next((c for c in columns if "pred" in c.lower()), columns[0])
    others = [c for c in columns if c != pred]
    target = next((c for c in others if "target" in c.lower() or "true" in c.lower()), others[0])
    return pred, target


def pairs_table(summaries: Sequence[PairLossSummary]) -> pd.DataFrame:
    """One row per loss: its mean over the pairs and the shares of loss and |gradient| from the worst pairs."""
    return pd.DataFrame(
        {
            "loss": [s.name for s in summaries],
            "mean loss": [s.mean for s in summaries],
            SHARE_COLUMNS[0]: [s.value_tail_share[0.01] for s in summaries],
            SHARE_COLUMNS[1]: [s.value_tail_share[0.10] for s in summaries],
            SHARE_COLUMNS[2]: [s.grad_tail_share[0.01] for s in summaries],
        }
    )
