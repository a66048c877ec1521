"""The Focal-γ page in AppTest: renders, every control drives its chart, links restore state."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import app_test, errors, exceptions, figure_sizes, figures, same_data, warnings

import lossviz
from lossviz.studies import focal as fs
from lossviz.toolkit.data import BLOBS_MAJORITY
from tests.figure_helpers import frames_of


def _run(query: dict | None = None):
    at = app_test("focal", timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


def _charts(at) -> dict[str, dict]:
    names = ("curves", "boundaries", "pr", "share")
    figs = figures(at)
    assert len(figs) == len(names)
    return dict(zip(names, figs, strict=True))


def _live(fig: dict) -> list[np.ndarray]:
    return [t["y"] for t in fig["data"][-3:]]


@pytest.fixture(scope="module")
def default_page():
    return _run()


def test_default_page(default_page) -> None:
    at = default_page
    charts = _charts(at)
    curves = charts["curves"]
    assert len(frames_of(curves)) == 51 and curves["layout"]["sliders"][0]["active"] == 20  # γ = 2
    # Fig. 1 of Lin et al.: γ = 0 is −log p_t.
    x, ce = fs.P_T, curves["data"][0]["y"]  # the float64 grid (the chart carries it in float32)
    np.testing.assert_allclose(curves["data"][0]["x"], x, rtol=1e-7)
    np.testing.assert_allclose(ce, -np.log(x), rtol=1e-6)
    # Live curve: γ = 2, α = 0.25 (the spec's defaults).
    np.testing.assert_allclose(_live(curves)[0], -0.25 * (1 - x) ** 2 * np.log(x), rtol=1e-5, atol=1e-7)
    assert lossviz.spec("focal").latex in at.latex[0].value
    text = " ".join(m.value for m in at.markdown)
    assert "p_t = 0.9: 100×" in text and "p_t = 0.968: 977×" in text and "p_t = 0.99: 10,000×" in text
    assert not errors(at) and not warnings(at)
    assert max(figure_sizes(at)) < 1_000_000
    metrics = at.dataframe[0].value
    assert list(metrics.index) == ["cross-entropy", "focal (γ = 2, α = 0.25)"]
    assert (metrics["converged"] == "✓").all()
    assert ((metrics["PR-AUC (average precision)"] > 0) & (metrics["PR-AUC (average precision)"] <= 1)).all()


def test_gamma_control_moves_live_curve_models_and_share_marker(default_page) -> None:
    at = _run()
    before = _charts(at)
    at.slider(key="focal_focal_gamma").set_value(0.5)
    at.run()
    assert not exceptions(at)
    after = _charts(at)
    assert after["curves"]["layout"]["sliders"][0]["active"] == 5
    x = fs.P_T
    np.testing.assert_allclose(_live(after["curves"])[0], -0.25 * (1 - x) ** 0.5 * np.log(x), rtol=1e-5, atol=1e-7)
    assert not same_data(before["boundaries"], after["boundaries"])  # the focal model is retrained
    assert not same_data(before["pr"], after["pr"])
    assert after["share"]["data"][2]["x"] == [0.5] and before["share"]["data"][2]["x"] == [2.0]
    np.testing.assert_array_equal(before["share"]["data"][0]["y"], after["share"]["data"][0]["y"])


def test_alpha_and_weighting_controls(default_page) -> None:
    at = _run()
    before = _charts(at)
    at.slider(key="focal_focal_alpha").set_value(0.75)
    at.run()
    mid = _charts(at)
    x = fs.P_T
    np.testing.assert_allclose(_live(mid["curves"])[0], -0.75 * (1 - x) ** 2 * np.log(x), rtol=1e-5, atol=1e-7)
    assert not same_data(before["share"], mid["share"]) and not same_data(before["boundaries"], mid["boundaries"])
    at.toggle(key="focal_weighting").set_value(False)
    at.run()
    off = _charts(at)
    np.testing.assert_allclose(_live(off["curves"])[0], -((1 - x) ** 2) * np.log(x), rtol=1e-5, atol=1e-7)
    assert "α off" in off["curves"]["data"][-3]["name"]


@pytest.mark.parametrize(
    ("kind", "key", "value"),
    [("select_slider", "focal_ratio", 10.0), ("slider", "focal_separation", 1.0), ("slider", "focal_seed", 4)],
)
def test_data_controls_change_the_set_and_models(kind: str, key: str, value: float) -> None:
    at = _run()
    before = _charts(at)
    getattr(at, kind)(key=key).set_value(value)
    at.run()
    assert not exceptions(at)
    after = _charts(at)
    for role in ("boundaries", "pr", "share"):
        assert not same_data(before[role], after[role]), role
    assert same_data(before["curves"], after["curves"])
    if key == "focal_ratio":
        assert len(after["boundaries"]["data"][1]["x"]) == BLOBS_MAJORITY // 10


def test_query_string_restores_state() -> None:
    at = _run({"focal_focal_gamma": "5", "focal_weighting": "false", "focal_ratio": "1000", "focal_seed": "3"})
    assert at.slider(key="focal_focal_gamma").value == 5.0
    assert at.toggle(key="focal_weighting").value is False
    assert at.select_slider(key="focal_ratio").value == 1000.0
    charts = _charts(at)
    assert charts["curves"]["layout"]["sliders"][0]["active"] == 50
    assert len(charts["boundaries"]["data"][1]["x"]) == 3
    assert not warnings(at)


@pytest.mark.parametrize(
    ("key", "value", "check"),
    [
        ("focal_focal_gamma", "banana", lambda at: at.slider(key="focal_focal_gamma").value == 2.0),
        ("focal_focal_gamma", "99", lambda at: at.slider(key="focal_focal_gamma").value == 5.0),
        ("focal_focal_alpha", "-1", lambda at: at.slider(key="focal_focal_alpha").value == 0.0),
        ("focal_ratio", "0", lambda at: at.select_slider(key="focal_ratio").value == 1.0),
        ("focal_weighting", "maybe", lambda at: at.toggle(key="focal_weighting").value is True),
    ],
)
def test_bad_query_string_warns(key: str, value: str, check) -> None:
    at = _run({key: value})
    assert any(key in w for w in warnings(at)), warnings(at)
    assert check(at)
