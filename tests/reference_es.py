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
