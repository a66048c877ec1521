"""Every data set lossviz generates, and the one vocabulary of data.

The vocabulary
    :data:`Task` is what a model learns: ``"binary"``, ``"multiclass"`` or ``"regression"`` (a user's table,
    :mod:`lossviz.toolkit.tables`, gets the same). :data:`SEED` is the seed of every generator: all the randomness
    of a data set comes from ``numpy.random`` Generators seeded from it, so the same arguments always give the
    same arrays. :class:`Dataset` holds the training lab's training and validation points, and
    :class:`DataSource` is what the lab needs of their source: a generated :class:`DataConfig` and an uploaded
    table (:class:`lossviz.toolkit.tables.UserData`) both satisfy it.

The data sets, by page
    * Training lab, toy sets (:class:`DataConfig` → :func:`make_dataset`): two moons, circles, a K-arm spiral,
      XOR, imbalanced blobs and a 1-D curve y = sin(1.5x) + 0.3x with one-sided outliers, each with a held-out
      validation split (stratified by class, so that the rare class of the blobs appears in both).
    * Landscape, Outliers and the training lab's multi-task view: a line y = w·x + b + noise with outliers
      (:func:`line_with_outliers`), and an outlier cluster placed at a chosen x (:func:`contaminate`).
    * Focal: imbalanced blobs at a majority : minority ratio (:func:`imbalanced_blobs`), from the same
      two-Gaussian generator (:func:`two_blobs`) as the toy blobs.
    * Training lab, regularisation view: a linear target of two correlated features (:func:`correlated_regression`).
    * Generative, total-variation denoising: a synthetic test image and its noisy copy (:func:`clean_image`,
      :func:`noisy_image`).

Declarations: :data:`SEED` serves every set; the toy sets' other settings (fields of :class:`DataConfig`) are
unprefixed, and every other generator's arguments carry the name of their set (``LINE_*``, ``BLOBS_*``,
``IMAGE_*``, ``CORRELATION``).

References: the moons and circles follow the shapes of scikit-learn's ``make_moons``/``make_circles``, the spiral
the CS231n notes (written independently); XOR and the 1-D curve are the classic teaching examples (TensorFlow
Playground, Smilkov & Carter). The line with outliers is the textbook setting in which the mean (MSE) is dragged
towards the outliers while the median (MAE) and Huber's M-estimator are not (Huber, Robust Estimation of a Location
Parameter, 1964; Hampel et al., Robust Statistics, 1986). Correlated features make the lasso's diamond and ridge's
disc meet the error ellipses differently (Tibshirani 1996, Fig. 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from lossviz.errors import ParameterError
from lossviz.spec import Param

Task = Literal["binary", "multiclass", "regression"]
"""What a model learns: two classes, more than two, or real targets."""

SEED = Param(
    "seed", 0, low=0, high=2**31 - 1, integer=True, ui_low=0, ui_high=99, step=1,
    description="Seed of the random numbers: the same seed gives the same data (in the training lab also the same "
    "initial weights and mini-batch order).",
)


class DataSource(Protocol):
    """What the training lab needs of a data source: a generated :class:`DataConfig` or a user's table
    (:class:`lossviz.toolkit.tables.UserData`) both satisfy it."""

    seed: int
    val_fraction: float

    @property
    def task(self) -> Task: ...

    @property
    def name(self) -> str: ...

    @property
    def n_classes(self) -> int: ...

    private: bool

    def validated(self) -> DataSource: ...

    def make(self) -> Dataset: ...


@dataclass(frozen=True)
class Dataset:
    """The training lab's data (a toy set, or a user's table), split into training and validation points.

    ``x_*`` has shape (n, d) (d = 2 for classification, 1 for regression); ``y_*`` holds class
    indices 0 … K − 1 (as float64) or real targets. For regression, ``clean_*`` is the noise-free
    curve f(x) at the same inputs and ``outlier_*`` marks the pushed-up targets.

    Arrays are in the model's units. A user's table (:mod:`lossviz.toolkit.tables`) is standardised:
    the raw value of a feature is ``x * x_scale + x_shift`` and of a regression target
    ``y * y_scale + y_shift`` (:meth:`raw_x`, :meth:`raw_y`); for the toy sets both are the identity.
    """

    config: DataSource
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    clean_train: np.ndarray | None = None
    clean_val: np.ndarray | None = None
    outlier_train: np.ndarray | None = None
    outlier_val: np.ndarray | None = None
    feature_names: tuple[str, ...] = ()
    target_name: str = "y"
    class_names: tuple[str, ...] = ()
    x_shift: np.ndarray | None = None
    x_scale: np.ndarray | None = None
    y_shift: float = 0.0
    y_scale: float = 1.0

    @property
    def task(self) -> Task:
        return self.config.task

    def raw_x(self, x: np.ndarray) -> np.ndarray:
        """Inputs (n, d) in the model's units back in the data's own units."""
        if self.x_scale is None or self.x_shift is None:
            return x
        return x * self.x_scale + self.x_shift

    @property
    def metric_scale(self) -> float:
        """Converts an RMSE in the model's units to the target's own units (1 for classification)."""
        return self.y_scale if self.task == "regression" else 1.0

    def raw_y(self, y: np.ndarray) -> np.ndarray:
        """Regression targets or predictions in the model's units back in the target's own units."""
        return y * self.y_scale + self.y_shift if self.task == "regression" else y

    def feature_label(self, index: int) -> str:
        return self.feature_names[index] if self.feature_names else f"x{'₁₂₃₄₅₆₇₈₉'[index] if index < 9 else index + 1}"

    def class_label(self, index: int) -> str:
        return self.class_names[index] if self.class_names else f"class {index}"

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    def bounds(self, margin: float = 0.15) -> tuple[tuple[float, float], ...]:
        """Per input dimension, the (low, high) range of all points widened by ``margin`` of its span."""
        x = np.concatenate([self.x_train, self.x_val])
        lo, hi = x.min(axis=0), x.max(axis=0)
        pad = margin * np.maximum(hi - lo, 1e-9)
        return tuple((float(a), float(b)) for a, b in zip(lo - pad, hi + pad, strict=True))


# --- the training lab's toy sets ------------------------------------------------------------------

N_SAMPLES = Param(
    "n_samples", 300, low=20, high=5000, integer=True, ui_low=50, ui_high=1000, step=50,
    description="Number of points in the dataset, training and validation together.",
)
NOISE = Param(
    "noise", 0.15, low=0.0, ui_low=0.0, ui_high=1.0, step=0.01, symbol=r"\sigma",
    description="Standard deviation of the Gaussian noise added to the inputs (classification) or targets "
    "(regression).",
)
VAL_FRACTION = Param(
    "val_fraction", 0.3, low=0.05, high=0.8, ui_low=0.1, ui_high=0.5, step=0.05,
    description="Share of the points held out for validation (never trained on).",
)
CLASSES = Param(
    "classes", 3, low=2, high=8, integer=True, ui_low=2, ui_high=5, step=1, symbol="K",
    description="Number of spiral arms, one class each.",
)
MINORITY = Param(
    "minority", 0.1, low=0.01, high=0.5, ui_low=0.02, ui_high=0.5, step=0.01,
    description="Share of the points in the rare (positive) class of the imbalanced blobs.",
)
OUTLIERS = Param(
    "outliers", 0.1, low=0.0, high=0.5, ui_low=0.0, ui_high=0.3, step=0.01,
    description="Share of regression targets pushed up by 2–4 units: gross errors that a robust loss should ignore.",
)


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset's display name, task and one line for a student."""

    title: str
    task: Task
    description: str


DATASETS: dict[str, DatasetInfo] = {
    "moons": DatasetInfo("Two moons", "binary", "Two interleaved half circles: needs a curved boundary."),
    "circles": DatasetInfo("Circles", "binary", "A ring around a disc: no straight line separates them."),
    "spiral": DatasetInfo(
        "Spiral", "multiclass", "K interleaved spiral arms, one class each: a hard multi-class task."
    ),
    "xor": DatasetInfo("XOR", "binary", "Opposite quadrants share a class: no linear model can do better than chance."),
    "blobs": DatasetInfo(
        "Imbalanced blobs",
        "binary",
        "Two overlapping Gaussian blobs, one rare: where class weighting and focal loss matter.",
    ),
    "regression": DatasetInfo(
        "1-D regression with outliers", "regression", "y = sin(1.5x) + 0.3x plus noise, some targets pushed far up."
    ),
}


@dataclass(frozen=True)
class DataConfig:
    """Everything that decides a dataset: the same config always gives the same arrays."""

    name: str = "moons"
    n_samples: int = int(N_SAMPLES.default)
    noise: float = NOISE.default
    seed: int = int(SEED.default)
    val_fraction: float = VAL_FRACTION.default
    classes: int = int(CLASSES.default)
    minority: float = MINORITY.default
    outliers: float = OUTLIERS.default

    @property
    def task(self) -> Task:
        """The dataset's task; a spiral with two arms is a binary task."""
        task = dataset_info(self.name).task
        if task == "multiclass" and self.classes == 2:
            return "binary"
        return task

    def validated(self) -> DataConfig:
        """The same config with every number checked against its ``Param`` (ParameterError if not)."""
        dataset_info(self.name)
        values = {
            p.name: p.validate(getattr(self, p.name), "dataset")
            for p in (N_SAMPLES, NOISE, SEED, VAL_FRACTION, CLASSES, MINORITY, OUTLIERS)
        }
        return DataConfig(name=self.name, **values)  # type: ignore[arg-type]

    private = False
    """Generated from the config alone: results may sit in caches shared by all sessions."""

    @property
    def n_classes(self) -> int:
        """Classes of the dataset (0 for regression), as :attr:`Dataset.n_classes`."""
        if self.task == "regression":
            return 0
        return self.classes if self.name == "spiral" else 2

    def make(self) -> Dataset:
        return make_dataset(self)


def dataset_info(name: str) -> DatasetInfo:
    try:
        return DATASETS[name]
    except KeyError:
        raise ParameterError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}") from None


def regression_curve(x: np.ndarray) -> np.ndarray:
    """The noise-free regression target f(x) = sin(1.5x) + 0.3x."""
    return np.sin(1.5 * x) + 0.3 * x


# --- the toy sets' generators: (x, y) for n points ----------------------------------------------


def _moons(rng: np.random.Generator, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """Upper half circle (class 0) and a lower one shifted by (1, 0.5) (class 1), centred on 0."""
    n1 = cfg.n_samples // 2
    n0 = cfg.n_samples - n1
    t0 = rng.uniform(0.0, math.pi, n0)
    t1 = rng.uniform(0.0, math.pi, n1)
    outer = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    inner = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    x = np.concatenate([outer, inner]) - np.array([0.5, 0.25])
    y = np.concatenate([np.zeros(n0), np.ones(n1)])
    return x + cfg.noise * rng.standard_normal(x.shape), y


def _circles(rng: np.random.Generator, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """A circle of radius 1 (class 0) around one of radius 0.5 (class 1)."""
    n1 = cfg.n_samples // 2
    n0 = cfg.n_samples - n1
    angle = rng.uniform(0.0, 2 * math.pi, cfg.n_samples)
    radius = np.concatenate([np.ones(n0), np.full(n1, 0.5)])
    x = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    y = np.concatenate([np.zeros(n0), np.ones(n1)])
    return x + cfg.noise * rng.standard_normal(x.shape), y


def _spiral(rng: np.random.Generator, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """K arms r·(cos, sin)(2πk/K + 4r), r uniform in [0.05, 1] scaled to radius 2."""
    k = cfg.classes
    counts = np.full(k, cfg.n_samples // k)
    counts[: cfg.n_samples % k] += 1
    xs, ys = [], []
    for c, m in enumerate(counts):
        r = rng.uniform(0.05, 1.0, m)
        angle = 2 * math.pi * c / k + 4.0 * r
        xs.append(2.0 * r[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1))
        ys.append(np.full(m, float(c)))
    x = np.concatenate(xs)
    return x + cfg.noise * rng.standard_normal(x.shape), np.concatenate(ys)


def _xor(rng: np.random.Generator, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points in [−1.5, 1.5]²; class 1 where x₁x₂ > 0 (labelled before the noise is added)."""
    x = rng.uniform(-1.5, 1.5, (cfg.n_samples, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.float64)
    return x + cfg.noise * rng.standard_normal(x.shape), y


def _blobs(rng: np.random.Generator, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """A common blob at (−0.6, 0) (class 0) and a rare one at (0.6, 0) (class 1), both of spread 0.4 + σ."""
    n1 = max(2, round(cfg.minority * cfg.n_samples))
    spread = 0.4 + cfg.noise
    return two_blobs(rng, cfg.n_samples - n1, n1, np.array([-0.6, 0.0]), spread, np.array([0.6, 0.0]), spread)


def _regression(rng: np.random.Generator, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x uniform in [−2, 2], y = f(x) + σ·N(0, 1); a share of the targets pushed up by U(2, 4)."""
    x = rng.uniform(-2.0, 2.0, (cfg.n_samples, 1))
    clean = regression_curve(x[:, 0])
    y = clean + cfg.noise * rng.standard_normal(cfg.n_samples)
    n_out = round(cfg.outliers * cfg.n_samples)
    outlier = np.zeros(cfg.n_samples, dtype=bool)
    outlier[rng.choice(cfg.n_samples, n_out, replace=False)] = True
    y[outlier] += rng.uniform(2.0, 4.0, n_out)
    return x, y, clean, outlier


_CLASSIFIERS: dict[str, Callable[[np.random.Generator, DataConfig], tuple[np.ndarray, np.ndarray]]] = {
    "moons": _moons,
    "circles": _circles,
    "spiral": _spiral,
    "xor": _xor,
    "blobs": _blobs,
}


def split_indices(rng: np.random.Generator, y: np.ndarray | None, n: int, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices of training and validation points; stratified by class when ``y`` is given."""
    groups = [np.arange(n)] if y is None else [np.flatnonzero(y == c) for c in np.unique(y)]
    train, val = [], []
    for group in groups:
        shuffled = rng.permutation(group)
        n_val = min(len(group) - 1, max(1, round(val_fraction * len(group)))) if len(group) > 1 else 0
        val.append(shuffled[:n_val])
        train.append(shuffled[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def make_dataset(config: DataConfig) -> Dataset:
    """Generate the dataset ``config`` describes (deterministic in ``config.seed``)."""
    cfg = config.validated()
    rng = np.random.default_rng(cfg.seed)
    if cfg.task == "regression":
        x, y, clean, outlier = _regression(rng, cfg)
        tr, va = split_indices(rng, None, len(y), cfg.val_fraction)
        return Dataset(
            cfg, x[tr], y[tr], x[va], y[va], n_classes=0,
            clean_train=clean[tr], clean_val=clean[va], outlier_train=outlier[tr], outlier_val=outlier[va],
        )
    x, y = _CLASSIFIERS[cfg.name](rng, cfg)
    tr, va = split_indices(rng, y, len(y), cfg.val_fraction)
    return Dataset(cfg, x[tr], y[tr], x[va], y[va], n_classes=cfg.n_classes)


# --- a line with outliers (Landscape, Outliers, Training lab's multi-task view) -------------------------

LINE_W_TRUE = 2.0
LINE_B_TRUE = 0.5
LINE_X_RANGE = (-2.0, 2.0)

LINE_POINTS = Param(
    "n", 40, low=2, high=10_000, integer=True, ui_low=5, ui_high=200, step=1, symbol="n",
    description="Number of data points, outliers included.",
)
LINE_NOISE = Param(
    "noise", 0.3, low=0.0, ui_low=0.0, ui_high=2.0, step=0.05, symbol=r"\sigma",
    description="Standard deviation of the Gaussian noise on y.",
)
LINE_OUTLIERS = Param(
    "n_outliers", 4, low=0, high=10_000, integer=True, ui_low=0, ui_high=50, step=1,
    description="How many points are shifted by the outlier size (at most n).",
)
LINE_OUTLIER_SIZE = Param(
    "outlier_size", 6.0, ui_low=-20.0, ui_high=20.0, step=0.5,
    description="How far each outlier is shifted in y (negative: downwards).",
)
LINE_DATA_PARAMS = (LINE_POINTS, LINE_NOISE, LINE_OUTLIERS, LINE_OUTLIER_SIZE, SEED)
"""The arguments of :func:`line_with_outliers` as declarations, in signature order (for page controls)."""


@dataclass(frozen=True)
class LineData:
    """Points (x, y) sorted by x, which of them are outliers, and the line y = w_true·x + b_true they lie around."""

    x: np.ndarray
    y: np.ndarray
    is_outlier: np.ndarray
    w_true: float = LINE_W_TRUE
    b_true: float = LINE_B_TRUE

    @property
    def n(self) -> int:
        return len(self.x)


def line_with_outliers(
    n: int = int(LINE_POINTS.default),
    noise: float = LINE_NOISE.default,
    n_outliers: int = int(LINE_OUTLIERS.default),
    outlier_size: float = LINE_OUTLIER_SIZE.default,
    seed: int = int(SEED.default),
    *,
    w_true: float = LINE_W_TRUE,
    b_true: float = LINE_B_TRUE,
    x_range: tuple[float, float] = LINE_X_RANGE,
) -> LineData:
    """n points with x ~ U(x_range), y = w_true·x + b_true + noise·N(0, 1), of which ``n_outliers``
    (chosen uniformly at random) have ``outlier_size`` added to y.

    Raises :class:`ParameterError` for values outside :data:`LINE_DATA_PARAMS` or more outliers than
    points.
    """
    n = LINE_POINTS.validate(n, "line_with_outliers")
    noise = LINE_NOISE.validate(noise, "line_with_outliers")
    n_outliers = LINE_OUTLIERS.validate(n_outliers, "line_with_outliers")
    outlier_size = LINE_OUTLIER_SIZE.validate(outlier_size, "line_with_outliers")
    seed = SEED.validate(seed, "line_with_outliers")
    if n_outliers > n:
        raise ParameterError(f"n_outliers ({n_outliers}) must be at most n ({n})")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(x_range[0], x_range[1], n))
    y = w_true * x + b_true + noise * rng.standard_normal(n)
    is_outlier = np.zeros(n, dtype=bool)
    is_outlier[rng.choice(n, size=n_outliers, replace=False)] = True
    y[is_outlier] += outlier_size
    return LineData(x, y, is_outlier, w_true, b_true)


def contaminate(
    x: np.ndarray,
    y: np.ndarray,
    count: int,
    size: float,
    position: float,
    line: tuple[float, float],
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move ``count`` points into an outlier cluster at x ≈ ``position``, ``size`` above ``line`` = (a, b).

    The points are taken in a fixed random order (so larger counts contain smaller ones); each goes
    to x = position + 2 % jitter (of the x range) and y = a + b·x + size + 5 % jitter (of |size|).
    Returns the new x, y and the sorted indices moved.
    """
    x = np.array(x, dtype=float)
    y = np.array(y, dtype=float)
    count = int(min(max(count, 0), x.size))
    # A stream of its own (seed, 7919): the cluster does not depend on how the clean points were drawn.
    rng = np.random.default_rng([seed, 7919])
    order = rng.permutation(x.size)
    spread = float(np.ptp(x)) if x.size else 0.0
    jitter_x = rng.uniform(-1.0, 1.0, x.size)
    jitter_y = rng.standard_normal(x.size)
    moved = order[:count]
    x[moved] = position + 0.02 * spread * jitter_x[moved]
    y[moved] = line[0] + line[1] * x[moved] + size + 0.05 * abs(size) * jitter_y[moved]
    return x, y, np.sort(moved)


# --- imbalanced blobs (Focal; the toy set "blobs") ---------------------------------------------------

BLOBS_MAJORITY = 3000
"""Majority points of the Focal page's set."""
BLOBS_RATIO = Param(
    "ratio", 100.0, low=1.0, high=10_000.0, ui_low=1.0, ui_high=1000.0, scale="log",
    description="Majority examples per minority example (100 means 1:100; Lin et al. face about 1:1000).",
)
BLOBS_SEPARATION = Param(
    "separation", 2.5, low=0.0, ui_low=0.0, ui_high=5.0, step=0.1, symbol="d",
    description="Distance between the centres of the two classes, in units of the majority's spread.",
)


@dataclass(frozen=True)
class Blobs:
    """Points ``x`` (n, 2) with labels ``y`` (n,) in {0, 1}; 1 is the minority class."""

    x: np.ndarray
    y: np.ndarray

    @property
    def n_minority(self) -> int:
        return int(self.y.sum())


def two_blobs(
    rng: np.random.Generator,
    n_majority: int,
    n_minority: int,
    majority_centre: np.ndarray,
    majority_spread: float,
    minority_centre: np.ndarray,
    minority_spread: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs in 2-D: the majority (label 0) first, then the minority (label 1).

    Returns ``x`` (n_majority + n_minority, 2) and ``y``, drawing the majority's points from ``rng`` first.
    """
    x0 = majority_centre + majority_spread * rng.standard_normal((n_majority, 2))
    x1 = minority_centre + minority_spread * rng.standard_normal((n_minority, 2))
    return np.concatenate([x0, x1]), np.concatenate([np.zeros(n_majority), np.ones(n_minority)])


def imbalanced_blobs(ratio: float, separation: float, seed: int, n_majority: int = BLOBS_MAJORITY) -> Blobs:
    """Majority N(0, I) (label 0) and minority N((d/√2)(1, 1), 0.7²·I) (label 1), ``ratio`` : 1.

    The minority count is n_majority / ratio rounded, at least 3.
    """
    rng = np.random.default_rng([seed, 104_729])
    n_minor = max(3, round(n_majority / ratio))
    centre = np.full(2, separation / np.sqrt(2.0))
    return Blobs(*two_blobs(rng, n_majority, n_minor, np.zeros(2), 1.0, centre, 0.7))


# --- two correlated features (Training lab, regularisation view) ----------------------------------------

CORRELATION = Param(
    "correlation", 0.6, low=-0.99, high=0.99, ui_low=-0.9, ui_high=0.9, step=0.05, symbol=r"\rho",
    description="Correlation of the two features: it tilts and stretches the error ellipses.",
)
CORRELATED_WEIGHTS = (1.5, 0.5)
"""The true coefficients of the correlated-features target: one strong, one weak (the weak one hits 0 first)."""


def correlated_regression(
    correlation: float = CORRELATION.default, n: int = 60, noise: float = 0.5, seed: int = int(SEED.default)
) -> tuple[np.ndarray, np.ndarray]:
    """n points: two standard-normal features x (n, 2) of correlation ρ and y = 1.5x₁ + 0.5x₂ + noise·N(0, 1).

    x₂ = ρ·z₁ + √(1 − ρ²)·z₂ for independent standard normals z₁ = x₁ and z₂.
    """
    rho = CORRELATION.validate(correlation, "correlated_regression")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 2))
    x = np.stack([z[:, 0], rho * z[:, 0] + np.sqrt(1 - rho**2) * z[:, 1]], axis=1)
    y = x @ np.array(CORRELATED_WEIGHTS) + noise * rng.standard_normal(n)
    return x, y


# --- a test image and its noisy copy (Generative, total-variation denoising) ---------------------------

IMAGE_SIZE = 32
IMAGE_NOISE = Param(
    "noise", 0.15, low=0.0, ui_low=0.0, ui_high=0.5, step=0.01, symbol=r"\sigma",
    description="Standard deviation of the Gaussian noise added to the clean image (pixels in [0, 1]).",
)


def clean_image(size: int = IMAGE_SIZE) -> np.ndarray:
    """A synthetic test image in [0, 1]: a bright square, a grey disk and a ramp on a dark background."""
    rows, cols = np.mgrid[0:size, 0:size] / size
    image = np.full((size, size), 0.15)
    image[(rows >= 0.15) & (rows < 0.5) & (cols >= 0.12) & (cols < 0.47)] = 0.9
    image[(rows - 0.66) ** 2 + (cols - 0.66) ** 2 < 0.2**2] = 0.6
    ramp = (rows >= 0.78) & (rows < 0.9) & (cols >= 0.06) & (cols < 0.4)
    image[ramp] = 0.3 + 0.6 * (cols[ramp] - 0.06) / 0.34
    return image


def noisy_image(clean: np.ndarray, noise: float, seed: int) -> np.ndarray:
    """``clean`` plus independent Gaussian noise of standard deviation ``noise`` (not clipped)."""
    return clean + noise * np.random.default_rng(seed).standard_normal(clean.shape)
