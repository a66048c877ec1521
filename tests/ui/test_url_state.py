"""Shared links: URL values are validated, corrected to the nearest valid value, and warned about."""


import pytest
from streamlit.testing.v1 import AppTest

from lossviz.spec import Param
from lossviz.ui.url_state import parse_choice, parse_choices, parse_finite, parse_number

DELTA = Param("delta", 1.0, low=0.0, low_open=True, ui_low=0.05, ui_high=5.0, step=0.05)
COUNT = Param("count", 3, low=0, high=20, integer=True)


@pytest.mark.parametrize(
    ("raw", "value", "warns"),
    [
        ("2.5", 2.5, False),
        ("99", 5.0, True),
        ("-3", 0.05, True),
        ("abc", 1.0, True),
        ("nan", 1.0, True),
        ("inf", 1.0, True),
        ("", 1.0, True),
    ],
)
def test_parse_number_corrects_to_the_nearest_valid_value(raw, value, warns):
    result = parse_number(raw, DELTA, "curves_delta")
    assert result.value == value
    assert (result.warning is not None) == warns
    if warns:
        assert "curves_delta" in result.warning and repr(raw) in result.warning


def test_integer_parameters_round_and_clip():
    assert parse_number("7", COUNT, "k").value == 7
    assert parse_number("7.4", COUNT, "k").value == 7
    assert parse_number("50", COUNT, "k").value == 20


def test_choices_accept_labels_and_raw_options():
    upper = str.upper
    assert parse_choice("ROBUST", ["regression", "robust"], "regression", "k", upper).value == "robust"
    assert parse_choice("robust", ["regression", "robust"], "regression", "k", upper).value == "robust"
    bad = parse_choice("bogus", ["regression", "robust"], "regression", "k", upper)
    assert bad.value == "regression" and "REGRESSION, ROBUST" in bad.warning
    mixed = parse_choices(["MAE", "zz"], ["mse", "mae"], ["mse"], "k", upper)
    assert mixed.value == ["mae"] and "'zz'" in mixed.warning
    assert parse_choices(["zz"], ["mse", "mae"], ["mse"], "k").value == ["mse"]


APP = """
import streamlit as st
from lossviz.spec import Param
from lossviz.ui.controls import param_control, choice_control
d = param_control(Param("delta", 1.0, low=0.0, low_open=True, ui_low=0.05, ui_high=5.0, step=0.05), "t_delta")
c = choice_control("Family", ["regression", "robust"], "regression", "t_family", format_func=str.title)
st.write(d, c)
"""


@pytest.mark.parametrize(
    ("query", "delta", "family", "warnings"),
    [
        ({}, 1.0, "regression", 0),
        ({"t_delta": "2.5", "t_family": "Robust"}, 2.5, "robust", 0),
        ({"t_delta": "99"}, 5.0, "regression", 1),
        ({"t_delta": "x", "t_family": "nope"}, 1.0, "regression", 2),
    ],
)
def test_widgets_restore_links_and_warn_on_bad_values(query, delta, family, warnings):
    at = AppTest.from_string(APP, default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    assert at.slider(key="t_delta").value == delta
    assert at.selectbox(key="t_family").value == family
    assert len(at.warning) == warnings


@pytest.mark.parametrize(
    ("raw", "value", "warns"),
    [("2.5", 2.5, False), ("-1e3", -1000.0, False), ("1e16", 0.5, True), ("nan", 0.5, True), ("x", 0.5, True)],
)
def test_parse_finite_takes_any_moderate_number(raw, value, warns):
    result = parse_finite(raw, "custom_c_low", 0.5)
    assert result.value == value and (result.warning is not None) == warns


STALE = """
import streamlit as st
from lossviz.ui.controls import choice_control, multichoice_control
options = st.session_state.get("options", ["a", "b", "c"])
st.session_state["one"] = choice_control("One", options, options[0], "t_one")
st.session_state["many"] = multichoice_control("Many", options, options[:1], "t_many")
"""


def test_a_stored_choice_that_is_no_longer_an_option_falls_back():
    at = AppTest.from_string(STALE, default_timeout=30).run()
    at.selectbox(key="t_one").set_value("c")
    at.multiselect(key="t_many").set_value(["b", "c"]).run()
    assert (at.session_state["one"], at.session_state["many"]) == ("c", ["b", "c"])
    at.session_state["options"] = ["a", "b"]  # "c" is gone (a custom loss removed, another task)
    at.run()
    assert not at.exception
    assert (at.session_state["one"], at.session_state["many"]) == ("a", ["b"])
    at.session_state["options"] = ["x", "y"]  # none of the chosen ones is left
    at.run()
    assert (at.session_state["one"], at.session_state["many"]) == ("x", ["x"])


APP_TEXT = """
import streamlit as st
from lossviz.ui import url_state
url_state.restore_text("t_name", "my_loss", lambda raw: None if raw.isidentifier() else "not a name")
url_state.restore_free_number("t_low", -10.0)
st.session_state["restored"] = (st.session_state.get("t_name"), st.session_state["t_low"])
"""


@pytest.mark.parametrize(
    ("query", "restored", "warnings"),
    [
        ({}, (None, -10.0), []),
        ({"t_name": "abc", "t_low": "-2"}, (None, -2.0), []),  # a good name is left to its bound widget
        ({"t_name": "a b", "t_low": "inf"}, ("my_loss", -10.0), ["t\\_name", "t\\_low"]),
    ],
)
def test_free_text_and_numbers_from_a_link_are_checked(query, restored, warnings):
    at = AppTest.from_string(APP_TEXT, default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    assert at.session_state["restored"] == restored
    shown = [w.value for w in at.warning]
    assert len(shown) == len(warnings) and all(w in s for w, s in zip(warnings, shown, strict=True))


def test_write_number_keeps_only_values_other_than_the_default():
    app = """
import streamlit as st
from lossviz.ui import url_state
url_state.write_number("t_a", 1.0, 1.0)
url_state.write_number("t_b", 2.5, 1.0)
"""
    at = AppTest.from_string(app, default_timeout=30)
    at.query_params["t_a"] = "3.0"
    at.run()
    assert not at.exception
    assert "t_a" not in at.query_params and at.query_params["t_b"] == "2.5"
