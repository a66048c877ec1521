"""The Margins & embeddings page in AppTest: renders, every control drives its chart, links restore state,
and the numbers it shows agree with NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import app_test, errors, exceptions, figure_sizes, figures, same_data, warnings

import lossviz
from lossviz.studies import margins as es
from tests.figure_helpers import frames_of

CHARTS = ("binary", "multiclass", "ranking", "contrastive", "triplet", "cosine")
"""The page's charts, in page order."""
MARGIN_CONTROLS = {
    "margins_hinge_margin": "binary",
    "margins_squared_hinge_margin": "binary",
    "margins_multi_margin_margin": "multiclass",
    "margins_margin_ranking_margin": "ranking",
    "margins_contrastive_margin": "contrastive",
    "margins_triplet_margin": "triplet",
    "margins_cosine_embedding_margin": "cosine",
}
EPS = 1e-6  # torch's pairwise_distance ε, written here again on purpose


@pytest.fixture
def page():
    at = app_test("margins")
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


def _charts(at) -> dict[str, dict]:
    figs = figures(at)
    assert len(figs) == len(CHARTS)
    return dict(zip(CHARTS, figs, strict=True))


def _distance(x1: np.ndarray, x2: np.ndarray) -> float:
    return float(np.sqrt(((x1 - x2 + EPS) ** 2).sum()))


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_page_renders_every_chart_with_formulas_and_live_margins(page) -> None:
    charts = _charts(page)
    assert not errors(page) and not warnings(page)
    assert max(figure_sizes(page)) < 1_000_000
    for key in ("binary", "multiclass", "ranking", "contrastive", "cosine"):
        slider = charts[key]["layout"]["sliders"][0]
        assert slider["currentvalue"]["prefix"].startswith("m")
        frames = frames_of(charts[key])
        assert len(frames) == len(slider["steps"]) >= 20 and all(f["data"] and f["traces"] for f in frames)
    shown = {t.value.strip("$\n") for t in page.latex}
    for name in lossviz.names("ranking"):
        assert lossviz.spec(name).latex in shown
    hinge = charts["binary"]["data"][0]
    np.testing.assert_allclose(hinge["y"], np.maximum(0.0, 1.0 - hinge["x"]), atol=1e-6)


@pytest.mark.parametrize(("key", "chart"), list(MARGIN_CONTROLS.items()))
def test_each_margin_control_changes_only_its_chart(page, key: str, chart: str) -> None:
    before = _charts(page)
    value = 0.5 if chart == "cosine" else 2.0
    page.slider(key=key).set_value(value)
    page.run()
    assert not exceptions(page), exceptions(page)
    after = _charts(page)
    for name in CHARTS:
        assert same_data(before[name], after[name]) == (name != chart), name
    if chart != "triplet" and key == f"margins_{es.live_param(chart)[0]}_margin":
        slider = after[chart]["layout"]["sliders"][0]
        assert float(slider["steps"][slider["active"]]["label"]) == pytest.approx(value)


def test_moved_margins_give_the_formula(page) -> None:
    page.slider(key="margins_hinge_margin").set_value(2.0)
    page.slider(key="margins_contrastive_margin").set_value(1.5)
    page.run()
    charts = _charts(page)
    hinge = charts["binary"]["data"][0]
    np.testing.assert_allclose(hinge["y"], np.maximum(0.0, 2.0 - hinge["x"]), atol=1e-6)
    dissimilar = charts["contrastive"]["data"][2]
    np.testing.assert_allclose(dissimilar["y"], 0.5 * np.maximum(0.0, 1.5 - dissimilar["x"]) ** 2, atol=1e-6)


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
    assert at.slider(key="margins_hinge_margin").value == 2.5
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
    assert at.slider(key="margins_hinge_margin").value == 1.0
    assert at.slider(key="margins_anchor_x").value == 3.0
    assert at.slider(key="margins_cosine_embedding_margin").value == -1.0


# --- in the browser ---------------------------------------------------------------------------------

HINGE_Y0 = "() => document.querySelectorAll('.js-plotly-plot')[0]._fullData[0].y[0]"
"""The hinge's value at the left end of its axis (score −3): 3 + m."""


@pytest.mark.browser
def test_in_the_browser_no_error_box_and_the_plotly_slider_moves_the_margin_without_a_rerun() -> None:
    from helpers import browser_errors, chromium_page, streamlit_server

    with streamlit_server() as base, chromium_page(base, "margins", len(CHARTS)) as tab:
        assert browser_errors(tab) == []
        assert tab.evaluate(HINGE_Y0) == pytest.approx(4.0)
        rail = tab.locator(".js-plotly-plot").first.locator(".slider-rail-touch-rect")
        rail.scroll_into_view_if_needed()
        box = rail.bounding_box()
        tab.mouse.click(box["x"] + 0.9 * box["width"], box["y"] + box["height"] / 2)
        tab.wait_for_function(f"() => ({HINGE_Y0})() > 5", timeout=20_000)
        active = tab.evaluate("() => document.querySelectorAll('.js-plotly-plot')[0]._fullLayout.sliders[0]")
        margin = float(active["steps"][active["active"]]["label"])
        assert tab.evaluate(HINGE_Y0) == pytest.approx(3.0 + margin, rel=1e-6)
        state = tab.evaluate("() => document.querySelector('[data-testid=\"stApp\"]').dataset.testScriptState")
        assert state == "notRunning"  # the frame changed in the browser; the script did not run
        slider = tab.locator('[data-testid="stSlider"] input[type="range"]').first
        assert slider.input_value() == "1"  # the Plotly slider did not touch the Streamlit control
        slider.focus()
        slider.press("ArrowRight")  # the hinge margin's own slider: a (fragment) rerun redraws the chart
        tab.wait_for_function(f"() => Math.abs(({HINGE_Y0})() - 4.05) < 1e-5", timeout=60_000)
        assert browser_errors(tab) == []
