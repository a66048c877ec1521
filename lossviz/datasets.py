"""Small synthetic datasets for the pages, generated in code from a seed.

:func:`make_regression_with_outliers` draws a 1-D linear regression problem y = w·x + b + noise and
shifts a few points by a fixed amount (gross errors), the textbook setting in which the mean
(MSE) is dragged towards the outliers while the median (MAE) and Huber's M-estimator are not
(Huber, Robust Estimation of a Location Parameter, 1964; Hampel et al., Robust Statistics, 1986).
The same arguments always give the same arrays: all randomness comes from one
``numpy.random.Generator`` seeded with ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossviz.errors import ParameterError
from lossviz.spec import Param

W_TRUE = 2.0
B_TRUE = 0.5
X_RANGE = (-2.0, 2.0)

N_POINTS = Param(
    "n", 40, low=2, high=10_000, integer=True, ui_low=5, ui_high=200, step=1, symbol="n",
    description="Number of data points, outliers included.",
)
NOISE = Param(
    "noise", 0.3, low=0.0, ui_low=0.0, ui_high=2.0, step=0.05, symbol=r"\sigma",
    description="Standard deviation of the Gaussian noise on y.",
)
N_OUTLIERS = Param(
    "n_outliers", 4, low=0, high=10_000, integer=True, ui_low=0, ui_high=50, step=1,
    description="How many points are shifted by the outlier size (at most n).",
)
OUTLIER_SIZE = Param(
    "outlier_size", 6.0, ui_low=-20.0, ui_high=20.0, step=0.5,
    description="How far each outlier is shifted in y (negative: downwards).",
)
SEED = Param(
    "seed", 0, low=0, high=2**31 - 1, integer=True, ui_low=0, ui_high=99, step=1,
    description="Seed of the random data: the same seed gives the same points.",
)
DATASET_PARAMS = (N_POINTS, NOISE, N_OUTLIERS, OUTLIER_SIZE, SEED)
"""The generator's arguments as declarations, in signature order (for page controls)."""


@dataclass(frozen=True)
class RegressionData:
    """Points (x, y) sorted by x, which of them are outliers, and the line they were drawn from."""

    x: np.ndarray
    y: np.ndarray
    is_outlier: np.ndarray
    w_true: float = W_TRUE
    b_true: float = B_TRUE

    @property
    def n(self) -> int:
        return len(self.x)


def make_regression_with_outliers(
    n: int = 40,
    noise: float = 0.3,
    n_outliers: int = 4,
    outlier_size: float = 6.0,
    seed: int = 0,
    *,
    w_true: float = W_TRUE,
    b_true: float = B_TRUE,
    x_range: tuple[float, float] = X_RANGE,
) -> RegressionData:
    """n points with x ~ U(x_range), y = w_true·x + b_true + noise·N(0, 1), of which ``n_outliers``
    (chosen uniformly at random) have ``outlier_size`` added to y.

    Raises :class:`ParameterError` for values outside :data:`DATASET_PARAMS` or more outliers than
    points.
    """
    n = N_POINTS.validate(n, "make_regression_with_outliers")
    noise = NOISE.validate(noise, "make_regression_with_outliers")
    n_outliers = N_OUTLIERS.validate(n_outliers, "make_regression_with_outliers")
    outlier_size = OUTLIER_SIZE.validate(outlier_size, "make_regression_with_outliers")
    seed = SEED.validate(seed, "make_regression_with_outliers")
    if n_outliers > n:
        raise ParameterError(f"n_outliers ({n_outliers}) must be at most n ({n})")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(x_range[0], x_range[1], n))
    y = w_true * x + b_true + noise * rng.standard_normal(n)
    is_outlier = np.zeros(n, dtype=bool)
    is_outlier[rng.choice(n, size=n_outliers, replace=False)] = True
    y[is_outlier] += outlier_size
    return RegressionData(x, y, is_outlier, w_true, b_true)
