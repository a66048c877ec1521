"""The Generative page: renders, every control moves the chart it drives, links restore and validate,
and the numbers it shows agree with an independent numpy computation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from helpers import app_test, errors, exceptions, figures, same_data, warnings
from streamlit.testing.v1 import AppTest

from lossviz.studies import generative as gs
from lossviz.toolkit.data import clean_image

GENERATOR, DISCRIMINATOR, TV = 0, 1, 2


@pytest.fixture(scope="module")
def default() -> AppTest:
    at = app_test("generative")
    at.run()
    return at


def numpy_tv(x: np.ndarray) -> float:
    return float((np.diff(x, axis=1) ** 2).sum() + (np.diff(x, axis=0) ** 2).sum())


def numpy_tv_grad(x: np.ndarray) -> np.ndarray:
    g = np.zeros_like(x)
    dh, dv = np.diff(x, axis=1), np.diff(x, axis=0)
    g[:, :-1] -= 2 * dh
    g[:, 1:] += 2 * dh
    g[:-1, :] -= 2 * dv
    g[1:, :] += 2 * dv
    return g


def metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def test_renders_three_charts_without_errors(default: AppTest) -> None:
    assert exceptions(default) == [] and errors(default) == []
    assert len(figures(default)) == 3


def test_shown_tv_numbers_match_numpy(default: AppTest) -> None:
    """Default image (noise 0.15, seed 0), λ = 0.2, 30 steps of x ← x − [(x − y) + λ∇TV(x)]/(1 + 16λ)."""
    clean = clean_image()
    noisy = clean + 0.15 * np.random.default_rng(0).standard_normal(clean.shape)
    x = noisy.copy()
    for _ in range(30):
        x = x - ((x - noisy) + 0.2 * numpy_tv_grad(x)) / (1 + 16 * 0.2)
    assert metric(default, "TV(clean)") == f"{numpy_tv(clean):.4f}"
    assert metric(default, "TV(noisy y)") == f"{numpy_tv(noisy):.4f}"
    assert metric(default, "TV(x), λ = 0.2") == f"{numpy_tv(x):.4f}"
    assert metric(default, "PSNR of y") == f"{10 * np.log10(1 / ((noisy - clean) ** 2).mean()):.2f} dB"
    assert metric(default, "PSNR of x") == f"{10 * np.log10(1 / ((x - clean) ** 2).mean()):.2f} dB"


def test_generator_chart_shows_the_saturating_loss_and_its_vanishing_region(default: AppTest) -> None:
    fig = figures(default)[GENERATOR]
    a = gs.logit_grid(gs.LOGIT_RANGE.default)
    saturating = next(t for t in fig["data"] if t.get("name") == "saturating log(1 − D)")
    np.testing.assert_allclose(saturating["y"], -np.logaddexp(0, a), rtol=1e-6, atol=1e-7)
    shade = next(t for t in fig["data"] if t.get("fill") == "toself")
    xs = [v for v in shade["x"] if v is not None]
    assert max(xs) == pytest.approx(np.log(0.05 / 0.95), abs=1e-3)


CONTROLS: dict[str, tuple[Callable[[AppTest], object], list[int]]] = {
    "axis": (lambda at: at.radio(key="generative_axis").set_value("probability"), [GENERATOR, DISCRIMINATOR]),
    "range": (lambda at: at.slider(key="generative_range").set_value(9.0), [GENERATOR, DISCRIMINATOR]),
    "generators": (
        lambda at: at.multiselect(key="generative_generators").set_value(["gan_generator_saturating"]),
        [GENERATOR],
    ),
    "vanish": (lambda at: at.select_slider(key="generative_vanish").set_value(0.2), [GENERATOR]),
    "discriminators": (
        lambda at: at.multiselect(key="generative_discriminators").set_value(["hinge_gan_discriminator"]),
        [DISCRIMINATOR],
    ),
    "noise": (lambda at: at.slider(key="generative_noise").set_value(0.3), [TV]),
    "seed": (lambda at: at.slider(key="generative_seed").set_value(7), [TV]),
    "weight": (lambda at: at.select_slider(key="generative_weight").set_value(2.0), [TV]),
    "steps": (lambda at: at.slider(key="generative_steps").set_value(5), [TV]),
}


@pytest.mark.parametrize("control", list(CONTROLS))
def test_each_control_changes_the_chart_it_drives(default: AppTest, control: str) -> None:
    move, driven = CONTROLS[control]
    at = app_test("generative")
    at.run()
    move(at)
    at.run()
    assert exceptions(at) == [] and errors(at) == []
    before, after = figures(default), figures(at)
    for i in range(3):
        assert same_data(before[i], after[i]) is (i not in driven), f"{control} and chart {i}"


def test_link_restores_state() -> None:
    at = app_test("generative")
    at.query_params.update({"generative_weight": "1", "generative_axis": "probability", "generative_steps": "12"})
    at.run()
    assert exceptions(at) == [] and warnings(at) == []
    assert any(m.label == "TV(x), λ = 1" for m in at.metric)
    assert at.radio(key="generative_axis").value == "probability"
    assert at.slider(key="generative_steps").value == 12


@pytest.mark.parametrize(
    ("key", "value", "fallback"),
    [("generative_steps", "many", 30), ("generative_noise", "7", 0.5), ("generative_axis", "sideways", "logit")],
)
def test_bad_link_values_warn_and_fall_back(key: str, value: str, fallback: object) -> None:
    at = app_test("generative")
    at.query_params[key] = value
    at.run()
    assert exceptions(at) == []
    assert any(key in w for w in warnings(at))
    widget = at.radio(key=key) if key.endswith("axis") else at.slider(key=key)
    assert widget.value == fallback
    assert len(figures(at)) == 3


def test_empty_selections_show_a_hint_not_an_error() -> None:
    at = app_test("generative")
    at.run()
    at.multiselect(key="generative_generators").set_value([])
    at.multiselect(key="generative_discriminators").set_value([])
    at.run()
    assert exceptions(at) == [] and errors(at) == []
    assert len(figures(at)) == 1  # the TV chart stays
    assert sum("Pick at least one" in i.value for i in at.info) == 2
