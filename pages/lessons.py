"""Lessons: guided steps that open a page in a given state and check an answer against the live numbers."""

from __future__ import annotations

import streamlit as st

from lossviz.lessons import LESSON_KEY, STEP_KEY, Lesson, all_lessons, link, position
from lossviz.lessons.base import ChoiceQuestion
from lossviz.ui.classroom import explain
from lossviz.ui.navigation import ensure_app

ensure_app()

# Session keys (a bare string under a constant would render as text: Streamlit's "magic"):
PREFIX = "lessons"
CURRENT = f"_{PREFIX}_current"  # (lesson index, step index) this session is at: where the page opens without a link
SOLVED = f"_{PREFIX}_solved"  # {lesson id: the indexes of its solved steps}
VERDICTS = f"_{PREFIX}_verdicts"  # {(lesson id, step index): the Verdict of its last check}
JUST_SOLVED = f"_{PREFIX}_just_solved"  # (lesson id, step index, message) of the step a right answer just left
LESSONS = all_lessons()


def answer_key(lesson: Lesson, step: int) -> str:
    return f"{PREFIX}_answer_{lesson.id}_{step}"


def solved(lesson: Lesson) -> set[int]:
    return st.session_state.setdefault(SOLVED, {}).setdefault(lesson.id, set())


def go_to(lesson: int, step: int) -> None:
    """Show a lesson's step: kept in the session and in the link (``?lesson=<id>&step=<n>``)."""
    st.session_state[CURRENT] = (lesson, step)
    st.query_params.update(link(LESSONS[lesson].id, step))


def open_lesson(lesson: int) -> None:
    """A lesson from the list, at its first step not solved yet."""
    done = solved(LESSONS[lesson])
    go_to(lesson, next((i for i in range(len(LESSONS[lesson].steps)) if i not in done), 0))


def where() -> tuple[int, int]:
    """The lesson and step to show: the link's, else this session's, else the first; a bad link value warns
    and falls back (the link is then rewritten to what is shown)."""
    raw_lesson, raw_step = st.query_params.get(LESSON_KEY), st.query_params.get(STEP_KEY)
    if raw_lesson is None and raw_step is None:
        current = st.session_state.get(CURRENT, (0, 0))
    else:
        found = position(raw_lesson, raw_step)
        if found.warning:
            st.warning(found.warning, icon=":material/warning:")
        current = (found.lesson, found.step)
    go_to(*current)
    return current


def check(lesson_index: int, step_index: int) -> None:
    """Check button: judge the answer against the live numbers; a right one moves on to the next step."""
    lesson = LESSONS[lesson_index]
    answer = st.session_state.get(answer_key(lesson, step_index))
    verdict = lesson.steps[step_index].check("" if answer is None else str(answer))
    st.session_state.setdefault(VERDICTS, {})[(lesson.id, step_index)] = verdict
    if verdict.ok:
        solved(lesson).add(step_index)
        if step_index + 1 < len(lesson.steps):
            st.session_state[JUST_SOLVED] = (lesson.id, step_index, verdict.message)
            go_to(lesson_index, step_index + 1)


def lesson_list(current: int) -> None:
    """The lessons with each one's progress; picking one opens it at its first step not solved yet."""
    key = f"{PREFIX}_pick"
    st.session_state[key] = current  # the list follows the link and the step buttons
    st.radio(
        "Lessons",
        range(len(LESSONS)),
        key=key,
        format_func=lambda i: LESSONS[i].title,
        captions=[f"{len(solved(les))} of {len(les.steps)} steps solved" for les in LESSONS],
        on_change=lambda: open_lesson(st.session_state[key]),
    )


def answer_box(lesson: Lesson, step_index: int) -> None:
    question = lesson.steps[step_index].question
    key = answer_key(lesson, step_index)
    if isinstance(question, ChoiceQuestion):
        st.radio(question.prompt, question.options, index=None, key=key, horizontal=True)
    else:
        st.text_input(question.prompt, key=key, placeholder="Your answer")


def step_view(lesson_index: int, step_index: int) -> None:
    lesson = LESSONS[lesson_index]
    step = lesson.steps[step_index]
    done = solved(lesson)
    st.subheader(lesson.title)
    st.caption(lesson.summary)
    st.progress(
        len(done) / len(lesson.steps),
        text=f"Step {step_index + 1} of {len(lesson.steps)} · {len(done)} solved",
    )
    just = st.session_state.get(JUST_SOLVED)
    if just is not None and just[:2] == (lesson.id, step_index - 1):
        st.success(f"Step {step_index} solved. {just[2]}", icon=":material/check_circle:")
    st.markdown(f"#### {step_index + 1}. {step.title}")
    st.markdown(step.text)
    st.page_link(step.page, label=f"Open {step.view}", icon=":material/open_in_new:", query_params=dict(step.query))
    answer_box(lesson, step_index)
    st.button("Check", key=f"{PREFIX}_check", type="primary", on_click=check, args=(lesson_index, step_index))
    verdict = st.session_state.get(VERDICTS, {}).get((lesson.id, step_index))
    if verdict is not None:
        if verdict.ok:
            st.success(verdict.message, icon=":material/check_circle:")
        else:
            st.info(verdict.message, icon=":material/lightbulb:")
        answer = st.session_state.get(answer_key(lesson, step_index))
        yours = step.question.link("" if answer is None else str(answer), step.query)
        if yours is not None:
            st.page_link(
                step.page, label="Open the page with your answer", icon=":material/open_in_new:", query_params=yours
            )
    if verdict is not None and verdict.ok and step_index + 1 == len(lesson.steps):
        st.success(f"Lesson complete: {len(done)} of {len(lesson.steps)} steps solved.", icon=":material/school:")
        if lesson_index + 1 < len(LESSONS):
            st.button(
                f"Next lesson: {LESSONS[lesson_index + 1].title}",
                key=f"{PREFIX}_next_lesson",
                on_click=open_lesson,
                args=(lesson_index + 1,),
            )
    back, forward = st.columns(2)
    back.button(
        "Previous step",
        key=f"{PREFIX}_previous",
        icon=":material/arrow_back:",
        disabled=step_index == 0,
        on_click=go_to,
        args=(lesson_index, step_index - 1),
        width="stretch",
    )
    forward.button(
        "Next step",
        key=f"{PREFIX}_next",
        icon=":material/arrow_forward:",
        disabled=step_index + 1 == len(lesson.steps),
        on_click=go_to,
        args=(lesson_index, step_index + 1),
        width="stretch",
    )


st.title("Lessons")
explain(
    "Short guided tours. Each step opens a page of lossviz in a given state, says what to look at, and asks "
    "one question whose answer is on the screen. Your answer is checked against the page's live numbers; a "
    "wrong one gets a hint. The link of this page keeps your place; your progress stays for this session."
)
lesson_index, step_index = where()
menu, main = st.columns([1, 3], gap="large")
with menu:
    lesson_list(lesson_index)
with main:
    step_view(lesson_index, step_index)
