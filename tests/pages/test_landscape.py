"""The Landscape page in AppTest: renders, every control drives its chart, links restore state."""

from __future__ import annotations

import numpy as np
import pytest
import torch
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
from lossviz.domains import REAL
from lossviz.spec import LossSpec
from lossviz.studies import landscape as ll
from lossviz.toolkit.data import line_with_outliers

MAP, DESCENT = range(2)
"""The input map (a Plotly chart; the 3D surface is drawn only in its own tab), then the descents played (a live chart: the landscapes, the data with
the lines, the distance to the minimum, all under one time control)."""
LANDSCAPES = FITS = CONVERGENCE = DESCENT


def views(at) -> list[dict]:
    return figures(at) + live_figures(at)


@pytest.fixture(scope="module")
def page():
    at = app_test("landscape")
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


def _changed(at, chart: int) -> None:
    before = views(at)
    at.run()
    assert not exceptions(at), exceptions(at)
    after = views(at)
    assert not same_data(before[chart], after[chart]), f"chart {chart} did not change"


def test_default_page(page) -> None:
    figs = views(page)
    assert len(figs) == 2
    contour = figs[MAP]["data"][0]
    x, y = contour["x"], contour["y"]
    r = x[None, :] - y[:, None]
    np.testing.assert_allclose(contour["z"], np.where(np.abs(r) <= 1, 0.5 * r**2, np.abs(r) - 0.5), rtol=1e-6,
                               atol=1e-6)
    landscape_names = [a["text"] for a in figs[LANDSCAPES]["layout"]["annotations"]][:3]
    assert [t.removeprefix("<b>").split("</b>")[0].split(" ")[0] for t in landscape_names] == ["mse", "mae", "huber"]
    data = line_with_outliers()
    minimum = ll.fit_minimum("mse", data.x, data.y, {})
    mse_min = next(t for t in figs[LANDSCAPES]["data"] if t.get("name") == "minimum")
    assert mse_min["x"][0] == pytest.approx(minimum.w) and mse_min["y"][0] == pytest.approx(minimum.b)
    assert not errors(page) and not warnings(page)
    assert max(figure_sizes(page)) < 1_000_000 and max(live_sizes(page)) < 2_000_000
    (player,) = live_data(page)  # one time control, named "step", from the last of the 100 steps
    assert player["player"] is not None and player["params"][0]["label"] == "step"
    assert player["params"][0]["index"] == 100 and len(figs[DESCENT]["frames"]) == 101


@pytest.mark.parametrize(
    ("kind", "key", "value", "charts"),
    [
        ("slider", "landscape_huber_delta", 2.0, (MAP,)),
        ("slider", "landscape_fit_w0", 1.0, (LANDSCAPES, CONVERGENCE)),
        ("slider", "landscape_fit_b0", -1.0, (LANDSCAPES, CONVERGENCE)),
        ("select_slider", "landscape_fit_lr", 0.5, (LANDSCAPES, CONVERGENCE)),
        ("slider", "landscape_fit_steps", 20, (LANDSCAPES, CONVERGENCE)),
        ("slider", "landscape_fit_n", 60, (LANDSCAPES, FITS)),
        ("slider", "landscape_fit_noise", 1.0, (LANDSCAPES, FITS)),
        ("slider", "landscape_fit_n_outliers", 0, (LANDSCAPES, FITS)),
        ("slider", "landscape_fit_outlier_size", -10.0, (LANDSCAPES, FITS)),
        ("slider", "landscape_fit_seed", 5, (LANDSCAPES, FITS)),
        ("slider", "landscape_fit_huber_delta", 0.3, (LANDSCAPES, FITS)),
    ],
)
def test_each_control_changes_its_charts(kind: str, key: str, value: float, charts: tuple[int, ...]) -> None:
    at = app_test("landscape")
    at.run()
    before = views(at)
    getattr(at, kind)(key=key).set_value(value)
    at.run()
    assert not exceptions(at), exceptions(at)
    after = views(at)
    for chart in charts:
        assert not same_data(before[chart], after[chart]), f"{key} did not change chart {chart}"


def test_the_3d_surface_is_drawn_only_when_its_tab_is_open() -> None:
    """The WebGL surface costs the browser as much as the rest of the page: a link (or a click) opens its tab,
    which then replaces the map, and follows the loss's parameters like the map does."""
    at = app_test("landscape")
    at.query_params["landscape_view"] = "3D surface"
    at.run()
    assert not exceptions(at), exceptions(at)
    surface, descent = views(at)
    assert surface["data"][0]["type"] == "surface" and descent["frames"]
    at.slider(key="landscape_huber_delta").set_value(2.0)
    at.run()
    assert not same_data(surface, views(at)[0])
    at = app_test("landscape")
    at.query_params["landscape_view"] = "no such view"
    at.run()
    assert not exceptions(at) and views(at)[MAP]["data"][0]["type"] == "contour"  # a bad link opens the map
    assert any("landscape_view" in w for w in warnings(at)), warnings(at)


def test_multiclass_controls(page) -> None:
    page.selectbox(key="landscape_loss").set_value("cross_entropy")
    _changed(page, MAP)
    assert views(page)[MAP]["layout"]["xaxis"]["title"]["text"] == "logit z₀ (class 0)"
    page.radio(key="landscape_target_class").set_value("1")
    _changed(page, MAP)
    page.slider(key="landscape_other_logit").set_value(3.0)
    _changed(page, MAP)
    page.slider(key="landscape_cross_entropy_label_smoothing").set_value(0.2)
    _changed(page, MAP)
    page.selectbox(key="landscape_loss").set_value("kl_div")
    _changed(page, MAP)
    page.slider(key="landscape_target_probability").set_value(0.3)
    _changed(page, MAP)
    z = views(page)[MAP]["data"][0]["z"]
    assert np.nanmin(z) >= -1e-6  # a KL divergence is never negative


def test_fit_loss_selection(page) -> None:
    page.multiselect(key="landscape_fit_losses").set_value(["cauchy", "mse"])
    _changed(page, LANDSCAPES)
    assert page.slider(key="landscape_fit_cauchy_scale").value == lossviz.spec("cauchy").param("scale").default
    page.slider(key="landscape_fit_cauchy_scale").set_value(2.0)
    _changed(page, LANDSCAPES)
    page.multiselect(key="landscape_fit_losses").set_value([])
    page.run()
    assert not exceptions(page) and any("at least one" in i.value for i in page.info)


def test_divergence_is_reported() -> None:
    at = app_test("landscape")
    at.query_params["landscape_fit_lr"] = "2"
    at.run()
    assert not exceptions(at)
    assert any("Diverged" in w and "mse" in w for w in warnings(at))


def test_query_string_restores_state() -> None:
    at = app_test("landscape")
    at.query_params["landscape_loss"] = "mse"
    at.query_params["landscape_fit_losses"] = ["mae", "huber"]
    at.query_params["landscape_fit_w0"] = "1.5"
    at.query_params["landscape_fit_n_outliers"] = "0"
    at.run()
    assert not exceptions(at) and not warnings(at)
    assert at.selectbox(key="landscape_loss").value == "mse"
    assert at.slider(key="landscape_fit_w0").value == 1.5
    figs = views(at)
    contour = figs[MAP]["data"][0]
    r = contour["x"][None, :] - contour["y"][:, None]
    np.testing.assert_allclose(contour["z"], r**2, rtol=1e-6, atol=1e-5)
    starts = [t for t in figs[LANDSCAPES]["data"] if t.get("name") == "start"]
    assert len(starts) == 2 and starts[0]["x"][0] == 1.5
    outliers = next(t for t in figs[FITS]["data"] if t.get("name") == "outliers")
    assert len(outliers["x"]) == 0  # no outliers drawn


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("landscape_loss", "nope"),
        ("landscape_huber_delta", "x"),
        ("landscape_fit_lr", "-1"),
        ("landscape_fit_steps", "1e9"),
        ("landscape_fit_losses", "focal"),
        ("landscape_target_class", "7"),
    ],
)
def test_bad_query_string_warns(key: str, value: str) -> None:
    at = app_test("landscape")
    at.query_params[key] = value
    if key == "landscape_target_class":
        at.query_params["landscape_loss"] = "cross_entropy"
    at.run()
    assert not exceptions(at)
    assert any(key in w for w in warnings(at)), warnings(at)
    assert len(views(at)) == 2


def test_too_many_outliers_is_an_error_not_an_exception() -> None:
    at = app_test("landscape")
    at.query_params["landscape_fit_n"] = "5"
    at.query_params["landscape_fit_n_outliers"] = "10"
    at.run()
    assert not exceptions(at)
    assert any("n_outliers" in e for e in errors(at))
    assert len(figures(at)) == 1  # the input section still works (its map)


@pytest.fixture
def custom_loss():
    store = lossviz.user_losses()
    store["t_sqrt"] = LossSpec(
        name="t_sqrt", title="t_sqrt", family="custom", latex=r"\sqrt{p - y}", use_when="A test formula.",
        fn=lambda p, y: torch.sqrt(p - y), pred_domain=REAL, target_domain=REAL, builtin=False,
    )
    yield "t_sqrt"
    store.pop("t_sqrt", None)


def test_custom_loss_with_undefined_region(custom_loss) -> None:
    at = app_test("landscape")
    at.query_params["landscape_loss"] = custom_loss
    at.run()
    assert not exceptions(at)
    assert any(custom_loss in w and "no finite value" in w for w in warnings(at))
    z = views(at)[MAP]["data"][0]["z"]
    assert np.isnan(z).any() and np.isfinite(z).any()


@pytest.mark.browser
def test_opening_the_3d_tab_draws_the_surface_and_keeps_it_in_the_link() -> None:
    from helpers import IDLE_JS, browser_errors, chromium_page, streamlit_server

    types = "() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => (p._fullData || [{}])[0].type)"
    with streamlit_server() as base, chromium_page(base, "landscape", charts=2) as tab:
        assert "surface" not in tab.evaluate(types)  # nothing drawn for a tab nobody opened
        tab.get_by_role("tab", name="3D surface").click()
        tab.wait_for_function(f"() => ({IDLE_JS})() && ({types})().includes('surface')", timeout=60_000, polling=100)
        assert "landscape_view=3D" in tab.url.replace("+", " ").replace("%20", " ")
        assert not browser_errors(tab)
        tab.reload()
        tab.wait_for_function(f"() => ({IDLE_JS})() && ({types})().includes('surface')", timeout=60_000, polling=100)
