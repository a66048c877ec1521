"""Custom loss: type a formula, see its value, gradient and curvature, check it against a built-in."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

import lossviz
from lossviz.errors import FormulaError
from lossviz.figures.common import plain_symbol
from lossviz.figures.curves import LiveParameter, figure_loss_curves
from lossviz.formula import MAX_CUSTOM_LOSSES, NAN_NOTE, Formula, parse_formula
from lossviz.studies import curves as lc
from lossviz.studies import custom as cg
from lossviz.ui import custom_widgets as cw
from lossviz.ui.charts import show
from lossviz.ui.controls import choice_control, param_control
from lossviz.ui.session import session_losses

CHART_KEY = f"{cg.PREFIX}_chart"
UNREGISTERED = "unregistered"


def gallery() -> None:
    st.markdown("**Worked examples** — one click loads the formula, its parameters and a view that shows it best:")
    for ex, col in zip(cg.GALLERY, st.columns(len(cg.GALLERY)), strict=True):
        col.button(
            ex.title, key=f"{cg.PREFIX}_example_{ex.key}", on_click=cw.load_example, args=(ex.key,),
            help=f"`{ex.formula}`\n\n{ex.about}", width="stretch",
        )  # fmt: skip


def matching_example(formula: Formula) -> cg.Example | None:
    """The gallery example this formula is (spaces aside), for its description and suggested ranges."""
    text = "".join(formula.text.split())
    return next((ex for ex in cg.GALLERY if "".join(ex.formula.split()) == text), None)


def define_loss(name: str, formula: Formula, decls: dict[str, cg.Decl]) -> lossviz.LossSpec | None:
    """Register the loss for this session; if refused (bad name, session full), say why and draw it unregistered."""
    spec, refused = cw.register(name, formula.text, decls)
    if spec is not None:
        return spec
    st.error(f"Not registered: {cg.plain(refused or '')}", icon="🚫")
    try:
        return cg.spec_for(UNREGISTERED, formula.text, decls)
    except FormulaError as exc:
        st.error(cg.plain(str(exc)))
        return None


def view_controls() -> tuple[float, float, float, str]:
    cols = st.columns([2, 2, 2, 2])
    target = param_control(cg.TARGET, cg.control_key("target"), container=cols[0], label="target y")
    center = param_control(cg.CENTER, cg.control_key("center"), container=cols[1], label="centre of the p range")
    half = param_control(cg.HALF_WIDTH, cg.control_key("half_width"), container=cols[2], label="half width w")
    compare = choice_control(
        "Check against built-in", [cg.NO_COMPARISON, *cg.compare_candidates()], cg.NO_COMPARISON,
        cg.control_key("compare"), container=cols[3],
        help="Evaluate a built-in on a grid (value and gradient) and overlay it, dashed. Parameters match by "
        "name or by symbol (your c is the robust losses' scale c).",
    )  # fmt: skip
    return target, center, half, compare


def live_curves(spec: lossviz.LossSpec, x: np.ndarray, target: float, values: dict[str, float]) -> LiveParameter | None:
    """Plotly frames for the first parameter, so the curve moves while its chart slider is dragged."""
    if not spec.params:
        return None
    param = spec.params[0]
    frames = np.union1d(lc.frame_values(param), [values[param.name]])  # the chart starts at the slider's value
    try:
        curves = cg.sweep_curves(spec, param.name, frames, x, target, values)
    except ValueError as exc:
        st.info(f"No live slider: {exc}")
        return None
    symbol = plain_symbol(param.symbol) if param.symbol else param.name
    return LiveParameter(spec.name, f"{symbol} (live)", frames, curves, lc.nearest_index(frames, values[param.name]))


def builtin_overlay(check: cg.Check, x: np.ndarray, target: float) -> lc.Curve | None:
    """The built-in's curve at the same target and parameters, where it takes that target."""
    if check.problem is not None:
        return None
    b = lossviz.spec(check.builtin)
    if not cg.overlay_target_ok(b.name, target):
        st.info(f"`{b.name}` takes a target {b.target_domain.describe()}: set y to one of those to overlay it.")
        return None
    inside = x[~b.pred_domain.invalid_mask(x)]
    curve = lc.loss_curve(b, inside, target, check.builtin_params)
    return replace(curve, name=f"{b.name} (built-in)")


def chart(spec: lossviz.LossSpec, values: dict[str, float], target: float, center: float, half: float, compare: str) -> None:
    x = cg.x_grid(center, half)
    try:
        curve = lc.loss_curve(spec, x, target, values)
        live = live_curves(spec, x, target, values)
    except Exception as exc:  # a custom formula may fail in ways no declaration foresaw
        st.error(cg.plain(f"The formula could not be evaluated ({type(exc).__name__}: {exc})"))
        return
    shown = [curve]
    if compare != cg.NO_COMPARISON:
        check = cg.check_against_builtin(spec, compare, values, target)
        (st.success if check.ok else st.warning if check.problem is None else st.info)(check.message)
        overlay = builtin_overlay(check, x, target)
        if overlay is not None:
            shown.append(overlay)
    fig = figure_loss_curves(shown, x_label="prediction p", symbol="p", live=live, dashed=[c.name for c in shown[1:]])
    note = cg.undefined_note(x, curve.value, curve.grad, curve.curvature)
    if note:
        st.info(f"{note} {NAN_NOTE.split(': ')[0]}.", icon="ℹ️")
    show(fig, key=CHART_KEY)
    if live is not None:
        st.caption(
            f"Drag the slider under the chart to move {live.label.split(' (')[0]} live; the sliders above set the "
            "value kept in the link."
        )


def main() -> None:
    st.title("✍️ Custom loss")
    st.markdown(
        "Type a loss as a formula in the prediction **p** and the target **y**; every other name is a parameter. "
        "The page parses it as you type, renders it, and draws its value, gradient and curvature — the same "
        "panels as the Curves page. Watch the gradient: it is the pull one example exerts during training, so a "
        "loss whose gradient falls back to 0 far from the target (Cauchy, Welsch, Tukey) ignores outliers, while "
        "one whose gradient keeps growing (squared error, LINEX on its steep side) lets them dominate."
    )
    gallery()
    box, name_col = st.columns([4, 1])
    text = cw.formula_box(box)
    name = cw.name_box(name_col)
    try:
        formula = parse_formula(text)
    except FormulaError as exc:
        cw.show_formula_error(exc, text)
        st.info("Fix the formula to draw it; the rest of the page keeps working.")
        cw.custom_loss_list()
        return
    example = matching_example(formula)
    st.latex(f"L(p, y) = {formula.latex}")
    if example is not None:
        st.caption(f"{example.about} Reference: {example.reference}.")
    clashes = cg.key_clashes(formula.params)
    if clashes:
        st.error(f"Rename the parameter(s) {', '.join(clashes)}: their link keys clash with the page's controls.")
        cw.custom_loss_list()
        return
    decls: dict[str, cg.Decl] | None = {}
    cw.drop_stale_table_links(formula.params)
    if formula.params:
        with st.expander("Parameters: default and range of each slider", expanded=example is None):
            decls = cw.param_table(formula.params)
    if decls is None:
        st.info("Fix the parameter ranges to draw the formula.")
        cw.custom_loss_list()
        return
    spec = define_loss(name, formula, decls)
    if spec is not None:
        values = cw.param_sliders(decls, spec.name)
        target, center, half, compare = view_controls()
        chart(spec, values, target, center, half, compare)
    cw.custom_loss_list(spec.name if spec is not None and spec.name != UNREGISTERED else None)
    st.caption(
        f"Custom losses belong to this browser session only (at most {MAX_CUSTOM_LOSSES}); the Curves, Landscape "
        "and Outlier pages list them under *Custom*. The formula, its parameters and the view are in the link."
    )


with session_losses():
    main()
