"""Multi-objective kernels in Numba, twins of cpp/src/moo.cpp with the signatures of
``chimera._core.moo``: the same fronts, the same crowding distances and reference
associations bit for bit, the same niching draws (docs/kernels.md).

``pareto_rank`` visits rows in lexicographic order (``np.lexsort``, stable, so ties go by row)
and places each in the first front with no member dominating it, found by binary search: the
last member of a front decides for two objectives, a scan of the members (newest first)
otherwise, as in ENS-BS. The C++ uses a staircase per front for three objectives; the fronts
are the same whichever way they are found.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from .._errors import ArgumentTypeError
from ._arrays import as_input, require, require_len, require_ndim, writable_output
from ._jit import jit
from .rng import NICHE, _integer, next_below, stream

_INF = math.inf
_ASSOCIATE_GRAIN = 1 << 21


@jit()
def _rank_distinct(F: Any, order: Any, rank: Any) -> None:
    k = 0
    for i in range(order.size):
        if i > 0 and F[order[i - 1], 0] < F[order[i], 0]:
            k += 1
        rank[order[i]] = k


@jit()
def _rank2(F: Any, order: Any, rank: Any) -> None:
    n = order.size
    tail_a = np.empty(n)
    tail_b = np.empty(n)
    fronts = 0
    for i in range(n):
        r = order[i]
        a = F[r, 0]
        b = F[r, 1]
        lo, hi = 0, fronts
        while lo < hi:
            mid = (lo + hi) // 2
            if tail_b[mid] < b or (tail_b[mid] == b and tail_a[mid] < a):
                lo = mid + 1
            else:
                hi = mid
        if lo == fronts:
            fronts += 1
        tail_a[lo] = a
        tail_b[lo] = b
        rank[r] = lo


@jit()
def _dominates(F: Any, q: int, p: int) -> bool:
    strict = False
    for j in range(F.shape[1]):
        if F[q, j] > F[p, j]:
            return False
        if F[q, j] < F[p, j]:
            strict = True
    return strict


@jit()
def _front_dominates(F: Any, head: Any, prev: Any, k: int, p: int) -> bool:
    q = head[k]
    while q >= 0:
        if _dominates(F, q, p):
            return True
        q = prev[q]
    return False


@jit()
def _rank_ens(F: Any, order: Any, rank: Any) -> None:
    n = order.size
    head = np.full(n, -1, dtype=np.int64)  # newest member of each front
    prev = np.full(n, -1, dtype=np.int64)  # the member added to the same front before this one
    fronts = 0
    for i in range(n):
        r = order[i]
        lo, hi = 0, fronts
        while lo < hi:
            mid = (lo + hi) // 2
            if _front_dominates(F, head, prev, mid, r):
                lo = mid + 1
            else:
                hi = mid
        if lo == fronts:
            fronts += 1
        prev[r] = head[lo]
        head[lo] = r
        rank[r] = lo


@jit(inline=True)
def _group_by(key: Any, groups: int) -> tuple:
    """Indices grouped by key in [0, groups), ascending within a group (a counting sort):
    group g is rows[start[g]:start[g + 1]]."""
    start = np.zeros(groups + 1, dtype=np.int64)
    for i in range(key.size):
        start[key[i] + 1] += 1
    for g in range(groups):
        start[g + 1] += start[g]
    rows = np.empty(key.size, dtype=np.int64)
    fill = start[:-1].copy()
    for i in range(key.size):
        rows[fill[key[i]]] = i
        fill[key[i]] += 1
    return start, rows


@jit()
def _crowding(F: Any, rank: Any, out: Any) -> None:
    n, m = F.shape
    fronts = 0
    for i in range(n):
        fronts = max(fronts, rank[i] + 1)
    start, rows = _group_by(rank, fronts)
    out[:] = 0.0
    for f in range(fronts):
        members = rows[start[f] : start[f + 1]]
        s = members.size
        if s <= 2:
            for i in range(s):
                out[members[i]] = _INF
            continue
        values = np.empty(s)
        for j in range(m):
            for i in range(s):
                values[i] = F[members[i], j]
            order = members[np.argsort(values, kind="mergesort")]
            out[order[0]] = _INF
            out[order[s - 1]] = _INF
            span = F[order[s - 1], j] - F[order[0], j]
            if not (span > 0.0) or not math.isfinite(span):
                continue
            for i in range(1, s - 1):
                out[order[i]] += (F[order[i + 1], j] - F[order[i - 1], j]) / span


@jit(inline=True)
def _nearest(F: Any, W: Any, ww: Any, i: int, ref: Any, dist: Any) -> None:
    m = F.shape[1]
    best = _INF
    best_r = 0
    for r in range(W.shape[0]):
        fw = 0.0
        for t in range(m):
            fw += F[i, t] * W[r, t]
        proj = fw / ww[r]
        d2 = 0.0
        for t in range(m):
            e = F[i, t] - proj * W[r, t]
            d2 += e * e
        if d2 < best:
            best = d2
            best_r = r
    ref[i] = best_r
    dist[i] = math.sqrt(best)


@jit(inline=True)
def _norms(W: Any) -> Any:
    ww = np.empty(W.shape[0])
    for r in range(W.shape[0]):
        s = 0.0
        for t in range(W.shape[1]):
            s += W[r, t] * W[r, t]
        ww[r] = s
    return ww


@jit(parallel=True)
def _associate(F: Any, W: Any, ref: Any, dist: Any) -> None:
    ww = _norms(W)
    for i in numba.prange(F.shape[0]):
        _nearest(F, W, ww, i, ref, dist)


@jit()
def _associate_serial(F: Any, W: Any, ref: Any, dist: Any) -> None:
    ww = _norms(W)
    for i in range(F.shape[0]):
        _nearest(F, W, ww, i, ref, dist)


@jit()
def _niche_select(niche_count: Any, ref: Any, dist: Any, seed: Any, gen: Any, chosen: Any) -> None:
    h = niche_count.size
    count = niche_count.astype(np.int64)
    # Candidates bucketed by reference, ascending within a bucket; left[r] of them remain.
    start, bucket = _group_by(ref, h)
    left = start[1:] - start[:-1]
    active = np.empty(h, dtype=np.int64)
    n_active = 0
    for r in range(h):
        if left[r] > 0:
            active[n_active] = r
            n_active += 1
    least = np.empty(h, dtype=np.int64)
    st = stream(seed, gen, 0, NICHE)
    for s in range(chosen.size):
        n_least = 0
        low = np.iinfo(np.int64).max
        for a in range(n_active):
            v = count[active[a]]
            if v < low:
                low = v
                n_least = 0
            if v == low:
                least[n_least] = a
                n_least += 1
        pick, st = next_below(st, n_least)
        a = least[pick]
        r = active[a]
        b = start[r]
        pos = 0
        if count[r] == 0:
            for i in range(1, left[r]):
                if dist[bucket[b + i]] < dist[bucket[b + pos]]:
                    pos = i
        else:
            p, st = next_below(st, left[r])
            pos = p
        chosen[s] = bucket[b + pos]
        for i in range(pos, left[r] - 1):
            bucket[b + i] = bucket[b + i + 1]
        left[r] -= 1
        count[r] += 1
        if left[r] == 0:
            for i in range(a, n_active - 1):
                active[i] = active[i + 1]
            n_active -= 1


# --- Python entry points, same signatures and checks as chimera._core.moo --------------------


def _objectives(F: Any) -> np.ndarray:
    F = as_input(F, np.float64)
    require_ndim(F, 2, "F")
    require(not np.isnan(F).any(), "F contains NaN")
    return F


def _output(obj: Any, dtype: type, length: int, name: str) -> np.ndarray:
    if not isinstance(obj, np.ndarray) or obj.dtype != np.dtype(dtype):
        raise ArgumentTypeError(f"{name} must be a NumPy array of dtype {np.dtype(dtype)}")
    writable_output(obj, name)
    require_ndim(obj, 1, name)
    require_len(obj, 0, length, name)
    return obj


def pareto_rank(F: Any, rank: Any) -> None:
    """Writes the 0-based Pareto front of each row of F (minimised) into rank (int32)."""
    F = _objectives(F)
    n, m = F.shape
    rank = _output(rank, np.int32, n, "rank")
    require(n < 2**31, "F has too many rows (at most 2**31 - 1)")
    if n == 0:
        return
    order = np.lexsort(F.T[::-1])
    if m == 1:
        _rank_distinct(F, order, rank)
    elif m == 2:
        _rank2(F, order, rank)
    else:
        _rank_ens(F, order, rank)


def crowding_distance(F: Any, rank: Any, out: Any) -> None:
    """Writes each row's crowding distance within its front (rank) into out (float64)."""
    F = _objectives(F)
    n = F.shape[0]
    rank = as_input(rank, np.int32)
    require_ndim(rank, 1, "rank")
    require_len(rank, 0, n, "rank")
    out = _output(out, np.float64, n, "out")
    require(bool(((rank >= 0) & (rank < n)).all()), "rank must hold front indices in [0, len(F))")
    if n:
        _crowding(F, rank, out)


def associate(F: Any, W: Any, ref: Any, dist: Any) -> None:
    """Nearest reference direction of each row of F by perpendicular distance."""
    F = as_input(F, np.float64)
    W = as_input(W, np.float64)
    require_ndim(F, 2, "F")
    require_ndim(W, 2, "W")
    require_len(W, 1, F.shape[1], "W")
    require(1 <= W.shape[0] < 2**31, "W must have between 1 and 2**31 - 1 reference directions")
    ref = _output(ref, np.int32, F.shape[0], "ref")
    dist = _output(dist, np.float64, F.shape[0], "dist")
    # As in moo.cpp: a parallel region only pays off for large problems.
    if F.shape[0] * W.shape[0] * F.shape[1] >= _ASSOCIATE_GRAIN:
        _associate(F, W, ref, dist)
    else:
        _associate_serial(F, W, ref, dist)


def niche_select(
    niche_count: Any, ref: Any, dist: Any, k: Any, seed: Any, generation: Any, chosen: Any
) -> None:
    """Chooses k candidates by NSGA-III niching, in order, into chosen (int32)."""
    niche_count = as_input(niche_count, np.int32)
    ref = as_input(ref, np.int32)
    dist = as_input(dist, np.float64)
    require_ndim(niche_count, 1, "niche_count")
    require_ndim(ref, 1, "ref")
    require_ndim(dist, 1, "dist")
    require_len(dist, 0, ref.shape[0], "dist")
    k = int(k)
    require(0 <= k <= ref.shape[0], "k must be between 0 and the number of candidates")
    chosen = _output(chosen, np.int32, k, "chosen")
    h = niche_count.shape[0]
    require(
        bool(((ref >= 0) & (ref < h)).all()),
        "ref must hold reference indices in [0, len(niche_count))",
    )
    require(bool((niche_count >= 0).all()), "niche_count must be non-negative")
    seed = np.uint64(_integer(seed, "seed", 64))
    generation = np.uint32(_integer(generation, "generation", 32))
    if k:
        _niche_select(niche_count, ref, dist, seed, generation, chosen)
