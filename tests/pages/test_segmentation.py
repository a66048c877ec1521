"""The Segmentation page in AppTest: renders, every control drives the charts it should, links restore
state, and the loss values it shows agree with the formulas written here in NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import app_test, errors, exceptions, figure_sizes, figures, live_data, live_sizes, same_data, warnings

import lossviz
from lossviz.studies import segmentation as ss

CHARTS = ("masks", "sweep", "gradients", "smooth")
"""The page's Plotly charts, in page order (the Tversky pad, a live chart, sits between masks and sweep)."""
PAD = "segmentation"
"""The key of the (α, β) pad; its URL keys are segmentation_alpha and segmentation_beta."""
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


def _commit(at, alpha: float, beta: float) -> None:
    """What the browser sends when the pad is released at (α, β)."""
    at.session_state[PAD] = {"committed": {"values": [alpha, beta], "seq": 1}}


def _pad(at) -> dict:
    (pad,) = live_data(at)
    return pad


def test_page_renders_every_chart_formula_and_the_default_numbers(page) -> None:
    charts = _charts(page)
    assert not errors(page) and not warnings(page)
    assert max(figure_sizes(page)) < 1_000_000 and max(live_sizes(page)) < 1_500_000
    assert _metrics(page) == _expected_numbers("disc", ss.Prediction(), 1.0, 0.5, 0.5)
    g, p = ss.true_mask("disc"), ss.predicted_mask("disc", ss.Prediction())
    assert any(f"Σg = **{g.sum():.0f}**" in m.value and f"Σp = **{p.sum():.2f}**" in m.value for m in page.markdown)
    assert not page.latex  # the formulas' expander is closed: its cards are not sent
    opened = app_test("segmentation")
    opened.query_params["segmentation_formulas"] = "true"  # a link opens it
    opened.run()
    shown = {t.value.strip("$\n") for t in opened.latex}
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
    ],
)
def test_each_slider_changes_the_charts_it_drives(page, key: str, value: float, changed: tuple[str, ...]) -> None:
    before, pad = _charts(page), _pad(page)["figure_id"]
    page.slider(key=key).set_value(value)
    page.run()
    assert not exceptions(page), exceptions(page)
    after = _charts(page)
    for name in CHARTS:
        assert same_data(before[name], after[name]) == (name not in changed), name
    assert _pad(page)["figure_id"] != pad  # the pad shows the prediction and smooth of the page


@pytest.mark.parametrize(("alpha", "beta"), [(0.9, 0.5), (0.5, 0.1), (0.2, 0.85)])
def test_the_committed_alpha_and_beta_reach_every_chart_and_number(page, alpha: float, beta: float) -> None:
    """α and β have one control, the pad: no st.slider of their own; its commit drives the metrics, the sweep and
    the gradient maps, and the link."""
    assert not [s for s in page.slider if s.key in ("segmentation_alpha", "segmentation_beta")]
    assert [p["label"] for p in _pad(page)["params"]] == ["α (alpha)", "β (beta)"]
    before, pad = _charts(page), _pad(page)["figure_id"]
    _commit(page, alpha, beta)
    page.run()
    assert not exceptions(page) and not errors(page)
    after = _charts(page)
    for name in CHARTS:
        assert same_data(before[name], after[name]) == (name not in ("sweep", "gradients")), name
    assert _pad(page)["figure_id"] == pad  # every (α, β) is a frame of the pad already: the browser keeps it
    assert _metrics(page) == _expected_numbers("disc", ss.Prediction(), 1.0, alpha, beta)
    for name, value in (("alpha", alpha), ("beta", beta)):  # the link omits a default, as a bound widget does
        assert page.query_params.get(f"segmentation_{name}") == (None if value == 0.5 else f"{value:g}")
    grid = ss.tversky_grid("disc", ss.Prediction(), 1.0)
    tp, fp_term, fn_term = grid.terms(alpha, beta)
    assert any(f"TP = {tp:.1f}, α·FP = {fp_term:.1f} and β·FN = {fn_term:.1f}" in c.value for c in page.caption)
    indices = [p["index"] for p in _pad(page)["params"]]
    assert indices == [grid.alphas.tolist().index(alpha), grid.betas.tolist().index(beta)]


def test_the_pad_figure_is_the_tversky_grid_of_the_page(page) -> None:
    figure = _pad(page)["figure"]
    grid = ss.tversky_grid("disc", ss.Prediction(), 1.0)
    assert len(figure["frames"]) == 21 * 21
    i, j = 14, 3  # (α, β) = (0.7, 0.15)
    curve, marker, bars = figure["frames"][i * 21 + j]["data"]
    np.testing.assert_allclose(curve["y"], grid.loss[i, j, grid.sweep], rtol=1e-6)
    np.testing.assert_allclose(marker["y"], grid.loss[i, j, -1:], rtol=1e-6)
    np.testing.assert_allclose(bars["y"], grid.terms(0.7, 0.15), rtol=1e-6)
    assert float(_metrics(page)["Tversky"]) == pytest.approx(grid.loss[10, 10, -1], abs=5e-5)  # (½, ½): the metric


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
    _commit(page, 0.2, 0.8)
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
    at.query_params["segmentation_beta"] = "0.9"  # a link of the old β slider: the pad's URL key is the same
    at.query_params["segmentation_sweep"] = "scale"
    at.run()
    assert not exceptions(at) and not warnings(at)
    assert [p["texts"][p["index"]] for p in _pad(at)["params"]] == ["0.5", "0.9"]
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


@pytest.mark.parametrize(
    ("key", "raw", "shown", "warning"),
    [
        ("segmentation_alpha", "abc", (0.5, 0.5), "not a number"),
        ("segmentation_beta", "7", (0.5, 1.0), "outside"),  # beyond the control: its end
        ("segmentation_alpha", "-1", (0.0, 0.5), "outside"),
    ],
)
def test_a_malformed_alpha_or_beta_link_warns_and_falls_back(key: str, raw: str, shown, warning: str) -> None:
    at = app_test("segmentation")
    at.query_params[key] = raw
    at.run()
    assert not exceptions(at)
    (text,) = warnings(at)
    assert key in text and warning in text
    assert _metrics(at) == _expected_numbers("disc", ss.Prediction(), 1.0, *shown)


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
        const plots = Array.from(document.querySelectorAll('.js-plotly-plot')).filter(p => !p.closest('.lossviz-live'));
        const plot = plots[2];  // redrawn during a rerun: may be missing
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


@pytest.mark.browser
def test_the_alpha_beta_pad_drags_in_the_browser_and_commits_on_release() -> None:
    import urllib.parse

    from helpers import IDLE_JS, LIVE, browser_errors, chromium_page, drawn_frame, sent_frames, streamlit_server

    def link(tab) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(tab.url).query))

    def curve(tab) -> str:
        return tab.locator(LIVE).locator(".scatterlayer .trace .js-line").first.get_attribute("d")

    alpha_name, beta_name = "α (alpha)", "β (beta)"
    with streamlit_server() as base, chromium_page(base, "segmentation", len(CHARTS) + 1) as tab:
        sent = sent_frames(tab)
        tab.reload()  # the listener sees the WebSocket of the reloaded page
        tab.wait_for_function(IDLE_JS, timeout=120_000, polling=250)
        alpha, beta = (tab.get_by_role("slider", name=n, exact=True) for n in (alpha_name, beta_name))
        alpha.wait_for(timeout=60_000)
        assert alpha.count() == 1 and beta.count() == 1  # one control per parameter
        assert tab.locator('[data-testid="stSlider"]').filter(has_text="α").count() == 0
        pad = tab.locator(".lossviz-live__pad")
        pad.scroll_into_view_if_needed()
        tab.wait_for_function(f"() => document.querySelector('{LIVE}').dataset.frame === '{10 * 21 + 10}'",
                              timeout=60_000)
        box = pad.bounding_box()
        before, frames, paths = len(sent), [drawn_frame(tab, alpha_name)], [curve(tab)]
        assert before > 0
        tab.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        tab.mouse.down()
        for fx, fy in [(0.8, 0.2), (0.2, 0.3), (0.9, 0.85), (0.35, 0.6)]:
            tab.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy, steps=3)
            tab.wait_for_function(f"() => document.querySelector('{LIVE}').dataset.frame !== '{frames[-1]}'",
                                  timeout=10_000, polling=10)
            frames.append(drawn_frame(tab, alpha_name))
            paths.append(curve(tab))
        assert len(set(frames)) == len(frames) and len(set(paths)) == len(paths)  # a new curve at each step
        assert len(sent) == before, "the drag sent WebSocket messages"
        tab.mouse.up()
        texts = alpha.get_attribute("aria-valuetext"), beta.get_attribute("aria-valuetext")
        tab.wait_for_function(
            "([a, b]) => { const q = new URLSearchParams(location.search);"
            " return q.get('segmentation_alpha') === a && q.get('segmentation_beta') === b; }",
            arg=list(texts), timeout=30_000,
        )
        tab.wait_for_function(IDLE_JS, timeout=60_000)
        i, j = divmod(frames[-1], 21)
        assert texts == (f"{ss.TVERSKY_ALPHAS[i]:g}", f"{ss.TVERSKY_BETAS[j]:g}")
        metric = tab.locator('[data-testid="stMetric"]').filter(has_text="Tversky")
        expected = _expected_numbers("disc", ss.Prediction(), 1.0, ss.TVERSKY_ALPHAS[i], ss.TVERSKY_BETAS[j])
        tab.wait_for_function("([el, v]) => el.innerText.includes(v)", arg=[metric.element_handle(),
                              expected["Tversky"]], timeout=30_000)

        tab.reload()
        tab.wait_for_function(IDLE_JS, timeout=120_000, polling=250)
        tab.wait_for_function(f"() => document.querySelector('{LIVE}')?.dataset.frame === '{frames[-1]}'",
                              timeout=60_000)
        assert (alpha.get_attribute("aria-valuetext"), beta.get_attribute("aria-valuetext")) == texts

        alpha.focus()
        tab.keyboard.press("ArrowRight")
        tab.wait_for_function(f"() => document.querySelector('{LIVE}').dataset.frame === '{frames[-1] + 21}'",
                              timeout=10_000)
        tab.wait_for_function(
            f"() => new URLSearchParams(location.search).get('segmentation_alpha') === '{ss.TVERSKY_ALPHAS[i + 1]:g}'",
            timeout=30_000,
        )
        assert browser_errors(tab) == []
