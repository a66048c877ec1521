"""Controls generated from declarations: one ``Param`` gives the widget, its range, step, help and URL key.

Loss parameters come from the loss's own declaration (``spec.params``); page-level settings
(prediction range, number of outliers, seed) are declared as ``Param`` objects in ``lossviz``
and go through the same functions, so every control validates its URL value the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import streamlit as st

from lossviz.registry import spec as get_spec
from lossviz.spec import LossSpec, Param
from lossviz.toolkit.frames import log_ladder
from lossviz.ui import classroom, url_state


def control_key(prefix: str, name: str) -> str:
    """URL/session key of a control: page prefix + name, e.g. ``curves_huber_delta``."""
    return f"{prefix}_{name}"


def _snap(value: float, options: Sequence[float]) -> float:
    return float(min(options, key=lambda o: abs(math.log(o) - math.log(value)) if value > 0 else abs(o - value)))


def _fmt(step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"%.{decimals}f"


def param_control(param: Param, key: str, container=st, label: str | None = None, help: str | None = None) -> float:
    """A live control for ``param`` bound to the URL under ``key``; returns the chosen value."""
    label = label or param.label
    help = help or f"{param.description} Valid: {param.range_text}."
    container, locked = classroom.control(key, container)
    if param.scale == "log":
        options = log_ladder(param)
        url_state.restore_number(key, param)
        if key in st.session_state and st.session_state[key] not in options:
            st.session_state[key] = _snap(float(st.session_state[key]), options)
        kwargs = {} if key in st.session_state else {"value": _snap(param.default, options)}
        return float(
            container.select_slider(
                label,
                options=options,
                key=key,
                help=help,
                bind="query-params",
                disabled=locked,
                format_func=lambda v: f"{v:g}",
                **kwargs,
            )
        )
    lo, hi = param.slider_range
    step = param.slider_step
    url_state.restore_number(key, param)
    cast = int if param.integer else float  # an integer parameter gets an integer slider (no decimals shown)
    kwargs = {} if key in st.session_state else {"value": cast(param.default)}
    if not param.integer:
        kwargs["format"] = _fmt(step)
    return cast(
        container.slider(
            label,
            cast(lo),
            cast(hi),
            step=cast(step),
            key=key,
            help=help,
            bind="query-params",
            disabled=locked,
            **kwargs,
        )
    )


def param_row(prefix: str, controls: Sequence[tuple[Param, str, str]], container=st) -> list[float]:
    """Page-level controls side by side, one column each: ``(param, name, label)``, keyed ``{prefix}_{name}``."""
    columns = container.columns(len(controls))
    return [
        param_control(param, control_key(prefix, name), container=column, label=label)
        for (param, name, label), column in zip(controls, columns, strict=True)
    ]


def param_controls(loss: str | LossSpec, prefix: str, container=st, skip: Sequence[str] = ()) -> dict[str, float]:
    """Controls for every parameter of a loss, from its declaration; returns ``{name: value}``."""
    s = get_spec(loss)
    return {
        p.name: param_control(p, control_key(prefix, f"{s.name}_{p.name}"), container)
        for p in s.params
        if p.name not in skip
    }


def keep_valid(key: str, options: Sequence[Any], default: Any) -> None:
    """Reset a stored choice that is no longer an option (a custom loss removed, another task or file):
    a list keeps its entries that still are, or takes ``default`` when none is left."""
    if key not in st.session_state:
        return
    value = st.session_state[key]
    if isinstance(value, list):
        kept = [v for v in value if v in options]
        if kept != value:
            st.session_state[key] = kept or list(default)
    elif value not in options:
        st.session_state[key] = default


def loss_param_controls(
    losses: Sequence[str], prefix: str, expanded: bool = True, skip: Mapping[str, Collection[str]] | None = None
) -> dict[str, dict[str, float]]:
    """The controls of every loss that has parameters, side by side in a "Loss parameters" expander;
    returns ``{loss: {name: value}}`` (empty for a loss without parameters). ``skip`` names, per loss, the
    parameters controlled elsewhere (a live chart's own control): they get no control and no entry."""
    skip = skip or {}
    params: dict[str, dict[str, float]] = {name: {} for name in losses}
    with_params = [name for name in losses if any(p.name not in skip.get(name, ()) for p in get_spec(name).params)]
    if with_params:
        with st.expander("Loss parameters", expanded=expanded):
            for name, col in zip(with_params, st.columns(len(with_params)), strict=True):
                col.markdown(f"**{name}**")
                params[name] = param_controls(name, prefix, container=col, skip=tuple(skip.get(name, ())))
    return params


def _placed(key: str, container, kwargs: dict[str, Any]):
    """Where to draw the control ``key`` as a classroom link asks (hidden or not), with ``disabled`` set in
    ``kwargs`` when the link locks it."""
    container, locked = classroom.control(key, container)
    kwargs["disabled"] = kwargs.get("disabled", False) or locked
    return container


def choice_control(label: str, options: Sequence[str], default: str, key: str, container=st, **kwargs) -> str:
    """A select box bound to the URL; a bad URL value warns and falls back to ``default``, and so does a stored
    value that is no longer an option."""
    keep_valid(key, options, default)
    url_state.restore_choice(key, options, default, kwargs.get("format_func"))
    index = {} if key in st.session_state else {"index": list(options).index(default)}
    container = _placed(key, container, kwargs)
    return container.selectbox(label, options, key=key, bind="query-params", **index, **kwargs)


def radio_control(label: str, options: Sequence[str], default: str, key: str, container=st, **kwargs) -> str:
    """Radio buttons bound to the URL, checked as :func:`choice_control`."""
    keep_valid(key, options, default)
    url_state.restore_choice(key, options, default, kwargs.get("format_func"))
    index = {} if key in st.session_state else {"index": list(options).index(default)}
    container = _placed(key, container, kwargs)
    return container.radio(label, options, key=key, bind="query-params", **index, **kwargs)


def multichoice_control(
    label: str, options: Sequence[str], default: Sequence[str], key: str, container=st, **kwargs
) -> list[str]:
    """A multiselect bound to the URL; unknown names in the URL warn and are dropped, and so are stored
    choices that are no longer options."""
    keep_valid(key, options, default)
    url_state.restore_choices(key, options, default, kwargs.get("format_func"))
    value = {} if key in st.session_state else {"default": list(default)}
    container = _placed(key, container, kwargs)
    return list(container.multiselect(label, options, key=key, bind="query-params", **value, **kwargs))


def text_control(
    label: str,
    default: str,
    key: str,
    problem: Callable[[str], str | None] | None = None,
    container=st,
    **kwargs: Any,
) -> str:
    """A text box bound to the URL; ``problem`` says what is wrong with a link's text (None: nothing), which
    then warns and falls back to ``default``."""
    if problem is not None:
        url_state.restore_text(key, default, problem)
    value = {} if key in st.session_state else {"value": default}
    container = _placed(key, container, kwargs)
    return container.text_input(label, key=key, bind="query-params", **value, **kwargs) or ""


def toggle_control(label: str, default: bool, key: str, container=st, **kwargs) -> bool:
    raw = st.query_params.get(key)
    if raw is not None and key not in st.session_state and raw.lower() not in ("true", "false"):
        st.warning(f"Link value {key}={raw!r} is not true/false; using {default}.", icon=":material/warning:")
        st.session_state[key] = default
    value = {} if key in st.session_state else {"value": default}
    container = _placed(key, container, kwargs)
    return bool(container.toggle(label, key=key, bind="query-params", **value, **kwargs))
