"""Training lab: train a small MLP on toy data or the user's own CSV with any catalogue loss; L1 vs L2; a
weighted sum of two losses."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import streamlit as st

import lossviz
from lossviz.figures.training_lab import (
    figure_augmentation,
    figure_confusion_matrices,
    figure_loss_shape,
    figure_multitask,
    figure_predicted_vs_actual,
    figure_regularization,
    figure_run,
    figure_training_curves,
    figure_weight_histogram,
)
from lossviz.studies import training_lab as rv
from lossviz.toolkit import adaptive as ad
from lossviz.toolkit import data as td
from lossviz.toolkit import tables as ud
from lossviz.toolkit import training as tr
from lossviz.toolkit.fit import line_losses
from lossviz.toolkit.tables import Table
from lossviz.ui.cards import guarded, kept_figure, loss_card, loss_cards
from lossviz.ui.charts import show
from lossviz.ui.classroom import explain
from lossviz.ui.controls import (
    choice_control,
    multichoice_control,
    param_control,
    param_controls,
    radio_control,
    toggle_control,
)
from lossviz.ui.live_chart import LiveParam, live_chart, live_value
from lossviz.ui.navigation import ensure_app
from lossviz.ui.session import loss_identity, results_cache
from lossviz.ui.upload import table_source

ensure_app()

PREFIX = "training"
SOURCES = {"generated": "Generated toy data", "upload": "Your CSV file"}


def key(name: str) -> str:
    return f"{PREFIX}_{name}"


def runs_figure(kind: str, runs: list[tuple[str, tr.TrainConfig]], ident: tuple, build: Callable[[], go.Figure]) -> go.Figure:
    """:func:`kept_figure` for a figure of these runs: kept unless one is on uploaded data or a custom loss."""
    private = any(c.data.private for _label, c in runs)
    return kept_figure(key(kind), ident, build, [c.loss for _label, c in runs], private)


def apply_preset(state: dict[str, object]) -> None:
    st.session_state[key("source")] = "generated"
    for name, value in state.items():
        st.session_state[key(name)] = value


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
    options = tr.loss_choices(data.task, n_classes)
    default = tr.DEFAULT_LOSS[data.task]
    with container:
        st.markdown("**Model and loss**")
        layers = param_control(tr.HIDDEN_LAYERS, key("hidden_layers"), label="Hidden layers")
        width = param_control(tr.WIDTH, key("width"), label="Units per layer")
        activation = choice_control("Activation", list(tr.ACTIVATIONS), "relu", key("activation"))
        loss = choice_control(
            "Loss", options, default, key("loss"),
            help="Every catalogue loss (custom ones included) whose declared pred/target domains fit this task; "
                 f"for regression also {tr.ADAPTIVE_BARRON}, Barron's loss with its shape α and scale c learned.",
        )
        if loss == tr.ADAPTIVE_BARRON:
            params = {"alpha": param_control(ad.ALPHA_INIT, key("adaptive_alpha"), label="Initial shape α₀"),
                      "scale": param_control(ad.SCALE_INIT, key("adaptive_scale"), label="Initial scale c₀")}
        else:
            params = param_controls(loss, PREFIX)
    return {"hidden_layers": int(layers), "width": int(width), "activation": activation, **tr.loss_fields(loss),
            "loss_params": params}


def optimiser_controls(container) -> dict[str, Any]:
    with container:
        st.markdown("**Optimiser**")
        optimizer = choice_control(
            "Optimiser", list(tr.OPTIMIZERS), "adam", key("optimizer"),
            help=f"sgd, momentum (SGD with heavy-ball momentum {tr.OPTIMIZER_RULES['momentum'].momentum:g}), adam, "
            "rmsprop — torch.optim's update rules.",
        )
        lr = param_control(tr.LEARNING_RATE, key("lr"), label="Learning rate η")
        batch = param_control(tr.BATCH_SIZE, key("batch_size"), label="Batch size")
        epochs = param_control(tr.EPOCHS, key("epochs"), label="Epochs")
        l1 = param_control(tr.L1_PENALTY, key("l1"), label="L1 penalty λ₁")
        l2 = param_control(tr.L2_PENALTY, key("l2"), label="L2 penalty λ₂")
    return {"optimizer": optimizer, "lr": lr, "batch_size": int(batch), "epochs": int(epochs), "l1": l1, "l2": l2}


def regularization_controls(data: td.DataSource, layers: int) -> dict[str, Any]:
    """Dropout (one rate for every hidden layer, or one per layer) and the training points' augmentation."""
    with st.container(border=True):
        st.markdown("**Dropout and data augmentation** (training only: curves, boundaries and metrics use the whole "
                    "network on the original points)")
        left, right = st.columns(2)
        with left:
            per_layer = toggle_control(
                "A dropout rate per hidden layer", False, key("dropout_per_layer"),
                help="Off: one rate p for every hidden layer. On: a rate for each hidden layer, input side first.",
            )
            if per_layer:
                rates = tuple(param_control(tr.DROPOUT, key(f"dropout_{k}"), label=f"Dropout p, hidden layer {k}")
                              for k in range(1, layers + 1))
            else:
                rate = param_control(tr.DROPOUT, key("dropout"), label="Dropout p (every hidden layer)")
                rates = (rate,) * layers
        features = tr.input_features(data)
        planar = features == 2
        with right:
            rotation = param_control(tr.ROTATION, key("rotation"), label="Rotation, max angle (°)") if planar else 0.0
            scaling = param_control(tr.SCALING, key("scaling"), label="Scaling, max ± factor s") if planar else 0.0
            jitter = param_control(tr.JITTER, key("jitter"), label="Jitter σⱼ")
            if not planar:
                st.caption(f"Rotation and scaling need a plane of two input features; this data has {features}, so "
                           "only the jitter applies.")
    return {"dropout": rates if any(rates) else (), "rotation": rotation, "scaling": scaling, "jitter": jitter}


def comparison_controls(config: tr.TrainConfig) -> list[tuple[str, tr.TrainConfig]]:
    """The runs to show: the configuration alone, or 2–4 variants of one setting."""
    cols = st.columns([1.3, 1, 3])
    compare = toggle_control("Compare runs", False, key("compare"), container=cols[0],
                             help=f"Train 2–{tr.MAX_COMPARED} variants of one setting on the same data and seed.")
    if not compare:
        return [("run", config)]
    dimension = choice_control(
        "Vary", list(tr.COMPARE_DIMENSIONS), "lr", key("vary"), container=cols[1],
        help="; ".join(f"{k}: {v}" for k, v in tr.COMPARE_DIMENSIONS.items()),
    )
    task, n_classes = config.data.task, max(config.data.n_classes, 2)
    options = tr.compare_options(dimension, task, n_classes)
    defaults = tr.compare_defaults(dimension, task, n_classes)
    values = multichoice_control(
        f"Values of the {tr.COMPARE_DIMENSIONS[dimension]}", options, defaults, key(f"values_{dimension}"),
        container=cols[2], max_selections=tr.MAX_COMPARED,
    )
    if len(values) < 2:
        st.info("Pick at least two values to compare; showing the single run meanwhile.")
        return [("run", config)]
    label = tr.COMPARE_DIMENSIONS[dimension]
    if dimension == "loss":
        st.caption(f"Each compared loss uses its default parameters; {tr.loss_choice(config)} keeps the ones set "
                   "above.")
    if dimension == "regularization":
        d = tr.REGULARIZER_DEFAULTS
        st.caption(
            "Each run switches one regulariser on and the others off, at the strength set above — or, where that is "
            f"0, at λ₁ = {d['l1']:g}, λ₂ = {d['l2']:g}, dropout p = {d['dropout']:g}, or rotation ±{d['rotation']:g}°, "
            f"scaling ±{d['scaling']:g} and jitter σⱼ = {d['jitter']:g} (jitter only off the plane). The table "
            "below gives each run's train–validation gap."
        )
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
        found = results_cache(config, tr.RUNS).get(tr.canonical(config), lossviz.spec(config.loss))
        if found is None:
            bar = progress_slot.progress(0.0, text=f"Training {label} ({index + 1}/{len(runs)}) …")
            found = _train_live(label, config, done, curves_slot, bar, log_loss)
        done.append((label, found))
    progress_slot.empty()
    curves_slot.empty()
    return done


def _train_live(label, config, done, curves_slot, bar, log_loss) -> tr.TrainResult:
    def progress(epoch: int, epochs: int, curves: tr.Curves) -> None:
        bar.progress(epoch / epochs, text=f"Training {label}: epoch {epoch}/{epochs}")
        shown = [(lb, r.curves) for lb, r in done] + [(label, curves)]
        fig = figure_training_curves(shown, log_loss=bool(log_loss))
        show(fig, key=key(f"curves_{len(done)}_{epoch}"), container=curves_slot)

    result, _cached = tr.cached_train(config, progress, cache=results_cache(config, tr.RUNS))
    return result


# --- result views --------------------------------------------------------------------------------------


def show_run(results: list[tuple[str, tr.TrainResult]], ident: tuple) -> None:
    """The runs played under one time control: every view moves with the epoch, in the browser."""
    epochs, _index = tr.shared_time_axis([r.snapshots for _label, r in results])
    if len(epochs) < 2:
        st.info("The run stopped before its first epoch ended: there is nothing to play.")
        return
    log_loss = bool(st.session_state.get(key("logloss"), False))
    runs = [(label, r.config) for label, r in results]
    fig = runs_figure("run", runs, (*ident, log_loss), lambda: figure_run(results, log_loss=log_loss))
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
                icon=":material/warning:",
            )
    first = results[0][1]
    dataset = first.dataset
    ident = tuple((label, tr.canonical(r.config)) for label, r in results)
    runs = [(label, r.config) for label, r in results]
    show_run(results, ident)
    if dataset.task == "regression" and dataset.n_features == 1:
        st.caption("The metric is the RMSE against the true curve." if dataset.clean_train is not None else
                   "The metric is the RMSE against your targets, in the target's units.")
    elif dataset.task == "regression":
        def scatter_figure() -> go.Figure:
            return figure_predicted_vs_actual([(label, *tr.predicted_vs_actual(r)) for label, r in results],
                                              dataset.target_name)

        show(runs_figure("predicted", runs, ident, scatter_figure), key=key("predicted"))
        st.caption(f"Validation rows: each model's predicted {dataset.target_name} against the actual value; a "
                   "perfect model puts every point on the dotted line. The metric is the RMSE in the target's units.")
    elif dataset.n_features != 2:
        def confusion_figure() -> go.Figure:
            return figure_confusion_matrices([(label, tr.confusion_matrix(r)) for label, r in results],
                                             [dataset.class_label(c) for c in range(max(dataset.n_classes, 2))])

        show(runs_figure("confusion", runs, ident, confusion_figure), key=key("confusion"))
        st.caption(f"Validation rows by true class (rows) and predicted class (columns): counts, coloured by the share "
                   f"of the row. With {dataset.n_features} features there is no plane to draw the decision boundary on.")
    worse = "training − validation" if first.curves.metric == "accuracy" else "validation − training"
    summary = {
        label: {
            "final train loss": float(r.curves.train_loss[-1]),
            "final validation loss": float(r.curves.val_loss[-1]),
            f"validation {r.curves.metric}": float(r.curves.val_metric[-1]),
            "gap: validation − train loss": r.curves.gap()[0],
            f"gap: {worse} {r.curves.metric}": r.curves.gap()[1],
            **({"final α": float(r.shapes[-1, 0]), "final c": float(r.shapes[-1, 1])} if r.shapes is not None else {}),
            "epochs run": int(r.curves.epochs[-1]),
            "seconds": round(r.seconds, 2),
        }
        for label, r in results
    }
    st.dataframe(summary, width="stretch")
    st.caption("The gap compares the last epoch on both splits, evaluated alike (dropout off, original points): the "
               "larger it is, the more the model learned its training points rather than the pattern.")
    adaptive_runs = [(label, r) for label, r in results if r.shapes is not None]
    twin = tr.outlier_twin(adaptive_runs[0][1].config) if adaptive_runs else None
    shape_ident: tuple = ident
    if twin is not None and toggle_control(
        f"Add the same run on this data {'without outliers' if twin.data.outliers == 0 else 'with outliers'}",
        False, key("shape_twin"), help="Trains once more with the outlier share set to "
        f"{twin.data.outliers:g}: the two paths of α side by side.",
    ):
        with st.spinner("Training the same run on the other data …"):
            twin_run, _ = tr.cached_train(twin, cache=results_cache(twin, tr.RUNS))
        adaptive_runs = [*adaptive_runs, (f"same run, outlier share {twin.data.outliers:g}", twin_run)]
        shape_ident = (ident, tr.canonical(twin))
    if adaptive_runs:
        shape_runs = [(label, r.config) for label, r in adaptive_runs]
        show(runs_figure("shape", shape_runs, shape_ident, lambda: figure_loss_shape(
            [(label, r.curves.epochs, r.shapes) for label, r in adaptive_runs],
            alpha_range=(ad.ALPHA_LOW, ad.ALPHA_HIGH))), key=key("shape"))
        finals = "; ".join(f"{label}: α = {r.shapes[-1, 0]:.3f}, c = {r.shapes[-1, 1]:.3g}"
                           for label, r in adaptive_runs)
        st.caption(
            f"The adaptive loss's shape α and scale c after each epoch ({finals}). Outliers are residuals the "
            "Gaussian (α = 2) finds too unlikely, so they pull α down towards the heavy-tailed Cauchy (α = 0); on "
            "clean data α rises towards 2. The scale c falls towards the spread of the inliers' residuals. α moves "
            "only as fast as the learning rate lets its latent value move (both are stepped with the model's "
            "optimiser), and while c is still large every residual looks small, so α drifts little: it starts to "
            "separate clean data from outliers once c has come down — give it epochs, or a larger learning rate."
        )
    augmented = next(((label, r) for label, r in results if r.config.augmented), None)
    if augmented is not None and dataset.n_features == 2:
        label, r = augmented
        points = dataset.raw_x(tr.augmented_inputs(r.setup))
        show(figure_augmentation(dataset, points), key=key("augmentation"))
        st.caption(f"{label}: the training points (faint) and the augmented copy that the first epoch trained on "
                   "(diamonds), each joined to its original; every epoch draws new ones. Validation points are never "
                   "augmented.")
    if toggle_control("Show the trained weights (what L1 and L2 do to them)", False, key("weights_shown")):
        mask = first.setup.model.weight_mask()
        weights = runs_figure("weights", runs, ident, lambda: figure_weight_histogram(
            [(label, r.theta_final[mask]) for label, r in results]))
        show(weights, key=key("weights"))
        st.caption(
            "Gradient steps on λ₁Σ|w| push every weight towards 0 with constant force λ₁, so small weights "
            "oscillate around 0 instead of settling exactly on it; the exact zeros of the lasso show in the "
            "*L1 vs L2* tab, where the optimum is computed exactly."
        )


def loss_panel(config: tr.TrainConfig) -> None:
    owner = lossviz.spec(config.loss)
    s = ad.BARRON_NLL if config.adaptive else owner
    loss_card(s, label="Training loss")
    st.caption("The mean over each mini-batch is minimised.")
    if config.adaptive:
        st.latex(r"\rho(r,\alpha,c) = " + owner.latex.split(r",\ r=p-y")[0])
        st.caption(
            "Barron's loss ρ with its shape α and scale c learned alongside the weights, as the negative "
            "log-likelihood of the density p(r) = exp(−ρ(r, α, c)) / (c·Z(α)). Minimising ρ alone would drive α to "
            "whatever ignores the most residuals; the normaliser log c + log Z(α) charges for that. **Why the loss "
            "can be negative:** it is −log of a density, and a density exceeds 1 where it is narrow — once the fit "
            "is good, c is small and log c is very negative (c = 0.1 gives log c ≈ −2.3), so −log p < 0 for most "
            "points. Only differences in the loss matter. log Z(α) is computed by quadrature, to about 10⁻¹⁶."
        )
    run = results_cache(config, tr.RUNS).get(tr.canonical(config), owner)
    if run is not None:
        h = run.setup.head
        link = "σ(network output)" if h.link == "sigmoid" else "the raw network output"
        target = {"binary01": "labels 0/1", "sign": "labels ±1", "index": "class indices", "onehot": "one-hot vectors",
                  "real": "real targets"}[h.encoding]
        st.caption(f"How it trains here: pred = {link} ({h.n_outputs} output{'s' if h.n_outputs > 1 else ''}), "
                   f"target = {target}.")
    if config.l1 > 0 or config.l2 > 0:
        st.latex(r"\text{objective} = \overline{\ell} + \lambda_1 \sum |w| + \lambda_2 \sum w^2 \quad(\text{weights only})")
    if any(config.dropout):
        rates = ", ".join(f"{p:g}" for p in config.dropout)
        st.caption(f"Dropout (p = {rates} by hidden layer): in training each hidden unit is zeroed with probability p "
                   "and the kept ones are multiplied by 1/(1 − p) (inverted dropout, as torch.nn.Dropout), so the "
                   "evaluated network — curves, boundary, metrics — is the whole one, unscaled.")
    if config.augmented:
        st.caption(f"Augmentation: every epoch each training point is rotated by up to ±{config.rotation:g}° and "
                   f"scaled by up to ±{config.scaling:g} about the training points' centre and jittered with "
                   f"σⱼ = {config.jitter:g}; the validation points are never changed.")


# --- tabs ------------------------------------------------------------------------------------------------


@st.fragment
def train_tab() -> None:
    with st.container(border=True):
        st.markdown("**Presets**")
        cols = st.columns(len(tr.LAB_PRESETS))
        for col, preset in zip(cols, tr.LAB_PRESETS, strict=True):
            col.button(preset.title, help=preset.description, on_click=apply_preset, args=(preset.controls,),
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
    regularization = regularization_controls(data, model["hidden_layers"])
    config = tr.TrainConfig(data=data, **optimiser).replace(**model, **regularization)
    runs = comparison_controls(config)
    toggle_control("log-scale loss axis", False, key("logloss"))
    results = guarded("Training", lambda: train_all(runs), [c.loss for _label, c in runs])
    if not results:
        return
    st.session_state[tr.LAST_RUN_KEY] = runs[0][1]
    show_results(results)
    loss_panel(runs[0][1])
    explain(
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
def regularization_view(correlation: float) -> rv.RegularizationView:
    return rv.regularization_view(correlation)


@st.fragment
def regularization_tab() -> None:
    st.markdown(
        f"A linear model ŷ = w₁x₁ + w₂x₂ on two correlated features (true w = {td.CORRELATED_WEIGHTS}). Grey "
        "ellipses: the mean "
        "squared error. Adding λ‖w‖₁ (lasso) or λ‖w‖₂² (ridge) moves the optimum towards 0; each regularised "
        "optimum is where an error ellipse first touches a diamond (L1) or a disc (L2). As λ grows, the ellipse "
        "comes to touch the diamond at a **corner**, where one weight is exactly 0 — that is why L1 selects "
        "features; the disc has no corners, so ridge only shrinks."
    )
    rho = param_control(td.CORRELATION, key("reg_rho"), container=st.columns(2)[0], label="Feature correlation ρ")
    live_lam = LiveParam(rv.LAMBDA, rv.PATH_LAMBDAS)
    lam = live_value(live_lam, key("reg_lam"))
    view = regularization_view(rho)
    path, active = view.path, live_lam.index(lam)
    w_l1, w_l2 = path.lasso[active], path.ridge[active]
    figure = kept_figure(key("regularization"), rho, lambda: figure_regularization(path))
    live_chart(figure, live_lam, key=key("reg_lam"))
    sparse_text = (f" On the λ grid the lasso has exactly one zero weight from λ = {view.one_zero_from:.3g} on."
                   if view.one_zero_from is not None else "")
    st.caption(
        f"At λ = {path.lams[active]:g}: lasso w = ({w_l1[0]:.4g}, {w_l1[1]:.4g}), ridge w = ({w_l2[0]:.4g}, "
        f"{w_l2[1]:.4g}).{sparse_text} Beyond λ = {view.lambda_max:.3g} the lasso sets both weights to 0; ridge only "
        "approaches 0. Drag λ under the chart to sweep it live; releasing it keeps the value for the link."
    )
    st.caption(
        "In each panel: grey, the MSE contours; ×, the least-squares fit (λ = 0); dotted, the path of the "
        "regularised optimum as λ grows; shaded, the constraint region ‖w‖₁ ≤ t or ‖w‖₂ ≤ r whose boundary the "
        "optimum sits on; dashed, the MSE contour through the optimum — tangent to the region."
    )
    loss_cards(["l1_penalty", "l2_penalty"], per_row=2)
    st.caption("Tibshirani, Regression Shrinkage and Selection via the Lasso, 1996, Fig. 2; Hastie, Tibshirani & "
               "Friedman, The Elements of Statistical Learning, 2009, Fig. 3.11.")


@st.cache_data(max_entries=16, show_spinner=False)
def multitask(a: str, b: str, identities: tuple, pa: tuple, pb: tuple) -> rv.MultiTask:
    return rv.multitask(a, b, dict(pa), dict(pb))


@st.fragment
def multitask_tab() -> None:
    st.markdown(
        f"Two losses on one model — a line ŷ = a + b·x fitted to y = {td.LINE_W_TRUE:g}x + {td.LINE_B_TRUE:g} + "
        f"noise with {td.LINE_OUTLIERS.default:g} of {td.LINE_POINTS.default:g} points shifted up by "
        f"{td.LINE_OUTLIER_SIZE.default:g} (the default data of the Landscape page) — combined as "
        "(1 − ω)·L_A + ω·L_B. As ω moves, the landscape morphs from L_A's to L_B's and the minimiser slides "
        "between theirs, to where the two weighted gradients balance. The slide is not linear in ω: MSE's pull "
        "grows with the distance from its own minimiser while MAE's has a constant size, so with MSE and MAE the "
        "last stretch towards MAE's line happens only as ω nears 1. Weights in a multi-task loss therefore act "
        "through each loss's gradients and scale, not as a simple share."
    )
    options = line_losses()
    cols = st.columns(2)
    a = choice_control("Loss A (ω = 0)", options, "mse", key("mt_a"), container=cols[0])
    b = choice_control("Loss B (ω = 1)", options, "mae", key("mt_b"), container=cols[1])
    pcols = st.columns(2)
    pa = param_controls(a, key("mta"), container=pcols[0])
    pb = param_controls(b, key("mtb"), container=pcols[1])
    identities = (loss_identity(a), loss_identity(b))
    mt = guarded(
        "Multi-task view",
        lambda: multitask(a, b, identities, tuple(sorted(pa.items())), tuple(sorted(pb.items()))),
        (a, b),
    )
    if mt is None:
        return
    live_weight = LiveParam(rv.TASK_WEIGHT, mt.weights)
    active = live_weight.index(live_value(live_weight, key("mt_weight")))
    m = mt.minimizers[active]
    ident = (a, b, tuple(sorted(pa.items())), tuple(sorted(pb.items())))
    live_chart(kept_figure(key("multitask"), ident, lambda: figure_multitask(mt), (a, b)), live_weight,
               key=key("mt_weight"))
    st.caption(
        f"Left: contours of (1 − ω)·{a} + ω·{b} over the line's intercept a and slope b, the minimisers of each loss "
        f"alone (□ {a}, ◇ {b}), the path of the minimiser as ω moves (dotted) and the current one (★). Right: the "
        f"data and the fitted lines. At ω = {mt.weights[active]:g} the minimiser is a = {m[0]:.4f}, "
        f"b = {m[1]:.4f}. Drag ω, the weight of loss B, under the chart to move it live."
    )
    loss_cards([a, b], per_row=2)


st.title("Training lab")
explain(
    "Train a small neural network on a toy dataset — or on **your own CSV** — with **any loss of the catalogue** "
    "and watch the training and validation curves grow, then what it learned: the decision boundary, the fitted "
    "curve, predicted against actual values or a confusion matrix. Every run is deterministic for its seed and "
    f"cached, so you can switch back and forth; *Compare runs* trains 2–{tr.MAX_COMPARED} variants side by side on "
    "the same data."
)
tab_train, tab_reg, tab_multi = st.tabs(["Train a network", "L1 vs L2 regularisation", "Multi-task: two losses"])
with tab_train:
    train_tab()
with tab_reg:
    regularization_tab()
with tab_multi:
    multitask_tab()
