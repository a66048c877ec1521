"""A demo of the live controls for tests/ui/test_live_chart.py: four sines whose frequency ω is live (25 frames of
4 curves × 500 points: the size the drag frame time is measured at), a pad for amplitude × phase (21 × 21), and a
player over 30 epochs of a travelling wave whose background picture (a layout image) changes with the epoch."""

from __future__ import annotations

import base64

import numpy as np
import streamlit as st

from lossviz.spec import Param
from lossviz.ui.live_chart import LiveParam, live_chart, live_pad, live_value, pad_values

FREQUENCY = Param("frequency", 1.0, low=0.0, low_open=True, symbol=r"\omega", ui_low=0.5, ui_high=3.5)
AMPLITUDE = Param("amplitude", 1.0, low=0.0, symbol="a", ui_low=0.0, ui_high=2.0)
PHASE = Param("phase", 0.0, symbol=r"\varphi", ui_low=0.0, ui_high=3.0)
EPOCHS = 30
EPOCH = Param("epoch", EPOCHS - 1, low=0, high=EPOCHS - 1, integer=True, ui_low=0, ui_high=EPOCHS - 1, step=1)

X = np.linspace(0.0, 2 * np.pi, 500)
PAD_X = np.linspace(0.0, 2 * np.pi, 200)


def typed(values: np.ndarray) -> dict[str, str]:
    return {"dtype": "f4", "bdata": base64.b64encode(values.astype("<f4").tobytes()).decode("ascii")}


def layout(title: str) -> dict:
    return {
        "title": {"text": title},
        "height": 360,
        "margin": {"l": 40, "r": 10, "t": 40, "b": 30},
        "xaxis": {"range": [0, 2 * np.pi]},
        "yaxis": {"range": [-2.2, 2.2]},
    }


def sines(frequencies: tuple[float, ...]) -> dict:
    shifts = np.arange(4) * np.pi / 4
    curves = [[typed(np.sin(w * X + s)) for s in shifts] for w in frequencies]
    return {
        "data": [
            {"type": "scatter", "mode": "lines", "x": typed(X), "y": y, "name": f"shift {k}"}
            for k, y in enumerate(curves[0])
        ],
        "layout": layout("sin(ω x + k π/4)"),
        "frames": [{"data": [{"y": y} for y in frame], "traces": [0, 1, 2, 3]} for frame in curves],
    }


def waves(amplitudes: tuple[float, ...], phases: tuple[float, ...]) -> dict:
    return {
        "data": [
            {"type": "scatter", "mode": "lines", "x": typed(PAD_X), "y": typed(np.sin(PAD_X)), "name": "a sin(x + φ)"}
        ],
        "layout": layout("a sin(x + φ)"),
        "frames": [{"data": [{"y": typed(a * np.sin(PAD_X + p))}], "traces": [0]} for a in amplitudes for p in phases],
    }


def background(k: int) -> dict:
    """A one-colour picture for epoch ``k`` (an SVG data URI: a frame's layout image)."""
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"><rect width="2" height="2" fill="hsl({12 * k},60%,85%)"/></svg>'
    return {
        "source": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii"),
        "xref": "x",
        "yref": "y",
        "x": 0,
        "y": 2.2,
        "sizex": 2 * np.pi,
        "sizey": 4.4,
        "sizing": "stretch",
        "layer": "below",
    }


def wave(epochs: int) -> dict:
    return {
        "data": [
            {"type": "scatter", "mode": "lines", "x": typed(PAD_X), "y": typed(np.sin(PAD_X)), "name": "wave"},
            {"type": "scatter", "mode": "markers", "x": [0.0], "y": [0.0], "name": "crest", "marker": {"size": 12}},
        ],
        "layout": {**layout("sin(x − k/5) at epoch k"), "images": [background(0)]},
        "frames": [
            {
                "data": [{"y": typed(np.sin(PAD_X - k / 5))}, {"x": [np.pi / 2 + k / 5], "y": [1.0]}],
                "traces": [0, 1],
                "layout": {"images": [background(k)]},
            }
            for k in range(epochs)
        ],
    }


frequency = LiveParam(FREQUENCY, np.linspace(0.5, 3.5, 25))
known = live_value(frequency, "demo_freq")  # what a page reads before it builds the figure
omega = live_chart(sines(frequency.values), frequency, key="demo_freq")
assert known == omega, (known, omega)
st.text(f"committed frequency = {omega!r}")

amplitude = LiveParam(AMPLITUDE, np.linspace(0.0, 2.0, 21))
phase = LiveParam(PHASE, np.linspace(0.0, 3.0, 21))
known_pad = pad_values((amplitude, phase), "demo_pad")
a, phi = live_pad(waves(amplitude.values, phase.values), (amplitude, phase), key="demo_pad")
assert known_pad == (a, phi), (known_pad, a, phi)
st.text(f"committed pad = {a!r}, {phi!r}")

epoch = LiveParam(EPOCH, np.arange(EPOCHS))
live_chart(wave(EPOCHS), epoch, key="demo_player", player=True)
st.text("player shown")
