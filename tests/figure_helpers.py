"""Reading figures back in tests: a builder's figure (a ``go.Figure`` or a plain dict) or a chart's JSON as numbers.

Builders hand arrays to Plotly as base64 typed arrays (``{"dtype": "f4", "bdata": ..., "shape": "61, 61"}``),
and Streamlit's charts carry them the same way (``element.proto.spec``): :func:`decode` turns them back into
NumPy arrays. Live figures are plain dicts that nothing validates before ``st.plotly_chart``:
:func:`validated` runs Plotly's full schema check on any figure, each of its frames included
(:func:`frames_of` reads them).
"""

from __future__ import annotations

import base64
import copy
import re
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


def _spec(fig: go.Figure | dict[str, Any]) -> dict[str, Any]:
    return fig.to_dict() if isinstance(fig, go.Figure) else fig


def _step_frames(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """A live or played figure's frames (none for another figure)."""
    assert "sliders" not in spec.get("layout", {}), "live figures carry their frames, not a Plotly slider"
    return list(spec.get("frames", []))


def frames_of(fig: go.Figure | dict[str, Any]) -> list[dict[str, Any]]:
    """The frames of a live figure (``{"data", "traces"}``, or a played figure's ``{"layout"}``), typed arrays
    decoded."""
    return decode(_step_frames(_spec(fig)))


def validated(fig: go.Figure | dict[str, Any]) -> go.Figure:
    """The figure after Plotly's full validation (raises on any invalid property), without its frames, and each
    frame checked as a Plotly frame whose updates name existing traces of the same type (Plotly alone would read
    a partial update without a type as a scatter). Read it as a ``go.Figure`` (``fig.data[0].y``)."""
    spec = _spec(fig)
    frames = _step_frames(spec)
    full = go.Figure({k: v for k, v in spec.items() if k not in ("frames", "narrow")})
    if "narrow" in spec or "narrow_traces" in spec:  # what a phone gets is valid too
        go.Figure({"data": narrow_data(spec), "layout": narrow_layout(spec)})
    for frame in frames:
        updates = frame.get("data", [])
        traces = frame.get("traces", list(range(len(updates))))
        assert len(updates) == len(traces), traces
        typed = []
        for update, index in zip(updates, traces, strict=True):
            kind = full.data[index].type
            assert update.get("type", kind) == kind, (index, update.get("type"))
            typed.append({**update, "type": kind})
        go.Frame({**frame, "data": typed})
    return full


def _set_paths(obj: dict[str, Any], updates: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` with Plotly.relayout / restyle paths (``"xaxis2.domain"``, ``"annotations[1].y"``) set."""
    obj = copy.deepcopy(obj)
    for path, value in updates.items():
        parts = [int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"[^.\[\]]+|\[\d+\]", path)]
        target = obj
        for part in parts[:-1]:
            target = target[part] if isinstance(part, int) else target.setdefault(part, {})
        target[parts[-1]] = value
    return obj


def narrow_layout(fig: dict[str, Any]) -> dict[str, Any]:
    """A live figure's layout with its ``narrow`` relayout applied, as the component applies it below
    lossviz.figures.live.NARROW_WIDTH."""
    return _set_paths(fig["layout"], fig.get("narrow", {}))


def narrow_data(fig: dict[str, Any]) -> list[dict[str, Any]]:
    """A live figure's traces with its ``narrow_traces`` restyles applied (the component's on a phone)."""
    updates = fig.get("narrow_traces", {})
    return [_set_paths(trace, updates.get(str(i), {})) for i, trace in enumerate(fig["data"])]


def figure_bytes(fig: go.Figure | dict[str, Any]) -> int:
    """Size of the figure's JSON, frames included, once validated: what the browser receives (keep it below
    1 MB, a live chart's pad below 1.5 MB)."""
    validated(fig)
    return len(pio.to_json(fig, validate=False).encode())
