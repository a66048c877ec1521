"""Segmentation: Dice, Jaccard, Tversky, BCE and pixel cross-entropy on a mask and a soft prediction you shape."""

from __future__ import annotations

import dataclasses

import streamlit as st

import lossviz
from lossviz.figures.segmentation import (
    SATURATION_PERCENTILE,
    figure_gradient_maps,
    figure_masks,
    figure_smooth_study,
    figure_sweep,
    figure_tversky,
)
from lossviz.studies import segmentation as ss
from lossviz.ui.cards import kept_figure, loss_cards
from lossviz.ui.charts import lazy_expander, show
from lossviz.ui.classroom import explain
from lossviz.ui.controls import choice_control, param_control, radio_control
from lossviz.ui.live_chart import LiveParam, live_pad, pad_values
from lossviz.ui.navigation import ensure_app

ensure_app()

PREFIX = "segmentation"
TITLES = ss.loss_titles()
SWEEP_LABELS = {
    "shift": "shift Δx (pixels)",
    "scale": "scale k of the predicted object",
    "softness": "edge softness τ (pixels)",
    "confidence": "confidence c inside the object",
    "blob": "false-positive blob height b",
    "smooth": "smooth s of the overlap losses",
}


@st.cache_data(max_entries=64, show_spinner=False)
def cached_sweep(shape: str, prediction: tuple, settings: tuple, control: str) -> ss.Sweep:
    return ss.sweep(shape, ss.Prediction(*prediction), ss.LossSettings(*settings), control)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_tversky_grid(shape: str, prediction: tuple, smooth: float) -> ss.TverskyGrid:
    return ss.tversky_grid(shape, ss.Prediction(*prediction), smooth)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_smooth_study(prediction: tuple) -> ss.SmoothStudy:
    return ss.smooth_study(ss.Prediction(*prediction))


@st.cache_data(max_entries=64, show_spinner=False)
def cached_losses(shape: str, prediction: tuple, settings: tuple) -> tuple[dict[str, ss.LossMap], dict[str, str]]:
    """Every loss on the page's masks, with its gradient map: kept per setting, so that a rerun for another part of
    the page (the sweep's control, a pad value seen before) does not evaluate the five losses again."""
    masks = ss.predicted_mask(shape, ss.Prediction(*prediction)), ss.true_mask(shape)
    return ss.evaluate_all(*masks, ss.LossSettings(*settings))


def sweep_for(shape: str, prediction: ss.Prediction, settings: ss.LossSettings, control: str) -> ss.Sweep:
    """The sweep, with the swept value itself left out of the cache key (moving it is a cache hit)."""
    if control == "smooth":
        settings = dataclasses.replace(settings, smooth=ss.SMOOTH.default)
    else:
        prediction = prediction.replace(**{control: ss.SWEEPS[control].default})
    return cached_sweep(shape, dataclasses.astuple(prediction), dataclasses.astuple(settings), control)


st.title("Segmentation losses")
explain(
    f"A {ss.SIZE} × {ss.SIZE} ground-truth mask and a soft prediction you shape. The **overlap losses** (Dice, "
    "Jaccard/IoU, "
    "Tversky) score the whole image at once — how much of the object the prediction covers — while **BCE** and "
    "**pixel-wise cross-entropy** average an independent classification of every pixel. Move the prediction "
    "and watch the numbers, the curves and, above all, the gradient maps."
)

top = st.columns([3, 2])
shape = radio_control("True mask", list(ss.SHAPES), ss.DEFAULT_SHAPE, f"{PREFIX}_shape", container=top[0],
                      horizontal=True)
# No format_func: a bound selectbox keeps the *displayed* text in the URL, so options are the plain names.
control = choice_control("Sweep this control", list(ss.SWEEPS), "shift", f"{PREFIX}_sweep", container=top[1])

st.markdown("**Predicted mask**")
columns = st.columns(len(ss.PREDICTION_PARAMS))
chosen = {
    name: param_control(param, f"{PREFIX}_{name}", container=col)
    for (name, param), col in zip(ss.PREDICTION_PARAMS.items(), columns, strict=True)
}
prediction = ss.Prediction(**chosen)
st.markdown("**Loss parameters** (Tversky's α and β: the pad under the masks)")
smooth = param_control(ss.SMOOTH, f"{PREFIX}_smooth", container=st.columns(3)[0],
                       help=f"{ss.SMOOTH.description} Used by Dice, Jaccard and Tversky.")
# One control for α and β, a pad whose URL keys are segmentation_alpha and segmentation_beta (control_key).
tversky_params = (LiveParam(ss.ALPHA, ss.TVERSKY_ALPHAS), LiveParam(ss.BETA, ss.TVERSKY_BETAS))
alpha, beta = pad_values(tversky_params, PREFIX)
settings = ss.LossSettings(smooth=smooth, alpha=alpha, beta=beta)

true = ss.true_mask(shape)
predicted = ss.predicted_mask(shape, prediction)
results, failures = cached_losses(shape, dataclasses.astuple(prediction), dataclasses.astuple(settings))
study = cached_smooth_study(dataclasses.astuple(prediction))
for name, message in failures.items():
    st.error(f"{TITLES[name]}: {message}")

# --- masks and numbers ----------------------------------------------------------------------------

metric_columns = st.columns(len(ss.LOSSES))
for name, col in zip(ss.LOSSES, metric_columns, strict=True):
    shown = f"{float(results[name].value):.4f}" if name in results else "undefined"
    col.metric(TITLES[name], shown, help=lossviz.spec(name).title)
left, right = st.columns([3, 2])
with left:
    show(figure_masks(true, predicted), key=f"{PREFIX}_chart_masks")
with right:
    st.markdown(
        f"Σg = **{study.sum_g[shape]:.0f}** true pixels; the prediction's soft count Σp = **{study.sum_p[shape]:.2f}**."
    )
    st.markdown(
        "All five numbers are losses, lower is better: the Dice coefficient is 1 − Dice loss, the IoU "
        "1 − Jaccard loss. BCE and pixel CE agree: the pixel CE is given the two logits (0, log(p/(1 − p))) per "
        f"pixel, whose softmax is (1 − p, p). p is kept within {ss.P_MIN:g} of 0 and 1, as a sigmoid output is, "
        f"so those logits are finite (|logit| ≤ {ss.LOGIT_CLIP:.1f})."
    )

# --- Tversky's α and β ----------------------------------------------------------------------------

st.header("Tversky: α weighs false positives, β false negatives")
grid = cached_tversky_grid(shape, dataclasses.astuple(prediction), settings.smooth)
live_pad(kept_figure(f"{PREFIX}_tversky", (shape, dataclasses.astuple(prediction), settings.smooth),
                     lambda: figure_tversky(grid)), tversky_params, PREFIX)
tp, fp_term, fn_term = grid.terms(alpha, beta)
st.caption(
    f"Drag the point of the pad (or use its two sliders) to move α and β; releasing it sets them for every number "
    f"and chart of the page. At α = {alpha:g}, β = {beta:g} the prediction above has TP = {tp:.1f}, "
    f"α·FP = {fp_term:.1f} and β·FN = {fn_term:.1f} (right). Left: the Tversky loss of the same prediction grown "
    "or shrunk by k; below k = 1 it misses object pixels (FN, weighed by β), above it spills onto the background "
    "(FP, weighed by α). Salehi, Erdogmus & Gholipour, Tversky Loss Function for Image Segmentation, MLMI 2017."
)

# --- sweep ----------------------------------------------------------------------------------------

st.header(f"Every loss against {SWEEP_LABELS[control].split(' (')[0]}")
sw = sweep_for(shape, prediction, settings, control)
current = settings.smooth if control == "smooth" else getattr(prediction, control)
show(figure_sweep(sw, current, SWEEP_LABELS[control], TITLES), key=f"{PREFIX}_chart_sweep")
for name, message in sw.errors.items():
    st.info(f"{TITLES[name]} is undefined at some points of this sweep (gaps in its curve): {message}")
tiny_plateau = ss.plateau_shift(sweep_for("tiny object", prediction, settings, "shift"))
explain(
    "**What to notice.** Sweep the shift on the tiny object: once the prediction has slid off the object "
    f"(|Δx| beyond about {tiny_plateau:g} pixels with the prediction set as above) the overlap losses sit at their "
    "ceiling, just below 1, and are flat — no "
    "gradient tells them which way the object lies — while BCE keeps rising as the fading tail of the soft edge "
    "leaves the missed pixels ever more confidently wrong (until p reaches its floor). Jaccard is never below Dice "
    "(at s = 0 the coefficients obey J = D/(2 − D)). Tversky with α = β = ½ is Dice with s doubled; raise β "
    "above α and missed pixels (false negatives) cost more than false alarms. On the tiny object the "
    "false-positive blob can hold more predicted mass than the object: watch Dice as you lower b."
)

# --- gradient maps --------------------------------------------------------------------------------

st.header("Where each loss pushes: per-pixel gradients")
maps = {name: results[name].grad for name in ss.LOSSES if name in results}
# The titles stay short (pixel CE's gradient is w.r.t. the logit, the caption says): five abreast fit 390 px.
show(figure_gradient_maps(maps, TITLES, true), key=f"{PREFIX}_chart_gradients")
st.caption(
    f"∂L/∂p per pixel (pixel CE: ∂L/∂logit). Blue: the gradient is negative, a descent step raises p there; red: "
    f"it lowers p. Each map has its own colour range, ± the {SATURATION_PERCENTILE:g}th percentile of |gradient| "
    "(larger values saturate; hover for the exact number). The green line is the true edge."
)
explain(
    "**What to notice.** The overlap losses couple all pixels through the sums TP, Σp and Σg: Dice's gradient is "
    "∂L/∂pᵢ = [(2TP + s) − 2gᵢ(Σp + Σg + s)] / (Σp + Σg + s)², one value for *every* object pixel and another "
    "for *every* background pixel, whether that pixel is predicted right or wrong. BCE is local: "
    "∂/∂pᵢ = (pᵢ − gᵢ) / (pᵢ(1 − pᵢ)) / HW is zero where a pixel is right and explodes where a confident "
    "prediction is wrong (the blob, a missed edge). The pixel CE map is the same gradient taken with respect to "
    "the logit, (pᵢ − gᵢ)/HW: the chain rule multiplies by dp/dlogit = p(1 − p), which cancels the explosion — "
    "the reason networks output logits and compute the loss from them."
)

# --- smooth ---------------------------------------------------------------------------------------

st.header("Empty masks, tiny objects and smooth")
left, right = st.columns([3, 2])
with left:
    show(figure_smooth_study(study, settings.smooth), key=f"{PREFIX}_chart_smooth")
with right:
    empty_p = study.sum_p["empty"]
    explain(
        "The Dice loss of every shape under the current prediction controls, against s. Where Σp + Σg is large "
        "(disc, square) s is irrelevant until it reaches the same size. For a **tiny object** a few pixels decide "
        "the score, and s of the order of Σg softens it towards 0. For an **empty mask**, TP = Σg = 0 and "
        f"Dice loss = Σp / (Σp + s): with s = 0 it is 1 for *any* prediction that is not exactly 0 — a sigmoid "
        f"never is — and exactly 0/0, undefined, for an all-zero prediction (lossviz raises an error instead of "
        f"returning NaN). Here Σp = {empty_p:.3g} for the empty mask: s = 1 gives {ss.empty_mask_dice(empty_p, 1.0):.4f}."
    )

if (formulas := lazy_expander("Formulas and references", f"{PREFIX}_formulas")).open:
    with formulas:
        loss_cards(ss.LOSSES)
