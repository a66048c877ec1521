"""Margins, ranking and embeddings: the curves and the triplet plane behind the Margins page.

Every value and gradient comes from :func:`lossviz.evaluate`, one call per curve or plane:

* **score panels** — hinge and squared hinge against the margin score y·p (drawn at y = +1),
  the multi-class margin loss against the score of one class with the others fixed, and margin
  ranking against the score difference s₁ − s₂, for y = +1 and y = −1;
* **contrastive** — against the distance d of a pair, similar (y = 1) and dissimilar (y = 0);
* **cosine** — cosine embedding (y = ±1) and cosine proximity against the angle θ between two
  unit vectors, with dL/dθ from the vector gradient by the chain rule;
* **triplet plane** — the triplet loss for every position of the negative on a 2-D grid (one
  call with ``pred`` of shape ``[H, W, 3, 2]``), the easy / semi-hard / hard regions of
  Schroff et al. (FaceNet, CVPR 2015) read off those values, and the gradient on each of the
  three points.

A :class:`Panel` holds the curves of one chart; :func:`panel_frames` gives the same panel at a series of
margin values, the frames of a live chart whose control moves the margin in the browser without a rerun.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from lossviz.engine import evaluate
from lossviz.losses.ranking import TRIPLET_EPS
from lossviz.registry import spec as get_spec
from lossviz.spec import Param

POINTS = 301
"""Points per curve: sharp enough kinks at 0.02 spacing, and 25 frames of 4 curves stay near 150 kB."""
SCORE_RANGE = (-3.0, 3.0)
DISTANCE_RANGE = (0.0, 3.0)

MULTICLASS_SCORES = (1.0, 0.5, -0.5)
"""Scores (x₀, x₁, x₂) of a 3-class example whose true class is 0; one of them varies, the others stay."""
MULTICLASS_TRUE = 0
MULTICLASS_WRONG = 1
"""The wrong class whose score the second multi-class curve varies."""
MULTICLASS_TEXT = ", ".join(f"x{i} = {v:g}" for i, v in enumerate(MULTICLASS_SCORES))

SCORE_LOSSES = ("hinge", "squared_hinge", "multi_margin", "margin_ranking")
MARGIN_LOSSES = (*SCORE_LOSSES, "contrastive", "triplet", "cosine_embedding")
"""The losses of the page that have a margin parameter."""


@dataclass(frozen=True)
class Series:
    """One curve: ``value`` and ``grad`` (the derivative along the panel's x axis) at ``x``.

    ``loss`` names the loss (its colour); ``label`` is the legend entry; ``live`` marks curves that
    move with the panel's live margin (curves of losses without one, or with a margin of their own, stay put).
    """

    loss: str
    label: str
    x: np.ndarray
    value: np.ndarray
    grad: np.ndarray
    live: bool = True
    dash: str = "solid"


@dataclass(frozen=True)
class Panel:
    """The curves of one chart, their x axis, and the margin they were drawn at."""

    key: str
    title: str
    x_label: str
    grad_label: str
    series: tuple[Series, ...]
    margin: float
    margin_lines: tuple[float, ...] = ()
    """x positions worth a dotted line (where the margin sits on the x axis)."""


# --- margins and frames --------------------------------------------------------------------------


def margin_param(loss: str) -> Param:
    """The declared margin parameter of ``loss`` (range, step, default) from its registration."""
    return get_spec(loss).param("margin")


# --- score panels --------------------------------------------------------------------------------


def _grid(bounds: tuple[float, float], points: int = POINTS) -> np.ndarray:
    return np.linspace(bounds[0], bounds[1], points)


def binary_panel(hinge_margin: float, squared_margin: float, points: int = POINTS) -> Panel:
    """Hinge and squared hinge against the margin score s = y·p, evaluated at y = +1 (so ∂L/∂s = ∂L/∂p).

    The hinge's margin is the live one; the squared hinge keeps its own margin while the hinge's moves."""
    s = _grid(SCORE_RANGE, points)
    series = []
    for loss, margin in (("hinge", hinge_margin), ("squared_hinge", squared_margin)):
        res = evaluate(loss, s, 1.0, margin=margin)
        series.append(Series(loss, get_spec(loss).title, s, res.value, res.grad, live=loss == "hinge"))
    return Panel(
        "binary", "Hinge and squared hinge", "margin score y·p", "∂L/∂(y·p)", tuple(series), hinge_margin,
        (hinge_margin,),
    )


def multiclass_scores(x: np.ndarray, varied: int) -> np.ndarray:
    """Score vectors ``[len(x), 3]``: :data:`MULTICLASS_SCORES` with class ``varied`` set to ``x``."""
    scores = np.tile(np.asarray(MULTICLASS_SCORES, dtype=np.float64), (len(x), 1))
    scores[:, varied] = x
    return scores


def multiclass_panel(margin: float, points: int = POINTS) -> Panel:
    """The multi-class margin loss (true class 0) against one score, the other two fixed.

    Two curves: varying the true class's score x₀ (the loss falls as x₀ pulls ahead of each rival
    by m) and varying a wrong class's score x₁ (the loss rises once x₁ comes within m of x₀). The
    gradient is ∂L/∂x of the varied score, one column of ``evaluate(...).grad``.
    """
    x = _grid(SCORE_RANGE, points)
    series = []
    for varied, label, dash in (
        (MULTICLASS_TRUE, "varying the true class's score x0", "solid"),
        (MULTICLASS_WRONG, "varying a wrong class's score x1", "dash"),
    ):
        res = evaluate("multi_margin", multiclass_scores(x, varied), MULTICLASS_TRUE, margin=margin)
        series.append(Series("multi_margin", label, x, res.value, res.grad[:, varied], dash=dash))
    others = [v for i, v in enumerate(MULTICLASS_SCORES) if i != MULTICLASS_TRUE]
    rival_x1 = MULTICLASS_SCORES[MULTICLASS_TRUE] - margin
    return Panel(
        "multiclass",
        "Multi-class margin (true class 0)",
        "score of the varied class",
        "∂L/∂(varied score)",
        tuple(series),
        margin,
        (*(o + margin for o in others), rival_x1),
    )


def ranking_panel(margin: float, points: int = POINTS) -> Panel:
    """Margin ranking against the difference Δ = s₁ − s₂ for y = +1 and y = −1.

    The pair is (s₁, s₂) = (Δ/2, −Δ/2); the loss depends on Δ only, and ∂L/∂Δ = (∂L/∂s₁ − ∂L/∂s₂)/2.
    """
    delta = _grid(SCORE_RANGE, points)
    pairs = np.stack([delta / 2, -delta / 2], axis=-1)
    series = []
    for y, label, dash in ((1.0, "y = +1 (s1 should win)", "solid"), (-1.0, "y = −1 (s2 should win)", "dash")):
        res = evaluate("margin_ranking", pairs, y, margin=margin)
        series.append(Series("margin_ranking", label, delta, res.value, (res.grad[:, 0] - res.grad[:, 1]) / 2, dash=dash))
    return Panel(
        "ranking", "Margin ranking", "score difference s1 − s2", "∂L/∂(s1 − s2)", tuple(series), margin,
        (margin, -margin) if margin > 0 else (0.0,),
    )


def contrastive_panel(margin: float, points: int = POINTS) -> Panel:
    """The contrastive loss against the distance d of a pair: similar (y = 1) and dissimilar (y = 0)."""
    d = _grid(DISTANCE_RANGE, points)
    series = []
    for y, label, dash in ((1.0, "similar pair (y = 1)", "solid"), (0.0, "dissimilar pair (y = 0)", "dash")):
        res = evaluate("contrastive", d, y, margin=margin)
        series.append(Series("contrastive", label, d, res.value, res.grad, dash=dash))
    return Panel("contrastive", "Contrastive loss", "distance d between the pair", "∂L/∂d", tuple(series), margin, (margin,))


def unit_pairs(theta: np.ndarray) -> np.ndarray:
    """Pairs ``[len(θ), 2, 2]`` of unit vectors x₁ = (1, 0), x₂ = (cos θ, sin θ) at angle θ (radians)."""
    pairs = np.zeros((len(theta), 2, 2))
    pairs[:, 0, 0] = 1.0
    pairs[:, 1, 0] = np.cos(theta)
    pairs[:, 1, 1] = np.sin(theta)
    return pairs


def cosine_panel(margin: float, points: int = 181) -> Panel:
    """Cosine embedding (y = ±1) and cosine proximity against the angle θ between two unit vectors.

    x₂ = (cos θ, sin θ) turns away from x₁ = (1, 0), so dx₂/dθ = (−sin θ, cos θ) and
    dL/dθ = ∇_{x₂}L · (−sin θ, cos θ) — the chain rule on the gradient ``evaluate`` returns. The x axis
    is in degrees; dL/dθ is per radian.
    """
    degrees = np.linspace(0.0, 180.0, points)
    theta = np.radians(degrees)
    pairs = unit_pairs(theta)
    tangent = np.stack([-np.sin(theta), np.cos(theta)], axis=-1)
    series = []
    for y, label, dash in ((1.0, "cosine embedding, y = +1", "solid"), (-1.0, "cosine embedding, y = −1", "dash")):
        res = evaluate("cosine_embedding", pairs, y, margin=margin)
        series.append(
            Series("cosine_embedding", label, degrees, res.value, (res.grad[:, 1, :] * tangent).sum(-1), dash=dash)
        )
    res = evaluate("cosine_proximity", pairs[:, 1, :], pairs[:, 0, :])
    series.append(
        Series("cosine_proximity", "cosine proximity", degrees, res.value, (res.grad * tangent).sum(-1), live=False,
               dash="dot")
    )
    lines = (math.degrees(math.acos(margin)),) if -1.0 < margin < 1.0 else ()
    return Panel("cosine", "Cosine losses against the angle", "angle θ between x1 and x2 (degrees)", "dL/dθ (per radian)",
                 tuple(series), margin, lines)


PANELS: dict[str, tuple[tuple[str, ...], Callable[..., Panel]]] = {
    "binary": (("hinge", "squared_hinge"), binary_panel),
    "multiclass": (("multi_margin",), multiclass_panel),
    "ranking": (("margin_ranking",), ranking_panel),
    "contrastive": (("contrastive",), contrastive_panel),
    "cosine": (("cosine_embedding",), cosine_panel),
}
"""Each score panel: the losses whose margins it takes (in argument order) and its builder."""


def panel(key: str, margins: Mapping[str, float]) -> Panel:
    """The panel ``key`` at the given margins (``{loss: margin}``)."""
    losses, build = PANELS[key]
    return build(*(margins[loss] for loss in losses))


def panel_frames(key: str, values: Sequence[float]) -> list[Panel]:
    """The panel at each live margin value (its live curves are the same whatever the other margins: a
    panel with two losses is built with both at that value, and only the live loss's curves are used)."""
    losses, build = PANELS[key]
    return [build(*([float(v)] * len(losses))) for v in values]


LIVE_NAMES = {
    "binary": "hinge margin",
    "multiclass": "multi-class margin",
    "ranking": "ranking margin",
    "contrastive": "contrastive margin",
    "cosine": "cosine margin",
}
"""The name of each panel's live margin: the page shows five margins m, and each control needs its own
accessible name (and each link warning its own parameter)."""


def live_param(key: str) -> tuple[str, Param]:
    """(loss, margin Param) that a panel's live control moves: its first loss's margin, named after the panel
    (:data:`LIVE_NAMES`)."""
    loss = PANELS[key][0][0]
    return loss, replace(margin_param(loss), name=LIVE_NAMES[key])


# --- the triplet plane ---------------------------------------------------------------------------

PLANE_HALF_WIDTH = 3.0
PLANE_POINTS = 121
"""Grid points per side of the plane: 14,641 triplets in one evaluate call, ≈ 60 kB as float32."""
POINT_NAMES = ("anchor", "positive", "negative")
REGIONS = ("easy", "semi-hard", "hard")
"""Region codes 0, 1, 2 of a negative (Schroff et al. 2015)."""


def _coordinate(point: str, axis: str, default: float) -> Param:
    return Param(
        f"{point}_{axis}", default, low=-PLANE_HALF_WIDTH, high=PLANE_HALF_WIDTH, step=0.1, symbol=f"{point[0]}_{axis}",
        description=f"The {axis} coordinate of the {point} in the embedding plane.",
    )


PRESETS: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "semi-hard": ((0.0, 0.0), (1.0, 0.0), (-0.6, 1.2)),
    "hard": ((0.0, 0.0), (1.5, 0.5), (0.4, -0.6)),
    "easy": ((0.0, 0.0), (1.0, 0.0), (-1.8, -1.6)),
    "n on a": ((0.0, 0.0), (1.0, 0.5), (0.0, 0.0)),
    "far p, near n": ((-1.0, 0.0), (2.0, 1.5), (-0.5, -0.5)),
}
"""(anchor, positive, negative) positions that put the negative in each region, and two telling cases:
the negative on the anchor (no direction to push it but torch's ε), a far positive with a near negative."""
DEFAULT_PRESET = "semi-hard"

COORDINATES: dict[str, Param] = {
    f"{point}_{axis}": _coordinate(point, axis, PRESETS[DEFAULT_PRESET][i][j])
    for i, point in enumerate(POINT_NAMES)
    for j, axis in enumerate(("x", "y"))
}
"""One control per coordinate: anchor_x, anchor_y, positive_x, … (defaults: the default preset)."""


def preset_coordinates(name: str) -> dict[str, float]:
    """The coordinate values (``{anchor_x: …}``) of a preset."""
    points = PRESETS[name]
    return {
        f"{point}_{axis}": float(points[i][j])
        for i, point in enumerate(POINT_NAMES)
        for j, axis in enumerate(("x", "y"))
    }


def triplet_from_coordinates(coordinates: Mapping[str, float]) -> np.ndarray:
    """The triplet ``[3, 2]`` (anchor, positive, negative) from ``{anchor_x: …, …}``."""
    return np.array([[coordinates[f"{p}_x"], coordinates[f"{p}_y"]] for p in POINT_NAMES], dtype=np.float64)


def pair_distance(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """‖x₁ − x₂ + ε‖₂ over the last axis, the distance of the triplet loss (torch's pairwise_distance)."""
    return np.linalg.norm(x1 - x2 + TRIPLET_EPS, axis=-1)


def region_of(loss: np.ndarray, margin: float) -> np.ndarray:
    """Region codes from triplet loss values: 0 easy (L = 0), 1 semi-hard (0 < L ≤ m), 2 hard (L > m).

    With L = max(0, m + d(a,p) − d(a,n)) these are FaceNet's regions: L > m ⇔ d(a,n) < d(a,p) (hard);
    0 < L ≤ m ⇔ d(a,p) ≤ d(a,n) < d(a,p) + m (semi-hard); L = 0 ⇔ d(a,n) ≥ d(a,p) + m (easy).
    """
    return np.where(loss > margin, 2, np.where(loss > 0.0, 1, 0)).astype(np.int8)


@dataclass(frozen=True)
class TripletPlane:
    """The triplet loss over positions of the negative, and the current triplet with its gradients.

    ``loss[i, j]`` and ``region[i, j]`` belong to the negative at (``x[j]``, ``y[i]``) with anchor
    and positive fixed; ``grad[k]`` is ∂L/∂(point k) of the current triplet (anchor, positive,
    negative).
    """

    x: np.ndarray
    y: np.ndarray
    loss: np.ndarray
    region: np.ndarray
    points: np.ndarray
    margin: float
    value: float
    grad: np.ndarray
    d_ap: float
    d_an: float

    @property
    def negative_region(self) -> str:
        return REGIONS[int(region_of(np.array(self.value), self.margin))]


def negative_grid(points: np.ndarray, n: int = PLANE_POINTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, pred): triplets ``[n, n, 3, 2]`` with anchor and positive of ``points`` and the negative at
    every grid point (x[j], y[i]) of the plane."""
    axis = np.linspace(-PLANE_HALF_WIDTH, PLANE_HALF_WIDTH, n)
    pred = np.empty((n, n, 3, 2))
    pred[..., 0, :] = points[0]
    pred[..., 1, :] = points[1]
    pred[..., 2, 0] = axis[None, :]
    pred[..., 2, 1] = axis[:, None]
    return axis, axis, pred


def triplet_plane(points: np.ndarray, margin: float, n: int = PLANE_POINTS) -> TripletPlane:
    """The triplet loss for every negative position (one evaluate call) and the current triplet's gradients."""
    x, y, grid = negative_grid(points, n)
    loss = evaluate("triplet", grid, order=0, margin=margin).value
    current = evaluate("triplet", points, margin=margin)
    return TripletPlane(
        x=x,
        y=y,
        loss=loss,
        region=region_of(loss, margin),
        points=np.asarray(points, dtype=np.float64),
        margin=float(margin),
        value=float(current.value),
        grad=current.grad,
        d_ap=float(pair_distance(points[0], points[1])),
        d_an=float(pair_distance(points[0], points[2])),
    )


def gradient_table(plane: TripletPlane, decimals: int = 4) -> dict[str, list]:
    """∂L/∂x and ∂L/∂y of each point of the triplet, rounded to ``decimals``."""
    rounded = np.round(plane.grad, decimals) + 0.0  # + 0.0 turns −0.0 (a rounded −0.00001) into 0.0
    return {"point": list(POINT_NAMES), "∂L/∂x": rounded[:, 0].tolist(), "∂L/∂y": rounded[:, 1].tolist()}
