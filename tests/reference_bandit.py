"""Plain-Python definitions of the bandit policies, draw for draw (docs/kernels.md,
"Bandits"), to hold chimera._core.bandit to. Slow and obvious on purpose."""

from __future__ import annotations

import math
from collections import deque

from reference import Stream

BANDIT = 6  # the Philox purpose of bandit decisions


def gamma(st: Stream, a: float) -> float:
    if a < 1.0:
        boost = st.uniform_pos() ** (1.0 / a)
        return gamma(st, a + 1.0) * boost
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = st.normal()
            v = 1.0 + c * x
            if v > 0.0:
                break
        v = v * v * v
        u = st.uniform_pos()
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2 or math.log(u) < 0.5 * x2 + d * (1.0 - v + math.log(v)):
            return d * v


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
            draws = []
            for a in arms:
                x = gamma(st, self.p["alpha"] + self.s[a])
                y = gamma(st, self.p["beta"] + max(self.n[a] - self.s[a], 0.0))
                draws.append((x / (x + y), -a))
            return -max(draws)[1]
        if self.policy == "thompson_gaussian":
            draws = []
            for a in arms:
                prec = self.n[a] + 1.0
                draws.append(
                    (self.s[a] / prec + self.p["sigma"] / math.sqrt(prec) * st.normal(), -a)
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
