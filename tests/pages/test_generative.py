"""The Generative page: renders, every control moves the chart it drives, links restore and validate,
and the numbers it shows agree with an independent numpy computation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from helpers import app_test, errors, exceptions, live_data, live_drawn, live_sizes, same_data, warnings
from helpers import figures as plotly_figures
from streamlit.testing.v1 import AppTest

from lossviz.studies import generative as gs
from lossviz.toolkit.data import clean_image
from lossviz.toolkit.frames import FINE_MANTISSAS, log_ladder

GENERATOR, REAL, FAKE, TV = 0, 1, 2, 3
"""The charts in page order: generator losses, the discriminator's real and fake sides, the TV chart."""
WEIGHT_KEY = "generative_weight"
"""The URL key of the live TV weight λ (the key of the slider it replaces)."""
WEIGHT = "λ (weight)"


@pytest.fixture(scope="module")
def default() -> AppTest:
    at = app_test("generative")
    at.run()
    return at


def numpy_tv(x: np.ndarray) -> float:
    return float((np.diff(x, axis=1) ** 2).sum() + (np.diff(x, axis=0) ** 2).sum())


def numpy_tv_grad(x: np.ndarray) -> np.ndarray:
    g = np.zeros_like(x)
    dh, dv = np.diff(x, axis=1), np.diff(x, axis=0)
    g[:, :-1] -= 2 * dh
    g[:, 1:] += 2 * dh
    g[:-1, :] -= 2 * dv
    g[1:, :] += 2 * dv
    return g


def figures(at: AppTest) -> list[dict]:
    """The GAN charts (Plotly), then the TV chart (live, as the browser draws it: its committed frame applied)."""
    return plotly_figures(at) + live_drawn(at)


def weight(at: AppTest) -> float:
    """The committed value of the live λ control."""
    (data,) = live_data(at)
    return data["params"][0]["values"][data["params"][0]["index"]]


def commit(at: AppTest, value: float) -> None:
    """What the browser sends when the λ control is released at ``value``."""
    at.session_state[WEIGHT_KEY] = {"committed": {"values": [value], "seq": 1}}


def metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def test_renders_four_charts_without_errors(default: AppTest) -> None:
    assert exceptions(default) == [] and errors(default) == []
    assert len(figures(default)) == 4 and max(live_sizes(default)) < 1_000_000
    (data,) = live_data(default)
    assert data["params"][0]["label"] == WEIGHT
    assert data["params"][0]["values"] == log_ladder(gs.TV_WEIGHT, FINE_MANTISSAS)
    assert len(data["figure"]["frames"]) == len(data["params"][0]["values"])
    assert weight(default) == gs.TV_WEIGHT.default


def test_exactly_one_control_for_the_weight(default: AppTest) -> None:
    assert WEIGHT_KEY not in {s.key for s in default.slider} | {s.key for s in default.select_slider}


def test_shown_tv_numbers_match_numpy(default: AppTest) -> None:
    """Default image (noise 0.15, seed 0), λ = 0.2, 30 steps of x ← x − [(x − y) + λ∇TV(x)]/(1 + 16λ)."""
    clean = clean_image()
    noisy = clean + 0.15 * np.random.default_rng(0).standard_normal(clean.shape)
    x = noisy.copy()
    for _ in range(30):
        x = x - ((x - noisy) + 0.2 * numpy_tv_grad(x)) / (1 + 16 * 0.2)
    assert metric(default, "TV(clean)") == f"{numpy_tv(clean):.4f}"
    assert metric(default, "TV(noisy y)") == f"{numpy_tv(noisy):.4f}"
    assert metric(default, "TV(x), λ = 0.2") == f"{numpy_tv(x):.4f}"
    assert metric(default, "PSNR of y") == f"{10 * np.log10(1 / ((noisy - clean) ** 2).mean()):.2f} dB"
    assert metric(default, "PSNR of x") == f"{10 * np.log10(1 / ((x - clean) ** 2).mean()):.2f} dB"


def test_generator_chart_shows_the_saturating_loss_and_its_vanishing_region(default: AppTest) -> None:
    fig = figures(default)[GENERATOR]
    a = gs.logit_grid(gs.LOGIT_RANGE.default)
    saturating = next(t for t in fig["data"] if t.get("name") == "saturating log(1 − D)")
    np.testing.assert_allclose(saturating["y"], -np.logaddexp(0, a), rtol=1e-6, atol=1e-7)
    shade = next(t for t in fig["data"] if t.get("fill") == "toself")
    xs = [v for v in shade["x"] if v is not None]
    assert max(xs) == pytest.approx(np.log(0.05 / 0.95), abs=1e-3)


CONTROLS: dict[str, tuple[Callable[[AppTest], object], list[int]]] = {
    "axis": (lambda at: at.radio(key="generative_axis").set_value("probability"), [GENERATOR, REAL, FAKE]),
    "range": (lambda at: at.slider(key="generative_range").set_value(9.0), [GENERATOR, REAL, FAKE]),
    "generators": (
        lambda at: at.multiselect(key="generative_generators").set_value(["gan_generator_saturating"]),
        [GENERATOR],
    ),
    "vanish": (lambda at: at.select_slider(key="generative_vanish").set_value(0.2), [GENERATOR]),
    "discriminators": (
        lambda at: at.multiselect(key="generative_discriminators").set_value(["hinge_gan_discriminator"]),
        [REAL, FAKE],
    ),
    "noise": (lambda at: at.slider(key="generative_noise").set_value(0.3), [TV]),
    "seed": (lambda at: at.slider(key="generative_seed").set_value(7), [TV]),
    "weight": (lambda at: commit(at, 2.0), [TV]),
    "steps": (lambda at: at.slider(key="generative_steps").set_value(5), [TV]),
}


@pytest.mark.parametrize("control", list(CONTROLS))
def test_each_control_changes_the_chart_it_drives(default: AppTest, control: str) -> None:
    move, driven = CONTROLS[control]
    at = app_test("generative")
    at.run()
    move(at)
    at.run()
    assert exceptions(at) == [] and errors(at) == []
    before, after = figures(default), figures(at)
    for i in range(4):
        assert same_data(before[i], after[i]) is (i not in driven), f"{control} and chart {i}"


def test_a_committed_weight_reaches_the_numbers() -> None:
    at = app_test("generative")
    at.run()
    commit(at, 2.0)
    at.run()
    assert exceptions(at) == [] and errors(at) == []
    study = gs.tv_study(0.15, 0, 30, [2.0])
    assert metric(at, "TV(x), λ = 2") == f"{study.tv_denoised[0]:.4f}"
    assert metric(at, "PSNR of x, λ = 2") == f"{study.psnr_denoised[0]:.2f} dB"
    assert at.query_params[WEIGHT_KEY] == "2"


def test_link_restores_state() -> None:
    at = app_test("generative")
    at.query_params.update({"generative_weight": "1", "generative_axis": "probability", "generative_steps": "12"})
    at.run()
    assert exceptions(at) == [] and warnings(at) == []
    assert any(m.label == "TV(x), λ = 1" for m in at.metric) and weight(at) == 1.0
    assert at.radio(key="generative_axis").value == "probability"
    assert at.slider(key="generative_steps").value == 12


@pytest.mark.parametrize(
    ("key", "value", "fallback"),
    [("generative_steps", "many", 30), ("generative_noise", "7", 0.5), ("generative_axis", "sideways", "logit"),
     (WEIGHT_KEY, "abc", 0.2), (WEIGHT_KEY, "99", 10.0), (WEIGHT_KEY, "-1", 0.01)],
)
def test_bad_link_values_warn_and_fall_back(key: str, value: str, fallback: object) -> None:
    at = app_test("generative")
    at.query_params[key] = value
    at.run()
    assert exceptions(at) == []
    assert any(key in w for w in warnings(at))
    if key == WEIGHT_KEY:
        assert weight(at) == fallback and any(m.label == f"TV(x), λ = {fallback:g}" for m in at.metric)
    else:
        widget = at.radio(key=key) if key.endswith("axis") else at.slider(key=key)
        assert widget.value == fallback
    assert len(figures(at)) == 4


def test_empty_selections_show_a_hint_not_an_error() -> None:
    at = app_test("generative")
    at.run()
    at.multiselect(key="generative_generators").set_value([])
    at.multiselect(key="generative_discriminators").set_value([])
    at.run()
    assert exceptions(at) == [] and errors(at) == []
    assert len(figures(at)) == 1  # the TV chart stays
    assert sum("Pick at least one" in i.value for i in at.info) == 2


# --- in the browser ---------------------------------------------------------------------------------


@pytest.mark.browser
def test_in_the_browser_the_weight_moves_while_dragged_and_commits_on_release() -> None:
    from helpers import browser_errors, chromium_page, drag_live, drawn_frame, sent_frames, streamlit_server
    from playwright.sync_api import expect

    weights = log_ladder(gs.TV_WEIGHT, FINE_MANTISSAS)
    with streamlit_server() as base, chromium_page(base, "generative", 3) as tab:
        sent = sent_frames(tab)
        tab.reload()  # the listener sees this connection's every message
        slider = tab.get_by_role("slider", name=WEIGHT, exact=True)
        expect(slider).to_have_attribute("aria-valuetext", f"{gs.TV_WEIGHT.default:g}", timeout=120_000)
        assert drawn_frame(tab, WEIGHT) == weights.index(gs.TV_WEIGHT.default)
        assert browser_errors(tab) == []
        assert slider.count() == 1
        assert tab.locator('[data-testid="stSlider"]').filter(has_text="TV weight").count() == 0
        slider.scroll_into_view_if_needed()
        before = len(sent)
        drawn = drag_live(tab, WEIGHT, [0.3, 0.5, 0.7])
        assert len(set(drawn)) == len(drawn)  # a new frame (denoised image) at each step
        assert len(sent) == before  # nothing reached the server while dragging
        text = slider.get_attribute("aria-valuetext")
        assert float(text) == pytest.approx(weights[drawn[-1]])
        tab.mouse.up()
        tab.wait_for_function(f"() => location.search.includes('{WEIGHT_KEY}={text}')", timeout=60_000)
        tab.get_by_text(f"TV(x), λ = {weights[drawn[-1]]:g}").wait_for(timeout=60_000)  # the metrics follow
        tab.reload()
        expect(slider).to_have_attribute("aria-valuetext", text, timeout=120_000)
        assert drawn_frame(tab, WEIGHT) == drawn[-1]
        slider.focus()
        slider.press("ArrowRight")
        tab.wait_for_function(f"() => location.search.includes('{WEIGHT_KEY}={weights[drawn[-1] + 1]:g}')",
                              timeout=60_000)
        assert drawn_frame(tab, WEIGHT) == drawn[-1] + 1
        assert browser_errors(tab) == []


@pytest.mark.browser
def test_on_a_phone_the_tv_panels_stack_and_the_colour_bar_follows_its_image() -> None:
    """Below 600 px the TV figure's six panels go under each other and the gradient's colour bar (a trace's
    paper coordinates, restyled) moves beside its image; both come back when the window is wide again."""
    from helpers import browser_errors, chromium_page, streamlit_server

    from lossviz.figures.generative import GRADIENT_PANEL

    root = "document.querySelector('.lossviz-live')"
    bar = f"() => {root}.querySelector('.js-plotly-plot')._fullData[{GRADIENT_PANEL}].colorbar.y"
    image_row = f"() => {root}.querySelector('.js-plotly-plot')._fullLayout.yaxis3.domain"
    with streamlit_server() as base, chromium_page(base, "generative", charts=4) as tab:
        wide_bar, wide_row = tab.evaluate(bar), tab.evaluate(image_row)
        tab.set_viewport_size({"width": 390, "height": 844})
        tab.wait_for_function(f"() => {root}.dataset.layout === 'narrow'", timeout=20_000)
        low, high = tab.evaluate(image_row)
        assert (low, high) != tuple(wide_row) and tab.evaluate(bar) == pytest.approx((low + high) / 2, abs=1e-6)
        assert not browser_errors(tab)
        tab.set_viewport_size({"width": 1400, "height": 1000})
        tab.wait_for_function(f"() => {root}.dataset.layout === 'wide'", timeout=20_000)
        assert tab.evaluate(bar) == pytest.approx(wide_bar) and tab.evaluate(image_row) == wide_row
