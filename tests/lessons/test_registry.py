"""The lesson registry: its shape, and every question's answer computed by lossviz — the check accepts the
right answer, rejects a wrong one with a hint, and the answer follows the step's state."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from lossviz.lessons import (
    LESSONS,
    all_lessons,
    focal_gamma,
    gan_saturation,
    gradients,
    lesson,
    link,
    margins,
    optimisers,
    own_loss,
    position,
    tiny_objects,
)
from lossviz.lessons.base import (
    ChoiceQuestion,
    FormulaQuestion,
    NumberQuestion,
    SettingQuestion,
    Step,
    control_values,
    fmt,
    parse_number,
)
from lossviz.registry import spec
from lossviz.studies import landscape as ll
from lossviz.toolkit.data import line_with_outliers
from lossviz.ui.navigation import page_files

ROOT = Path(__file__).resolve().parents[2]
STEPS = [(les.id, i, step) for les in LESSONS for i, step in enumerate(les.steps)]
IDS = [f"{lesson_id}-{i + 1}" for lesson_id, i, _ in STEPS]


def app_pages() -> set[str]:
    """The page files of the app's navigation."""
    return set(page_files())


def test_the_registry_has_the_lessons_in_order() -> None:
    lessons = all_lessons()
    assert len(lessons) >= 8
    assert len({les.id for les in lessons}) == len(lessons)
    assert all(4 <= len(les.steps) <= 8 for les in lessons), [(les.id, len(les.steps)) for les in lessons]
    assert lesson(lessons[2].id) is lessons[2]
    with pytest.raises(KeyError, match="no lesson"):
        lesson("no-such-lesson")


@pytest.mark.parametrize(("lesson_id", "index", "step"), STEPS, ids=IDS)
def test_each_step_names_a_page_of_the_app_and_its_link_values(lesson_id: str, index: int, step: Step) -> None:
    assert step.page in app_pages() and step.page != "pages/lessons.py"
    assert step.title and step.view and step.question.prompt
    sentences = [s for s in step.text.replace("…", "").split(". ") if s.strip()]
    assert 1 <= len(sentences) <= 4, step.text
    for key, value in step.query.items():
        assert isinstance(key, str) and (isinstance(value, str) or all(isinstance(v, str) for v in value))


@pytest.mark.parametrize(("lesson_id", "index", "step"), STEPS, ids=IDS)
def test_the_computed_answer_is_accepted(lesson_id: str, index: int, step: Step) -> None:
    answer = step.solution()
    verdict = step.check(answer)
    assert verdict.ok, verdict.message
    assert verdict.message.startswith("Right") and verdict.hint is None


def wrong_answers(step: Step) -> list[str]:
    """Answers that must be rejected: off by many tolerances, every other option, a control value where the
    condition fails, squared error for a formula, and text that is no answer at all."""
    q = step.question
    if isinstance(q, NumberQuestion):
        right = q.value(step.query)
        off = 20 * q.allowed(right) + 1e-3
        return [fmt(right + off), fmt(right - off), "no idea"]
    if isinstance(q, ChoiceQuestion):
        right = q.value(step.query)
        return [o for o in q.options if o != right] + ["something else"]
    if isinstance(q, SettingQuestion):
        failing = next(v for v in control_values(q.param) if not q.measure(float(v), q.at(float(v), step.query)).holds)
        lo, hi = q.param.slider_range
        return [fmt(float(failing)), fmt(hi + 10 * (hi - lo)), ""]
    if isinstance(q, FormulaQuestion):
        return ["(p - y)**2", "p +* y", "log(p - y)", " "]
    raise AssertionError(f"unknown question kind {type(q).__name__}")


@pytest.mark.parametrize(("lesson_id", "index", "step"), STEPS, ids=IDS)
def test_a_wrong_answer_gets_a_hint_never_a_bare_no(lesson_id: str, index: int, step: Step) -> None:
    for answer in wrong_answers(step):
        verdict = step.check(answer)
        assert not verdict.ok, (answer, verdict.message)
        assert verdict.hint == verdict.message and len(verdict.message.split()) >= 5, (answer, verdict.message)


def test_a_setting_question_measures_the_typed_value_and_links_the_page_there() -> None:
    step = lesson("outliers").steps[2]  # Huber's δ until the outliers hold < 10 % of the pull
    q = step.question
    assert isinstance(q, SettingQuestion)
    verdict = step.check("4")
    assert not verdict.ok and "% of huber's total pull" in verdict.message
    assert q.link("0.5", step.query) == {**step.query, "outliers_huber_delta": "0.5"}
    assert q.link("99", step.query) is None and q.link("abc", step.query) is None


def test_a_formula_question_links_the_custom_page_with_the_formula() -> None:
    q = own_loss.LESSON.steps[3].question
    assert isinstance(q, FormulaQuestion)
    assert q.link(" log1p((p - y)**2) ", {}) == {"custom_formula": "log1p((p - y)**2)"}
    assert q.check("log1p((p - y)**2)", {}).ok
    assert "rejected" in q.check("p +* y", {}).message


# --- the answers follow the state and agree with closed forms ------------------------------------------------------


def test_gradients_follow_the_link() -> None:
    state = {**gradients.REGRESSION, "curves_huber_delta": "0.5"}
    assert gradients.gradient(state, "huber", 2.0) == pytest.approx(0.5)
    assert gradients.gradient(gradients.REGRESSION, "mse", 2.0) == pytest.approx(4.0)  # d/dr r² = 2r
    assert gradients.cauchy_peak({**gradients.ROBUST, "curves_cauchy_scale": "2"}) == pytest.approx(2.0, abs=0.02)


def test_focal_answers_agree_with_lin_et_al() -> None:
    # CE/FL = (1 − p_t)^−γ: 100× at p_t = 1 − 100^(−1/γ)
    for gamma in (1.0, 2.0, 3.0):
        state = {focal_gamma.GAMMA_KEY: str(gamma)}
        assert focal_gamma.p_t_for_ratio(state) == pytest.approx(1 - 100 ** (-1 / gamma), abs=1e-9)
    assert focal_gamma.ratio_at(0.968, 2.0) == pytest.approx(1 / 0.032**2)
    shares = [focal_gamma.easy_share(focal_gamma.IMBALANCED, g) for g in (0.0, 1.0, 2.0)]
    assert shares[0] > shares[1] > shares[2] > 0  # γ mutes the well-classified examples


def test_margin_answers_follow_the_margin() -> None:
    for m in ("0.5", "2"):
        state = {"margins_hinge_margin": m, "margins_squared_hinge_margin": m, "margins_cosine_embedding_margin": m}
        assert margins.hinge_stops(state) == pytest.approx(float(m), abs=0.021)
        assert margins.gradient_at(state, "binary", "squared_hinge", "", 0.0) == pytest.approx(-2 * float(m), abs=1e-9)
    state = {"margins_cosine_embedding_margin": "0.5"}
    assert margins.free_angle(state) == pytest.approx(math.degrees(math.acos(0.5)), abs=1.0)
    assert margins.gradient_at(
        {"margins_contrastive_margin": "1.5"}, "contrastive", "contrastive", "dissimilar", 0.0
    ) == (pytest.approx(-1.5))


def test_segmentation_answers_follow_the_shape() -> None:
    from lossviz.studies import segmentation as ss

    disc = {**tiny_objects.TINY, "segmentation_shape": "disc"}
    assert tiny_objects.loss_value(disc, "dice") != tiny_objects.loss_value(tiny_objects.TINY, "dice")
    softer = {**tiny_objects.TINY, "segmentation_softness": "3"}
    assert ss.plateau_shift(tiny_objects.shift_sweep(softer)) > ss.plateau_shift(
        tiny_objects.shift_sweep(tiny_objects.TINY)
    )


def test_gan_answers_agree_with_the_sigmoid() -> None:
    for eps in ("0.01", "0.2"):
        state = {**gan_saturation.MINIMAX, "generative_vanish": eps}
        assert gan_saturation.shaded_end(state) == pytest.approx(math.log(float(eps) / (1 - float(eps))), abs=0.01)
    sigma = 1 / (1 + math.exp(4.0))
    assert gan_saturation.grad_logit({}, gan_saturation.SATURATING, -4.0) == pytest.approx(-sigma, abs=1e-3)
    assert gan_saturation.grad_logit({}, gan_saturation.NON_SATURATING, -4.0) == pytest.approx(-(1 - sigma), abs=1e-3)


def test_the_critical_learning_rate_is_two_over_the_largest_curvature_of_mse() -> None:
    for seed in ("0", "3"):
        state = {**optimisers.MSE, "landscape_fit_seed": seed}
        x = line_with_outliers(seed=int(seed)).x
        hessian = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])  # F = mean((w·x + b − y)²)
        assert optimisers.critical_rate(state) == pytest.approx(2 / np.linalg.eigvalsh(hessian)[-1])
    below = {**optimisers.MSE, "landscape_fit_lr": "0.5"}
    assert not optimisers.diverged(below, "gd") and optimisers.diverged(optimisers.MSE_FAST, "gd")
    data = line_with_outliers()
    assert ll.critical_learning_rate("mae", data.x, data.y, {}, (2.0, 0.5)) == math.inf  # no curvature


def test_custom_answers_follow_the_formula() -> None:
    state = {"custom_formula": "(p - y)**2", "custom_name": "square"}
    assert own_loss.gradient_at(state, 2.0) == pytest.approx(4.0)
    assert own_loss.gradient_at(own_loss.CUBIC, 2.0) == pytest.approx(12.0)  # 3r·|r|
    assert own_loss.builtin_check(own_loss.CAUCHY).ok and not own_loss.builtin_check(own_loss.HALVED).ok


# --- links: where ?lesson=…&step=… points --------------------------------------------------------------------------


def test_a_good_link_points_at_its_step() -> None:
    found = position(LESSONS[3].id, "2")
    assert (found.lesson, found.step, found.warning) == (3, 1, None)
    assert position(None, None) == position(LESSONS[0].id, "1")
    assert link(LESSONS[3].id, 1) == {"lesson": LESSONS[3].id, "step": "2"}


@pytest.mark.parametrize(
    ("lesson_id", "step", "expected", "words"),
    [
        ("nope", "2", (0, 1), "not a lesson"),
        ("focal", "abc", (2, 0), "not a step number"),
        ("focal", "0", (2, 0), "outside 1"),
        ("focal", "99", (2, len(lesson("focal").steps) - 1), "outside 1"),
    ],
)
def test_a_bad_link_value_falls_back_with_a_warning(lesson_id: str, step: str, expected: tuple, words: str) -> None:
    found = position(lesson_id, step)
    assert (found.lesson, found.step) == expected
    assert found.warning is not None and words in found.warning


@pytest.mark.parametrize(
    ("typed", "number"),
    [("0.9", 0.9), ("−4.6", -4.6), ("about 61 %", 61.0), ("1e-3", 1e-3), ("0,5", 0.5), ("1,000.5", 1000.5)],
)
def test_typed_numbers_are_read_leniently(typed: str, number: float) -> None:
    assert parse_number(typed) == pytest.approx(number)


@pytest.mark.parametrize("typed", ["", "abc", "1 or 2", "inf"])
def test_text_that_is_not_one_number_is_no_answer(typed: str) -> None:
    assert parse_number(typed) is None


def test_control_values_are_what_a_control_offers() -> None:
    delta = control_values(spec("huber").param("delta"))
    assert delta[0] == pytest.approx(0.05) and delta[-1] == pytest.approx(5.0) and np.allclose(np.diff(delta), 0.05)
    assert list(control_values(ll.LEARNING_RATE)) == sorted(control_values(ll.LEARNING_RATE))
    assert 0.1 in control_values(ll.LEARNING_RATE) and 2.0 in control_values(ll.LEARNING_RATE)
