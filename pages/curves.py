"""Curves: value, gradient and curvature of several pointwise losses, overlaid on their natural axis."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import lossviz
from lossviz.figures.curves import LiveCurves, figure_loss_curves, figure_pair_distributions, figure_tail_shares
from lossviz.studies import curves as lc
from lossviz.toolkit import fit as fitting
from lossviz.ui.cards import guarded, guarded_each, kept_figure, loss_cards
from lossviz.ui.charts import lazy_expander, show, show_table
from lossviz.ui.classroom import explain
from lossviz.ui.controls import (
    choice_control,
    control_key,
    loss_param_controls,
    multichoice_control,
    param_control,
    radio_control,
    toggle_control,
)
from lossviz.ui.live_chart import (
    LiveParam,
    forget_switched_controls,
    live_chart,
    live_pad,
    live_value,
    pad_values,
)
from lossviz.ui.navigation import ensure_app
from lossviz.ui.session import loss_identity, loss_key
from lossviz.ui.upload import column_pair

ensure_app()

PREFIX = "curves"
PAIRS = f"{PREFIX}_pairs"


Setting = tuple[tuple[str, float], ...]


@st.cache_data(max_entries=256, show_spinner=False)
def cached_curve(loss: str, identity: tuple, params: Setting, zoom: float, target: float | None) -> lc.Curve:
    """One loss's curve (value, gradient, curvature) over its axis: a rerun that changes another control, or
    commits another loss's parameter, finds it here."""
    return lc.loss_curve(loss, lc.x_grid(lc.natural_axis(loss), zoom), target, dict(params))


@st.cache_data(max_entries=64, show_spinner=False)
def parameter_sweep(
    loss: str, identity: tuple, settings: tuple[Setting, ...], zoom: float, points: int, target: float | None,
    others: Setting,
) -> list[lc.Curve]:
    """The live loss at every frame's setting; does not depend on the committed value itself, so a commit
    of the live control is a cache hit."""
    x = lc.x_grid(lc.natural_axis(loss), zoom, points)
    return lc.parameter_sweep(loss, [dict(s) for s in settings], x, target, dict(others))


@dataclass(frozen=True)
class LiveControl:
    """The one control of the live loss's parameter(s) under its chart, and the values it committed."""

    loss: str
    params: tuple[LiveParam, ...]
    key: str
    values: dict[str, float]

    @property
    def frame(self) -> int:
        """The frame of the committed values (a pad's ``i * ny + j``)."""
        index = 0
        for p in self.params:
            index = index * len(p.values) + p.index(self.values[p.param.name])
        return index


def live_control(losses: list[str]) -> LiveControl | None:
    """The live loss, its live parameter(s) and their committed values (the browser's last release, or the
    link's): known before any curve is computed, so that every chart, caption and download uses them."""
    live = lc.live_parameters(losses)
    if live is None:
        return None
    loss, declared = live
    count = lc.PAD_COUNT if len(declared) == 2 else lc.ROUND_COUNT
    params = tuple(LiveParam(p, lc.frame_values(p, count)) for p in declared)
    # The key of the parameter's card slider before it moved here (curves_huber_delta), so old links still
    # work; a pad's is curves_barron, whose URL keys control_key(key, name) are again the card's.
    key = control_key(PREFIX, loss if len(params) == 2 else f"{loss}_{declared[0].name}")
    card_keys = [control_key(PREFIX, f"{name}_{p.name}") for name in losses for p in lossviz.spec(name).params]
    forget_switched_controls(card_keys, {key})
    values = pad_values(params, key) if len(params) == 2 else (live_value(params[0], key),)
    return LiveControl(loss, params, key, {p.param.name: v for p, v in zip(params, values, strict=True)})


def loss_selection() -> list[str]:
    # Options are the titles themselves: a bound widget writes its *formatted* option to the URL.
    families = {title: family for family, title in lc.curve_families().items()}
    left, right = st.columns([1, 3])
    default = lossviz.FAMILIES.get(lc.DEFAULT_FAMILY, "")
    title = choice_control(
        "Family", list(families), default if default in families else next(iter(families)), f"{PREFIX}_family",
        container=left,
    )
    family = families[title]
    return multichoice_control(
        "Losses to overlay",
        lc.curve_losses(family),
        lc.default_losses(family),
        f"{PREFIX}_losses",
        container=right,
        max_selections=lc.MAX_LOSSES,
        help="Pointwise losses of this family, by their lossviz name; formulas are listed beside the chart.",
    )


def target_controls(losses: list[str]) -> dict[str, float]:
    """One target control per target domain among the prediction-axis losses."""
    targets: dict[str, float] = {}
    groups = lc.target_groups(losses)
    for group, col in zip(groups, st.columns(max(len(groups), 1)), strict=False):
        label = f"Target y for {', '.join(group.losses)}"
        key = f"{PREFIX}_{group.key}"
        if group.domain.is_discrete:
            options = lc.target_options(group.domain)
            default = f"{lc.default_target(group.domain):g}"
            value = float(radio_control(label, options, default, key, container=col, horizontal=True))
        else:
            value = param_control(lc.target_param(group.domain), key, container=col, label=label)
        targets.update(dict.fromkeys(group.losses, value))
    return targets


def live_sweep(live: LiveControl, curve: lc.Curve, zoom: float, params: dict[str, float]) -> LiveCurves | None:
    """The live loss's curve at every frame (a pad's on :data:`~lossviz.studies.curves.PAD_POINTS` points)."""
    settings = lc.frame_settings([(p.param.name, p.values) for p in live.params])
    points = lc.PAD_POINTS if len(live.params) == 2 else curve.x.size
    others = tuple(sorted((k, v) for k, v in params.items() if k not in live.values))
    try:
        sweep = parameter_sweep(
            live.loss, loss_identity(live.loss), tuple(tuple(s.items()) for s in settings), zoom, points,
            curve.target, others,
        )
    except ValueError as exc:
        st.info(f"No live control for {live.loss}: {exc}")
        return None
    return LiveCurves(live.loss, sweep)


def draw_group(
    axis: lc.Axis,
    names: list[str],
    curves: dict[str, lc.Curve],
    live: LiveControl | None,
    zoom: float,
    params: dict[str, dict[str, float]],
    log_y: bool,
    abs_grad: bool,
) -> None:
    shown = [curves[n] for n in names if n in curves]
    if not shown:
        return
    frames = None
    if live is not None and live.loss in {c.name for c in shown}:
        frames = live_sweep(live, curves[live.loss], zoom, params[live.loss])
    fixed = {n: params[n] for n in names}
    if frames is not None:
        # The chart does not depend on the committed value: the live loss is drawn at its default frame and the
        # control shows the committed one. So the figure is kept across reruns, and a commit sends only the
        # control's new state.
        at_default = LiveControl(live.loss, live.params, live.key, {p.param.name: p.default for p in live.params})
        shown = [frames.curves[at_default.frame] if c.name == live.loss else c for c in shown]
        fixed[live.loss] = {k: v for k, v in params[live.loss].items() if k not in live.values}
    ident = (
        axis.kind, axis.domain.label, tuple((c.name, c.target, c.x.size, float(c.x[0]), float(c.x[-1])) for c in shown),
        tuple((n, tuple(sorted(p.items()))) for n, p in fixed.items()), log_y, abs_grad,
        None if frames is None else (live.loss, tuple(p.values for p in live.params)),
    )
    chart, formulas = st.columns([2, 1])
    with chart:
        fig = kept_figure(f"{PREFIX}_chart", ident, lambda: figure_loss_curves(
            shown, x_label=axis.label, symbol=axis.symbol, log_y=log_y, abs_grad=abs_grad, live=frames
        ), [c.name for c in shown])
        if frames is None:
            show(fig, key=f"{PREFIX}_chart_{axis.kind}_{axis.domain.label}")
        elif len(live.params) == 2:
            live_pad(fig, live.params, key=live.key)
        else:
            live_chart(fig, live.params[0], key=live.key)
        if axis.kind == "residual":
            st.caption("These losses depend on the residual r = p − y only (drawn at y = 0).")
        elif axis.kind == "margin":
            st.caption("Labels y = ±1: the loss depends on the margin m = y·p only (drawn at y = +1, so ∂L/∂m = ∂L/∂p).")
        if frames is not None:
            symbols = " and ".join(p.symbol for p in live.params)
            shown_values = ", ".join(f"{p.symbol} = {p.text(live.values[p.param.name])}" for p in live.params)
            control = "the pad" if len(live.params) == 2 else "the slider"
            st.caption(
                f"Drag {control} under the chart to move {symbols} of {live.loss} live; releasing it keeps the "
                f"value for the link and the data download ({shown_values})."
            )
    with formulas:
        loss_cards([c.name for c in shown])


def compute_curves(
    losses: list[str], zoom: float, targets: dict[str, float], params: dict[str, dict[str, float]]
) -> dict[str, lc.Curve]:
    curves = guarded_each(
        losses, lambda name: cached_curve(*loss_key(name, params[name]), zoom, lc.curve_target(name, targets))
    )
    for name, curve in curves.items():
        if curve.nonfinite:
            st.warning(
                f"{name}: {curve.nonfinite} of {curve.x.size} points have no finite value, gradient or curvature "
                "(NaN or ±∞, e.g. a log of a negative number); they are left as gaps.",
                icon=":material/warning:",
            )
    return curves


def pairs_section() -> None:
    """Upload a model's (prediction, target) pairs and see which loss its worst pairs would dominate."""
    explain(
        "Upload a file of **(prediction, target)** pairs — a model's validation output — to see each loss's "
        "value and gradient over *your* residuals, and how much of the total comes from the worst 1 % and "
        "10 % of pairs: the share a loss hands to your outliers."
    )
    chosen_columns = column_pair(
        PAIRS, "Predictions and targets (CSV)", ("Prediction", "Target"), lc.guess_pair_columns, allow_constant=True
    )
    if chosen_columns is None:
        return
    cleaned, pred_col, target_col = chosen_columns
    options = fitting.line_losses()
    chosen = multichoice_control(
        "Losses", options, [n for n in ("mse", "mae", "huber") if n in options], f"{PAIRS}_losses"
    )
    if not chosen:
        st.info("Pick at least one loss.")
        return
    params = loss_param_controls(chosen, PAIRS, expanded=False)
    summaries = guarded(
        "Your pairs",
        lambda: lc.analyze_pairs(chosen, cleaned.columns[pred_col], cleaned.columns[target_col], params),
        chosen,
    )
    if summaries is None:
        return
    shares = dict.fromkeys(lc.SHARE_COLUMNS, "percent")
    show_table(lc.pairs_table(summaries), shares | {"mean loss": "%.4g"}, hide_index=True)
    show(figure_tail_shares(summaries), key=f"{PAIRS}_tail")
    show(figure_pair_distributions(summaries), key=f"{PAIRS}_dist")
    st.caption(f"{cleaned.rows:,} pairs; histograms are binned over all of them.")


st.title("Loss curves")
explain(
    "Pick a family and overlay its losses. Three aligned panels show the **loss**, its **gradient** — the pull "
    "a single example exerts on the prediction during training — and its **curvature**. MSE's gradient grows "
    "without bound (one outlier can dominate a fit), MAE's is a constant ±1 (every point pulls equally: the "
    "median), and Huber's is the residual clipped to ±δ. Dotted lines mark kinks, where the gradient (×) or "
    "the curvature (◇) jumps; lossviz reports the minimal-norm subgradient there (0 for |r| at r = 0)."
)

losses = loss_selection()
if not losses:
    st.info("Pick at least one loss to draw.")
    st.stop()

settings = st.columns([2, 1, 1])
zoom = param_control(lc.ZOOM, f"{PREFIX}_range", container=settings[0], label="x range (× natural range)")
log_y = toggle_control("log-scale loss axis", False, f"{PREFIX}_logy", container=settings[1])
abs_grad = toggle_control("|gradient|", False, f"{PREFIX}_absgrad", container=settings[2])
targets = target_controls(losses)
live = live_control(losses)
params = loss_param_controls(losses, PREFIX, skip={live.loss: live.values} if live else None)
if live is not None:
    params[live.loss].update(live.values)

curves = compute_curves(losses, zoom, targets, params)
for axis, names in lc.axis_groups(losses).items():
    draw_group(axis, names, curves, live, zoom, params, log_y, abs_grad)

if curves:
    plotted = list(curves.values())
    st.download_button(
        "Download the plotted data (CSV)",
        # Built on click only: a rerun (every commit of a live control) should not pay for a table nobody asked for.
        lambda: lc.curves_table(plotted, lambda n: lc.natural_axis(n).label).to_csv(index=False),
        file_name="loss_curves.csv",
        mime="text/csv",
        on_click="ignore",
    )
if log_y:
    st.caption("On the log scale, points where the loss is 0 (the minimum of most losses) are not drawn.")

st.divider()
if (own_data := lazy_expander("Your own data: a model's predictions vs targets", f"{PAIRS}_open")).open:
    with own_data:
        pairs_section()
