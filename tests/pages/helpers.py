"""Shared helpers for page tests: run a page with AppTest and read its charts back as numbers.

Streamlit hands a Plotly chart to the browser as the figure's JSON (``element.proto.spec``), with
arrays as base64 typed arrays, which :func:`tests.figure_helpers.decode` turns back into arrays.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.figure_helpers import as_array, decode

ROOT = Path(__file__).resolve().parents[2]


def app_test(page: str, timeout: float = 60) -> AppTest:
    """An AppTest for ``pages/<page>.py`` (a page file runs standalone)."""
    return AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=timeout)


def figures(at: AppTest) -> list[dict]:
    """Every Plotly chart on the page, decoded (see :func:`decode`), in page order."""
    return [decode(json.loads(el.proto.spec)) for el in at.get("plotly_chart")]


def figure_sizes(at: AppTest) -> list[int]:
    """The JSON size in bytes of every Plotly chart (what the browser receives)."""
    return [len(el.proto.spec.encode()) for el in at.get("plotly_chart")]


def component_json(el: Any) -> dict:
    """A live chart's data as the browser receives it: JSON bytes (or, for other components, JSON text)."""
    return json.loads(el.proto.bytes or el.proto.json)


def live_data(at: AppTest) -> list[dict]:
    """The data of every live chart (:mod:`lossviz.ui.live_chart`) on the page, its figure decoded, in page order."""
    out = []
    for el in at.get("bidi_component"):
        data = component_json(el)
        out.append({**data, "figure": decode(data["figure"])})
    return out


def live_drawn(at: AppTest) -> list[dict]:
    """The figure of every live chart as the browser draws it: its committed frame applied to its traces (what a
    frame sets replaces the trace's own attribute), frames kept. A player's figures come as they are sent."""
    out = []
    for data in live_data(at):
        fig = data["figure"]
        if data["player"] is not None:
            out.append(fig)
            continue
        k = 0
        for p in data["params"]:
            k = k * len(p["values"]) + p["index"]
        traces = list(fig["data"])
        frame = fig["frames"][k]
        for update, index in zip(frame["data"], frame["traces"], strict=True):
            traces[index] = {**traces[index], **update}
        out.append({**fig, "data": traces})
    return out


def live_values(at: AppTest) -> dict[str, str]:
    """The shown value of every live control on the page (not players), by the URL key that holds it."""
    return {p["url_key"]: p["texts"][p["index"]] for data in live_data(at) for p in data["params"] if p["url_key"]}


def live_figures(at: AppTest) -> list[dict]:
    """The figure of every live chart on the page, decoded (see :func:`decode`)."""
    return [data["figure"] for data in live_data(at)]


def live_sizes(at: AppTest) -> list[int]:
    """The JSON size in bytes of every live chart's data (what the browser receives)."""
    return [len(el.proto.bytes or el.proto.json.encode()) for el in at.get("bidi_component")]


def trace_data(fig: dict, keys: tuple[str, ...] = ("x", "y", "z")) -> list[np.ndarray]:
    """The numeric arrays of every trace of a decoded figure, flattened, in trace order."""
    return [as_array(trace.get(k)).ravel() for trace in fig.get("data", []) for k in keys if k in trace]


def same_data(a: dict, b: dict) -> bool:
    """Whether two decoded figures plot exactly the same numbers (NaN equal to NaN)."""
    da, db = trace_data(a), trace_data(b)
    return len(da) == len(db) and all(
        x.shape == y.shape and np.array_equal(x, y, equal_nan=True) for x, y in zip(da, db, strict=True)
    )


def exceptions(at: AppTest) -> list[str]:
    return [e.value for e in at.exception]


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# --- in the browser: headless Chromium against `streamlit run app.py` ----------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ERROR_BOXES = '[data-testid="stException"], [data-testid="stAlertContentError"]'
IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.dataset.testScriptState === 'notRunning'
        && !document.querySelector('[data-testid="stStatusWidget"]');
}"""


@contextlib.contextmanager
def streamlit_server(timeout_s: float = 120.0) -> Iterator[str]:
    """``streamlit run app.py`` on a free port from the repo root; yields its base URL, stops it after.

    Skips the test where Debian's Chromium or Playwright is missing.
    """
    import pytest

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    pytest.importorskip("playwright")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true", f"--server.port={port}",
         "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"streamlit did not start (exit code {process.poll()})")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def chromium_page(base: str, path: str, charts: int, timeout_s: float = 180.0) -> Iterator[Any]:
    """A Chromium tab on ``{base}/{path}`` once the app has run and ``charts`` Plotly charts are drawn.

    The root is opened first: before any session has run app.py, Streamlit serves a direct page link
    from pages/ without app.py's navigation.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = None
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            sent_frames(page)  # count the messages to the server from the start
            page.goto(f"{base}/", timeout=timeout_s * 1000)
            page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
            page.wait_for_function(IDLE_JS, timeout=timeout_s * 1000, polling=250)
            page.goto(f"{base}/{path}", timeout=timeout_s * 1000)
            page.wait_for_function(
                f"() => ({IDLE_JS})() && document.querySelectorAll('.js-plotly-plot').length >= {charts}"
                " && Array.from(document.querySelectorAll('.js-plotly-plot')).every(p => Array.isArray(p._fullData))",
                timeout=timeout_s * 1000,
                polling=250,
            )
            yield page
        finally:
            if page is not None:
                _SENT.pop(id(page), None)
            browser.close()


def browser_errors(page: Any) -> list[str]:
    """The text of every exception or st.error box on the page."""
    return [e.inner_text()[:2000] for e in page.query_selector_all(ERROR_BOXES)]


# --- live controls in the browser (lossviz.ui.live_chart) ---------------------------------------------------

LIVE = ".lossviz-live"
"""The root element of every live chart; its ``data-frame`` attribute is the frame drawn."""


_SENT: dict[int, list[Any]] = {}


def sent_frames(page: Any) -> list[Any]:
    """The list of every WebSocket frame the tab has sent to the server, growing as it sends more. A tab from
    :func:`chromium_page` counts from its opening; for another tab the count starts at the first call."""
    if id(page) not in _SENT:
        sent: list[Any] = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
        _SENT[id(page)] = sent
    return _SENT[id(page)]


def live_root(page: Any, name: str) -> Any:
    """The live chart whose control is the slider with accessible name ``name`` (e.g. "δ (delta)")."""
    return page.locator(LIVE).filter(has=page.get_by_role("slider", name=name, exact=True))


def drawn_frame(page: Any, name: str) -> int:
    """The frame the live chart of control ``name`` shows (``data-frame``), once it has drawn one."""
    drawn = page.locator(f"{LIVE}[data-frame]").filter(has=page.get_by_role("slider", name=name, exact=True))
    return int(drawn.get_attribute("data-frame"))


def drag_live(page: Any, name: str, fractions: Sequence[float]) -> list[int]:
    """Drag the live control ``name`` with the mouse to each fraction of its width in turn, without releasing;
    returns the frame drawn after each move (waiting until it differs from the previous one, so a move that
    draws nothing fails). The caller releases with ``page.mouse.up()``."""
    slider = page.get_by_role("slider", name=name, exact=True)
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    frames = [drawn_frame(page, name)]
    count = int(slider.get_attribute("max")) + 1  # an <input type=range> over the frame indices 0 … n − 1
    # The input's own index, not the drawn frame: a pad's frame i·ny + j is not a position on either input.
    page.mouse.move(box["x"] + 8 + (box["width"] - 16) * int(slider.input_value()) / max(count - 1, 1), y)
    page.mouse.down()
    for fraction in fractions:
        page.mouse.move(box["x"] + box["width"] * fraction, y, steps=3)
        frames.append(new_frame(page, name, frames[-1]))
    return frames


def new_frame(page: Any, name: str, before: int) -> int:
    """The frame the live chart of control ``name`` shows once it differs from ``before`` (fails after 10 s)."""
    live_root(page, name).evaluate(
        "(el, before) => new Promise((resolve, reject) => { const t0 = performance.now(); (function poll() {"
        " if (el.dataset.frame !== String(before)) resolve(); else if (performance.now() - t0 > 10000)"
        " reject(new Error('no new frame drawn')); else requestAnimationFrame(poll); })(); })",
        before,
    )
    return drawn_frame(page, name)
