"""L-SHADE and jSO against scipy's ``differential_evolution`` and pymoo's ``DE`` at equal
evaluations, in one process.

Functions from ``chimera.problems`` (optimum 0) at ``--dim`` (default 10), budget
``--budget-multiplier`` x dim evaluations (default 10^4, the CEC convention), ``--seeds``
seeds. scipy runs its defaults (``best1bin``, pop 15 x dim) with ``polish=False`` and
``tol=0`` so that it spends the budget (``maxiter`` set from it), vectorised; pymoo's ``DE``
its defaults (pop 100, ``DE/rand/1/bin``). Printed: the median final error per function and
library, and how many functions each library has the best median on.

    python benchmarks/bench_adaptive_de.py [--dim 10] [--seeds 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import differential_evolution

import chimera
from chimera import problems

FUNCTIONS = ("sphere", "rastrigin", "rosenbrock", "ackley", "griewank",
             "schwefel", "styblinski_tang")  # fmt: skip


def run_chimera(algorithm: str, name: str, dim: int, budget: int, seed: int) -> float:
    prob = problems.get(name, dim)
    res = chimera.minimize(prob.fun, prob.bounds, algorithm=algorithm, max_evals=budget,
                           seed=seed)  # fmt: skip
    return float(res.fun)


def run_scipy(name: str, dim: int, budget: int, seed: int) -> float:
    prob = problems.get(name, dim)
    pop = 15 * dim
    res = differential_evolution(
        lambda X: prob.fun(np.asarray(X).T), np.asarray(prob.bounds), maxiter=budget // pop - 1,
        popsize=15, polish=False, tol=0, seed=seed, vectorized=True, updating="deferred",
    )  # fmt: skip
    return float(res.fun)


def run_pymoo(name: str, dim: int, budget: int, seed: int) -> float:
    from pymoo.algorithms.soo.nonconvex.de import DE
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize

    prob = problems.get(name, dim)
    bounds = np.asarray(prob.bounds)

    class Wrapped(Problem):
        def __init__(self) -> None:
            super().__init__(n_var=dim, n_obj=1, xl=bounds[:, 0], xu=bounds[:, 1])

        def _evaluate(self, X: np.ndarray, out: dict, *args: object, **kwargs: object) -> None:
            out["F"] = prob.fun(X)

    res = minimize(Wrapped(), DE(), ("n_evals", budget), seed=seed, verbose=False)
    return float(res.F[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget-multiplier", type=int, default=10_000)
    args = parser.parse_args()
    budget = args.budget_multiplier * args.dim
    runners = {
        "chimera lshade": lambda n, s: run_chimera("lshade", n, args.dim, budget, s),
        "chimera jso": lambda n, s: run_chimera("jso", n, args.dim, budget, s),
        "scipy DE": lambda n, s: run_scipy(n, args.dim, budget, s),
        "pymoo DE": lambda n, s: run_pymoo(n, args.dim, budget, s),
    }
    print(f"{args.dim}-D, {budget:,} evaluations, median of {args.seeds} seeds")
    print(f"{'function':16}" + "".join(f"{k:>16}" for k in runners))
    wins = dict.fromkeys(runners, 0)
    for name in FUNCTIONS:
        medians = {}
        for label, run in runners.items():
            start = time.perf_counter()
            medians[label] = float(np.median([run(name, s) for s in range(args.seeds)]))
            medians[label + " s"] = time.perf_counter() - start
        best = min(medians[k] for k in runners)
        for k in runners:
            wins[k] += medians[k] <= best
        print(f"{name:16}" + "".join(f"{medians[k]:16.3g}" for k in runners), flush=True)
    print("best median on (ties count for each):", wins)


if __name__ == "__main__":
    main()
