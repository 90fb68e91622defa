"""Genetic-algorithm kernels in Numba, twins of cpp/include/chimera/operators.hpp and
cpp/src/ga.cpp: same arguments as ``chimera._core.ga``, same draws (docs/kernels.md), so
parents, integer and boolean genomes come out bit-identical and float genomes equal to within
the rounding of ``log``/``sin``/``cos``/``pow``.

Individuals (init) and offspring pairs (breed) run in ``numba.prange`` loops; every one draws
from its own counter-based stream, so results do not depend on the number of threads.
Genomes are float64, float32, int32 or bool (handled as uint8 0/1 like the C++); arithmetic
is done in float64 and rounded on store, as ``static_cast<T>(double)`` does.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from .._errors import ArgumentTypeError, ValidationError
from ._arrays import (
    as_array,
    as_input,
    readonly,
    require,
    require_len,
    require_ndim,
    writable_output,
)
from ._jit import jit
from .rng import (
    CROSSOVER,
    INIT,
    MUTATE,
    SELECT,
    SHUFFLE,
    _integer,
    next_below,
    next_bernoulli,
    next_normal,
    next_u32,
    next_uniform,
    stream,
)

TOURNAMENT, TRUNCATION, STOCHASTIC_UNIVERSAL = 0, 1, 2
NO_CROSSOVER, SINGLE_POINT, TWO_POINT, UNIFORM, BLEND, SBX = 0, 1, 2, 3, 4, 5
NO_MUTATION, GAUSSIAN, POLYNOMIAL, BIT_FLIP, RANDOM_RESET = 0, 1, 2, 3, 4
CLIP, REFLECT = 0, 1
MAX_MUTATION_TABLE = 64

_U1 = np.uint32(1)

# --- operators (one individual or pair; jitted, inlined into the kernels) ---------------------


@jit(inline=True)
def _select_slot(
    f: Any, n: Any, s: Any, seed: Any, gen: Any, selection: int, size: int, order: Any
) -> np.int32:
    """Parent row for slot s by tournament or truncation (select_slot in operators.hpp)."""
    st = stream(seed, gen, s, SELECT)
    if selection == TRUNCATION:
        r, st = next_below(st, np.uint32(size))
        return np.int32(order[r])
    best, st = next_below(st, n)
    for _ in range(1, size):
        c, st = next_below(st, n)
        if f[c] < f[best]:
            best = c
    return np.int32(best)


@jit()
def _sus_slots(f: Any, slots: Any, seed: Any, gen: Any) -> None:
    """Stochastic universal sampling on max(finite f) - f, then a Fisher-Yates shuffle."""
    n = f.shape[0]
    count = slots.shape[0]
    fmax = -np.inf
    for i in range(n):
        if math.isfinite(f[i]) and fmax < f[i]:
            fmax = f[i]
    w = np.empty(n, dtype=np.float64)
    total = 0.0
    for i in range(n):
        w[i] = fmax - f[i] if math.isfinite(f[i]) else 0.0
        total += w[i]
    if not (total > 0.0) or not math.isfinite(total):
        w[:] = 1.0
        total = np.float64(n)
    st = stream(seed, gen, 0, SHUFFLE)
    step = total / np.float64(count)
    u, st = next_uniform(st)
    pointer = u * step
    cum = 0.0
    i = 0
    for s in range(count):
        target = pointer + np.float64(s) * step
        while i + 1 < n and cum + w[i] <= target:
            cum += w[i]
            i += 1
        slots[s] = i
    for s in range(count, 1, -1):
        r, st = next_below(st, np.uint32(s))
        t = slots[s - 1]
        slots[s - 1] = slots[r]
        slots[r] = t


@jit(inline=True)
def _sbx_betaq(rand: float, beta: float, eta: float) -> float:
    alpha = 2.0 - math.pow(beta, -(eta + 1.0))
    if rand <= 1.0 / alpha:
        return math.pow(rand * alpha, 1.0 / (eta + 1.0))
    return math.pow(1.0 / (2.0 - rand * alpha), 1.0 / (eta + 1.0))


@jit(inline=True)
def _swap_segment(p1: Any, p2: Any, c1: Any, c2: Any, has2: bool, a: int, b: int) -> None:
    """c1 = p1 with genes [a, b) from p2, c2 the complement: one fused pass, which
    vectorises better in Numba than the C++'s three contiguous copies per child."""
    if has2:
        for j in range(p1.shape[0]):
            x = p1[j]
            y = p2[j]
            swap = (j >= a) & (j < b)
            c1[j] = y if swap else x
            c2[j] = x if swap else y
    else:
        for j in range(p1.shape[0]):
            c1[j] = p2[j] if (j >= a) & (j < b) else p1[j]


@jit(inline=True)
def _crossover_pair(
    p1: Any,
    p2: Any,
    c1: Any,
    c2: Any,
    has2: bool,
    low: Any,
    high: Any,
    pair: Any,
    seed: Any,
    gen: Any,
    crossover: int,
    threshold: Any,
    param: float,
    bounds: int,
) -> None:
    """Recombines p1 and p2 into c1 and, when has2, c2 (crossover_pair in operators.hpp)."""
    d = p1.shape[0]
    st = stream(seed, gen, pair, CROSSOVER)
    mate = False
    if crossover != NO_CROSSOVER and d > 1:
        mate, st = next_bernoulli(st, threshold)
    if not mate:
        _swap_segment(p1, p2, c1, c2, has2, d, d)
        return
    if crossover in (SINGLE_POINT, TWO_POINT):
        dm1 = np.uint32(d - 1)
        r, st = next_below(st, dm1)
        a = np.int64(r) + 1
        b = np.int64(d)
        if crossover == TWO_POINT:
            r, st = next_below(st, dm1)
            b = np.int64(r) + 1
            if b >= a:
                b += 1
            else:
                a, b = b, a
        _swap_segment(p1, p2, c1, c2, has2, a, b)
    elif crossover == UNIFORM:
        bits = np.uint32(0)
        for j in range(d):
            if j % 32 == 0:
                bits, st = next_u32(st)
            if (bits >> np.uint32(j & 31)) & _U1:
                c1[j] = p2[j]
                if has2:
                    c2[j] = p1[j]
            else:
                c1[j] = p1[j]
                if has2:
                    c2[j] = p2[j]
    elif crossover == BLEND:
        alpha = param
        for j in range(d):
            x = np.float64(p1[j])
            y = np.float64(p2[j])
            lo = x if x < y else y
            span = y - x if x < y else x - y
            start = lo - alpha * span
            width = span * (1.0 + 2.0 * alpha)
            u1, st = next_uniform(st)
            u2, st = next_uniform(st)
            c1[j] = _repair(start + u1 * width, low[j], high[j], bounds)
            if has2:
                c2[j] = _repair(start + u2 * width, low[j], high[j], bounds)
    elif crossover == SBX:
        eta = param
        for j in range(d):
            x = np.float64(p1[j])
            y = np.float64(p2[j])
            v1 = x
            v2 = y
            w, st = next_u32(st)
            if (w & _U1) and abs(x - y) > 1e-14:
                y1 = x if x < y else y
                y2 = y if x < y else x
                yl = low[j]
                yu = high[j]
                diff = y2 - y1
                rand, st = next_uniform(st)
                a = 0.5 * ((y1 + y2) - _sbx_betaq(rand, 1.0 + 2.0 * (y1 - yl) / diff, eta) * diff)
                b = 0.5 * ((y1 + y2) + _sbx_betaq(rand, 1.0 + 2.0 * (yu - y2) / diff, eta) * diff)
                a = yl if a < yl else (yu if a > yu else a)
                b = yl if b < yl else (yu if b > yu else b)
                if (w >> _U1) & _U1:
                    v1 = b
                    v2 = a
                else:
                    v1 = a
                    v2 = b
            c1[j] = v1
            if has2:
                c2[j] = v2


@jit(inline=True)
def _mutate_gene(
    c: Any,
    j: Any,
    low: Any,
    high: Any,
    st: Any,
    spare: float,
    has_spare: bool,
    mutation: int,
    param: float,
    bounds: int,
) -> tuple:
    """Mutates gene j of c in place: (stream, spare, has_spare) (mutate_gene in operators.hpp)."""
    if mutation == GAUSSIAN:
        z, st, spare, has_spare = next_normal(st, spare, has_spare)
        c[j] = _repair(np.float64(c[j]) + param * (high[j] - low[j]) * z, low[j], high[j], bounds)
    elif mutation == POLYNOMIAL:
        yl = low[j]
        yu = high[j]
        rng = yu - yl
        if rng > 0.0:
            # The bounded form needs y inside the bounds (a parent from outside may not be).
            y = np.float64(c[j])
            y = yl if y < yl else (yu if y > yu else y)
            eta = param
            rnd, st = next_uniform(st)
            power = 1.0 / (eta + 1.0)
            if rnd < 0.5:
                xy = 1.0 - (y - yl) / rng
                val = 2.0 * rnd + (1.0 - 2.0 * rnd) * math.pow(xy, eta + 1.0)
                dq = math.pow(val, power) - 1.0
            else:
                xy = 1.0 - (yu - y) / rng
                val = 2.0 * (1.0 - rnd) + 2.0 * (rnd - 0.5) * math.pow(xy, eta + 1.0)
                dq = 1.0 - math.pow(val, power)
            v = y + dq * rng
            c[j] = yl if v < yl else (yu if v > yu else v)
    elif mutation == BIT_FLIP:
        c[j] = 0 if c[j] != 0 else 1
    elif mutation == RANDOM_RESET:
        lo = np.int64(low[j])
        span = np.uint32(np.int64(high[j]) - lo + 1)
        r, st = next_below(st, span)
        c[j] = lo + np.int64(r)
    return st, spare, has_spare


@jit(inline=True)
def _mutate_child(
    c: Any,
    low: Any,
    high: Any,
    child: Any,
    seed: Any,
    gen: Any,
    mutation: int,
    threshold: Any,
    param: float,
    cdf: Any,
    chosen: Any,
    bounds: int,
) -> None:
    """Mutates child number `child` in place (mutate_child in operators.hpp); `chosen` is
    scratch room for the mutated positions (at least len(cdf) entries).

    Both ways of choosing genes share one loop (and one inlined copy of _mutate_gene): with
    no table, step i is gene i and mutates on a Bernoulli draw; with a table, step i is the
    i-th of k positions drawn by Floyd's method.
    """
    if mutation == NO_MUTATION:
        return
    d = c.shape[0]
    st = stream(seed, gen, child, MUTATE)
    spare = 0.0
    has_spare = False
    table = cdf.shape[0] > 0
    k = d
    if table:
        u, st = next_u32(st)
        k = 0
        while k < cdf.shape[0] and u >= cdf[k]:
            k += 1
        if k > d:
            k = d
    for i in range(k):
        if table:
            top = np.uint32(d - k + i)
            t, st = next_below(st, np.uint32(top + _U1))
            for q in range(i):
                if chosen[q] == t:
                    t = top
                    break
            chosen[i] = t
        else:
            hit, st = next_bernoulli(st, threshold)
            if not hit:
                continue
            t = np.uint32(i)
        st, spare, has_spare = _mutate_gene(
            c, t, low, high, st, spare, has_spare, mutation, param, bounds
        )


@jit(inline=True)
def _repair(x: float, lo: float, hi: float, mode: int) -> float:
    if x >= lo and x <= hi:
        return x
    if mode == CLIP or not hi > lo:
        return lo if x < lo else hi
    w = hi - lo
    y = np.fmod(x - lo, 2.0 * w)
    if y < 0.0:
        y += 2.0 * w
    if y > w:
        y = 2.0 * w - y
    return lo + y


# --- kernels --------------------------------------------------------------------------------
#
# The parallel loops run over blocks of BLOCK individuals or pairs, and each block is one call
# of a serial function with every operator inlined into it: a call per individual would cost
# more than the work in it (array views passed to an opaque call are reference counted).
# Each individual or pair still draws from its own streams, so blocks and threads change
# nothing in the results.

BLOCK = 32
# Below this many genes of work one block takes everything: a parallel region would cost more
# than it saves (the same grain as ga.cpp).
PARALLEL_GRAIN = 1 << 15


@jit()
def _block_size(items: int, work: int) -> int:
    return BLOCK if work >= PARALLEL_GRAIN else max(items, 1)


@jit()
def _init_block(
    out: Any, low: Any, high: Any, seed: Any, lo: int, hi: int, integral: bool, boolean: bool
) -> None:
    """Rows [lo, hi) of a uniform population (init_gene in operators.hpp, gene by gene)."""
    for i in range(lo, hi):
        st = stream(seed, 0, i, INIT)
        row = out[i]
        for j in range(row.shape[0]):
            if boolean:
                v, st = next_u32(st)
                row[j] = v & _U1
            elif integral:
                lo_j = np.int64(low[j])
                span = np.uint32(np.int64(high[j]) - lo_j + 1)
                r, st = next_below(st, span)
                row[j] = lo_j + np.int64(r)
            else:
                u, st = next_uniform(st)
                row[j] = low[j] + u * (high[j] - low[j])


@jit(parallel=True)
def _init_uniform_kernel(
    out: Any, low: Any, high: Any, seed: Any, integral: bool, boolean: bool
) -> None:
    n, d = out.shape
    block = _block_size(n, n * d)
    for b in numba.prange((n + block - 1) // block):
        _init_block(out, low, high, seed, b * block, min(n, (b + 1) * block), integral, boolean)


@jit()
def _select_block(
    f: Any, order: Any, slots: Any, lo: int, hi: int, seed: Any, gen: Any, selection: int, size: int
) -> None:
    nn = np.uint32(f.shape[0])
    for s in range(lo, hi):
        slots[s] = _select_slot(f, nn, np.uint32(s), seed, gen, selection, size, order)


@jit()
def _breed_block(
    X: Any,
    low: Any,
    high: Any,
    slots: Any,
    out: Any,
    parents: Any,
    lo: int,
    hi: int,
    seed: Any,
    gen: Any,
    crossover: int,
    crossover_threshold: Any,
    crossover_param: float,
    mutation: int,
    mutation_threshold: Any,
    mutation_param: float,
    cdf: Any,
    bounds: int,
    chosen: Any,
) -> None:
    """Pairs [lo, hi): children 2p and 2p+1, the second only when it is < m (breed_pair)."""
    m = out.shape[0]
    for p in range(lo, hi):
        i1 = 2 * p
        has2 = i1 + 1 < m
        a = slots[i1]
        b = slots[i1 + 1]
        _crossover_pair(
            X[a], X[b], out[i1], out[i1 + 1 if has2 else i1], has2, low, high, np.uint32(p),
            seed, gen, crossover, crossover_threshold, crossover_param, bounds,
        )  # fmt: skip
        for i in range(i1, i1 + 2 if has2 else i1 + 1):
            _mutate_child(
                out[i], low, high, np.uint32(i), seed, gen,
                mutation, mutation_threshold, mutation_param, cdf, chosen, bounds,
            )  # fmt: skip
            parents[i, 0] = a if i == i1 else b
            parents[i, 1] = b if i == i1 else a


@jit(inline=True)
def _breed_one(
    b: int, block: int, pairs: int, seed: Any, gen: Any, arrays: tuple, ops: tuple
) -> None:
    """Block b of the pairs: it selects its own pairs' parents, then breeds them.

    ``arrays`` is (X, f, order, slots, low, high, out, parents, cdf, chosen); ``ops`` is
    (selection, size, sus, crossover, crossover_threshold, crossover_param, mutation,
    mutation_threshold, mutation_param, bounds).
    """
    X, f, order, slots, low, high, out, parents, cdf, chosen = arrays
    selection, size, sus, cx, cx_threshold, cx_param, mut, mut_threshold, mut_param, bounds = ops
    first = b * block
    last = min(pairs, first + block)
    if not sus:
        _select_block(f, order, slots, 2 * first, 2 * last, seed, gen, selection, size)
    _breed_block(
        X, low, high, slots, out, parents, first, last, seed, gen,
        cx, cx_threshold, cx_param, mut, mut_threshold, mut_param, cdf, bounds, chosen[b],
    )  # fmt: skip


@jit(parallel=True)
def _breed_blocks(
    blocks: int, block: int, pairs: int, seed: Any, gen: Any, arrays: tuple, ops: tuple
) -> None:
    # One parallel loop per generation, as in ga.cpp.
    for b in numba.prange(blocks):
        _breed_one(b, block, pairs, seed, gen, arrays, ops)


@jit()
def _breed_kernel(
    X: Any,
    f: Any,
    low: Any,
    high: Any,
    out: Any,
    parents: Any,
    seed: Any,
    gen: Any,
    selection: int,
    size: int,
    crossover: int,
    crossover_threshold: Any,
    crossover_param: float,
    mutation: int,
    mutation_threshold: Any,
    mutation_param: float,
    cdf: Any,
    bounds: int,
) -> None:
    m, d = out.shape
    pairs = (m + 1) // 2
    count = 2 * pairs
    slots = np.empty(count, dtype=np.int32)
    sus = selection == STOCHASTIC_UNIVERSAL
    if sus:
        _sus_slots(f, slots, seed, gen)
    if selection == TRUNCATION:
        order = np.argsort(f, kind="mergesort").astype(np.int32)
    else:
        order = np.empty(0, dtype=np.int32)
    block = _block_size(pairs, count * d)
    blocks = (pairs + block - 1) // block
    chosen = np.empty((blocks, cdf.shape[0]), dtype=np.uint32)
    arrays = (X, f, order, slots, low, high, out, parents, cdf, chosen)
    ops = (
        selection, size, sus, crossover, crossover_threshold, crossover_param,
        mutation, mutation_threshold, mutation_param, bounds,
    )  # fmt: skip
    if blocks > 1:
        _breed_blocks(blocks, block, pairs, seed, gen, arrays, ops)
    else:
        # Below the grain: no parallel region, which on a busy machine waits for a thread.
        _breed_one(0, block, pairs, seed, gen, arrays, ops)


# --- Python entry points, same signatures and checks as chimera._core.ga --------------------

_GENOME_DTYPES = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.int32), np.dtype(bool))


def _real(value: Any, name: str) -> float:
    if isinstance(value, str | bytes):
        raise ArgumentTypeError(f"{name} must be a number, got {type(value).__name__}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"{name} must be a number, got {type(value).__name__}") from None


def _genome_dtype(a: np.ndarray, name: str) -> np.dtype:
    if a.dtype.byteorder == ">":
        raise ArgumentTypeError(f"{name} must be in native byte order")
    for dt in _GENOME_DTYPES:
        if a.dtype == dt:
            return dt
    raise ArgumentTypeError(f"{name} must be float64, float32, int32 or bool, got {a.dtype}")


def _kernel_view(a: np.ndarray) -> np.ndarray:
    """Bool genomes as uint8 0/1, as the C++ handles them; other dtypes unchanged."""
    return a.view(np.uint8) if a.dtype == np.bool_ else a


def init_uniform(out: Any, low: Any, high: Any, seed: Any) -> None:
    """Fills out (n, d) with a uniform population: row i from Stream(seed, 0, i, INIT)."""
    seed = np.uint64(_integer(seed, "seed", 64))
    low = as_input(low, np.float64)
    high = as_input(high, np.float64)
    out = as_array(out, "out")
    require_ndim(out, 2, "out")
    d = out.shape[1]
    require_ndim(low, 1, "low")
    require_ndim(high, 1, "high")
    require_len(low, 0, d, "low")
    require_len(high, 0, d, "high")
    dt = _genome_dtype(out, "out")
    writable_output(out, "out")
    boolean = dt == np.bool_
    integral = boolean or dt == np.int32
    _start_pool()
    _init_uniform_kernel(_kernel_view(out), readonly(low), readonly(high), seed, integral, boolean)


def breed(
    X: Any,
    f: Any,
    low: Any,
    high: Any,
    out: Any,
    parents: Any,
    seed: Any,
    generation: Any,
    selection: Any,
    selection_size: Any,
    crossover: Any,
    crossover_threshold: Any,
    crossover_param: Any,
    mutation: Any,
    mutation_threshold: Any,
    mutation_param: Any,
    mutation_cdf: Any,
    bounds: Any,
) -> None:
    """Offspring of X into out (m, d) and their parent rows into parents (m, 2)."""
    seed = np.uint64(_integer(seed, "seed", 64))
    generation = np.uint32(_integer(generation, "generation", 32))
    selection = _integer(selection, "selection", 32, signed=True)
    selection_size = _integer(selection_size, "selection_size", 64, signed=True)
    crossover = _integer(crossover, "crossover", 32, signed=True)
    crossover_threshold = np.uint64(_integer(crossover_threshold, "crossover_threshold", 64))
    crossover_param = _real(crossover_param, "crossover_param")
    mutation = _integer(mutation, "mutation", 32, signed=True)
    mutation_threshold = np.uint64(_integer(mutation_threshold, "mutation_threshold", 64))
    mutation_param = _real(mutation_param, "mutation_param")
    bounds = _integer(bounds, "bounds", 32, signed=True)
    f = as_input(f, np.float64)
    low = as_input(low, np.float64)
    high = as_input(high, np.float64)
    cdf = as_input(mutation_cdf, np.uint32)
    X = as_array(X, "X")
    out = as_array(out, "out")

    require_ndim(X, 2, "X")
    require_ndim(out, 2, "out")
    require(X.flags.c_contiguous, "X must be C-contiguous")
    n, d = X.shape
    m = out.shape[0]
    require(n >= 2, "X must hold at least 2 individuals")
    require(n < 2**31 and m < 2**31, "populations are limited to 2^31 rows")
    require_len(out, 1, d, "out")
    require(
        X.dtype.kind == out.dtype.kind and X.dtype.itemsize == out.dtype.itemsize,
        "out must have the dtype of X",
    )
    require_ndim(f, 1, "f")
    require_len(f, 0, n, "f")
    require_ndim(low, 1, "low")
    require_ndim(high, 1, "high")
    require_len(low, 0, d, "low")
    require_len(high, 0, d, "high")
    require_ndim(cdf, 1, "mutation_cdf")
    require(cdf.shape[0] <= MAX_MUTATION_TABLE, "mutation_cdf has more than 64 entries")
    require(TOURNAMENT <= selection <= STOCHASTIC_UNIVERSAL, "unknown selection code")
    require(NO_CROSSOVER <= crossover <= SBX, "unknown crossover code")
    require(NO_MUTATION <= mutation <= RANDOM_RESET, "unknown mutation code")
    require(bounds in (CLIP, REFLECT), "unknown bounds code")
    if selection == TOURNAMENT:
        require(selection_size >= 1, "tournament size must be at least 1")
    if selection == TRUNCATION:
        require(1 <= selection_size <= n, "truncation must keep between 1 and n rows")
    if not (isinstance(parents, np.ndarray) and parents.dtype == np.int32):
        raise ArgumentTypeError("parents must be a NumPy array of dtype int32")
    writable_output(parents, "parents")
    require_ndim(parents, 2, "parents")
    require_len(parents, 0, m, "parents")
    require_len(parents, 1, 2, "parents")

    dt = _genome_dtype(X, "X")
    if dt.kind != "f" and (crossover in (BLEND, SBX) or mutation in (GAUSSIAN, POLYNOMIAL)):
        raise ValidationError("blend, SBX, Gaussian and polynomial operators need float genomes")
    if dt != np.bool_ and out.dtype != dt:
        raise ArgumentTypeError(f"out must be a NumPy array of dtype {dt}")
    writable_output(out, "out")
    if m == 0:
        return
    _start_pool()
    _breed_kernel(
        readonly(_kernel_view(X)), readonly(f), readonly(low), readonly(high),
        _kernel_view(out), parents, seed, generation,
        selection, selection_size, crossover, crossover_threshold, crossover_param,
        mutation, mutation_threshold, mutation_param, readonly(cdf), bounds,
    )  # fmt: skip


_pool_started = False


def _start_pool() -> None:
    """Starts Numba's thread pool, keeping the C++ backend's OpenMP thread count.

    Numba's ``omp`` threading layer shares the process's OpenMP runtime with chimera._core,
    and starting it sets the calling thread's OpenMP thread count to NUMBA_NUM_THREADS,
    which would silently undo an earlier ``chimera._core.ga.set_num_threads``.
    """
    global _pool_started
    if _pool_started:
        return
    core: Any = None
    try:
        from .. import _core as core

        before = core.ga.num_threads()
    except Exception:  # no native module: nothing to keep
        core = None
    numba.get_num_threads()  # starts the pool
    if core is not None:
        core.ga.set_num_threads(before)
    _pool_started = True


def num_threads() -> int:
    """Threads the kernels run on (numba.get_num_threads())."""
    _start_pool()
    return int(numba.get_num_threads())


def set_num_threads(n: int) -> None:
    """Sets the kernels' thread count, capped at NUMBA_NUM_THREADS; n <= 0 changes nothing
    (as the C++ backend does)."""
    n = int(n)
    _start_pool()
    if n > 0:
        numba.set_num_threads(min(n, int(numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
