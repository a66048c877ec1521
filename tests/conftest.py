"""Shared fixture: lossviz's gradient and curvature against central finite differences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import lossviz

FD_STEP = 1e-6
FD_RTOL = 1e-6


def check_against_finite_differences(name: Any, pred: Any, target: Any = None, **params: float) -> None:
    """Assert grad ≈ (f(p+h) − f(p−h)) / 2h and curvature ≈ the same difference of grad (float64, h = 1e-6).

    The absolute slack 1e-8·(1 + |f|) covers the rounding error of the difference quotient
    (about 2e-16·|f| / h); everything else must agree to a relative 1e-6.
    """
    pred = np.asarray(pred, dtype=np.float64)
    label = getattr(name, "name", name)
    res = lossviz.evaluate(name, pred, target, order=2, **params)
    up = lossviz.evaluate(name, pred + FD_STEP, target, order=1, **params)
    down = lossviz.evaluate(name, pred - FD_STEP, target, order=1, **params)
    fd_grad = (up.value - down.value) / (2 * FD_STEP)
    _assert_close(res.grad, fd_grad, 1e-8 * (1 + np.abs(res.value)), f"{label}: gradient vs FD")
    fd_curvature = (up.grad - down.grad) / (2 * FD_STEP)
    _assert_close(res.curvature, fd_curvature, 1e-8 * (1 + np.abs(res.grad)), f"{label}: curvature vs FD of grad")


def _assert_close(actual: np.ndarray, expected: np.ndarray, atol: np.ndarray, what: str) -> None:
    err = np.abs(actual - expected)
    bad = err > FD_RTOL * np.abs(expected) + atol
    if bad.any():
        i = tuple(int(k) for k in np.argwhere(bad)[0])
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} differ; first at {i}: {actual[i]!r} vs {expected[i]!r}"
        )


@pytest.fixture
def fd_check() -> Callable[..., None]:
    return check_against_finite_differences
