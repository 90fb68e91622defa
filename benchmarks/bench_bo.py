"""Bayesian optimisation at equal budgets: chimera's BayesianOptimizer against Optuna's TPE and
GP samplers and random search, on Branin (2-D), Hartmann-6 and Rosenbrock-5.

Each library minimises the same function from the same box for ``budget`` evaluations, one at
a time (suggest, evaluate, tell), for ``--seeds`` seeds; the table gives the median (and
min - max) of the best value found, its gap to the known optimum, and the mean time a library
spends per suggestion (its own work: suggest plus tell, not the evaluation). chimera: EI,
scikit-learn GP, defaults. Optuna: ``TPESampler(seed=s)`` and ``GPSampler(seed=s)`` with their
defaults (GPSampler needs PyTorch; it is skipped, with the reason, when missing). Random
search: uniform in the box.

Usage::

    python benchmarks/bench_bo.py [--seeds 10] [--libs chimera,optuna-tpe,optuna-gp,random]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, print_table, write_results

HARTMANN_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
     [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)  # fmt: skip
HARTMANN_P = 1e-4 * np.array(
    [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
)  # fmt: skip
HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def branin(x: np.ndarray) -> float:
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return float(a * (x[1] - b * x[0] ** 2 + c * x[0] - r) ** 2 + s * (1 - t) * math.cos(x[0]) + s)


def hartmann6(x: np.ndarray) -> float:
    inner = (HARTMANN_A * (x[None, :] - HARTMANN_P) ** 2).sum(axis=1)
    return float(-(HARTMANN_ALPHA * np.exp(-inner)).sum())


def rosenbrock(x: np.ndarray) -> float:
    return float((100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum())


@dataclass(frozen=True)
class Problem:
    name: str
    fun: Callable[[np.ndarray], float]
    bounds: np.ndarray
    optimum: float
    budget: int


PROBLEMS = [
    Problem("Branin", branin, np.array([[-5.0, 10.0], [0.0, 15.0]]), 0.397887, 40),
    Problem("Hartmann-6", hartmann6, np.array([[0.0, 1.0]] * 6), -3.32237, 80),
    Problem("Rosenbrock-5", rosenbrock, np.array([[-2.0, 2.0]] * 5), 0.0, 80),
]


def run_chimera(p: Problem, seed: int) -> tuple[float, float]:
    from chimera.refinement.bo import BayesianOptimizer, Real

    names = [f"x{i}" for i in range(len(p.bounds))]
    bo = BayesianOptimizer({n: Real(lo, hi) for n, (lo, hi) in zip(names, p.bounds, strict=True)},
                           seed=seed)  # fmt: skip
    spent = 0.0
    for _ in range(p.budget):
        t0 = time.perf_counter()
        params = bo.ask()
        spent += time.perf_counter() - t0
        y = p.fun(np.array([params[n] for n in names]))
        t0 = time.perf_counter()
        bo.tell(params, y)
        spent += time.perf_counter() - t0
    return bo.best[1], spent / p.budget


def run_optuna(p: Problem, seed: int, sampler_name: str) -> tuple[float, float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = (optuna.samplers.TPESampler(seed=seed) if sampler_name == "tpe"
               else optuna.samplers.GPSampler(seed=seed))  # fmt: skip
    study = optuna.create_study(sampler=sampler)
    spent = 0.0
    for _ in range(p.budget):
        t0 = time.perf_counter()
        trial = study.ask()
        x = np.array([trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(p.bounds)])
        spent += time.perf_counter() - t0
        y = p.fun(x)
        t0 = time.perf_counter()
        study.tell(trial, y)
        spent += time.perf_counter() - t0
    return float(study.best_value), spent / p.budget


def run_random(p: Problem, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(p.bounds[:, 0], p.bounds[:, 1], (p.budget, len(p.bounds)))
    return min(p.fun(x) for x in X), 0.0


RUNNERS: dict[str, Callable[[Problem, int], tuple[float, float]]] = {
    "chimera": run_chimera,
    "optuna-tpe": lambda p, s: run_optuna(p, s, "tpe"),
    "optuna-gp": lambda p, s: run_optuna(p, s, "gp"),
    "random": run_random,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--libs", default="chimera,optuna-tpe,optuna-gp,random")
    ap.add_argument("--no-save", action="store_true")
    opts = ap.parse_args()
    rows: list[list[Any]] = []
    records = []
    for p in PROBLEMS:
        for lib in opts.libs.split(","):
            try:
                out = [RUNNERS[lib](p, s) for s in range(opts.seeds)]
            except ImportError as exc:
                rows.append([p.name, lib, p.budget, "-", "-", "-", f"not run: {exc}"])
                continue
            best = [o[0] for o in out]
            ms = 1e3 * float(np.mean([o[1] for o in out]))
            rows.append([p.name, lib, p.budget, median(best), median(best) - p.optimum,
                         f"{min(best):.4g} - {max(best):.4g}", ms])  # fmt: skip
            records.append({"problem": p.name, "library": lib, "budget": p.budget,
                            "best": best, "ms_per_suggestion": ms})  # fmt: skip
            print(f"  {p.name:<13} {lib:<11} median best {median(best):.5g}  {ms:.1f} ms/suggestion",
                  flush=True)  # fmt: skip
    print_table(
        f"Bayesian optimisation at equal budgets, {opts.seeds} seeds (best value found)",
        ["problem", "library", "budget", "median best", "gap to optimum", "min - max",
         "ms per suggestion"],
        rows,
    )  # fmt: skip
    if not opts.no_save:
        print(f"wrote {write_results('bo', {'results': records, 'seeds': opts.seeds})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
