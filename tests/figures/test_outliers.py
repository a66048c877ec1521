"""Figure builders of the Outlier-sensitivity page."""

from __future__ import annotations

import numpy as np
import pytest

from lossviz.figures.outliers import (
    CLEAN,
    DROPPED,
    OUTLIER,
    FittedLine,
    Points,
    figure_breakdown,
    figure_fits,
    figure_outlier_pull,
    figure_sensitivity,
)
from tests.figure_helpers import as_array, sent_dtype, validated


def _points() -> Points:
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    return Points(
        x=x, y=1 + 2 * x, status=np.array([CLEAN, OUTLIER, CLEAN, DROPPED, CLEAN]),
        pull=np.array([0.1, 0.6, 0.1, 0.0, 0.2]),
    )


def test_fits_figure_validates_and_keeps_point_indices() -> None:
    points = _points()
    lines = [FittedLine("mse", 1.0, 2.0, "#1f77b4"), FittedLine("mae", 0.5, 1.0, "#ff7f0e", converged=False)]
    fig = figure_fits(points, lines, "mse", (-1.1, 1.1))
    validated(fig)
    clean, outlier, dropped, mse, mae, bars = fig.data
    assert list(clean.customdata) == [0, 2, 4] and list(outlier.customdata) == [1] and list(dropped.customdata) == [3]
    np.testing.assert_allclose(as_array(clean.marker.color), [10, 10, 20], rtol=1e-6)  # percent of the pull
    assert clean.marker.coloraxis == "coloraxis" and outlier.marker.symbol == "diamond"
    np.testing.assert_allclose(as_array(mse.y), [1 + 2 * -1.1, 1 + 2 * 1.1], rtol=1e-6)
    assert mae.line.dash == "dot" and "not converged" in mae.name and mse.line.width == 3
    assert list(bars.customdata) == [0, 1, 2, 4]  # dropped points have no pull bar
    np.testing.assert_allclose(as_array(bars.y), [10, 60, 10, 20], rtol=1e-6)
    assert bars.xaxis == "x2" and fig.layout.coloraxis.cmax == pytest.approx(60)
    assert sent_dtype(clean.x) == sent_dtype(clean.y) == "f4"


def test_points_need_equal_lengths() -> None:
    with pytest.raises(ValueError, match="one entry per point"):
        Points(np.zeros(3), np.zeros(3), np.zeros(2, dtype=int), np.zeros(3))


def test_outlier_pull_figure() -> None:
    fig = figure_outlier_pull({"mse": 0.5, "mae": 0.1}, {"mse": "#000", "mae": "#111"}, fair=0.1)
    validated(fig)
    assert list(fig.data[0].y) == ["mse", "mae"]
    np.testing.assert_allclose(as_array(fig.data[0].x), [50, 10], rtol=1e-6)
    assert fig.layout.shapes[0].x0 == pytest.approx(10.0) and "10 %" in fig.layout.annotations[0].text


def test_sensitivity_and_breakdown_figures() -> None:
    offsets = np.linspace(-10, 10, 5)
    fig = figure_sensitivity(offsets, {"mse": offsets * 2, "huber": np.clip(offsets, -1, 1)},
                             {"mse": "#000", "huber": "#111"}, "slope", marker=5.0)
    validated(fig)
    np.testing.assert_allclose(as_array(fig.data[0].y), offsets * 2)
    assert fig.layout.shapes[0].x0 == 5.0
    fractions = np.linspace(0, 0.5, 3)
    fig = figure_breakdown(fractions, {"mse": np.array([0.0, 1.0, 2.0])}, {"mse": "#000"}, "slope")
    validated(fig)
    np.testing.assert_allclose(as_array(fig.data[0].x), [0, 25, 50])


def test_sensitivity_range_lets_an_unbounded_curve_run_off() -> None:
    offsets = np.linspace(-30, 30, 7)
    curves = {"mse": 10 * offsets, "huber": np.clip(offsets, -2, 2), "barron": np.clip(offsets, -1, 1)}
    fig = figure_sensitivity(offsets, curves, dict.fromkeys(curves, "#000"), "slope")
    assert list(fig.layout.yaxis.range) == [-4.0, 4.0]
    assert fig.layout.annotations[0].text == "mse runs off the chart (unbounded)"
    bounded = figure_sensitivity(
        offsets, {"huber": curves["huber"], "b": curves["barron"]}, {"huber": "#000", "b": "#111"}, "slope"
    )
    assert bounded.layout.yaxis.range is None and not bounded.layout.annotations
