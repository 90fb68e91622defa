"""MOEA/D's batch size and replacement bound, measured: ``MOEAD(..., **options)`` for each
candidate on the DTLZ problems of ``bench_many_objectives.py`` (its weights, populations and
evaluation budgets; DTLZ3-7 added with 200 generations for DTLZ3 and 100 for the others),
median IGD+ of the final population over seeds 0, 1, ..., and a two-sided Mann-Whitney U
p-value of each candidate against the first.

The default candidates are whole generations (``n_offspring`` = the population), a tenth of
it, one child a batch (the steady state of Zhang and Li, as pymoo's MOEA/D), and the last two
with an unbounded replacement (``n_replace=20``, every improved neighbour, as pymoo).

Usage::

    python benchmarks/bench_moead_batches.py [--problems dtlz2-5,dtlz1-5] [--seeds 10]
        [--candidates "n_offspring=all;n_offspring=0.1;n_offspring=1"]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import mannwhitneyu

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_many_objectives as many
from _common import write_results

for _key in ("dtlz3", "dtlz4", "dtlz5", "dtlz6", "dtlz7"):
    many.SETTINGS[(_key, 5)] = (6, 200 if _key == "dtlz3" else 100)
    many.SETTINGS[(_key, 10)] = (3, 200 if _key == "dtlz3" else 100)

PROBLEMS = "dtlz1-5,dtlz2-5,dtlz3-5,dtlz4-5,dtlz7-5,dtlz1-10,dtlz2-10"
CANDIDATES = ("n_offspring=all;n_offspring=0.1;n_offspring=1;"
              "n_offspring=0.1,n_replace=20;n_offspring=1,n_replace=20")  # fmt: skip


def options(text: str, pop: int) -> dict[str, Any]:
    """``key=value,...``; ``n_offspring=all`` is the population, a fraction below 1 that
    share of it (rounded up)."""
    out: dict[str, Any] = {}
    for item in filter(None, text.split(",")):
        key, value = item.split("=")
        if key == "n_offspring" and value == "all":
            out[key] = pop
        elif key == "n_offspring" and float(value) < 1:
            out[key] = math.ceil(float(value) * pop)
        else:
            out[key] = int(value)
    return out


def igd_runs(st: Any, opts: dict[str, Any], seeds: int) -> list[float]:
    from chimera.evolution.moead import MOEAD
    from chimera.indicators import igd_plus

    out = []
    for s in range(seeds):
        algo = MOEAD(st.bounds, n_obj=st.n_obj, n_partitions=st.partitions, seed=s, **opts)
        while algo.nfev + algo.batch_size <= st.gens * st.pop:
            algo.tell(st.fun(algo.ask()))
        out.append(float(igd_plus(np.asarray(algo.objectives), st.front)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", default=PROBLEMS)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--candidates", default=CANDIDATES, help="';'-separated option sets")
    args = ap.parse_args()
    rows = []
    for name in args.problems.split(","):
        key, m = name.split("-")
        st = many.make_study(key, int(m))
        base = None
        for text in args.candidates.split(";"):
            opts = options(text, st.pop)
            start = time.perf_counter()
            igd = igd_runs(st, opts, args.seeds)
            p = None if base is None else float(mannwhitneyu(igd, base).pvalue)
            base = igd if base is None else base
            rows.append({"problem": name, "options": opts, "igd_plus": igd,
                         "igd_plus_median": float(np.median(igd)), "p_vs_first": p,
                         "seconds_per_run": (time.perf_counter() - start) / args.seeds})  # fmt: skip
            shown = "" if p is None else f"p = {p:.3g}"
            print(f"{name:9} {opts!s:40} IGD+ median {np.median(igd):.4g}  {shown}", flush=True)
    write_results("moead_batches", {"seeds": args.seeds, "rows": rows})


if __name__ == "__main__":
    main()
