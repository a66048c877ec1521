"""Benchmark of the core: ``lossviz.evaluate`` on a 1000 × 1000 grid against hand-written NumPy.

Run from the repository root::

    python bench/core.py

Times (best of 15 runs each, alternating, after a warm-up, one torch thread) the value and gradient of Huber
and the value, gradient and curvature of the sigmoid focal loss over a grid of predictions ×
targets, against closed forms written directly in NumPy. Both sides are first checked to agree
to 1e-9. Prints a Markdown table (the one recorded in docs/benchmarks.md).
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import lossviz

N = 1000
REPEATS = 15
RTOL, ATOL = 1e-9, 1e-12
HUBER_DELTA = 1.0
FOCAL_GAMMA, FOCAL_ALPHA = 2.0, 0.25

Arrays = tuple[np.ndarray, ...]


def huber_numpy(pred: np.ndarray, target: np.ndarray, delta: float) -> Arrays:
    """Huber value ½r² (|r| ≤ δ) or δ(|r| − ½δ), and its gradient: r clipped to [−δ, δ]."""
    r = pred - target
    a = np.abs(r)
    value = np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))
    return value, np.clip(r, -delta, delta)


def focal_numpy(x: np.ndarray, y: np.ndarray, gamma: float, alpha: float) -> Arrays:
    """Sigmoid focal loss L = α_t·A·CE, its gradient and curvature in closed form.

    With s = 2y − 1, z = s·x, p_t = σ(z), CE = softplus(−z), A = (1 − p_t)^γ = e^{−γ softplus(z)}:
    dL/dz = α_t·A·B with B = −γ σ(z)·CE − σ(−z), and
    d²L/dz² = α_t·A·(−γ σ(z)·B + σ(z)σ(−z)·(γ(1 − CE) + 1)); dL/dx = s·dL/dz, d²L/dx² = d²L/dz².
    """
    s = 2.0 * y - 1.0
    z = s * x
    e = np.exp(-np.abs(z))
    log1p_e = np.log1p(e)
    softplus_pos = np.maximum(z, 0.0) + log1p_e
    ce = np.maximum(-z, 0.0) + log1p_e
    inv = 1.0 / (1.0 + e)
    positive = z >= 0
    sig_pos = np.where(positive, inv, e * inv)
    sig_neg = np.where(positive, e * inv, inv)
    alpha_t = alpha * y + (1.0 - alpha) * (1.0 - y)
    weighted = alpha_t * np.exp(-gamma * softplus_pos)
    b = -gamma * sig_pos * ce - sig_neg
    value = weighted * ce
    grad = s * weighted * b
    curvature = weighted * (-gamma * sig_pos * b + sig_pos * sig_neg * (gamma * (1.0 - ce) + 1.0))
    return value, grad, curvature


def best_ms(ours: Callable[[], object], reference: Callable[[], object], repeats: int = REPEATS) -> tuple[float, float]:
    """Best times (ms) of the two, run alternately so that both see the same load on a shared machine."""
    ours(), reference()  # warm-up
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, out in ((ours, times[0]), (reference, times[1])):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return 1e3 * min(times[0]), 1e3 * min(times[1])


def check_agree(name: str, ours: Arrays, reference: Arrays) -> None:
    for what, a, b in zip(("value", "grad", "curvature"), ours, reference, strict=False):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=f"{name} {what}")


def main() -> None:
    torch.set_num_threads(1)
    grid_pred = np.linspace(-3.0, 3.0, N)[None, :]
    grid_target = np.linspace(-3.0, 3.0, N)[:, None]
    logits = np.linspace(-6.0, 6.0, N)[None, :]
    labels = (np.arange(N) % 2).astype(np.float64)[:, None]

    def huber_lossviz() -> Arrays:
        res = lossviz.evaluate("huber", grid_pred, grid_target, order=1, delta=HUBER_DELTA)
        return res.value, res.grad

    def focal_lossviz() -> Arrays:
        res = lossviz.evaluate("focal", logits, labels, order=2, gamma=FOCAL_GAMMA, alpha=FOCAL_ALPHA)
        return res.value, res.grad, res.curvature

    cases = [
        ("huber, value + grad (order=1)", huber_lossviz, lambda: huber_numpy(grid_pred, grid_target, HUBER_DELTA)),
        (
            "focal, value + grad + curvature (order=2)",
            focal_lossviz,
            lambda: focal_numpy(logits, labels, FOCAL_GAMMA, FOCAL_ALPHA),
        ),
    ]
    for name, ours, reference in cases:
        check_agree(name, ours(), reference())

    print(f"grid {N} × {N}, best of {REPEATS} after a warm-up, torch {torch.__version__} "
          f"({torch.get_num_threads()} thread), numpy {np.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print("| case | lossviz.evaluate (ms) | NumPy closed form (ms) | ratio |")
    print("|---|---:|---:|---:|")
    for name, ours, reference in cases:
        t_ours, t_ref = best_ms(ours, reference)
        print(f"| {name} | {t_ours:.1f} | {t_ref:.1f} | {t_ours / t_ref:.2f} |")


if __name__ == "__main__":
    main()
