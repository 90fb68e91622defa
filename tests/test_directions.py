"""Das-Dennis reference directions: the simplex lattice, its size and the partition choice."""

from __future__ import annotations

from itertools import product
from math import comb

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chimera import ValidationError
from chimera.directions import (
    MAX_DIRECTIONS,
    das_dennis,
    default_partitions,
    n_directions,
)


@given(st.integers(1, 12), st.integers(1, 6))
def test_lattice_is_every_composition_once(p: int, m: int) -> None:
    W = das_dennis(p, m)
    assert W.dtype == np.float64 and W.shape == (comb(p + m - 1, m - 1), m)
    assert W.shape[0] == n_directions(p, m)
    np.testing.assert_allclose(W.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    counts = np.rint(W * p).astype(np.int64)
    np.testing.assert_allclose(W * p, counts, rtol=0, atol=1e-9)  # multiples of 1 / p
    assert (counts >= 0).all() and (counts.sum(axis=1) == p).all()
    # distinct rows in strictly increasing lexicographic order: deterministic and complete,
    # since the count matches C(p + m - 1, m - 1)
    keys = [tuple(row) for row in counts.tolist()]
    assert keys == sorted(set(keys))


def test_small_lattice_by_brute_force() -> None:
    p, m = 4, 3
    brute = [c for c in product(range(p + 1), repeat=m) if sum(c) == p]
    np.testing.assert_array_equal(das_dennis(p, m), np.array(brute) / p)
    np.testing.assert_array_equal(
        das_dennis(3, 2), [[0, 1], [1 / 3, 2 / 3], [2 / 3, 1 / 3], [1, 0]]
    )
    np.testing.assert_array_equal(das_dennis(1, 3), [[0, 0, 1], [0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(das_dennis(5, 1), [[1.0]])


@pytest.mark.parametrize(
    ("m", "target", "p"),
    # lattice sizes in the NSGA-III paper (Deb and Jain, 2014): 3 obj p=12 -> 91,
    # 5 obj p=6 -> 210, and the outer layers 8 obj p=3 -> 120, 10 obj p=3 -> 220
    [(3, 91, 12), (3, 104, 12), (3, 105, 13), (5, 210, 6), (8, 120, 3), (10, 220, 3)],
)
def test_default_partitions_known_sizes(m: int, target: int, p: int) -> None:
    assert default_partitions(m, target) == p


@given(st.integers(2, 8), st.integers(1, 10**7))
def test_default_partitions_is_the_largest_that_fits(m: int, target: int) -> None:
    if target < m:
        with pytest.raises(ValidationError, match="n_points"):
            default_partitions(m, target)
        return
    p = default_partitions(m, target)
    assert n_directions(p, m) <= target < n_directions(p + 1, m)


def test_two_objectives_fit_exactly() -> None:
    for target in (2, 3, 100, 12345):
        assert das_dennis(default_partitions(2, target), 2).shape == (target, 2)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: das_dennis(0, 3), "n_partitions"),
        (lambda: das_dennis(2.0, 3), "n_partitions"),
        (lambda: das_dennis(True, 3), "n_partitions"),
        (lambda: das_dennis(3, 0), "n_obj"),
        (lambda: das_dennis(3, "3"), "n_obj"),
        (lambda: das_dennis(200, 10), "choose fewer n_partitions"),
        (lambda: default_partitions(1, 10), "n_obj"),
        (lambda: default_partitions(3, 0), "n_points"),
        (lambda: default_partitions(3, 2), "n_points must be >= n_obj"),
        (lambda: n_directions(-1, 3), "n_partitions"),
    ],
)
def test_bad_arguments(call, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        call()


def test_size_guard_counts_before_building() -> None:
    assert n_directions(200, 10) > MAX_DIRECTIONS  # refused above without allocating
    assert das_dennis(np.int64(12), np.int32(3)).shape == (91, 3)
