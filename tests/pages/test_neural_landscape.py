"""The Neural landscape page in AppTest: it renders, every control drives its chart, links restore state."""

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

from lossviz.studies import neural_landscape as nl
from lossviz.toolkit import training as tr

INTERP, CONTOUR, TWO_LOSSES, PCA = range(4)
"""The Plotly charts (the 3D surface only in its own tab, see the surface test), then the PCA trajectory played
(a live chart)."""


def views(at) -> list[dict]:
    return figures(at) + live_figures(at)


def _page(**query: str):
    at = app_test("neural_landscape")
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


@pytest.fixture
def page():
    return _page()


def _changed(at, before: list[dict], index: int) -> list[dict]:
    at.run()
    assert not exceptions(at), exceptions(at)
    assert not errors(at), errors(at)
    after = views(at)
    assert not same_data(before[index], after[index]), f"chart {index} did not change"
    return after


def test_the_3d_surface_is_drawn_only_when_its_tab_is_open() -> None:
    """The WebGL surface replaces the contour map when a link (or a click) opens its tab, and follows the
    log-scale toggle like the map does."""
    at = _page(neural_view="3D surface")
    figs = views(at)
    assert len(figs) == 4 and figs[CONTOUR]["data"][0]["type"] == "surface"
    result, _ = tr.cached_train(tr.default_config())
    z = figs[CONTOUR]["data"][0]["z"]
    np.testing.assert_allclose(10 ** z[20, 20], result.curves.train_loss[-1], rtol=1e-5)  # log colour scale
    at.toggle(key="neural_log").set_value(False)
    _changed(at, figs, CONTOUR)


def test_default_page_shows_the_default_runs_landscapes(page) -> None:
    figs = views(page)
    assert len(figs) == 4 and not errors(page) and not warnings(page)
    result, _ = tr.cached_train(tr.default_config())
    interp = figs[INTERP]["data"]
    alphas = interp[0]["x"]
    at0, at1 = int(np.argmin(np.abs(alphas))), int(np.argmin(np.abs(alphas - 1)))
    np.testing.assert_allclose(interp[0]["y"][[at0, at1]], result.curves.train_loss[[0, -1]], rtol=1e-6)
    contour = figs[CONTOUR]["data"][0]
    assert contour["z"].shape == (41, 41)
    centre = contour["z"][20, 20]
    np.testing.assert_allclose(10**centre, result.curves.train_loss[-1], rtol=1e-5)  # log colour scale
    assert [a["text"] for a in figs[TWO_LOSSES]["layout"]["annotations"]] == ["bce_logits", "mse"]
    path = figs[PCA]["data"][1]
    assert len(path["x"]) == len(result.thetas) and path["x"][-1] == 0 and path["y"][-1] == 0
    assert max(figure_sizes(page)) < 1_000_000 and max(live_sizes(page)) < 2_000_000
    (player,) = live_data(page)  # one time control, named "epoch", over the run's snapshots, from the end
    assert player["params"][0]["label"] == "epoch" and player["params"][0]["values"] == list(result.snapshots.epochs)
    assert player["params"][0]["index"] == len(result.snapshots.epochs) - 1 and len(figs[PCA]["frames"]) == 101
    far, largest = nl.compute_pca_slice(result, 41).beyond_a_step()  # the numbers the caption gives
    assert any(f"{far} of {len(result.thetas)} checkpoints lie more than one step away (up to {largest:.3g} steps)"
               in c.value for c in page.caption)


@pytest.mark.parametrize(
    ("kind", "key", "value", "index"),
    [
        ("slider", "neural_resolution", 21, CONTOUR),
        ("slider", "neural_span", 0.5, CONTOUR),
        ("slider", "neural_seed", 7, CONTOUR),
        ("toggle", "neural_log", False, CONTOUR),
        ("slider", "neural_pca_resolution", 21, PCA),
        ("toggle", "neural_pca_log", False, PCA),
        ("selectbox", "neural_second", "hinge", TWO_LOSSES),
    ],
)
def test_each_control_changes_its_chart(page, kind: str, key: str, value, index: int) -> None:
    before = views(page)
    getattr(page, kind)(key=key).set_value(value)
    _changed(page, before, index)


def test_resolution_sets_the_grid(page) -> None:
    page.slider(key="neural_resolution").set_value(21)
    page.run()
    figs = views(page)
    assert figs[CONTOUR]["data"][0]["z"].shape == (21, 21)
    assert figs[TWO_LOSSES]["data"][0]["z"].shape == (21, 21)
    assert figs[PCA]["data"][0]["z"].shape == (41, 41)


def test_interpolation_log_axis(page) -> None:
    page.toggle(key="neural_interp_log").set_value(True)
    page.run()
    assert figures(page)[INTERP]["layout"]["yaxis"]["type"] == "log"


def test_second_loss_parameters_drive_the_comparison(page) -> None:
    page.selectbox(key="neural_second").set_value("hinge")
    page.run()
    before = views(page)
    page.slider(key="neural_second_hinge_margin").set_value(2.0)
    _changed(page, before, TWO_LOSSES)


def test_the_last_lab_run_is_used_when_chosen(page) -> None:
    page.radio(key="neural_model").set_value("last training-lab run")
    page.run()
    assert any("No run from the Training lab" in i.value for i in page.info)
    before = views(page)
    page.session_state["training_last_config"] = tr.default_config(loss="hinge", epochs=30)
    page.run()
    assert not exceptions(page) and not page.info
    after = views(page)
    assert not same_data(before[INTERP], after[INTERP])
    assert after[TWO_LOSSES]["layout"]["annotations"][0]["text"] == "hinge"
    assert len(after[PCA]["data"][1]["x"]) == 31


def test_query_string_restores_state() -> None:
    at = _page(neural_resolution="31", neural_span="2.0", neural_second="bce")
    assert at.slider(key="neural_resolution").value == 31
    assert at.selectbox(key="neural_second").value == "bce"
    figs = figures(at)
    assert figs[CONTOUR]["data"][0]["z"].shape == (31, 31)
    assert figs[CONTOUR]["data"][0]["x"][-1] == pytest.approx(2.0)
    assert not warnings(at)


def test_bad_query_string_warns_and_falls_back() -> None:
    at = _page(neural_resolution="abc", neural_span="100", neural_model="nope")
    text = " ".join(warnings(at))
    assert "neural_resolution" in text and "neural_span" in text and "neural_model" in text
    assert len(views(at)) == 4
