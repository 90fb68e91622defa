"""Multi-objective solution quality at equal budgets: chimera's NSGA-II / NSGA-III against
pymoo and pygmo.

Three studies, 10 seeds each (seeds 0, 1, ...; the same seed number for every library):

1. NSGA-II on ZDT1 (30 variables), pop 100, 25,000 evaluations (the initial population and
   249 generations): hypervolume of the final population with reference point (1, 1), and
   IGD+ to 1,000 points of the true front. Target: chimera's median HV >= 0.659.
   - chimera: ``NSGA2(bounds, n_obj=2, pop_size=100, seed=s)`` with its defaults (SBX eta 15
     at 0.9, polynomial mutation eta 20 at 1/dim), 250 ask/tell rounds.
   - pymoo: ``NSGA2(pop_size=100)`` with its defaults (the same SBX, polynomial mutation on
     90% of the children, duplicate elimination), ``minimize(..., ("n_evals", 25000), seed=s)``.
   - pygmo: ``nsga2(gen=249, cr=0.9, eta_c=15, m=1/dim, eta_m=20, seed=s)`` on
     ``pygmo.zdt(1, 30)`` from a population of 100 drawn with ``seed=s`` (pygmo's own defaults
     are cr 0.95, eta_c 10, m 0.01, eta_m 50; this uses the common ones).
2. NSGA-III on DTLZ2 with 3 objectives (12 variables), the 91 Das-Dennis directions of 12
   partitions, pop 92, 400 generations (36,800 evaluations): IGD+ to 4,950 points of the true
   front (the unit-sphere octant at the Das-Dennis directions of 98 partitions) and the
   hypervolume with reference point (1.1, 1.1, 1.1) (the largest possible is 1.331 - pi/6 =
   0.8074). chimera: ``NSGA3(bounds, n_obj=3, seed=s)`` (its defaults are these directions and
   pop 92). pymoo: ``NSGA3(ref_dirs=get_reference_directions("das-dennis", 3,
   n_partitions=12), pop_size=92)`` with ``("n_evals", 36800)``. pymoo's NSGA-III defaults
   differ from chimera's (and pymoo's NSGA-II's): SBX eta 30 on every pair, and polynomial
   mutation on 90% of the children.
3. Secondary: NSGA-II on ZDT2 (30 variables), ZDT4 and ZDT6 (10 variables), 25,000
   evaluations, the same three libraries and metrics as 1 (HV reference point (1, 1)).

``pymoo-same`` runs pymoo with chimera's operator settings (SBX eta 15 at 0.9, polynomial
mutation eta 20 at 1/dim on every child; duplicate elimination stays on, as in chimera), so
that a difference between the two is the algorithm's, not its parameters'.

chimera and pymoo evaluate the same vectorised NumPy functions (chimera.problems', checked
against pymoo's own problem definitions before the runs); pygmo evaluates its built-in C++
ZDT problems (checked too). Medians, min / max, and a two-sided Mann-Whitney U p-value of
chimera against each library (scipy).

Usage::

    python benchmarks/bench_mo_quality.py                # full run, a few minutes
    python benchmarks/bench_mo_quality.py --quick        # smoke test (2 seeds, short runs)
    python benchmarks/bench_mo_quality.py --seeds 20 --no-secondary
    python benchmarks/bench_mo_quality.py --libs chimera --threads 1   # same answers, 1 thread
"""

from __future__ import annotations

import argparse
import math
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, print_table
from _moo import available, compare_with, loadavg, quality_runs, save, zdt1

POP2 = 100
BUDGET2 = 25_000
POP3, PARTITIONS3, GENS3 = 92, 12, 400
ETA_C, ETA_M, CX_PROB = 15.0, 20.0, 0.9
ZDT_REF = (1.0, 1.0)
DTLZ_REF = (1.1, 1.1, 1.1)
ZDT1_TARGET = 0.659
REFERENCE = "chimera"


@dataclass
class Study:
    """One problem: its chimera problem, the evaluation function, budget and metrics."""

    key: str  # chimera.problems name
    label: str
    algorithm: str  # "nsga2" or "nsga3"
    fun: Callable[[np.ndarray], np.ndarray]
    bounds: np.ndarray
    n_obj: int
    gens: int  # ask/tell rounds, the initial population included
    pop: int
    hv_ref: tuple[float, ...]
    front: np.ndarray
    pygmo_id: int | None  # pygmo.zdt prob_id, None: no pygmo run


def make_study(key: str, *, gens: int, front_points: int) -> Study:
    import chimera.problems

    p = chimera.problems.get(key, n_obj=3) if key.startswith("dtlz") else chimera.problems.get(key)
    nsga3 = key.startswith("dtlz")
    assert p.pareto_front is not None
    pop = POP3 if nsga3 else POP2
    return Study(
        key=key,
        label=f"{key.upper()} ({p.dim} var, {p.n_obj} obj)",
        algorithm="nsga3" if nsga3 else "nsga2",
        fun=zdt1 if key == "zdt1" else p.fun,
        bounds=p.bounds,
        n_obj=p.n_obj,
        gens=gens,
        pop=pop,
        hv_ref=DTLZ_REF if nsga3 else ZDT_REF,
        front=p.pareto_front(front_points),
        pygmo_id=None if nsga3 else int(key[3:]),
    )


# --- runners: each returns the objectives of the final population ----------------------------


def run_chimera(st: Study, seed: int) -> tuple[np.ndarray, int]:
    import chimera

    if st.algorithm == "nsga3":
        algo: Any = chimera.NSGA3(st.bounds, n_obj=st.n_obj, n_partitions=PARTITIONS3, seed=seed)
        assert algo.pop_size == st.pop
    else:
        algo = chimera.NSGA2(st.bounds, n_obj=st.n_obj, pop_size=st.pop, seed=seed)
    for _ in range(st.gens):
        X = algo.ask()
        algo.tell(st.fun(X))
    return np.asarray(algo.objectives), int(algo.nfev)


def run_pymoo(st: Study, seed: int, same: bool = False) -> tuple[np.ndarray, int]:
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize

    fun = st.fun

    class Wrapped(Problem):
        def __init__(self) -> None:
            super().__init__(
                n_var=st.bounds.shape[0], n_obj=st.n_obj, xl=st.bounds[:, 0], xu=st.bounds[:, 1],
                vtype=float,
            )  # fmt: skip

        def _evaluate(self, x: np.ndarray, out: dict[str, Any], *args: Any, **kw: Any) -> None:
            out["F"] = fun(x)

    operators: dict[str, Any] = {}
    if same:
        from pymoo.operators.crossover.sbx import SBX
        from pymoo.operators.mutation.pm import PM

        operators = {
            "crossover": SBX(eta=ETA_C, prob=CX_PROB),
            "mutation": PM(eta=ETA_M, prob=1.0),  # pymoo's prob: the share of children mutated
        }
    if st.algorithm == "nsga3":
        from pymoo.algorithms.moo.nsga3 import NSGA3
        from pymoo.util.ref_dirs import get_reference_directions

        W = get_reference_directions("das-dennis", st.n_obj, n_partitions=PARTITIONS3)
        algo: Any = NSGA3(ref_dirs=W, pop_size=st.pop, **operators)
    else:
        from pymoo.algorithms.moo.nsga2 import NSGA2

        algo = NSGA2(pop_size=st.pop, **operators)
    res = minimize(Wrapped(), algo, ("n_evals", st.gens * st.pop), seed=seed, verbose=False)
    return np.asarray(res.pop.get("F")), int(res.algorithm.evaluator.n_eval)


def run_pymoo_same(st: Study, seed: int) -> tuple[np.ndarray, int]:
    return run_pymoo(st, seed, same=True)


def run_pygmo(st: Study, seed: int) -> tuple[np.ndarray, int]:
    import pygmo as pg

    assert st.pygmo_id is not None
    dim = st.bounds.shape[0]
    prob = pg.problem(pg.zdt(prob_id=st.pygmo_id, param=dim))
    pop = pg.population(prob, size=st.pop, seed=seed)
    uda = pg.nsga2(gen=st.gens - 1, cr=CX_PROB, eta_c=ETA_C, m=1.0 / dim, eta_m=ETA_M, seed=seed)
    pop = pg.algorithm(uda).evolve(pop)
    return np.asarray(pop.get_f()), int(pop.problem.get_fevals())


RUNNERS: dict[str, tuple[str, Callable[[Study, int], tuple[np.ndarray, int]]]] = {
    "chimera": ("chimera", run_chimera),
    "pymoo": ("pymoo", run_pymoo),
    "pymoo-same": ("pymoo", run_pymoo_same),
    "pygmo": ("pygmo", run_pygmo),
}


# --- checks and statistics -------------------------------------------------------------------


def check_problems(studies: list[Study], libs: list[str]) -> dict[str, float]:
    """Largest relative difference between the evaluation functions used and the libraries'
    own definitions of the same problems."""
    out: dict[str, float] = {}
    rng = np.random.default_rng(11)
    for st in studies:
        lo, hi = st.bounds[:, 0], st.bounds[:, 1]
        X = lo + (hi - lo) * rng.random((40, st.bounds.shape[0]))
        want = st.fun(X)
        others: dict[str, np.ndarray] = {}
        if "pymoo" in libs and available("pymoo"):
            from pymoo.problems import get_problem

            kw = {"n_obj": st.n_obj} if st.algorithm == "nsga3" else {}
            others["pymoo"] = get_problem(st.key, n_var=X.shape[1], **kw).evaluate(X)
        if "pygmo" in libs and st.pygmo_id is not None and available("pygmo"):
            import pygmo as pg

            prob = pg.problem(pg.zdt(prob_id=st.pygmo_id, param=X.shape[1]))
            others["pygmo"] = np.array([prob.fitness(x) for x in X])
        for lib, got in others.items():
            rel = np.abs(got - want) / np.maximum(1.0, np.abs(want))
            out[f"{st.key} {lib}"] = float(rel.max())
    return out


def run_study(st: Study, libs: list[str], seeds: int) -> list[dict[str, Any]]:
    from chimera.indicators import hypervolume, igd_plus

    rows: list[dict[str, Any]] = []
    for lib in libs:
        if lib == "pygmo" and st.pygmo_id is None:
            continue
        module, fn = RUNNERS[lib]
        if not available(module):
            continue
        q = quality_runs(
            lambda s, fn=fn: fn(st, s),
            seeds,  # type: ignore[misc]
            lambda F: hypervolume(F, st.hv_ref),
            lambda F: igd_plus(F, st.front),
        )
        rows.append({"problem": st.key, "library": lib, "algorithm": st.algorithm, "pop": st.pop,
                     "generations": st.gens, **q})  # fmt: skip
        print(f"  {st.key:<6} {lib:<8} HV median {q['hv_median']:.5f}  IGD+ median "
              f"{q['igd_plus_median']:.3e}  {q['seconds_median']:.2f} s/run", flush=True)  # fmt: skip
    compare_with(rows, REFERENCE, "p_hv_vs_chimera", "p_igd_vs_chimera")
    return rows


def table(title: str, rows: list[dict[str, Any]]) -> None:
    def p(v: float | None) -> Any:
        return float("nan") if v is None else v

    print_table(
        title,
        ["problem", "library", "evals", "HV median", "HV min", "HV max", "IGD+ median",
         "IGD+ min", "IGD+ max", "p HV", "p IGD+", "s/run"],
        [
            [r["problem"], r["library"], int(median(r["evaluations"])), f"{r['hv_median']:.5f}",
             f"{r['hv_min']:.5f}", f"{r['hv_max']:.5f}", f"{r['igd_plus_median']:.3e}",
             f"{r['igd_plus_min']:.3e}", f"{r['igd_plus_max']:.3e}", p(r["p_hv_vs_chimera"]),
             p(r["p_igd_vs_chimera"]), r["seconds_median"]]
            for r in rows
        ],
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--libs", default="chimera,pymoo,pymoo-same,pygmo")
    ap.add_argument("--no-secondary", action="store_true", help="skip ZDT2, ZDT4 and ZDT6")
    ap.add_argument("--quick", action="store_true", help="2 seeds, 30 / 40 generations")
    ap.add_argument(
        "--threads", type=int, default=None, help="chimera.set_num_threads(N) before the runs"
    )
    ap.add_argument("--json", default=None, help="write the results here (default: results/)")
    ap.add_argument("--no-save", action="store_true", help="do not write a JSON file")
    args = ap.parse_args(argv)
    libs = [s.strip().lower() for s in args.libs.split(",") if s.strip()]
    unknown = set(libs) - set(RUNNERS)
    if unknown:
        ap.error(f"unknown libraries {sorted(unknown)}; choose from {sorted(RUNNERS)}")
    seeds = 2 if args.quick else args.seeds
    gens2 = 30 if args.quick else BUDGET2 // POP2
    gens3 = 40 if args.quick else GENS3
    for lib in libs:
        if not available(RUNNERS[lib][0]):
            print(f"skipping {lib}: not installed")

    zdt1_st = make_study("zdt1", gens=gens2, front_points=1000)
    dtlz_st = make_study("dtlz2", gens=gens3, front_points=5000)
    secondary = (
        []
        if args.no_secondary
        else [make_study(k, gens=gens2, front_points=1000) for k in ("zdt2", "zdt4", "zdt6")]
    )
    checks = check_problems([zdt1_st, dtlz_st, *secondary], libs)
    failures: dict[str, str] = {}
    for k, v in checks.items():
        print(f"problem check {k}: max relative difference {v:.1e}")
        if v > 1e-12:
            failures[f"problem check {k}"] = f"differs by {v:.3e}"

    if args.threads is not None:
        import chimera

        chimera.set_num_threads(args.threads)
    load_start = loadavg()
    results: dict[str, list[dict[str, Any]]] = {}
    for name, st, lib_subset in (
        ("nsga2_zdt1", zdt1_st, libs),
        ("nsga3_dtlz2", dtlz_st, [x for x in libs if x != "pygmo"]),
        *((f"nsga2_{st.key}", st, libs) for st in secondary),
    ):
        print(f"{st.label}: {st.algorithm}, pop {st.pop}, {st.gens} generations x {seeds} seeds")
        try:
            results[name] = run_study(st, lib_subset, seeds)
        except Exception as exc:
            failures[name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()

    if "nsga2_zdt1" in results:
        table(
            f"NSGA-II on ZDT1, pop {POP2}, {gens2 * POP2} evaluations, {seeds} seeds: HV ref "
            f"{ZDT_REF}, IGD+ to 1,000 front points; p: Mann-Whitney vs chimera",
            results["nsga2_zdt1"],
        )
    if "nsga3_dtlz2" in results:
        table(
            f"NSGA-III on DTLZ2 (3 obj, 12 var), 91 directions, pop {POP3}, {gens3} generations, "
            f"{seeds} seeds: HV ref {DTLZ_REF}, IGD+ to 4,950 front points",
            results["nsga3_dtlz2"],
        )
    sec_rows = [r for k, v in results.items() if k not in ("nsga2_zdt1", "nsga3_dtlz2") for r in v]
    if sec_rows:
        table(
            f"Secondary: NSGA-II on ZDT2 / ZDT4 / ZDT6, pop {POP2}, {gens2 * POP2} evaluations, "
            f"{seeds} seeds: HV ref {ZDT_REF}, IGD+ to 1,000 front points",
            sec_rows,
        )

    # Verdicts: chimera no worse than each library by median (HV higher, IGD+ lower is better)
    verdicts = []
    for rows in results.values():
        ref = next((r for r in rows if r["library"] == REFERENCE), None)
        if ref is None:
            continue
        for r in rows:
            if r is ref:
                continue
            verdicts.append(
                {
                    "problem": r["problem"], "versus": r["library"],
                    "hv_no_worse": ref["hv_median"] >= r["hv_median"],
                    "igd_plus_no_worse": ref["igd_plus_median"] <= r["igd_plus_median"],
                    "hv_difference": ref["hv_median"] - r["hv_median"],
                    "igd_plus_ratio": ref["igd_plus_median"] / r["igd_plus_median"]
                    if r["igd_plus_median"] > 0 else math.nan,
                }
            )  # fmt: skip
    for vd in verdicts:
        print(
            f"{vd['problem']}: chimera vs {vd['versus']}: HV median difference "
            f"{vd['hv_difference']:+.5f} ({'no worse' if vd['hv_no_worse'] else 'WORSE'}), "
            f"IGD+ median ratio {vd['igd_plus_ratio']:.3f} "
            f"({'no worse' if vd['igd_plus_no_worse'] else 'WORSE'})"
        )
    target = None
    ref = next((r for r in results.get("nsga2_zdt1", []) if r["library"] == REFERENCE), None)
    if ref is not None:
        target = ref["hv_median"] >= ZDT1_TARGET
        print(
            f"target: chimera NSGA-II ZDT1 median HV {ref['hv_median']:.5f} >= {ZDT1_TARGET}: "
            f"{'met' if target else 'NOT met'}"
            + (" (quick run: budget too small to judge)" if args.quick else "")
        )
    for name, why in failures.items():
        print(f"FAILED {name}: {why}")

    if not args.no_save:
        path = save(
            "mo_quality",
            {
                "settings": {
                    "seeds": seeds, "libs": libs, "quick": args.quick,
                    "chimera_threads": args.threads,
                    "nsga2": {"pop": POP2, "generations": gens2, "evaluations": gens2 * POP2,
                              "eta_c": ETA_C, "eta_m": ETA_M, "cx_prob": CX_PROB,
                              "hv_ref": ZDT_REF, "igd_plus_front_points": 1000},
                    "nsga3": {"pop": POP3, "partitions": PARTITIONS3, "directions": 91,
                              "generations": gens3, "hv_ref": DTLZ_REF,
                              "igd_plus_front_points": int(dtlz_st.front.shape[0])},
                    "zdt1_target_hv": ZDT1_TARGET,
                    "loadavg_at_start": load_start, "loadavg_at_end": loadavg(),
                },
                "problem_checks_max_rel_diff": checks,
                "results": results,
                "verdicts": verdicts,
                "zdt1_target_met": target,
                "failures": failures,
            },
            args.json,
        )  # fmt: skip
        print(f"wrote {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
