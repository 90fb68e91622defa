"""Bandits: chimera's native policies against MABWiser and against plain-Python and NumPy
versions of the same policy written here, on the same seeded environments.

Throughput (10 arms, Bernoulli rewards drawn in advance so that only the policy is timed):

- online select + update pairs per second from a Python loop, UCB1 and Thompson sampling:
  chimera (``b.select()`` / ``b.update(arm, r)``), plain Python (lists and ``math``),
  MABWiser (``predict()`` / ``partial_fit``);
- batched Thompson selection, decisions per second on one core: chimera ``select(n)`` (by
  inversion on quantile rows, built in the call or reused, and the Gamma sampler's batches
  below 16,384), and NumPy (``rng.beta(a, b, (n, K)).argmax(1)``); the two must agree in law.

Regret: Bernoulli arms (means evenly spaced in [0.1, 0.9]) and Gaussian arms (means in
[0, 1], sd 1), horizon ``--horizon``, ``--seeds`` seeds; cumulative pseudo-regret (sum of the
best mean minus the chosen arm's mean) for chimera and MABWiser with the same policy (UCB1
with alpha 1 = c 2, Thompson sampling, epsilon-greedy 0.1, softmax at temperature 0.1) and
chimera's EXP3 (gamma 0.1; Bernoulli only, MABWiser has none): mean and a 95% interval. Both
libraries start from the one reward of 0 per arm that MABWiser's first ``fit`` needs.

Usage::

    python benchmarks/bench_bandits.py [--seeds 20] [--horizon 2000]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import chi2_contingency

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table, write_results
from chimera._core.bandit import TABLE_BATCH
from chimera.refinement import bandits as cb

TEMPERATURE = 0.1  # softmax's, the same for both libraries (MABWiser calls it tau)
REPEATS = 5  # the machines are noisy: throughputs are medians of this many runs
K = 10


# --- plain Python versions, written from the definitions --------------------------------------


class PyUCB1:
    def __init__(self, k: int) -> None:
        self.n, self.s, self.t = [0] * k, [0.0] * k, 0

    def select(self) -> int:
        for a, n in enumerate(self.n):
            if n == 0:
                return a
        log_t = math.log(self.t)
        scores = [s / n + math.sqrt(2 * log_t / n) for s, n in zip(self.s, self.n, strict=True)]
        return scores.index(max(scores))

    def update(self, a: int, r: float) -> None:
        self.n[a] += 1
        self.s[a] += r
        self.t += 1


class PyThompson:
    def __init__(self, k: int, seed: int) -> None:
        import random

        self.rng = random.Random(seed)
        self.wins, self.losses = [1.0] * k, [1.0] * k

    def select(self) -> int:
        draws = [self.rng.betavariate(w, lo) for w, lo in zip(self.wins, self.losses, strict=True)]
        return draws.index(max(draws))

    def update(self, a: int, r: float) -> None:
        self.wins[a] += r
        self.losses[a] += 1.0 - r


def mabwiser(policy: str, seed: int) -> Any:
    from mabwiser.mab import MAB, LearningPolicy

    lp = {
        "ucb1": LearningPolicy.UCB1(alpha=1.0),
        "thompson": LearningPolicy.ThompsonSampling(),
        "epsilon_greedy": LearningPolicy.EpsilonGreedy(epsilon=0.1),
        "softmax": LearningPolicy.Softmax(tau=TEMPERATURE),
    }[policy]
    mab = MAB(list(range(K)), lp, seed=seed)
    mab.fit(decisions=list(range(K)), rewards=[0.0] * K)  # MABWiser needs a first fit
    return mab


def chimera(policy: str, seed: int) -> Any:
    if policy == "ucb1":
        return cb.UCB1(K, seed=seed)
    if policy == "thompson":
        return cb.ThompsonSampling(K, seed=seed)
    if policy == "softmax":
        return cb.Softmax(K, temperature=TEMPERATURE, seed=seed)
    if policy == "exp3":
        return cb.EXP3(K, gamma=0.1, seed=seed)
    return cb.EpsilonGreedy(K, epsilon=0.1, seed=seed)


# --- throughput --------------------------------------------------------------------------------


def online_rate(select: Callable[[], int], update: Callable[[int, float], None],
                rewards: np.ndarray) -> float:  # fmt: skip
    rows = rewards.tolist()
    t0 = time.perf_counter()
    for row in rows:
        a = select()
        update(a, row[a])
    return len(rows) / (time.perf_counter() - t0)


def throughput(n: int) -> list[list[Any]]:
    rng = np.random.default_rng(0)
    means = np.linspace(0.1, 0.9, K)
    rewards = (rng.random((n, K)) < means).astype(np.float64)
    small = rewards[: max(n // 100, 500)]
    rows = []
    for policy in ("ucb1", "thompson"):
        rates = []
        for _ in range(REPEATS):
            b = chimera(policy, 1)
            rates.append(online_rate(b.select, b.update, rewards))
        rows.append([f"{policy}: chimera online (median of {REPEATS})", statistics.median(rates)])
        py: Any = PyUCB1(K) if policy == "ucb1" else PyThompson(K, 1)
        rows.append([f"{policy}: plain Python", online_rate(py.select, py.update, rewards)])
        try:
            mab = mabwiser(policy, 1)
            rate = online_rate(lambda m=mab: m.predict(),
                               lambda a, r, m=mab: m.partial_fit([a], [r]), small)  # fmt: skip
            rows.append([f"{policy}: MABWiser online", rate])
        except ImportError as exc:
            rows.append([f"{policy}: MABWiser online", f"not run: {exc}"])
    rows += linucb_rates(max(n // 10, 2000))
    rows += batched_thompson(n)
    return rows


def batched_thompson(n: int) -> list[list[Any]]:
    """Batched Thompson selection on fixed posteriors, decisions per second, and whether the
    decisions agree in law with NumPy's (the arms' win frequencies, a chi-square test).

    chimera's batches of 16,384 or more go by inversion on quantile rows built per arm (SciPy):
    "cold" builds every arm's row in the timed call (the posterior changed since the last batch),
    "warm" reuses them; "Gamma path" times batches of 16,383, which keep to the Gamma sampler."""
    b = cb.ThompsonSampling(K, seed=2)
    states = []
    for first in (np.linspace(0.1, 0.9, K) > 0.5, np.linspace(0.1, 0.9, K) < 0.5):
        b.update(np.arange(K), first.astype(float))
        states.append(b.state_dict())
    shapes = [(1.0 + s["state"]["sums"], 1.0 + s["state"]["pulls"] - s["state"]["sums"])
              for s in states]  # fmt: skip
    gen = np.random.default_rng(3)
    cold, warm, gamma, numpy = [], [], [], []
    small = TABLE_BATCH - 1
    for r in range(REPEATS):
        b.load_state_dict(states[r % 2])  # the other posterior: every row is stale
        t0 = time.perf_counter()
        ours = b.select(n)
        cold.append(n / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        b.select(n)
        warm.append(n / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in range(max(n // small, 1)):
            b.select(small)
        gamma.append(max(n // small, 1) * small / (time.perf_counter() - t0))
        a, bb = shapes[r % 2]
        t0 = time.perf_counter()
        theirs = gen.beta(a, bb, (n, K)).argmax(axis=1)
        numpy.append(n / (time.perf_counter() - t0))
    # Same law: the last repeat's win counts, chimera against NumPy (two-sample chi-square).
    table = np.array([np.bincount(ours, minlength=K), np.bincount(theirs, minlength=K)])
    p = chi2_contingency(table[:, table.sum(axis=0) > 0]).pvalue
    return [
        [f"thompson: chimera select(n), cold rows (median of {REPEATS})", statistics.median(cold)],
        [f"thompson: chimera select(n), warm rows (median of {REPEATS})", statistics.median(warm)],
        [f"thompson: chimera select({small}), Gamma path (median of {REPEATS})",
         statistics.median(gamma)],
        [f"thompson: NumPy beta + argmax (median of {REPEATS})", statistics.median(numpy)],
        ["thompson: same win frequencies as NumPy, chi-square p", round(float(p), 3)],
    ]  # fmt: skip


def linucb_rates(n: int, d: int = 16) -> list[list[Any]]:
    """Online LinUCB with d = 16 features: select(context=x), update(arm, r, context=x)."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(n, d))
    R = rng.random((n, K))
    rows = []
    b = cb.LinUCB(K, d, seed=1)
    s, u = b.select, b.update
    t0 = time.perf_counter()
    for x, r in zip(X, R, strict=True):
        a = s(context=x)
        u(a, r[a], context=x)
    rows.append([f"linucb d={d}: chimera online", n / (time.perf_counter() - t0)])
    try:
        from mabwiser.mab import MAB, LearningPolicy

        mab = MAB(list(range(K)), LearningPolicy.LinUCB(alpha=1.0), seed=1)
        mab.fit(list(range(K)), [0.0] * K, X[:K])
        m = min(n, 1000)
        t0 = time.perf_counter()
        for x, r in zip(X[:m], R[:m], strict=True):
            a = mab.predict(x[None, :])
            mab.partial_fit([a], [r[a]], x[None, :])
        rows.append([f"linucb d={d}: MABWiser online", m / (time.perf_counter() - t0)])
    except ImportError as exc:
        rows.append([f"linucb d={d}: MABWiser online", f"not run: {exc}"])
    return rows


# --- regret ------------------------------------------------------------------------------------


def regret(make: Callable[[int], Any], env: str, horizon: int, seed: int, mab: bool) -> float:
    rng = np.random.default_rng(1000 + seed)
    means = np.linspace(0.1, 0.9, K) if env == "bernoulli" else np.linspace(0.0, 1.0, K)
    b = make(seed)
    if not mab:  # the same first fit MABWiser needs: one reward of 0 per arm
        b.update(np.arange(K), np.zeros(K))
    total = 0.0
    for _ in range(horizon):
        a = int(b.predict()) if mab else b.select()
        r = float(rng.random() < means[a]) if env == "bernoulli" else float(rng.normal(means[a]))
        if mab:
            b.partial_fit([a], [r])
        else:
            b.update(a, r)
        total += means.max() - means[a]
    return total


def regret_rows(seeds: int, horizon: int) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    rows, records = [], []
    for env in ("bernoulli", "gaussian"):
        for policy in ("ucb1", "thompson", "epsilon_greedy", "softmax", "exp3"):
            for lib in ("chimera", "mabwiser"):
                if lib == "mabwiser" and policy == "exp3":
                    rows.append([env, policy, lib, "n/a: MABWiser has no EXP3", "-"])
                    continue
                if policy == "exp3" and env == "gaussian":
                    rows.append([env, policy, lib, "n/a: EXP3 needs rewards in [0, 1]", "-"])
                    continue
                if lib == "chimera" and policy == "thompson" and env == "gaussian":
                    make: Callable[[int], Any] = lambda s: cb.ThompsonSampling(  # noqa: E731
                        K, likelihood="gaussian", seed=s
                    )
                elif lib == "chimera":
                    make = lambda s, p=policy: chimera(p, s)  # noqa: E731
                else:
                    make = lambda s, p=policy: mabwiser(p, s)  # noqa: E731
                if lib == "mabwiser" and policy == "thompson" and env == "gaussian":
                    rows.append([env, policy, lib, "n/a: binary rewards only", "-"])
                    continue
                try:
                    values = [
                        regret(make, env, horizon, s, lib == "mabwiser") for s in range(seeds)
                    ]
                except ImportError as exc:
                    rows.append([env, policy, lib, f"not run: {exc}", "-"])
                    continue
                m = float(np.mean(values))
                half = 1.96 * float(np.std(values, ddof=1)) / math.sqrt(seeds)
                rows.append([env, policy, lib, m, f"[{m - half:.1f}, {m + half:.1f}]"])
                records.append({"env": env, "policy": policy, "library": lib, "regret": values})
                print(f"  {env:<9} {policy:<15} {lib:<9} regret {m:.1f} +- {half:.1f}", flush=True)
    return rows, records


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=300_000, help="online steps / batched decisions")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--horizon", type=int, default=2000)
    ap.add_argument("--no-save", action="store_true")
    opts = ap.parse_args()
    speed = throughput(opts.n)
    print_table(f"Throughput, {K} arms (per second)", ["what", "rate"], speed)
    rows, records = regret_rows(opts.seeds, opts.horizon)
    print_table(
        f"Cumulative pseudo-regret at horizon {opts.horizon}, {opts.seeds} seeds (mean, 95% CI)",
        ["environment", "policy", "library", "mean regret", "95% CI"],
        rows,
    )  # fmt: skip
    if not opts.no_save:
        payload = {"throughput": speed, "regret": records, "horizon": opts.horizon}
        print(f"wrote {write_results('bandits', payload)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
