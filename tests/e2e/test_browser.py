"""Every page of the app in headless Chromium: it renders its charts without an exception, a
screenshot is saved, and moving its first slider with the keyboard reruns it and changes a chart.

Run with ``python -m pytest -m browser tests/e2e``; screenshots land in
``test-artifacts/screenshots/<page>.png``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1400, "height": 1000}
LOAD_TIMEOUT_MS = 60_000
RERUN_TIMEOUT_MS = 20_000
ARROW_PRESSES = 3
SLIDER_PAGES = ("curves", "landscape")
"""Pages known to have sliders: finding none there means the selector broke, not the page."""
CHARTLESS_PAGES = ("home", "lessons")
"""Pages that draw no Plotly chart."""

IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.dataset.testScriptState === 'notRunning'
        && !document.querySelector('[data-testid="stStatusWidget"]')
        && !!document.querySelector('[data-testid="stMain"] [data-testid="stElementContainer"]');
}"""
PAGE_STATE = """() => {
    const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
    return JSON.stringify([
        (""" + IDLE + """)(),
        document.querySelectorAll('[data-testid="stElementContainer"]').length,
        document.querySelectorAll('[data-testid="stPlotlyChart"]').length,
        plots.length,
        plots.every(p => Array.isArray(p._fullData)),
    ]);
}"""
PLOT_DATA = """() => JSON.stringify(Array.from(document.querySelectorAll('.js-plotly-plot')).map(el =>
    (el._fullData || []).map(t => ['x', 'y', 'z'].map(k => {
        const v = t[k];
        if (v === undefined || v === null || typeof v === 'string') return null;
        return Array.from(v, e => (e !== null && typeof e === 'object' && e.length !== undefined) ? Array.from(e) : e);
    }))))"""
STABLE_S = 1.2
"""Charts load lazily (a code-split Plotly component): after the run ends they appear over a few
seconds. The page counts as ready once its element and chart counts have not changed for this long."""
POLL_S = 0.25


def wait_idle(page, expect_chart: bool) -> None:
    """Wait until the script has run and the page is stable: not running, something rendered, and
    the numbers of elements and drawn charts unchanged for ``STABLE_S`` (a fresh session reports
    "not running" before its first run starts, and charts mount after the run ends)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(IDLE, timeout=LOAD_TIMEOUT_MS, polling=250)
    if expect_chart:
        page.wait_for_selector(".js-plotly-plot", timeout=LOAD_TIMEOUT_MS)
    deadline = time.monotonic() + LOAD_TIMEOUT_MS / 1000
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        state = page.evaluate(PAGE_STATE)
        idle, _, charts, plots, drawn = json.loads(state)
        if state != last:
            last, since = state, time.monotonic()
        elif idle and drawn and plots >= charts and time.monotonic() - since >= STABLE_S:
            return
        time.sleep(POLL_S)
    raise AssertionError(f"the page did not settle within {LOAD_TIMEOUT_MS / 1000:.0f} s (last state {last})")


def exception_texts(page) -> list[str]:
    return [e.inner_text()[:2000] for e in page.query_selector_all('[data-testid="stException"]')]


def plot_data(page) -> list:
    return json.loads(page.evaluate(PLOT_DATA))


def save_screenshot(page, name: str) -> Path:
    """A full-page screenshot: Streamlit scrolls inside its main container, so grow the viewport
    to the content's height first."""
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]'); return m ? m.scrollHeight : 0; }"
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": int(min(max(height + 80, VIEWPORT["height"]), 12_000))})
    page.wait_for_timeout(400)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(VIEWPORT)
    return path


@pytest.fixture(scope="module")
def app_url(server: str, browser) -> str:
    """The shared server, after one visit to its root: before any session has run app.py, Streamlit
    serves a direct page link from pages/ without app.py (see test_direct_link_runs_app_navigation)."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.goto(server + "/", timeout=LOAD_TIMEOUT_MS)
    wait_idle(tab, expect_chart=False)
    context.close()
    return server


def test_every_page_file_is_covered(page_file: str) -> None:
    assert (ROOT / page_file).exists() and page_file.startswith("pages/")


def test_page_renders_and_its_first_slider_reruns_it(app_url: str, page, page_file: str) -> None:
    """``page_file`` runs over every page of app.py's SECTIONS (see conftest.pytest_generate_tests)."""
    name = Path(page_file).stem
    path = "" if name == "home" else name  # url_path = file stem; home is the default page at /
    page.goto(f"{app_url}/{path}", timeout=LOAD_TIMEOUT_MS)
    wait_idle(page, expect_chart=name not in CHARTLESS_PAGES)
    save_screenshot(page, name)
    assert not exception_texts(page), f"{name}: exception on load:\n" + "\n---\n".join(exception_texts(page))
    charts = page.query_selector_all(".js-plotly-plot")

    # Streamlit's slider is a visually hidden <input type="range"> (react-aria) inside stSlider.
    sliders = [
        s.query_selector('input[type="range"]')
        for s in page.query_selector_all('[data-testid="stSlider"]')
        if s.is_visible() and s.query_selector('input[type="range"]')
    ]
    if name in SLIDER_PAGES:
        assert sliders, f"{name}: no slider found"
    if not sliders or not charts:
        return
    before = plot_data(page)
    slider = sliders[0]
    value_before = slider.input_value()
    slider.focus()
    for _ in range(ARROW_PRESSES):
        slider.press("ArrowRight")
    if slider.input_value() == value_before:  # at its maximum: go the other way
        for _ in range(ARROW_PRESSES):
            slider.press("ArrowLeft")
    assert slider.input_value() != value_before, f"{name}: the first slider did not move"
    page.wait_for_function(
        f"() => ({PLOT_DATA})() !== {json.dumps(json.dumps(before))}", timeout=RERUN_TIMEOUT_MS, polling=500
    )
    wait_idle(page, expect_chart=True)
    assert not exception_texts(page), f"{name}: exception after moving a slider:\n" + "\n".join(exception_texts(page))
    after = plot_data(page)
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b]
    assert changed, f"{name}: moving the first slider changed no chart"


def test_curves_live_slider_moves_the_curves_without_a_rerun(app_url: str, page) -> None:
    """Huber's δ is one live control under the curves: a drag draws precomputed frames in the browser without
    a message to the server; the release commits the value once, to the link, and a reload restores it."""
    from tests.pages.helpers import drag_live, drawn_frame, live_root, sent_frames

    name = "δ (delta)"
    sent = sent_frames(page)
    page.goto(f"{app_url}/curves", timeout=LOAD_TIMEOUT_MS)
    wait_idle(page, expect_chart=True)
    assert page.get_by_role("slider", name=name, exact=True).count() == 1, "δ must have exactly one control"
    root = live_root(page, name)
    root.scroll_into_view_if_needed()
    huber = root.locator(".scatterlayer .trace .js-line").nth(6)  # mse, mae: 3 lines each; huber's value next
    before, paths = len(sent), [huber.get_attribute("d")]
    frames = drag_live(page, name, (0.4, 0.6, 0.8))
    for _ in frames[1:]:
        paths.append(huber.get_attribute("d"))
    assert len(set(frames)) == len(frames), frames
    assert len(set(paths)) > 1, "dragging δ did not move Huber's curve"
    assert len(sent) == before, "the drag sent WebSocket messages"
    page.mouse.up()
    text = page.get_by_role("slider", name=name, exact=True).get_attribute("aria-valuetext")
    page.wait_for_function(f"() => location.search.includes('curves_huber_delta={text}')", timeout=RERUN_TIMEOUT_MS)
    wait_idle(page, expect_chart=True)
    assert any(f"δ = {text}" in c for c in page.locator('[data-testid="stCaptionContainer"]').all_inner_texts())
    page.reload()
    wait_idle(page, expect_chart=True)
    assert drawn_frame(page, name) == frames[-1]
    assert page.get_by_role("slider", name=name, exact=True).get_attribute("aria-valuetext") == text
    assert not exception_texts(page)


def test_direct_link_runs_app_navigation(browser, fresh_server) -> None:
    """A shared link opened first on a fresh server runs inside app.py: the navigation's sections and titles,
    the sidebar caption, the page config's title and the link's own values (lossviz.ui.navigation.ensure_app)."""
    with fresh_server("streamlit-e2e-direct.log") as base:
        context = browser.new_context(viewport=VIEWPORT)
        tab = context.new_page()
        tab.goto(f"{base}/curves?curves_family=robust", timeout=LOAD_TIMEOUT_MS)
        wait_idle(tab, expect_chart=True)
        sidebar = tab.inner_text('[data-testid="stSidebar"]') if tab.query_selector('[data-testid="stSidebar"]') else ""
        title, url = tab.title(), tab.url
        context.close()
    assert "losses" in sidebar and "app" not in sidebar.split(), f"app.py did not run; sidebar: {sidebar!r}"
    for text in ("Explore", "Outlier sensitivity", "Lessons"):  # sections and titles (later ones may be folded)
        assert text in sidebar, sidebar
    assert (title == "lossviz" and url.endswith("/curves")) or "curves_" in url, (title, url)


def test_training_lab_trains_on_an_uploaded_example_file(app_url: str, page) -> None:
    """Choose "Your CSV file", upload examples/housing_outliers.csv through the file input: the lab trains
    on it and draws the fit in the file's own columns."""
    page.goto(f"{app_url}/training_lab?training_epochs=20", timeout=LOAD_TIMEOUT_MS)
    wait_idle(page, expect_chart=True)
    page.get_by_text("Your CSV file", exact=True).click()
    page.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached", timeout=RERUN_TIMEOUT_MS)
    wait_idle(page, expect_chart=True)
    page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(ROOT / "examples" / "housing_outliers.csv"))
    titles = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .map(p => p.layout && p.layout.xaxis && p.layout.xaxis.title ? p.layout.xaxis.title.text : null)"""
    page.wait_for_function(f"() => ({titles})().includes('area_m2')", timeout=LOAD_TIMEOUT_MS, polling=500)
    wait_idle(page, expect_chart=True)
    save_screenshot(page, "training_lab_upload")
    assert not exception_texts(page), "\n".join(exception_texts(page))
    assert not page.query_selector_all('[data-testid="stAlertContentError"]')
    text = page.inner_text('[data-testid="stMain"]')
    assert "housing_outliers.csv" in text and "300 rows" in text
