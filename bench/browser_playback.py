"""Benchmark of playback in the browser: frames per second of the players (lossviz.ui.live_chart's player mode).

Run from the repository root (Debian's Chromium at /usr/bin/chromium, as the browser tests)::

    python bench/browser_playback.py                 # every scenario below, 2 plays each
    python bench/browser_playback.py --repeats 3 --screenshots test-artifacts/playback

For each scenario it starts ``streamlit run`` (app.py, or the live chart demo as a baseline), opens the page in
headless Chromium, waits for the player to be drawn, picks the fastest speed (4×, 40 frames per second asked
for), jumps to the start and presses Play, and records in the page the time each frame is drawn (a
MutationObserver on the player's ``data-frame``) until the player stops at the end. It reports:

* frames per second: (frames drawn − 1) / (time of the last − time of the first), the rate a user sees (the
  best of ``--repeats`` plays, and all of them);
* the median and 90th percentile of ``data-frame-ms`` (from a player step to its finished redraw);
* the renderer's main-thread CPU time per frame, from a Chromium trace of one more play (the thread time of its
  top-level tasks; Plotly's work and the page's layout and paint happen there), and the frame rate that
  leaves on an idle core, 1000 / (CPU ms per frame): on a shared machine the wall-clock rate measures the
  neighbours' load as much as the page, the CPU time does not;
* the WebSocket messages the page sent while playing (should be 0);
* the figure's payload (the component's JSON data, bytes).

The baseline is the live chart demo's player (tests/apps/live_chart_app.py: one 200-point line and a marker),
measured in the same run. The target is ≥ 20 frames per second. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
TARGET_FPS = 20.0
IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.dataset.testScriptState === 'notRunning'
        && !document.querySelector('[data-testid="stStatusWidget"]');
}"""
DEMO = "tests/apps/live_chart_app.py"
SCENARIOS: list[tuple[str, str, str, int]] = [
    # (name, main script, path and query, which player on the page)
    ("baseline: live chart demo player (1 line + 1 marker)", DEMO, "", 2),
    ("Training lab, default run (moons)", "app.py", "training_lab", 0),
    ("Training lab, 3 learning rates compared", "app.py", "training_lab?training_compare=true", 0),
    ("Training lab, 4 learning rates compared", "app.py",
     "training_lab?training_compare=true&training_values_lr=0.001&training_values_lr=0.01"
     "&training_values_lr=0.1&training_values_lr=1", 0),
    ("Training lab, regression, MSE vs MAE vs Huber", "app.py",
     "training_lab?training_dataset=regression&training_compare=true&training_vary=loss", 0),
    ("Landscape, descent paths of 3 losses", "app.py", "landscape", 0),
    ("Neural landscape, PCA trajectory", "app.py", "neural_landscape", 0),
]

RECORD = """([n]) => {
    const root = document.querySelectorAll('.lossviz-live')[n];
    if (window.__observer) window.__observer.disconnect();
    window.__drawn = [];
    window.__ms = [];
    window.__observer = new MutationObserver(() => {
        window.__drawn.push(performance.now());
        if (root.dataset.frameMs) window.__ms.push(Number(root.dataset.frameMs));
    });
    window.__observer.observe(root, {attributes: true, attributeFilter: ['data-frame']});
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(script: str, pid_dir: Path | None = None) -> Iterator[str]:
    """``streamlit run script`` from the repository root (its .streamlit/config.toml) on a free loopback port;
    yields its base URL. With ``pid_dir``, the server's pid is in ``pid_dir/app-<port>.pid`` while it runs (as
    deploy/run_local.sh writes them), for bench/load.py to read its CPU time."""
    port = free_port()
    pid_file = None if pid_dir is None else pid_dir / f"app-{port}.pid"
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless=true", f"--server.port={port}",
         "--server.address=127.0.0.1", "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if pid_file is not None:
        pid_file.write_text(f"{process.pid}\n")
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit run {script} did not start")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        if pid_file is not None:
            pid_file.unlink(missing_ok=True)


def play_once(page: Any, n: int) -> dict[str, float]:
    """Play the n-th player of the page from its start at 4×; the drawn frames' times, in the page."""
    live = page.locator(".lossviz-live").nth(n)
    live.get_by_role("combobox", name="Speed").select_option("4")
    live.get_by_role("button", name="Jump to start", exact=True).click()
    page.wait_for_function(f"() => document.querySelectorAll('.lossviz-live')[{n}].dataset.frame === '0'")
    page.wait_for_timeout(300)
    page.evaluate(RECORD, [n])
    sent: list[object] = []
    page.on("websocket", lambda ws: ws.on("framesent", sent.append))
    live.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function(
        f"() => document.querySelectorAll('.lossviz-live')[{n}].dataset.playing === 'false'", timeout=120_000
    )
    drawn = page.evaluate("window.__drawn")
    ms = page.evaluate("window.__ms")
    frames = len(drawn)
    return {
        "fps": (frames - 1) / ((drawn[-1] - drawn[0]) / 1000.0) if frames > 1 else 0.0,
        "frames": frames,
        "median_ms": statistics.median(ms) if ms else float("nan"),
        "p90_ms": sorted(ms)[int(0.9 * (len(ms) - 1))] if ms else float("nan"),
        "sent": len(sent),
    }


def main_thread_cpu_ms(browser: Any, page: Any, n: int) -> tuple[float, int]:
    """Main-thread CPU milliseconds per drawn frame over one traced play, and the frames drawn."""
    browser.start_tracing(page=page, categories=["toplevel"])
    frames = play_once(page, n)["frames"]
    trace = json.loads(browser.stop_tracing())
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}
    tasks = ("RunTask", "ThreadControllerImpl::RunTask")
    cpu = sum(e["tdur"] for e in events if e.get("ph") == "X" and "tdur" in e and e.get("name") in tasks
              and threads.get((e["pid"], e["tid"])) == "CrRendererMain")
    return cpu / 1000.0 / max(frames, 1), frames


def measure(browser: Any, base: str, path: str, n: int, repeats: int, shots: Path | None, name: str) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(f"{base}/{path}")
    page.wait_for_function(f"() => document.querySelectorAll('.lossviz-live')[{n}]?.dataset.frame !== undefined",
                           timeout=300_000, polling=200)
    page.wait_for_function(IDLE, timeout=300_000, polling=200)
    runs = [play_once(page, n) for _ in range(repeats)]
    cpu_ms, _frames = main_thread_cpu_ms(browser, page, n)
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        stem = "".join(c if c.isalnum() else "_" for c in name)[:60]
        page.locator(".lossviz-live").nth(n).screenshot(path=str(shots / f"{stem}.png"))
    page.close()
    best = max(runs, key=lambda r: r["fps"])
    return {**best, "all_fps": [round(r["fps"], 1) for r in runs], "cpu_ms": cpu_ms}


def payload_bytes(script: str, path: str) -> int | None:
    """The played figure's JSON size for an app.py page, from AppTest (what the component sends)."""
    if script != "app.py":
        return None
    from streamlit.testing.v1 import AppTest

    sys.path.insert(0, str(ROOT))  # the page scripts import lossviz
    page, _, query = path.partition("?")
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=300)
    for item in filter(None, query.split("&")):
        key, _, value = item.partition("=")
        previous = at.query_params.get(key)
        at.query_params[key] = [*previous, value] if isinstance(previous, list) else (
            [previous, value] if previous is not None else value)
    at.run()
    sizes = [len(el.proto.bytes) for el in at.get("bidi_component")]
    return sizes[0] if sizes else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--screenshots", type=Path, default=None)
    parser.add_argument("--only", default="", help="run only the scenarios whose name contains this text")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.1f} at the start; Chromium {CHROMIUM}, headless, no GPU\n")
    print("| scenario | frames | frames/s (best) | all plays | median / p90 frame ms | main-thread CPU ms/frame → "
          "frames/s on an idle core | sent while playing | payload | ≥ 20 fps |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---|")
    chosen = [s for s in SCENARIOS if args.only in s[0]]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for script in dict.fromkeys(s[1] for s in chosen):
            with server(script) as base:
                for name, _script, path, n in (s for s in chosen if s[1] == script):
                    r = measure(browser, base, path, n, args.repeats, args.screenshots, name)
                    size = payload_bytes(script, path)
                    idle = 1000.0 / r["cpu_ms"]
                    print(
                        f"| {name} | {r['frames']} | {r['fps']:.1f} | {r['all_fps']} | {r['median_ms']:.0f} / "
                        f"{r['p90_ms']:.0f} | {r['cpu_ms']:.1f} → {idle:.0f} | {r['sent']} | "
                        f"{'' if size is None else f'{size / 1e6:.2f} MB'} | "
                        f"{'✓' if r['fps'] >= TARGET_FPS else ('✓ (idle core)' if idle >= TARGET_FPS else '✗')} |",
                        flush=True,
                    )
        browser.close()
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
