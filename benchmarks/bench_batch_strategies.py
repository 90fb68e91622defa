"""Many CMA-ES runs at once: chimera's BatchCMAES against one CMA-ES object per run (chimera's
CMAES, pycma) and against evosax's CMA_ES under jax.vmap, in one process, on the CPU.

The work: B independent runs of n genes on the sphere, default population ``4 + 3 ln n``,
sigma0 1 from the same start (every run at 3 in every gene), no bounds in effect (chimera's
box is [-1e6, 1e6]^n: its transform is the identity there). Timed: one generation of all B
runs (ask, evaluate, tell), median of ``--repeats`` timings of ``--generations`` generations
after a warm-up (which for evosax includes the JIT compilation). One thread: BLAS, OpenMP and
XLA's CPU client (``--xla_cpu_multi_thread_eigen=false``, one intra-op thread).

The answers must agree: after ``--quality-generations`` generations, the median over runs of
the best value of each implementation within a factor 100 of chimera's BatchCMAES (CMA-ES
on the sphere converges linearly; implementations differ in their constants, not in
kind). The per-run loops are timed on fewer runs when B is large (``--loop-cap``), and their
time per generation scaled to B.

    python benchmarks/bench_batch_strategies.py [--repeats 5] [--quick]

On a GPU the same class runs with ``xp=cupy``; that is not measured here (no device).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "CHIMERA_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table, write_results  # noqa: E402
from chimera.strategies import CMAES, BatchCMAES  # noqa: E402

CASES = [(10, 10), (100, 10), (1000, 10), (100, 40)]  # (runs B, genes n)
START, SIGMA0 = 3.0, 1.0


def wide(n: int) -> list[tuple[float, float]]:
    return [(-1e6, 1e6)] * n


class Batch:
    name = "chimera BatchCMAES"

    def __init__(self, b: int, n: int, seed: int) -> None:
        self.es = BatchCMAES(wide(n), b, seed=seed, sigma0=SIGMA0, x0=np.full(n, START))

    def step(self) -> None:
        X = self.es.ask()
        self.es.tell(np.einsum("bkn,bkn->bk", X, X))

    def best(self) -> np.ndarray:
        return self.es.best_f


class Loop:
    """One optimizer object per run, stepped in a Python loop."""

    def __init__(self, runs: list[Any]) -> None:
        self.runs = runs

    def step(self) -> None:
        for es in self.runs:
            X = self._ask(es)
            self._tell(es, X, np.einsum("kn,kn->k", X, X))


class ChimeraLoop(Loop):
    name = "chimera CMAES x B"

    def __init__(self, b: int, n: int, seed: int) -> None:
        super().__init__([CMAES(wide(n), seed=seed + i, sigma0=SIGMA0, x0=np.full(n, START),
                                restarts="none") for i in range(b)])  # fmt: skip

    def _ask(self, es: Any) -> np.ndarray:
        return es.ask()

    def _tell(self, es: Any, X: np.ndarray, f: np.ndarray) -> None:
        es.tell(f)

    def best(self) -> np.ndarray:
        return np.array([es.best_f for es in self.runs])


class PycmaLoop(Loop):
    name = "pycma x B"

    def __init__(self, b: int, n: int, seed: int) -> None:
        import cma

        super().__init__([cma.CMAEvolutionStrategy(np.full(n, START), SIGMA0,
                                                   {"seed": seed + i + 1, "verbose": -9})
                          for i in range(b)])  # fmt: skip

    def _ask(self, es: Any) -> np.ndarray:
        return np.asarray(es.ask())

    def _tell(self, es: Any, X: np.ndarray, f: np.ndarray) -> None:
        es.tell(list(X), f.tolist())

    def best(self) -> np.ndarray:
        return np.array([es.result.fbest for es in self.runs])


class Evosax:
    name = "evosax CMA_ES, vmap"

    def __init__(self, b: int, n: int, seed: int) -> None:
        import jax
        import jax.numpy as jnp
        from evosax.algorithms import CMA_ES

        es = CMA_ES(population_size=4 + int(3 * np.log(n)), solution=jnp.zeros(n))
        params = es.default_params.replace(std_init=SIGMA0)
        keys = jax.random.split(jax.random.key(seed), b)
        means = jnp.full((b, n), START)
        self.state = jax.vmap(lambda k, m: es.init(k, m, params))(keys, means)
        self.key = jax.random.key(seed + 1)
        self.best_f = jnp.full(b, jnp.inf)

        def one(key: Any, state: Any) -> tuple[Any, Any]:
            k1, k2 = jax.random.split(key)
            X, state = es.ask(k1, state, params)
            f = jnp.sum(X * X, axis=1)
            state, _ = es.tell(k2, X, f, state, params)
            return state, f.min()

        @jax.jit
        def step(key: Any, state: Any, best: Any) -> tuple[Any, Any, Any]:
            key, sub = jax.random.split(key)
            state, fmin = jax.vmap(one)(jax.random.split(sub, b), state)
            return key, state, jnp.minimum(best, fmin)

        self._step = step

    def step(self) -> None:
        self.key, self.state, self.best_f = self._step(self.key, self.state, self.best_f)
        self.best_f.block_until_ready()

    def best(self) -> np.ndarray:
        return np.asarray(self.best_f)


def available() -> list[type]:
    out: list[type] = [Batch, ChimeraLoop]
    for module, cls in (("cma", PycmaLoop), ("evosax", Evosax)):
        try:
            __import__(module)
            out.append(cls)
        except ImportError:
            print(f"skipping {cls.name}: {module} not installed")
    return out


def per_generation(cls: type, b: int, n: int, generations: int, repeats: int) -> float:
    impl = cls(b, n, 0)
    for _ in range(3):  # warm-up: kernel loads, JIT compilation
        impl.step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(generations):
            impl.step()
        times.append((time.perf_counter() - t0) / generations)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--generations", type=int, default=20)
    ap.add_argument("--quality-generations", type=int, default=150)
    ap.add_argument("--loop-cap", type=int, default=100,
                    help="per-run loops time at most this many runs and scale")  # fmt: skip
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.repeats, args.generations, args.quality_generations = 2, 5, 40
    warnings.filterwarnings("ignore")
    impls = available()
    rows, records = [], []
    for b, n in CASES:
        base = None
        for cls in impls:
            runs = b if cls in (Batch, Evosax) else min(b, args.loop_cap)
            sec = per_generation(cls, runs, n, args.generations, args.repeats) * b / runs
            base = sec if base is None else base
            rows.append([f"B={b}, n={n}", cls.name, f"{sec * 1e3:.3f}", f"{sec / base:.1f}x"])
            records.append({"runs": b, "dim": n, "library": cls.name, "timed_runs": runs,
                            "ms_per_generation": sec * 1e3})  # fmt: skip
    print_table("one generation of B runs, ms (ratio: time over BatchCMAES's)",
                ["case", "implementation", "ms", "ratio"], rows)  # fmt: skip
    quality = {}
    b, n = 50, 10
    for cls in impls:
        impl = cls(b, n, 0)
        for _ in range(args.quality_generations):
            impl.step()
        quality[cls.name] = float(np.median(impl.best()))
    ref = quality[Batch.name]
    print(f"median best f after {args.quality_generations} generations, B={b}, n={n}:")
    failures = []
    for name, v in quality.items():
        ok = v <= 100 * ref and ref <= 100 * v
        print(f"  {name:<24} {v:.3e}  {'agrees' if ok else 'DISAGREES'}")
        if not ok:
            failures.append(name)
    path = write_results("batch_strategies", {"cases": CASES, "records": records,
                                              "quality": quality,
                                              "quality_generations": args.quality_generations,
                                              "generations": args.generations,
                                              "repeats": args.repeats})  # fmt: skip
    print(f"wrote {path}")
    if failures:
        raise SystemExit(f"answers disagree: {failures}")


if __name__ == "__main__":
    main()
