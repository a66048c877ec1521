"""Users' own data: parse an uploaded CSV strictly and pick validated numeric columns from it.

Everything here works on bytes and DataFrames in memory; nothing is written to disk. Every
rejection is an :class:`UploadError` (a ``ValueError``) whose message says what is wrong and
what to do, so a page can show it as it is.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lossviz.errors import ParameterError
from lossviz.spec import Param
from lossviz.toolkit.data import SEED, VAL_FRACTION, Dataset, Task, split_indices


class UploadError(ValueError):
    """An uploaded file or a column choice that cannot be used; the message is for the user."""


@dataclass(frozen=True)
class UploadLimits:
    """Limits on uploaded files (configurable; the pages use the defaults)."""

    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 200_000
    max_columns: int = 200
    max_classes: int = 20
    plot_points: int = 5_000


DEFAULT_LIMITS = UploadLimits()


@dataclass(frozen=True)
class Cleaned:
    """Numeric columns ready for the core, and notes on what was dropped or inferred."""

    columns: dict[str, np.ndarray]
    rows_read: int
    rows_dropped: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rows(self) -> int:
        return self.rows_read - self.rows_dropped


def read_csv(data: bytes, limits: UploadLimits = DEFAULT_LIMITS) -> pd.DataFrame:
    """Parse CSV bytes (UTF-8, optional BOM; comma, semicolon or tab separated) into a DataFrame."""
    if len(data) == 0:
        raise UploadError("The file is empty.")
    if len(data) > limits.max_bytes:
        raise UploadError(
            f"The file is {len(data) / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:.0f} MB. "
            "Upload a sample of it."
        )
    if b"\x00" in data[:4096]:
        raise UploadError("This is not a text CSV file (it contains NUL bytes). Export it as CSV (UTF-8).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(
            f"The file is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}). "
            "Save it as 'CSV UTF-8' and upload it again."
        ) from None
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=_delimiter(text), engine="c", nrows=limits.max_rows + 1, skipinitialspace=True
        )
    except pd.errors.EmptyDataError:
        raise UploadError("The file has no columns: it needs a header line and at least one data row.") from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise UploadError(f"The file is not valid CSV: {exc}".rstrip(".") + ".") from None
    if len(frame) > limits.max_rows:
        raise UploadError(f"The file has more than {limits.max_rows:,} rows, the limit. Upload a sample of it.")
    if frame.shape[1] > limits.max_columns:
        raise UploadError(f"The file has {frame.shape[1]} columns; the limit is {limits.max_columns}.")
    if len(frame) == 0:
        raise UploadError("The file has a header but no data rows.")
    header = _header(text)
    if len(set(header)) != len(header):
        duplicated = sorted({h for h in header if header.count(h) > 1})
        raise UploadError(f"Two columns have the same name ({', '.join(duplicated)}); give every column a distinct header.")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _first_line(text: str) -> str:
    return text.lstrip().split("\n", 1)[0].rstrip("\r") if text.strip() else ""


def _delimiter(text: str) -> str:
    """The header line's delimiter: comma, semicolon, tab or pipe (comma if it cannot tell)."""
    try:
        return csv.Sniffer().sniff(_first_line(text), delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _header(text: str) -> list[str]:
    """The header line's names as written (pandas would rename duplicates to 'x.1')."""
    return [name.strip() for name in next(csv.reader([_first_line(text)], delimiter=_delimiter(text)), [])]


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Columns with at least one numeric value (candidates for x, y, features)."""
    return [c for c in frame.columns if pd.to_numeric(frame[c], errors="coerce").notna().any()]


def _numeric(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, int]:
    if column not in frame.columns:
        raise UploadError(f"Column {column!r} is not in the file; its columns are: {', '.join(map(str, frame.columns))}.")
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    non_numeric = int(frame[column].notna().sum() - np.isfinite(values).sum() - np.isinf(values).sum())
    if not np.isfinite(values).any():
        raise UploadError(f"Column {column!r} has no numeric values; choose a numeric column.")
    return values, max(non_numeric, 0)


def select_numeric(
    frame: pd.DataFrame, columns: Sequence[str], *, min_rows: int = 2, allow_constant: Sequence[str] = ()
) -> Cleaned:
    """Numeric arrays for ``columns``; rows with a missing, non-numeric, NaN or infinite value are dropped."""
    if len(set(columns)) != len(columns):
        raise UploadError("Choose different columns: the same column was picked twice.")
    arrays = {}
    for column in columns:
        arrays[column], _ = _numeric(frame, column)
    stacked = np.column_stack([arrays[c] for c in columns])
    keep = np.isfinite(stacked).all(axis=1)
    dropped = int((~keep).sum())
    notes = []
    if dropped:
        notes.append(f"Dropped {dropped:,} of {len(frame):,} rows with a missing, non-numeric, NaN or infinite value.")
    kept = int(keep.sum())
    if kept < min_rows:
        raise UploadError(
            f"Only {kept} usable row{'s' if kept != 1 else ''} left after dropping invalid values; "
            f"at least {min_rows} are needed."
        )
    cleaned = {c: arrays[c][keep] for c in columns}
    for column in columns:
        if column not in allow_constant and np.ptp(cleaned[column]) == 0:
            raise UploadError(f"Column {column!r} is constant ({cleaned[column][0]:g} in every row); it carries no information.")
    return Cleaned(cleaned, rows_read=len(frame), rows_dropped=dropped, notes=tuple(notes))


def infer_classify(target: pd.Series, limits: UploadLimits = DEFAULT_LIMITS) -> bool:
    """Whether the target looks like class labels: text, or integers with at most ``max_classes`` values."""
    numeric = pd.to_numeric(target, errors="coerce")
    if numeric.notna().sum() < target.notna().sum():
        return True
    values = numeric.dropna().to_numpy()
    return bool(np.all(values == np.round(values)) and len(np.unique(values)) <= limits.max_classes)


@dataclass(frozen=True)
class Table:
    """Features and target for the training lab: ``y`` holds class indices (binary, multiclass) or values."""

    x: np.ndarray
    y: np.ndarray
    task: Task
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def select_dataset(
    frame: pd.DataFrame,
    features: Sequence[str],
    target: str,
    classify: bool | None = None,
    limits: UploadLimits = DEFAULT_LIMITS,
) -> Table:
    """Validated features and target, the target as classes or as values (``classify=None`` infers which, see
    :func:`infer_classify`). Classes make a binary task when there are two of them, a multiclass one when more."""
    if not features:
        raise UploadError("Choose at least one feature column.")
    if target in features:
        raise UploadError(f"The target {target!r} cannot also be a feature.")
    if target not in frame.columns:
        raise UploadError(f"Column {target!r} is not in the file.")
    if classify is None:
        classify = infer_classify(frame[target], limits)
    notes: list[str] = []
    if classify:
        labels = frame[target]
        present = labels.notna()
        codes, classes = pd.factorize(labels[present], sort=True)
        if len(classes) > limits.max_classes:
            raise UploadError(
                f"The target {target!r} has {len(classes)} distinct values; classification allows at most "
                f"{limits.max_classes}. Choose regression or another column."
            )
        if len(classes) < 2:
            raise UploadError(f"The target {target!r} has a single class; classification needs at least two.")
        y_all = np.full(len(frame), np.nan)
        y_all[present.to_numpy()] = codes
        work = frame[list(features)].copy()
        work["__target__"] = y_all
        cleaned = select_numeric(work, [*features, "__target__"], min_rows=2, allow_constant=["__target__"])
        class_names = tuple(str(c) for c in classes)
        task: Task = "binary" if len(classes) == 2 else "multiclass"
    else:
        cleaned = select_numeric(frame, [*features, target], min_rows=2)
        class_names = ()
        task = "regression"
    notes.extend(cleaned.notes)
    x = np.column_stack([cleaned.columns[f] for f in features])
    y_key = "__target__" if classify else target
    return Table(x, cleaned.columns[y_key], task, tuple(features), class_names, tuple(notes))


def plot_subsample(n: int, limit: int = DEFAULT_LIMITS.plot_points, seed: int = 0) -> tuple[np.ndarray, str | None]:
    """Indices of at most ``limit`` points to draw (all of them when n ≤ limit), and a note when sampled."""
    if n <= limit:
        return np.arange(n), None
    index = np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))
    return index, f"Showing a random {limit:,} of {n:,} points; every point is used in the computations."


def tail_share(values: np.ndarray, fractions: Sequence[float] = (0.01, 0.10)) -> dict[float, float]:
    """Share of the total loss contributed by the worst ``fraction`` of points, for each fraction."""
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())[::-1]
    total = v.sum()
    out = {}
    for fraction in fractions:
        k = max(1, int(np.ceil(fraction * v.size)))
        out[fraction] = float(v[:k].sum() / total) if total > 0 else 0.0
    return out


# --- the training lab's data from a table ---
# A user's own table as the training lab's data: validated columns in, a split, scaled dataset out.
#
# :func:`from_table` takes the features and target chosen from an uploaded CSV (validated by
# :func:`lossviz.toolkit.tables.select_dataset`) and returns a :class:`UserData`, a drop-in for
# :class:`lossviz.toolkit.data.DataConfig` in a :class:`lossviz.toolkit.training.TrainConfig`. It is hashable by
# a digest of its content (the arrays themselves take no part in equality), so a run on it caches
# like any other — but only in the uploading browser session's own cache: ``private`` is true, and
# :func:`lossviz.toolkit.training.cached_train` refuses to put it in the process-wide one.
#
# :meth:`UserData.make` draws at most ``rows`` rows (seeded), splits them into training and validation
# (stratified by class for classification, as the toy sets) and standardises each feature with the
# training split's mean and standard deviation, so that the MLP's default initialisation and learning
# rates suit columns in any unit (a price in euros, an area in m²). A regression target is
# standardised too unless asked not to; the loss then sees residuals in standard deviations of y, so
# a Huber δ = 1 means "one standard deviation", and every prediction is mapped back to y's units for
# the plots and the RMSE.

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
    """A training-lab data source from the columns :func:`lossviz.toolkit.tables.select_dataset` validated."""
    return UserData(
        label=label, features=tuple(table.feature_names), target=target, task=table.task,
        class_names=tuple(table.class_names), digest=content_digest(table), rows=int(rows), seed=int(seed),
        val_fraction=float(val_fraction), standardize_target=bool(standardize_target and table.task == "regression"),
        x=np.asarray(table.x, dtype=np.float64), y=np.asarray(table.y, dtype=np.float64),
    ).validated()
