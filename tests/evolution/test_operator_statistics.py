"""The operators' distributions at fixed seeds: each test would fail for a wrong operator.

Chi-square critical values are for p = 0.001 so that a correct kernel passes with room, and the
seeds are fixed, so the tests are deterministic.
"""

from __future__ import annotations

import math

import numpy as np

from chimera.evolution.operators import mutation_table, probability_threshold
from helpers import kernels

CHI2_999 = {1: 10.83, 4: 18.47, 5: 20.52, 6: 22.46, 9: 27.88, 10: 29.59, 19: 43.82}
NONE = np.zeros(0, np.uint32)


def breed(backend, X, f, low, high, m, **kw):
    p = dict(seed=123, generation=1, selection=0, selection_size=3, crossover=0, crossover_threshold=0,
             crossover_param=0.0, mutation=0, mutation_threshold=0, mutation_param=0.0,
             mutation_cdf=NONE, bounds=0)  # fmt: skip
    p.update(kw)
    out = np.empty((m, X.shape[1]), dtype=X.dtype)
    parents = np.empty((m, 2), dtype=np.int32)
    kernels(backend).breed(X, f, low, high, out, parents, *p.values())
    return out, parents


def cross_two_parents(backend, d: int, m: int, crossover: int, rate: float):
    """m children of an all-zeros and an all-ones parent (SUS on equal fitness picks both);
    returns the children of mixed pairs and each one's primary parent."""
    X = np.stack([np.zeros(d), np.ones(d)])
    out, parents = breed(backend, X, np.zeros(2), np.zeros(d), np.ones(d), m, selection=2,
                         crossover=crossover, crossover_threshold=probability_threshold(rate))  # fmt: skip
    mixed = parents[:, 0] != parents[:, 1]
    return out[mixed], X[parents[mixed, 0]]


def chi2(counts: np.ndarray, expected: np.ndarray) -> float:
    return float(((counts - expected) ** 2 / expected).sum())


def test_tournament_selection_probabilities(backend: str) -> None:
    # With distinct fitness, rank r (0 = best) wins a k-tournament with probability
    # ((n - r)^k - (n - r - 1)^k) / n^k.
    n, k, m = 10, 3, 100_000
    X = np.zeros((n, 1))
    f = np.arange(n, dtype=float)[::-1].copy()  # row 9 is best
    _, parents = breed(backend, X, f, np.zeros(1), np.ones(1), m, selection_size=k)
    counts = np.bincount(parents[:, 0], minlength=n)[::-1]  # by rank
    r = np.arange(n)
    p = ((n - r) ** k - (n - r - 1) ** k) / n**k
    assert chi2(counts, p * m) < CHI2_999[9]


def test_truncation_selects_uniformly_among_the_best(backend: str) -> None:
    n, keep, m = 20, 5, 50_000
    f = np.random.default_rng(0).permutation(n).astype(float)
    _, parents = breed(
        backend, np.zeros((n, 1)), f, np.zeros(1), np.ones(1), m, selection=1, selection_size=keep
    )
    best = np.argsort(f)[:keep]
    assert set(np.unique(parents[:, 0])) == set(best)
    counts = np.bincount(parents[:, 0], minlength=n)[best]
    assert chi2(counts, np.full(keep, m / keep)) < CHI2_999[4]


def test_sus_expected_counts(backend: str) -> None:
    # SUS gives each row floor or ceil of its expected count m * w_i / W.
    n, m = 6, 600
    f = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 6.0])
    _, parents = breed(backend, np.zeros((n, 1)), f, np.zeros(1), np.ones(1), m, selection=2)
    counts = np.bincount(parents[:, 0], minlength=n)
    w = f.max() - f
    expected = m * w / w.sum()
    assert (np.abs(counts - expected) < 1.0 + 1e-9).all()


def test_single_point_cut_is_uniform(backend: str) -> None:
    d = 11
    child, _ = cross_two_parents(backend, d, 50_000, crossover=1, rate=1.0)
    first = child[:, 0]
    cut = np.argmax(child != first[:, None], axis=1)
    assert (cut >= 1).all()
    counts = np.bincount(cut, minlength=d)[1:]
    assert chi2(counts, np.full(d - 1, counts.sum() / (d - 1))) < CHI2_999[10]


def test_crossover_rate(backend: str) -> None:
    d = 8
    child, primary = cross_two_parents(backend, d, 40_000, crossover=3, rate=0.3)
    recombined = (child != primary).any(axis=1)
    # P(no gene swapped | crossover) = 2^-d
    p = 0.3 * (1 - 2.0**-d)
    se = math.sqrt(p * (1 - p) / recombined.size)
    assert abs(recombined.mean() - p) < 5 * se


def test_uniform_crossover_swaps_half_the_genes(backend: str) -> None:
    child, primary = cross_two_parents(backend, 64, 4000, crossover=3, rate=1.0)
    swapped = child != primary
    per_gene = swapped.mean(axis=0)
    se = math.sqrt(0.25 / swapped.shape[0])
    assert (np.abs(per_gene - 0.5) < 5 * se).all()


def test_mutation_count_is_binomial_with_and_without_table(backend: str) -> None:
    d, m, rate = 20, 50_000, 0.1
    X = np.zeros((2, d), dtype=bool)
    pmf = np.array([math.comb(d, k) * rate**k * (1 - rate) ** (d - k) for k in range(d + 1)])
    bins = 7  # counts 0..5 and 6+
    expected = np.append(pmf[: bins - 1], pmf[bins - 1 :].sum()) * m
    for cdf in (mutation_table(d, rate), NONE):
        out, _ = breed(backend, X, np.zeros(2), np.zeros(d), np.ones(d), m, mutation=3,
                       mutation_threshold=probability_threshold(rate), mutation_cdf=cdf)  # fmt: skip
        k = out.sum(axis=1)
        counts = np.bincount(np.minimum(k, bins - 1), minlength=bins)
        assert chi2(counts, expected) < CHI2_999[6]
        # which genes mutate is uniform too
        per_gene = out.sum(axis=0)
        assert chi2(per_gene, np.full(d, per_gene.sum() / d)) < CHI2_999[19]


def test_gaussian_mutation_step_distribution(backend: str) -> None:
    d, m, sigma = 4, 40_000, 0.01
    X = np.full((2, d), 0.5)
    out, _ = breed(backend, X, np.zeros(2), np.zeros(d), np.full(d, 2.0), m, mutation=1,
                   mutation_threshold=probability_threshold(1.0), mutation_param=sigma)  # fmt: skip
    z = ((out - 0.5) / (sigma * 2.0)).ravel()
    se = 1 / math.sqrt(z.size)
    assert abs(z.mean()) < 5 * se and abs(z.std() - 1) < 5 * se
    # Kolmogorov-Smirnov distance to N(0, 1); 1.95 / sqrt(n) is the p = 0.001 critical value
    zs = np.sort(z)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(zs / math.sqrt(2)))
    ks = max(
        np.max(np.arange(1, zs.size + 1) / zs.size - cdf),
        np.max(cdf - np.arange(zs.size) / zs.size),
    )
    assert ks < 1.95 / math.sqrt(zs.size)


def test_polynomial_mutation_mean_shift_is_zero_in_the_middle(backend: str) -> None:
    d, m = 2, 40_000
    X = np.zeros((2, d))
    out, _ = breed(backend, X, np.zeros(2), np.full(d, -1.0), np.full(d, 1.0), m, mutation=2,
                   mutation_threshold=probability_threshold(1.0), mutation_param=20.0)  # fmt: skip
    step = out.ravel()
    assert (np.abs(step) <= 1.0).all() and (step != 0).mean() > 0.99
    assert abs(step.mean()) < 5 * step.std() / math.sqrt(step.size)


def test_init_is_uniform(backend: str) -> None:
    n, d = 20_000, 3
    out = np.empty((n, d))
    kernels(backend).init_uniform(out, np.full(d, -2.0), np.full(d, 6.0), 99)
    counts = np.histogram(out.ravel(), bins=10, range=(-2, 6))[0]
    assert chi2(counts, np.full(10, n * d / 10)) < CHI2_999[9]
    ints = np.empty((n, d), dtype=np.int32)
    kernels(backend).init_uniform(ints, np.full(d, -3.0), np.full(d, 1.0), 99)
    counts = np.bincount((ints + 3).ravel(), minlength=5)
    assert chi2(counts, np.full(5, n * d / 5)) < CHI2_999[4]
