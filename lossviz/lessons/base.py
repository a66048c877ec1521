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
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

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


Text = str | Callable[[Query], str]
"""A message that may quote the live numbers of the step's state."""


def _say(message: Text, state: Query) -> str:
    return message(state) if callable(message) else message


# --- the kinds of question ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberQuestion:
    """A number read off the chart: right within ``tolerance`` of ``value(state)`` (relative to it when
    ``relative``)."""

    prompt: str
    value: Callable[[Query], float]
    tolerance: float
    hint: Text
    explain: Text = ""
    unit: str = ""
    relative: bool = False

    def allowed(self, right: float) -> float:
        return self.tolerance * abs(right) if self.relative else self.tolerance

    def check(self, answer: str, state: Query) -> Verdict:
        given = parse_number(answer)
        if given is None:
            return Verdict(
                False, f"Type one number{f' (in {self.unit})' if self.unit else ''}. {_say(self.hint, state)}"
            )
        right = self.value(state)
        if abs(given - right) <= self.allowed(right):
            return Verdict(True, f"Right: {fmt(right)}{self.unit}. {_say(self.explain, state)}".strip())
        side = "high" if given > right else "low"
        return Verdict(False, f"{fmt(given)}{self.unit} is too {side}. {_say(self.hint, state)}")

    def solution(self, state: Query) -> str:
        return fmt(self.value(state), 6).replace("−", "-")

    def link(self, answer: str, state: Query) -> None:
        return None


@dataclass(frozen=True)
class ChoiceQuestion:
    """One of ``options``; ``value(state)`` computes the right one. ``hint`` may depend on the wrong pick:
    ``hint(picked, state)``."""

    prompt: str
    options: tuple[str, ...]
    value: Callable[[Query], str]
    hint: str | Callable[[str, Query], str]
    explain: Text = ""

    def check(self, answer: str, state: Query) -> Verdict:
        if answer not in self.options:
            return Verdict(False, f"Pick one of: {', '.join(self.options)}.")
        right = self.value(state)
        if answer == right:
            return Verdict(True, f"Right: {right}. {_say(self.explain, state)}".strip())
        hint = self.hint(answer, state) if callable(self.hint) else self.hint
        return Verdict(False, f"Not {answer}. {hint}")

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
    hint: Text
    explain: Text = ""

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
            return Verdict(False, f"Type the value the control shows. {_say(self.hint, state)}")
        if not lo <= given <= hi or not self.param.contains(given):
            return Verdict(False, f"{fmt(given)} is not on the control, which goes from {lo:g} to {hi:g}.")
        measured = self.measure(given, self.at(given, state))
        if measured.holds:
            return Verdict(True, f"Right: at {fmt(given)}, {measured.reading}. {_say(self.explain, state)}".strip())
        return Verdict(False, f"At {fmt(given)}, {measured.reading}. {_say(self.hint, state)}")

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
    hint: str
    examples: Callable[[], Sequence[str]]
    explain: str = ""

    def link(self, answer: str, state: Query) -> dict[str, str | list[str]] | None:
        """The page with the typed formula in its box (``key``)."""
        return {self.key: answer.strip()} if answer.strip() else None

    def check(self, answer: str, state: Query) -> Verdict:
        if not answer.strip():
            return Verdict(False, f"Type a formula in p and y. {self.hint}")
        measured = self.measure(answer)
        if measured.holds:
            return Verdict(True, f"Right: {measured.reading}. {self.explain}".strip())
        return Verdict(False, f"{measured.reading[:1].upper()}{measured.reading[1:]}. {self.hint}")

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
