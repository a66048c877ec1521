"""The Training lab on the user's own CSV: example in one click, views by task and features, controls,
messages for bad files, and uploaded data that never leaves its session."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, app_test, errors, exceptions, figures, live_data, live_figures, same_data

from lossviz.studies import neural_landscape as nl
from lossviz.toolkit import tables
from lossviz.toolkit import training as tr
from lossviz.ui.session import _PRIVATE_KEY

RUN, RESULT = 0, 3
"""The played run (a live chart with the data panel, the curves and the per-example loss), the live charts of the
other two tabs (λ, ω), then, without a plane to draw on, the final view of the model (predicted against actual
values, or a confusion matrix)."""
EPOCHS = "20"


def views(at) -> list[dict]:
    return live_figures(at) + figures(at)


def _lab(**query: str):
    at = app_test("training_lab")
    at.query_params["training_epochs"] = EPOCHS
    at.query_params["training_source"] = "upload"
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def _upload(at, name: str, data: bytes):
    at.file_uploader(key="training_upload_file").set_value((name, data, "text/csv"))
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


def _regression_frame(n: int = 200, seed: int = 0, slope: float = 3.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    return pd.DataFrame({"hours": x, "noise": rng.normal(size=n), "score": slope * x + 20 + rng.normal(0, 1, n)})


def _private_keys(cache: tr.RunCache) -> list:
    return [k for k in cache._items if _is_private(k)]


def _is_private(key) -> bool:
    if isinstance(key, tr.TrainConfig):
        return key.data.private
    if isinstance(key, tuple):
        return any(_is_private(k) for k in key)
    return False


def test_example_file_trains_in_one_click() -> None:
    at = _lab()
    assert not errors(at)
    assert at.selectbox(key="training_upload_example").value == "classification_blobs.csv"
    assert at.selectbox(key="training_upload_target").value == "label"
    assert at.radio(key="training_upload_task").value == "classification"
    assert at.selectbox(key="training_loss").value == "cross_entropy"
    run = views(at)[RUN]
    assert run["layout"]["images"][0]["source"].startswith("data:image/png")  # the decision map
    assert run["layout"]["xaxis"]["title"]["text"] == "feature_1"
    assert {t.get("name") for t in run["data"]} >= {"rare · train", "common_a · validation", "decision boundary"}
    # the curves are those of the same run computed directly from the file
    frame = tables.read_csv((ROOT / "examples" / "classification_blobs.csv").read_bytes())
    table = tables.select_dataset(frame, ["feature_1", "feature_2"], "label")
    config = tr.default_config(tables.from_table(table, "label", "classification_blobs.csv"), epochs=int(EPOCHS))
    result = tr.train(config)
    train = next(t for t in run["data"] if t.get("name") == "train")
    np.testing.assert_allclose(train["y"], result.curves.train_loss, rtol=1e-6)
    assert len(run["frames"]) == len(result.snapshots.epochs) == int(EPOCHS) + 1
    assert any("browser session's memory" in c.value for c in at.caption)
    assert any("600 rows; 2 features; multiclass, 3 classes" in c.value for c in at.caption)


def test_generated_data_is_the_default_and_presets_return_to_it() -> None:
    at = app_test("training_lab")
    at.query_params["training_epochs"] = EPOCHS
    at.run()
    assert at.radio(key="training_source").value == "generated"
    at.radio(key="training_source").set_value("upload").run()
    preset = tr.LAB_PRESETS[0]
    at.button(key=f"training_preset_{preset.title}").click().run()
    assert not exceptions(at)
    assert at.radio(key="training_source").value == "generated"


def test_regression_on_one_feature_shows_the_fit_in_the_files_units() -> None:
    at = _upload(_lab(), "study.csv", _csv(_regression_frame()))
    assert not errors(at), errors(at)
    assert at.selectbox(key="training_upload_target").value == "score"
    assert at.radio(key="training_upload_task").value == "regression"
    at.multiselect(key="training_upload_features").set_value(["hours"]).run()
    assert at.selectbox(key="training_loss").value == "mse"
    fig = views(at)[RUN]
    assert fig["layout"]["xaxis"]["title"]["text"] == "hours" and fig["layout"]["yaxis"]["title"]["text"] == "score"
    assert "model" in {t.get("name") for t in fig["data"]} and "true f(x)" not in str(fig["data"])
    assert fig["layout"]["shapes"][1]["path"].startswith("M")  # the fitted curve, moved by the frames
    assert [a["text"] for a in fig["layout"]["annotations"]][2] == "RMSE"
    before = views(at)
    at.toggle(key="training_standardize_y").set_value(False).run()
    assert not exceptions(at)
    assert not same_data(before[RUN], views(at)[RUN])


def test_several_features_show_predicted_against_actual() -> None:
    at = _upload(_lab(), "study.csv", _csv(_regression_frame()))
    fig = views(at)[RESULT]
    assert "images" not in views(at)[RUN]["layout"] or not views(at)[RUN]["layout"]["images"]  # no plane: charts only
    assert fig["layout"]["xaxis"]["title"]["text"] == "actual score"
    assert fig["data"][0]["name"] == "predicted = actual" and fig["data"][1]["name"] == "run"


def test_classification_on_three_features_shows_a_confusion_matrix() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(150, 3))
    label = np.where(x.sum(axis=1) > 0, "pass", "fail")
    at = _upload(_lab(), "grades.csv", _csv(pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "result": label})))
    assert not errors(at)
    assert at.selectbox(key="training_loss").value in tr.compatible_losses("binary")
    at.selectbox(key="training_loss").set_value("bce_logits").run()
    fig = views(at)[RESULT]
    assert fig["data"][0]["type"] == "heatmap" and fig["data"][0]["x"] == ["fail", "pass"]
    validation = at.session_state[tr.LAST_RUN_KEY].data.make().y_val
    assert np.sum(fig["data"][0]["text"]) == len(validation) and 40 <= len(validation) <= 50  # 30 % of 150
    np.testing.assert_array_equal(np.sum(fig["data"][0]["text"], axis=1), np.bincount(validation.astype(int)))
    assert any("no plane to draw" in c.value for c in at.caption)


def test_data_controls_change_the_run() -> None:
    at = _upload(_lab(), "study.csv", _csv(_regression_frame(n=400)))
    for kind, key, value in (("slider", "training_rows", 100), ("slider", "training_seed", 3),
                             ("slider", "training_val_fraction", 0.2)):
        before = views(at)
        getattr(at, kind)(key=key).set_value(value)
        at.run()
        assert not exceptions(at) and not errors(at), errors(at)
        assert not same_data(before[RUN], views(at)[RUN]), key
    assert any("100 of 400 rows" in c.value for c in at.caption)
    before = views(at)
    at.multiselect(key="training_upload_features").set_value(["noise"]).run()
    assert not same_data(before[RUN], views(at)[RUN])


def test_task_is_inferred_and_overridable() -> None:
    frame = pd.DataFrame({"x": np.arange(40.0), "grade": np.arange(40) % 4})  # four integer classes
    at = _upload(_lab(), "g.csv", _csv(frame))
    assert at.radio(key="training_upload_task").value == "classification"
    assert at.selectbox(key="training_loss").value == "cross_entropy"
    at.radio(key="training_upload_task").set_value("regression").run()
    assert not exceptions(at) and not errors(at)
    assert at.selectbox(key="training_loss").value == "mse"
    assert any("Inferred: **classification**; you chose regression" in c.value for c in at.caption)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"a,b\n\xff\xfe,1\n2,3\n", "not UTF-8"),
        (b"name,label\nann,x\nbob,y\n", "numeric column besides the target"),
        (b"x,y\n1,2.5\n", "at least 2 are needed"),
        (b"x,z,y\n1,5,2\n2,5,3\n3,5,5\n", "'z' is constant"),
        (b"x,y\n1,1.5\nnan,2.5\ninf,3.5\n4,4.5\nfoo,5.5\n6,6.5\n", None),
    ],
)
def test_bad_files_give_a_message_not_a_traceback(content: bytes, message: str | None) -> None:
    at = _lab()
    at.file_uploader(key="training_upload_file").set_value(("bad.csv", content, "text/csv"))
    if message == "'z' is constant":
        at.run()
        at.multiselect(key="training_upload_features").set_value(["x", "z"])
    at.run()
    assert not exceptions(at), exceptions(at)
    if message is None:  # NaN / inf / non-numeric rows are dropped and counted
        assert any("Dropped 3 of 6 rows" in i.value for i in at.info), [i.value for i in at.info]
        return
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert len(live_figures(at)) == 2  # the lab's other tabs still draw


def test_too_many_classes_when_classification_is_forced() -> None:
    at = _upload(_lab(), "study.csv", _csv(_regression_frame()))
    at.radio(key="training_upload_task").set_value("classification").run()
    assert not exceptions(at)
    assert any("distinct values; classification allows at most 20" in e.value for e in at.error)


def test_two_sessions_never_see_each_others_data_or_runs() -> None:
    first = _upload(_lab(), "a.csv", _csv(_regression_frame(seed=0, slope=3.0)))
    second = _upload(_lab(), "b.csv", _csv(_regression_frame(seed=1, slope=-5.0)))
    for at in (first, second):
        at.multiselect(key="training_upload_features").set_value(["hours"]).run()
    fits = []
    for at in (first, second):
        player = live_data(at)[RUN]  # each session plays its own run, from its end
        assert player["player"] is not None and player["params"][0]["index"] == int(EPOCHS)
        curve = next(s["path"] for s in player["figure"]["layout"]["shapes"] if s["xref"] == "x")
        fits.append(np.array([float(point.split(",")[1]) for point in curve[1:].split("L")]))
    assert fits[0][-1] > fits[0][0] and fits[1][-1] < fits[1][0]  # each session fits its own slope
    first.run()
    assert any("a.csv" in c.value for c in first.caption) and not any("b.csv" in c.value for c in first.caption)
    # nothing of either upload sits in the process-wide caches
    assert not _private_keys(tr.RUNS) and not _private_keys(nl.LANDSCAPES)
    runs = [at.session_state[_PRIVATE_KEY][id(tr.RUNS)] for at in (first, second)]
    assert runs[0] is not runs[1] and len(runs[0]) >= 1


def test_neural_landscape_uses_the_last_run_on_uploaded_data() -> None:
    lab = _upload(_lab(), "study.csv", _csv(_regression_frame()))
    config = lab.session_state[tr.LAST_RUN_KEY]
    assert config.data.private
    at = app_test("neural_landscape")
    at.session_state[tr.LAST_RUN_KEY] = config
    at.query_params["neural_model"] = "last training-lab run"
    at.query_params["neural_resolution"] = "11"
    at.run()
    assert not exceptions(at) and not errors(at), errors(at)
    assert any("study.csv" in c.value for c in at.caption)
    assert len(figures(at)) >= 3
    assert not _private_keys(tr.RUNS) and not _private_keys(nl.LANDSCAPES)
    assert len(at.session_state[_PRIVATE_KEY][id(nl.LANDSCAPES)]) >= 2
