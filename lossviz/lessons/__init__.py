"""Guided lessons: the registry the Lessons page, the home page and the tests read.

Each lesson is a few steps; each step opens a page in a given state (its link), says what to look at,
and asks one question whose answer lossviz computes from that state with the page's own study functions
(see :mod:`lossviz.lessons.base`). The lessons import studies and core, never ``lossviz.ui``; pages
import them.
"""

from __future__ import annotations

from lossviz.lessons import (
    focal_gamma,
    gan_saturation,
    gradients,
    margins,
    optimisers,
    own_loss,
    robust_fits,
    tiny_objects,
)
from lossviz.lessons.base import Lesson, Position, Step, Verdict, locate

LESSONS: tuple[Lesson, ...] = (
    gradients.LESSON,
    robust_fits.LESSON,
    focal_gamma.LESSON,
    margins.LESSON,
    tiny_objects.LESSON,
    gan_saturation.LESSON,
    optimisers.LESSON,
    own_loss.LESSON,
)

LESSON_KEY, STEP_KEY = "lesson", "step"
"""The link keys of the Lessons page: ``?lesson=<id>&step=<n>`` (n counts from 1)."""


def all_lessons() -> tuple[Lesson, ...]:
    """Every lesson, in the order a course would take them."""
    return LESSONS


def lesson(lesson_id: str) -> Lesson:
    for candidate in LESSONS:
        if candidate.id == lesson_id:
            return candidate
    raise KeyError(f"no lesson {lesson_id!r}; lessons: {', '.join(x.id for x in LESSONS)}")


def position(lesson_id: str | None, step: str | None) -> Position:
    """Where ``?lesson=<id>&step=<n>`` points (see :func:`lossviz.lessons.base.locate`)."""
    return locate(LESSONS, lesson_id, step)


def link(lesson_id: str, step: int = 0) -> dict[str, str]:
    """The Lessons page's link values for a lesson's step (0-based)."""
    return {LESSON_KEY: lesson_id, STEP_KEY: str(step + 1)}


__all__ = ["LESSONS", "Lesson", "Position", "Step", "Verdict", "all_lessons", "lesson", "link", "position"]
