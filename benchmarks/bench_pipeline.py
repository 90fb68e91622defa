"""The pipeline behind ``chimera run``: what a durable, refined, deployed generation costs.

The same work for everyone: evolve the cart-pole agent's policy (a sandboxed wasm module,
examples/agents/cartpole.c, 5 weights in [-10, 10]; cheaper than the quickstart's double pole,
so that the bookkeeping shows) with a GA of ``--pop`` individuals for ``--gens``
generations, tournament of 3, SBX (eta 15) and polynomial mutation (eta 20), the population
evaluated in one batch call to the agent per generation.

- DEAP: ``selTournament``, ``cxSimulatedBinaryBounded``, ``mutPolynomialBounded`` in the
  loop of ``eaSimple`` (the reference GA machinery), with a ``map`` that evaluates the whole
  population in one call;
- chimera.minimize: the bare ask/tell loop on the native kernels;
- the pipeline, durable: the same GA through ``chimera.pipeline`` with the genome store, a
  checkpoint of every stage and the Parquet history after every generation;
- the pipeline, refined: also the quickstart's Thompson bandit over three operator arms and a
  canary deployment (8 served evaluations a generation, Welch gate).

Each is timed over its generation loop (median of ``--repeats``); every one must balance the
pole (best fitness at most 5 steps short of the 500). The bookkeeping's floor is the fsyncs a
durable generation needs (the checkpoint file and its folder): measured here too.

Usage::

    python benchmarks/bench_pipeline.py [--pop 64] [--gens 80] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, print_table, write_results

ROOT = Path(__file__).resolve().parent.parent
AGENT = ROOT / "examples" / "agents" / "cartpole.wasm"
SOLVED = 5.0  # at most this far from a perfect 0: the pole stays up nearly every step
SPEC = """
[experiment]
name = "bench"
seed = {seed}
[objective]
wasm = "{agent}"
bounds = [[-10.0, 10.0]]
limits = {{ fuel = 2_000_000, timeout = 0.5, memory = 1_048_576 }}
[algorithm]
name = "ga"
pop_size = {pop}
selection = {{ name = "tournament", k = 3 }}
crossover = {{ name = "sbx", eta = 15 }}
mutation = {{ name = "polynomial", eta = 20 }}
elitism = 1
[budget]
generations = {gens}
[resources]
workers = 1
[output]
report = false
{extra}
"""
REFINED = """
[refinement.bandit]
policy = "thompson"
arms = [
  { crossover = { name = "sbx", eta = 15 }, mutation = { name = "polynomial", eta = 20 } },
  { crossover = { name = "blend", alpha = 0.5 }, mutation = { name = "gaussian", sigma = 0.1 } },
  { crossover = "uniform", mutation = { name = "gaussian", sigma = 0.02 } },
]
[refinement.deploy]
incumbent = [0.0, 0.0, 1.0, 0.5, 0.0]
canary_share = 0.5
episodes = 8
gate = "welch"
margin = 5.0
min_samples = 8
max_samples = 64
"""


def run_deap(agent: Any, pop: int, gens: int, seed: int) -> tuple[float, float]:
    from deap import base, creator, tools

    if not hasattr(creator, "FitnessMinBench"):
        creator.create("FitnessMinBench", base.Fitness, weights=(-1.0,))
        creator.create("IndividualBench", list, fitness=creator.FitnessMinBench)
    rng = random.Random(seed)
    random.seed(seed)
    tb = base.Toolbox()
    tb.register("individual", tools.initIterate, creator.IndividualBench,
                lambda: [rng.uniform(-10, 10) for _ in range(5)])  # fmt: skip
    tb.register("mate", tools.cxSimulatedBinaryBounded, eta=15.0, low=-10.0, up=10.0)
    tb.register("mutate", tools.mutPolynomialBounded, eta=20.0, low=-10.0, up=10.0, indpb=0.2)
    tb.register("select", tools.selTournament, tournsize=3)

    def evaluate_all(population: list[Any]) -> None:  # one batch call, as chimera makes
        fitness = agent(np.asarray(population, dtype=np.float64))
        for ind, f in zip(population, fitness, strict=True):
            ind.fitness.values = (float(f),)

    start = time.perf_counter()
    population = [tb.individual() for _ in range(pop)]
    evaluate_all(population)
    best = min(ind.fitness.values[0] for ind in population)
    for _ in range(gens - 1):
        offspring = [tb.clone(ind) for ind in tb.select(population, len(population))]
        for a, b in zip(offspring[::2], offspring[1::2], strict=False):
            if random.random() < 0.9:
                tb.mate(a, b)
                del a.fitness.values, b.fitness.values
        for ind in offspring:
            tb.mutate(ind)
            del ind.fitness.values
        evaluate_all(offspring)
        elite = min(population, key=lambda ind: ind.fitness.values[0])
        offspring[max(range(pop), key=lambda i: offspring[i].fitness.values[0])] = elite
        population = offspring
        best = min(best, min(ind.fitness.values[0] for ind in population))
    return time.perf_counter() - start, best


def run_minimize(agent: Any, pop: int, gens: int, seed: int) -> tuple[float, float]:
    import chimera
    from chimera.evolution.operators import SBX, Polynomial, Tournament

    start = time.perf_counter()
    res = chimera.minimize(agent, [(-10.0, 10.0)] * 5, max_evals=pop * gens, seed=seed,
                           pop_size=pop, selection=Tournament(k=3), crossover=SBX(eta=15),
                           mutation=Polynomial(eta=20), elitism=1)  # fmt: skip
    return time.perf_counter() - start, float(res.fun)


def run_pipeline(pop: int, gens: int, seed: int, extra: str) -> tuple[float, float, dict]:
    from chimera import pipeline

    work = Path(tempfile.mkdtemp(prefix="chimera-bench-"))
    try:
        spec = work / "spec.toml"
        spec.write_text(SPEC.format(seed=seed, agent=AGENT, pop=pop, gens=gens, extra=extra))
        outcome = pipeline.start(spec, work / "run", probe=False)
        return outcome.summary["elapsed_s"], float(outcome.summary["fun"]), outcome.summary
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fsync_floor(repeats: int = 50) -> float:
    """Seconds for a small file's fsync plus its folder's, as a checkpoint needs."""
    with tempfile.TemporaryDirectory() as d:
        times = []
        for i in range(repeats):
            path = Path(d) / f"f{i}"
            start = time.perf_counter()
            with open(path, "wb") as fh:
                fh.write(b"x" * 8192)
                fh.flush()
                os.fsync(fh.fileno())
            fd = os.open(d, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
            times.append(time.perf_counter() - start)
    return median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pop", type=int, default=64)
    ap.add_argument("--gens", type=int, default=80)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    from chimera.execution import WasmAgent

    agent = WasmAgent(AGENT)
    cases = {
        "DEAP eaSimple": lambda s: run_deap(agent, args.pop, args.gens, s),
        "chimera.minimize": lambda s: run_minimize(agent, args.pop, args.gens, s),
        "pipeline, durable": lambda s: run_pipeline(args.pop, args.gens, s, "")[:2],
        "pipeline, refined": lambda s: run_pipeline(args.pop, args.gens, s, REFINED)[:2],
    }
    for case in cases.values():  # warm-up: imports, compiled modules
        case(99)
    timings: dict[str, list[float]] = {k: [] for k in cases}
    bests: dict[str, list[float]] = {k: [] for k in cases}
    for r in range(args.repeats):
        for name, case in cases.items():
            seconds, best = case(r + 1)
            timings[name].append(seconds)
            bests[name].append(best)
    for name, values in bests.items():
        if max(values) > SOLVED:
            print(f"{name} did not balance the pole in every repeat: best {values}")
            return 1
    reference = median(timings["DEAP eaSimple"])
    rows = []
    for name in cases:
        t = median(timings[name])
        rows.append([name, f"{t * 1e3 / args.gens:.2f}", f"{reference / t:.2f}x",
                     f"{max(bests[name]):g}"])  # fmt: skip
    print_table(f"cart-pole GA, pop {args.pop}, {args.gens} generations, median of "
                f"{args.repeats}", ["case", "ms / generation", "vs DEAP", "worst best"],
                rows)  # fmt: skip
    floor = fsync_floor()
    durable = median(timings["pipeline, durable"]) - median(timings["chimera.minimize"])
    per_gen = durable / args.gens
    print(f"durable bookkeeping: {per_gen * 1e3:.2f} ms a generation; the fsync floor (file + "
          f"folder) {floor * 1e3:.2f} ms: {per_gen / floor:.1f}x the floor")  # fmt: skip
    path = write_results("pipeline", {
        "pop": args.pop, "gens": args.gens, "repeats": args.repeats,
        "seconds": timings, "best": bests, "fsync_floor_s": floor,
        "bookkeeping_s_per_generation": per_gen,
    })  # fmt: skip
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
