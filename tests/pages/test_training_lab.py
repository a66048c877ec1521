"""The Training lab page in AppTest: it renders, every control drives its chart, links restore state."""

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

import lossviz
from lossviz.toolkit import training as tr

RUN, REGULARIZATION, MULTITASK = 0, 1, 2
"""The page's views: the played run (a live chart: data, model, curves, per-example loss), then the Plotly charts."""
CURVES = RESULT = RUN


def views(at) -> list[dict]:
    return live_figures(at) + figures(at)


def named(fig: dict, name: str) -> dict:
    return next(t for t in fig["data"] if t.get("name") == name)
FAST_EPOCHS = "20"


def _page(**query: str):
    at = app_test("training_lab")
    at.query_params["training_epochs"] = FAST_EPOCHS
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


def _changed(at, before: list[dict], index: int) -> list[dict]:
    at.run()
    assert not exceptions(at), exceptions(at)
    assert not errors(at), errors(at)
    after = views(at)
    assert not same_data(before[index], after[index]), f"chart {index} did not change"
    return after


@pytest.fixture
def page():
    return _page()


def test_default_page_trains_and_shows_every_view(page) -> None:
    figs = views(page)
    assert len(figs) == 3 and not errors(page) and not warnings(page)
    (player,) = live_data(page)
    run = figs[RUN]
    train = named(run, "train")
    epochs = train["x"]
    assert epochs[0] == 0 and epochs[-1] == 20 and len(epochs) == 21
    # the curves are those of the run this configuration gives, played over its 21 snapshots from the end
    result, _ = tr.cached_train(tr.default_config(epochs=20))
    np.testing.assert_allclose(train["y"], result.curves.train_loss, rtol=1e-6)
    metric = [t for t in run["data"] if t.get("yaxis") == "y3"]
    np.testing.assert_allclose(metric[1]["y"], result.curves.val_metric, rtol=1e-6)
    assert len(run["frames"]) == len(result.snapshots.epochs) == 21
    assert player["player"] is not None and player["params"][0]["label"] == "epoch"
    assert player["params"][0]["index"] == 20 and player["params"][0]["texts"][-1] == "20"
    assert run["layout"]["images"][0]["source"].startswith("data:image/png;base64,")
    assert len(figs[REGULARIZATION]["frames"]) > 20 and len(figs[MULTITASK]["frames"]) == 21
    assert max(figure_sizes(page)) < 1_000_000 and max(live_sizes(page)) < 2_000_000
    last = page.session_state["training_last_config"]
    assert tr.canonical(last) == tr.canonical(tr.default_config(epochs=20))
    assert any(tr.DEFAULT_LOSS["binary"] in m.value for m in page.markdown)
    assert page.latex[0].value.strip("$\n") == lossviz.spec("bce_logits").latex


@pytest.mark.parametrize(
    ("kind", "key", "value"),
    [
        ("slider", "training_noise", 0.3),
        ("slider", "training_n_samples", 200),
        ("slider", "training_seed", 5),
        ("slider", "training_val_fraction", 0.2),
    ],
)
def test_data_controls_change_the_decision_boundary(page, kind: str, key: str, value: float) -> None:
    before = views(page)
    getattr(page, kind)(key=key).set_value(value)
    _changed(page, before, RESULT)


@pytest.mark.parametrize(
    ("dataset", "extra", "value"),
    [("blobs", "training_minority", 0.3), ("regression", "training_outliers", 0.0), ("spiral", "training_classes", 4)],
)
def test_dataset_specific_controls(page, dataset: str, extra: str, value: float) -> None:
    page.selectbox(key="training_dataset").set_value(dataset)
    page.run()
    assert not exceptions(page) and not errors(page), errors(page)
    before = views(page)
    page.slider(key=extra).set_value(value)
    _changed(page, before, RESULT)
    loss = page.selectbox(key="training_loss").value
    assert loss == tr.DEFAULT_LOSS[tr.DataConfig(dataset).task] or dataset == "spiral"


@pytest.mark.parametrize(
    ("kind", "key", "value"),
    [
        ("slider", "training_hidden_layers", 1),
        ("slider", "training_width", 8),
        ("selectbox", "training_activation", "tanh"),
        ("selectbox", "training_loss", "hinge"),
        ("selectbox", "training_optimizer", "rmsprop"),
        ("select_slider", "training_lr", 0.05),
        ("select_slider", "training_batch_size", 10.0),
        ("slider", "training_epochs", 30),
        ("slider", "training_l1", 0.002),
        ("slider", "training_l2", 0.005),
    ],
)
def test_model_and_optimiser_controls_change_the_curves(page, kind: str, key: str, value) -> None:
    before = views(page)
    getattr(page, kind)(key=key).set_value(value)
    _changed(page, before, CURVES)


def test_loss_parameter_controls_come_from_the_declaration(page) -> None:
    page.selectbox(key="training_loss").set_value("focal")
    page.run()
    before = views(page)
    page.slider(key="training_focal_gamma").set_value(0.5)
    after = _changed(page, before, CURVES)
    page.slider(key="training_focal_alpha").set_value(0.75)
    _changed(page, after, CURVES)


def test_compare_mode_trains_each_value_side_by_side(page) -> None:
    page.toggle(key="training_compare").set_value(True)
    page.run()
    assert not exceptions(page)
    figs = views(page)
    run = figs[RUN]
    labels = [f"learning rate = {v}" for v in ("0.001", "0.01", "0.1")]
    assert [t["name"] for t in run["data"] if t.get("yaxis") == "y4" and t.get("showlegend")] == labels
    boundaries = [s for s in run["layout"]["shapes"] if s["type"] == "path" and s["line"]["color"] == "black"]
    assert {s["xref"] for s in boundaries} == {"x", "x2", "x3"}  # a boundary and the top losses in each panel
    assert len(run["layout"]["images"]) == 3 and all(len(f["layout"]["images"]) == 3 for f in run["frames"])
    page.multiselect(key="training_values_lr").set_value(["0.01", "0.3"])
    figs2 = _changed(page, figs, CURVES)
    assert len(figs2[RUN]["layout"]["images"]) == 2
    page.selectbox(key="training_vary").set_value("loss")
    page.run()
    names = {t["name"] for t in views(page)[RUN]["data"] if t.get("yaxis") == "y4" and t.get("showlegend")}
    assert names == {f"loss = {n}" for n in tr.compare_defaults("loss", "binary")}
    page.multiselect(key="training_values_loss").set_value(["mse"])
    page.run()
    assert any("at least two" in i.value for i in page.info)


def test_preset_sets_a_comparison(page) -> None:
    preset = tr.LAB_PRESETS[2]  # CE vs focal on imbalanced blobs
    page.button(key=f"training_preset_{preset.title}").click()
    page.run()
    assert not exceptions(page)
    assert page.selectbox(key="training_dataset").value == "blobs"
    assert page.multiselect(key="training_values_loss").value == ["bce_logits", "focal"]
    assert len(views(page)[RUN]["layout"]["images"]) == 2


def test_weights_histogram_on_request(page) -> None:
    page.toggle(key="training_weights_shown").set_value(True)
    page.run()
    figs = views(page)
    assert len(figs) == 4 and figs[1]["data"][0]["type"] == "histogram"


def test_log_loss_axis(page) -> None:
    page.toggle(key="training_logloss").set_value(True)
    page.run()
    run = views(page)[RUN]
    loss_axis = next(t["yaxis"] for t in run["data"] if t.get("name") == "train")
    assert run["layout"][f"yaxis{loss_axis[1:]}"]["type"] == "log"


def test_divergence_is_reported_not_raised() -> None:
    at = _page(training_dataset="regression", training_optimizer="sgd", training_lr="1")
    at.slider(key="training_epochs").set_value(100)
    at.run()
    assert not exceptions(at)
    assert any("diverged" in w.value for w in at.warning)


def test_regularization_controls(page) -> None:
    before = views(page)
    page.select_slider(key="training_reg_lam").set_value(2.0)
    after = _changed(page, before, REGULARIZATION)
    assert after[REGULARIZATION]["layout"]["sliders"][0]["currentvalue"]["prefix"] == "λ = "
    page.slider(key="training_reg_rho").set_value(-0.5)
    _changed(page, after, REGULARIZATION)


def test_multitask_controls(page) -> None:
    before = views(page)
    page.slider(key="training_mt_weight").set_value(0.9)
    after = _changed(page, before, MULTITASK)
    page.selectbox(key="training_mt_b").set_value("huber")
    after2 = _changed(page, after, MULTITASK)
    page.slider(key="training_mtb_huber_delta").set_value(0.2)
    after3 = _changed(page, after2, MULTITASK)
    page.selectbox(key="training_mt_a").set_value("cauchy")
    after4 = _changed(page, after3, MULTITASK)
    page.slider(key="training_mta_cauchy_scale").set_value(2.0)
    _changed(page, after4, MULTITASK)


def test_query_string_restores_state() -> None:
    at = _page(training_dataset="circles", training_loss="hinge", training_lr="0.05", training_hidden_layers="1")
    assert at.selectbox(key="training_dataset").value == "circles"
    assert at.selectbox(key="training_loss").value == "hinge"
    assert at.select_slider(key="training_lr").value == 0.05
    assert at.slider(key="training_hidden_layers").value == 1
    assert not warnings(at)
    assert at.session_state["training_last_config"].loss == "hinge"


def test_bad_query_string_warns_and_falls_back() -> None:
    at = _page(training_dataset="nope", training_lr="abc", training_width="1000", training_loss="focal_typo")
    assert not exceptions(at)
    text = " ".join(warnings(at))
    assert "training_dataset" in text and "training_lr" in text and "training_width" in text and "training_loss" in text
    assert at.slider(key="training_width").value == 64
    assert len(views(at)) == 3


def test_a_loss_that_does_not_fit_the_new_task_falls_back(page) -> None:
    page.selectbox(key="training_loss").set_value("hinge")
    page.run()
    page.selectbox(key="training_dataset").set_value("regression")
    page.run()
    assert not exceptions(page) and not errors(page)
    assert page.selectbox(key="training_loss").value == "mse"


def test_a_custom_loss_of_the_session_is_offered_and_trains() -> None:
    store = lossviz.user_losses()  # AppTest runs the page outside app.py's per-session scope
    lossviz.define("lab_cauchy", "log(1 + ((p - y)/c)**2)", c=(1.0, 0.1, 5.0))
    try:
        at = _page(training_dataset="regression")
        assert "lab_cauchy" in at.selectbox(key="training_loss").options
        at.selectbox(key="training_loss").set_value("lab_cauchy")
        at.run()
        assert not exceptions(at) and not errors(at), errors(at)
        before = views(at)
        at.slider(key="training_lab_cauchy_c").set_value(2.0)
        _changed(at, before, CURVES)
    finally:
        store.pop("lab_cauchy", None)
