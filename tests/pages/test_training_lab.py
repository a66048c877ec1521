"""The Training lab page in AppTest: it renders, every control drives its chart, links restore state."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import (
    app_test,
    errors,
    exceptions,
    figures,
    live_data,
    live_figures,
    live_sizes,
    same_data,
    warnings,
)

import lossviz
from lossviz.studies import training_lab as rv
from lossviz.toolkit import adaptive as ad
from lossviz.toolkit import training as tr
from tests.figure_helpers import frames_of

RUN, REGULARIZATION, MULTITASK = 0, 1, 2
"""The page's views: its live charts (the played run: data, model, curves, per-example loss; λ of the
regularisation view; ω of the multi-task view), then its Plotly charts."""
CURVES = RESULT = RUN
SIDE = 3
"""The first Plotly chart: with an adaptive loss or augmentation, the chart of α and c or of the augmented points;
on request, the weight histogram."""


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
    player = live_data(page)[RUN]
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
    assert len(frames_of(figs[REGULARIZATION])) == 25 and len(frames_of(figs[MULTITASK])) == 21
    assert live_sizes(page)[RUN] < 2_000_000 and max(live_sizes(page)[RUN + 1:]) < 1_000_000
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
    assert len(figs) == 4 and figs[SIDE]["data"][0]["type"] == "histogram"


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


# --- λ of the regularisation view and ω of the multi-task view: one live control each ----------------------------


def commit(at, key: str, value: float) -> None:
    """What the browser sends when a live control is released at ``value``."""
    at.session_state[key] = {"committed": {"values": [value], "seq": 1}}
    at.run()
    assert not exceptions(at) and not errors(at), errors(at)


def caption(at, start: str) -> str:
    return next(c.value for c in at.caption if c.value.startswith(start))


def lambda_caption(rho: float, lam: float) -> str:
    """The caption's numbers at (ρ, λ), from the study."""
    path = rv.regularization_view(rho).path
    k = int(np.flatnonzero(path.lams == lam)[0])
    w1, w2 = path.lasso[k], path.ridge[k]
    return f"At λ = {lam:g}: lasso w = ({w1[0]:.4g}, {w1[1]:.4g}), ridge w = ({w2[0]:.4g}, {w2[1]:.4g})."


def omega_caption(mt: rv.MultiTask, weight: float) -> str:
    a, b = mt.minimizers[int(np.flatnonzero(mt.weights == weight)[0])]
    return f"At ω = {weight:g} the minimiser is a = {a:.4f}, b = {b:.4f}."


def test_lambda_is_one_live_control_whose_commit_reaches_the_caption(page) -> None:
    assert not [s for s in page.select_slider if s.key == "training_reg_lam"]
    (lam,) = live_data(page)[REGULARIZATION]["params"]
    assert lam["label"] == "λ (lam)" and lam["values"] == rv.PATH_LAMBDAS.tolist()
    assert lam["texts"][lam["index"]] == "0.3"
    rho = page.slider(key="training_reg_rho").value
    assert lambda_caption(rho, 0.3) in caption(page, "At λ")
    before = views(page)
    commit(page, "training_reg_lam", 2.0)
    assert lambda_caption(rho, 2.0) in caption(page, "At λ")
    assert live_data(page)[REGULARIZATION]["params"][0]["index"] == rv.PATH_LAMBDAS.tolist().index(2.0)
    assert page.query_params["training_reg_lam"] == "2"
    assert same_data(before[REGULARIZATION], views(page)[REGULARIZATION])  # the frames hold every λ already
    page.slider(key="training_reg_rho").set_value(-0.5)
    _changed(page, before, REGULARIZATION)
    assert lambda_caption(-0.5, 2.0) in caption(page, "At λ")


def test_omega_is_one_live_control_whose_commit_reaches_the_caption(page) -> None:
    assert not [s for s in page.slider if s.key == "training_mt_weight"]
    (omega,) = live_data(page)[MULTITASK]["params"]
    assert omega["label"] == "ω (weight)" and omega["values"] == rv.TASK_WEIGHTS.tolist()
    assert omega["texts"][omega["index"]] == "0.5"
    mt = rv.multitask("mse", "mae")
    assert omega_caption(mt, 0.5) in caption(page, "Left: contours")
    commit(page, "training_mt_weight", 0.9)
    assert omega_caption(mt, 0.9) in caption(page, "Left: contours")
    assert page.query_params["training_mt_weight"] == "0.9"
    before = views(page)
    page.selectbox(key="training_mt_b").set_value("huber")
    after = _changed(page, before, MULTITASK)
    assert omega_caption(rv.multitask("mse", "huber"), 0.9) in caption(page, "Left: contours")  # ω is kept
    page.slider(key="training_mtb_huber_delta").set_value(0.2)
    after2 = _changed(page, after, MULTITASK)
    page.selectbox(key="training_mt_a").set_value("cauchy")
    after3 = _changed(page, after2, MULTITASK)
    page.slider(key="training_mta_cauchy_scale").set_value(2.0)
    _changed(page, after3, MULTITASK)


def test_links_restore_lambda_and_omega() -> None:
    at = _page(training_reg_lam="0.02", training_mt_weight="0.85")  # values the old sliders wrote
    assert not warnings(at)
    assert lambda_caption(at.slider(key="training_reg_rho").value, 0.02) in caption(at, "At λ")
    assert omega_caption(rv.multitask("mse", "mae"), 0.85) in caption(at, "Left: contours")
    reg, mt = live_data(at)[REGULARIZATION:MULTITASK + 1]
    assert reg["params"][0]["texts"][reg["params"][0]["index"]] == "0.02"
    assert mt["params"][0]["texts"][mt["params"][0]["index"]] == "0.85"


@pytest.mark.parametrize(
    ("query", "key", "fallback"),
    [
        ({"training_reg_lam": "abc"}, "training_reg_lam", "At λ = 0.3:"),
        ({"training_reg_lam": "1e9"}, "training_reg_lam", "At λ = 10:"),
        ({"training_mt_weight": "abc"}, "training_mt_weight", "At ω = 0.5 "),
        ({"training_mt_weight": "7"}, "training_mt_weight", "At ω = 1 "),
    ],
)
def test_a_malformed_live_link_warns_and_falls_back(query: dict[str, str], key: str, fallback: str) -> None:
    at = _page(**query)
    (warning,) = warnings(at)
    assert key in warning
    assert any(fallback in c.value for c in at.caption)


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


# --- dropout, data augmentation, the adaptive loss -------------------------------------------------------------


def _summary(at) -> dict:
    """The run table as {run label: {column: value}}."""
    return at.dataframe[0].value.to_dict()


@pytest.mark.parametrize(
    ("kind", "key", "value"),
    [
        ("slider", "training_dropout", 0.3),
        ("slider", "training_rotation", 30.0),
        ("slider", "training_scaling", 0.2),
        ("slider", "training_jitter", 0.1),
    ],
)
def test_dropout_and_augmentation_controls_change_the_curves(page, kind: str, key: str, value: float) -> None:
    before = views(page)
    getattr(page, kind)(key=key).set_value(value)
    _changed(page, before, CURVES)
    last = page.session_state["training_last_config"]
    expected = {"training_dropout": ("dropout", (value, value))}.get(key, (key.removeprefix("training_"), value))
    assert getattr(last, expected[0]) == expected[1]


def test_augmentation_shows_the_points_one_epoch_trained_on(page) -> None:
    page.slider(key="training_rotation").set_value(45.0)
    page.run()
    figs = views(page)
    assert len(figs) == 4
    preview = figs[SIDE]["data"]
    config = page.session_state["training_last_config"]
    result, _ = tr.cached_train(config)
    moved = tr.augmented_inputs(result.setup)
    diamonds = np.concatenate([t["x"] for t in preview if t.get("marker", {}).get("symbol") == "diamond"])
    np.testing.assert_allclose(np.sort(diamonds), np.sort(moved[:, 0]), rtol=1e-6)
    assert any("never augmented" in c.value for c in page.caption)


def test_a_dropout_rate_per_hidden_layer(page) -> None:
    page.toggle(key="training_dropout_per_layer").set_value(True)
    page.run()
    assert not exceptions(page)
    before = views(page)
    page.slider(key="training_dropout_2").set_value(0.5)
    after = _changed(page, before, CURVES)
    assert page.session_state["training_last_config"].dropout == (0.0, 0.5)
    page.slider(key="training_dropout_1").set_value(0.1)
    _changed(page, after, CURVES)
    assert page.session_state["training_last_config"].dropout == (0.1, 0.5)
    page.slider(key="training_hidden_layers").set_value(3)
    page.run()
    assert page.session_state["training_last_config"].dropout == (0.1, 0.5, 0.0)


def test_one_input_feature_offers_jitter_only() -> None:
    at = _page(training_dataset="regression")
    keys = {s.key for s in at.slider}
    assert "training_jitter" in keys and "training_rotation" not in keys and "training_scaling" not in keys
    before = views(at)
    at.slider(key="training_jitter").set_value(0.2)
    _changed(at, before, CURVES)


def test_compare_regularizers_shows_each_gap() -> None:
    at = _page(training_compare="true", training_vary="regularization")
    assert at.multiselect(key="training_values_regularization").value == ["none", "l1", "l2", "dropout"]
    table = _summary(at)
    base = tr.default_config(epochs=20)
    for regularizer in ("none", "l1", "l2", "dropout"):
        result, _ = tr.cached_train(tr.regularized(base, regularizer))
        row = table[f"regulariser = {regularizer}"]
        assert row["gap: validation − train loss"] == pytest.approx(result.curves.gap()[0], rel=1e-12)
        assert row["gap: training − validation accuracy"] == pytest.approx(result.curves.gap()[1], abs=1e-12)
    assert live_data(at)[RUN]["player"] and {t["name"] for t in views(at)[RUN]["data"] if t.get("showlegend")} >= {
        f"regulariser = {r}" for r in ("none", "l1", "l2", "dropout")}  # four runs under one time control
    at.multiselect(key="training_values_regularization").set_value(["none", "augmentation"])
    at.run()
    assert not exceptions(at) and set(_summary(at)) == {"regulariser = none", "regulariser = augmentation"}


def test_compare_dropout_rates() -> None:
    at = _page(training_compare="true", training_vary="dropout")
    assert set(_summary(at)) == {"dropout rate p = 0", "dropout rate p = 0.2", "dropout rate p = 0.5"}


def test_adaptive_loss_learns_alpha_and_scale_and_shows_their_path() -> None:
    at = _page(training_dataset="regression")
    at.selectbox(key="training_loss").set_value(tr.ADAPTIVE_BARRON)
    at.run()
    assert not exceptions(at) and not errors(at), errors(at)
    figs = views(at)
    assert len(figs) == 4
    shape = figs[SIDE]
    config = at.session_state["training_last_config"]
    assert config.adaptive and config.loss == "barron"
    result, _ = tr.cached_train(config)
    np.testing.assert_allclose(shape["data"][0]["y"], result.shapes[:, 0], rtol=1e-6)
    np.testing.assert_allclose(shape["data"][1]["y"], result.shapes[:, 1], rtol=1e-6)
    row = _summary(at)["run"]
    assert row["final α"] == pytest.approx(result.shapes[-1, 0]) and row["final c"] == pytest.approx(
        result.shapes[-1, 1]
    )
    assert any("Why the loss can be negative" in m.value for m in at.caption)
    assert at.latex[0].value.strip("$\n") == ad.BARRON_NLL.latex
    before = figs
    at.slider(key="training_adaptive_alpha").set_value(1.5)
    after = _changed(at, before, SIDE)
    assert after[SIDE]["data"][0]["y"][0] == pytest.approx(1.5)
    at.select_slider(key="training_adaptive_scale").set_value(0.2)
    after2 = _changed(at, after, SIDE)
    assert after2[SIDE]["data"][1]["y"][0] == pytest.approx(0.2)
    at.slider(key="training_outliers").set_value(0.0)
    _changed(at, after2, SIDE)


def test_the_adaptive_loss_s_alpha_path_beside_the_same_run_without_outliers() -> None:
    at = _page(training_dataset="regression", training_loss=tr.ADAPTIVE_BARRON)
    lines = len(views(at)[SIDE]["data"])
    at.toggle(key="training_shape_twin").set_value(True)
    at.run()
    assert not exceptions(at) and not errors(at)
    shape = views(at)[SIDE]["data"]
    assert len(shape) == lines + 2  # α and c of the run without outliers
    config = at.session_state["training_last_config"]
    twin, _ = tr.cached_train(tr.outlier_twin(config))
    assert twin.config.data.outliers == 0.0
    np.testing.assert_allclose(shape[2]["y"], twin.shapes[:, 0], rtol=1e-6)
    assert shape[2]["name"] == "same run, outlier share 0"


def test_adaptive_loss_in_compare_mode_and_in_the_link() -> None:
    at = _page(training_dataset="regression", training_loss=tr.ADAPTIVE_BARRON, training_adaptive_alpha="0.5")
    assert at.selectbox(key="training_loss").value == tr.ADAPTIVE_BARRON
    assert at.session_state["training_last_config"].loss_params == (("alpha", 0.5), ("scale", 1.0))
    at.toggle(key="training_compare").set_value(True)
    at.run()
    at.selectbox(key="training_vary").set_value("loss")
    at.run()
    at.multiselect(key="training_values_loss").set_value(["mse", tr.ADAPTIVE_BARRON])
    at.run()
    assert not exceptions(at) and not errors(at)
    table = _summary(at)
    assert np.isnan(table["loss = mse"]["final α"]) and 0 < table[f"loss = {tr.ADAPTIVE_BARRON}"]["final α"] < 2
    assert len(views(at)[SIDE]["data"]) == 2 + 3  # α and c of the one adaptive run, and the three reference lines


def test_every_preset_sets_controls_of_the_page(page) -> None:
    """Each preset's keys name widgets (the comparison's own appear once it is on)."""
    page.toggle(key="training_compare").set_value(True)
    page.run()
    widgets = {
        w.key for kind in ("slider", "select_slider", "selectbox", "toggle", "multiselect") for w in getattr(page, kind)
    }
    for preset in tr.LAB_PRESETS:
        wanted = {f"training_{name}" for name in preset.controls if not name.startswith("values_")}
        assert wanted <= widgets, (preset.title, wanted - widgets)


def test_adaptive_preset_compares_mse_barron_and_the_learned_barron() -> None:
    preset = next(p for p in tr.LAB_PRESETS if p.title == "Adaptive robust loss")
    at = _page()
    at.slider(key="training_width").set_value(8)  # another preset's (or the user's) network does not linger
    at.button(key=f"training_preset_{preset.title}").click()
    at.run()
    assert not exceptions(at) and not errors(at)
    assert at.multiselect(key="training_values_loss").value == ["mse", "barron", tr.ADAPTIVE_BARRON]
    assert at.slider(key="training_width").value == tr.WIDTH.default
    assert at.slider(key="training_epochs").value == tr.EPOCHS.default
    assert set(_summary(at)) == {f"loss = {n}" for n in ("mse", "barron", tr.ADAPTIVE_BARRON)}


# --- in the browser ---------------------------------------------------------------------------------------------

PLOT_BY_TITLE = """(title) => Array.from(document.querySelectorAll('.js-plotly-plot')).find(p =>
    ((p.layout && p.layout.annotations) || []).some(a => a.text === title))"""
TRACE_Y = f"([title, trace]) => Array.from(({PLOT_BY_TITLE})(title)._fullData[trace].y)"
NAMED_Y = f"([title, name]) => Array.from(({PLOT_BY_TITLE})(title)._fullData.find(t => t.name === name).y)"
""":data:`TRACE_Y` for the first trace called ``name``: in the played run, the training loss curve is "train"."""


def _press(tab, label: str, key: str, times: int) -> None:
    """Move the Streamlit slider labelled ``label`` by ``times`` steps with the keyboard (one rerun on release)."""
    slider = tab.locator('[data-testid="stSlider"]', has_text=label).locator('input[type="range"]')
    slider.focus()
    for _ in range(times):
        slider.press(key)


@pytest.mark.browser
def test_in_the_browser_the_new_controls_rerun_the_lab() -> None:
    """The adaptive loss's α path follows its start control; the dropout and rotation sliders retrain without an
    error box, and the rotation shows the augmented points."""
    from helpers import IDLE_JS, browser_errors, chromium_page, streamlit_server

    adaptive = f"training_lab?training_epochs=20&training_dataset=regression&training_loss={tr.ADAPTIVE_BARRON}"
    with streamlit_server() as base, chromium_page(base, adaptive, 4) as tab:
        assert browser_errors(tab) == []
        assert tab.evaluate(TRACE_Y, ["shape α", 0])[0] == pytest.approx(1.0)
        _press(tab, "Initial shape α₀", "ArrowLeft", 3)
        tab.wait_for_function(f"() => Math.abs(({TRACE_Y})(['shape α', 0])[0] - 0.85) < 1e-6", timeout=60_000)
        assert browser_errors(tab) == []
        lines = f"() => ({PLOT_BY_TITLE})('shape α')._fullData.length"
        before_lines = tab.evaluate(lines)
        tab.get_by_text("Add the same run on this data without outliers").click()
        tab.wait_for_function(f"() => ({lines})() === {before_lines + 2}", timeout=60_000)
        assert browser_errors(tab) == []

        tab.goto(f"{base}/training_lab?training_epochs=20", timeout=120_000)
        tab.wait_for_function(
            f"() => ({IDLE_JS})() && document.querySelectorAll('.js-plotly-plot').length >= 3",
            timeout=120_000,
            polling=250,
        )
        before = tab.evaluate(NAMED_Y, ["loss", "train"])
        _press(tab, "Dropout p (every hidden layer)", "ArrowRight", 2)
        tab.wait_for_function(
            f"() => JSON.stringify(({NAMED_Y})(['loss', 'train'])) !== {json.dumps(json.dumps(before))}",
            timeout=60_000,
            polling=500,
        )
        assert browser_errors(tab) == []
        _press(tab, "Rotation, max angle (°)", "ArrowRight", 4)
        tab.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=60_000)
        tab.wait_for_function(IDLE_JS, timeout=60_000)
        assert browser_errors(tab) == []
        assert "augmented copy that the first epoch trained on" in tab.inner_text('[data-testid="stMain"]')


# --- in the browser: λ and ω live ------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize(
    ("tab_name", "name", "url_key"),
    [("L1 vs L2 regularisation", "λ (lam)", "training_reg_lam"), ("Multi-task: two losses", "ω (weight)",
                                                                    "training_mt_weight")],
)
def test_live_control_drags_in_the_browser_and_commits_on_release(tab_name: str, name: str, url_key: str) -> None:
    import urllib.parse

    from helpers import (
        IDLE_JS,
        browser_errors,
        chromium_page,
        drag_live,
        drawn_frame,
        live_root,
        sent_frames,
        streamlit_server,
    )

    def open_tab(page) -> None:
        page.get_by_role("tab", name=tab_name).click()
        page.get_by_role("slider", name=name, exact=True).wait_for(timeout=60_000)
        page.wait_for_function(IDLE_JS, timeout=60_000)
        page.wait_for_function("el => el.dataset.frame !== undefined", arg=live_root(page, name).element_handle(),
                               timeout=60_000)  # the chart is drawn

    def link(page) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(page.url).query))

    def marker_path(page) -> str:  # the last trace's line: the fitted line, or the ridge optimum and its contour
        return live_root(page, name).locator(".scatterlayer .trace .js-line").last.get_attribute("d")

    def fills(page) -> list[str]:  # the constraint regions of the λ view (none in the ω view)
        return [f.get_attribute("d") for f in live_root(page, name).locator(".js-fill").all()]

    with streamlit_server() as base, chromium_page(base, f"training_lab?training_epochs={FAST_EPOCHS}", 3) as page:
        sent = sent_frames(page)
        page.reload()  # the listener sees the WebSocket of the reloaded page
        page.wait_for_function(IDLE_JS, timeout=120_000, polling=250)
        open_tab(page)
        slider = page.get_by_role("slider", name=name, exact=True)
        assert slider.count() == 1  # one control for the parameter
        slider.scroll_into_view_if_needed()
        paths, regions = [marker_path(page)], fills(page)
        before = len(sent)
        assert before > 0
        frames = drag_live(page, name, [0.15, 0.35, 0.85, 0.6])
        assert len(set(frames)) == len(frames)  # a new frame drawn at each step
        paths.append(marker_path(page))
        assert paths[-1] != paths[0]
        moved = fills(page)
        assert len(moved) == len(regions) and all(a != b for a, b in zip(regions, moved, strict=True))
        assert len(sent) == before, "the drag sent WebSocket messages"
        page.mouse.up()
        text = slider.get_attribute("aria-valuetext")
        page.wait_for_function(f"() => new URLSearchParams(location.search).get({url_key!r}) === {text!r}",
                               timeout=30_000)
        page.wait_for_function(IDLE_JS, timeout=60_000)
        assert link(page)[url_key] == text and drawn_frame(page, name) == frames[-1]

        page.reload()
        page.wait_for_function(IDLE_JS, timeout=120_000, polling=250)
        open_tab(page)
        assert slider.get_attribute("aria-valuetext") == text
        assert drawn_frame(page, name) == frames[-1]

        slider.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => new URLSearchParams(location.search).get({url_key!r}) !== {text!r}",
                               timeout=30_000)
        assert drawn_frame(page, name) == frames[-1] + 1
        assert page.get_by_role("slider", name=name, exact=True).count() == 1
        assert browser_errors(page) == []
