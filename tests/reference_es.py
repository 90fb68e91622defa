"""Plain-Python definitions of the evolution-strategy kernels (docs/kernels.md, "Evolution
strategies"), to hold chimera._core.es and chimera._numba.es to. Slow and obvious on purpose."""

from __future__ import annotations

import numpy as np

from reference import Stream
from reference_bandit import ZX, candidate, normal_from

SAMPLE = 9
TAIL_BLOCK = 2**31


def standard_normal(seed: int, generation: int, rows: int, cols: int, purpose: int = SAMPLE,
                    ) -> np.ndarray:  # fmt: skip
    """Row i: normal j is the ziggurat normal of word j of Stream(seed, generation, i,
    purpose), a rejected candidate resolved from the same stream started at block 2^31."""
    out = np.empty((rows, cols))
    for i in range(rows):
        words = Stream(seed, generation, i, purpose)
        tail = Stream(seed, generation, i, purpose, block=TAIL_BLOCK)
        for j in range(cols):
            w = words.u32()
            x, layer = candidate(w)
            out[i, j] = x if abs(x) < ZX[layer + 1] else normal_from(tail, w)
    return out


def box_transform(Y: np.ndarray, mean: np.ndarray, sigma: float, low: np.ndarray,
                  high: np.ndarray, al: np.ndarray, au: np.ndarray) -> np.ndarray:  # fmt: skip
    """T(mean + sigma Y), gene by gene, as the definition reads."""
    out = np.empty_like(Y)
    for i, j in np.ndindex(*Y.shape):
        g = float(mean[j] + sigma * Y[i, j])
        lo, hi, a_l, a_u = float(low[j]), float(high[j]), float(al[j]), float(au[j])
        if lo + a_l <= g <= hi - a_u:
            out[i, j] = g
            continue
        a = lo - a_l
        r = hi + a_u - a
        y = (g - a) % (2 * r)
        y = a + (2 * r - y if y > r else y)
        if y < lo + a_l:
            y = lo + (y - a) * (y - a) * (1 / (4 * a_l))
        if y > hi - a_u:
            y = hi - (y - hi - a_u) * (y - hi - a_u) * (1 / (4 * a_u))
        out[i, j] = min(max(y, lo), hi)
    return out


def box_case(seed: int) -> tuple:
    """A box transform test case: (Y, mean, sigma, low, high, al, au) with widths from 1e-3
    to 20 and steps from inside the box to far beyond it."""
    rng = np.random.default_rng(seed)
    n = 30
    low = rng.uniform(-10, 0, n)
    high = low + rng.choice([1e-3, 0.5, 20.0], n)
    width = high - low
    al = np.minimum(width / 2, (1 + np.abs(low)) / 20)
    au = np.minimum(width / 2, (1 + np.abs(high)) / 20)
    # steps inside, near a bound, a few periods out, and far out
    Y = rng.standard_normal((60, n)) * rng.choice([0.01, 1.0, 30.0, 1e6], (60, 1))
    return Y, rng.uniform(low, high), 1.3, low, high, al, au


def dot_rows(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A B^T, each dot product in eight lanes: lane l sums the products of the columns
    c = l (mod 8) one after the other from 0.0, then ((s0 + s4) + (s2 + s6)) + ((s1 + s5) +
    (s3 + s7))."""
    out = np.empty((A.shape[0], B.shape[0]))
    for i in range(A.shape[0]):
        for j in range(B.shape[0]):
            products = A[i] * B[j]
            s = [0.0] * 8
            for c, p in enumerate(products.tolist()):
                s[c % 8] = s[c % 8] + p
            out[i, j] = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
    return out


def add_combination(a: float, Z: np.ndarray, C: np.ndarray, M: np.ndarray) -> np.ndarray:
    """a Z + C M, each element a Z[i, c] plus C[i, j] M[j, c] for j = 0, 1, ... in turn."""
    Y = a * Z
    for j in range(M.shape[0]):
        Y = Y + C[:, j : j + 1] * M[j]
    return Y
