"""Focal γ: Lin et al.'s focal loss against p_t, its modulating factor and gradient; γ on imbalanced data."""

from __future__ import annotations

import streamlit as st

import lossviz
from lossviz.figures.focal import (
    Boundary,
    figure_boundaries,
    figure_focal_curves,
    figure_loss_share,
    figure_pr_curves,
)
from lossviz.studies import focal as fs
from lossviz.toolkit import data as td
from lossviz.ui.cards import kept_figure, loss_card
from lossviz.ui.charts import show, show_table
from lossviz.ui.classroom import explain
from lossviz.ui.controls import control_key, param_row, toggle_control
from lossviz.ui.live_chart import LiveParam, live_pad, pad_values
from lossviz.ui.navigation import ensure_app

ensure_app()

PREFIX = "focal"
CE_COLOR, FOCAL_COLOR = "#1f77b4", "#2ca02c"


@st.cache_data(max_entries=2, show_spinner=False)
def cached_grid(weighting: bool) -> fs.FocalGrid:
    """The live curves at every (γ, α) of the pad; independent of the committed γ and α."""
    return fs.pad_grid(weighting)


@st.cache_data(max_entries=32, show_spinner="Training the logistic models …")
def cached_model(loss: str, params: tuple, ratio: float, separation: float, seed: int) -> fs.Logistic:
    return fs.train_logistic(loss, td.imbalanced_blobs(ratio, separation, seed), dict(params))


@st.cache_data(max_entries=32, show_spinner=False)
def cached_share(ratio: float, separation: float, seed: int, alpha: float) -> tuple:
    """Share of the focal loss from examples with p_t > 0.6 (under the CE model) for γ = 0 … 5."""
    data = td.imbalanced_blobs(ratio, separation, seed)
    logits = cached_model("bce_logits", (), ratio, separation, seed).logits(data.x)
    return fs.well_classified_share(logits, data.y, fs.SHARE_GAMMAS, alpha), fs.easy_fraction(logits, data.y)


spec = lossviz.spec("focal")
st.title("Focal loss: what γ does")
explain(
    "Focal loss rescales cross-entropy by **(1 − p_t)^γ**, where p_t is the probability the model gives the "
    "true class. Examples it already gets right (p_t near 1) lose almost all their loss and gradient, so "
    "training concentrates on the hard, misclassified ones — the cure Lin et al. found for one-stage detectors "
    "swamped by about 100 000 easy background boxes per image. γ = 0 is plain cross-entropy; α weights the "
    "positive class (α) against the negative one (1 − α)."
)
loss_card(spec, heading=False)

# One γ × α pad on the chart: the old sliders' URL keys focal_focal_gamma and focal_focal_alpha are its keys.
PAD_KEY = control_key(PREFIX, spec.name)
pad = (LiveParam(spec.param("gamma"), fs.GAMMA_FRAMES), LiveParam(spec.param("alpha"), fs.ALPHA_FRAMES))
gamma, alpha_pad = pad_values(pad, PAD_KEY)
weighting = toggle_control("weight by α", True, f"{PREFIX}_weighting",
                           help="Off: α = −1, no class weighting (as in Fig. 1 of the paper); the pad's α then "
                                "changes nothing.")
alpha = alpha_pad if weighting else -1.0

try:
    grid = cached_grid(weighting)
except ValueError as exc:
    st.error(str(exc))
    st.stop()
# The figure is drawn at the pad's defaults and kept across reruns (the pad shows the committed frame): a commit
# re-sends the pad's state, not 441 frames' worth of curves.
at_default = (pad[0].index(pad[0].default), pad[1].index(pad[1].default))
live_pad(kept_figure(f"{PREFIX}_curves", weighting, lambda: figure_focal_curves(
    fs.focal_curves(fs.P_T, fs.LIN_GAMMAS, -1.0), grid, at_default)), pad, PAD_KEY)  # Lin's curves: on a new figure only
st.caption(
    f"Thin curves: Fig. 1 of Lin et al. (γ = {', '.join(f'{g:g}' for g in fs.LIN_GAMMAS)}; no α). Black: the "
    "α-balanced loss −α_t (1 − p_t)^γ log p_t and its gradient for a positive example (solid, α_t = α) and a "
    "negative one (dashed, α_t = 1 − α), each with probability p_t for its true class, and (1 − p_t)^γ (dotted). "
    "Drag the pad (or its γ and α sliders) to move them without waiting for the page; releasing it sets γ and α "
    "for the link and for the models below. The gradient is taken with respect to the logit x, so for γ = 0 with "
    "α off it is 1 − p_t."
)

ratios = fs.ce_to_focal_ratio(fs.RATIO_P_T, gamma)
st.markdown(
    f"**How much less loss than cross-entropy** at γ = {gamma:g}: "
    + ", ".join(f"p_t = {p:g}: {r:,.0f}×" if r >= 10 else f"p_t = {p:g}: {r:.3g}×" for p, r in zip(fs.RATIO_P_T, ratios, strict=True))
    + ". Lin et al. quote 100× at p_t = 0.9 and about 1000× at p_t ≈ 0.968 for γ = 2."
)

st.subheader("On an imbalanced set")
explain(
    "A rare class (red) against a common one (grey). Below, a logistic model trained to convergence with "
    "cross-entropy and one trained with focal loss at the live γ and α. Focal loss mostly moves the boundary "
    "(the threshold at p = 0.5), which changes the minority recall; a linear model's *ranking* — and so its "
    "PR-AUC — changes much less."
)
ratio, separation, seed = param_row(
    PREFIX,
    [(td.BLOBS_RATIO, "ratio", "majority : minority ratio"), (td.BLOBS_SEPARATION, "separation", "class separation d"),
     (td.SEED, "seed", "seed")],
)  # fmt: skip

train = td.imbalanced_blobs(ratio, separation, seed)
test = td.imbalanced_blobs(ratio, separation, seed + 1)
try:
    ce = cached_model("bce_logits", (), ratio, separation, seed)
    focal = cached_model("focal", (("alpha", alpha), ("gamma", gamma)), ratio, separation, seed)
    share, easy = cached_share(ratio, separation, seed, alpha)
except ValueError as exc:
    st.error(str(exc))
    st.stop()

labels = {"cross-entropy": ce, f"focal (γ = {gamma:g}, {'α off' if alpha < 0 else f'α = {alpha:g}'})": focal}
colors = dict(zip(labels, (CE_COLOR, FOCAL_COLOR), strict=True))
left, right = st.columns(2)
with left:
    show(figure_boundaries(train, [Boundary(k, m.w, m.b, colors[k]) for k, m in labels.items()]))
    st.caption(f"Training set: {train.y.size - train.n_minority} majority, {train.n_minority} minority points. "
               "Lines: where each model gives p = 0.5.")
comparison = fs.compare_models(labels, test)
with right:
    average_precision = {k: s.average_precision for k, s in comparison.scores.items()}
    show(figure_pr_curves(comparison.curves, colors, average_precision, comparison.base_rate))
    st.caption("On a test set drawn with the next seed. AP (PR-AUC) = Σ (Rₖ − Rₖ₋₁)·Pₖ over the score thresholds.")

show_table(fs.metrics_table(labels, comparison), decimals=3)

show(figure_loss_share(fs.SHARE_GAMMAS, share, easy, gamma), key=f"{PREFIX}_share")
st.caption(
    f"Scored with the cross-entropy model: {100 * easy:.1f} % of the training examples have p_t > "
    f"{fs.WELL_CLASSIFIED:g}. With γ = 0 they carry {100 * fs.share_at(share, 0.0):.1f} % of the total loss; at "
    f"γ = {gamma:g}, {100 * fs.share_at(share, gamma):.1f} %. As γ grows their share collapses and the loss — and "
    "the gradient — comes from the hard examples. Lin et al. (§5.1, Fig. 4) show the same for RetinaNet's negatives."
)
