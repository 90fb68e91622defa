"""L-SHADE and jSO against scipy's ``differential_evolution`` and pymoo's ``DE`` at equal
evaluations, in one process.

Functions from ``chimera.problems`` (optimum 0) at ``--dim`` (default 10), budget
``--budget-multiplier`` x dim evaluations (default 10^4, the CEC convention), ``--seeds``
seeds; or, with ``--bbob``, the 24 functions of COCO's ``bbob`` suite (``cocoex``, offline),
one run per instance of ``--instances`` (seed = instance), the error f - fopt of the best
point each library reports. scipy runs its defaults (``best1bin``, pop 15 x dim) with
``polish=False`` and ``tol=0`` so that it spends the budget (``maxiter`` set from it),
vectorised; pymoo's ``DE`` its defaults (pop 100, ``DE/rand/1/bin``). Printed: the median
final error per function and library, and how many functions each library has the best
median on.

    python benchmarks/bench_adaptive_de.py [--dim 10] [--seeds 5]
    python benchmarks/bench_adaptive_de.py --bbob [--instances 1-5] [--no-jso]
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.optimize import differential_evolution

import chimera
from chimera import problems

FUNCTIONS = ("sphere", "rastrigin", "rosenbrock", "ackley", "griewank",
             "schwefel", "styblinski_tang")  # fmt: skip


class Bbob:
    """A ``bbob`` function and instance as a vectorised objective with the problems' interface
    (``fun``, ``bounds``); its values are f - fopt, so that the optimum is 0 as above."""

    def __init__(self, fid: int, dim: int, instance: int) -> None:
        import cocoex

        self.problem = cocoex.BareProblem("bbob", fid, dim, instance)
        self.fopt = self.problem.best_value()
        self.bounds = [(-5.0, 5.0)] * dim

    def fun(self, X: np.ndarray) -> np.ndarray:
        return np.array([self.problem(x) for x in np.atleast_2d(X)]) - self.fopt


def get(name: str, dim: int) -> object:
    """A function by name: a ``chimera.problems`` name, or ``bbob:<function>:<instance>``."""
    if name.startswith("bbob:"):
        _, fid, instance = name.split(":")
        return Bbob(int(fid), dim, int(instance))
    return problems.get(name, dim)


def run_chimera(algorithm: str, name: str, dim: int, budget: int, seed: int) -> float:
    prob = get(name, dim)
    res = chimera.minimize(prob.fun, prob.bounds, algorithm=algorithm, max_evals=budget,
                           seed=seed)  # fmt: skip
    return float(res.fun)


def run_scipy(name: str, dim: int, budget: int, seed: int) -> float:
    prob = get(name, dim)
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

    prob = get(name, dim)
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
    parser.add_argument("--bbob", action="store_true", help="COCO's bbob functions instead")
    parser.add_argument("--instances", default="1-5", help="bbob instances, as 1-5")
    parser.add_argument("--no-jso", action="store_true")
    args = parser.parse_args()
    budget = args.budget_multiplier * args.dim
    runners = {
        "chimera lshade": lambda n, s: run_chimera("lshade", n, args.dim, budget, s),
        "chimera jso": lambda n, s: run_chimera("jso", n, args.dim, budget, s),
        "scipy DE": lambda n, s: run_scipy(n, args.dim, budget, s),
        "pymoo DE": lambda n, s: run_pymoo(n, args.dim, budget, s),
    }
    if args.no_jso:
        del runners["chimera jso"]
    if args.bbob:
        lo, hi = (int(v) for v in args.instances.split("-"))
        instances = list(range(lo, hi + 1))
        cases = [(f"f{f}", [(f"bbob:{f}:{i}", i) for i in instances]) for f in range(1, 25)]
        print(f"bbob {args.dim}-D, instances {args.instances}, {budget:,} evaluations, median "
              "f - fopt over instances")  # fmt: skip
    else:
        cases = [(n, [(n, s) for s in range(args.seeds)]) for n in FUNCTIONS]
        print(f"{args.dim}-D, {budget:,} evaluations, median of {args.seeds} seeds")
    print(f"{'function':16}" + "".join(f"{k:>16}" for k in runners))
    wins = dict.fromkeys(runners, 0)
    for label_f, runs in cases:
        medians = {k: float(np.median([run(n, s) for n, s in runs])) for k, run in runners.items()}
        best = min(medians.values())
        for k in runners:
            wins[k] += medians[k] <= max(best, 1e-8 if args.bbob else best)  # COCO's precision
        print(f"{label_f:16}" + "".join(f"{medians[k]:16.3g}" for k in runners), flush=True)
    print("best median on (ties count for each" + (", errors below 1e-8 tie" if args.bbob else "")
          + "):", wins)  # fmt: skip


if __name__ == "__main__":
    main()
