"""Plain-Python definitions of the bandit policies, draw for draw (docs/kernels.md,
"Bandits"), to hold chimera._core.bandit to. Slow and obvious on purpose."""

from __future__ import annotations

import math
from collections import deque

from reference import Stream

BANDIT = 6  # the Philox purpose of bandit decisions


ZIG_R, ZIG_V = 3.442619855899, 9.91256303526217e-3


def _ziggurat() -> tuple[list[float], list[float]]:
    x = [ZIG_V / math.exp(-0.5 * ZIG_R * ZIG_R), ZIG_R]
    while len(x) < 128:
        x.append(math.sqrt(-2.0 * math.log(ZIG_V / x[-1] + math.exp(-0.5 * x[-1] * x[-1]))))
    x.append(0.0)
    return x, [math.exp(-0.5 * v * v) for v in x]


ZX, ZF = _ziggurat()


def uniform32(w: int) -> float:
    return (w + 0.5) / 2**32


def candidate(w: int) -> tuple[float, int]:
    i = w & 127
    signed = w & 0xFFFFFF80
    if signed >= 2**31:
        signed -= 2**32
    return (signed + 64.0) / 2**31 * ZX[i], i


def normal_from(st: Stream, w: int) -> float:
    while True:
        x, i = candidate(w)
        if abs(x) < ZX[i + 1]:
            return x
        if i == 0:
            while True:
                a = -math.log(uniform32(st.u32())) / ZIG_R
                b = -math.log(uniform32(st.u32()))
                if b + b > a * a:
                    return -(ZIG_R + a) if x < 0 else ZIG_R + a
        if ZF[i] + uniform32(st.u32()) * (ZF[i + 1] - ZF[i]) < math.exp(-0.5 * x * x):
            return x
        w = st.u32()


def normal(st: Stream) -> float:
    return normal_from(st, st.u32())


def shape_constants(a: float) -> tuple[float, float, float]:
    """(d, c, 1/a or 0): Marsaglia-Tsang's constants, a boosted to a + 1 below 1."""
    inv_a = 0.0
    if a < 1.0:
        inv_a, a = 1.0 / a, a + 1.0
    d = a - 1.0 / 3.0
    return d, 1.0 / math.sqrt(9.0 * d), inv_a


def fast_gamma(a: float, wn: int, wu: int) -> float | None:
    """The value when ziggurat and squeeze both accept the first words, else None."""
    d, c, inv_a = shape_constants(a)
    x, i = candidate(wn)
    u, v = uniform32(wu), 1.0 + c * x
    if abs(x) < ZX[i + 1] and v > 0 and u < 1.0 - 0.0331 * x**2 * x**2 and inv_a == 0:
        return d * (v * v * v)
    return None


def gamma_from(st: Stream, a: float, wn: int, wu: int) -> float:
    d, c, inv_a = shape_constants(a)
    boost = uniform32(st.u32()) ** inv_a if inv_a > 0 else 1.0
    x, u = normal_from(st, wn), uniform32(wu)
    while True:
        v = 1.0 + c * x
        while v <= 0.0:
            x = normal(st)
            v = 1.0 + c * x
        v = v * v * v
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2 or math.log(u) < 0.5 * x2 + d * (1.0 - v + math.log(v)):
            return d * v * boost
        x, u = normal(st), uniform32(st.u32())


def betas(st: Stream, shapes: list[tuple[float, float]], active: list[bool]) -> list[float]:
    """One Beta per pair: 4 words per pair first, then the slow Gammas in order, then the
    pairs that underflowed (docs/kernels.md, "Variates")."""
    words = [st.u32() for _ in range(4 * len(shapes))]
    gammas: list[float | None] = []
    for g in range(2 * len(shapes)):
        a = shapes[g // 2][g % 2]
        gammas.append(fast_gamma(a, words[2 * g], words[2 * g + 1]))
    for g, value in enumerate(gammas):
        if value is None and active[g // 2]:
            gammas[g] = gamma_from(st, shapes[g // 2][g % 2], words[2 * g], words[2 * g + 1])
    out = [math.nan] * len(shapes)
    for j, (a, b) in enumerate(shapes):
        if active[j]:
            x, y = gammas[2 * j], gammas[2 * j + 1]
            assert x is not None and y is not None
            if x + y > 0:
                out[j] = x / (x + y)
            else:
                out[j] = 1.0 if uniform32(st.u32()) * (a + b) < a else 0.0
    return out


class Bandit:
    """The statistics and the decision rule of every policy, one decision at a time."""

    def __init__(self, policy: str, arms: int, seed: int, discount: float = 1.0, window: int = 0,
                 **p: float) -> None:  # fmt: skip
        self.policy, self.seed, self.p = policy, seed, p
        self.discount, self.window = discount, window
        self.n = [0.0] * arms
        self.s = [0.0] * arms
        self.logw = [0.0] * arms
        self.active = [True] * arms
        self.history: deque[tuple[int, float]] = deque()
        self.decisions = self.updates = 0

    def mean(self, a: int) -> float:
        return self.s[a] / self.n[a] if self.n[a] > 0 else 0.0

    def arms(self) -> list[int]:
        return [a for a, on in enumerate(self.active) if on]

    def exp3_p(self, a: int) -> float:
        arms = self.arms()
        top = max(self.logw[i] for i in arms)
        total = sum(math.exp(self.logw[i] - top) for i in arms)
        g = self.p["gamma"]
        return (1 - g) * math.exp(self.logw[a] - top) / total + g / len(arms)

    def select(self) -> int:
        k = self.decisions
        self.decisions += 1
        st = Stream(self.seed, k & 0xFFFFFFFF, k >> 32, BANDIT)
        arms = self.arms()
        if self.policy == "epsilon_greedy":
            eps = self.p["epsilon"] / (1 + self.p["decay"] * self.updates)
            if st.uniform() < eps:
                return arms[st.below(len(arms))]
            return max(arms, key=lambda a: (self.mean(a), -a))
        if self.policy == "ucb1":
            fresh = [a for a in arms if self.n[a] <= 0]
            if fresh:
                return fresh[0]
            log_total = math.log(sum(self.n[a] for a in arms))
            return max(
                arms,
                key=lambda a: (self.mean(a) + math.sqrt(self.p["c"] * log_total / self.n[a]), -a),
            )
        if self.policy == "thompson_bernoulli":
            ids = range(len(self.n))  # removed arms keep their words
            shapes = [
                (
                    self.p["alpha"] + max(self.s[a], 0.0),
                    self.p["beta"] + max(self.n[a] - self.s[a], 0.0),
                )
                for a in ids
            ]
            scores = betas(st, shapes, [a in arms for a in ids])
            return -max((scores[a], -a) for a in arms)[1]
        if self.policy == "thompson_gaussian":
            draws = []
            for a in arms:
                prec = self.n[a] + 1.0
                draws.append(
                    (self.s[a] / prec + self.p["sigma"] / math.sqrt(prec) * normal(st), -a)
                )
            return -max(draws)[1]
        if self.policy == "softmax":
            top = max(self.mean(a) for a in arms)
            w = [math.exp((self.mean(a) - top) / self.p["temperature"]) for a in arms]
            u = st.uniform() * sum(w)
            for a, wa in zip(arms, w, strict=True):
                u -= wa
                if u < 0:
                    return a
            return arms[-1]
        if self.policy == "exp3":
            u = st.uniform()
            for a in arms:
                u -= self.exp3_p(a)
                if u < 0:
                    return a
            return arms[-1]
        raise ValueError(self.policy)

    def update(self, arm: int, reward: float) -> None:
        if self.policy == "exp3":
            self.logw[arm] += self.p["gamma"] * (reward / self.exp3_p(arm)) / len(self.arms())
        if self.discount < 1.0:
            self.n = [v * self.discount for v in self.n]
            self.s = [v * self.discount for v in self.s]
        if self.window and len(self.history) == self.window:
            old, r = self.history.popleft()
            self.n[old] -= 1.0
            self.s[old] -= r
        if self.window:
            self.history.append((arm, reward))
        self.n[arm] += 1.0
        self.s[arm] += reward
        self.updates += 1
