"""Bandits: the native kernel against plain-Python definitions draw for draw, regret on
seeded environments, batching, non-stationary variants, arms at run time, state, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from chimera import ValidationError
from chimera.refinement.bandits import (
    EXP3,
    UCB1,
    EpsilonGreedy,
    LinearThompson,
    LinUCB,
    Softmax,
    ThompsonSampling,
)
from reference_bandit import Bandit as Reference
from reference_bandit import normal

POLICIES = {
    "epsilon_greedy": (lambda **o: EpsilonGreedy(5, epsilon=0.2, decay=0.01, **o),
                       {"epsilon": 0.2, "decay": 0.01}),
    "ucb1": (lambda **o: UCB1(5, c=1.5, **o), {"c": 1.5}),
    "thompson_bernoulli": (lambda **o: ThompsonSampling(5, alpha=1.0, beta=2.0, **o),
                           {"alpha": 1.0, "beta": 2.0}),
    "thompson_gaussian": (lambda **o: ThompsonSampling(5, likelihood="gaussian", sigma=0.5, **o),
                          {"sigma": 0.5}),
    "softmax": (lambda **o: Softmax(5, temperature=0.2, **o), {"temperature": 0.2}),
    "exp3": (lambda **o: EXP3(5, gamma=0.2, **o), {"gamma": 0.2}),
}  # fmt: skip
MEANS = np.array([0.2, 0.5, 0.35, 0.7, 0.1])


def reward(arm: int, rng: np.random.Generator) -> float:
    return float(rng.random() < MEANS[arm])


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("variant", [{}, {"discount": 0.97}, {"window": 25}])
def test_decisions_match_the_definition(policy: str, variant: dict) -> None:
    if policy == "exp3" and variant:
        pytest.skip("EXP3 has no discount or window")
    make, params = POLICIES[policy]
    fast = make(seed=11, **variant)
    ref = Reference(policy, 5, 11, **variant, **params)
    rng = np.random.default_rng(0)
    for step in range(400):
        a = fast.select()
        assert a == ref.select(), f"decision {step}"
        r = reward(a, rng)
        fast.update(a, r)
        ref.update(a, r)


@pytest.mark.parametrize("policy", ["ucb1", "thompson_bernoulli", "epsilon_greedy"])
def test_the_best_arm_takes_most_pulls(policy: str) -> None:
    make, _ = POLICIES[policy]
    pulls = np.zeros(5, dtype=int)
    for seed in range(5):
        b, rng = make(seed=seed), np.random.default_rng(seed)
        for _ in range(2000):
            a = b.select()
            b.update(a, reward(a, rng))
            pulls[a] += 1
    assert pulls.argmax() == 3 and pulls[3] > 0.6 * pulls.sum()


def test_a_batch_is_the_next_decisions_on_frozen_statistics() -> None:
    a, b = ThompsonSampling(4, seed=3), ThompsonSampling(4, seed=3)
    for arm, r in [(0, 1.0), (1, 0.0), (2, 1.0), (2, 1.0)]:
        a.update(arm, r)
        b.update(arm, r)
    batch = a.select(50)
    assert batch.dtype == np.int32 and batch.shape == (50,)
    assert batch.tolist() == [b.select() for _ in range(50)]
    assert a.select() == b.select()  # both at decision 50 now
    assert a.select(0).shape == (0,)


def test_array_updates_equal_scalar_updates() -> None:
    a, b = UCB1(3, seed=1), UCB1(3, seed=1)
    arms, rewards = np.array([0, 1, 2, 1, 1]), np.array([0.5, 1.0, 0.0, 0.25, 1.0])
    a.update(arms, rewards)
    for arm, r in zip(arms, rewards, strict=True):
        b.update(int(arm), float(r))
    assert _same_state(a, b)


def _same_state(a, b) -> bool:
    sa, sb = a.state_dict()["state"], b.state_dict()["state"]
    return all(np.array_equal(sa[k], sb[k]) for k in sa)


def test_window_keeps_only_the_last_rewards() -> None:
    b = UCB1(2, window=3, seed=0)
    b.update([0, 0, 0, 1, 1], [1.0, 1.0, 1.0, 0.0, 0.0])
    state = b.state_dict()["state"]
    np.testing.assert_array_equal(state["pulls"], [1.0, 2.0])
    np.testing.assert_array_equal(state["sums"], [1.0, 0.0])
    np.testing.assert_array_equal(state["window_arms"], [0, 1, 1])


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_thompson_with_a_removed_arm_follows_the_definition(likelihood: str) -> None:
    fast = ThompsonSampling(5, likelihood=likelihood, seed=4)
    ref = Reference(f"thompson_{likelihood}", 5, 4, alpha=1.0, beta=1.0, sigma=1.0)
    fast.remove_arm(2)
    ref.active[2] = False
    rng = np.random.default_rng(1)
    for step in range(300):
        a = fast.select()
        assert a == ref.select() and a != 2, f"decision {step}"
        r = reward(a, rng)
        fast.update(a, r)
        ref.update(a, r)


def test_arms_come_and_go() -> None:
    b = EpsilonGreedy(3, epsilon=1.0, seed=2)  # always explores: every active arm is drawn
    b.remove_arm(1)
    assert set(b.select(300).tolist()) == {0, 2}
    new = b.add_arm()
    assert new == 3 and b.n_arms == 4 and b.active.tolist() == [True, False, True, True]
    assert set(b.select(300).tolist()) == {0, 2, 3}
    with pytest.raises(ValueError, match="arm 1 is not an active arm"):
        b.update(1, 1.0)
    e = EXP3(2, seed=1)
    e.update(0, 1.0)
    e.add_arm()
    assert 2 in set(e.select(500).tolist())


@pytest.mark.parametrize("policy", POLICIES)
def test_state_dict_resumes_exactly(policy: str) -> None:
    make, _ = POLICIES[policy]
    a, rng = make(seed=5), np.random.default_rng(1)
    for _ in range(100):
        arm = a.select()
        a.update(arm, reward(arm, rng))
    b = make(seed=5)
    b.load_state_dict(a.state_dict())
    assert a.select(20).tolist() == b.select(20).tolist()
    other = UCB1(5, c=1.0, seed=5) if policy != "ucb1" else UCB1(5, c=3.0, seed=5)
    with pytest.raises(ValidationError, match="belongs to another bandit"):
        other.load_state_dict(a.state_dict())
    with pytest.raises(ValidationError, match="not a chimera bandit state"):
        b.load_state_dict({"pulls": [1.0]})


def test_seeds_repeat_and_differ() -> None:
    runs = [ThompsonSampling(6, seed=s).select(40).tolist() for s in (7, 7, 8)]
    assert runs[0] == runs[1] != runs[2]


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: UCB1(3).update(3, 1.0), ValueError, "arm 3 is not an active arm"),
        (lambda: UCB1(3).update(-1, 1.0), ValueError, "arm -1 is not an active arm"),
        (lambda: UCB1(3).update(0, float("nan")), ValueError, "reward must be finite"),
        (lambda: ThompsonSampling(3).update(0, 2.0), ValueError, r"rewards in \[0, 1\]"),
        (lambda: EXP3(3).update(0, -0.5), ValueError, r"rewards in \[0, 1\]"),
        (lambda: UCB1(3).update([0, 1], [1.0]), ValueError, "one value per arm"),
        (lambda: UCB1(3).update([0, 1], [1.0, np.inf]), ValueError, "finite"),
        (lambda: UCB1(3).update(True, 1.0), ValueError, "not booleans"),
        (lambda: UCB1(3).update(np.array([True]), [1.0]), ValueError, "not booleans"),
        (lambda: UCB1(3).select(context=[1.0]), ValueError, "takes no context"),
        (lambda: UCB1(3).select(-2), ValueError, "non-negative"),
        (lambda: UCB1(3).select(2.5), TypeError, "non-negative integer"),
        (lambda: UCB1(0), ValidationError, "n_arms must be a positive integer"),
        (lambda: UCB1(3, c=0), ValidationError, "c must be a positive number"),
        (lambda: EpsilonGreedy(3, epsilon=1.5), ValidationError, "epsilon must be"),
        (lambda: UCB1(3, discount=0.9, window=5), ValidationError, "not both"),
        (lambda: EXP3(3, discount=0.9), ValidationError, "no discount or window"),
        (lambda: ThompsonSampling(3, likelihood="poisson"), ValidationError, "likelihood"),
        (lambda: UCB1(3, window=0), ValidationError, "window must be a positive integer"),
    ],
)
def test_bad_input(call, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_a_refused_batch_update_changes_nothing() -> None:
    b = UCB1(3, seed=0)
    before = b.state_dict()
    with pytest.raises(ValueError):
        b.update([0, 1, 7], [1.0, 1.0, 1.0])
    assert _same_state(b, type(b)(3, seed=0)) and before["state"]["updates"] == 0
    with pytest.raises(ValueError, match="no active arm"):
        one = UCB1(1)
        one.remove_arm(0)
        one.select()


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("variant", [{}, {"discount": 0.9}, {"window": 10}])
def test_numba_twin_matches_cpp(policy: str, variant: dict) -> None:
    if policy == "exp3" and variant:
        pytest.skip("EXP3 has no discount or window")
    make, _ = POLICIES[policy]
    fast, twin = make(seed=4, backend="cpp", **variant), make(seed=4, backend="numba", **variant)
    assert twin.backend == "numba"
    rng = np.random.default_rng(2)
    for _ in range(150):
        a = fast.select()
        assert twin.select() == a
        r = reward(a, rng)
        fast.update(a, r)
        twin.update(a, r)
    assert fast.select(30).tolist() == twin.select(30).tolist()
    fast.add_arm()
    twin.add_arm()
    fast.remove_arm(0)
    twin.remove_arm(0)
    assert fast.select(30).tolist() == twin.select(30).tolist()
    moved = make(seed=4, backend="numba", **variant)
    moved.load_state_dict(fast.state_dict())  # a checkpoint moves between backends
    assert moved.select(10).tolist() == fast.select(10).tolist()


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda b: b.update(9, 1.0), ValueError, "arm 9 is not an active arm"),
        (lambda b: b.update(0, float("inf")), ValueError, "reward must be finite"),
        (lambda b: b.update([0, 1], [1.0]), ValueError, "one value per arm"),
        (lambda b: b.update(True, 1.0), ValueError, "not booleans"),
        (lambda b: b.update(0.7, 1.0), TypeError, "integer arm ids, got float64"),  # not arm 0
        (lambda b: b.update([0.5, 1.0], [1.0, 0.0]), TypeError, "integer arm ids"),
        (lambda b: b.select(context=[1.0]), ValueError, "takes no context"),
        (lambda b: b.select(2.5), TypeError, "non-negative integer"),
    ],
)
def test_numba_twin_refuses_like_cpp(call, error: type, match: str) -> None:
    for backend in ("cpp", "numba"):
        with pytest.raises(error, match=match):
            call(ThompsonSampling(3, seed=0, backend=backend))


# --- contextual ----------------------------------------------------------------------------------

LINEAR = {"linucb": LinUCB, "linear_thompson": LinearThompson}
DIM = 4


def linear_reference_scores(A: np.ndarray, b: np.ndarray, x: np.ndarray, policy: str,
                            alpha: float, st) -> np.ndarray:  # fmt: skip
    """Each arm's score from its definition: the ridge estimate solved afresh."""
    scores = []
    for a in range(len(A)):
        theta = np.linalg.solve(A[a], b[a])
        width = float(np.sqrt(x @ np.linalg.solve(A[a], x)))
        z = 1.0 if policy == "linucb" else normal(st)
        scores.append(theta @ x + alpha * width * z)
    return np.array(scores)


@pytest.mark.parametrize("policy", LINEAR)
@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_linear_decisions_follow_the_definition(policy: str, backend: str) -> None:
    from reference import Stream

    rng = np.random.default_rng(3)
    W = rng.normal(size=(3, DIM))
    bandit = LINEAR[policy](
        3, DIM, seed=9, backend=backend, **({"alpha": 0.7} if policy == "linucb" else {"v": 0.7})
    )
    A = np.repeat(np.eye(DIM)[None], 3, axis=0)
    b = np.zeros((3, DIM))
    for k in range(200):
        x = rng.normal(size=DIM)
        arm = bandit.select(context=x)
        scores = linear_reference_scores(A, b, x, policy, 0.7, Stream(9, k, 0, 6))
        assert scores[arm] >= scores.max() - 1e-9
        r = float(W[arm] @ x + 0.1 * rng.normal())
        bandit.update(arm, r, context=x)
        A[arm] += np.outer(x, x)
        b[arm] += r * x


@pytest.mark.parametrize("policy", LINEAR)
def test_linear_backends_agree_and_learn(policy: str) -> None:
    rng = np.random.default_rng(4)
    W = rng.normal(size=(5, DIM))
    cpp, twin = LINEAR[policy](5, DIM, seed=2), LINEAR[policy](5, DIM, seed=2, backend="numba")
    best = 0
    for t in range(1500):
        x = rng.normal(size=DIM)
        a = cpp.select(context=x)
        assert twin.select(context=x) == a
        best += t >= 1000 and a == int(np.argmax(W @ x))
        r = float(W[a] @ x + 0.1 * rng.normal())
        cpp.update(a, r, context=x)
        twin.update(a, r, context=x)
    assert best > 0.8 * 500
    X = rng.normal(size=(40, DIM))
    assert cpp.select(40, context=X).tolist() == twin.select(40, context=X).tolist()
    moved = LINEAR[policy](5, DIM, seed=2, backend="numba")
    moved.load_state_dict(cpp.state_dict())
    assert moved.select(40, context=X).tolist() == cpp.select(40, context=X).tolist()


@pytest.mark.parametrize("policy", LINEAR)
def test_linear_window_keeps_the_last_updates(policy: str) -> None:
    """Sliding window: after every update each arm's model is the ridge fit on its updates
    among the last w alone (downdates, rebuilds and an arm added midway included), cpp and
    numba decide alike, and a restored state continues exactly."""
    w, arms = 37, 3
    rng = np.random.default_rng(6)
    cpp = LINEAR[policy](arms, DIM, l2=0.5, window=w, seed=4)
    twin = LINEAR[policy](arms, DIM, l2=0.5, window=w, seed=4, backend="numba")
    seen: list[tuple[int, float, np.ndarray]] = []
    for t in range(300):
        if t == 120:
            assert cpp.add_arm() == twin.add_arm() == arms
            arms += 1
        x = rng.normal(size=DIM)
        a = cpp.select(context=x)
        assert twin.select(context=x) == a
        r = float(rng.normal() + (t > 150) * a)  # the rewards shift midway
        cpp.update(a, r, context=x)
        twin.update(a, r, context=x)
        seen.append((a, r, x))
        state = cpp.state_dict()["state"]
        a_inv = state["a_inv"].reshape(arms, DIM, DIM)
        b = state["b"].reshape(arms, DIM)
        for arm in range(arms):
            A = 0.5 * np.eye(DIM) + sum(
                (np.outer(x_, x_) for a_, _, x_ in seen[-w:] if a_ == arm), np.zeros((DIM, DIM))
            )
            want_b = sum((r_ * x_ for a_, r_, x_ in seen[-w:] if a_ == arm), np.zeros(DIM))
            np.testing.assert_allclose(a_inv[arm], np.linalg.inv(A), rtol=1e-8, atol=1e-10)
            np.testing.assert_allclose(b[arm], want_b, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(twin.state_dict()["state"]["a_inv"], state["a_inv"])
    assert state["window_arms"].size == w
    X = rng.normal(size=(30, DIM))
    moved = LINEAR[policy](3, DIM, l2=0.5, window=w, seed=4, backend="numba")
    moved.add_arm()
    moved.load_state_dict(cpp.state_dict())
    assert moved.select(30, context=X).tolist() == cpp.select(30, context=X).tolist()
    for _ in range(60):  # and on through the next rebuild
        x = rng.normal(size=DIM)
        a = cpp.select(context=x)
        assert moved.select(context=x) == a
        cpp.update(a, 1.0, context=x)
        moved.update(a, 1.0, context=x)


def test_linear_window_follows_a_shift() -> None:
    """After the arms' weights are permuted, a windowed LinUCB finds the new best arms again;
    one that remembers everything keeps trusting the old ones for longer."""
    rng = np.random.default_rng(8)
    W = rng.normal(size=(4, DIM))
    X = rng.normal(size=(1600, DIM))
    noise = 0.1 * rng.normal(size=1600)
    hits = {}
    for window in (None, 150):
        bandit = LinUCB(4, DIM, alpha=0.5, window=window, seed=1)
        hits[window] = 0
        for t, x in enumerate(X):
            weights = W if t < 800 else W[::-1]
            a = bandit.select(context=x)
            hits[window] += t >= 1000 and a == int(np.argmax(weights @ x))
            bandit.update(a, float(weights[a] @ x + noise[t]), context=x)
    assert hits[150] > 0.8 * 600 and hits[150] > hits[None] + 50, hits


def test_linear_window_refusals() -> None:
    with pytest.raises(ValidationError, match="forgets by window=, not discount="):
        LinUCB(3, DIM, discount=0.9)
    with pytest.raises(ValidationError, match="window must be a positive integer"):
        LinearThompson(3, DIM, window=0)
    with pytest.raises(ValidationError, match="belongs to another bandit"):
        LinUCB(3, DIM, window=5).load_state_dict(LinUCB(3, DIM).state_dict())
    for backend in ("cpp", "numba"):
        b = LinUCB(3, DIM, window=5, backend=backend)
        state = b.state_dict()
        state["state"] = dict(state["state"], window_arms=np.array([7], dtype=np.int32),
                              window_rewards=np.ones(1), window_contexts=np.ones(DIM))  # fmt: skip
        with pytest.raises(ValueError, match="names an arm out of range"):
            b.load_state_dict(state)


@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_linear_bad_input(backend: str) -> None:
    b = LinUCB(3, DIM, seed=0, backend=backend)
    x = np.ones(DIM)
    for call, match in [
        (lambda: b.select(), "needs a context"),
        (lambda: b.select(context=np.ones(DIM + 1)), f"{DIM} features per row"),
        (lambda: b.select(context=np.full(DIM, np.nan)), "non-finite"),
        (lambda: b.select(3, context=np.ones((2, DIM))), "number of context rows"),
        (lambda: b.update([0, 1], [1.0, 1.0], context=x), "must match"),
        (lambda: b.update(5, 1.0, context=x), "arm 5 is not an active arm"),
        (lambda: b.update(0, float("nan"), context=x), "reward must be finite"),
    ]:
        with pytest.raises(ValueError, match=match):
            call()
    with pytest.raises(ValidationError, match="dim must be a positive integer"):
        LinUCB(3, 0)
    with pytest.raises(ValidationError, match="belongs to another bandit"):
        LinUCB(3, DIM + 1).load_state_dict(b.state_dict())


@pytest.mark.parametrize("policy", ["ucb1", "thompson_bernoulli"])
def test_regret_stays_under_the_ucb1_bound(policy: str) -> None:
    """Auer et al. (2002), Theorem 1: UCB1's expected regret after T pulls is at most
    sum over worse arms of 8 ln T / gap, plus (1 + pi^2 / 3) times the sum of the gaps.
    Mean pseudo-regret over 10 seeds must stay under it (Thompson sampling's too)."""
    make, _ = POLICIES[policy]
    T = 3000
    gaps = MEANS.max() - MEANS
    bound = float((8 * np.log(T) / gaps[gaps > 0]).sum() + (1 + np.pi**2 / 3) * gaps.sum())
    regrets = []
    for seed in range(10):
        b, rng = (
            (UCB1(5, seed=seed) if policy == "ucb1" else make(seed=seed)),
            np.random.default_rng(seed),
        )
        total = 0.0
        for _ in range(T):
            a = b.select()
            b.update(a, reward(a, rng))
            total += gaps[a]
        regrets.append(total)
    assert np.mean(regrets) < bound
