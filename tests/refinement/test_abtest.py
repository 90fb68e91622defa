"""A/B testing statistics: each test against SciPy or its definition, interval coverage on
simulated experiments, degenerate data, and the sequential test's error rate under peeking."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from chimera import ValidationError
from chimera.refinement import abtest


def coverage(make_ci, truth: float, trials: int = 600) -> float:
    hits = 0
    for seed in range(trials):
        lo, hi = make_ci(np.random.default_rng(seed))
        hits += lo <= truth <= hi
    return hits / trials


# --- Welch -------------------------------------------------------------------------------------


def test_welch_matches_scipy_and_its_interval_covers() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 40), rng.normal(0.5, 2, 25)
    r = abtest.welch_t(a, b)
    assert r.p_value == pytest.approx(stats.ttest_ind(b, a, equal_var=False).pvalue)
    assert r.effect == pytest.approx(b.mean() - a.mean())
    assert r.ci[0] < r.effect < r.ci[1]
    cov = coverage(lambda g: abtest.welch_t(g.normal(0, 1, 20), g.normal(0.3, 3, 12)).ci, 0.3)
    assert 0.92 <= cov <= 0.98


def test_welch_one_sided_and_verdict() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, 200), rng.normal(0.5, 1, 200)
    r = abtest.welch_t(a, b, alternative="greater")
    assert r.significant and r.ci[1] == math.inf and r.ci[0] > 0
    assert abtest.welch_t(a, b, alternative="less").p_value > 0.99
    assert "B is higher than A" in r.verdict and "p = " in str(r)


def test_welch_degenerate_groups_give_clear_results() -> None:
    few = abtest.welch_t([1.0], [2.0, 3.0])
    assert few.p_value is None and not few.significant
    assert "insufficient data" in few.verdict
    same = abtest.welch_t([2.0, 2.0, 2.0], [2.0, 2.0])
    assert same.p_value == 1.0 and same.effect == 0.0 and "no variance" in same.note
    apart = abtest.welch_t([1.0, 1.0], [3.0, 3.0])
    assert apart.p_value == 0.0 and apart.ci == (2.0, 2.0) and apart.significant
    assert abtest.welch_t([1.0, 1.0], [3.0, 3.0], alternative="less").p_value == 1.0


def test_cuped_keeps_the_effect_and_narrows_the_interval() -> None:
    rng = np.random.default_rng(3)
    xa, xb = rng.normal(10, 2, 500), rng.normal(10, 2, 500)
    a = xa + rng.normal(0, 1, 500)
    b = xb + 0.3 + rng.normal(0, 1, 500)
    ya, _, theta = abtest.cuped(a, b, xa, xb)
    assert theta == pytest.approx(1.0, abs=0.1)
    assert ya.var() < 0.4 * a.var()
    plain, adjusted = abtest.welch_t(a, b), abtest.welch_t(a, b, covariates=(xa, xb))
    width = lambda r: r.ci[1] - r.ci[0]  # noqa: E731
    assert width(adjusted) < 0.6 * width(plain)
    assert adjusted.effect == pytest.approx(0.3, abs=0.15)
    assert adjusted.test == "Welch t-test (CUPED)"
    with pytest.raises(ValidationError, match="covariates must pair"):
        abtest.cuped(a, b, xa[:10], xb)


# --- proportions, ranks, bootstrap --------------------------------------------------------------


def test_two_proportions() -> None:
    r = abtest.two_proportion_z(100, 1000, 130, 1000)
    pooled = 230 / 2000
    z = 0.03 / math.sqrt(pooled * (1 - pooled) * 2 / 1000)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(z))
    assert r.effect == pytest.approx(0.03) and r.significant
    cov = coverage(lambda g: abtest.two_proportion_z(
        int(g.binomial(800, 0.2)), 800, int(g.binomial(700, 0.25)), 700).ci, 0.05)  # fmt: skip
    assert 0.92 <= cov <= 0.98
    exact = abtest.two_proportion_z(0, 50, 0, 60)
    assert exact.p_value == 1.0 and "no variance" in exact.note
    assert abtest.two_proportion_z(1, 1, 3, 5).p_value is None
    with pytest.raises(ValidationError, match="successes <= trials"):
        abtest.two_proportion_z(5, 4, 1, 10)
    with pytest.raises(ValidationError, match="successes must be an integer"):
        abtest.two_proportion_z(1.5, 4, 1, 10)


def test_mann_whitney() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.exponential(1.0, 60), rng.exponential(1.0, 50) + 0.5
    r = abtest.mann_whitney(a, b)
    assert r.p_value == pytest.approx(stats.mannwhitneyu(b, a).pvalue)
    assert 0.0 < r.effect < 0.5 and r.ci[0] < r.effect < r.ci[1] and r.significant
    ties = abtest.mann_whitney([1.0, 1.0, 1.0], [1.0, 1.0])
    assert ties.p_value == 1.0 and ties.effect == 0.0


def test_bootstrap_difference() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(0, 1, 80), rng.normal(1.0, 1, 80)
    r = abtest.bootstrap(a, b, n_resamples=2000)
    assert r.ci[0] < 1.0 < r.ci[1] and r.significant
    assert r == abtest.bootstrap(a, b, n_resamples=2000)  # seeded
    med = abtest.bootstrap(a, b, statistic=np.median, n_resamples=2000, method="percentile")
    assert med.effect == pytest.approx(np.median(b) - np.median(a))
    assert abtest.bootstrap([1.0, 1.0], [2.0, 2.0]).ci == (1.0, 1.0)


# --- sample ratio and multiple testing ----------------------------------------------------------


def test_sample_ratio_mismatch() -> None:
    assert not abtest.sample_ratio_mismatch([5000, 5040]).mismatch
    bad = abtest.sample_ratio_mismatch([5000, 5400])
    assert bad.mismatch and "do not trust" in bad.verdict
    assert not abtest.sample_ratio_mismatch([2000, 1000], [2, 1]).mismatch
    with pytest.raises(ValidationError, match="non-negative integers"):
        abtest.sample_ratio_mismatch([1.5, 2.0])
    with pytest.raises(ValidationError, match="ratios must be 2 positive"):
        abtest.sample_ratio_mismatch([10, 10], [1, 0])


def test_holm_and_benjamini_hochberg() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    reject, adj = abtest.holm(p)
    np.testing.assert_allclose(adj, [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_array_equal(reject, [True, False, False, True])
    reject, adj = abtest.benjamini_hochberg(p)
    np.testing.assert_allclose(adj, [0.02, 0.04, 0.04, 0.02])
    assert reject.all()
    with pytest.raises(ValidationError, match=r"in \[0, 1\]"):
        abtest.holm([0.5, 1.5])


def _holm_by_definition(p: np.ndarray, alpha: float) -> np.ndarray:
    """Reject the i-th smallest while every smaller-or-equal p_(j) <= alpha / (m - j)."""
    order, reject = np.argsort(p, kind="stable"), np.zeros(p.size, dtype=bool)
    for j, i in enumerate(order):
        if p[i] > alpha / (p.size - j):
            break
        reject[i] = True
    return reject


def _bh_by_definition(p: np.ndarray, alpha: float) -> np.ndarray:
    """Reject the k smallest, k the largest with p_(k) <= k alpha / m."""
    order = np.argsort(p, kind="stable")
    passing = np.flatnonzero(p[order] <= alpha * np.arange(1, p.size + 1) / p.size)
    reject = np.zeros(p.size, dtype=bool)
    if passing.size:
        reject[order[: passing[-1] + 1]] = True
    return reject


def test_corrections_reject_at_alpha_itself_as_their_definitions_do() -> None:
    for p, holm, bh in [([0.05], [True], [True]), ([0.025, 0.05], [True, True], [True, True]),
                        ([0.5, 0.25], [False, False], [False, False])]:  # fmt: skip
        assert abtest.holm(p)[0].tolist() == holm
        assert abtest.benjamini_hochberg(p)[0].tolist() == bh
    rng = np.random.default_rng(17)
    for _ in range(2000):
        m = int(rng.integers(1, 12))
        p = np.where(rng.random(m) < 0.5, rng.random(m) * 0.1, rng.random(m))
        scaled = np.sort(p)[:, None] * m / np.arange(1, m + 1)[None, :]
        if np.isclose(scaled, 0.05, rtol=0, atol=1e-12).any():
            continue  # a tie within rounding: both sides are right
        np.testing.assert_array_equal(abtest.holm(p)[0], _holm_by_definition(p, 0.05))
        np.testing.assert_array_equal(abtest.benjamini_hochberg(p)[0], _bh_by_definition(p, 0.05))


# --- the sequential test ----------------------------------------------------------------------


@pytest.mark.slow
def test_sequential_false_positive_rate_under_continuous_peeking() -> None:
    """2,000 A/A experiments, looked at after every pair of observations up to 200 per group:
    the mSPRT's rate of false rejections stays at alpha, where a t-test repeated at every
    look (the mistake it exists to prevent) rejects several times too often."""
    alpha, sims, n = 0.05, 2000, 200
    rng = np.random.default_rng(6)
    sequential = naive = 0
    for _ in range(sims):
        a, b = rng.normal(0, 1, n), rng.normal(0, 1, n)
        test = abtest.SequentialTest(alpha=alpha)
        for i in range(n):
            if test.update(a[i], b[i]).significant:
                sequential += 1
                break
        # The naive look every 10 pairs from 20 on, with cumulative sums.
        k = np.arange(20, n + 1, 10)
        ma, mb = np.cumsum(a)[k - 1] / k, np.cumsum(b)[k - 1] / k
        va = (np.cumsum(a * a)[k - 1] - k * ma**2) / (k - 1)
        vb = (np.cumsum(b * b)[k - 1] - k * mb**2) / (k - 1)
        t = (mb - ma) / np.sqrt(va / k + vb / k)
        naive += bool((2 * stats.t.sf(np.abs(t), 2 * k - 2) < alpha).any())
    assert sequential / sims <= alpha + 0.01  # binomial sd at 2,000 runs is 0.005
    assert naive / sims > 2 * alpha


def test_sequential_detects_a_real_effect_and_stays_decided() -> None:
    rng = np.random.default_rng(7)
    found = []
    for _ in range(50):
        test = abtest.SequentialTest()
        for i in range(2000):
            r = test.update(rng.normal(0, 1), rng.normal(0.5, 1))
            if test.decided:
                found.append(i)
                break
        else:
            continue
        assert r.significant and r.effect > 0 and r.ci[0] > 0
        test.update(np.zeros(50), np.zeros(50))  # later data cannot undo a rejection
        assert test.decided
    assert len(found) >= 48 and np.median(found) < 200


def test_sequential_reports_before_it_can_decide() -> None:
    test = abtest.SequentialTest(min_samples=5)
    r = test.update([1.0, 2.0], [1.5])
    assert r.p_value is None and "fewer than 5" in r.note and "inconclusive" in r.verdict
    r = test.update(np.ones(10), np.ones(10))  # enough data, no variance in the difference
    assert r.p_value is not None or "no variance" in r.note
    with pytest.raises(ValidationError, match="tau must be"):
        abtest.SequentialTest(tau=0)
    with pytest.raises(ValidationError, match="non-finite"):
        test.update([np.nan], [])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: abtest.welch_t([1, 2, np.inf], [1, 2]), "non-finite value at index 2"),
        (lambda: abtest.welch_t([[1, 2]], [1, 2]), "1-dimensional"),
        (lambda: abtest.welch_t(["a"], [1, 2]), "array of numbers"),
        (lambda: abtest.welch_t([1, 2], [1, 2], alpha=1.5), "alpha must be in"),
        (lambda: abtest.mann_whitney([1, 2], [1, 2], alternative="bigger"), "alternative"),
    ],
)
def test_bad_input(call, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        call()
