"""Plain Python/NumPy reference of docs/kernels.md, written from the definitions.

Slow and obvious on purpose: tests hold every backend's kernels to it, draw for draw.
"""

from __future__ import annotations

import math

import numpy as np

M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF
INIT, SELECT, CROSSOVER, MUTATE, SHUFFLE = range(5)

# Random123's kat_vectors, philox4x32 10 rounds: counter, key, expected output.
KAT = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    (
        [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
        [0xA4093822, 0x299F31D0],
        [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
    ),
]


def philox(ctr: list[int], key: list[int]) -> list[int]:
    c, k = list(ctr), list(key)
    for r in range(10):
        if r:
            k = [(k[0] + W0) & MASK, (k[1] + W1) & MASK]
        p0, p1 = M0 * c[0], M1 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k[0], p1 & MASK, (p0 >> 32) ^ c[3] ^ k[1], p0 & MASK]
    return c


def threshold(p: float) -> int:
    return 0 if not p > 0 else (1 << 32 if p >= 1 else int(p * 4294967296.0))


class Stream:
    def __init__(self, seed: int, generation: int, individual: int, purpose: int,
                 block: int = 0) -> None:  # fmt: skip
        self.key = [seed & MASK, seed >> 32]
        self.ctr = [block, individual, generation, purpose]
        self.buf: list[int] = []
        self.spare: float | None = None

    def u32(self) -> int:
        if not self.buf:
            self.buf = philox(self.ctr, self.key)
            self.ctr[0] += 1
        return self.buf.pop(0)

    def u53(self) -> int:
        hi = self.u32()
        return ((hi << 32) | self.u32()) >> 11

    def uniform(self) -> float:
        return self.u53() * 2.0**-53

    def uniform_pos(self) -> float:
        return (self.u53() + 1) * 2.0**-53

    def bernoulli(self, t: int) -> bool:
        return self.u32() < t

    def below(self, n: int) -> int:
        m = self.u32() * n
        if (m & MASK) < n:
            t = ((1 << 32) - n) % n
            while (m & MASK) < t:
                m = self.u32() * n
        return m >> 32

    def normal(self) -> float:
        if self.spare is not None:
            z, self.spare = self.spare, None
            return z
        r = math.sqrt(-2.0 * math.log(self.uniform_pos()))
        th = 2.0 * math.pi * self.uniform()
        self.spare = r * math.sin(th)
        return r * math.cos(th)


def init_uniform(
    n: int, low: np.ndarray, high: np.ndarray, seed: int, dtype: np.dtype
) -> np.ndarray:
    out = np.empty((n, low.size), dtype=dtype)
    for i in range(n):
        st = Stream(seed, 0, i, INIT)
        for j in range(low.size):
            if dtype.kind == "b":
                out[i, j] = st.u32() & 1
            elif dtype.kind == "i":
                out[i, j] = int(low[j]) + st.below(int(high[j]) - int(low[j]) + 1)
            else:
                out[i, j] = low[j] + st.uniform() * (high[j] - low[j])
    return out


def select(f: np.ndarray, slots: int, seed: int, gen: int, kind: int, size: int) -> np.ndarray:
    n = f.size
    if kind == 2:  # stochastic universal sampling
        finite = np.isfinite(f)
        w = np.where(finite, (f[finite].max() if finite.any() else 0.0) - f, 0.0)
        total = 0.0  # summed in row order, as the definition says
        for v in w:
            total += v
        if not (total > 0.0) or not math.isfinite(total):
            w, total = np.ones(n), float(n)
        st = Stream(seed, gen, 0, SHUFFLE)
        step = total / slots
        start = st.uniform() * step
        out, cum, i = [], 0.0, 0
        for s in range(slots):
            target = start + s * step
            while i + 1 < n and cum + w[i] <= target:
                cum += w[i]
                i += 1
            out.append(i)
        for s in range(slots, 1, -1):
            r = st.below(s)
            out[s - 1], out[r] = out[r], out[s - 1]
        return np.array(out)
    order = np.argsort(f, kind="stable")
    out = []
    for s in range(slots):
        st = Stream(seed, gen, s, SELECT)
        if kind == 1:
            out.append(order[st.below(size)])
        else:
            best = st.below(n)
            for _ in range(size - 1):
                c = st.below(n)
                if f[c] < f[best]:
                    best = c
            out.append(best)
    return np.array(out)


def sbx_betaq(rand: float, beta: float, eta: float) -> float:
    alpha = 2.0 - beta ** -(eta + 1.0)
    if rand <= 1.0 / alpha:
        return (rand * alpha) ** (1.0 / (eta + 1.0))
    return (1.0 / (2.0 - rand * alpha)) ** (1.0 / (eta + 1.0))


def crossover(p1, p2, low, high, st: Stream, code: int, t: int, param: float, bounds: int):
    c1, c2 = p1.astype(np.float64), p2.astype(np.float64)
    d = p1.size
    if code == 0 or d == 1 or not st.bernoulli(t):
        return c1, c2
    if code in (1, 2):
        a, b = 1 + st.below(d - 1), d
        if code == 2:
            b = 1 + st.below(d - 1)
            if b >= a:
                b += 1
            else:
                a, b = b, a
        swap = (np.arange(d) >= a) & (np.arange(d) < b)
    elif code == 3:
        bits = [st.u32() for _ in range((d + 31) // 32)]
        swap = np.array([(bits[j // 32] >> (j % 32)) & 1 for j in range(d)], dtype=bool)
    elif code == 4:
        for j in range(d):
            x, y = c1[j], c2[j]
            lo, span = min(x, y), abs(x - y)
            start, width = lo - param * span, span * (1 + 2 * param)
            u1 = st.uniform()
            u2 = st.uniform()
            # blend may leave the bounds: its genes are repaired at once
            c1[j] = repair(start + u1 * width, low[j], high[j], bounds)
            c2[j] = repair(start + u2 * width, low[j], high[j], bounds)
        return c1, c2
    else:
        for j in range(d):
            x, y = c1[j], c2[j]
            w = st.u32()
            if (w & 1) and abs(x - y) > 1e-14:
                y1, y2 = min(x, y), max(x, y)
                diff, rand = y2 - y1, st.uniform()
                a = 0.5 * (
                    (y1 + y2) - sbx_betaq(rand, 1.0 + 2.0 * (y1 - low[j]) / diff, param) * diff
                )
                b = 0.5 * (
                    (y1 + y2) + sbx_betaq(rand, 1.0 + 2.0 * (high[j] - y2) / diff, param) * diff
                )
                a, b = min(max(a, low[j]), high[j]), min(max(b, low[j]), high[j])
                c1[j], c2[j] = (b, a) if (w >> 1) & 1 else (a, b)
        return c1, c2
    return np.where(swap, c2, c1), np.where(swap, c1, c2)


def mutate_gene(
    x: float, lo: float, hi: float, st: Stream, code: int, param: float, bounds: int
) -> float:
    if code == 1:
        return repair(x + param * (hi - lo) * st.normal(), lo, hi, bounds)
    if code == 2:
        rng = hi - lo
        if not rng > 0:
            return x
        x = min(max(x, lo), hi)
        rnd, power = st.uniform(), 1.0 / (param + 1.0)
        if rnd < 0.5:
            val = 2 * rnd + (1 - 2 * rnd) * (1 - (x - lo) / rng) ** (param + 1)
            dq = val**power - 1
        else:
            val = 2 * (1 - rnd) + 2 * (rnd - 0.5) * (1 - (hi - x) / rng) ** (param + 1)
            dq = 1 - val**power
        return min(max(x + dq * rng, lo), hi)
    if code == 3:
        return 0.0 if x else 1.0
    return float(int(lo) + st.below(int(hi) - int(lo) + 1))


def mutate(
    c, low, high, st: Stream, code: int, t: int, param: float, cdf: np.ndarray, bounds, cast
):
    """Mutates c in place; cast rounds each written gene as the genome dtype does."""
    d = c.size
    if code == 0:
        return
    if cdf.size == 0:
        for j in range(d):
            if st.bernoulli(t):
                c[j] = cast(mutate_gene(c[j], low[j], high[j], st, code, param, bounds))
        return
    u = st.u32()
    k = min(_count(u, cdf), d)
    chosen: list[int] = []
    for i in range(k):
        top = d - k + i
        pos = st.below(top + 1)
        if pos in chosen:
            pos = top
        chosen.append(pos)
        c[pos] = cast(mutate_gene(c[pos], low[pos], high[pos], st, code, param, bounds))


def _count(u: int, cdf: np.ndarray) -> int:
    k = 0
    while k < cdf.size and u >= int(cdf[k]):
        k += 1
    return k


def repair(x: float, lo: float, hi: float, mode: int) -> float:
    if lo <= x <= hi:
        return x
    if mode == 0 or not hi > lo:
        return lo if x < lo else hi
    w = hi - lo
    y = math.fmod(x - lo, 2 * w)
    if y < 0:
        y += 2 * w
    if y > w:
        y = 2 * w - y
    return lo + y


def breed(
    X, f, low, high, m, seed, gen, sel, sel_size, cx, cx_t, cx_p, mut, mut_t, mut_p, cdf, bounds
):
    d, dtype = X.shape[1], X.dtype
    cast = (lambda v: float(np.float32(v))) if dtype == np.float32 else (lambda v: v)
    pairs = (m + 1) // 2
    slot = select(np.asarray(f, dtype=np.float64), 2 * pairs, seed, gen, sel, sel_size)
    out = np.empty((m, d), dtype=dtype)
    parents = np.empty((m, 2), dtype=np.int32)
    for p in range(pairs):
        a, b = int(slot[2 * p]), int(slot[2 * p + 1])
        st = Stream(seed, gen, p, CROSSOVER)
        c1, c2 = crossover(X[a], X[b], low, high, st, cx, cx_t, cx_p, bounds)
        for idx, child, pa in ((2 * p, c1, (a, b)), (2 * p + 1, c2, (b, a))):
            if idx >= m:
                continue
            child = np.array([cast(v) for v in child])
            st = Stream(seed, gen, idx, MUTATE)
            mutate(child, low, high, st, mut, mut_t, mut_p, cdf, bounds, cast)
            out[idx] = child
            parents[idx] = pa
    return out, parents
