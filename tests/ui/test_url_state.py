"""Shared links: URL values are validated, corrected to the nearest valid value, and warned about."""


import pytest
from streamlit.testing.v1 import AppTest

from lossviz.spec import Param
from lossviz.ui.url_state import parse_choice, parse_choices, parse_number

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
