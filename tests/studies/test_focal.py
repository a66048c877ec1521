"""lossviz.studies.focal: Lin et al.'s numbers, curves against the paper's formula, AP by hand, training."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from lossviz.studies import focal as fs
from lossviz.toolkit.data import imbalanced_blobs


def _paper_focal(p_t: np.ndarray, gamma: float, alpha: float = 1.0) -> np.ndarray:
    """FL(p_t) = −α (1 − p_t)^γ log p_t, Eq. 5 of Lin et al. written directly."""
    return -alpha * (1.0 - p_t) ** gamma * np.log(p_t)


def test_lin_et_al_ratios() -> None:
    """§3.2: with γ = 2, p_t = 0.9 gives 100× lower loss than CE, p_t ≈ 0.968 about 1000× lower."""
    ratios = fs.ce_to_focal_ratio(np.array([0.9, 0.968]), 2.0)
    assert ratios[0] == pytest.approx(100.0, rel=1e-9)
    assert ratios[1] == pytest.approx(1 / 0.032**2, rel=1e-9)
    assert 950 < ratios[1] < 1000


def test_curves_match_the_paper_formula() -> None:
    p = fs.P_T
    curves = fs.focal_curves(p, fs.LIN_GAMMAS, alpha=-1.0)
    assert curves.loss.shape == (5, p.size)
    for i, g in enumerate(fs.LIN_GAMMAS):
        np.testing.assert_allclose(curves.loss[i], _paper_focal(p, g), rtol=1e-9)
        np.testing.assert_allclose(curves.modulating[i], (1 - p) ** g, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(curves.loss[0], -np.log(p), rtol=1e-12)  # γ = 0 is cross-entropy
    np.testing.assert_allclose(curves.ce, -np.log(p), rtol=1e-12)


def test_gradient_magnitude_against_chain_rule() -> None:
    """|dFL/dx| with p = σ(x): dFL/dp · p(1 − p), dFL/dp = γ(1−p)^{γ−1} log p − (1−p)^γ / p."""
    p = np.linspace(0.01, 0.99, 99)
    for g in (0.0, 0.5, 2.0, 5.0):
        curves = fs.focal_curves(p, [g], alpha=0.25)
        d_dp = g * (1 - p) ** (g - 1) * np.log(p) - (1 - p) ** g / p
        np.testing.assert_allclose(curves.grad[0], np.abs(0.25 * d_dp * p * (1 - p)), rtol=1e-9)
    ce = fs.focal_curves(p, [0.0], alpha=-1.0)
    np.testing.assert_allclose(ce.grad[0], 1 - p, rtol=1e-9)  # the CE gradient on a logit is 1 − p_t


def test_alpha_weights_the_positive() -> None:
    p = np.array([0.2, 0.7])
    weighted = fs.focal_curves(p, [2.0], alpha=0.25)
    off = fs.focal_curves(p, [2.0], alpha=-1.0)
    np.testing.assert_allclose(weighted.loss, 0.25 * off.loss, rtol=1e-12)
    np.testing.assert_allclose(weighted.modulating, off.modulating, rtol=1e-12)


def test_pad_frames_hold_the_defaults_lin_gammas_and_the_share_gammas() -> None:
    assert fs.GAMMA.default in fs.GAMMA_FRAMES and fs.ALPHA.default in fs.ALPHA_FRAMES
    assert np.isin(fs.LIN_GAMMAS, fs.GAMMA_FRAMES).all()
    assert np.isin(fs.GAMMA_FRAMES, fs.SHARE_GAMMAS).all()  # share_at is exact at every γ of the pad
    assert (fs.GAMMA_FRAMES[0], fs.GAMMA_FRAMES[-1]) == fs.GAMMA.slider_range
    assert (fs.ALPHA_FRAMES[0], fs.ALPHA_FRAMES[-1]) == fs.ALPHA.slider_range


def test_grid_is_the_alpha_balanced_paper_formula_for_both_classes() -> None:
    """Eq. 5 with α_t: α·FL for a positive, (1 − α)·FL for a negative with the same p_t; gradient by the chain rule."""
    p = np.linspace(0.01, 0.99, 37)
    gammas, alphas = [0.0, 0.5, 2.0, 5.0], [0.0, 0.25, 0.6, 1.0]
    grid = fs.focal_grid(p, gammas, alphas)
    assert grid.loss.shape == grid.grad.shape == (4, 4, 2, p.size) and grid.modulating.shape == (4, p.size)
    assert fs.CLASSES == ("positive", "negative")
    for i, g in enumerate(gammas):
        np.testing.assert_allclose(grid.modulating[i], (1 - p) ** g, rtol=1e-9, atol=1e-300)
        d_dp = g * (1 - p) ** (g - 1) * np.log(p) - (1 - p) ** g / p
        for j, a in enumerate(alphas):
            for c, alpha_t in enumerate((a, 1 - a)):
                np.testing.assert_allclose(grid.loss[i, j, c], _paper_focal(p, g, alpha_t), rtol=1e-9, atol=1e-300)
                np.testing.assert_allclose(grid.grad[i, j, c], np.abs(alpha_t * d_dp * p * (1 - p)), rtol=1e-9,
                                           atol=1e-300)


def test_pad_grid_with_weighting_off_is_unweighted_in_every_column() -> None:
    on, off = fs.pad_grid(True), fs.pad_grid(False)
    assert on.loss.shape == off.loss.shape == (fs.GAMMA_FRAMES.size, fs.ALPHA_FRAMES.size, 2, fs.P_T_LIVE.size)
    np.testing.assert_array_equal(on.alphas, fs.ALPHA_FRAMES)
    assert (off.alphas == -1.0).all()
    unweighted = fs.focal_curves(fs.P_T_LIVE, fs.GAMMA_FRAMES, -1.0)
    for j in (0, fs.ALPHA_FRAMES.size - 1):
        for c in (0, 1):
            np.testing.assert_allclose(off.loss[:, j, c], unweighted.loss, rtol=1e-12)
            np.testing.assert_allclose(off.grad[:, j, c], unweighted.grad, rtol=1e-12)
    np.testing.assert_array_equal(on.modulating, off.modulating)


def test_logit_of_inverts_sigmoid() -> None:
    p = np.array([1e-6, 0.1, 0.5, 0.968, 1 - 1e-9])
    np.testing.assert_allclose(1 / (1 + np.exp(-fs.logit_of(p))), p, rtol=1e-9)
    assert fs.logit_of([0.5])[0] == 0.0


# --- average precision ---------------------------------------------------------------------------


def test_average_precision_hand_worked() -> None:
    """Scores 0.8 (1), 0.4 (0), 0.35 (1), 0.1 (0).

    Thresholds, highest first: 0.8 → P = 1, R = ½; 0.4 → P = ½, R = ½; 0.35 → P = ⅔, R = 1;
    0.1 → P = ½, R = 1. AP = ½·1 + 0·½ + ½·⅔ + 0·½ = 5/6.
    """
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    labels = np.array([0, 0, 1, 1])
    precision, recall, thresholds = fs.precision_recall_curve(scores, labels)
    np.testing.assert_allclose(precision, [1, 0.5, 2 / 3, 0.5])
    np.testing.assert_allclose(recall, [0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thresholds, [0.8, 0.4, 0.35, 0.1])
    assert fs.average_precision(scores, labels) == pytest.approx(5 / 6, abs=1e-15)


def test_average_precision_ties_form_one_step() -> None:
    """Scores 0.9 (1), 0.5 (0), 0.5 (1), 0.2 (1): the tie at 0.5 is one threshold with P = ⅔, R = ⅔.

    AP = ⅓·1 + ⅓·⅔ + ⅓·¾ = 1/3 + 2/9 + 1/4 = 29/36.
    """
    scores = np.array([0.9, 0.5, 0.5, 0.2])
    labels = np.array([1, 0, 1, 1])
    assert fs.average_precision(scores, labels) == pytest.approx(29 / 36, abs=1e-15)
    # the order of tied entries does not matter
    assert fs.average_precision(scores[[0, 2, 1, 3]], labels[[0, 2, 1, 3]]) == pytest.approx(29 / 36, abs=1e-15)


def test_average_precision_edge_cases() -> None:
    assert fs.average_precision(np.array([3.0, 2.0, 1.0]), np.array([1, 1, 0])) == 1.0  # perfect ranking
    assert fs.average_precision(np.array([1.0, 2.0, 3.0]), np.array([1, 0, 0])) == pytest.approx(1 / 3)
    assert math.isnan(fs.average_precision(np.array([1.0, 2.0]), np.array([0, 0])))
    with pytest.raises(ValueError, match="0 or 1"):
        fs.average_precision(np.array([1.0]), np.array([2.0]))


def _ap_brute_force(scores: np.ndarray, labels: np.ndarray) -> float:
    """AP as the mean over positives of the precision at that positive's score (ties included)."""
    total = 0.0
    for s in scores[labels == 1]:
        predicted = scores >= s
        total += (labels[predicted] == 1).sum() / predicted.sum()
    return total / (labels == 1).sum()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 1)), min_size=1, max_size=30))
def test_average_precision_equals_mean_precision_at_positives(pairs: list[tuple[int, int]]) -> None:
    scores = np.array([p[0] for p in pairs], dtype=float)
    labels = np.array([p[1] for p in pairs], dtype=float)
    if labels.sum() == 0:
        return
    assert fs.average_precision(scores, labels) == pytest.approx(_ap_brute_force(scores, labels), abs=1e-12)


def test_minority_scores() -> None:
    logits = np.array([2.0, -1.0, 0.5, -3.0, 1.0])
    y = np.array([1, 1, 0, 0, 1])
    s = fs.minority_scores(logits, y)
    assert s.recall == pytest.approx(2 / 3) and s.precision == pytest.approx(2 / 3)
    assert s.average_precision == pytest.approx(_ap_brute_force(logits, y))


# --- training, loss shares -------------------------------------------------------------------


@pytest.mark.parametrize(("loss", "params"), [("bce_logits", {}), ("focal", {"gamma": 2.0, "alpha": 0.25})])
def test_train_logistic_matches_scipy(loss: str, params: dict[str, float]) -> None:
    """The Newton solution against scipy's BFGS on the same objective written in NumPy."""
    data = imbalanced_blobs(20.0, 2.0, seed=1, n_majority=400)
    model = fs.train_logistic(loss, data, params)
    assert model.converged

    def objective(theta: np.ndarray) -> float:
        z = (2 * data.y - 1) * (data.x @ theta[1:] + theta[0])
        log_pt = -np.logaddexp(0.0, -z)
        if loss == "bce_logits":
            values = -log_pt
        else:
            alpha_t = np.where(data.y == 1, params["alpha"], 1 - params["alpha"])
            values = -alpha_t * (-np.expm1(log_pt)) ** params["gamma"] * log_pt
        return float(values.mean() + 0.5 * fs.RIDGE * (theta[1:] ** 2).sum())

    res = minimize(objective, np.zeros(3), method="BFGS", options={"gtol": 1e-12, "maxiter": 5000})
    np.testing.assert_allclose(np.r_[model.b, model.w], res.x, atol=1e-5)
    assert objective(np.r_[model.b, model.w]) <= res.fun + 1e-12


def test_well_classified_share_falls_with_gamma() -> None:
    data = imbalanced_blobs(100.0, 2.5, seed=0)
    logits = fs.train_logistic("bce_logits", data).logits(data.x)
    share = fs.well_classified_share(logits, data.y, [0.0, 1.0, 2.0, 5.0])
    assert np.all(np.diff(share) < 0) and 0 < share[-1] < share[0] < 1
    # γ = 0: by hand from the cross-entropy values
    pt = fs.p_true(logits, data.y)
    ce = -np.log(pt)
    assert share[0] == pytest.approx(ce[pt > 0.6].sum() / ce.sum(), rel=1e-9)


def test_p_true() -> None:
    np.testing.assert_allclose(fs.p_true(np.array([0.0, 2.0, 2.0]), np.array([1, 1, 0])),
                               [0.5, 1 / (1 + np.exp(-2)), 1 / (1 + np.exp(2))])


def test_easy_fraction_counts_examples_above_the_threshold() -> None:
    # p_t of these logits with label 1: σ(−2) ≈ 0.12, σ(0) = 0.5, σ(1) ≈ 0.73, σ(3) ≈ 0.95
    logits, y = np.array([-2.0, 0.0, 1.0, 3.0]), np.ones(4)
    assert fs.easy_fraction(logits, y) == 0.5
    assert fs.easy_fraction(logits, y, threshold=0.9) == 0.25
    assert fs.easy_fraction(-logits, 1 - y) == 0.5  # the same examples labelled 0


def test_models_are_compared_on_the_test_set() -> None:
    a = fs.Logistic("a", {}, np.array([1.0, 0.0]), 0.0, 3, 0.0, True)
    b = fs.Logistic("b", {}, np.array([0.0, 1.0]), -0.5, 7, 1.0, False)
    test = fs.Blobs(np.array([[2.0, -1.0], [1.0, 1.0], [-1.0, 2.0], [-2.0, -2.0]]), np.array([1.0, 0.0, 1.0, 0.0]))
    comparison = fs.compare_models({"A": a, "B": b}, test)
    assert comparison.base_rate == 0.5
    # A's logits (2, 1, −1, −2): p > 0.5 on the first two, one of them a minority point.
    assert comparison.scores["A"].recall == 0.5 and comparison.scores["A"].precision == 0.5
    # B's logits (−1.5, 0.5, 1.5, −2.5): the minority point at 1.5 ranks first.
    precision, recall = comparison.curves["B"]
    np.testing.assert_allclose(precision, [1.0, 0.5, 2 / 3, 0.5])
    np.testing.assert_allclose(recall, [0.5, 0.5, 1.0, 1.0])
    table = fs.metrics_table({"A": a, "B": b}, comparison)
    assert list(table.index) == ["A", "B"]
    assert list(table["Newton iterations"]) == [3, 7] and list(table["converged"]) == ["✓", "✗"]
    assert table.loc["B", "PR-AUC (average precision)"] == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3)
