"""Classroom links: a link that hides chosen controls or the explanatory text, locks parameters, or
enlarges the page for a projector (a teacher projecting one view; TensorFlow Playground's
``<control>_hide=true`` and ``hideText``).

URL keys, all optional::

    ?hide=curves_zoom,curves_family   those controls are not shown; the page still uses their link/default value
    ?lock=curves_delta                that control is shown disabled, at its link value
    ?hide_text=true                   the explanatory paragraphs (:func:`explain`) are left out
    ?projector=true                   larger type for a 1920 × 1080 projector

``hide`` and ``lock`` name control keys (the keys a page writes into the URL). Link values are only
compared against the keys of the controls the page draws: a name that is none of them gives one
warning, and never reaches HTML or CSS. The CSS below is fixed text.

How a hidden control stays in effect: it is drawn as usual, bound to the URL, inside a container whose
key marks it hidden, and one fixed CSS rule hides such containers. Not drawing it would unbind it, and
Streamlit then drops its value from the URL (``QueryParams.unbind_and_clear_param``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from lossviz.ui.cards import plain

HIDE, LOCK, HIDE_TEXT, PROJECTOR = "hide", "lock", "hide_text", "projector"
LINK_KEYS = (HIDE, LOCK, HIDE_TEXT, PROJECTOR)
HIDDEN_PREFIX = "classroom_hidden_"
"""Key prefix of the container around a hidden control (Streamlit gives it the class ``st-key-<key>``)."""

HIDDEN_CSS = f'<style>[class*="st-key-{HIDDEN_PREFIX}"] {{ display: none !important; }}</style>'
PROJECTOR_ZOOM = 1.5
"""A 1920 × 1080 projector seen from the back of a room: the page laid out as on a 1280 px screen and
drawn half as large again (CSS ``zoom``: text, controls and charts alike, so charts re-flow instead of
being cropped)."""
PROJECTOR_CSS = f'<style>[data-testid="stMain"], [data-testid="stSidebar"] {{ zoom: {PROJECTOR_ZOOM}; }}</style>'
MAX_NAMES_SHOWN = 8
MAX_NAME_CHARS = 40

_SEEN = "_classroom_controls_seen"
"""Session-state key: the control keys drawn in this run (reset by :func:`begin`)."""


@dataclass(frozen=True)
class Link:
    """What a classroom link asks for, read from the query string."""

    hidden: frozenset[str] = frozenset()
    locked: frozenset[str] = frozenset()
    hide_text: bool = False
    projector: bool = False
    problems: tuple[str, ...] = ()
    """Messages about malformed flag values (``hide_text=maybe``)."""


def _names(values: Iterable[str]) -> frozenset[str]:
    """``["a,b", " c "]`` → ``{"a", "b", "c"}``: comma-separated and repeated keys both work."""
    return frozenset(name.strip() for value in values for name in value.split(",") if name.strip())


def _flag(key: str, values: list[str], problems: list[str]) -> bool:
    if not values:
        return False
    raw = values[-1].strip().lower()
    if raw in ("true", "1", "yes"):
        return True
    if raw not in ("false", "0", "no", ""):
        problems.append(f"Link value {key}={plain(values[-1][:MAX_NAME_CHARS])} is not true/false; ignored.")
    return False


def parse(params: dict[str, list[str]]) -> Link:
    """The classroom settings in ``params`` (each URL key with all its values); plain Python, tested
    without Streamlit."""
    problems: list[str] = []
    return Link(
        hidden=_names(params.get(HIDE, [])),
        locked=_names(params.get(LOCK, [])),
        hide_text=_flag(HIDE_TEXT, params.get(HIDE_TEXT, []), problems),
        projector=_flag(PROJECTOR, params.get(PROJECTOR, []), problems),
        problems=tuple(problems),
    )


def link() -> Link:
    """This run's classroom link, from ``st.query_params``."""
    return parse({key: st.query_params.get_all(key) for key in LINK_KEYS})


def unknown_names_warning(link: Link, drawn: Iterable[str]) -> str | None:
    """The warning for names in ``hide``/``lock`` that are none of the ``drawn`` control keys, or None."""
    unknown = sorted((link.hidden | link.locked) - set(drawn))
    if not unknown:
        return None
    shown = ", ".join(plain(name[:MAX_NAME_CHARS]) for name in unknown[:MAX_NAMES_SHOWN])
    more = f" and {len(unknown) - MAX_NAMES_SHOWN} more" if len(unknown) > MAX_NAMES_SHOWN else ""
    return f"This link hides or locks {shown}{more}, which are not controls of this view; ignored."


# --- used by the control helpers (lossviz.ui.controls) ------------------------------------------------


def control(key: str, container=st):
    """Register the control ``key`` as drawn and say how to draw it: returns ``(container, locked)``,
    the container to draw it in (a hidden one for a control the link hides) and whether it is locked."""
    hidden, locked = view(key)
    if hidden:
        container = container.container(key=f"{HIDDEN_PREFIX}{key}")
    return container, locked


def view(key: str) -> tuple[bool, bool]:
    """Register the control ``key`` as drawn and say whether the link hides it and whether it locks it: for a
    control drawn inside a component (the live charts), which hides or locks it itself."""
    st.session_state.setdefault(_SEEN, set()).add(key)
    current = link()
    return key in current.hidden, key in current.locked


def explain(markdown: str, container=st) -> None:
    """An explanatory paragraph of a page (not a title, chart or number): left out in a ``hide_text`` link."""
    if not link().hide_text:
        container.markdown(markdown)


# --- the page shell (lossviz.ui.navigation.run_app) --------------------------------------------------


def begin():
    """Before the page: apply the link's CSS and keep a place for the link's warnings at the top of the
    page; returns that place for :func:`finish`."""
    st.session_state[_SEEN] = set()
    current = link()
    if current.hidden:
        st.html(HIDDEN_CSS)
    if current.projector:
        st.html(PROJECTOR_CSS)
    return st.empty()


def finish(place) -> None:
    """After the page: warn about names that are no control of this view and bad flag values (one warning),
    and offer the link to this view."""
    current = link()
    messages = list(current.problems)
    unknown = unknown_names_warning(current, st.session_state.get(_SEEN, set()))
    if unknown:
        messages.append(unknown)
    if messages:
        place.warning("  \n".join(messages), icon=":material/warning:")
    copy_link()


def view_url(base: str | None, params: dict[str, list[str]]) -> str:
    """The link to this view: the page's URL (``st.context.url``; without it, a relative link) and its query."""
    query = urlencode([(key, value) for key, values in params.items() for value in values])
    return f"{base or ''}{'?' + query if query else ''}"


def copy_link(container=st.sidebar) -> None:
    """A "Copy link to this view" popover: the current URL (every bound control's value is in the query
    string) as a code block, whose copy button copies it."""
    url = view_url(st.context.url, {key: st.query_params.get_all(key) for key in st.query_params})
    with container.popover("Copy link to this view", icon=":material/link:"):
        st.caption(
            "Every control's value is in the link. Add hide=, lock=, hide_text=true or projector=true "
            "for a classroom view (see the README)."
        )
        st.code(url, language=None, wrap_lines=True)
