"""Ziggurat normal and Marsaglia-Tsang Gamma and Beta on Numba streams, twin of
cpp/include/chimera/variates.hpp draw for draw (docs/kernels.md, "Variates").

The ziggurat's tables are computed here with ``math`` (the same libm calls, in the same order,
as the C++ constructor), so both backends hold the same doubles. The C++ Beta sampler's first
pass exists for speed; here the same decisions are made one Gamma at a time.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._jit import jit
from .rng import next_u32

LAYERS = 128
_R = 3.442619855899
_V = 9.91256303526217e-3
_TWO_POW_MINUS_31 = 1.0 / 2147483648.0
_TWO_POW_MINUS_32 = 1.0 / 4294967296.0
_LAYER = np.uint32(127)
_POSITION = np.uint32(0xFFFFFF80)


def _tables() -> tuple[np.ndarray, np.ndarray]:
    x = [0.0] * (LAYERS + 1)
    x[0] = _V / math.exp(-0.5 * _R * _R)
    x[1] = _R
    for i in range(1, LAYERS - 1):
        x[i + 1] = math.sqrt(-2.0 * math.log(_V / x[i] + math.exp(-0.5 * x[i] * x[i])))
    f = [math.exp(-0.5 * v * v) for v in x]
    return np.array(x), np.array(f)


ZIG_X, ZIG_F = _tables()


@jit(inline=True)
def uniform32_of(w: Any) -> float:
    """(w + 1/2) 2^-32: uniform on (0, 1) from one word."""
    return (np.float64(w) + 0.5) * _TWO_POW_MINUS_32


@jit(inline=True)
def next_uniform32(st: Any) -> tuple:
    w, st = next_u32(st)
    return uniform32_of(w), st


@jit(inline=True)
def ziggurat_candidate(w: Any) -> tuple:
    """(u x[i], i): layer i from bits 0-6, u in (-1, 1) from bits 7-31 read as signed."""
    i = np.int64(w & _LAYER)
    high = np.float64(w & _POSITION)
    if high >= 2147483648.0:
        high -= 4294967296.0  # the int32 reading of the word
    return (high + 64.0) * _TWO_POW_MINUS_31 * ZIG_X[i], i


@jit()
def normal_from(w: Any, st: Any) -> tuple:
    """Standard normal whose first candidate comes from word w: (value, stream)."""
    while True:
        x, i = ziggurat_candidate(w)
        if abs(x) < ZIG_X[i + 1]:
            return x, st
        if i == 0:
            while True:
                u1, st = next_uniform32(st)
                a = -math.log(u1) / _R
                u2, st = next_uniform32(st)
                b = -math.log(u2)
                if b + b > a * a:
                    break
            return (-(_R + a) if x < 0.0 else _R + a), st
        u, st = next_uniform32(st)
        if ZIG_F[i] + u * (ZIG_F[i + 1] - ZIG_F[i]) < math.exp(-0.5 * x * x):
            return x, st
        w, st = next_u32(st)


@jit(inline=True)
def normal(st: Any) -> tuple:
    w, st = next_u32(st)
    return normal_from(w, st)


@jit(inline=True)
def gamma_shape(a: float) -> tuple:
    """(shape, d, c, inv_a) of GammaShape(a)."""
    shape, inv_a = a, 0.0
    if a < 1.0:
        inv_a = 1.0 / a
        a += 1.0
    d = a - 1.0 / 3.0
    return shape, d, 1.0 / math.sqrt(9.0 * d), inv_a


@jit()
def gamma_from(wn: Any, wu: Any, st: Any, d: float, c: float, inv_a: float) -> tuple:
    """Marsaglia-Tsang Gamma with the first normal from word wn and first uniform from wu."""
    boost = 1.0
    if inv_a > 0.0:
        u0, st = next_uniform32(st)
        boost = u0**inv_a
    x, st = normal_from(wn, st)
    u = uniform32_of(wu)
    while True:
        v = 1.0 + c * x
        while v <= 0.0:
            x, st = normal(st)
            v = 1.0 + c * x
        v = v * v * v
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2 or math.log(u) < 0.5 * x2 + d * (1.0 - v + math.log(v)):
            return d * v * boost, st
        x, st = normal(st)
        u, st = next_uniform32(st)


@jit()
def beta_many(st: Any, a: Any, b: Any, active: Any, words: Any, gammas: Any, out: Any) -> Any:
    """BetaSampler::sample: Beta(a[j], b[j]) into out[j] for active j; returns the stream.

    words (4m uint32) and gammas (2m) are scratch."""
    m = a.size
    for k in range(4 * m):
        words[k], st = next_u32(st)
    # The C++ first pass: the candidate and whether ziggurat and squeeze both accept it.
    for g in range(2 * m):
        _, d, c, inv_a = gamma_shape(a[g // 2] if g % 2 == 0 else b[g // 2])
        x, i = ziggurat_candidate(words[2 * g])
        u = uniform32_of(words[2 * g + 1])
        v = 1.0 + c * x
        x2 = x * x
        fast = abs(x) < ZIG_X[i + 1] and v > 0.0 and u < 1.0 - 0.0331 * x2 * x2 and inv_a == 0.0
        gammas[g] = d * (v * v * v) if fast else np.nan
    for g in range(2 * m):
        if np.isnan(gammas[g]) and active[g // 2]:
            _, d, c, inv_a = gamma_shape(a[g // 2] if g % 2 == 0 else b[g // 2])
            gammas[g], st = gamma_from(words[2 * g], words[2 * g + 1], st, d, c, inv_a)
    for j in range(m):
        if not active[j]:
            continue
        x, y = gammas[2 * j], gammas[2 * j + 1]
        if x + y > 0.0:
            out[j] = x / (x + y)
        else:
            u, st = next_uniform32(st)
            out[j] = 1.0 if u * (a[j] + b[j]) < a[j] else 0.0
    return st
