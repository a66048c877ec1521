"""The Perceptual loss page in AppTest: renders, each control drives what it should, links restore state and
bad link values warn; the numbers it shows are the study's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from helpers import app_test, errors, exceptions, figure_sizes, figures, trace_data, warnings

from lossviz.studies import perceptual as sp

CHARTS = ("bars", "descent")
"""The page's Plotly charts, in page order."""
IMAGE_ROWS = ("distortions", "energy", "reconstructions")
"""The page's rows of images (st.image lists), in page order."""


@pytest.fixture
def page():
    at = app_test("perceptual", timeout=300)
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


def _charts(at) -> dict[str, dict]:
    figs = figures(at)
    assert len(figs) == len(CHARTS)
    return dict(zip(CHARTS, figs, strict=True))


def _same_y(a: dict, b: dict) -> bool:
    """Whether two decoded charts plot the same values (their x may be category names)."""
    ya, yb = trace_data(a, ("y",)), trace_data(b, ("y",))
    return len(ya) == len(yb) and all(np.array_equal(u, v) for u, v in zip(ya, yb, strict=True))


def _images(at) -> dict[str, list[tuple[str, str]]]:
    """(caption, media URL) of every image per row; the URL names the image's content by its hash."""
    rows = [[(img.caption, img.url) for img in element.proto.imgs] for element in at.get("image")]
    assert len(rows) == len(IMAGE_ROWS)
    return dict(zip(IMAGE_ROWS, rows, strict=True))


def _tables(at) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


def test_page_renders_the_study_numbers(page) -> None:
    assert not errors(page) and not warnings(page)
    assert max(figure_sizes(page)) < 1_000_000
    c = sp.compare(sp.BLUR.default, sp.NOISE.default, sp.DEPTH.default)
    r = sp.reconstruct(sp.JITTER.default, sp.STEPS.default, sp.DEPTH.default)
    distortions, reconstructions = _tables(page)
    pd.testing.assert_frame_equal(distortions, pd.DataFrame(c.table()))
    pd.testing.assert_frame_equal(reconstructions, pd.DataFrame(r.table()))
    images = _images(page)
    assert [caption for caption, _ in images["distortions"]] == ["original", *c.labels]
    assert len(images["energy"]) == 6 and len(images["reconstructions"]) == len(sp.IMAGES)
    mse_ratio, perceptual_ratio = c.ratio_to_blur()
    text = " ".join(m.value for m in page.markdown)
    assert f"**{mse_ratio[0]:.1f}×** as bad as the blur" in text and f"**{perceptual_ratio[0]:.2f}×** the blur" in text
    assert "not a trained network" in text


@pytest.mark.parametrize(
    ("key", "value", "changed", "images"),
    [
        ("perceptual_blur", 2.0, ("bars",), ("distortions", "energy")),
        ("perceptual_noise", 0.2, ("bars",), ("distortions", "energy")),
        ("perceptual_jitter", 0, ("descent",), ("reconstructions",)),
        ("perceptual_steps", 40, ("descent",), ("reconstructions",)),
        ("perceptual_depth", 1, CHARTS, ("reconstructions",)),
    ],
)
def test_each_control_changes_what_it_drives(page, key, value, changed, images) -> None:
    before, before_images = _charts(page), _images(page)
    page.slider(key=key).set_value(value)
    page.run()
    assert not exceptions(page), exceptions(page)
    after, after_images = _charts(page), _images(page)
    for name in CHARTS:
        assert _same_y(before[name], after[name]) == (name not in changed), name
    for row in IMAGE_ROWS:
        assert (before_images[row] == after_images[row]) == (row not in images), row


def test_moving_steps_back_reads_the_run_already_made(monkeypatch) -> None:
    """One descent per (J, L) serves every smaller steps setting; a larger one runs once to that count."""
    runs: list[int] = []
    real = sp.descend
    expected = {steps: pd.DataFrame(sp.reconstruct(0, steps, 1).table()) for steps in (20, 40, 60, 80)}

    def counted(jitter, depth, keep):
        runs.append(max(keep))
        return real(jitter, depth, keep)

    monkeypatch.setattr(sp, "descend", counted)
    st.cache_data.clear()  # no run or result of an earlier test in this process
    st.cache_resource.clear()
    at = app_test("perceptual", timeout=300)
    at.query_params.update(perceptual_jitter="0", perceptual_depth="1", perceptual_steps="60")  # a (J, L) of its own
    at.run()
    for steps in (40, 20, 60, 80, 40):
        at.slider(key="perceptual_steps").set_value(steps).run()
        assert not exceptions(at), exceptions(at)
        table = at.dataframe[-1].value
        pd.testing.assert_frame_equal(table, expected[steps])
    assert runs == [60, 80]


def test_link_restores_the_state() -> None:
    at = app_test("perceptual", timeout=300)
    for key, value in (("blur", "2.5"), ("noise", "0"), ("depth", "2"), ("jitter", "1"), ("steps", "60")):
        at.query_params[f"perceptual_{key}"] = value
    at.run()
    assert not exceptions(at) and not warnings(at)
    assert at.slider(key="perceptual_blur").value == 2.5 and at.slider(key="perceptual_depth").value == 2
    assert at.slider(key="perceptual_jitter").value == 1 and at.slider(key="perceptual_steps").value == 60
    distortions, reconstructions = _tables(at)
    pd.testing.assert_frame_equal(distortions, pd.DataFrame(sp.compare(2.5, 0.0, 2).table()))
    pd.testing.assert_frame_equal(reconstructions, pd.DataFrame(sp.reconstruct(1, 60, 2).table()))


def test_bad_link_values_warn_and_fall_back() -> None:
    at = app_test("perceptual", timeout=300)
    at.query_params["perceptual_blur"] = "sharp"
    at.query_params["perceptual_depth"] = "7"
    at.query_params["perceptual_steps"] = "-5"
    at.run()
    assert not exceptions(at)
    shown = warnings(at)
    assert len(shown) == 3, shown
    assert at.slider(key="perceptual_blur").value == sp.BLUR.default
    assert at.slider(key="perceptual_depth").value == 3  # the nearest valid depth
    assert at.slider(key="perceptual_steps").value == 20  # the nearest valid number of steps
    assert len(figures(at)) == len(CHARTS)


# --- in the browser: fragments and URL binding, which AppTest does not run -------------------------------


@pytest.mark.browser
def test_in_the_browser_the_blur_slider_reruns_its_section_and_writes_the_link() -> None:
    from helpers import IDLE_JS, browser_errors, chromium_page, streamlit_server

    chart_y = """(i) => {
        const plot = document.querySelectorAll('.js-plotly-plot')[i];  // redrawn during a rerun: may be missing
        return plot && plot._fullData ? JSON.stringify(plot._fullData.map(t => Array.from(t.y || []))) : '';
    }"""
    with streamlit_server() as base:
        with chromium_page(base, "perceptual", len(CHARTS)) as tab:
            assert browser_errors(tab) == []
            bars, descent = tab.evaluate(chart_y, 0), tab.evaluate(chart_y, 1)
            assert bars and descent
            slider = tab.locator('[data-testid="stSlider"] input[type="range"]').nth(1)  # blur, after depth
            slider.focus()
            slider.press("ArrowRight")
            tab.wait_for_function(f"() => !['', {bars!r}].includes(({chart_y})(0))", timeout=60_000, polling=250)
            tab.wait_for_function(IDLE_JS, timeout=60_000)
            assert browser_errors(tab) == []
            assert tab.evaluate(chart_y, 1) == descent  # the reconstruction section did not rerun
            assert "perceptual_blur=1.1" in tab.url
