"""Sequence & count: CTC on a small example you control, and the Poisson and Gaussian NLLs."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

import lossviz
from lossviz.errors import ParameterError
from lossviz.figures.sequence import figure_ctc, figure_nll_curves, padded_range
from lossviz.studies import sequence as cs
from lossviz.ui.cards import loss_card
from lossviz.ui.classroom import explain
from lossviz.ui.controls import choice_control, control_key, param_control, param_controls, text_control
from lossviz.ui.live_chart import LiveParam, live_chart, live_value
from lossviz.ui.navigation import ensure_app

ensure_app()

PREFIX = "sequence"
LABEL_KEY = f"{PREFIX}_label"
FRAME_KEY = f"{PREFIX}_frame"
CLASS_KEY = f"{PREFIX}_class"
BOOST_KEY = f"{PREFIX}_boost"
COUNT_KEY = f"{PREFIX}_count"
VAR_KEY = control_key(PREFIX, "gaussian_nll_var")
# The URL keys of the three live parameters: those of the sliders they replace, so old links keep working.
VAR = lossviz.spec("gaussian_nll").param("var")
BOOST = LiveParam(cs.BOOST, cs.boost_values())
COUNT = LiveParam(cs.COUNT, cs.count_values())
VARIANCE = LiveParam(VAR, cs.variance_values(VAR))


@st.cache_data(max_entries=32, show_spinner=False)
def gaussian_curves(target: float, variances: tuple[float, ...], others: tuple[tuple[str, float], ...]) -> list:
    """Every σ² frame for this target (one evaluate call each); moving the σ² control is a cache hit."""
    return cs.gaussian_curves(target, variances, **dict(others))


def label_control(letters: int) -> str:
    """The label as typed (validated by the caller); the URL keeps it."""
    return text_control(
        "label", cs.DEFAULT_LABEL, LABEL_KEY, max_chars=int(cs.FRAMES.ui_high),
        help=f"The target sequence, letters from {', '.join(cs.class_names(letters)[1:])}; the blank ∅ is "
        "implicit. Empty is allowed (the loss is then that of all blanks).",
    )  # fmt: skip


def frame_control(frames: int, container) -> int:
    """The boosted frame (1 … T); a value left over from a longer T is moved to T first."""
    if st.session_state.get(FRAME_KEY, 1) > frames:
        st.session_state[FRAME_KEY] = frames
    return param_control(cs.frame_param(frames), FRAME_KEY, container=container, label="boosted frame t")


def class_control(names: list[str], container) -> int:
    """The boosted class; a letter left over from a larger alphabet falls back to the first letter."""
    return names.index(choice_control("boosted class k", names, names[1], CLASS_KEY, container=container))


@st.fragment
def ctc_section() -> None:
    st.header("CTC on a small example")
    explain(
        "At every frame t the model outputs a distribution y_t over the blank ∅ and the letters — you set it "
        "below through a preset, its sharpness and a boost of one cell. CTC adds up the probability of every "
        "path of T classes that *collapses* to the label (merge repeats, then drop blanks: a a ∅ b → ab), and "
        "the loss is minus the log of that sum. Notice in the gradient that ∂L/∂u = y − q, where q_t(k) is the "
        "probability, given the label, that frame t emits k: negative (blue) where the label's alignments want "
        "more probability than the model gives, positive (red) on classes no alignment uses. A repeated letter "
        "(the bb of abba) needs a blank between its copies, so T must be at least S + the number of repeats."
    )
    top = st.columns(4)
    frames = param_control(cs.FRAMES, f"{PREFIX}_frames", container=top[0], label="frames T")
    letters = param_control(cs.ALPHABET_SIZE, f"{PREFIX}_letters", container=top[1], label="letters K")
    with top[2]:
        text = label_control(letters)
    preset = choice_control(
        "posteriors preset", list(cs.PRESETS), cs.DEFAULT_PRESET, f"{PREFIX}_preset", container=top[3],
        help="  \n".join(f"**{k}**: {v}" for k, v in cs.PRESETS.items()),
    )
    top[3].caption(cs.PRESETS[preset])
    names = cs.class_names(letters)
    row = st.columns(3)
    sharpness = param_control(cs.SHARPNESS, f"{PREFIX}_sharpness", container=row[0], label="sharpness s")
    frame = frame_control(frames, row[1])
    boosted = class_control(names, row[2])
    boost = live_value(BOOST, BOOST_KEY)
    try:
        labels = cs.parse_label(text or "", letters)
    except ParameterError as exc:
        st.error(str(exc))
        return
    try:
        cs.check_example(frames, letters, labels)
    except ParameterError as exc:
        st.error(str(exc))
        st.info(f"Raise T to at least {cs.min_frames(labels)} or shorten the label.")
        return
    base = cs.preset_logits(preset, labels, frames, letters, sharpness)
    sweep = cs.ctc_sweep(base, labels, letters, frame - 1, boosted, cs.boost_values())
    i = sweep.index(boost)
    metrics = st.columns(4)
    metrics[0].metric("CTC loss −log p(l | x)", f"{sweep.loss[i]:.4f}")
    metrics[1].metric("p(label | x)", f"{sweep.probability(i):.4g}")
    metrics[2].metric("best-path decoding", sweep.decoded(i) or "(empty)")
    metrics[3].metric("label", cs.label_text(labels, letters) or "(empty)")
    live_chart(figure_ctc(sweep, i), BOOST, key=BOOST_KEY)
    st.caption(
        "Orange × (top left of a cell) marks the best path, the most likely class at each frame — its collapse "
        "is the best-path decoding; green ● (bottom right) marks the single most likely path that collapses to "
        f"the label; the purple square is the boosted cell (frame {frame}, class {names[boosted]}). Dragging the "
        "boost β under the chart moves it live; the numbers above follow where you let go."
    )
    loss_card("ctc", heading=False)


# The heading and text of each NLL section.
NLL_SECTIONS = {
    "poisson_nll": (
        "Counts: Poisson negative log-likelihood",
        "For a count y the model predicts the log-rate p, so that the rate e^p is positive whatever p is. "
        "The loss e^p − y·p is convex with gradient e^p − y: zero at p = log y, where the predicted rate "
        "equals the count. For y = 0 there is no minimiser — the loss keeps falling as p → −∞ (rate → 0). "
        "The constant log y! is dropped, so the minimum is y − y·log y, not 0.",
    ),
    "gaussian_nll": (
        "Gaussian negative log-likelihood",
        "With noise variance σ² the loss is ½(log σ² + (p − y)²/σ²): the squared error scaled by 1/(2σ²), plus "
        "½·log σ². The minimiser is p = y whatever σ²; σ² sets the curvature 1/σ². A small variance makes every "
        "error expensive (the gradient (p − y)/σ² is steep), a large one forgives. When a model predicts σ² "
        "as well, the log σ² term is what stops it from claiming an infinite variance.",
    ),
}


def nll_section(loss: str) -> tuple[DeltaGenerator, DeltaGenerator]:
    """An NLL section's heading and text, and its two columns: narrow for the controls, wide for the chart."""
    title, about = NLL_SECTIONS[loss]
    st.header(title)
    st.markdown(about)
    left, right = st.columns([1, 3])
    return left, right


@st.fragment
def poisson_section() -> None:
    left, right = nll_section("poisson_nll")
    # poisson_nll declares no parameters today: y is the target, the live setting.
    params = param_controls("poisson_nll", PREFIX, container=left)
    count = live_value(COUNT, COUNT_KEY)
    curves = cs.poisson_curves(COUNT.values, **params)
    active = cs.nearest_curve(curves, count)
    with left:
        minimiser = curves[active].minimiser
        st.metric("minimiser p* = log y", "none (y = 0)" if minimiser is None else f"{minimiser[0]:.4f}")
    with right:
        figure = figure_nll_curves(curves, active, x_label="predicted log-rate p (rate λ = e^p)", symbol="p")
        live_chart(figure, COUNT, key=COUNT_KEY)
        st.caption("Drag the count y under the chart to move it live.")
    loss_card("poisson_nll", heading=False)


@st.fragment
def gaussian_section() -> None:
    left, right = nll_section("gaussian_nll")
    target = param_control(cs.GAUSSIAN_TARGET, f"{PREFIX}_target", container=left, label="target y")
    params = param_controls("gaussian_nll", PREFIX, container=left, skip=(VAR.name,))
    variance = live_value(VARIANCE, VAR_KEY)
    try:
        curves = gaussian_curves(target, VARIANCE.values, tuple(sorted(params.items())))
    except ValueError as exc:
        st.error(str(exc))
        return
    active = cs.nearest_curve(curves, variance)
    reference = curves[cs.nearest_curve(curves, VAR.default)]
    with left:
        x_star, l_star = curves[active].minimiser
        st.metric("minimiser p* = y", f"{x_star:.4g}")
        st.metric("minimum ½·log σ²", f"{l_star:.4f}")
    with right:
        figure = figure_nll_curves(
            curves, active, x_label="prediction p", symbol="p",
            value_range=padded_range([cs.lowest_values(curves), reference.value]),
            grad_range=padded_range([reference.grad]), colour="#2ca02c",
        )  # fmt: skip
        live_chart(figure, VARIANCE, key=VAR_KEY)
        st.caption(
            f"The axes are fixed to the σ² = {VAR.default:g} curve, so a small σ² runs off the top: "
            "drag σ² under the chart to see the well narrow and deepen as σ² shrinks."
        )
    loss_card("gaussian_nll", heading=False)


st.title("Sequence & count losses")
ctc_section()
poisson_section()
gaussian_section()
