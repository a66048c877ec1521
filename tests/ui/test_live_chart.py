"""Live charts: labels, frame values, the committed state and the link in Python; the drag and the player in Chromium.

The browser tests drive tests/apps/live_chart_app.py (four sines whose frequency ω is live, an amplitude × phase
pad, and a player over 30 epochs) under ``streamlit run`` with Debian's Chromium, as tests/e2e does for app.py.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import plotly
import pytest
from hypothesis import given
from hypothesis import strategies as hs
from streamlit.testing.v1 import AppTest

from lossviz import registry
from lossviz.spec import Param
from lossviz.ui.live_chart import (
    PLAYER_FPS,
    PLAYER_SPEEDS,
    PLOTLY_JS,
    LiveParam,
    _encoded,
    committed_values,
    frame_texts,
    link_value,
    live_payload,
    plain_symbol,
)

ROOT = Path(__file__).resolve().parents[2]
APP = "tests/apps/live_chart_app.py"
ARTIFACTS = ROOT / "test-artifacts"
LIVE_JS = (ROOT / "lossviz/ui/live_chart.js").read_text(encoding="utf-8")
LIVE_CSS = (ROOT / "lossviz/ui/live_chart.css").read_text(encoding="utf-8")

DELTA = Param("delta", 1.0, low=0.0, low_open=True, symbol=r"\delta", ui_low=0.05, ui_high=5.0, scale="log")
SHIFT = Param("shift", 0.0, ui_low=-1.0, ui_high=1.0)
# The demo app's grids (tests/apps/live_chart_app.py).
FREQUENCIES = np.linspace(0.5, 3.5, 25)
AMPLITUDES = np.linspace(0.0, 2.0, 21)
PHASES = np.linspace(0.0, 3.0, 21)
EPOCHS = 30
CHART, PAD, PLAYER = 0, 1, 2


def figure(frames: int) -> dict[str, Any]:
    return {
        "data": [{"type": "scatter", "x": [0, 1], "y": [0, 0]}],
        "layout": {"height": 300},
        "frames": [{"data": [{"y": [0, k]}], "traces": [0]} for k in range(frames)],
    }


# --- labels and frame values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"\delta", "δ"),
        (r"\Delta x", "Δx"),
        (r"\lambda_1", "λ₁"),
        (r"\sigma^2", "σ²"),
        (r"\varepsilon", "ε"),
        (r"\varnothing", "∅"),
        ("a_{max}", "aₘₐₓ"),
        ("w_+", "w₊"),
        ("a_{bq}", "a_bq"),  # no subscript b or q in Unicode
        ("K", "K"),
    ],
)
def test_plain_symbol(latex, text):
    assert plain_symbol(latex) == text


def test_every_catalogue_symbol_reads_as_plain_text():
    symbols = {p.symbol for name in registry.builtin_names() for p in registry.spec(name).params if p.symbol}
    assert symbols
    for symbol in symbols:
        text = plain_symbol(symbol)
        assert text and not set(text) & set("\\{} "), (symbol, text)


@pytest.mark.parametrize(
    "values",
    [np.linspace(0.5, 3.5, 25), np.geomspace(0.05, 5.0, 41), np.linspace(0.0, 10.0, 41), np.arange(1.0, 2001.0, 100.0)],
)
def test_frame_texts_tell_neighbours_apart_and_read_back_to_their_frame(values):
    texts = frame_texts(values)
    assert len(set(texts)) == len(values)
    assert all("e" not in t for t in texts)
    frames = LiveParam(Param("v", float(values[0]), ui_low=float(values[0]), ui_high=float(values[-1])), values)
    assert [frames.index(float(t)) for t in texts] == list(range(len(values)))


def test_frame_texts_use_few_digits_and_an_explicit_format():
    assert frame_texts(np.linspace(0.0, 1.0, 5)) == ("0", "0.25", "0.5", "0.75", "1")
    assert frame_texts(np.geomspace(0.1, 10.0, 3)) == ("0.1", "1", "10")
    assert frame_texts([0.5, 1.25], ".2f") == ("0.50", "1.25")


@given(hs.floats(-20.0, 20.0, allow_nan=False), hs.sampled_from(["linear", "log"]))
def test_the_nearest_frame_is_the_one_argmin_finds(value: float, scale: str):
    """``LiveParam.index`` (a bisection) against the plain definition: the first frame at the least distance,
    measured in log on a log-scale parameter (for a positive value)."""
    values = [0.01, 0.02, 0.05, 0.1, 0.3, 1.0, 2.0, 2.5, 7.0, 15.0]
    live = LiveParam(Param("x", 1.0, low=0.0, low_open=True, scale=scale), values)
    frames = np.asarray(values)
    use_log = scale == "log" and value > 0
    distance = np.abs(np.log(frames) - np.log(value)) if use_log else np.abs(frames - value)
    assert live.index(value) == int(np.argmin(distance))


def test_live_param_label_default_and_snapping():
    live = LiveParam(DELTA, np.geomspace(0.01, 100.0, 9))  # 0.01, 0.0316, 0.1, …
    assert live.values == tuple(np.geomspace(0.01, 100.0, 9))
    assert live.label == "δ (delta)"
    assert live.default == pytest.approx(1.0)
    assert live.snap(0.06) == live.values[2]  # 0.1: nearer in log, farther than 0.0316 in plain distance
    assert live.snap(1e-9) == 0.01 and live.snap(-1.0) == 0.01
    assert LiveParam(SHIFT, np.linspace(-1, 1, 5)).label == "shift"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1.0], "at least 2"),
        ([0.5, 0.5, 1.0], "strictly increasing"),
        ([1.0, 0.5], "strictly increasing"),
        ([-1.0, 1.0], "outside"),
    ],
)
def test_live_param_rejects_bad_frames(values, message):
    with pytest.raises(ValueError, match=message):
        LiveParam(DELTA, values)


# --- the browser's commits and the link -----------------------------------------------------------------


def test_committed_values_snap_to_frames_and_reject_malformed_state():
    params = [LiveParam(SHIFT, np.linspace(-1, 1, 5)), LiveParam(DELTA, [0.5, 1.0, 2.0])]
    assert committed_values({"values": [0.5, 1.0], "seq": 3}, params) == ((0.5, 1.0), 3)
    assert committed_values({"values": [0.4, 1.9], "seq": 1}, params) == ((0.5, 2.0), 1)
    for bad in [
        None,
        "x",
        {},
        {"values": [0.5], "seq": 1},
        {"values": [0.5, "1"], "seq": 1},
        {"values": [0.5, math.nan], "seq": 1},
        {"values": [0.5, 1.0]},
        {"values": [True, 1.0], "seq": 1},
    ]:
        assert committed_values(bad, params) is None


@pytest.mark.parametrize(
    ("raw", "value", "warns"),
    [
        (None, 0.0, False),
        ("0.5", 0.5, False),
        ("0.37", 0.5, False),
        ("abc", 0.0, True),
        ("99", 1.0, True),
        ("nan", 0.0, True),
    ],
)
def test_link_value_snaps_and_warns(raw, value, warns):
    result = link_value(raw, LiveParam(SHIFT, np.linspace(-1, 1, 5)), "p_shift")
    assert result.value == value
    assert bool(result.warning) == warns


def test_payload_checks_the_figure_and_identifies_it():
    live = LiveParam(SHIFT, np.linspace(-1, 1, 5))
    fig = figure(5)
    fig["layout"]["sliders"] = [{"steps": []}]
    payload = json.loads(live_payload(fig, [live], [0.5], 2, "/plotly.js"))  # UTF-8 JSON bytes, as sent
    assert "sliders" not in payload["figure"]["layout"] and "sliders" in fig["layout"]
    assert payload["params"] == [
        {
            "label": "shift",
            "symbol": "shift",
            "values": [-1.0, -0.5, 0.0, 0.5, 1.0],
            "texts": ["-1", "-0.5", "0", "0.5", "1"],
            "index": 3,
            "hidden": False,
            "locked": False,
            "url_key": None,
        }
    ]
    assert payload["seq"] == 2 and payload["plotly_url"] == "/plotly.js" and payload["player"] is None
    assert json.loads(live_payload(fig, [live], [1.0], 3, "/plotly.js"))["figure_id"] == payload["figure_id"]
    assert json.loads(live_payload(figure(5) | {"data": []}, [live], [0.5], 2, ""))["figure_id"] != payload["figure_id"]
    with pytest.raises(ValueError, match=r"one frame per value \(5\), got 4"):
        live_payload(figure(4), [live], [0.5], 0, "")
    with pytest.raises(ValueError, match=r"one frame per value \(25\)"):
        live_payload(figure(5), [live, live], [0.5, 0.5], 0, "")
    with pytest.raises(ValueError, match="plain JSON"):
        live_payload(figure(5) | {"data": [{"y": [math.nan]}]}, [live], [0.5], 0, "")
    with pytest.raises(ValueError, match="plain JSON"):
        live_payload(figure(5) | {"data": [{"y": np.zeros(2)}]}, [live], [0.5], 0, "")


def test_a_figure_is_encoded_once_and_the_controls_around_it_each_time():
    live = LiveParam(SHIFT, np.linspace(-1, 1, 5))
    fig = figure(5)
    sent = json.loads(live_payload(fig, [live], [0.5], 2, "/plotly.js", hidden=[True], url_keys=["k"]))
    assert sent["figure"] == fig
    assert (sent["params"][0]["hidden"], sent["params"][0]["url_key"]) == (True, "k")
    again = json.loads(live_payload(fig, [live], [1.0], 3, "/plotly.js"))
    assert again["figure"] == sent["figure"] and again["seq"] == 3 and again["params"][0]["index"] == 4
    assert _encoded(fig, 5) is _encoded(fig, 5)  # a figure object kept across reruns is encoded once
    assert _encoded(figure(5), 5) is not _encoded(fig, 5)


def test_a_player_payload_carries_its_frame_rate_and_speeds():
    live = LiveParam(SHIFT, np.linspace(-1, 1, 5))
    payload = json.loads(live_payload(figure(5), [live], [1.0], 0, "/plotly.js", player=True))
    assert payload["player"] == {"fps": PLAYER_FPS, "speeds": list(PLAYER_SPEEDS)}
    assert 1.0 in PLAYER_SPEEDS and payload["params"][0]["index"] == 4
    with pytest.raises(ValueError, match="one parameter"):
        live_payload(figure(25), [live, live], [0.5, 0.5], 0, "", player=True)


# --- the script side, with AppTest ------------------------------------------------------------------------


def demo_app(**query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / APP), default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def committed(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def component_data(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(e.proto.bytes) for e in at.main if getattr(e, "type", None) == "bidi_component"]


def test_demo_renders_the_components_with_their_labels_and_plotly_url(monkeypatch):
    # The demo does not publish plotly.js to the static folder; an app test before it in this process may have.
    from lossviz.ui import live_chart

    monkeypatch.setattr(live_chart, "_serve_static_plotly_js", False)
    at = demo_app()
    chart, pad, player = component_data(at)
    assert [p["label"] for p in chart["params"]] == ["ω (frequency)"]
    assert [p["url_key"] for p in chart["params"] + pad["params"]] == ["demo_freq", "demo_pad_amplitude", "demo_pad_phase"]
    assert [p["label"] for p in pad["params"]] == ["a (amplitude)", "φ (phase)"]
    assert len(chart["figure"]["frames"]) == 25 and len(pad["figure"]["frames"]) == 21 * 21
    assert chart["params"][0]["texts"][chart["params"][0]["index"]] == "1"
    assert chart["plotly_url"] == f"/component/lossviz.ui.live_chart.plotly_js/{PLOTLY_JS.name}?v={plotly.__version__}"
    assert PLOTLY_JS.is_file()
    assert committed(at) == ["committed frequency = 1.0", "committed pad = 1.0, 0.0", "player shown"]
    assert not at.warning and at.query_params == {}
    # the player starts at the end of the run and is bound to no URL key
    assert [p["label"] for p in player["params"]] == ["epoch"] and player["params"][0]["index"] == EPOCHS - 1
    assert player["player"]["fps"] == PLAYER_FPS and chart["player"] is None
    assert len(player["figure"]["frames"]) == EPOCHS and "images" in player["figure"]["frames"][3]["layout"]


def test_user_text_only_travels_as_data():
    """The component's html, css and js are the same for every page; labels and values are data, which the
    JS sets as text (never parsed as HTML)."""
    at = demo_app()
    elements = [e.proto for e in at.main if getattr(e, "type", None) == "bidi_component"]
    assert {(e.html_content, e.css_content, e.js_content) for e in elements} == {
        ('<div class="lossviz-live"></div>', LIVE_CSS, LIVE_JS)
    }
    assert not any(marker in LIVE_JS for marker in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval("))


def test_a_commit_reaches_the_script_and_the_link():
    at = demo_app()
    at.session_state["demo_freq"] = {"committed": {"values": [2.0], "seq": 1}}
    at.session_state["demo_pad"] = {"committed": {"values": [1.5, 0.3], "seq": 1}}
    at.run()
    assert committed(at)[:2] == ["committed frequency = 2.0", "committed pad = 1.5, 0.3"]
    assert at.query_params == {"demo_freq": "2", "demo_pad_amplitude": "1.5", "demo_pad_phase": "0.3"}
    chart, pad, _player = component_data(at)
    assert (chart["seq"], chart["params"][0]["index"]) == (1, 12)
    assert [p["index"] for p in pad["params"]] == [15, 2]
    at.session_state["demo_freq"] = {"committed": {"values": [1.0], "seq": 2}}
    at.run()
    assert "demo_freq" not in at.query_params  # the default is omitted, as by a bound widget


def test_a_link_restores_the_values():
    at = demo_app(demo_freq="2.75", demo_pad_amplitude="0.4", demo_pad_phase="2.1")
    assert committed(at)[:2] == ["committed frequency = 2.75", "committed pad = 0.4, 2.1"]
    assert not at.warning


@pytest.mark.parametrize(
    ("query", "shown", "warning"),
    [
        ({"demo_freq": "abc"}, "committed frequency = 1.0", "not a number"),
        ({"demo_freq": "99"}, "committed frequency = 3.5", "outside the range"),
        ({"demo_freq": "inf"}, "committed frequency = 1.0", "not finite"),
        ({"demo_pad_phase": "-"}, "committed pad = 1.0, 0.0", "not a number"),
    ],
)
def test_a_malformed_link_value_warns_and_falls_back(query, shown, warning):
    at = demo_app(**query)
    assert shown in committed(at)
    assert len(at.warning) == 1 and warning in at.warning[0].value
    assert not any(at.query_params.get(k) == v for k, v in query.items())  # the bad value leaves the link


def test_a_classroom_link_hides_or_locks_a_live_control_and_keeps_its_chart():
    at = demo_app(hide="demo_freq", lock="demo_pad_phase")
    chart, pad, _player = component_data(at)
    assert [(p["hidden"], p["locked"]) for p in chart["params"]] == [(True, False)]
    assert [(p["hidden"], p["locked"]) for p in pad["params"]] == [(False, False), (False, True)]
    assert len(chart["figure"]["frames"]) == 25  # the chart is still drawn
    assert not at.warning  # both names are controls of the view
    plain = component_data(demo_app())[0]
    assert [(p["hidden"], p["locked"]) for p in plain["params"]] == [(False, False)]


def test_a_malformed_component_state_falls_back_without_a_traceback():
    at = demo_app(demo_freq="2")
    at.session_state["demo_freq"] = {"committed": {"values": ["x"], "seq": 1}}
    at.run()
    assert not at.exception
    assert committed(at)[0] == "committed frequency = 2.0"


# --- in the browser ------------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.dataset.testScriptState === 'notRunning'
        && !document.querySelector('[data-testid="stStatusWidget"]');
}"""
LIVE = ".lossviz-live"
FIRST_PATH = ".scatterlayer .trace .js-line"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """``streamlit run`` of the demo app on a free port, from the repo root."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "streamlit-live-chart.log").open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                APP,
                "--server.headless=true",
                f"--server.port={port}",
                "--browser.gatherUsageStats=false",
                "--server.fileWatcherType=none",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                with contextlib.suppress(OSError), urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not start; see {ARTIFACTS / 'streamlit-live-chart.log'}")
                time.sleep(0.3)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Tab:
    """A tab on the demo app that counts the WebSocket frames it sends to the server."""

    def __init__(self, browser: Any, base: str, query: str = "", width: int = 1280) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 1000})
        self.sent: list[bytes | str] = []
        self.page.on("websocket", lambda ws: ws.on("framesent", lambda payload: self.sent.append(payload)))
        self.page.goto(f"{base}/{query}")
        self.wait_drawn()

    def wait_drawn(self) -> None:
        self.page.wait_for_function(
            f"() => ({IDLE_JS})() && document.querySelectorAll('{LIVE} .main-svg').length >= 2"
            f" && Array.from(document.querySelectorAll('{LIVE}')).every(r => r.dataset.frame !== undefined)",
            timeout=60_000,
            polling=100,
        )

    def idle(self, text: str) -> None:
        """Wait until the script has rerun and shows ``text``."""
        self.page.get_by_text(text, exact=True).wait_for(timeout=30_000)
        self.page.wait_for_function(IDLE_JS, timeout=30_000, polling=100)

    def frame(self, n: int) -> int:
        return int(self.page.locator(LIVE).nth(n).get_attribute("data-frame"))

    def path(self, n: int) -> str:
        return self.page.locator(LIVE).nth(n).locator(FIRST_PATH).first.get_attribute("d")

    def wait_frame_not(self, n: int, frame: int) -> int:
        self.page.wait_for_function(
            f"() => document.querySelectorAll('{LIVE}')[{n}].dataset.frame !== '{frame}'", timeout=10_000, polling=10
        )
        return self.frame(n)


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))


@pytest.mark.browser
def test_plotly_js_is_served_from_the_installed_package(server, chromium):
    tab = Tab(chromium, server)  # a script run registers the folder; the browser then loads the file
    url = f"{server}/component/lossviz.ui.live_chart.plotly_js/{PLOTLY_JS.name}?v={plotly.__version__}"
    assert tab.page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)").count(url) == 1
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert "javascript" in response.headers["Content-Type"]
        assert response.read() == PLOTLY_JS.read_bytes()
    tab.page.close()


@pytest.mark.browser
def test_dragging_the_slider_moves_the_chart_in_the_browser_and_commits_once(server, chromium):
    tab = Tab(chromium, server)
    page = tab.page
    slider = page.get_by_role("slider", name="ω (frequency)", exact=True)
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    start = tab.frame(0)
    page.mouse.move(box["x"] + 8 + (box["width"] - 16) * start / 24, y)
    page.mouse.down()
    sent_before = len(tab.sent)
    frames, paths = [start], [tab.path(0)]
    for fraction in (0.3, 0.5, 0.7, 0.9):
        page.mouse.move(box["x"] + box["width"] * fraction, y, steps=3)
        frames.append(tab.wait_frame_not(0, frames[-1]))
        paths.append(tab.path(0))
    assert len(set(frames)) == len(frames) and len(set(paths)) == len(paths)  # a new curve at each step
    assert len(tab.sent) == sent_before, "the drag sent WebSocket messages"
    assert page.get_by_text("committed frequency = 1.0", exact=True).is_visible()  # the script has not rerun
    page.mouse.up()
    value = float(FREQUENCIES[frames[-1]])
    tab.idle(f"committed frequency = {value!r}")
    page.wait_for_timeout(500)
    assert len(tab.sent) == sent_before + 1
    text = slider.get_attribute("aria-valuetext")
    assert query_of(page.url) == {"demo_freq": text}
    assert float(text) == pytest.approx(value, abs=0.01)

    page.reload()
    tab.wait_drawn()
    assert page.get_by_text(f"committed frequency = {value!r}", exact=True).is_visible()
    assert slider.get_attribute("aria-valuetext") == text and tab.frame(0) == frames[-1]
    page.close()


@pytest.mark.browser
def test_keys_move_the_chart_and_commit_once_per_release(server, chromium):
    tab = Tab(chromium, server)
    page = tab.page
    slider = page.get_by_role("slider", name="ω (frequency)", exact=True)
    slider.focus()
    start, path, sent_before = tab.frame(0), tab.path(0), len(tab.sent)
    page.keyboard.press("ArrowRight")
    assert tab.wait_frame_not(0, start) == start + 1 and tab.path(0) != path
    tab.idle(f"committed frequency = {float(FREQUENCIES[start + 1])!r}")
    assert len(tab.sent) == sent_before + 1

    page.keyboard.down("ArrowRight")  # held: the browser repeats the key; one commit on its release
    page.keyboard.down("ArrowRight")
    page.keyboard.down("ArrowRight")
    tab.wait_frame_not(0, start + 1)
    page.wait_for_timeout(300)
    assert len(tab.sent) == sent_before + 1
    page.keyboard.up("ArrowRight")
    tab.idle(f"committed frequency = {float(FREQUENCIES[start + 4])!r}")
    assert len(tab.sent) == sent_before + 2

    page.keyboard.press("End")
    tab.idle("committed frequency = 3.5")
    assert tab.frame(0) == 24 and query_of(page.url) == {"demo_freq": "3.5"}
    page.keyboard.press("Home")
    tab.idle("committed frequency = 0.5")
    assert len(tab.sent) == sent_before + 4
    page.close()


@pytest.mark.browser
def test_each_parameter_has_exactly_one_accessible_slider(server, chromium):
    tab = Tab(chromium, server)
    for name, text in [("ω (frequency)", "1"), ("a (amplitude)", "1"), ("φ (phase)", "0")]:
        sliders = tab.page.get_by_role("slider", name=name, exact=True)
        assert sliders.count() == 1
        assert sliders.get_attribute("aria-valuetext") == text
    assert tab.page.get_by_role("slider", name="epoch", exact=True).get_attribute("aria-valuetext") == str(EPOCHS - 1)
    assert tab.page.get_by_role("slider").count() == 4
    tab.page.close()


@pytest.mark.browser
def test_dragging_the_pad_moves_the_chart_and_commits_both_values_once(server, chromium):
    tab = Tab(chromium, server)
    page = tab.page
    pad = page.locator(".lossviz-live__pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    sent_before = len(tab.sent)
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    frames, paths = [tab.wait_frame_not(1, 10 * 21)], [tab.path(1)]
    for fx, fy in [(0.8, 0.2), (0.2, 0.3), (0.95, 0.95)]:
        page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy, steps=3)
        frames.append(tab.wait_frame_not(1, frames[-1]))
        paths.append(tab.path(1))
    assert len(set(frames)) == len(frames) and len(set(paths)) == len(paths)
    assert len(tab.sent) == sent_before, "the drag sent WebSocket messages"
    page.mouse.up()
    i, j = divmod(frames[-1], 21)
    tab.idle(f"committed pad = {float(AMPLITUDES[i])!r}, {float(PHASES[j])!r}")
    page.wait_for_timeout(500)
    assert len(tab.sent) == sent_before + 1
    amplitude = page.get_by_role("slider", name="a (amplitude)", exact=True).get_attribute("aria-valuetext")
    phase = page.get_by_role("slider", name="φ (phase)", exact=True).get_attribute("aria-valuetext")
    assert query_of(page.url) == {"demo_pad_amplitude": amplitude, "demo_pad_phase": phase}
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots(server, chromium, width):
    tab = Tab(chromium, server, "?demo_freq=2.25&demo_pad_amplitude=1.6&demo_pad_phase=0.9", width=width)
    tab.page.set_viewport_size({"width": width, "height": 2300})
    tab.page.wait_for_timeout(500)
    assert tab.frame(0) == 14 and tab.frame(1) == 16 * 21 + 6
    tab.page.screenshot(path=str(ARTIFACTS / f"live_chart_{width}.png"))
    tab.page.close()


def image_source(tab: Tab) -> str:
    return tab.page.locator(LIVE).nth(PLAYER).locator("image").first.get_attribute("href")


@pytest.mark.browser
def test_play_advances_the_chart_in_the_browser_and_sends_nothing(server, chromium):
    tab = Tab(chromium, server)
    page = tab.page
    scrubber = page.get_by_role("slider", name="epoch", exact=True)
    assert tab.frame(PLAYER) == EPOCHS - 1 and scrubber.get_attribute("aria-valuetext") == str(EPOCHS - 1)
    sent_before = len(tab.sent)
    page.get_by_role("button", name="Jump to start", exact=True).click()
    assert tab.wait_frame_not(PLAYER, EPOCHS - 1) == 0
    path, picture = tab.path(PLAYER), image_source(tab)
    page.get_by_role("combobox", name="Speed").select_option("4")
    page.get_by_role("button", name="Play", exact=True).click()
    assert page.get_by_role("button", name="Pause", exact=True).is_visible()
    frames = [0]
    for _ in range(3):
        frames.append(tab.wait_frame_not(PLAYER, frames[-1]))
    assert frames == sorted(frames) and frames[-1] > 0  # it plays forward
    assert int(scrubber.get_attribute("aria-valuetext")) >= frames[-1]  # the scrubber follows
    assert tab.path(PLAYER) != path and image_source(tab) != picture  # the trace and the layout image moved
    # at the end it stops by itself, the button reading Play again
    page.wait_for_function(
        f"() => document.querySelectorAll('{LIVE}')[{PLAYER}].dataset.playing === 'false'", timeout=15_000
    )
    assert tab.frame(PLAYER) == EPOCHS - 1 and page.get_by_role("button", name="Play", exact=True).is_visible()
    page.wait_for_timeout(300)
    assert len(tab.sent) == sent_before, "playing sent WebSocket messages"
    page.close()


@pytest.mark.browser
def test_step_buttons_and_the_scrubber_move_the_player_without_the_server(server, chromium):
    tab = Tab(chromium, server)
    page = tab.page
    sent_before = len(tab.sent)
    page.get_by_role("button", name="Step back", exact=True).click()
    assert tab.wait_frame_not(PLAYER, EPOCHS - 1) == EPOCHS - 2
    page.get_by_role("button", name="Step back", exact=True).click()
    assert tab.wait_frame_not(PLAYER, EPOCHS - 2) == EPOCHS - 3
    page.get_by_role("button", name="Step forward", exact=True).click()
    assert tab.wait_frame_not(PLAYER, EPOCHS - 3) == EPOCHS - 2
    scrubber = page.get_by_role("slider", name="epoch", exact=True)
    scrubber.focus()
    page.keyboard.press("Home")
    assert tab.wait_frame_not(PLAYER, EPOCHS - 2) == 0
    page.keyboard.press("ArrowRight")
    assert tab.wait_frame_not(PLAYER, 0) == 1 and scrubber.get_attribute("aria-valuetext") == "1"
    page.get_by_role("button", name="Jump to end", exact=True).click()
    assert tab.wait_frame_not(PLAYER, 1) == EPOCHS - 1
    page.wait_for_timeout(300)
    assert len(tab.sent) == sent_before, "the player sent WebSocket messages"
    assert query_of(page.url) == {}  # the position is not in the link
    page.close()


def test_publish_plotly_js_links_the_package_file_into_the_static_folder(tmp_path, monkeypatch):
    from lossviz.ui import live_chart
    from lossviz.ui.live_chart import STATIC_PLOTLY_JS, publish_plotly_js

    monkeypatch.setattr(live_chart, "_serve_static_plotly_js", False)  # this process's other tests keep theirs

    static = tmp_path / "static"
    assert publish_plotly_js(static)  # .streamlit/config.toml turns static serving on
    published = static / STATIC_PLOTLY_JS
    assert STATIC_PLOTLY_JS == f"plotly-{plotly.__version__}.min.js"
    assert published.read_bytes() == PLOTLY_JS.read_bytes()
    # Its time stamp is the package's (a browser's heuristic freshness counts from it), and nothing half-written
    # is left beside it.
    assert published.stat().st_mtime == PLOTLY_JS.stat().st_mtime
    assert sorted(p.name for p in static.iterdir()) == [STATIC_PLOTLY_JS]
    inode = published.stat().st_ino
    assert publish_plotly_js(static) and published.stat().st_ino == inode  # a second start keeps it


def test_publish_plotly_js_where_the_folder_cannot_be_made_leaves_the_component_route(tmp_path, monkeypatch):
    from lossviz.ui import live_chart
    from lossviz.ui.live_chart import publish_plotly_js

    monkeypatch.setattr(live_chart, "_serve_static_plotly_js", True)

    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert publish_plotly_js(blocker / "static") is False
    assert live_chart._plotly_js_url().startswith("/component/")
