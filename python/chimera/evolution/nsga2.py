"""NSGA-II (Deb, Pratap, Agarwal and Meyarivan 2002): non-dominated sorting with crowding
distance, (mu + lambda) survival, binary tournament on (rank, crowding)."""

from __future__ import annotations

import numpy as np

from .moea import MOEA
from .pareto import ranks


class NSGA2(MOEA):
    """NSGA-II, minimising ``n_obj`` objectives under optional constraints.

    Parameters
    ----------
    bounds : array_like, shape (dim, 2)
        ``(low, high)`` per gene.
    n_obj : int
        Number of objectives (>= 2).
    pop_size : int
        Population size; each generation breeds as many offspring.
    seed : int, optional
        Seed of the counter-based generator: the same seed gives the same run on any thread
        count, and the same decisions on the cpp and numba backends.
    dtype : {"float64", "float32"}
        Genome kind (SBX and polynomial mutation need a float genome).
    crossover : operator, name or dict
        Recombination of each parent pair: SBX (eta 15, rate 0.9) by default.
    mutation : operator, name or dict
        Per-gene mutation: polynomial (eta 20, rate 1/dim) by default.
    repair : {"clip", "reflect"}
        What happens to a gene that leaves its bounds.
    nan_policy : {"raise", "worst"}
        NaN or infinite objectives raise, or count as the worst value.
    backend : {"auto", "cpp", "numba", "cuda"}
        Kernel backend: breeding, sorting and crowding run on it (``cuda`` copies the arrays to
        the GPU and back each call, which pays for large populations).

    The next population is the best ``pop_size`` of parents and offspring by (constrained)
    Pareto rank, then by crowding distance, ties by position; parents are chosen by binary
    tournament on the same order. A child that repeats a parent or a sibling is redrawn (up to
    three times), so that no evaluation goes to a point the population already holds.
    """

    _FORMAT = "chimera.NSGA2/1"

    def _rank(self, F: np.ndarray, cv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rank = ranks(self._moo, F, cv)
        crowding = np.empty(F.shape[0])
        self._moo.crowding_distance(F, rank, crowding)
        idx = np.lexsort((-crowding, rank))[: self.pop_size]
        r, c = rank[idx], crowding[idx]
        # The tournament key: equal (rank, crowding) pairs tie, and a tie goes to the first drawn.
        step = np.concatenate([[False], (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        return idx, np.cumsum(step).astype(np.float64)
