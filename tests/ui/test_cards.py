"""lossviz.ui.cards: the loss card, the failure guard and kept figures, run in AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import lossviz
from lossviz.ui.cards import guarded, plain


def _run(script, **kwargs) -> AppTest:
    at = AppTest.from_function(script, kwargs=kwargs, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _card(name: str, heading: bool, label: str | None) -> None:
    from lossviz.ui.cards import loss_card

    loss_card(name, heading=heading, label=label)


def _cards(names: list[str], per_row: int) -> None:
    from lossviz.ui.cards import loss_cards

    loss_cards(names, per_row=per_row)


def test_plain_escapes_markdown_so_user_text_shows_as_typed() -> None:
    assert plain("__import__") == r"\_\_import\_\_"
    assert plain("2*x $y$ :red[z]") == r"2\*x \$y\$ \:red\[z\]"
    assert plain("log(p - y)") == r"log\(p \- y\)"


def test_loss_card_shows_what_the_declaration_says() -> None:
    s = lossviz.spec("huber")
    at = _run(_card, name="huber", heading=True, label=None)
    assert [m.value for m in at.markdown] == [f"**{s.title}** (`huber`)"]
    assert [t.value.strip("$\n") for t in at.latex] == [s.latex]
    captions = [c.value for c in at.caption]
    assert captions[0] == s.use_when + (f" {s.note}" if s.note else "")
    assert captions[1] == "Reference: " + "; ".join(s.references)


def test_loss_card_label_and_headless_card() -> None:
    at = _run(_card, name="focal", heading=True, label="Training loss")
    assert at.markdown[0].value == f"**Training loss: {lossviz.spec('focal').title}** (`focal`)"
    at = _run(_card, name="focal", heading=False, label=None)
    assert not at.markdown and len(at.latex) == 1


def test_loss_cards_in_rows_keep_every_loss_once() -> None:
    names = ["mse", "mae", "huber", "log_cosh"]
    at = _run(_cards, names=names, per_row=3)
    assert [t.value.strip("$\n") for t in at.latex] == [lossviz.spec(n).latex for n in names]
    assert len(at.columns) == 6  # two rows of three, the last with one card
    at = _run(_cards, names=names, per_row=1)
    assert not at.columns and len(at.latex) == 4


# --- the failure guard -----------------------------------------------------------------------------


def _guard(loss: str, error: str) -> None:
    import streamlit as st

    import lossviz
    from lossviz.ui.cards import guarded, guarded_each

    with lossviz.user_scope({}):
        lossviz.define("t_custom", "abs(p - y)")

        def compute(name: str) -> float:
            if name == loss:
                raise {"value": ValueError, "runtime": RuntimeError}[error]("bad *input* here")
            return 1.0

        st.session_state["one"] = guarded("first", lambda: compute("t_custom"), ["mse", "t_custom"])
        st.session_state["each"] = guarded_each(["mse", "t_custom", "huber"], compute)
        st.text("the page goes on")


@pytest.mark.parametrize("error", ["value", "runtime"])
def test_a_failing_custom_loss_is_shown_and_the_page_goes_on(error: str) -> None:
    at = _run(_guard, loss="t_custom", error=error)
    assert at.session_state["one"] is None
    assert at.session_state["each"] == {"mse": 1.0, "huber": 1.0}
    assert at.text[0].value == "the page goes on"
    messages = [e.value for e in at.error]
    assert len(messages) == 2 and messages[0].startswith("first: ") and messages[1].startswith("t_custom: ")
    if error == "value":
        assert messages[1] == "t_custom: bad *input* here"
    else:  # the formula's own message, with its Markdown escaped
        assert messages[1] == r"t_custom: the formula could not be evaluated (RuntimeError: bad \*input\* here)"


def test_a_value_error_of_a_builtin_is_shown() -> None:
    at = _run(_guard, loss="mse", error="value")
    assert at.session_state["one"] == 1.0
    assert at.session_state["each"] == {"t_custom": 1.0, "huber": 1.0}
    assert [e.value for e in at.error] == ["mse: bad *input* here"]


def test_any_other_failure_of_a_builtin_is_a_bug_and_propagates() -> None:
    at = AppTest.from_function(_guard, kwargs={"loss": "mse", "error": "runtime"}, default_timeout=60).run()
    assert len(at.exception) == 1 and not at.error  # the traceback is redacted (client.showErrorDetails)
    assert not at.text  # the page stopped there


def test_guarded_returns_the_result() -> None:
    assert guarded("sum", lambda: 1 + 2) == 3


# --- kept figures ------------------------------------------------------------------------------------


def _figures(kind: str, losses: list[str], private: bool) -> None:
    import plotly.graph_objects as go
    import streamlit as st

    import lossviz
    from lossviz.ui.cards import kept_figure

    builds = st.session_state.setdefault("builds", [])

    def build() -> go.Figure:
        builds.append(kind)
        return go.Figure()

    with lossviz.user_scope({}):
        lossviz.define("t_custom", "abs(p - y)")
        first = kept_figure(kind, ("ident",), build, losses, private)
        second = kept_figure(kind, ("ident",), build, losses, private)
        st.session_state["same"] = first is second


def test_a_figure_of_builtin_losses_is_built_once_and_kept() -> None:
    at = _run(_figures, kind="t_kept_builtin", losses=["mse", "huber"], private=False)
    assert at.session_state["builds"] == ["t_kept_builtin"] and at.session_state["same"]
    again = _run(_figures, kind="t_kept_builtin", losses=["mse", "huber"], private=False)  # another session
    assert again.session_state["builds"] == []


@pytest.mark.parametrize(("losses", "private"), [(["mse", "t_custom"], False), (["mse"], True)])
def test_a_figure_of_a_custom_loss_or_private_data_is_built_each_time(losses: list[str], private: bool) -> None:
    at = _run(_figures, kind="t_kept_private", losses=losses, private=private)
    assert at.session_state["builds"] == ["t_kept_private"] * 2 and not at.session_state["same"]
