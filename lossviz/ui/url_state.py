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
from lossviz.ui.cards import plain


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


def parse_finite(raw: str, key: str, fallback: float, bound: float = 1e15) -> UrlValue:
    """A free number (no declared range) from a URL value: finite and at most ``bound`` in size, else ``fallback``."""
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if math.isfinite(number) and abs(number) <= bound:
        return UrlValue(number)
    return UrlValue(fallback, f"Link value {key}={raw[:60]!r} is not a finite number; using {fallback:g}.")


def _apply(key: str, result: UrlValue, escape: bool = False) -> None:
    """Warn about a corrected link value and store the correction; ``escape`` where the value is free text
    (a formula, a name), whose Markdown characters must show as typed."""
    if result.warning:
        st.warning(plain(result.warning) if escape else result.warning, icon=":material/warning:")
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


def restore_flag(key: str) -> None:
    """Check an open/closed link value (``true`` or ``false``) before its element exists; anything else warns
    and leaves it closed."""
    raw = st.query_params.get(key)
    if raw is not None and raw not in ("true", "false") and key not in st.session_state:
        _apply(key, UrlValue(False, f"Link value {key}={raw[:60]!r} is neither true nor false; left closed."),
               escape=True)


def restore_free_number(key: str, fallback: float) -> None:
    """Put a number without a declared range into the session before its widget exists: the link's value
    if it is a finite number (else a warning), or ``fallback``."""
    if key in st.session_state:
        return
    raw = st.query_params.get(key)
    result = UrlValue(fallback) if raw is None else parse_finite(raw, key, fallback)
    _apply(key, result, escape=True)
    st.session_state[key] = float(result.value)


def restore_text(key: str, default: str, problem: Callable[[str], str | None]) -> None:
    """Check a text link value before its widget exists; warn and fall back to ``default`` if ``problem``
    names one."""
    raw = st.query_params.get(key)
    if raw is None or key in st.session_state:
        return
    found = problem(raw)
    if found:
        _apply(key, UrlValue(default, f"Link value {key}={raw[:60]!r}: {found}; using {default!r}."), escape=True)


def write_number(key: str, value: float, default: float) -> None:
    """Keep a number of a widget that is not bound to the URL in the link, omitted when it is ``default``
    (as a bound widget omits its default)."""
    if value == default:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != repr(value):
        st.query_params[key] = repr(value)
