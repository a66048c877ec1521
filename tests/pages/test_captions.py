"""Text that follows the state: a number that a caption or a "what to notice" sentence quotes changes with the
controls, and agrees with the data of the chart it describes (read back from the figure, not recomputed).

Distill's momentum article once said β = 0.99 while its slider sat at 0.76 (distillpub/post--momentum#90).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import app_test, exceptions, figures, live_figures

from lossviz.studies import segmentation as ss


def run(page: str, query: dict[str, str | list[str]] | None = None, timeout: float = 180):
    at = app_test(page, timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


def texts(at) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption]


def quoted(at, pattern: str) -> tuple[float, ...]:
    """The numbers that ``pattern``'s groups capture in the one text of the page that matches it."""
    found = [m for t in texts(at) if (m := re.search(pattern, t))]
    assert len(found) == 1, (pattern, len(found))
    return tuple(float(g) for g in found[0].groups())


def trace(at, name: str) -> dict:
    """The one trace named ``name`` among all charts of the page, live charts included."""
    found = [t for fig in figures(at) + live_figures(at) for t in fig["data"] if t.get("name") == name]
    assert len(found) == 1, (name, len(found))
    return found[0]


def test_focal_share_caption_follows_gamma_and_the_share_chart() -> None:
    seen = []
    for gamma in ("0.5", "3"):
        at = run("focal", {"focal_focal_gamma": gamma})
        at_zero, live_gamma, at_gamma = quoted(
            at, r"With γ = 0 they carry ([\d.]+) % of the total loss; at γ = ([\d.]+), ([\d.]+) %"
        )
        curve, marker = trace(at, "share of the loss"), trace(at, f"live γ = {float(gamma):g}")
        assert live_gamma == float(gamma) and marker["x"][0] == pytest.approx(float(gamma))
        assert at_gamma == pytest.approx(marker["y"][0], abs=0.051)
        assert at_zero == pytest.approx(curve["y"][np.argmin(np.abs(curve["x"]))], abs=0.051)
        seen.append(at_gamma)
    assert seen[0] > seen[1]  # the share falls as γ grows


@pytest.mark.parametrize("softness", ["0.5", "3"])
def test_segmentation_plateau_follows_the_prediction_and_the_sweep_chart(softness: str) -> None:
    at = run(
        "segmentation",
        {"segmentation_shape": "tiny object", "segmentation_sweep": "shift", "segmentation_softness": softness},
    )
    (shift,) = quoted(at, r"beyond about ([\d.]+) pixels")
    dice = trace(at, "Dice")
    x, y = np.asarray(dice["x"]), np.asarray(dice["y"])
    right = x >= 0
    top, bottom = y[right].max(), y[right].min()
    first = x[right][np.flatnonzero(y[right] >= top - ss.PLATEAU_TOLERANCE * (top - bottom))[0]]
    assert shift == first


def test_segmentation_plateau_moves_with_the_softness() -> None:
    at = run("segmentation", {"segmentation_shape": "tiny object"})
    (before,) = quoted(at, r"beyond about ([\d.]+) pixels")
    at.slider(key="segmentation_softness").set_value(3.0).run()
    (after,) = quoted(at, r"beyond about ([\d.]+) pixels")
    assert after > before


def test_tv_caption_quotes_the_psnr_peak_of_the_chart() -> None:
    peaks = []
    at = run("generative")
    for noise in (0.05, 0.3):
        at.slider(key="generative_noise").set_value(noise).run()
        assert not exceptions(at)
        weight, db = quoted(at, r"PSNR peaks at λ = ([\d.e+-]+) \(([\d.]+) dB\)")
        psnr = trace(at, "PSNR of x")
        best = int(np.argmax(psnr["y"]))
        assert weight == pytest.approx(psnr["x"][best], rel=1e-6) and db == pytest.approx(psnr["y"][best], abs=0.006)
        peaks.append(weight)
    assert peaks[0] < peaks[1]  # more noise wants more smoothing


def test_landscape_caption_quotes_the_critical_rate_of_the_plotted_data() -> None:
    rates = []
    at = run("landscape", {"landscape_fit_losses": ["mse"]})
    for n in (40, 12):
        at.slider(key="landscape_fit_n").set_value(n).run()
        assert not exceptions(at)
        curvature, critical, _ = quoted(at, r"λ_max = ([\d.]+), .* η < 2/λ_max = ([\d.]+) .* \(η = ([\d.]+) now\)")
        x = np.concatenate([trace(at, "data")["x"], trace(at, "outliers")["x"]])
        assert x.size == n
        hessian = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])  # of F = mean((w·x + b − y)²)
        top = np.linalg.eigvalsh(hessian)[-1]
        assert curvature == pytest.approx(top, rel=2e-4) and critical == pytest.approx(2 / top, rel=2e-4)
        rates.append(critical)
    assert rates[0] != rates[1]
