"""Classroom links (lossviz.ui.classroom): hide, lock, hide_text and projector, through app.py in AppTest."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from lossviz.ui import classroom

INTRO = "Pick a family and overlay its losses."


def _view() -> None:
    """A view in the page shell of lossviz.ui.navigation.run_app: begin, controls and text, finish."""
    import streamlit as st

    from lossviz.spec import Param
    from lossviz.ui import classroom
    from lossviz.ui.controls import choice_control, param_row, toggle_control

    place = classroom.begin()
    st.title("A view")
    classroom.explain("Pick a family and overlay its losses.")
    st.session_state["family"] = choice_control("Family", ["regression", "robust"], "regression", "v_family")
    st.session_state["logy"] = toggle_control("log y", False, "v_logy")
    st.session_state["row"] = param_row("v", [(Param("a", 1.0, ui_low=0.0, ui_high=2.0, step=0.5), "a", "a")])
    classroom.finish(place)


def view(**params: str) -> AppTest:
    at = AppTest.from_function(_view, default_timeout=30)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def test_parse_reads_lists_and_flags() -> None:
    link = classroom.parse({"hide": ["a,b", " c "], "lock": ["d"], "hide_text": ["TRUE"], "projector": ["no"]})
    assert link.hidden == {"a", "b", "c"} and link.locked == {"d"}
    assert link.hide_text and not link.projector and not link.problems
    assert classroom.parse({"projector": ["maybe"]}).problems


def test_unknown_names_warning_names_them_escaped() -> None:
    link = classroom.parse({"hide": ["curves_zoom,**bold**"]})
    warning = classroom.unknown_names_warning(link, {"curves_zoom"})
    assert warning is not None and "\\*\\*bold\\*\\*" in warning and "curves_zoom" not in warning
    assert classroom.unknown_names_warning(link, {"curves_zoom", "**bold**"}) is None


def test_a_plain_link_changes_nothing_and_offers_the_link() -> None:
    at = view(v_logy="true")
    assert not at.exception and not at.warning
    assert [m.value for m in at.markdown] == [INTRO]
    assert not at.toggle(key="v_logy").disabled and at.session_state["logy"] is True
    assert [c.value for c in at.code] == ["?v_logy=true"]
    assert not at.get("html")


def test_lock_disables_the_control_at_its_link_value() -> None:
    at = view(lock="v_logy,v_a", v_logy="true", v_a="1.5")
    assert not at.exception and not at.warning
    assert at.toggle(key="v_logy").disabled and at.toggle(key="v_logy").value is True
    assert at.slider(key="v_a").disabled and at.session_state["row"] == [1.5]
    assert not at.selectbox(key="v_family").disabled


def test_hide_keeps_the_control_in_effect_inside_a_hidden_container() -> None:
    at = view(hide="v_family,v_a", v_family="robust", v_a="0.5")
    assert not at.exception and not at.warning
    assert at.session_state["family"] == "robust" and at.session_state["row"] == [0.5]  # still in effect
    assert [h.proto.body for h in at.get("html")] == [classroom.HIDDEN_CSS]
    hidden = [b for b in at.main.children.values() if f"{classroom.HIDDEN_PREFIX}v_family" in str(b.proto)]
    assert hidden, "the hidden control is not inside its hidden container"
    assert not at.selectbox(key="v_family").disabled


def test_hide_text_removes_the_explanations_but_keeps_the_title() -> None:
    at = view(hide_text="true")
    assert not at.markdown and [t.value for t in at.title] == ["A view"]


def test_projector_adds_the_fixed_css() -> None:
    at = view(projector="true")
    assert [h.proto.body for h in at.get("html")] == [classroom.PROJECTOR_CSS]


def test_unknown_keys_give_one_warning_naming_them_and_no_traceback() -> None:
    at = view(hide="v_logy,no_such_control", lock="<script>", projector="perhaps")
    assert not at.exception
    assert len(at.warning) == 1
    text = at.warning[0].value
    assert "no\\_such\\_control" in text and "\\<script\\>" in text and "projector" in text
    assert "v\\_logy" not in text
    assert not [h for h in at.get("html") if "zoom" in h.proto.body]
