"""Every screen, in headless Chromium: each page fits a phone (390 × 844) and a tablet (768 × 1024) without
sideways scrolling and with its charts inside the viewport; ``?embed=true`` renders each page; a classroom
link hides, locks and strips what it says; screenshots at 390, 768 and 1920 px (projector link).

One server and one browser for the module (the fixtures of conftest.py, which also parametrises ``page_file``
over every page).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the suite imports in importlib mode: reach the sibling modules
from conftest import url_path
from test_browser import CHARTLESS_PAGES, LOAD_TIMEOUT_MS, SCREENSHOTS, exception_texts, wait_idle

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
PROJECTOR = {"width": 1920, "height": 1080}
SCREENSHOT_PAGES = ("curves", "outliers", "training_lab")
FIT = """() => {
    const root = document.documentElement, main = document.querySelector('[data-testid="stMain"]');
    return JSON.stringify({
        viewport: root.clientWidth,
        page: root.scrollWidth,
        main: main ? main.scrollWidth - main.clientWidth : 0,
        charts: Array.from(document.querySelectorAll('.js-plotly-plot'))
            .map(p => Math.round(p.getBoundingClientRect().right)),
    });
}"""
INTRO = "Pick a family and overlay its losses"


def open_page(browser, base: str, page_file: str, viewport: dict[str, int], query: str = ""):
    context = browser.new_context(viewport=viewport)
    tab = context.new_page()
    tab.goto(f"{base}/{url_path(page_file)}{query}", timeout=LOAD_TIMEOUT_MS)
    wait_idle(tab, expect_chart=Path(page_file).stem not in CHARTLESS_PAGES)
    return context, tab


@pytest.fixture(scope="module")
def base(server: str, browser) -> str:
    """The shared server after one visit to its root (a direct link before any app.py run is handed over)."""
    context, _ = open_page(browser, server, "pages/home.py", TABLET)
    context.close()
    return server


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
def test_page_fits_the_screen(browser, base: str, page_file: str, viewport: dict[str, int]) -> None:
    context, tab = open_page(browser, base, page_file, viewport)
    try:
        fit = json.loads(tab.evaluate(FIT))
        errors = exception_texts(tab)
    finally:
        context.close()
    assert not errors, errors
    assert fit["page"] == fit["viewport"], f"the page scrolls sideways: {fit}"
    assert fit["main"] <= 0, f"the main area scrolls sideways: {fit}"
    assert all(right <= fit["viewport"] for right in fit["charts"]), f"a chart is wider than the screen: {fit}"


def test_embed_renders_each_page(browser, base: str, page_file: str) -> None:
    context, tab = open_page(browser, base, page_file, TABLET, "?embed=true")
    try:
        errors = exception_texts(tab)
        sidebar = tab.query_selector('[data-testid="stSidebar"]')
        shown = bool(sidebar and sidebar.is_visible())
        elements = len(tab.query_selector_all('[data-testid="stMain"] [data-testid="stElementContainer"]'))
    finally:
        context.close()
    assert not errors, errors
    assert elements > 0 and not shown


def test_a_teacher_link_hides_locks_and_strips_text(browser, base: str) -> None:
    query = "?hide=curves_family&lock=curves_logy&hide_text=true"
    context, tab = open_page(browser, base, "pages/curves.py", TABLET, query)
    try:
        family = tab.query_selector(".st-key-curves_family")
        family_shown = family is not None and family.is_visible()
        logy = tab.query_selector(".st-key-curves_logy input")
        logy_locked = logy is not None and logy.is_disabled()
        text = tab.inner_text('[data-testid="stMain"]')
        warnings = tab.query_selector_all('[data-testid="stAlert"]')
    finally:
        context.close()
    assert not family_shown, "?hide= left the control visible"
    assert logy_locked, "?lock= left the control enabled"
    assert INTRO not in text and "Loss curves" in text
    assert not warnings


@pytest.mark.parametrize("name", SCREENSHOT_PAGES)
def test_screenshots_on_phone_tablet_and_projector(browser, base: str, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, viewport, query in (("390", PHONE, ""), ("768", TABLET, ""), ("1920", PROJECTOR, "?projector=true")):
        context, tab = open_page(browser, base, f"pages/{name}.py", viewport, query)
        try:
            tab.screenshot(path=str(SCREENSHOTS / f"screen-{name}-{label}.png"))
            assert not exception_texts(tab)
        finally:
            context.close()
