"""Loss values and tail shares over (prediction, target) pairs, against direct computations."""

import numpy as np
import pytest

from lossviz.studies.curves import SHARE_COLUMNS, analyze_pairs, guess_pair_columns, pairs_table


def test_values_grads_and_tail_shares_match_direct_formulas():
    rng = np.random.default_rng(3)
    target = rng.normal(size=500)
    pred = target + rng.normal(scale=0.5, size=500)
    pred[:5] += 30.0
    mse, mae, huber = analyze_pairs(["mse", "mae", "huber"], pred, target, {"huber": {"delta": 2.0}})
    r = pred - target
    np.testing.assert_allclose(mse.value, r**2, rtol=1e-15)
    np.testing.assert_allclose(mse.grad, 2 * r, rtol=1e-15)
    np.testing.assert_allclose(huber.grad, np.clip(r, -2, 2), rtol=1e-15)
    assert mse.total == pytest.approx(np.sum(r**2))
    worst5 = np.sort(r**2)[::-1][:5].sum() / np.sum(r**2)
    assert mse.value_tail_share[0.01] == pytest.approx(worst5)
    # MAE's |gradient| is 1 for every pair, so the worst 1 % carry exactly 1 % of it.
    assert mae.grad_tail_share[0.01] == pytest.approx(0.01)
    # The outliers dominate MSE far more than MAE or Huber.
    assert mse.value_tail_share[0.01] > huber.value_tail_share[0.01] > mae.value_tail_share[0.01]


def test_rejects_losses_that_are_not_pairwise():
    with pytest.raises(ValueError, match="not a pointwise loss"):
        analyze_pairs(["dice"], np.zeros(3), np.zeros(3))


def test_table_has_one_row_per_loss_with_its_mean_and_shares():
    pred, target = np.array([1.0, 2.0, 3.0, 10.0]), np.zeros(4)
    summaries = analyze_pairs(["mse", "mae"], pred, target)
    table = pairs_table(summaries)
    assert list(table["loss"]) == ["mse", "mae"]
    np.testing.assert_allclose(table["mean loss"], [(1 + 4 + 9 + 100) / 4, (1 + 2 + 3 + 10) / 4])
    # 4 pairs: the worst 1 % and 10 % are both the single worst pair.
    np.testing.assert_allclose(table[SHARE_COLUMNS[0]], [100 / 114, 10 / 16])
    np.testing.assert_allclose(table[SHARE_COLUMNS[1]], table[SHARE_COLUMNS[0]])
    np.testing.assert_allclose(table[SHARE_COLUMNS[2]], [20 / 32, 1 / 4])


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["y_true", "y_pred"], ("y_pred", "y_true")),
        (["Prediction", "x", "Target"], ("Prediction", "Target")),
        (["a", "b", "c"], ("a", "b")),
        (["a", "pred"], ("pred", "a")),
    ],
)
def test_prediction_and_target_columns_are_guessed_by_name_else_in_order(columns, expected):
    assert guess_pair_columns(columns) == expected
