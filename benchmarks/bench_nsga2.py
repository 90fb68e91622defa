"""Cost of one NSGA-II generation on ZDT1: chimera against pygmo, pymoo and DEAP.

The work: NSGA-II on ZDT1 (30 variables in [0, 1], two objectives), pop 100, SBX (eta 15,
probability 0.9 per pair), polynomial mutation (eta 20, probability 1/30 per gene), binary
tournament, (mu + lambda) survival by non-dominated rank and crowding distance. One generation
is everything: ask / variation, evaluation of the 100 offspring, tell / survival. Nothing is
excluded but the construction of the algorithm and its initial population.

How each library is driven and how it evaluates ZDT1:

- ``chimera cpp`` / ``chimera numba``: ``chimera.NSGA2(bounds, n_obj=2, pop_size=100, seed=s,
  backend=...)``, ``X = ask(); tell(zdt1(X))``; ``zdt1`` is the vectorised NumPy function of
  ``_moo.py`` (the same for chimera and pymoo). The default thread count (all cores), and
  ``... 1t`` with ``chimera.set_num_threads(1)`` while the run is timed: on a busy machine a
  kernel that opens a parallel region waits for the other core.
- ``pygmo gen=1``: ``pygmo.nsga2(gen=1, cr=0.9, eta_c=15, m=1/30, eta_m=20)``, one
  ``evolve`` call per generation on the built-in C++ ``pygmo.zdt(1, 30)`` (per-individual
  evaluation in C++); ``pygmo gen=G``: one ``evolve`` call with ``gen=G`` (no per-call
  overhead: the population is copied in and out of each evolve call).
- ``pymoo``: ``NSGA2(pop_size=100)`` with its defaults (the same operators; duplicate
  elimination on), stepped with ``algorithm.next()`` on a ``Problem`` whose vectorised
  ``_evaluate`` is the same ``zdt1``; ``pymoo no-dedup``: ``eliminate_duplicates=False``.
- ``deap``: the loop of DEAP's ``examples/ga/nsga2.py``: ``selTournamentDCD``, clone,
  ``cxSimulatedBinaryBounded`` (eta 15) with probability 0.9, ``mutPolynomialBounded`` (eta 20,
  indpb 1/30), ``selNSGA2`` on parents + offspring, evaluation one individual at a time with
  ``deap.benchmarks.zdt1`` (plain Python).

Method: one warm-up run per library (imports, numba's JIT), then ``--repeats`` fresh runs
(seeds 0, 1, ...), interleaved across libraries, each timed over ``--gens`` generations as one
block: ms per generation is the block's time / G, median over the runs, with min / max and
the CPU time over wall time (below 1: the process waited for a core). The final population's
hypervolume (reference point (1, 1)) shows that the libraries did comparable work; the answers
agree when each library's median hypervolume is within 0.02 of chimera cpp's. A check before
the timings holds the ZDT1 implementations (this script's, chimera's, DEAP's, pygmo's and
pymoo's) to each other.

Usage::

    python benchmarks/bench_nsga2.py                 # full run, a few minutes
    python benchmarks/bench_nsga2.py --quick         # smoke test (20 generations, 2 runs)
    python benchmarks/bench_nsga2.py --gens 500 --repeats 7 --libs chimera,pygmo
"""

from __future__ import annotations

import abc
import argparse
import contextlib
import functools
import random
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, print_table
from _moo import available, loadavg, save, spread, timed, zdt1, zdt1_one

DIM = 30
POP = 100
N_OBJ = 2
ETA_C, ETA_M, CX_PROB = 15.0, 20.0, 0.9
MUT_PROB = 1.0 / DIM
REF = (1.0, 1.0)
HV_TOLERANCE = 0.02
MIN_GENS_TO_JUDGE = 100  # fewer generations: the runs have not converged, HVs still differ
REFERENCE = "chimera cpp"
ALL_LIBS = ("chimera", "pygmo", "pymoo", "deap")


class Runner(abc.ABC):
    """Construct (initial population evaluated, untimed); ``step(g)`` runs g generations."""

    @abc.abstractmethod
    def step(self, g: int) -> None: ...

    @abc.abstractmethod
    def objectives(self) -> np.ndarray:
        """(pop, 2) objectives of the current population."""


@contextlib.contextmanager
def kernel_threads(n: int | None) -> Iterator[None]:
    """Run chimera's kernels (both CPU backends) on n threads inside the block, then restore
    each backend's previous count; n None changes nothing."""
    if n is None:
        yield
        return
    import chimera
    from chimera import _core
    from chimera._numba import ga as numba_ga

    before = (_core.ga.num_threads(), numba_ga.num_threads())
    chimera.set_num_threads(n)
    try:
        yield
    finally:
        _core.ga.set_num_threads(before[0])
        numba_ga.set_num_threads(before[1])


class ChimeraRunner(Runner):
    def __init__(self, seed: int, backend: str, threads: int | None = None) -> None:
        import chimera

        bounds = np.tile([0.0, 1.0], (DIM, 1))
        self.threads = threads
        self.algo = chimera.NSGA2(bounds, n_obj=N_OBJ, pop_size=POP, seed=seed, backend=backend)
        self.step(1)  # the initial population

    def step(self, g: int) -> None:
        algo = self.algo
        with kernel_threads(self.threads):
            for _ in range(g):
                X = algo.ask()
                algo.tell(zdt1(X))

    def objectives(self) -> np.ndarray:
        F = self.algo.objectives
        assert F is not None
        return F


class PygmoRunner(Runner):
    def __init__(self, seed: int, per_call: bool) -> None:
        import pygmo as pg

        self.pg, self.seed, self.per_call = pg, seed, per_call
        self.pop = pg.population(pg.problem(pg.zdt(prob_id=1, param=DIM)), size=POP, seed=seed)
        self._algos: dict[int, Any] = {}

    def _algo(self, gen: int) -> Any:
        if gen not in self._algos:
            pg = self.pg
            uda = pg.nsga2(
                gen=gen, cr=CX_PROB, eta_c=ETA_C, m=MUT_PROB, eta_m=ETA_M, seed=self.seed + gen
            )
            self._algos[gen] = pg.algorithm(uda)
        return self._algos[gen]

    def step(self, g: int) -> None:
        if self.per_call:
            algo = self._algo(1)
            for _ in range(g):
                self.pop = algo.evolve(self.pop)
        else:
            self.pop = self._algo(g).evolve(self.pop)

    def objectives(self) -> np.ndarray:
        return np.asarray(self.pop.get_f())


def _pymoo_problem() -> Any:
    from pymoo.core.problem import Problem

    class ZDT1(Problem):
        def __init__(self) -> None:
            super().__init__(n_var=DIM, n_obj=N_OBJ, xl=0.0, xu=1.0, vtype=float)

        def _evaluate(self, x: np.ndarray, out: dict[str, Any], *args: Any, **kw: Any) -> None:
            out["F"] = zdt1(x)

    return ZDT1()


class PymooRunner(Runner):
    def __init__(self, seed: int, dedup: bool) -> None:
        from pymoo.algorithms.moo.nsga2 import NSGA2

        self.algo = NSGA2(pop_size=POP, eliminate_duplicates=dedup)
        self.algo.setup(_pymoo_problem(), termination=("n_gen", 10**9), seed=seed, verbose=False)
        self.algo.next()  # the initial population

    def step(self, g: int) -> None:
        for _ in range(g):
            self.algo.next()

    def objectives(self) -> np.ndarray:
        return np.asarray(self.algo.pop.get("F"))


class DeapRunner(Runner):
    """DEAP's examples/ga/nsga2.py loop, with this benchmark's operator parameters."""

    def __init__(self, seed: int) -> None:
        from deap import base, benchmarks, creator, tools

        random.seed(seed)
        if not hasattr(creator, "Nsga2BenchFitness"):
            creator.create("Nsga2BenchFitness", base.Fitness, weights=(-1.0, -1.0))
            creator.create("Nsga2BenchIndividual", list, fitness=creator.Nsga2BenchFitness)
        tb = base.Toolbox()
        tb.register("attr_float", random.uniform, 0.0, 1.0)
        tb.register(
            "individual", tools.initRepeat, creator.Nsga2BenchIndividual, tb.attr_float, DIM
        )
        tb.register("population", tools.initRepeat, list, tb.individual)
        tb.register("evaluate", benchmarks.zdt1)
        tb.register("mate", tools.cxSimulatedBinaryBounded, low=0.0, up=1.0, eta=ETA_C)
        tb.register(
            "mutate", tools.mutPolynomialBounded, low=0.0, up=1.0, eta=ETA_M, indpb=MUT_PROB
        )
        tb.register("select", tools.selNSGA2)
        self.tb, self.tools = tb, tools
        pop = tb.population(n=POP)
        for ind in pop:
            ind.fitness.values = tb.evaluate(ind)
        self.pop = tb.select(pop, len(pop))  # assigns the crowding distance

    def step(self, g: int) -> None:
        tb, tools = self.tb, self.tools
        for _ in range(g):
            offspring = tools.selTournamentDCD(self.pop, len(self.pop))
            offspring = [tb.clone(ind) for ind in offspring]
            for a, b in zip(offspring[::2], offspring[1::2], strict=True):
                if random.random() <= CX_PROB:
                    tb.mate(a, b)
                tb.mutate(a)
                tb.mutate(b)
                del a.fitness.values, b.fitness.values
            for ind in offspring:
                if not ind.fitness.valid:
                    ind.fitness.values = tb.evaluate(ind)
            self.pop = tb.select(self.pop + offspring, POP)

    def objectives(self) -> np.ndarray:
        return np.array([ind.fitness.values for ind in self.pop])


@dataclass
class Entry:
    name: str
    lib: str
    module: str
    factory: Callable[[int], Runner]
    evaluation: str


def entries(libs: list[str]) -> list[Entry]:
    out = [
        Entry("chimera cpp", "chimera", "chimera", lambda s: ChimeraRunner(s, "cpp"),
              "vectorised NumPy zdt1"),
        Entry("chimera cpp 1t", "chimera", "chimera", lambda s: ChimeraRunner(s, "cpp", 1),
              "vectorised NumPy zdt1; chimera.set_num_threads(1) while it runs"),
        Entry("chimera numba", "chimera", "numba", lambda s: ChimeraRunner(s, "numba"),
              "vectorised NumPy zdt1"),
        Entry("chimera numba 1t", "chimera", "numba", lambda s: ChimeraRunner(s, "numba", 1),
              "vectorised NumPy zdt1; chimera.set_num_threads(1) while it runs"),
        Entry("pygmo gen=1", "pygmo", "pygmo", lambda s: PygmoRunner(s, True),
              "pygmo.zdt(1, 30), C++, per individual; one evolve(gen=1) per generation"),
        Entry("pygmo gen=G", "pygmo", "pygmo", lambda s: PygmoRunner(s, False),
              "pygmo.zdt(1, 30), C++, per individual; one evolve(gen=G) per block"),
        Entry("pymoo", "pymoo", "pymoo", lambda s: PymooRunner(s, True),
              "vectorised NumPy zdt1 in Problem._evaluate; duplicate elimination on"),
        Entry("pymoo no-dedup", "pymoo", "pymoo", lambda s: PymooRunner(s, False),
              "vectorised NumPy zdt1 in Problem._evaluate; eliminate_duplicates=False"),
        Entry("deap", "deap", "deap", DeapRunner,
              "deap.benchmarks.zdt1, plain Python, one individual at a time"),
    ]  # fmt: skip
    return [e for e in out if e.lib in libs]


def hypervolume(F: np.ndarray) -> float:
    from chimera.indicators import hypervolume as hv

    return hv(F, REF)


def check_zdt1(libs: list[str]) -> dict[str, float]:
    """Largest absolute difference of each ZDT1 implementation from this script's."""
    X = np.random.default_rng(7).random((50, DIM))
    want = zdt1(X)
    got: dict[str, np.ndarray] = {
        "_moo.zdt1_one": np.array([zdt1_one(x.tolist()) for x in X]),
    }
    if "chimera" in libs:
        import chimera.problems

        got["chimera.problems zdt1"] = chimera.problems.get("zdt1").fun(X)
    if "deap" in libs and available("deap"):
        from deap import benchmarks

        got["deap.benchmarks.zdt1"] = np.array([benchmarks.zdt1(x.tolist()) for x in X])
    if "pygmo" in libs and available("pygmo"):
        import pygmo as pg

        prob = pg.problem(pg.zdt(prob_id=1, param=DIM))
        got["pygmo.zdt(1)"] = np.array([prob.fitness(x) for x in X])
    if "pymoo" in libs and available("pymoo"):
        from pymoo.problems import get_problem

        got["pymoo get_problem('zdt1')"] = get_problem("zdt1", n_var=DIM).evaluate(X)
    return {k: float(np.max(np.abs(v - want))) for k, v in got.items()}


def chimera_breakdown(gens: int, seed: int) -> dict[str, float]:
    """Median microseconds per generation of ask, evaluate and tell, chimera cpp."""
    r = ChimeraRunner(seed, "cpp")
    algo = r.algo
    parts: dict[str, list[float]] = {"ask": [], "evaluate": [], "tell": []}
    for _ in range(gens):
        t0 = time.perf_counter()
        X = algo.ask()
        t1 = time.perf_counter()
        F = zdt1(X)
        t2 = time.perf_counter()
        algo.tell(F)
        t3 = time.perf_counter()
        parts["ask"].append(t1 - t0)
        parts["evaluate"].append(t2 - t1)
        parts["tell"].append(t3 - t2)
    return {k: median(v) * 1e6 for k, v in parts.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gens", type=int, default=200, help="generations per timed run")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs (seeds) per library")
    ap.add_argument("--libs", default=",".join(ALL_LIBS), help=f"subset of {','.join(ALL_LIBS)}")
    ap.add_argument("--quick", action="store_true", help="20 generations, 2 runs: a smoke test")
    ap.add_argument("--json", default=None, help="write the results here (default: results/)")
    ap.add_argument("--no-save", action="store_true", help="do not write a JSON file")
    args = ap.parse_args(argv)
    gens = 20 if args.quick else args.gens
    repeats = min(args.repeats, 2) if args.quick else args.repeats
    libs = [s.strip().lower() for s in args.libs.split(",") if s.strip()]

    todo, unavailable = [], {}
    for e in entries(libs):
        if available(e.module):
            todo.append(e)
        else:
            unavailable[e.name] = f"{e.module} is not installed"
            print(f"skipping {e.name}: {unavailable[e.name]}")

    zdt_check = check_zdt1(libs)
    for k, v in zdt_check.items():
        print(f"ZDT1 {k}: max |difference| from the script's zdt1 = {v:.2e}")
    failures: dict[str, str] = {}
    for k, v in zdt_check.items():
        if v > 1e-12:
            failures[f"zdt1 check {k}"] = f"differs by {v:.3e}"

    load_start = loadavg()
    active = []
    for e in todo:  # warm-up: imports, JIT compilation, first-touch allocations
        try:
            e.factory(10_000).step(5)
            active.append(e)
        except Exception as exc:
            failures[e.name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()

    runs: dict[str, list[dict[str, float]]] = {e.name: [] for e in active}
    for rep in range(repeats):
        for e in active:
            if e.name in failures:
                continue
            try:
                runner = e.factory(rep)
                wall, cpu, _ = timed(functools.partial(runner.step, gens))
                runs[e.name].append(
                    {"seed": rep, "seconds": wall, "cpu_seconds": cpu,
                     "hypervolume": hypervolume(runner.objectives())}
                )  # fmt: skip
            except Exception as exc:
                failures[e.name] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
        print(f"run {rep + 1}/{repeats} done", flush=True)

    results: list[dict[str, Any]] = []
    for e in active:
        rs = runs[e.name]
        if not rs:
            continue
        ms = [r["seconds"] / gens * 1e3 for r in rs]
        hv = [r["hypervolume"] for r in rs]
        results.append(
            {
                "library": e.name,
                "evaluation": e.evaluation,
                "generations_per_run": gens,
                "runs": rs,
                "ms_per_generation": median(ms),
                "ms_min": min(ms),
                "ms_max": max(ms),
                "spread": spread(ms),
                "cpu_over_wall": sum(r["cpu_seconds"] for r in rs) / sum(r["seconds"] for r in rs),
                "hypervolume_median": median(hv),
                "hypervolume_min": min(hv),
                "hypervolume_max": max(hv),
            }
        )
    ref_ms = next((r["ms_per_generation"] for r in results if r["library"] == REFERENCE), None)
    ref_hv = next((r["hypervolume_median"] for r in results if r["library"] == REFERENCE), None)
    for r in results:
        r["ratio_to_chimera_cpp"] = r["ms_per_generation"] / ref_ms if ref_ms else float("nan")

    print_table(
        f"NSGA-II on ZDT1 ({DIM} variables), pop {POP}: ms per generation (ask + evaluate + "
        f"tell), median of {repeats} runs of {gens} generations; HV of the final population, "
        f"ref {REF}",
        ["library", "ms/gen", "min", "max", "x chimera cpp", "cpu/wall", "HV median", "HV min",
         "HV max"],
        [
            [r["library"], r["ms_per_generation"], r["ms_min"], r["ms_max"],
             r["ratio_to_chimera_cpp"], r["cpu_over_wall"], f"{r['hypervolume_median']:.4f}",
             f"{r['hypervolume_min']:.4f}", f"{r['hypervolume_max']:.4f}"]
            for r in sorted(results, key=lambda r: r["ms_per_generation"])
        ],
    )  # fmt: skip

    breakdown = None
    if any(e.name == REFERENCE for e in active):
        breakdown = chimera_breakdown(max(gens, 50), 123)
        print(
            "chimera cpp, median us per generation: "
            + ", ".join(f"{k} {v:.1f}" for k, v in breakdown.items())
        )

    problems = []
    hv_judged = ref_hv is not None and gens >= MIN_GENS_TO_JUDGE
    if ref_hv is not None and not hv_judged:
        print(f"HV not compared: {gens} generations are too few (>= {MIN_GENS_TO_JUDGE})")
    if ref_hv is not None and hv_judged:
        for r in results:
            if abs(r["hypervolume_median"] - ref_hv) > HV_TOLERANCE:
                problems.append(
                    f"{r['library']} median HV {r['hypervolume_median']:.4f} vs chimera cpp "
                    f"{ref_hv:.4f}"
                )
    for p in problems:
        print(f"DISAGREE {p}")
    if not problems and hv_judged:
        print(f"answers agree: every median final HV is within {HV_TOLERANCE} of chimera cpp's")
    for name, why in failures.items():
        print(f"FAILED {name}: {why}")

    if not args.no_save:
        path = save(
            "nsga2",
            {
                "settings": {
                    "problem": "zdt1", "dim": DIM, "pop": POP, "gens_per_run": gens,
                    "repeats": repeats, "eta_c": ETA_C, "eta_m": ETA_M, "cx_prob": CX_PROB,
                    "mut_prob_per_gene": MUT_PROB, "hv_ref": REF, "quick": args.quick,
                    "libs": libs, "loadavg_at_start": load_start, "loadavg_at_end": loadavg(),
                },
                "zdt1_check_max_abs_diff": zdt_check,
                "results": results,
                "chimera_cpp_breakdown_us": breakdown,
                "agreement_problems": problems,
                "unavailable": unavailable,
                "failures": failures,
            },
            args.json,
        )  # fmt: skip
        print(f"wrote {path}")
    return 1 if failures or problems else 0


if __name__ == "__main__":
    sys.exit(main())
