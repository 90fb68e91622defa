"""Cost of one GA generation: chimera against a NumPy baseline and the reference libraries.

One generation is: tournament selection (size 3), single-point crossover (probability 0.9 per
parent pair), Gaussian mutation (per-gene probability 1/dim, sigma = 0.1 of the bound width),
repair into the bounds, and evaluation of the offspring on the sphere function, at dim 100.
Every library that evaluates a whole population does so with ``np.einsum("ij,ij->i", X, X)``.

The number reported is the median over repeats of the time per individual-generation in
microseconds (time of G generations / (G * pop_size)), fitness evaluation included.

Usage::

    python benchmarks/bench_generation.py                 # full run, a few minutes
    python benchmarks/bench_generation.py --quick         # smoke test
    python benchmarks/bench_generation.py --pops 100,1000 --libs numpy,chimera --repeats 7

See benchmarks/README.md for what differs between the libraries' operators.
"""

from __future__ import annotations

import abc
import argparse
import importlib.util
import math
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, print_table, write_results

DIM = 100
LOW, HIGH = -5.12, 5.12
SIGMA = 0.1  # Gaussian mutation standard deviation as a fraction of (HIGH - LOW)
SIGMA_ABS = SIGMA * (HIGH - LOW)
CX_RATE = 0.9  # probability that a parent pair is recombined
TOURNAMENT = 3
ELITISM = 1

ALL_LIBS = ("numpy", "pygmo", "deap", "pymoo", "evosax", "chimera")


def sphere(X: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", X, X)


# --------------------------------------------------------------------------------------------
# Runners: construct (random initial population, evaluated, untimed), step(g) runs g
# generations, best() is the best fitness seen so far.
# --------------------------------------------------------------------------------------------


class Runner(abc.ABC):
    label = ""
    evaluation = ""  # how this library evaluates fitness

    @abc.abstractmethod
    def step(self, g: int) -> None:
        """Run g generations."""

    @abc.abstractmethod
    def best(self) -> float:
        """Best fitness seen so far."""


class NumpyGA(Runner):
    """The baseline: a plain vectorised NumPy GA with the same operators as chimera's kernels
    (pairs of tournament winners give two children each; elitism 1; clip to the bounds)."""

    label = "numpy"
    evaluation = "whole population, np.einsum"

    def __init__(self, n: int, d: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.n, self.d = n, d
        self.X = self.rng.uniform(LOW, HIGH, (n, d))
        self.F = sphere(self.X)
        self._best = float(self.F.min())
        self._cols = np.arange(d)
        self.pairs = (n + 1) // 2
        self._rows = np.arange(2 * self.pairs)

    def _generation(self) -> None:
        rng, n, d, pairs = self.rng, self.n, self.d, self.pairs
        X, F = self.X, self.F
        cand = rng.integers(0, n, (2 * pairs, TOURNAMENT))
        win = cand[self._rows, np.argmin(F[cand], axis=1)]
        Xa, Xb = X[win[0::2]], X[win[1::2]]
        points = rng.integers(1, d, pairs)
        mask = (self._cols >= points[:, None]) & (rng.random(pairs) < CX_RATE)[:, None]
        C = np.empty((2 * pairs, d))
        C[0::2] = np.where(mask, Xb, Xa)
        C[1::2] = np.where(mask, Xa, Xb)
        C = C[:n]
        mut = rng.random((n, d)) < 1.0 / d
        C[mut] += SIGMA_ABS * rng.standard_normal(int(np.count_nonzero(mut)))
        np.clip(C, LOW, HIGH, out=C)
        f = sphere(C)
        b, w = int(np.argmin(F)), int(np.argmax(f))
        if F[b] <= f[w]:  # elitism 1: the best parent replaces the worst child if not worse
            C[w], f[w] = X[b], F[b]
        self.X, self.F = C, f
        self._best = min(self._best, float(f.min()))

    def step(self, g: int) -> None:
        for _ in range(g):
            self._generation()

    def best(self) -> float:
        return self._best


class _PygmoSphere:
    """pygmo user-defined problem: pygmo's sga calls ``fitness`` once per individual."""

    def __init__(self, d: int) -> None:
        self.d = d

    def fitness(self, x: np.ndarray) -> tuple[float]:
        return (float(x @ x),)

    def get_bounds(self) -> tuple[list[float], list[float]]:
        return [LOW] * self.d, [HIGH] * self.d


class _PygmoCountingSphere(_PygmoSphere):
    """The same problem with a ``batch_fitness`` and call counters, to see which sga uses."""

    calls: ClassVar[dict[str, int]] = {"fitness": 0, "batch_fitness": 0}

    def fitness(self, x: np.ndarray) -> tuple[float]:
        _PygmoCountingSphere.calls["fitness"] += 1
        return (float(x @ x),)

    def batch_fitness(self, dvs: np.ndarray) -> np.ndarray:
        _PygmoCountingSphere.calls["batch_fitness"] += 1
        X = np.asarray(dvs, dtype=np.float64).reshape(-1, self.d)
        return sphere(X)


class PygmoSGA(Runner):
    label = "pygmo sga"
    evaluation = "per individual (UDP.fitness, x @ x); sga has no batch/bfe path"

    def __init__(self, n: int, d: int, seed: int, udp: type = _PygmoSphere) -> None:
        import pygmo as pg

        self.pg = pg
        self.d, self.seed = d, seed
        self.pop = pg.population(pg.problem(udp(d)), size=n, seed=seed)
        self._calls = 0

    def step(self, g: int) -> None:
        pg = self.pg
        self._calls += 1
        algo = pg.algorithm(
            pg.sga(
                gen=g, cr=CX_RATE, m=1.0 / self.d, param_m=SIGMA, param_s=TOURNAMENT,
                crossover="single", mutation="gaussian", selection="tournament",
                seed=self.seed + self._calls,
            )
        )  # fmt: skip
        self.pop = algo.evolve(self.pop)

    def best(self) -> float:
        return float(self.pop.champion_f[0])


class DeapGA(Runner):
    """DEAP the usual way: list individuals, ``algorithms.varAnd`` (clone, cxOnePoint,
    mutGaussian), then the invalidated individuals evaluated in one NumPy batch."""

    label = "deap"
    evaluation = "invalidated offspring as one np.asarray batch, np.einsum"

    def __init__(self, n: int, d: int, seed: int) -> None:
        import random

        from deap import algorithms, base, creator, tools

        random.seed(seed)
        self.algorithms, self.tools = algorithms, tools
        if not hasattr(creator, "BenchFitnessMin"):
            creator.create("BenchFitnessMin", base.Fitness, weights=(-1.0,))
            creator.create("BenchIndividual", list, fitness=creator.BenchFitnessMin)
        tb = base.Toolbox()
        tb.register("mate", tools.cxOnePoint)
        tb.register("mutate", tools.mutGaussian, mu=0.0, sigma=SIGMA_ABS, indpb=1.0 / d)
        tb.register("select", tools.selTournament, tournsize=TOURNAMENT)
        self.toolbox = tb
        rng = np.random.default_rng(seed)
        self.pop = [creator.BenchIndividual(row) for row in rng.uniform(LOW, HIGH, (n, d)).tolist()]
        self._evaluate(self.pop)
        self._best = min(ind.fitness.values[0] for ind in self.pop)

    @staticmethod
    def _evaluate(inds: list[Any]) -> None:
        if not inds:
            return
        X = np.asarray(inds, dtype=np.float64)
        out = (X < LOW) | (X > HIGH)
        if out.any():  # DEAP has no bounds handling: clip, and write back the rows that moved
            np.clip(X, LOW, HIGH, out=X)
            for i in np.flatnonzero(out.any(axis=1)).tolist():
                inds[i][:] = X[i].tolist()
        for ind, v in zip(inds, sphere(X).tolist(), strict=True):
            ind.fitness.values = (v,)

    def step(self, g: int) -> None:
        tools, tb = self.tools, self.toolbox
        for _ in range(g):
            elite = tb.clone(tools.selBest(self.pop, 1)[0])
            offspring = tb.select(self.pop, len(self.pop))
            offspring = self.algorithms.varAnd(offspring, tb, cxpb=CX_RATE, mutpb=1.0)
            self._evaluate([ind for ind in offspring if not ind.fitness.valid])
            worst = max(range(len(offspring)), key=lambda i: offspring[i].fitness.values[0])
            if elite.fitness.values[0] <= offspring[worst].fitness.values[0]:
                offspring[worst] = elite
            self.pop = offspring
            self._best = min(self._best, min(ind.fitness.values[0] for ind in offspring))

    def best(self) -> float:
        return self._best


def _pymoo_tournament_min(pop: Any, P: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Vectorised comparison for pymoo's TournamentSelection: the smallest F of each row of P."""
    F = pop.get("F")[:, 0]
    return P[np.arange(len(P)), np.argmin(F[P], axis=1)][:, None]


class PymooGA(Runner):
    label = "pymoo GA"
    evaluation = "vectorised Problem._evaluate, np.einsum"

    def __init__(self, n: int, d: int, seed: int) -> None:
        from pymoo.algorithms.soo.nonconvex.ga import GA
        from pymoo.core.problem import Problem
        from pymoo.operators.crossover.pntx import SinglePointCrossover
        from pymoo.operators.mutation.gauss import GaussianMutation
        from pymoo.operators.selection.tournament import TournamentSelection

        class Sphere(Problem):
            def __init__(self) -> None:
                super().__init__(n_var=d, n_obj=1, xl=LOW, xu=HIGH, vtype=float)

            def _evaluate(self, x: np.ndarray, out: dict[str, Any], *args: Any, **kw: Any) -> None:
                out["F"] = sphere(x)

        self.algo = GA(
            pop_size=n,
            selection=TournamentSelection(func_comp=_pymoo_tournament_min, pressure=TOURNAMENT),
            crossover=SinglePointCrossover(prob=CX_RATE),
            mutation=GaussianMutation(sigma=SIGMA, prob=1.0, prob_var=1.0 / d),
            eliminate_duplicates=False,
        )
        self.algo.setup(Sphere(), termination=("n_gen", 10**12), seed=seed, verbose=False)
        self.algo.next()  # the initial population

    def step(self, g: int) -> None:
        for _ in range(g):
            self.algo.next()

    def best(self) -> float:
        return float(self.algo.opt.get("F").min())


class EvosaxGA(Runner):
    """evosax SimpleGA, one jitted function per generation (ask, clip, evaluate in JAX, tell)."""

    label = "evosax SimpleGA"
    evaluation = "whole population in JAX (jnp.einsum) inside the jitted step; float64"

    def __init__(self, n: int, d: int, seed: int) -> None:
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import optax
        from evosax.algorithms import SimpleGA

        self.jax = jax
        es = SimpleGA(
            population_size=n,
            solution=jnp.zeros(d),
            # SimpleGA mutates every gene: the same expected squared step per child as
            # chimera's (one gene of SIGMA_ABS on average) is SIGMA_ABS / sqrt(d) per gene.
            std_schedule=optax.constant_schedule(SIGMA_ABS / math.sqrt(d)),
        )
        params = es.default_params.replace(crossover_rate=CX_RATE)
        key, k_init, k_state = jax.random.split(jax.random.key(seed), 3)
        x0 = jax.random.uniform(k_init, (n, d), minval=LOW, maxval=HIGH)
        self.state = es.init(k_state, x0, jnp.einsum("ij,ij->i", x0, x0), params)

        @jax.jit
        def generation(key: Any, state: Any) -> tuple[Any, Any]:
            key, k_ask, k_tell = jax.random.split(key, 3)
            x, state = es.ask(k_ask, state, params)
            x = jnp.clip(x, LOW, HIGH)
            f = jnp.einsum("ij,ij->i", x, x)
            state, _ = es.tell(k_tell, x, f, state, params)
            return key, state

        self.key, self._gen = key, generation
        jax.block_until_ready(self.state)

    def step(self, g: int) -> None:
        key, state = self.key, self.state
        for _ in range(g):
            key, state = self._gen(key, state)
        self.jax.block_until_ready(state)
        self.key, self.state = key, state

    def best(self) -> float:
        return float(self.state.best_fitness)


class ChimeraGA(Runner):
    evaluation = "ask() -> np.einsum -> tell()"

    def __init__(self, n: int, d: int, seed: int, backend: str, threads: int) -> None:
        import chimera
        from chimera.evolution.operators import Gaussian, SinglePoint, Tournament

        self.chimera, self.threads = chimera, threads
        self.label = f"chimera {backend} {threads}t"
        chimera.set_num_threads(threads)
        bounds = np.tile([LOW, HIGH], (d, 1))
        self.ga = chimera.GA(
            bounds, pop_size=n, seed=seed, selection=Tournament(k=TOURNAMENT),
            crossover=SinglePoint(rate=CX_RATE), mutation=Gaussian(sigma=SIGMA, rate=None),
            elitism=ELITISM, backend=backend,
        )  # fmt: skip
        self.step(1)  # the initial population

    def step(self, g: int) -> None:
        self.chimera.set_num_threads(self.threads)  # global setting: re-assert per call
        ga = self.ga
        for _ in range(g):
            X = ga.ask()
            ga.tell(np.einsum("ij,ij->i", X, X))

    def best(self) -> float:
        return float(self.ga.best_f)


@dataclass
class Entry:
    name: str
    lib: str
    factory: Callable[[int, int, int], Runner]
    notes: str = ""
    skip: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def entries(libs: list[str]) -> list[Entry]:
    """The runners to measure, with a skip reason for those that cannot run here."""

    def missing(module: str) -> str | None:
        return None if importlib.util.find_spec(module) else f"{module} is not installed"

    out: list[Entry] = []
    for lib in libs:
        if lib == "numpy":
            out.append(Entry("numpy", lib, NumpyGA, "baseline, same operators as chimera"))
        elif lib == "pygmo":
            out.append(
                Entry(
                    "pygmo sga", lib, PygmoSGA,
                    "(mu+lambda) reinsertion; crossover partner drawn at random, not a 2nd tournament",
                    missing("pygmo"),
                )
            )  # fmt: skip
        elif lib == "deap":
            out.append(
                Entry("deap", lib, DeapGA, "varAnd + deepcopy clone; clip by us", missing("deap"))
            )
        elif lib == "pymoo":
            out.append(
                Entry(
                    "pymoo GA", lib, PymooGA,
                    "FitnessSurvival (mu+lambda); eliminate_duplicates=False; random-init repair",
                    missing("pymoo"),
                )
            )  # fmt: skip
        elif lib == "evosax":
            out.append(
                Entry(
                    "evosax SimpleGA", lib, EvosaxGA,
                    "own operators: truncation (top 50%), uniform crossover, every gene mutated "
                    "(sigma/sqrt(dim)), no elitism",
                    missing("evosax"),
                )
            )  # fmt: skip
        elif lib == "chimera":
            reason = missing("chimera")
            backends: dict[str, Any] = {}
            if reason is None:
                try:
                    import chimera

                    backends = chimera.backends()
                    chimera.GA  # noqa: B018 - the API must be there
                except Exception as exc:  # a half-written API: say so and carry on
                    reason = f"chimera does not import: {type(exc).__name__}: {exc}"
            for backend, threads in (("cpp", 1), ("cpp", 2), ("numba", 1)):
                skip = reason
                if skip is None and backend in backends and not backends[backend].available:
                    skip = f"backend {backend} unavailable: {backends[backend].reason}"

                def factory(n: int, d: int, s: int, b: str = backend, t: int = threads) -> Runner:
                    return ChimeraGA(n, d, s, b, t)

                out.append(Entry(f"chimera {backend} {threads}t", lib, factory, "", skip))
        else:
            raise SystemExit(f"unknown library {lib!r}; choose from {', '.join(ALL_LIBS)}")
    return out


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


def _minor_faults() -> int:
    try:
        import resource
    except ImportError:  # not on Unix
        return 0
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_minflt)


#: glibc malloc settings of --malloc no-trim: freed memory stays in the process instead of
#: going back to the OS after every large temporary (and faulting in again on the next one).
NO_TRIM_ENV = {"MALLOC_TRIM_THRESHOLD_": str(1 << 30), "MALLOC_MMAP_THRESHOLD_": str(1 << 30)}


def measure(
    entry: Entry, n: int, *, target_s: float, repeats: int, warmup: int, max_gens: int, seed: int
) -> dict[str, Any]:
    """Warm up, choose G so that G generations take about target_s, time G generations
    ``repeats`` times; µs per individual-generation from the median."""
    runner = entry.factory(n, DIM, seed)
    runner.step(warmup)
    g, elapsed = 1, 0.0
    while True:  # calibrate on a growing number of generations
        t0 = time.perf_counter()
        runner.step(g)
        elapsed = time.perf_counter() - t0
        if elapsed >= target_s / 8 or g >= max_gens:
            break
        g = min(max_gens, g * 4)
    G = max(1, min(max_gens, math.ceil(target_s * g / max(elapsed, 1e-9))))
    times, cpu = [], []
    faults0 = _minor_faults()
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        runner.step(G)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    faults = (_minor_faults() - faults0) / (G * repeats)
    per = [t / (G * n) * 1e6 for t in times]
    i_med = int(np.argsort(times)[len(times) // 2])
    return {
        "library": entry.name,
        "pop": n,
        "dim": DIM,
        "generations_per_repeat": G,
        "repeats": repeats,
        "seconds": times,
        # CPU time of this process (all its threads) over wall time: below the thread count
        # means the process waited for a core (other load on the machine)
        "cpu_seconds": cpu,
        "cpu_over_wall_median_repeat": cpu[i_med] / times[i_med],
        # page faults per generation: memory handed back to the OS and touched again
        "minor_faults_per_generation": faults,
        "us_per_individual_generation": median(per),
        "us_min": min(per),
        "us_max": max(per),
        "evaluation": runner.evaluation,
        "best_f_at_end": runner.best(),
    }


def check_agreement(quality: list[dict[str, Any]]) -> dict[str, Any]:
    """The answers agree when chimera's backends end on the same best fitness (same seed, same
    random decisions) and every library's reduction factor is within 2x of the baseline's."""
    problems = []
    by_name = {q["library"]: q for q in quality}
    chimera_best = {q["final_best"] for name, q in by_name.items() if name.startswith("chimera")}
    if len(chimera_best) > 1:
        problems.append(f"chimera backends end on different best fitness: {sorted(chimera_best)}")
    base = by_name.get("numpy")
    if base is not None:
        for name, q in by_name.items():
            ratio = q["reduction_factor"] / base["reduction_factor"]
            if not 0.5 <= ratio <= 2.0:
                problems.append(
                    f"{name} reduces best fitness {ratio:.2f}x as much as the NumPy baseline"
                )
    return {"problems": problems}


def quality_check(entry: Entry, *, n: int, gens: int, seed: int) -> dict[str, Any]:
    runner = entry.factory(n, DIM, seed)
    start = runner.best()
    t0 = time.perf_counter()
    runner.step(gens)
    elapsed = time.perf_counter() - t0
    end = runner.best()
    return {
        "library": entry.name,
        "pop": n,
        "generations": gens,
        "initial_best": start,
        "final_best": end,
        "reduction_factor": start / end if end > 0 else float("inf"),
        "seconds": elapsed,
    }


def pygmo_batch_check(n: int = 100, gens: int = 5) -> dict[str, Any]:
    """Does pygmo's sga use a UDP's batch_fitness? Count the calls of each method."""
    import pygmo as pg

    calls = _PygmoCountingSphere.calls
    calls.update(fitness=0, batch_fitness=0)
    runner = PygmoSGA(n, DIM, 0, udp=_PygmoCountingSphere)
    after_init = dict(calls)
    runner.step(gens)
    has_bfe = [
        name
        for name in ("sga", "cmaes", "pso_gen", "nsga2")
        if hasattr(getattr(pg, name), "set_bfe")
    ]
    return {
        "udp_has_batch_fitness": pg.problem(_PygmoCountingSphere(DIM)).has_batch_fitness(),
        "sga_has_set_bfe": hasattr(pg.sga, "set_bfe"),
        "algorithms_with_set_bfe_sampled": has_bfe,
        "calls_during_init": after_init,
        "calls_during_evolve": {k: calls[k] - after_init[k] for k in calls},
        "pop": n,
        "generations": gens,
    }


def _run_entry(kind: str, lib: str, name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``measure`` or ``quality_check`` of the entry ``name`` (run in a fresh process)."""
    entry = next(e for e in entries([lib]) if e.name == name)
    if kind == "measure":
        return measure(entry, **kwargs)
    return quality_check(entry, **kwargs)


def run_entry(
    kind: str, entry: Entry, kwargs: dict[str, Any], *, isolate: bool
) -> dict[str, Any]:  # fmt: skip
    """Run one measurement, by default in its own spawned process: libraries leave thread
    pools and runtime state behind (JAX's, numba's OpenMP layer) that change later timings."""
    if not isolate:
        return measure(entry, **kwargs) if kind == "measure" else quality_check(entry, **kwargs)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(_run_entry, kind, entry.lib, entry.name, kwargs).result()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pops", default="100,1000,10000", help="comma-separated population sizes")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--libs", default=",".join(ALL_LIBS), help=f"subset of {','.join(ALL_LIBS)}")
    ap.add_argument("--quick", action="store_true", help="few generations: a smoke test")
    ap.add_argument("--target", type=float, default=None, help="seconds per timed repeat (0.5)")
    ap.add_argument("--quality-gens", type=int, default=None, help="generations of the check (50)")
    ap.add_argument("--quality-pop", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-save", action="store_true", help="do not write the JSON file")
    ap.add_argument(
        "--in-process",
        action="store_true",
        help="run every measurement in this process instead of a fresh one each",
    )
    ap.add_argument(
        "--malloc",
        choices=("default", "no-trim"),
        default="default",
        help="glibc malloc of the measuring processes: its defaults, or no trimming/mmap of "
        "large blocks (fewer page faults for libraries that allocate big temporaries)",
    )
    args = ap.parse_args(argv)
    isolate = not args.in_process
    if args.malloc == "no-trim":
        if not isolate:
            print("--malloc no-trim needs fresh processes (glibc reads it at start): ignored")
        else:
            os.environ.update(NO_TRIM_ENV)  # inherited by the spawned measuring processes

    pops = [int(p) for p in args.pops.split(",") if p.strip()]
    libs = [s.strip().lower() for s in args.libs.split(",") if s.strip()]
    target = args.target if args.target is not None else (0.02 if args.quick else 0.5)
    repeats = min(args.repeats, 2) if args.quick else args.repeats
    warmup = 1 if args.quick else 3
    max_gens = 4 if args.quick else 100_000
    qgens = args.quality_gens if args.quality_gens is not None else (5 if args.quick else 50)

    load_at_start = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    todo = entries(libs)
    skipped = {e.name: e.skip for e in todo if e.skip}
    for name, why in skipped.items():
        print(f"skipping {name}: {why}")
    active = [e for e in todo if not e.skip]

    results: list[dict[str, Any]] = []
    failures: dict[str, str] = {}
    for n in pops:
        for e in active:
            if e.name in failures:
                continue
            print(f"timing {e.name:<18} pop {n:>6} ...", end=" ", flush=True)
            try:
                kw = {
                    "n": n, "target_s": target, "repeats": repeats, "warmup": warmup,
                    "max_gens": max_gens, "seed": args.seed,
                }  # fmt: skip
                r = run_entry("measure", e, kw, isolate=isolate)
            except Exception as exc:
                failures[e.name] = f"{type(exc).__name__}: {exc}"
                print("FAILED")
                traceback.print_exc()
                continue
            r["notes"] = e.notes
            results.append(r)
            print(
                f"{r['us_per_individual_generation']:9.3f} us/ind-gen "
                f"(G={r['generations_per_repeat']}, x{repeats})"
            )

    # ratios to the baselines at the same population size
    def lookup(name: str, n: int) -> float:
        for r in results:
            if r["library"] == name and r["pop"] == n:
                return float(r["us_per_individual_generation"])
        return float("nan")

    for r in results:
        r["ratio_to_numpy"] = r["us_per_individual_generation"] / lookup("numpy", r["pop"])
        r["ratio_to_chimera_cpp_1t"] = r["us_per_individual_generation"] / lookup(
            "chimera cpp 1t", r["pop"]
        )

    rows = [
        [
            r["library"], r["pop"], r["us_per_individual_generation"], r["us_min"], r["us_max"],
            r["ratio_to_numpy"], r["ratio_to_chimera_cpp_1t"], r["generations_per_repeat"],
            r["cpu_over_wall_median_repeat"], r["minor_faults_per_generation"],
        ]
        for r in sorted(results, key=lambda r: (r["pop"], r["us_per_individual_generation"]))
    ]  # fmt: skip
    print_table(
        f"One GA generation, sphere dim {DIM}: median us per individual-generation "
        f"({repeats} repeats, malloc {args.malloc})",
        [
            "library",
            "pop",
            "us/ind-gen",
            "min",
            "max",
            "x numpy",
            "x chimera cpp 1t",
            "G",
            "cpu/wall",
            "faults/gen",
        ],
        rows,
    )

    quality: list[dict[str, Any]] = []
    for e in active:
        if e.name in failures:
            continue
        try:
            kw = {"n": args.quality_pop, "gens": qgens, "seed": args.seed + 1}
            quality.append(run_entry("quality", e, kw, isolate=isolate))
        except Exception as exc:
            failures[e.name + " (quality)"] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
    print_table(
        f"Sanity check: best sphere fitness, dim {DIM}, pop {args.quality_pop}, "
        f"after {qgens} generations",
        ["library", "initial best", "final best", "reduction x"],
        [
            [q["library"], q["initial_best"], q["final_best"], q["reduction_factor"]]
            for q in quality
        ],
    )

    agreement = check_agreement(quality)
    for line in agreement["problems"]:
        print(f"DISAGREE {line}")
    if not agreement["problems"]:
        print(
            "answers agree: chimera's backends are identical, every library reduces best fitness within 2x of the NumPy baseline's factor"
        )

    pygmo_check = None
    if "pygmo" in libs and "pygmo sga" not in skipped:
        try:
            pygmo_check = pygmo_batch_check()
            print(
                "pygmo sga with a UDP that has batch_fitness: "
                f"fitness calls {pygmo_check['calls_during_evolve']['fitness']}, "
                f"batch_fitness calls {pygmo_check['calls_during_evolve']['batch_fitness']} "
                f"over {pygmo_check['generations']} generations of pop {pygmo_check['pop']}; "
                f"sga.set_bfe exists: {pygmo_check['sga_has_set_bfe']}"
            )
        except Exception as exc:
            failures["pygmo batch check"] = f"{type(exc).__name__}: {exc}"

    for name, why in failures.items():
        print(f"FAILED {name}: {why}")

    if not args.no_save:
        path = write_results(
            "generation",
            {
                "settings": {
                    "dim": DIM, "bounds": [LOW, HIGH], "sigma_fraction_of_width": SIGMA,
                    "crossover_rate": CX_RATE, "tournament": TOURNAMENT,
                    "mutation_rate_per_gene": 1.0 / DIM, "elitism": ELITISM, "pops": pops,
                    "repeats": repeats, "target_seconds_per_repeat": target, "warmup": warmup,
                    "quick": args.quick, "agreement_problems": agreement["problems"], "seed": args.seed, "loadavg_at_start": load_at_start, "libs": libs, "isolated_processes": isolate, "malloc": args.malloc,
                },
                "results": results,
                "quality_check": quality,
                "pygmo_batch_fitness_check": pygmo_check,
                "skipped": skipped,
                "failures": failures,
            },
        )  # fmt: skip
        print(f"wrote {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
