"""Upload widgets: a CSV (or a bundled example) parsed into this browser session's memory only.

Uploaded data is never written to disk and never enters ``st.cache_data`` (which is shared by
all sessions): the parsed table lives in ``st.session_state`` and goes away with the session.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

import pandas as pd
import streamlit as st

from lossviz.toolkit.tables import (
    DEFAULT_LIMITS,
    Cleaned,
    Table,
    UploadError,
    infer_classify,
    numeric_columns,
    read_csv,
    select_dataset,
    select_numeric,
)
from lossviz.ui.controls import keep_valid

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
PRIVACY_NOTE = (
    ":material/lock: Your file stays in this browser session's memory: it is not saved to disk, not shared with other "
    "users, and disappears when you close the tab."
)
NO_EXAMPLE = "— none —"
T = TypeVar("T")


def _session_memo(name: str, ident: Hashable, compute: Callable[[], T]) -> T | None:
    """``compute()`` kept in this session's state under ``name``, one entry (a new ``ident`` releases the
    previous result). A rejection (:class:`UploadError`) is kept too, shown with ``st.error``, and gives None."""
    memo = st.session_state.setdefault(name, {})
    if ident not in memo:
        memo.clear()
        try:
            memo[ident] = compute()
        except UploadError as exc:
            memo[ident] = exc
    value = memo[ident]
    if isinstance(value, UploadError):
        st.error(str(value))
        return None
    return value


@functools.cache
def example_files() -> tuple[str, ...]:
    """The bundled example tables, listed once per process (they ship with the app; a glob on every rerun of a
    page that offers them took about a fifth of the Curves page's rerun)."""
    return tuple(sorted(p.name for p in EXAMPLES_DIR.glob("*.csv")))


def csv_source(key: str, label: str = "Upload a CSV file", default_example: str | None = None) -> pd.DataFrame | None:
    """An uploader plus a picker of bundled examples; returns the parsed table or None.

    The table's ``attrs`` hold ``file_name``, the uploaded file's (or the example's) name, and
    ``source``, an identifier of this upload.

    Parse errors are shown with ``st.error`` and give None; the page keeps working.
    """
    st.caption(PRIVACY_NOTE)
    left, right = st.columns([3, 2])
    uploaded = left.file_uploader(
        label,
        type=["csv", "txt"],
        key=f"{key}_file",
        help=f"UTF-8 CSV with a header line; at most {DEFAULT_LIMITS.max_bytes // 2**20} MB and "
        f"{DEFAULT_LIMITS.max_rows:,} rows.",
    )
    options = [NO_EXAMPLE, *example_files()]
    example = right.selectbox(
        "…or try an example",
        options,
        key=f"{key}_example",
        index=options.index(default_example) if default_example in options else 0,
    )
    if uploaded is not None:
        source_id, data = f"upload:{uploaded.file_id}", uploaded.getvalue()
    elif example != NO_EXAMPLE:
        source_id, data = f"example:{example}", None
    else:
        return None

    def parse() -> pd.DataFrame:
        frame = read_csv(data if data is not None else (EXAMPLES_DIR / example).read_bytes())
        frame.attrs.update(file_name=uploaded.name if uploaded is not None else example, source=source_id)
        return frame

    parsed = _session_memo(f"_{key}_parsed", source_id, parse)
    if parsed is None:
        return None
    st.caption(f"{len(parsed):,} rows × {parsed.shape[1]} columns")
    return parsed


TARGET_KINDS = {"classification": True, "regression": False}
"""The choice the user makes about the target (shown as words): treat it as classes or as values."""


def column_pair(
    key: str,
    label: str,
    roles: tuple[str, str],
    guess: Callable[[list[str]], tuple[str, str]] | None = None,
    default_example: str | None = None,
    allow_constant: bool = False,
) -> tuple[Cleaned, str, str] | None:
    """Two numeric columns of an uploaded CSV (or an example), chosen in two select boxes, with the rows where
    either is missing or not finite dropped (said in a note). Returns the cleaned columns and the two names, or
    None after showing what is missing or wrong.

    ``roles`` name the columns: ``("Prediction", "Target")`` labels the boxes "Prediction column" and "Target
    column", keyed ``{key}_prediction`` and ``{key}_target``; ``guess`` picks the starting columns (default:
    the first two); ``allow_constant`` accepts a column with one value throughout.
    """
    frame = csv_source(key, label, default_example=default_example)
    if frame is None:
        return None
    columns = numeric_columns(frame)
    if len(columns) < 2:
        st.error(f"The file needs at least two numeric columns: {roles[0].lower()} and {roles[1].lower()}.")
        return None
    guessed = guess(columns) if guess is not None else (columns[0], columns[1])
    first, second = (
        box.selectbox(f"{role} column", columns, index=columns.index(start), key=f"{key}_{role.lower()}")
        for box, role, start in zip(st.columns(2), roles, guessed, strict=True)
    )
    try:
        cleaned = select_numeric(frame, [first, second], allow_constant=[first, second] if allow_constant else [])
    except UploadError as exc:
        st.error(str(exc))
        return None
    for note in cleaned.notes:
        st.info(note)
    return cleaned, first, second



def table_source(key: str, label: str, default_example: str | None = None) -> tuple[Table, str, str] | None:
    """Features, target and task chosen from an uploaded CSV (or an example), validated.

    Returns the validated table, the target column and the file's name, or None after showing what
    is missing or wrong.
    Whether the target holds classes is inferred from its column (:func:`lossviz.toolkit.tables.infer_classify`),
    shown and overridable; the task follows from the classes counted (two: binary, more: multiclass). The
    validated table is memoised in this session only (one entry).
    """
    frame = csv_source(key, label, default_example=default_example)
    if frame is None:
        return None
    numeric = numeric_columns(frame)
    columns = [str(c) for c in frame.columns]
    left, middle, right = st.columns([1, 2, 1])
    target = left.selectbox("Target column", columns, index=len(columns) - 1, key=f"{key}_target",
                            help="What the network learns to predict: class labels (text or integers) or numbers.")
    options = [c for c in numeric if c != target]
    if not options:
        st.error("The file needs at least one numeric column besides the target to use as a feature.")
        return None
    keep_valid(f"{key}_features", options, options)
    default = {} if f"{key}_features" in st.session_state else {"default": options}
    features = middle.multiselect("Feature columns", options, key=f"{key}_features",
                                  help="Numeric input columns; each is standardised with the training rows' "
                                       "mean and standard deviation.", **default)
    inferred = "classification" if infer_classify(frame[target]) else "regression"
    if st.session_state.get(f"{key}_task_for") != (frame.attrs["source"], target):
        st.session_state[f"{key}_task_for"] = (frame.attrs["source"], target)
        st.session_state[f"{key}_task"] = inferred
    kind = right.radio("Task", list(TARGET_KINDS), key=f"{key}_task", horizontal=True,
                       help=f"Inferred from the target column: {inferred}. Text labels or at most "
                            f"{DEFAULT_LIMITS.max_classes} distinct integers mean classification.")
    right.caption(f"Inferred: **{inferred}**" + ("" if kind == inferred else f"; you chose {kind}."))
    if not features:
        st.info("Choose at least one feature column.")
        return None
    classify = TARGET_KINDS[kind]
    ident = (frame.attrs["source"], tuple(features), target, classify)
    table = _session_memo(f"_{key}_table", ident, lambda: select_dataset(frame, features, target, classify))
    if table is None:
        return None
    for note in table.notes:
        st.info(note)
    return table, target, str(frame.attrs.get("file_name", "your data"))
