"""lossviz.ui.session: one identity of a loss's definition for shared caches, and where results are kept."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

import lossviz
from lossviz.ui.session import loss_identity, loss_key


def test_same_custom_name_with_different_formulas_has_different_identities():
    with lossviz.user_scope({}):
        lossviz.define("my_loss", "(p - y)**2")
        first = loss_identity("my_loss")
    with lossviz.user_scope({}):
        lossviz.define("my_loss", "abs(p - y)")
        second = loss_identity("my_loss")
    with lossviz.user_scope({}):
        lossviz.define("my_loss", "(p - y)**2")
        again = loss_identity("my_loss")
    with lossviz.user_scope({}):
        lossviz.define("my_loss", "(p - y)**2 * c", c=(1.0, 0.0, 2.0))
        with_param = loss_identity("my_loss")
    assert first != second and first != with_param
    assert first == again
    assert loss_identity("huber") == ("huber",)


def test_a_cache_key_holds_the_definition_and_the_values_in_name_order():
    key = loss_key("barron", {"scale": 1.0, "alpha": -2.0})
    assert key == ("barron", ("barron",), (("alpha", -2.0), ("scale", 1.0)))
    assert hash(key) == hash(loss_key("barron", {"alpha": -2.0, "scale": 1.0}))
    assert key != loss_key("barron", {"scale": 1.0, "alpha": 0.0})
    with lossviz.user_scope({}):
        lossviz.define("my_loss", "(p - y)**2 * c", c=(1.0, 0.0, 2.0))
        assert loss_key("my_loss", {"c": 1.0})[1] == loss_identity("my_loss")


def _caches() -> None:
    from types import SimpleNamespace

    import streamlit as st

    from lossviz.toolkit.training import RunCache
    from lossviz.ui.session import results_cache

    shared_a, shared_b = st.session_state.setdefault("shared", (RunCache(), RunCache()))
    public, private = (
        SimpleNamespace(data=SimpleNamespace(private=False)),
        SimpleNamespace(data=SimpleNamespace(private=True)),
    )
    st.session_state["public_a"] = results_cache(public, shared_a) is shared_a
    mine_a, mine_b = results_cache(private, shared_a), results_cache(private, shared_b)
    st.session_state["private_apart"] = mine_a is not shared_a and mine_b is not shared_b and mine_a is not mine_b
    st.session_state["private_kept"] = results_cache(private, shared_a) is mine_a
    st.session_state["mine"] = mine_a


def test_uploaded_data_gets_this_sessions_own_cache_beside_each_shared_one() -> None:
    first = AppTest.from_function(_caches, default_timeout=30).run()
    assert not first.exception
    assert first.session_state["public_a"] and first.session_state["private_apart"]
    assert first.session_state["private_kept"]
    mine = first.session_state["mine"]
    first.run()
    assert first.session_state["mine"] is mine  # kept across reruns of the session
    other = AppTest.from_function(_caches, default_timeout=30).run()
    assert other.session_state["mine"] is not mine  # never another session's
