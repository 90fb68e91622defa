"""Numba twin of cpp/include/chimera/beta_argmax.hpp: Thompson batches on fixed Beta posteriors
by inversion on quantile tables, draw for draw (docs/kernels.md, "Bandits"). The quantile rows
come from SciPy here as in the C++ binding, with the same call on the same doubles.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import betaincinv

from .._errors import ValidationError
from ._jit import jit
from .rng import next_u32, next_uniform, stream
from .variates import next_uniform32

BUCKETS = 256
ROW = BUCKETS + 1
# Bandit::kTableBatch, kTableChunk, kTableArms, kTableShapes
TABLE_BATCH, TABLE_CHUNK, TABLE_ARMS, TABLE_SHAPES = 16384, 65536, 4096, 1e6
BANDIT_TABLE, BANDIT_RESOLVE = 7, 8  # the Philox purposes of the bytes and in-bucket draws
_PROBABILITIES = np.arange(1, BUCKETS) / BUCKETS


def quantile_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """F^{-1}(k / 256) of Beta(a_i, b_i) for k = 0..256, one row per pair (0 and 1 at the ends)."""
    rows = np.zeros((a.size, ROW))
    rows[:, -1] = 1.0
    rows[:, 1:-1] = betaincinv(a[:, None], b[:, None], _PROBABILITIES)
    return rows


def usable_row(q: np.ndarray) -> bool:
    """variates::usable_row: 0 to 1, non-decreasing, no bucket spanning all of [0, 1]."""
    ok = q[0] == 0.0 and q[-1] == 1.0 and bool(np.all(q[:-1] <= q[1:]))
    return ok and q[1] < 1.0 and q[BUCKETS - 1] > 0.0


def quantile_row(a: float, b: float) -> np.ndarray:
    """chimera._core.bandit.quantile_row."""
    return quantile_rows(np.array([float(a)]), np.array([float(b)]))[0]


@jit(inline=True)
def beta_tangent_gap(a: float, b: float, t: float, d: float) -> float:
    """log f(x) - (log f(t) + s (x - t)) with d = x - t, without subtracting large logs."""
    gap = 0.0
    if a != 1.0:
        u = d / t
        gap += (a - 1.0) * (math.log1p(u) - u)
    if b != 1.0:
        v = d / (1.0 - t)
        gap += (b - 1.0) * (math.log1p(-v) + v)
    return gap


@jit()
def beta_in_bucket(a: float, b: float, lo: float, hi: float, st: Any) -> tuple:
    """Beta(a, b) conditioned on [lo, hi], by rejection from the tangent at t: (x, stream)."""
    if not lo < hi:
        return lo, st
    t = hi if lo == 0.0 else (lo if hi == 1.0 else 0.5 * (lo + hi))
    s = (a - 1.0) / t - (b - 1.0) / (1.0 - t)
    width = hi - lo
    r = abs(s)
    g = math.expm1(-r * width)
    while True:
        w, st = next_uniform(st)
        y = w * width if g == 0.0 else -math.log1p(w * g) / r
        x = hi - y if s > 0.0 else lo + y
        x = lo if x < lo else (hi if x > hi else x)
        u, st = next_uniform32(st)
        if math.log(u) < beta_tangent_gap(a, b, t, x - t):
            return x, st


@jit()
def _draws(a: float, b: float, lo: float, hi: float, seed: Any, out: Any) -> None:
    st = stream(seed, 0, 0, BANDIT_RESOLVE)
    for i in range(out.size):
        out[i], st = beta_in_bucket(a, b, lo, hi, st)


def beta_in_bucket_draws(a: float, b: float, k: int, n: int, seed: int) -> np.ndarray:
    """chimera._core.bandit.beta_in_bucket: n draws in bucket k of Beta(a, b)'s row."""
    if not (a >= 1.0 and b >= 1.0 and a + b <= TABLE_SHAPES):
        raise ValidationError(
            "the in-bucket sampler takes shapes a, b >= 1 with a + b <= 1e6, as batches do"
        )
    if not 0 <= k < BUCKETS:
        raise ValidationError("the bucket k must be in 0..255")
    row = quantile_row(a, b)
    if not usable_row(row):
        raise ValidationError("this Beta's quantile row is not usable")
    out = np.empty(int(n))
    _draws(float(a), float(b), row[k], row[k + 1], np.uint64(seed), out)
    return out


@jit()
def _chunk(ids: Any, a: Any, b: Any, rows: Any, seed: Any, k: Any, out: Any) -> None:
    """Decisions k .. k + out.size - 1 of one chunk (BetaArgmax::decide)."""
    m = ids.size
    per = (m + 3) // 4
    buckets = stream(seed, np.uint32(k & np.uint64(0xFFFFFFFF)), np.uint32(k >> np.uint64(32)),
                     BANDIT_TABLE)  # fmt: skip
    resolve = stream(seed, np.uint32(k & np.uint64(0xFFFFFFFF)), np.uint32(k >> np.uint64(32)),
                     BANDIT_RESOLVE)  # fmt: skip
    words = np.empty(per, np.uint32)
    lo = np.empty(m)
    hi = np.empty(m)
    for i in range(out.size):
        for j in range(per):
            words[j], buckets = next_u32(buckets)
        best, top = 0, -1.0
        for p in range(m):
            bucket = (words[p // 4] >> np.uint32(8 * (p % 4))) & np.uint32(255)
            lo[p] = rows[p, bucket]
            hi[p] = rows[p, bucket + 1]
            if lo[p] > top:
                best = p
            top = lo[p] if top < lo[p] else top
        contest = False
        for p in range(m):
            contest = contest or (p != best and hi[p] > top)
        if not contest:
            out[i] = ids[best]
            continue
        winner, most = best, -1.0
        for p in range(m):
            if p != best and not hi[p] > top:
                continue
            x, resolve = beta_in_bucket(a[p], b[p], lo[p], hi[p], resolve)
            if x > most:
                most, winner = x, p
        out[i] = ids[winner]


def select_by_table(ids: np.ndarray, a: np.ndarray, b: np.ndarray, rows: np.ndarray, seed: Any,
                    k0: int, out: np.ndarray) -> None:  # fmt: skip
    """Bandit::select_by_table: the batch in chunks of TABLE_CHUNK decisions."""
    for start in range(0, out.size, TABLE_CHUNK):
        _chunk(ids, a, b, rows, np.uint64(seed), np.uint64(k0 + start),
               out[start : start + TABLE_CHUNK])  # fmt: skip
