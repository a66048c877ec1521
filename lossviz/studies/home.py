"""Where each loss is shown, and one-click presets that open a page in a telling state.

Plain data, so the home page stays thin and the links are tested (tests/pages/test_home.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lossviz.spec import LossSpec

# The page that shows each family best; pointwise losses are all on Curves too.
FAMILY_PAGE: dict[str, str] = {
    "regression": "pages/curves.py",
    "robust": "pages/outliers.py",
    "probabilistic": "pages/sequence.py",
    "classification": "pages/curves.py",
    "ranking": "pages/margins.py",
    "segmentation": "pages/segmentation.py",
    "generative": "pages/generative.py",
    "sequence": "pages/sequence.py",
    "regularization": "pages/training_lab.py",
    "custom": "pages/custom.py",
}

MULTICLASS_PAGE = "pages/landscape.py"
LOSS_PAGE: dict[str, str] = {"perceptual": "pages/perceptual.py"}
"""Losses with a page of their own, away from their family's."""


def page_for(spec: LossSpec) -> str:
    """The page path where ``spec`` is best seen."""
    if spec.name in LOSS_PAGE:
        return LOSS_PAGE[spec.name]
    if spec.family == "classification" and not spec.pointwise:
        return MULTICLASS_PAGE
    return FAMILY_PAGE[spec.family]


@dataclass(frozen=True)
class Preset:
    """A link that opens ``page`` with its controls set by ``query`` (URL keys of that page)."""

    title: str
    page: str
    description: str
    query: dict[str, str | list[str]] = field(default_factory=dict)


PRESETS: tuple[Preset, ...] = (
    Preset(
        "MSE vs MAE vs Huber with one outlier",
        "pages/outliers.py",
        "One point 25 units off the line: the MSE fit tilts towards it, MAE and Huber barely move.",
        {"outliers_losses": ["mse", "mae", "huber"], "outliers_count": "1", "outliers_size": "25"},
    ),
    Preset(
        "Focal γ sweep on 1:100 imbalance",
        "pages/focal.py",
        "Lin et al.'s Fig. 1, and how much of the loss the easy majority carries as γ grows.",
        {"focal_ratio": "100", "focal_focal_gamma": "2"},
    ),
    Preset(
        "Hinge vs squared hinge at the margin",
        "pages/curves.py",
        "The hinge's kink at y·p = m against the squared hinge's smooth but curvature-jumping shoulder.",
        {"curves_family": "Margins, ranking & embeddings", "curves_losses": ["hinge", "squared_hinge"]},
    ),
    Preset(
        "Dice vs BCE on a tiny object",
        "pages/segmentation.py",
        "Overlap losses weigh a few foreground pixels as much as a large object; per-pixel BCE does not.",
        {"segmentation_shape": "tiny object"},
    ),
)
