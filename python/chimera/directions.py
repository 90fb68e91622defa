"""Reference directions on the unit simplex for decomposition-based many-objective search.

:func:`das_dennis` lays the simplex-lattice design of Das and Dennis (1998): every point whose
coordinates are multiples of ``1 / n_partitions`` and sum to 1. NSGA-III and MOEA/D use these
rows as the directions that niche or decompose the objective space; :func:`default_partitions`
picks the finest lattice that fits a population size.
"""

from __future__ import annotations

from math import comb

import numpy as np

from ._errors import ValidationError
from ._validate import integer

# A guard against a lattice that would not fit in memory: C(p + M - 1, M - 1) explodes with M.
MAX_DIRECTIONS = 5_000_000


def n_directions(n_partitions: int, n_obj: int) -> int:
    """Number of Das-Dennis directions, ``C(n_partitions + n_obj - 1, n_obj - 1)``.

    Parameters
    ----------
    n_partitions : int
        Divisions of each simplex edge, >= 1.
    n_obj : int
        Number of objectives, >= 1.

    Returns
    -------
    int
        The number of lattice points, without building them.
    """
    p = integer(n_partitions, "n_partitions", 1)
    m = integer(n_obj, "n_obj", 1)
    return comb(p + m - 1, m - 1)


def das_dennis(n_partitions: int, n_obj: int) -> np.ndarray:
    """The simplex-lattice reference directions of Das and Dennis.

    Parameters
    ----------
    n_partitions : int
        Divisions of each simplex edge (``p``), >= 1: every coordinate is a multiple of ``1 / p``.
    n_obj : int
        Number of objectives (``M``), >= 1.

    Returns
    -------
    numpy.ndarray
        ``(H, M)`` float64 array with ``H = C(p + M - 1, M - 1)``; every row is non-negative and
        sums to 1. Rows come in lexicographic order of their integer numerators, first column
        slowest, so ``(0, ..., 0, 1)`` is first and ``(1, 0, ..., 0)`` is last.

    Raises
    ------
    ValidationError
        If an argument is not an integer in range, or the lattice would have more than
        :data:`MAX_DIRECTIONS` rows.

    Examples
    --------
    >>> das_dennis(2, 3)
    array([[0. , 0. , 1. ],
           [0. , 0.5, 0.5],
           [0. , 1. , 0. ],
           [0.5, 0. , 0.5],
           [0.5, 0.5, 0. ],
           [1. , 0. , 0. ]])
    """
    h = n_directions(n_partitions, n_obj)
    p, m = int(n_partitions), int(n_obj)
    if h > MAX_DIRECTIONS:
        raise ValidationError(
            f"das_dennis(n_partitions={p}, n_obj={m}) would make {h:,} directions "
            f"(more than {MAX_DIRECTIONS:,}); choose fewer n_partitions"
        )
    # Integer numerators, built one coordinate at a time: each partial row is expanded by every
    # value its remaining budget allows, and the last coordinate takes whatever is left.
    parts = np.zeros((1, 0), dtype=np.int64)
    left = np.array([p], dtype=np.int64)
    for _ in range(m - 1):
        counts = left + 1
        parent = np.repeat(np.arange(parts.shape[0]), counts)
        first = np.repeat(np.cumsum(counts) - counts, counts)
        value = np.arange(parent.size, dtype=np.int64) - first
        parts = np.column_stack([parts[parent], value])
        left = left[parent] - value
    parts = np.column_stack([parts, left])
    return parts / float(p)


def default_partitions(n_obj: int, n_points: int) -> int:
    """The largest ``n_partitions`` whose Das-Dennis lattice has at most ``n_points`` rows.

    Parameters
    ----------
    n_obj : int
        Number of objectives, >= 2 (with one objective every lattice has a single point).
    n_points : int
        Target number of directions, >= ``n_obj`` (the coarsest lattice, ``n_partitions = 1``,
        already has ``n_obj`` points: the simplex corners).

    Returns
    -------
    int
        ``p`` with ``C(p + M - 1, M - 1) <= n_points < C(p + M, M - 1)``.

    Raises
    ------
    ValidationError
        If an argument is not an integer in range.
    """
    m = integer(n_obj, "n_obj", 2)
    target = integer(n_points, "n_points", 1)
    if target < m:
        raise ValidationError(
            f"n_points must be >= n_obj ({m}): the coarsest lattice (n_partitions=1) already "
            f"has {m} directions, got n_points={target}"
        )
    # The count grows strictly with p when M >= 2: double to bracket, then bisect.
    lo, hi = 1, 2
    while comb(hi + m - 1, m - 1) <= target:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if comb(mid + m - 1, m - 1) <= target:
            lo = mid
        else:
            hi = mid
    return lo
