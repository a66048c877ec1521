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
from collections.abc import Sequence
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
    return UrlValue(
        fixed,
        f"Link value {key}={raw!r} is outside the range {lo:g} to {hi:g} of {param.name!r}; using {fixed:g}.",
    )


def parse_choice(raw: str, options: Sequence[str], default: str, key: str) -> UrlValue:
    if raw in options:
        return UrlValue(raw)
    return UrlValue(default, f"Link value {key}={raw!r} is not one of {', '.join(options)}; using {default!r}.")


def parse_choices(raw: Sequence[str], options: Sequence[str], default: Sequence[str], key: str) -> UrlValue:
    valid = [r for r in raw if r in options]
    invalid = [r for r in raw if r not in options]
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


def restore_choice(key: str, options: Sequence[str], default: str) -> None:
    raw = st.query_params.get(key)
    if raw is not None and key not in st.session_state:
        _apply(key, parse_choice(raw, options, default, key))


def restore_choices(key: str, options: Sequence[str], default: Sequence[str]) -> None:
    if key in st.query_params and key not in st.session_state:
        _apply(key, parse_choices(st.query_params.get_all(key), options, default, key))
