"""Perceptual loss: the squared distance between the features φ of two images, not between their pixels.

Johnson, Alahi & Fei-Fei (2016) compare a generated image with its target through the activations of a
fixed network (VGG-16 trained on ImageNet): two images that differ by a one-pixel shift have almost the
same features, while a blurred image, whose pixels are close, has lost the edges the features respond to.

φ in lossviz is **not a trained network**. It is a fixed, fully specified filter bank in the spirit of the
early layers of V1 models and of the "fixed features" literature, built in NumPy at import, no weights,
no download:

* a Gaussian pyramid of ``depth`` levels (Burt & Adelson 1983): level 0 is the image; level l + 1 is level l
  blurred by :data:`BLUR` (σ = 1 pixel) and sampled at every other pixel;
* at every level, quadrature pairs of oriented Gabor filters (Daugman 1985): :data:`ORIENTATIONS` angles
  × :data:`WAVELENGTHS` (2.5 and 4 pixels per cycle), 9 × 9 taps, envelope σ = 0.45 λ, the even filter
  made zero-mean so that a flat patch gives no response;
* rectification as local energy, E = √(even² + odd² + ε²) − ε (the energy model of complex cells,
  Adelson & Bergen 1985): E follows the contrast of an edge, not its phase, so it changes smoothly as
  the edge moves;
* spatial pooling: E blurred by the same σ = 1 Gaussian and averaged over 2 × 2 blocks;
* the deepest level also carries the local mean luminance (that level blurred and pooled the same way),
  so that φ keeps the image's brightness, which the energies ignore.

φ_j(x) is the stack of level j's pooled maps, ``C_j × H_j × W_j`` (C_j = 8, plus 1 at the deepest level).
The loss follows Johnson et al.'s feature reconstruction loss, one term per level, each a mean over its
features (their eq. 2), summed over the levels::

    L(p, y) = Σ_{j=1..depth} 1/(C_j H_j W_j) · ‖φ_j(p) − φ_j(y)‖²

Borders are padded by replicating the edge pixels. Images are ``[..., H, W]`` with H, W ≥ :data:`MIN_SIZE`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from lossviz.errors import DomainError
from lossviz.losses.generative import IMAGE
from lossviz.registry import register
from lossviz.spec import Param

WAVELENGTHS = (2.5, 4.0)
"""Gabor wavelengths in pixels per cycle at each pyramid level (2.5 is close to the finest a grid can show)."""
ORIENTATIONS = 4
"""Gabor orientations, evenly spaced over 180°: 0°, 45°, 90°, 135°."""
ENVELOPE = 0.45
"""The Gabor envelope's σ as a fraction of its wavelength (about 1.3 octaves of bandwidth)."""
TAPS = 9
"""Width and height of a Gabor filter in pixels."""
ENERGY_EPS = 0.01
"""ε of the energy √(even² + odd² + ε²) − ε: keeps its gradient finite (≤ 1) where a patch is flat."""
BLUR_SIGMA = 1.0
"""σ in pixels of the Gaussian that blurs before every subsampling (pyramid and pooling)."""
MIN_SIZE = 8
"""The smallest image height and width: the deepest of 3 levels is then 2 × 2, pooled to 1 × 1."""

DEPTH = Param(
    "depth",
    3,
    low=1,
    high=3,
    integer=True,
    step=1,
    symbol="L",
    description=(
        "Pyramid levels of φ whose features enter the loss, finest first: 1 compares fine-scale edges pooled over "
        "2 × 2 pixels; 3 adds coarser levels, each pooled over twice as many pixels (more tolerant of shifts)."
    ),
)


def _gaussian_kernel(sigma: float = BLUR_SIGMA) -> np.ndarray:
    """A normalised 2-D Gaussian, 2⌈2σ⌉ + 1 taps wide."""
    radius = math.ceil(2 * sigma)
    t = np.arange(-radius, radius + 1.0)
    g = np.exp(-(t**2) / (2 * sigma**2))
    g /= g.sum()
    return np.outer(g, g)


def gabor_bank(
    wavelengths: tuple[float, ...] = WAVELENGTHS, orientations: int = ORIENTATIONS, taps: int = TAPS
) -> np.ndarray:
    """Quadrature Gabor pairs ``[2·len(wavelengths)·orientations, taps, taps]``: even, odd, even, odd, …

    For each wavelength λ (outer loop) and angle θ = kπ/orientations (inner loop): the even filter
    g(x)·cos(2πu/λ) minus g(x) times its own mean over g (zero response to a constant image), and the
    odd filter g(x)·sin(2πu/λ), where u = x cos θ + y sin θ and g is a Gaussian envelope of σ = 0.45 λ.
    Each pair is scaled so that each of its filters has unit L2 norm on average (Σ even² + Σ odd² = 2).

    References: Daugman, Uncertainty relation for resolution in space, spatial frequency, and orientation
    optimized by two-dimensional visual cortical filters, JOSA A 1985.
    """
    half = taps // 2
    y, x = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    filters = []
    for wavelength in wavelengths:
        envelope = np.exp(-(x**2 + y**2) / (2 * (ENVELOPE * wavelength) ** 2))
        for k in range(orientations):
            theta = math.pi * k / orientations
            phase = 2 * math.pi * (x * math.cos(theta) + y * math.sin(theta)) / wavelength
            even = envelope * np.cos(phase)
            even -= envelope * (even.sum() / envelope.sum())
            odd = envelope * np.sin(phase)
            scale = math.sqrt(((even**2).sum() + (odd**2).sum()) / 2)
            filters += [even / scale, odd / scale]
    return np.stack(filters)


GABOR = torch.from_numpy(gabor_bank()[:, None])
"""The bank as conv2d weights ``[16, 1, 9, 9]`` (float64)."""
BLUR = torch.from_numpy(_gaussian_kernel()[None, None])
"""The σ = 1 Gaussian as conv2d weights ``[1, 1, 5, 5]`` (float64)."""
CHANNELS = GABOR.shape[0] // 2
"""Energy maps per level: one per Gabor pair (8)."""


def _filter(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Correlate ``x [N, C, H, W]`` with ``kernel [K, 1, k, k]``, padding by replicating the border.

    With K > 1, C must be 1 and the result has K channels; with K = 1 each channel is filtered alike.
    """
    pad = kernel.shape[-1] // 2
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    channels = x.shape[1]
    if kernel.shape[0] == 1 and channels > 1:
        return F.conv2d(padded, kernel.expand(channels, 1, -1, -1), groups=channels)
    return F.conv2d(padded, kernel)


def _pool(x: torch.Tensor) -> torch.Tensor:
    """Blur, then average 2 × 2 blocks (a trailing odd row or column is dropped)."""
    return F.avg_pool2d(_filter(x, BLUR), 2)


def features(image: torch.Tensor, depth: int = DEPTH.default) -> list[torch.Tensor]:
    """φ(image): one tensor ``[..., C_j, H_j, W_j]`` per pyramid level j < ``depth`` (see the module docstring).

    ``image`` is ``[..., H, W]`` (float64 for lossviz.evaluate); the leading axes are kept. Level j has
    ⌈H / 2ʲ⌉ × ⌈W / 2ʲ⌉ pixels before pooling and half that after; C_j = 8 energies, plus the luminance
    map at the deepest level.
    """
    batch, (height, width) = image.shape[:-2], image.shape[-2:]
    x = image.reshape(-1, 1, height, width)
    out = []
    for level in range(depth):
        if level:
            x = _filter(x, BLUR)[..., ::2, ::2]
        response = _filter(x, GABOR)
        pairs = response.reshape(response.shape[0], CHANNELS, 2, *response.shape[-2:])
        energy = torch.sqrt((pairs**2).sum(2) + ENERGY_EPS**2) - ENERGY_EPS
        maps = _pool(energy)
        if level == depth - 1:
            maps = torch.cat([maps, _pool(x)], dim=1)
        out.append(maps.reshape(*batch, *maps.shape[1:]))
    return out


def feature_distance(pred_features: list[torch.Tensor], target_features: list[torch.Tensor]) -> torch.Tensor:
    """Σ_j mean over (C_j, H_j, W_j) of (φ_j(p) − φ_j(y))², from the two feature lists of :func:`features`.

    ``target_features`` need not be φ of an image: the mean of φ over several images gives their average
    loss up to a constant (Σ_k ‖a − b_k‖² = K‖a − b̄‖² + Σ_k ‖b_k − b̄‖²).
    """
    terms = [((p - t) ** 2).mean(dim=(-3, -2, -1)) for p, t in zip(pred_features, target_features, strict=True)]
    return torch.stack(terms).sum(0)


def _check_perceptual(pred: np.ndarray, target: np.ndarray | None, params: Mapping[str, float]) -> None:
    assert target is not None
    p_hw, t_hw = pred.shape[-2:], target.shape[-2:]
    if p_hw != t_hw:
        raise DomainError(
            f"pred and target of 'perceptual' must have the same image size (H, W); got {p_hw} "
            f"(pred of shape {pred.shape}) and {t_hw} (target of shape {target.shape})"
        )
    if min(p_hw) < MIN_SIZE:
        raise DomainError(
            f"images of 'perceptual' must be at least {MIN_SIZE} × {MIN_SIZE} pixels (φ pools over up to 3 "
            f"pyramid levels); got {p_hw[0]} × {p_hw[1]}"
        )


@register(
    name="perceptual",
    title="Perceptual (feature reconstruction) loss",
    family="generative",
    latex=r"\sum_{j=1}^{L} \frac{1}{C_j H_j W_j}\,\big\|\phi_j(p) - \phi_j(y)\big\|_2^2",
    use_when=(
        "Image outputs judged by eye (super-resolution, style transfer, reconstruction): compares what a fixed "
        "feature extractor φ sees — oriented edges and textures, pooled over small regions — instead of pixels, "
        "so a one-pixel shift costs little and a blur costs a lot, the reverse of MSE."
    ),
    pred=IMAGE,
    target=IMAGE,
    params=(DEPTH,),
    references=(
        "Johnson, Alahi & Fei-Fei, Perceptual Losses for Real-Time Style Transfer and Super-Resolution, ECCV 2016",
        "Adelson & Bergen, Spatiotemporal energy models for the perception of motion, JOSA A 1985 (the energy model)",
        "Burt & Adelson, The Laplacian Pyramid as a Compact Image Code, IEEE Trans. Communications 1983",
    ),
    kind="structured",
    pred_event_ndim=2,
    target_event_ndim=2,
    check_inputs=_check_perceptual,
    note=(
        "φ is a fixed filter bank, not VGG: a Gaussian pyramid, quadrature Gabor pairs (4 orientations, "
        "wavelengths 2.5 and 4 pixels) rectified as local energy √(even² + odd² + ε²) − ε with ε = 0.01, blurred "
        "and pooled over 2 × 2 pixels, plus the pooled luminance at the deepest level; borders replicate the edge "
        "pixels. Each level's term is a mean over its features (Johnson et al.'s 1/(C_j H_j W_j)); images need "
        "at least 8 × 8 pixels."
    ),
)
def perceptual(pred: torch.Tensor, target: torch.Tensor, *, depth: int = DEPTH.default) -> torch.Tensor:
    """Σ_j mean((φ_j(pred) − φ_j(target))²) over the first ``depth`` levels of φ, per image ``[..., H, W]``.

    Returns one value per image (shape: the broadcast batch axes).

    References: Johnson, Alahi & Fei-Fei 2016, eq. 2 (one term per layer, here per pyramid level);
    φ is this module's fixed filter bank (module docstring), not VGG-16.
    """
    return feature_distance(features(pred, depth), features(target, depth))
