"""Outlier sensitivity: fit a line with several losses, see each point's pull, the sensitivity curve and breakdown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

import lossviz
from lossviz.figures.common import loss_colors
from lossviz.figures.outliers import (
    FittedLine,
    Points,
    figure_breakdown,
    figure_fits,
    figure_outlier_pull,
    figure_sensitivity,
)
from lossviz.studies import outliers as rf
from lossviz.toolkit import fit as fitting
from lossviz.toolkit.tables import UploadError, numeric_columns, plot_subsample, select_numeric
from lossviz.ui.charts import show
from lossviz.ui.controls import choice_control, multichoice_control, param_control, param_controls, radio_control
from lossviz.ui.upload import csv_source

PREFIX = "outliers"
CHART_KEY = f"{PREFIX}_chart"
MOVED_KEY, DROPPED_KEY = f"{PREFIX}_moved", f"{PREFIX}_dropped"
DEFAULT_LOSSES = ["mse", "mae", "huber", "log_cosh", "quantile", "barron"]
ESTIMATE_LABELS = {"slope": "slope b", "intercept": "intercept a", "location": "location (fit a constant)"}


def fingerprint(name: str) -> tuple[str, ...]:
    """What identifies a loss's definition in the cache: a custom loss may be redefined under its name."""
    s = lossviz.spec(name)
    return (s.name, str(s.builtin), s.latex, s.use_when)


@st.cache_data(max_entries=128, show_spinner=False)
def cached_fit(loss: str, fp: tuple, params: tuple, data_key: tuple) -> rf.FitStudy:
    n, noise, count, size, position, seed, moved, dropped = data_key
    data = rf.outlier_data(n, noise, count, size, position, seed, moved, dropped)
    return rf.fit_study(loss, dict(params), data)


@st.cache_data(max_entries=64, show_spinner="Sweeping the outlier …")
def cached_curves(
    loss: str, fp: tuple, params: tuple, n: int, noise: float, seed: int, size: float, position: float, sweep: float,
    what: str,
) -> tuple[rf.Sensitivity, rf.Breakdown]:
    """The sweeps (41 + 21 batched fits) depend on the clean data only, not on the outliers or picks."""
    x, y = rf.regression_set(n, noise, seed)
    return rf.robustness_curves(loss, dict(params), x, y, size, position, sweep, seed, what)


def report_failure(name: str, exc: Exception) -> None:
    if isinstance(exc, ValueError):
        st.error(f"{name}: {exc}")
    elif lossviz.spec(name).builtin:
        raise exc
    else:  # a custom formula may fail in ways no declaration foresaw
        st.error(f"{name}: the formula could not be evaluated ({type(exc).__name__}: {exc})")


def picks_from_url(n: int) -> None:
    """Picked points live in the URL (``outliers_moved=3,7``) so that a shared link shows them too."""
    for key in (MOVED_KEY, DROPPED_KEY):
        if key in st.session_state:
            continue
        found, warning = rf.parse_indices(st.query_params.get(key, ""), n)
        if warning:
            st.warning(f"Link value {key}: {warning}.", icon="⚠️")
        st.session_state[key] = found


def store_picks(moved: set[int], dropped: set[int]) -> None:
    for key, value in ((MOVED_KEY, moved), (DROPPED_KEY, dropped)):
        st.session_state[key] = value
        if value:
            st.query_params[key] = rf.format_indices(value)
        elif key in st.query_params:
            del st.query_params[key]


def selected_indices() -> set[int]:
    state = st.session_state.get(CHART_KEY)
    points = state["selection"]["points"] if state else []
    picked = set()
    for point in points:
        custom = point.get("customdata")
        if isinstance(custom, list):
            custom = custom[0] if custom else None
        if custom is not None:
            picked.add(int(custom))
    return picked


def on_pick(action: str) -> None:
    moved, dropped = rf.apply_pick(st.session_state[MOVED_KEY], st.session_state[DROPPED_KEY], selected_indices(), action)
    store_picks(moved, dropped)


def user_fits(losses: list[str], params: dict[str, dict[str, float]], data: rf.OutlierData) -> dict[str, rf.FitStudy]:
    """Fits to an uploaded file, memoised in this session only: uploaded data never enters st.cache_data,
    which all sessions share."""
    memo = st.session_state.setdefault(f"_{PREFIX}_user_fits", {})
    data_id = (data.x.size, hash(data.x.tobytes()), hash(data.y.tobytes()))
    if memo.get("data") != data_id:
        memo.clear()
        memo["data"] = data_id
    studies = {}
    for name in losses:
        key = (fingerprint(name), tuple(sorted(params[name].items())))
        try:
            if key not in memo:
                memo[key] = rf.fit_study(name, params[name], data)
            studies[name] = memo[key]
        except Exception as exc:
            report_failure(name, exc)
    return studies


def show_user_data(losses: list[str], params: dict[str, dict[str, float]]) -> None:
    """Fits, pulls and the table for the user's own file (point picking and the sweeps need the synthetic set)."""
    frame = csv_source(f"{PREFIX}_upload", "Your (x, y) data (CSV)", default_example="housing_outliers.csv")
    if frame is None:
        return
    columns = numeric_columns(frame)
    if len(columns) < 2:
        st.error("The file needs at least two numeric columns, x and y.")
        return
    left, right = st.columns(2)
    x_col = left.selectbox("x column", columns, index=0, key=f"{PREFIX}_upload_x")
    y_col = right.selectbox("y column", columns, index=min(1, len(columns) - 1), key=f"{PREFIX}_upload_y")
    try:
        cleaned = select_numeric(frame, [x_col, y_col])
    except UploadError as exc:
        st.error(str(exc))
        return
    for note in cleaned.notes:
        st.info(note)
    data = rf.user_data(cleaned.columns[x_col], cleaned.columns[y_col])
    studies = user_fits(losses, params, data)
    if not studies:
        return
    colors = loss_colors(losses)
    focus_default = "mse" if "mse" in studies else next(iter(studies))
    focus = choice_control("Colour points by the pull of", list(studies), focus_default, f"{PREFIX}_upload_focus")
    shown, note = plot_subsample(data.x.size)
    points = rf.OutlierData(data.x[shown], data.y[shown], data.x[shown], data.y[shown], data.status[shown])
    lines = [
        FittedLine(name, float(s.fit.coef[0]), float(s.fit.coef[1]), colors[name], bool(s.fit.converged))
        for name, s in studies.items()
    ]
    span = float(np.ptp(data.x))
    x_range = (float(data.x.min()) - 0.03 * span, float(data.x.max()) + 0.03 * span)
    fig = figure_fits(Points(points.x, points.y, points.status, studies[focus].share[shown]), lines, focus, x_range)
    fig.update_xaxes(title_text=x_col)
    fig.update_yaxes(title_text=y_col)
    show(fig, key=f"{PREFIX}_upload_chart")
    if note:
        st.caption(note)
    st.dataframe(
        pd.DataFrame(
            {
                "intercept a": [float(s.fit.coef[0]) for s in studies.values()],
                "slope b": [float(s.fit.coef[1]) for s in studies.values()],
                "largest 1 % of pulls, share": [
                    float(np.sort(s.share)[::-1][: max(1, data.x.size // 100)].sum()) for s in studies.values()
                ],
                "converged": ["✓" if s.fit.converged else "✗" for s in studies.values()],
            },
            index=list(studies),
        )
    )
    st.caption(
        f"{data.x.size:,} points, fitted by {fitting.METHOD}. Point picking, the sensitivity curve and the breakdown "
        "plot need a known true line: switch the data source back to *synthetic* for them."
    )


def loss_parameters(losses: list[str]) -> dict[str, dict[str, float]]:
    with_params = [n for n in losses if lossviz.spec(n).params]
    params: dict[str, dict[str, float]] = {n: {} for n in losses}
    if with_params:
        with st.expander("Loss parameters", expanded=False):
            for name, col in zip(with_params, st.columns(len(with_params)), strict=True):
                col.markdown(f"**{name}**")
                params[name] = param_controls(name, PREFIX, container=col)
    return params


st.title("🎯 Outlier sensitivity")
st.markdown(
    "Fit a straight line with several losses at once and watch what a few outliers do. The fit minimises "
    "Σ ρ(a + b·xᵢ − yᵢ); each point pulls on it with force |ψ(rᵢ)| = |ρ′(rᵢ)|. Squared error lets that pull grow "
    "with the residual, so one far point can tilt the line; MAE and Huber cap it (bounded influence), and "
    "Barron's loss with α < 1 (set it under *Loss parameters*) lets it fall back to zero, so far outliers are "
    "ignored. Click, box- or lasso-select points on the chart to turn them into outliers or drop them."
)

options = fitting.line_losses()
if not set(st.session_state.get(f"{PREFIX}_losses", [])) <= set(options):  # a custom loss was removed
    st.session_state[f"{PREFIX}_losses"] = [n for n in st.session_state[f"{PREFIX}_losses"] if n in options]
losses = multichoice_control(
    "Losses to fit", options, [n for n in DEFAULT_LOSSES if n in options], f"{PREFIX}_losses",
    help="Any pointwise loss of a real prediction and a real target, custom ones of this session included.",
)
if not losses:
    st.info("Pick at least one loss to fit.")
    st.stop()
params = loss_parameters(losses)

source = radio_control("Data", ["synthetic", "your CSV file"], "synthetic", f"{PREFIX}_source", horizontal=True)
if source != "synthetic":
    show_user_data(losses, params)
    st.stop()

data_cols = st.columns(6)
n = param_control(rf.N_POINTS, f"{PREFIX}_n", container=data_cols[0], label="points n")
noise = param_control(rf.NOISE, f"{PREFIX}_noise", container=data_cols[1], label="noise σ")
seed = param_control(rf.SEED, f"{PREFIX}_seed", container=data_cols[2], label="seed")
count = param_control(rf.N_OUTLIERS, f"{PREFIX}_count", container=data_cols[3], label="outliers k")
size = param_control(rf.OUTLIER_SIZE, f"{PREFIX}_size", container=data_cols[4], label="outlier size s")
position = param_control(rf.OUTLIER_POSITION, f"{PREFIX}_position", container=data_cols[5], label="outlier position x₀")

picks_from_url(n)
moved = {i for i in st.session_state[MOVED_KEY] if i < n}
dropped = {i for i in st.session_state[DROPPED_KEY] if i < n}
data_key = (n, noise, count, size, position, seed, tuple(sorted(moved)), tuple(sorted(dropped)))
data = rf.outlier_data(*data_key)
colors = loss_colors(losses)

studies: dict[str, rf.FitStudy] = {}
for name in losses:
    try:
        fp = fingerprint(name)
        studies[name] = cached_fit(name, fp, tuple(sorted(params[name].items())), data_key)
    except Exception as exc:
        report_failure(name, exc)
if not studies:
    st.stop()

chart_col, side_col = st.columns([3, 1])
with side_col:
    focus_default = "mse" if "mse" in studies else next(iter(studies))
    if st.session_state.get(f"{PREFIX}_focus", focus_default) not in studies:
        st.session_state[f"{PREFIX}_focus"] = focus_default
    focus = choice_control(
        "Colour points by the pull of", list(studies), focus_default, f"{PREFIX}_focus",
        help="Each point's share of this loss's total pull Σ|ψ(rᵢ)| at its fitted line.",
    )
    st.markdown("**Picked points** (select on the chart first)")
    st.button("Make outliers", on_click=on_pick, args=("outlier",), width="stretch",
              help=f"Move the selected points up by the outlier size s = {size:g}.")
    st.button("Drop from the fit", on_click=on_pick, args=("drop",), width="stretch")
    st.button("Restore", on_click=on_pick, args=("restore",), width="stretch",
              help="Undo picks on the selected points (generated outliers stay; lower k for those).")
    st.button("Reset all picks", on_click=store_picks, args=(set(), set()), width="stretch")
    st.caption(f"{len(moved)} picked as outliers, {len(dropped)} dropped.")

with chart_col:
    points = Points(data.x, data.y, data.status, studies[focus].share)
    lines = [
        FittedLine(name, float(s.fit.coef[0]), float(s.fit.coef[1]), colors[name], bool(s.fit.converged))
        for name, s in studies.items()
    ]
    x_lo, x_hi = min(-1.05, float(data.x.min()) - 0.05), max(1.05, float(data.x.max()) + 0.05)
    show(figure_fits(points, lines, focus, (x_lo, x_hi)), key=CHART_KEY, on_select="rerun",
         selection_mode=("points", "box", "lasso"))

outliers = data.status == 1
kept = data.status != 2
pull_col, table_col = st.columns([2, 3])
with pull_col:
    if outliers.any():
        shares = {name: float(s.share[outliers].sum()) for name, s in studies.items()}
        show(figure_outlier_pull(shares, colors, float(outliers.sum()) / max(int(kept.sum()), 1)))
    else:
        st.info("No outliers: raise k or pick points on the chart to see how much of the pull they hold.")

table = pd.DataFrame(
    {
        "intercept a": [float(s.fit.coef[0]) for s in studies.values()],
        "slope b": [float(s.fit.coef[1]) for s in studies.values()],
        "iterations": [int(s.fit.iterations) for s in studies.values()],
        "‖subgradient‖": [f"{float(s.fit.grad_norm):.1e}" for s in studies.values()],
        "converged": ["✓" if s.fit.converged else "✗" for s in studies.values()],
    },
    index=list(studies),
)
with table_col:
    st.dataframe(table)
    st.caption(
        f"True line: y = {rf.TRUE_LINE[0]:g} + {rf.TRUE_LINE[1]:g}·x. Fitted by {fitting.METHOD}; non-convex losses "
        "(Barron α < 1) start from a robust Huber line (δ = 1.345·MAD-scale). ‖subgradient‖ is the smallest gradient norm of the objective at "
        "the solution (on standardised x)."
    )
    if not all(s.fit.converged for s in studies.values()):
        st.warning("Some fits did not reach a stationary point (‖subgradient‖ too large): their lines are dotted.")

st.subheader("Sensitivity curve and breakdown")
st.markdown(
    "**Sensitivity curve** (Tukey): add one point at x₀ and move it from far below to far above the true line; "
    "SC(y₀) = n·(T(x₁…x_{n−1}, y₀) − T(x₁…x_{n−1})) shows how much it moves the estimate T. Least squares gives "
    "a straight, unbounded line; a bounded ψ gives a bounded curve; a redescending one returns to 0. "
    "**Breakdown**: move a growing share of the clean points into the outlier cluster (at x₀, s above the line) "
    "and watch the error |T(ε) − T(0)|. With the cluster at x₀ ≈ 0 the L1 and Huber lines hold until about half "
    "the data; at x₀ = ±1 (leverage points, which pull on the slope with a long lever) they give way much earlier, "
    "near a quarter. Least squares has no such threshold: every outlier moves it."
)
curve_cols = st.columns([1, 1, 2])
# Options are plain words: a bound widget writes its *formatted* option to the URL.
what = radio_control(
    "Track", list(rf.ESTIMATES), "slope", f"{PREFIX}_estimate", container=curve_cols[0], horizontal=True,
    help="slope b or intercept a of the fitted line, or a location: the best constant (mean for MSE, median for MAE).",
)
sweep = param_control(rf.SWEEP_RANGE, f"{PREFIX}_sweep", container=curve_cols[1], label="sweep range R")
sc_curves: dict[str, np.ndarray] = {}
bd_curves: dict[str, np.ndarray] = {}
offsets = rf.sweep_offsets(sweep)
fractions = rf.CONTAMINATION
for name in studies:
    try:
        sens, brk = cached_curves(
            name, fingerprint(name), tuple(sorted(params[name].items())), n, noise, seed, size, position, sweep, what
        )
    except Exception as exc:
        report_failure(name, exc)
        continue
    sc_curves[name], bd_curves[name] = sens.curve, brk.error
    if not (sens.converged and brk.converged):
        st.warning(f"{name}: some fits of the sweep did not converge.")
left, right = st.columns(2)
with left:
    show(figure_sensitivity(offsets, sc_curves, colors, ESTIMATE_LABELS[what], marker=size))
with right:
    show(figure_breakdown(fractions, bd_curves, colors, what))

st.subheader("The losses")
for name in studies:
    s = lossviz.spec(name)
    st.markdown(f"**{s.title}** (`{name}`) — {s.use_when}")
    st.latex(s.latex)
    if s.references:
        st.caption("Reference: " + "; ".join(s.references))
st.caption(
    "References: Huber, Robust Estimation of a Location Parameter (1964); Hampel, Ronchetti, Rousseeuw & Stahel, "
    "Robust Statistics: The Approach Based on Influence Functions (1986) for the sensitivity curve and the "
    "breakdown point; Koenker & Bassett (1978) for L1/quantile regression as a linear program."
)
