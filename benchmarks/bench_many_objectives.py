"""Many-objective solution quality at equal evaluations: chimera's MOEA/D (and NSGA-III) against
pymoo's NSGA-III and MOEA/D on DTLZ1 and DTLZ2 with 5 and 10 objectives.

Every algorithm gets the same weight vectors / reference directions, a single-layer Das-Dennis
lattice from ``chimera.directions`` (5 objectives: 6 partitions, 210 vectors; 10 objectives: 3
partitions, 220 vectors, all on the simplex's boundary), a population of exactly that many
(NSGA-III's included, so that every generation costs the same evaluations), and the same
budget, ``generations x H`` evaluations. The budgets are a fraction of the NSGA-III paper's
(Deb and Jain 2014: DTLZ1 600 / 1,000 generations and DTLZ2 350 / 750 at 5 / 10 objectives),
so that 10 seeds of every library fit a 2-core machine: DTLZ1 200 generations, DTLZ2 100.
Variables: DTLZ1 ``n_obj + 4``, DTLZ2 ``n_obj + 9``.

- ``chimera-moead``: ``MOEAD(bounds, n_obj=M, n_partitions=p, seed=s)`` with its defaults: PBI
  (theta 5), T = 20, delta = 0.9, n_r = 2, SBX eta 20 on every pair, polynomial mutation eta 20
  at 1/dim; batches of a tenth of the population (21 or 22 children), the subproblems in a
  random order each sweep.
- ``chimera-nsga3``: ``NSGA3(bounds, n_obj=M, n_partitions=p, pop_size=H, seed=s)`` with its
  defaults (SBX eta 30 at 1.0, as pymoo's NSGA-III, polynomial mutation eta 20 at 1/dim).
- ``pymoo-moead``: ``MOEAD(W)`` with pymoo's defaults: PBI (theta 5), ``n_neighbors=20``,
  ``prob_neighbor_mating=0.9``, SBX eta 20 at 1.0, polynomial mutation eta 20; pymoo visits the
  subproblems in a random order each generation and replaces every neighbour the child
  improves (no n_r bound).
- ``pymoo-moead-batch`` (not run by default): pymoo's ``ParallelMOEAD(W)``, its MOEA/D breeding
  a whole generation before evaluating it (the same defaults).
- ``pymoo-nsga3``: ``NSGA3(ref_dirs=W, pop_size=H)`` with pymoo's defaults (SBX eta 30 at 1.0,
  polynomial mutation eta 20).
- ``chimera-sms`` (not run by default: exact hypervolume contributions cost seconds a
  generation at 5 objectives and far more at 10): ``SMSEMOA(bounds, n_obj=M, pop_size=H)``.

Metrics of the final population: IGD+ to the true front (``pareto_front(5000)`` of
``chimera.problems``: the Das-Dennis points of the finest lattice with at most 5,000 points,
on the simplex ``sum f = 0.5`` for DTLZ1 and on the unit sphere for DTLZ2; 4,845 points at 5
objectives, 2,002 at 10) and the hypervolume with reference point 1.1 times the front's nadir
(0.55 per objective for DTLZ1, 1.1 for DTLZ2). At 5 objectives the hypervolume is exact
(moocore); at 10, exact hypervolumes of 220 points take minutes or more, so it is moocore's
deterministic ``hv_approx`` (``Rphi-FWE+``, 2^20 directions, about 0.1% apart from one sample
count to the next). Medians over seeds 0, 1, ...; min / max; a two-sided Mann-Whitney U p-value
of each library against ``chimera-moead`` (scipy).

chimera and pymoo evaluate the same vectorised NumPy functions (``chimera.problems``, checked
against pymoo's own DTLZ1 and DTLZ2 before the runs).

Usage::

    python benchmarks/bench_many_objectives.py               # 10 seeds, about an hour on 2 cores
    python benchmarks/bench_many_objectives.py --quick       # smoke test (2 seeds, 10 generations)
    python benchmarks/bench_many_objectives.py --seeds 5 --problems dtlz2-5,dtlz2-10
    python benchmarks/bench_many_objectives.py --libs chimera-moead,chimera-sms --problems dtlz2-5
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, print_table
from _moo import available, compare_with, loadavg, quality_runs, save

#: (problem, objectives): the lattice's partitions and the generations of the budget.
SETTINGS = {
    ("dtlz1", 5): (6, 200),
    ("dtlz2", 5): (6, 100),
    ("dtlz1", 10): (3, 200),
    ("dtlz2", 10): (3, 100),
}
REFERENCE = "chimera-moead"
EXACT_HV_UP_TO = 6  # objectives; beyond, moocore.hv_approx
HV_SAMPLES = 2**20


@dataclass
class Study:
    """One problem: the evaluation function, bounds, weight vectors, budget and metrics."""

    key: str  # chimera.problems name
    n_obj: int
    fun: Callable[[np.ndarray], np.ndarray]
    bounds: np.ndarray
    partitions: int
    W: np.ndarray
    gens: int  # ask/tell rounds, the initial population included
    hv_ref: np.ndarray
    front: np.ndarray

    @property
    def name(self) -> str:
        return f"{self.key}-{self.n_obj}"

    @property
    def pop(self) -> int:
        return int(self.W.shape[0])

    @property
    def label(self) -> str:
        return (f"{self.key.upper()} ({self.bounds.shape[0]} var, {self.n_obj} obj), "
                f"{self.pop} weight vectors, {self.gens} generations, "
                f"{self.gens * self.pop:,} evaluations")  # fmt: skip


def make_study(key: str, n_obj: int, gens: int | None = None) -> Study:
    import chimera.problems
    from chimera.directions import das_dennis

    p = chimera.problems.get(key, n_obj=n_obj)
    partitions, default_gens = SETTINGS[(key, n_obj)]
    assert p.pareto_front is not None
    front = p.pareto_front(5000)
    return Study(
        key=key, n_obj=n_obj, fun=p.fun, bounds=p.bounds, partitions=partitions,
        W=das_dennis(partitions, n_obj), gens=default_gens if gens is None else gens,
        hv_ref=1.1 * front.max(axis=0), front=front,
    )  # fmt: skip


# --- runners: each returns the objectives of the final population and its evaluations ----------


def run_chimera_moead(st: Study, seed: int) -> tuple[np.ndarray, int]:
    from chimera.evolution.moead import MOEAD

    algo = MOEAD(st.bounds, n_obj=st.n_obj, n_partitions=st.partitions, seed=seed)
    assert algo.pop_size == st.pop
    return _chimera_loop(algo, st)


def run_chimera_nsga3(st: Study, seed: int) -> tuple[np.ndarray, int]:
    from chimera import NSGA3

    algo = NSGA3(st.bounds, n_obj=st.n_obj, n_partitions=st.partitions, pop_size=st.pop,
                 seed=seed)  # fmt: skip
    return _chimera_loop(algo, st)


def run_chimera_sms(st: Study, seed: int) -> tuple[np.ndarray, int]:
    from chimera.evolution.sms_emoa import SMSEMOA

    return _chimera_loop(SMSEMOA(st.bounds, n_obj=st.n_obj, pop_size=st.pop, seed=seed), st)


def _chimera_loop(algo: Any, st: Study) -> tuple[np.ndarray, int]:
    while algo.nfev + algo.batch_size <= st.gens * st.pop:  # MOEA/D asks a part at a time
        X = algo.ask()
        algo.tell(st.fun(X))
    return np.asarray(algo.objectives), int(algo.nfev)


def _pymoo_problem(st: Study) -> Any:
    from pymoo.core.problem import Problem

    fun = st.fun

    class Wrapped(Problem):
        def __init__(self) -> None:
            super().__init__(
                n_var=st.bounds.shape[0], n_obj=st.n_obj, xl=st.bounds[:, 0], xu=st.bounds[:, 1],
                vtype=float,
            )  # fmt: skip

        def _evaluate(self, x: np.ndarray, out: dict[str, Any], *args: Any, **kw: Any) -> None:
            out["F"] = fun(x)

    return Wrapped()


def run_pymoo_moead(st: Study, seed: int) -> tuple[np.ndarray, int]:
    from pymoo.algorithms.moo.moead import MOEAD
    from pymoo.optimize import minimize

    res = minimize(_pymoo_problem(st), MOEAD(st.W), ("n_evals", st.gens * st.pop), seed=seed,
                   verbose=False)  # fmt: skip
    return np.asarray(res.pop.get("F")), int(res.algorithm.evaluator.n_eval)


def run_pymoo_moead_batch(st: Study, seed: int) -> tuple[np.ndarray, int]:
    from pymoo.algorithms.moo.moead import ParallelMOEAD
    from pymoo.optimize import minimize

    res = minimize(_pymoo_problem(st), ParallelMOEAD(st.W), ("n_evals", st.gens * st.pop),
                   seed=seed, verbose=False)  # fmt: skip
    return np.asarray(res.pop.get("F")), int(res.algorithm.evaluator.n_eval)


def run_pymoo_nsga3(st: Study, seed: int) -> tuple[np.ndarray, int]:
    from pymoo.algorithms.moo.nsga3 import NSGA3
    from pymoo.optimize import minimize

    res = minimize(_pymoo_problem(st), NSGA3(ref_dirs=st.W, pop_size=st.pop),
                   ("n_evals", st.gens * st.pop), seed=seed, verbose=False)  # fmt: skip
    return np.asarray(res.pop.get("F")), int(res.algorithm.evaluator.n_eval)


RUNNERS: dict[str, tuple[str, Callable[[Study, int], tuple[np.ndarray, int]]]] = {
    "chimera-moead": ("chimera", run_chimera_moead),
    "chimera-nsga3": ("chimera", run_chimera_nsga3),
    "pymoo-moead": ("pymoo", run_pymoo_moead),
    "pymoo-moead-batch": ("pymoo", run_pymoo_moead_batch),
    "pymoo-nsga3": ("pymoo", run_pymoo_nsga3),
    "chimera-sms": ("chimera", run_chimera_sms),
}
DEFAULT_LIBS = "chimera-moead,chimera-nsga3,pymoo-moead,pymoo-nsga3"


# --- checks and statistics -------------------------------------------------------------------


def hypervolume(F: np.ndarray, ref: np.ndarray) -> float:
    """Exact up to EXACT_HV_UP_TO objectives, moocore's deterministic approximation beyond."""
    import moocore

    from chimera.indicators import hypervolume as exact

    if F.shape[1] <= EXACT_HV_UP_TO:
        return exact(F, ref)
    inside = F[(ref > F).all(axis=1)]
    if inside.shape[0] == 0:
        return 0.0
    return float(moocore.hv_approx(inside, ref=ref, nsamples=HV_SAMPLES, method="Rphi-FWE+"))


def check_problems(studies: list[Study]) -> dict[str, float]:
    """Largest relative difference between chimera's DTLZ functions and pymoo's."""
    out: dict[str, float] = {}
    if not available("pymoo"):
        return out
    from pymoo.problems import get_problem

    rng = np.random.default_rng(11)
    for st in studies:
        X = rng.random((40, st.bounds.shape[0]))
        want = st.fun(X)
        got = get_problem(st.key, n_var=X.shape[1], n_obj=st.n_obj).evaluate(X)
        out[st.name] = float((np.abs(got - want) / np.maximum(1.0, np.abs(want))).max())
    return out


def run_study(st: Study, libs: list[str], seeds: int) -> list[dict[str, Any]]:
    from chimera.indicators import igd_plus

    rows: list[dict[str, Any]] = []
    for lib in libs:
        module, fn = RUNNERS[lib]
        if not available(module):
            continue

        def each(s: int, igd: float, hv: float, secs: float, lib: str = lib) -> None:
            print(f"    {st.name} {lib} seed {s}: IGD+ {igd:.4e}  HV {hv:.5f}  {secs:.1f} s",
                  flush=True)  # fmt: skip

        q = quality_runs(lambda s, fn=fn: fn(st, s), seeds,
                         lambda F: hypervolume(F, st.hv_ref), lambda F: igd_plus(F, st.front),
                         each)  # fmt: skip
        rows.append({"problem": st.name, "library": lib, "pop": st.pop, "generations": st.gens,
                     **q})  # fmt: skip
        print(f"  {st.name:<9} {lib:<14} IGD+ median {q['igd_plus_median']:.4e}  HV median "
              f"{q['hv_median']:.5f}  {q['seconds_median']:.1f} s/run", flush=True)  # fmt: skip
    compare_with(rows, REFERENCE, "p_hv", "p_igd")
    return rows


def table(title: str, rows: list[dict[str, Any]]) -> None:
    def p(v: float | None) -> Any:
        return float("nan") if v is None else v

    print_table(
        title,
        ["problem", "library", "evals", "IGD+ median", "IGD+ min", "IGD+ max", "HV median",
         "HV min", "HV max", "p IGD+", "p HV", "s/run"],
        [
            [r["problem"], r["library"], int(median(r["evaluations"])),
             f"{r['igd_plus_median']:.4e}", f"{r['igd_plus_min']:.4e}",
             f"{r['igd_plus_max']:.4e}", f"{r['hv_median']:.5f}", f"{r['hv_min']:.5f}",
             f"{r['hv_max']:.5f}", p(r["p_igd"]), p(r["p_hv"]), r["seconds_median"]]
            for r in rows
        ],
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--libs", default=DEFAULT_LIBS, help=f"from {', '.join(RUNNERS)}")
    ap.add_argument("--problems", default="dtlz2-5,dtlz1-5,dtlz2-10,dtlz1-10",
                    help="problem-objectives pairs, e.g. dtlz2-5")  # fmt: skip
    ap.add_argument("--generations", type=int, default=None, help="override every budget")
    ap.add_argument("--quick", action="store_true", help="2 seeds, 10 generations")
    ap.add_argument("--threads", type=int, default=None,
                    help="chimera.set_num_threads(N) before the runs")  # fmt: skip
    ap.add_argument("--json", default=None, help="write the results here (default: results/)")
    ap.add_argument("--no-save", action="store_true", help="do not write a JSON file")
    args = ap.parse_args(argv)
    libs = [s.strip().lower() for s in args.libs.split(",") if s.strip()]
    unknown = set(libs) - set(RUNNERS)
    if unknown:
        ap.error(f"unknown libraries {sorted(unknown)}; choose from {sorted(RUNNERS)}")
    seeds = 2 if args.quick else args.seeds
    gens = 10 if args.quick else args.generations
    studies = []
    for name in (s.strip().lower() for s in args.problems.split(",") if s.strip()):
        key, _, m = name.partition("-")
        if (key, int(m or 0)) not in SETTINGS:
            ap.error(f"unknown problem {name!r}; choose from "
                     f"{', '.join(f'{k}-{m}' for k, m in SETTINGS)}")  # fmt: skip
        studies.append(make_study(key, int(m), gens))
    for lib in libs:
        if not available(RUNNERS[lib][0]):
            print(f"skipping {lib}: not installed")

    checks = check_problems(studies)
    failures: dict[str, str] = {}
    for k, v in checks.items():
        print(f"problem check {k}: max relative difference from pymoo's {v:.1e}")
        if v > 1e-12:
            failures[f"problem check {k}"] = f"differs by {v:.3e}"
    if args.threads is not None:
        import chimera

        chimera.set_num_threads(args.threads)
    load_start = loadavg()
    results: dict[str, list[dict[str, Any]]] = {}
    for st in studies:
        print(f"{st.label} x {seeds} seeds", flush=True)
        try:
            results[st.name] = run_study(st, libs, seeds)
        except Exception as exc:
            failures[st.name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
    for st in studies:
        if st.name in results:
            hv = "exact" if st.n_obj <= EXACT_HV_UP_TO else f"hv_approx, {HV_SAMPLES:,} directions"
            table(f"{st.label}, {seeds} seeds: IGD+ to {st.front.shape[0]:,} front points, "
                  f"HV ref {st.hv_ref[0]:g} per objective ({hv}); p: Mann-Whitney vs "
                  f"{REFERENCE}", results[st.name])  # fmt: skip
    for name, why in failures.items():
        print(f"FAILED {name}: {why}")
    if not args.no_save:
        path = save(
            "many_objectives",
            {
                "settings": {
                    "seeds": seeds, "libs": libs, "quick": args.quick,
                    "chimera_threads": args.threads,
                    "studies": {st.name: {"partitions": st.partitions, "weights": st.pop,
                                          "generations": st.gens, "evaluations": st.gens * st.pop,
                                          "dim": int(st.bounds.shape[0]),
                                          "hv_ref": st.hv_ref.tolist(),
                                          "hv": "exact" if st.n_obj <= EXACT_HV_UP_TO
                                          else f"moocore.hv_approx Rphi-FWE+ {HV_SAMPLES}",
                                          "igd_plus_front_points": int(st.front.shape[0])}
                                for st in studies},
                    "loadavg_at_start": load_start, "loadavg_at_end": loadavg(),
                },
                "problem_checks_max_rel_diff": checks,
                "results": results,
                "failures": failures,
            },
            args.json,
        )  # fmt: skip
        print(f"wrote {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
