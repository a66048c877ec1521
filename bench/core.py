"""Benchmark of the core: ``lossviz.evaluate`` on a 1000 × 1000 grid against hand-written NumPy.

Run from the repository root::

    python bench/core.py

Times (best of 15 runs each, alternating, after a warm-up, one torch thread) the value and gradient of Huber
and the value, gradient and curvature of the sigmoid focal loss over a grid of predictions ×
targets, against closed forms written directly in NumPy; and focal once more without its
closed-form ``grad_fn`` (autograd's double backward) to show what that buys. Both sides are
first checked to agree to 1e-9. Prints a Markdown table (the one recorded in docs/benchmarks.md).
"""

from __future__ import annotations

import dataclasses
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


def best_ms(ours: Callable[[], object], reference: Callable[[], object], repeats: int = REPEATS) -> list[float]:
    """Best wall and CPU times (ms) of ours and reference: [ours wall, ours CPU, ref wall, ref CPU].

    The two run alternately so that both see the same load. The CPU time of this (single-threaded)
    process equals the wall time on an idle core and is far less disturbed by other processes on a
    shared machine.
    """
    ours(), reference()  # warm-up
    best = [float("inf")] * 4
    for _ in range(repeats):
        for k, fn in enumerate((ours, reference)):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            best[2 * k] = min(best[2 * k], time.perf_counter() - wall)
            best[2 * k + 1] = min(best[2 * k + 1], time.process_time() - cpu)
    return [1e3 * t for t in best]


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

    # The same loss without its closed-form gradient: autograd's double backward, for comparison.
    focal_autograd_spec = dataclasses.replace(lossviz.spec("focal"), grad_fn=None)

    def focal_autograd() -> Arrays:
        res = lossviz.evaluate(focal_autograd_spec, logits, labels, order=2, gamma=FOCAL_GAMMA, alpha=FOCAL_ALPHA)
        return res.value, res.grad, res.curvature

    def focal_reference() -> Arrays:
        return focal_numpy(logits, labels, FOCAL_GAMMA, FOCAL_ALPHA)

    cases = [
        ("huber, value + grad (order=1)", huber_lossviz, lambda: huber_numpy(grid_pred, grid_target, HUBER_DELTA)),
        ("focal, value + grad + curvature (order=2)", focal_lossviz, focal_reference),
        ("focal without its grad_fn (autograd double backward)", focal_autograd, focal_reference),
    ]
    for name, ours, reference in cases:
        check_agree(name, ours(), reference())

    print(f"grid {N} × {N}, best of {REPEATS} after a warm-up, torch {torch.__version__} "
          f"({torch.get_num_threads()} thread), numpy {np.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print("| case | lossviz wall (ms) | NumPy wall (ms) | ratio | lossviz CPU (ms) | NumPy CPU (ms) | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, ours, reference in cases:
        ow, oc, rw, rc = best_ms(ours, reference)
        print(f"| {name} | {ow:.1f} | {rw:.1f} | {ow / rw:.2f} | {oc:.1f} | {rc:.1f} | {oc / rc:.2f} |")

if __name__ == "__main__":
    main()
