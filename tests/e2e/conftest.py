"""Browser end-to-end fixtures: a real ``streamlit run app.py`` server and Debian's headless Chromium.

The page list comes from ``SECTIONS`` in lossviz.ui.navigation (app.py is a Streamlit script
and cannot be imported), so pages added later are covered automatically. Chromium is the system
one at ``/usr/bin/chromium`` (``scripts/test.sh`` installs it); Playwright never downloads a browser.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from lossviz.ui.navigation import page_files

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 90.0
VIEWPORT = {"width": 1400, "height": 1000}


def app_pages() -> list[str]:
    """The page files of the navigation (lossviz.ui.navigation.SECTIONS) that exist, in order."""
    return [path for path in page_files() if (ROOT / path).exists()]


def url_path(page: str) -> str:
    """The page's URL path: its file stem, except the home page, which is the app's root."""
    stem = Path(page).stem
    return "" if stem == "home" else stem


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def streamlit_server(log_name: str) -> Iterator[str]:
    """``python -m streamlit run app.py`` on a free port, from the repo root; yields its base URL."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / log_name).open("w")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless=true", f"--server.port={port}", "--browser.gatherUsageStats=false",
            "--server.fileWatcherType=none",
        ],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _healthy(base):
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with code {process.returncode}; see {ARTIFACTS / log_name}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer /_stcore/health within {SERVER_START_TIMEOUT:.0f} s")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``page_file`` over every existing page of app.py's SECTIONS."""
    if "page_file" in metafunc.fixturenames:
        pages = app_pages()
        metafunc.parametrize("page_file", pages, ids=[Path(p).stem for p in pages])


@pytest.fixture(scope="module")  # closed before other modules start their own Playwright
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. Install it with "
            "`apt-get install chromium` (scripts/test.sh does this), or deselect them with -m 'not browser'."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with streamlit_server("streamlit-e2e.log") as base:
        yield base


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def fresh_server():
    """A context manager starting a server of its own (for tests that need one no session has used)."""
    return streamlit_server

