"""Landscape: a loss over its inputs with its gradient field, and the (w, b) landscape of a line fit."""

from __future__ import annotations

import numpy as np
import streamlit as st

import lossviz
from lossviz.figures.landscape import (
    FitPanel,
    figure_descent,
    figure_input_map,
    figure_input_surface,
)
from lossviz.studies import landscape as ll
from lossviz.toolkit.data import LINE_B_TRUE, LINE_DATA_PARAMS, LINE_W_TRUE, line_with_outliers
from lossviz.toolkit.fit import line_losses
from lossviz.toolkit.frames import log_ladder
from lossviz.toolkit.optim import DIVERGED, Adam, Trajectory
from lossviz.ui.cards import guarded, guarded_each, kept_figure, loss_card
from lossviz.ui.charts import lazy_tabs, show
from lossviz.ui.classroom import explain
from lossviz.ui.controls import (
    choice_control,
    control_key,
    loss_param_controls,
    multichoice_control,
    param_control,
    param_row,
    radio_control,
)
from lossviz.ui.live_chart import LiveParam, live_chart
from lossviz.ui.navigation import ensure_app
from lossviz.ui.session import loss_key

ensure_app()

PREFIX = "landscape"
FIT_PREFIX = "landscape_fit"


# --- section 1: a loss over its inputs ------------------------------------------------------------


def input_controls() -> tuple[str, dict[str, float], dict[str, float]]:
    options = ll.input_losses()
    default = ll.DEFAULT_INPUT_LOSS if ll.DEFAULT_INPUT_LOSS in options else options[0]
    left, right = st.columns([1, 3])
    loss = choice_control("Loss", options, default, f"{PREFIX}_loss", container=left)
    params: dict[str, float] = {}
    declared = lossviz.spec(loss).params
    for p, col in zip(declared, right.columns(max(len(declared), 1)), strict=False):
        params[p.name] = param_control(p, control_key(PREFIX, f"{loss}_{p.name}"), container=col)
    settings: dict[str, float] = {}
    if ll.is_multiclass(loss):
        cols = st.columns(3)
        classes = [str(c) for c in range(ll.N_CLASSES)]
        settings["target_class"] = int(
            radio_control("True class y", classes, "0", f"{PREFIX}_target_class", container=cols[0], horizontal=True)
        )
        settings["other_logit"] = param_control(ll.OTHER_LOGIT, f"{PREFIX}_other_logit", container=cols[1])
        if loss == "kl_div":
            settings["target_probability"] = param_control(
                ll.TARGET_PROBABILITY, f"{PREFIX}_target_probability", container=cols[2]
            )
    return loss, params, settings


@st.fragment
def input_section() -> None:
    st.header("A loss over its inputs")
    loss, params, settings = input_controls()
    land = guarded(
        loss,
        lambda: ll.two_logit_landscape(loss, params, **settings)
        if ll.is_multiclass(loss)
        else ll.pred_target_landscape(loss, params),
        (loss,),
    )
    if land is None:
        return
    if land.nonfinite:
        st.warning(f"{loss}: {land.nonfinite} grid points have no finite value; they are left blank.", icon=":material/warning:")
    map_tab, surface_tab = lazy_tabs(["Contour map and descent field", "3D surface"], f"{PREFIX}_view")
    if map_tab.open:
        with map_tab:
            show(figure_input_map(land), key=f"{PREFIX}_map")
    if surface_tab.open:
        with surface_tab:
            show(figure_input_surface(land), key=f"{PREFIX}_surface")
    text, _ = st.columns([3, 2])
    with text:
        loss_card(loss)
        if ll.is_multiclass(loss):
            explain(
                "Three classes; the map varies the logits z₀ and z₁ with z₂ fixed. For cross-entropy with true "
                "class 0, ∂L/∂z₀ = p₀ − 1 < 0 and ∂L/∂z₁ = p₁ > 0: descent raises z₀ and lowers z₁, and the loss "
                "only reaches 0 as z₀ − max(z₁, z₂) → ∞ — the minimum is at infinity unless label smoothing "
                "moves it to finite logits."
            )
        else:
            explain(
                "The target is data, not a parameter, so the descent field −∂L/∂p is horizontal: it is the pull "
                "on the prediction. A regression loss depends on p − y only, so its contours run parallel to the "
                "diagonal p = y. MSE's pull keeps growing with the distance; Huber's stops growing beyond "
                "|p − y| = δ, and MAE's is the same everywhere."
            )


# --- section 2: the (w, b) landscape of a line fit --------------------------------------------------


DataKey = tuple[int, float, int, float, int]


def _dataset(key: DataKey):
    return line_with_outliers(*key)


@st.cache_data(max_entries=64, show_spinner=False)
def fit_minimum(loss: str, identity: tuple, params: tuple, key: DataKey) -> ll.Minimum:
    data = _dataset(key)
    return ll.fit_minimum(loss, data.x, data.y, dict(params))


@st.cache_data(max_entries=32, show_spinner=False)
def fit_landscape(
    loss: str, identity: tuple, params: tuple, key: DataKey, window: tuple[float, float, float, float]
) -> np.ndarray:
    data = _dataset(key)
    return ll.parameter_landscape(loss, data.x, data.y, dict(params), *ll.window_axes(window))


@st.cache_data(max_entries=32, show_spinner=False)
def fit_paths(
    loss: str, identity: tuple, params: tuple, key: DataKey, start: tuple[float, float], rates: tuple[float, ...],
    steps: int,
) -> dict[str, Trajectory]:
    """GD and Adam for every learning rate the control offers: changing the rate is a cache hit."""
    data = _dataset(key)
    return ll.descend(loss, data.x, data.y, dict(params), start, rates, steps)


def fit_controls() -> tuple[list[str], DataKey, tuple[float, float], float, int, dict[str, dict[str, float]]]:
    options = line_losses()
    defaults = [n for n in ll.DEFAULT_FIT_LOSSES if n in options]
    losses = multichoice_control(
        "Losses to compare", options, defaults, f"{FIT_PREFIX}_losses", max_selections=ll.MAX_FIT_LOSSES,
        help="Pointwise regression and robust losses, side by side.",
    )
    w0, b0, lr, steps = param_row(
        FIT_PREFIX,
        [(ll.W_START, "w0", "start slope w₀"), (ll.B_START, "b0", "start intercept b₀"),
         (ll.LEARNING_RATE, "lr", "learning rate η"), (ll.STEPS, "steps", "steps")],
    )  # fmt: skip
    data_title = f"Dataset: y = {LINE_W_TRUE:g}x + {LINE_B_TRUE:g} + noise, with outliers shifted by a fixed amount"
    with st.expander(data_title):
        dcols = st.columns(len(LINE_DATA_PARAMS))
        key = tuple(
            param_control(p, f"{FIT_PREFIX}_{p.name}", container=c) for p, c in zip(LINE_DATA_PARAMS, dcols, strict=True)
        )
    params = loss_param_controls(losses, FIT_PREFIX)
    return losses, key, (w0, b0), lr, steps, params  # type: ignore[return-value]


@st.fragment
def fit_section() -> None:
    st.header("The parameter landscape of a line fit")
    explain(
        "Fit ŷ = w·x + b to the data below by minimising the mean loss F(w, b) = (1/n) Σᵢ L(w·xᵢ + b, yᵢ). "
        "MSE's landscape is a smooth elliptical bowl whose minimum the outliers drag away from the true line; "
        "MAE's is piecewise linear (polyhedral) with its minimum at a corner, where gradient descent with a "
        "fixed learning rate keeps zig-zagging; Huber's is quadratic near the minimum and linear far out. "
        "On MSE, gradient descent diverges once η exceeds 2/λ_max of the bowl's curvature; Adam's steps are "
        "about η long whatever the gradient, so it does not diverge, but with a constant η it does not settle "
        "exactly either."
    )
    losses, key, start, lr, steps, params = fit_controls()
    if not losses:
        st.info("Pick at least one loss to fit.")
        return
    try:
        data = _dataset(key)
    except ValueError as exc:
        st.error(f"Dataset: {exc}")
        return
    rates = tuple(log_ladder(ll.LEARNING_RATE))
    run = rates.index(min(rates, key=lambda r: abs(r - lr)))
    minima = guarded_each(
        losses, lambda name: fit_minimum(*loss_key(name, params[name]), key)
    )
    if not minima:
        return
    window = ll.landscape_window([(m.w, m.b) for m in minima.values()] + [start])
    w, b = ll.window_axes(window)

    def panel(name: str) -> FitPanel:
        grid = fit_landscape(*loss_key(name, params[name]), key, window)
        paths = fit_paths(*loss_key(name, params[name]), key, start, rates, steps)
        return FitPanel(name, w, b, grid, minima[name], start, ll.descent(paths, run, minima[name]))

    panels = list(guarded_each(minima, panel).values())
    if not panels:
        return
    shown = panels[0].descent.shown
    # Kept across reruns and sessions: a rerun for another section, or a setting seen before, neither rebuilds
    # the frames nor re-encodes them (lossviz.ui.live_chart caches a figure's encoding).
    ident = (tuple(loss_key(p.loss, params[p.loss]) for p in panels), key, start, run, steps)
    figure = kept_figure(f"{FIT_PREFIX}_descent", ident, lambda: figure_descent(panels, data), [p.loss for p in panels])
    if len(shown) > 1:
        live_chart(figure, LiveParam(ll.step_param(int(shown[-1])), shown), key=f"{FIT_PREFIX}_player", player=True)
    else:
        show(figure, key=f"{FIT_PREFIX}_start")  # no step to play
    diverged = [f"{p.loss} ({k})" for p in panels for k, d in p.descent.diverged.items() if d]
    if diverged:
        st.warning(
            f"Diverged at η = {rates[run]:g}: {', '.join(diverged)}; the path stops where |w| or |b| passed "
            f"{DIVERGED:,.0f}.",
            icon=":material/warning:",
        )
    if "mse" in minima:
        critical = ll.critical_learning_rate("mse", data.x, data.y, params["mse"], (minima["mse"].w, minima["mse"].b))
        st.caption(
            f"MSE's bowl on this data: largest curvature λ_max = {2 / critical:.4g}, so gradient descent on MSE "
            f"converges for η < 2/λ_max = {critical:.4g} and diverges beyond it (η = {rates[run]:g} now)."
        )
    st.caption(
        "Press play, or drag the step, to watch both optimisers descend: the point on each landscape (◆ gradient "
        "descent, ■ Adam), its line on the data (solid, dotted) and its distance to the minimum move together; "
        "the chart opens at the last step. "
        "Colour and contours: √(F − F*), so that a quadratic bowl shows evenly spaced rings (hover for F). "
        "Minimum: the exact line fit of lossviz.toolkit.fit. Paths: plain gradient descent and Adam "
        f"(β₁ = {Adam().betas[0]:g}, β₂ = {Adam().betas[1]:g}, as torch.optim.Adam) with the same η, each value and "
        "gradient from lossviz.evaluate. "
        "References: Huber (1964); Kingma & Ba, Adam, ICLR 2015; Li et al., Visualizing the Loss Landscape of "
        "Neural Nets, NeurIPS 2018."
    )


st.title("Loss landscapes")
input_section()
fit_section()
