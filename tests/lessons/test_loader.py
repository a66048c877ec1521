"""The lesson files' loader (lossviz.lessons.base.load): what a file says becomes the lesson, and a file that
names what its module lacks, or misspells a key, fails with a message that says where."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from lossviz.lessons import base as lb
from lossviz.registry import spec

STEP = '''
[[steps]]
title = "Step at {NEAR:g}"
view = "A view"
state = "STATE"
text = "Look at r = {NEAR:g}; braces {{like these}} stay."
'''
NUMBER = '''
[steps.number]
prompt = "How much?"
answer = "double"
tolerance = 0.1
hint = "Twice {NEAR:g} is {doubled}."
explain = "Read at {where}."
'''


@pytest.fixture
def lesson_module(tmp_path: Path) -> Iterator[types.ModuleType]:
    """A lesson module ``lesson_under_test`` whose TOML file the test writes."""
    module = types.ModuleType("lesson_under_test")
    module.__file__ = str(tmp_path / "lesson_under_test.py")
    module.NEAR = 0.5
    module.STATE = {"page_x": "2"}
    module.DELTA = spec("huber").param("delta")
    module.double = lambda state: 2 * float(state["page_x"])
    module.doubled = lambda state: lb.fmt(2 * module.NEAR)
    module.where = lambda state: f"x = {state['page_x']}"
    module.best = lambda state: "b"
    module.spread = lambda state, picked: f"{picked} is off"
    module.measure = lambda value, state: lb.Measured(value >= 1, f"δ is {value:g}")
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


def write(module: types.ModuleType, text: str) -> None:
    header = 'id = "t"\ntitle = "T"\nsummary = "S"\npage = "pages/curves.py"\n'
    Path(module.__file__).with_suffix(".toml").write_text(header + text, encoding="utf-8")


def test_a_file_becomes_a_lesson_with_live_words(lesson_module: types.ModuleType) -> None:
    write(lesson_module, STEP + NUMBER)
    lesson = lb.load("lesson_under_test")
    (step,) = lesson.steps
    assert (lesson.id, step.title, step.page, step.query) == ("t", "Step at 0.5", "pages/curves.py", {"page_x": "2"})
    assert step.text == "Look at r = 0.5; braces {like these} stay."
    assert step.check("4").message == "Right: 4. Read at x = 2."
    assert step.check("9").message == "9 is too high. Twice 0.5 is 1."
    assert step.question.check("4", {"page_x": "3"}).message == "4 is too low. Twice 0.5 is 1."  # the state moves it


def test_a_choice_hint_may_quote_the_pick_and_a_setting_names_its_param(lesson_module: types.ModuleType) -> None:
    choice = '[steps.choice]\nprompt = "Which?"\noptions = ["a", "b"]\nanswer = "best"\nhint = "{picked}: {spread}."\n'
    setting = (
        '[steps.setting]\nprompt = "Set δ"\ncontrol = "page_delta"\nparam = "DELTA"\nmeasure = "measure"\n'
        'hint = "Raise it."\n'
    )
    write(lesson_module, STEP + choice + STEP + setting)
    first, second = lb.load("lesson_under_test").steps
    assert first.check("a").message == "Not a. a: a is off."
    lesson_module.CHOICES = ("a", "b", "c")  # options may name the module's tuple the answer picks from
    write(lesson_module, STEP + choice.replace('["a", "b"]', '"CHOICES"') + STEP + setting)
    assert lb.load("lesson_under_test").steps[0].question.options == ("a", "b", "c")
    write(lesson_module, STEP + choice.replace('["a", "b"]', '"NEAR"') + STEP + setting)
    with pytest.raises(lb.LessonFileError, match="options must be a list"):
        lb.load("lesson_under_test")
    assert second.question.param is lesson_module.DELTA
    assert second.check("0.5").message == "At 0.5, δ is 0.5. Raise it." and second.check("2").ok


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("answer = \"double\"", "answer = \"triple\""), "step 1 number: lesson_under_test has no 'triple'"),
        (("tolerance = 0.1", "tolerance = 0.1\ntolerence = 1"), "unknown key tolerence"),
        (("prompt = \"How much?\"\n", ""), "step 1 number: missing prompt"),
        (("{doubled}", "{doubled"), "write {{ and }} for braces"),
        (("{doubled}", "{spread}"), "spread may take only state"),
        (("{doubled}", "{NEAR.real}"), "must be a plain name"),
        (("state = \"STATE\"", "state = \"NEAR\""), "is not a mapping of link values"),
        (("[steps.number]", "[steps.quiz]"), "unknown key quiz"),
        (("answer = \"double\"", "answer = \"NEAR\""), "'NEAR' is not a function"),
        (("tolerance = 0.1", "tolerance = = 0.1"), "lesson_under_test.toml: "),
    ],
)
def test_a_broken_file_says_where(lesson_module: types.ModuleType, change: tuple[str, str], message: str) -> None:
    old, new = change
    write(lesson_module, (STEP + NUMBER).replace(old, new, 1))
    with pytest.raises(lb.LessonFileError, match=r"^lesson_under_test\.toml") as error:
        lb.load("lesson_under_test")
    assert message in str(error.value)


def test_every_lesson_of_the_app_has_its_file_beside_its_module() -> None:
    folder = Path(lb.__file__).parent
    modules = {p.stem for p in folder.glob("*.py")} - {"__init__", "base"}
    assert modules and modules == {p.stem for p in folder.glob("*.toml")}
