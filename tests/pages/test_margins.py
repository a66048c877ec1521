"""The Margins & embeddings page in AppTest: renders, every control drives its chart, links restore state,
and the numbers it shows agree with NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import app_test, errors, exceptions, figures, live_data, live_drawn, live_sizes, same_data, warnings

import lossviz
from lossviz.studies import margins as es
from lossviz.toolkit.frames import round_values
from tests.figure_helpers import frames_of

PANELS = ("binary", "multiclass", "ranking", "contrastive", "cosine")
"""The live charts, in page order (the triplet plane, a Plotly chart, sits between contrastive and cosine)."""
CHARTS = (*PANELS, "triplet")
LIVE_KEYS = {f"margins_{es.live_param(key)[0]}_margin": key for key in PANELS}
"""The URL key of each panel's live margin: the key its st.slider had."""
SLIDER_KEYS = {"margins_squared_hinge_margin": "binary", "margins_triplet_margin": "triplet"}
"""The margins that keep a Streamlit slider: the squared hinge's (beside the live hinge) and the triplet's."""
EPS = 1e-6  # torch's pairwise_distance ε, written here again on purpose


@pytest.fixture
def page():
    at = app_test("margins")
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


def _charts(at) -> dict[str, dict]:
    """Each chart as the browser draws it (a live one with its committed frame applied)."""
    live, plain = live_drawn(at), figures(at)
    assert len(live) == len(PANELS) and len(plain) == 1
    return {**dict(zip(PANELS, live, strict=True)), "triplet": plain[0]}


def _commit(at, key: str, value: float) -> None:
    """What the browser sends when the live control ``key`` is released at ``value``."""
    at.session_state[key] = {"committed": {"values": [value], "seq": 1}}
    at.run()
    assert not exceptions(at), exceptions(at)


def _distance(x1: np.ndarray, x2: np.ndarray) -> float:
    return float(np.sqrt(((x1 - x2 + EPS) ** 2).sum()))


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_page_renders_every_chart_with_formulas_and_one_live_margin_each(page) -> None:
    charts = _charts(page)
    assert not errors(page) and not warnings(page)
    assert max(live_sizes(page)) < 1_000_000
    for data, key in zip(live_data(page), PANELS, strict=True):
        (param,) = data["params"]
        assert param["label"] == f"m ({es.LIVE_NAMES[key]})"
        assert param["values"] == list(round_values(es.live_param(key)[1]))
        assert param["values"][param["index"]] == es.live_param(key)[1].default
        frames = frames_of(charts[key])
        assert len(frames) == len(param["values"]) >= 20 and all(f["data"] and f["traces"] for f in frames)
    shown = {t.value.strip("$\n") for t in page.latex}
    assert not {lossviz.spec(name).latex for name in [*es.SCORE_LOSSES, "triplet"]} & shown  # closed: not sent
    opened = app_test("margins")
    opened.query_params.update(margins_score_formulas="true", margins_triplet_formula="true")  # a link opens them
    opened.run()
    shown = {t.value.strip("$\n") for t in opened.latex}
    for name in lossviz.names("ranking"):
        assert lossviz.spec(name).latex in shown
    hinge = charts["binary"]["data"][0]
    np.testing.assert_allclose(hinge["y"], np.maximum(0.0, 1.0 - hinge["x"]), atol=1e-6)


def test_exactly_one_control_per_margin(page) -> None:
    sliders = [s.key for s in page.slider]
    assert not set(sliders) & set(LIVE_KEYS)
    assert set(SLIDER_KEYS) <= set(sliders)
    labels = [d["params"][0]["label"] for d in live_data(page)]
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize(("key", "chart"), [*LIVE_KEYS.items(), *SLIDER_KEYS.items()])
def test_each_margin_control_changes_only_its_chart(page, key: str, chart: str) -> None:
    before = _charts(page)
    value = 0.5 if chart == "cosine" else 2.0
    if key in LIVE_KEYS:
        _commit(page, key, value)
        data = live_data(page)[PANELS.index(chart)]
        assert data["params"][0]["values"][data["params"][0]["index"]] == pytest.approx(value)
    else:
        page.slider(key=key).set_value(value)
        page.run()
    assert not exceptions(page), exceptions(page)
    after = _charts(page)
    for name in CHARTS:
        assert same_data(before[name], after[name]) == (name != chart), name


def test_a_commit_sends_the_same_figure_and_only_moves_its_frame(page) -> None:
    """The figure is drawn at the default margin and kept: a commit re-sends the control's state, and the
    browser, finding the same figure, only shows the committed frame (checked above as drawn)."""
    key = next(k for k, chart in LIVE_KEYS.items() if chart == "binary")
    before = live_data(page)[PANELS.index("binary")]
    _commit(page, key, 2.0)
    after = live_data(page)[PANELS.index("binary")]
    assert after["figure_id"] == before["figure_id"]
    assert after["params"][0]["index"] != before["params"][0]["index"]


def test_moved_margins_give_the_formula(page) -> None:
    page.session_state["margins_hinge_margin"] = {"committed": {"values": [2.0], "seq": 1}}
    _commit(page, "margins_contrastive_margin", 1.5)
    page.slider(key="margins_squared_hinge_margin").set_value(0.5).run()
    charts = _charts(page)
    hinge, squared = charts["binary"]["data"][0], charts["binary"]["data"][2]
    np.testing.assert_allclose(hinge["y"], np.maximum(0.0, 2.0 - hinge["x"]), atol=1e-6)
    np.testing.assert_allclose(squared["y"], np.maximum(0.0, 0.5 - squared["x"]) ** 2, rtol=1e-6, atol=1e-6)
    dissimilar = charts["contrastive"]["data"][2]
    np.testing.assert_allclose(dissimilar["y"], 0.5 * np.maximum(0.0, 1.5 - dissimilar["x"]) ** 2, atol=1e-6)
    assert page.query_params["margins_hinge_margin"] == "2"


@pytest.mark.parametrize("coordinate", list(es.COORDINATES))
def test_each_coordinate_moves_the_triplet_plane(page, coordinate: str) -> None:
    before = _charts(page)
    key = f"margins_{coordinate}"
    page.slider(key=key).set_value(2.5 if page.slider(key=key).value != 2.5 else -2.5)
    page.run()
    after = _charts(page)
    assert not same_data(before["triplet"], after["triplet"])
    assert same_data(before["binary"], after["binary"])


def _check_numbers(at, points: np.ndarray, margin: float) -> None:
    """The metrics and the gradient table against the FaceNet quantities computed here."""
    a, p, n = points
    d_ap, d_an = _distance(a, p), _distance(a, n)
    loss = max(0.0, margin + d_ap - d_an)
    region = "hard" if d_an < d_ap else "semi-hard" if d_an < d_ap + margin else "easy"
    assert _metrics(at) == {
        "d(a, p)": f"{d_ap:.4f}",
        "d(a, n)": f"{d_an:.4f}",
        "triplet loss L": f"{loss:.4f}",
        "the negative is": region,
    }
    u_ap, u_an = (a - p + EPS) / d_ap, (a - n + EPS) / d_an
    grads = np.array([u_ap - u_an, -u_ap, u_an]) if loss > 0 else np.zeros((3, 2))
    table = at.table[0].value
    assert list(table["point"]) == ["anchor", "positive", "negative"]
    np.testing.assert_allclose(table["∂L/∂x"].astype(float), grads[:, 0], atol=6e-5)
    np.testing.assert_allclose(table["∂L/∂y"].astype(float), grads[:, 1], atol=6e-5)


def test_numbers_shown_agree_with_numpy_for_the_default_and_every_preset(page) -> None:
    _check_numbers(page, np.array(es.PRESETS[es.DEFAULT_PRESET]), 1.0)
    for name in es.PRESETS:
        page.get("button_group")[0].select(name)
        page.run()
        assert not exceptions(page)
        coords = {c: page.slider(key=f"margins_{c}").value for c in es.COORDINATES}
        assert coords == es.preset_coordinates(name)
        _check_numbers(page, np.array(es.PRESETS[name]), 1.0)
        assert page.get("button_group")[0].value is None  # the choice clears; the sliders hold the state


def test_presets_move_the_triplet_plane(page) -> None:
    before = _charts(page)["triplet"]
    page.get("button_group")[0].select("hard")
    page.run()
    after = _charts(page)["triplet"]
    assert not same_data(before, after)
    assert _metrics(page)["the negative is"] == "hard"


def test_query_string_restores_the_state() -> None:
    at = app_test("margins")
    at.query_params["margins_hinge_margin"] = "2.5"
    at.query_params["margins_triplet_margin"] = "0.5"
    at.query_params["margins_negative_x"] = "0.3"
    at.query_params["margins_negative_y"] = "0.2"
    at.run()
    assert not exceptions(at) and not warnings(at)
    hinge_control = live_data(at)[0]["params"][0]
    assert hinge_control["texts"][hinge_control["index"]] == "2.5"
    charts = _charts(at)
    hinge = charts["binary"]["data"][0]
    np.testing.assert_allclose(hinge["y"], np.maximum(0.0, 2.5 - hinge["x"]), atol=1e-6)
    points = np.array(es.PRESETS[es.DEFAULT_PRESET])
    points[2] = (0.3, 0.2)
    _check_numbers(at, points, 0.5)


def test_bad_query_string_warns_and_falls_back() -> None:
    at = app_test("margins")
    at.query_params["margins_hinge_margin"] = "lots"
    at.query_params["margins_anchor_x"] = "99"
    at.query_params["margins_cosine_embedding_margin"] = "-7"
    at.run()
    assert not exceptions(at)
    assert len(warnings(at)) == 3
    shown = {key: d["params"][0]["values"][d["params"][0]["index"]] for key, d in zip(PANELS, live_data(at), strict=True)}
    assert shown["binary"] == 1.0 and shown["cosine"] == -1.0
    assert at.slider(key="margins_anchor_x").value == 3.0


# --- in the browser ---------------------------------------------------------------------------------

HINGE = "m (hinge margin)"
HINGE_Y0 = "() => document.querySelector('.js-plotly-plot')?._fullData?.[0]?.y?.[0]"
"""The hinge's value at the left end of its axis (score −3): 3 + m (undefined while the chart is not drawn)."""


@pytest.mark.browser
def test_in_the_browser_the_live_margin_moves_while_dragged_and_commits_on_release() -> None:
    from helpers import browser_errors, chromium_page, drag_live, drawn_frame, sent_frames, streamlit_server

    values = [float(v) for v in round_values(es.live_param("binary")[1])]
    with streamlit_server() as base, chromium_page(base, "margins", len(CHARTS)) as tab:
        sent = sent_frames(tab)
        tab.reload()  # the listener sees this connection's every message
        tab.wait_for_function(
            "() => Array.from(document.querySelectorAll('.js-plotly-plot')).length >= 6", timeout=120_000
        )
        assert browser_errors(tab) == []
        assert tab.get_by_role("slider", name=HINGE, exact=True).count() == 1
        assert tab.get_by_role("slider", name="m (margin)").count() == 0  # no second control of any live margin
        assert tab.evaluate(HINGE_Y0) == pytest.approx(4.0)
        tab.get_by_role("slider", name=HINGE, exact=True).scroll_into_view_if_needed()
        before = len(sent)
        drawn = drag_live(tab, HINGE, [0.55, 0.7, 0.85])
        assert len(set(drawn)) == len(drawn)  # a new frame at each step
        assert len(sent) == before  # nothing reached the server while dragging
        assert tab.evaluate(HINGE_Y0) == pytest.approx(3.0 + values[drawn[-1]], rel=1e-6)
        tab.mouse.up()
        text = f"{values[drawn[-1]]:g}"
        tab.wait_for_function(f"() => location.search.includes('margins_hinge_margin={text}')", timeout=60_000)
        tab.reload()
        tab.wait_for_function(f"() => Math.abs(({HINGE_Y0})() - {3.0 + values[drawn[-1]]}) < 1e-5", timeout=120_000)
        assert drawn_frame(tab, HINGE) == drawn[-1]
        slider = tab.get_by_role("slider", name=HINGE, exact=True)
        slider.focus()
        slider.press("ArrowRight")
        tab.wait_for_function(f"() => Math.abs(({HINGE_Y0})() - {3.0 + values[drawn[-1] + 1]}) < 1e-5", timeout=60_000)
        tab.wait_for_function(f"() => location.search.includes('margins_hinge_margin={values[drawn[-1] + 1]:g}')",
                              timeout=60_000)
        assert browser_errors(tab) == []
