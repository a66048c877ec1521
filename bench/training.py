"""Benchmark of the training lab and the neural landscapes.

Run from the repository root::

    python bench/training.py              # CPU (and CUDA too when a GPU is present)
    python bench/training.py --repeats 9

Measures, with one torch thread (what the lab uses), on the default configuration (two moons, 300 points,
MLP 2 × 16 × 16 × 1 ReLU, BCE with logits, Adam η = 0.01, batch 32, 100 epochs):

* a default training run: the first in the process (cold) and the median of later ones (warm);
* a cached run (``cached_train`` hit);
* the 41 × 41 filter-normalised random slice of the trained MLP: batched (all 1681 parameter vectors in one
  batch) against the naive loop (one forward pass per grid point), in the same process, after checking
  that both give the same numbers to 1e-12; the speed-up is loop / batched;
* everything the Neural landscape page computes for a new run (1-D interpolation, random slice, the slice
  under a second loss, PCA slice with the trajectory).

Times are reported as wall time and as the process's CPU time (on a shared machine the CPU time is what the
work takes on an idle core). With ``cuda`` available, the same rows are measured on the GPU (wall time,
synchronised). Prints a Markdown table (the one recorded in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from lossviz.studies import neural_landscape as nl
from lossviz.toolkit import training as tr

TARGET_TRAIN_S = 3.0
TARGET_SLICE_S = 2.0


def timed(fn: Callable[[], object], device: torch.device) -> tuple[float, float, object]:
    """(wall s, CPU s, result) of one call, synchronising CUDA around it."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def median_of(fn: Callable[[], object], device: torch.device, repeats: int) -> tuple[float, float]:
    runs = [timed(fn, device)[:2] for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def bench_device(device: torch.device, repeats: int) -> list[tuple[str, float, float, str]]:
    rows: list[tuple[str, float, float, str]] = []
    config = tr.default_config()

    wall, cpu, result = timed(lambda: tr.train(config, device=device), device)
    rows.append(("default training run, cold (first in the process)", wall, cpu,
                 "✓" if cpu < TARGET_TRAIN_S else "✗"))
    wall, cpu = median_of(lambda: tr.train(config, device=device), device, repeats)
    rows.append((f"default training run, warm (median of {repeats})", wall, cpu, "✓" if cpu < TARGET_TRAIN_S else "✗"))

    tr.RUNS.put(tr.canonical(config), tr.get_spec(config.loss), result)
    wall, cpu = median_of(lambda: tr.cached_train(config), device, repeats)
    rows.append(("cached run (hit)", wall, cpu, ""))

    objective = nl.objective_for(result, device=device)
    plane = nl.random_plane(result.setup.model, result.theta_final, 0)
    xs = np.linspace(-1.0, 1.0, 41)
    batched = nl.surface(objective, plane, xs, xs)
    loop_wall, loop_cpu, looped = timed(lambda: nl.surface_loop(objective, plane, xs, xs), device)
    np.testing.assert_allclose(batched, looped, rtol=1e-12, atol=1e-14)
    wall, cpu = median_of(lambda: nl.surface(objective, plane, xs, xs), device, repeats)
    rows.append((f"41×41 slice, batched (median of {repeats})", wall, cpu, "✓" if cpu < TARGET_SLICE_S else "✗"))
    rows.append(("41×41 slice, naive per-point loop", loop_wall, loop_cpu, ""))
    rows.append(("→ speed-up of the batched slice", loop_wall / wall, loop_cpu / max(cpu, 1e-9), "×"))

    def page() -> None:
        nl.compute_interpolation(result)
        nl.compute_random_slice(result, 41, 1.0, 0)
        nl.compute_random_slice(result, 41, 1.0, 0, loss="mse")
        nl.compute_pca_slice(result, 41)

    wall, cpu = median_of(page, device, max(1, repeats // 2))
    rows.append(("Neural landscape page, all computations for a new run", wall, cpu, ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"torch {torch.__version__} (1 thread), numpy {np.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores, load average {load:.1f} at the start"
        + (f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no GPU")
    )
    for device in devices:
        print(f"\n### {device.type.upper()}\n")
        print("| what | wall | CPU | target |")
        print("|---|---:|---:|---|")
        for name, wall, cpu, note in bench_device(device, args.repeats):
            if note == "×":
                print(f"| {name} | {wall:.1f}× | {cpu:.1f}× | |")
            else:
                print(f"| {name} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms | {note} |")
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
