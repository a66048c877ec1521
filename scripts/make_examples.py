"""Writes the example CSV files in examples/ (deterministic: run it again and the files are identical).

- housing_outliers.csv: living area (m²) against price (k€) for 300 homes, a linear trend with
  Gaussian noise, plus 12 gross outliers (data-entry errors: a price typed ×10, luxury homes,
  distressed sales) — the MSE fit tilts towards them, Huber and MAE do not.
- validation_predictions.csv: a regression model's 2,000 validation predictions and targets with
  heavy-tailed (Student-t, 2 degrees of freedom) errors — a few pairs carry most of the MSE.
- classification_blobs.csv: two features and a three-class label, 600 rows, one class rare (10 %).

Usage: python scripts/make_examples.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent.parent / "examples"


def housing(rng: np.random.Generator) -> pd.DataFrame:
    area = rng.uniform(35, 220, 300)
    price = 40 + 2.6 * area + rng.normal(0, 35, area.size)
    outliers = rng.choice(area.size, 12, replace=False)
    price[outliers[:4]] *= 10  # a zero typed too many
    price[outliers[4:8]] += rng.uniform(400, 700, 4)  # luxury homes
    price[outliers[8:]] *= 0.25  # distressed sales
    return pd.DataFrame({"area_m2": area.round(1), "price_keur": price.round(1)})


def validation(rng: np.random.Generator) -> pd.DataFrame:
    target = rng.normal(50, 10, 2000)
    prediction = target + 2.0 * rng.standard_t(2, target.size)
    return pd.DataFrame({"prediction": prediction.round(4), "target": target.round(4)})


def blobs(rng: np.random.Generator) -> pd.DataFrame:
    sizes, centres = (270, 270, 60), ((-1.5, 0.0), (1.5, 0.5), (0.0, 2.2))
    rows = [
        np.column_stack([rng.normal(cx, 0.8, n), rng.normal(cy, 0.8, n), np.full(n, label)])
        for (cx, cy), n, label in zip(centres, sizes, ("common_a", "common_b", "rare"), strict=True)
    ]
    frame = pd.DataFrame(np.vstack(rows), columns=["feature_1", "feature_2", "label"])
    frame[["feature_1", "feature_2"]] = frame[["feature_1", "feature_2"]].astype(float).round(4)
    return frame.sample(frac=1.0, random_state=0).reset_index(drop=True)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(2026)
    housing(rng).to_csv(OUT / "housing_outliers.csv", index=False)
    validation(rng).to_csv(OUT / "validation_predictions.csv", index=False)
    blobs(rng).to_csv(OUT / "classification_blobs.csv", index=False)


if __name__ == "__main__":
    main()
