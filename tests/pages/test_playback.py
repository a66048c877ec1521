"""Playback in the browser: the training lab's run, the Landscape's descents and the Neural landscape's PCA path
play, step and rewind under one time control, with nothing sent to the server (lossviz.ui.live_chart's player)."""

from __future__ import annotations

import pytest
from helpers import browser_errors, chromium_page, drawn_frame, live_root, sent_frames, streamlit_server

PLAYERS = {
    # page link, the time control's name, the Plotly charts drawn once the page is ready, its last position
    "training lab": ("training_lab?training_epochs=20", "epoch", 3, 20),
    "landscape": ("landscape", "step", 2, None),
    "neural landscape": ("neural_landscape", "epoch", 3, 100),
}


def _look(page, name: str) -> tuple[str, ...]:
    """What the player's chart shows: the SVG of its moving layer (shapes and images) and of its traces."""
    root = live_root(page, name)
    return (
        root.locator(".layer-above, .layer-below, .shapelayer").evaluate_all("els => els.map(e => e.innerHTML).join()"),
        root.locator("image").evaluate_all("els => els.map(e => e.getAttribute('href')).join()"),
    )


def _wait_frame(page, name: str, frame: int) -> None:
    live_root(page, name).evaluate(
        "(el, k) => new Promise((resolve, reject) => { const t0 = performance.now(); (function poll() {"
        " if (el.dataset.frame === String(k)) resolve(); else if (performance.now() - t0 > 15000)"
        " reject(new Error('frame ' + k + ' not drawn, at ' + el.dataset.frame)); else requestAnimationFrame(poll);"
        " })(); })",
        frame,
    )


@pytest.mark.browser
@pytest.mark.parametrize("which", list(PLAYERS))
def test_the_player_steps_rewinds_and_plays_in_the_browser(which: str) -> None:
    path, name, charts, last = PLAYERS[which]
    with streamlit_server() as base, chromium_page(base, path, charts) as page:
        assert browser_errors(page) == []
        scrubber = page.get_by_role("slider", name=name, exact=True)
        scrubber.wait_for(timeout=120_000)  # a section below the first charts may still be drawing
        assert scrubber.count() == 1
        page.wait_for_function("(el) => el.dataset.frame !== undefined",
                               arg=live_root(page, name).element_handle(), timeout=120_000)
        end = int(scrubber.get_attribute("max"))
        if last is not None:
            assert end == last  # one frame per snapshot, epochs 0 … 20
        assert drawn_frame(page, name) == end  # it opens at the end of training
        at_end = _look(page, name)
        sent = sent_frames(page)
        before = len(sent)

        scrubber.focus()
        page.keyboard.press("Home")
        _wait_frame(page, name, 0)
        page.keyboard.press("ArrowRight")
        _wait_frame(page, name, 1)
        assert scrubber.get_attribute("aria-valuetext") == "1" or name == "step"
        at_one = _look(page, name)
        assert at_one != at_end, "rewinding to the first step showed the same picture"

        page.get_by_role("button", name="Step forward", exact=True).click()
        _wait_frame(page, name, 2)
        page.get_by_role("button", name="Step back", exact=True).click()
        _wait_frame(page, name, 1)
        assert _look(page, name) == at_one  # stepping back shows the same frame again

        page.get_by_role("combobox", name="Speed").select_option("4")
        page.get_by_role("button", name="Play", exact=True).click()
        assert page.get_by_role("button", name="Pause", exact=True).is_visible()
        page.wait_for_function(
            "(el) => el.dataset.playing === 'false'", arg=live_root(page, name).element_handle(), timeout=60_000
        )
        assert drawn_frame(page, name) == end and _look(page, name) == at_end  # played through to the end
        page.wait_for_timeout(300)
        assert len(sent) == before, "stepping, scrubbing or playing sent WebSocket messages"
        assert browser_errors(page) == []


@pytest.mark.browser
def test_compared_runs_play_in_lockstep() -> None:
    """Three learning rates side by side under one time control: scrubbing moves every run's panel."""
    path = "training_lab?training_epochs=20&training_compare=true&training_vary=lr"
    with streamlit_server() as base, chromium_page(base, path, 3) as page:
        assert page.get_by_role("slider", name="epoch", exact=True).count() == 1  # one control for all runs
        root = live_root(page, "epoch")
        images = "els => els.map(e => e.getAttribute('href'))"
        at_end = root.locator("image").evaluate_all(images)
        assert len(at_end) >= 2, "compare mode should draw one decision map per run"
        sent = sent_frames(page)
        before = len(sent)
        page.get_by_role("slider", name="epoch", exact=True).focus()
        page.keyboard.press("Home")
        _wait_frame(page, "epoch", 0)
        at_start = root.locator("image").evaluate_all(images)
        assert len(at_start) == len(at_end) and all(a != b for a, b in zip(at_start, at_end, strict=True))
        page.wait_for_timeout(300)
        assert len(sent) == before
