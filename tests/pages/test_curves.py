"""The Curves page in AppTest: renders, every control drives the chart, links restore state."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import (
    app_test,
    errors,
    exceptions,
    figures,
    live_data,
    live_drawn,
    live_figures,
    live_sizes,
    same_data,
    warnings,
)

import lossviz
from lossviz.domains import REAL
from lossviz.figures.curves import TRACES_PER_CURVE
from lossviz.spec import LossSpec


@pytest.fixture
def page():
    at = app_test("curves")
    at.run()
    assert not exceptions(at)
    return at


def _values(fig: dict, curve: int = 0, panel: int = 0) -> np.ndarray:
    return fig["data"][TRACES_PER_CURVE * curve + panel]["y"]


def _charts(at) -> list[dict]:
    """Every chart of the page as drawn: the live one (the live loss's group, at its committed frame) first, then
    the plain ones."""
    return live_drawn(at) + figures(at)


def _rerun(at, before: dict) -> dict:
    at.run()
    assert not exceptions(at), exceptions(at)
    (after,) = _charts(at)
    assert not same_data(before, after)
    return after


def _commit(at, key: str, *values: float, seq: int = 1) -> None:
    """What the browser sends on releasing the live control ``key`` (lossviz.ui.live_chart)."""
    at.session_state[key] = {"committed": {"values": list(values), "seq": seq}}


def _huber(x: np.ndarray, delta: float) -> np.ndarray:
    return np.where(np.abs(x) <= delta, 0.5 * x**2, delta * (np.abs(x) - 0.5 * delta))


def test_default_page_shows_mse_mae_huber_with_a_live_delta(page) -> None:
    (fig,) = _charts(page)
    assert not figures(page)  # the one chart is the live one
    names = [t["name"] for t in fig["data"][::TRACES_PER_CURVE]]
    assert names == ["mse", "mae", "huber"]
    x = fig["data"][0]["x"].astype(np.float64)
    np.testing.assert_allclose(_values(fig, 0), x**2, rtol=1e-6)
    (chart,) = live_data(page)
    (delta,) = chart["params"]
    assert delta["label"] == "δ (delta)" and delta["values"][delta["index"]] == 1.0
    assert len(fig["frames"]) == len(delta["values"]) and "sliders" not in fig["layout"]
    for value, frame in zip(delta["values"], fig["frames"], strict=True):
        np.testing.assert_allclose(frame["data"][0]["y"], _huber(x, value), rtol=1e-6, atol=1e-7)
    assert [t.value.strip("$\n") for t in page.latex][:3] == [lossviz.spec(n).latex for n in names]
    assert not errors(page) and not warnings(page)
    assert max(live_sizes(page)) < 1_000_000


def test_one_control_per_parameter(page) -> None:
    assert [s.key for s in page.slider] == []  # δ is the live control's alone: no card slider
    assert "curves_huber_delta" not in [s.key for s in page.select_slider]
    page.multiselect(key="curves_losses").set_value(["mse", "quantile", "huber"]).run()
    assert not exceptions(page)
    assert [s.key for s in page.slider] == ["curves_huber_delta"]  # τ is live now, δ back in the card
    assert [p["label"] for p in live_data(page)[0]["params"]] == ["τ (tau)"]


def test_a_committed_delta_reaches_the_chart_captions_and_link(page) -> None:
    (fig,) = _charts(page)
    _commit(page, "curves_huber_delta", 2.0)
    fig2 = _rerun(page, fig)
    x = fig2["data"][0]["x"].astype(np.float64)
    np.testing.assert_allclose(_values(fig2, 2), _huber(x, 2.0), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(_values(fig2, 0), _values(fig, 0))  # MSE did not move
    assert live_data(page)[0]["params"][0]["index"] == 10 and live_data(page)[0]["seq"] == 1
    assert any("δ = 2" in c.value for c in page.caption)
    assert page.query_params["curves_huber_delta"] == "2"
    # What the page computes from the value (the download's table) follows the commit, not the default.
    page.select_slider(key="curves_range").set_value(2.0)
    fig3 = _rerun(page, fig2)
    x3 = fig3["data"][0]["x"].astype(np.float64)
    assert x3[-1] == pytest.approx(6.0)
    np.testing.assert_allclose(_values(fig3, 2), _huber(x3, 2.0), rtol=1e-6, atol=1e-7)
    _commit(page, "curves_huber_delta", 1.0, seq=2)
    page.run()
    assert "curves_huber_delta" not in page.query_params  # the default leaves the link


def test_each_control_changes_the_chart(page) -> None:
    (fig,) = _charts(page)
    page.select_slider(key="curves_range").set_value(2.0)
    fig3 = _rerun(page, fig)
    assert fig3["data"][0]["x"][-1] == pytest.approx(6.0)

    page.toggle(key="curves_absgrad").set_value(True)
    fig4 = _rerun(page, fig3)
    assert (_values(fig4, 0, 1) >= 0).all() and (_values(fig3, 0, 1) < 0).any()

    page.toggle(key="curves_logy").set_value(True)
    page.run()
    (fig5,) = _charts(page)
    assert fig5["layout"]["yaxis2"]["type"] == "log" and fig4["layout"]["yaxis2"]["type"] == "linear"

    page.multiselect(key="curves_losses").set_value(["mse", "huber", "quantile"])
    fig6 = _rerun(page, fig5)
    assert [t["name"] for t in fig6["data"][::TRACES_PER_CURVE]] == ["mse", "huber", "quantile"]
    page.slider(key="curves_quantile_tau").set_value(0.9)
    _rerun(page, fig6)


def test_switching_the_live_loss_keeps_the_committed_value_through_the_link(page) -> None:
    _commit(page, "curves_huber_delta", 2.0)
    page.run()
    page.multiselect(key="curves_losses").set_value(["mse", "quantile", "huber"]).run()
    assert not exceptions(page)
    assert page.slider(key="curves_huber_delta").value == 2.0  # the card slider takes the link's value
    page.multiselect(key="curves_losses").set_value(["huber", "quantile"]).run()
    assert not exceptions(page)
    (delta,) = live_data(page)[0]["params"]
    assert delta["values"][delta["index"]] == 2.0


def test_barron_gets_a_pad_over_alpha_and_c() -> None:
    at = app_test("curves")
    at.query_params["curves_family"] = "Robust regression"
    at.run()
    assert not exceptions(at) and not warnings(at)
    (chart,) = live_data(at)
    alpha, scale = chart["params"]
    assert (alpha["label"], scale["label"]) == ("α (alpha)", "c (scale)")
    assert alpha["values"][alpha["index"]] == 1.0 and scale["values"][scale["index"]] == 1.0
    assert len(chart["figure"]["frames"]) == len(alpha["values"]) * len(scale["values"])
    assert [s.key for s in at.slider] == ["curves_cauchy_scale", "curves_tukey_biweight_scale"]
    size = max(live_sizes(at))
    assert size < 1_500_000, size

    _commit(at, "curves_barron", -2.0, 2.5)
    at.run()
    assert not exceptions(at)
    (fig,) = live_drawn(at)
    x = fig["data"][0]["x"].astype(np.float64)
    expected = lossviz.evaluate("barron", x, 0.0, alpha=-2.0, scale=2.5).value
    np.testing.assert_allclose(_values(fig, 0), expected, rtol=1e-6, atol=1e-7)
    assert (at.query_params["curves_barron_alpha"], at.query_params["curves_barron_scale"]) == ("-2", "2.5")
    assert any("α = -2, c = 2.5" in c.value for c in at.caption)


def test_a_link_restores_the_pad() -> None:
    at = app_test("curves")
    at.query_params["curves_family"] = "Robust regression"
    at.query_params["curves_barron_alpha"] = "0"
    at.query_params["curves_barron_scale"] = "0.5"
    at.run()
    assert not exceptions(at) and not warnings(at)
    alpha, scale = live_data(at)[0]["params"]
    assert (alpha["values"][alpha["index"]], scale["values"][scale["index"]]) == (0.0, 0.5)
    (fig,) = live_drawn(at)
    x = fig["data"][0]["x"].astype(np.float64)
    np.testing.assert_allclose(_values(fig, 0), np.log1p(0.5 * (x / 0.5) ** 2), rtol=1e-6, atol=1e-7)  # Cauchy


def test_family_switch_and_target_controls(page) -> None:
    page.selectbox(key="curves_family").set_value("Classification")
    page.run()
    assert not exceptions(page)
    assert page.multiselect(key="curves_losses").value == ["bce_logits", "focal"]
    (fig,) = _charts(page)
    page.radio(key="curves_target_focal").set_value("0")
    fig2 = _rerun(page, fig)
    focal = _values(fig2, 1)
    bce_logits = _values(fig2, 0)
    np.testing.assert_array_equal(bce_logits, _values(fig, 0))
    assert focal[0] < focal[-1]  # target 0: large logits cost most
    page.slider(key="curves_target_bce_logits").set_value(0.0)
    _rerun(page, fig2)
    assert "curves_bce_logits_pos_weight" not in [s.key for s in page.select_slider]  # the live control's
    assert [p["label"] for p in live_data(page)[0]["params"]] == ["w₊ (pos_weight)"]
    page.slider(key="curves_focal_gamma").set_value(0.5)
    _rerun(page, _charts(page)[0])


def test_margin_and_prediction_axes_get_separate_charts(page) -> None:
    page.selectbox(key="curves_family").set_value("Classification")
    page.run()
    page.multiselect(key="curves_losses").set_value(["logistic", "bce", "focal"])
    page.run()
    assert not exceptions(page)
    (live,) = live_figures(page)  # focal's γ: its group is the live chart
    titles = [f["layout"]["xaxis4"]["title"]["text"] for f in figures(page)]
    assert titles[0] == "margin m = y·p" and titles[1].startswith("prediction p (probability")
    assert live["layout"]["xaxis4"]["title"]["text"].startswith("prediction p (logit")


def test_query_string_restores_state() -> None:
    at = app_test("curves")
    at.query_params["curves_huber_delta"] = "2.5"
    at.query_params["curves_range"] = "2"
    at.query_params["curves_losses"] = ["huber", "mae"]
    at.run()
    assert not exceptions(at) and not warnings(at)
    (delta,) = live_data(at)[0]["params"]
    assert delta["values"][delta["index"]] == 2.4  # the frame nearest the link's 2.5 (frames 0.05, 0.2, 0.4 …)
    assert at.select_slider(key="curves_range").value == 2.0
    (fig,) = live_drawn(at)
    x = fig["data"][0]["x"].astype(np.float64)
    assert x[-1] == pytest.approx(6.0)
    expected = lossviz.evaluate("huber", x, 0.0, delta=2.4).value
    np.testing.assert_allclose(_values(fig, 0), expected, rtol=1e-6)


def test_family_from_the_query_string() -> None:
    at = app_test("curves")
    at.query_params["curves_family"] = "Robust regression"
    at.run()
    assert not exceptions(at) and not warnings(at)
    assert at.multiselect(key="curves_losses").value == ["barron", "cauchy", "tukey_biweight"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("curves_huber_delta", "abc"),
        ("curves_huber_delta", "1e9"),
        ("curves_barron_alpha", "abc"),
        ("curves_barron_scale", "-1"),
        ("curves_range", "-3"),
        ("curves_family", "Nonsense"),
        ("curves_losses", "not_a_loss"),
        ("curves_logy", "maybe"),
    ],
)
def test_bad_query_string_warns(key: str, value: str) -> None:
    at = app_test("curves")
    if key.startswith("curves_barron"):
        at.query_params["curves_family"] = "Robust regression"
    at.query_params[key] = value
    at.run()
    assert not exceptions(at)
    assert any(key in w for w in warnings(at)), warnings(at)
    assert _charts(at)


def _custom(name: str, fn) -> LossSpec:
    return LossSpec(
        name=name, title=name, family="custom", latex=r"\log(p - y)", use_when="A test formula.", fn=fn,
        pred_domain=REAL, target_domain=REAL, builtin=False,
    )


@pytest.fixture
def custom_losses():
    store = lossviz.user_losses()  # the process-wide store: what a standalone page run sees
    added = {
        "t_log": _custom("t_log", lambda p, y: torch.log(p - y)),
        "t_boom": _custom("t_boom", lambda p, y: (_ for _ in ()).throw(RuntimeError("boom"))),
    }
    store.update(added)
    yield added
    for name in added:
        store.pop(name, None)


def test_custom_losses_with_nan_and_failures(custom_losses) -> None:
    at = app_test("curves")
    at.query_params["curves_family"] = "Custom"
    at.query_params["curves_losses"] = ["t_log", "t_boom"]
    at.run()
    assert not exceptions(at), exceptions(at)
    assert any("t_boom" in e and "boom" in e for e in errors(at))
    assert any("t_log" in w and "gaps" in w for w in warnings(at))
    (fig,) = _charts(at)
    values = _values(fig, 0)
    assert np.isnan(values).any() and np.isfinite(values).any()
    assert at.slider(key="curves_target_t_log").value == 0.0
    at.slider(key="curves_target_t_log").set_value(1.0)
    _rerun(at, fig)


def test_a_malformed_open_flag_in_a_link_warns_and_leaves_the_own_data_section_closed() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "pages" / "curves.py"), default_timeout=120)
    at.query_params["curves_pairs_open"] = "<b>yes</b>"
    at.run()
    assert not at.exception
    shown = [w.value.replace("\\", "") for w in at.warning]  # user text is shown Markdown-escaped
    assert any("curves_pairs_open='<b>yes</b>'" in w and "neither true nor false" in w for w in shown), shown
    assert not any(w.key == "curves_pairs_example" for w in at.selectbox)


def test_no_loss_selected_shows_a_hint(page) -> None:
    page.multiselect(key="curves_losses").set_value([])
    page.run()
    assert not exceptions(page) and not _charts(page)
    assert any("at least one" in i.value for i in page.info)


def test_predictions_vs_targets_example_file_draws_its_charts():
    """The own-data section of the Curves page: one click on an example file gives the tail-share charts."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "pages" / "curves.py"), default_timeout=120)
    at.run()
    assert not any(w.key == "curves_pairs_example" for w in at.selectbox)  # closed: its content does not run
    at.query_params["curves_pairs_open"] = "true"  # the link of a page with the section open
    at.run()
    before = len(at.get("plotly_chart"))  # the live chart is a component, not counted
    at.selectbox(key="curves_pairs_example").set_value("validation_predictions.csv").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == before + 2
    shares = at.dataframe[0].value["worst 1 % share of loss"]
    assert shares.iloc[0] > shares.iloc[1]  # MSE hands its worst 1 % of pairs more of the total than MAE


# --- in the browser ------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_keyboard_moves_delta_and_the_barron_pad_commits_both_values_once() -> None:
    """ArrowRight steps δ and commits it; on the robust family, dragging Barron's pad draws frames without a
    message to the server and its release commits α and c together, once, to the link."""
    from helpers import browser_errors, chromium_page, drawn_frame, new_frame, sent_frames, streamlit_server

    delta = "δ (delta)"
    with streamlit_server() as base, chromium_page(base, "curves", charts=1) as tab:
        slider = tab.get_by_role("slider", name=delta, exact=True)
        assert slider.count() == 1
        start = drawn_frame(tab, delta)
        slider.focus()
        tab.keyboard.press("ArrowRight")
        tab.wait_for_function("() => location.search.includes('curves_huber_delta=1.2')", timeout=30_000)
        assert drawn_frame(tab, delta) == start + 1

        sent = sent_frames(tab)
        tab.goto(f"{base}/curves?curves_family=Robust+regression", timeout=120_000)
        tab.wait_for_function(
            "() => !!document.querySelector('.lossviz-live__pad') && "
            "Array.from(document.querySelectorAll('.js-plotly-plot')).some(p => Array.isArray(p._fullData))",
            timeout=120_000,
        )
        alpha, scale = "α (alpha)", "c (scale)"
        assert tab.get_by_role("slider", name=alpha, exact=True).count() == 1
        assert tab.get_by_role("slider", name=scale, exact=True).count() == 1
        tab.wait_for_timeout(1000)  # the run has settled: what follows must send nothing until the release
        pad = tab.locator(".lossviz-live__pad")
        pad.scroll_into_view_if_needed()
        box = pad.bounding_box()
        before, start = len(sent), drawn_frame(tab, alpha)
        tab.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        tab.mouse.down()  # the pad's centre (α ≈ −3.5, c ≈ 2.5), away from the defaults (1, 1)
        frames = [new_frame(tab, alpha, start)]
        for fx, fy in [(0.8, 0.2), (0.2, 0.7), (0.9, 0.9)]:
            tab.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy, steps=3)
            frames.append(new_frame(tab, alpha, frames[-1]))
        assert len(set(frames)) == len(frames), frames
        assert len(sent) == before, "the pad's drag sent WebSocket messages"
        tab.mouse.up()
        a = tab.get_by_role("slider", name=alpha, exact=True).get_attribute("aria-valuetext")
        c = tab.get_by_role("slider", name=scale, exact=True).get_attribute("aria-valuetext")
        tab.wait_for_function(
            f"() => location.search.includes('curves_barron_alpha={a}') && "
            f"location.search.includes('curves_barron_scale={c}')",
            timeout=30_000,
        )
        tab.wait_for_timeout(1000)
        assert len(sent) == before + 1, "the release must commit both values in one message"
        assert not browser_errors(tab)


@pytest.mark.browser
def test_plotly_js_comes_from_the_static_route_and_a_second_visit_keeps_it():
    """app.py puts plotly.js into Streamlit's static folder; that route sends validators, so the browser keeps
    the 4.8 MB file across page loads (a component's route sends none: it was fetched on every visit)."""
    from helpers import IDLE_JS, chromium_page, streamlit_server

    from lossviz.ui.live_chart import PLOTLY_JS, STATIC_PLOTLY_JS

    plotly_entries = (
        "() => performance.getEntriesByType('resource').filter(e => e.name.includes('plotly'))"
        ".map(e => [e.name, e.transferSize, e.decodedBodySize])"
    )
    with streamlit_server() as base, chromium_page(base, "curves", charts=1) as tab:
        url = f"{base}/app/static/{STATIC_PLOTLY_JS}"
        [(name, transferred, size)] = tab.evaluate(plotly_entries)
        assert name == url and size == PLOTLY_JS.stat().st_size
        with urllib.request.urlopen(url, timeout=10) as response:
            assert "javascript" in response.headers["Content-Type"]
            assert response.headers["ETag"] and response.headers["Last-Modified"]
            assert response.read() == PLOTLY_JS.read_bytes()

        tab.goto(f"{base}/curves")
        tab.wait_for_function(
            f"() => ({IDLE_JS})() && document.querySelector('.js-plotly-plot') && window.Plotly", timeout=120_000
        )
        [(name, transferred, size)] = tab.evaluate(plotly_entries)
        # From the browser's cache: nothing transferred, or at most a 304's headers.
        assert name == url and transferred < 2_000
