"""SMS-EMOA (Beume, Naujoks and Emmerich 2007): non-dominated sorting, then the individual
of the worst front that contributes the least hypervolume is removed, one at a time.

The paper's algorithm is steady state, one child a generation. Here a generation asks
``n_offspring`` children (``pop_size`` by default) and the ``pop_size + n_offspring``
individuals lose ``n_offspring``, one at a time, each from the worst non-dominated front left
and with the contributions recomputed after every removal: with ``n_offspring=1`` this is the
paper's algorithm. Whole fronts that do not fit go at once (removing them one at a time would
empty them all the same).

Contributions are exclusive hypervolumes: point ``p``'s is the volume of its box up to the
reference point less the hypervolume of ``{max(p, q)}`` over the other points ``q``, both
through moocore (exact in every dimension). In 2 and 3 objectives all of a front's are
computed at once for every removal (``moocore.hv_contributions``, about the cost of one).
Beyond (where moocore's all-at-once is slower than one at a time), a removal can only raise the
others' contributions, so a stale contribution is a lower bound: the smallest one is recomputed until
the smallest is fresh (lazy greedy), which removes exactly the least contributor while
computing few contributions after the first removal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import moocore
import numpy as np
import numpy.typing as npt

from .._validate import integer, real
from .moea import MOEA
from .pareto import ranks


def least_contributors(F: npt.ArrayLike, k: int, ref_offset: float = 1.0) -> np.ndarray:
    """The ``k`` rows of F that SMS-EMOA removes, in the order it removes them: each time the
    row that contributes the least hypervolume to the rows left (ties: the first row).

    Parameters
    ----------
    F : array_like, shape (n, M)
        Objective vectors of one front, minimised.
    k : int
        How many to remove, ``0 <= k <= n``.
    ref_offset : float
        Where the reference point lies: per objective, the front's worst value plus
        ``ref_offset`` times its range (worst minus best, 1 where that is 0), fixed for the
        ``k`` removals. With the front normalised to [0, 1] this is the point
        ``1 + ref_offset``: Beume et al.'s "worst value + 1" made independent of the scale.

    Returns
    -------
    numpy.ndarray
        ``(k,)`` row indices. Rows with a non-finite objective (``nan_policy="worst"``) go
        first, in row order; the reference point is taken over the other rows.

    Notes
    -----
    Exact in any number of objectives, at the cost of exact hypervolumes: the first removal
    computes every row's contribution, later removals usually a few; in 2 and 3 objectives one
    moocore call (``O(n log n)``) gives them all, each removal. Beyond, the cost grows quickly with the number of objectives (about 20 ms for all 200
    contributions of a 5-objective front, and seconds for 8 objectives and 50 points, on the
    2-core machine of benchmarks/results).
    """
    A = np.asarray(F, dtype=np.float64)
    n = A.shape[0]
    k = integer(k, "k", 0, n)
    bad = np.flatnonzero(~np.isfinite(A).all(axis=1))
    removed = [int(r) for r in bad[:k]]
    rows = np.flatnonzero(np.isfinite(A).all(axis=1))
    if len(removed) == k:
        return np.asarray(removed, dtype=np.intp)
    G = A[rows]
    best, worst = G.min(axis=0), G.max(axis=0)
    span = np.where(worst > best, worst - best, 1.0)
    G = (G - best) / span  # in [0, 1]; the reference point is 1 + ref_offset
    ref = np.full(A.shape[1], 1.0 + ref_offset)
    alive = np.ones(rows.size, dtype=bool)
    value = np.zeros(rows.size)  # a lower bound of each contribution (0 before any is known)
    fresh = np.full(rows.size, -1)  # the removal count at which value was computed
    done = 0
    while len(removed) < k:
        i = int(np.argmin(np.where(alive, value, np.inf)))
        if fresh[i] == done:
            alive[i] = False
            removed.append(int(rows[i]))
            done += 1
            continue
        if 2 <= G.shape[1] <= 3:  # all at once: as cheap as one in 2-3 objectives
            value[alive] = moocore.hv_contributions(G[alive], ref=ref)
            fresh[alive] = done
        else:
            value[i] = _contribution(G, i, alive, ref)
            fresh[i] = done
    return np.asarray(removed, dtype=np.intp)


def _contribution(G: np.ndarray, i: int, alive: np.ndarray, ref: np.ndarray) -> float:
    """The hypervolume only row i of the alive rows of G dominates, below ``ref``."""
    p = G[i]
    others = np.delete(G, i, axis=0)[np.delete(alive, i)]
    if (others == p).all(axis=1).any():
        return 0.0  # a duplicate takes nothing away: both read exactly 0, the first goes
    box = float(np.prod(ref - p))
    if others.shape[0] == 0:
        return box
    # What the others dominate of p's box (in a front, never all of it).
    shared = float(moocore.hypervolume(np.maximum(others, p), ref=ref))
    return max(box - shared, 0.0)


class SMSEMOA(MOEA):
    """SMS-EMOA, minimising ``n_obj`` objectives under optional constraints: (mu + lambda)
    survival that removes the least hypervolume contributor of the worst front, one at a
    time.

    Its parameters are :class:`~chimera.evolution.moea.MOEA`'s (``n_obj`` 2 by default,
    ``pop_size`` 100, SBX eta 15 at 0.9 and polynomial mutation eta 20 at 1/dim, as pymoo's
    SMS-EMOA) and:

    Parameters
    ----------
    pop_size : int
        Population size (mu): the survivors of each generation.
    n_offspring : int, optional
        Children a generation (lambda), 1 to ``pop_size``; default ``pop_size``. 1 is the
        paper's steady state.
    ref_offset : float
        The reference point of the contributions, per objective: the worst value of the front
        being reduced plus ``ref_offset`` times its range (> 0; 1 by default: the normalised
        front's worst + 1). Larger values favour the front's extremes.

    Parents are chosen by binary tournament on the survival's front rank (pymoo's SMS-EMOA
    compares by domination; the paper draws them uniformly). Constraints follow Deb's
    constrained domination, as in NSGA-II: infeasible individuals rank behind every feasible
    one, one front per total violation, and a front of infeasible individuals is reduced by
    hypervolume contribution like any other. A child that repeats a parent or a sibling is
    redrawn (up to three times).

    Cost: the contributions are exact (:func:`least_contributors`). Two and three objectives
    take milliseconds a generation; five objectives with 100 to 200 individuals tens of
    milliseconds to seconds; beyond six, exact hypervolumes take seconds and more per
    removal: use MOEA/D or NSGA-III there.
    """

    _FORMAT = "chimera.SMSEMOA/1"

    def __init__(
        self,
        bounds: npt.ArrayLike,
        *,
        n_obj: int = 2,
        pop_size: int = 100,
        n_offspring: int | None = None,
        ref_offset: float = 1.0,
        seed: int | None = None,
        dtype: npt.DTypeLike = "float64",
        crossover: Any = "sbx",
        mutation: Any = "polynomial",
        repair: str = "clip",
        nan_policy: str = "raise",
        backend: str = "auto",
    ) -> None:
        super().__init__(bounds, n_obj=n_obj, pop_size=pop_size, seed=seed, dtype=dtype,
                         crossover=crossover, mutation=mutation, repair=repair,
                         nan_policy=nan_policy, backend=backend)  # fmt: skip
        self.n_offspring = _n_offspring(n_offspring, self.pop_size)
        self.ref_offset = real(ref_offset, "ref_offset", 0.0, open_low=True)
        self._variation = self._variation.replace({}, pop_size=self.n_offspring)

    def _rank(self, F: np.ndarray, cv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = self.pop_size
        rank = ranks(self._moo, F, cv)
        counts = np.cumsum(np.bincount(rank))
        last = int(np.searchsorted(counts, n))  # the front that fills the population
        keep = rank <= last
        split = np.flatnonzero(rank == last)
        excess = int(counts[last]) - n
        if excess:
            keep[split[least_contributors(F[split], excess, self.ref_offset)]] = False
        idx = np.flatnonzero(keep)
        idx = idx[np.argsort(rank[idx], kind="stable")]
        return idx, rank[idx].astype(np.float64)

    def _config(self) -> dict[str, Any]:
        return {**super()._config(), "n_offspring": self.n_offspring,
                "ref_offset": self.ref_offset}  # fmt: skip

    def _batch_rows(self, n: int, told: bool) -> int:
        return self.n_offspring if told else n

    @classmethod
    def offspring_size(cls, options: Mapping[str, Any], n_obj: int = 1,
                       dim: int | None = None) -> int:  # fmt: skip
        """``n_offspring``, or the population these options give."""
        return _n_offspring(options.get("n_offspring"), cls.population_size(options, n_obj, dim))


def _n_offspring(n_offspring: Any, mu: int) -> int:
    """``n_offspring`` checked against the population mu, which it is by default."""
    return mu if n_offspring is None else integer(n_offspring, "n_offspring", 1, mu)
