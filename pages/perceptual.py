"""Perceptual loss: pixel MSE against a feature-space loss on shifted, blurred, noisy and re-textured images,
and the blurry MSE reconstruction beside the sharp perceptual one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import lossviz
from lossviz.figures.perceptual import (
    Tiles,
    distortion_tiles,
    energy_tiles,
    figure_descent,
    figure_loss_bars,
    reconstruction_tiles,
)
from lossviz.studies import perceptual as sp
from lossviz.ui.charts import lazy_expander, show
from lossviz.ui.controls import param_control
from lossviz.ui.navigation import ensure_app

ensure_app()

PREFIX = "perceptual"


def show_tiles(tiles: Tiles) -> None:
    st.image(tiles.images, caption=tiles.captions, width="content", output_format="PNG")  # JPEG would blur edges


def table(columns: dict[str, list]) -> None:
    """A study's table: its first column names the rows, the others are numbers shown to 4 decimals."""
    formats = {name: st.column_config.NumberColumn(format="%.4f") for name in list(columns)[1:]}
    st.dataframe(pd.DataFrame(columns), hide_index=True, column_config=formats)


@st.cache_data(max_entries=32, show_spinner=False)
def comparison(blur: float, noise: float, depth: int) -> sp.Comparison:
    return sp.compare(blur, noise, depth)


@st.cache_resource(show_spinner=False)
def longest_descents() -> dict[tuple[int, int], sp.Descent]:
    """The longest descent run so far for each (J, L), shared by every session (at most 4 × 3 of them)."""
    return {}


@st.cache_data(max_entries=64, show_spinner="Running gradient descent on both losses…")
def reconstruction(jitter: int, steps: int, depth: int) -> sp.Reconstruction:
    """Moving the steps slider back reads the run already made (its first T steps are the T-step run); moving it
    beyond runs once to the new count, never further, and keeps every slider position on the way."""
    runs = longest_descents()
    found = runs.get((jitter, depth))
    if found is None or steps not in found.kept:
        keep = {*sp.checkpoints(steps), *(found.kept if found else ())}
        found = runs[(jitter, depth)] = sp.descend(jitter, depth, sorted(keep))
    return found.at(steps)


@st.fragment
def distortion_section(depth: int) -> None:
    st.header("A one-pixel shift or a blur?")
    left, right = st.columns(2)
    blur = param_control(sp.BLUR, f"{PREFIX}_blur", container=left, label="blur σ (pixels)")
    noise = param_control(sp.NOISE, f"{PREFIX}_noise", container=right, label="noise σ")
    c = comparison(blur, noise, depth)
    show_tiles(distortion_tiles(c))
    st.caption(
        "What φ sees: the first level's oriented energies, pooled and summed (dark blue: none; yellow: the most in "
        "these six). A shift moves them by a pixel; the blur dims them; noise lights up everything."
    )
    show_tiles(energy_tiles(c))
    show(figure_loss_bars(c), key=f"{PREFIX}_chart_bars")
    table(c.table())
    mse_ratio, perceptual_ratio = c.ratio_to_blur()
    shift, texture = sp.DISTORTIONS.index("shift1"), sp.DISTORTIONS.index("texture")
    st.markdown(
        f"**What to notice.** Pixel MSE calls the one-pixel shift **{mse_ratio[shift]:.1f}×** as bad as the "
        f"blur: every edge of a shifted image is off by a pixel, and MSE compares pixel by pixel. The perceptual "
        f"loss calls it **{perceptual_ratio[shift]:.2f}×** the blur: φ pools each edge's energy over a few "
        "pixels, so the shifted edges are still where φ looks for them, while the blur has removed the fine "
        "detail φ responds to (compare the energy maps). The re-drawn texture is the same texture to the eye: "
        f"MSE scores it **{mse_ratio[texture]:.2f}×** the blur, the perceptual loss only "
        f"**{perceptual_ratio[texture]:.2f}×**, since φ measures how much oriented structure there is, not its "
        "exact pixels."
    )


@st.fragment
def reconstruction_section(depth: int) -> None:
    st.header("Why MSE reconstructions are blurry")
    st.markdown(
        f"A network that upsamples a low-resolution image cannot know the fine detail: several high-resolution "
        f"answers fit its input. Trained with a loss L, it learns for that input the single output that "
        f"minimises the *average* L over those answers. Here are {sp.ANSWERS} answers — the scene with its "
        "texture drawn anew and shifted by up to J pixels — and gradient descent (Adam) finds that output "
        "directly, once for each loss, from the same start: the truth's 4× low-resolution version."
    )
    left, right = st.columns(2)
    jitter = param_control(sp.JITTER, f"{PREFIX}_jitter", container=left, label="answers shifted by up to J pixels")
    steps = param_control(sp.STEPS, f"{PREFIX}_steps", container=right, label="Adam steps")
    r = reconstruction(jitter, steps, depth)
    show_tiles(reconstruction_tiles(r))
    table(r.table())
    st.caption(
        f"Averages over the {sp.ANSWERS} answers. Edge energy: the root mean square of the differences between "
        "neighbouring pixels, which a blur lowers."
    )
    st.markdown(
        "**What to notice.** Given enough steps (a hundred here), descent on MSE reaches the pixel mean of the "
        "answers — their blur — because the mean is what minimises an average of squared pixel differences: its "
        "average MSE equals the pixel mean's. The "
        "perceptual result keeps sharp edges, stripes and texture: its average loss is ‖φ(x) − mean φ(answers)‖² "
        "plus a constant, and since φ barely changes under small shifts and texture draws, a sharp image matches "
        "the mean features. Each result wins under its own loss (the table) — and loses under "
        "the other. Set J = 0: the shapes are certain and MSE keeps their edges, but it still averages the "
        "texture away."
    )
    show(figure_descent(r), key=f"{PREFIX}_chart_descent")


st.title("Perceptual loss")
st.markdown(
    "Why does MSE make images blurry? Because it compares pixels. A **perceptual loss** compares what a fixed "
    "feature extractor φ sees in the two images, ‖φ(ŷ) − φ(y)‖² (Johnson, Alahi & Fei-Fei 2016). Here φ is "
    "**a fixed filter bank, not a trained network**: oriented Gabor filters at three scales, rectified as local "
    "energy and pooled over small regions, like the early stages of models of the visual cortex. No weights, no "
    "download; see *What φ is* below."
)
depth = param_control(sp.DEPTH, f"{PREFIX}_depth", label="levels of φ used (L)")
distortion_section(depth)
reconstruction_section(depth)

if (about := lazy_expander("What φ is: formula, filter bank, references", f"{PREFIX}_about")).open:
    with about:
        s = lossviz.spec("perceptual")
        st.latex(s.latex)
        st.markdown(s.note)
        st.caption(s.use_when)
        st.caption("References: " + "; ".join(s.references))
