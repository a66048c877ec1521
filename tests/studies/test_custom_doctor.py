"""The loss doctor as the Custom page uses it: findings at the page's view, places in words, gallery set-ups."""

import math

import pytest

from lossviz.formula import Finding, diagnose
from lossviz.studies import custom as cg


def test_doctor_uses_the_page_view() -> None:
    found = cg.doctor("abs(p - y)", {}, center=2.0, half_width=1.0, target=2.5)
    kinks = [f for f in found if f.code == "kink"]
    assert len(kinks) == 1 and kinks[0].where == ((2.5, 2.5),)
    assert found == diagnose("abs(p - y)", {}, p_range=(1.0, 3.0), y=2.5)
    assert not any(f.code == "kink" for f in cg.doctor("abs(p - y)", {}, 2.0, 1.0, target=5.0))  # kink off the range


@pytest.mark.parametrize(
    ("where", "text"),
    [
        (((0.5, 0.5),), "at p = 0.5"),
        (((-5.0, -1.0),), "for p in [−5, −1]"),
        (((3.0, math.inf),), "as p → ∞ (from p = 3)"),
        (((-math.inf, -2.0),), "as p → −∞ (up to p = −2)"),
        (((-math.inf, math.inf),), "for every p"),
        (((0.0, 0.0), (1.0, 1.0)), "at p = 0, at p = 1"),
    ],
)
def test_where_text(where: tuple, text: str) -> None:
    assert cg.where_text(Finding("nan", "warning", "", where)) == text


@pytest.mark.parametrize("ex", cg.DOCTOR_EXAMPLES, ids=lambda ex: ex.code)
def test_each_doctor_example_shows_its_finding_in_the_view_it_loads(ex) -> None:
    formula, decls, view = cg.doctor_example_setup(ex)
    assert formula == ex.formula
    for name, (default, low, high) in decls.items():
        assert low <= default <= high and default == ex.params.get(name, 1.0)
    values = {name: d[0] for name, d in decls.items()}
    found = cg.doctor(formula, values, view["center"], view["half_width"], view["target"])
    assert ex.code in {f.code for f in found}
