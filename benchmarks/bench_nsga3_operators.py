"""NSGA-III's default crossover, chosen by measurement: SBX eta 15 at rate 0.9 (the GA's and
NSGA-II's) against eta 30 at 1.0 (pymoo's NSGA-III), on DTLZ1-7 at 3 and 5 objectives.

Each candidate runs ``NSGA3(bounds, n_obj=M, n_partitions=p, seed=s)`` with only its crossover
changed (the Das-Dennis directions of p partitions: 12 at 3 objectives, 91 directions, 92
individuals; 6 at 5 objectives, 210 directions and individuals), 300 generations at 3
objectives and 200 at 5, seeds 0..n-1. Printed per problem: the median IGD+ of the final
population to the true front (``pareto_front(5000)`` of ``chimera.problems``) per candidate,
the ratio of the second to the first, and a two-sided Mann-Whitney U p-value (scipy).
DTLZ4 at 3 objectives is bimodal (a run keeps the front's spread or collapses onto an edge),
so its median moves with a seed or two; ``--seeds 40`` settles it.

    python benchmarks/bench_nsga3_operators.py [--seeds 10] [--problems dtlz1-3,dtlz4-3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import mann_whitney, median, print_table, write_results
from chimera import NSGA3, problems
from chimera.evolution.operators import SBX
from chimera.indicators import igd_plus

CANDIDATES = {"sbx15_0.9": SBX(15.0, rate=0.9), "sbx30_1.0": SBX(30.0, rate=1.0)}
#: (objectives, Das-Dennis partitions, generations)
SETTINGS = {3: (12, 300), 5: (6, 200)}
PROBLEMS = [f"dtlz{k}-{m}" for m in SETTINGS for k in range(1, 8)]


def final_igd(key: str, n_obj: int, crossover: SBX, seed: int) -> float:
    p = problems.get(key, n_obj=n_obj)
    partitions, generations = SETTINGS[n_obj]
    algo = NSGA3(p.bounds, n_obj=n_obj, n_partitions=partitions, seed=seed, crossover=crossover)
    for _ in range(generations):
        X = algo.ask()
        algo.tell(p.fun(X))
    assert p.pareto_front is not None
    return igd_plus(algo.objectives, p.pareto_front(5000))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    args = ap.parse_args()
    first, second = CANDIDATES
    rows: list[list[Any]] = []
    records: list[dict[str, Any]] = []
    for name in args.problems.split(","):
        key, _, m = name.strip().partition("-")
        errors = {c: [final_igd(key, int(m), op, s) for s in range(args.seeds)]
                  for c, op in CANDIDATES.items()}  # fmt: skip
        a, b = median(errors[first]), median(errors[second])
        p = mann_whitney(errors[first], errors[second])
        p = float("nan") if p is None else p
        print(f"{name}: {first} {a:.4g}  {second} {b:.4g}  ratio {b / a:.3f}  p {p:.3g}",
              flush=True)  # fmt: skip
        rows.append([name, f"{a:.4g}", f"{b:.4g}", f"{b / a:.3f}", p])
        records.append({"problem": name, "igd_plus": errors})
    print_table(f"NSGA-III crossover, median IGD+ over {args.seeds} seeds",
                ["problem", first, second, "ratio", "p"], rows)  # fmt: skip
    path = write_results("nsga3_operators", {"seeds": args.seeds, "candidates": {
        c: {"eta": op.eta, "rate": op.rate} for c, op in CANDIDATES.items()},
        "settings": SETTINGS, "records": records})  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
