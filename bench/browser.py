"""How live the pages feel in a real browser, against a bare one-slider page measured in the same run.

Run from the repository root (Debian's Chromium at /usr/bin/chromium, headless, the browser tests' flags)::

    python bench/browser.py                          # every page of app.py, 3 rounds
    python bench/browser.py --pages curves,margins --repeats 1
    python bench/browser.py --app tests/apps/live_chart_app.py --pages /     # the live chart demo (a drag)

Two ``streamlit run`` servers are started: ``app.py`` and the baseline ``bench/apps/bare.py`` (one ``st.slider``,
one 800-point Plotly line through ``st.plotly_chart``). Every page is first opened once (the server's imports and
caches are filled, the page's charts and live controls are counted); then, for each round and each page, the
baseline and the page are measured one after the other (so that the machine's load drifts over both), each in a
fresh browser context (its own empty HTTP cache and its own Streamlit session):

* cold: the context's first visit of the page (navigation → every chart drawn → app idle), static files and
  plotly.js downloaded;
* warm: the same URL visited again in that context (its cache warm);
* control → chart: the page's first control, a ``st.slider`` or a live control's range input (``.lossviz-live``,
  players excluded), whichever comes first on the page, is moved by one key press (ArrowRight, or ArrowLeft at
  its maximum) until a chart's data changed and the app is idle again (after the rerun that the release sent);
* live drag (pages with a live control): its range input is dragged with the mouse, button held, over about 20
  frame positions, and the component's ``data-frame-ms`` (input event → frame drawn, see
  lossviz/ui/live_chart.js ``drawLoop``) is read after each drawn frame; p50 / p95 over all rounds.

Times are taken in the page (``performance.now()``, polled every animation frame). A page's ratio is the median
over rounds of (page time / the baseline's time of the same round). Targets (issue "Feel live"): warm ≤ 1.3× (the
median over pages), no page over 1.6×, cold ≤ 2×, control → chart ≤ 1.2×, live-drag p95 ≤ 33 ms. The load
average is printed with the table: on a shared machine the absolute times measure the neighbours as well.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from browser_playback import server  # noqa: E402  bench/ is the script's folder, first on sys.path

from tests.pages.helpers import CHROMIUM, CHROMIUM_ARGS, IDLE_JS, LIVE  # noqa: E402  the browser tests' own

BARE = "bench/apps/bare.py"
TARGETS = {"warm": 1.3, "warm_max": 1.6, "cold": 2.0, "control": 1.2, "drag_p95_ms": 33.0}
DRAG_POSITIONS = 20
SETTLE_S = 5.0
TIMEOUT_MS = 300_000

# Every WebSocket message the page sends is counted (a release commits; a drag must not send).
COUNT_SENT = """(() => { window.__sent = 0; const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (...args) { window.__sent += 1; return send.apply(this, args); }; })();"""

# A cheap fingerprint of what every chart shows: each trace's array lengths and a few sampled values, and the
# layout's shapes (a live frame may move only those).
SIGNATURE = """() => {
    const sample = (a) => {
        if (!a || typeof a.length !== 'number' || typeof a === 'string') return String(a);
        const n = a.length, pick = (i) => { const v = a[i]; return (v && typeof v.length === 'number')
            ? `${v.length}:${v[0]}:${v[v.length >> 1]}` : String(v); };
        return n ? `${n}|${pick(0)}|${pick(n >> 2)}|${pick(n >> 1)}|${pick((3 * n) >> 2)}|${pick(n - 1)}` : '0';
    };
    return Array.from(document.querySelectorAll('.js-plotly-plot')).map((p) => (p._fullData || []).map(
        (t) => ['x', 'y', 'z', 'r', 'theta'].map((k) => sample(t[k])).join(';')).join('/')
        + '#' + JSON.stringify(((p.layout || {}).shapes || []).map((s) => [s.x0, s.x1, s.y0, s.y1]))).join('||');
}"""

# Drawn and idle: at least the page's charts, each with its data; every live chart with a frame drawn; at least
# the page's elements (for a page without charts). Returns the time since navigation, false until then.
LOADED = f"""([plots, lives, elements]) => {{
    if (!({IDLE_JS})()) return false;
    const p = Array.from(document.querySelectorAll('.js-plotly-plot'));
    if (p.length < plots || !p.every((e) => Array.isArray(e._fullData))) return false;
    const l = Array.from(document.querySelectorAll('{LIVE}'));
    if (l.length < lives || !l.every((e) => e.dataset.frame !== undefined)) return false;
    if (document.querySelectorAll('[data-testid="stElementContainer"]').length < elements) return false;
    return performance.now();
}}"""

# What a loaded page shows: charts, live charts, element containers (only while idle with every chart drawn).
COUNTS = f"""() => {{
    const p = Array.from(document.querySelectorAll('.js-plotly-plot'));
    if (!({IDLE_JS})() || !p.every((e) => Array.isArray(e._fullData))) return null;
    return [p.length, document.querySelectorAll('{LIVE}').length,
            document.querySelectorAll('[data-testid="stElementContainer"]').length];
}}"""

# The first control: an st.slider's range input or a live control's (not a player's: it has a speed select).
CONTROL = f'[data-testid="stSlider"] input[type="range"], {LIVE}:not(:has(select)) input[type="range"]'

ARM = f"""() => {{
    const app = document.querySelector('[data-testid="stApp"]');
    const b = window.__bench = {{sig: ({SIGNATURE})(), sent: window.__sent, ran: false, t0: null}};
    if (window.__observer) window.__observer.disconnect();
    window.__observer = new MutationObserver((records) => {{
        if (records.some((r) => r.oldValue === 'running') || app.dataset.testScriptState === 'running') b.ran = true;
    }});
    window.__observer.observe(app, {{attributes: true, attributeOldValue: true,
                                    attributeFilter: ['data-test-script-state']}});
    window.addEventListener('keydown', (e) => {{ if (b.t0 === null) b.t0 = e.timeStamp; }}, {{capture: true, once: true}});
}}"""

# A chart changed and the app is idle again after the rerun that the key's release sent (if it sent one).
CHANGED = f"""() => {{
    const b = window.__bench;
    if (b.t0 === null || ({SIGNATURE})() === b.sig || !({IDLE_JS})()) return false;
    if (window.__sent > b.sent && !b.ran) return false;
    return performance.now() - b.t0;
}}"""

# A new frame drawn: one other than ``previous`` (a pad's frame i·ny + j is not the dragged input's position).
DRAWN = f"""([previous]) => {{ const r = document.querySelector('{LIVE}:not(:has(select))');
    return r.dataset.frame !== String(previous) ? [Number(r.dataset.frameMs), r.dataset.frame] : false; }}"""


@dataclass
class Shape:
    """What a page shows once loaded: the counts its loads wait for, and its controls."""

    plots: int
    lives: int
    elements: int
    control: str  # "slider", "live" or "" (none)
    draggable: bool  # a live control that is not a player


@dataclass
class Times:
    cold: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    control: list[float] = field(default_factory=list)
    drag_ms: list[float] = field(default_factory=list)
    drag_sent: int = 0
    failures: list[str] = field(default_factory=list)


def load(page: Any, url: str, shape: Shape) -> float:
    """Navigate to ``url``; milliseconds from the navigation's start to every chart drawn and the app idle."""
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    handle = page.wait_for_function(LOADED, arg=[shape.plots, shape.lives, shape.elements], polling="raf",
                                    timeout=TIMEOUT_MS)
    return float(handle.json_value())


def discover(browser: Any, url: str) -> Shape:
    """Open the page once (filling the server's caches) and count what its loads must wait for."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(url, timeout=TIMEOUT_MS)
        page.wait_for_function(f"() => ({IDLE_JS})() && document.querySelector('[data-testid=\"stMain\"]')",
                               polling=250, timeout=TIMEOUT_MS)
        # Charts come late (Streamlit loads its Plotly chunk lazily, after the app is idle; fragments run after
        # the page): the counts are taken once they have not changed for SETTLE_S with the app idle and every
        # chart drawn, on two visits (the second with the server's caches filled), the larger kept.
        counts = [0, 0, 0]
        for visit in range(2):
            if visit:
                page.reload(timeout=TIMEOUT_MS)
            now, since, deadline = None, time.monotonic(), time.monotonic() + 120
            while time.monotonic() < deadline:
                seen = page.evaluate(COUNTS)
                if seen != now:
                    now, since = seen, time.monotonic()
                elif now is not None and time.monotonic() - since >= SETTLE_S:
                    break
                page.wait_for_timeout(250)
            counts = [max(a, b) for a, b in zip(counts, now or counts, strict=True)]
        first = first_control(page)
        control = ""
        if first.count():
            control = "live" if first.evaluate(f"(e) => !!e.closest('{LIVE}')") else "slider"
        draggable = page.locator(f"{LIVE}:not(:has(select)) input[type=range]").count() > 0
        return Shape(counts[0], counts[1], counts[2] if counts[0] == 0 else 0, control, draggable)
    finally:
        context.close()


def first_control(page: Any) -> Any:
    """The first control on screen: one in a collapsed expander (Outliers' loss parameters) is in the page but
    takes no key presses."""
    return page.locator(CONTROL).filter(visible=True).first


def control_to_chart(page: Any) -> float | None:
    """Milliseconds from a key press on the first control to a chart changed and the app idle (None: no change)."""
    control = first_control(page)
    at_max = control.evaluate("(e) => Number(e.value) >= Number(e.max)")
    page.evaluate(ARM)
    control.press("ArrowLeft" if at_max else "ArrowRight")
    try:
        return float(page.wait_for_function(CHANGED, polling="raf", timeout=30_000).json_value())
    except Exception:
        return None


def live_drag(page: Any) -> tuple[list[float], int]:
    """Drag the first live control over about 20 frames with the button held: ``data-frame-ms`` of each drawn
    frame, and the WebSocket messages sent during the drag (should be 0); then release and wait for idle."""
    slider = page.locator(f"{LIVE}:not(:has(select)) input[type=range]").first
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    count = int(slider.get_attribute("max")) + 1
    start = int(slider.evaluate("(e) => Number(e.value)"))
    y = box["y"] + box["height"] / 2

    def x_of(k: int) -> float:  # the thumb's centre at frame k (as tests/pages/helpers.drag_live)
        return box["x"] + 8 + (box["width"] - 16) * k / max(count - 1, 1)

    # Out to the far end and back: each position a frame other than the one drawn before it.
    far = 0 if start > (count - 1) / 2 else count - 1
    half = max(1, DRAG_POSITIONS // 2)
    out = [round(start + (far - start) * (i + 1) / half) for i in range(half)]
    back = [round(far + (start - far) * (i + 1) / half) for i in range(half)]
    targets = [k for i, k in enumerate(out + back) if k != ([start, *out, *back][i])]
    page.mouse.move(x_of(start), y)
    page.mouse.down()
    sent = page.evaluate("window.__sent")
    ms: list[float] = []
    drawn = page.evaluate(f"() => document.querySelector('{LIVE}:not(:has(select))').dataset.frame")
    for k in targets:
        page.mouse.move(x_of(k), y, steps=3)
        frame_ms, drawn = page.wait_for_function(DRAWN, arg=[drawn], polling="raf", timeout=10_000).json_value()
        ms.append(float(frame_ms))
    sent = page.evaluate("window.__sent") - sent
    page.evaluate(ARM)
    page.mouse.up()
    with contextlib.suppress(Exception):  # the release's rerun (none if the drag ended where it began)
        page.wait_for_function("() => window.__bench.ran || window.__sent === window.__bench.sent", timeout=5_000)
    page.wait_for_function(IDLE_JS, polling=250, timeout=TIMEOUT_MS)
    return ms, sent


def measure(browser: Any, url: str, shape: Shape, times: Times, drag: bool) -> None:
    """One round for one page in a fresh context: cold load, warm load, control → chart, live drag."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(COUNT_SENT)
    page = context.new_page()
    try:
        times.cold.append(load(page, url, shape))
        times.warm.append(load(page, url, shape))
        if shape.control:
            took = control_to_chart(page)
            if took is None:
                times.failures.append("control moved, no chart changed within 30 s")
            else:
                times.control.append(took)
        if drag and shape.draggable:
            ms, sent = live_drag(page)
            times.drag_ms += ms
            times.drag_sent += sent
    except Exception as error:
        times.failures.append(f"{type(error).__name__}: {str(error).splitlines()[0][:160]}")
    finally:
        context.close()


def ratio(page: list[float], base: list[float]) -> float | None:
    """The median over rounds of page / baseline of the same round."""
    pairs = [p / b for p, b in zip(page, base, strict=False) if b > 0]
    return statistics.median(pairs) if pairs else None


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s) + 0.5) - 1))]


def fmt(v: float | None, spec: str = ".0f", unit: str = "") -> str:
    return "–" if v is None else f"{v:{spec}}{unit}"


def mark(v: float | None, limit: float) -> str:
    return "" if v is None else (" ✓" if v <= limit else " ✗")


def page_names(browser: Any, base: str) -> list[str]:
    """The app's pages, from the sidebar's navigation links."""
    page = browser.new_page()
    try:
        page.goto(f"{base}/", timeout=TIMEOUT_MS)
        page.wait_for_function(IDLE_JS, polling=250, timeout=TIMEOUT_MS)
        hrefs = page.eval_on_selector_all('[data-testid="stSidebarNav"] a', "(as) => as.map((a) => a.href)")
    finally:
        page.close()
    return [h.rstrip("/").rsplit("/", 1)[1] for h in hrefs if h.rstrip("/") != base]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--app", default="app.py", help="the main script whose pages are measured")
    parser.add_argument("--pages", default="all", help="comma-separated url paths ('/' for the root), or 'all'")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (medians over them)")
    parser.add_argument("--no-drag", action="store_true", help="skip the live drags")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    load_start = os.getloadavg()
    with sync_playwright() as playwright, server(args.app) as app, server(BARE) as bare:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        pages = page_names(browser, app) if args.pages == "all" else [p for p in args.pages.split(",") if p]
        urls = {"bare": f"{bare}/", **{p: f"{app}/{p.strip('/')}" for p in pages}}
        shapes = {name: discover(browser, url) for name, url in urls.items()}
        base_times = {p: Times() for p in pages}  # the baseline's times of the rounds next to each page
        times = {p: Times() for p in pages}
        for _round in range(args.repeats):
            for p in pages:
                measure(browser, urls["bare"], shapes["bare"], base_times[p], drag=False)
                measure(browser, urls[p], shapes[p], times[p], drag=not args.no_drag)
        browser.close()
    load_end = os.getloadavg()

    every_base = Times()
    for t in base_times.values():
        every_base.cold += t.cold
        every_base.warm += t.warm
        every_base.control += t.control
    print(f"{os.cpu_count()} cores, load average (1/5/15 min) {load_start[0]:.1f}/{load_start[1]:.1f}/"
          f"{load_start[2]:.1f} at the start, {load_end[0]:.1f}/{load_end[1]:.1f}/{load_end[2]:.1f} at the end; "
          f"{args.repeats} rounds; Chromium {CHROMIUM}, headless, no GPU\n")
    print(f"Baseline (bench/apps/bare.py), median of {len(every_base.warm)} visits: cold "
          f"{fmt(statistics.median(every_base.cold) if every_base.cold else None)} ms, warm "
          f"{fmt(statistics.median(every_base.warm) if every_base.warm else None)} ms, slider → chart "
          f"{fmt(statistics.median(every_base.control) if every_base.control else None)} ms\n")
    print("| page | charts / live | cold ms (× bare) | warm ms (× bare) | control → chart ms (× bare) | "
          "live drag ms p50 / p95 (frames, sent) | notes |")
    print("|---|---:|---:|---:|---:|---:|---|")
    warm_ratios = []
    for p in pages:
        t, b, s = times[p], base_times[p], shapes[p]
        cold, warm, ctl = ratio(t.cold, b.cold), ratio(t.warm, b.warm), ratio(t.control, b.control)
        if warm is not None:
            warm_ratios.append(warm)
        med = {k: statistics.median(v) if v else None for k, v in (("c", t.cold), ("w", t.warm), ("k", t.control))}
        drag = "–"
        if t.drag_ms:
            p95 = pct(t.drag_ms, 95)
            drag = (f"{fmt(pct(t.drag_ms, 50), '.1f')} / {fmt(p95, '.1f')}{mark(p95, TARGETS['drag_p95_ms'])} "
                    f"({len(t.drag_ms)}, {t.drag_sent})")
        notes = "; ".join(dict.fromkeys(t.failures)) or ("no control" if not s.control else s.control)
        print(f"| {p} | {s.plots} / {s.lives} | {fmt(med['c'])} ({fmt(cold, '.2f')}×{mark(cold, TARGETS['cold'])}) | "
              f"{fmt(med['w'])} ({fmt(warm, '.2f')}×{mark(warm, TARGETS['warm_max'])}) | "
              f"{fmt(med['k'])} ({fmt(ctl, '.2f')}×{mark(ctl, TARGETS['control'])}) | {drag} | {notes} |")
    if warm_ratios:
        median_warm = statistics.median(warm_ratios)
        print(f"\nMedian warm ratio over pages: {median_warm:.2f}×{mark(median_warm, TARGETS['warm'])} "
              f"(target ≤ {TARGETS['warm']}×; no page over {TARGETS['warm_max']}×)")


if __name__ == "__main__":
    main()
