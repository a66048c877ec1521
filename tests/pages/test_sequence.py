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
from helpers import app_test, errors, exceptions, live_data, live_figures, live_sizes, same_data, warnings
from streamlit.testing.v1 import AppTest

import lossviz
from lossviz.studies import sequence as cs

CTC, POISSON, GAUSSIAN = 0, 1, 2
LIVE = {"sequence_boost": CTC, "sequence_count": POISSON, "sequence_gaussian_nll_var": GAUSSIAN}
"""The URL key of each chart's live parameter (the key of the slider it replaces)."""
LABELS = ("β (boost)", "y (count)", "σ² (var)")


@pytest.fixture(scope="module")
def default() -> AppTest:
    at = app_test("sequence")
    at.run()
    return at


def metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def figures(at: AppTest) -> list[dict]:
    return live_figures(at)


def shown(at: AppTest) -> list[float]:
    """The committed value of each live control."""
    return [d["params"][0]["values"][d["params"][0]["index"]] for d in live_data(at)]


def commit(at: AppTest, key: str, value: float) -> None:
    """What the browser sends when the live control ``key`` is released at ``value``."""
    at.session_state[key] = {"committed": {"values": [value], "seq": 1}}


def test_renders_three_charts_without_errors(default: AppTest) -> None:
    assert exceptions(default) == [] and errors(default) == []
    assert len(figures(default)) == 3 and max(live_sizes(default)) < 1_000_000
    var = lossviz.spec("gaussian_nll").param("var")
    assert shown(default) == [cs.BOOST.default, cs.COUNT.default, var.default]
    data = live_data(default)
    assert [d["params"][0]["label"] for d in data] == list(LABELS)
    assert [d["params"][0]["values"] for d in data] == [
        list(cs.boost_values()), list(cs.count_values()), cs.variance_values(var)
    ]
    for d in data:
        assert len(d["figure"]["frames"]) == len(d["params"][0]["values"])


def test_exactly_one_control_per_live_parameter(default: AppTest) -> None:
    assert not {s.key for s in default.slider} & set(LIVE)
    assert not {s.key for s in default.select_slider} & set(LIVE)


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
    "boost": (lambda at: commit(at, "sequence_boost", 3.0), CTC),
    "count": (lambda at: commit(at, "sequence_count", 7), POISSON),
    "target": (lambda at: at.slider(key="sequence_target").set_value(1.5), GAUSSIAN),
    "variance": (lambda at: commit(at, "sequence_gaussian_nll_var", 0.2), GAUSSIAN),
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
    commit(at, "sequence_boost", -4.0)
    at.selectbox(key="sequence_class").set_value("∅")
    at.slider(key="sequence_frame").set_value(2)
    at.run()
    logits = torch.zeros(8, 4, dtype=torch.float64)
    logits[torch.arange(8), torch.tensor([0, 1, 2, 0, 0, 2, 1, 0])] = 3.0
    logits[1, 0] += -4.0
    log_probs = torch.log_softmax(logits, dim=-1)[:, None, :]
    loss = float(F.ctc_loss(log_probs, torch.tensor([[1, 2, 2, 1]]), [8], [4], reduction="none")[0])
    assert metric(at, "CTC loss") == f"{loss:.4f}"
    assert shown(at)[CTC] == -4.0 and at.query_params["sequence_boost"] == "-4"


def test_committed_count_and_variance_reach_the_minimisers() -> None:
    at = app_test("sequence")
    at.run()
    at.slider(key="sequence_target").set_value(1.5)
    commit(at, "sequence_count", 7)
    commit(at, "sequence_gaussian_nll_var", 0.2)
    at.run()
    assert exceptions(at) == [] and errors(at) == []
    assert metric(at, "minimiser p* = log y") == f"{math.log(7):.4f}"
    assert metric(at, "minimiser p* = y") == "1.5"
    assert metric(at, "minimum ½·log σ²") == f"{0.5 * math.log(0.2):.4f}"
    poisson, gaussian = figures(at)[POISSON], figures(at)[GAUSSIAN]
    p = np.asarray(poisson["data"][0]["x"])
    np.testing.assert_allclose(poisson["data"][0]["y"], np.exp(p) - 7 * p, rtol=1e-5, atol=1e-5)
    x = np.asarray(gaussian["data"][0]["x"])
    np.testing.assert_allclose(gaussian["data"][0]["y"], 0.5 * (np.log(0.2) + (x - 1.5) ** 2 / 0.2), rtol=1e-5)


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
                            "sequence_count": "0", "sequence_boost": "2.5", "sequence_gaussian_nll_var": "0.3"})
    at.run()
    assert exceptions(at) == [] and warnings(at) == [] and errors(at) == []
    assert metric(at, "label") == "cab"
    assert at.slider(key="sequence_frames").value == 6
    assert at.selectbox(key="sequence_preset").value == "wrong"
    assert metric(at, "minimiser p* = log y") == "none (y = 0)"
    assert shown(at) == [2.5, 0.0, 0.3]
    assert metric(at, "minimum ½·log σ²") == f"{0.5 * math.log(0.3):.4f}"


@pytest.mark.parametrize(
    ("key", "value"),
    [("sequence_frame", "99"), ("sequence_boost", "x"), ("sequence_preset", "perfect"), ("sequence_class", "z"),
     ("sequence_count", "abc"), ("sequence_count", "-3"), ("sequence_gaussian_nll_var", "0")],
)
def test_bad_link_values_warn_and_fall_back(key: str, value: str) -> None:
    at = app_test("sequence")
    at.query_params[key] = value
    at.run()
    assert exceptions(at) == [] and errors(at) == []
    assert any(key in w for w in warnings(at))
    assert len(figures(at)) == 3


# --- in the browser ---------------------------------------------------------------------------------

COUNT = "y (count)"
POISSON_Y0 = (
    "(root) => root.querySelector('.js-plotly-plot')?._fullData?.[0]?.y?.[0]"
)
"""The Poisson NLL at the left end of its axis, p = −3: e⁻³ + 3y (undefined while the chart is not drawn)."""


@pytest.mark.browser
def test_in_the_browser_the_count_moves_while_dragged_and_commits_on_release() -> None:
    from helpers import browser_errors, chromium_page, drag_live, drawn_frame, live_root, sent_frames, streamlit_server
    from playwright.sync_api import expect

    counts = [int(c) for c in cs.count_values()]
    with streamlit_server() as base, chromium_page(base, "sequence", len(LIVE)) as tab:
        sent = sent_frames(tab)
        tab.reload()  # the listener sees this connection's every message
        slider = tab.get_by_role("slider", name=COUNT, exact=True)
        expect(slider).to_have_attribute("aria-valuetext", str(cs.COUNT.default), timeout=120_000)
        assert browser_errors(tab) == []
        for label in LABELS:  # one control per live parameter, none left of the old sliders
            assert tab.get_by_role("slider", name=label, exact=True).count() == 1
        assert tab.locator('[data-testid="stSlider"]').filter(has_text="count").count() == 0
        slider.scroll_into_view_if_needed()
        before = len(sent)
        drawn = drag_live(tab, COUNT, [0.4, 0.6, 0.8])
        assert len(set(drawn)) == len(drawn)  # a new frame at each step
        assert len(sent) == before  # nothing reached the server while dragging
        count = counts[drawn[-1]]
        assert live_root(tab, COUNT).evaluate(POISSON_Y0) == pytest.approx(math.exp(-3) + 3 * count, rel=1e-5)
        tab.mouse.up()
        tab.wait_for_function(f"() => location.search.includes('sequence_count={count}')", timeout=60_000)
        tab.reload()
        expect(slider).to_have_attribute("aria-valuetext", str(count), timeout=120_000)
        tab.wait_for_function(
            f"() => document.body.innerText.includes('{math.log(count):.4f}')", timeout=60_000
        )  # the minimiser metric, log y, follows the restored count
        assert drawn_frame(tab, COUNT) == drawn[-1]
        slider.focus()
        slider.press("ArrowRight")
        tab.wait_for_function(f"() => location.search.includes('sequence_count={count + 1}')", timeout=60_000)
        assert drawn_frame(tab, COUNT) == drawn[-1] + 1
        assert browser_errors(tab) == []
