"""NSGA-III's default operators, chosen by measurement: SBX eta 15 at rate 0.9 (the GA's and
NSGA-II's) against eta 30 at 1.0 (pymoo's NSGA-III), and polynomial mutation at 1/dim per gene
against 0.9/dim (pymoo mutates 90% of the children at 1/dim) and 0.5/dim, on DTLZ1-7 at 3 and
5 objectives.

Each candidate runs ``NSGA3(bounds, n_obj=M, n_partitions=p, seed=s)`` with only its operators
changed (the Das-Dennis directions of p partitions: 12 at 3 objectives, 91 directions, 92
individuals; 6 at 5 objectives, 210 directions and individuals), 300 generations at 3
objectives and 200 at 5, seeds 0..n-1. Printed per problem: the median IGD+ of the final
population to the true front (``pareto_front(5000)`` of ``chimera.problems``) per candidate,
its ratio to the first (the base) and a two-sided Mann-Whitney U p-value (scipy).
DTLZ4 at 3 objectives is bimodal (a run keeps the front's spread or collapses onto an edge),
so its median moves with a seed or two; ``--seeds 40`` settles it.

    python benchmarks/bench_nsga3_operators.py [--seeds 10] [--problems dtlz1-3,dtlz4-3]
        [--candidates sbx15_0.9,sbx30_1.0]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import mann_whitney, median, print_table, write_results
from chimera import NSGA3, problems
from chimera.evolution.operators import SBX, Polynomial
from chimera.indicators import igd_plus

#: name -> (crossover, mutation rate per gene as a multiple of 1/dim); the first is the base
CANDIDATES: dict[str, tuple[SBX, float]] = {
    "sbx15_0.9": (SBX(15.0, rate=0.9), 1.0),
    "sbx30_1.0": (SBX(30.0, rate=1.0), 1.0),
    "sbx30_1.0_pm0.9": (SBX(30.0, rate=1.0), 0.9),
    "sbx30_1.0_pm0.5": (SBX(30.0, rate=1.0), 0.5),
}
#: (objectives, Das-Dennis partitions, generations)
SETTINGS = {3: (12, 300), 5: (6, 200)}
PROBLEMS = [f"dtlz{k}-{m}" for m in SETTINGS for k in range(1, 8)]


def final_igd(key: str, n_obj: int, candidate: tuple[SBX, float], seed: int) -> float:
    p = problems.get(key, n_obj=n_obj)
    partitions, generations = SETTINGS[n_obj]
    crossover, scale = candidate
    dim = len(p.bounds)
    mutation = Polynomial(20.0, rate=min(1.0, scale / dim))
    algo = NSGA3(p.bounds, n_obj=n_obj, n_partitions=partitions, seed=seed, crossover=crossover,
                 mutation=mutation)  # fmt: skip
    for _ in range(generations):
        X = algo.ask()
        algo.tell(p.fun(X))
    assert p.pareto_front is not None
    return igd_plus(algo.objectives, p.pareto_front(5000))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--candidates", default="sbx15_0.9,sbx30_1.0",
                    help=f"the base first, from {', '.join(CANDIDATES)}")  # fmt: skip
    args = ap.parse_args()
    names = [c.strip() for c in args.candidates.split(",") if c.strip()]
    unknown = set(names) - set(CANDIDATES)
    if unknown or len(names) < 2:
        ap.error(f"give two or more of {', '.join(CANDIDATES)}, the base first")
    base, others = names[0], names[1:]
    rows: list[list[Any]] = []
    records: list[dict[str, Any]] = []
    for name in args.problems.split(","):
        key, _, m = name.strip().partition("-")
        errors = {c: [final_igd(key, int(m), CANDIDATES[c], s) for s in range(args.seeds)]
                  for c in names}  # fmt: skip
        a = median(errors[base])
        row: list[Any] = [name, f"{a:.4g}"]
        for c in others:
            b = median(errors[c])
            p = mann_whitney(errors[base], errors[c])
            row += [f"{b:.4g} ({b / a:.3f}, p {float('nan') if p is None else p:.2g})"]
        print("  ".join(str(v) for v in row), flush=True)
        rows.append(row)
        records.append({"problem": name, "igd_plus": errors})
    print_table(f"NSGA-III operators, median IGD+ over {args.seeds} seeds (ratio to {base}, "
                "two-sided Mann-Whitney p)", ["problem", base, *others], rows)  # fmt: skip
    path = write_results("nsga3_operators", {"seeds": args.seeds, "candidates": {
        c: {"eta": CANDIDATES[c][0].eta, "rate": CANDIDATES[c][0].rate,
            "mutation_rate_times_dim": CANDIDATES[c][1]} for c in names},
        "settings": SETTINGS, "records": records})  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
