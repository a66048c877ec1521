"""Outlier sensitivity: fit a line with several losses, see each point's pull, the sensitivity curve and breakdown."""

from __future__ import annotations

import streamlit as st

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
from lossviz.toolkit import data as td
from lossviz.toolkit import fit as fitting
from lossviz.toolkit.tables import plot_subsample
from lossviz.ui import controls as uc
from lossviz.ui.cards import guarded_each, loss_cards
from lossviz.ui.charts import lazy_tabs, show, show_table
from lossviz.ui.classroom import explain
from lossviz.ui.navigation import ensure_app
from lossviz.ui.session import loss_key
from lossviz.ui.upload import column_pair

ensure_app()

PREFIX = "outliers"
CHART_KEY = f"{PREFIX}_chart"
MOVED_KEY, DROPPED_KEY = f"{PREFIX}_moved", f"{PREFIX}_dropped"
DEFAULT_LOSSES = ["mse", "mae", "huber", "log_cosh", "quantile", "barron"]
ESTIMATE_LABELS = {"slope": "slope b", "intercept": "intercept a", "location": "location (fit a constant)"}


@st.cache_data(max_entries=128, show_spinner=False)
def cached_fit(loss: str, identity: tuple, params: tuple, data_key: tuple) -> rf.FitStudy:
    n, noise, count, size, position, seed, moved, dropped = data_key
    data = rf.outlier_data(n, noise, count, size, position, seed, moved, dropped)
    return rf.fit_study(loss, dict(params), data)


@st.cache_data(max_entries=64, show_spinner="Sweeping the outlier …")
def cached_curves(
    loss: str, identity: tuple, params: tuple, *settings: float, model: str
) -> dict[str, tuple[rf.Sensitivity, rf.Breakdown]]:
    """The sweeps (41 + 21 data sets in one batched solve) depend on the clean data, not on the outliers' count
    or the picks; one solve gives every estimate of its model (slope and intercept), so switching between those
    is a cache hit. ``identity`` keys a custom loss by its definition."""
    return rf.robustness_by_estimate(loss, dict(params), *settings, model)


def picks_from_url(n: int) -> None:
    """Picked points live in the URL (``outliers_moved=3,7``) so that a shared link shows them too."""
    for key in (MOVED_KEY, DROPPED_KEY):
        if key in st.session_state:
            continue
        found, warning = rf.parse_indices(st.query_params.get(key, ""), n)
        if warning:
            st.warning(f"Link value {key}: {warning}.", icon=":material/warning:")
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

    def fit(name: str) -> rf.FitStudy:
        key = loss_key(name, params[name])
        if key not in memo:
            memo[key] = rf.fit_study(name, params[name], data)
        return memo[key]

    return guarded_each(losses, fit)


def fitted_lines(studies: dict[str, rf.FitStudy], colors: dict[str, str]) -> list[FittedLine]:
    return [
        FittedLine(name, float(s.fit.coef[0]), float(s.fit.coef[1]), colors[name], bool(s.fit.converged))
        for name, s in studies.items()
    ]


def show_fit_table(studies: dict[str, rf.FitStudy]) -> None:
    show_table(rf.fit_table(studies), {"‖subgradient‖": "%.1e"})


def show_user_data(losses: list[str], params: dict[str, dict[str, float]]) -> None:
    """Fits, pulls and the table for the user's own file (point picking and the sweeps need the synthetic set)."""
    chosen = column_pair(
        f"{PREFIX}_upload", "Your (x, y) data (CSV)", ("x", "y"), default_example="housing_outliers.csv"
    )
    if chosen is None:
        return
    cleaned, x_col, y_col = chosen
    data = rf.user_data(cleaned.columns[x_col], cleaned.columns[y_col])
    studies = user_fits(losses, params, data)
    if not studies:
        return
    colors = loss_colors(losses)
    focus_default = "mse" if "mse" in studies else next(iter(studies))
    focus = uc.choice_control("Colour points by the pull of", list(studies), focus_default, f"{PREFIX}_upload_focus")
    shown, note = plot_subsample(data.x.size)
    points = data.take(shown)
    fig = figure_fits(
        Points(points.x, points.y, points.status, studies[focus].share[shown]),
        fitted_lines(studies, colors),
        focus,
        rf.plot_x_range(data.x),
    )
    fig.update_xaxes(title_text=x_col)
    fig.update_yaxes(title_text=y_col)
    show(fig, key=f"{PREFIX}_upload_chart")
    if note:
        st.caption(note)
    show_fit_table(studies)
    st.caption(
        f"{data.x.size:,} points, fitted by {fitting.METHOD}. Point picking, the sensitivity curve and the breakdown "
        "plot need a known true line: switch the data source back to *synthetic* for them."
    )


st.title("Outlier sensitivity")
explain(
    "Fit a straight line with several losses at once and watch what a few outliers do. The fit minimises "
    "Σ ρ(a + b·xᵢ − yᵢ); each point pulls on it with force |ψ(rᵢ)| = |ρ′(rᵢ)|. Squared error lets that pull grow "
    "with the residual, so one far point can tilt the line; MAE and Huber cap it (bounded influence), and "
    "Barron's loss with α < 1 (set it under *Loss parameters*) lets it fall back to zero, so far outliers are "
    "ignored. Click, box- or lasso-select points on the chart to turn them into outliers or drop them."
)

options = fitting.line_losses()
losses = uc.multichoice_control(
    "Losses to fit", options, [n for n in DEFAULT_LOSSES if n in options], f"{PREFIX}_losses",
    help="Any pointwise loss of a real prediction and a real target, custom ones of this session included.",
)
if not losses:
    st.info("Pick at least one loss to fit.")
    st.stop()
params = uc.loss_param_controls(losses, PREFIX, expanded=False)

source = uc.radio_control("Data", ["synthetic", "your CSV file"], "synthetic", f"{PREFIX}_source", horizontal=True)
if source != "synthetic":
    show_user_data(losses, params)
    st.stop()

n, noise, seed, count, size, position = uc.param_row(
    PREFIX,
    [(rf.N_POINTS, "n", "points n"), (rf.CLEAN_NOISE, "noise", "noise σ"), (td.SEED, "seed", "seed"),
     (rf.N_OUTLIERS, "count", "outliers k"), (rf.OUTLIER_SIZE, "size", "outlier size s"),
     (rf.OUTLIER_POSITION, "position", "outlier position x₀")],
)  # fmt: skip

picks_from_url(n)
moved = {i for i in st.session_state[MOVED_KEY] if i < n}
dropped = {i for i in st.session_state[DROPPED_KEY] if i < n}
data_key = (n, noise, count, size, position, seed, tuple(sorted(moved)), tuple(sorted(dropped)))
data = rf.outlier_data(*data_key)
colors = loss_colors(losses)

studies = guarded_each(
    losses, lambda name: cached_fit(*loss_key(name, params[name]), data_key)
)
if not studies:
    st.stop()

chart_col, side_col = st.columns([3, 1])
with side_col:
    focus_default = "mse" if "mse" in studies else next(iter(studies))
    focus = uc.choice_control(
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
    show(figure_fits(points, fitted_lines(studies, colors), focus, rf.plot_x_range(data.x, rf.X_PAD, rf.PLOT_X_RANGE)),
         key=CHART_KEY, on_select="rerun", selection_mode=("points", "box", "lasso"))

# Two views under the fit: only the open one is computed and drawn. The sweeps refit 62 data sets per loss
# (most of the page's server time in a classroom), so they run only while their tab is open; the link keeps it.
pull_tab, sweep_tab = lazy_tabs(list(rf.VIEWS), f"{PREFIX}_view")
if pull_tab.open:
    with pull_tab:
        pull_col, table_col = st.columns([2, 3])
        with pull_col:
            pulled = rf.outlier_pull(studies, data)
            if pulled is not None:
                shares, fair = pulled
                show(figure_outlier_pull(shares, colors, fair))
            else:
                st.info("No outliers: raise k or pick points on the chart to see how much of the pull they hold.")

        with table_col:
            show_fit_table(studies)
            st.caption(
                f"True line: y = {rf.TRUE_LINE[0]:g} + {rf.TRUE_LINE[1]:g}·x. Fitted by {fitting.METHOD}; non-convex losses "
                f"(Barron α < 1) start from a robust Huber line (δ = {fitting.HUBER_K:g}·MAD-scale). ‖subgradient‖ is the "
                "smallest gradient norm of the objective at "
                "the solution (on standardised x)."
            )
            if not all(s.fit.converged for s in studies.values()):
                st.warning("Some fits did not reach a stationary point (‖subgradient‖ too large): their lines are dotted.")
if sweep_tab.open:
    with sweep_tab:
        explain(
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
        what = uc.radio_control(
            "Track", list(rf.ESTIMATES), "slope", f"{PREFIX}_estimate", container=curve_cols[0], horizontal=True,
            help="slope b or intercept a of the fitted line, or a location: the best constant (mean for MSE, median for MAE).",
        )
        sweep = uc.param_control(rf.SWEEP_RANGE, f"{PREFIX}_sweep", container=curve_cols[1], label="sweep range R")
        model = rf.fitted_together(what)[0]
        robustness = guarded_each(
            studies,
            lambda name: cached_curves(*loss_key(name, params[name]), n, noise, seed, size, position, sweep, model=model)[what],
        )
        for name, (sens, brk) in robustness.items():
            if not (sens.converged and brk.converged):
                st.warning(f"{name}: some fits of the sweep did not converge.")
        left, right = st.columns(2)
        with left:
            sc_curves = {name: sens.curve for name, (sens, _) in robustness.items()}
            show(figure_sensitivity(rf.sweep_offsets(sweep), sc_curves, colors, ESTIMATE_LABELS[what], marker=size))
        with right:
            bd_curves = {name: brk.error for name, (_, brk) in robustness.items()}
            show(figure_breakdown(rf.CONTAMINATION, bd_curves, colors, what))

st.subheader("The losses")
loss_cards(list(studies))
st.caption(
    "References: Huber, Robust Estimation of a Location Parameter (1964); Hampel, Ronchetti, Rousseeuw & Stahel, "
    "Robust Statistics: The Approach Based on Influence Functions (1986) for the sensitivity curve and the "
    "breakdown point; Koenker & Bassett (1978) for L1/quantile regression as a linear program."
)
