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


def _matrix_output(obj: Any, name: str) -> np.ndarray:
    """``obj`` as the kernels write it: a writeable, C-contiguous 2-D float64 NumPy array."""
    out = as_array(obj, name)
    require(out.dtype == np.float64, f"{name} must be a NumPy array of dtype float64")
    require_ndim(out, 2, name)
    writable_output(out, name)
    return out


def _require_disjoint(out: np.ndarray, inputs: tuple[np.ndarray, ...], message: str) -> None:
    """The kernels write ``out`` while they read the inputs (bind_es.cpp's require_disjoint)."""
    require(not any(np.may_share_memory(out, v) for v in inputs), message)


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
    out = _matrix_output(out, "out")
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
    out = _matrix_output(out, "out")
    Y = readonly(as_input(Y, np.float64))
    _require_disjoint(out, (Y,), "out must not share memory with Y: pass a fresh array")
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


# Products of a few long rows (products.hpp): eight lanes per dot product, no FMA (Numba
# contracts nothing without fastmath), so the doubles are the C++ versions'.
_LANES = 8


@jit()
def _dot_rows_of(out: Any, A: Any, B: Any, lo: int, hi: int) -> None:
    s = np.empty(_LANES)
    for i in range(lo, hi):
        for j in range(B.shape[0]):
            s[:] = 0.0
            for c in range(A.shape[1]):  # lane c mod 8, its columns in ascending order
                s[c % _LANES] += A[i, c] * B[j, c]
            out[i, j] = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))


@jit(parallel=True)
def _dot_rows_parallel(out: Any, A: Any, B: Any) -> None:
    for i in numba.prange(A.shape[0]):
        _dot_rows_of(out, A, B, i, i + 1)


def dot_rows(out: Any, A: Any, B: Any) -> None:
    """out (ra, rb) = A B^T for A (ra, n), B (rb, n): each dot product summed in eight lanes
    (columns c = l mod 8 in ascending order), the lanes added as ((s0 + s4) + (s2 + s6)) +
    ((s1 + s5) + (s3 + s7)) (products.hpp's dot_rows)."""
    out = _matrix_output(out, "out")
    A, B = (readonly(as_input(v, np.float64)) for v in (A, B))
    require_ndim(A, 2, "A")
    require_ndim(B, 2, "B")
    require(A.shape[1] == B.shape[1], "A and B must have as many columns")
    require(out.shape == (A.shape[0], B.shape[0]), "out must have shape (rows of A, rows of B)")
    _require_disjoint(out, (A, B), "out must not share memory with A or B: pass a fresh array")
    if A.size * B.shape[0] >= _PARALLEL_GRAIN:
        _dot_rows_parallel(out, A, B)
    else:
        _dot_rows_of(out, A, B, 0, A.shape[0])


@jit()
def _combination_rows(Y: Any, a: float, Z: Any, C: Any, M: Any, lo: int, hi: int) -> None:
    for i in range(lo, hi):
        for c in range(Y.shape[1]):
            Y[i, c] = a * Z[i, c]
        for j in range(M.shape[0]):  # each element adds M's rows in order
            w = C[i, j]
            for c in range(Y.shape[1]):
                Y[i, c] += w * M[j, c]


@jit(parallel=True)
def _combination_parallel(Y: Any, a: float, Z: Any, C: Any, M: Any) -> None:
    for i in numba.prange(Y.shape[0]):
        _combination_rows(Y, a, Z, C, M, i, i + 1)


def add_combination(Y: Any, a: Any, Z: Any, C: Any, M: Any) -> None:
    """Y (rows, n) = a Z + C M, each element a Z[i, c] plus C[i, j] M[j, c] for j in order
    (products.hpp's add_combination)."""
    Y = _matrix_output(Y, "Y")
    Z, C, M = (readonly(as_input(v, np.float64)) for v in (Z, C, M))
    for v, name in ((Z, "Z"), (C, "C"), (M, "M")):
        require_ndim(v, 2, name)
    require(Z.shape == Y.shape, "Z must have the shape of Y")
    require(C.shape[0] == Y.shape[0], "C must have a row per row of Y")
    require(M.shape == (C.shape[1], Y.shape[1]), "M must have shape (columns of C, columns of Y)")
    _require_disjoint(Y, (Z, C, M), "Y must not share memory with Z, C or M: pass a fresh array")
    if Y.size * C.shape[1] >= _PARALLEL_GRAIN:
        _combination_parallel(Y, float(a), Z, C, M)
    else:
        _combination_rows(Y, float(a), Z, C, M, 0, Y.shape[0])
