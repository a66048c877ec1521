"""The app's navigation: its sections and pages, the shell every page runs in, and the hand-over that
makes a shared link work on a freshly started server.

Why the hand-over: with the page files in a folder named ``pages/`` next to ``app.py``, Streamlit
1.67 answers a link to ``/curves`` that arrives before any session has run ``app.py`` by running
``pages/curves.py`` on its own (its multipage-v1 fallback): no sections, file names as titles, no
page config, no session-scoped custom losses. The first call of :func:`streamlit.navigation` in the
process switches that fallback off for good. So a page that finds itself running outside
:func:`run_app` calls it once (hidden, nothing drawn) and reruns; the rerun goes through ``app.py``
with the same URL. This keeps the ``pages/`` folder the product card names, using public API only.
"""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

import streamlit as st
import torch

import lossviz
from lossviz.ui import classroom, live_chart
from lossviz.ui.session import session_losses


def _sections(path: Path) -> dict[str, list[tuple[str, str, str]]]:
    with path.open("rb") as file:
        sections = tomllib.load(file)["section"]
    return {str(section["title"]): [(str(f), str(t), str(i)) for f, t, i in section["pages"]] for section in sections}


SECTIONS = _sections(Path(__file__).with_name("navigation.toml"))
"""Sections of the sidebar, in order: title → (page file, title, Material icon), from ``navigation.toml``."""
HOME = "pages/home.py"
ROOT = Path(__file__).resolve().parents[2]
"""The folder of app.py: page files are given from there, whichever script runs first; Streamlit serves its
``static/`` folder at ``/app/static/``."""
APP_ICON = ":material/show_chart:"

_run = threading.local()
"""Whether this script thread is inside :func:`run_app` (Streamlit runs each session's script in a thread)."""
_navigation_seen = threading.Event()
"""Set once :func:`streamlit.navigation` has run in this process: the pages/ fallback is then off."""


def page_files() -> list[str]:
    """Every page file of the navigation, in order."""
    return [path for entries in SECTIONS.values() for path, _title, _icon in entries]


_PAGES_KEY = "_lossviz_pages"


def _pages() -> dict[str, list[st.Page]]:
    """The navigation's pages, built once per browser session: building them resolves every page file on disk,
    about 5 % of a cached page's rerun. Not once per process: ``st.navigation`` marks the page it will run on the
    page object itself, so sessions running side by side must not share them."""
    pages = st.session_state.get(_PAGES_KEY)
    if pages is None:
        pages = st.session_state[_PAGES_KEY] = {
            section: [st.Page(ROOT / path, title=title, icon=icon, default=path == HOME) for path, title, icon in entries]
            for section, entries in SECTIONS.items()
        }
    return pages


def run_app() -> None:
    """What ``app.py`` does: page config, navigation, the sidebar caption, and the chosen page inside this
    browser session's scope of custom losses, shaped by a classroom link (:mod:`lossviz.ui.classroom`) and
    followed by the "Copy link to this view" popover."""
    # One intra-op thread per evaluation: the grids here are small, sessions run in parallel threads, and on
    # a busy 2-core box torch's thread pool made a 2,304-point log take 20–40 ms instead of 10 µs.
    torch.set_num_threads(1)
    st.set_page_config(page_title="lossviz", page_icon=APP_ICON, layout="wide")
    if st.get_option("server.enableStaticServing"):
        live_chart.publish_plotly_js(ROOT / "static")
    page = st.navigation(_pages())
    _navigation_seen.set()
    st.sidebar.caption(f"lossviz · {len(lossviz.names())} losses")
    _run.inside = True
    try:
        place = classroom.begin()
        with session_losses():
            page.run()
        classroom.finish(place)
    finally:
        _run.inside = False


def ensure_app() -> None:
    """First line of every page: hand a page run outside ``app.py`` (the pages/ fallback of a fresh server)
    over to ``app.py``. Does nothing inside :func:`run_app`, and nothing once the fallback is off (a page run
    on its own on purpose, as in a page's unit tests, then just runs)."""
    if getattr(_run, "inside", False) or _navigation_seen.is_set():
        return
    _navigation_seen.set()
    st.navigation(_pages(), position="hidden")
    st.rerun()
