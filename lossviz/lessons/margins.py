"""Lesson: margins and embeddings (the Margins & embeddings page).

Every answer comes from the panels of :mod:`lossviz.studies.margins` (:func:`~lossviz.studies.margins.panel`
draws the hinge, contrastive and cosine charts) and :func:`~lossviz.studies.margins.triplet_plane` (the
triplet plane and its numbers), at the link's margins and coordinates.
"""

from __future__ import annotations

import numpy as np

from lossviz.lessons import base as lb
from lossviz.studies import margins as es

PAGE = "pages/margins.py"
PREFIX = "margins"
SCORES = {f"{PREFIX}_hinge_margin": "1.5", f"{PREFIX}_squared_hinge_margin": "1.5"}
CONTRASTIVE = {f"{PREFIX}_contrastive_margin": "2"}
SEMI_HARD = {f"{PREFIX}_{name}": lb.link_value(v) for name, v in es.preset_coordinates("semi-hard").items()}
COSINE = {f"{PREFIX}_cosine_embedding_margin": "0.5"}


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


LESSON = lb.Lesson(
    id="margins",
    title="Margins and embeddings",
    summary="Losses that ask for a margin, not a target: where they stop pulling, and how they push pairs apart.",
    steps=(
        lb.Step(
            "The hinge stops pulling",
            PAGE,
            f"Margins: hinge and squared hinge with m = {SCORES[f'{PREFIX}_hinge_margin']}",
            SCORES,
            "The first chart shows the hinge max(0, m − y·p) and the squared hinge against the score y·p, both "
            f"with margin m = {SCORES[f'{PREFIX}_hinge_margin']}; the bottom panel is their gradient. A point "
            "classified with a score beyond the margin no longer pulls on the model.",
            lb.NumberQuestion(
                "From which score y·p on is the hinge's gradient 0?",
                hinge_stops,
                tolerance=0.05,
                hint="Follow the hinge's gradient in the bottom panel from the left: it is −1 until it jumps to 0.",
                explain="The margin m: beyond it correctly classified points stop pulling, which is why only the "
                "support vectors near the boundary matter.",
            ),
        ),
        lb.Step(
            "A softer shoulder",
            PAGE,
            f"Margins: hinge and squared hinge with m = {SCORES[f'{PREFIX}_hinge_margin']}",
            SCORES,
            "The squared hinge max(0, m − y·p)² reaches 0 at the same margin, but smoothly: its gradient shrinks "
            "as the score approaches m, and it is steeper than the hinge far inside.",
            lb.NumberQuestion(
                "What is the squared hinge's gradient at y·p = 0?",
                lambda s: gradient_at(s, "binary", "squared_hinge", "", 0.0),
                tolerance=0.05,
                hint="Hover the squared hinge's gradient curve in the bottom panel at y·p = 0; it is −2(m − y·p).",
                explain="Twice the distance to the margin: large violations are punished quadratically.",
            ),
        ),
        lb.Step(
            "Pushing pairs apart",
            PAGE,
            f"Margins: contrastive loss with m = {CONTRASTIVE[f'{PREFIX}_contrastive_margin']}",
            CONTRASTIVE,
            "The contrastive loss pulls a similar pair together and pushes a dissimilar pair apart, but only while "
            f"it is closer than the margin m = {CONTRASTIVE[f'{PREFIX}_contrastive_margin']}. Look at the "
            "dissimilar pair's gradient (dashed) at d = 0.",
            lb.NumberQuestion(
                "How hard is a dissimilar pair pushed apart when its two points coincide (∂L/∂d at d = 0)?",
                lambda s: gradient_at(s, "contrastive", "contrastive", "dissimilar", 0.0),
                tolerance=0.05,
                hint="Read the dashed curve of the gradient panel at d = 0: ½·max(0, m − d)² has gradient −(m − d).",
                explain="The push is strongest, −m, when the points coincide, and fades to 0 at d = m.",
            ),
        ),
        lb.Step(
            "A triplet",
            PAGE,
            "Margins: a semi-hard triplet",
            SEMI_HARD,
            "Scroll to the triplet plane: an anchor a, a positive p of the same identity and a negative n of "
            "another. The background shows, for every position of the negative, whether it would be hard, "
            "semi-hard or easy.",
            lb.NumberQuestion(
                "What is the triplet loss L = max(0, d(a, p) − d(a, n) + m) of this triplet?",
                lambda s: plane(s).value,
                tolerance=0.002,
                hint="The numbers under the plane give d(a, p), d(a, n) and L.",
                explain=lambda s: (
                    f"d(a, p) = {plane(s).d_ap:.4f} and d(a, n) = {plane(s).d_an:.4f}: the negative is "
                    f"{plane(s).negative_region} — {REGION_WORDS[plane(s).negative_region]}."
                ),
            ),
        ),
        lb.Step(
            "Making it easy",
            PAGE,
            "Margins: a semi-hard triplet",
            SEMI_HARD,
            "Move the negative with its x slider (left of the plane) and watch the region it sits in and the loss.",
            lb.SettingQuestion(
                "Move the negative's x until the triplet is easy (L = 0). Which x did you set?",
                f"{PREFIX}_negative_x",
                es.COORDINATES["negative_x"],
                becomes_easy,
                hint="A negative is easy once d(a, n) ≥ d(a, p) + m: move it away from the anchor.",
                explain="An easy negative gives no loss and no gradient at all: it teaches nothing, which is why "
                "FaceNet trains on semi-hard ones.",
            ),
        ),
        lb.Step(
            "Angles, not lengths",
            PAGE,
            f"Margins: cosine embedding with m = {COSINE[f'{PREFIX}_cosine_embedding_margin']}",
            COSINE,
            "The cosine embedding loss looks only at the angle θ between two vectors. A dissimilar pair (y = −1, "
            "dashed) costs cos θ − m until the angle is wide enough.",
            lb.NumberQuestion(
                "From which angle θ (in degrees) on does a dissimilar pair cost nothing?",
                free_angle,
                tolerance=1.5,
                unit="°",
                hint="Follow the dashed curve to where it reaches 0; the dotted line marks it.",
                explain=lambda s: (
                    f"θ = arccos m: with m = {margin(s, 'cosine_embedding'):g} the vectors only need "
                    f"to be {lb.fmt(free_angle(s))}° apart."
                ),
            ),
        ),
    ),
)
