"""Neural landscape: the loss of a trained MLP along the interpolation line, random planes and its PCA trajectory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import streamlit as st

import lossviz
from lossviz.figures.neural_landscape import (
    figure_interpolation,
    figure_pca_player,
    figure_plane_contour,
    figure_plane_surface,
    figure_two_losses,
)
from lossviz.studies import neural_landscape as nl
from lossviz.toolkit import training as tr
from lossviz.ui.cards import guarded, kept_figure, loss_card
from lossviz.ui.charts import lazy_expander, lazy_tabs, show
from lossviz.ui.classroom import explain
from lossviz.ui.controls import choice_control, param_control, param_controls, radio_control, toggle_control
from lossviz.ui.live_chart import LiveParam, live_chart
from lossviz.ui.navigation import ensure_app
from lossviz.ui.session import results_cache

ensure_app()

PREFIX = "neural"
MODELS = ("default run", "last training-lab run")


def key(name: str) -> str:
    return f"{PREFIX}_{name}"


def run_figure(
    kind: str, result: tr.TrainResult, ident: tuple, build: Callable[[], go.Figure], *losses: str
) -> go.Figure:
    """:func:`kept_figure` for a figure of ``result`` with these settings (and these other losses)."""
    return kept_figure(
        key(kind), (tr.canonical(result.config), *ident), build, (result.config.loss, *losses), result.config.data.private
    )


def landscape(
    what: str, result: tr.TrainResult, compute: Callable[..., Any], *args: Any, loss: str | None = None, **kwargs: Any
) -> Any:
    """An interpolation or slice of ``result``'s network (scored by ``loss``, else its own), cached, or None
    after showing why it failed."""
    losses = (result.config.loss,) if loss is None else (result.config.loss, loss)
    cache = results_cache(result.config, nl.LANDSCAPES)
    return guarded(what, lambda: nl.cached(compute, result, *args, loss=loss, cache=cache, **kwargs), losses)


def chosen_config() -> tr.TrainConfig:
    source = radio_control("Model", list(MODELS), MODELS[0], key("model"), horizontal=True,
                           help="The default run (two moons, 2×16 ReLU MLP, BCE with logits, Adam) or the "
                                "configuration last trained on the Training lab page in this session.")
    if source == MODELS[1]:
        config = st.session_state.get(tr.LAST_RUN_KEY)
        if isinstance(config, tr.TrainConfig):
            return config
        st.info("No run from the Training lab in this session yet: showing the default run. Train one there first.")
    return tr.default_config()


def describe(result: tr.TrainResult) -> str:
    c = result.config
    s = result.setup
    return (
        f"{c.data.name} ({c.data.n_samples} points, seed {c.data.seed}) · MLP {' × '.join(map(str, s.model.sizes))} "
        f"({c.activation}, {s.model.n_params} parameters) · loss `{c.loss}` · {tr.OPTIMIZERS[c.optimizer]} η = {c.lr:g}, "
        f"batch {c.batch_size}, {int(result.curves.epochs[-1])} epochs"
    )


def second_loss_control(result: tr.TrainResult) -> tuple[str | None, dict[str, float]]:
    su = result.setup
    options = [n for n in tr.compatible_losses(su.dataset.task, max(su.dataset.n_classes, 2), su.head.n_outputs)
               if n != su.spec.name]
    if not options:
        st.info("No other loss of the catalogue fits this network's outputs.")
        return None, {}
    preferred = [n for n in ("mse", "bce_logits", "hinge", "multi_margin", "mae") if n in options]
    default = preferred[0] if preferred else options[0]
    cols = st.columns([1, 2])
    name = choice_control("Second loss", options, default, key("second"), container=cols[0],
                          help="Scores the same network on the same plane: compatible losses with as many outputs.")
    with cols[1]:
        params = param_controls(name, key("second"))
    return name, params


st.title("Neural landscape")
explain(
    "What does the loss of a neural network look like around the weights training found? Following Li et al., "
    "*Visualizing the Loss Landscape of Neural Nets* (NeurIPS 2018): the loss along the straight line from the "
    "initial to the trained weights, on a plane spanned by two **filter-normalised** random directions, and the "
    "optimiser's path on the two directions along which the weights moved most (PCA of the weight history)."
)

def trained(config: tr.TrainConfig) -> tr.TrainResult:
    """The run of ``config`` from the cache, or trained now with its progress shown (no blank wait)."""
    cache = results_cache(config, tr.RUNS)
    found = cache.get(tr.canonical(config), lossviz.spec(config.loss))
    if found is not None:
        return found
    bar = st.progress(0.0, text="Training the model …")

    def progress(epoch: int, epochs: int, _curves: tr.Curves) -> None:
        bar.progress(epoch / epochs, text=f"Training the model: epoch {epoch}/{epochs}")

    result, _cached = tr.cached_train(config, progress, cache=cache)
    bar.empty()
    return result


config = chosen_config()
result = guarded("Training the model", lambda: trained(config), (config.loss,))
if result is None:
    st.stop()
st.caption(describe(result))


@st.fragment
def interpolation_section(result: tr.TrainResult) -> None:
    st.subheader("1-D: from the initial to the trained weights")
    log = toggle_control("log-scale loss axis", False, key("interp_log"))
    interp = landscape("Interpolation", result, nl.compute_interpolation)
    if interp is None:
        return
    fig = run_figure("interpolation", result, (log,), lambda: figure_interpolation(
        interp.alphas, interp.train_loss, interp.val_loss, interp.train_metric, interp.val_metric,
        result.curves.metric, log=log))
    show(fig, key=key("interpolation"))
    st.caption(
        "θ(α) = (1 − α)·θ₀ + α·θ₁: α = 0 is the initial network, α = 1 the trained one (Goodfellow, Vinyals & Saxe, "
        "ICLR 2015; Li et al. §3). A smooth, monotone descent means nothing stood between start and solution along "
        "this line; past α = 1 the line overshoots the solution and the loss typically rises again."
    )


def slice_controls(controls: list[tuple[lossviz.Param, str, str]], log_name: str) -> tuple[list[float], bool]:
    """The settings of a slice side by side, ``(param, name, label)`` each, and its log-colour toggle last."""
    columns = st.columns(4)
    values = [
        param_control(param, key(name), container=column, label=label)
        for (param, name, label), column in zip(controls, columns, strict=False)
    ]
    return values, toggle_control("log colour scale", True, key(log_name), container=columns[-1])


@st.fragment
def plane_section(result: tr.TrainResult) -> None:
    st.subheader("2-D: two filter-normalised random directions")
    (resolution, span, seed), log = slice_controls(
        [(nl.RESOLUTION, "resolution", "Resolution"), (nl.SPAN, "span", "Span ± of a and b"),
         (nl.DIRECTION_SEED, "seed", "Direction seed")],
        "log",
    )  # fmt: skip
    plane = landscape("2-D slice", result, nl.compute_random_slice, resolution, span, seed)
    if plane is None:
        return
    contour_tab, surface_tab = lazy_tabs(["Contour map", "3D surface"], key("view"))
    ident = (resolution, span, seed, log)
    if contour_tab.open:
        with contour_tab:
            show(run_figure("contour", result, ident,
                            lambda: figure_plane_contour(plane.xs, plane.ys, plane.z, log=log)), key=key("contour"))
    if surface_tab.open:
        with surface_tab:
            show(run_figure("surface", result, ident,
                            lambda: figure_plane_surface(plane.xs, plane.ys, plane.z, log=log)), key=key("surface"))
    st.caption(
        f"θ* + a·δ + b·η with Gaussian δ, η whose every filter (a unit's incoming weights) has been rescaled to the "
        f"norm of the same filter of θ*, biases left at 0 (Li et al. §4): that makes slices of different networks "
        f"comparable. {resolution}×{resolution} = {resolution**2} networks evaluated in one batch in "
        f"{plane.seconds:.2f} s on {tr.DEVICE.type.upper()}."
    )
    two_losses_section(result, resolution, span, seed, log, plane)


@st.fragment
def two_losses_section(result: tr.TrainResult, resolution: int, span: float, seed: int, log: bool, plane: nl.Slice) -> None:
    st.subheader("The same slice, scored by two losses")
    second, second_params = second_loss_control(result)
    if second is None:
        return
    other = landscape(
        f"Slice for {second}", result, nl.compute_random_slice, resolution, span, seed, loss=second,
        params=second_params,
    )
    if other is None:
        return
    ident = (resolution, span, seed, log, second, tuple(sorted(second_params.items())))
    fig = run_figure("two_losses", result, ident, lambda: figure_two_losses(
        plane.xs, plane.ys, [(result.config.loss, plane.z), (second, other.z)], log=log), second)
    show(fig, key=key("two_losses"))
    s = lossviz.spec(second)
    st.caption(
        f"Same network, same plane and directions (the star: the trained weights); only the loss differs. "
        f"{s.title}: {s.use_when} The shapes of "
        "the basins — flat or sharp, round or elongated — belong to the loss as much as to the network."
    )


@st.fragment
def pca_section(result: tr.TrainResult) -> None:
    st.subheader("The optimiser's path on the top-2 PCA directions")
    (resolution,), log = slice_controls([(nl.RESOLUTION, "pca_resolution", "Resolution")], "pca_log")
    pca = landscape("PCA trajectory", result, nl.compute_pca_slice, resolution)
    if pca is None:
        return
    epochs = result.snapshots.epochs
    fig = run_figure("pca", result, (resolution, log), lambda: figure_pca_player(pca, result.curves, epochs, log=log))
    live_chart(fig, LiveParam(tr.epoch_param(int(epochs[-1])), epochs), key=key("pca_player"), player=True)
    far, largest = pca.beyond_a_step()
    st.caption(
        "PCA of the weight history θ₀ − θₙ, …, θₙ₋₁ − θₙ (one point per epoch); each epoch's weights are projected "
        "on the two leading directions, the final weights at the origin (Li et al. §7). Random directions in a "
        "high-dimensional space are almost orthogonal to the path, which is why the path is drawn on these instead; "
        "the axis titles say how much of the path's variation the plane holds. Press play, or drag the epoch, to "
        "follow the run on the plane and on its loss curve together."
    )
    st.caption(
        f"A checkpoint is not on the plane: the loss drawn under its dot is the loss of its projection. Its colour "
        f"(and the lower chart) gives its distance from the plane in units of the step that led to it: "
        f"{far} of {len(pca.path)} checkpoints lie more than one step away (up to {largest:.3g} steps), where the "
        "path on the plane is not the path the weights took. That is what the plane cannot show "
        "(tomgoldstein/loss-landscape issues #1 and #18)."
    )


interpolation_section(result)
plane_section(result)
pca_section(result)

if (formulas := lazy_expander("Formulas and references", key("formulas"))).open:
    with formulas:
        loss_card(result.config.loss, label="Training loss")
        st.latex(r"\delta_{i,j} \leftarrow \frac{\delta_{i,j}}{\lVert \delta_{i,j} \rVert}\,\lVert \theta^*_{i,j} \rVert"
                 r"\quad\text{(filter } j \text{ of layer } i\text{)}")
        st.caption(
            "Li, Xu, Taylor, Studer & Goldstein, Visualizing the Loss Landscape of Neural Nets, NeurIPS 2018 (§3 "
            "interpolation, §4 filter normalisation, §7 PCA trajectories); Goodfellow, Vinyals & Saxe, Qualitatively "
            "Characterizing Neural Network Optimization Problems, ICLR 2015."
        )
