"""The domains of pred and target shared by many losses."""

from __future__ import annotations

from lossviz.spec import Domain

REAL = Domain("real number", plot_range=(-3.0, 3.0))
LOGIT = Domain("logit (real)", plot_range=(-6.0, 6.0))
SCORE = Domain("score (real)", plot_range=(-3.0, 3.0))
LOG_RATE = Domain("log-rate (real)", plot_range=(-3.0, 3.0))
WEIGHT = Domain("weight (real)", plot_range=(-3.0, 3.0))
PROBABILITY = Domain("probability", low=0.0, high=1.0, plot_range=(0.0, 1.0))
UNIT_INTERVAL = Domain("number", low=0.0, high=1.0, plot_range=(0.0, 1.0))
BINARY = Domain("label", values=(0.0, 1.0), plot_range=(0.0, 1.0))
SIGN = Domain("label", values=(-1.0, 1.0), plot_range=(-1.0, 1.0))
COUNT = Domain("count", low=0.0, plot_range=(0.0, 10.0))
DISTANCE = Domain("distance", low=0.0, plot_range=(0.0, 3.0))
REAL_VECTOR = Domain("real vector", plot_range=(-3.0, 3.0))
CLASS_INDEX = Domain("class index", low=0.0, integer=True, plot_range=(0.0, 9.0))
