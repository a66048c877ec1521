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
  under a second loss, PCA slice with the trajectory);
* the cost of recording a run's snapshots (what the training lab plays: every epoch up to 100, evenly spaced
  beyond), for several runs: training with recording (``tr.train``) against the same training without it,
  i.e. minus one more :func:`~lossviz.toolkit.training.record_snapshots` of the same run (the same work),
  CPU time, median of the repeats. Target: ≤ 1.3×.

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
TARGET_RECORDING = 1.3
RECORDED_RUNS = {
    "two moons, 100 epochs (default)": {},
    "two moons, 300 epochs": {"epochs": 300},
    "spiral, 4 classes, 100 epochs": {"data": tr.DataConfig("spiral", classes=4)},
    "1-D regression with outliers, 100 epochs": {"data": tr.DataConfig("regression")},
    "1-D regression, adaptive Barron loss": {"data": tr.DataConfig("regression"), "loss": "barron", "adaptive": True},
}
"""Runs whose recording cost is measured: the default, a long run (snapshots evenly spaced), a multi-class
decision surface, a fitted curve, and an adaptive loss (each snapshot with its own α and c)."""


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


def recording_rows(repeats: int) -> list[tuple[str, float, float, float]]:
    """(run, CPU s of training with recording, CPU s of recording alone, ratio) for :data:`RECORDED_RUNS`."""
    rows = []
    for name, changes in RECORDED_RUNS.items():
        config = tr.default_config(**changes)
        totals, records = [], []
        for _ in range(repeats):
            _wall, total, result = timed(lambda config=config: tr.train(config), torch.device("cpu"))
            _wall, record, _snapshots = timed(
                lambda result=result: tr.record_snapshots(result.setup, result.thetas, result.curves,
                                                          shapes=result.shapes),
                torch.device("cpu"),
            )
            totals.append(total)
            records.append(record)
        total, record = statistics.median(totals), statistics.median(records)
        rows.append((name, total, record, total / (total - record)))
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
    print("\n### Recording the snapshots (CPU)\n")
    print(f"| run | training with recording | recording | with / without | target ≤ {TARGET_RECORDING}× |")
    print("|---|---:|---:|---:|---|")
    for name, total, record, ratio in recording_rows(args.repeats):
        mark = "✓" if ratio <= TARGET_RECORDING else "✗"
        print(f"| {name} | {total * 1000:.0f} ms | {record * 1000:.0f} ms | {ratio:.2f}× | {mark} |")
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
