"""Philox4x32-10 and the counter-based streams, twin of cpp/include/chimera/rng.hpp.

A stream is a plain tuple of eleven uint32 words, ``(key0, key1, ctr0, ctr1, ctr2, ctr3,
buf0, buf1, buf2, buf3, left)``: the Philox key and counter, the words of the current block
not yet handed out (the next one first) and how many of them are left. Every draw takes a
stream and returns ``(value, stream)``. The draws are inlined into their callers at Numba IR
level, so the tuple lives in registers with no allocation per stream; only ``philox_block``
(once per four words) stays a call, which keeps compile times down. The Box-Muller spare of
``normal`` is carried by the caller as ``(spare, has_spare)``.

All arithmetic is uint32/uint64 with explicit casts (Numba widens mixed signed/unsigned
integer operations to int64 or float64), so every word matches the C++ bit for bit.
``docs/kernels.md`` is the contract.

The module-level functions ``philox4x32_10``, ``u32``, ``uniform``, ``normal`` and ``below``
mirror ``chimera._core.rng`` for tests and for inspecting streams from Python.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from .._errors import ArgumentTypeError, ValidationError
from ._jit import jit

INIT = 0
SELECT = 1
CROSSOVER = 2
MUTATE = 3
SHUFFLE = 4
NICHE = 5
SAMPLE = 9  # an evolution strategy's standard normal samples
RESTART = 10  # a restart's start point and regime draws

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint32(0x9E3779B9)
_W1 = np.uint32(0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_S11 = np.uint64(11)
_ONE64 = np.uint64(1)
_TWO32 = np.uint64(1 << 32)
_U0 = np.uint32(0)
_U1 = np.uint32(1)
_U4 = np.uint32(4)
_TWO_POW_32 = 4294967296.0
_TWO_POW_MINUS_53 = 1.0 / 9007199254740992.0
_TWO_PI = 2.0 * math.pi  # 6.283185307179586, the double nearest 2 pi, as in rng.hpp

Stream = tuple  # (key0, key1, ctr0..ctr3, buf0..buf3, left), eleven np.uint32


# --- the kernels' building blocks (jitted; called from other jitted code) -------------------


@jit()
def philox_block(c0: Any, c1: Any, c2: Any, c3: Any, k0: Any, k1: Any) -> tuple:
    """Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1); all uint32."""
    for r in range(10):
        if r > 0:
            k0 = np.uint32(k0 + _W0)
            k1 = np.uint32(k1 + _W1)
        p0 = _M0 * np.uint64(c0)
        p1 = _M1 * np.uint64(c2)
        c0, c1, c2, c3 = (
            np.uint32(np.uint32(p1 >> _S32) ^ c1 ^ k0),
            np.uint32(p1 & _MASK32),
            np.uint32(np.uint32(p0 >> _S32) ^ c3 ^ k1),
            np.uint32(p0 & _MASK32),
        )
    return c0, c1, c2, c3


@jit(inline=True)
def stream(seed: Any, generation: Any, individual: Any, purpose: Any) -> Stream:
    """Stream(seed, generation, individual, purpose): key = seed, counter (0, ind, gen, purpose)."""
    s = np.uint64(seed)
    return (
        np.uint32(s & _MASK32),
        np.uint32(s >> _S32),
        _U0,
        np.uint32(individual),
        np.uint32(generation),
        np.uint32(purpose),
        _U0,
        _U0,
        _U0,
        _U0,
        _U0,
    )


@jit(inline=True)
def next_u32(st: Stream) -> tuple:
    """The next word of the stream: (uint32, stream)."""
    k0, k1, c0, c1, c2, c3, b0, b1, b2, b3, left = st
    if left == _U0:
        b0, b1, b2, b3 = philox_block(c0, c1, c2, c3, k0, k1)
        c0 = np.uint32(c0 + _U1)
        left = _U4
    return b0, (k0, k1, c0, c1, c2, c3, b1, b2, b3, b0, np.uint32(left - _U1))


@jit(inline=True)
def next_u53(st: Stream) -> tuple:
    """53 random bits from two words, high word first: (uint64, stream)."""
    hi, st = next_u32(st)
    lo, st = next_u32(st)
    return ((np.uint64(hi) << _S32) | np.uint64(lo)) >> _S11, st


@jit(inline=True)
def next_uniform(st: Stream) -> tuple:
    """Uniform on [0, 1): (float64, stream)."""
    v, st = next_u53(st)
    return np.float64(v) * _TWO_POW_MINUS_53, st


@jit(inline=True)
def next_uniform_pos(st: Stream) -> tuple:
    """Uniform on (0, 1]: (float64, stream)."""
    v, st = next_u53(st)
    return np.float64(v + _ONE64) * _TWO_POW_MINUS_53, st


@jit(inline=True)
def next_bernoulli(st: Stream, threshold: Any) -> tuple:
    """next_u32() < threshold (a 33-bit uint64 threshold): (bool, stream)."""
    v, st = next_u32(st)
    return np.uint64(v) < np.uint64(threshold), st


@jit(inline=True)
def next_below(st: Stream, n: Any) -> tuple:
    """Uniform integer in [0, n), n >= 1, by Lemire's method: (uint32, stream)."""
    nn = np.uint64(n)
    v, st = next_u32(st)
    m = np.uint64(v) * nn
    low = m & _MASK32
    if low < nn:
        t = (_TWO32 - nn) % nn
        while low < t:
            v, st = next_u32(st)
            m = np.uint64(v) * nn
            low = m & _MASK32
    return np.uint32(m >> _S32), st


@jit(inline=True)
def next_normal(st: Stream, spare: float, has_spare: bool) -> tuple:
    """Standard normal by Box-Muller: (value, stream, spare, has_spare)."""
    if has_spare:
        return spare, st, 0.0, False
    u, st = next_uniform_pos(st)
    r = math.sqrt(-2.0 * math.log(u))
    v, st = next_uniform(st)
    theta = _TWO_PI * v
    return r * math.cos(theta), st, r * math.sin(theta), True


@jit()
def probability_threshold(p: float) -> Any:
    """Probability p as a 33-bit threshold for bernoulli (as rng::probability_threshold)."""
    if not p > 0.0:
        return np.uint64(0)
    if p >= 1.0:
        return _TWO32
    return np.uint64(p * _TWO_POW_32)


# --- whole-stream fills behind the Python functions ------------------------------------------


@jit()
def _philox(ctr: Any, key: Any, out: Any) -> None:
    r = philox_block(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1])
    for i in range(4):
        out[i] = r[i]


@jit()
def _fill_u32(seed: Any, g: Any, i: Any, p: Any, out: Any) -> None:
    st = stream(seed, g, i, p)
    for k in range(out.shape[0]):
        out[k], st = next_u32(st)


@jit()
def _fill_uniform(seed: Any, g: Any, i: Any, p: Any, out: Any) -> None:
    st = stream(seed, g, i, p)
    for k in range(out.shape[0]):
        out[k], st = next_uniform(st)


@jit()
def _fill_uniform_rows(seed: Any, g: Any, p: Any, out: Any) -> None:
    for i in range(out.shape[0]):
        _fill_uniform(seed, g, np.uint32(i), p, out[i])


@jit()
def _fill_normal(seed: Any, g: Any, i: Any, p: Any, out: Any) -> None:
    st = stream(seed, g, i, p)
    spare = 0.0
    has_spare = False
    for k in range(out.shape[0]):
        out[k], st, spare, has_spare = next_normal(st, spare, has_spare)


@jit()
def _fill_below(seed: Any, g: Any, i: Any, p: Any, bound: Any, out: Any) -> None:
    st = stream(seed, g, i, p)
    for k in range(out.shape[0]):
        out[k], st = next_below(st, bound)


# --- Python-facing functions, same names and arguments as chimera._core.rng -----------------


_RANGES = {
    (bits, signed): (
        (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    )
    for bits in (32, 64)
    for signed in (False, True)
}


def _integer(value: Any, name: str, bits: int, signed: bool = False) -> int:
    """value as a Python int that fits the C++ parameter type, else TypeError naming it."""
    try:
        v = operator.index(value)  # ints and NumPy integers, not floats
    except TypeError:
        raise ArgumentTypeError(f"{name} must be an integer, got {type(value).__name__}") from None
    lo, hi = _RANGES[bits, signed]
    if not lo <= v <= hi:
        raise ArgumentTypeError(f"{name} must be an integer in [{lo}, {hi}], got {v}")
    return v


def _stream_args(seed: Any, generation: Any, individual: Any, purpose: Any) -> tuple:
    return (
        np.uint64(_integer(seed, "seed", 64)),
        np.uint32(_integer(generation, "generation", 32)),
        np.uint32(_integer(individual, "individual", 32)),
        np.uint32(_integer(purpose, "purpose", 32)),
    )


def _count(n: Any) -> int:
    n = _integer(n, "n", 64, signed=True)
    if n < 0:
        raise ValidationError("n must be non-negative")
    return n


def philox4x32_10(ctr: Any, key: Any) -> np.ndarray:
    """One Philox4x32-10 block: 4 uint32 words from a 4-word counter and a 2-word key."""
    c = np.ascontiguousarray(ctr, dtype=np.uint32)
    k = np.ascontiguousarray(key, dtype=np.uint32)
    if c.ndim != 1 or c.shape[0] != 4:
        raise ValidationError("ctr must have 4 words")
    if k.ndim != 1 or k.shape[0] != 2:
        raise ValidationError("key must have 2 words")
    out = np.empty(4, dtype=np.uint32)
    _philox(c, k, out)
    return out


def _draws(fill: Any, dtype: Any, stream_args: tuple, n: Any, *extra: Any) -> np.ndarray:
    """n successive draws of one stream, written by the jitted `fill`."""
    args = _stream_args(*stream_args)
    out = np.empty(_count(n), dtype=dtype)
    fill(*args, *extra, out)
    return out


def u32(seed: Any, generation: Any, individual: Any, purpose: Any, n: Any) -> np.ndarray:
    """The first n words of Stream(seed, generation, individual, purpose)."""
    return _draws(_fill_u32, np.uint32, (seed, generation, individual, purpose), n)


def uniform(seed: Any, generation: Any, individual: Any, purpose: Any, n: Any) -> np.ndarray:
    """n successive uniform() draws of one stream."""
    return _draws(_fill_uniform, np.float64, (seed, generation, individual, purpose), n)


def uniform_rows(seed: Any, generation: Any, purpose: Any, rows: Any, n: Any) -> np.ndarray:
    """(rows, n): row i the first n uniform() draws of Stream(seed, generation, i, purpose)."""
    s, g, _, p = _stream_args(seed, generation, 0, purpose)
    rows = _count(rows)
    if rows > 2**32:
        raise ValidationError("rows must be at most 2^32")
    out = np.empty((rows, _count(n)), dtype=np.float64)
    _fill_uniform_rows(s, g, p, out)
    return out


def normal(seed: Any, generation: Any, individual: Any, purpose: Any, n: Any) -> np.ndarray:
    """n successive normal() draws of one stream."""
    return _draws(_fill_normal, np.float64, (seed, generation, individual, purpose), n)


def below(
    seed: Any, generation: Any, individual: Any, purpose: Any, bound: Any, n: Any
) -> np.ndarray:
    """n successive below(bound) draws of one stream."""
    b = _integer(bound, "bound", 32)
    if b < 1:
        raise ValidationError("bound must be at least 1")
    return _draws(_fill_below, np.uint32, (seed, generation, individual, purpose), n, np.uint32(b))
