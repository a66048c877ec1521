"""Benchmark of the loss doctor: ``lossviz.formula.diagnose`` against one evaluation of the same formula.

Run from the repository root::

    python bench/diagnose.py

For a few formulas — among them one of exactly MAX_LENGTH characters — times, on the Custom page's
default view (p from −5 to 5 on 501 points, y = 0, parameters at 1), the whole diagnosis and one
``lossviz.evaluate(..., order=2)`` (value, gradient and curvature: what the page computes to draw the
curve), alternating the two, after a warm-up, with one torch thread. Prints a Markdown table of the
median wall and CPU times, their ratio (CPU), the number of evaluations the doctor made and the codes
it found.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from lossviz.engine import evaluate
from lossviz.formula import MAX_LENGTH, diagnose, parse_formula
from lossviz.formula import _diagnose as doctor
from lossviz.studies import custom as cg

REPEATS = 25
BIG = (
    "scale**2/2*log1p(((p - y)/scale)**2) + where(abs(p - y) <= delta, 0.5*(p - y)**2, delta*(abs(p - y) - "
    "0.5*delta)) + (1 - exp(-((p - y)/scale)**2/2)) + relu(abs(p - y) - margin) + tanh(p - y)**2 + "
    "maximum(p - y, 0)*tau + minimum(p - y, 0)*(tau - 1) + sqrt(1 + (p - y)**2) + scale**2/2*log1p(((p - "
    "y)/scale)**2) + where(abs(p - y) <= delta, 0.5*(p - y)**2, delta*(abs(p - y) - 0.5*delta)) + (1 - "
    "exp(-((p - y)/scale)**2/2)) + relu(abs(p - y) - margin) + softplus(p - y) + weight*log1p((p - y)**2/scale)"
)
"""MAX_LENGTH characters, 193 of the 200 nodes allowed: robust terms with kinks at p − y ∈ {−1, 0, 1}."""
FORMULAS = {
    "squared error": "(p - y)**2",
    "absolute error": "abs(p - y)",
    "Tukey biweight": "where(abs(p - y) <= c, c**2/6 * (1 - (1 - ((p - y)/c)**2)**3), c**2/6)",
    "log|p − y|": "log(abs(p - y))",
    f"MAX_LENGTH ({MAX_LENGTH} chars)": BIG,
}


def median_ms(fn: Callable[[], object], other: Callable[[], object], repeats: int) -> list[float]:
    """Median wall and CPU times (ms) of ``fn`` and ``other``: [fn wall, fn CPU, other wall, other CPU].

    The two run alternately so that both see the same load. With one torch thread the CPU time of this
    process equals the wall time on an idle core, and is far less disturbed by other processes on a
    shared machine.
    """
    fn(), other()  # warm-up
    times: list[list[float]] = [[], [], [], []]
    for _ in range(repeats):
        for k, f in enumerate((fn, other)):
            w0, c0 = time.perf_counter(), time.process_time()
            f()
            times[2 * k].append(time.perf_counter() - w0)
            times[2 * k + 1].append(time.process_time() - c0)
    return [statistics.median(t) * 1e3 for t in times]


def evaluations(text: str) -> int:
    """How many calls of lossviz.evaluate one diagnosis makes."""
    calls = []
    real = doctor.evaluate

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)

    doctor.evaluate = counted  # type: ignore[assignment]
    try:
        diagnose(text)
    finally:
        doctor.evaluate = real  # type: ignore[assignment]
    return len(calls)


def main() -> None:
    torch.set_num_threads(1)
    assert len(BIG) == MAX_LENGTH, len(BIG)
    x = cg.x_grid(cg.CENTER.default, cg.HALF_WIDTH.default)
    target = cg.TARGET.default
    print(f"Python {platform.python_version()}, torch {torch.__version__}, {platform.machine()}, one torch thread")
    print(f"grid: {x.size} points on [{x[0]:g}, {x[-1]:g}], y = {target:g}; medians of {REPEATS} alternating runs\n")
    print(
        "| formula | chars | nodes | diagnose wall / CPU (ms) | one evaluate wall / CPU (ms) | ratio (CPU) "
        "| evaluations | findings |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, text in FORMULAS.items():
        formula = parse_formula(text)
        spec = cg.spec_for("bench_formula", text, {})
        params = dict.fromkeys(formula.params, 1.0)
        found = diagnose(text)
        ours_wall, ours, once_wall, once = median_ms(
            lambda text=text: diagnose(text),
            lambda spec=spec, params=params: evaluate(spec, x, target, order=2, **params),
            REPEATS,
        )
        codes = ", ".join(sorted({f.code for f in found})) or "none"
        print(
            f"| {label} | {len(text)} | {formula.nodes} | {ours_wall:.1f} / {ours:.1f} | {once_wall:.2f} / {once:.2f} "
            f"| {ours / once:.1f} | "
            f"{evaluations(text)} | {codes} |"
        )
    assert np.isfinite(ours)


if __name__ == "__main__":
    main()
