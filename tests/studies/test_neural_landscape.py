"""Landscapes of trained networks (Li et al. 2018): filter normalisation, interpolation, batched slices, PCA."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz.domains import REAL
from lossviz.errors import ParameterError
from lossviz.registry import user_scope
from lossviz.spec import LossSpec
from lossviz.studies import neural_landscape as nl
from lossviz.toolkit import training as tr
from lossviz.toolkit.data import DataConfig


@pytest.fixture(scope="module")
def run() -> tr.TrainResult:
    return tr.train(tr.default_config(epochs=25))


@pytest.fixture(scope="module")
def spiral_run() -> tr.TrainResult:
    return tr.train(tr.default_config(DataConfig("spiral"), epochs=15, width=8))


# --- filter normalisation ----------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(sizes=st.lists(st.integers(1, 9), min_size=2, max_size=5), seed=st.integers(0, 1000))
def test_each_filter_of_a_direction_has_the_norm_of_the_models_filter(sizes: list[int], seed: int) -> None:
    model = tr.MLP(tuple(sizes))
    theta = model.init(seed).numpy()
    d = nl.filter_normalized_direction(model, theta, torch.Generator().manual_seed(seed + 1))
    for w, b, fan_out, fan_in in model.layers:
        d_rows = d[w].reshape(fan_out, fan_in)
        t_rows = theta[w].reshape(fan_out, fan_in)
        np.testing.assert_allclose(np.linalg.norm(d_rows, axis=1), np.linalg.norm(t_rows, axis=1), rtol=1e-9)
        np.testing.assert_array_equal(d[b], 0.0)  # biases: Li et al.'s "ignore biases"


def test_filter_directions_point_elsewhere_than_the_weights(run: tr.TrainResult) -> None:
    plane = nl.random_plane(run.setup.model, run.theta_final, seed=0)
    assert not np.allclose(np.abs(plane.d1), np.abs(run.theta_final))
    cosine = plane.d1 @ plane.d2 / np.linalg.norm(plane.d1) / np.linalg.norm(plane.d2)
    assert abs(cosine) < 0.3  # two independent Gaussian directions are nearly orthogonal
    again = nl.random_plane(run.setup.model, run.theta_final, seed=0)
    np.testing.assert_array_equal(again.d1, plane.d1)
    other = nl.random_plane(run.setup.model, run.theta_final, seed=1)
    assert not np.array_equal(other.d1, plane.d1)


# --- interpolation ----------------------------------------------------------------------------------------


def test_interpolation_at_0_and_1_is_the_initial_and_final_loss(run: tr.TrainResult) -> None:
    interp = nl.compute_interpolation(run, points=101)
    i0, i1 = np.flatnonzero(np.isclose(interp.alphas, 0.0)), np.flatnonzero(np.isclose(interp.alphas, 1.0))
    assert interp.alphas[i0] == 0.0 and interp.alphas[i1] == 1.0
    c = run.curves
    np.testing.assert_allclose(interp.train_loss[i0], c.train_loss[0], rtol=1e-13)
    np.testing.assert_allclose(interp.train_loss[i1], c.train_loss[-1], rtol=1e-13)
    np.testing.assert_allclose(interp.val_loss[[*i0, *i1]], c.val_loss[[0, -1]], rtol=1e-13)
    np.testing.assert_allclose(interp.train_metric[[*i0, *i1]], c.train_metric[[0, -1]], rtol=1e-13)


def test_interpolation_is_the_loss_at_the_mixed_weights(run: tr.TrainResult) -> None:
    obj = nl.objective_for(run)
    alphas = np.array([-0.5, 0.3, 1.4])
    loss, _metric = nl.interpolation(obj, run.theta_initial, run.theta_final, alphas)
    for a, value in zip(alphas, loss, strict=True):
        theta = torch.as_tensor((1 - a) * run.theta_initial + a * run.theta_final)
        assert value == pytest.approx(float(obj.loss(theta)), rel=1e-13)


# --- batched slices ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["run", "spiral_run", "regression"])
def test_batched_surface_equals_the_per_point_loop(which: str, request) -> None:
    if which == "regression":
        result = tr.train(tr.default_config(DataConfig("regression"), loss="huber", epochs=5))
    else:
        result = request.getfixturevalue(which)
    obj = nl.objective_for(result)
    plane = nl.random_plane(result.setup.model, result.theta_final, seed=3)
    xs, ys = np.linspace(-1, 1, 7), np.linspace(-0.5, 1.5, 5)
    batched = nl.surface(obj, plane, xs, ys)
    assert batched.shape == (5, 7)
    np.testing.assert_allclose(batched, nl.surface_loop(obj, plane, xs, ys), rtol=1e-12, atol=1e-14)


def test_surface_chunks_give_the_same_numbers(run: tr.TrainResult, monkeypatch) -> None:
    obj = nl.objective_for(run)
    plane = nl.random_plane(run.setup.model, run.theta_final, seed=0)
    xs = np.linspace(-1, 1, 9)
    whole = nl.surface(obj, plane, xs, xs)
    monkeypatch.setattr(nl, "MAX_BATCH_ELEMENTS", 5_000)
    np.testing.assert_allclose(nl.surface(obj, plane, xs, xs), whole, rtol=1e-14)


def test_random_slice_is_centred_on_the_trained_loss(run: tr.TrainResult) -> None:
    s = nl.compute_random_slice(run, resolution=11, span=0.5, seed=2)
    assert s.z.shape == (11, 11) and s.xs[0] == -0.5 and s.xs[-1] == 0.5
    assert s.z[5, 5] == pytest.approx(run.curves.train_loss[-1], rel=1e-13)
    assert s.z.min() >= 0 and s.z.max() > s.z[5, 5]


def test_a_second_loss_scores_the_same_outputs(run: tr.TrainResult) -> None:
    s = nl.compute_random_slice(run, 11, 0.5, 2, loss="mse")
    obj = nl.objective_for(run, "mse")
    p = torch.sigmoid(obj.model.forward(torch.as_tensor(run.theta_final), obj.x)[:, 0])
    assert s.z[5, 5] == pytest.approx(float(((p - obj.y) ** 2).mean()), rel=1e-13)
    with pytest.raises(ParameterError, match="outputs"):
        nl.objective_for(run, "cross_entropy")  # needs two logits; the network has one
    with pytest.raises(ParameterError, match="cannot score"):
        nl.objective_for(run, "poisson_nll")


@pytest.mark.parametrize(("resolution", "span"), [(2, 1.0), (41, 0.0), (41, -1.0)])
def test_bad_slice_settings_raise(run: tr.TrainResult, resolution: int, span: float) -> None:
    with pytest.raises(ParameterError):
        nl.compute_random_slice(run, resolution, span)


# --- PCA trajectory -------------------------------------------------------------------------------------------


def test_projection_of_the_last_point_is_the_final_weights_projection(run: tr.TrainResult) -> None:
    plane = nl.pca_plane(run.thetas)
    path = nl.project(plane, run.thetas)
    np.testing.assert_array_equal(path[-1], nl.project(plane, run.theta_final[None, :])[0])
    np.testing.assert_allclose(path[-1], 0.0, atol=0)
    assert (path[0] >= 0).all()  # signed so that the start has non-negative coordinates


def test_pca_directions_are_the_top_eigenvectors_of_the_covariance(run: tr.TrainResult) -> None:
    plane = nl.pca_plane(run.thetas)
    diffs = run.thetas[:-1] - run.thetas[-1]
    cov = np.cov(diffs, rowvar=False)
    vals, vecs = np.linalg.eigh(cov)
    for k, d in enumerate((plane.d1, plane.d2)):
        top = vecs[:, -1 - k]
        assert abs(abs(top @ d) - 1.0) < 1e-8
        assert np.linalg.norm(d) == pytest.approx(1.0)
    assert plane.d1 @ plane.d2 == pytest.approx(0.0, abs=1e-12)
    ratios = vals[::-1][:2] / vals.sum()
    np.testing.assert_allclose(plane.explained, ratios, rtol=1e-8)
    assert plane.explained[0] >= plane.explained[1]


def test_a_history_inside_a_plane_is_reproduced_exactly() -> None:
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.standard_normal((20, 2)))[0].T  # orthonormal rows
    final = rng.standard_normal(20)
    coords = rng.standard_normal((12, 2)) * np.array([3.0, 1.0])
    thetas = np.vstack([final + coords @ basis, final])
    plane = nl.pca_plane(thetas)
    path = nl.project(plane, thetas)
    reconstructed = final + path[:, :1] * plane.d1 + path[:, 1:] * plane.d2
    np.testing.assert_allclose(reconstructed, thetas, atol=1e-12)
    assert sum(plane.explained) == pytest.approx(1.0)


def test_pca_slice_holds_the_path_and_is_zero_loss_at_the_origin(run: tr.TrainResult) -> None:
    s = nl.compute_pca_slice(run, resolution=15)
    assert s.path.shape == (len(run.thetas), 2) and s.z.shape == (15, 15)
    for k, axis in enumerate((s.xs, s.ys)):
        assert axis[0] < min(s.path[:, k].min(), 0) and axis[-1] > max(s.path[:, k].max(), 0)
    obj = nl.objective_for(run)
    plane = nl.pca_plane(run.thetas)
    at_start = float(obj.loss(torch.as_tensor(plane.points(s.path[:1, 0], s.path[:1, 1])[0])))
    projected_start = plane.center + s.path[0, 0] * plane.d1 + s.path[0, 1] * plane.d2
    assert at_start == pytest.approx(float(obj.loss(torch.as_tensor(projected_start))))
    with pytest.raises(ParameterError, match="two epochs"):
        nl.compute_pca_slice(tr.train(tr.default_config(epochs=1)))


def test_plane_residuals_measure_what_the_projection_leaves_out() -> None:
    rng = np.random.default_rng(3)
    basis = np.linalg.qr(rng.standard_normal((20, 2)))[0].T
    final = rng.standard_normal(20)
    off = np.linalg.qr(np.c_[basis.T, rng.standard_normal(20)])[0][:, 2]  # a unit vector normal to the plane
    heights = np.array([0.5, 0.0, 2.0, 0.0])
    thetas = final + (rng.standard_normal((4, 2)) @ basis) + heights[:, None] * off
    plane = nl.Plane(final, 3.0 * basis[0], basis[0] + basis[1])  # any two directions spanning the plane
    residual, steps = nl.plane_residuals(plane, thetas)
    np.testing.assert_allclose(residual, heights, atol=1e-12)
    moves = np.linalg.norm(np.diff(thetas, axis=0), axis=1)
    np.testing.assert_allclose(steps, np.r_[moves[0], moves], rtol=1e-15)


def test_a_pca_slice_says_how_far_each_checkpoint_is_from_its_plane(run: tr.TrainResult) -> None:
    s = nl.compute_pca_slice(run, resolution=11)
    plane = nl.pca_plane(run.thetas)
    rebuilt = plane.center + s.path[:, :1] * plane.d1 + s.path[:, 1:] * plane.d2
    np.testing.assert_allclose(s.off_plane, np.linalg.norm(run.thetas - rebuilt, axis=1), rtol=1e-9, atol=1e-12)
    assert s.off_plane[-1] == 0.0 and s.off_plane_in_steps[-1] == 0.0  # the final weights are the centre
    np.testing.assert_allclose(s.off_plane_in_steps[1:], s.off_plane[1:] / s.steps[1:], rtol=1e-15)
    far, largest = s.beyond_a_step()
    assert far == int((s.off_plane_in_steps > 1).sum()) and largest == s.off_plane_in_steps.max()
    assert far > 0  # with 337 weights, most checkpoints of the default run lie off the two-dimensional plane
    flat = nl.Slice(s.xs, s.ys, s.z, 0.0, s.path, s.explained, np.array([0.0, 1.0]), np.array([0.0, 0.0]))
    assert flat.off_plane_in_steps[0] == 0.0 and np.isinf(flat.off_plane_in_steps[1])
    assert nl.Slice(s.xs, s.ys, s.z, 0.0).beyond_a_step() == (0, 0.0)


def test_multiclass_landscapes(spiral_run: tr.TrainResult) -> None:
    s = nl.compute_random_slice(spiral_run, 9, 1.0, 0, loss="multi_margin")
    assert s.z.shape == (9, 9) and np.isfinite(s.z).all()
    assert nl.compute_pca_slice(spiral_run, 9).z.shape == (9, 9)


# --- the cache ---------------------------------------------------------------------------------------------------


def test_cached_slices_hit_and_respect_custom_loss_identity() -> None:
    config = tr.default_config(DataConfig("regression"), loss="mine", epochs=4)

    def custom(fn) -> LossSpec:
        return LossSpec(name="mine", title="mine", family="custom", latex="", use_when="", fn=fn,
                        pred_domain=REAL, target_domain=REAL, builtin=False)

    with user_scope({"mine": custom(lambda p, y: (p - y) ** 2)}):
        result = tr.train(config)
        a = nl.cached(nl.compute_random_slice, result, 9, 1.0, 0)
        assert nl.cached(nl.compute_random_slice, result, 9, 1.0, 0) is a
        assert nl.cached(nl.compute_random_slice, result, 9, 1.0, 1) is not a
        b = nl.cached(nl.compute_random_slice, result, 9, 1.0, 0, loss="mae", params={})
        assert not np.array_equal(a.z, b.z)
    with user_scope({"mine": custom(lambda p, y: (p - y).abs())}):
        other = tr.train(config)
        c = nl.cached(nl.compute_random_slice, other, 9, 1.0, 0)
    assert c is not a and not np.array_equal(c.z, a.z)
