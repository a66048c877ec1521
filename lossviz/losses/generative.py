"""Generative losses: the GAN objectives of generator and discriminator, and total variation of an image.

GAN losses take the discriminator's output — a probability D ∈ [0, 1] for the original GAN, an
unbounded score for LSGAN, WGAN and hinge GAN — and, for the discriminator side, the label
1 (real sample) or 0 (fake sample). The generator side has no target: it always wants its fakes
to be called real.
"""

from __future__ import annotations

import torch

from lossviz.domains import BINARY, PROBABILITY, SCORE
from lossviz.losses._numerics import clamped_log, relu
from lossviz.registry import register
from lossviz.spec import Domain

IMAGE = Domain("image [H, W] (real pixel values)", plot_range=(0.0, 1.0))

_GOODFELLOW = "Goodfellow et al., Generative Adversarial Nets, NeurIPS 2014"
_MAO = "Mao et al., Least Squares Generative Adversarial Networks, ICCV 2017"
_ARJOVSKY = "Arjovsky, Chintala & Bottou, Wasserstein GAN, ICML 2017"
_LIM_YE = "Lim & Ye, Geometric GAN, 2017"
_MIYATO = "Miyato et al., Spectral Normalization for Generative Adversarial Networks, ICLR 2018"


@register(
    name="gan_generator_saturating",
    title="GAN generator, saturating (minimax)",
    family="generative",
    latex=r"\log\big(1 - D(G(z))\big)",
    use_when=(
        "Reading the original minimax game: the generator minimises log(1 − D). Its gradient −1/(1 − D) tends to "
        "−1 as D(G(z)) → 0, weak beside the non-saturating −1/D, so early in training, when the discriminator "
        "easily rejects the fakes (D(G(z)) ≈ 0), the generator barely learns (Goodfellow et al. 2014)."
    ),
    pred=PROBABILITY,
    target=None,
    references=(_GOODFELLOW,),
    note=(
        "Goodfellow's argument: d/dD log(1 − D) = −1/(1 − D) → −1 as D → 0, while d/dD (−log D) = −1/D → −∞, so "
        "the saturating loss gives a weak signal exactly when the fakes are worst. log 0 at D = 1 is clamped at "
        "−100 (the BCE convention), with gradient −1/max(1 − D, 1e-12)."
    ),
)
def gan_generator_saturating(pred: torch.Tensor, target: None = None) -> torch.Tensor:
    """log(1 − D), the generator's side of the minimax value function V(D, G).

    References: Goodfellow et al. 2014, eq. 1.

    .. note:: Saturates: the gradient −1/(1 − D) is about −1 where D(G(z)) ≈ 0.
    """
    return clamped_log(1.0 - pred)


@register(
    name="gan_generator_nonsaturating",
    title="GAN generator, non-saturating",
    family="generative",
    latex=r"-\log D(G(z))",
    use_when=(
        "The generator loss used in practice: same fixed point as the minimax game, but its gradient −1/D is "
        "strong when the discriminator confidently rejects the fakes (D(G(z)) ≈ 0)."
    ),
    pred=PROBABILITY,
    target=None,
    references=(_GOODFELLOW,),
    note="log 0 at D = 0 is clamped at −100 (the BCE convention), with gradient −1/max(D, 1e-12).",
)
def gan_generator_nonsaturating(pred: torch.Tensor, target: None = None) -> torch.Tensor:
    """−log D: binary cross-entropy of the fakes against the label "real".

    References: Goodfellow et al. 2014, section 3.
    """
    return -clamped_log(pred)


@register(
    name="gan_discriminator",
    title="GAN discriminator (binary cross-entropy)",
    family="generative",
    latex=r"-\big[y \log D + (1 - y)\log(1 - D)\big]",
    use_when="Training the discriminator of a standard GAN: classify real (y = 1) against generated (y = 0) samples.",
    pred=PROBABILITY,
    target=BINARY,
    references=(_GOODFELLOW, "torch.nn.functional.binary_cross_entropy"),
    note=(
        "Logs clamped at −100 as in torch's binary_cross_entropy. At D = y exactly lossviz gives the true "
        "derivative (−1 at D = y = 1, +1 at D = y = 0) where torch's (D − y)/max(D(1 − D), 1e-12) gives 0."
    ),
)
def gan_discriminator(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """−[y log D + (1 − y) log(1 − D)], the negated value function the discriminator maximises.

    References: Goodfellow et al. 2014, eq. 1; ``F.binary_cross_entropy`` with reduction "none".
    """
    return -(target * clamped_log(pred) + (1.0 - target) * clamped_log(1.0 - pred))


@register(
    name="lsgan_generator",
    title="LSGAN generator",
    family="generative",
    latex=r"\tfrac12\big(D(G(z)) - 1\big)^2",
    use_when=(
        "Least-squares GAN: the generator pulls its fakes' scores towards the real label 1 with a pull that "
        "grows with the distance, even for fakes the discriminator already calls real."
    ),
    pred=SCORE,
    target=None,
    references=(_MAO,),
    note="Mao et al.'s a–b–c coding with c = 1 (the value the generator wants D to give its fakes).",
)
def lsgan_generator(pred: torch.Tensor, target: None = None) -> torch.Tensor:
    """½(D − 1)².

    References: Mao et al. 2017, eq. 2 with c = 1.
    """
    return 0.5 * (pred - 1.0) ** 2


@register(
    name="lsgan_discriminator",
    title="LSGAN discriminator",
    family="generative",
    latex=r"\tfrac12 (D - y)^2",
    use_when="Least-squares GAN discriminator: regress the score to 1 for real and 0 for fake samples.",
    pred=SCORE,
    target=BINARY,
    references=(_MAO,),
    note="Mao et al.'s a–b–c coding with a = 0 (fake) and b = 1 (real).",
)
def lsgan_discriminator(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """½(D − y)², y = 1 real, 0 fake.

    References: Mao et al. 2017, eq. 2 with a = 0, b = 1.
    """
    return 0.5 * (pred - target) ** 2


@register(
    name="wasserstein_generator",
    title="Wasserstein GAN generator",
    family="generative",
    latex=r"-D(G(z))",
    use_when="WGAN: the generator raises the critic's score of its fakes; the gradient is a constant −1 per sample.",
    pred=SCORE,
    target=None,
    references=(_ARJOVSKY,),
    note="Linear in the score: all the shaping comes from the (Lipschitz-constrained) critic.",
)
def wasserstein_generator(pred: torch.Tensor, target: None = None) -> torch.Tensor:
    """−D.

    References: Arjovsky et al. 2017, algorithm 1.
    """
    return -pred


@register(
    name="wasserstein_critic",
    title="Wasserstein GAN critic",
    family="generative",
    latex=r"\begin{cases}-D & y = 1\ \text{(real)}\\ D & y = 0\ \text{(fake)}\end{cases}",
    use_when=(
        "WGAN critic: widen the gap between the scores of real and fake samples, an estimate of the Wasserstein-1 "
        "distance when the critic is 1-Lipschitz (weight clipping or a gradient penalty)."
    ),
    pred=SCORE,
    target=BINARY,
    references=(_ARJOVSKY,),
    note="Unbounded below without the Lipschitz constraint: the loss alone never stops pushing.",
)
def wasserstein_critic(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(1 − 2y)·D: −D for real samples (y = 1), +D for fakes (y = 0).

    References: Arjovsky et al. 2017, algorithm 1 (the critic minimises E[D(fake)] − E[D(real)]).
    """
    return (1.0 - 2.0 * target) * pred


@register(
    name="hinge_gan_generator",
    title="Hinge GAN generator",
    family="generative",
    latex=r"-D(G(z))",
    use_when="Hinge GAN (SAGAN, BigGAN): the generator raises the discriminator's score of its fakes, no margin.",
    pred=SCORE,
    target=None,
    references=(_LIM_YE, _MIYATO),
    note="The same function as the WGAN generator; the hinge is only on the discriminator's side.",
)
def hinge_gan_generator(pred: torch.Tensor, target: None = None) -> torch.Tensor:
    """−D.

    References: Lim & Ye 2017; Miyato et al. 2018, eq. 17.
    """
    return -pred


def _hinge_kinks(target: float | None) -> tuple[tuple[float, int], ...]:
    """max(0, 1 − D) bends at D = 1 (real), max(0, 1 + D) at D = −1 (fake); both when y is unknown."""
    if target is None:
        return ((-1.0, 1), (1.0, 1))
    return ((1.0, 1),) if target == 1 else ((-1.0, 1),)


@register(
    name="hinge_gan_discriminator",
    title="Hinge GAN discriminator",
    family="generative",
    latex=r"\begin{cases}\max(0,\ 1 - D) & y = 1\ \text{(real)}\\ \max(0,\ 1 + D) & y = 0\ \text{(fake)}\end{cases}",
    use_when=(
        "Hinge GAN discriminator (SAGAN, BigGAN): push real scores above +1 and fake scores below −1, then stop — "
        "samples beyond the margin give no gradient."
    ),
    pred=SCORE,
    target=BINARY,
    references=(_LIM_YE, _MIYATO),
    kinks=_hinge_kinks,
    note="Kink at D = 1 for real and D = −1 for fake samples: lossviz reports the subgradient 0 there.",
)
def hinge_gan_discriminator(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """max(0, 1 − D) for real samples (y = 1), max(0, 1 + D) for fakes (y = 0).

    References: Lim & Ye 2017; Miyato et al. 2018, eq. 16.
    """
    return torch.where(target == 1, relu(1.0 - pred), relu(1.0 + pred))


@register(
    name="total_variation",
    title="Total variation (squared, anisotropic)",
    family="generative",
    latex=r"\sum_{i,j} (x_{i,j+1} - x_{i,j})^2 + (x_{i+1,j} - x_{i,j})^2",
    use_when=(
        "A smoothness prior on generated or reconstructed images (style transfer, super-resolution, feature "
        "inversion): penalises differences between neighbouring pixels. Add it to the main loss with a small weight."
    ),
    pred=IMAGE,
    target=None,
    references=(
        "Johnson, Alahi & Fei-Fei, Perceptual Losses for Real-Time Style Transfer and Super-Resolution, ECCV 2016",
        "Rudin, Osher & Fatemi, Nonlinear total variation based noise removal algorithms, 1992 (the L1 form)",
    ),
    kind="structured",
    pred_event_ndim=2,
    note=(
        "The squared form (smooth, zero for any constant image); Rudin-Osher-Fatemi's total variation sums the "
        "absolute differences instead, which keeps edges. Horizontal differences run over H × (W − 1) pixel pairs, "
        "vertical ones over (H − 1) × W; the sum is per image, not a mean."
    ),
)
def total_variation(pred: torch.Tensor, target: None = None) -> torch.Tensor:
    """Σ (x[i, j+1] − x[i, j])² + Σ (x[i+1, j] − x[i, j])² over one image ``pred[..., H, W]``.

    Returns one value per image (shape ``pred.shape[:-2]``).

    References: Johnson et al. 2016 (the squared total-variation regulariser); Rudin, Osher & Fatemi 1992.
    """
    horizontal = pred[..., :, 1:] - pred[..., :, :-1]
    vertical = pred[..., 1:, :] - pred[..., :-1, :]
    return (horizontal**2).sum(dim=(-2, -1)) + (vertical**2).sum(dim=(-2, -1))
