"""Benchmark of the three upload paths on a file at the row limit (200,000 rows).

Run from the repository root::

    python bench/upload.py               # 200,000 rows, median of 3
    python bench/upload.py --rows 50000 --repeats 5

The file is generated in memory (never written): x uniform in [0, 100], a second feature, y = 3x + 20
plus Gaussian noise with 2 % gross outliers, a model's prediction of y, and a three-class label; 6.9 MB
of CSV at 200,000 rows. Each row of the table is one step a page runs when the file arrives, timed as wall and
process CPU time:

* **baseline**: ``pandas.read_csv`` on the same bytes with no checks at all: the ratio column is each
  step's time over it, measured in the same run;
* parsing with every check (:func:`lossviz.toolkit.tables.read_csv`: size, encoding, NUL bytes, delimiter
  sniffing, row and column limits, duplicate headers);
* Outlier sensitivity: choosing and cleaning the (x, y) columns, then the MSE, Huber and MAE line fits
  (the page fits every chosen loss);
* Curves' predictions vs targets: value and gradient of MSE, MAE and Huber over all the pairs with their
  tail shares;
* Training lab: choosing features and target (task inferred), the content digest, the seeded sample of
  1,000 rows with its split and standardisation, and a default training run on it (100 epochs).

A second table times the exact fits of the kinked losses (MAE, quantile τ = 0.9, ε-insensitive with its
default ε = 0.5) through the same (x, y) rows against the best exact reference found, scipy's HiGHS on the
linear program (:func:`lp_optimum`), in the same run: both times, their ratio, and the relative gap of the
objectives (F_lossviz − F_LP) / F_LP.

Prints both Markdown tables (the ones recorded in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy
import scipy.sparse as sp
import torch
from scipy.optimize import linprog

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from lossviz.studies import outliers as rf
from lossviz.studies.curves import analyze_pairs
from lossviz.toolkit import fit as fitting
from lossviz.toolkit import tables as ud
from lossviz.toolkit import tables as upload
from lossviz.toolkit import training as tr


def make_file(rows: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 100, rows)
    y = 3 * x + 20 + rng.normal(0, 5, rows)
    outliers = rng.random(rows) < 0.02
    y[outliers] += rng.uniform(100, 400, outliers.sum())
    frame = pd.DataFrame(
        {
            "x": np.round(x, 4),
            "second": np.round(rng.normal(size=rows), 4),
            "y": np.round(y, 4),
            "prediction": np.round(3 * x + 20 + rng.normal(0, 3, rows), 4),
            "label": rng.choice(["a", "b", "c"], rows, p=[0.6, 0.3, 0.1]),
        }
    )
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


KINKED_FITS = (("mae", {}), ("quantile", {"tau": 0.9}), ("epsilon_insensitive", {"epsilon": 0.5}))
"""The losses with gradient jumps a page fits lines with, each with the parameters timed."""


def lp_optimum(loss: str, x: np.ndarray, y: np.ndarray, params: dict[str, float]) -> float:
    """min over (a, b) of Σᵢ ρ(a + b·xᵢ, yᵢ), solved by scipy's HiGHS (interior point, then crossover).

    The dual linear programs, with X = [1, x] (n × 2), solved as given: for the pinball loss
    ρ_τ(y − p), max yᵀd subject to Xᵀd = 0, τ − 1 ≤ dᵢ ≤ τ (Koenker & Bassett 1978; MAE: −1 ≤ dᵢ ≤ 1);
    for ε-insensitive max(0, |p − y| − ε), max yᵀd − ε‖d‖₁ subject to Xᵀd = 0, |dᵢ| ≤ 1, with
    d = u − v, 0 ≤ u, v ≤ 1. Two equality rows: HiGHS solves them far faster than the primal programs
    (2n + 2 or n + 2 columns, 2n rows), whose optimum is the same number.
    """
    xt = sp.csr_matrix(np.column_stack([np.ones_like(x), x]).T)
    if loss == "epsilon_insensitive":
        eps = params["epsilon"]
        res = linprog(
            np.r_[eps - y, eps + y], A_eq=sp.hstack([xt, -xt]), b_eq=np.zeros(2), bounds=(0.0, 1.0), method="highs-ipm"
        )
    else:
        lo, hi = (-1.0, 1.0) if loss == "mae" else (params["tau"] - 1.0, params["tau"])
        res = linprog(-y, A_eq=xt, b_eq=np.zeros(2), bounds=(lo, hi), method="highs-ipm")
    if res.status != 0:
        raise RuntimeError(f"HiGHS: {res.message}")
    return -float(res.fun)


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn`` over ``repeats`` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = make_file(args.rows)
    frame = upload.read_csv(data)
    cleaned = upload.select_numeric(frame, ["x", "y"])
    points = rf.user_data(cleaned.columns["x"], cleaned.columns["y"])
    pairs = upload.select_numeric(frame, ["prediction", "y"], allow_constant=["prediction", "y"])
    table = upload.select_dataset(frame, ["x", "second"], "label")
    source = ud.from_table(table, "label", "bench.csv")

    steps: list[tuple[str, Callable[[], object]]] = [
        ("baseline: pandas.read_csv, no checks", lambda: pd.read_csv(io.BytesIO(data))),
        ("read_csv with every check", lambda: upload.read_csv(data)),
        ("Outliers: choose and clean (x, y)", lambda: upload.select_numeric(frame, ["x", "y"])),
        ("Outliers: MSE line fit", lambda: rf.fit_study("mse", {}, points)),
        ("Outliers: Huber line fit (δ = 1)", lambda: rf.fit_study("huber", {"delta": 1.0}, points)),
        ("Outliers: MAE line fit", lambda: rf.fit_study("mae", {}, points)),
        (
            "Curves: MSE, MAE, Huber over the pairs",
            lambda: analyze_pairs(["mse", "mae", "huber"], pairs.columns["prediction"], pairs.columns["y"]),
        ),
        ("Lab: features, target, task inferred", lambda: upload.select_dataset(frame, ["x", "second"], "label")),
        ("Lab: content digest", lambda: ud.from_table(table, "label", "bench.csv")),
        ("Lab: sample 1,000 rows, split, standardise", source.make),
        ("Lab: default training run (1,000 rows, 100 epochs)", lambda: tr.train(tr.default_config(source))),
    ]
    print(
        f"# {args.rows:,} rows, {len(data) / 1e6:.1f} MB; {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, pandas {pd.__version__}, torch {torch.__version__}, "
        f"median of {args.repeats}"
    )
    print()
    print("| step | wall (s) | CPU (s) | CPU / baseline |")
    print("|---|---:|---:|---:|")
    baseline = None
    total_wall = total_cpu = 0.0
    for name, fn in steps:
        fn()  # warm-up: first-call imports and allocations
        wall, cpu = timed(fn, args.repeats)
        baseline = baseline or cpu
        if not name.startswith("baseline"):
            total_wall += wall
            total_cpu += cpu
        print(f"| {name} | {wall:.3f} | {cpu:.3f} | {cpu / baseline:.2f} |")
    print(f"| **all steps but the baseline** | {total_wall:.2f} | {total_cpu:.2f} | {total_cpu / baseline:.1f} |")
    print()
    x, y = points.x, points.y
    print(
        f"# exact kinked line fits through the {x.size:,} (x, y) rows, scipy {scipy.__version__} HiGHS "
        f"(highs-ipm) on the dual linear program, median of {args.repeats}"
    )
    print()
    print("| loss | lossviz wall (s) | lossviz CPU (s) | HiGHS wall (s) | HiGHS CPU (s) | CPU ratio | objective gap |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for loss, params in KINKED_FITS:
        fit = fitting.fit_line(loss, x, y, **params)  # warm-up, and the objective compared
        optimum = lp_optimum(loss, x, y, params)
        wall, cpu = timed(lambda loss=loss, params=params: fitting.fit_line(loss, x, y, **params), args.repeats)
        lp_wall, lp_cpu = timed(lambda loss=loss, params=params: lp_optimum(loss, x, y, params), args.repeats)
        gap = (float(fit.objective) - optimum) / abs(optimum)
        name = f"{loss} ({', '.join(f'{k} = {v:g}' for k, v in params.items())})" if params else loss
        print(f"| {name} | {wall:.3f} | {cpu:.3f} | {lp_wall:.3f} | {lp_cpu:.3f} | {cpu / lp_cpu:.2f} | {gap:+.1e} |")


if __name__ == "__main__":
    main()
