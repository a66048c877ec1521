"""lossviz.ui.controls: rows of page controls and the parameter controls of several losses, in AppTest."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

import lossviz


def _controls() -> None:
    import streamlit as st

    from lossviz.spec import Param
    from lossviz.ui.controls import loss_param_controls, param_row

    st.session_state["row"] = param_row(
        "t",
        [
            (Param("a", 1.0, ui_low=0.0, ui_high=2.0, step=0.5), "a", "a"),
            (Param("n", 3, integer=True, ui_low=0, ui_high=9, step=1), "n", "n"),
        ],
    )
    st.session_state["params"] = loss_param_controls(["mse", "huber", "focal"], "t")


def test_a_row_of_controls_and_the_parameters_of_several_losses() -> None:
    at = AppTest.from_function(_controls, default_timeout=30)
    at.query_params["t_a"] = "1.5"
    at.run()
    assert not at.exception
    assert at.session_state["row"] == [1.5, 3] and len(at.columns) >= 2
    params = at.session_state["params"]
    assert params["mse"] == {}  # no parameters, no controls
    assert params["huber"] == {"delta": lossviz.spec("huber").param("delta").default}
    assert set(params["focal"]) == set(lossviz.spec("focal").param_names)
    assert [m.value for m in at.markdown] == ["**huber**", "**focal**"]
    at.slider(key="t_huber_delta").set_value(2.0).run()
    assert at.session_state["params"]["huber"] == {"delta": 2.0}


def _skipped() -> None:
    import streamlit as st

    from lossviz.ui.controls import loss_param_controls

    st.session_state["params"] = loss_param_controls(["huber", "focal"], "t", skip={"huber": ["delta"], "focal": ["gamma"]})


def test_skipped_parameters_get_no_control_and_a_loss_left_without_any_no_card() -> None:
    at = AppTest.from_function(_skipped, default_timeout=30)
    at.run()
    assert not at.exception
    assert at.session_state["params"] == {"huber": {}, "focal": {"alpha": lossviz.spec("focal").param("alpha").default}}
    assert [m.value for m in at.markdown] == ["**focal**"] and [s.key for s in at.slider] == ["t_focal_alpha"]
