"""Figures of the Perceptual loss page: the distorted images and what φ sees, the two losses per distortion,
the two reconstructions side by side, and their descent.

Images are handed to the page as 8-bit arrays for ``st.image`` (which wraps them onto several rows on a
narrow screen, where a row of Plotly heatmaps would shrink to nothing), each pixel repeated
:data:`ZOOM` × :data:`ZOOM` times so that the browser, scaling it, does not blur the very blur the page is
about. Charts are Plotly figures built from plain dicts with float32 arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from lossviz.figures.common import (
    LAYOUT_DEFAULTS,
    axis_key,
    axis_refs,
    columns_layout,
    f32,
    figure_from_dicts,
    loss_colors,
)
from lossviz.studies.perceptual import DISTORTIONS, IMAGES, SIZE, Comparison, Reconstruction

ZOOM = 2
"""Each image pixel becomes ZOOM × ZOOM screen pixels (64 → 128); energy maps, half the size, twice that."""
ENERGY_SCALE = "Viridis"
ENERGY_LUT = np.array(
    [plotly.colors.unlabel_rgb(c) for c in plotly.colors.sample_colorscale(ENERGY_SCALE, np.linspace(0, 1, 256))],
    dtype=np.uint8,
)
"""Viridis as 256 RGB rows: energy 0 is dark blue, the largest energy shown is yellow."""
BLUR_LINE = "#555555"
LOSS_NAMES = ("mse", "perceptual")
COLOURS = loss_colors(LOSS_NAMES)
LOSS_TITLES = {"mse": "pixel MSE", "perceptual": "perceptual loss"}
IMAGE_TITLES = {
    "truth": "truth (answer 1)",
    "start": "start (4× low-res)",
    "pixel mean": "mean of answers",
    "MSE": "MSE result",
    "perceptual": "perceptual result",
}
"""Captions short enough to fit under a 128-pixel image (a wider caption would stretch and blur it)."""


@dataclass(frozen=True)
class Tiles:
    """Images for ``st.image`` (8-bit grey ``[h, w]`` or RGB ``[h, w, 3]``) and one caption each."""

    images: list[np.ndarray]
    captions: list[str]


def _zoom(image: np.ndarray, factor: int) -> np.ndarray:
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def grey_image(image: np.ndarray, zoom: int = ZOOM) -> np.ndarray:
    """Grey levels 0 … 1 (clipped) as 8-bit grey, 0 black and 1 white, each pixel ``zoom`` × ``zoom``."""
    return _zoom(np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8), zoom)


def energy_image(energy: np.ndarray, top: float, zoom: int) -> np.ndarray:
    """An energy map as 8-bit RGB in Viridis, 0 to ``top`` (larger values saturate), each pixel ``zoom`` × ``zoom``."""
    index = np.round(np.clip(energy / top, 0.0, 1.0) * 255).astype(np.intp)
    return _zoom(ENERGY_LUT[index], zoom)


def distortion_tiles(c: Comparison) -> Tiles:
    """The original and each distortion (their losses are in the page's table)."""
    return Tiles([grey_image(c.original), *(grey_image(image) for image in c.images)], ["original", *c.labels])


def energy_tiles(c: Comparison) -> Tiles:
    """What φ's first level sees in the original and each distortion: its 8 pooled energy maps summed, one
    colour range (0 to the largest value of the six) for all."""
    top = float(c.energy.max()) or 1.0
    zoom = ZOOM * SIZE // c.energy.shape[-1]
    return Tiles([energy_image(e, top, zoom) for e in c.energy], [f"φ: {name}" for name in ["original", *c.labels]])


def reconstruction_tiles(r: Reconstruction) -> Tiles:
    """The truth, the start, the answers' pixel mean and the two results (their numbers are in the page's table)."""
    return Tiles([grey_image(r.images[name]) for name in IMAGES], [IMAGE_TITLES[name] for name in IMAGES])


def figure_loss_bars(c: Comparison, height: int = 380) -> go.Figure:
    """Each distortion's pixel MSE (left) and perceptual loss (right) against the original, each on its own axis,
    with a dotted line at the blur's value: a bar above the line is a distortion that loss calls worse than the blur.

    Traces: MSE bars, perceptual bars, the two blur lines.
    """
    blur = DISTORTIONS.index("blur")
    labels = c.labels
    values = {"mse": c.mse, "perceptual": c.perceptual}
    titles = [LOSS_TITLES["mse"], f"perceptual, L = {c.depth}"]
    layout = {
        **LAYOUT_DEFAULTS,
        "height": height,
        "showlegend": False,
        "margin": {"l": 60, "r": 20, "t": 40, "b": 60},
        **columns_layout(2, titles, spacing=0.1),
    }
    data = []
    for col, name in enumerate(LOSS_NAMES, start=1):
        data.append(
            {
                "type": "bar",
                "x": list(labels),
                "y": f32(values[name]),
                "name": LOSS_TITLES[name],
                "marker": {"color": COLOURS[name]},
                **axis_refs(col),
                "hovertemplate": f"{LOSS_TITLES[name]}<br>%{{x}}: %{{y:.4g}}<extra></extra>",
            }
        )
        layout[axis_key(col, "y")].update(title={"text": LOSS_TITLES[name]}, rangemode="tozero")
        layout[axis_key(col, "x")].update(tickangle=-30)
    for col, name in enumerate(LOSS_NAMES, start=1):
        level = float(values[name][blur])
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [labels[0], labels[-1]],
                "y": [level, level],
                "name": "the blur's value",
                "line": {"color": BLUR_LINE, "dash": "dot", "width": 1.5},
                "hovertemplate": f"the blur's {LOSS_TITLES[name]}: %{{y:.4g}}<extra></extra>",
                **axis_refs(col),
            }
        )
    return figure_from_dicts(data, layout)


def figure_descent(r: Reconstruction, height: int = 320) -> go.Figure:
    """Each run's objective (its average loss over the answers) divided by its value at the start, per step,
    on a log axis, with the lowest average MSE there is: the pixel mean's.

    Traces: the MSE run, the perceptual run, the MSE floor.
    """
    steps = np.arange(r.history.shape[0])
    floor = r.mse["pixel mean"] / r.history[0, 0]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": f32(steps),
            "y": f32(r.history[:, i] / r.history[0, i]),
            "name": f"descent on {LOSS_TITLES[name]}",
            "line": {"color": COLOURS[name], "width": 2},
            "hovertemplate": f"{LOSS_TITLES[name]}, step %{{x}}: %{{y:.3g}} of its start value<extra></extra>",
        }
        for i, name in enumerate(LOSS_NAMES)
    ]
    data.append(
        {
            "type": "scatter",
            "mode": "lines",
            "x": [0.0, float(steps[-1])],
            "y": [floor, floor],
            "name": "lowest average MSE (at the pixel mean)",
            "line": {"color": COLOURS["mse"], "dash": "dot", "width": 1},
            "hovertemplate": "the pixel mean: %{y:.3g} of MSE's start value<extra></extra>",
        }
    )
    layout = {
        **LAYOUT_DEFAULTS,
        "height": height,
        "hovermode": "x unified",
        "xaxis": {"title": {"text": "Adam step"}},
        "yaxis": {"title": {"text": "average loss ÷ its start value"}, "type": "log"},
    }
    return figure_from_dicts(data, layout)
