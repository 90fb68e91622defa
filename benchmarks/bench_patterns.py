"""False-alarm rate and detection delay of chimera.refinement.patterns' detectors, with
their defaults, on synthetic N(0, 1) streams (seeded).

- ARL0: in-control observations per false alarm, over ``--streams`` streams of ``--length``
  observations each (a detector restarts after each alarm, so every alarm counts).
- Delay: a stream of 300 in-control observations, then a mean shift of 1 or 2 standard
  deviations; the delay is the number of observations from the shift to the first alarm at or
  after it (over ``--trials`` streams; median and 90th percentile; "missed" when no alarm came
  within 500 observations). CUSUM and EWMA are given the in-control mean and standard
  deviation; Page-Hinkley is given the standard deviation; RobustZ learns both.
- The same detectors learning what they were given from their default warm-up (as
  ``patterns.CUSUM().run(x)`` does): the estimate's error makes false alarms more frequent,
  and ARL0 here counts the warm-ups too (no alarm can come during one).
- Spikes (RobustZ, an anomaly detector): the share of single 5-sigma outliers at t = 300
  that are flagged.

Usage::

    python benchmarks/bench_patterns.py [--streams 100] [--length 10000] [--trials 500]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table
from chimera.refinement import patterns

DETECTORS: dict[str, Callable[[], Any]] = {
    "CUSUM (k 0.5, h 5)": lambda: patterns.CUSUM(0.0, 1.0),
    "Page-Hinkley (delta 0.25, threshold 10)": lambda: patterns.PageHinkley(1.0),
    "EWMA (lam 0.2, L 3)": lambda: patterns.EWMA(0.0, 1.0),
    "RobustZ (window 100, threshold 3.5)": lambda: patterns.RobustZ(),
    "CUSUM, level learned (warmup 30)": lambda: patterns.CUSUM(),
    "Page-Hinkley, scale learned (warmup 30)": lambda: patterns.PageHinkley(),
    "EWMA, level learned (warmup 30)": lambda: patterns.EWMA(),
}
CHANGE = 300


def arl0(make: Callable[[], Any], streams: int, length: int, rng: np.random.Generator) -> float:
    alarms = observed = 0
    for _ in range(streams):
        det = make()
        alarms += det.run(rng.standard_normal(length)).size
        observed += length
    return observed / alarms if alarms else float("inf")


def delays(make: Callable[[], Any], shift: float, trials: int, rng: np.random.Generator):
    out = []
    for _ in range(trials):
        x = rng.standard_normal(CHANGE + 500)
        x[CHANGE:] += shift
        det = make()
        after = [i for i in det.run(x) if i >= CHANGE]
        out.append(after[0] - CHANGE if after else None)
    hits = np.array([d for d in out if d is not None])
    missed = sum(d is None for d in out) / trials
    return float(np.median(hits)), float(np.percentile(hits, 90)), missed


def spikes(trials: int, rng: np.random.Generator) -> float:
    flagged = 0
    for _ in range(trials):
        x = rng.standard_normal(CHANGE + 1)
        x[CHANGE] = 5.0 * rng.choice([-1.0, 1.0])
        flagged += CHANGE in patterns.RobustZ().run(x)
    return flagged / trials


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--streams", type=int, default=100)
    ap.add_argument("--length", type=int, default=10_000)
    ap.add_argument("--trials", type=int, default=500)
    ap.add_argument("--seed", type=int, default=2026)
    opts = ap.parse_args()
    rng = np.random.default_rng(opts.seed)
    rows = []
    for name, make in DETECTORS.items():
        row: list[Any] = [name, arl0(make, opts.streams, opts.length, rng)]
        for shift in (1.0, 2.0):
            if name.startswith("RobustZ"):  # an anomaly detector: spikes below, not shifts
                row += ["-", "-", "-"]
                continue
            med, p90, missed = delays(make, shift, opts.trials, rng)
            row += [med, p90, f"{100 * missed:.1f}%"]
        rows.append(row)
    print_table(
        f"Detectors on N(0, 1) streams (ARL0 over {opts.streams} x {opts.length} observations; "
        f"delays over {opts.trials} streams)",
        ["detector", "ARL0", "delay 1sd median", "p90", "missed", "delay 2sd median", "p90",
         "missed"],
        rows,
    )  # fmt: skip
    print(f"RobustZ: 5-sigma spikes flagged: {spikes(opts.trials, rng):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
