"""Solution quality at equal evaluation budgets: chimera's GA against pymoo's GA.

Four standard problems in 30 dimensions (sphere, rastrigin, rosenbrock, ackley), pop 100,
the same budget of evaluations for both (30,000 by default, the initial population included),
10 seeds each. pymoo runs its GA with its defaults: binary tournament, SBX (eta 15, rate 0.9),
polynomial mutation (eta 20, rate 1/dim), (mu+lambda) survival, duplicate elimination.

chimera runs with SBX(eta=15, rate=0.9) and Polynomial(eta=20, rate=None) too, over a small
grid of selection pressures and elitism values (``elitism=pop_size`` is (mu+lambda)
survival). The configuration is chosen on *tuning* seeds (mean rank of the median best
fitness over the four problems) and then compared on separate *evaluation* seeds, so the
comparison is not fitted to the seeds it reports on.

Usage::

    python benchmarks/bench_quality.py             # full run, about a minute or two
    python benchmarks/bench_quality.py --quick     # smoke test
    python benchmarks/bench_quality.py --budget 50000 --seeds 20
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
from _common import mann_whitney, median, print_table, write_results

DIM = 30
POP = 100

# --------------------------------------------------------------------------------------------
# Problems: vectorised, X is (n, d), the result (n,). All have minimum 0.
# --------------------------------------------------------------------------------------------


def sphere(X: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", X, X)


def rastrigin(X: np.ndarray) -> np.ndarray:
    return 10.0 * X.shape[1] + np.sum(X * X - 10.0 * np.cos(2.0 * np.pi * X), axis=1)


def rosenbrock(X: np.ndarray) -> np.ndarray:
    a, b = X[:, :-1], X[:, 1:]
    return np.sum(100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2, axis=1)


def ackley(X: np.ndarray) -> np.ndarray:
    d = X.shape[1]
    r = np.sqrt(np.einsum("ij,ij->i", X, X) / d)
    c = np.sum(np.cos(2.0 * np.pi * X), axis=1) / d
    return -20.0 * np.exp(-0.2 * r) - np.exp(c) + 20.0 + math.e


@dataclass(frozen=True)
class Problem:
    name: str
    fun: Callable[[np.ndarray], np.ndarray]
    low: float
    high: float


PROBLEMS = (
    Problem("sphere", sphere, -5.12, 5.12),
    Problem("rastrigin", rastrigin, -5.12, 5.12),
    Problem("rosenbrock", rosenbrock, -5.0, 10.0),
    Problem("ackley", ackley, -32.768, 32.768),
)


# --------------------------------------------------------------------------------------------
# Optimisers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChimeraConfig:
    tournament: int
    elitism: int

    @property
    def name(self) -> str:
        surv = "(mu+lambda)" if self.elitism >= POP else f"elitism {self.elitism}"
        return f"chimera T{self.tournament} {surv}"


def run_chimera(cfg: ChimeraConfig, prob: Problem, budget: int, seed: int) -> tuple[float, float]:
    import chimera
    from chimera.evolution.operators import SBX, Polynomial, Tournament

    t0 = time.perf_counter()
    res = chimera.minimize(
        prob.fun, np.tile([prob.low, prob.high], (DIM, 1)), algorithm="ga", max_evals=budget,
        seed=seed, pop_size=POP, selection=Tournament(k=cfg.tournament),
        crossover=SBX(eta=15, rate=0.9), mutation=Polynomial(eta=20, rate=None),
        elitism=cfg.elitism, backend="cpp",
    )  # fmt: skip
    assert res.nfev <= budget
    return float(res.fun), time.perf_counter() - t0


def run_pymoo(prob: Problem, budget: int, seed: int) -> tuple[float, float]:
    from pymoo.algorithms.soo.nonconvex.ga import GA
    from pymoo.core.problem import Problem as PymooProblem
    from pymoo.optimize import minimize

    class P(PymooProblem):
        def __init__(self) -> None:
            super().__init__(n_var=DIM, n_obj=1, xl=prob.low, xu=prob.high, vtype=float)

        def _evaluate(self, x: np.ndarray, out: dict[str, Any], *args: Any, **kw: Any) -> None:
            out["F"] = prob.fun(x)

    t0 = time.perf_counter()
    res = minimize(P(), GA(pop_size=POP), ("n_evals", budget), seed=seed, verbose=False)
    assert res.algorithm.evaluator.n_eval <= budget + POP
    return float(np.min(res.F)), time.perf_counter() - t0


def default_grid() -> list[ChimeraConfig]:
    return [ChimeraConfig(k, e) for k in (2, 3, 5, 7) for e in (1, 10, 50, POP)]


def parse_grid(text: str) -> list[ChimeraConfig]:
    """``2:1,2:100,3:50`` -> tournament:elitism pairs."""
    out = []
    for item in text.split(","):
        k, e = item.split(":")
        out.append(ChimeraConfig(int(k), int(e)))
    return out


def sweep(
    label: str, runner: Callable[[Problem, int, int], tuple[float, float]], budget: int,
    seeds: list[int],
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Best fitness of each seed on each problem."""
    out: dict[str, dict[str, Any]] = {}
    for prob in PROBLEMS:
        best, secs = [], []
        for s in seeds:
            f, t = runner(prob, budget, s)
            best.append(f)
            secs.append(t)
        out[prob.name] = {
            "best": best,
            "median": median(best),
            "min": min(best),
            "max": max(best),
            "median_seconds": median(secs),
        }
    print(
        f"  {label:<30} " + "  ".join(f"{p.name} {out[p.name]['median']:.3e}" for p in PROBLEMS),
        flush=True,
    )
    return out


def mean_rank(table: dict[str, dict[str, dict[str, Any]]]) -> dict[str, float]:
    """Mean over problems of each configuration's rank by median best fitness (1 = best)."""
    names = list(table)
    ranks = {n: 0.0 for n in names}
    for prob in PROBLEMS:
        meds = np.array([table[n][prob.name]["median"] for n in names])
        order = np.argsort(np.argsort(meds, kind="stable"), kind="stable") + 1
        for n, r in zip(names, order.tolist(), strict=True):
            ranks[n] += r / len(PROBLEMS)
    return ranks


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=int, default=30_000, help="evaluations per run")
    ap.add_argument("--seeds", type=int, default=10, help="evaluation seeds per problem")
    ap.add_argument("--tune-seeds", type=int, default=None, help="tuning seeds (default: --seeds)")
    ap.add_argument("--grid", default=None, help="chimera tournament:elitism pairs, e.g. 2:1,2:100")
    ap.add_argument("--no-pymoo", action="store_true", help="only the chimera grid")
    ap.add_argument("--quick", action="store_true", help="small budget and 2 seeds: a smoke test")
    ap.add_argument("--no-save", action="store_true", help="do not write the JSON file")
    args = ap.parse_args(argv)

    budget = 2_000 if args.quick else args.budget
    n_seeds = 2 if args.quick else args.seeds
    n_tune = 2 if args.quick else (args.tune_seeds or args.seeds)
    grid = parse_grid(args.grid) if args.grid else default_grid()
    eval_seeds = list(range(n_seeds))
    tune_seeds = list(range(1000, 1000 + n_tune))

    import chimera

    chimera.set_num_threads(1)

    print(f"tuning chimera on seeds {tune_seeds[0]}..{tune_seeds[-1]} (budget {budget}):")
    tuning = {
        cfg.name: sweep(
            cfg.name, lambda p, b, s, c=cfg: run_chimera(c, p, b, s), budget, tune_seeds
        )
        for cfg in grid
    }
    ranks = mean_rank(tuning)
    chosen = min(grid, key=lambda c: (ranks[c.name], c.elitism, c.tournament))
    print_table(
        f"chimera grid on tuning seeds: median best fitness ({n_tune} seeds, budget {budget})",
        ["configuration", *(p.name for p in PROBLEMS), "mean rank"],
        [
            [c.name, *(tuning[c.name][p.name]["median"] for p in PROBLEMS), ranks[c.name]]
            for c in sorted(grid, key=lambda c: ranks[c.name])
        ],
    )
    print(f"chosen: {chosen.name}")

    print(f"evaluation seeds {eval_seeds[0]}..{eval_seeds[-1]}:")
    evaluation = {
        cfg.name: sweep(
            cfg.name, lambda p, b, s, c=cfg: run_chimera(c, p, b, s), budget, eval_seeds
        )
        for cfg in grid
    }
    pymoo_res = None
    if not args.no_pymoo:
        pymoo_res = sweep("pymoo GA (defaults)", run_pymoo, budget, eval_seeds)

    comparison = []
    rows = []
    for p in PROBLEMS:
        c = evaluation[chosen.name][p.name]
        row: dict[str, Any] = {
            "problem": p.name,
            "chimera_config": chosen.name,
            "chimera_median": c["median"],
            "chimera_median_seconds": c["median_seconds"],
        }
        if pymoo_res is not None:
            q = pymoo_res[p.name]
            row.update(
                pymoo_median=q["median"],
                pymoo_median_seconds=q["median_seconds"],
                chimera_no_worse=bool(c["median"] <= q["median"]),
                ratio_chimera_to_pymoo=c["median"] / q["median"] if q["median"] > 0 else None,
                mann_whitney_p=mann_whitney(c["best"], q["best"]),
            )
        comparison.append(row)
        rows.append(
            [
                p.name, row["chimera_median"], row.get("pymoo_median", float("nan")),
                "yes" if row.get("chimera_no_worse") else ("no" if pymoo_res else "-"),
                row.get("mann_whitney_p") if row.get("mann_whitney_p") is not None else float("nan"),
                row["chimera_median_seconds"], row.get("pymoo_median_seconds", float("nan")),
            ]
        )  # fmt: skip
    print_table(
        f"Median best fitness, dim {DIM}, pop {POP}, {budget} evaluations, {n_seeds} seeds "
        f"(chimera: {chosen.name})",
        ["problem", "chimera", "pymoo GA", "chimera no worse", "MWU p", "chimera s", "pymoo s"],
        rows,
    )
    all_rows = [
        [name, *(res[p.name]["median"] for p in PROBLEMS)] for name, res in evaluation.items()
    ]
    if pymoo_res is not None:
        all_rows.append(["pymoo GA (defaults)", *(pymoo_res[p.name]["median"] for p in PROBLEMS)])
    print_table(
        f"All configurations on the evaluation seeds: median best fitness ({n_seeds} seeds)",
        ["configuration", *(p.name for p in PROBLEMS)],
        all_rows,
    )

    if not args.no_save:
        path = write_results(
            "quality",
            {
                "settings": {
                    "dim": DIM, "pop": POP, "budget": budget, "evaluation_seeds": eval_seeds,
                    "tuning_seeds": tune_seeds, "quick": args.quick,
                    "problems": {p.name: [p.low, p.high] for p in PROBLEMS},
                    "chimera_operators": "SBX(eta=15, rate=0.9), Polynomial(eta=20, rate=1/dim)",
                    "pymoo": "GA(pop_size=100) defaults",
                    "grid": [c.__dict__ for c in grid],
                },
                "tuning": tuning,
                "tuning_mean_rank": ranks,
                "chosen": chosen.__dict__ | {"name": chosen.name},
                "evaluation": evaluation,
                "pymoo": pymoo_res,
                "comparison": comparison,
            },
        )  # fmt: skip
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
