"""The Custom loss page in AppTest: typing formulas, rejections, gallery, controls, links, the session bound."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    app_test,
    errors,
    exceptions,
    figure_sizes,
    figures,
    live_data,
    live_figures,
    live_sizes,
    same_data,
    warnings,
)

import lossviz
from lossviz.figures.curves import TRACES_PER_CURVE
from lossviz.formula import MAX_CUSTOM_LOSSES
from lossviz.studies import curves as lc
from lossviz.studies import custom as cg
from lossviz.ui.live_chart import LiveParam
from lossviz.ui.session import _SESSION_KEY
from tests.figure_helpers import frames_of, validated

HOSTILE = [
    "__import__('os').system('echo pwned')",
    "p.__class__.__mro__",
    "().__class__.__bases__[0].__subclasses__()",
    "(lambda: p)()",
    "open('/etc/passwd')",
    "р - y",  # Cyrillic 'р'
    "[p for p in y]",
    "(" * 60 + "p" + ")" * 60,
    "p+" * 249 + "p",  # 499 characters (the box takes 500) but 499 nodes
    "eval('1')",
    "p if y else 1",
    "p ** 1e6",
]


@pytest.fixture
def page():
    at = app_test("custom")
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


def charts(at) -> list[dict]:
    """The page's curves chart: the live one (a formula with parameters) or a plain one (without)."""
    return live_figures(at) + figures(at)


def commit(at, key: str, value: float, seq: int = 1) -> None:
    """What the browser sends on releasing the live control ``key`` (lossviz.ui.live_chart)."""
    at.session_state[key] = {"committed": {"values": [value], "seq": seq}}


def live_shown(at) -> tuple[str, float]:
    """The live control's label and the value it shows."""
    ((param,),) = [d["params"] for d in live_data(at)]
    return param["label"], param["values"][param["index"]]


def curve_y(fig: dict, curve: int = 0, panel: int = 0) -> np.ndarray:
    return fig["data"][TRACES_PER_CURVE * curve + panel]["y"]


def curve_names(fig: dict) -> list[str]:
    return [t["name"] for t in fig["data"][::TRACES_PER_CURVE]]


def shown(messages: list[str]) -> list[str]:
    """Messages as the reader sees them (user text in them is Markdown-escaped with backslashes)."""
    return [m.replace("\\", "") for m in messages]


def type_formula(at, text: str) -> None:
    at.text_input(key="custom_formula").input(text).run()
    assert not exceptions(at), exceptions(at)


def session_store(at) -> dict:
    return at.session_state[_SESSION_KEY]


def listed_losses(at) -> list[str]:
    """The names in the page's list of this session's custom losses (their Remove buttons)."""
    return sorted(b.key.removeprefix("custom_remove_") for b in at.button if b.key.startswith("custom_remove_"))


def test_default_page_draws_squared_error_without_a_control(page) -> None:
    assert not live_data(page)  # no parameter: a plain chart, no live control
    (fig,) = figures(page)
    assert "frames" not in fig
    assert curve_names(fig) == ["my_loss"]
    x = fig["data"][0]["x"]
    np.testing.assert_allclose(curve_y(fig), x**2, rtol=1e-6)
    np.testing.assert_allclose(curve_y(fig, panel=1), 2 * x, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(curve_y(fig, panel=2), 2.0)
    assert [t.value.strip("$\n") for t in page.latex] == ["L(p, y) = \\left(p - y\\right)^{2}"]
    assert not errors(page) and not warnings(page)
    assert list(session_store(page)) == ["my_loss"]
    assert listed_losses(page) == ["my_loss"]
    assert max(figure_sizes(page)) < 1_000_000


def test_typed_formula_gets_one_live_control_for_its_first_parameter(page) -> None:
    type_formula(page, "k*abs(p - y)**1.5")
    assert not figures(page)  # the one chart is the live one
    (fig,) = live_figures(page)
    validated(fig)
    x = fig["data"][0]["x"].astype(np.float64)
    np.testing.assert_allclose(curve_y(fig), np.abs(x) ** 1.5, rtol=1e-6)
    assert live_shown(page) == ("k", 1.0)
    assert "custom_k" not in [s.key for s in page.slider]  # one control per parameter
    (chart,) = live_data(page)
    values = chart["params"][0]["values"]
    assert len(frames_of(fig)) == len(values) >= 20
    for value, frame in zip(values, frames_of(fig), strict=True):
        np.testing.assert_allclose(frame["data"][0]["y"], value * np.abs(x) ** 1.5, rtol=1e-6, atol=1e-7)
    assert max(live_sizes(page)) < 1_000_000
    assert "k" in session_store(page)["my_loss"].param_names


def test_a_committed_value_reaches_the_chart_the_doctor_and_the_link(page) -> None:
    type_formula(page, "-k*(p - y)**2 + 2*(p - y)**2")
    assert doctor_lines(page) == []  # k = 1: (p − y)², nothing wrong
    commit(page, "custom_k", 3.0)
    page.run()
    assert not exceptions(page), exceptions(page)
    assert live_shown(page) == ("k", 3.0)
    (fig,) = live_figures(page)
    x = fig["data"][0]["x"].astype(np.float64)
    np.testing.assert_allclose(curve_y(fig), -(x**2), rtol=1e-6, atol=1e-6)
    assert any("**sign**" in line for line in doctor_lines(page))  # the doctor sees k = 3: −(p − y)²
    assert "sign" in [a["text"] for a in fig["layout"]["annotations"]]  # and marks it on the live chart
    assert any("k = 3" in c.value for c in page.caption)
    assert page.query_params["custom_k"] == "3"
    commit(page, "custom_k", 1.0, seq=2)
    page.run()
    assert "custom_k" not in page.query_params  # the default leaves the link


def test_a_link_restores_the_live_value() -> None:
    at = app_test("custom")
    at.query_params["custom_formula"] = "k*abs(p - y)**1.5"
    at.query_params["custom_k"] = "3.7"
    at.run()
    assert not exceptions(at) and not warnings(at)
    assert live_shown(at) == ("k", 4.0)  # the frame nearest 3.7 on the frames −10, −9 … 10
    (fig,) = live_figures(at)
    x = fig["data"][0]["x"].astype(np.float64)
    np.testing.assert_allclose(curve_y(fig), 4.0 * np.abs(x) ** 1.5, rtol=1e-6)


def test_the_live_parameter_switches_with_the_formula(page) -> None:
    type_formula(page, "a*k*(p - y)**2")
    commit(page, "custom_a", 2.0)
    page.run()
    page.slider(key="custom_k").set_value(3.0).run()
    page.query_params["custom_k"] = "3.0"  # the bound slider's link entry (AppTest writes none back)
    type_formula(page, "k*a*(p - y)**2")  # k is live now, a gets a slider: each keeps its value (the link's)
    assert live_shown(page) == ("k", 3.0)
    assert page.slider(key="custom_a").value == 2.0
    assert [s.key for s in page.slider if s.key in ("custom_a", "custom_k")] == ["custom_a"]
    (fig,) = live_figures(page)
    x = fig["data"][0]["x"].astype(np.float64)
    np.testing.assert_allclose(curve_y(fig), 6.0 * x**2, rtol=1e-6)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_formula_is_rejected_and_the_page_keeps_working(page, text: str) -> None:
    type_formula(page, text)
    assert not charts(page)
    (message,) = shown(errors(page))
    assert message.startswith("Formula rejected")
    assert "not allowed" in message or "limit" in message or "syntax" in message or "unknown" in message
    assert session_store(page)["my_loss"].fn.formula.text == "(p - y)**2"  # the last good formula stays
    # The page keeps working: a gallery example loads and draws.
    page.button(key="custom_example_huber").click().run()
    assert not exceptions(page) and not errors(page)
    (fig,) = charts(page)
    assert curve_names(fig) == ["my_huber", "huber (built-in)"]


def test_rejection_shows_the_column_with_a_caret(page) -> None:
    type_formula(page, "log(p - y) + q.__class__")
    (message,) = errors(page)
    assert "column 15" in message
    assert r"\_\_class\_\_" in message  # shown as typed, not as Markdown bold
    carets = [c.value for c in page.code if c.value.endswith("^")]
    assert carets == ["log(p - y) + q.__class__\n" + " " * 14 + "^"]


def test_undefined_points_are_gaps_with_a_note(page) -> None:
    type_formula(page, "log(p - y)")
    (fig,) = charts(page)
    value = curve_y(fig)
    x = fig["data"][0]["x"]
    assert np.isnan(value[x <= 0]).all() and np.isfinite(value[x > 0]).all()
    (note,) = [i.value for i in page.info]
    assert "undefined" in note and "p ≤ " in note and "gaps" in note
    assert not errors(page)


@pytest.mark.parametrize("ex", cg.GALLERY, ids=lambda ex: ex.key)
def test_gallery_examples_load_with_one_click(page, ex: cg.Example) -> None:
    page.button(key=f"custom_example_{ex.key}").click().run()
    assert not exceptions(page) and not errors(page), (exceptions(page), errors(page))
    assert page.text_input(key="custom_formula").value == ex.formula
    assert page.text_input(key="custom_name").value == ex.name
    for i, (name, (default, low, high)) in enumerate(ex.params.items()):
        keys = cg.param_keys(name)
        assert page.number_input(key=keys["default"]).value == default
        assert page.number_input(key=keys["low"]).value == low
        assert page.number_input(key=keys["high"]).value == high
        if i == 0:  # the first parameter's one control is the live one, at the example's default
            assert live_shown(page)[1] == default and keys["value"] not in [s.key for s in page.slider]
        else:
            assert page.slider(key=keys["value"]).value == pytest.approx(default)
    if not ex.params:
        assert not live_data(page)
    (fig,) = charts(page)
    assert curve_names(fig)[0] == ex.name
    assert ex.name in session_store(page)
    if ex.builtin:
        (success,) = [s.value for s in page.success]
        assert f"matches `{ex.builtin}`" in success and "1e-12" in success
        assert curve_names(fig) == [ex.name, f"{ex.builtin} (built-in)"]
        ours, theirs = curve_y(fig, 0), curve_y(fig, 1)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)  # float32 on the wire
        assert fig["data"][TRACES_PER_CURVE]["line"]["dash"] == "dash"
    else:
        assert not page.success and curve_names(fig) == [ex.name]


def test_each_control_changes_the_chart(page) -> None:
    page.button(key="custom_example_cauchy").click().run()
    (fig,) = charts(page)

    def rerun(before: dict) -> dict:
        page.run()
        assert not exceptions(page), exceptions(page)
        (after,) = charts(page)
        assert not same_data(before, after)
        return after

    commit(page, "custom_c", 2.0)
    fig = rerun(fig)
    x = fig["data"][0]["x"].astype(np.float64)
    np.testing.assert_allclose(curve_y(fig), 2.0 * np.log1p((x / 2.0) ** 2), rtol=1e-6)
    np.testing.assert_allclose(curve_y(fig, 1), curve_y(fig), rtol=1e-6)  # the built-in follows c → scale
    page.slider(key="custom_target").set_value(1.0)
    fig = rerun(fig)
    page.slider(key="custom_center").set_value(2.0)
    fig = rerun(fig)
    assert fig["data"][0]["x"][0] == pytest.approx(-3.0)
    page.select_slider(key="custom_half_width").set_value(10.0)
    fig = rerun(fig)
    assert fig["data"][0]["x"][-1] == pytest.approx(12.0)
    page.number_input(key="custom_c_high").set_value(8.0).run()  # the live frames span the table's range
    (fig,) = charts(page)
    last, r = frames_of(fig)[-1]["data"][0]["y"].astype(np.float64), fig["data"][0]["x"].astype(np.float64) - 1.0
    np.testing.assert_allclose(last, 32.0 * np.log1p((r / 8.0) ** 2), rtol=1e-5)  # c²/2 log1p((r/c)²) at c = 8
    page.number_input(key="custom_c_low").set_value(0.5).run()
    assert frames_of(charts(page)[0])[0]["data"][0]["y"][0] == pytest.approx(0.125 * np.log1p(18**2), rel=1e-6)  # c = 0.5 at r = −9
    page.selectbox(key="custom_compare").set_value("welsch")
    fig = rerun(fig)
    assert curve_names(fig) == ["my_cauchy", "welsch (built-in)"]
    assert any("differs from `welsch`" in w for w in shown(warnings(page)))
    page.selectbox(key="custom_compare").set_value(cg.NO_COMPARISON)
    fig = rerun(fig)
    assert curve_names(fig) == ["my_cauchy"]
    page.number_input(key="custom_c_default").set_value(3.0)
    fig = rerun(fig)
    assert session_store(page)["my_cauchy"].param("c").default == 3.0
    assert live_shown(page)[1] == 3.0  # a new default moves the live control to it


def test_a_bad_parameter_table_is_explained(page) -> None:
    type_formula(page, "k*(p - y)**2")
    page.number_input(key="custom_k_low").set_value(20.0).run()
    assert not exceptions(page)
    assert any("low (20) must be below high (10)" in e for e in shown(errors(page)))
    assert not charts(page)
    page.number_input(key="custom_k_low").set_value(2.0).run()
    assert any("using 2" in w for w in shown(warnings(page)))  # the default 1 moves into [2, 10]
    assert len(charts(page)) == 1
    assert live_shown(page) == ("k", 2.0)


def test_name_is_validated_and_registers(page) -> None:
    page.text_input(key="custom_name").input("huber").run()
    assert not exceptions(page)
    assert any("built-in" in e for e in shown(errors(page)))
    assert charts(page)  # drawn anyway, unregistered
    page.text_input(key="custom_name").input("mine").run()
    assert not errors(page)
    assert sorted(session_store(page)) == ["mine", "my_loss"]
    assert listed_losses(page) == ["mine", "my_loss"]


def test_remove_and_edit(page) -> None:
    page.button(key="custom_example_linex").click().run()
    assert listed_losses(page) == ["my_linex", "my_loss"]
    page.button(key="custom_edit_my_loss").click().run()
    assert page.text_input(key="custom_formula").value == "(p - y)**2"
    assert page.text_input(key="custom_name").value == "my_loss"
    page.button(key="custom_remove_my_linex").click().run()
    assert not exceptions(page)
    assert listed_losses(page) == ["my_loss"] and "my_linex" not in session_store(page)


def test_the_session_bound_gives_a_clear_message() -> None:
    at = app_test("custom")
    with lossviz.user_scope({}) as full:
        for i in range(MAX_CUSTOM_LOSSES):
            lossviz.define(f"loss{i:02d}", "(p - y)**2")
    at.session_state[_SESSION_KEY] = dict(full)
    at.query_params["custom_name"] = "one_more"
    at.run()
    assert not exceptions(at)
    (message,) = shown(errors(at))
    assert "Not registered" in message and f"the limit is {MAX_CUSTOM_LOSSES}" in message
    assert len(session_store(at)) == MAX_CUSTOM_LOSSES and "one_more" not in session_store(at)
    (fig,) = charts(at)  # the formula is still drawn
    assert curve_names(fig) == ["unregistered"]
    at.button(key="custom_remove_loss00").click().run()  # make room: now it registers
    assert not errors(at) and "one_more" in session_store(at)


def test_link_restores_the_same_chart(page) -> None:
    """Formula, name, parameter table, slider and view typed in one session = the same chart from a link."""
    type_formula(page, "where(p > y, a*(p - y)**2, b*(y - p))")
    page.text_input(key="custom_name").input("asym").run()
    for key, value in (("custom_a_high", 4.0), ("custom_a_default", 2.0), ("custom_b_low", 0.0)):
        page.number_input(key=key).set_value(value).run()
    page.slider(key="custom_b").set_value(3.0).run()
    page.slider(key="custom_target").set_value(0.5).run()
    page.selectbox(key="custom_compare").set_value("mse").run()
    (typed,) = charts(page)

    link = {
        "custom_formula": "where(p > y, a*(p - y)**2, b*(y - p))",
        "custom_name": "asym",
        "custom_a_default": "2.0",
        "custom_a_high": "4.0",
        "custom_b_low": "0.0",
        "custom_b": "3",
        "custom_target": "0.5",
        "custom_compare": "mse",
    }
    # The page writes the parameter table to the link itself (the other controls are bound widgets,
    # which AppTest does not write back): those entries must be exactly the ones above.
    written = {k: v for k, v in page.query_params.items() if k.endswith(("_default", "_low", "_high"))}
    assert written == {k: v for k, v in link.items() if k.endswith(("_default", "_low", "_high"))}
    at = app_test("custom")
    for key, value in link.items():
        at.query_params[key] = value
    at.run()
    assert not exceptions(at) and not errors(at)
    assert warnings(at) == warnings(page)  # only the check's "differs from mse", no link warning
    (restored,) = charts(at)
    assert same_data(typed, restored)
    assert len(frames_of(restored)) == len(frames_of(typed))
    assert "asym" in session_store(at)
    spec = session_store(at)["asym"]
    assert (spec.param("a").default, *spec.param("a").slider_range) == (2.0, -10.0, 4.0)


def test_stale_table_entries_leave_the_link(page) -> None:
    type_formula(page, "k*(p - y)**2")
    page.number_input(key="custom_k_low").set_value(0.5).run()
    assert page.query_params["custom_k_low"] == "0.5"
    type_formula(page, "(p - y)**4")
    assert "custom_k_low" not in page.query_params


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("custom_name", "1bad name"),
        ("custom_name", "huber"),
        ("custom_k_low", "abc"),
        ("custom_k_default", "inf"),
        ("custom_k", "1e9"),
        ("custom_k", "abc"),
        ("custom_target", "nan"),
        ("custom_half_width", "-3"),
        ("custom_compare", "no_such_loss"),
        ("custom_formula", "p" * 600),
    ],
)
def test_bad_link_values_warn(key: str, value: str) -> None:
    at = app_test("custom")
    if key.startswith("custom_k"):
        at.query_params["custom_formula"] = "k*(p - y)**2"
    at.query_params[key] = value
    at.run()
    assert not exceptions(at), exceptions(at)
    assert any(key in w for w in shown(warnings(at))), warnings(at)
    assert charts(at)


def test_a_hostile_formula_in_a_link_is_only_rejected() -> None:
    at = app_test("custom")
    at.query_params["custom_formula"] = "__import__('os').system('echo pwned')"
    at.run()
    assert not exceptions(at) and not charts(at)
    assert any("not allowed" in e for e in shown(errors(at)))


def doctor_lines(at) -> list[str]:
    """The loss doctor's lines beside the chart."""
    return [m.value for m in at.markdown if "**" in m.value and ":material/" in m.value and "]" in m.value]


def test_the_doctor_finds_nothing_wrong_with_squared_error(page) -> None:
    assert doctor_lines(page) == []
    assert any("Nothing found on this range" in c.value for c in page.caption)
    (fig,) = charts(page)
    assert not fig["layout"].get("shapes")


@pytest.mark.parametrize("ex", cg.DOCTOR_EXAMPLES, ids=lambda ex: ex.code)
def test_each_doctor_example_loads_and_its_finding_is_listed_and_marked(page, ex) -> None:
    page.button(key=f"custom_doctor_{ex.code}").click().run()
    assert not exceptions(page), exceptions(page)
    assert page.text_input(key="custom_formula").value == ex.formula
    lines = doctor_lines(page)
    assert any(f"**{ex.code.replace('_', ' ')}**" in line for line in lines), lines
    (fig,) = charts(page)
    codes = [a["text"] for a in fig["layout"]["annotations"]]
    assert ex.code in codes or ex.code == "unbounded_below", codes  # a place at ±∞ is listed, not drawn


def test_typing_a_sign_slip_is_diagnosed_as_you_type(page) -> None:
    type_formula(page, "-(p - y)**2")
    lines = doctor_lines(page)
    assert any("**sign**" in line for line in lines) and any("**unbounded below**" in line for line in lines), lines


# --- in the browser ------------------------------------------------------------------------------------------

LIVE_C = "c"


def _caption_value(tab) -> str:
    """The live value the page's caption names (what the script committed)."""
    texts = tab.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    (caption,) = [t for t in texts if "Drag the slider" in t]
    return caption.rsplit(f"{LIVE_C} = ", 1)[1].rstrip(").")


def example_c(key: str) -> LiveParam:
    """The live control of a gallery example's c."""
    param = cg.formula_param("c", cg.example(key).params["c"], f"my_{key}")
    return LiveParam(param, lc.frame_values(param))


@pytest.mark.browser
def test_in_the_browser_c_moves_while_dragged_commits_on_release_and_resets_with_an_example() -> None:
    """Cauchy's c is one live control under the chart: a drag draws new frames without a message to the
    server, the release commits once to the link, a reload restores it, ArrowRight steps it; loading another
    example moves it to that example's default, and an unrelated rerun keeps it there."""
    from helpers import browser_errors, chromium_page, drag_live, drawn_frame, sent_frames, streamlit_server

    with streamlit_server() as base, chromium_page(base, "custom", charts=1) as tab:
        sent = sent_frames(tab)
        tab.get_by_role("button", name="Cauchy", exact=True).click()
        slider = tab.get_by_role("slider", name=LIVE_C, exact=True)
        slider.wait_for(timeout=60_000)
        tab.wait_for_function("() => !!document.querySelector('.lossviz-live[data-frame]')", timeout=60_000)
        assert slider.count() == 1  # one control for c (an st.slider would carry the same name)
        assert slider.get_attribute("aria-valuetext") == "1"
        tab.wait_for_timeout(1000)  # the run has settled: what follows must send nothing until the release
        slider.scroll_into_view_if_needed()
        before = len(sent)
        drawn = drag_live(tab, LIVE_C, [0.3, 0.5, 0.7])
        assert len(set(drawn)) == len(drawn), drawn  # a new frame at each step
        assert len(sent) == before, "the drag sent WebSocket messages"
        tab.mouse.up()
        text = slider.get_attribute("aria-valuetext")
        tab.wait_for_function(f"() => location.search.includes('custom_c={text}')", timeout=60_000)
        tab.wait_for_function(
            f"() => Array.from(document.querySelectorAll('[data-testid=stCaptionContainer]'))"
            f".some(c => c.innerText.includes('c = {text})'))",
            timeout=60_000,
        )
        tab.reload()
        tab.wait_for_function("() => !!document.querySelector('.lossviz-live[data-frame]')", timeout=120_000)
        assert drawn_frame(tab, LIVE_C) == drawn[-1]
        assert slider.get_attribute("aria-valuetext") == text and _caption_value(tab) == text

        slider.focus()
        slider.press("ArrowRight")
        texts = example_c("cauchy").texts
        assert texts[drawn[-1]] == text
        tab.wait_for_function(f"() => location.search.includes('custom_c={texts[drawn[-1] + 1]}')", timeout=60_000)
        assert drawn_frame(tab, LIVE_C) == drawn[-1] + 1

        tab.get_by_role("button", name="Tukey biweight", exact=True).click()  # c = 4.685 by default
        tukey = example_c("tukey")
        shown = tukey.text(tukey.param.default)
        tab.wait_for_function(
            f"el => el.getAttribute('aria-valuetext') === '{shown}'", arg=slider.element_handle(), timeout=60_000
        )
        tab.wait_for_function("() => !location.search.includes('custom_c=')", timeout=60_000)
        target = tab.locator('[data-testid="stSlider"]').filter(has_text="target y").locator('input[type="range"]')
        target.focus()
        target.press("ArrowRight")  # an unrelated rerun: c stays at the example's default
        tab.wait_for_function("() => location.search.includes('custom_target=')", timeout=60_000)
        tab.wait_for_timeout(1500)
        assert slider.get_attribute("aria-valuetext") == shown and _caption_value(tab) == shown
        assert "custom_c=" not in tab.evaluate("() => location.search")
        assert not browser_errors(tab)
