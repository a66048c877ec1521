"""Users' own data: parse an uploaded CSV strictly and pick validated numeric columns from it.

Everything here works on bytes and DataFrames in memory; nothing is written to disk. Every
rejection is an :class:`UploadError` (a ``ValueError``) whose message says what is wrong and
what to do, so a page can show it as it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd


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


Task = Literal["classification", "regression"]


def infer_task(target: pd.Series, limits: UploadLimits = DEFAULT_LIMITS) -> Task:
    """Classification when the target is text, or integers with at most ``max_classes`` values."""
    numeric = pd.to_numeric(target, errors="coerce")
    if numeric.notna().sum() < target.notna().sum():
        return "classification"
    values = numeric.dropna().to_numpy()
    if np.all(values == np.round(values)) and len(np.unique(values)) <= limits.max_classes:
        return "classification"
    return "regression"


@dataclass(frozen=True)
class Dataset:
    """Features and target for the training lab: ``y`` holds class indices (classification) or values."""

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
    task: Task | None = None,
    limits: UploadLimits = DEFAULT_LIMITS,
) -> Dataset:
    """Validated features and target; ``task=None`` infers it (see :func:`infer_task`)."""
    if not features:
        raise UploadError("Choose at least one feature column.")
    if target in features:
        raise UploadError(f"The target {target!r} cannot also be a feature.")
    if target not in frame.columns:
        raise UploadError(f"Column {target!r} is not in the file.")
    task = task or infer_task(frame[target], limits)
    notes: list[str] = []
    if task == "classification":
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
    else:
        cleaned = select_numeric(frame, [*features, target], min_rows=2)
        class_names = ()
    notes.extend(cleaned.notes)
    x = np.column_stack([cleaned.columns[f] for f in features])
    y_key = "__target__" if task == "classification" else target
    return Dataset(x, cleaned.columns[y_key], task, tuple(features), class_names, tuple(notes))


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
