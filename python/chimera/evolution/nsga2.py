"""NSGA-II (Deb, Pratap, Agarwal and Meyarivan 2002): non-dominated sorting with crowding
distance, (mu + lambda) survival, binary tournament on (rank, crowding)."""

from __future__ import annotations

import numpy as np

from .moea import MOEA
from .pareto import ranks


class NSGA2(MOEA):
    """NSGA-II, minimising ``n_obj`` objectives under optional constraints.

    Its parameters are :class:`~chimera.evolution.moea.MOEA`'s (``n_obj`` 2 by default,
    ``pop_size`` 100).

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
