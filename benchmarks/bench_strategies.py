"""CMA-ES per iteration: chimera's strategies against pycma on the same work, in one process.

One iteration is an ``ask`` of the default population, a trivial objective (the sphere, so that
the strategy's own work is what is timed) and a ``tell``. pycma runs with the same box (its
BoundTransform, as chimera always has one) and without bounds (as the issue's figures were
taken: 0.37, 0.94 and 28-31 ms at n = 10, 100, 1000). Both run single-threaded (BLAS and
OpenMP at one thread: set before NumPy loads) for the same number of iterations from the same
start; the answers must agree (both strategies converge on the sphere at a comparable rate:
their final log10 values within 2 of each other, or within a tenth of the orders fallen).
Prints the median of ``--repeats`` timings per configuration and the ratio pycma / chimera.

Configurations (the issue's targets): full CMA-ES at n = 10, 100, 1000; separable at n = 1000
(pycma's ``CMA_diagonal``); chimera's LM-MA-ES at n = 10,000 (pycma has no limited-memory
variant: its separable one is timed beside it).

    python benchmarks/bench_strategies.py [--repeats 5] [--quick]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "CHIMERA_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread, as the targets are stated; before NumPy is imported

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

from chimera.strategies import CMAES, LMMAES, SepCMAES  # noqa: E402

# (label, chimera class, pycma options, dimension, iterations timed)
CASES = [
    ("full n=10", CMAES, {}, 10, 2000),
    ("full n=100", CMAES, {}, 100, 400),
    ("full n=1000", CMAES, {}, 1000, 40),
    ("sep n=1000", SepCMAES, {"CMA_diagonal": True}, 1000, 300),
    ("lm n=10000 (pycma: sep)", LMMAES, {"CMA_diagonal": True}, 10_000, 30),
]


def sphere(X: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", X, X)


def time_chimera(cls: type, n: int, iterations: int) -> tuple[float, float]:
    es = cls([(-5.0, 5.0)] * n, seed=1, x0=np.full(n, 1.0), sigma0=0.5, restarts="none")
    es.tell(sphere(es.ask()))  # first-call costs (kernel load) out of the timing
    start = time.perf_counter()
    for _ in range(iterations):
        X = es.ask()
        es.tell(sphere(X))
    return (time.perf_counter() - start) / iterations, float(es.best_f)


def time_pycma(options: dict, n: int, iterations: int, bounded: bool) -> tuple[float, float]:
    import cma

    opts = {"verbose": -9, "seed": 1, **options}
    if bounded:  # the same box as chimera's (pycma's BoundTransform)
        opts["bounds"] = [-5.0, 5.0]
    opts.update({"maxiter": math.inf, "tolfun": 0, "tolx": 0, "tolflatfitness": math.inf})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = cma.CMAEvolutionStrategy(np.full(n, 1.0), 0.5, opts)
        X = es.ask()
        es.tell(X, sphere(np.asarray(X)).tolist())
        start = time.perf_counter()
        for _ in range(iterations):
            X = es.ask()
            es.tell(X, sphere(np.asarray(X)).tolist())
    return (time.perf_counter() - start) / iterations, float(es.result.fbest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a tenth of the iterations")
    args = parser.parse_args()
    print(f"{'case':26} {'chimera ms':>11} {'pycma ms':>9} {'ratio':>7} {'unbounded':>10} "
          f"{'ratio':>7}  final f (chimera, pycma)")  # fmt: skip
    for label, cls, options, n, iterations in CASES:
        its = max(3, iterations // 10) if args.quick else iterations
        ours, theirs, free = [], [], []
        for _ in range(args.repeats):
            t, f_ours = time_chimera(cls, n, its)
            ours.append(t)
            t, f_theirs = time_pycma(options, n, its, bounded=True)
            theirs.append(t)
            free.append(time_pycma(options, n, its, bounded=False)[0])
        a, b, c = (statistics.median(x) for x in (ours, theirs, free))
        # the same progress: final log10 f within 2, or within a tenth of the orders both fell
        # (2,000 iterations at n = 10 reach 1e-130, where seeds alone differ by a few orders)
        lo, lt = (math.log10(max(f, 1e-300)) for f in (f_ours, f_theirs))
        agree = abs(lo - lt) < max(2.0, 0.1 * abs(lt))
        print(f"{label:26} {a * 1e3:11.3f} {b * 1e3:9.3f} {b / a:7.2f} {c * 1e3:10.3f} "
              f"{c / a:7.2f}  {f_ours:.3g}, {f_theirs:.3g}{'' if agree else '  DISAGREE'}")  # fmt: skip


if __name__ == "__main__":
    main()
