"""Shareable state: every control's value lives in the URL query string.

Widgets are created with ``bind="query-params"``, which reads the URL and writes it back. On its
own, a bound widget silently drops a value it cannot use; these helpers look at the URL first, so
that a malformed or out-of-range value in a shared link gives a visible warning and falls back to
the nearest valid value (written to ``st.session_state`` before the widget exists, which the
widget then takes).

The parsing functions are plain Python (``parse_number`` …) and tested without Streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from lossviz.spec import Param


@dataclass(frozen=True)
class UrlValue:
    """The value to use for a control, and a warning when the URL's value had to be corrected."""

    value: Any
    warning: str | None = None


def parse_number(raw: str, param: Param, key: str) -> UrlValue:
    """Read a number for ``param`` from a URL value; out of range → the nearest valid value."""
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return UrlValue(
            param.default, f"Link value {key}={raw!r} is not a number; using the default {param.default:g}."
        )
    if not math.isfinite(number):
        return UrlValue(param.default, f"Link value {key}={raw!r} is not finite; using the default {param.default:g}.")
    lo, hi = param.slider_range
    if lo <= number <= hi and param.contains(number):
        return UrlValue(int(number) if param.integer else number)
    fixed = param.nearest_valid(number)
    if lo <= number <= hi:
        return UrlValue(
            int(fixed) if param.integer else fixed,
            f"Link value {key}={raw!r} is not a valid {param.name!r} ({param.range_text}); using {fixed:g}.",
        )
    return UrlValue(
        fixed,
        f"Link value {key}={raw!r} is outside the range {lo:g} to {hi:g} of {param.name!r}; using {fixed:g}.",
    )


def _by_label(options: Sequence[Any], format_func: Callable[[Any], Any] | None) -> dict[str, Any]:
    """URL text → option. A bound widget writes its *displayed* label into the URL; raw option
    text is accepted too, so hand-written links work."""
    table = {str(o): o for o in options}
    if format_func is not None:
        table.update({str(format_func(o)): o for o in options})
    return table


def parse_choice(
    raw: str, options: Sequence[Any], default: Any, key: str, format_func: Callable[[Any], Any] | None = None
) -> UrlValue:
    table = _by_label(options, format_func)
    if raw in table:
        return UrlValue(table[raw])
    shown = ", ".join(str(format_func(o) if format_func else o) for o in options)
    return UrlValue(default, f"Link value {key}={raw!r} is not one of {shown}; using {default!r}.")


def parse_choices(
    raw: Sequence[str],
    options: Sequence[Any],
    default: Sequence[Any],
    key: str,
    format_func: Callable[[Any], Any] | None = None,
) -> UrlValue:
    table = _by_label(options, format_func)
    valid = [table[r] for r in raw if r in table]
    invalid = [r for r in raw if r not in table]
    if not invalid:
        return UrlValue(valid)
    chosen = valid or list(default)
    return UrlValue(chosen, f"Link value {key} contains unknown {', '.join(map(repr, invalid))}; ignored.")


def _apply(key: str, result: UrlValue) -> None:
    if result.warning:
        st.warning(result.warning, icon="⚠️")
        st.session_state[key] = result.value


def restore_number(key: str, param: Param) -> None:
    """Validate the URL's value for a numeric control before the widget is created."""
    raw = st.query_params.get(key)
    if raw is not None and key not in st.session_state:
        _apply(key, parse_number(raw, param, key))


def restore_choice(
    key: str, options: Sequence[Any], default: Any, format_func: Callable[[Any], Any] | None = None
) -> None:
    raw = st.query_params.get(key)
    if raw is not None and key not in st.session_state:
        result = parse_choice(raw, options, default, key, format_func)
        _apply(key, result)
        if format_func is not None and not result.warning and raw != str(format_func(result.value)):
            st.session_state[key] = result.value  # a raw option in the link: the widget only reads labels


def restore_choices(
    key: str, options: Sequence[Any], default: Sequence[Any], format_func: Callable[[Any], Any] | None = None
) -> None:
    if key in st.query_params and key not in st.session_state:
        raw = st.query_params.get_all(key)
        result = parse_choices(raw, options, default, key, format_func)
        _apply(key, result)
        if format_func is not None and not result.warning:
            st.session_state[key] = result.value
