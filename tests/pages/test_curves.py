"""The Curves page in AppTest: renders, every control drives the chart, links restore state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import app_test, errors, exceptions, figure_sizes, figures, same_data, warnings

import lossviz
from lossviz.domains import REAL
from lossviz.figures.curves import TRACES_PER_CURVE
from lossviz.spec import LossSpec
from tests.figure_helpers import frames_of


@pytest.fixture
def page():
    at = app_test("curves")
    at.run()
    assert not exceptions(at)
    return at


def _values(fig: dict, curve: int = 0, panel: int = 0) -> np.ndarray:
    return fig["data"][TRACES_PER_CURVE * curve + panel]["y"]


def _rerun(at, before: dict) -> dict:
    at.run()
    assert not exceptions(at), exceptions(at)
    (after,) = figures(at)
    assert not same_data(before, after)
    return after


def test_default_page_shows_mse_mae_huber_with_a_live_delta(page) -> None:
    (fig,) = figures(page)
    names = [t["name"] for t in fig["data"][::TRACES_PER_CURVE]]
    assert names == ["mse", "mae", "huber"]
    x = fig["data"][0]["x"]
    np.testing.assert_allclose(_values(fig, 0), (x.astype(np.float64)) ** 2, rtol=1e-6)
    assert len(frames_of(fig)) > 0 and fig["layout"]["sliders"][0]["currentvalue"]["prefix"].startswith("δ")
    assert [t.value.strip("$\n") for t in page.latex][:3] == [lossviz.spec(n).latex for n in names]
    assert not errors(page) and not warnings(page)
    assert max(figure_sizes(page)) < 1_000_000


def test_each_control_changes_the_chart(page) -> None:
    (fig,) = figures(page)
    page.slider(key="curves_huber_delta").set_value(2.0)
    fig2 = _rerun(page, fig)
    huber = _values(fig2, 2)
    x = fig2["data"][0]["x"].astype(np.float64)
    expected = np.where(np.abs(x) <= 2.0, 0.5 * x**2, 2.0 * (np.abs(x) - 1.0))
    np.testing.assert_allclose(huber, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(_values(fig2, 0), _values(fig, 0))  # MSE did not move

    page.select_slider(key="curves_range").set_value(2.0)
    fig3 = _rerun(page, fig2)
    assert fig3["data"][0]["x"][-1] == pytest.approx(6.0)

    page.toggle(key="curves_absgrad").set_value(True)
    fig4 = _rerun(page, fig3)
    assert (_values(fig4, 0, 1) >= 0).all() and (_values(fig3, 0, 1) < 0).any()

    page.toggle(key="curves_logy").set_value(True)
    page.run()
    (fig5,) = figures(page)
    assert fig5["layout"]["yaxis"]["type"] == "log" and fig4["layout"]["yaxis"]["type"] == "linear"

    page.multiselect(key="curves_losses").set_value(["mse", "quantile"])
    fig6 = _rerun(page, fig5)
    assert [t["name"] for t in fig6["data"][::TRACES_PER_CURVE]] == ["mse", "quantile"]
    page.slider(key="curves_quantile_tau").set_value(0.9)
    _rerun(page, fig6)


def test_family_switch_and_target_controls(page) -> None:
    page.selectbox(key="curves_family").set_value("Classification")
    page.run()
    assert not exceptions(page)
    assert page.multiselect(key="curves_losses").value == ["bce_logits", "focal"]
    (fig,) = figures(page)
    page.radio(key="curves_target_focal").set_value("0")
    fig2 = _rerun(page, fig)
    focal = _values(fig2, 1)
    bce_logits = _values(fig2, 0)
    np.testing.assert_array_equal(bce_logits, _values(fig, 0))
    assert focal[0] < focal[-1]  # target 0: large logits cost most
    page.slider(key="curves_target_bce_logits").set_value(0.0)
    _rerun(page, fig2)
    page.slider(key="curves_focal_gamma").set_value(0.5)
    _rerun(page, figures(page)[0])


def test_margin_and_prediction_axes_get_separate_charts(page) -> None:
    page.selectbox(key="curves_family").set_value("Classification")
    page.run()
    page.multiselect(key="curves_losses").set_value(["logistic", "bce", "focal"])
    page.run()
    assert not exceptions(page)
    figs = figures(page)
    assert len(figs) == 3
    titles = [f["layout"]["xaxis3"]["title"]["text"] for f in figs]
    assert titles[0] == "margin m = y·p" and titles[1].startswith("prediction p (probability")
    assert titles[2].startswith("prediction p (logit")


def test_query_string_restores_state() -> None:
    at = app_test("curves")
    at.query_params["curves_huber_delta"] = "2.5"
    at.query_params["curves_range"] = "2"
    at.query_params["curves_losses"] = ["huber", "mae"]
    at.run()
    assert not exceptions(at) and not warnings(at)
    assert at.slider(key="curves_huber_delta").value == 2.5
    assert at.select_slider(key="curves_range").value == 2.0
    (fig,) = figures(at)
    x = fig["data"][0]["x"].astype(np.float64)
    assert x[-1] == pytest.approx(6.0)
    expected = lossviz.evaluate("huber", x, 0.0, delta=2.5).value
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
        ("curves_range", "-3"),
        ("curves_family", "Nonsense"),
        ("curves_losses", "not_a_loss"),
        ("curves_logy", "maybe"),
    ],
)
def test_bad_query_string_warns(key: str, value: str) -> None:
    at = app_test("curves")
    at.query_params[key] = value
    at.run()
    assert not exceptions(at)
    assert any(key in w for w in warnings(at)), warnings(at)
    assert figures(at)


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
    (fig,) = figures(at)
    values = _values(fig, 0)
    assert np.isnan(values).any() and np.isfinite(values).any()
    assert at.slider(key="curves_target_t_log").value == 0.0
    at.slider(key="curves_target_t_log").set_value(1.0)
    _rerun(at, fig)


def test_no_loss_selected_shows_a_hint(page) -> None:
    page.multiselect(key="curves_losses").set_value([])
    page.run()
    assert not exceptions(page) and not figures(page)
    assert any("at least one" in i.value for i in page.info)


def test_predictions_vs_targets_example_file_draws_its_charts():
    """The own-data section of the Curves page: one click on an example file gives the tail-share charts."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "pages" / "curves.py"), default_timeout=120)
    at.run()
    before = len(at.get("plotly_chart"))
    at.selectbox(key="curves_pairs_example").set_value("validation_predictions.csv").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == before + 2
    shares = at.dataframe[0].value["worst 1 % share of loss"]
    assert shares.iloc[0] > shares.iloc[1]  # MSE hands its worst 1 % of pairs more of the total than MAE
