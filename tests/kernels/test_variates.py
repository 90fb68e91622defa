"""The bandits' samplers on their own (cpp/include/chimera/variates.hpp and its Numba twin):
draw for draw against the plain-Python definition, and in distribution against SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from chimera import _core
from chimera._numba import bandit as numba_bandit
from reference import Stream
from reference_bandit import ZIG_R, betas, normal

BACKENDS = {"cpp": _core.bandit, "numba": numba_bandit}
# Shapes below 1 (boosted), at 1, large and lopsided, and far below 1 (underflow to 0 / 0).
A = np.array([1.0, 2.0, 0.3, 30.0, 1e-3, 500.0, 0.05, 7.5])
B = np.array([2.0, 1.0, 0.5, 300.0, 1e-3, 20.0, 3.0, 7.5])


@pytest.mark.parametrize("backend", BACKENDS)
def test_betas_follow_the_definition_draw_for_draw(backend: str) -> None:
    for k in range(300):
        got = BACKENDS[backend].beta_variates(A, B, 5, k)
        want = betas(Stream(5, k, 0, 6), list(zip(A, B, strict=True)), [True] * A.size)
        np.testing.assert_array_equal(got, want, err_msg=f"decision {k}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_normals_follow_the_definition_draw_for_draw(backend: str) -> None:
    got = BACKENDS[backend].normal_variates(5000, 3, 9)
    st = Stream(3, 9, 0, 6)
    np.testing.assert_array_equal(got, [normal(st) for _ in range(5000)])


def test_backends_agree_on_long_runs() -> None:
    for k in range(0, 5000, 7):
        np.testing.assert_array_equal(
            _core.bandit.beta_variates(A, B, 1, k), numba_bandit.beta_variates(A, B, 1, k)
        )
    np.testing.assert_array_equal(
        _core.bandit.normal_variates(200_000, 2, 1), numba_bandit.normal_variates(200_000, 2, 1)
    )


@pytest.mark.skipif(not _core.bandit.AVX2, reason="this CPU has no AVX2")
# 2, 4, 6, 16 and 66 Gammas: every tail of the four-wide loop, and two words of the mask.
@pytest.mark.parametrize("m", [1, 2, 3, 8, 33])
def test_avx2_loops_match_the_baseline(m: int) -> None:
    rng = np.random.default_rng(m)
    a = np.exp(rng.uniform(-3, 6, m))
    b = np.exp(rng.uniform(-3, 6, m))
    for k in range(2000):
        np.testing.assert_array_equal(
            _core.bandit.beta_variates(a, b, 3, k),
            _core.bandit.beta_variates(a, b, 3, k, avx2=False),
            err_msg=f"decision {k}",
        )


def test_normal_distribution() -> None:
    z = _core.bandit.normal_variates(400_000, 4, 0)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    # The tail beyond the base layer's edge r has its own sampler: its mass must be right.
    tail = np.mean(np.abs(z) > ZIG_R)
    want = 2 * stats.norm.sf(ZIG_R)
    assert abs(tail - want) < 5 * np.sqrt(want / z.size)
    assert abs(np.mean(z < 0) - 0.5) < 0.005


def test_beta_distribution() -> None:
    draws = np.array([_core.bandit.beta_variates(A, B, 11, k) for k in range(20_000)])
    for j, (a, b) in enumerate(zip(A, B, strict=True)):
        if a < 0.01:
            continue  # point masses at 0 and 1: checked below
        assert stats.kstest(draws[:, j], stats.beta(a, b).cdf).pvalue > 1e-3, (a, b)
    # Beta(0.001, 0.001): 0 and 1 about equally often, as a / (a + b) says.
    tiny = draws[:, 4]
    assert abs(np.mean(tiny > 0.5) - 0.5) < 0.02


def test_bad_shapes_are_refused() -> None:
    for backend in BACKENDS.values():
        with pytest.raises(ValueError, match="finite and positive"):
            backend.beta_variates([1.0, 0.0], [1.0, 1.0], 0, 0)
        with pytest.raises(ValueError, match="same length"):
            backend.beta_variates([1.0, 2.0], [1.0], 0, 0)
