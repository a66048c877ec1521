"""A user's own table as the training lab's data: validated columns in, a split, scaled dataset out.

:func:`from_table` takes the features and target chosen from an uploaded CSV (validated by
:func:`lossviz.upload.select_dataset`) and returns a :class:`UserData`, a drop-in for
:class:`lossviz.toy_data.DataConfig` in a :class:`lossviz.training.TrainConfig`. It is hashable by
a digest of its content (the arrays themselves take no part in equality), so a run on it caches
like any other — but only in the uploading browser session's own cache: ``private`` is true, and
:func:`lossviz.training.cached_train` refuses to put it in the process-wide one.

:meth:`UserData.make` draws at most ``rows`` rows (seeded), splits them into training and validation
(stratified by class for classification, as the toy sets) and standardises each feature with the
training split's mean and standard deviation, so that the MLP's default initialisation and learning
rates suit columns in any unit (a price in euros, an area in m²). A regression target is
standardised too unless asked not to; the loss then sees residuals in standard deviations of y, so
a Huber δ = 1 means "one standard deviation", and every prediction is mapped back to y's units for
the plots and the RMSE.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from lossviz.errors import ParameterError
from lossviz.spec import Param
from lossviz.toy_data import SEED, VAL_FRACTION, Dataset, Task, split_indices
from lossviz.upload import Dataset as Table

ROWS = Param(
    "rows", 1000, low=20, high=5000, integer=True, ui_low=50, ui_high=5000, step=50,
    description="Rows of the file the lab trains and validates on (a seeded random sample when the file has more).",
)


@dataclass(frozen=True)
class UserData:
    """An uploaded table's columns as a training-lab data source.

    ``x`` (n, d) and ``y`` (n,) are the validated columns of the whole file (``y`` holds class
    indices for classification); they are left out of equality and hashing, which go by ``digest``.
    """

    label: str
    features: tuple[str, ...]
    target: str
    task: Task
    class_names: tuple[str, ...]
    digest: str
    rows: int = int(ROWS.default)
    seed: int = int(SEED.default)
    val_fraction: float = VAL_FRACTION.default
    standardize_target: bool = True
    x: np.ndarray = field(default_factory=lambda: np.zeros((0, 1)), compare=False, repr=False)
    y: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False, repr=False)

    private = True
    """Uploaded data: never in a cache shared by sessions."""

    @property
    def name(self) -> str:
        return self.label

    @property
    def rows_in_file(self) -> int:
        return len(self.y)

    @property
    def n_samples(self) -> int:
        """Rows used: ``rows``, or every row of a smaller file."""
        return min(self.rows, self.rows_in_file)

    @property
    def n_classes(self) -> int:
        return len(self.class_names) if self.task != "regression" else 0

    def validated(self) -> UserData:
        ROWS.validate(self.rows, "your data")
        SEED.validate(self.seed, "your data")
        VAL_FRACTION.validate(self.val_fraction, "your data")
        if self.rows_in_file < 2:
            raise ParameterError("your data needs at least two rows")
        return self

    def make(self) -> Dataset:
        """The dataset this source describes (deterministic in ``seed``); see the module docstring."""
        self.validated()
        rng = np.random.default_rng(self.seed)
        n = self.rows_in_file
        chosen = np.sort(rng.choice(n, self.n_samples, replace=False)) if self.n_samples < n else np.arange(n)
        x, y = self.x[chosen], self.y[chosen]
        train, val = split_indices(rng, None if self.task == "regression" else y, len(y), self.val_fraction)
        x_shift = x[train].mean(axis=0)
        spread = x[train].std(axis=0)
        x_scale = np.where(spread > 0, spread, 1.0)
        x = (x - x_shift) / x_scale
        y_shift, y_scale = 0.0, 1.0
        if self.task == "regression" and self.standardize_target:
            y_shift = float(y[train].mean())
            y_scale = float(y[train].std()) or 1.0
            y = (y - y_shift) / y_scale
        return Dataset(
            self, x[train], y[train], x[val], y[val], n_classes=self.n_classes,
            feature_names=self.features, target_name=self.target, class_names=self.class_names,
            x_shift=x_shift, x_scale=x_scale, y_shift=y_shift, y_scale=y_scale,
        )

    def describe(self) -> str:
        used = f"{self.n_samples:,} of {self.rows_in_file:,} rows" if self.n_samples < self.rows_in_file \
            else f"{self.rows_in_file:,} rows"
        what = self.task if self.task == "regression" else f"{self.task}, {self.n_classes} classes"
        return f"{self.label} ({used}; {len(self.features)} feature{'s' if len(self.features) != 1 else ''}; {what})"


def task_of(table: Table) -> Task:
    """The lab's task for a validated table: binary for two classes, multi-class for more."""
    if table.task == "regression":
        return "regression"
    return "binary" if len(table.class_names) == 2 else "multiclass"


def content_digest(table: Table) -> str:
    """A content digest of the chosen columns (names, task and values): equal tables, equal digests."""
    h = hashlib.sha256()
    h.update(repr((table.feature_names, table.task, table.class_names)).encode())
    h.update(np.ascontiguousarray(table.x, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(table.y, dtype=np.float64).tobytes())
    return h.hexdigest()[:32]


def from_table(
    table: Table,
    target: str,
    label: str,
    *,
    rows: int = int(ROWS.default),
    seed: int = int(SEED.default),
    val_fraction: float = VAL_FRACTION.default,
    standardize_target: bool = True,
) -> UserData:
    """A training-lab data source from the columns :func:`lossviz.upload.select_dataset` validated."""
    return UserData(
        label=label, features=tuple(table.feature_names), target=target, task=task_of(table),
        class_names=tuple(table.class_names), digest=content_digest(table), rows=int(rows), seed=int(seed),
        val_fraction=float(val_fraction), standardize_target=bool(standardize_target and table.task == "regression"),
        x=np.asarray(table.x, dtype=np.float64), y=np.asarray(table.y, dtype=np.float64),
    ).validated()
