"""Widgets for typing custom losses: the formula box, its parse feedback, the parameter table and
sliders, the list of this session's custom losses, and a compact form other pages can embed.

Every control is bound to the URL (``bind="query-params"``) under a ``custom_…`` key from
:mod:`lossviz.studies.custom`; link values are checked before the widgets exist and a bad one gives a
visible warning (as :mod:`lossviz.ui.url_state` does for the other controls). Values are loaded into
the widgets by ``on_click`` callbacks (:func:`load_into_editor`), which run before the next script
run creates the widgets, so the widgets take them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import streamlit as st

import lossviz
from lossviz.errors import FormulaError
from lossviz.formula import MAX_CUSTOM_LOSSES, MAX_LENGTH, SUGGESTED_DEFAULT, SUGGESTED_RANGE, formula_of
from lossviz.formula import define as define_loss
from lossviz.formula._latex import symbol
from lossviz.studies import custom as cg
from lossviz.ui.controls import param_control
from lossviz.ui.session import session_losses

FORMULA_KEY = cg.control_key("formula")
NAME_KEY = cg.control_key("name")
NAME_PATTERN = (r"^[A-Za-z][A-Za-z0-9_]{0,39}$", "A letter, then up to 39 letters, digits or _.")
LIVE_PARSE = "400ms"
"""Pause in typing after which the formula box commits (and the page re-parses it)."""


def load_into_editor(
    formula: str, name: str, decls: Mapping[str, cg.Decl], view: Mapping[str, object] | None = None
) -> None:
    """Callback: put a formula, its name, parameter table and view settings into the page's widgets."""
    st.session_state[FORMULA_KEY] = formula
    st.session_state[NAME_KEY] = name
    for param, (default, low, high) in decls.items():
        keys = cg.param_keys(param)
        for what, value in (("default", default), ("low", low), ("high", high), ("value", default)):
            st.session_state[keys[what]] = float(value)
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


def load_registered(name: str) -> None:
    """Callback of an "Edit" button: a custom loss of this session back into the editor.

    Callbacks run before the page, outside its :func:`session_losses` block: they open it themselves.
    """
    with session_losses() as store:
        spec = store.get(name)
    formula = formula_of(spec) if spec is not None else None
    if formula is None:
        return
    decls = {p.name: (p.default, *p.slider_range) for p in spec.params}
    load_into_editor(formula.text, name, decls)


def remove_registered(name: str) -> None:
    """Callback of a "Remove" button: forget a custom loss of this session."""
    with session_losses() as store:
        store.pop(name, None)


def _restore_text(key: str, default: str, check) -> None:
    """Check a text link value before its widget exists; warn and fall back to ``default`` if bad."""
    raw = st.query_params.get(key)
    if raw is None or key in st.session_state:
        return
    problem = check(raw)
    if problem:
        st.warning(cg.plain(f"Link value {key}={raw[:60]!r}: {problem}; using {default!r}."), icon="⚠️")
        st.session_state[key] = default


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
    _restore_text(FORMULA_KEY, cg.DEFAULT_FORMULA, _formula_problem)
    kwargs = {} if FORMULA_KEY in st.session_state else {"value": cg.DEFAULT_FORMULA}
    text = container.text_input(
        "Formula L(p, y)",
        key=FORMULA_KEY,
        max_chars=MAX_LENGTH,
        bind="query-params",
        live=LIVE_PARSE,
        placeholder="(p - y)**2",
        help="p is the prediction, y the target; every other name is a parameter. "
        "Functions: " + ", ".join(lossviz.formula.FUNCTIONS) + "; constants pi, e.",
        **kwargs,
    )
    return text or ""


def name_box(container=st) -> str:
    """The name the loss registers under (``custom_name``), a validated identifier."""
    _restore_text(NAME_KEY, cg.DEFAULT_NAME, _name_problem)
    kwargs = {} if NAME_KEY in st.session_state else {"value": cg.DEFAULT_NAME}
    name = container.text_input(
        "Name",
        key=NAME_KEY,
        max_chars=40,
        bind="query-params",
        validate=NAME_PATTERN,
        help="The name other pages list it under (family Custom). Built-in names are taken.",
        **kwargs,
    )
    return (name or "").strip()


def show_formula_error(exc: FormulaError, text: str, container=st) -> None:
    """The rejection message, and the formula with a caret under the offending column."""
    container.error(f"Formula rejected — {cg.plain(str(exc))}", icon="🚫")
    offset = getattr(exc, "offset", None)
    if offset is not None and text:
        container.code(cg.caret_lines(text, offset), language=None)


def _slider_to_default(default_key: str, value_key: str) -> None:
    """Callback of a table default: the parameter's slider moves to the new default."""
    st.session_state[value_key] = st.session_state[default_key]


def _table_number(label: str, key: str, fallback: float, container, **kwargs) -> float:
    """A number of the parameter table: from the session, else from the link (checked), else ``fallback``."""
    if key not in st.session_state:
        raw = st.query_params.get(key)
        value = fallback
        if raw is not None:
            try:
                number = float(raw)
            except ValueError:
                number = math.nan
            if math.isfinite(number) and abs(number) <= 1e15:
                value = number
            else:
                st.warning(cg.plain(f"Link value {key}={raw[:60]!r} is not a finite number; using {fallback:g}."), icon="⚠️")
        st.session_state[key] = float(value)
    return float(
        container.number_input(label, key=key, step=0.1, format="%g", label_visibility="collapsed", **kwargs)
    )


def _write_table_url(key: str, value: float, fallback: float) -> None:
    """Keep a table value in the link (omitted when it is the suggested value, like a bound widget's default)."""
    if value == fallback:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != repr(value):
        st.query_params[key] = repr(value)


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
        label.markdown(f"`{name}` ${symbol(name)}$")
        moves_slider = {"on_change": _slider_to_default, "args": (keys["default"], keys["value"])}
        d = _table_number(f"default of {name}", keys["default"], start[0], d_col, **moves_slider)
        lo = _table_number(f"low of {name}", keys["low"], start[1], lo_col)
        hi = _table_number(f"high of {name}", keys["high"], start[2], hi_col)
        for what, value, fallback in zip(("default", "low", "high"), (d, lo, hi), start, strict=True):
            _write_table_url(keys[what], value, fallback)
        try:
            decl, warning = cg.checked_decl(name, d, lo, hi)
        except FormulaError as exc:
            st.error(cg.plain(str(exc)))
            ok = False
            continue
        if warning:
            st.warning(cg.plain(warning), icon="⚠️")
        decls[name] = decl
    return decls if ok else None


def param_sliders(decls: Mapping[str, cg.Decl], loss: str, container=st) -> dict[str, float]:
    """One live slider per parameter (``custom_<param>``), generated from its Param like a built-in's."""
    values: dict[str, float] = {}
    columns = container.columns(max(1, min(len(decls), 4)))
    for i, (name, decl) in enumerate(decls.items()):
        param = cg.formula_param(name, decl, loss)
        key = cg.param_keys(name)["value"]
        if key in st.session_state:
            current = st.session_state[key]
            lo, hi = param.slider_range
            if not isinstance(current, int | float) or not lo <= current <= hi:
                st.session_state[key] = param.nearest_valid(float(current)) if isinstance(current, int | float) else decl[0]
        values[name] = param_control(param, key, container=columns[i % len(columns)])
    return values


def register(name: str, formula: str, decls: Mapping[str, cg.Decl]) -> tuple[lossviz.LossSpec | None, str | None]:
    """Define the loss in this session's scope: (spec, None), or (None, the reason it was refused)."""
    try:
        return define_loss(name, formula, **decls), None
    except FormulaError as exc:
        return None, str(exc)


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
        mid.code(formula.text if formula else spec.latex, language=None)
        edit.button(
            ":material/edit:", key=f"{cg.PREFIX}_edit_{n}", on_click=load_registered, args=(n,),
            help=f"Load {n} into the formula box",
        )  # fmt: skip
        remove.button(
            ":material/delete:", key=f"{cg.PREFIX}_remove_{n}", on_click=remove_registered, args=(n,),
            help=f"Remove {n} from this session",
        )  # fmt: skip


def quick_define(prefix: str, container=st) -> str | None:
    """A compact "define a custom loss" form for other pages (not bound to the URL).

    Registers the formula with suggested parameters (1.0 in [−10, 10]) in this session and returns its
    name, or shows why not and returns None. The Custom loss page edits parameters and shares links.
    """
    with container.form(f"{prefix}_quick_custom", border=False):
        cols = st.columns([3, 1, 1], vertical_alignment="bottom")
        text = cols[0].text_input("Formula L(p, y)", value=cg.DEFAULT_FORMULA, max_chars=MAX_LENGTH, key=f"{prefix}_qc_formula")
        name = cols[1].text_input("Name", value=cg.DEFAULT_NAME, max_chars=40, key=f"{prefix}_qc_name")
        submitted = cols[2].form_submit_button("Define")
    if not submitted:
        return None
    try:
        with session_losses():  # this session's scope, even on a page run without app.py
            spec = define_loss(name.strip(), text)
    except FormulaError as exc:
        container.error(cg.plain(str(exc)))
        return None
    container.success(f"Defined `{spec.name}`; pick it under the Custom family.")
    return spec.name
