"""Generative: GAN generator and discriminator losses on one axis, and total-variation denoising."""

from __future__ import annotations

import streamlit as st

from lossviz.figures.generative import (
    figure_discriminator_losses,
    figure_generator_losses,
    figure_tv_denoising,
    short_name,
)
from lossviz.studies import generative as gs
from lossviz.toolkit import data as td
from lossviz.toolkit.frames import FINE_MANTISSAS, log_ladder
from lossviz.ui.cards import kept_figure, loss_card, loss_cards
from lossviz.ui.charts import show
from lossviz.ui.classroom import explain
from lossviz.ui.controls import control_key, multichoice_control, param_control, param_row, radio_control
from lossviz.ui.live_chart import LiveParam, live_chart, live_value
from lossviz.ui.navigation import ensure_app

ensure_app()

PREFIX = "generative"
WEIGHT_KEY = control_key(PREFIX, "weight")
# The URL key of the live TV weight λ: that of the slider it replaces, so old links keep working.
WEIGHT = LiveParam(gs.TV_WEIGHT, log_ladder(gs.TV_WEIGHT, FINE_MANTISSAS))
# Plain option values: a bound widget writes what it displays into the URL (format_func would break links).
AXES = ("logit", "probability")


@st.cache_data(max_entries=16, show_spinner=False)
def tv_study(noise: float, seed: int, steps: int) -> gs.TvStudy:
    """The denoising at every λ of the live control; committing a λ is a cache hit."""
    return gs.tv_study(noise, seed, steps, WEIGHT.values)


def formula_panel(names: list[str]) -> None:
    """The card of each loss, three side by side, under the chart."""
    if names:
        with st.expander("Formulas, when to use each, references", expanded=True):
            loss_cards(names, per_row=3)


@st.fragment
def generator_section(axis: str, half_width: float) -> None:
    st.header("Generator losses")
    explain(
        "A discriminator ends in one number **a**. The original GAN squashes it into a probability D = σ(a); "
        "LSGAN, WGAN and hinge GAN use **a** as a score. So all five generator losses are drawn against a "
        "(switch to the D axis to see the two minimax losses in their own coordinates). The generator wants "
        "its fakes called real: each loss falls as a rises."
    )
    left, right = st.columns([2, 1])
    names = multichoice_control(
        "Generator losses", list(gs.GENERATOR_LOSSES), list(gs.GENERATOR_LOSSES), f"{PREFIX}_generators",
        container=left,
    )
    threshold = param_control(
        gs.VANISH, f"{PREFIX}_vanish", container=right, label="vanishing threshold ε on |∂L/∂a|"
    )
    if not names:
        st.info("Pick at least one generator loss.")
        return
    try:
        curves = gs.curves(names, axis, half_width)
        vanishing = gs.vanishing_intervals(axis, half_width, threshold)
    except ValueError as exc:
        st.error(str(exc))
        return
    show(figure_generator_losses(curves, axis=axis, vanishing=vanishing, threshold=threshold),
         key=f"{PREFIX}_generator_chart")
    bound = gs.saturating_vanishing_bound(threshold)
    st.markdown(
        f"**Shaded: the saturating loss's gradient has vanished**, |∂L/∂a| = σ(a) = D < ε = {threshold:g}, "
        f"i.e. a < log(ε / (1 − ε)) = {bound:.3f}. That is where a generator starts: the discriminator "
        "rejects its fakes easily (D ≈ 0), and log(1 − D) gives it almost no gradient — Goodfellow et al. "
        "(2014) therefore train the generator with −log D instead, whose ∂L/∂a = −(1 − D) → −1 there, the "
        "strongest pull exactly where the fakes are worst. Both have the same fixed point."
    )
    if axis == "probability":
        hidden = [short_name(n) for n in names if n not in gs.plotted_losses(names, axis)]
        st.caption(
            "On the D axis the saturating slope ∂L/∂D = −1/(1 − D) is about −1 near D = 0 — not small. What "
            "vanishes is the gradient that flows back through the sigmoid, ∂L/∂a = ∂L/∂D · D(1 − D) (dotted): "
            "−D for the saturating loss, −(1 − D) for the non-saturating one."
            + (f" Not drawn here (they take a real score, not a probability): {', '.join(hidden)}." if hidden else "")
        )
    else:
        st.caption(
            "LSGAN's gradient a − 1 grows with the distance from the real label 1 (it runs off the panel; "
            "double-click the chart to zoom out) and turns into a push back for a > 1; WGAN and hinge generators "
            "are the same function −a (dashed: hinge), a constant gradient −1 — the hinge lives only on the "
            "discriminator's side."
        )
    formula_panel(gs.plotted_losses(names, axis))


@st.fragment
def discriminator_section(axis: str, half_width: float) -> None:
    st.header("Discriminator and critic losses")
    explain(
        "The discriminator wants real samples (y = 1, left) scored high and fakes (y = 0, right) low. BCE "
        "and LSGAN pull the score towards the label (BCE on D = σ(a) only asymptotically, LSGAN exactly to "
        "a = 1 for real and a = 0 for fake). The hinge stops at its margin — a ≥ 1 for real, a ≤ −1 for fake, "
        "zero gradient beyond. The WGAN critic never stops: its gradient is ±1 everywhere, which is why it "
        "needs a Lipschitz constraint (weight clipping, gradient penalty)."
    )
    names = multichoice_control(
        "Discriminator / critic losses", list(gs.DISCRIMINATOR_LOSSES), list(gs.DISCRIMINATOR_LOSSES),
        f"{PREFIX}_discriminators",
    )
    if not names:
        st.info("Pick at least one discriminator loss.")
        return
    try:
        curves = gs.discriminator_curves(names, axis, half_width)
    except ValueError as exc:
        st.error(str(exc))
        return
    for label, column in zip((1.0, 0.0), st.columns(2), strict=True):  # real left, fake right; stacked on a phone
        show(figure_discriminator_losses(curves, axis=axis, label=label), key=f"{PREFIX}_discriminator_{label:g}",
             container=column)
    if axis == "probability":
        st.caption("On the D axis only the BCE discriminator is drawn; the others score with a real number.")
    formula_panel(gs.plotted_losses(names, axis))


@st.fragment
def tv_section() -> None:
    st.header("Total variation: denoising a small image")
    explain(
        "Total variation sums the squared differences between neighbouring pixels: 0 for a flat image, large "
        "for noise. Denoising minimises ½‖x − y‖² + λ·TV(x) — stay close to the noisy image y, but smooth — "
        f"by gradient steps x ← x − η[(x − y) + λ∇TV(x)] from x = y, with η = 1/(1 + {gs.TV_LIPSCHITZ:g}λ) "
        f"({gs.TV_LIPSCHITZ:g} bounds TV's curvature, so every step lowers the objective). ∇TV at a pixel is "
        "2 Σ over its neighbours of "
        "(pixel − neighbour): positive (red) on bright specks, negative (blue) on dark ones, so each step pulls "
        "a pixel towards its neighbours. Notice that a small λ leaves the noise and a large λ blurs the edges: "
        "the PSNR peaks in between. The squared form charges a jump by its square, so it smooths edges away; "
        "the L1 form of Rudin, Osher & Fatemi (1992) keeps them."
    )
    noise, seed, steps = param_row(
        PREFIX, [(td.IMAGE_NOISE, "noise", "noise σ"), (td.SEED, "seed", "noise seed"), (gs.STEPS, "steps", "gradient steps K")]
    )
    weight = live_value(WEIGHT, WEIGHT_KEY)
    try:
        study = tv_study(noise, seed, steps)
    except ValueError as exc:
        st.error(str(exc))
        return
    i = study.index(weight)
    m = st.columns(5)
    m[0].metric("TV(clean)", f"{study.tv_clean:.4f}")
    m[1].metric("TV(noisy y)", f"{study.tv_noisy:.4f}")
    m[2].metric(f"TV(x), λ = {weight:g}", f"{study.tv_denoised[i]:.4f}")
    m[3].metric("PSNR of y", f"{study.psnr_noisy:.2f} dB")
    m[4].metric(f"PSNR of x, λ = {weight:g}", f"{study.psnr_denoised[i]:.2f} dB",
                delta=f"{study.psnr_gain(i):+.2f} dB")
    # Drawn at the default λ and kept: the component shows the committed frame (the same picture), so a commit
    # re-sends the control's state, not the images again.
    live_chart(kept_figure(f"{PREFIX}_tv", (noise, seed, steps),
                           lambda: figure_tv_denoising(study, study.index(WEIGHT.default))), WEIGHT, key=WEIGHT_KEY)
    st.caption(
        f"Here the PSNR peaks at λ = {study.weights[study.best]:g} ({study.psnr_denoised[study.best]:.2f} dB). "
        "Drag λ under the images to change it live (every λ is precomputed); the numbers above follow where "
        "you let go. PSNR = 10·log₁₀(1 / MSE) against the clean image, in dB."
    )
    loss_card("total_variation", heading=False)


st.title("Generative losses: GANs and total variation")
settings = st.columns([2, 1])
axis = radio_control(
    "x axis: the discriminator output a (logit, shared by all losses) or the probability D = σ(a)",
    list(AXES), "logit", f"{PREFIX}_axis", container=settings[0], horizontal=True,
)
half_width = param_control(gs.LOGIT_RANGE, f"{PREFIX}_range", container=settings[1], label="range of a: ±")
generator_section(axis, half_width)
discriminator_section(axis, half_width)
tv_section()
