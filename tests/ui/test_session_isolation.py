"""Custom losses belong to one browser session: two sessions never see each other's, and other pages list
the session's own under Custom (AppTest over app.py, which wraps every page in ``session_losses``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import lossviz
from lossviz.ui.session import _SESSION_KEY

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = {"alice_loss": "abs(p - y)**3", "bob_loss": "k*log1p(abs(p - y))"}


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _define_on_custom_page(at: AppTest, name: str, formula: str) -> None:
    at.switch_page("pages/custom.py").run()
    at.text_input(key="custom_formula").input(formula).run()
    at.text_input(key="custom_name").input(name).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _listed_on_custom_page(at: AppTest) -> set[str]:
    return {b.key.removeprefix("custom_remove_") for b in at.button if b.key.startswith("custom_remove_")}


HARNESS = f"""
import streamlit as st
from lossviz.ui.session import session_losses

page = st.navigation([st.Page({str(ROOT / "pages" / "custom.py")!r}, default=True),
                      st.Page({str(ROOT / "pages" / "curves.py")!r})])
with session_losses():
    page.run()
"""
"""app.py's navigation and session scope over the Custom and Curves pages, from a folder without ``pages/``.

AppTest.switch_page on app.py itself runs a page file *without* app.py while a ``pages/`` folder exists
(Streamlit's pages-directory mode; a direct link on a fresh server does the same, see
tests/e2e/test_browser.py::test_direct_link_runs_app_navigation), so it cannot show what app.py's
``session_losses`` block gives the Curves page. This harness runs the same two lines around the pages.
"""


def _curves_custom_options(at: AppTest) -> list[str]:
    """The losses the Curves page offers under its Custom family."""
    main_dir = Path(at._script_path).parent
    at.switch_page(os.path.relpath(ROOT / "pages" / "curves.py", main_dir)).run()
    assert not at.exception, [e.value for e in at.exception]
    family = at.selectbox(key="curves_family")
    assert "Custom" in family.options, family.options
    family.set_value("Custom").run()
    assert not at.exception, [e.value for e in at.exception]
    return list(at.multiselect(key="curves_losses").options)


@pytest.fixture(scope="module")
def two_sessions() -> dict[str, AppTest]:
    sessions = {name: _app() for name in SESSIONS}
    for name, at in sessions.items():  # interleaved: both exist in the same process at once
        _define_on_custom_page(at, name, SESSIONS[name])
    return sessions


def test_each_session_holds_only_its_own(two_sessions) -> None:
    for name, at in two_sessions.items():
        other = next(n for n in SESSIONS if n != name)
        store = at.session_state[_SESSION_KEY]
        assert name in store and other not in store
        assert store[name].fn.formula.text == SESSIONS[name]
        with lossviz.user_scope(store):
            assert name in lossviz.names() and other not in lossviz.names()
        at.switch_page("pages/custom.py").run()
        listed = _listed_on_custom_page(at)
        assert name in listed and other not in listed


def test_nothing_reaches_the_process_wide_catalogue(two_sessions) -> None:
    assert not set(SESSIONS) & set(lossviz.names())
    assert not set(SESSIONS) & set(lossviz.user_losses())


def test_curves_page_lists_the_sessions_custom_losses() -> None:
    sessions = {}
    for name, formula in SESSIONS.items():
        at = AppTest.from_string(HARNESS, default_timeout=60)
        at.query_params["custom_name"] = name
        at.query_params["custom_formula"] = formula
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        sessions[name] = at
    for name, at in sessions.items():
        other = next(n for n in SESSIONS if n != name)
        options = _curves_custom_options(at)
        assert name in options and other not in options
        at.multiselect(key="curves_losses").set_value([name]).run()
        assert not at.exception and not at.error
        assert at.get("plotly_chart") or at.get("bidi_component")  # a formula with a parameter: a live chart


def test_landscape_and_outliers_list_them_too(two_sessions) -> None:
    at = two_sessions["alice_loss"]
    from lossviz.studies import landscape
    from lossviz.toolkit import fit as fitting

    with lossviz.user_scope(at.session_state[_SESSION_KEY]):
        assert "alice_loss" in landscape.input_losses()
        assert "alice_loss" in fitting.line_losses()
        assert "bob_loss" not in landscape.input_losses()


def test_a_standalone_page_run_is_scoped_too() -> None:
    """pages/custom.py opens the session scope itself, so a page run without app.py keeps it per session."""
    runs = []
    for name, formula in SESSIONS.items():
        at = AppTest.from_file(str(ROOT / "pages" / "custom.py"), default_timeout=60)
        at.query_params["custom_name"] = name
        at.query_params["custom_formula"] = formula
        at.run()
        assert not at.exception
        runs.append((name, at))
    for name, at in runs:
        assert set(at.session_state[_SESSION_KEY]) == {name}
    assert not set(SESSIONS) & set(lossviz.names())

