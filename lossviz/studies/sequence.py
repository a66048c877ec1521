"""The maths of the Sequence & count page: a small CTC example, and count / Gaussian NLL curves.

CTC (Graves et al. 2006)
    A model emits, at each of T frames, a distribution over C = K + 1 classes: the blank ∅
    (class 0, PyTorch's default) and K letters a, b, c, …. The label is a short string over those
    letters. The frame logits are built from a preset (a peaky alignment of the label, uniform,
    all blank, or the alignment with every letter replaced by the next one) whose favoured class
    gets logit ``sharpness``, plus a ``boost`` added to one class at one frame. Loss and gradient
    with respect to the logits come from ``lossviz.evaluate("ctc", …)`` — one call for all the
    boost values of the live slider at once (the boost is a batch axis).

    The gradient has a reading of its own (Graves et al. 2006, eq. 16): ∂L/∂u_t(k) = y_t(k) − q_t(k),
    the softmax output minus q_t(k), the posterior probability, given the label, that frame t emits k
    (the share of the label's alignments, weighted by their probability, that pass through (t, k)).

Count and Gaussian NLL
    ``poisson_nll`` against the log-rate p for a count y, minimised at p = log y; ``gaussian_nll``
    against the prediction p for a target y and variance σ², minimised at p = y. The live slider
    frames run over y (Poisson) and σ² (Gaussian).
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lossviz.engine import evaluate, prepare
from lossviz.errors import ParameterError
from lossviz.losses.probabilistic import GAUSSIAN_VAR_EPS
from lossviz.spec import Param
from lossviz.toolkit.frames import FINE_MANTISSAS, log_ladder

BLANK = 0
BLANK_SYMBOL = "∅"
DEFAULT_LABEL = "abba"

FRAMES = Param(
    "frames", 8, low=1, integer=True, ui_low=2, ui_high=12, step=1, symbol="T",
    description="Number of time steps (frames) T the model emits a distribution at.",
)
ALPHABET_SIZE = Param(
    "letters", 3, low=1, integer=True, ui_low=2, ui_high=6, step=1, symbol="K",
    description="Number of letters K; with the blank the model has C = K + 1 classes.",
)
SHARPNESS = Param(
    "sharpness", 3.0, low=0.0, ui_low=0.0, ui_high=8.0, step=0.5, symbol="s",
    description="Logit of the preset's favoured class at each frame (0 makes every preset uniform).",
)
BOOST = Param(
    "boost", 0.0, ui_low=-6.0, ui_high=6.0, step=0.5, symbol=r"\beta",
    description="Logit added to the chosen class at the chosen frame (0: the preset as it is).",
)

PRESETS: dict[str, str] = {
    "aligned": "Peaky alignment of the label (each letter at one frame, blank elsewhere)",
    "uniform": "Uniform (the model has no idea)",
    "blank": "All blank (the model emits nothing)",
    "wrong": "Alignment of the wrong letters (each letter replaced by the next)",
}
DEFAULT_PRESET = "aligned"


def frame_param(frames: int) -> Param:
    """The control for the emphasised frame, 1 … T (shown 1-based, like the heatmaps)."""
    return Param(
        "frame", 1, low=1, high=frames, integer=True, ui_low=1, ui_high=max(frames, 2), step=1, symbol="t",
        description="The frame (1 … T) whose chosen class gets the boost.",
    )


def class_names(letters: int) -> list[str]:
    """The C = K + 1 class names: blank first, then the letters a, b, …."""
    return [BLANK_SYMBOL, *string.ascii_lowercase[:letters]]


def parse_label(text: str, letters: int) -> np.ndarray:
    """The label string as class indices (a → 1, b → 2, …); spaces are ignored, case too.

    Raises :class:`ParameterError` naming the first character outside the alphabet.
    """
    alphabet = string.ascii_lowercase[:letters]
    cleaned = "".join(text.split()).lower()
    for position, char in enumerate(cleaned, start=1):
        if char not in alphabet:
            raise ParameterError(
                f"label {text!r} has {char!r} at position {position}, which is not one of the K = {letters} "
                f"letters {', '.join(alphabet)}; type a string of those letters (the blank {BLANK_SYMBOL} "
                "is implicit), e.g. " + repr(alphabet[:2] + alphabet[:1])
            )
    return np.array([alphabet.index(c) + 1 for c in cleaned], dtype=np.int64)


def label_text(labels: Sequence[int], letters: int) -> str:
    names = class_names(letters)
    return "".join(names[int(k)] for k in labels)


def min_frames(labels: np.ndarray) -> int:
    """The fewest frames any path collapsing to ``labels`` has: S plus one blank per repeated pair."""
    return int(len(labels) + (labels[1:] == labels[:-1]).sum())


def check_example(frames: int, letters: int, labels: np.ndarray) -> None:
    """Raise the CTC loss's own :class:`DomainError` when no alignment of ``labels`` fits in T frames."""
    prepare("ctc", np.zeros((frames, letters + 1)), labels.astype(np.float64), blank=BLANK)


def collapse(path: Sequence[int], blank: int = BLANK) -> list[int]:
    """The CTC map B: merge repeated classes, then drop blanks (a a ∅ b b → a b)."""
    out: list[int] = []
    previous = None
    for k in path:
        k = int(k)
        if k != previous and k != blank:
            out.append(k)
        previous = k
    return out


def spike_path(labels: np.ndarray, frames: int) -> np.ndarray:
    """A path of T classes that collapses to ``labels``: each label at one frame, blank elsewhere,
    the labels spread evenly over the frames (the peaky outputs trained CTC models produce).

    Starts from the shortest path (a blank only between repeated labels) and shares the spare
    frames out as blanks over the S + 1 gaps; gaps only grow, so repeats stay separated.
    """
    shortest: list[int] = []
    for k in labels:
        if shortest and shortest[-1] == k:
            shortest.append(BLANK)
        shortest.append(int(k))
    spare = frames - len(shortest)
    if spare < 0:
        raise ParameterError(f"no path of T = {frames} frames collapses to a label of {len(labels)} letters")
    path = np.full(frames, BLANK, dtype=np.int64)
    label_positions = [i for i, k in enumerate(shortest) if k != BLANK]
    for rank, position in enumerate(label_positions):
        path[position + round((rank + 1) * spare / (len(labels) + 1))] = shortest[position]
    return path


def preset_logits(preset: str, labels: np.ndarray, frames: int, letters: int, sharpness: float) -> np.ndarray:
    """Logits [T, C] of a preset: ``sharpness`` on its favoured class at each frame, 0 elsewhere."""
    classes = letters + 1
    if preset == "uniform":
        return np.zeros((frames, classes))
    if preset == "blank":
        path = np.full(frames, BLANK, dtype=np.int64)
    elif preset in ("aligned", "wrong"):
        path = spike_path(labels, frames)
        if preset == "wrong":
            path = np.where(path == BLANK, BLANK, path % letters + 1)
    else:
        raise ParameterError(f"unknown preset {preset!r}; one of {', '.join(PRESETS)}")
    logits = np.zeros((frames, classes))
    logits[np.arange(frames), path] = sharpness
    return logits


def boost_values(param: Param = BOOST) -> np.ndarray:
    """Every value of the boost control (its steps), the frames of the live slider."""
    lo, hi = param.slider_range
    count = round((hi - lo) / param.slider_step) + 1
    return np.linspace(lo, hi, count)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def best_path(posteriors: np.ndarray) -> np.ndarray:
    """Best-path decoding (Graves et al. 2006, section 3.2): the most likely class at each frame."""
    return posteriors.argmax(axis=-1)


def best_alignment(log_probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The single most probable path of T classes that collapses to ``labels`` (Viterbi on the CTC
    lattice: the forward recursion with max in place of log-sum-exp, then a backtrack).

    ``log_probs`` is [..., T, C] (log-softmax of the logits; leading axes are a batch, all with the
    same labels); returns the paths [..., T]. Raises :class:`ParameterError` if the labels do not fit.
    """
    *batch, frames, _ = log_probs.shape
    lp = log_probs.reshape(-1, frames, log_probs.shape[-1])
    extended = np.full(2 * len(labels) + 1, BLANK, dtype=np.int64)
    extended[1::2] = labels
    states = len(extended)
    can_skip = np.zeros(states, dtype=bool)
    can_skip[2:] = (extended[2:] != BLANK) & (extended[2:] != extended[:-2])
    emit = lp[:, :, extended]  # [B, T, S']
    score = np.full((lp.shape[0], states), -np.inf)
    score[:, : min(2, states)] = emit[:, 0, : min(2, states)]
    back = np.zeros((lp.shape[0], frames, states), dtype=np.int64)
    for t in range(1, frames):
        candidates = np.full((3, *score.shape), -np.inf)
        candidates[0] = score
        candidates[1, :, 1:] = score[:, :-1]
        candidates[2, :, 2:] = np.where(can_skip[2:], score[:, :-2], -np.inf)
        back[:, t] = np.arange(states) - candidates.argmax(axis=0)
        score = candidates.max(axis=0) + emit[:, t]
    ends = np.array([states - 1] if states == 1 else [states - 2, states - 1])
    rows = np.arange(lp.shape[0])
    state = ends[score[:, ends].argmax(axis=1)]
    if not np.isfinite(score[rows, state]).all():
        raise ParameterError(f"no alignment of {len(labels)} labels fits in T = {frames} frames")
    path = np.empty((lp.shape[0], frames), dtype=np.int64)
    for t in range(frames - 1, -1, -1):
        path[:, t] = extended[state]
        state = back[rows, t, state]
    return path.reshape(*batch, frames)


@dataclass(frozen=True)
class CtcSweep:
    """The CTC example at every boost value: logits, posteriors, loss, gradient and decodings."""

    labels: np.ndarray
    letters: int
    frame: int
    boosted_class: int
    boosts: np.ndarray
    logits: np.ndarray
    posteriors: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    best_paths: np.ndarray
    alignments: np.ndarray

    @property
    def class_names(self) -> list[str]:
        return class_names(self.letters)

    def decoded(self, index: int) -> str:
        """The best-path decoding at boost ``index`` as a string (empty if all blank)."""
        return label_text(collapse(self.best_paths[index]), self.letters)

    def index(self, boost: float) -> int:
        return int(np.argmin(np.abs(self.boosts - boost)))

    def probability(self, index: int) -> float:
        """p(label | x) = exp(−CTC loss) at boost ``index``."""
        return math.exp(-float(self.loss[index]))


def ctc_sweep(
    base_logits: np.ndarray, labels: np.ndarray, letters: int, frame: int, boosted_class: int, boosts: np.ndarray
) -> CtcSweep:
    """The example with ``boosts[i]`` added to logit [frame, boosted_class], for every i, in one
    ``lossviz.evaluate`` call (``frame`` is 0-based here)."""
    logits = np.repeat(base_logits[None], len(boosts), axis=0)
    logits[:, frame, boosted_class] += boosts
    res = evaluate("ctc", logits, labels.astype(np.float64), blank=BLANK)
    posteriors = softmax(logits)
    log_probs = logits - logits.max(axis=-1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(axis=-1, keepdims=True))
    return CtcSweep(
        labels=labels,
        letters=letters,
        frame=frame,
        boosted_class=boosted_class,
        boosts=np.asarray(boosts, dtype=np.float64),
        logits=logits,
        posteriors=posteriors,
        loss=res.value,
        grad=res.grad,
        best_paths=best_path(posteriors),
        alignments=best_alignment(log_probs, labels),
    )


# ---------------------------------------------------------------------------------------------
# Poisson and Gaussian negative log-likelihoods
# ---------------------------------------------------------------------------------------------

NLL_POINTS = 401
COUNT = Param(
    "count", 3, low=0, integer=True, ui_low=0, ui_high=20, step=1, symbol="y",
    description="The observed count y (clicks, photons, cases).",
)
GAUSSIAN_TARGET = Param(
    "target", 0.0, ui_low=-3.0, ui_high=3.0, step=0.1, symbol="y", description="The observed value y.",
)
LOG_RATE_RANGE = (-3.0, 4.0)
"""The plotted log-rates p: rates e^p from 0.05 to 55 cover every count of the control."""
GAUSSIAN_HALF_WIDTH = 4.0
"""The plotted predictions: y ± 4."""


@dataclass(frozen=True)
class NllCurve:
    """One NLL curve against the prediction, with its minimiser (``None`` where there is none)."""

    setting: float
    x: np.ndarray
    value: np.ndarray
    grad: np.ndarray
    minimiser: tuple[float, float] | None


def poisson_minimiser(count: float) -> tuple[float, float] | None:
    """(log y, y − y log y): where e^p − y·p is smallest; none for y = 0 (e^p decreases to p → −∞)."""
    if count <= 0:
        return None
    return math.log(count), float(count - count * math.log(count))


def gaussian_minimiser(target: float, var: float) -> tuple[float, float]:
    """(y, ½ log σ²): the Gaussian NLL is smallest at p = y (σ² floored at 1e-6 as in the loss)."""
    return target, 0.5 * math.log(max(var, GAUSSIAN_VAR_EPS))


def count_values(param: Param = COUNT) -> np.ndarray:
    """Every count of the control: the frames of the Poisson live slider."""
    lo, hi = param.slider_range
    return np.arange(int(lo), int(hi) + 1, dtype=np.float64)


def poisson_curves(counts: Sequence[float], **params: float) -> list[NllCurve]:
    """``poisson_nll`` against the log-rate for each count, in one evaluate call (count × p grid)."""
    x = np.linspace(*LOG_RATE_RANGE, NLL_POINTS)
    y = np.asarray(counts, dtype=np.float64)
    res = evaluate("poisson_nll", x[None, :], y[:, None], **params)
    return [NllCurve(float(c), x, res.value[i], res.grad[i], poisson_minimiser(c)) for i, c in enumerate(y)]


def variance_values(var_param: Param) -> list[float]:
    """σ² values of the Gaussian live slider (a superset of the σ² control's options)."""
    return log_ladder(var_param, FINE_MANTISSAS)


def gaussian_curves(target: float, variances: Sequence[float], **params: float) -> list[NllCurve]:
    """``gaussian_nll`` against the prediction p ∈ y ± 4 for each variance (other parameters fixed)."""
    x = np.linspace(target - GAUSSIAN_HALF_WIDTH, target + GAUSSIAN_HALF_WIDTH, NLL_POINTS)
    out = []
    for var in variances:
        res = evaluate("gaussian_nll", x, target, var=var, **params)
        out.append(NllCurve(float(var), x, res.value, res.grad, gaussian_minimiser(target, var)))
    return out


def nearest_curve(curves: Sequence[NllCurve], setting: float) -> int:
    """The index of the curve whose setting (a count, a variance) is nearest ``setting``."""
    return int(np.argmin(np.abs(np.array([c.setting for c in curves]) - setting)))


def lowest_values(curves: Sequence[NllCurve]) -> np.ndarray:
    """The lowest finite value of each curve: the bottoms of the wells, which the value axis must show."""
    return np.array([float(np.nanmin(np.where(np.isfinite(c.value), c.value, np.nan))) for c in curves])
