"""MOEA/D (Zhang and Li 2007): a multi-objective problem decomposed into one scalar subproblem
per weight vector, each solved by the neighbouring subproblems' solutions.

The weight vectors are a Das-Dennis lattice (:mod:`chimera.directions`) and the population
holds one solution per vector. A child of subproblem ``i`` is bred from two solutions of its
neighbourhood ``B(i)`` (the ``T`` nearest weight vectors, ``i`` among them) with probability
``delta``, of the whole population otherwise, and replaces at most ``n_replace`` solutions of
that same pool that it scalarises no worse than they do, visited in random order: the update
of MOEA/D-DE (Li and Zhang 2009), which keeps one good child from taking over a
neighbourhood. The ideal point is the least value of each objective evaluated so far.

Offspring come from the variation kernels (SBX and polynomial mutation by default, as in
pymoo's MOEA/D). The kernels pick parents themselves; with every weight equal, stochastic
universal sampling over ``2N`` rows fills ``2N`` slots with a permutation of the rows (one
Fisher-Yates shuffle of ``Stream(seed, generation, 0, SHUFFLE)``), so a one-gene dry run of
the kernel reads that permutation and the chosen parents are laid out along it: pair ``i``
of the real call then mates exactly subproblem ``i``'s parents, and its first child is
subproblem ``i``'s. Every operator, repair and backend works unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _state_dict
from .._core import rng
from .._errors import ValidationError
from .._validate import choice, integer, real
from ..optimizer import Survival
from . import operators as ops
from .evolutionary import EvolutionaryAlgorithm
from .nsga3 import reference_directions

#: The Philox purpose of MOEA/D's draws: ``Stream(seed, generation, j, MATING)`` gives the
#: batch's child ``j`` its mating pool, its parents and the order its replacement visits the
#: pool in (docs/kernels.md lists the purposes; 11 and 12 are differential evolution's, 13 the
#: GA's step sizes).
MATING = 14
#: The purpose of the subproblems' visiting order: sweep ``k`` is the permutation that sorts
#: the uniforms of ``Stream(seed, k, 0, ORDER)``.
ORDER = 15

DECOMPOSITIONS = ("tchebycheff", "pbi")

#: What a zero weight counts as in the Tchebycheff function (jMetal's MOEA/D does the same):
#: otherwise a corner subproblem ignores every other objective and keeps a dominated point.
ZERO_WEIGHT = 1e-4

#: pymoo's MOEA/D crossover: every pair recombines, as a pair that does not spends an
#: evaluation on a copy of a parent.
SBX_ALWAYS = ops.SBX(20.0, rate=1.0)

#: The default batch is the population over this, rounded up (measured: the class's Notes).
BATCH_FRACTION = 10

# Pairwise distances are computed this many matrix entries at a time.
_CHUNK = 1 << 22


def tchebycheff(F: npt.ArrayLike, W: npt.ArrayLike, ideal: npt.ArrayLike) -> np.ndarray:
    """The Tchebycheff function ``max_k w_k |f_k - z_k|`` of each objective row against its
    weight row (rows broadcast), a zero weight counting as :data:`ZERO_WEIGHT`.

    Parameters
    ----------
    F : array_like, shape (n, M)
        Objective vectors, minimised.
    W : array_like, shape (n, M) or (M,)
        Weight vectors (non-negative).
    ideal : array_like, shape (M,)
        The ideal point ``z``.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` values, smaller is better; ``inf`` where an objective is not finite.
    """
    F, W, z = _floats(F, W, ideal)
    with np.errstate(invalid="ignore", over="ignore"):
        return _finite(_tchebycheff(F - z, np.where(W > 0.0, W, ZERO_WEIGHT)))


def pbi(F: npt.ArrayLike, W: npt.ArrayLike, ideal: npt.ArrayLike, theta: float = 5.0) -> np.ndarray:
    """Penalty-based boundary intersection ``d1 + theta d2``: ``d1`` the length of
    ``f - z`` along the unit weight vector, ``d2`` its distance from that line.

    Parameters
    ----------
    F : array_like, shape (n, M)
        Objective vectors, minimised.
    W : array_like, shape (n, M) or (M,)
        Weight vectors (non-negative, non-zero).
    ideal : array_like, shape (M,)
        The ideal point ``z``.
    theta : float
        The penalty on ``d2`` (5 in Zhang and Li's experiments).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` values, smaller is better; ``inf`` where an objective is not finite.
    """
    F, W, z = _floats(F, W, ideal)
    with np.errstate(invalid="ignore", over="ignore"):
        return _finite(_pbi(F - z, _unit(W), theta))


def _tchebycheff(D: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``max_k w_k |d_k|`` of the offsets D from the ideal point (zero weights replaced)."""
    return (w * np.abs(D)).max(axis=-1)


def _pbi(D: np.ndarray, u: np.ndarray, theta: float) -> np.ndarray:
    """``d1 + theta d2`` of the offsets D from the ideal point along the unit vectors u."""
    d1 = (D * u).sum(axis=-1)
    off = D - d1[..., None] * u
    return d1 + theta * np.sqrt((off * off).sum(axis=-1))


def _unit(W: np.ndarray) -> np.ndarray:
    return W / np.sqrt((W * W).sum(axis=-1, keepdims=True))


def _finite(g: np.ndarray) -> np.ndarray:
    """NaN (an infinite objective against an infinite ideal, or times a zero weight) as the
    worst value, so that such a solution is replaced, never kept for ever."""
    return np.where(np.isnan(g), np.inf, g)


def neighbourhoods(W: np.ndarray, T: int) -> np.ndarray:
    """``(H, T)`` rows of the ``T`` weight vectors nearest each one (Euclidean distance, ties
    by row, so a vector is its own first neighbour unless an earlier row repeats it)."""
    H, m = W.shape
    out = np.empty((H, T), dtype=np.intp)
    step = max(1, _CHUNK // max(1, H * m))
    for lo in range(0, H, step):
        d2 = ((W[lo : lo + step, None, :] - W[None, :, :]) ** 2).sum(axis=2)
        out[lo : lo + step] = np.argsort(d2, axis=1, kind="stable")[:, :T]
    return out


def replaced(g_child: np.ndarray, g_current: np.ndarray, pool: np.ndarray,
             n_replace: int) -> np.ndarray:  # fmt: skip
    """The rows of ``pool`` (in the order visited) a child replaces: the first ``n_replace``
    whose scalarised value ``g_current`` is no better than the child's ``g_child``."""
    return pool[g_child <= g_current][:n_replace]


def weight_vectors(n_obj: Any, ref_dirs: Any, n_partitions: Any, pop_size: Any) -> np.ndarray:
    """MOEA/D's weight vectors: ``ref_dirs``, the Das-Dennis lattice of ``n_partitions``, or
    the finest lattice with at most ``pop_size`` vectors; ``pop_size`` given with either of
    the others must equal their count."""
    n_obj = integer(n_obj, "n_obj", 2, 2**15)
    if pop_size is not None:
        pop_size = integer(pop_size, "pop_size", 2, 2**31 - 1)
        if pop_size < n_obj:
            raise ValidationError(f"pop_size must be >= n_obj ({n_obj}): the coarsest lattice "
                                  f"already has {n_obj} weight vectors, got {pop_size}")  # fmt: skip
    W = reference_directions(n_obj, ref_dirs, n_partitions, pop_size)
    given = ref_dirs is not None or n_partitions is not None
    if pop_size is not None and given and pop_size != W.shape[0]:
        source = "ref_dirs" if ref_dirs is not None else f"n_partitions={n_partitions}"
        raise ValidationError(
            f"pop_size must be the number of weight vectors ({W.shape[0]} from {source}) or "
            f"left out: MOEA/D keeps one solution per weight vector, got {pop_size}"
        )
    return W


class MOEAD(EvolutionaryAlgorithm):
    """MOEA/D, minimising ``n_obj`` objectives (no constraints): one subproblem per weight
    vector, neighbourhood mating and MOEA/D-DE's bounded replacement.

    Parameters
    ----------
    bounds : array_like, shape (dim, 2)
        ``(low, high)`` per gene.
    n_obj : int
        Number of objectives (>= 2).
    ref_dirs : array_like, shape (H, n_obj), optional
        Weight vectors (non-negative, non-zero rows). Default: the Das-Dennis lattice of
        ``n_partitions`` divisions (default: the finest with at most ``pop_size`` vectors,
        or 12 for three objectives, 91 vectors, when ``pop_size`` is not given either).
    n_partitions : int, optional
        Das-Dennis divisions of the simplex edge, when ``ref_dirs`` is not given.
    pop_size : int, optional
        The population is one solution per weight vector: given alone, the finest lattice
        with at most this many vectors; given with ``ref_dirs`` or ``n_partitions``, it must
        equal their count.
    decomposition : {"auto", "tchebycheff", "pbi"}
        The scalarising function: Tchebycheff ``max_k w_k |f_k - z_k|`` (a zero weight
        counts as 1e-4), or penalty-based boundary intersection ``d1 + theta d2``; ``auto``
        is Tchebycheff for two objectives and PBI for more, as in pymoo.
    theta : float
        PBI's penalty on the distance from the weight vector's line (> 0; 5 by default).
    n_neighbours : int
        Neighbourhood size T (>= 2): the nearest weight vectors, the subproblem's own among
        them; more than the population means all of it.
    delta : float
        Probability that a child's parents, and the solutions it may replace, come from its
        neighbourhood rather than the whole population.
    n_replace : int
        Most solutions one child replaces (n_r, >= 1; MOEA/D-DE's 2 by default).
    n_offspring : int, optional
        Children a batch (``ask``): the next subproblems of a random visiting order, each
        sweep of it a fresh permutation. 1 is the steady-state algorithm of Zhang and Li (a
        child's parents include every replacement before it), the population size a whole
        generation at once. Default: a tenth of the population, rounded up (see Notes).
    seed : int, optional
        Seed of the counter-based generator: the same seed gives the same run on any thread
        count and backend.
    dtype : {"float64", "float32"}
        Genome kind (SBX and polynomial mutation need a float genome).
    crossover : operator, name or dict
        Recombination of each child's two parents: SBX with eta 20 on every pair by
        default, as in pymoo's MOEA/D (a child is the pair's first).
    mutation : operator, name or dict
        Per-gene mutation: polynomial (eta 20, rate 1/dim) by default.
    repair : {"clip", "reflect"}
        What happens to a gene that leaves its bounds.
    nan_policy : {"raise", "worst"}
        NaN or infinite objectives raise, or count as the worst value (such a child
        replaces nothing).
    backend : {"auto", "cpp", "numba", "cuda"}
        Kernel backend of the breeding (the same children on each).

    Notes
    -----
    A batch asks one child for each of its ``n_offspring`` subproblems, all bred from the
    population as it was, then ``tell`` processes the children in the batch's order: the
    ideal point takes a child's objectives, then the child replaces solutions of its pool.
    This is the sequential algorithm of Zhang and Li with evaluation delayed to the end of
    the batch: deterministic for a seed, and the same whatever evaluates it. The smaller the
    batch, the sooner a good child becomes a parent: against whole generations, a tenth of
    the population (21 of 210 weights) had a lower median IGD+ on DTLZ2 at 5 and 10
    objectives (3% and 2.6%, p < 0.002 over 10 seeds) and DTLZ7 at 5, the same on DTLZ1 at 5
    and 10 and DTLZ4 at 5, and no worse than one child a batch
    (benchmarks/results/2026-12-08-moead-batches.md).

    Objectives are not normalised, as in the paper's basic algorithm and in pymoo: the
    stored solutions' scalarised values then stay comparable from one generation to the
    next (a normalisation by a moving nadir estimate would re-rank them each generation, and
    on DTLZ1 the first estimates are hundreds of times the front's scale). Objectives of very
    different scales should be rescaled by the caller.

    Constraints are not supported (``tell`` refuses ``G``), as in pymoo's MOEA/D. A child
    that copies a parent is not redrawn.
    """

    multi_objective = True
    adaptive_mutation = False
    constraints = False
    operator_keys = ("crossover", "mutation")
    #: /1: whole generations in subproblem order, before n_offspring (not resumable here).
    _FORMAT = "chimera.MOEAD/2"

    def __init__(
        self,
        bounds: npt.ArrayLike,
        *,
        n_obj: int = 3,
        ref_dirs: npt.ArrayLike | None = None,
        n_partitions: int | None = None,
        pop_size: int | None = None,
        decomposition: str = "auto",
        theta: float = 5.0,
        n_neighbours: int = 20,
        delta: float = 0.9,
        n_replace: int = 2,
        n_offspring: int | None = None,
        seed: int | None = None,
        dtype: npt.DTypeLike = "float64",
        crossover: Any = SBX_ALWAYS,
        mutation: Any = "polynomial",
        repair: str = "clip",
        nan_policy: str = "raise",
        backend: str = "auto",
    ) -> None:
        self.ref_dirs = W = weight_vectors(n_obj, ref_dirs, n_partitions, pop_size)
        name = choice(decomposition, "decomposition", ("auto", *DECOMPOSITIONS))
        self.decomposition = name if name != "auto" else ("tchebycheff" if n_obj == 2 else "pbi")
        self.theta = real(theta, "theta", 0.0, open_low=True)
        T = integer(n_neighbours, "n_neighbours", 2)
        self.delta = real(delta, "delta (a probability)", 0.0, 1.0)
        self.n_replace = integer(n_replace, "n_replace", 1)
        super().__init__(
            bounds, pop_size=W.shape[0], seed=seed, dtype=dtype,
            selection=ops.StochasticUniversal(), crossover=crossover, mutation=mutation,
            repair=repair, n_obj=n_obj, nan_policy=nan_policy, backend=backend,
        )  # fmt: skip
        self.n_neighbours = min(T, self.pop_size)
        self.neighbours = neighbourhoods(W, self.n_neighbours)
        n = self.pop_size
        self.n_offspring = _n_offspring(n_offspring, n)
        # Twice the batch: the kernels breed pairs, and a subproblem takes a pair's first.
        self._variation = self._variation.replace({}, pop_size=2 * self.n_offspring)
        self._visited = 0  # subproblems visited so far, over all sweeps
        self._sweep: tuple[int, np.ndarray] | None = None  # (k, sweep k's order), cached
        self._ideal = np.full(self.n_obj, np.inf)
        self._unit = _unit(W)
        self._weights = np.where(W > 0.0, W, ZERO_WEIGHT)

    @classmethod
    def population_size(cls, options: Mapping[str, Any], n_obj: int = 3,
                        dim: int | None = None) -> int:  # fmt: skip
        """The number of weight vectors these options give."""
        W = weight_vectors(n_obj, options.get("ref_dirs"), options.get("n_partitions"),
                           options.get("pop_size"))  # fmt: skip
        return int(W.shape[0])

    @classmethod
    def offspring_size(cls, options: Mapping[str, Any], n_obj: int = 3,
                       dim: int | None = None) -> int:  # fmt: skip
        """``n_offspring``, or its default for the population these options give."""
        return _n_offspring(options.get("n_offspring"), cls.population_size(options, n_obj, dim))

    @property
    def ideal(self) -> np.ndarray:
        """The least value of each objective evaluated so far, minimising (``inf`` before)."""
        return self._ideal.copy()

    def scalarise(self, F: npt.ArrayLike, rows: npt.ArrayLike) -> np.ndarray:
        """This run's decomposition of objective rows F against the weight vectors of
        subproblems ``rows``, at the current ideal point (:func:`tchebycheff` or :func:`pbi`)."""
        with np.errstate(invalid="ignore", over="ignore"):
            return self._scalarise(np.asarray(F, dtype=np.float64) - self._ideal,
                                   np.asarray(rows, dtype=np.intp))  # fmt: skip

    def _scalarise(self, D: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if self.decomposition == "pbi":
            return _finite(_pbi(D, self._unit[rows], self.theta))
        return _finite(_tchebycheff(D, self._weights[rows]))

    # breeding ---------------------------------------------------------------------------------

    @property
    def subproblems(self) -> np.ndarray:
        """The subproblem of each child of the pending (or next) ask: the whole population in
        order for the first, then the next ``n_offspring`` of the visiting order."""
        return np.arange(self.pop_size) if self._pop is None else self._batch()

    def _batch(self) -> np.ndarray:
        """The subproblems of the pending batch: the next ``n_offspring`` of the endless
        visiting order (sweep after sweep; a batch may end one and start the next)."""
        n = self.pop_size
        at = self._visited + np.arange(self.n_offspring)
        sweep = at // n
        out = np.empty_like(at)
        for k in range(int(sweep[0]), int(sweep[-1]) + 1):
            mine = sweep == k
            out[mine] = self._order(k)[at[mine] % n]
        return out

    def _order(self, k: int) -> np.ndarray:
        """Sweep k of the visiting order: the permutation that sorts its stream's uniforms."""
        if self._sweep is None or self._sweep[0] != k:
            u = np.asarray(rng.uniform_rows(self.seed, k, ORDER, 1, self.pop_size))[0]
            self._sweep = (k, np.argsort(u, kind="stable"))
        return self._sweep[1]

    def _draws(self, k: int) -> np.ndarray:
        """Row j: the first ``k`` uniforms of batch child j's stream this generation: its
        mating pool (the first), its parents (the next two), then the order its replacement
        visits."""
        return np.asarray(rng.uniform_rows(self.seed, self.generation, MATING,
                                           self.n_offspring, k))  # fmt: skip

    def _mating(self, S: np.ndarray) -> np.ndarray:
        """The two parent rows of each subproblem of S."""
        n, T = self.pop_size, self.n_neighbours
        u = self._draws(3)
        local = u[:, 0] < self.delta
        size = np.where(local, T, n)
        j1 = (u[:, 1] * size).astype(np.intp)
        j2 = (u[:, 2] * (size - 1)).astype(np.intp)
        j2 += j2 >= j1
        a = np.where(local, self.neighbours[S, np.minimum(j1, T - 1)], j1)
        b = np.where(local, self.neighbours[S, np.minimum(j2, T - 1)], j2)
        return np.stack([a, b], axis=1).astype(np.int32)

    def _breed(self) -> tuple[np.ndarray, np.ndarray | None]:
        if self._pop is None:
            return self._variation.initial(self.pop_size), None
        b = self.n_offspring
        parents = self._mating(self._batch())
        slots = self._slots()
        pool = np.empty((2 * b, self.dim), dtype=self.dtype)
        pool[slots[:, 0]] = self._pop[parents[:, 0]]
        pool[slots[:, 1]] = self._pop[parents[:, 1]]
        children, mated = self._variation.offspring(pool, np.zeros(2 * b), self.generation)
        if not np.array_equal(mated[::2], slots):
            raise RuntimeError("the breed kernel's stochastic universal sampling no longer "
                               "permutes its rows (docs/kernels.md): MOEA/D cannot place "
                               "its parents")  # fmt: skip
        return np.ascontiguousarray(children[::2]), parents

    def _slots(self) -> np.ndarray:
        """The pool rows pair j of this generation's breed call mates, read from a dry run
        on one gene: with equal weights and as many slots as rows, the kernels' stochastic
        universal sampling is a shuffle of the rows that depends only on the seed, the
        generation and the number of rows."""
        m = 2 * self.n_offspring
        probe = np.zeros((m, 1))
        parents = np.empty((m, 2), dtype=np.int32)
        self._variation.kernels.breed(
            probe, np.zeros(m), np.zeros(1), np.ones(1), np.empty((m, 1)), parents,
            self.seed, self.generation, ops.StochasticUniversal.code, 0,
            ops.NoCrossover.code, 0, 0.0, ops.NoMutation.code, 0, 0.0,
            np.zeros(0, dtype=np.uint32), 0,
        )  # fmt: skip
        return parents[::2].copy()

    # survival ---------------------------------------------------------------------------------

    def _survive(self, X: np.ndarray, F: np.ndarray, cv: np.ndarray) -> Survival:
        n = self.pop_size
        if self._pop is None or self._F is None:
            self._update_ideal(F)
            return Survival(X, F, cv, np.arange(n) + n)
        S = self._batch()
        pop, Fp = self._pop.copy(), self._F.copy()
        survivors = np.arange(n)
        U = self._draws(3 + self.n_neighbours)  # a neighbourhood's visiting order follows
        local = U[:, 0] < self.delta
        everyone = np.arange(n)
        with np.errstate(invalid="ignore", over="ignore"):
            for j, i in enumerate(S):
                self._update_ideal(F[j : j + 1])
                if local[j]:
                    pool, keys = self.neighbours[i], U[j, 3:]
                else:  # the whole population's order: this stream further on
                    pool = everyone
                    keys = rng.uniform(self.seed, self.generation, j, MATING, 3 + n)[3:]
                order = pool[np.argsort(keys, kind="stable")]
                D = np.empty((2, order.size, self.n_obj))  # the child's offsets, the pool's
                np.subtract(F[j], self._ideal, out=D[0])
                np.subtract(Fp[order], self._ideal, out=D[1])
                g = self._scalarise(D, order)
                rows = replaced(g[0], g[1], order, self.n_replace)
                pop[rows], Fp[rows], survivors[rows] = X[j], F[j], n + j
        self._visited += S.size
        return Survival(pop, Fp, np.zeros(n), survivors)

    def _update_ideal(self, F: np.ndarray) -> None:
        self._ideal = np.minimum(self._ideal, np.where(np.isfinite(F), F, np.inf).min(axis=0))

    # checkpoints ------------------------------------------------------------------------------

    def _config(self) -> dict[str, Any]:
        operators = {k: v for k, v in super()._config().items() if k != "selection"}
        return {**operators, "n_obj": self.n_obj, "ref_dirs": self.ref_dirs.tolist(),
                "decomposition": self.decomposition, "theta": self.theta,
                "n_neighbours": self.n_neighbours, "delta": self.delta,
                "n_replace": self.n_replace,
                "n_offspring": self.n_offspring}  # fmt: skip

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "ideal": self._ideal.copy(), "visited": self._visited}

    def _load_state(self, state: Mapping[str, Any], n: int) -> tuple[Any, Any, Any]:
        F, cv, _ = super()._load_state(state, n)
        ideal = _state_dict.array(state, "ideal", (self.n_obj,), np.float64)
        if ideal is None:
            ideal = np.full(self.n_obj, np.inf)
        if np.isnan(ideal).any() or (ideal == -np.inf).any():
            raise ValidationError(f"{type(self).__name__} checkpoint's ideal must hold numbers "
                                  "or +inf (none seen yet)")  # fmt: skip
        if F is not None and (ideal > F).any():
            raise ValidationError(f"{type(self).__name__} checkpoint's ideal is not the least "
                                  "of its objectives")  # fmt: skip
        (visited,) = _state_dict.counters(state, "visited")
        return F, cv, {"ideal": ideal, "visited": visited}

    def _apply_state(self, extra: Any) -> None:
        self._ideal, self._visited = extra["ideal"], extra["visited"]

    def _batch_rows(self, n: int, told: bool) -> int:
        return self.n_offspring if told else n

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a snapshot taken by ``state_dict`` (see
        :meth:`~chimera.optimizer.Optimizer.load_state_dict`); one written before MOEA/D
        bred in batches is refused by name."""
        if isinstance(state, Mapping) and str(state.get("format")) == "chimera.MOEAD/1":
            raise ValidationError(
                "this MOEAD checkpoint was written before MOEA/D bred in batches (format "
                "chimera.MOEAD/1: whole generations in subproblem order); this version cannot "
                "continue it: finish the run with the chimera that wrote it, or start it again"
            )
        super().load_state_dict(state)


def _n_offspring(n_offspring: Any, n: int) -> int:
    """The batch: ``n_offspring`` checked against the population n, or n / BATCH_FRACTION
    rounded up."""
    if n_offspring is None:
        return -(-n // BATCH_FRACTION)
    return integer(n_offspring, "n_offspring", 1, n)


def _floats(F: npt.ArrayLike, W: npt.ArrayLike,
            ideal: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    return (np.asarray(F, dtype=np.float64), np.asarray(W, dtype=np.float64),
            np.asarray(ideal, dtype=np.float64))  # fmt: skip
