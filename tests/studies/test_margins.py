"""The Margins page's maths (lossviz.studies.margins) against formulas written out here in NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz.losses.ranking import TRIPLET_EPS
from lossviz.studies import margins as es

MARGINS = st.floats(0.0, 3.0, allow_nan=False)


def _away_from(x: np.ndarray, kinks: list[float], gap: float = 1e-9) -> np.ndarray:
    """Points not within ``gap`` of any kink (where the subgradient convention decides)."""
    keep = np.ones_like(x, dtype=bool)
    for k in kinks:
        keep &= np.abs(x - k) > gap
    return keep


# --- score panels ---------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(hinge=MARGINS, squared=MARGINS)
def test_binary_panel_is_the_hinge_and_squared_hinge(hinge: float, squared: float) -> None:
    panel = es.binary_panel(hinge, squared)
    h, q = panel.series
    s = h.x
    np.testing.assert_allclose(h.value, np.maximum(0.0, hinge - s), rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(q.value, np.maximum(0.0, squared - s) ** 2, rtol=1e-14, atol=1e-15)
    keep = _away_from(s, [hinge])
    np.testing.assert_array_equal(h.grad[keep], np.where(s < hinge, -1.0, 0.0)[keep])
    np.testing.assert_allclose(q.grad, -2.0 * np.maximum(0.0, squared - s), rtol=1e-14, atol=1e-15)
    assert panel.margin_lines == (hinge,)


@settings(max_examples=25, deadline=None)
@given(margin=MARGINS)
def test_multiclass_panel_against_the_weston_watkins_sum(margin: float) -> None:
    panel = es.multiclass_panel(margin)
    true_varied, wrong_varied = panel.series
    x = true_varied.x
    x0, x1, x2 = es.MULTICLASS_SCORES
    # Varying x0: (max(0, m − x0 + x1) + max(0, m − x0 + x2)) / 3.
    expected = (np.maximum(0.0, margin - x + x1) + np.maximum(0.0, margin - x + x2)) / 3
    np.testing.assert_allclose(true_varied.value, expected, rtol=1e-14, atol=1e-15)
    active = (margin - x + x1 > 0).astype(float) + (margin - x + x2 > 0).astype(float)
    keep = _away_from(x, [x1 + margin, x2 + margin])
    np.testing.assert_allclose(true_varied.grad[keep], -active[keep] / 3, rtol=1e-15)
    # Varying x1: (max(0, m − x0 + x1) + max(0, m − x0 + x2)) / 3 with x0, x2 fixed.
    expected = (np.maximum(0.0, margin - x0 + x) + max(0.0, margin - x0 + x2)) / 3
    np.testing.assert_allclose(wrong_varied.value, expected, rtol=1e-14, atol=1e-15)
    keep = _away_from(x, [x0 - margin])
    np.testing.assert_allclose(wrong_varied.grad[keep], ((margin - x0 + x > 0) / 3)[keep], rtol=1e-15)


@settings(max_examples=25, deadline=None)
@given(margin=MARGINS)
def test_ranking_panel_is_a_hinge_on_the_difference(margin: float) -> None:
    plus, minus = es.ranking_panel(margin).series
    d = plus.x
    np.testing.assert_allclose(plus.value, np.maximum(0.0, margin - d), atol=1e-15)
    np.testing.assert_allclose(minus.value, np.maximum(0.0, margin + d), atol=1e-15)
    keep = _away_from(d, [margin, -margin])
    np.testing.assert_array_equal(plus.grad[keep], np.where(d < margin, -1.0, 0.0)[keep])
    np.testing.assert_array_equal(minus.grad[keep], np.where(d > -margin, 1.0, 0.0)[keep])


@settings(max_examples=25, deadline=None)
@given(margin=st.floats(0.05, 3.0))
def test_contrastive_panel_similar_and_dissimilar(margin: float) -> None:
    similar, dissimilar = es.contrastive_panel(margin).series
    d = similar.x
    np.testing.assert_allclose(similar.value, 0.5 * d**2, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(similar.grad, d, rtol=1e-15)
    np.testing.assert_allclose(dissimilar.value, 0.5 * np.maximum(0.0, margin - d) ** 2, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(dissimilar.grad, -np.maximum(0.0, margin - d), rtol=1e-14, atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(margin=st.floats(-1.0, 1.0))
def test_cosine_panel_against_the_angle(margin: float) -> None:
    panel = es.cosine_panel(margin)
    similar, dissimilar, proximity = panel.series
    theta = np.radians(similar.x)
    cos, sin = np.cos(theta), np.sin(theta)
    # torch's ε inside the squared norms of unit vectors changes the cosine by a factor 1/(1 + ε) ≈ 1 − 1e-12.
    np.testing.assert_allclose(similar.value, 1.0 - cos, atol=1e-11)
    np.testing.assert_allclose(similar.grad, sin, atol=1e-11)
    np.testing.assert_allclose(dissimilar.value, np.maximum(0.0, cos - margin), atol=1e-11)
    keep = np.abs(cos - margin) > 1e-9
    np.testing.assert_allclose(dissimilar.grad[keep], np.where(cos > margin, -sin, 0.0)[keep], atol=1e-11)
    np.testing.assert_allclose(proximity.value, -cos, atol=1e-15)
    np.testing.assert_allclose(proximity.grad, sin, atol=1e-15)
    assert not proximity.live and similar.live
    if -1 < margin < 1:
        assert panel.margin_lines == pytest.approx((math.degrees(math.acos(margin)),))


def test_cosine_dtheta_agrees_with_finite_differences_in_the_angle() -> None:
    """The chain rule ∇L · dx₂/dθ against (L(θ + h) − L(θ − h)) / 2h in degrees → radians."""
    h = 1e-6
    degrees = np.linspace(3.0, 177.0, 59)
    for y in (1.0, -1.0):
        for margin in (-0.5, 0.0, 0.3):
            def value(deg: np.ndarray, y: float = y, margin: float = margin) -> np.ndarray:
                return es.evaluate("cosine_embedding", es.unit_pairs(np.radians(deg)), y, margin=margin).value

            res = es.evaluate("cosine_embedding", es.unit_pairs(np.radians(degrees)), y, margin=margin)
            theta = np.radians(degrees)
            tangent = np.stack([-np.sin(theta), np.cos(theta)], axis=-1)
            chain = (res.grad[:, 1, :] * tangent).sum(-1)
            fd = (value(degrees + np.degrees(h)) - value(degrees - np.degrees(h))) / (2 * h)
            keep = np.abs(np.cos(theta) - margin) > 1e-4
            np.testing.assert_allclose(chain[keep], fd[keep], rtol=1e-6, atol=1e-8)


def test_panel_by_key_and_frames_match_the_builders() -> None:
    margins = {loss: es.margin_param(loss).default for loss in es.MARGIN_LOSSES}
    for key, (losses, build) in es.PANELS.items():
        panel = es.panel(key, margins)
        direct = build(*(margins[loss] for loss in losses))
        for a, b in zip(panel.series, direct.series, strict=True):
            np.testing.assert_array_equal(a.value, b.value)
        values = [0.5, 1.0]
        for value, frame in zip(values, es.panel_frames(key, values), strict=True):
            assert frame.margin == value
            np.testing.assert_array_equal(frame.series[0].value, build(*([value] * len(losses))).series[0].value)


# --- the triplet plane ----------------------------------------------------------------------------


def _distance(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """torch's pairwise_distance: ‖x₁ − x₂ + ε‖₂."""
    return np.sqrt(((x1 - x2 + TRIPLET_EPS) ** 2).sum(-1))


POINT = st.tuples(st.floats(-3.0, 3.0), st.floats(-3.0, 3.0))


@settings(max_examples=30, deadline=None)
@given(a=POINT, p=POINT, n=POINT, margin=st.floats(0.05, 3.0))
def test_triplet_plane_against_facenet_regions(a, p, n, margin) -> None:
    points = np.array([a, p, n], dtype=np.float64)
    plane = es.triplet_plane(points, margin, n=41)
    gx, gy = np.meshgrid(plane.x, plane.y)
    negatives = np.stack([gx, gy], axis=-1)
    d_ap = _distance(points[0], points[1])
    d_an = _distance(points[0], negatives)
    np.testing.assert_allclose(plane.loss, np.maximum(0.0, margin + d_ap - d_an), rtol=1e-13, atol=1e-13)
    # FaceNet: hard d(a,n) < d(a,p); semi-hard d(a,p) < d(a,n) < d(a,p) + m; easy beyond.
    expected = np.where(d_an < d_ap, 2, np.where(d_an < d_ap + margin, 1, 0))
    clear = (np.abs(d_an - d_ap) > 1e-9) & (np.abs(d_an - d_ap - margin) > 1e-9)
    np.testing.assert_array_equal(plane.region[clear], expected[clear])
    assert plane.d_ap == pytest.approx(d_ap, rel=1e-15)
    assert plane.d_an == pytest.approx(_distance(points[0], points[2]), rel=1e-15)


@settings(max_examples=30, deadline=None)
@given(a=POINT, p=POINT, n=POINT, margin=st.floats(0.05, 3.0))
def test_triplet_gradients_on_the_three_points(a, p, n, margin) -> None:
    """∂L/∂p = −u_ap, ∂L/∂n = u_an, ∂L/∂a = u_ap − u_an (u = (a − x + ε)/‖a − x + ε‖) while L > 0; else 0."""
    points = np.array([a, p, n], dtype=np.float64)
    plane = es.triplet_plane(points, margin, n=5)
    d_ap, d_an = _distance(points[0], points[1]), _distance(points[0], points[2])
    value = margin + d_ap - d_an
    assert plane.value == pytest.approx(max(0.0, value), abs=1e-13)
    if abs(value) < 1e-9 or min(d_ap, d_an) < 1e-6:
        return
    u_ap = (points[0] - points[1] + TRIPLET_EPS) / d_ap
    u_an = (points[0] - points[2] + TRIPLET_EPS) / d_an
    expected = np.array([u_ap - u_an, -u_ap, u_an]) if value > 0 else np.zeros((3, 2))
    np.testing.assert_allclose(plane.grad, expected, rtol=1e-9, atol=1e-12)


def test_triplet_gradient_against_finite_differences() -> None:
    points = es.triplet_from_coordinates(es.preset_coordinates("semi-hard"))
    plane = es.triplet_plane(points, 1.0, n=5)
    h = 1e-6
    for k in range(3):
        for j in range(2):
            up, down = points.copy(), points.copy()
            up[k, j] += h
            down[k, j] -= h
            fd = (es.triplet_plane(up, 1.0, n=5).value - es.triplet_plane(down, 1.0, n=5).value) / (2 * h)
            assert plane.grad[k, j] == pytest.approx(fd, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize(
    ("preset", "region"), [("semi-hard", "semi-hard"), ("hard", "hard"), ("easy", "easy")]
)
def test_presets_put_the_negative_in_their_region(preset: str, region: str) -> None:
    points = es.triplet_from_coordinates(es.preset_coordinates(preset))
    assert es.triplet_plane(points, 1.0, n=5).negative_region == region


def test_negative_on_the_anchor_is_pushed_along_minus_one_minus_one() -> None:
    points = es.triplet_from_coordinates(es.preset_coordinates("n on a"))
    plane = es.triplet_plane(points, 1.0, n=5)
    assert plane.negative_region == "hard"
    np.testing.assert_allclose(-plane.grad[2], -np.ones(2) / np.sqrt(2), rtol=1e-12)


def test_easy_negative_has_no_gradient() -> None:
    points = es.triplet_from_coordinates(es.preset_coordinates("easy"))
    plane = es.triplet_plane(points, 1.0, n=5)
    assert plane.value == 0.0
    np.testing.assert_array_equal(plane.grad, np.zeros((3, 2)))


def test_coordinates_presets_and_defaults() -> None:
    for name in es.PRESETS:
        coords = es.preset_coordinates(name)
        assert set(coords) == set(es.COORDINATES)
        np.testing.assert_array_equal(es.triplet_from_coordinates(coords), np.array(es.PRESETS[name]))
        assert all(es.COORDINATES[k].contains(v) for k, v in coords.items())
    defaults = {k: p.default for k, p in es.COORDINATES.items()}
    assert defaults == es.preset_coordinates(es.DEFAULT_PRESET)


def test_region_codes_follow_the_loss() -> None:
    loss = np.array([0.0, 1e-12, 0.5, 1.0, 1.0 + 1e-12, 3.0])
    np.testing.assert_array_equal(es.region_of(loss, 1.0), [0, 1, 1, 1, 2, 2])


def test_gradient_table_rounds_without_negative_zeros() -> None:
    # The positive at unit distance along x, the negative close: L > 0, ∂L/∂p = (p − a)/|p − a| = (1, 0).
    points = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.5]])
    plane = es.triplet_plane(points, margin=1.0, n=5)
    table = es.gradient_table(plane)
    assert table["point"] == ["anchor", "positive", "negative"]
    np.testing.assert_allclose(table["∂L/∂x"], np.round(plane.grad[:, 0], 4))
    np.testing.assert_allclose(table["∂L/∂y"], np.round(plane.grad[:, 1], 4))
    assert table["∂L/∂x"][1] == 1.0 and table["∂L/∂y"][1] == 0.0
    zeros = [v for v in table["∂L/∂x"] + table["∂L/∂y"] if v == 0.0]
    assert zeros and all(math.copysign(1.0, v) == 1.0 for v in zeros)  # no −0.0
