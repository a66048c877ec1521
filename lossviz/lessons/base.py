"""The vocabulary of the guided lessons: lessons, steps, questions and the verdict on an answer.

A :class:`Step` opens a page in a given state — its link: the page file and the query values that
page's controls read (``bind="query-params"``) — says what to look at, and asks one question. Every
question computes its right answer from the link's values with the same study or core functions that
draw the page's charts, so the answer follows the page whatever its defaults become. Kinds:

* :class:`NumberQuestion` — a number read off the chart, within a tolerance;
* :class:`ChoiceQuestion` — one of a few options, the right one computed;
* :class:`SettingQuestion` — "set the control so that …": the student types the value the control
  ended at, and the condition is computed at that value (the step's other link values held);
* :class:`FormulaQuestion` — a formula typed by the student, checked by evaluating it.

A wrong answer always gets a hint that says where to look (and, where it helps, the number the
answer gives), never a bare "no".

A lesson's words live in a TOML file beside its module (``gradients.toml`` beside ``gradients.py``); the
module holds only what is computed — the steps' link values, the right answers, the numbers quoted in
a message — and :func:`load` joins the two (see its docstring for the file's layout). Teachers can so
reword a lesson without touching Python, and every name a file uses is checked when it loads.
"""

from __future__ import annotations

import inspect
import math
import re
import string
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import numpy as np

from lossviz.spec import Param
from lossviz.toolkit.frames import log_ladder

Query = Mapping[str, str | list[str]]
"""A page's link values: control key → the text the link holds (a list for multi-choice controls)."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking an answer: ``ok``, and a message — on a right answer the computed value
    and what it means, on a wrong one a hint."""

    ok: bool
    message: str

    @property
    def hint(self) -> str | None:
        return None if self.ok else self.message


class Question(Protocol):
    prompt: str

    def check(self, answer: str, state: Query) -> Verdict: ...

    def solution(self, state: Query) -> str:
        """A right answer as a student would type it, computed (for tests)."""
        ...

    def link(self, answer: str, state: Query) -> dict[str, str | list[str]] | None:
        """The page's link with the student's answer in it (a control set to it, a formula typed), if any."""
        ...


# --- reading a page's state from its link values ----------------------------------------------------------


def number(state: Query, key: str, param: Param) -> float:
    """The value a page's numeric control takes from the link: ``state[key]``, else the control's default."""
    raw = state.get(key)
    value = param.default if raw is None else float(str(raw))
    return int(value) if param.integer else float(value)


def text(state: Query, key: str, default: str) -> str:
    raw = state.get(key)
    return default if raw is None else str(raw)


def names(state: Query, key: str, default: Sequence[str]) -> list[str]:
    raw = state.get(key)
    if raw is None:
        return list(default)
    return [raw] if isinstance(raw, str) else list(raw)


def link_value(value: float) -> str:
    """A number as a link holds it (``0.5``, ``25``)."""
    return f"{value:g}"


def control_values(param: Param) -> np.ndarray:
    """Every value a page's control for ``param`` offers: the 1-2-5 ladder of a log-scale control, else the
    slider's steps from its low to its high end."""
    if param.scale == "log":
        return np.array(log_ladder(param))
    lo, hi = param.slider_range
    step = param.slider_step
    values = np.round(lo + step * np.arange(round((hi - lo) / step) + 1), 10)
    return np.array([v for v in values if param.contains(float(v))])


# --- reading an answer ----------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def parse_number(answer: str) -> float | None:
    """The one number in a typed answer ("0.9", "−4.6", "about 61 %", "1e-3", "0,5"), else None.

    Typographic minus signs and a decimal comma are accepted; text around the number is ignored; two
    numbers, or none, give None.
    """
    cleaned = answer.replace("−", "-").replace("–", "-").replace("\u202f", "").replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    found = _NUMBER.findall(cleaned.replace(",", ""))
    if len(found) != 1:
        return None
    value = float(found[0])
    return value if math.isfinite(value) else None


def fmt(value: float, digits: int = 3) -> str:
    """A number for a message: ``digits`` significant digits, no trailing zeros (``0.9``, ``977``, ``−4.59``)."""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    out = f"{round(value, decimals):.{decimals}f}"
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return out.replace("-", "−")


@dataclass(frozen=True)
class Prose:
    """Words that may quote live numbers: ``{name}`` or ``{name:spec}`` fields (``str.format``'s syntax)
    filled from ``words`` when the message is shown. A word is a constant, or a function whose parameters
    are named after what it needs: ``state`` (the link values the answer is judged at) and, in a choice's
    hint, ``picked`` (the wrong option); ``{picked}`` alone quotes the pick. ``{{`` and ``}}`` are braces."""

    source: str
    words: Mapping[str, object] = field(default_factory=dict, repr=False)

    def names(self) -> list[str]:
        """The field names, in order."""
        return [name for _, name, _, _ in string.Formatter().parse(self.source) if name is not None]

    def __call__(self, state: Query, picked: str | None = None) -> str:
        context = {"state": state, "picked": picked}
        values: dict[str, object] = {}
        for name in self.names():
            word = picked if name == "picked" else self.words[name]
            if callable(word):
                word = word(**{arg: context[arg] for arg in inspect.signature(word).parameters})
            values[name] = word
        return self.source.format_map(values)


# --- the kinds of question ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberQuestion:
    """A number read off the chart: right within ``tolerance`` of ``value(state)`` (relative to it when
    ``relative``)."""

    prompt: str
    value: Callable[[Query], float]
    tolerance: float
    hint: Prose
    explain: Prose = Prose("")
    unit: str = ""
    relative: bool = False

    def allowed(self, right: float) -> float:
        return self.tolerance * abs(right) if self.relative else self.tolerance

    def check(self, answer: str, state: Query) -> Verdict:
        given = parse_number(answer)
        if given is None:
            return Verdict(
                False, f"Type one number{f' (in {self.unit})' if self.unit else ''}. {self.hint(state)}"
            )
        right = self.value(state)
        if abs(given - right) <= self.allowed(right):
            return Verdict(True, f"Right: {fmt(right)}{self.unit}. {self.explain(state)}".strip())
        side = "high" if given > right else "low"
        return Verdict(False, f"{fmt(given)}{self.unit} is too {side}. {self.hint(state)}")

    def solution(self, state: Query) -> str:
        return fmt(self.value(state), 6).replace("−", "-")

    def link(self, answer: str, state: Query) -> None:
        return None


@dataclass(frozen=True)
class ChoiceQuestion:
    """One of ``options``; ``value(state)`` computes the right one. ``hint`` may quote the wrong pick."""

    prompt: str
    options: tuple[str, ...]
    value: Callable[[Query], str]
    hint: Prose
    explain: Prose = Prose("")

    def check(self, answer: str, state: Query) -> Verdict:
        if answer not in self.options:
            return Verdict(False, f"Pick one of: {', '.join(self.options)}.")
        right = self.value(state)
        if answer == right:
            return Verdict(True, f"Right: {right}. {self.explain(state)}".strip())
        return Verdict(False, f"Not {answer}. {self.hint(state, picked=answer)}")

    def solution(self, state: Query) -> str:
        return self.value(state)

    def link(self, answer: str, state: Query) -> None:
        return None


@dataclass(frozen=True)
class Measured:
    """Whether a condition holds at a control value, and the number it was judged on, in words."""

    holds: bool
    reading: str


@dataclass(frozen=True)
class SettingQuestion:
    """ "Set the control ``key`` so that …": the answer is the value the control ended at. It must be one the
    control offers (:func:`control_values` of ``param``); ``measure(value, state)`` computes the condition
    at that value, with the step's other link values held."""

    prompt: str
    key: str
    param: Param
    measure: Callable[[float, Query], Measured]
    hint: Prose
    explain: Prose = Prose("")

    def at(self, value: float, state: Query) -> dict[str, str | list[str]]:
        """The link of the page with the control set to ``value``."""
        return {**state, self.key: link_value(value)}

    def link(self, answer: str, state: Query) -> dict[str, str | list[str]] | None:
        """The page at the typed value, if it is one the control offers."""
        given = parse_number(answer)
        lo, hi = self.param.slider_range
        if given is None or not lo <= given <= hi or not self.param.contains(given):
            return None
        return self.at(given, state)

    def check(self, answer: str, state: Query) -> Verdict:
        given = parse_number(answer)
        lo, hi = self.param.slider_range
        if given is None:
            return Verdict(False, f"Type the value the control shows. {self.hint(state)}")
        if not lo <= given <= hi or not self.param.contains(given):
            return Verdict(False, f"{fmt(given)} is not on the control, which goes from {lo:g} to {hi:g}.")
        measured = self.measure(given, self.at(given, state))
        if measured.holds:
            return Verdict(True, f"Right: at {fmt(given)}, {measured.reading}. {self.explain(state)}".strip())
        return Verdict(False, f"At {fmt(given)}, {measured.reading}. {self.hint(state)}")

    def solution(self, state: Query) -> str:
        """The control value nearest the link's own that meets the condition (log-distance on a log scale)."""
        start = number(state, self.key, self.param)
        values = control_values(self.param)
        distance = np.abs(np.log(values / start)) if self.param.scale == "log" else np.abs(values - start)
        for value in values[np.argsort(distance, kind="stable")]:
            if self.measure(float(value), self.at(float(value), state)).holds:
                return link_value(float(value))
        raise AssertionError(f"no value of {self.key} meets the condition of {self.prompt!r}")


@dataclass(frozen=True)
class FormulaQuestion:
    """A formula typed by the student (the Custom page's language, its box's link key ``key``), judged by
    ``measure(formula)``. ``examples`` are candidate answers from lossviz (the Custom page's gallery); :meth:`solution` is the
    first that meets the condition."""

    prompt: str
    key: str
    measure: Callable[[str], Measured]
    hint: Prose
    examples: Callable[[], Sequence[str]]
    explain: Prose = Prose("")

    def link(self, answer: str, state: Query) -> dict[str, str | list[str]] | None:
        """The page with the typed formula in its box (``key``)."""
        return {self.key: answer.strip()} if answer.strip() else None

    def check(self, answer: str, state: Query) -> Verdict:
        if not answer.strip():
            return Verdict(False, f"Type a formula in p and y. {self.hint(state)}")
        measured = self.measure(answer)
        if measured.holds:
            return Verdict(True, f"Right: {measured.reading}. {self.explain(state)}".strip())
        return Verdict(False, f"{measured.reading[:1].upper()}{measured.reading[1:]}. {self.hint(state)}")

    def solution(self, state: Query) -> str:
        for formula in self.examples():
            if self.measure(formula).holds:
                return formula
        raise AssertionError(f"no example formula meets the condition of {self.prompt!r}")


# --- steps and lessons ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step: ``page`` opened with ``query`` (its link), ``view`` names that state in a few words,
    ``text`` says what to look at, ``question`` asks about it."""

    title: str
    page: str
    view: str
    query: Query
    text: str
    question: Question

    def check(self, answer: str) -> Verdict:
        return self.question.check(answer, self.query)

    def solution(self) -> str:
        return self.question.solution(self.query)


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    summary: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Position:
    """Where a link points: a lesson (index into the registry) and a step (0-based), and a warning when
    the link's values had to be corrected."""

    lesson: int
    step: int
    warning: str | None = None


def locate(lessons: Sequence[Lesson], lesson_id: str | None, step: str | None) -> Position:
    """The position a link's ``lesson=<id>&step=<n>`` (n from 1) names; a bad value falls back — an
    unknown lesson to the first, a step that is no number to 1, one out of range to the nearest end —
    with a warning that says so."""
    ids = [lesson.id for lesson in lessons]
    warnings = []
    index = 0
    if lesson_id is not None:
        if lesson_id in ids:
            index = ids.index(lesson_id)
        else:
            warnings.append(f"Link value lesson={lesson_id!r} is not a lesson; opening {ids[0]!r}.")
    count = len(lessons[index].steps)
    number_ = 1
    if step is not None:
        parsed = int(step) if step.strip().isdigit() else None
        if parsed is None:
            warnings.append(f"Link value step={step!r} is not a step number; opening step 1.")
        elif not 1 <= parsed <= count:
            number_ = min(max(parsed, 1), count)
            warnings.append(f"Link value step={step!r} is outside 1 … {count}; opening step {number_}.")
        else:
            number_ = parsed
    return Position(index, number_ - 1, " ".join(warnings) or None)


# --- a lesson's words from its TOML file -------------------------------------------------------------------------


class LessonFileError(ValueError):
    """A lesson file that does not fit its layout, or names something its module does not have."""


_QUESTION_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # kind: (required keys, optional keys)
    "number": (frozenset({"prompt", "answer", "tolerance", "hint"}), frozenset({"explain", "unit", "relative"})),
    "choice": (frozenset({"prompt", "options", "answer", "hint"}), frozenset({"explain"})),
    "setting": (frozenset({"prompt", "control", "param", "measure", "hint"}), frozenset({"explain"})),
    "formula": (frozenset({"prompt", "control", "measure", "examples", "hint"}), frozenset({"explain"})),
}
_STEP_FIELDS = (frozenset({"title", "view", "state", "text"}), frozenset({"page", *_QUESTION_FIELDS}))
_LESSON_FIELDS = (frozenset({"id", "title", "summary", "page", "steps"}), frozenset())


@dataclass(frozen=True)
class _Reader:
    """Reads one lesson file against its module, with errors that say where (``gradients.toml, step 2``)."""

    module: ModuleType
    path: Path

    def fail(self, where: str, message: str) -> LessonFileError:
        return LessonFileError(f"{self.path.name}{f', {where}' if where else ''}: {message}")

    def table(self, data: Any, fields: tuple[frozenset[str], frozenset[str]], where: str) -> dict[str, Any]:
        required, optional = fields
        if not isinstance(data, dict):
            raise self.fail(where, "expected a table")
        if missing := sorted(required - data.keys()):
            raise self.fail(where, f"missing {', '.join(missing)}")
        if unknown := sorted(data.keys() - required - optional):
            raise self.fail(where, f"unknown key {', '.join(unknown)} (known: {', '.join(sorted(required | optional))})")
        return data

    def name(self, name: Any, where: str) -> Any:
        """What ``name`` names in the lesson's module."""
        if not isinstance(name, str) or not hasattr(self.module, name):
            raise self.fail(where, f"{self.module.__name__} has no {name!r}")
        return getattr(self.module, name)

    def function(self, name: Any, where: str) -> Callable[..., Any]:
        found = self.name(name, where)
        if not callable(found):
            raise self.fail(where, f"{name!r} is not a function")
        return found

    def prose(self, source: Any, where: str, *, picked: bool = False) -> Prose:
        """Words whose every field names a constant or a function of ``state`` (and ``picked``) in the module."""
        if not isinstance(source, str):
            raise self.fail(where, "expected text")
        allowed = {"state", "picked"} if picked else {"state"}
        words: dict[str, object] = {}
        try:
            names = Prose(source).names()
        except ValueError as error:  # an unmatched brace
            raise self.fail(where, f"{error} (write {{{{ and }}}} for braces)") from None
        for name in names:
            if picked and name == "picked":
                continue
            if not name.isidentifier():
                raise self.fail(where, f"field {{{name}}} must be a plain name")
            word = self.name(name, where)
            if callable(word) and not set(inspect.signature(word).parameters) <= allowed:
                raise self.fail(where, f"{name} may take only {' and '.join(sorted(allowed))}")
            words[name] = word
        return Prose(source, words)

    def question(self, kind: str, data: Any, state: Query, where: str) -> Question:
        q = self.table(data, _QUESTION_FIELDS[kind], where)
        prompt = self.prose(q["prompt"], f"{where} prompt")(state)
        hint = self.prose(q["hint"], f"{where} hint", picked=kind == "choice")
        explain = self.prose(q.get("explain", ""), f"{where} explain")
        if kind == "number":
            return NumberQuestion(
                prompt, self.function(q["answer"], where), float(q["tolerance"]), hint, explain,
                unit=str(q.get("unit", "")), relative=bool(q.get("relative", False)),
            )
        if kind == "choice":
            # The options are written out, or name the module's tuple that its answer picks from (one home).
            options = self.name(q["options"], where) if isinstance(q["options"], str) else q["options"]
            if not isinstance(options, list | tuple) or len(options) < 2 or not all(isinstance(o, str) for o in options):
                raise self.fail(where, "options must be a list of at least two texts, or the name of one in the module")
            return ChoiceQuestion(prompt, tuple(options), self.function(q["answer"], where), hint, explain)
        if kind == "setting":
            param = self.name(q["param"], where)
            if not isinstance(param, Param):
                raise self.fail(where, f"{q['param']!r} is not a Param")
            return SettingQuestion(prompt, str(q["control"]), param, self.function(q["measure"], where), hint, explain)
        return FormulaQuestion(
            prompt, str(q["control"]), self.function(q["measure"], where), hint,
            self.function(q["examples"], where), explain,
        )

    def step(self, data: Any, page: str, where: str) -> Step:
        s = self.table(data, _STEP_FIELDS, where)
        kinds = [kind for kind in _QUESTION_FIELDS if kind in s]
        if len(kinds) != 1:
            raise self.fail(where, f"needs exactly one question table: {', '.join(_QUESTION_FIELDS)}")
        state = self.name(s["state"], where)
        if not isinstance(state, Mapping):
            raise self.fail(where, f"state {s['state']!r} is not a mapping of link values")
        return Step(
            self.prose(s["title"], f"{where} title")(state),
            str(s.get("page", page)),
            self.prose(s["view"], f"{where} view")(state),
            state,
            self.prose(s["text"], f"{where} text")(state),
            self.question(kinds[0], s[kinds[0]], state, f"{where} {kinds[0]}"),
        )

    def lesson(self) -> Lesson:
        try:
            with self.path.open("rb") as file:
                data = tomllib.load(file)
        except tomllib.TOMLDecodeError as error:
            raise self.fail("", str(error)) from None
        lesson_ = self.table(data, _LESSON_FIELDS, "")
        steps = lesson_["steps"]
        if not isinstance(steps, list) or not steps:
            raise self.fail("", "expected [[steps]] tables")
        return Lesson(
            str(lesson_["id"]),
            str(lesson_["title"]),
            str(lesson_["summary"]),
            tuple(self.step(step, str(lesson_["page"]), f"step {i + 1}") for i, step in enumerate(steps)),
        )


def load(module_name: str) -> Lesson:
    """The lesson written in the TOML file beside module ``module_name`` (call it as ``load(__name__)`` at
    the end of the module, once every name the file uses is defined).

    The file's layout::

        id = "gradients"                    # the lesson's link value (?lesson=gradients)
        title = "…"
        summary = "…"
        page = "pages/curves.py"            # the page its steps open, unless a step names another

        [[steps]]
        title = "…"
        view = "Curves: MSE, MAE and Huber" # the page's state in a few words (the link's label)
        state = "REGRESSION"                # a mapping in the module: the link values of the page
        text = "…"                          # what to look at

        [steps.number]                      # the question: one table, named after its kind
        prompt = "…"
        answer = "mse_pull"                 # a function of the module: state -> the right number
        tolerance = 0.05                    # (and unit, relative)
        hint = "…"
        explain = "…"                       # optional

    The other kinds: ``[steps.choice]`` (``options``: a list, or the name of the module's tuple the answer
    picks from; ``answer``: state -> the right option),
    ``[steps.setting]`` (``control``: the link key, ``param``: a :class:`~lossviz.spec.Param` of the
    module, ``measure``: (value, state) -> :class:`Measured`) and ``[steps.formula]`` (``control``,
    ``measure``: formula -> :class:`Measured`, ``examples``: () -> candidate formulas). Every text is
    :class:`Prose`: its fields name constants or functions of the module; in ``title``, ``view``,
    ``text`` and ``prompt`` they are filled once, at the step's state.
    """
    module = sys.modules[module_name]
    return _Reader(module, Path(str(module.__file__)).with_suffix(".toml")).lesson()
