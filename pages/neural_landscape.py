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
from lossviz.ui.charts import show
from lossviz.ui.controls import choice_control, param_control, param_controls, radio_control, toggle_control
from lossviz.ui.live_chart import LiveParam, live_chart
from lossviz.ui.session import landscapes_cache, runs_cache

PREFIX = "neural"
MODELS = ("default run", "last training-lab run")


def key(name: str) -> str:
    return f"{PREFIX}_{name}"


@st.cache_resource(max_entries=48, show_spinner=False)
def _kept_figure(kind: str, ident: tuple, _build: Callable[[], go.Figure]) -> go.Figure:
    return _build()


def kept_figure(kind: str, result: tr.TrainResult, ident: tuple, build: Callable[[], go.Figure],
                second: str | None = None) -> go.Figure:
    """A figure built once per (run, settings) and kept (never mutated): building and validating a Plotly
    figure costs more than the rest of a rerun. Figures of custom losses are rebuilt (their names are per
    session), and so are those of runs on uploaded data (which never leaves its session)."""
    builtin = result.setup.spec.builtin and (second is None or lossviz.spec(second).builtin)
    if not builtin or result.config.data.private:
        return build()
    return _kept_figure(kind, (tr.canonical(result.config), *ident), build)


def guarded(what: str, fn: Callable[[], Any]) -> Any:
    """Run a core call; show a ValueError (or a custom formula's failure) instead of raising it."""
    try:
        return fn()
    except ValueError as exc:
        st.error(f"{what}: {exc}")
    except Exception as exc:  # a custom formula may fail in ways no declaration foresaw
        st.error(f"{what} failed ({type(exc).__name__}: {exc})")
    return None


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
    k = key("second")
    if k in st.session_state and st.session_state[k] not in options:
        st.session_state[k] = default
    cols = st.columns([1, 2])
    name = choice_control("Second loss", options, default, k, container=cols[0],
                          help="Scores the same network on the same plane: compatible losses with as many outputs.")
    with cols[1]:
        params = param_controls(name, key("second"))
    return name, params


st.title("Neural landscape")
st.markdown(
    "What does the loss of a neural network look like around the weights training found? Following Li et al., "
    "*Visualizing the Loss Landscape of Neural Nets* (NeurIPS 2018): the loss along the straight line from the "
    "initial to the trained weights, on a plane spanned by two **filter-normalised** random directions, and the "
    "optimiser's path on the two directions along which the weights moved most (PCA of the weight history)."
)

def trained(config: tr.TrainConfig) -> tr.TrainResult:
    """The run of ``config`` from the cache, or trained now with its progress shown (no blank wait)."""
    cache = runs_cache(config)
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
result = guarded("Training the model", lambda: trained(config))
if result is None:
    st.stop()
st.caption(describe(result))


@st.fragment
def interpolation_section(result: tr.TrainResult) -> None:
    st.subheader("1-D: from the initial to the trained weights")
    log = toggle_control("log-scale loss axis", False, key("interp_log"))
    interp = guarded("Interpolation",
                     lambda: nl.cached(nl.compute_interpolation, result, cache=landscapes_cache(result.config)))
    if interp is None:
        return
    fig = kept_figure("interpolation", result, (log,), lambda: figure_interpolation(
        interp.alphas, interp.train_loss, interp.val_loss, interp.train_metric, interp.val_metric,
        result.curves.metric, log=log))
    show(fig, key=key("interpolation"))
    st.caption(
        "θ(α) = (1 − α)·θ₀ + α·θ₁: α = 0 is the initial network, α = 1 the trained one (Goodfellow, Vinyals & Saxe, "
        "ICLR 2015; Li et al. §3). A smooth, monotone descent means nothing stood between start and solution along "
        "this line; past α = 1 the line overshoots the solution and the loss typically rises again."
    )


@st.fragment
def plane_section(result: tr.TrainResult) -> None:
    st.subheader("2-D: two filter-normalised random directions")
    cols = st.columns(4)
    resolution = int(param_control(nl.RESOLUTION, key("resolution"), container=cols[0], label="Resolution"))
    span = param_control(nl.SPAN, key("span"), container=cols[1], label="Span ± of a and b")
    seed = int(param_control(nl.DIRECTION_SEED, key("seed"), container=cols[2], label="Direction seed"))
    log = toggle_control("log colour scale", True, key("log"), container=cols[3])
    plane = guarded("2-D slice", lambda: nl.cached(nl.compute_random_slice, result, resolution, span, seed,
                                                  cache=landscapes_cache(result.config)))
    if plane is None:
        return
    left, right = st.columns(2)
    ident = (resolution, span, seed, log)
    with left:
        show(kept_figure("contour", result, ident, lambda: figure_plane_contour(plane.xs, plane.ys, plane.z, log=log)),
             key=key("contour"))
    with right:
        show(kept_figure("surface", result, ident, lambda: figure_plane_surface(plane.xs, plane.ys, plane.z, log=log)),
             key=key("surface"))
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
    other = guarded(
        f"Slice for {second}",
        lambda: nl.cached(nl.compute_random_slice, result, resolution, span, seed, loss=second, params=second_params,
                          cache=landscapes_cache(result.config)),
    )
    if other is None:
        return
    ident = (resolution, span, seed, log, second, tuple(sorted(second_params.items())))
    fig = kept_figure("two_losses", result, ident, lambda: figure_two_losses(
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
    cols = st.columns(4)
    resolution = int(param_control(nl.RESOLUTION, key("pca_resolution"), container=cols[0], label="Resolution"))
    log = toggle_control("log colour scale", True, key("pca_log"), container=cols[1])
    pca = guarded("PCA trajectory",
                  lambda: nl.cached(nl.compute_pca_slice, result, resolution, cache=landscapes_cache(result.config)))
    if pca is None:
        return
    epochs = result.snapshots.epochs
    fig = kept_figure("pca", result, (resolution, log), lambda: figure_pca_player(pca, result.curves, epochs, log=log))
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

with st.expander("Formulas and references"):
    s = lossviz.spec(result.config.loss)
    st.markdown(f"**Training loss: {s.title}** (`{s.name}`)")
    st.latex(s.latex)
    if s.references:
        st.caption("Reference: " + "; ".join(s.references))
    st.latex(r"\delta_{i,j} \leftarrow \frac{\delta_{i,j}}{\lVert \delta_{i,j} \rVert}\,\lVert \theta^*_{i,j} \rVert"
             r"\quad\text{(filter } j \text{ of layer } i\text{)}")
    st.caption(
        "Li, Xu, Taylor, Studer & Goldstein, Visualizing the Loss Landscape of Neural Nets, NeurIPS 2018 (§3 "
        "interpolation, §4 filter normalisation, §7 PCA trajectories); Goodfellow, Vinyals & Saxe, Qualitatively "
        "Characterizing Neural Network Optimization Problems, ICLR 2015."
    )
