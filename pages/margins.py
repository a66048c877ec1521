"""Margins & embeddings: hinge-type losses on a score, contrastive and cosine losses, the triplet plane."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import lossviz
from lossviz.figures.margins import ARROW_SCALE, figure_margin_panel, figure_triplet_plane, margin_frames
from lossviz.studies import margins as es
from lossviz.toolkit.frames import round_values
from lossviz.ui.cards import kept_figure, loss_card, loss_cards
from lossviz.ui.charts import lazy_expander, show
from lossviz.ui.classroom import explain
from lossviz.ui.controls import control_key, param_control, param_controls
from lossviz.ui.live_chart import LiveParam, live_chart, live_value
from lossviz.ui.navigation import ensure_app

ensure_app()

PREFIX = "margins"


def live_margin(key: str) -> tuple[str, LiveParam, str]:
    """(loss, live margin, URL key) of a panel: its first loss's margin steps through round values, under the
    key of that loss's margin control (old links keep working)."""
    loss, param = es.live_param(key)
    return loss, LiveParam(param, round_values(param)), control_key(PREFIX, f"{loss}_margin")


@st.cache_resource(max_entries=16, show_spinner=False)
def frames(key: str) -> tuple:
    """The frames of a panel at every live margin value: independent of the controls, so built
    once per process and shared read-only (figures never modify their frames)."""
    return margin_frames(es.panel_frames(key, live_margin(key)[1].values))


@st.fragment
def margin_chart(key: str) -> None:
    """One loss/gradient chart whose live control moves the panel's first margin; a loss with a margin of
    its own (the squared hinge beside the hinge) keeps a slider above. A change reruns only this fragment."""
    loss, live, url_key = live_margin(key)
    margins = {loss: live_value(live, url_key)}
    for name in es.PANELS[key][0][1:]:
        st.caption(lossviz.spec(name).title)  # which loss the slider's m belongs to
        margins[name] = param_controls(name, PREFIX)["margin"]
    # The figure is drawn at the live margin's default and the control shows the committed frame (the component
    # draws the figure with that frame applied, the same picture): so it is kept across reruns and sessions, and a
    # commit sends only the control's new state, neither recomputing the panel nor re-encoding its frames.
    at_default = {**margins, loss: live.param.default}
    try:
        figure = kept_figure(f"{PREFIX}_{key}", tuple(sorted(at_default.items())),
                             lambda: figure_margin_panel(es.panel(key, at_default), frames(key)))
    except ValueError as exc:
        st.error(str(exc))
        return
    live_chart(figure, live, key=url_key)
    if key == "multiclass":
        st.caption(f"Fixed scores {es.MULTICLASS_TEXT}; one of x0 or x1 varies along the x axis.")


def chart_beside_notes(key: str, title: str, notes: str, losses: list[str]) -> None:
    """A section: one panel's chart, and beside it what to notice and the cards of its losses."""
    st.header(title)
    chart, text = st.columns([3, 2])
    with chart:
        margin_chart(key)
    with text:
        st.markdown(notes)
        loss_cards(losses)


# --- score losses ---------------------------------------------------------------------------------

st.title("Margins, ranking & embeddings")
explain(
    "Most of these losses do not ask for an exact target value: they ask for a **margin**. A score, a distance "
    "or a cosine only has to land on the right side of m, and beyond it the loss — and its gradient — is exactly 0. "
    "Each chart shows the loss (top) and its gradient (bottom); the slider **under a chart** moves its margin "
    "live while you drag it, and the link keeps the value where you let go."
)

st.header("Margins on a score")
for key, column in zip(("binary", "multiclass", "ranking"), st.columns(3), strict=True):
    with column:
        margin_chart(key)
explain(
    "**What to notice.** The hinge max(0, m − y·p) is a ramp with slope −1 until the score clears the margin, "
    "then flat: correctly classified points beyond m stop pulling (only the *support vectors* near the boundary "
    "matter). The squared hinge has a gradient 2(y·p − m) that shrinks smoothly to 0 at the margin instead of "
    "jumping, and it punishes large violations quadratically. The multi-class loss adds one hinge per wrong "
    "class, divided by C: raising the true score x0 helps only while some rival is within m of it (the slope "
    "steps from −2/3 to −1/3 to 0 at x0 = x2 + m and x1 + m), and raising a rival's score costs 1/3 per unit once "
    "it comes within m of x0. Margin ranking is a hinge on the difference s1 − s2: only the order matters, not "
    "the scores themselves."
)
if (score_formulas := lazy_expander("Formulas and references", f"{PREFIX}_score_formulas")).open:
    with score_formulas:
        loss_cards(es.SCORE_LOSSES, per_row=len(es.SCORE_LOSSES))

# --- contrastive ----------------------------------------------------------------------------------

chart_beside_notes(
    "contrastive",
    "Contrastive loss: similar and dissimilar pairs",
    "**What to notice.** A similar pair (y = 1) is pulled together by ½d², with a pull d that fades as the "
    "pair closes in. A dissimilar pair (y = 0) is pushed apart by ½ max(0, m − d)² only while it is closer "
    "than m; beyond m it costs nothing, so the embedding is not torn apart to infinity. The push is "
    "strongest (−m) when the two points coincide.",
    ["contrastive"],
)

# --- triplet plane --------------------------------------------------------------------------------


PRESET_KEY = f"{PREFIX}_preset"


def apply_preset() -> None:
    """Set the coordinate sliders to the chosen preset, then clear the choice (the sliders hold the state)."""
    name = st.session_state.get(PRESET_KEY)
    if name in es.PRESETS:
        for coordinate, value in es.preset_coordinates(name).items():
            st.session_state[control_key(PREFIX, coordinate)] = value
    st.session_state[PRESET_KEY] = None


def triplet_controls() -> tuple[float, dict[str, float]]:
    margin = param_controls("triplet", PREFIX)["margin"]
    coordinates: dict[str, float] = {}
    for point in es.POINT_NAMES:
        for axis, col in zip(("x", "y"), st.columns(2), strict=True):
            name = f"{point}_{axis}"
            coordinates[name] = param_control(
                es.COORDINATES[name], control_key(PREFIX, name), container=col, label=f"{point} {axis}"
            )
    return margin, coordinates


@st.fragment
def triplet_section() -> None:
    st.pills("Place the points", list(es.PRESETS), key=PRESET_KEY, on_change=apply_preset,
             help="Moves the six coordinate sliders below to a telling configuration: the negative in each "
             "region, the negative on the anchor, a far positive with a near negative.")
    controls, chart = st.columns([1, 2])
    with controls:
        margin, coordinates = triplet_controls()
    try:
        plane = es.triplet_plane(es.triplet_from_coordinates(coordinates), margin)
    except ValueError as exc:
        chart.error(str(exc))
        return
    with chart:
        show(figure_triplet_plane(plane), key=f"{PREFIX}_chart_triplet")
        st.caption(
            f"Arrows point along −∂L/∂(point), where one gradient-descent step moves each point (length "
            f"{ARROW_SCALE:g} × the gradient's norm). Hover a point for its gradient, the plane for the loss there."
        )
    numbers = st.columns(4)
    numbers[0].metric("d(a, p)", f"{plane.d_ap:.4f}")
    numbers[1].metric("d(a, n)", f"{plane.d_an:.4f}")
    numbers[2].metric("triplet loss L", f"{plane.value:.4f}")
    numbers[3].metric("the negative is", plane.negative_region)
    # Numbers as fixed-decimal text: a pandas Styler would be formatted in Python on every rerun.
    st.table(pd.DataFrame(es.gradient_table(plane)).map(lambda v: f"{v:.4f}" if isinstance(v, float) else v))


st.header("Triplet loss in the embedding plane")
explain(
    "Place an anchor a, a positive p (same identity) and a negative n (another identity) in a 2-D embedding. "
    "The background shows, for **every position of the negative**, which kind of negative it would be (Schroff "
    "et al., FaceNet): **hard** if d(a,n) < d(a,p), **semi-hard** if d(a,p) < d(a,n) < d(a,p) + m, **easy** "
    "beyond. Grey contour lines give the loss L = max(0, d(a,p) − d(a,n) + m) at that position."
)
triplet_section()
explain(
    "**What to notice.** While L > 0 the gradient on the positive is the unit vector from a to p (a step moves p "
    "towards a), on the negative the unit vector from n to a (a step pushes n away), and on the anchor minus "
    "the sum of those two (the loss depends only on differences of the points). They have length 1 (the "
    "anchor's up to 2) however far apart the points are, because the distances are not squared. Easy negatives "
    "give L = 0 and no gradient at all: FaceNet trains on semi-hard negatives, which still teach something "
    "without the collapse that the hardest negatives cause early in training (a model that maps everything to "
    "one point has L = m for every triplet). A negative sitting exactly on the anchor has no direction to be "
    "pushed in: the distance carries torch's ε = 10⁻⁶, which picks the direction (−1, −1)/√2."
)
if (triplet_formula := lazy_expander("Formula and references", f"{PREFIX}_triplet_formula")).open:
    with triplet_formula:
        loss_card("triplet")

# --- cosine ---------------------------------------------------------------------------------------

chart_beside_notes(
    "cosine",
    "Cosine losses against the angle",
    "**What to notice.** Only the angle θ between the two vectors matters, not their lengths. A similar pair "
    "(y = +1) costs 1 − cos θ, which is flat at θ = 0 (the pull dL/dθ = sin θ vanishes as the vectors align) "
    "and pulls hardest at 90°. A dissimilar pair (y = −1) costs cos θ − m until the angle passes arccos m "
    "(the dotted line) and nothing after: with m = 0 the vectors only need to be orthogonal. Cosine "
    "proximity is −cos θ: the y = +1 curve shifted down by 1.",
    ["cosine_embedding", "cosine_proximity"],
)
