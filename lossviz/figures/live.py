"""A ``go.Figure`` whose animation frames skip Plotly's validation and deep copy.

Even with ``_validate=False``, ``go.Figure(...)`` validates every frame, and ``to_dict()`` (which
``st.plotly_chart`` calls) deep-copies them: for the 51 frames of a live-γ figure that is about
100 ms of a page rerun, more than all of its maths. :class:`FramedFigure` keeps the frames as the
plain dicts the builder assembled and hands them out from ``to_dict``, shallow-copied (the base64
encoding of typed arrays replaces them in place, and must not touch the builder's dicts). Data and layout
are an ordinary unvalidated figure. Unit tests validate the whole thing once:
``go.Figure(fig.to_dict())``.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64

from lossviz.figures.common import f32


def typed_array(values: np.ndarray) -> dict[str, str]:
    """``values`` as float32 in Plotly's typed-array JSON form ({"dtype": "f4", "bdata": base64}).

    What ``to_dict`` would produce, encoded here directly: Plotly's own encoder inspects every array
    through narwhals (about 0.5 ms each), which for 150 frame arrays is most of a rerun.
    """
    return {"dtype": "f4", "bdata": base64.b64encode(f32(values).astype("<f4").tobytes()).decode("ascii")}


class FramedFigure(go.Figure):
    """``go.Figure(data, layout)`` plus raw ``frames`` that :meth:`to_dict` and :attr:`raw_frames` return."""

    def __init__(self, data: list[dict], layout: dict, frames: list[dict]) -> None:
        super().__init__({"data": data, "layout": layout}, _validate=False)
        self._raw_frames = frames

    @property
    def raw_frames(self) -> list[dict]:
        return self._raw_frames

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        frames = [{**frame, "data": [dict(trace) for trace in frame.get("data", [])]} for frame in self._raw_frames]
        convert_to_base64(frames)  # as BaseFigure.to_dict does for data and layout: typed arrays in the JSON
        out["frames"] = frames
        return out
