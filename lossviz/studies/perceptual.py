"""Perceptual loss: why MSE prefers a blur to a one-pixel shift, and why MSE reconstructions are blurry.

The image
    A 64 × 64 grey-level scene generated here (:func:`scene`): a bright square and a dark disc with sharp
    edges, a patch of diagonal stripes and a patch of random texture (band-pass filtered noise) on a
    shallow ramp. It is drawn on a canvas :data:`MARGIN` pixels larger on every side, so that a shifted
    view is the camera moved by whole pixels (new content enters at the border), not a wrap-around.

Distortions (:func:`compare`)
    The scene shifted by one and by two pixels, blurred (Gaussian of σ = ``blur`` pixels), with Gaussian
    noise of σ = ``noise`` added, and with its texture patch re-drawn (the same band-pass noise, another
    random draw: the same texture to the eye, different pixels). Each is scored against the original by
    pixel MSE (the mean of ``lossviz.evaluate("mse", …)`` over pixels) and by ``lossviz.evaluate("perceptual",
    …)``, whose φ is a fixed filter bank (:mod:`lossviz.losses.perceptual`). MSE calls the one-pixel shift
    worse than the blur; the perceptual loss calls it several times better (Johnson et al. 2016's opening
    example: two images one pixel apart look alike, yet per-pixel losses call them very different).

Reconstruction (:func:`reconstruct`, :func:`descend`)
    Why is a network trained with MSE blurry? For an input that does not pin its answer down (a low-resolution
    image, say), the output that minimises the *average* MSE over the plausible answers y_1 … y_K is their
    pixel mean, a blur of them. Here the K = :data:`ANSWERS` answers are the scene with its texture re-drawn
    and shifted by up to ``jitter`` pixels (answer 1 is the original), and gradient descent (Adam) looks for
    the single image x that minimises the average loss, once for each loss, from the same start: the
    original's 4× low-resolution version, pixel-replicated back to 64 × 64. MSE reaches the pixel mean; the
    perceptual loss, whose average is ‖φ(x) − mean_k φ(y_k)‖² plus a constant, matches the *mean features*
    instead, which a sharp image can do because φ barely moves under small shifts and texture re-draws.

Every loss value shown comes from :func:`lossviz.evaluate`. The descent on the perceptual loss uses the
same φ and distance as the declared loss (:func:`lossviz.losses.perceptual.features`,
:func:`~lossviz.losses.perceptual.feature_distance`) against the mean features, which equals the average of
the K evaluations up to a constant (checked in the tests) at the cost of one φ per step instead of 2K.

References: Johnson, Alahi & Fei-Fei, Perceptual Losses for Real-Time Style Transfer and Super-Resolution,
ECCV 2016; Ledig et al., Photo-Realistic Single Image Super-Resolution Using a Generative Adversarial Network,
CVPR 2017 (introduction: minimising MSE finds pixel-wise averages of plausible solutions, which are overly smooth).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from lossviz.engine import evaluate
from lossviz.losses.perceptual import feature_distance, features
from lossviz.registry import spec as get_spec
from lossviz.spec import Param
from lossviz.toolkit import optim
from lossviz.toolkit.data import SEED
from lossviz.toolkit.training import one_thread

SIZE = 64
"""Height and width of the images in pixels."""
MARGIN = 4
"""Extra canvas around the scene: room for shifts of up to this many pixels."""
TEXTURE_CONTRAST = 0.18
"""Standard deviation of the texture patch's grey levels."""
LOW_RES = 4
"""Down-sampling factor of the reconstruction's start: 4 × 4 blocks averaged, then repeated."""
ANSWERS = 8
"""Plausible answers in the reconstruction experiment."""
LEARNING_RATE = 0.02
"""Adam's step size, in grey levels (pixels span about 0 to 1)."""

DISTORTIONS = ("shift1", "shift2", "blur", "noise", "texture")
"""The distorted versions of the scene, in the order of the table."""

BLUR = Param(
    "blur",
    1.0,
    low=0.5,
    high=3.0,
    step=0.1,
    symbol=r"\sigma_b",
    description="Standard deviation in pixels of the Gaussian blur.",
)
NOISE = Param(
    "noise",
    0.1,
    low=0.0,
    high=0.3,
    step=0.01,
    symbol=r"\sigma_n",
    description="Standard deviation of the Gaussian noise added to the grey levels (which span about 0 to 1).",
)
DEPTH = get_spec("perceptual").param("depth")
"""The perceptual loss's own declaration of how many levels of φ it uses."""
JITTER = Param(
    "jitter",
    2,
    low=0,
    high=MARGIN - 1,
    integer=True,
    step=1,
    symbol="J",
    description="The plausible answers are shifted by up to this many pixels in each direction (0: texture only).",
)
STEPS = Param(
    "steps",
    100,
    low=20,
    high=300,
    integer=True,
    step=20,
    symbol="T",
    description="Adam steps of each reconstruction.",
)


# --- images ------------------------------------------------------------------------------------------


def scene(texture_seed: int = SEED.default, margin: int = MARGIN) -> np.ndarray:
    """The test scene on a canvas ``[SIZE + 2·margin]²``; only the texture patch depends on ``texture_seed``.

    Grey levels in about [0, 1]: a ramp from 0.25 to 0.4 left to right, a square at 0.85, a disc at 0.1,
    stripes of period 6 pixels at 0.15 / 0.85, and a patch of band-pass noise (difference of Gaussians of
    σ 0.8 and 2 pixels over white noise) with mean 0.55 and standard deviation 0.18.
    """
    n = SIZE + 2 * margin
    rows, cols = np.mgrid[0:n, 0:n].astype(np.float64) - margin  # scene coordinates: the view is 0 … SIZE − 1
    image = 0.25 + 0.15 * cols / SIZE
    image[(rows >= 8) & (rows < 28) & (cols >= 6) & (cols < 26)] = 0.85
    image[(rows - 18) ** 2 + (cols - 46) ** 2 < 10**2] = 0.1
    stripes = (rows >= 36) & (rows < 58) & (cols >= 4) & (cols < 28)
    image[stripes] = 0.5 + 0.35 * np.sign(np.sin(2 * np.pi * (rows[stripes] + cols[stripes]) / 6.0))
    patch = (rows >= 34) & (rows < 60) & (cols >= 34) & (cols < 60)
    white = np.random.default_rng(texture_seed).standard_normal((n, n))
    band = gaussian_filter(white, 0.8) - gaussian_filter(white, 2.0)
    image[patch] = 0.55 + TEXTURE_CONTRAST * (band[patch] - band[patch].mean()) / band[patch].std()
    return image


def view(canvas: np.ndarray, dy: int = 0, dx: int = 0, margin: int = MARGIN) -> np.ndarray:
    """The scene seen with the camera moved ``dy`` pixels down and ``dx`` right: the content moves up and left."""
    size = canvas.shape[0] - 2 * margin
    if max(abs(dy), abs(dx)) > margin:
        raise ValueError(f"a shift of ({dy}, {dx}) pixels needs a margin of at least {max(abs(dy), abs(dx))}")
    return canvas[margin + dy : margin + dy + size, margin + dx : margin + dx + size].copy()


def original() -> np.ndarray:
    """The reference image: the scene with the default texture, unshifted."""
    return view(scene())


def distorted(blur: float, noise: float) -> np.ndarray:
    """The original's :data:`DISTORTIONS` ``[5, H, W]``: shifted 1 and 2 pixels, blurred, noisy, texture re-drawn."""
    canvas = scene()
    clean = view(canvas)
    rng = np.random.default_rng(SEED.default)
    return np.stack(
        [
            view(canvas, 0, 1),
            view(canvas, 0, 2),
            gaussian_filter(clean, blur, mode="nearest"),
            clean + noise * rng.standard_normal(clean.shape),
            view(scene(SEED.default + 1)),
        ]
    )


def edge_energy(image: np.ndarray) -> np.ndarray:
    """Root mean square of the differences between neighbouring pixels (both directions), per image ``[..., H, W]``.

    A sharpness measure: a blur lowers it, detail and noise raise it.
    """
    dx = np.diff(image, axis=-1) ** 2
    dy = np.diff(image, axis=-2) ** 2
    return np.sqrt((dx.mean((-2, -1)) + dy.mean((-2, -1))) / 2)


def pixel_mse(images: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Mean over pixels of ``lossviz.evaluate("mse", images, targets)``, per image (broadcast batch axes)."""
    return evaluate("mse", images, targets, order=0).value.mean((-2, -1))


# --- distortions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """The original, its :data:`DISTORTIONS` and each one's losses against the original.

    ``energy`` holds what φ sees: the sum of the 8 pooled energy maps of φ's first level, ``[6, H/2, W/2]``,
    for the original (row 0) and each distortion.
    """

    original: np.ndarray
    images: np.ndarray
    mse: np.ndarray
    perceptual: np.ndarray
    energy: np.ndarray
    blur: float
    noise: float
    depth: int

    @property
    def labels(self) -> list[str]:
        """A short name for each of :data:`DISTORTIONS`, with the current blur and noise."""
        return [
            "shifted 1 px",
            "shifted 2 px",
            f"blurred, σ = {self.blur:g}",
            f"noise, σ = {self.noise:g}",
            "texture re-drawn",
        ]

    def ratio_to_blur(self) -> tuple[np.ndarray, np.ndarray]:
        """(MSE, perceptual) of each distortion divided by that loss's value for the blur."""
        i = DISTORTIONS.index("blur")
        return self.mse / self.mse[i], self.perceptual / self.perceptual[i]

    def table(self) -> dict[str, list]:
        """The numbers of the page's table, column by column, one row per distortion."""
        mse_ratio, perceptual_ratio = self.ratio_to_blur()
        return {
            "distortion": self.labels,
            "pixel MSE": self.mse.tolist(),
            "perceptual": self.perceptual.tolist(),
            "MSE ÷ the blur's": mse_ratio.tolist(),
            "perceptual ÷ the blur's": perceptual_ratio.tolist(),
        }


def energy_maps(images: np.ndarray) -> np.ndarray:
    """The first level of φ, its 8 pooled energy maps summed, for each image ``[..., H, W]`` → ``[..., H/2, W/2]``."""
    with torch.no_grad():
        first = features(torch.from_numpy(np.ascontiguousarray(images, dtype=np.float64)), depth=1)[0]
    return first[..., :-1, :, :].sum(-3).numpy()  # the last channel of the deepest level is the luminance


def compare(blur: float, noise: float, depth: int) -> Comparison:
    """Every distortion of the original scored by pixel MSE and by the perceptual loss with ``depth`` levels."""
    clean = original()
    images = distorted(blur, noise)
    with one_thread():  # see reconstruct
        perceptual = evaluate("perceptual", images, clean, order=0, depth=depth).value
        energy = energy_maps(np.concatenate([clean[None], images]))
    return Comparison(
        original=clean,
        images=images,
        mse=pixel_mse(images, clean),
        perceptual=perceptual,
        energy=energy,
        blur=blur,
        noise=noise,
        depth=depth,
    )


# --- reconstruction ----------------------------------------------------------------------------------


def answers(jitter: int, count: int = ANSWERS) -> np.ndarray:
    """``count`` plausible answers ``[count, H, W]``: the original first, then the scene with its texture
    re-drawn (seeds 1, 2, …) and shifted by whole pixels drawn uniformly from [−jitter, jitter] in each direction."""
    rng = np.random.default_rng(SEED.default)
    out = [original()]
    for k in range(1, count):
        dy, dx = rng.integers(-jitter, jitter + 1, size=2)
        out.append(view(scene(SEED.default + k), int(dy), int(dx)))
    return np.stack(out)


def low_res_start(image: np.ndarray, factor: int = LOW_RES) -> np.ndarray:
    """``image`` averaged over ``factor`` × ``factor`` blocks and each block's mean repeated: the low-res input."""
    h, w = image.shape
    blocks = image.reshape(h // factor, factor, w // factor, factor).mean((1, 3))
    return np.repeat(np.repeat(blocks, factor, axis=0), factor, axis=1)


class AverageLoss:
    """The average over ``answers`` of the pixel MSE and of the perceptual loss, as objectives for
    :func:`lossviz.toolkit.optim.run` on flattened images.

    :meth:`mse` evaluates ``mse`` against every answer; :meth:`perceptual` compares φ(x) with the answers'
    mean features, the average of ``perceptual`` over them minus the constant :attr:`spread`.
    """

    def __init__(self, targets: np.ndarray, depth: int) -> None:
        self.targets = targets
        self.depth = depth
        self.shape = targets.shape[-2:]
        with torch.no_grad():
            per_answer = features(torch.from_numpy(targets), depth)
        self.mean_features = [f.mean(0) for f in per_answer]
        self.spread = float(feature_distance(per_answer, self.mean_features).mean())
        """Average over the answers of their own distance to the mean features."""

    def mse(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Average pixel MSE of the image ``x`` ``[H, W]`` over the answers, and its gradient."""
        res = evaluate("mse", x, self.targets)
        return float(res.value.mean()), res.grad.mean(0) / x.size

    def perceptual(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """‖φ(x) − mean φ(answers)‖² (summed over levels as the loss does), and its gradient."""
        image = torch.from_numpy(np.array(x, dtype=np.float64)).requires_grad_(True)
        value = feature_distance(features(image, self.depth), self.mean_features)
        (grad,) = torch.autograd.grad(value, image)
        return float(value.detach()), grad.numpy()

    def both(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row 0 of ``theta`` ``(2, H·W)`` under MSE, row 1 under the perceptual loss (values and gradients)."""
        values, grads = np.empty(2), np.empty_like(theta)
        for row, objective in enumerate((self.mse, self.perceptual)):
            value, grad = objective(theta[row].reshape(self.shape))
            values[row], grads[row] = value, grad.reshape(-1)
        return values, grads


@dataclass(frozen=True)
class Reconstruction:
    """The two reconstructions and what they are compared with.

    ``images`` maps "truth" (answer 1), "start", "pixel mean" (of the answers), "MSE" and "perceptual" (the
    two results) to ``[H, W]`` arrays; ``mse`` and ``perceptual`` map the same names to each image's
    average loss over the answers (from :func:`lossviz.evaluate`), ``sharpness`` to its :func:`edge_energy`.
    ``history`` ``(steps + 1, 2)`` is each run's objective (MSE row 0, perceptual row 1) at every step.
    """

    images: dict[str, np.ndarray]
    mse: dict[str, float]
    perceptual: dict[str, float]
    sharpness: dict[str, float]
    history: np.ndarray
    jitter: int
    steps: int
    depth: int

    def table(self) -> dict[str, list]:
        """The numbers of the page's table, column by column, one row per image of :data:`IMAGES`."""
        return {
            "image": list(IMAGES),
            "average MSE": [self.mse[name] for name in IMAGES],
            "average perceptual": [self.perceptual[name] for name in IMAGES],
            "edge energy": [self.sharpness[name] for name in IMAGES],
        }


IMAGES = ("truth", "start", "pixel mean", "MSE", "perceptual")
"""The images of a :class:`Reconstruction`, in the order shown."""


def average_losses(images: np.ndarray, targets: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """(average pixel MSE, average perceptual loss) of each of ``images`` ``[n, H, W]`` over ``targets`` ``[K, H, W]``."""
    mse = pixel_mse(images[:, None], targets[None]).mean(1)
    perceptual = evaluate("perceptual", images[:, None], targets[None], order=0, depth=depth).value.mean(1)
    return mse, perceptual


def checkpoints(steps: int) -> tuple[int, ...]:
    """The step counts a :func:`descend` to ``steps`` keeps: every position of the :data:`STEPS` slider up to
    ``steps``, and ``steps`` itself (a link may name any count). A later request for fewer steps is then read
    from the same run."""
    return tuple(sorted({*range(int(STEPS.low), steps + 1, int(STEPS.step)), steps}))


@dataclass(frozen=True)
class Descent:
    """One Adam run on each loss from the low-res start, kept at several step counts.

    Why one run serves every count: Adam's update at step t depends only on the steps before it (no schedule
    that knows the run's length), so the first T steps of a longer run *are* the run of T steps, to the bit
    (tested). ``kept`` maps a step count to the two images ``(2, H, W)`` (MSE, perceptual) reached there;
    ``history`` ``(horizon + 1, 2)`` is both objectives at every step.
    """

    jitter: int
    depth: int
    targets: np.ndarray
    start: np.ndarray
    kept: dict[int, np.ndarray]
    history: np.ndarray
    reference: dict[str, tuple[float, float, float]]
    """(average MSE, average perceptual loss, edge energy) of each of :attr:`references`: the same at every step."""

    def at(self, steps: int) -> Reconstruction:
        """The :class:`Reconstruction` after ``steps`` steps, one of the kept counts."""
        if steps not in self.kept:
            raise ValueError(f"this descent kept the images after {sorted(self.kept)} steps, not {steps}")
        results = dict(zip(RESULTS, self.kept[steps], strict=True))
        scores = {**self.reference, **_scores(results, self.targets, self.depth)}
        return Reconstruction(
            images={**self.references, **results},
            mse={name: scores[name][0] for name in IMAGES},
            perceptual={name: scores[name][1] for name in IMAGES},
            sharpness={name: scores[name][2] for name in IMAGES},
            history=self.history[: steps + 1],
            jitter=self.jitter,
            steps=steps,
            depth=self.depth,
        )

    @property
    def references(self) -> dict[str, np.ndarray]:
        """The truth, the start and the pixel mean: the images each result is compared with."""
        return _references(self.targets, self.start)


RESULTS = ("MSE", "perceptual")
"""The images a :class:`Descent` reaches, one per loss (the last two of :data:`IMAGES`)."""


def _references(targets: np.ndarray, start: np.ndarray) -> dict[str, np.ndarray]:
    """The images the results are compared with: the truth (answer 1), the start and the answers' pixel mean."""
    return {"truth": targets[0], "start": start, "pixel mean": targets.mean(0)}


def _scores(images: dict[str, np.ndarray], targets: np.ndarray, depth: int) -> dict[str, tuple[float, float, float]]:
    """Each image's (average MSE, average perceptual loss, edge energy) against the answers ``targets``."""
    stack = np.stack(list(images.values()))
    with one_thread():
        mse, perceptual = average_losses(stack, targets, depth)
    sharpness = edge_energy(stack)
    return {name: (float(m), float(p), float(e)) for name, m, p, e in zip(images, mse, perceptual, sharpness, strict=True)}


def descend(jitter: int, depth: int, keep: Sequence[int]) -> Descent:
    """Adam from the low-res start on the average MSE and on the average perceptual loss over :func:`answers`,
    run to the largest of ``keep`` and kept after each of those step counts."""
    counts = sorted({int(k) for k in keep})
    if not counts or counts[0] < 0:
        raise ValueError(f"keep must name non-negative step counts, got {list(keep)!r}")
    targets = answers(jitter)
    start = low_res_start(targets[0])
    objective = AverageLoss(targets, depth)
    with one_thread():  # 64 × 64 images: a second thread costs more than it saves (7× here on a busy box)
        (trajectory,) = optim.run(objective.both, start.reshape(-1), [optim.Adam()], [LEARNING_RATE] * 2, counts[-1])
    return Descent(
        jitter=jitter,
        depth=depth,
        targets=targets,
        start=start,
        kept={k: trajectory.theta[k].reshape(2, *start.shape).copy() for k in counts},
        history=trajectory.value + np.array([0.0, objective.spread]),
        reference=_scores(_references(targets, start), targets, depth),
    )


def reconstruct(jitter: int, steps: int, depth: int) -> Reconstruction:
    """Adam from the low-res start on the average MSE and on the average perceptual loss over :func:`answers`,
    ``steps`` steps of each (:func:`descend` kept at ``steps``)."""
    return descend(jitter, depth, (steps,)).at(steps)
