"""The Sequence & count page: renders, every control moves the chart it drives, bad labels and impossible
alignments give messages (and the rest of the page keeps working), links restore and validate, and the
numbers it shows agree with F.ctc_loss and the closed-form minimisers."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import app_test, errors, exceptions, figures, same_data, warnings
from streamlit.testing.v1 import AppTest

CTC, POISSON, GAUSSIAN = 0, 1, 2


@pytest.fixture(scope="module")
def default() -> AppTest:
    at = app_test("sequence")
    at.run()
    return at


def metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def test_renders_three_charts_without_errors(default: AppTest) -> None:
    assert exceptions(default) == [] and errors(default) == []
    assert len(figures(default)) == 3


def test_shown_ctc_loss_matches_torch_ctc_loss(default: AppTest) -> None:
    """Default example: T = 8, classes ∅ a b c, label abba; the aligned preset gives logit 3 to the
    path ∅ a b ∅ ∅ b a ∅ (written out here by hand) and 0 elsewhere."""
    logits = torch.zeros(8, 4, dtype=torch.float64)
    logits[torch.arange(8), torch.tensor([0, 1, 2, 0, 0, 2, 1, 0])] = 3.0
    log_probs = torch.log_softmax(logits, dim=-1)[:, None, :]
    loss = float(F.ctc_loss(log_probs, torch.tensor([[1, 2, 2, 1]]), [8], [4], reduction="none")[0])
    assert metric(default, "CTC loss") == f"{loss:.4f}"
    assert metric(default, "p(label | x)") == f"{math.exp(-loss):.4g}"
    assert metric(default, "best-path decoding") == "abba"
    posteriors = figures(default)[CTC]["data"][0]["z"]
    np.testing.assert_allclose(posteriors, torch.softmax(logits, -1).numpy().T, atol=5e-6)  # 5 decimals shown


def test_shown_minimisers(default: AppTest) -> None:
    assert metric(default, "minimiser p* = log y") == f"{math.log(3):.4f}"
    assert metric(default, "minimiser p* = y") == "0"
    assert metric(default, "minimum ½·log σ²") == "0.0000"


CONTROLS: dict[str, tuple[Callable[[AppTest], object], int]] = {
    "frames": (lambda at: at.slider(key="sequence_frames").set_value(10), CTC),
    "letters": (lambda at: at.slider(key="sequence_letters").set_value(5), CTC),
    "label": (lambda at: at.text_input(key="sequence_label").input("cab"), CTC),
    "preset": (lambda at: at.selectbox(key="sequence_preset").set_value("uniform"), CTC),
    "sharpness": (lambda at: at.slider(key="sequence_sharpness").set_value(6.0), CTC),
    "frame": (lambda at: at.slider(key="sequence_frame").set_value(4), CTC),
    "class": (lambda at: at.selectbox(key="sequence_class").set_value("b"), CTC),
    "boost": (lambda at: at.slider(key="sequence_boost").set_value(3.0), CTC),
    "count": (lambda at: at.slider(key="sequence_count").set_value(7), POISSON),
    "target": (lambda at: at.slider(key="sequence_target").set_value(1.5), GAUSSIAN),
    "variance": (lambda at: at.select_slider(key="sequence_gaussian_nll_var").set_value(0.2), GAUSSIAN),
}


@pytest.mark.parametrize("control", list(CONTROLS))
def test_each_control_changes_the_chart_it_drives(default: AppTest, control: str) -> None:
    move, driven = CONTROLS[control]
    at = app_test("sequence")
    at.run()
    move(at)
    at.run()
    assert exceptions(at) == [] and errors(at) == []
    before, after = figures(default), figures(at)
    for i in range(3):
        assert same_data(before[i], after[i]) is (i != driven), f"{control} and chart {i}"


def test_boost_moves_the_loss_as_ctc_loss_says() -> None:
    at = app_test("sequence")
    at.run()
    at.slider(key="sequence_boost").set_value(-4.0)
    at.selectbox(key="sequence_class").set_value("∅")
    at.slider(key="sequence_frame").set_value(2)
    at.run()
    logits = torch.zeros(8, 4, dtype=torch.float64)
    logits[torch.arange(8), torch.tensor([0, 1, 2, 0, 0, 2, 1, 0])] = 3.0
    logits[1, 0] += -4.0
    log_probs = torch.log_softmax(logits, dim=-1)[:, None, :]
    loss = float(F.ctc_loss(log_probs, torch.tensor([[1, 2, 2, 1]]), [8], [4], reduction="none")[0])
    assert metric(at, "CTC loss") == f"{loss:.4f}"


def test_a_label_outside_the_alphabet_is_explained() -> None:
    at = app_test("sequence")
    at.run()
    at.text_input(key="sequence_label").input("abz").run()
    assert exceptions(at) == []
    assert any("'z' at position 3" in e and "a, b, c" in e for e in errors(at))
    assert len(figures(at)) == 2  # Poisson and Gaussian still drawn


def test_too_few_frames_show_the_loss_domain_error() -> None:
    at = app_test("sequence")
    at.run()
    at.slider(key="sequence_frames").set_value(4).run()  # abba needs a ∅ between the b's: T ≥ 5
    assert exceptions(at) == []
    assert any("needs at least T = 5" in e for e in errors(at))
    assert any("at least 5" in i.value for i in at.info)
    assert len(figures(at)) == 2


def test_frame_and_class_follow_a_smaller_example() -> None:
    at = app_test("sequence")
    at.run()
    at.slider(key="sequence_frame").set_value(8)
    at.selectbox(key="sequence_class").set_value("c")
    at.run()
    at.slider(key="sequence_frames").set_value(6)
    at.slider(key="sequence_letters").set_value(2)
    at.run()
    assert exceptions(at) == [] and errors(at) == []
    assert at.slider(key="sequence_frame").value == 6
    assert at.selectbox(key="sequence_class").value == "a"


def test_empty_label_is_all_blank() -> None:
    at = app_test("sequence")
    at.run()
    at.text_input(key="sequence_label").input("").run()
    assert exceptions(at) == [] and errors(at) == []
    assert metric(at, "label") == "(empty)"


def test_link_restores_state() -> None:
    at = app_test("sequence")
    at.query_params.update({"sequence_label": "cab", "sequence_frames": "6", "sequence_preset": "wrong",
                            "sequence_count": "0"})
    at.run()
    assert exceptions(at) == [] and warnings(at) == [] and errors(at) == []
    assert metric(at, "label") == "cab"
    assert at.slider(key="sequence_frames").value == 6
    assert at.selectbox(key="sequence_preset").value == "wrong"
    assert metric(at, "minimiser p* = log y") == "none (y = 0)"


@pytest.mark.parametrize(
    ("key", "value"),
    [("sequence_frame", "99"), ("sequence_boost", "x"), ("sequence_preset", "perfect"), ("sequence_class", "z")],
)
def test_bad_link_values_warn_and_fall_back(key: str, value: str) -> None:
    at = app_test("sequence")
    at.query_params[key] = value
    at.run()
    assert exceptions(at) == [] and errors(at) == []
    assert any(key in w for w in warnings(at))
    assert len(figures(at)) == 3
