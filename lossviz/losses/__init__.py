"""The built-in loss catalogue: one module per family, one function per loss.

Importing this package registers every built-in loss.
"""

from lossviz.losses import (  # noqa: F401  (imported for registration)
    classification,
    generative,
    perceptual,
    probabilistic,
    ranking,
    regression,
    regularization,
    robust,
    segmentation,
    sequence,
)
