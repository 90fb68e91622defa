"""Evolution-strategy kernels with the signatures of ``chimera._core.es`` (twin of
cpp/include/chimera/es.hpp): normal j of row i is the ziggurat normal whose first candidate is
word j of ``Stream(seed, generation, i, purpose)``, its rejections resolved from the row's tail
stream (the same stream from block 2^31)."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from ._arrays import as_array, as_input, readonly, require, require_ndim, writable_output
from ._jit import jit
from .rng import next_u32, stream
from .variates import ZIG_X, normal_from, ziggurat_candidate

# Below this many draws a parallel region costs more than it saves (as es.cpp).
_PARALLEL_GRAIN = 1 << 14
_TAIL_BLOCK = np.uint32(1 << 31)  # the tail stream's first block (es.hpp's kTailBlock)


@jit()
def _rows(out: Any, lo: int, hi: int, seed: Any, generation: Any, purpose: Any) -> None:
    for i in range(lo, hi):
        row = np.uint32(i)
        st = stream(seed, generation, row, purpose)
        k0, k1, _, c1, c2, c3, b0, b1, b2, b3, left = st  # the same stream from block 2^31
        tail = (k0, k1, _TAIL_BLOCK, c1, c2, c3, b0, b1, b2, b3, left)
        for j in range(out.shape[1]):
            w, st = next_u32(st)
            x, layer = ziggurat_candidate(w)
            if abs(x) < ZIG_X[layer + 1]:
                out[i, j] = x
            else:
                out[i, j], tail = normal_from(w, tail)


@jit(parallel=True)
def _parallel(out: Any, seed: Any, generation: Any, purpose: Any) -> None:
    for i in numba.prange(out.shape[0]):
        _rows(out, i, i + 1, seed, generation, purpose)


def standard_normal(out: Any, seed: Any, generation: Any, purpose: Any) -> None:
    """Fills ``out`` (rows, cols) float64 with row i from Stream(seed, generation, i, purpose)."""
    out = as_array(out, "out")
    require(out.dtype == np.float64, "out must be a NumPy array of dtype float64")
    require_ndim(out, 2, "out")
    writable_output(out, "out")
    require(out.shape[0] < 2**32, "out has more than 2^32 rows")
    s, g, p = np.uint64(seed), np.uint32(generation), np.uint32(purpose)
    if out.size >= _PARALLEL_GRAIN:
        _parallel(out, s, g, p)
    else:
        _rows(out, 0, out.shape[0], s, g, p)


@jit(inline=True)
def _floor_mod(y: float, p: float) -> float:
    """y mod p into [0, p), as es.cpp's floor_mod: one addition near the period."""
    if y >= p:
        if y < 2.0 * p:
            return y - p
    elif y >= -p:
        return y + p if y < 0.0 else y
    return y % p  # fmod, plus p when negative, +0 for zero


@jit()
def _box_gene(g: float, lo: float, hi: float, al: float, au: float) -> float:
    a = lo - al
    r = hi + au - a
    m = _floor_mod(g - a, 2.0 * r)
    y = a + (2.0 * r - m if m > r else m)
    if y < lo + al:
        y = lo + (y - a) * (y - a) * (1.0 / (4.0 * al))
    if y > hi - au:
        y = hi - (y - hi - au) * (y - hi - au) * (1.0 / (4.0 * au))
    return min(max(y, lo), hi)  # rounding at the bounds


@jit()
def _box_rows(out: Any, Y: Any, lo_row: int, hi_row: int, mean: Any, sigma: float, low: Any,
              high: Any, al: Any, au: Any) -> None:  # fmt: skip
    for i in range(lo_row, hi_row):
        for j in range(out.shape[1]):
            g = mean[j] + sigma * Y[i, j]
            if low[j] + al[j] <= g and g <= high[j] - au[j]:
                out[i, j] = g
            else:
                out[i, j] = _box_gene(g, low[j], high[j], al[j], au[j])


@jit(parallel=True)
def _box_parallel(out: Any, Y: Any, mean: Any, sigma: float, low: Any, high: Any, al: Any,
                  au: Any) -> None:  # fmt: skip
    for i in numba.prange(out.shape[0]):
        _box_rows(out, Y, i, i + 1, mean, sigma, low, high, al, au)


def box_transform(out: Any, Y: Any, mean: Any, sigma: Any, low: Any, high: Any, al: Any,
                  au: Any) -> None:  # fmt: skip
    """out (rows, cols) = T(mean + sigma * Y) gene by gene: the box's periodic C^1 map with
    quadratic margins al, au (es.hpp's box_transform)."""
    out = as_array(out, "out")
    require(out.dtype == np.float64, "out must be a NumPy array of dtype float64")
    require_ndim(out, 2, "out")
    writable_output(out, "out")
    Y = readonly(as_input(Y, np.float64))
    require(not np.may_share_memory(out, Y), "out must not share memory with Y: pass a fresh array")
    require_ndim(Y, 2, "Y")
    require(Y.shape == out.shape, "Y must have the shape of out")
    vectors = [readonly(as_input(v, np.float64)) for v in (mean, low, high, al, au)]
    require(all(v.ndim == 1 and v.shape[0] == out.shape[1] for v in vectors),
            "mean, low, high, al and au must have one value per column of out")  # fmt: skip
    mean, low, high, al, au = vectors
    if out.size >= _PARALLEL_GRAIN:
        _box_parallel(out, Y, mean, float(sigma), low, high, al, au)
    else:
        _box_rows(out, Y, 0, out.shape[0], mean, float(sigma), low, high, al, au)
