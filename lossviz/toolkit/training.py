"""The training lab's core: a small MLP trained on toy data (:mod:`lossviz.toolkit.data`) or a user's own
table (:mod:`lossviz.toolkit.tables`) with any loss of the catalogue.

The loss goes through the catalogue's own declaration: ``spec.fn`` on float64 tensors with the
parameters checked by ``spec.validate_params`` — the same function :func:`lossviz.evaluate` uses —
so every loss that fits the task trains, the custom losses of the session included. Which losses
fit is derived from each spec's ``kind`` and domains (:func:`loss_head`), not from a list:

* binary classification (labels 0/1): pointwise losses whose target domain holds 0 and 1 (or −1
  and +1, which the labels are then mapped to). A logit-domain pred (``bce_logits``, ``focal``)
  gets the raw output; a probability-domain pred (``bce``) gets σ(output); a score against
  discrete labels (``hinge``, ``logistic`` with ±1) gets the raw score; a real pred against a real
  target (``mse``, ``huber`` …) gets σ(output), the class-1 probability in the labels' own units.
  Multi-class losses also fit, with two output logits.
* multi-class (class indices 0 … K − 1): structured losses with one event axis of K logits or
  scores and a per-sample target that holds class indices (``cross_entropy``, ``softmax_focal``,
  ``multi_margin``) or one-hot probability vectors (``kl_div``).
* regression: pointwise losses between an unbounded pred and an unbounded real target.

The network is a function of one flat parameter vector θ (:class:`MLP`), so a whole batch of
parameter vectors — a grid over a loss-landscape plane — runs as batched matrix products in one
call (:mod:`lossviz.studies.neural_landscape`). Runs are deterministic for a seed: the data, the initial
weights (PyTorch's ``nn.Linear`` default, U(±1/√fan_in)) and the mini-batch order each come
from their own generator seeded by it.

References: Li, Xu, Taylor, Studer & Goldstein, *Visualizing the Loss Landscape of Neural Nets*,
NeurIPS 2018; Smilkov & Carter, *TensorFlow Playground* (the live-training idea); Tibshirani 1996
(L1) and Hoerl & Kennard 1970 (L2) for the weight penalties. The optimisers, with their references, are
:mod:`lossviz.toolkit.optim`'s.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import contourpy
import numpy as np
import torch

from lossviz.domains import LOGIT
from lossviz.errors import ParameterError
from lossviz.registry import names as loss_names
from lossviz.registry import spec as get_spec
from lossviz.spec import Domain, LossSpec, Param
from lossviz.toolkit import adaptive
from lossviz.toolkit.data import N_SAMPLES, NOISE, OUTLIERS, DataConfig, Dataset, DataSource, Task, regression_curve
from lossviz.toolkit.frames import snapshot_steps, time_param
from lossviz.toolkit.optim import SGD, Adam, Optimizer, RMSprop, Rule

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
"""The one place that picks the device: CUDA when present, else the CPU."""
DTYPE = torch.float64

ACTIVATIONS: dict[str, str] = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid"}
OPTIMIZERS: dict[str, str] = {"sgd": "SGD", "momentum": "SGD + momentum", "adam": "Adam", "rmsprop": "RMSprop"}
OPTIMIZER_RULES: dict[str, Rule] = {
    "sgd": SGD(),
    "momentum": SGD(momentum=0.9),  # torch's default is 0: 0.9 is the usual heavy-ball choice
    "adam": Adam(),
    "rmsprop": RMSprop(),
}
"""The update rule behind each of :data:`OPTIMIZERS`, with ``torch.optim``'s defaults otherwise."""

HIDDEN_LAYERS = Param(
    "hidden_layers", 2, low=1, high=6, integer=True, ui_low=1, ui_high=4, step=1,
    description="Number of hidden layers of the MLP.",
)
WIDTH = Param(
    "width", 16, low=1, high=256, integer=True, ui_low=2, ui_high=64, step=1,
    description="Units in each hidden layer.",
)
LEARNING_RATE = Param(
    "lr", 0.01, low=0.0, low_open=True, ui_low=0.0001, ui_high=1.0, scale="log", symbol=r"\eta",
    description="Step size η of the optimiser: too small crawls, too large oscillates or diverges.",
)
BATCH_SIZE = Param(
    "batch_size", 32, low=1, high=5000, integer=True, ui_low=1, ui_high=500, scale="log",
    description="Training points per gradient step (a batch larger than the training set is the full batch).",
)
EPOCHS = Param(
    "epochs", 100, low=1, high=2000, integer=True, ui_low=10, ui_high=500, step=10,
    description="Passes over the training set.",
)
L1_PENALTY = Param(
    "l1", 0.0, low=0.0, ui_low=0.0, ui_high=0.01, step=0.0001, symbol=r"\lambda_1",
    description="Weight of the L1 penalty λ₁Σ|w| on the weights (not the biases): pushes weights to zero.",
)
L2_PENALTY = Param(
    "l2", 0.0, low=0.0, ui_low=0.0, ui_high=0.01, step=0.0001, symbol=r"\lambda_2",
    description="Weight of the L2 penalty λ₂Σw² on the weights (not the biases): shrinks all weights.",
)
DROPOUT = Param(
    "dropout", 0.0, low=0.0, high=1.0, high_open=True, ui_low=0.0, ui_high=0.8, step=0.05, symbol="p",
    description="Dropout rate p of a hidden layer: in training each of its units is zeroed with probability p and "
    "the kept ones scaled by 1/(1 − p); evaluation uses the whole network.",
)
ROTATION = Param(
    "rotation", 0.0, low=0.0, high=180.0, ui_low=0.0, ui_high=90.0, step=5.0,
    description="Largest rotation (degrees) of a training point about the training points' centre: each epoch "
    "every point turns by its own angle, uniform in ±this.",
)
SCALING = Param(
    "scaling", 0.0, low=0.0, high=0.9, ui_low=0.0, ui_high=0.5, step=0.05,
    description="Largest relative scaling s of a training point about the training points' centre: each epoch "
    "every point's distance from it is multiplied by its own factor, uniform in [1 − s, 1 + s].",
)
JITTER = Param(
    "jitter", 0.0, low=0.0, ui_low=0.0, ui_high=0.5, step=0.01, symbol=r"\sigma_j",
    description="Standard deviation of the Gaussian noise added to every training input each epoch (in the "
    "model's units: standardised ones for an uploaded table).",
)

LAST_RUN_KEY = "training_last_config"
"""Session key under which the Training lab page leaves its last configuration for the Neural landscape page."""

DEFAULT_LOSS: dict[Task, str] = {"binary": "bce_logits", "multiclass": "cross_entropy", "regression": "mse"}

Link = Literal["identity", "sigmoid"]
Encoding = Literal["binary01", "sign", "index", "onehot", "real"]


# --- which losses fit which task ----------------------------------------------------------------


def _admits(domain: Domain | None, values: np.ndarray | list[float]) -> bool:
    return domain is not None and not domain.invalid_mask(np.asarray(values, dtype=np.float64)).any()


def _unbounded(domain: Domain | None) -> bool:
    """A continuous domain over the whole real line (every real value valid)."""
    return (
        domain is not None
        and not domain.is_discrete
        and not domain.integer
        and math.isinf(domain.low)
        and math.isinf(domain.high)
    )


def _unit_interval(domain: Domain) -> bool:
    return not domain.is_discrete and domain.low == 0.0 and domain.high == 1.0


@dataclass(frozen=True)
class LossHead:
    """How the network's raw outputs and the dataset's labels meet one loss.

    ``n_outputs`` network outputs; ``link`` maps them to the loss's pred (σ for probabilities);
    ``encoding`` turns class indices or reals into the loss's target; a binary prediction is class 1
    where pred > ``threshold`` (0 for logits and ±1 scores, ½ for probabilities and 0/1 scores).
    """

    loss: str
    task: Task
    n_outputs: int
    link: Link
    encoding: Encoding
    threshold: float = 0.0

    @property
    def structured(self) -> bool:
        return self.encoding in ("index", "onehot")

    def pred(self, out: torch.Tensor) -> torch.Tensor:
        """The loss's pred from raw outputs (..., N, n_outputs)."""
        p = out if self.structured else out[..., 0]
        return torch.sigmoid(p) if self.link == "sigmoid" else p

    def target(self, y: torch.Tensor) -> torch.Tensor:
        """The loss's target from labels y (N,): class indices as floats, or real targets."""
        if self.encoding == "sign":
            return 2.0 * y - 1.0
        if self.encoding == "onehot":
            return torch.nn.functional.one_hot(y.long(), self.n_outputs).to(y.dtype)
        return y

    def predicted(self, pred: torch.Tensor) -> torch.Tensor:
        """Predicted class indices (float) from the loss's pred, or the pred itself for regression."""
        if self.task == "regression":
            return pred
        if self.structured:
            return pred.argmax(-1).to(pred.dtype)
        return (pred > self.threshold).to(pred.dtype)


def loss_head(loss: str | LossSpec, task: Task, n_classes: int = 2) -> LossHead | None:
    """The way ``loss`` trains on ``task``, derived from its kind and domains; ``None`` if it cannot."""
    s = get_spec(loss)
    if s.target_domain is None:
        return None
    if s.pointwise:
        return _pointwise_head(s, task)
    return _structured_head(s, task, n_classes)


def _pointwise_head(s: LossSpec, task: Task) -> LossHead | None:
    pred_d, target_d = s.pred_domain, s.target_domain
    if task == "regression":
        if _unbounded(pred_d) and _unbounded(target_d):
            return LossHead(s.name, task, 1, "identity", "real")
        return None
    if task != "binary":
        return None
    if _admits(target_d, [0.0, 1.0]):
        encoding: Encoding = "binary01"
        middle = 0.5
    elif _admits(target_d, [-1.0, 1.0]):
        encoding, middle = "sign", 0.0
    else:
        return None
    if _unit_interval(pred_d):  # a probability: σ(output)
        return LossHead(s.name, task, 1, "sigmoid", encoding, 0.5)
    if not _unbounded(pred_d):
        return None
    if pred_d == LOGIT:  # log-odds: class 1 where the logit is positive
        return LossHead(s.name, task, 1, "identity", encoding, 0.0)
    assert target_d is not None
    if target_d.is_discrete:  # a score in the labels' units (hinge ±1, LSGAN 0/1)
        return LossHead(s.name, task, 1, "identity", encoding, middle)
    if _unbounded(target_d):  # a regression loss on labels: compare probabilities with 0/1
        return LossHead(s.name, task, 1, "sigmoid", encoding, 0.5)
    return None


def _structured_head(s: LossSpec, task: Task, n_classes: int) -> LossHead | None:
    if task == "regression" or s.pred_event_ndim != 1 or not _unbounded(s.pred_domain) or n_classes < 2:
        return None
    te = s.target_event_ndim
    index_ndim = te(2, 1) if callable(te) else te
    onehot_ndim = te(2, 2) if callable(te) else te
    if index_ndim == 0 and _admits(s.target_domain, np.arange(n_classes)):
        return LossHead(s.name, task, n_classes, "identity", "index")
    if onehot_ndim == 1 and _admits(s.target_domain, [0.0, 1.0]):
        return LossHead(s.name, task, n_classes, "identity", "onehot")
    return None


def compatible_losses(task: Task, n_classes: int = 2, n_outputs: int | None = None) -> list[str]:
    """Every loss in scope (custom ones included) that trains on ``task``; optionally with ``n_outputs``."""
    found = []
    for name in loss_names():
        head = loss_head(name, task, n_classes)
        if head is not None and (n_outputs is None or head.n_outputs == n_outputs):
            found.append(name)
    return found


# --- the model: an MLP as a function of one flat parameter vector -------------------------------


@dataclass(frozen=True)
class MLP:
    """A fully connected network with layer sizes ``sizes`` = (inputs, hidden…, outputs).

    Its parameters live in one flat vector θ, layer by layer: W (out × in, row-major) then b.
    :meth:`forward` accepts θ of shape (P,) or a batch (G, P) and returns (N, out) or (G, N, out).
    ``dropout`` holds one rate per hidden layer (empty: none), applied after that layer's activation in
    training only (see :meth:`forward`).
    """

    sizes: tuple[int, ...]
    activation: str = "relu"
    dropout: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ParameterError(f"unknown activation {self.activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        if self.dropout and len(self.dropout) != len(self.sizes) - 2:
            raise ParameterError(
                f"dropout needs one rate per hidden layer ({len(self.sizes) - 2}); got {len(self.dropout)}"
            )

    @property
    def layers(self) -> list[tuple[slice, slice, int, int]]:
        """Per layer: the slice of W in θ, the slice of b, its fan-out and fan-in."""
        out, start = [], 0
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            w = slice(start, start + fan_out * fan_in)
            b = slice(w.stop, w.stop + fan_out)
            out.append((w, b, fan_out, fan_in))
            start = b.stop
        return out

    @property
    def n_params(self) -> int:
        return self.layers[-1][1].stop

    def weight_mask(self) -> np.ndarray:
        """True at the entries of θ that are weights (False at biases)."""
        mask = np.zeros(self.n_params, dtype=bool)
        for w, _b, _o, _i in self.layers:
            mask[w] = True
        return mask

    def init(self, seed: int) -> torch.Tensor:
        """Initial θ as ``nn.Linear``'s default: W and b uniform in ±1/√fan_in, from ``seed`` (on the CPU)."""
        gen = torch.Generator().manual_seed(seed)
        theta = torch.empty(self.n_params, dtype=DTYPE)
        for w, b, _fan_out, fan_in in self.layers:
            bound = 1.0 / math.sqrt(fan_in)
            theta[w] = torch.empty(w.stop - w.start, dtype=DTYPE).uniform_(-bound, bound, generator=gen)
            theta[b] = torch.empty(b.stop - b.start, dtype=DTYPE).uniform_(-bound, bound, generator=gen)
        return theta

    def _act(self, h: torch.Tensor, inplace: bool) -> torch.Tensor:
        if self.activation == "relu":
            return h.relu_() if inplace else torch.relu(h)
        if self.activation == "tanh":
            return h.tanh_() if inplace else torch.tanh(h)
        return h.sigmoid_() if inplace else torch.sigmoid(h)

    def forward(self, theta: torch.Tensor, x: torch.Tensor, dropout_rng: torch.Generator | None = None) -> torch.Tensor:
        """Outputs for inputs ``x`` (N, in): (N, out) for θ of shape (P,), (G, N, out) for (G, P).

        Each layer is one fused product-plus-bias (``addmm``, as ``nn.Linear``; ``baddbmm`` for a batch
        of θ), and without autograd the activation works in place: a batch of grid points then costs
        about a quarter of separate matmul, add and activation passes over memory.

        A ``dropout_rng`` puts the network in training mode (``nn.Module.train()``): after each hidden
        layer's activation every unit is kept with probability 1 − p and then divided by 1 − p (inverted
        dropout, so that an activation's expected value is the same as without dropout), the mask drawn
        from that generator exactly as ``nn.Dropout`` draws it from torch's global one (Bernoulli(1 − p)
        per unit, then ÷ (1 − p)). Without one (evaluation, ``eval()``) dropout is off.
        References: Srivastava et al., Dropout, JMLR 2014; ``torch.nn.Dropout``.
        """
        if theta.dim() > 2:
            raise ParameterError(f"θ must have shape (P,) or (G, P); got {tuple(theta.shape)}")
        batched = theta.dim() == 2
        if dropout_rng is not None and batched:
            raise ParameterError("dropout trains one θ at a time; a batch of θ is evaluated without it")
        rates = self.dropout if dropout_rng is not None else ()
        inplace = not torch.is_grad_enabled()
        h = x.expand(theta.shape[0], *x.shape) if batched else x
        layers = self.layers
        for k, (w, b, fan_out, fan_in) in enumerate(layers):
            if batched:
                weight = theta[:, w].reshape(-1, fan_out, fan_in).transpose(-1, -2)
                h = torch.baddbmm(theta[:, b].unsqueeze(1), h, weight)
            else:
                h = torch.addmm(theta[b], h, theta[w].reshape(fan_out, fan_in).t())
            if k < len(layers) - 1:
                h = self._act(h, inplace)
                if rates and rates[k] > 0:
                    keep = 1.0 - rates[k]
                    # drawn on the generator's device (the CPU), so that a seed gives the same masks everywhere
                    mask = torch.empty(h.shape, dtype=h.dtype, device=dropout_rng.device)
                    h = h * mask.bernoulli_(keep, generator=dropout_rng).div_(keep).to(h.device)
        return h


# --- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run (hashable: it is the cache key).

    ``dropout`` holds one rate per hidden layer (empty: no dropout); ``rotation``, ``scaling`` and
    ``jitter`` are the strengths of the training points' augmentation (:func:`augment`); ``adaptive``
    learns the shape α and scale c of the ``barron`` loss during training (:mod:`lossviz.toolkit.adaptive`),
    starting from its ``loss_params``.
    """

    data: DataSource = field(default_factory=DataConfig)
    hidden_layers: int = int(HIDDEN_LAYERS.default)
    width: int = int(WIDTH.default)
    activation: str = "relu"
    loss: str = "bce_logits"
    loss_params: tuple[tuple[str, float], ...] = ()
    optimizer: str = "adam"
    lr: float = LEARNING_RATE.default
    batch_size: int = int(BATCH_SIZE.default)
    epochs: int = int(EPOCHS.default)
    l1: float = L1_PENALTY.default
    l2: float = L2_PENALTY.default
    dropout: tuple[float, ...] = ()
    rotation: float = ROTATION.default
    scaling: float = SCALING.default
    jitter: float = JITTER.default
    adaptive: bool = False

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes``; a mapping for ``loss_params`` is sorted into the hashable form, and one
        number for ``dropout`` is that rate on every hidden layer."""
        values = {**self.__dict__, **changes}
        if isinstance(values["loss_params"], Mapping):
            values["loss_params"] = tuple(sorted(values["loss_params"].items()))
        if isinstance(values["dropout"], (int, float)):
            values["dropout"] = (float(values["dropout"]),) * values["hidden_layers"]
        values["dropout"] = tuple(values["dropout"])
        return TrainConfig(**values)

    @property
    def augmented(self) -> bool:
        """Whether the training points are augmented each epoch."""
        return self.rotation > 0 or self.scaling > 0 or self.jitter > 0


def default_config(data: DataSource | None = None, **changes: Any) -> TrainConfig:
    """The default run for ``data`` (two moons unless given), with the task's default loss."""
    data = data or DataConfig()
    return TrainConfig(data=data, loss=DEFAULT_LOSS[data.task]).replace(**changes)


@dataclass(frozen=True)
class Setup:
    """A validated configuration: the dataset, the model, the loss with its parameters, tensors.

    With ``config.adaptive`` the loss is :data:`lossviz.toolkit.adaptive.BARRON_NLL`; its ``params`` are α and c
    where training starts, and in a finished run's setup (:attr:`TrainResult.setup`) where it ended.
    """

    config: TrainConfig
    dataset: Dataset
    model: MLP
    spec: LossSpec
    head: LossHead
    params: dict[str, float]


def input_features(data: DataSource) -> int:
    """How many input features the data has (2 for the toy classification sets, 1 for the toy regression)."""
    return data.make().n_features


def model_for(config: TrainConfig, dataset: Dataset, head: LossHead) -> MLP:
    sizes = (dataset.n_features, *([config.width] * config.hidden_layers), head.n_outputs)
    return MLP(sizes, config.activation, config.dropout if any(config.dropout) else ())


def _check_numbers(config: TrainConfig) -> None:
    for p in (HIDDEN_LAYERS, WIDTH, LEARNING_RATE, BATCH_SIZE, EPOCHS, L1_PENALTY, L2_PENALTY, ROTATION, SCALING,
              JITTER):
        p.validate(getattr(config, p.name), "training")
    for rate in config.dropout:
        DROPOUT.validate(rate, "training")
    if config.dropout and len(config.dropout) != config.hidden_layers:
        raise ParameterError(
            f"dropout needs one rate per hidden layer ({config.hidden_layers}); got {len(config.dropout)}"
        )
    if config.optimizer not in OPTIMIZERS:
        raise ParameterError(f"unknown optimiser {config.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    if config.activation not in ACTIVATIONS:
        raise ParameterError(f"unknown activation {config.activation!r}; choose one of {', '.join(ACTIVATIONS)}")


def setup(config: TrainConfig) -> Setup:
    """Check ``config`` and build what a run needs; :class:`ParameterError` says what does not fit."""
    _check_numbers(config)
    dataset = config.data.make()
    s = get_spec(config.loss)
    head = loss_head(s, dataset.task, max(dataset.n_classes, 2))
    if head is None:
        raise ParameterError(
            f"loss {s.name!r} does not fit a {dataset.task} task: its pred is {s.pred_domain.describe()} and its "
            f"target {s.target_domain.describe() if s.target_domain else 'absent'}"
        )
    params = s.validate_params(dict(config.loss_params))
    model = model_for(config, dataset, head)
    _check_loss_inputs(s, head, params, dataset)
    if (config.rotation > 0 or config.scaling > 0) and dataset.n_features != 2:
        raise ParameterError(
            f"rotation and scaling move points in a plane of two input features; this data has {dataset.n_features} "
            "(jitter works on any)"
        )
    if config.adaptive:
        if s.name != "barron" or dataset.task != "regression":
            raise ParameterError(
                f"only Barron's loss ('barron') on a regression task learns its shape and scale; this run uses "
                f"{s.name!r} on a {dataset.task} task"
            )
        adaptive.latent(params["alpha"], params["scale"])  # α and c where the learned range can start
        s = adaptive.BARRON_NLL
    return Setup(config, dataset, model, s, head, params)


def _check_loss_inputs(s: LossSpec, head: LossHead, params: dict[str, float], dataset: Dataset) -> None:
    """The loss's own domain and input checks on the encoded labels (e.g. a class weight beyond K)."""
    y = torch.from_numpy(dataset.y_train)
    target = head.target(y).numpy()
    if s.target_domain is not None:
        s.target_domain.check(target, "target", s.name)
    if s.check_inputs is not None:
        pred_shape = (len(y), head.n_outputs) if head.structured else (len(y),)
        pred = np.full(pred_shape, 0.5)
        s.check_inputs(pred, target, params)


# --- the objective ----------------------------------------------------------------------------------


class Objective:
    """The mean data loss (and the metric) of a model on fixed data, for one θ or a batch of θ.

    The loss is the catalogue's ``spec.fn`` on the head's pred and target, averaged over samples;
    ``penalty`` adds λ₁Σ|w| + λ₂Σw² over the weights, through the catalogue's ``l1_penalty`` and
    ``l2_penalty``. The loss's ``params`` may be tensors (the adaptive loss's learned α and c, see
    :meth:`with_params`).
    """

    def __init__(
        self,
        model: MLP,
        head: LossHead,
        spec: LossSpec,
        params: Mapping[str, float],
        x: np.ndarray,
        y: np.ndarray,
        clean: np.ndarray | None = None,
        device: torch.device = DEVICE,
        metric_scale: float = 1.0,
    ) -> None:
        self.model, self.head, self.spec, self.params = model, head, spec, dict(params)
        self.device, self.metric_scale = device, metric_scale
        self.x = torch.as_tensor(x, dtype=DTYPE, device=device)
        self.y = torch.as_tensor(y, dtype=DTYPE, device=device)
        self.target = head.target(self.y)
        self.clean = None if clean is None else torch.as_tensor(clean, dtype=DTYPE, device=device)

    def with_params(self, params: Mapping[str, float | torch.Tensor]) -> Objective:
        """The same objective with the loss's parameters ``params`` (same data, no copies of it)."""
        other = copy.copy(self)
        other.params = dict(params)
        return other

    def _target_for(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        shape = pred.shape[:-1] if self.head.encoding == "index" else pred.shape
        return target.expand(shape)

    def values(self, pred: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Per-sample losses of ``pred`` against the targets (or the targets at ``rows``)."""
        target = self.target if rows is None else self.target[rows]
        return self.spec.fn(pred, self._target_for(pred, target), **self.params)

    def loss(
        self,
        theta: torch.Tensor,
        rows: torch.Tensor | None = None,
        *,
        inputs: torch.Tensor | None = None,
        dropout_rng: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Mean loss over the data (or the mini-batch ``rows``): a scalar for θ (P,), shape (G,) for (G, P).

        ``inputs`` replaces the data's inputs (an epoch's augmented copy, same rows and targets); a
        ``dropout_rng`` runs the network in training mode (:meth:`MLP.forward`).
        """
        x = self.x if inputs is None else inputs
        x = x if rows is None else x[rows]
        pred = self.head.pred(self.model.forward(theta, x, dropout_rng))
        return self.values(pred, rows).mean(-1)

    def loss_and_metric(self, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean loss and the metric over all the data: accuracy, or the RMSE against the noise-free curve
        (toy data) or the targets, in the target's own units (``metric_scale`` undoes a standardisation)."""
        pred = self.head.pred(self.model.forward(theta, self.x))
        loss = self.values(pred).mean(-1)
        predicted = self.head.predicted(pred)
        if self.head.task == "regression":
            reference = self.clean if self.clean is not None else self.y
            metric = ((predicted - reference) ** 2).mean(-1).sqrt() * self.metric_scale
        else:
            metric = (predicted == self.y).to(DTYPE).mean(-1)
        return loss, metric


def metric_name(dataset: Dataset) -> str:
    if dataset.task != "regression":
        return "accuracy"
    return "RMSE vs. true curve" if dataset.clean_train is not None else "RMSE"


def objectives(su: Setup, device: torch.device = DEVICE) -> tuple[Objective, Objective]:
    """The training and validation objectives of a setup."""
    d = su.dataset
    scale = d.metric_scale
    train = Objective(su.model, su.head, su.spec, su.params, d.x_train, d.y_train, d.clean_train, device, scale)
    val = Objective(su.model, su.head, su.spec, su.params, d.x_val, d.y_val, d.clean_val, device, scale)
    return train, val


def penalty_fn(model: MLP, l1: float, l2: float, device: torch.device = DEVICE) -> Callable[[torch.Tensor], torch.Tensor]:
    """θ ↦ λ₁ Σ l1_penalty(w) + λ₂ Σ l2_penalty(w) over the weights (biases are not penalised)."""
    mask = torch.as_tensor(model.weight_mask(), device=device)
    l1_fn, l2_fn = get_spec("l1_penalty").fn, get_spec("l2_penalty").fn

    def penalty(theta: torch.Tensor) -> torch.Tensor:
        w = theta[..., mask]
        total = torch.zeros(theta.shape[:-1], dtype=theta.dtype, device=theta.device)
        if l1 > 0:
            total = total + l1 * l1_fn(w).sum(-1)
        if l2 > 0:
            total = total + l2 * l2_fn(w).sum(-1)
        return total

    return penalty


# --- data augmentation ----------------------------------------------------------------------------


def augment(
    x: torch.Tensor,
    rng: torch.Generator,
    *,
    rotation: float = 0.0,
    scaling: float = 0.0,
    jitter: float = 0.0,
    centre: torch.Tensor | None = None,
) -> torch.Tensor:
    """One epoch's augmented copy of the training inputs ``x`` (N, d), random numbers from ``rng``.

    Every point gets its own transformation about ``centre`` (default: the points' mean),
    x' = centre + s·R(φ)(x − centre) + σ_j·ε with φ ~ U(−rotation, rotation) in degrees,
    s ~ U(1 − scaling, 1 + scaling) and ε ~ N(0, I): small label-preserving changes that the model
    should not care about, which regularise it as more data would (Simard, Steinkraus & Platt, Best
    Practices for CNNs Applied to Visual Document Analysis, ICDAR 2003; Bishop, Training with Noise Is
    Equivalent to Tikhonov Regularization, Neural Computation 1995, for the jitter). Rotation and scaling
    need d = 2. A zero strength draws no numbers and changes nothing: with all three zero, ``x`` itself
    comes back. The numbers are drawn on ``rng``'s device (the CPU) and then moved to ``x``'s.
    """
    if (rotation > 0 or scaling > 0) and x.shape[-1] != 2:
        raise ParameterError(f"rotation and scaling move points in a plane; these inputs have {x.shape[-1]} features")
    if not (rotation > 0 or scaling > 0 or jitter > 0):
        return x
    n = x.shape[0]

    def uniform(half_width: float) -> torch.Tensor:
        u = torch.empty(n, dtype=x.dtype, device=rng.device).uniform_(-half_width, half_width, generator=rng)
        return u.to(x.device)

    out = x
    if rotation > 0 or scaling > 0:
        c = x.mean(0) if centre is None else centre
        d = x - c
        if rotation > 0:
            phi = uniform(math.radians(rotation))
            cos, sin = torch.cos(phi), torch.sin(phi)
            d = torch.stack([cos * d[:, 0] - sin * d[:, 1], sin * d[:, 0] + cos * d[:, 1]], dim=1)
        if scaling > 0:
            d = d * (1.0 + uniform(scaling))[:, None]
        out = c + d
    if jitter > 0:
        noise = torch.empty(x.shape, dtype=x.dtype, device=rng.device).normal_(generator=rng)
        out = out + jitter * noise.to(x.device)
    return out


def augmented_inputs(su: Setup, epoch: int = 1) -> np.ndarray:
    """The training inputs (model units) that epoch ``epoch`` of ``su``'s run trains on: the same draws as
    :func:`train` makes, so the page can show what the model saw."""
    if epoch < 1:
        raise ParameterError(f"epochs count from 1; got {epoch}")
    x = torch.as_tensor(su.dataset.x_train, dtype=DTYPE)
    rng = torch.Generator().manual_seed(_stream_seed(su.config.data.seed, AUGMENT_STREAM))
    c = su.config
    for _ in range(epoch):
        out = augment(x, rng, rotation=c.rotation, scaling=c.scaling, jitter=c.jitter, centre=x.mean(0))
    return out.numpy()


# --- training ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curves:
    """Per-epoch curves; epoch 0 is the initial model (before any step)."""

    epochs: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_metric: np.ndarray
    val_metric: np.ndarray
    metric: str = "accuracy"

    def gap(self) -> tuple[float, float]:
        """The train–validation gap at the last epoch: (validation loss − training loss, how much worse the
        validation metric is: training − validation accuracy, or validation − training RMSE).

        Both splits are evaluated the same way — dropout off, training points not augmented — so the gap
        measures generalisation, not the regulariser's noise.
        """
        loss = float(self.val_loss[-1] - self.train_loss[-1])
        metric = float(self.val_metric[-1] - self.train_metric[-1])
        return loss, -metric if self.metric == "accuracy" else metric


@dataclass(frozen=True)
class TrainResult:
    """A finished run: the curves, the weights after every epoch, the recorded snapshots, and what made them.

    ``thetas[k]`` is θ after epoch k (``thetas[0]`` the initial weights). When the loss became
    non-finite (or blew up beyond :data:`BLOW_UP` × its initial value) at epoch ``diverged_at`` the
    run stopped there and the curves end at the last good epoch. An adaptive loss's α and c after
    epoch k are ``shapes[k]`` (``None`` for a fixed loss). ``seconds`` is the training loop's time;
    recording the snapshots took ``snapshots.seconds`` more.
    """

    setup: Setup
    curves: Curves
    thetas: np.ndarray
    snapshots: Snapshots
    seconds: float
    diverged_at: int | None = None
    shapes: np.ndarray | None = None

    @property
    def config(self) -> TrainConfig:
        return self.setup.config

    @property
    def dataset(self) -> Dataset:
        return self.setup.dataset

    @property
    def theta_initial(self) -> np.ndarray:
        return self.thetas[0]

    @property
    def theta_final(self) -> np.ndarray:
        return self.thetas[-1]

    def pred(self, x: np.ndarray, theta: np.ndarray | None = None) -> np.ndarray:
        """The loss's pred (probability, score, logits or regression value) at inputs ``x`` (n, d)."""
        th = torch.from_numpy(self.theta_final if theta is None else theta)
        with torch.no_grad():
            out = self.setup.model.forward(th, torch.as_tensor(x, dtype=DTYPE))
            return self.setup.head.pred(out).numpy()


ProgressFn = Callable[[int, int, Curves], None]
BLOW_UP = 1e8
"""A run counts as diverged when its training loss is not finite or exceeds 10⁸ × max(1, initial loss)."""


SHUFFLE_STREAM, DROPOUT_STREAM, AUGMENT_STREAM = 0, 1, 2
"""The run's random streams (mini-batch order, dropout masks, augmentation), each its own generator."""


def _stream_seed(seed: int, stream: int) -> int:
    """The seed of one random stream of a run, distinct for every (seed, stream) pair: two pairs collide only if
    1 000 003 (a prime) divides a difference of streams times 7 654 321, which no two of the three streams allow."""
    return (seed * 1_000_003 + 12_345 + stream * 7_654_321) % (2**63 - 1)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch ops on one thread inside the block.

    The lab's tensors are tiny: on a busy machine, waking a second OpenMP thread for every small
    product costs far more than it saves (a default run took 10× longer with two threads here).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train(
    config: TrainConfig,
    progress: ProgressFn | None = None,
    updates: int = 10,
    device: torch.device = DEVICE,
) -> TrainResult:
    """Train the MLP of ``config``; ``progress(epoch, epochs, curves)`` is called about ``updates`` times.

    Raises :class:`ParameterError` when the configuration does not fit (see :func:`setup`).
    """
    with one_thread():
        return _train(config, progress, updates, device)


def _train(config: TrainConfig, progress: ProgressFn | None, updates: int, device: torch.device) -> TrainResult:
    su = setup(config)
    train_obj, val_obj = objectives(su, device)
    penalty = penalty_fn(su.model, config.l1, config.l2, device)
    penalised = config.l1 > 0 or config.l2 > 0
    theta = su.model.init(config.data.seed).to(device).requires_grad_(True)
    opt = Optimizer(OPTIMIZER_RULES[config.optimizer], config.lr, theta)
    seed = config.data.seed
    shuffle = torch.Generator().manual_seed(_stream_seed(seed, SHUFFLE_STREAM))
    dropout_rng = torch.Generator().manual_seed(_stream_seed(seed, DROPOUT_STREAM)) if su.model.dropout else None
    augment_rng = torch.Generator().manual_seed(_stream_seed(seed, AUGMENT_STREAM))
    centre = train_obj.x.mean(0)
    # The adaptive loss's α and c: unconstrained latents stepped by the same rule and learning rate as θ
    # (Barron trains them in the model's optimiser).
    shape_latent: torch.Tensor | None = None
    if config.adaptive:
        shape_latent = adaptive.latent(su.params["alpha"], su.params["scale"]).to(device).requires_grad_(True)
        opt_shape = Optimizer(OPTIMIZER_RULES[config.optimizer], config.lr, shape_latent)
    n = len(train_obj.y)
    batch = min(config.batch_size, n)
    every = max(1, config.epochs // max(updates, 1))
    rows: list[tuple[float, float, float, float]] = []
    thetas: list[torch.Tensor] = []
    shapes: list[tuple[float, float]] = []
    diverged_at = None
    start = time.perf_counter()

    def loss_shape() -> dict[str, torch.Tensor]:
        assert shape_latent is not None
        alpha, scale = adaptive.shape(shape_latent)
        return {"alpha": alpha, "scale": scale}

    def record() -> bool:
        with torch.no_grad():
            shape = loss_shape() if shape_latent is not None else None
            t_obj, v_obj = (train_obj, val_obj) if shape is None else (train_obj.with_params(shape),
                                                                        val_obj.with_params(shape))
            tl, tm = t_obj.loss_and_metric(theta)
            vl, vm = v_obj.loss_and_metric(theta)
        row = (float(tl), float(vl), float(tm), float(vm))
        if not all(math.isfinite(v) for v in row[:2]) or not bool(torch.isfinite(theta).all()):
            return False
        if rows and abs(row[0]) > BLOW_UP * max(1.0, abs(rows[0][0])):
            return False
        rows.append(row)
        thetas.append(theta.detach().clone())
        if shape is not None:
            shapes.append((float(shape["alpha"]), float(shape["scale"])))
        return True

    if not record():
        raise ParameterError(f"loss {su.spec.name!r} is not finite at the initial weights")
    for epoch in range(1, config.epochs + 1):
        order = torch.randperm(n, generator=shuffle).to(device)
        inputs = augment(train_obj.x, augment_rng, rotation=config.rotation, scaling=config.scaling,
                         jitter=config.jitter, centre=centre)
        for begin in range(0, n, batch):
            idx = order[begin : begin + batch]
            obj = train_obj if shape_latent is None else train_obj.with_params(loss_shape())
            objective = obj.loss(theta, idx, inputs=inputs, dropout_rng=dropout_rng)
            if penalised:
                objective = objective + penalty(theta)
            if shape_latent is None:
                (grad,) = torch.autograd.grad(objective, theta)
            else:
                grad, grad_shape = torch.autograd.grad(objective, (theta, shape_latent))
                opt_shape.step(shape_latent, grad_shape)
            opt.step(theta, grad)
        if not record():
            diverged_at = epoch
            break
        if progress is not None and (epoch % every == 0 or epoch == config.epochs):
            progress(epoch, config.epochs, _curves(rows, su.dataset))
    seconds = time.perf_counter() - start
    final = su if not shapes else dataclasses.replace(su, params=dict(zip(("alpha", "scale"), shapes[-1], strict=True)))
    curves = _curves(rows, su.dataset)
    history = torch.stack(thetas).cpu().numpy()
    learned = np.asarray(shapes, dtype=np.float64) if shapes else None
    return TrainResult(
        setup=final,
        curves=curves,
        thetas=history,
        snapshots=record_snapshots(su, history, curves, device, shapes=learned),
        seconds=seconds,
        diverged_at=diverged_at,
        shapes=learned,
    )


def _curves(rows: list[tuple[float, float, float, float]], dataset: Dataset) -> Curves:
    a = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
    return Curves(np.arange(len(a)), a[:, 0], a[:, 1], a[:, 2], a[:, 3], metric_name(dataset))


# --- snapshots: the run as it learned ------------------------------------------------------------------

SNAPSHOT_RESOLUTION = 48
"""Grid points per axis of a snapshot's decision surface: 48² values per snapshot keep a played run's figure
small; the browser smooths the image they become, and the boundary line is interpolated between them."""
FIT_RESOLUTION = 200
"""Points along x of a snapshot's fitted regression curve."""
LOSS_LEVELS = np.linspace(0.0, 1.0, 41)
"""The quantile levels at which a snapshot keeps the distribution of the per-example training loss."""
TOP_K = 10
"""How many of the training examples with the largest loss a snapshot names."""
MAX_BATCH_ELEMENTS = 500_000
"""Largest hidden activation (models × points × width) a snapshot evaluates at once (4 MB of float64)."""


@dataclass(frozen=True)
class DecisionGrid:
    """Models on a grid over the input plane: ``value[..., i, j]`` at (xs[j], ys[i]), one leading entry per model.

    Binary: the loss's pred (a probability, or a score) with the class boundary at ``threshold``; multi-class:
    the predicted class, with ``confidence`` the softmax probability of that class. ``boundary[k]`` is model
    k's decision boundary as one polyline ``(2, n)`` (x row, y row; NaN between pieces): the isoline
    pred = threshold (binary), or where the top two logits tie (multi-class). All in the data's own units.
    """

    xs: np.ndarray
    ys: np.ndarray
    value: np.ndarray
    threshold: float | None
    boundary: tuple[np.ndarray, ...]
    confidence: np.ndarray | None = None
    label: str = ""


@dataclass(frozen=True)
class RegressionFit:
    """Models' predictions ``value[k, j]`` at ``xs[j]`` along a one-feature regression's input range, and the
    noise-free curve there when the data is generated from one (``truth``), all in the data's own units."""

    xs: np.ndarray
    value: np.ndarray
    truth: np.ndarray | None = None


@dataclass(frozen=True)
class Snapshots:
    """What a run's views show at each of ``epochs``: snapshot k is the model after epoch ``epochs[k]``.

    The epochs are :func:`lossviz.toolkit.frames.snapshot_steps` of the configured epochs (every epoch up to
    100, 101 evenly spaced beyond), cut at a divergence, with the run's last epoch always the last one.
    Every value is of the model in evaluation mode on the whole training set:

    * the losses and metrics of :class:`Curves` at these epochs;
    * ``weight_norms[k, l]`` = ‖W_l‖_F of layer l (biases excluded);
    * ``grad_norm[k]`` = ‖∇θ (mean training loss + penalty)‖₂, the full-batch gradient (not a mini-batch's);
    * ``loss_quantiles[k, q]``: the per-example training loss at quantile level :data:`LOSS_LEVELS` [q] (linear
      interpolation, as ``numpy.quantile``), and ``top[k]`` the indices into the training set of the
      :data:`TOP_K` examples with the largest loss, largest first, with their losses ``top_loss[k]``;
    * ``grid`` (two-feature classification) or ``fit`` (one-feature regression): what the data view draws.

    ``seconds`` is the time recording them took, after training.
    """

    epochs: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_metric: np.ndarray
    val_metric: np.ndarray
    weight_norms: np.ndarray
    grad_norm: np.ndarray
    loss_quantiles: np.ndarray
    top: np.ndarray
    top_loss: np.ndarray
    grid: DecisionGrid | None
    fit: RegressionFit | None
    seconds: float

    @property
    def weight_norm(self) -> np.ndarray:
        """‖w‖₂ over all the weights (biases excluded), per snapshot."""
        return np.sqrt((self.weight_norms**2).sum(-1))


def _chunks(model: MLP, points: int, count: int) -> Iterator[slice]:
    """Slices of ``count`` models small enough that a hidden activation on ``points`` inputs stays in cache."""
    step = max(1, MAX_BATCH_ELEMENTS // max(1, points * max(model.sizes)))
    for begin in range(0, count, step):
        yield slice(begin, min(begin + step, count))


def _outputs(model: MLP, thetas: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Network outputs (K, N, out) of every θ in ``thetas`` (K, P) on ``x``, without autograd, chunked."""
    with torch.no_grad():
        return torch.cat([model.forward(thetas[c], x) for c in _chunks(model, len(x), len(thetas))])


def record_snapshots(
    su: Setup, thetas: np.ndarray, curves: Curves, device: torch.device = DEVICE, *, shapes: np.ndarray | None = None
) -> Snapshots:
    """The :class:`Snapshots` of a run from its weight history ``thetas`` (θ after each epoch) and curves; for
    an adaptive loss, ``shapes[k]`` is its learned (α, c) after epoch k, which snapshot k's losses use.

    All snapshots are evaluated together, a batch of parameter vectors per call (as the neural landscape's
    grids): one forward and backward pass over the training set for the per-example losses and gradients,
    one forward pass over the grid for the data view.
    """
    start = time.perf_counter()
    last = len(thetas) - 1
    planned = snapshot_steps(su.config.epochs)
    epochs = planned[planned <= last]
    if epochs[-1] != last:
        epochs = np.append(epochs, last)
    kept = np.ascontiguousarray(thetas[epochs])
    train_obj, _val_obj = objectives(su, device)
    penalty = penalty_fn(su.model, su.config.l1, su.config.l2, device)
    th = torch.as_tensor(kept, dtype=DTYPE, device=device)
    per_example, grads = [], []
    for c in _chunks(su.model, len(train_obj.x), len(th)):
        part = th[c].clone().requires_grad_(True)
        pred = su.head.pred(su.model.forward(part, train_obj.x))
        obj = train_obj
        if shapes is not None:  # each snapshot's own α and c, broadcast over its examples
            learned = torch.as_tensor(shapes[epochs][c], dtype=DTYPE, device=device)
            learned = learned.reshape(-1, 2, *[1] * (pred.ndim - 1))
            obj = train_obj.with_params({"alpha": learned[:, 0], "scale": learned[:, 1]})
        values = obj.values(pred)
        objective = values.mean(-1) + penalty(part)
        (grad,) = torch.autograd.grad(objective.sum(), part)  # the snapshots are independent: one backward
        per_example.append(values.detach())
        grads.append(grad)
    losses = torch.cat(per_example).cpu().numpy()
    k = min(TOP_K, losses.shape[1])
    top = np.argsort(-losses, axis=1, kind="stable")[:, :k]
    dataset = su.dataset
    return Snapshots(
        epochs=epochs,
        train_loss=curves.train_loss[epochs],
        val_loss=curves.val_loss[epochs],
        train_metric=curves.train_metric[epochs],
        val_metric=curves.val_metric[epochs],
        weight_norms=np.stack([np.linalg.norm(kept[:, w], axis=1) for w, _b, _o, _i in su.model.layers], axis=1),
        grad_norm=torch.cat(grads).norm(dim=-1).cpu().numpy(),
        loss_quantiles=np.quantile(losses, LOSS_LEVELS, axis=1).T,
        top=top,
        top_loss=np.take_along_axis(losses, top, axis=1),
        grid=decision_grids(su, kept) if dataset.task != "regression" and dataset.n_features == 2 else None,
        fit=regression_fits(su, kept) if dataset.task == "regression" and dataset.n_features == 1 else None,
        seconds=time.perf_counter() - start,
    )


def decision_grids(su: Setup, thetas: np.ndarray, resolution: int = SNAPSHOT_RESOLUTION) -> DecisionGrid:
    """The models ``thetas`` (K, P) on a grid over the data's bounding box (classification on two features).

    The grid's axes are in the data's own units (:meth:`Dataset.raw_x`), as the points are drawn.
    """
    dataset = su.dataset
    if dataset.n_features != 2:
        raise ParameterError(f"a decision boundary needs two input features; this data has {dataset.n_features}")
    (x0, x1), (y0, y1) = dataset.bounds()
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=DTYPE)
    th = torch.as_tensor(thetas, dtype=DTYPE)
    pred = su.head.pred(_outputs(su.model, th, grid)).numpy()
    raw = dataset.raw_x(np.stack([xs, ys], axis=1))
    xs, ys = raw[:, 0], raw[:, 1]
    shape = (len(thetas), resolution, resolution)
    if su.head.structured:
        logits = pred.reshape(*shape, -1)
        top2 = np.sort(logits, axis=-1)[..., -2:]
        margin = logits - np.where(logits == top2[..., -1:], top2[..., :1], top2[..., -1:])  # z_c − max_{j≠c} z_j
        conf = np.exp(logits - top2[..., -1:])
        conf = conf.max(-1) / conf.sum(-1)
        boundary = tuple(
            _joined([isoline(xs, ys, margin[k, ..., c], 0.0) for c in range(logits.shape[-1])])
            for k in range(len(logits))
        )
        return DecisionGrid(xs, ys, logits.argmax(-1).astype(float), None, boundary, conf, "class")
    value = pred.reshape(shape)
    threshold = su.head.threshold
    label = f"P({dataset.class_label(1)})" if su.head.link == "sigmoid" else "score"
    if su.spec.pred_domain == LOGIT:
        value, threshold, label = 1.0 / (1.0 + np.exp(-value)), 0.5, f"P({dataset.class_label(1)})"
    boundary = tuple(isoline(xs, ys, v, threshold) for v in value)
    return DecisionGrid(xs, ys, value, threshold, boundary, None, label)


def regression_fits(su: Setup, thetas: np.ndarray, resolution: int = FIT_RESOLUTION) -> RegressionFit:
    """The models ``thetas`` (K, P) along the input range of a one-feature regression, in the data's own units."""
    dataset = su.dataset
    if dataset.n_features != 1:
        raise ParameterError(f"a fitted curve needs one input feature; this data has {dataset.n_features}")
    ((x0, x1),) = dataset.bounds(margin=0.02)
    xs = np.linspace(x0, x1, resolution)[:, None]
    out = _outputs(su.model, torch.as_tensor(thetas, dtype=DTYPE), torch.as_tensor(xs, dtype=DTYPE))
    raw = dataset.raw_x(xs)[:, 0]
    truth = regression_curve(raw) if dataset.clean_train is not None else None
    return RegressionFit(raw, dataset.raw_y(su.head.pred(out).numpy()), truth)


# --- isolines ---------------------------------------------------------------------------------------------


def isoline(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, level: float) -> np.ndarray:
    """The curve z = ``level`` of ``z[i, j]`` given at (xs[j], ys[i]), by marching squares (Lorensen & Cline
    1987, in 2-D) with crossings linearly interpolated along the grid edges, through contourpy (Matplotlib's
    contouring engine): a saddle cell is resolved by its centre value, non-finite values are masked (they cross
    nothing). Returns ``(2, n)``, x row and y row, with a NaN column between polylines (a gap in a plotted
    line); a closed curve ends on its first point.
    """
    masked = np.ma.masked_invalid(np.asarray(z, dtype=np.float64))
    generator = contourpy.contour_generator(xs, ys, masked, line_type=contourpy.LineType.ChunkCombinedNan)
    (points,), = generator.lines(level)
    return np.empty((2, 0)) if points is None else np.ascontiguousarray(points.T)


def _joined(pieces: list[np.ndarray]) -> np.ndarray:
    """Polylines ``(2, n)`` in one array, a NaN column between them."""
    out: list[np.ndarray] = []
    for piece in pieces:
        if piece.shape[1] == 0:
            continue
        if out:
            out.append(np.full((2, 1), np.nan))
        out.append(piece)
    return np.concatenate(out, axis=1) if out else np.empty((2, 0))


def epoch_param(last: int) -> Param:
    """The epoch a player of a run shows, 0 … ``last``; the end of training by default."""
    return time_param("epoch", last, "The epoch shown: the model after that many passes over the training set.")


def shared_time_axis(snapshots: Sequence[Snapshots]) -> tuple[np.ndarray, np.ndarray]:
    """One time axis for runs played together: the union of their snapshot epochs, and ``index[r, t]``, the
    snapshot of run r shown at shared epoch t (its last at or before it: a run that stopped early holds its
    last snapshot)."""
    epochs = np.unique(np.concatenate([s.epochs for s in snapshots]))
    return epochs, np.stack([np.searchsorted(s.epochs, epochs, side="right") - 1 for s in snapshots])


def split_arrays(dataset: Dataset, split: Literal["train", "validation"]) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of one split, in the model's units."""
    if split == "train":
        return dataset.x_train, dataset.y_train
    return dataset.x_val, dataset.y_val


def predicted_vs_actual(
    result: TrainResult, split: Literal["train", "validation"] = "validation"
) -> tuple[np.ndarray, np.ndarray]:
    """(actual, predicted) regression targets of one split, in the target's own units."""
    if result.dataset.task != "regression":
        raise ParameterError("predicted against actual values needs a regression run")
    x, y = split_arrays(result.dataset, split)
    return result.dataset.raw_y(y), result.dataset.raw_y(result.pred(x))


def confusion_matrix(result: TrainResult, split: Literal["train", "validation"] = "validation") -> np.ndarray:
    """Counts ``m[i, j]`` of points of true class i predicted as class j (classification runs)."""
    dataset = result.dataset
    if dataset.task == "regression":
        raise ParameterError("a confusion matrix needs a classification run")
    x, y = split_arrays(dataset, split)
    with torch.no_grad():
        predicted = result.setup.head.predicted(torch.from_numpy(result.pred(x))).numpy()
    k = max(dataset.n_classes, 2)
    m = np.zeros((k, k), dtype=np.int64)
    np.add.at(m, (y.astype(np.int64), predicted.astype(np.int64)), 1)
    return m


# --- a small cache shared by the pages ---------------------------------------------------------


def _same(a: object, b: object) -> bool:
    """Identity, elementwise for tuples (an owner may be several specs)."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))
    return a is b


class RunCache:
    """A thread-safe LRU cache of computed results keyed by configuration.

    Each entry remembers the loss spec it was computed with (its owner: one object or a tuple of
    them) and only hits for that same object:
    a custom loss defined in another browser session under the same name is a different object,
    so it never gets (or leaks) another session's result.
    """

    def __init__(self, max_entries: int = 32) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, tuple[object, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, owner: object) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or not _same(item[0], owner):
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: Hashable, owner: object, value: Any) -> None:
        with self._lock:
            self._items[key] = (owner, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def get_or_compute(self, key: Hashable, owner: object, compute: Callable[[], Any]) -> Any:
        found = self.get(key, owner)
        if found is None:
            found = compute()
            self.put(key, owner, found)
        return found


RUNS = RunCache(max_entries=32)
"""Trained runs of this process, shared by the training lab and the neural landscape page."""


def shared_cache_allowed(config: TrainConfig, cache: RunCache, shared: RunCache) -> None:
    """Refuse to put a run on a user's own data (``config.data.private``) into a cache all sessions share."""
    if config.data.private and cache is shared:
        raise ValueError("runs on uploaded data stay in the uploading session: pass that session's own cache")


def cached_train(
    config: TrainConfig, progress: ProgressFn | None = None, cache: RunCache | None = None
) -> tuple[TrainResult, bool]:
    """The run of ``config`` from ``cache`` (default :data:`RUNS`), training it on a miss; returns
    (result, was_cached). Runs on a user's data need a cache of the user's session (see
    :func:`shared_cache_allowed`)."""
    cache = RUNS if cache is None else cache
    shared_cache_allowed(config, cache, RUNS)
    owner = get_spec(config.loss)
    key = canonical(config)
    found = cache.get(key, owner)
    if found is not None:
        return found, True
    result = train(config, progress)
    cache.put(key, owner, result)
    return result, False


def canonical(config: TrainConfig) -> TrainConfig:
    """``config`` with every loss parameter spelled out (defaults included) and dropout rates of 0 dropped:
    equal runs, equal keys."""
    dropout = config.dropout if any(config.dropout) else ()
    try:
        values = get_spec(config.loss).validate_params(dict(config.loss_params))
    except ValueError:
        return config.replace(dropout=dropout)  # setup() will report it
    return config.replace(loss_params=values, dropout=dropout)


# --- the lab's loss menu: the catalogue's losses, and Barron's with α and c learned ------------------

ADAPTIVE_BARRON = "adaptive_barron"
"""The lab's one loss choice that is no catalogue name: ``barron`` with α and c learned (``adaptive=True``)."""


def loss_choices(task: Task, n_classes: int = 2) -> list[str]:
    """The losses the lab offers for ``task``: every compatible one, and for regression :data:`ADAPTIVE_BARRON`
    (a density of real residuals; on class labels the learned α and c would have nothing to model)."""
    names = compatible_losses(task, n_classes)
    return [*names, ADAPTIVE_BARRON] if task == "regression" and "barron" in names else names


def loss_choice(config: TrainConfig) -> str:
    """The menu entry of ``config``'s loss (the inverse of :func:`with_loss_choice`)."""
    return ADAPTIVE_BARRON if config.adaptive else config.loss


def loss_fields(choice: str) -> dict[str, Any]:
    """The :class:`TrainConfig` fields ``loss`` and ``adaptive`` of the menu entry ``choice``."""
    learn = choice == ADAPTIVE_BARRON
    return {"loss": "barron" if learn else choice, "adaptive": learn}


def with_loss_choice(config: TrainConfig, choice: str, params: Mapping[str, float] | tuple = ()) -> TrainConfig:
    """``config`` training with the menu entry ``choice`` and its parameters ``params`` (for the adaptive
    loss: α and c where training starts)."""
    return config.replace(**loss_fields(choice), loss_params=params)


def outlier_twin(config: TrainConfig) -> TrainConfig | None:
    """``config`` on the toy regression set with the other outlier setting — none where its data has outliers,
    the default share where it has none — everything else (seed, points, noise) the same; ``None`` for other
    data. Side by side, the two runs show what outliers do to the adaptive loss's learned α."""
    data = config.data
    if not isinstance(data, DataConfig) or data.task != "regression":
        return None
    other = 0.0 if data.outliers > 0 else OUTLIERS.default
    return config.replace(data=dataclasses.replace(data, outliers=other))


# --- comparison mode and presets --------------------------------------------------------------------

COMPARE_DIMENSIONS: dict[str, str] = {
    "lr": "learning rate",
    "loss": "loss",
    "optimizer": "optimiser",
    "batch_size": "batch size",
    "activation": "activation",
    "l1": "L1 penalty λ₁",
    "l2": "L2 penalty λ₂",
    "dropout": "dropout rate p",
    "regularization": "regulariser",
}
MAX_COMPARED = 4
_NUMERIC_OPTIONS: dict[str, list[str]] = {
    "lr": ["0.0001", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1"],
    "batch_size": ["1", "8", "16", "32", "64", "128", "500"],
    "l1": ["0", "0.0001", "0.0003", "0.001", "0.003", "0.01"],
    "l2": ["0", "0.0001", "0.0003", "0.001", "0.003", "0.01"],
    "dropout": ["0", "0.1", "0.2", "0.3", "0.5", "0.7"],
}
_DEFAULT_COMPARED: dict[str, list[str]] = {
    "lr": ["0.001", "0.01", "0.1"],
    "optimizer": ["sgd", "momentum", "adam"],
    "batch_size": ["8", "32", "500"],
    "activation": ["relu", "tanh", "sigmoid"],
    "l1": ["0", "0.001", "0.01"],
    "l2": ["0", "0.001", "0.01"],
    "dropout": ["0", "0.2", "0.5"],
    "regularization": ["none", "l1", "l2", "dropout"],
}

REGULARIZERS: dict[str, str] = {
    "none": "none",
    "l1": "L1 penalty",
    "l2": "L2 penalty",
    "dropout": "dropout",
    "augmentation": "data augmentation",
}
"""The regularisers a comparison can set side by side, one at a time (:func:`regularized`)."""
REGULARIZER_DEFAULTS: dict[str, float] = {"l1": 0.001, "l2": 0.001, "dropout": 0.2, "rotation": 15.0,
                                          "scaling": 0.1, "jitter": 0.05}
"""The strength a compared regulariser gets where the configuration leaves it at 0."""


def regularized(config: TrainConfig, regularizer: str) -> TrainConfig:
    """``config`` with every regulariser off except ``regularizer`` (one of :data:`REGULARIZERS`), at the
    strength ``config`` gives it or, where that is 0, at :data:`REGULARIZER_DEFAULTS`'s. Augmentation's
    default rotates and scales only points of a plane (two input features); elsewhere it jitters."""
    if regularizer not in REGULARIZERS:
        raise ParameterError(f"unknown regulariser {regularizer!r}; choose one of {', '.join(REGULARIZERS)}")
    plain = config.replace(l1=0.0, l2=0.0, dropout=(), rotation=0.0, scaling=0.0, jitter=0.0)
    d = REGULARIZER_DEFAULTS
    if regularizer in ("l1", "l2"):
        return plain.replace(**{regularizer: getattr(config, regularizer) or d[regularizer]})
    if regularizer == "dropout":
        return plain.replace(dropout=config.dropout if any(config.dropout) else d["dropout"])
    if regularizer == "augmentation":
        if config.augmented:
            return plain.replace(rotation=config.rotation, scaling=config.scaling, jitter=config.jitter)
        planar = input_features(config.data) == 2
        return plain.replace(rotation=d["rotation"] if planar else 0.0, scaling=d["scaling"] if planar else 0.0,
                             jitter=d["jitter"])
    return plain


def compare_options(dimension: str, task: Task, n_classes: int = 2) -> list[str]:
    """The values a comparison can give ``dimension`` (as strings, for a multiselect bound to the URL)."""
    if dimension == "loss":
        return loss_choices(task, n_classes)
    if dimension == "optimizer":
        return list(OPTIMIZERS)
    if dimension == "activation":
        return list(ACTIVATIONS)
    if dimension == "regularization":
        return list(REGULARIZERS)
    if dimension in _NUMERIC_OPTIONS:
        return list(_NUMERIC_OPTIONS[dimension])
    raise ParameterError(f"cannot compare over {dimension!r}; choose one of {', '.join(COMPARE_DIMENSIONS)}")


def compare_defaults(dimension: str, task: Task, n_classes: int = 2) -> list[str]:
    """Two or three telling values of ``dimension`` to compare first."""
    if dimension == "loss":
        options = compare_options("loss", task, n_classes)
        wanted = {"binary": ["bce_logits", "mse", "hinge"], "multiclass": ["cross_entropy", "multi_margin"],
                  "regression": ["mse", "mae", "huber"]}[task]
        return [n for n in wanted if n in options] or options[:2]
    return list(_DEFAULT_COMPARED[dimension])


def varied(config: TrainConfig, dimension: str, value: str) -> TrainConfig:
    """``config`` with ``dimension`` set to ``value`` (a string from :func:`compare_options`).

    A different loss gets its own default parameters; the same loss keeps ``config``'s. A dropout rate
    applies to every hidden layer; a regulariser replaces the others (:func:`regularized`).
    """
    if dimension == "loss":
        params = config.loss_params if value == loss_choice(config) else ()
        return with_loss_choice(config, value, params)
    if dimension in ("optimizer", "activation"):
        return config.replace(**{dimension: value})
    if dimension == "batch_size":
        return config.replace(batch_size=int(value))
    if dimension in ("lr", "l1", "l2", "dropout"):
        return config.replace(**{dimension: float(value)})
    if dimension == "regularization":
        return regularized(config, value)
    raise ParameterError(f"cannot compare over {dimension!r}; choose one of {', '.join(COMPARE_DIMENSIONS)}")


@dataclass(frozen=True)
class LabPreset:
    """A one-click comparison: ``state`` maps control names (without the page prefix) to values.

    :attr:`controls` is what the page sets: the state over :data:`PRESET_BASE`, so that the data size, noise,
    network and epochs one preset chooses do not linger into the next.
    """

    title: str
    description: str
    state: Mapping[str, object]

    @property
    def controls(self) -> dict[str, object]:
        return {**PRESET_BASE, **self.state}


PRESET_BASE: Mapping[str, object] = {
    "n_samples": int(N_SAMPLES.default), "noise": NOISE.default, "hidden_layers": int(HIDDEN_LAYERS.default),
    "width": int(WIDTH.default), "epochs": int(EPOCHS.default),
}
"""The controls every preset starts from (their defaults) unless it sets its own."""


LAB_PRESETS: tuple[LabPreset, ...] = (
    LabPreset(
        "Learning rates",
        "SGD + momentum on two moons with η = 0.001, 0.01, 0.1 and 1: too small crawls, too large never leaves chance.",
        {"dataset": "moons", "optimizer": "momentum", "compare": True, "vary": "lr",
         "values_lr": ["0.001", "0.01", "0.1", "1"]},
    ),
    LabPreset(
        "MSE vs cross-entropy",
        "Two moons: MSE on the sigmoid probability against binary cross-entropy on the logit.",
        {"dataset": "moons", "optimizer": "adam", "compare": True, "vary": "loss", "values_loss": ["mse", "bce_logits"]},
    ),
    LabPreset(
        "CE vs focal, imbalanced",
        "Imbalanced blobs (10 % positives): how focal loss's α and γ move the decision boundary.",
        {"dataset": "blobs", "optimizer": "adam", "compare": True, "vary": "loss", "values_loss": ["bce_logits", "focal"]},
    ),
    LabPreset(
        "MSE vs MAE vs Huber, outliers",
        "1-D regression with outliers: MSE is pulled up towards the outliers, MAE and Huber follow the bulk.",
        {"dataset": "regression", "optimizer": "adam", "compare": True, "vary": "loss",
         "values_loss": ["mse", "mae", "huber"]},
    ),
    LabPreset(
        "Regularisers, small data",
        "100 noisy moons and a 3 × 64 network for 300 epochs: unregularised it memorises its 70 training points; "
        "L2, dropout and augmentation each shrink the train–validation gap.",
        {"dataset": "moons", "n_samples": 100, "noise": 0.3, "hidden_layers": 3, "width": 64, "epochs": 300,
         "optimizer": "adam", "compare": True, "vary": "regularization",
         "values_regularization": ["none", "l2", "dropout", "augmentation"]},
    ),
    LabPreset(
        "Adaptive robust loss",
        "1-D regression with outliers: MSE, Barron's loss at α = 1, and Barron's loss with α and c learned — "
        "the outliers pull the learned α towards 0 (Cauchy).",
        {"dataset": "regression", "optimizer": "adam", "compare": True, "vary": "loss",
         "values_loss": ["mse", "barron", ADAPTIVE_BARRON]},
    ),
)
