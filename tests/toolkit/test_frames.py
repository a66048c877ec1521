"""The ladders of values a live parameter steps through (lossviz.toolkit.frames)."""

import itertools

import numpy as np
import pytest

import lossviz
from lossviz.spec import Param
from lossviz.studies import generative as gs
from lossviz.studies import margins as es
from lossviz.toolkit import frames
from lossviz.toolkit.frames import FINE_MANTISSAS


def test_even_values_span_the_control_evenly() -> None:
    delta = lossviz.spec("huber").param("delta")
    values = frames.even_values(delta)
    assert len(values) == frames.EVEN_COUNT
    assert values[0] == pytest.approx(0.05) and values[-1] == pytest.approx(5.0)
    assert np.allclose(np.diff(values), np.diff(values)[0])
    log_param = Param("w", 1.0, low=0.0, low_open=True, ui_low=0.01, ui_high=100.0, scale="log")
    np.testing.assert_allclose(frames.even_values(log_param, 5), [0.01, 0.1, 1.0, 10.0, 100.0])
    integer = Param("k", 1, low=0, integer=True, ui_low=0, ui_high=3)
    assert frames.even_values(integer).tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("loss", es.MARGIN_LOSSES)
def test_round_values_are_round_valid_and_span_the_control(loss: str) -> None:
    param = es.margin_param(loss)
    values = frames.round_values(param)
    lo, hi = param.slider_range
    assert values[0] == pytest.approx(lo) and values[-1] == pytest.approx(hi)
    assert np.all(np.diff(values) > 0)
    assert 15 <= len(values) <= 60
    assert all(param.contains(float(v)) for v in values)
    assert all(abs(v * 100 - round(v * 100)) < 1e-9 for v in values)  # round numbers for the labels


def test_log_ladder_covers_the_range_with_the_default() -> None:
    weight = Param("pos_weight", 1.0, low=0.0, ui_low=0.1, ui_high=100.0, scale="log")
    options = frames.log_ladder(weight)
    assert options[0] == 0.1 and options[-1] == 100.0 and 1.0 in options
    ratios = [b / a for a, b in itertools.pairwise(options)]
    assert all(1.0 < r <= 2.5 for r in ratios), ratios  # 1-2-5 steps, increasing
    odd_default = Param("w", 0.3, low=0.0, low_open=True, ui_low=0.1, ui_high=10.0, scale="log")
    assert 0.3 in frames.log_ladder(odd_default)


def test_a_finer_ladder_contains_every_option_of_the_1_2_5_control() -> None:
    fine = frames.log_ladder(gs.TV_WEIGHT, FINE_MANTISSAS)
    assert set(frames.log_ladder(gs.TV_WEIGHT)) <= set(fine)
    assert fine == sorted(fine) and 15 <= len(fine) <= 60
    lo, hi = gs.TV_WEIGHT.slider_range
    assert fine[0] == lo and fine[-1] == hi


def test_nearest_index() -> None:
    assert frames.nearest_index([0.0, 0.5, 1.0], 0.7) == 1
    assert frames.nearest_index([0.0, 0.5, 1.0], 5.0) == 2
    assert frames.nearest_index(np.array([0.0, 1.0]), -3.0) == 0


@pytest.mark.parametrize(("total", "count"), [(0, 1), (1, 2), (20, 21), (100, 101), (101, 101), (2000, 101)])
def test_snapshot_steps_keep_every_step_up_to_the_limit_and_thin_out_beyond(total: int, count: int) -> None:
    steps = frames.snapshot_steps(total)
    assert len(steps) == count and steps[0] == 0 and steps[-1] == total
    gaps = np.diff(steps)
    assert (gaps > 0).all() and (total == 0 or gaps.max() - gaps.min() <= 1)  # evenly spaced up to rounding
    with pytest.raises(ValueError, match="whole number"):
        frames.snapshot_steps(-1)


def test_a_time_control_runs_from_0_to_the_last_step_and_starts_at_the_end() -> None:
    param = frames.time_param("step", 250, "The optimiser's step shown.")
    assert (param.name, param.default, param.slider_range, param.integer) == ("step", 250, (0, 250), True)
    assert param.contains(0) and param.contains(250) and not param.contains(251)
    assert frames.time_param("epoch", 0, "").contains(0)  # a run of no step still has a valid control
