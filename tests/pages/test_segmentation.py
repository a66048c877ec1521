"""The Segmentation page in AppTest: renders, every control drives the charts it should, links restore
state, and the loss values it shows agree with the formulas written here in NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import app_test, errors, exceptions, figure_sizes, figures, same_data, warnings

import lossviz
from lossviz.studies import segmentation as ss

CHARTS = ("masks", "sweep", "gradients", "smooth")
"""The page's charts, in page order."""
LABELS = ("Dice", "Jaccard (IoU)", "Tversky", "BCE (mean)", "pixel CE")


@pytest.fixture
def page():
    at = app_test("segmentation")
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


def _charts(at) -> dict[str, dict]:
    figs = figures(at)
    assert len(figs) == len(CHARTS)
    return dict(zip(CHARTS, figs, strict=True))


def _expected_numbers(shape: str, prediction: ss.Prediction, s: float, a: float, b: float) -> dict[str, str]:
    """The five losses of the page from the masks, with each formula written out in NumPy."""
    g = ss.true_mask(shape)
    p = ss.predicted_mask(shape, prediction)
    tp, fp, fn = (p * g).sum(), (p * (1 - g)).sum(), ((1 - p) * g).sum()
    bce = -(g * np.log(p) + (1 - g) * np.log(1 - p)).mean()
    logit = np.log(p / (1 - p))  # two-class logits (0, logit): −log softmax = logaddexp(0, ·) − chosen logit
    pixel_ce = np.where(g == 1, np.logaddexp(0, logit) - logit, np.logaddexp(0, logit)).mean()
    values = {
        "Dice": 1 - (2 * tp + s) / (p.sum() + g.sum() + s),
        "Jaccard (IoU)": 1 - (tp + s) / (p.sum() + g.sum() - tp + s),
        "Tversky": 1 - (tp + s) / (tp + a * fp + b * fn + s),
        "BCE (mean)": bce,
        "pixel CE": pixel_ce,
    }
    return {label: f"{v:.4f}" for label, v in values.items()}


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_page_renders_every_chart_formula_and_the_default_numbers(page) -> None:
    charts = _charts(page)
    assert not errors(page) and not warnings(page)
    assert max(figure_sizes(page)) < 1_000_000
    assert _metrics(page) == _expected_numbers("disc", ss.Prediction(), 1.0, 0.5, 0.5)
    g, p = ss.true_mask("disc"), ss.predicted_mask("disc", ss.Prediction())
    assert any(f"Σg = **{g.sum():.0f}**" in m.value and f"Σp = **{p.sum():.2f}**" in m.value for m in page.markdown)
    shown = {t.value.strip("$\n") for t in page.latex}
    for name in ss.LOSSES:
        assert lossviz.spec(name).latex in shown
    np.testing.assert_array_equal(charts["masks"]["data"][0]["z"], ss.true_mask("disc"))
    sweep = charts["sweep"]
    np.testing.assert_array_equal(sweep["data"][0]["x"], np.arange(-24.0, 25.0))


@pytest.mark.parametrize(
    ("key", "value", "changed"),
    [
        ("segmentation_shift", -6.0, CHARTS),
        ("segmentation_scale", 1.5, CHARTS),
        ("segmentation_softness", 3.0, CHARTS),
        ("segmentation_confidence", 0.5, CHARTS),
        ("segmentation_blob", 0.0, CHARTS),
        ("segmentation_smooth", 5.0, ("sweep", "gradients", "smooth")),
        ("segmentation_alpha", 0.9, ("sweep", "gradients")),
        ("segmentation_beta", 0.1, ("sweep", "gradients")),
    ],
)
def test_each_slider_changes_the_charts_it_drives(page, key: str, value: float, changed: tuple[str, ...]) -> None:
    before = _charts(page)
    page.slider(key=key).set_value(value)
    page.run()
    assert not exceptions(page), exceptions(page)
    after = _charts(page)
    for name in CHARTS:
        assert same_data(before[name], after[name]) == (name not in changed), name


def test_shape_and_sweep_choice_change_their_charts(page) -> None:
    before = _charts(page)
    page.radio(key="segmentation_shape").set_value("thin ring")
    page.run()
    after = _charts(page)
    assert not same_data(before["masks"], after["masks"]) and not same_data(before["gradients"], after["gradients"])
    assert not same_data(before["sweep"], after["sweep"])
    assert same_data(before["smooth"], after["smooth"])  # the smooth study shows every shape anyway
    page.selectbox(key="segmentation_sweep").set_value("confidence")
    page.run()
    swept = _charts(page)
    assert not same_data(after["sweep"], swept["sweep"]) and same_data(after["masks"], swept["masks"])
    np.testing.assert_allclose(swept["sweep"]["data"][0]["x"], ss.sweep_values("confidence"), rtol=1e-6)


def test_numbers_follow_every_control(page) -> None:
    page.radio(key="segmentation_shape").set_value("tiny object")
    page.slider(key="segmentation_shift").set_value(-2.0)
    page.slider(key="segmentation_softness").set_value(0.0)
    page.slider(key="segmentation_smooth").set_value(0.3)
    page.slider(key="segmentation_alpha").set_value(0.2)
    page.slider(key="segmentation_beta").set_value(0.8)
    page.run()
    prediction = ss.Prediction(shift=-2.0, softness=0.0)
    assert _metrics(page) == _expected_numbers("tiny object", prediction, 0.3, 0.2, 0.8)


def test_gradient_maps_show_the_gradients_of_the_page_losses(page) -> None:
    maps = [t for t in _charts(page)["gradients"]["data"] if t["type"] == "heatmap"]
    g = ss.true_mask("disc")
    p = ss.predicted_mask("disc", ss.Prediction())
    n, d = 2 * (p * g).sum() + 1.0, p.sum() + g.sum() + 1.0
    np.testing.assert_allclose(maps[0]["z"], (n - 2 * g * d) / d**2, rtol=1e-6)  # Dice, from its formula
    np.testing.assert_allclose(maps[4]["z"], (p - g) / g.size, rtol=1e-6, atol=1e-12)  # pixel CE w.r.t. the logit


def test_query_string_restores_the_state() -> None:
    at = app_test("segmentation")
    at.query_params["segmentation_shape"] = "square"
    at.query_params["segmentation_shift"] = "-4"
    at.query_params["segmentation_blob"] = "0"
    at.query_params["segmentation_beta"] = "0.9"
    at.query_params["segmentation_sweep"] = "scale"
    at.run()
    assert not exceptions(at) and not warnings(at)
    assert at.radio(key="segmentation_shape").value == "square"
    assert at.selectbox(key="segmentation_sweep").value == "scale"
    prediction = ss.Prediction(shift=-4.0, blob=0.0)
    assert _metrics(at) == _expected_numbers("square", prediction, 1.0, 0.5, 0.9)


def test_bad_query_string_warns_and_falls_back() -> None:
    at = app_test("segmentation")
    at.query_params["segmentation_shape"] = "star"
    at.query_params["segmentation_scale"] = "huge"
    at.query_params["segmentation_shift"] = "1000"
    at.run()
    assert not exceptions(at)
    assert len(warnings(at)) == 3
    assert at.radio(key="segmentation_shape").value == "disc"
    assert at.slider(key="segmentation_scale").value == 1.0
    assert at.slider(key="segmentation_shift").value == 24.0


def test_undefined_tversky_is_an_error_box_and_the_rest_still_works() -> None:
    at = app_test("segmentation")
    for key, value in (("shape", "empty"), ("smooth", "0"), ("alpha", "0"), ("beta", "0")):
        at.query_params[f"segmentation_{key}"] = value
    at.run()
    assert not exceptions(at)
    assert len(errors(at)) == 1 and "0/0" in errors(at)[0]
    shown = _metrics(at)
    assert shown["Tversky"] == "undefined"
    assert shown["Dice"] == "1.0000"  # 1 − 0/Σp: an empty mask with smooth = 0
    assert len(figures(at)) == len(CHARTS)


# --- in the browser ---------------------------------------------------------------------------------


@pytest.mark.browser
def test_in_the_browser_no_error_box_and_a_slider_redraws_the_charts() -> None:
    from helpers import IDLE_JS, browser_errors, chromium_page, streamlit_server

    dice_map = """() => {
        const plot = document.querySelectorAll('.js-plotly-plot')[2];  // redrawn during a rerun: may be missing
        const trace = plot && plot._fullData && plot._fullData[0];
        return trace && trace.z ? Array.from(trace.z.flat()).join() : '';
    }"""
    with streamlit_server() as base:
        with chromium_page(base, "segmentation", len(CHARTS)) as tab:
            assert browser_errors(tab) == []
            before = tab.evaluate(dice_map)
            slider = tab.locator('[data-testid="stSlider"] input[type="range"]').first  # the shift
            slider.focus()
            slider.press("ArrowRight")
            assert before
            tab.wait_for_function(f"() => !['', {before!r}].includes(({dice_map})())", timeout=60_000)
            tab.wait_for_function(IDLE_JS, timeout=60_000)
            assert browser_errors(tab) == []
        query = "segmentation?segmentation_shape=empty&segmentation_smooth=0&segmentation_alpha=0&segmentation_beta=0"
        with chromium_page(base, query, len(CHARTS)) as tab:
            errors = browser_errors(tab)
            assert len(errors) == 1 and "0/0" in errors[0]  # the selector does find error boxes
