"""Custom loss: type a formula, see its value, gradient and curvature, check it against a built-in.

Every control is bound to the URL (``bind="query-params"``) under a ``custom_…`` key from
:mod:`lossviz.studies.custom`; link values are checked before the widgets exist and a bad one gives a
visible warning. Values are loaded into the widgets by ``on_click`` callbacks (:func:`load_into_editor`),
which run before the next script run creates the widgets, so the widgets take them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

import lossviz
from lossviz.errors import FormulaError
from lossviz.figures.curves import LiveCurves, figure_loss_curves
from lossviz.figures.custom import mark_findings
from lossviz.formula import (
    FUNCTIONS,
    MAX_CUSTOM_LOSSES,
    MAX_LENGTH,
    NAN_NOTE,
    SUGGESTED_DEFAULT,
    SUGGESTED_RANGE,
    Formula,
    formula_of,
    parse_formula,
)
from lossviz.formula import define as define_formula
from lossviz.formula import symbol as latex_symbol
from lossviz.studies import curves as lc
from lossviz.studies import custom as cg
from lossviz.ui import url_state
from lossviz.ui.cards import guarded, plain
from lossviz.ui.charts import show
from lossviz.ui.classroom import explain
from lossviz.ui.controls import choice_control, param_control, text_control
from lossviz.ui.live_chart import LiveParam, commit_value, forget_switched_controls, live_chart, live_value
from lossviz.ui.navigation import ensure_app
from lossviz.ui.session import session_losses

ensure_app()

SEVERITY_ICONS = {"error": ":red[:material/error:]", "warning": ":orange[:material/warning:]", "info": ":blue[:material/info:]"}
CHART_KEY = f"{cg.PREFIX}_chart"
UNREGISTERED = "unregistered"
FORMULA_KEY = cg.control_key("formula")
NAME_KEY = cg.control_key("name")
NAME_PATTERN = (r"^[A-Za-z][A-Za-z0-9_]{0,39}$", "A letter, then up to 39 letters, digits or _.")
# The pause in typing after which the formula box commits (and the page re-parses it).
LIVE_PARSE = "400ms"


# --- callbacks: values into the editor's widgets ----------------------------------------------------


def load_into_editor(
    formula: str, name: str, decls: Mapping[str, cg.Decl], view: Mapping[str, object] | None = None
) -> None:
    """Callback: put a formula, its name, parameter table and view settings into the page's widgets."""
    st.session_state[FORMULA_KEY] = formula
    st.session_state[NAME_KEY] = name
    live = parse_formula(formula).params[:1]  # the live control's parameter (lc.live_parameters)
    for param, (default, low, high) in decls.items():
        keys = cg.param_keys(param)
        for what, value in (("default", default), ("low", low), ("high", high)):
            st.session_state[keys[what]] = float(value)
        if param in live:
            commit_value(keys["value"], float(default))
        else:
            st.session_state[keys["value"]] = float(default)
    for control, value in (view or {}).items():
        st.session_state[cg.control_key(control)] = value


def load_example(key: str) -> None:
    """Callback of a gallery button: the example, its view and the built-in it is checked against."""
    ex = cg.example(key)
    view = {
        "target": ex.target,
        "center": ex.center,
        "half_width": ex.half_width,
        "compare": ex.builtin or cg.NO_COMPARISON,
    }
    load_into_editor(ex.formula, ex.name, ex.params, view)


def load_doctor_example(code: str) -> None:
    """Callback of a doctor-gallery button: a formula that shows the finding ``code``, in a view that shows it."""
    ex = next(e for e in cg.DOCTOR_EXAMPLES if e.code == code)
    formula, decls, view = cg.doctor_example_setup(ex)
    load_into_editor(formula, cg.DOCTOR_NAME, decls, {**view, "compare": cg.NO_COMPARISON})


def load_registered(name: str) -> None:
    """Callback of an "Edit" button: a custom loss of this session back into the editor.

    Callbacks run before the page, outside its :func:`session_losses` block: they open it themselves.
    """
    with session_losses() as store:
        spec = store.get(name)
    formula = formula_of(spec) if spec is not None else None
    if formula is not None:
        load_into_editor(formula.text, name, cg.decls_of(spec))


def remove_registered(name: str) -> None:
    """Callback of a "Remove" button: forget a custom loss of this session."""
    with session_losses() as store:
        store.pop(name, None)


# --- the editor: formula, name, parameter table, sliders ----------------------------------------------


def _name_problem(raw: str) -> str | None:
    try:
        cg.check_loss_name(raw)
    except FormulaError as exc:
        return str(exc)
    return None


def _formula_problem(raw: str) -> str | None:
    return f"a formula has at most {MAX_LENGTH} characters" if len(raw) > MAX_LENGTH else None


def formula_box(container=st) -> str:
    """The formula box (``custom_formula``), committed after a short pause in typing."""
    return text_control(
        "Formula L(p, y)", cg.DEFAULT_FORMULA, FORMULA_KEY, _formula_problem, container,
        max_chars=MAX_LENGTH, live=LIVE_PARSE, placeholder="(p - y)**2",
        help="p is the prediction, y the target; every other name is a parameter. "
        "Functions: " + ", ".join(FUNCTIONS) + "; constants pi, e.",
    )  # fmt: skip


def name_box(container=st) -> str:
    """The name the loss registers under (``custom_name``), a validated identifier."""
    return text_control(
        "Name", cg.DEFAULT_NAME, NAME_KEY, _name_problem, container, max_chars=40, validate=NAME_PATTERN,
        help="The name other pages list it under (family Custom). Built-in names are taken.",
    ).strip()  # fmt: skip


def show_formula_error(exc: FormulaError, text: str, container=st) -> None:
    """The rejection message, and the formula with a caret under the offending column."""
    container.error(f"Formula rejected — {plain(str(exc))}", icon=":material/block:")
    offset = getattr(exc, "offset", None)
    if offset is not None and text:
        container.code(cg.caret_lines(text, offset), language=None)


def _slider_to_default(default_key: str, value_key: str) -> None:
    """Callback of a table default: the parameter's control (its slider or the live control) moves to it."""
    if isinstance(st.session_state.get(value_key), Mapping):
        commit_value(value_key, float(st.session_state[default_key]))
    else:
        st.session_state[value_key] = st.session_state[default_key]


def _table_number(label: str, key: str, fallback: float, container, **kwargs) -> float:
    """A number of the parameter table: from the session, else from the link (checked), else ``fallback``."""
    url_state.restore_free_number(key, fallback)
    return float(
        container.number_input(label, key=key, step=0.1, format="%g", label_visibility="collapsed", **kwargs)
    )


def drop_stale_table_links(params: tuple[str, ...]) -> None:
    """Remove the table entries of parameters the formula no longer has from the link."""
    current = {k for p in params for k in cg.param_keys(p).values()}
    for key in list(st.query_params.keys()):
        if key not in current and cg.table_param_of(key) is not None:
            del st.query_params[key]


def param_table(params: tuple[str, ...]) -> dict[str, cg.Decl] | None:
    """Default / low / high of each parameter (``custom_<param>_default`` …); None if one is unusable.

    Each starts at the suggested 1.0 in [−10, 10] whatever the formula, so that a link holds every
    value that differs from that (examples load their own values through :func:`load_into_editor`).
    """
    decls: dict[str, cg.Decl] = {}
    header = st.columns([1, 1, 1, 1])
    for col, text in zip(header, ("parameter", "default", "low", "high"), strict=True):
        col.caption(text)
    ok = True
    for name in params:
        keys = cg.param_keys(name)
        start = (SUGGESTED_DEFAULT, *SUGGESTED_RANGE)
        label, d_col, lo_col, hi_col = st.columns([1, 1, 1, 1])
        label.markdown(f"`{name}` ${latex_symbol(name)}$")
        moves_slider = {"on_change": _slider_to_default, "args": (keys["default"], keys["value"])}
        d = _table_number(f"default of {name}", keys["default"], start[0], d_col, **moves_slider)
        lo = _table_number(f"low of {name}", keys["low"], start[1], lo_col)
        hi = _table_number(f"high of {name}", keys["high"], start[2], hi_col)
        for what, value, fallback in zip(("default", "low", "high"), (d, lo, hi), start, strict=True):
            url_state.write_number(keys[what], value, fallback)
        try:
            decl, warning = cg.checked_decl(name, d, lo, hi)
        except FormulaError as exc:
            st.error(plain(str(exc)))
            ok = False
            continue
        if warning:
            st.warning(plain(warning), icon=":material/warning:")
        decls[name] = decl
    return decls if ok else None


def param_sliders(decls: Mapping[str, cg.Decl], loss: str, skip: Collection[str] = (), container=st) -> dict[str, float]:
    """One slider per parameter not in ``skip`` (``custom_<param>``), generated from its Param like a built-in's."""
    values: dict[str, float] = {}
    shown = {name: decl for name, decl in decls.items() if name not in skip}
    if not shown:
        return values
    columns = container.columns(min(len(shown), 4))
    for i, (name, decl) in enumerate(shown.items()):
        param = cg.formula_param(name, decl, loss)
        key = cg.param_keys(name)["value"]
        if key in st.session_state:  # a value left from other table ranges moves inside the new ones
            current = st.session_state[key]
            lo, hi = param.slider_range
            if not isinstance(current, int | float) or not lo <= current <= hi:
                st.session_state[key] = param.nearest_valid(float(current)) if isinstance(current, int | float) else decl[0]
        values[name] = param_control(param, key, container=columns[i % len(columns)])
    return values


def custom_loss_list(current: str | None = None) -> None:
    """This session's custom losses, each with Edit and Remove, and how many more fit."""
    names = lossviz.names(family="custom")
    st.markdown(f"**Your custom losses in this session** ({len(names)} of at most {MAX_CUSTOM_LOSSES})")
    if not names:
        st.caption("None yet: a formula that parses is registered under its name.")
        return
    for n in names:
        spec = lossviz.spec(n)
        formula = formula_of(spec)
        left, mid, edit, remove = st.columns([3, 8, 1, 1], vertical_alignment="center")
        left.markdown(f"`{n}`" + (" (editing)" if n == current else ""))
        # Inline code rather than st.code, whose syntax highlighter took 340 ms of this page's load in Chromium;
        # between double backticks Markdown shows the text as typed.
        mid.markdown(f"`` {formula.text if formula else spec.latex} ``")
        edit.button(
            ":material/edit:", key=f"{cg.PREFIX}_edit_{n}", on_click=load_registered, args=(n,),
            help=f"Load {n} into the formula box",
        )  # fmt: skip
        remove.button(
            ":material/delete:", key=f"{cg.PREFIX}_remove_{n}", on_click=remove_registered, args=(n,),
            help=f"Remove {n} from this session",
        )  # fmt: skip


# --- the page ---------------------------------------------------------------------------------------


def gallery() -> None:
    st.markdown("**Worked examples** — one click loads the formula, its parameters and a view that shows it best:")
    for ex, col in zip(cg.GALLERY, st.columns(len(cg.GALLERY)), strict=True):
        col.button(
            ex.title, key=f"{cg.PREFIX}_example_{ex.key}", on_click=load_example, args=(ex.key,),
            help=f"`{ex.formula}`\n\n{ex.about}", width="stretch",
        )  # fmt: skip
    st.markdown("**What each warning of the loss doctor means** — one click loads a formula that shows it:")
    for ex, col in zip(cg.DOCTOR_EXAMPLES, st.columns(len(cg.DOCTOR_EXAMPLES)), strict=True):
        col.button(
            ex.code.replace("_", " "), key=f"{cg.PREFIX}_doctor_{ex.code}", on_click=load_doctor_example,
            args=(ex.code,), help=f"`{ex.formula}`\n\n{ex.caption}", width="stretch",
        )  # fmt: skip


def define_loss(name: str, formula: Formula, decls: dict[str, cg.Decl]) -> lossviz.LossSpec | None:
    """Register the loss for this session; if refused (bad name, session full), say why and draw it unregistered."""
    try:
        return define_formula(name, formula.text, **decls)
    except FormulaError as exc:
        st.error(f"Not registered: {plain(str(exc))}", icon=":material/block:")
    try:
        return cg.spec_for(UNREGISTERED, formula.text, decls)
    except FormulaError as exc:
        st.error(plain(str(exc)))
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


@dataclass(frozen=True)
class LiveControl:
    """The one control of the formula's first parameter, under the chart, and the value it committed."""

    param: LiveParam
    key: str
    value: float


def live_control(spec: lossviz.LossSpec) -> LiveControl | None:
    """The live parameter (the formula's first, as the Curves page picks it) and its committed value (the
    browser's last release, or the link's), known before any curve is computed, so that the doctor, the
    check against a built-in and the curves all use it; None for a formula without parameters."""
    live = lc.live_parameters([spec])
    if live is None:
        return None
    param = live[1][0]
    key = cg.param_keys(param.name)["value"]  # the old slider's key: old links still work
    forget_switched_controls([cg.param_keys(p.name)["value"] for p in spec.params], {key})
    try:
        lp = LiveParam(param, lc.frame_values(param))
    except ValueError as exc:  # a range too narrow for two frames: the parameter keeps its slider
        st.info(f"No live control for {param.name}: {exc}")
        return None
    return LiveControl(lp, key, live_value(lp, key))


def live_curves(spec: lossviz.LossSpec, live: LiveControl, x: np.ndarray, target: float, values: dict[str, float]
                ) -> LiveCurves | None:  # fmt: skip
    """The curve at each frame of the live control, for the chart to show while it is dragged."""
    try:
        curves = cg.sweep_curves(spec, live.param.param.name, live.param.values, x, target, values)
    except ValueError as exc:
        st.info(f"No live control for {live.param.param.name}: {exc}")
        return None
    return LiveCurves(spec.name, curves)


def builtin_overlay(check: cg.Check, x: np.ndarray, target: float) -> lc.Curve | None:
    """The built-in's curve at the same target and parameters, where it takes that target."""
    if check.problem is not None:
        return None
    b = lossviz.spec(check.builtin)
    if not cg.overlay_target_ok(b.name, target):
        st.info(f"`{b.name}` takes a target {b.target_domain.describe()}: set y to one of those to overlay it.")
        return None
    curve = lc.loss_curve(b, cg.inside_domain(b, x), target, check.builtin_params)
    return replace(curve, name=f"{b.name} (built-in)")


@st.cache_data(max_entries=64, show_spinner=False)
def findings(text: str, values: tuple[tuple[str, float], ...], center: float, half: float, target: float) -> list:
    """The loss doctor's findings at this view (about 20 ms of CPU: cached for reruns that change nothing)."""
    return cg.doctor(text, dict(values), center, half, target)


def doctor_panel(found: list, container) -> None:
    """The doctor's findings beside the chart, worded for a student; the chart marks where each happens."""
    box = container.container(border=True)
    box.markdown("**Loss doctor**")
    if not found:
        box.caption(":material/check_circle: Nothing found on this range: finite, bounded below, smallest at the target.")
    for f in found:
        box.markdown(
            f"{SEVERITY_ICONS[f.severity]} **{f.code.replace('_', ' ')}** {cg.where_text(f)}: {f.message}"
        )


def chart(
    spec: lossviz.LossSpec, text: str, live: LiveControl | None, values: dict[str, float], target: float,
    center: float, half: float, compare: str,
) -> None:  # fmt: skip
    x = cg.x_grid(center, half)
    computed = guarded(
        spec.name,
        lambda: (lc.loss_curve(spec, x, target, values), live_curves(spec, live, x, target, values) if live else None),
        (spec,),
    )
    if computed is None:
        return
    curve, frames = computed
    shown = [curve]
    if compare != cg.NO_COMPARISON:
        check = cg.check_against_builtin(spec, compare, values, target)
        (st.success if check.ok else st.warning if check.problem is None else st.info)(check.message)
        overlay = builtin_overlay(check, x, target)
        if overlay is not None:
            shown.append(overlay)
    fig = figure_loss_curves(shown, x_label="prediction p", symbol="p", live=frames, dashed=[c.name for c in shown[1:]])
    note = cg.undefined_note(x, curve.value, curve.grad, curve.curvature)
    if note:
        st.info(f"{note} {NAN_NOTE.split(': ')[0]}.", icon=":material/info:")
    found = guarded(spec.name, lambda: findings(text, tuple(sorted(values.items())), center, half, target), (spec,))
    plot, notes = st.columns([3, 1])
    if found:
        fig = mark_findings(fig, found, (center - half, center + half))
    if frames is None:
        show(fig, key=CHART_KEY, container=plot)
    else:
        with plot:
            live_chart(fig, live.param, key=live.key)
            symbol = live.param.symbol
            st.caption(
                f"Drag the slider under the chart to move {symbol} live; releasing it keeps the value for the "
                f"link, the check and the loss doctor ({symbol} = {live.param.text(live.value)})."
            )
    doctor_panel(found or [], notes)


def main() -> None:
    st.title("Custom loss")
    explain(
        "Type a loss as a formula in the prediction **p** and the target **y**; every other name is a parameter. "
        "The page parses it as you type, renders it, and draws its value, gradient and curvature — the same "
        "panels as the Curves page. Watch the gradient: it is the pull one example exerts during training, so a "
        "loss whose gradient falls back to 0 far from the target (Cauchy, Welsch, Tukey) ignores outliers, while "
        "one whose gradient keeps growing (squared error, LINEX on its steep side) lets them dominate."
    )
    gallery()
    box, name_col = st.columns([4, 1])
    text = formula_box(box)
    name = name_box(name_col)
    try:
        formula = parse_formula(text)
    except FormulaError as exc:
        show_formula_error(exc, text)
        st.info("Fix the formula to draw it; the rest of the page keeps working.")
        custom_loss_list()
        return
    example = cg.matching_example(formula.text)
    st.latex(f"L(p, y) = {formula.latex}")
    if example is not None:
        st.caption(f"{example.about} Reference: {example.reference}.")
    clashes = cg.key_clashes(formula.params)
    if clashes:
        st.error(f"Rename the parameter(s) {', '.join(clashes)}: their link keys clash with the page's controls.")
        custom_loss_list()
        return
    decls: dict[str, cg.Decl] | None = {}
    drop_stale_table_links(formula.params)
    if formula.params:
        with st.expander("Parameters: default and range of each slider", expanded=example is None):
            decls = param_table(formula.params)
    if decls is None:
        st.info("Fix the parameter ranges to draw the formula.")
        custom_loss_list()
        return
    spec = define_loss(name, formula, decls)
    if spec is not None:
        live = live_control(spec)
        skip = {live.param.param.name: live.value} if live else {}
        values = {**param_sliders(decls, spec.name, skip), **skip}
        target, center, half, compare = view_controls()
        chart(spec, formula.text, live, values, target, center, half, compare)
    custom_loss_list(spec.name if spec is not None and spec.name != UNREGISTERED else None)
    st.caption(
        f"Custom losses belong to this browser session only (at most {MAX_CUSTOM_LOSSES}); the Curves, Landscape "
        "and Outlier pages list them under *Custom*. The formula, its parameters and the view are in the link."
    )


with session_losses():
    main()
