"""The Focal-γ page in AppTest: renders, the γ × α pad and every control drive their charts, links restore state;
and in the browser: the pad moves the chart while dragged and commits once, to the link."""

from __future__ import annotations

import itertools
import urllib.parse

import numpy as np
import pytest
from helpers import (
    app_test,
    browser_errors,
    chromium_page,
    drag_live,
    drawn_frame,
    errors,
    exceptions,
    figures,
    live_data,
    live_drawn,
    live_root,
    live_sizes,
    new_frame,
    same_data,
    sent_frames,
    streamlit_server,
    warnings,
)

import lossviz
from lossviz.studies import focal as fs
from lossviz.toolkit.data import BLOBS_MAJORITY
from lossviz.ui.controls import control_key

PAD = "focal_focal"
GAMMA_KEY, ALPHA_KEY = control_key(PAD, "gamma"), control_key(PAD, "alpha")
GAMMA_NAME, ALPHA_NAME = "γ (gamma)", "α (alpha)"
NY = fs.ALPHA_FRAMES.size


def _run(query: dict | None = None, committed: tuple[float, float] | None = None):
    at = app_test("focal", timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    if committed is not None:
        at.session_state[PAD] = {"committed": {"values": list(committed), "seq": 1}}
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


def _charts(at) -> dict[str, dict]:
    """The live curve figure (as drawn: at the pad's committed frame) and the three Plotly charts, by role."""
    (curves,) = live_drawn(at)
    names = ("boundaries", "pr", "share")
    figs = figures(at)
    assert len(figs) == len(names)
    return {"curves": curves, **dict(zip(names, figs, strict=True))}


def _indices(at) -> tuple[int, int]:
    """The frame (γ index, α index) the pad shows."""
    (data,) = live_data(at)
    assert [p["label"] for p in data["params"]] == [GAMMA_NAME, ALPHA_NAME]
    return data["params"][0]["index"], data["params"][1]["index"]


def _live(fig: dict, name: str) -> np.ndarray:
    """The y of the first live trace whose name starts with ``name`` (the loss panel's, for a class)."""
    return next(np.asarray(t["y"]) for t in fig["data"] if t["name"].startswith(name))


def _model_label(at) -> str:
    return list(at.dataframe[0].value.index)[1]


def _paper(p: np.ndarray, gamma: float, alpha_t: float) -> np.ndarray:
    """−α_t (1 − p_t)^γ log p_t, Eq. 5 of Lin et al. written directly."""
    return -alpha_t * (1 - p) ** gamma * np.log(p)


@pytest.fixture(scope="module")
def default_page():
    return _run()


def test_default_page(default_page) -> None:
    at = default_page
    charts = _charts(at)
    curves = charts["curves"]
    assert len(curves["frames"]) == fs.GAMMA_FRAMES.size * fs.ALPHA_FRAMES.size == 441
    assert _indices(at) == (8, 5)  # γ = 2, α = 0.25: the spec's defaults
    # Fig. 1 of Lin et al.: γ = 0 is −log p_t.
    x, ce = fs.P_T, curves["data"][0]["y"]
    np.testing.assert_allclose(curves["data"][0]["x"], x, rtol=1e-7)
    np.testing.assert_allclose(ce, -np.log(x), rtol=1e-6)
    # Live curves: the positive weighted by α = 0.25, the negative by 1 − α = 0.75.
    x = fs.P_T_LIVE
    np.testing.assert_allclose(_live(curves, "live: positive"), _paper(x, 2, 0.25), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_live(curves, "live: negative"), _paper(x, 2, 0.75), rtol=1e-5, atol=1e-7)
    assert lossviz.spec("focal").latex in at.latex[0].value
    text = " ".join(m.value for m in at.markdown)
    assert "p_t = 0.9: 100×" in text and "p_t = 0.968: 977×" in text and "p_t = 0.99: 10,000×" in text
    assert not errors(at) and not warnings(at)
    assert live_sizes(at)[0] < 1_500_000
    metrics = at.dataframe[0].value
    assert list(metrics.index) == ["cross-entropy", "focal (γ = 2, α = 0.25)"]
    assert (metrics["converged"] == "✓").all()
    assert ((metrics["PR-AUC (average precision)"] > 0) & (metrics["PR-AUC (average precision)"] <= 1)).all()


def test_one_control_per_parameter(default_page) -> None:
    """γ and α have the pad alone: no st.slider left under their old keys (or any key naming them)."""
    keys = [s.key for s in default_page.slider] + [s.key for s in default_page.select_slider]
    assert not [k for k in keys if k and ("gamma" in k or "alpha" in k)], keys
    assert len(live_data(default_page)) == 1


def test_committed_pad_values_reach_the_models_share_and_text(default_page) -> None:
    before = _charts(default_page)
    at = _run(committed=(0.5, 0.75))
    after = _charts(at)
    assert _indices(at) == (2, 15)
    assert at.query_params[GAMMA_KEY] == "0.5" and at.query_params[ALPHA_KEY] == "0.75"
    x = fs.P_T_LIVE
    np.testing.assert_allclose(_live(after["curves"], "live: positive"), _paper(x, 0.5, 0.75), rtol=1e-5, atol=1e-7)
    assert not same_data(before["boundaries"], after["boundaries"])  # the focal model is retrained
    assert not same_data(before["pr"], after["pr"])
    assert _model_label(at) == "focal (γ = 0.5, α = 0.75)"
    assert after["share"]["data"][2]["x"] == [0.5] and before["share"]["data"][2]["x"] == [2.0]
    assert not same_data(before["share"], after["share"])  # the share is of the loss at the new α
    assert "How much less loss than cross-entropy** at γ = 0.5" in " ".join(m.value for m in at.markdown)
    assert "at γ = 0.5, " in at.caption[-1].value


def test_alpha_alone_moves_the_models_and_the_share(default_page) -> None:
    before = _charts(default_page)
    at = _run(committed=(2.0, 0.75))
    after = _charts(at)
    np.testing.assert_array_equal(before["share"]["data"][2]["x"], after["share"]["data"][2]["x"])
    assert not same_data(before["share"], after["share"]) and not same_data(before["boundaries"], after["boundaries"])
    assert same_data({"data": before["curves"]["data"][:15]}, {"data": after["curves"]["data"][:15]})  # Fig. 1


def test_weighting_off_makes_alpha_inert() -> None:
    at = _run(committed=(2.0, 0.75))
    at.toggle(key="focal_weighting").set_value(False)
    at.run()
    assert not exceptions(at)
    curves = _charts(at)["curves"]
    x = fs.P_T_LIVE
    np.testing.assert_allclose(_live(curves, "live: positive"), _paper(x, 2, 1), rtol=1e-5, atol=1e-7)
    assert "α off" in _live_name(curves, "live: positive")
    assert _model_label(at) == "focal (γ = 2, α off)"
    n_ref = 3 * len(fs.LIN_GAMMAS)
    frames = curves["frames"]
    assert frames[8 * NY + 0]["traces"] == list(range(n_ref, n_ref + 5))
    for k in range(5):  # every α column of a γ row shows the same curves
        np.testing.assert_array_equal(frames[8 * NY]["data"][k]["y"], frames[8 * NY + NY - 1]["data"][k]["y"])


def _live_name(fig: dict, name: str) -> str:
    return next(t["name"] for t in fig["data"] if t["name"].startswith(name))


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
    at = _run({GAMMA_KEY: "5", ALPHA_KEY: "0.6", "focal_ratio": "1000", "focal_seed": "3"})
    assert _indices(at) == (20, 12)
    assert at.select_slider(key="focal_ratio").value == 1000.0
    charts = _charts(at)
    assert charts["share"]["data"][2]["x"] == [5.0]
    assert _model_label(at) == "focal (γ = 5, α = 0.6)"
    assert len(charts["boundaries"]["data"][1]["x"]) == 3
    assert not warnings(at)


def test_an_old_link_between_frames_snaps_to_the_nearest() -> None:
    """The old slider stepped γ by 0.1: a link's 3.3 shows the nearest frame, 3.25, and says so in the URL."""
    at = _run({GAMMA_KEY: "3.3", "focal_weighting": "false"})
    assert _indices(at) == (13, 5) and _model_label(at) == "focal (γ = 3.25, α off)"
    assert at.toggle(key="focal_weighting").value is False
    assert at.query_params[GAMMA_KEY] == "3.25" and not warnings(at)


@pytest.mark.parametrize(
    ("key", "value", "indices"),
    [
        (GAMMA_KEY, "banana", (8, 5)),
        (GAMMA_KEY, "99", (20, 5)),
        (ALPHA_KEY, "abc", (8, 5)),
        (ALPHA_KEY, "7", (8, 20)),
        ("focal_ratio", "0", (8, 5)),
        ("focal_weighting", "maybe", (8, 5)),
    ],
)
def test_bad_query_string_warns(key: str, value: str, indices: tuple[int, int]) -> None:
    at = _run({key: value})
    assert any(key in w for w in warnings(at)), warnings(at)
    assert _indices(at) == indices


# --- in the browser --------------------------------------------------------------------------------------------


def _query(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))


def _wait_idle_with(tab, key: str, text: str) -> None:
    """Wait until the link holds ``key=text`` and the script has finished its run."""
    tab.wait_for_function(
        "([key, text]) => new URLSearchParams(location.search).get(key) === text"
        " && document.querySelector('[data-testid=\"stApp\"]').dataset.testScriptState === 'notRunning'",
        arg=[key, text], timeout=60_000, polling=100,
    )


def _reload(tab) -> None:
    """Reload the tab and wait until the live chart is drawn and the script idle."""
    tab.reload()
    tab.wait_for_function(
        "() => document.querySelector('.lossviz-live')?.dataset.frame !== undefined"
        " && document.querySelector('.lossviz-live .main-svg') !== null"
        " && document.querySelector('[data-testid=\"stApp\"]').dataset.testScriptState === 'notRunning'",
        timeout=60_000, polling=100,
    )


@pytest.mark.browser
def test_the_pad_moves_the_chart_live_commits_both_values_and_a_reload_restores_them() -> None:
    with streamlit_server() as base, chromium_page(base, "focal", charts=4) as tab:
        assert not browser_errors(tab)
        for name in (GAMMA_NAME, ALPHA_NAME):
            assert tab.get_by_role("slider", name=name, exact=True).count() == 1
        sent = sent_frames(tab)
        _reload(tab)  # a new connection, whose every message counts
        tab.wait_for_timeout(300)
        assert sent, "no WebSocket message seen: the count below would prove nothing"
        pad = live_root(tab, GAMMA_NAME).locator(".lossviz-live__pad")
        pad.scroll_into_view_if_needed()
        box = pad.bounding_box()
        before = len(sent)
        frames = [drawn_frame(tab, GAMMA_NAME)]
        tab.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        tab.mouse.down()
        for fx, fy in [(0.5, 0.5), (0.85, 0.15), (0.15, 0.3), (0.95, 0.9)]:
            tab.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy, steps=3)
            frames.append(new_frame(tab, GAMMA_NAME, frames[-1]))
        assert len(set(frames)) == len(frames), frames
        assert len(sent) == before, "the drag sent WebSocket messages"
        tab.mouse.up()
        i, j = divmod(frames[-1], NY)
        gamma = tab.get_by_role("slider", name=GAMMA_NAME, exact=True).get_attribute("aria-valuetext")
        alpha = tab.get_by_role("slider", name=ALPHA_NAME, exact=True).get_attribute("aria-valuetext")
        assert float(gamma) == pytest.approx(fs.GAMMA_FRAMES[i]) and float(alpha) == pytest.approx(fs.ALPHA_FRAMES[j])
        _wait_idle_with(tab, ALPHA_KEY, alpha)
        tab.wait_for_timeout(300)
        assert len(sent) == before + 1  # one commit, on release
        assert _query(tab.url)[GAMMA_KEY] == gamma
        assert tab.get_by_text(f"focal (γ = {float(gamma):g}, α = {float(alpha):g})").count() >= 1  # the models

        # The γ range input beside the pad: a mouse drag over it moves the chart live too.
        tab.wait_for_timeout(300)
        before = len(sent)
        steps = drag_live(tab, GAMMA_NAME, [0.2, 0.45, 0.7])
        assert len(set(steps)) == len(steps) and len({s % NY for s in steps}) == 1, steps  # α stays
        assert len(sent) == before, "the drag sent WebSocket messages"
        tab.mouse.up()
        gamma = tab.get_by_role("slider", name=GAMMA_NAME, exact=True).get_attribute("aria-valuetext")
        _wait_idle_with(tab, GAMMA_KEY, gamma)
        drawn = drawn_frame(tab, GAMMA_NAME)

        _reload(tab)
        assert drawn_frame(tab, GAMMA_NAME) == drawn
        assert tab.get_by_role("slider", name=GAMMA_NAME, exact=True).get_attribute("aria-valuetext") == gamma
        assert tab.get_by_role("slider", name=ALPHA_NAME, exact=True).get_attribute("aria-valuetext") == alpha

        # Keyboard: ArrowRight on α moves one frame along α.
        slider = tab.get_by_role("slider", name=ALPHA_NAME, exact=True)
        slider.focus()
        start = drawn_frame(tab, ALPHA_NAME)
        tab.keyboard.press("ArrowRight" if start % NY < NY - 1 else "ArrowLeft")
        assert abs(new_frame(tab, ALPHA_NAME, start) - start) == 1
        assert not browser_errors(tab)


@pytest.mark.browser
def test_on_a_phone_the_three_panels_stack_and_their_titles_do_not_overlap() -> None:
    """Below 600 px the curves' panels go under each other (the figure's narrow layout), and back beside each
    other when the window is wide again."""
    titles = (
        "() => Array.from(document.querySelectorAll('.lossviz-live .annotation-text'))"
        ".filter(t => /loss FL|FL \\/ CE|gradient/.test(t.textContent))"
        ".map(t => { const r = t.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })"
    )
    layout = "() => document.querySelector('.lossviz-live').dataset.layout"
    with streamlit_server() as base, chromium_page(base, "focal", charts=4) as tab:
        assert tab.evaluate(layout) == "wide"
        wide = tab.evaluate(titles)
        tops = [top for _l, top, _r, _b in wide]
        assert len(wide) == 3 and max(tops) - min(tops) < 6  # side by side (sub- and superscripts shift a few px)
        tab.set_viewport_size({"width": 390, "height": 844})
        tab.wait_for_function(f"() => ({layout})() === 'narrow'", timeout=20_000)
        tab.wait_for_timeout(300)
        stacked = tab.evaluate(titles)
        assert len(stacked) == 3
        for (_l1, _t1, _r1, bottom), (_l2, top, _r2, _b2) in itertools.pairwise(sorted(stacked, key=lambda r: r[1])):
            assert bottom <= top  # one under the other, not overlapping
        assert not browser_errors(tab)
        tab.set_viewport_size({"width": 1400, "height": 1000})
        tab.wait_for_function(f"() => ({layout})() === 'wide'", timeout=20_000)
