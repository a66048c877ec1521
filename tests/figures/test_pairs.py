"""Pair-analysis figures: binned, so their size does not grow with the number of pairs."""

import numpy as np

from lossviz.figures.curves import HISTOGRAM_BINS, figure_pair_distributions, figure_tail_shares
from lossviz.studies.curves import analyze_pairs
from tests.figure_helpers import as_array


def _summaries(n):
    rng = np.random.default_rng(0)
    target = rng.normal(size=n)
    return analyze_pairs(["mse", "mae"], target + rng.standard_t(2, size=n), target)


def test_distribution_figure_is_binned_and_small():
    small, large = figure_pair_distributions(_summaries(1_000)), figure_pair_distributions(_summaries(200_000))
    assert len(large.data) == 4
    assert all(len(as_array(trace.x)) == HISTOGRAM_BINS for trace in large.data)
    assert len(large.to_json()) < 2 * len(small.to_json()) < 100_000
    shares = as_array(large.data[0].y)
    assert abs(shares.sum() - 1.0) < 1e-5


def test_tail_share_bars_carry_the_shares():
    summaries = _summaries(1_000)
    fig = figure_tail_shares(summaries)
    worst1 = next(t for t in fig.data if t.name == "worst 1%" and t.xaxis == "x")
    np.testing.assert_allclose(as_array(worst1.y), [s.value_tail_share[0.01] for s in summaries], rtol=1e-6)
