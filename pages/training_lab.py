"""Training lab: train a small MLP on toy data or the user's own CSV with any catalogue loss; L1 vs L2; a
weighted sum of two losses."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import lossviz
from lossviz.figures.training_lab import (
    figure_confusion_matrices,
    figure_multitask,
    figure_predicted_vs_actual,
    figure_regularization,
    figure_run,
    figure_training_curves,
    figure_weight_histogram,
)
from lossviz.studies import training_lab as rv
from lossviz.toolkit import data as td
from lossviz.toolkit import tables as ud
from lossviz.toolkit import training as tr
from lossviz.toolkit.tables import Table
from lossviz.ui.charts import show
from lossviz.ui.controls import (
    choice_control,
    multichoice_control,
    param_control,
    param_controls,
    radio_control,
    toggle_control,
)
from lossviz.ui.live_chart import LiveParam, live_chart
from lossviz.ui.session import runs_cache
from lossviz.ui.upload import table_source

PREFIX = "training"
SOURCES = {"generated": "Generated toy data", "upload": "Your CSV file"}


def key(name: str) -> str:
    return f"{PREFIX}_{name}"


@st.cache_resource(max_entries=48, show_spinner=False)
def _kept_figure(kind: str, ident: tuple, _build: Callable[[], go.Figure]) -> go.Figure:
    return _build()


def kept_figure(kind: str, ident: tuple, build: Callable[[], go.Figure], shared: bool = True) -> go.Figure:
    """A figure built once per ``ident`` and kept (never mutated): building and validating a Plotly figure
    costs more than the rest of a rerun. Figures that may not be shared across sessions (see :func:`shareable`)
    are rebuilt."""
    return _kept_figure(kind, ident, build) if shared else build()


def apply_preset(state: dict[str, object]) -> None:
    st.session_state[key("source")] = "generated"
    for name, value in state.items():
        st.session_state[key(name)] = value


def keep_valid(name: str, options: list[str], default: Any) -> None:
    """Reset a control whose stored value is no longer among its options (the task changed)."""
    k = key(name)
    if k not in st.session_state:
        return
    value = st.session_state[k]
    if isinstance(value, list):
        kept = [v for v in value if v in options]
        if kept != value:
            st.session_state[k] = kept or default
    elif value not in options:
        st.session_state[k] = default


# --- controls ---------------------------------------------------------------------------------------


def data_controls(container) -> td.DataConfig:
    with container:
        st.markdown("**Data**")
        name = choice_control("Dataset", list(td.DATASETS), "moons", key("dataset"), help="Generated in code from the seed.")
        st.caption(td.DATASETS[name].description)
        noise = param_control(td.NOISE, key("noise"), label="Noise σ")
        n = param_control(td.N_SAMPLES, key("n_samples"), label="Points")
        seed = param_control(td.SEED, key("seed"), label="Seed")
        val = param_control(td.VAL_FRACTION, key("val_fraction"), label="Validation share")
        extra: dict[str, float] = {}
        if name == "spiral":
            extra["classes"] = param_control(td.CLASSES, key("classes"), label="Classes K (spiral arms)")
        elif name == "blobs":
            extra["minority"] = param_control(td.MINORITY, key("minority"), label="Rare-class share")
        elif name == "regression":
            extra["outliers"] = param_control(td.OUTLIERS, key("outliers"), label="Outlier share")
    return td.DataConfig(name=name, n_samples=int(n), noise=noise, seed=int(seed), val_fraction=val, **extra)


def user_data_controls(container, table: Table, target: str, file_name: str) -> ud.UserData:
    """Rows, seed and split for the user's table (validated by :func:`table_source`)."""
    memo = st.session_state.setdefault(key("_user_data"), {})
    if memo.get("table") is not table:  # the content digest is computed once per validated table
        memo.update(table=table, data=ud.from_table(table, target, file_name))
    base: ud.UserData = memo["data"]
    with container:
        st.markdown("**Data**")
        rows = param_control(ud.ROWS, key("rows"), label="Rows used",
                             help=f"{ud.ROWS.description} This file has {base.rows_in_file:,} usable rows.")
        seed = param_control(td.SEED, key("seed"), label="Seed")
        val = param_control(td.VAL_FRACTION, key("val_fraction"), label="Validation share")
        standardize = base.task == "regression" and toggle_control(
            "Standardise the target", True, key("standardize_y"),
            help="Train on (y − mean)/sd, so that the default learning rates suit any unit and a loss's scale "
                 "parameters (Huber's δ …) count in standard deviations of y. Plots and the RMSE stay in y's units.",
        )
        data = dataclasses.replace(base, rows=int(rows), seed=int(seed), val_fraction=val,
                                   standardize_target=bool(standardize))
        st.caption(data.describe())
    return data


def source_control() -> str:
    return radio_control("Data", list(SOURCES), "generated", key("source"), horizontal=True, format_func=SOURCES.get,
                         help="A generated toy set, or a CSV of your own: feature columns and a target column.")


def model_controls(container, data: td.DataSource) -> dict[str, Any]:
    n_classes = max(data.n_classes, 2)
    options = tr.compatible_losses(data.task, n_classes)
    default = tr.DEFAULT_LOSS[data.task]
    keep_valid("loss", options, default)
    with container:
        st.markdown("**Model and loss**")
        layers = param_control(tr.HIDDEN_LAYERS, key("hidden_layers"), label="Hidden layers")
        width = param_control(tr.WIDTH, key("width"), label="Units per layer")
        activation = choice_control("Activation", list(tr.ACTIVATIONS), "relu", key("activation"))
        loss = choice_control(
            "Loss", options, default, key("loss"),
            help="Every catalogue loss (custom ones included) whose declared pred/target domains fit this task.",
        )
        params = param_controls(loss, PREFIX)
    return {"hidden_layers": int(layers), "width": int(width), "activation": activation, "loss": loss,
            "loss_params": params}


def optimiser_controls(container) -> dict[str, Any]:
    with container:
        st.markdown("**Optimiser**")
        optimizer = choice_control(
            "Optimiser", list(tr.OPTIMIZERS), "adam", key("optimizer"),
            help="sgd, momentum (SGD with heavy-ball momentum 0.9), adam, rmsprop — torch.optim's update rules.",
        )
        lr = param_control(tr.LEARNING_RATE, key("lr"), label="Learning rate η")
        batch = param_control(tr.BATCH_SIZE, key("batch_size"), label="Batch size")
        epochs = param_control(tr.EPOCHS, key("epochs"), label="Epochs")
        l1 = param_control(tr.L1_PENALTY, key("l1"), label="L1 penalty λ₁")
        l2 = param_control(tr.L2_PENALTY, key("l2"), label="L2 penalty λ₂")
    return {"optimizer": optimizer, "lr": lr, "batch_size": int(batch), "epochs": int(epochs), "l1": l1, "l2": l2}


def comparison_controls(config: tr.TrainConfig) -> list[tuple[str, tr.TrainConfig]]:
    """The runs to show: the configuration alone, or 2–4 variants of one setting."""
    cols = st.columns([1.3, 1, 3])
    compare = toggle_control("Compare runs", False, key("compare"), container=cols[0],
                             help="Train 2–4 variants of one setting on the same data and seed.")
    if not compare:
        return [("run", config)]
    dimension = choice_control(
        "Vary", list(tr.COMPARE_DIMENSIONS), "lr", key("vary"), container=cols[1],
        help="; ".join(f"{k}: {v}" for k, v in tr.COMPARE_DIMENSIONS.items()),
    )
    task, n_classes = config.data.task, max(config.data.n_classes, 2)
    options = tr.compare_options(dimension, task, n_classes)
    defaults = tr.compare_defaults(dimension, task, n_classes)
    keep_valid(f"values_{dimension}", options, defaults)
    values = multichoice_control(
        f"Values of the {tr.COMPARE_DIMENSIONS[dimension]}", options, defaults, key(f"values_{dimension}"),
        container=cols[2], max_selections=tr.MAX_COMPARED,
    )
    if len(values) < 2:
        st.info("Pick at least two values to compare; showing the single run meanwhile.")
        return [("run", config)]
    label = tr.COMPARE_DIMENSIONS[dimension]
    if dimension == "loss":
        st.caption(f"Each compared loss uses its default parameters; {config.loss} keeps the ones set above.")
    return [(f"{label} = {v}", tr.varied(config, dimension, v)) for v in values]


# --- training with live curves ------------------------------------------------------------------------


def train_all(runs: list[tuple[str, tr.TrainConfig]]) -> list[tuple[str, tr.TrainResult]]:
    """Each run from the cache or trained now, with a progress bar and curves that grow during training (the
    played run replaces them once every run is done)."""
    curves_slot = st.empty()
    progress_slot = st.empty()
    done: list[tuple[str, tr.TrainResult]] = []
    log_loss = st.session_state.get(key("logloss"), False)
    for index, (label, config) in enumerate(runs):
        found = runs_cache(config).get(tr.canonical(config), lossviz.spec(config.loss))
        if found is None:
            bar = progress_slot.progress(0.0, text=f"Training {label} ({index + 1}/{len(runs)}) …")
            found = _train_live(label, config, done, curves_slot, bar, log_loss)
        done.append((label, found))
    progress_slot.empty()
    curves_slot.empty()
    return done


def shareable(runs: list[tuple[str, tr.TrainConfig]]) -> bool:
    """Whether the runs' figures may be kept for every session: built-in losses on generated data only
    (custom loss names are per session; uploaded data never leaves its session)."""
    return all(lossviz.spec(c.loss).builtin and not c.data.private for _label, c in runs)


def _train_live(label, config, done, curves_slot, bar, log_loss) -> tr.TrainResult:
    def progress(epoch: int, epochs: int, curves: tr.Curves) -> None:
        bar.progress(epoch / epochs, text=f"Training {label}: epoch {epoch}/{epochs}")
        shown = [(lb, r.curves) for lb, r in done] + [(label, curves)]
        fig = figure_training_curves(shown, log_loss=bool(log_loss))
        show(fig, key=key(f"curves_{len(done)}_{epoch}"), container=curves_slot)

    result, _cached = tr.cached_train(config, progress, cache=runs_cache(config))
    return result


def guarded(what: str, fn: Callable[[], Any]) -> Any:
    """Run a core call; show a ValueError (or a custom formula's failure) instead of raising it."""
    try:
        return fn()
    except ValueError as exc:
        st.error(f"{what}: {exc}")
    except Exception as exc:  # a custom formula may fail in ways no declaration foresaw
        st.error(f"{what} failed ({type(exc).__name__}: {exc})")
    return None


# --- result views --------------------------------------------------------------------------------------


def show_run(results: list[tuple[str, tr.TrainResult]], ident: tuple, shared: bool) -> None:
    """The runs played under one time control: every view moves with the epoch, in the browser."""
    epochs, _index = tr.shared_time_axis([r.snapshots for _label, r in results])
    if len(epochs) < 2:
        st.info("The run stopped before its first epoch ended: there is nothing to play.")
        return
    log_loss = bool(st.session_state.get(key("logloss"), False))
    fig = kept_figure("run", (*ident, log_loss), lambda: figure_run(results, log_loss=log_loss), shared)
    live_chart(fig, LiveParam(tr.epoch_param(int(epochs[-1])), epochs), key=key("player"), player=True)
    dataset = results[0][1].dataset
    k = results[0][1].snapshots.top.shape[1]
    if dataset.task == "regression" and dataset.n_features == 1:
        data_text = ("Top: the data and each model's prediction"
                     + (" (red points are outliers, targets pushed up by 2–4; dotted, the true curve)"
                        if dataset.clean_train is not None else ", in your units") + ". ")
    elif dataset.n_features == 2:
        data_text = ("Top: circles are training points, crosses validation points; the background is the model's "
                     + (f"probability of {dataset.class_label(1)} (or its score, for margin losses), the black line "
                        "its decision boundary. " if dataset.n_classes == 2 else
                        "predicted class, paler where it is less sure, the black lines its boundaries. "))
    else:
        data_text = ""
    st.caption(
        f"Press play, or drag the epoch, to watch the run learn; it opens at the end of training. {data_text}"
        f"The {k} training examples with the largest loss are circled: they carry the loss (their share is the "
        "shaded end of the sorted per-example losses). The gradient norm is of the whole training objective, "
        "the weight norm over the weights without the biases, both at the snapshot."
    )


def show_results(results: list[tuple[str, tr.TrainResult]]) -> None:
    for label, r in results:
        if r.diverged_at is not None:
            st.warning(
                f"{label}: training diverged at epoch {r.diverged_at} — the loss became non-finite (a step too large, "
                f"or a custom formula undefined there) or grew beyond {tr.BLOW_UP:.0e}× its start. Lower the learning "
                "rate; the curves stop at the last good epoch.",
                icon="⚠️",
            )
    first = results[0][1]
    dataset = first.dataset
    ident = tuple((label, tr.canonical(r.config)) for label, r in results)
    shared = shareable([(label, r.config) for label, r in results])
    show_run(results, ident, shared)
    if dataset.task == "regression" and dataset.n_features == 1:
        st.caption("The metric is the RMSE against the true curve." if dataset.clean_train is not None else
                   "The metric is the RMSE against your targets, in the target's units.")
    elif dataset.task == "regression":
        def scatter_figure() -> go.Figure:
            return figure_predicted_vs_actual([(label, *tr.predicted_vs_actual(r)) for label, r in results],
                                              dataset.target_name)

        show(kept_figure("predicted", ident, scatter_figure, shared), key=key("predicted"))
        st.caption(f"Validation rows: each model's predicted {dataset.target_name} against the actual value; a "
                   "perfect model puts every point on the dotted line. The metric is the RMSE in the target's units.")
    elif dataset.n_features != 2:
        def confusion_figure() -> go.Figure:
            return figure_confusion_matrices([(label, tr.confusion_matrix(r)) for label, r in results],
                                             [dataset.class_label(c) for c in range(max(dataset.n_classes, 2))])

        show(kept_figure("confusion", ident, confusion_figure, shared), key=key("confusion"))
        st.caption(f"Validation rows by true class (rows) and predicted class (columns): counts, coloured by the share "
                   f"of the row. With {dataset.n_features} features there is no plane to draw the decision boundary on.")
    summary = {
        label: {
            "final train loss": float(r.curves.train_loss[-1]),
            "final validation loss": float(r.curves.val_loss[-1]),
            f"validation {r.curves.metric}": float(r.curves.val_metric[-1]),
            "epochs run": int(r.curves.epochs[-1]),
            "seconds": round(r.seconds, 2),
        }
        for label, r in results
    }
    st.dataframe(summary, width="stretch")
    if toggle_control("Show the trained weights (what L1 and L2 do to them)", False, key("weights_shown")):
        mask = first.setup.model.weight_mask()
        weights = kept_figure("weights", ident, lambda: figure_weight_histogram(
            [(label, r.theta_final[mask]) for label, r in results]), shared)
        show(weights, key=key("weights"))
        st.caption(
            "Gradient steps on λ₁Σ|w| push every weight towards 0 with constant force λ₁, so small weights "
            "oscillate around 0 instead of settling exactly on it; the exact zeros of the lasso show in the "
            "*L1 vs L2* tab, where the optimum is computed exactly."
        )


def loss_panel(config: tr.TrainConfig) -> None:
    s = lossviz.spec(config.loss)
    st.markdown(f"**Training loss: {s.title}** (`{s.name}`) — mean over each mini-batch")
    st.latex(s.latex)
    run = runs_cache(config).get(tr.canonical(config), s)
    st.caption(s.use_when + (f" {s.note}" if s.note else ""))
    if s.references:
        st.caption("Reference: " + "; ".join(s.references))
    if run is not None:
        h = run.setup.head
        link = "σ(network output)" if h.link == "sigmoid" else "the raw network output"
        target = {"binary01": "labels 0/1", "sign": "labels ±1", "index": "class indices", "onehot": "one-hot vectors",
                  "real": "real targets"}[h.encoding]
        st.caption(f"How it trains here: pred = {link} ({h.n_outputs} output{'s' if h.n_outputs > 1 else ''}), "
                   f"target = {target}.")
    if config.l1 > 0 or config.l2 > 0:
        st.latex(r"\text{objective} = \overline{\ell} + \lambda_1 \sum |w| + \lambda_2 \sum w^2 \quad(\text{weights only})")


# --- tabs ------------------------------------------------------------------------------------------------


@st.fragment
def train_tab() -> None:
    with st.container(border=True):
        st.markdown("**Presets**")
        cols = st.columns(len(tr.LAB_PRESETS))
        for col, preset in zip(cols, tr.LAB_PRESETS, strict=True):
            col.button(preset.title, help=preset.description, on_click=apply_preset, args=(dict(preset.state),),
                       key=key(f"preset_{preset.title}"), width="stretch")
    uploaded = None
    if source_control() == "upload":
        with st.container(border=True):
            uploaded = table_source(key("upload"), "Your table (CSV): feature columns and a target column",
                                    default_example="classification_blobs.csv")
        if uploaded is None:
            return
    left, middle, right = st.columns(3)
    data = user_data_controls(left, *uploaded) if uploaded else data_controls(left)
    model = model_controls(middle, data)
    optimiser = optimiser_controls(right)
    config = tr.TrainConfig(data=data, **optimiser).replace(**model)
    runs = comparison_controls(config)
    toggle_control("log-scale loss axis", False, key("logloss"))
    results = guarded("Training", lambda: train_all(runs))
    if not results:
        return
    st.session_state[tr.LAST_RUN_KEY] = runs[0][1]
    show_results(results)
    loss_panel(runs[0][1])
    st.markdown(
        "**What to notice.** Adam rescales each weight's step by its own gradient history, so it moves fast "
        "where SGD crawls along flat directions; too large a learning rate makes the loss jump or blow up. "
        "MAE's gradient has the same size however close the fit is, so with a fixed step it keeps hopping "
        "around the optimum, while MSE's gradient shrinks as the residuals do. On the imbalanced blobs, focal "
        "loss's (1 − p_t)^γ mutes the many easy majority points, but its α weights the classes too: RetinaNet's "
        "α = 0.25 weights the rare positives *down*, so the rare class's region shrinks a little against "
        "cross-entropy's; α = 0.75 or 0.9 grows it (more of the rare class found, more false alarms). The *Neural "
        "landscape* "
        "page shows the loss surface around the run trained here."
    )


@st.cache_data(max_entries=16, show_spinner=False)
def regularization_data(correlation: float, lam: float) -> tuple[rv.RegularizationPath, int, float]:
    problem = rv.LinearProblem(*td.correlated_regression(correlation))
    lams = np.unique(np.concatenate([np.geomspace(0.001, 10.0, 25), [lam]]))
    path = rv.regularization_path(problem, lams)
    return path, int(np.argmin(np.abs(lams - lam))), rv.lambda_max(problem)


@st.fragment
def regularization_tab() -> None:
    st.markdown(
        "A linear model ŷ = w₁x₁ + w₂x₂ on two correlated features (true w = (1.5, 0.5)). Grey ellipses: the mean "
        "squared error. Adding λ‖w‖₁ (lasso) or λ‖w‖₂² (ridge) moves the optimum towards 0; each regularised "
        "optimum is where an error ellipse first touches a diamond (L1) or a disc (L2). As λ grows, the ellipse "
        "comes to touch the diamond at a **corner**, where one weight is exactly 0 — that is why L1 selects "
        "features; the disc has no corners, so ridge only shrinks."
    )
    cols = st.columns(2)
    lam = param_control(rv.LAMBDA, key("reg_lam"), container=cols[0], label="Penalty strength λ")
    rho = param_control(td.CORRELATION, key("reg_rho"), container=cols[1], label="Feature correlation ρ")
    path, active, lam_max = regularization_data(rho, lam)
    show(kept_figure("regularization", (rho, lam), lambda: figure_regularization(path, active)),
         key=key("regularization"))
    w_l1, w_l2 = path.lasso[active], path.ridge[active]
    one_zero = [lam for lam, w in zip(path.lams, path.lasso, strict=True) if np.sum(w == 0.0) == 1]
    sparse_text = (f" On the slider's grid the lasso has exactly one zero weight from λ = {one_zero[0]:.3g} on."
                   if one_zero else "")
    st.caption(
        f"At λ = {path.lams[active]:g}: lasso w = ({w_l1[0]:.4g}, {w_l1[1]:.4g}), ridge w = ({w_l2[0]:.4g}, "
        f"{w_l2[1]:.4g}).{sparse_text} Beyond λ = {lam_max:.3g} the lasso sets both weights to 0; ridge only "
        "approaches 0. "
        "Drag the slider under the chart to sweep λ live; the control above sets the value for the link."
    )
    st.caption(
        "In each panel: grey, the MSE contours; ×, the least-squares fit (λ = 0); dotted, the path of the "
        "regularised optimum as λ grows; shaded, the constraint region ‖w‖₁ ≤ t or ‖w‖₂ ≤ r whose boundary the "
        "optimum sits on; dashed, the MSE contour through the optimum — tangent to the region."
    )
    for name in ("l1_penalty", "l2_penalty"):
        s = lossviz.spec(name)
        st.markdown(f"**{s.title}** — {s.use_when} *Reference: {'; '.join(s.references)}.*")
    st.caption("Tibshirani, Regression Shrinkage and Selection via the Lasso, 1996, Fig. 2; Hastie, Tibshirani & "
               "Friedman, The Elements of Statistical Learning, 2009, Fig. 3.11.")


def _multitask(a: str, b: str, pa: dict[str, float], pb: dict[str, float]) -> rv.MultiTask:
    return rv.multitask(a, b, pa, pb)


@st.cache_data(max_entries=16, show_spinner=False)
def multitask_builtin(a: str, b: str, pa: tuple, pb: tuple) -> rv.MultiTask:
    return _multitask(a, b, dict(pa), dict(pb))


@st.fragment
def multitask_tab() -> None:
    st.markdown(
        "Two losses on one model — a line ŷ = a + b·x fitted to y = 2x + 0.5 + noise with 4 of 40 points shifted "
        "up by 6 (the data of the Outlier-sensitivity page) — combined as "
        "(1 − ω)·L_A + ω·L_B. As ω moves, the landscape morphs from L_A's to L_B's and the minimiser slides "
        "between theirs, to where the two weighted gradients balance. The slide is not linear in ω: MSE's pull "
        "grows with the distance from its own minimiser while MAE's has a constant size, so with MSE and MAE the "
        "last stretch towards MAE's line happens only as ω nears 1. Weights in a multi-task loss therefore act "
        "through each loss's gradients and scale, not as a simple share."
    )
    options = rv.regression_losses()
    cols = st.columns(3)
    keep_valid("mt_a", options, "mse")
    keep_valid("mt_b", options, "mae")
    a = choice_control("Loss A (ω = 0)", options, "mse", key("mt_a"), container=cols[0])
    b = choice_control("Loss B (ω = 1)", options, "mae", key("mt_b"), container=cols[1])
    weight = param_control(rv.TASK_WEIGHT, key("mt_weight"), container=cols[2], label="Weight ω of loss B")
    pcols = st.columns(2)
    pa = param_controls(a, key("mta"), container=pcols[0])
    pb = param_controls(b, key("mtb"), container=pcols[1])
    builtin = lossviz.spec(a).builtin and lossviz.spec(b).builtin
    mt = guarded(
        "Multi-task view",
        lambda: multitask_builtin(a, b, tuple(sorted(pa.items())), tuple(sorted(pb.items())))
        if builtin else _multitask(a, b, pa, pb),
    )
    if mt is None:
        return
    active = int(np.argmin(np.abs(mt.weights - weight)))
    ident = (a, b, tuple(sorted(pa.items())), tuple(sorted(pb.items())), active)
    show(kept_figure("multitask", ident, lambda: figure_multitask(mt, active), builtin), key=key("multitask"))
    m = mt.minimizers[active]
    st.caption(
        f"Left: contours of (1 − ω)·{a} + ω·{b} over the line's intercept a and slope b, the minimisers of each loss "
        f"alone (□ {a}, ◇ {b}), the path of the minimiser as ω moves (dotted) and the current one (★). Right: the "
        f"data and the fitted lines. At ω = {mt.weights[active]:g} the minimiser is a = {m[0]:.4f}, "
        f"b = {m[1]:.4f}. Drag the slider under the chart to move ω live."
    )
    for name in (a, b):
        s = lossviz.spec(name)
        st.markdown(f"**{s.title}** (`{name}`)")
        st.latex(s.latex)


st.title("Training lab")
st.markdown(
    "Train a small neural network on a toy dataset — or on **your own CSV** — with **any loss of the catalogue** "
    "and watch the training and validation curves grow, then what it learned: the decision boundary, the fitted "
    "curve, predicted against actual values or a confusion matrix. Every run is deterministic for its seed and "
    "cached, so you can switch back and forth; *Compare runs* trains 2–4 variants side by side on the same data."
)
tab_train, tab_reg, tab_multi = st.tabs(["Train a network", "L1 vs L2 regularisation", "Multi-task: two losses"])
with tab_train:
    train_tab()
with tab_reg:
    regularization_tab()
with tab_multi:
    multitask_tab()
