"""Upload widgets: a CSV (or a bundled example) parsed into this browser session's memory only.

Uploaded data is never written to disk and never enters ``st.cache_data`` (which is shared by
all sessions): the parsed table lives in ``st.session_state`` and goes away with the session.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from lossviz.upload import DEFAULT_LIMITS, UploadError, read_csv

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
PRIVACY_NOTE = (
    "🔒 Your file stays in this browser session's memory: it is not saved to disk, not shared with other "
    "users, and disappears when you close the tab."
)
NO_EXAMPLE = "— none —"


def example_files() -> list[str]:
    return sorted(p.name for p in EXAMPLES_DIR.glob("*.csv"))


def csv_source(key: str, label: str = "Upload a CSV file", default_example: str | None = None) -> pd.DataFrame | None:
    """An uploader plus a picker of bundled examples; returns the parsed table or None.

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
    cache = st.session_state.setdefault(f"_{key}_parsed", {})
    if source_id not in cache:
        cache.clear()  # one table per control: the previous upload is released
        try:
            raw = data if data is not None else (EXAMPLES_DIR / example).read_bytes()
            cache[source_id] = read_csv(raw)
        except UploadError as exc:
            cache[source_id] = exc
    parsed = cache[source_id]
    if isinstance(parsed, UploadError):
        st.error(str(parsed))
        return None
    st.caption(f"{len(parsed):,} rows × {parsed.shape[1]} columns")
    return parsed
