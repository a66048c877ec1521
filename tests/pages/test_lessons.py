"""The Lessons page in AppTest and in the browser, and every lesson step's link opening its page.

The page runs as app.py runs it: ``AppTest.from_file("app.py")`` switched to ``pages/lessons.py`` (with a
``pages/`` folder AppTest runs the page file itself; see tests/ui/test_session_isolation.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import exceptions, live_values, warnings
from streamlit.testing.v1 import AppTest

from lossviz.lessons import LESSONS, lesson
from lossviz.lessons.base import ChoiceQuestion, fmt

ROOT = Path(__file__).resolve().parents[2]
PAGE = "pages/lessons.py"
STEP_FINDINGS = ("Diverged at η", "Your formula differs from")


def app(query: dict[str, str] | None = None, page: str = PAGE, timeout: float = 180) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.switch_page(page)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


def heading(at: AppTest) -> str:
    """The current step's heading, "<n>. <title>"."""
    return next(m.value.removeprefix("#### ") for m in at.markdown if m.value.startswith("#### "))


def progress(at: AppTest) -> list[str]:
    """The caption under each lesson of the list."""
    return list(at.radio(key="lessons_pick").proto.captions)


def answer(at: AppTest, lesson_id: str, step: int, text: str) -> AppTest:
    """Type (or pick) an answer to a step and press Check."""
    key = f"lessons_answer_{lesson_id}_{step}"
    if isinstance(lesson(lesson_id).steps[step].question, ChoiceQuestion):
        at.radio(key=key).set_value(text)
    else:
        at.text_input(key=key).input(text)
    at.button(key="lessons_check").click().run()
    assert not exceptions(at), exceptions(at)
    return at


def test_the_page_lists_every_lesson_and_opens_the_first() -> None:
    at = app()
    assert at.radio(key="lessons_pick").options == [les.title for les in LESSONS]
    assert progress(at) == [f"0 of {len(les.steps)} steps solved" for les in LESSONS]
    assert heading(at) == f"1. {LESSONS[0].steps[0].title}"
    link = at.get("page_link")[0].proto
    assert link.page == "curves" and "curves_losses=mse" in link.query_string
    assert dict(at.query_params) == {"lesson": LESSONS[0].id, "step": "1"}
    assert not warnings(at) and not at.info


def test_a_wrong_answer_shows_a_hint_and_a_right_one_advances() -> None:
    at = app({"lesson": "focal", "step": "1"})
    step = lesson("focal").steps[0]
    right = float(step.solution())
    answer(at, "focal", 0, fmt(right - 0.1))
    hints = [i.value for i in at.info]
    assert len(hints) == 1 and "too low" in hints[0] and "ratio" in hints[0]
    assert heading(at).startswith("1.") and at.query_params["step"] == "1"
    answer(at, "focal", 0, step.solution())
    assert heading(at) == f"2. {lesson('focal').steps[1].title}"
    assert at.query_params["step"] == "2"
    assert any(s.value.startswith("Step 1 solved. Right: 0.9") for s in at.success)
    assert progress(at)[[les.id for les in LESSONS].index("focal")] == f"1 of {len(lesson('focal').steps)} steps solved"


def test_a_choice_and_the_navigation_buttons() -> None:
    at = app({"lesson": "outliers", "step": "1"})
    assert at.button(key="lessons_previous").disabled
    answer(at, "outliers", 0, "mae")
    assert "mae's slope is" in at.info[0].value
    at.button(key="lessons_next").click().run()
    assert heading(at).startswith("2.") and at.query_params["step"] == "2"
    at.button(key="lessons_previous").click().run()
    assert heading(at).startswith("1.") and at.query_params["step"] == "1"


def test_picking_a_lesson_opens_it_at_its_first_unsolved_step() -> None:
    at = app({"lesson": "gan-saturation", "step": "1"})
    answer(at, "gan-saturation", 0, lesson("gan-saturation").steps[0].solution())
    at.radio(key="lessons_pick").set_value(0).run()
    assert at.query_params["lesson"] == LESSONS[0].id and heading(at).startswith("1.")
    at.radio(key="lessons_pick").set_value([les.id for les in LESSONS].index("gan-saturation")).run()
    assert at.query_params["lesson"] == "gan-saturation" and heading(at).startswith("2.")


def test_a_link_restores_its_lesson_and_step_and_the_session_keeps_the_place() -> None:
    at = app({"lesson": "margins", "step": "4"})
    assert heading(at) == f"4. {lesson('margins').steps[3].title}"
    assert at.radio(key="lessons_pick").value == [les.id for les in LESSONS].index("margins")
    at.query_params.clear()  # back on the page from the sidebar: no link values
    at.run()
    assert heading(at).startswith("4.") and dict(at.query_params) == {"lesson": "margins", "step": "4"}


@pytest.mark.parametrize(
    ("query", "words", "shown"),
    [
        ({"lesson": "no-such-lesson", "step": "2"}, "is not a lesson", (LESSONS[0].id, "2")),
        ({"lesson": "focal", "step": "99"}, "outside 1", ("focal", str(len(lesson("focal").steps)))),
        ({"lesson": "focal", "step": "x"}, "not a step number", ("focal", "1")),
    ],
)
def test_a_bad_link_value_warns_and_falls_back(query: dict, words: str, shown: tuple[str, str]) -> None:
    at = app(query)
    assert any(words in w for w in warnings(at)), warnings(at)
    assert (at.query_params["lesson"], at.query_params["step"]) == shown
    assert heading(at).startswith(f"{shown[1]}.")


def test_the_last_step_completes_the_lesson_and_offers_the_next() -> None:
    les = LESSONS[0]
    last = len(les.steps) - 1
    at = app({"lesson": les.id, "step": str(last + 1)})
    answer(at, les.id, last, les.steps[last].solution())
    assert any("Lesson complete" in s.value for s in at.success)
    at.button(key="lessons_next_lesson").click().run()
    assert at.query_params["lesson"] == LESSONS[1].id and heading(at).startswith("1.")


def test_a_setting_answer_links_the_page_at_the_typed_value() -> None:
    at = app({"lesson": "outliers", "step": "3"})
    answer(at, "outliers", 2, "4")
    assert "% of huber's total pull" in at.info[0].value
    yours = [p.proto for p in at.get("page_link") if p.proto.label == "Open the page with your answer"]
    assert len(yours) == 1 and "outliers_huber_delta=4" in yours[0].query_string


# --- every step's link opens its page in its state ---------------------------------------------------------------


def links() -> list[tuple[str, dict]]:
    """Each distinct (page, link values) of the lessons, once."""
    seen: dict[tuple, tuple[str, dict]] = {}
    for les in LESSONS:
        for step in les.steps:
            key = (step.page, tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in step.query.items())))
            seen.setdefault(key, (step.page, dict(step.query)))
    return list(seen.values())


@pytest.mark.parametrize(
    ("page", "query"), links(), ids=[f"{p.split('/')[-1][:-3]}-{i}" for i, (p, _) in enumerate(links())]
)
def test_each_step_link_opens_its_page_in_its_state(page: str, query: dict) -> None:
    at = app(query, page=page, timeout=300)
    # The page's own findings that a step asks about (GD diverging, a formula differing from a built-in) are
    # warnings by design; no other warning, and none about a link value, may show.
    unexpected = [w for w in warnings(at) if not w.startswith(STEP_FINDINGS)]
    assert not unexpected, unexpected
    assert not [e.value for e in at.error], [e.value for e in at.error]
    for key, value in query.items():
        live = live_values(at)  # a live control's value is its shown frame, not its state
        shown = live[key] if key in live else at.session_state[key]
        if isinstance(value, list):
            assert list(shown) == value, key
        else:
            assert str(shown) == value or float(shown) == float(value), (key, shown, value)


# --- in the browser ----------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_in_the_browser_a_lesson_checks_answers_opens_its_page_and_keeps_its_place() -> None:
    from helpers import IDLE_JS, browser_errors, chromium_page, streamlit_server

    step = lesson("focal").steps[0]
    heading_js = (
        """() => Array.from(document.querySelectorAll('[data-testid="stMain"] h4')).map(h => h.innerText).join('|')"""
    )

    def settle(tab) -> None:
        tab.wait_for_timeout(300)
        tab.wait_for_function(IDLE_JS, timeout=60_000, polling=250)

    def check(tab, text: str) -> None:
        box = tab.locator('[data-testid="stTextInput"] input').first
        box.fill(text)
        box.press("Enter")
        settle(tab)
        tab.get_by_role("button", name="Check").click()
        settle(tab)

    with streamlit_server() as base, chromium_page(base, "lessons?lesson=focal&step=1", charts=0) as tab:
        assert browser_errors(tab) == []
        assert tab.evaluate(heading_js).startswith(f"1. {step.title}")
        check(tab, "0.8")
        hint = tab.locator('[data-testid="stAlertContentInfo"]').first.inner_text()
        assert "too low" in hint and tab.evaluate(heading_js).startswith("1.")
        check(tab, step.solution())
        tab.wait_for_function(f"() => ({heading_js})().startsWith('2.')", timeout=60_000)
        assert "step=2" in tab.url and "lesson=focal" in tab.url
        tab.get_by_text(f"Open {lesson('focal').steps[1].view}").first.click()
        tab.wait_for_url("**/focal?**", timeout=60_000)
        tab.wait_for_function(
            f"() => ({IDLE_JS})() && document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=120_000
        )
        # γ = 2 is the control's default, which a bound widget leaves out of the URL: read the page's own text
        assert "How much less loss than cross-entropy at γ = 2:" in tab.inner_text('[data-testid="stMain"]')
        assert browser_errors(tab) == []
        tab.locator('[data-testid="stSidebarNav"] a', has_text="Lessons").first.click()
        tab.wait_for_url("**/lessons**", timeout=60_000)
        tab.wait_for_function(f"() => ({heading_js})().startsWith('2.')", timeout=60_000)
        assert "step=2" in tab.url and browser_errors(tab) == []
