"""Reading figures back in tests: a builder's figure (a ``go.Figure`` or a plain dict) or a chart's JSON as numbers.

Builders hand arrays to Plotly as base64 typed arrays (``{"dtype": "f4", "bdata": ..., "shape": "61, 61"}``),
and Streamlit's charts carry them the same way (``element.proto.spec``): :func:`decode` turns them back into
NumPy arrays. Live figures are plain dicts that nothing validates before ``st.plotly_chart``:
:func:`validated` runs Plotly's full schema check on any figure, frames included.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

DTYPES = {
    "i1": "int8",
    "u1": "uint8",
    "i2": "int16",
    "u2": "uint16",
    "i4": "int32",
    "u4": "uint32",
    "f4": "float32",
    "f8": "float64",
}


def decode(obj: Any) -> Any:
    """``obj`` (figure JSON) with every base64 typed array replaced by a NumPy array (float64 for floats)."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=DTYPES[obj["dtype"]])
            if "shape" in obj:
                arr = arr.reshape(tuple(int(s) for s in str(obj["shape"]).split(",") if s.strip()))
            return arr.astype(np.float64) if arr.dtype.kind == "f" else arr
        return {k: decode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [decode(v) for v in obj]
    return obj


def as_array(values: Any) -> np.ndarray:
    """A trace attribute (typed array, decoded array, tuple or (nested) list, None for gaps) as a float array."""
    if values is None:
        return np.array([], dtype=np.float64)
    values = decode(values)
    if isinstance(values, np.ndarray):
        return values.astype(np.float64)
    arr = np.array(values, dtype=object)
    return np.array([np.nan if v is None else v for v in arr.ravel()], dtype=np.float64).reshape(arr.shape)


def sent_dtype(values: Any) -> str:
    """The dtype a trace attribute goes to the browser in: a typed array's, else NumPy's view of it."""
    return values["dtype"] if isinstance(values, dict) else np.asarray(values).dtype.str.lstrip("<>=|")


def figure_json(fig: go.Figure | dict[str, Any]) -> dict[str, Any]:
    """The figure as the browser gets it (data, layout, frames), typed arrays decoded."""
    return decode(fig.to_dict() if isinstance(fig, go.Figure) else fig)


def validated(fig: go.Figure | dict[str, Any]) -> go.Figure:
    """The figure after Plotly's full validation of its data, layout and frames (raises on any invalid
    property): what ``st.plotly_chart`` does with a dict. Read it as a ``go.Figure`` (``fig.data[0].y``)."""
    return go.Figure(fig.to_dict() if isinstance(fig, go.Figure) else fig)


def figure_bytes(fig: go.Figure | dict[str, Any]) -> int:
    """Size of the figure's JSON once validated, what Streamlit sends to the browser (keep it below 1 MB)."""
    return len(pio.to_json(validated(fig), validate=False).encode())
