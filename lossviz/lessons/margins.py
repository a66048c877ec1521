"""Lesson: margins and embeddings (the Margins & embeddings page).

Every answer comes from the panels of :mod:`lossviz.studies.margins` (:func:`~lossviz.studies.margins.panel`
draws the hinge, contrastive and cosine charts) and :func:`~lossviz.studies.margins.triplet_plane` (the
triplet plane and its numbers), at the link's margins and coordinates.

Its words are in ``margins.toml``; this module computes what they quote.
"""

from __future__ import annotations

import numpy as np

from lossviz.lessons import base as lb
from lossviz.studies import margins as es

PREFIX = "margins"
HINGE_MARGIN = "1.5"
CONTRASTIVE_MARGIN = "2"
COSINE_MARGIN = "0.5"
SCORES = {f"{PREFIX}_hinge_margin": HINGE_MARGIN, f"{PREFIX}_squared_hinge_margin": HINGE_MARGIN}
CONTRASTIVE = {f"{PREFIX}_contrastive_margin": CONTRASTIVE_MARGIN}
SEMI_HARD = {f"{PREFIX}_{name}": lb.link_value(v) for name, v in es.preset_coordinates("semi-hard").items()}
COSINE = {f"{PREFIX}_cosine_embedding_margin": COSINE_MARGIN}
NEGATIVE_X = es.COORDINATES["negative_x"]


def margin(state: lb.Query, loss: str) -> float:
    return lb.number(state, f"{PREFIX}_{loss}_margin", es.margin_param(loss))


def panel(state: lb.Query, key: str) -> es.Panel:
    """The panel ``key`` at the link's margins, as the page draws it."""
    return es.panel(key, {loss: margin(state, loss) for loss in es.PANELS[key][0]})


def series(state: lb.Query, key: str, loss: str, label_start: str = "") -> es.Series:
    """The curve of ``loss`` (the one whose legend starts with ``label_start``) in panel ``key``."""
    return next(s for s in panel(state, key).series if s.loss == loss and s.label.startswith(label_start))


def hinge_stops(state: lb.Query) -> float:
    """The smallest score y·p of the chart from which on the hinge's gradient is 0."""
    hinge = series(state, "binary", "hinge")
    pulling = np.flatnonzero(hinge.grad != 0)
    return float(hinge.x[pulling[-1] + 1])


def gradient_at(state: lb.Query, key: str, loss: str, label_start: str, x: float) -> float:
    s = series(state, key, loss, label_start)
    return float(np.interp(x, s.x, s.grad))


def free_angle(state: lb.Query) -> float:
    """The first angle (degrees) of the chart from which a dissimilar pair costs nothing."""
    s = series(state, "cosine", "cosine_embedding", "cosine embedding, y = −1")
    costing = np.flatnonzero(s.value > 0)
    return float(s.x[costing[-1] + 1])


REGION_WORDS = {
    "hard": "closer to the anchor than the positive",
    "semi-hard": "farther than the positive, but not by the margin",
    "easy": "farther than the positive by more than the margin",
}


def coordinates(state: lb.Query) -> dict[str, float]:
    return {name: lb.number(state, f"{PREFIX}_{name}", p) for name, p in es.COORDINATES.items()}


def plane(state: lb.Query) -> es.TripletPlane:
    return es.triplet_plane(es.triplet_from_coordinates(coordinates(state)), margin(state, "triplet"))


def becomes_easy(value: float, state: lb.Query) -> lb.Measured:
    p = plane(state)
    return lb.Measured(p.negative_region == "easy", f"L = {p.value:.4f}: the negative is {p.negative_region}")


def squared_hinge_at_zero(state: lb.Query) -> float:
    return gradient_at(state, "binary", "squared_hinge", "", 0.0)


def dissimilar_push(state: lb.Query) -> float:
    """∂L/∂d of the contrastive loss for a dissimilar pair whose points coincide (d = 0)."""
    return gradient_at(state, "contrastive", "contrastive", "dissimilar", 0.0)


def triplet_loss(state: lb.Query) -> float:
    return plane(state).value


def anchor_positive(state: lb.Query) -> float:
    """d(a, p), the anchor's distance to the positive."""
    return plane(state).d_ap


def anchor_negative(state: lb.Query) -> float:
    """d(a, n), the anchor's distance to the negative."""
    return plane(state).d_an


def negative_region(state: lb.Query) -> str:
    return plane(state).negative_region


def region_words(state: lb.Query) -> str:
    """What the negative's region means, in words."""
    return REGION_WORDS[negative_region(state)]


def cosine_margin(state: lb.Query) -> float:
    return margin(state, "cosine_embedding")


def free_angle_text(state: lb.Query) -> str:
    """:func:`free_angle` as a message quotes it."""
    return lb.fmt(free_angle(state))


LESSON = lb.load(__name__)
