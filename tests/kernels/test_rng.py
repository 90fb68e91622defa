"""Philox4x32-10 against the published Random123 known answers, and the stream draws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chimera
from chimera import _core
from reference import KAT, Stream, philox


@pytest.mark.parametrize(("ctr", "key", "expected"), KAT)
def test_known_answers(ctr: list[int], key: list[int], expected: list[int]) -> None:
    got = _core.rng.philox4x32_10(np.array(ctr, np.uint32), np.array(key, np.uint32))
    assert got.tolist() == expected
    assert philox(ctr, key) == expected


seeds = st.integers(0, 2**64 - 1)
words = st.integers(0, 2**32 - 1)


@given(seeds, words, words, st.integers(0, 4))
def test_streams_match_reference(seed: int, gen: int, ind: int, purpose: int) -> None:
    ref = Stream(seed, gen, ind, purpose)
    assert _core.rng.u32(seed, gen, ind, purpose, 9).tolist() == [ref.u32() for _ in range(9)]
    ref = Stream(seed, gen, ind, purpose)
    assert _core.rng.uniform(seed, gen, ind, purpose, 5).tolist() == [
        ref.uniform() for _ in range(5)
    ]
    ref = Stream(seed, gen, ind, purpose)
    np.testing.assert_allclose(
        _core.rng.normal(seed, gen, ind, purpose, 5), [ref.normal() for _ in range(5)], rtol=1e-13
    )


@given(seeds, words, st.integers(1, 2**32 - 1))
def test_below_matches_reference_and_range(seed: int, ind: int, bound: int) -> None:
    got = _core.rng.below(seed, 3, ind, 1, bound, 6)
    ref = Stream(seed, 3, ind, 1)
    assert got.tolist() == [ref.below(bound) for _ in range(6)]
    assert (got < bound).all()


def test_uniform_moments_and_range() -> None:
    u = _core.rng.uniform(7, 0, 0, 0, 200_000)
    assert u.min() >= 0.0 and u.max() < 1.0
    # mean 1/2 and variance 1/12, within 5 standard errors
    assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / u.size)
    assert abs(u.var() - 1 / 12) < 5 * math.sqrt(1 / 180 / u.size)


def test_normal_moments() -> None:
    z = _core.rng.normal(11, 0, 0, 0, 200_000)
    se = 1 / math.sqrt(z.size)
    assert abs(z.mean()) < 5 * se
    assert abs(z.var() - 1) < 5 * math.sqrt(2) * se
    assert abs(np.mean(z**3)) < 5 * math.sqrt(15) * se  # symmetric
    assert abs(np.mean(z**4) - 3) < 5 * math.sqrt(96) * se  # normal kurtosis


def test_below_is_unbiased() -> None:
    # chi-square with 6 bins at a fixed seed; critical value for df=5 at p=0.001 is 20.5
    draws = _core.rng.below(5, 0, 0, 1, 6, 60_000)
    counts = np.bincount(draws, minlength=6)
    chi2 = ((counts - 10_000) ** 2 / 10_000).sum()
    assert chi2 < 20.5


def test_distinct_keys_give_distinct_streams() -> None:
    base = _core.rng.u32(1, 2, 3, 4, 8)
    for args in [(2, 2, 3, 4), (1, 3, 3, 4), (1, 2, 4, 4), (1, 2, 3, 0), (1 << 32 | 1, 2, 3, 4)]:
        assert not np.array_equal(base, _core.rng.u32(*args, 8))


@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_uniform_rows_are_the_rows_streams(backend: str) -> None:
    rng = _core.rng if backend == "cpp" else pytest.importorskip("chimera._numba.rng")
    got = rng.uniform_rows(2**40 + 3, 7, 11, 5, 9)
    rows = [Stream(2**40 + 3, 7, i, 11) for i in range(5)]
    want = [[st.uniform() for _ in range(9)] for st in rows]
    assert got.shape == (5, 9) and got.tolist() == want
    assert rng.uniform_rows(1, 0, 11, 0, 4).shape == (0, 4)
    with pytest.raises(chimera.ValidationError, match="non-negative"):
        rng.uniform_rows(1, 0, 11, -1, 4)
