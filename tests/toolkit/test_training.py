"""The training core: which losses fit which task, the MLP, the optimisers, determinism, the objective."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossviz
from lossviz.domains import REAL, SIGN
from lossviz.errors import DomainError, ParameterError
from lossviz.registry import user_scope
from lossviz.spec import LossSpec
from lossviz.toolkit import training as tr
from lossviz.toolkit.data import DataConfig, regression_curve

FAST = {"epochs": 12}


def _custom(name: str, fn, pred=REAL, target=REAL) -> LossSpec:
    return LossSpec(name=name, title=name, family="custom", latex="", use_when="", fn=fn, pred_domain=pred,
                    target_domain=target, builtin=False)


# --- which losses fit which task ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "task", "expected"),
    [
        ("bce_logits", "binary", ("identity", "binary01", 1, 0.0)),
        ("focal", "binary", ("identity", "binary01", 1, 0.0)),
        ("bce", "binary", ("sigmoid", "binary01", 1, 0.5)),
        ("mse", "binary", ("sigmoid", "binary01", 1, 0.5)),
        ("hinge", "binary", ("identity", "sign", 1, 0.0)),
        ("squared_hinge", "binary", ("identity", "sign", 1, 0.0)),
        ("logistic", "binary", ("identity", "sign", 1, 0.0)),
        ("lsgan_discriminator", "binary", ("identity", "binary01", 1, 0.5)),
        ("cross_entropy", "binary", ("identity", "index", 2, 0.0)),
        ("cross_entropy", "multiclass", ("identity", "index", 3, 0.0)),
        ("softmax_focal", "multiclass", ("identity", "index", 3, 0.0)),
        ("multi_margin", "multiclass", ("identity", "index", 3, 0.0)),
        ("kl_div", "multiclass", ("identity", "onehot", 3, 0.0)),
        ("mse", "regression", ("identity", "real", 1, 0.0)),
        ("huber", "regression", ("identity", "real", 1, 0.0)),
    ],
)
def test_loss_heads_follow_the_declared_domains(loss: str, task: str, expected: tuple) -> None:
    head = tr.loss_head(loss, task, 3 if task == "multiclass" else 2)
    assert head is not None
    assert (head.link, head.encoding, head.n_outputs, head.threshold) == expected


@pytest.mark.parametrize(
    ("loss", "task"),
    [
        ("poisson_nll", "binary"),  # a log-rate against counts: neither a label score nor a probability
        ("poisson_nll", "regression"),  # counts are not real targets
        ("contrastive", "binary"),  # a distance
        ("bce_logits", "regression"),
        ("focal", "multiclass"),
        ("hinge", "regression"),
        ("cross_entropy", "regression"),
        ("gan_generator_saturating", "binary"),  # no target
        ("l1_penalty", "regression"),
        ("triplet", "multiclass"),
        ("ctc", "multiclass"),
        ("margin_ranking", "multiclass"),
        ("cosine_embedding", "binary"),
    ],
)
def test_incompatible_losses_have_no_head(loss: str, task: str) -> None:
    assert tr.loss_head(loss, task, 3) is None


def test_compatible_lists_hold_the_losses_the_issue_names() -> None:
    binary = set(tr.compatible_losses("binary"))
    assert {"bce_logits", "focal", "hinge", "squared_hinge", "logistic", "mse", "bce"} <= binary
    assert {"cross_entropy", "softmax_focal", "multi_margin"} <= set(tr.compatible_losses("multiclass", 3))
    regression = set(tr.compatible_losses("regression"))
    assert {"mse", "mae", "huber", "smooth_l1", "log_cosh", "quantile", "cauchy", "tukey_biweight"} <= regression
    assert "poisson_nll" not in regression and "bce_logits" not in regression
    assert tr.compatible_losses("binary", 2, n_outputs=2) == sorted(
        n for n in binary if tr.loss_head(n, "binary").n_outputs == 2
    )


def test_custom_losses_of_the_scope_are_offered_by_their_domains() -> None:
    with user_scope({}) as store:
        store["my_sq"] = _custom("my_sq", lambda p, y: (p - y) ** 2)
        store["my_margin"] = _custom("my_margin", lambda p, y: torch.relu(1 - p * y), target=SIGN)
        assert "my_sq" in tr.compatible_losses("regression") and "my_sq" in tr.compatible_losses("binary")
        assert tr.loss_head("my_margin", "binary").encoding == "sign"
        assert "my_margin" not in tr.compatible_losses("regression")
    assert "my_sq" not in tr.compatible_losses("regression")


# --- the model ---------------------------------------------------------------------------------------


def _torch_mlp(model: tr.MLP, theta: torch.Tensor) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[model.activation]
    for k, (w, b, fan_out, fan_in) in enumerate(model.layers):
        lin = torch.nn.Linear(fan_in, fan_out, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(theta[w].reshape(fan_out, fan_in))
            lin.bias.copy_(theta[b])
        layers.append(lin)
        if k < len(model.layers) - 1:
            layers.append(act())
            if model.dropout:
                layers.append(torch.nn.Dropout(model.dropout[k]))
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("activation", list(tr.ACTIVATIONS))
def test_mlp_forward_matches_torch_nn_and_batches(activation: str) -> None:
    model = tr.MLP((2, 5, 4, 3), activation)
    assert model.n_params == 2 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(7, 2, dtype=torch.float64, generator=gen)
    thetas = torch.randn(4, model.n_params, dtype=torch.float64, generator=gen)
    batched = model.forward(thetas, x)
    assert batched.shape == (4, 7, 3)
    for g in range(4):
        expected = _torch_mlp(model, thetas[g])(x)
        torch.testing.assert_close(model.forward(thetas[g], x), expected, rtol=1e-14, atol=1e-14)
        torch.testing.assert_close(batched[g], expected, rtol=1e-13, atol=1e-14)


def test_mlp_init_is_seeded_and_within_the_linear_default_bounds() -> None:
    model = tr.MLP((2, 16, 16, 1))
    a, b = model.init(0), model.init(0)
    assert torch.equal(a, b) and not torch.equal(a, model.init(1))
    for w, bias, _o, fan_in in model.layers:
        bound = 1 / math.sqrt(fan_in)
        assert a[w].abs().max() <= bound and a[bias].abs().max() <= bound
        assert a[w].abs().max() > 0.8 * bound  # uniform over the whole range, not a narrower one
    mask = model.weight_mask()
    assert mask.sum() == 2 * 16 + 16 * 16 + 16 and (~mask).sum() == 16 + 16 + 1


def test_unknown_activation_is_rejected() -> None:
    with pytest.raises(ParameterError, match="activation"):
        tr.MLP((2, 1), "gelu")


# --- the optimisers ------------------------------------------------------------------------------------

TORCH_OPTIMIZERS = {
    "sgd": lambda params, lr: torch.optim.SGD(params, lr=lr),
    "momentum": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
    "rmsprop": lambda params, lr: torch.optim.RMSprop(params, lr=lr),
}
"""What each of the lab's optimisers is, in torch.optim (the rules themselves: tests/toolkit/test_optim.py)."""


def test_every_optimizer_has_a_rule() -> None:
    assert set(tr.OPTIMIZER_RULES) == set(tr.OPTIMIZERS) == set(TORCH_OPTIMIZERS)


def test_unknown_optimizer_is_rejected() -> None:
    with pytest.raises(ParameterError, match="optimiser"):
        tr.setup(tr.default_config(optimizer="lbfgs"))


# --- the objective: the catalogue's loss through the head -----------------------------------------------


def _objective(loss: str, data: DataConfig, **params: float) -> tuple[tr.Objective, torch.Tensor]:
    su = tr.setup(tr.default_config(data, loss=loss, loss_params=params))
    obj, _val = tr.objectives(su)
    theta = su.model.init(5)
    return obj, theta


def test_bce_logits_objective_is_torchs() -> None:
    obj, theta = _objective("bce_logits", DataConfig("moons"))
    out = obj.model.forward(theta, obj.x)[:, 0]
    expected = F.binary_cross_entropy_with_logits(out, obj.y)
    torch.testing.assert_close(obj.loss(theta), expected, rtol=1e-14, atol=0)


def test_focal_objective_is_the_papers_formula() -> None:
    obj, theta = _objective("focal", DataConfig("blobs"), gamma=2.0, alpha=0.25)
    out = obj.model.forward(theta, obj.x)[:, 0]
    p = torch.sigmoid(out)
    p_t = torch.where(obj.y == 1, p, 1 - p)
    alpha_t = torch.where(obj.y == 1, 0.25, 0.75)
    expected = (-alpha_t * (1 - p_t) ** 2 * torch.log(p_t)).mean()
    torch.testing.assert_close(obj.loss(theta), expected, rtol=1e-12, atol=0)


def test_hinge_objective_uses_plus_minus_one_labels() -> None:
    obj, theta = _objective("hinge", DataConfig("xor"))
    out = obj.model.forward(theta, obj.x)[:, 0]
    expected = torch.relu(1 - (2 * obj.y - 1) * out).mean()
    torch.testing.assert_close(obj.loss(theta), expected, rtol=1e-14, atol=0)


def test_mse_on_a_binary_task_compares_probabilities_with_labels() -> None:
    obj, theta = _objective("mse", DataConfig("circles"))
    p = torch.sigmoid(obj.model.forward(theta, obj.x)[:, 0])
    torch.testing.assert_close(obj.loss(theta), ((p - obj.y) ** 2).mean(), rtol=1e-14, atol=0)


def test_cross_entropy_objective_is_torchs_for_one_and_many_thetas() -> None:
    obj, theta = _objective("cross_entropy", DataConfig("spiral", classes=3), label_smoothing=0.1)
    out = obj.model.forward(theta, obj.x)
    expected = F.cross_entropy(out, obj.y.long(), label_smoothing=0.1)
    torch.testing.assert_close(obj.loss(theta), expected, rtol=1e-13, atol=0)
    thetas = torch.stack([theta, 2 * theta])
    batched = obj.loss(thetas)
    torch.testing.assert_close(batched[1], obj.loss(2 * theta), rtol=1e-13, atol=0)


def test_kl_div_on_one_hot_targets_equals_cross_entropy() -> None:
    ce, theta = _objective("cross_entropy", DataConfig("spiral", classes=3))
    kl, _ = _objective("kl_div", DataConfig("spiral", classes=3))
    torch.testing.assert_close(kl.loss(theta), ce.loss(theta), rtol=1e-13, atol=0)


def test_metric_is_accuracy_or_rmse_against_the_true_curve() -> None:
    obj, theta = _objective("bce_logits", DataConfig("moons"))
    _loss, acc = obj.loss_and_metric(theta)
    out = obj.model.forward(theta, obj.x)[:, 0]
    assert float(acc) == pytest.approx(float(((out > 0).double() == obj.y).double().mean()))
    reg, theta_r = _objective("mae", DataConfig("regression"))
    _loss, rmse = reg.loss_and_metric(theta_r)
    pred = reg.model.forward(theta_r, reg.x)[:, 0]
    assert float(rmse) == pytest.approx(float(((pred - reg.clean) ** 2).mean().sqrt()), rel=1e-13)


def test_penalty_is_lambda_times_norms_of_the_weights_only() -> None:
    model = tr.MLP((2, 3, 1))
    theta = torch.arange(model.n_params, dtype=torch.float64) - 6.0
    weights = theta[torch.as_tensor(model.weight_mask())]
    pen = tr.penalty_fn(model, 0.01, 0.002)(theta)
    expected = 0.01 * weights.abs().sum() + 0.002 * (weights**2).sum()
    torch.testing.assert_close(pen, expected, rtol=1e-15, atol=0)
    assert float(tr.penalty_fn(model, 0.0, 0.0)(theta)) == 0.0


# --- training --------------------------------------------------------------------------------------------


def test_training_is_deterministic_for_a_seed() -> None:
    config = tr.default_config(**FAST)
    a, b = tr.train(config), tr.train(config)
    np.testing.assert_array_equal(a.thetas, b.thetas)
    for field in ("train_loss", "val_loss", "train_metric", "val_metric"):
        np.testing.assert_array_equal(getattr(a.curves, field), getattr(b.curves, field))
    other = tr.train(config.replace(data=DataConfig(seed=1)))
    assert not np.array_equal(a.thetas[-1], other.thetas[-1])


def _assert_torch_loop_reaches(result: tr.TrainResult, net: torch.nn.Sequential, opt: torch.optim.Optimizer) -> None:
    """Two epochs of a plain torch loop (batches of 16 in the trainer's shuffled order, BCE with logits) end at
    the run's final weights."""
    config, su = result.config, result.setup
    x, y = torch.as_tensor(su.dataset.x_train), torch.as_tensor(su.dataset.y_train)
    shuffle = torch.Generator().manual_seed(tr._stream_seed(config.data.seed, tr.SHUFFLE_STREAM))
    for _epoch in range(2):
        order = torch.randperm(len(y), generator=shuffle)
        for start in range(0, len(y), 16):
            idx = order[start : start + 16]
            opt.zero_grad()
            F.binary_cross_entropy_with_logits(net(x[idx])[:, 0], y[idx]).backward()
            opt.step()
    flat = torch.cat([p.detach().reshape(-1) for lin in net if isinstance(lin, torch.nn.Linear)
                      for p in (lin.weight, lin.bias)])
    np.testing.assert_allclose(result.theta_final, flat.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("optimizer", list(TORCH_OPTIMIZERS))
def test_training_matches_a_plain_torch_loop(optimizer: str) -> None:
    """Two epochs against nn.Linear layers, F.binary_cross_entropy_with_logits and the torch.optim optimiser."""
    config = tr.default_config(epochs=2, batch_size=16, optimizer=optimizer)
    result = tr.train(config)
    su = result.setup
    net = _torch_mlp(su.model, su.model.init(config.data.seed))
    opt = TORCH_OPTIMIZERS[optimizer](net.parameters(), config.lr)
    _assert_torch_loop_reaches(result, net, opt)


def test_curves_start_at_the_initial_weights_and_training_helps() -> None:
    result = tr.train(tr.default_config())
    su = result.setup
    train_obj, val_obj = tr.objectives(su)
    theta0 = torch.as_tensor(result.theta_initial)
    assert result.curves.train_loss[0] == pytest.approx(float(train_obj.loss(theta0)), rel=1e-14)
    assert result.curves.val_loss[-1] == pytest.approx(float(val_obj.loss(torch.as_tensor(result.theta_final))), rel=1e-14)
    assert result.curves.train_loss[-1] < result.curves.train_loss[0] / 5
    assert result.curves.val_metric[-1] > 0.95
    assert len(result.thetas) == len(result.curves.epochs) == config_epochs(result) + 1
    assert result.diverged_at is None


def config_epochs(result: tr.TrainResult) -> int:
    return result.config.epochs


@pytest.mark.parametrize(
    ("data", "loss"),
    [(DataConfig("spiral"), "multi_margin"), (DataConfig("regression"), "huber"), (DataConfig("xor"), "logistic"),
     (DataConfig("blobs"), "focal"), (DataConfig("circles"), "kl_div")],
)
def test_other_tasks_and_losses_train(data: DataConfig, loss: str) -> None:
    result = tr.train(tr.default_config(data, loss=loss, epochs=30))
    c = result.curves
    assert np.isfinite(c.train_loss).all() and c.train_loss[-1] < c.train_loss[0]


def test_a_custom_loss_trains_exactly_like_the_builtin_it_copies() -> None:
    config = tr.default_config(DataConfig("regression"), **FAST)
    builtin = tr.train(config)
    with user_scope({}) as store:
        store["my_sq"] = _custom("my_sq", lambda pred, target: (pred - target) ** 2)
        custom = tr.train(config.replace(loss="my_sq"))
    np.testing.assert_array_equal(custom.thetas, builtin.thetas)


def test_a_typed_formula_trains_with_its_declared_parameters() -> None:
    """A custom formula equal to the built-in Cauchy loss trains to the same weights."""
    config = tr.default_config(DataConfig("regression"), loss="my_cauchy", loss_params={"c": 0.5}, **FAST)
    with user_scope({}):
        lossviz.define("my_cauchy", "c**2/2 * log1p(((p - y)/c)**2)", c=(1.0, 0.1, 5.0))
        assert "my_cauchy" in tr.compatible_losses("regression")
        assert tr.loss_head("my_cauchy", "binary").link == "sigmoid"  # a real pred against 0/1 labels
        custom = tr.train(config)
        with pytest.raises(ParameterError, match="'c'"):
            tr.setup(config.replace(loss_params={"c": 50.0}))
    builtin = tr.train(config.replace(loss="cauchy", loss_params={"scale": 0.5}))
    np.testing.assert_allclose(custom.thetas, builtin.thetas, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(custom.curves.train_loss, builtin.curves.train_loss, rtol=1e-9)


def test_l1_pushes_weights_towards_zero() -> None:
    plain = tr.train(tr.default_config(epochs=60))
    sparse = tr.train(tr.default_config(epochs=60, l1=0.003))
    mask = plain.setup.model.weight_mask()
    assert np.abs(sparse.theta_final[mask]).sum() < 0.6 * np.abs(plain.theta_final[mask]).sum()
    assert (np.abs(sparse.theta_final[mask]) < 1e-2).mean() > (np.abs(plain.theta_final[mask]) < 1e-2).mean()


def test_divergence_stops_the_run_with_finite_curves() -> None:
    result = tr.train(tr.default_config(DataConfig("regression"), optimizer="sgd", lr=1.0, epochs=100))
    assert result.diverged_at is not None and result.diverged_at <= 100
    assert len(result.curves.epochs) == result.diverged_at
    assert np.isfinite(result.curves.train_loss).all() and np.isfinite(result.thetas).all()


def test_progress_reports_growing_curves() -> None:
    seen: list[tuple[int, int]] = []
    tr.train(tr.default_config(epochs=20), progress=lambda e, n, c: seen.append((e, len(c.epochs))), updates=5)
    assert seen == [(4, 5), (8, 9), (12, 13), (16, 17), (20, 21)]


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"loss": "focal", "data": DataConfig("regression")}, ParameterError, "does not fit a regression task"),
        ({"loss": "nope"}, ValueError, "unknown loss"),
        ({"lr": 0.0}, ParameterError, "'lr'"),
        ({"epochs": 0}, ParameterError, "'epochs'"),
        ({"activation": "gelu"}, ParameterError, "activation"),
        ({"loss_params": {"gamma": -1.0}, "loss": "focal"}, ParameterError, "gamma"),
        ({"loss": "weighted_cross_entropy", "loss_params": {"weighted_class": 5}, "data": DataConfig("spiral")},
         DomainError, "weighted_class"),
    ],
)
def test_bad_configurations_say_what_is_wrong(changes: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        tr.setup(tr.default_config().replace(**changes))


def test_decision_grids_for_logits_scores_and_classes() -> None:
    result = tr.train(tr.default_config(**FAST))
    grid = tr.decision_grids(result.setup, result.thetas[[0, -1]], resolution=30)
    assert grid.value.shape == (2, 30, 30) and grid.threshold == 0.5 and len(grid.boundary) == 2
    assert (grid.value >= 0).all() and (grid.value <= 1).all()
    logits = result.pred(np.array([[grid.xs[3], grid.ys[7]]]))
    assert grid.value[1, 7, 3] == pytest.approx(1 / (1 + np.exp(-logits[0])), rel=1e-12)
    first = result.pred(np.array([[grid.xs[3], grid.ys[7]]]), theta=result.theta_initial)
    assert grid.value[0, 7, 3] == pytest.approx(1 / (1 + np.exp(-first[0])), rel=1e-12)
    # the boundary runs where the model's probability is ½ (to within the grid's linear interpolation)
    line = grid.boundary[1][:, np.isfinite(grid.boundary[1][0])]
    probability = 1 / (1 + np.exp(-result.pred(line.T)))
    assert line.shape[1] > 10 and np.abs(probability - 0.5).max() < 0.05
    hinge = tr.train(tr.default_config(loss="hinge", **FAST))
    scores = tr.decision_grids(hinge.setup, hinge.thetas[-1:], resolution=10)
    assert scores.threshold == 0.0 and scores.label == "score"
    spiral = tr.train(tr.default_config(DataConfig("spiral"), **FAST))
    classes = tr.decision_grids(spiral.setup, spiral.thetas[-1:], resolution=10)
    assert classes.threshold is None and set(np.unique(classes.value)) <= {0.0, 1.0, 2.0}
    assert ((classes.confidence > 1 / 3 - 1e-12) & (classes.confidence <= 1)).all()
    assert classes.boundary[0].shape[1] > 0


def test_regression_fits_cover_the_inputs() -> None:
    result = tr.train(tr.default_config(DataConfig("regression"), **FAST))
    fit = tr.regression_fits(result.setup, result.thetas[[0, -1]], 50)
    assert fit.xs.shape == (50,) and fit.value.shape == (2, 50)
    assert fit.xs[0] < result.dataset.x_train.min() and fit.xs[-1] > result.dataset.x_train.max()
    np.testing.assert_allclose(fit.value[1], result.pred(fit.xs[:, None]), rtol=1e-12)
    np.testing.assert_allclose(fit.truth, regression_curve(fit.xs), rtol=1e-15)


# --- isolines -------------------------------------------------------------------------------------------


def _pieces(line: np.ndarray) -> list[np.ndarray]:
    pieces = np.split(line, np.flatnonzero(np.isnan(line[0])), axis=1)
    return [p[:, ~np.isnan(p[0])] for p in pieces if (~np.isnan(p[0])).any()]


def test_isoline_of_a_circle_is_one_closed_loop_on_the_circle() -> None:
    xs = ys = np.linspace(-2.0, 2.0, 41)
    z = xs[None, :] ** 2 + ys[:, None] ** 2
    line = tr.isoline(xs, ys, z, 1.0)
    assert not np.isnan(line).any()
    np.testing.assert_allclose(line[:, 0], line[:, -1])  # closed
    assert np.abs(np.hypot(*line) - 1.0).max() < 0.01  # linear interpolation of r² between grid points


def test_isoline_of_a_plane_crosses_the_grid_once_per_row() -> None:
    xs, ys = np.linspace(0.0, 1.0, 11), np.linspace(-1.0, 1.0, 7)
    line = tr.isoline(xs, ys, np.broadcast_to(xs - 0.33, (7, 11)), 0.0)
    np.testing.assert_allclose(line[0], 0.33, rtol=1e-12)
    np.testing.assert_allclose(np.sort(line[1]), ys)


def test_isoline_resolves_a_saddle_into_two_curves_and_skips_gaps() -> None:
    xs = ys = np.linspace(-1.0, 1.0, 10)  # no grid point on the axes: the centre cell is a saddle of x·y
    z = xs[None, :] * ys[:, None]
    pieces = _pieces(tr.isoline(xs, ys, z, 0.0))
    assert len(pieces) == 2
    for piece in pieces:  # x·y is linear along a grid edge, so each crossing lies exactly on an axis
        assert np.abs(piece[0] * piece[1]).max() < 1e-15
    z[4:6, :] = np.nan  # non-finite values cross nothing: the two rows around the axis y = 0 leave a gap
    assert all(np.abs(p[1]).min() > 0.3 for p in _pieces(tr.isoline(xs, ys, z, 0.0)))
    assert tr.isoline(xs, ys, np.ones((10, 10)), 0.0).shape == (2, 0)


# --- snapshots --------------------------------------------------------------------------------------------


def test_snapshots_every_epoch_up_to_100_and_evenly_beyond() -> None:
    short = tr.train(tr.default_config(epochs=12))
    np.testing.assert_array_equal(short.snapshots.epochs, np.arange(13))
    long = tr.train(tr.default_config(epochs=250, batch_size=500))
    epochs = long.snapshots.epochs
    assert len(epochs) == 101 and epochs[0] == 0 and epochs[-1] == 250 and set(np.diff(epochs)) <= {2, 3}
    assert long.snapshots.grid is not None and long.snapshots.grid.value.shape == (101, 48, 48)
    assert long.snapshots.seconds > 0 and long.snapshots.fit is None
    diverged = tr.train(tr.default_config(DataConfig("regression"), optimizer="sgd", lr=1.0, epochs=100))
    assert diverged.snapshots.epochs[-1] == diverged.diverged_at - 1 == len(diverged.thetas) - 1


CASES = [
    tr.default_config(epochs=20),
    tr.default_config(DataConfig("spiral"), loss="cross_entropy", epochs=20),
    tr.default_config(DataConfig("regression"), loss="huber", epochs=20, l2=0.001),
]


@pytest.mark.parametrize("config", CASES, ids=["moons", "spiral", "regression"])
def test_snapshot_k_is_the_model_after_epoch_k(config: tr.TrainConfig) -> None:
    """A run retrained independently to epoch 7 (same seed) ends exactly where the longer run's snapshot 7 is."""
    whole, short = tr.train(config).snapshots, tr.train(config.replace(epochs=7)).snapshots
    k = int(np.flatnonzero(whole.epochs == 7)[0])
    for name in ("train_loss", "val_loss", "train_metric", "val_metric", "weight_norms", "grad_norm",
                 "loss_quantiles", "top", "top_loss"):
        np.testing.assert_array_equal(getattr(whole, name)[k], getattr(short, name)[-1], err_msg=name)
    if whole.grid is not None:
        np.testing.assert_array_equal(whole.grid.value[k], short.grid.value[-1])
        np.testing.assert_array_equal(whole.grid.boundary[k], short.grid.boundary[-1])
    else:
        np.testing.assert_array_equal(whole.fit.value[k], short.fit.value[-1])


def test_snapshot_values_are_those_of_the_model_at_that_epoch() -> None:
    result = tr.train(tr.default_config(DataConfig("regression"), loss="huber", epochs=10, l1=0.001, l2=0.002))
    s, su = result.snapshots, result.setup
    train_obj, _ = tr.objectives(su)
    penalty = tr.penalty_fn(su.model, 0.001, 0.002)
    for k in (0, 4, 10):
        theta = torch.as_tensor(result.thetas[k]).requires_grad_(True)
        values = train_obj.values(su.head.pred(su.model.forward(theta, train_obj.x)))
        (grad,) = torch.autograd.grad(values.mean() + penalty(theta), theta)
        losses = values.detach().numpy()
        assert s.grad_norm[k] == pytest.approx(float(grad.norm()), rel=1e-12)
        np.testing.assert_allclose(s.loss_quantiles[k], np.quantile(losses, tr.LOSS_LEVELS), rtol=1e-12)
        np.testing.assert_array_equal(np.sort(s.top[k]), np.sort(np.argsort(losses)[-tr.TOP_K:]))
        np.testing.assert_allclose(s.top_loss[k], losses[s.top[k]], rtol=1e-12)
        assert (np.diff(s.top_loss[k]) <= 0).all()  # largest first
        norms = [np.linalg.norm(result.thetas[k][w]) for w, _b, _o, _i in su.model.layers]
        np.testing.assert_allclose(s.weight_norms[k], norms, rtol=1e-12)
        assert s.train_loss[k] == result.curves.train_loss[k] and s.val_metric[k] == result.curves.val_metric[k]
    assert s.weight_norm[3] == pytest.approx(np.linalg.norm(result.thetas[3][su.model.weight_mask()]), rel=1e-12)


def test_compared_runs_share_one_time_axis() -> None:
    a = tr.train(tr.default_config(epochs=20)).snapshots
    stopped = tr.train(tr.default_config(DataConfig("regression"), optimizer="sgd", lr=1.0, epochs=20)).snapshots
    epochs, index = tr.shared_time_axis([a, stopped])
    np.testing.assert_array_equal(epochs, np.arange(21))
    np.testing.assert_array_equal(index[0], np.arange(21))
    last = len(stopped.epochs) - 1
    np.testing.assert_array_equal(index[1], np.minimum(np.arange(21), last))  # holds its last snapshot
    longer = tr.train(tr.default_config(epochs=150, batch_size=500)).snapshots
    epochs, index = tr.shared_time_axis([a, longer])
    assert set(a.epochs) | set(longer.epochs) == set(epochs)
    assert (longer.epochs[index[1]] <= epochs).all() and (a.epochs[index[0]] <= epochs).all()


# --- the cache and the comparison helpers ------------------------------------------------------------------


def test_run_cache_is_lru_and_checks_the_owner() -> None:
    cache = tr.RunCache(max_entries=2)
    owner, other = object(), object()
    cache.put("a", owner, 1)
    cache.put("b", owner, 2)
    assert cache.get("a", owner) == 1  # a is now the most recent
    cache.put("c", owner, 3)
    assert cache.get("b", owner) is None and cache.get("a", owner) == 1 and len(cache) == 2
    assert cache.get("a", other) is None
    cache.put("t", (owner, None), 4)
    assert cache.get("t", (owner, None)) == 4 and cache.get("t", (other, None)) is None
    assert cache.get_or_compute("d", owner, lambda: 5) == 5 and cache.get_or_compute("d", owner, lambda: 6) == 5


def test_cached_train_hits_for_the_same_configuration() -> None:
    config = tr.default_config(epochs=7)
    first, _ = tr.cached_train(config)
    again, hit = tr.cached_train(config)
    assert hit and again is first
    different, hit_other = tr.cached_train(config.replace(lr=0.02))
    assert not hit_other and different is not first
    spelled_out, hit_defaults = tr.cached_train(config.replace(loss_params={"pos_weight": 1.0}))
    assert hit_defaults and spelled_out is first


def test_a_custom_loss_from_another_session_never_hits_the_cache() -> None:
    config = tr.default_config(DataConfig("regression"), loss="mine", epochs=5)
    with user_scope({"mine": _custom("mine", lambda p, y: (p - y) ** 2)}):
        first, _ = tr.cached_train(config)
    with user_scope({"mine": _custom("mine", lambda p, y: (p - y).abs())}):
        second, hit = tr.cached_train(config)
    assert not hit and not np.array_equal(first.thetas, second.thetas)


@pytest.mark.parametrize("dimension", list(tr.COMPARE_DIMENSIONS))
def test_comparison_values_give_valid_configurations(dimension: str) -> None:
    base = tr.default_config()
    options = tr.compare_options(dimension, "binary")
    defaults = tr.compare_defaults(dimension, "binary")
    assert 2 <= len(defaults) <= tr.MAX_COMPARED and set(defaults) <= set(options)
    for value in defaults:
        tr.setup(tr.varied(base, dimension, value))


def test_varied_loss_keeps_parameters_only_for_the_same_loss() -> None:
    base = tr.default_config(loss="focal", loss_params={"gamma": 1.0})
    assert tr.varied(base, "loss", "focal").loss_params == (("gamma", 1.0),)
    assert tr.varied(base, "loss", "bce_logits").loss_params == ()
    assert tr.varied(base, "lr", "0.3").lr == 0.3 and tr.varied(base, "batch_size", "8").batch_size == 8
    with pytest.raises(ParameterError):
        tr.varied(base, "momentum", "0.5")


def test_presets_name_existing_controls_and_values() -> None:
    for preset in tr.LAB_PRESETS:
        state = preset.state
        dimension = state["vary"]
        data = DataConfig(str(state["dataset"]))
        values = state[f"values_{dimension}"]
        assert set(values) <= set(tr.compare_options(str(dimension), data.task))
        for value in values:
            tr.setup(tr.varied(tr.default_config(data, optimizer=str(state["optimizer"])), str(dimension), value))


@settings(max_examples=10, deadline=None)
@given(
    layers=st.integers(1, 3),
    width=st.integers(1, 8),
    activation=st.sampled_from(list(tr.ACTIVATIONS)),
    optimizer=st.sampled_from(list(tr.OPTIMIZERS)),
    batch=st.integers(1, 300),
)
def test_any_architecture_trains_to_finite_curves(layers: int, width: int, activation: str, optimizer: str, batch: int) -> None:
    config = tr.default_config(hidden_layers=layers, width=width, activation=activation, optimizer=optimizer,
                               batch_size=batch, epochs=3)
    result = tr.train(config)
    assert np.isfinite(result.curves.train_loss).all()
    assert result.thetas.shape[1] == result.setup.model.n_params == len(result.setup.model.weight_mask())


# --- dropout -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rates", [(0.3,), (0.5, 0.0, 0.2)])
def test_dropout_masks_are_torchs_nn_dropout_on_the_same_generator_state(rates: tuple[float, ...]) -> None:
    model = tr.MLP((2, *([12] * len(rates)), 3), "tanh", rates)
    theta = model.init(4)
    x = torch.randn(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    net = _torch_mlp(model, theta).train()
    torch.manual_seed(7)
    expected = net(x)
    ours = model.forward(theta, x, torch.Generator().manual_seed(7))
    torch.testing.assert_close(ours, expected, rtol=0, atol=0)  # a rate of 0 draws nothing, as in torch
    torch.testing.assert_close(model.forward(theta, x), net.eval()(x), rtol=1e-14, atol=1e-14)


def test_dropout_keeps_units_with_probability_1_minus_p_and_scales_them_by_its_inverse() -> None:
    """A hidden layer read through an identity output layer: each unit comes out as 0 or h/(1 − p)."""
    p, width, n = 0.3, 4, 5000
    model = tr.MLP((2, width, width), "sigmoid", (p,))
    theta = model.init(0)
    (w2, b2, _o, _i) = model.layers[1]
    theta[w2] = torch.eye(width, dtype=torch.float64).reshape(-1)
    theta[b2] = 0.0
    x = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    evaluated = model.forward(theta, x)
    trained = model.forward(theta, x, torch.Generator().manual_seed(3))
    ratio = trained / evaluated  # sigmoid units are never 0
    kept = torch.isclose(ratio, torch.tensor(1 / (1 - p), dtype=torch.float64), rtol=1e-15, atol=0)
    assert bool((kept | (ratio == 0)).all())
    share, sd = float(kept.double().mean()), math.sqrt(p * (1 - p) / (n * width))
    assert abs(share - (1 - p)) < 5 * sd
    spread = float(evaluated.std()) / math.sqrt(n)
    assert float(trained.mean()) == pytest.approx(float(evaluated.mean()), abs=5 * spread)


def test_dropout_is_off_wherever_the_model_is_evaluated() -> None:
    """Curves, predictions and decision grids use the whole network: the same numbers each time, equal to the
    objective without dropout."""
    result = tr.train(tr.default_config(dropout=0.4, **FAST))
    assert result.setup.model.dropout == (0.4, 0.4)
    train_obj, val_obj = tr.objectives(result.setup)
    for k in (0, len(result.thetas) - 1):
        theta = torch.as_tensor(result.thetas[k])
        assert result.curves.train_loss[k] == pytest.approx(float(train_obj.loss(theta)), rel=1e-14)
        assert result.curves.val_loss[k] == pytest.approx(float(val_obj.loss(theta)), rel=1e-14)
    grid = tr.decision_grids(result.setup, result.thetas[-1:], resolution=10)
    np.testing.assert_array_equal(grid.value, tr.decision_grids(result.setup, result.thetas[-1:], resolution=10).value)
    x = result.dataset.x_val[:5]
    np.testing.assert_array_equal(result.pred(x), result.pred(x))


def test_training_with_dropout_matches_a_torch_loop_with_nn_dropout() -> None:
    config = tr.default_config(epochs=2, batch_size=16, dropout=(0.2, 0.5))
    result = tr.train(config)
    su = result.setup
    net = _torch_mlp(su.model, su.model.init(config.data.seed)).train()
    opt = torch.optim.Adam(net.parameters(), config.lr)
    torch.manual_seed(tr._stream_seed(config.data.seed, tr.DROPOUT_STREAM))  # nn.Dropout's global generator
    _assert_torch_loop_reaches(result, net, opt)
    plain = tr.train(config.replace(dropout=()))
    assert not np.array_equal(plain.theta_final, result.theta_final)


def test_dropout_runs_are_seeded_and_a_zero_rate_changes_nothing() -> None:
    config = tr.default_config(dropout=0.3, **FAST)
    a, b = tr.train(config), tr.train(config)
    np.testing.assert_array_equal(a.thetas, b.thetas)
    other = tr.train(config.replace(data=DataConfig(seed=1)))
    assert not np.array_equal(a.theta_final, other.theta_final)
    np.testing.assert_array_equal(tr.train(tr.default_config(dropout=0.0, **FAST)).thetas,
                                  tr.train(tr.default_config(**FAST)).thetas)
    assert tr.canonical(tr.default_config(dropout=0.0)) == tr.canonical(tr.default_config())


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"dropout": 1.0}, "'dropout'"), ({"dropout": (0.2,)}, "one rate per hidden layer"),
     ({"dropout": (0.2, -0.1)}, "'dropout'")],
)
def test_bad_dropout_says_what_is_wrong(changes: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        tr.setup(tr.default_config().replace(**changes))


# --- data augmentation ---------------------------------------------------------------------------------------


def _points(n: int = 400, d: int = 2) -> torch.Tensor:
    return torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(5))


def test_zero_strengths_change_nothing_and_draw_nothing() -> None:
    x, rng = _points(), torch.Generator().manual_seed(0)
    state = rng.get_state()
    assert tr.augment(x, rng) is x
    assert torch.equal(rng.get_state(), state)


@pytest.mark.parametrize("strengths", [{"rotation": 30.0}, {"scaling": 0.2}, {"jitter": 0.1},
                                       {"rotation": 10.0, "scaling": 0.1, "jitter": 0.05}])
def test_augmentation_is_seeded(strengths: dict) -> None:
    x = _points()
    a = tr.augment(x, torch.Generator().manual_seed(3), **strengths)
    b = tr.augment(x, torch.Generator().manual_seed(3), **strengths)
    c = tr.augment(x, torch.Generator().manual_seed(4), **strengths)
    assert torch.equal(a, b) and not torch.equal(a, c) and not torch.equal(a, x)


def test_rotation_scaling_and_jitter_do_what_they_say() -> None:
    x = _points()
    centre = torch.tensor([0.5, -1.0], dtype=torch.float64)
    d = x - centre
    turned = tr.augment(x, torch.Generator().manual_seed(1), rotation=20.0, centre=centre) - centre
    np.testing.assert_allclose(turned.norm(dim=1), d.norm(dim=1), rtol=1e-13)  # distances kept
    angle = torch.atan2(d[:, 0] * turned[:, 1] - d[:, 1] * turned[:, 0], (d * turned).sum(1))
    assert angle.abs().max() <= math.radians(20.0) + 1e-12 and angle.abs().max() > math.radians(18.0)
    scaled = tr.augment(x, torch.Generator().manual_seed(1), scaling=0.25, centre=centre) - centre
    factor = scaled.norm(dim=1) / d.norm(dim=1)
    np.testing.assert_allclose(scaled / factor[:, None], d, rtol=1e-12, atol=1e-12)  # directions kept
    assert 0.75 <= factor.min() < 0.78 and 1.22 < factor.max() <= 1.25
    noise = tr.augment(x, torch.Generator().manual_seed(1), jitter=0.1) - x
    assert abs(float(noise.mean())) < 5 * 0.1 / math.sqrt(noise.numel())
    assert float(noise.std()) == pytest.approx(0.1, rel=5 / math.sqrt(noise.numel()))


def test_rotation_and_scaling_need_a_plane() -> None:
    with pytest.raises(ParameterError, match="plane"):
        tr.augment(_points(d=1), torch.Generator(), rotation=10.0)
    with pytest.raises(ParameterError, match="plane"):
        tr.setup(tr.default_config(DataConfig("regression"), scaling=0.1))
    tr.setup(tr.default_config(DataConfig("regression"), jitter=0.1))  # jitter works on any inputs


def test_augmentation_moves_training_points_only() -> None:
    """The first epoch steps on the augmented points (one full-batch SGD step checks it exactly); the data and the
    validation split are untouched, and the curves evaluate the original points."""
    config = tr.default_config(rotation=30.0, scaling=0.2, jitter=0.1, epochs=1, batch_size=5000, optimizer="sgd")
    result = tr.train(config)
    su, fresh = result.setup, config.data.make()
    np.testing.assert_array_equal(su.dataset.x_train, fresh.x_train)
    np.testing.assert_array_equal(su.dataset.x_val, fresh.x_val)
    moved = torch.as_tensor(tr.augmented_inputs(su))
    assert not np.allclose(moved.numpy(), fresh.x_train)
    train_obj, val_obj = tr.objectives(su)
    theta0 = torch.as_tensor(result.theta_initial).requires_grad_(True)
    (grad,) = torch.autograd.grad(train_obj.loss(theta0, inputs=moved), theta0)
    np.testing.assert_allclose(result.theta_final, (theta0 - config.lr * grad).detach().numpy(), rtol=1e-13,
                               atol=1e-15)
    final = torch.as_tensor(result.theta_final)
    assert result.curves.train_loss[-1] == pytest.approx(float(train_obj.loss(final)), rel=1e-14)
    assert result.curves.val_loss[-1] == pytest.approx(float(val_obj.loss(final)), rel=1e-14)
    np.testing.assert_array_equal(tr.augmented_inputs(su), moved.numpy())  # seeded
    assert not np.array_equal(tr.augmented_inputs(su, epoch=2), moved.numpy())  # new draws every epoch


def test_augmented_runs_are_seeded_and_differ_from_plain_ones() -> None:
    config = tr.default_config(rotation=15.0, jitter=0.05, **FAST)
    a, b = tr.train(config), tr.train(config)
    np.testing.assert_array_equal(a.thetas, b.thetas)
    assert not np.array_equal(a.theta_final, tr.train(config.replace(rotation=0.0, jitter=0.0)).theta_final)


# --- the train–validation gap and the regularisation comparison -----------------------------------------------


def test_gap_is_positive_when_validation_does_worse() -> None:
    epochs = np.arange(3)
    losses = (np.array([1.0, 0.5, 0.2]), np.array([1.0, 0.6, 0.5]))
    accuracy = tr.Curves(epochs, *losses, np.array([0.5, 0.9, 1.0]), np.array([0.5, 0.8, 0.85]), "accuracy")
    assert accuracy.gap() == pytest.approx((0.3, 0.15))
    rmse = tr.Curves(epochs, *losses, np.array([1.0, 0.5, 0.2]), np.array([1.0, 0.6, 0.5]), "RMSE")
    assert rmse.gap() == pytest.approx((0.3, 0.3))


def test_each_compared_regularizer_is_alone_at_its_strength() -> None:
    base = tr.default_config(l1=0.002, dropout=0.1)
    none = tr.regularized(base, "none")
    assert (none.l1, none.l2, none.dropout, none.augmented) == (0.0, 0.0, (), False)
    assert tr.regularized(base, "l1").l1 == 0.002 and tr.regularized(base, "l1").dropout == ()
    d = tr.REGULARIZER_DEFAULTS
    l2 = tr.regularized(base, "l2")
    assert (l2.l1, l2.l2) == (0.0, d["l2"])
    assert tr.regularized(base, "dropout").dropout == (0.1, 0.1) and tr.regularized(base, "dropout").l1 == 0.0
    aug = tr.regularized(base, "augmentation")
    assert (aug.rotation, aug.scaling, aug.jitter, aug.l1, aug.dropout) == (d["rotation"], d["scaling"], d["jitter"],
                                                                           0.0, ())
    own = tr.regularized(base.replace(jitter=0.2), "augmentation")
    assert (own.rotation, own.scaling, own.jitter) == (0.0, 0.0, 0.2)
    line = tr.regularized(tr.default_config(DataConfig("regression")), "augmentation")
    assert (line.rotation, line.scaling, line.jitter) == (0.0, 0.0, d["jitter"])  # no plane to turn
    tr.setup(line)
    assert [tr.varied(base, "regularization", r) for r in tr.REGULARIZERS] == [
        tr.regularized(base, r) for r in tr.REGULARIZERS
    ]
    assert tr.varied(base, "dropout", "0.5").dropout == (0.5, 0.5)
    with pytest.raises(ParameterError, match="regulariser"):
        tr.regularized(base, "weight_decay")
