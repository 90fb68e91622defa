"""Bernoulli Thompson batches by inversion on quantile tables (cpp/include/chimera/beta_argmax.hpp):
decision frequencies against the exact probabilities of each arm's draw being the largest, the
in-bucket sampler against the conditional Beta law, the twins held to each other, and the
batches that keep to the Gamma sampler."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from chimera._core import bandit as cb
from chimera._numba import bandit as nb
from chimera.refinement.bandits import ThompsonSampling

N = 400_000

SHAPES = {
    # the benchmark's posteriors: five arms at Beta(1, 2), five at Beta(2, 1)
    "benchmark": [(1, 2)] * 5 + [(2, 1)] * 5,
    # close, concentrated arms: most decisions a contest between buckets
    "close": [(300, 200), (305, 200), (300, 205), (299, 199)],
    # flat densities: the tangent's slope is 0
    "uniform": [(1, 1)] * 3,
    # mass against 0 and against 1, where a bucket touches an end
    "edges": [(1, 40), (40, 1), (1, 1), (3, 2)],
    # a very narrow posterior among wide ones
    "spread": [(1e5, 1e5), (2, 2), (60, 40)],
}


def bandit(shapes: list[tuple[float, float]], seed: int = 1, backend: str = "cpp"):
    """A Thompson bandit whose arms have the given Beta posteriors (prior Beta(1, 1))."""
    b = ThompsonSampling(len(shapes), seed=seed, backend=backend)
    a, bb = np.array(shapes, dtype=float).T
    state = b.state_dict()
    state["state"].update(pulls=a + bb - 2.0, sums=a - 1.0)
    b.load_state_dict(state)
    return b


def win_probabilities(shapes: list[tuple[float, float]]) -> np.ndarray:
    """P(arm j's draw is the largest) = integral of f_j(x) prod_{i != j} F_i(x) dx, by
    Gauss-Legendre between every arm's quantiles, where the integrand is smooth."""
    dists = [stats.beta(a, b) for a, b in shapes]
    levels = [1e-14, 1e-9, 1e-5, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-5, 1 - 1e-9, 1 - 1e-14]
    cuts = np.unique(np.concatenate([[0.0, 1.0], *(d.ppf(levels) for d in dists)]))
    t, w = np.polynomial.legendre.leggauss(64)
    x = ((cuts[1:, None] - cuts[:-1, None]) * (t + 1) / 2 + cuts[:-1, None]).ravel()
    dx = ((cuts[1:, None] - cuts[:-1, None]) * w / 2).ravel()
    pdf, cdf = np.array([d.pdf(x) for d in dists]), np.array([d.cdf(x) for d in dists])
    return np.array([
        (pdf[j] * np.prod(np.delete(cdf, j, axis=0), axis=0) * dx).sum() for j in range(len(dists))
    ])  # fmt: skip


@pytest.mark.parametrize("case", SHAPES)
def test_batch_frequencies_follow_the_posteriors(case: str) -> None:
    shapes = SHAPES[case]
    p = win_probabilities(shapes)
    assert abs(p.sum() - 1.0) < 1e-6
    counts = np.bincount(bandit(shapes).select(N), minlength=len(shapes))
    keep = p * N > 5  # chi-square needs expected counts; the rest must be (nearly) empty
    assert counts[~keep].sum() <= 5 + 3 * np.sqrt(5)
    observed = np.append(counts[keep], counts[~keep].sum())
    expected = np.append(p[keep], p[~keep].sum()) * N
    nonzero = expected > 0
    chi2 = (((observed - expected) ** 2)[nonzero] / expected[nonzero]).sum()
    assert stats.chi2.sf(chi2, nonzero.sum() - 1) > 1e-3, (counts / N, p)


BUCKETS = [(2, 3, 100), (2, 3, 0), (2, 3, 255), (1, 40, 0), (1, 40, 255), (40, 1, 255),
           (1, 1, 17), (300, 200, 128), (300, 200, 0), (1e5, 1e5, 254), (3, 999_997, 0),
           (5e5, 5e5, 255)]  # fmt: skip


@pytest.mark.parametrize("a, b, k", BUCKETS)
def test_in_bucket_draws_follow_the_conditional_law(a: float, b: float, k: int) -> None:
    q = cb.quantile_row(a, b)
    assert np.array_equal(q, nb.quantile_row(a, b))
    lo, hi = q[k], q[k + 1]
    x = cb.beta_in_bucket(a, b, k, 20_000, seed=k)
    assert ((x >= lo) & (x <= hi)).all()
    f_lo, mass = special.betainc(a, b, lo), special.betainc(a, b, hi) - special.betainc(a, b, lo)
    assert stats.kstest(x, lambda v: (special.betainc(a, b, v) - f_lo) / mass).pvalue > 1e-3
    assert np.array_equal(x[:500], nb.beta_in_bucket(a, b, k, 500, seed=k))


def test_in_bucket_refuses_what_it_cannot_draw() -> None:
    for backend in (cb, nb):
        for a, b in [(0.5, 2.0), (6e5, 5e5), (float("nan"), 2.0)]:
            with pytest.raises(ValueError, match=r"shapes a, b >= 1 with a \+ b <= 1e6"):
                backend.beta_in_bucket(a, b, 3, 1, seed=0)
        with pytest.raises(ValueError, match=r"bucket k must be in 0\.\.255"):
            backend.beta_in_bucket(2.0, 2.0, 256, 1, seed=0)


def test_backends_agree_and_seeds_repeat() -> None:
    shapes = [(3, 9), (8, 4), (1, 1), (30, 25), (2, 1), (6, 6)]
    fast, twin = bandit(shapes, seed=5), bandit(shapes, seed=5, backend="numba")
    fast.remove_arm(2)
    twin.remove_arm(2)
    n = cb.TABLE_BATCH + 7
    first = fast.select(n)
    assert first.tolist() == twin.select(n).tolist()
    assert 2 not in first
    rng = np.random.default_rng(0)
    arms, rewards = rng.choice([0, 1, 3, 4, 5], 300), rng.random(300)
    fast.update(arms, rewards)  # the rows of every arm go stale
    twin.update(arms, rewards)
    assert fast.select(n).tolist() == twin.select(n).tolist()
    again = bandit(shapes, seed=5)
    again.remove_arm(2)
    assert again.select(n).tolist() == first.tolist()
    assert again.state_dict()["state"]["decisions"] == n
    assert bandit(shapes, seed=6).select(n).tolist() != first.tolist()


def test_batches_compose_at_chunk_boundaries_on_both_backends() -> None:
    shapes = [(4, 7), (7, 4), (5, 5)]
    one, two = bandit(shapes, seed=9), bandit(shapes, seed=9)
    chunk = cb.TABLE_CHUNK
    whole = one.select(2 * chunk)
    assert whole.tolist() == two.select(chunk).tolist() + two.select(chunk).tolist()
    assert bandit(shapes, seed=9, backend="numba").select(2 * chunk).tolist() == whole.tolist()


@pytest.mark.parametrize("variant", [{"discount": 0.99}, {"window": 50}])
def test_non_stationary_bandits_and_new_arms_take_batches_alike(variant: dict) -> None:
    fast, twin = (ThompsonSampling(3, seed=4, backend=backend, **variant)
                  for backend in ("cpp", "numba"))  # fmt: skip
    rng = np.random.default_rng(1)
    for _ in range(3):
        arms, rewards = rng.integers(0, fast.n_arms, 400), rng.random(400)
        fast.update(arms, rewards)
        twin.update(arms, rewards)
        assert fast.select(cb.TABLE_BATCH).tolist() == twin.select(cb.TABLE_BATCH).tolist()
        assert fast.add_arm() == twin.add_arm()


def test_a_window_of_zero_rewards_keeps_its_batches_by_inversion() -> None:
    # 0.1 + 0.2 + 0.05 + 0 less 0.1, 0.2 and 0.05 leaves -1.4e-17 in arm 0's sum; its shape a
    # must stay 1 (not 1 - 2^-53), so the batch still goes by inversion, not the Gamma sampler.
    b, twin = ThompsonSampling(2, window=4, seed=1), ThompsonSampling(2, window=4, seed=1)
    for arm, r in [(0, 0.1), (0, 0.2), (0, 0.05), (0, 0.0), (1, 1.0), (1, 1.0), (1, 1.0)]:
        b.update(arm, r)
        twin.update(arm, r)
    assert b.state_dict()["state"]["sums"][0] < 0.0
    n = cb.TABLE_BATCH
    assert b.select(n).tolist() != [twin.select() for _ in range(n)]


@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_other_batches_are_single_decisions_in_a_row(backend: str) -> None:
    # Below the batch size, with a shape under 1, or with shapes above the cap, the batch is
    # the Gamma sampler's decisions.
    for shapes, n in [
        ([(2, 3), (3, 2)], cb.TABLE_BATCH - 1),
        ([(0.5, 2.0), (3, 2)], cb.TABLE_BATCH),
        ([(6e5, 5e5), (3, 2)], cb.TABLE_BATCH),
    ]:
        prior = min(min(s) for s in shapes)
        batch, single = (ThompsonSampling(2, alpha=prior, beta=prior, seed=2, backend=backend)
                         for _ in range(2))  # fmt: skip
        for b in (batch, single):
            state = b.state_dict()
            a, bb = np.array(shapes, dtype=float).T
            state["state"].update(pulls=a + bb - 2 * prior, sums=a - prior)
            b.load_state_dict(state)
        assert batch.select(n).tolist() == [single.select() for _ in range(n)]
