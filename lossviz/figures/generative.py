"""Figures of the Generative page: GAN generator and discriminator losses, and TV denoising.

Builders are pure (data in, ``go.Figure`` out, assembled from plain dicts); the TV figure is a live
figure (:func:`~lossviz.figures.live.live_figure`, a plain dict). Shaded regions are filled traces on
hidden y axes (range 0 to 1) overlaying each panel, so they are part of the figure's data and never
stretch a panel's autorange.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lossviz.figures.common import DIVERGING, LAYOUT_DEFAULTS, FigureSpec, loss_colors, typed_array
from lossviz.figures.live import live_figure, stacked_panels
from lossviz.studies.generative import Axis, GanCurve, TvStudy

SHADE_AXES = ("y3", "y4")
"""Hidden y axes (0 to 1) overlaying the value and gradient panels, carrying the vanishing-gradient shading."""
SHADE_COLOUR = "rgba(255, 170, 0, 0.18)"
PROBABILITY_GRAD_RANGE = (-10.0, 1.0)
"""∂L/∂D of the log losses runs to −1/0.005 = −200 at the ends of the D axis: show the part that matters."""
LOGIT_GRAD_RANGE = (-2.0, 1.5)
"""The bounded gradients (−σ(a), −σ(−a), −1) fill this; LSGAN's a − 1 runs off it (the caption says so)."""
DISCRIMINATOR_GRAD_RANGE = (-2.5, 2.5)
IMAGE_SCALE = [[0.0, "rgb(0,0,0)"], [1.0, "rgb(255,255,255)"]]
"""Images in grey levels, 0 black and 1 white (by value: plotly.js's "Greys" and Python Plotly's run
opposite ways)."""
DASHES = {"hinge_gan_generator": "dash"}
"""The hinge generator is the same function as the WGAN one: dashed, so that both stay visible."""
SHORT_NAMES = {
    "gan_generator_saturating": "saturating log(1 − D)",
    "gan_generator_nonsaturating": "non-saturating −log D",
    "lsgan_generator": "LSGAN ½(a − 1)²",
    "wasserstein_generator": "WGAN −a",
    "hinge_gan_generator": "hinge −a",
    "gan_discriminator": "GAN (BCE)",
    "lsgan_discriminator": "LSGAN",
    "wasserstein_critic": "WGAN critic",
    "hinge_gan_discriminator": "hinge",
}


def short_name(name: str) -> str:
    return SHORT_NAMES.get(name, name)


def _axis_texts(axis: Axis) -> tuple[str, str]:
    """(x-axis title, gradient symbol)."""
    if axis == "logit":
        return "discriminator output a (D = σ(a) for the minimax losses)", "a"
    return "discriminator probability D(G(z))", "D"


def _line(
    x: np.ndarray, y: np.ndarray, name: str, colour: str, row: int, line: dict | None = None, **extra: object
) -> dict:
    axis = "" if row == 1 else str(row)
    return {
        "type": "scatter",
        "x": typed_array(x),
        "y": typed_array(y),
        "mode": "lines",
        "name": name,
        "line": {"color": colour, "width": 2, **(line or {})},
        "xaxis": f"x{axis}",
        "yaxis": f"y{axis}",
        "hovertemplate": f"{name}: %{{y:.4g}}<extra></extra>",
        **extra,
    }


def _shading(intervals: Sequence[tuple[float, float]], name: str, panel: int) -> dict:
    """One filled polygon per interval (separated by gaps) on the hidden axis over ``panel`` (0 or 1)."""
    x: list[float | None] = []
    y: list[float | None] = []
    for lo, hi in intervals:
        x += [lo, hi, hi, lo, lo, None]
        y += [0.0, 0.0, 1.0, 1.0, 0.0, None]
    return {
        "type": "scatter",
        "x": x,
        "y": y,
        "mode": "lines",
        "fill": "toself",
        "fillcolor": SHADE_COLOUR,
        "line": {"width": 0},
        "name": name,
        "legendgroup": "vanishing",
        "showlegend": panel == 0,
        "xaxis": "x" if panel == 0 else "x2",
        "yaxis": SHADE_AXES[panel],
        "hoverinfo": "skip",
    }


def _two_panel_layout(x_title: str, symbol: str, height: int, grad_range: tuple[float, float] | None) -> dict:
    layout: dict = {
        **LAYOUT_DEFAULTS,
        "height": height,
        "hovermode": "x unified",
        "margin": {"l": 60, "r": 20, "t": 90, "b": 50},
        "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "matches": "x2", "showticklabels": False},
        "xaxis2": {"anchor": "y2", "domain": [0.0, 1.0], "title": {"text": x_title}},
        "yaxis": {"anchor": "x", "domain": [0.55, 1.0], "title": {"text": "loss L"}, "zerolinecolor": "#bbbbbb"},
        "yaxis2": {
            "anchor": "x2",
            "domain": [0.0, 0.45],
            "title": {"text": f"∂L/∂{symbol}"},
            "zerolinecolor": "#bbbbbb",
            **({"range": list(grad_range)} if grad_range else {}),
        },
    }
    for axis, base in zip(SHADE_AXES, ("y", "y2"), strict=True):
        layout[axis.replace("y", "yaxis")] = {"overlaying": base, "range": [0.0, 1.0], "visible": False, "fixedrange": True}
    return layout


def figure_generator_losses(
    curves: Sequence[GanCurve],
    *,
    axis: Axis,
    vanishing: Sequence[tuple[float, float]],
    threshold: float,
) -> go.Figure:
    """Generator losses (top) and their gradients (bottom) against the discriminator output.

    On the logit axis the gradient is ∂L/∂a; on the probability axis ∂L/∂D (solid) and, dotted,
    ∂L/∂a = ∂L/∂D · D(1 − D), what is left after the sigmoid. ``vanishing`` (plotted coordinates)
    is shaded: where the saturating loss's |∂L/∂a| < ``threshold``; a dotted line marks −threshold
    on the logit axis.
    """
    x_title, symbol = _axis_texts(axis)
    colours = loss_colors(c.name for c in curves)
    name = f"saturating: |∂L/∂a| < {threshold:g} (vanishing gradient)"
    data: list[dict] = [_shading(vanishing, name, 0), _shading(vanishing, name, 1)]
    for c in curves:
        colour, dash = colours[c.name], DASHES.get(c.name, "solid")
        label = short_name(c.name)
        data.append(_line(c.x, c.value, label, colour, 1, legendgroup=c.name, line={"dash": dash}))
        data.append(
            _line(c.x, c.grad, f"∂/∂{symbol} {label}", colour, 2, legendgroup=c.name, showlegend=False, line={"dash": dash})
        )
        if axis == "probability":
            data.append(
                _line(
                    c.x, c.grad_logit, f"∂/∂a {label}", colour, 2, legendgroup=c.name, showlegend=False,
                    line={"dash": "dot", "width": 1.5},
                )
            )
    if curves and axis == "logit":
        x = curves[0].x
        data.append(
            _line(
                np.array([x[0], x[-1]]), np.array([-threshold, -threshold]), f"−ε = {-threshold:g}", "#d62728", 2,
                line={"dash": "dot", "width": 1}, showlegend=False,
            )
        )
    grad_range = PROBABILITY_GRAD_RANGE if axis == "probability" else LOGIT_GRAD_RANGE
    layout = _two_panel_layout(x_title, symbol, 620, grad_range)
    return go.Figure({"data": data, "layout": layout})


DISCRIMINATOR_SIDES = {1.0: "real samples, y = 1: push the score up", 0.0: "fake samples, y = 0: push the score down"}
"""The discriminator's two sides, by label: each is a figure of its own, so that on a phone, where Streamlit's
columns stack, each gets the full width (two panels abreast in one figure overlapped their titles there)."""


def figure_discriminator_losses(curves: Sequence[GanCurve], *, axis: Axis, label: float) -> go.Figure:
    """Discriminator (critic) losses for the samples of one ``label`` (1: real, 0: fake) and their gradients,
    one colour per loss (the same on both sides), loss above gradient on a shared x axis."""
    if label not in DISCRIMINATOR_SIDES:
        raise ValueError(f"label must be one of {', '.join(f'{k:g}' for k in DISCRIMINATOR_SIDES)}, got {label!r}")
    x_title, symbol = _axis_texts(axis)
    colours = loss_colors(dict.fromkeys(c.name for c in curves))
    side = "real" if label == 1.0 else "fake"
    data: list[dict] = []
    for c in (c for c in curves if c.target == label):
        name = short_name(c.name)
        for axis_id, y, what in (("", c.value, "L"), ("2", c.grad, f"∂L/∂{symbol}")):
            data.append(
                {
                    "type": "scatter", "mode": "lines", "x": typed_array(c.x), "y": typed_array(y), "name": name,
                    "legendgroup": c.name, "showlegend": what == "L",
                    "line": {"color": colours[c.name], "width": 2}, "xaxis": f"x{axis_id}", "yaxis": f"y{axis_id}",
                    "hovertemplate": f"{name} ({side}): {what} = %{{y:.4g}}<extra></extra>",
                }
            )
    grad_range = PROBABILITY_GRAD_RANGE if axis == "probability" else DISCRIMINATOR_GRAD_RANGE
    layout: dict = {
        **LAYOUT_DEFAULTS,
        "height": 600,
        "hovermode": "x unified",
        "margin": {"l": 60, "r": 20, "t": 90, "b": 50},
        "annotations": [_panel_title(DISCRIMINATOR_SIDES[label], "x domain")],
        "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "matches": "x2", "showticklabels": False},
        "xaxis2": {"anchor": "y2", "domain": [0.0, 1.0], "title": {"text": x_title}},
        "yaxis": {"anchor": "x", "domain": [0.55, 0.94], "title": {"text": "loss L"}, "zerolinecolor": "#bbbbbb"},
        "yaxis2": {"anchor": "x2", "domain": [0.0, 0.45], "title": {"text": f"∂L/∂{symbol}"}, "zerolinecolor": "#bbbbbb",
                   "range": list(grad_range)},
    }
    return go.Figure({"data": data, "layout": layout})


def _panel_title(text: str, xref: str) -> dict:
    return {
        "text": f"<b>{text}</b>", "xref": xref, "yref": "paper", "x": 0.5, "y": 0.95, "xanchor": "center",
        "yanchor": "bottom", "showarrow": False, "font": {"size": 13},
    }


# ---------------------------------------------------------------------------------------------
# Total-variation denoising
# ---------------------------------------------------------------------------------------------

IMAGE_PANELS = ("clean image", "noisy image y", "∇TV at the noisy image", "denoised x")
IMAGE_DOMAINS = ((0.0, 0.22), (0.26, 0.48), (0.52, 0.72), (0.78, 1.0))
IMAGE_ROW = (0.42, 1.0)
CURVE_ROW = (0.0, 0.28)
NARROW_HEIGHT = 1700
"""The TV figure's height on a phone, its six panels under each other."""
GRADIENT_PANEL = 2
"""The ∇TV image: its trace index, and its panel (axes x3, y3) counted from 0."""
DENOISED_TRACE = 3
MARKER_TRACES = (6, 7)


def _image(z: np.ndarray, i: int, *, diverging: bool = False, zmax: float = 1.0) -> dict:
    axis = "" if i == 0 else str(i + 1)
    trace = {
        "type": "heatmap",
        "z": typed_array(z),
        "xaxis": f"x{axis}",
        "yaxis": f"y{axis}",
        "showscale": diverging,
        "hovertemplate": "row %{y}, column %{x}: %{z:.3f}<extra>" + IMAGE_PANELS[i] + "</extra>",
    }
    if diverging:
        trace.update(colorscale=DIVERGING, zmid=0.0, zmin=-zmax, zmax=zmax)
        trace["colorbar"] = {"len": 0.5, "y": 0.71, "thickness": 8, "x": 0.722, "xpad": 2, "tickfont": {"size": 10}}
    else:
        trace.update(colorscale=IMAGE_SCALE, zmin=0.0, zmax=1.0)
    return trace


def _marker_text(study: TvStudy, i: int) -> tuple[str, str]:
    w = study.weights[i]
    return (
        f"λ = {w:g}: PSNR {study.psnr_denoised[i]:.2f} dB",
        f"λ = {w:g}: TV {study.tv_denoised[i]:.3g}",
    )


def _markers(study: TvStudy, i: int) -> list[dict]:
    psnr_text, tv_text = _marker_text(study, i)
    w = float(study.weights[i])
    return [
        {"type": "scatter", "x": [w], "y": [float(study.psnr_denoised[i])], "text": [psnr_text]},
        {"type": "scatter", "x": [w], "y": [float(study.tv_denoised[i])], "text": [tv_text]},
    ]


def figure_tv_denoising(study: TvStudy, active: int) -> FigureSpec:
    """Clean, noisy, ∇TV(noisy) and denoised images side by side; PSNR and TV of the result against λ
    below. One frame per weight (``study.weights``) moves the denoised image and the markers without a rerun
    (the image is redrawn at each frame: Plotly cannot animate a heatmap); the figure is drawn at ``active``."""
    grad_max = float(np.abs(study.tv_grad_noisy).max()) or 1.0
    data = [
        _image(study.clean, 0),
        _image(study.noisy, 1),
        _image(study.tv_grad_noisy, GRADIENT_PANEL, diverging=True, zmax=grad_max),
        _image(study.denoised[active], 3),
    ]
    w = typed_array(study.weights)
    curve = {"type": "scatter", "mode": "lines+markers", "marker": {"size": 4}, "line": {"width": 2}}
    data.append(
        {**curve, "x": w, "y": typed_array(study.psnr_denoised), "name": "PSNR of x", "xaxis": "x5", "yaxis": "y5",
         "line": {"color": "#1f77b4", "width": 2}, "hovertemplate": "λ = %{x:g}: %{y:.2f} dB<extra></extra>"}
    )
    data.append(
        {**curve, "x": w, "y": typed_array(study.tv_denoised), "name": "TV(x)", "xaxis": "x6", "yaxis": "y6",
         "line": {"color": "#2ca02c", "width": 2}, "hovertemplate": "λ = %{x:g}: TV %{y:.4g}<extra></extra>"}
    )
    for spec, (axis, colour, pos) in zip(
        _markers(study, active), (("5", "#1f77b4", "top right"), ("6", "#2ca02c", "top right")), strict=True
    ):
        data.append(
            {"type": "scatter", "mode": "markers+text", **spec, "xaxis": f"x{axis}", "yaxis": f"y{axis}",
             "marker": {"size": 12, "color": colour, "symbol": "diamond"}, "textposition": pos,
             "showlegend": False, "hoverinfo": "skip", "cliponaxis": False}
        )
    data.append(
        {"type": "scatter", "mode": "lines", "x": [float(study.weights[0]), float(study.weights[-1])],
         "y": [study.psnr_noisy] * 2, "xaxis": "x5",
         "yaxis": "y5", "name": "PSNR of y", "line": {"color": "#7f7f7f", "dash": "dot", "width": 1},
         "hovertemplate": "noisy y: %{y:.2f} dB<extra></extra>"}
    )
    frames = [[{"type": "heatmap", "z": typed_array(z)}, *_markers(study, i)] for i, z in enumerate(study.denoised)]
    layout = _tv_layout(study)
    # On a phone one panel per row: four images abreast left their titles on top of each other.
    panels = [(f"xaxis{a}", f"yaxis{a}") for a in ("", "2", "3", "4", "5", "6")]
    narrow = stacked_panels(
        layout, [[p] for p in panels], titles=[[0], [1], [2], [3], [], []], height=NARROW_HEIGHT, gap=0.045,
        weights=[1.0, 1.0, 1.0, 1.0, 0.9, 0.9],
    )
    # The gradient's colour bar (paper coordinates) goes beside its image's new row.
    low, high = narrow[f"yaxis{GRADIENT_PANEL + 1}.domain"]
    colorbar = {"colorbar.x": 1.0, "colorbar.y": (low + high) / 2, "colorbar.len": high - low}
    return live_figure(
        data, layout, frames, traces=[DENOISED_TRACE, *MARKER_TRACES], narrow=narrow,
        narrow_traces={GRADIENT_PANEL: colorbar},
    )


def _tv_layout(study: TvStudy) -> dict:
    titles = (
        f"clean (TV {study.tv_clean:.4g})",
        f"noisy y (TV {study.tv_noisy:.4g}, PSNR {study.psnr_noisy:.2f} dB)",
        "∇TV(y): the smoothing pull (× λ)",
        f"denoised x after {study.steps} steps",
    )
    layout: dict = {
        **LAYOUT_DEFAULTS,
        "height": 640,
        "margin": {"l": 50, "r": 20, "t": 40, "b": 60},
        "showlegend": False,
        "annotations": [],
    }
    for i, ((lo, hi), title) in enumerate(zip(IMAGE_DOMAINS, titles, strict=True)):
        axis = "" if i == 0 else str(i + 1)
        layout[f"xaxis{axis}"] = {"domain": [lo, hi], "anchor": f"y{axis}", "visible": False, "constrain": "domain"}
        layout[f"yaxis{axis}"] = {
            "domain": list(IMAGE_ROW), "anchor": f"x{axis}", "visible": False, "autorange": "reversed",
            "scaleanchor": f"x{axis}", "constrain": "domain",
        }
        layout["annotations"].append(
            {"text": f"<b>{title}</b>", "xref": f"x{axis} domain", "yref": "paper", "x": 0.5, "y": IMAGE_ROW[1],
             "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 12}}
        )
    for axis, (lo, hi), title in (("5", (0.0, 0.46), "PSNR of x vs clean (dB)"), ("6", (0.54, 1.0), "TV(x)")):
        layout[f"xaxis{axis}"] = {"domain": [lo, hi], "anchor": f"y{axis}", "type": "log", "title": {"text": "weight λ"}}
        layout[f"yaxis{axis}"] = {"domain": list(CURVE_ROW), "anchor": f"x{axis}", "title": {"text": title}}
    layout["yaxis6"].update(type="log", dtick=1)
    return layout
