"""The CUDA backend on a GPU: GA breeding against the memory floor and JAX baselines, and the
multi-objective kernels against the C++ ones and moocore.

GA (issue 2's target): one generation step, pop 1,000,000 x dim 100, float32 and float64,
with GA's default operators (tournament k=3, single-point crossover at 0.9, Gaussian mutation
at 1/dim, clip). ``chimera cuda`` is ``chimera._cuda.ga.breed`` on CuPy arrays (in place on the
GPU; the call returns when the kernels are done). Its floor is the bytes it must move (read
both parents' rows and write the child, read the tournament fitnesses, write the parent ids)
over the device-to-device copy bandwidth measured here (bytes read plus written). Baselines on
the same GPU and sizes:

- ``JAX GA step``: the same operators written the way EvoX / evosax write them (whole-array
  masks and index gathers under ``jax.jit``), float32/float64 like the genome;
- ``evosax SimpleGA ask``: evosax 0.3's jitted ``ask`` (elite selection, crossover, Gaussian
  noise on every gene), when evosax is installed; float32 only.

Correctness at full size: the CUDA parents equal the C++ backend's (``chimera._core``, all host
cores) and the genomes agree to one float32 ulp / 1e-12 (float64).

Multi-objective: ``pareto_rank`` on N points uniform in [0, 1)^M (N in 10k, 100k; M in 2, 3,
5) on cuda (CuPy input) against cpp and moocore (ranks must be equal), and crowding distance
and NSGA-III association at N = 100k (bit-identical to cpp).

Each GPU time is the median of ``--repeats`` calls after a warm-up, each call synchronised.

Usage (on a machine with a GPU, CuPy and chimera built with CUDA)::

    python benchmarks/bench_gpu.py [--repeats 30] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chimera
from _common import machine, median, print_table
from chimera.evolution.variation import REPAIRS, Variation


def wall(fn: Callable[[], Any], repeats: int, sync: Callable[[], Any]) -> float:
    """Median seconds of fn() over `repeats` calls, after one warm-up, each synchronised."""
    fn()
    sync()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        samples.append(time.perf_counter() - t0)
    return median(samples)


def copy_bandwidth(cp: Any, repeats: int) -> float:
    """Device-to-device copy rate in bytes/s, counting bytes read plus written."""
    a = cp.random.random(2**27)  # 1 GiB of float64
    b = cp.empty_like(a)
    t = wall(lambda: cp.copyto(b, a), repeats, cp.cuda.Device().synchronize)
    return 2 * a.nbytes / t


# --------------------------------------------------------------------------------------------
# GA


def breed_args(var: Variation) -> tuple[Any, ...]:
    """The operator arguments GA hands the kernels (after the arrays, seed and generation)."""
    return (
        var.selection.code, var._selection_size,
        var.crossover.code, var._crossover_threshold, var.crossover.param(),
        var._mutation_code, var._mutation_threshold, var.mutation.param(),
        var._mutation_cdf, REPAIRS[var.repair],
    )  # fmt: skip


def ga_floor_bytes(n: int, d: int, itemsize: int, k: int) -> int:
    return 2 * n * d * itemsize + n * k * 8 + n * 2 * 4


def jax_ga_step(jax: Any, n: int, d: int, dtype: str, low: float, high: float) -> Callable:
    """The same generation step written as EvoX / evosax write GA operators."""
    jnp = jax.numpy
    sigma = 0.1 * (high - low)

    @jax.jit
    def step(key: Any, X: Any, f: Any) -> Any:
        k_sel, k_cut, k_do, k_mut, k_noise = jax.random.split(key, 5)
        cand = jax.random.randint(k_sel, (n, 3), 0, n)
        winners = jnp.take_along_axis(cand, jnp.argmin(f[cand], axis=1)[:, None], 1)[:, 0]
        A, B = X[winners[0::2]], X[winners[1::2]]
        cut = jax.random.randint(k_cut, (n // 2, 1), 1, d)
        swap = (jnp.arange(d)[None, :] >= cut) & (jax.random.uniform(k_do, (n // 2, 1)) < 0.9)
        children = jnp.concatenate([jnp.where(swap, B, A), jnp.where(swap, A, B)])
        mutate = jax.random.uniform(k_mut, (n, d)) < 1.0 / d
        noise = sigma * jax.random.normal(k_noise, (n, d), dtype=dtype)
        return jnp.clip(jnp.where(mutate, children + noise, children), low, high)

    return step


def evosax_ask(jax: Any, n: int, d: int, low: float, high: float) -> Callable | None:
    try:
        import optax
        from evosax.algorithms import SimpleGA
    except ImportError:
        return None
    jnp = jax.numpy
    es = SimpleGA(
        population_size=n,
        solution=jnp.zeros(d, jnp.float32),
        std_schedule=optax.constant_schedule(0.1 * (high - low) / math.sqrt(d)),
    )
    params = es.default_params.replace(crossover_rate=0.9)
    key = jax.random.key(0)
    x0 = jax.random.uniform(key, (n, d), minval=low, maxval=high)
    state = es.init(key, x0, jnp.einsum("ij,ij->i", x0, x0), params)
    ask = jax.jit(lambda k: es.ask(k, state, params)[0])
    return lambda: ask(key)


def bench_ga(cp: Any, cuda: Any, core: Any, n: int, d: int, dtype: str, repeats: int,
             bandwidth: float, baselines: bool = True) -> list[list[Any]]:  # fmt: skip
    low, high = -5.0, 5.0
    bounds = np.array([[low, high]] * d)
    var = Variation(
        bounds, pop_size=n, seed=7, dtype=dtype, selection="tournament",
        crossover="single_point", mutation=None, repair="clip", backend="cpp",
    )  # fmt: skip
    rng = np.random.default_rng(0)
    X = rng.uniform(low, high, (n, d)).astype(dtype)
    f = np.einsum("ij,ij->i", X.astype(np.float64), X.astype(np.float64))
    args = breed_args(var)
    dX, df, dlow, dhigh = cp.asarray(X), cp.asarray(f), cp.asarray(var.low), cp.asarray(var.high)
    dout, dpar = cp.empty_like(dX), cp.empty((n, 2), np.int32)
    dcdf = cp.asarray(args[8])
    dargs = (*args[:8], dcdf, args[9])

    def gpu() -> None:
        cuda.ga.breed(dX, df, dlow, dhigh, dout, dpar, 7, 3, *dargs)

    sync = cp.cuda.Device().synchronize
    t_gpu = wall(gpu, repeats, sync)
    if not baselines:
        return []
    # Correctness at full size against the C++ backend.
    out, par = np.empty_like(X), np.empty((n, 2), np.int32)
    t0 = time.perf_counter()
    core.ga.breed(X, f, var.low, var.high, out, par, 7, 3, *args)
    t_cpu = time.perf_counter() - t0
    same_parents = bool(np.array_equal(cp.asnumpy(dpar), par))
    g = cp.asnumpy(dout)
    if dtype == "float32":
        err = int(np.abs(g.view(np.int32).astype(np.int64) - out.view(np.int32)).max())
        agree = f"{err} ulp"
    else:
        agree = f"{float(np.abs(g - out).max()):.1e}"
    floor = ga_floor_bytes(n, d, np.dtype(dtype).itemsize, 3) / bandwidth
    # The fixed cost of a call (argument checks, launch, synchronise) at a tiny population.
    small = n // 2 if n < 128 else 64
    t_call = wall(lambda: cuda.ga.breed(dX[:small], df[:small], dlow, dhigh, dout[:small],
                                        dpar[:small], 7, 3, *dargs), repeats, sync)  # fmt: skip
    rows = [
        [f"chimera cuda ({dtype})", t_gpu * 1e3, t_gpu / floor, 1.0,
         f"parents equal cpp: {same_parents}; genomes: {agree}"],
        [f"chimera cuda, pop {small}", t_call * 1e3, "-", t_call / t_gpu, "fixed cost of a call"],
        [f"chimera cpp ({os.cpu_count()} cores)", t_cpu * 1e3, t_cpu / floor, t_cpu / t_gpu,
         "one call"],
        [f"floor ({dtype})", floor * 1e3, 1.0, floor / t_gpu, "bytes moved / copy bandwidth"],
    ]  # fmt: skip
    try:
        import jax

        if dtype == "float64":
            jax.config.update("jax_enable_x64", True)
        step = jax_ga_step(jax, n, d, dtype, low, high)
        jX, jf = jax.device_put(X), jax.device_put(f.astype(dtype))
        key = jax.random.key(1)
        t_jax = wall(lambda: step(key, jX, jf).block_until_ready(), repeats, lambda: None)
        rows.append([f"JAX GA step ({dtype})", t_jax * 1e3, t_jax / floor, t_jax / t_gpu,
                     "jax.jit, whole-array masks"])  # fmt: skip
        if dtype == "float32":
            ask = evosax_ask(jax, n, d, low, high)
            if ask is not None:
                t_es = wall(lambda: ask().block_until_ready(), repeats, lambda: None)
                rows.append(["evosax SimpleGA ask", t_es * 1e3, t_es / floor, t_es / t_gpu,
                             "jitted ask"])  # fmt: skip
    except ImportError as exc:
        rows.append(["JAX", "-", "-", "-", f"not installed: {exc}"])
    return rows


# --------------------------------------------------------------------------------------------
# Multi-objective


def rank_row(cp: Any, cuda: Any, core: Any, n: int, m: int, repeats: int) -> list[Any]:
    import moocore

    F = np.random.default_rng(n + m).random((n, m))
    dF, drank = cp.asarray(F), cp.empty(n, np.int32)
    t_gpu = wall(lambda: cuda.moo.pareto_rank(dF, drank), repeats, cp.cuda.Device().synchronize)
    rank = np.empty(n, np.int32)
    reps = 1 if n * m > 300_000 else repeats  # the C++ sort takes seconds at N=100k, M=5
    t_cpp = wall(lambda: core.moo.pareto_rank(F, rank), reps, lambda: None)
    t_moo = wall(lambda: moocore.pareto_rank(F), reps, lambda: None)
    equal = np.array_equal(cp.asnumpy(drank), rank) and np.array_equal(moocore.pareto_rank(F), rank)
    return [f"pareto_rank N={n} M={m}", t_gpu * 1e3, t_cpp * 1e3, t_moo * 1e3,
            t_cpp / t_gpu, t_moo / t_gpu, f"equal: {equal}, fronts {rank.max() + 1}"]  # fmt: skip


def bench_moo(cp: Any, cuda: Any, core: Any, repeats: int) -> list[list[Any]]:
    rows = [rank_row(cp, cuda, core, n, m, repeats) for n in (10_000, 100_000) for m in (2, 3, 5)]
    sync = cp.cuda.Device().synchronize
    n, m = 100_000, 3
    F = np.random.default_rng(1).random((n, m))
    rank = np.empty(n, np.int32)
    core.moo.pareto_rank(F, rank)
    dF, drank, dout = cp.asarray(F), cp.asarray(rank), cp.empty(n)
    out = np.empty(n)
    t_gpu = wall(lambda: cuda.moo.crowding_distance(dF, drank, dout), repeats, sync)
    t_cpp = wall(lambda: core.moo.crowding_distance(F, rank, out), repeats, lambda: None)
    same = np.array_equal(cp.asnumpy(dout).view(np.uint64), out.view(np.uint64))
    rows.append([f"crowding N={n} M={m}", t_gpu * 1e3, t_cpp * 1e3, "-", t_cpp / t_gpu, "-",
                 f"bit-identical: {same}"])  # fmt: skip
    W = chimera.directions.das_dennis(12, m)
    dW, dref, ddist = cp.asarray(W), cp.empty(n, np.int32), cp.empty(n)
    ref, dist = np.empty(n, np.int32), np.empty(n)
    t_gpu = wall(lambda: cuda.moo.associate(dF, dW, dref, ddist), repeats, sync)
    t_cpp = wall(lambda: core.moo.associate(F, W, ref, dist), repeats, lambda: None)
    same = np.array_equal(cp.asnumpy(dref), ref) and np.array_equal(
        cp.asnumpy(ddist).view(np.uint64), dist.view(np.uint64)
    )
    rows.append([f"associate N={n} H={len(W)}", t_gpu * 1e3, t_cpp * 1e3, "-", t_cpp / t_gpu,
                 "-", f"bit-identical: {same}"])  # fmt: skip
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--pop", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--only", choices=("ga", "moo"), help="run one half of the benchmark")
    ap.add_argument(
        "--profile", action="store_true",
        help="only a warm-up and one float32 breed call, e.g. under ncu --launch-skip",
    )  # fmt: skip
    ap.add_argument("--json", type=Path)
    opts = ap.parse_args()
    try:
        import cupy as cp

        from chimera import _core, _cuda
    except ImportError as exc:
        print(f"bench_gpu needs CuPy and chimera built with CUDA: {exc}")
        return 1
    ok, status = _cuda.cuda_status()
    if not ok:
        print(f"no usable GPU: {status}")
        return 1
    if opts.profile:
        bench_ga(cp, _cuda, _core, opts.pop, opts.dim, "float32", 1, 1.0, baselines=False)
        return 0
    bandwidth = copy_bandwidth(cp, opts.repeats)
    payload: dict[str, Any] = {"machine": machine(), "gpu": status, "copy_bandwidth": bandwidth}
    print(f"{status}; device-to-device copy {bandwidth / 1e12:.2f} TB/s (read + write)")
    ga_rows: list[list[Any]] = []
    for dtype in ("float32", "float64") if opts.only != "moo" else ():
        ga_rows += bench_ga(cp, _cuda, _core, opts.pop, opts.dim, dtype, opts.repeats, bandwidth)
    payload["ga"] = ga_rows
    print_table(
        f"GA generation step, pop {opts.pop:,} x dim {opts.dim} (ms; x floor; x slower than cuda)",
        ["what", "ms", "x floor", "x cuda", "note"], ga_rows,
    )  # fmt: skip
    moo_rows = bench_moo(cp, _cuda, _core, opts.repeats) if opts.only != "ga" else []
    payload["moo"] = moo_rows
    if opts.json:
        opts.json.write_text(json.dumps(payload, indent=1, default=str))
    print_table(
        "Multi-objective kernels (ms; cuda on CuPy arrays)",
        ["kernel", "cuda", "cpp", "moocore", "cpp/cuda", "moocore/cuda", "check"], moo_rows,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
