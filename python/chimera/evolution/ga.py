"""The genetic algorithm (Layer 7): ask/tell over the native whole-population kernels."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .._errors import StateError, ValidationError
from .._validate import check_fitness, check_nan_policy
from . import _checkpoint
from .variation import Variation

_STATE_FORMAT = "chimera.GA/1"


def elitist_survival(
    Xp: np.ndarray,
    fp: np.ndarray,
    X: np.ndarray,
    f: np.ndarray,
    elitism: int,
    *,
    general: bool = False,
) -> np.ndarray:
    """Keep the best ``len(f)`` of the ``elitism`` best parents and the offspring, in place.

    Candidates are ranked by fitness in a stable order with the elite parents first, so ties
    go to parents; an offspring row that loses its place is refilled by a surviving elite, in
    order. Row order is therefore the same on every backend. ``elitism == 1`` takes an O(n)
    path with the same result (``general=True`` forces the sorting path, for tests).

    Returns where each row of the new population came from: a parent row (< n) or ``n`` plus
    the offspring row.
    """
    n, e = f.size, elitism
    sources = np.arange(n, 2 * n)
    if e == 0:
        return sources
    if e == 1 and not general:
        b = int(np.argmin(fp))
        w = n - 1 - int(np.argmax(f[::-1]))  # the last of the worst offspring drops first
        if fp[b] <= f[w]:
            X[w], f[w], sources[w] = Xp[b], fp[b], b
        return sources
    elite = np.argsort(fp, kind="stable")[:e]
    order = np.argsort(np.concatenate([fp[elite], f]), kind="stable")
    dropped = np.sort(order[n:])
    rows = dropped[dropped >= e] - e
    kept = elite[np.setdiff1d(np.arange(e), dropped, assume_unique=True)]
    X[rows], f[rows], sources[rows] = Xp[kept], fp[kept], kept
    return sources


class GA:
    """A generational genetic algorithm with elitism, minimising by default.

    Parameters
    ----------
    bounds : array_like, shape (dim, 2)
        ``(low, high)`` per gene; integer genomes include ``high``, bool genomes use ``(0, 1)``.
    pop_size : int
        Individuals per generation (at least 2); ``ask()`` returns this many.
    seed : int, optional
        Seed of the counter-based generator; the same seed gives the same run on any thread
        count, and the same integer decisions on any backend.
    dtype : {"float64", "float32", "int32", "bool"}
        Genome kind.
    selection, crossover, mutation : operator, name or dict
        See :mod:`chimera.evolution.operators`. Defaults: tournament of 3, single-point crossover
        at rate 0.9, and Gaussian (float), random reset (int32) or bit-flip (bool) mutation at
        rate 1/dim.
    elitism : int
        How many of the best parents compete with the offspring for a place: the next
        population is the best ``pop_size`` of the ``elitism`` best parents and the offspring
        (``elitism=pop_size`` is (mu + lambda) survival, 0 is purely generational).
    repair : {"clip", "reflect"}
        What happens to a float gene that leaves its bounds.
    maximize : bool
        Maximise fitness instead of minimising it.
    nan_policy : {"raise", "worst"}
        NaN or infinite fitness raises (naming the individuals) or counts as the worst value.
    backend : {"auto", "cpp", "numba", "cuda"}
        Kernel backend; ``auto`` honours ``CHIMERA_BACKEND``.
    """

    def __init__(
        self,
        bounds: Any,
        *,
        pop_size: int = 100,
        seed: int | None = None,
        dtype: Any = "float64",
        selection: Any = "tournament",
        crossover: Any = "single_point",
        mutation: Any = None,
        elitism: int = 1,
        repair: str = "clip",
        maximize: bool = False,
        nan_policy: str = "raise",
        backend: str = "auto",
    ) -> None:
        self._variation = v = Variation(
            bounds, pop_size=pop_size, seed=seed, dtype=dtype, selection=selection,
            crossover=crossover, mutation=mutation, repair=repair, backend=backend,
        )  # fmt: skip
        self.dtype, self.low, self.high, self.dim = v.dtype, v.low, v.high, v.dim
        self.pop_size, self.seed, self.repair, self.backend = (
            v.pop_size,
            v.seed,
            v.repair,
            v.backend,
        )
        self.selection, self.crossover, self.mutation = v.selection, v.crossover, v.mutation
        if (
            isinstance(elitism, bool)
            or not isinstance(elitism, (int, np.integer))
            or not 0 <= elitism <= pop_size
        ):
            raise ValidationError(
                f"elitism must be an integer in [0, pop_size={pop_size}], got {elitism!r}"
            )
        self.elitism = int(elitism)
        self.maximize = bool(maximize)
        self.nan_policy = check_nan_policy(nan_policy)

        self._pop: np.ndarray | None = None
        self._fit: np.ndarray | None = None
        self._pending: np.ndarray | None = None
        self._parents: np.ndarray | None = None
        self._survivors: np.ndarray | None = None
        self.generation = 0
        self.nfev = 0
        self._best_x: np.ndarray | None = None
        self._best_f = np.inf

    # ask / tell -------------------------------------------------------------------------

    def ask(self) -> np.ndarray:
        """The next ``(pop_size, dim)`` individuals to evaluate (the same ones until ``tell``).

        The array becomes the next population without a copy, so ``tell`` may overwrite the
        rows of offspring that lost their place to elites: copy it if you keep it.
        """
        if self._pending is not None:
            return self._pending
        if self._pop is None:
            out, self._parents = self._variation.initial(), None
        else:
            assert self._fit is not None
            out, self._parents = self._variation.offspring(self._pop, self._fit, self.generation)
        self._pending = out
        return out

    def tell(self, fitness: Any) -> None:
        """Fitness of the individuals the last ``ask()`` returned, one value each."""
        if self._pending is None:
            raise StateError("tell() needs a pending ask(): call ask(), evaluate it, then tell()")
        f = check_fitness(fitness, self.pop_size, self.nan_policy, -1.0 if self.maximize else 1.0)
        X = self._pending
        b = int(np.argmin(f))
        if f[b] < self._best_f:
            self._best_f = float(f[b])
            self._best_x = X[b].copy()
        if self._pop is not None and self._fit is not None:
            self._survivors = elitist_survival(self._pop, self._fit, X, f, self.elitism)
        else:
            self._survivors = np.arange(self.pop_size, 2 * self.pop_size)
        self._pop, self._fit = X, f
        self._pending = None
        self.generation += 1
        self.nfev += self.pop_size

    def set_operators(self, *, selection: Any = None, crossover: Any = None,
                      mutation: Any = None) -> None:  # fmt: skip
        """Breed the next offspring with other operators (those not given stay): adaptive
        operator selection switches them between generations. The population, counters and
        generator stay, so a run is still a function of its seed and its operator choices."""
        if self._pending is not None:
            raise StateError("set_operators() between tell() and ask(): offspring are pending")
        v = self._variation
        self._variation = Variation(
            np.column_stack([v.low, v.high]), pop_size=v.pop_size, seed=v.seed, dtype=v.dtype,
            selection=v.selection if selection is None else selection,
            crossover=v.crossover if crossover is None else crossover,
            mutation=v.mutation if mutation is None else mutation,
            repair=v.repair, backend=v.backend,
        )  # fmt: skip
        self.selection, self.crossover = self._variation.selection, self._variation.crossover
        self.mutation = self._variation.mutation

    # results ----------------------------------------------------------------------------

    @property
    def best_x(self) -> np.ndarray | None:
        """Best genome evaluated so far (None before the first ``tell``)."""
        return None if self._best_x is None else self._best_x.copy()

    @property
    def best_f(self) -> float:
        """Fitness of ``best_x`` in the caller's sense (maximised when ``maximize``)."""
        return -self._best_f if self.maximize else self._best_f

    @property
    def population(self) -> np.ndarray | None:
        """The current population (after the last ``tell``)."""
        return self._pop

    @property
    def fitness(self) -> np.ndarray | None:
        """Fitness of the current population, in the caller's sense."""
        if self._fit is None:
            return None
        return -self._fit if self.maximize else self._fit.copy()

    @property
    def parents(self) -> np.ndarray | None:
        """(pop_size, 2) parent rows of the pending offspring; None for the first generation."""
        return self._parents

    @property
    def operators(self) -> str:
        """The variation operators as one line, as the genome store records them."""
        return self._variation.operators()

    @property
    def survivors(self) -> np.ndarray | None:
        """Where each row of the current population came from: a row of the previous
        population (< pop_size) or ``pop_size`` plus a row of the last offspring."""
        return self._survivors

    # checkpoints ------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """Everything that defines this optimizer's trajectory (backend aside)."""
        return {
            **self._variation.config(),
            "elitism": self.elitism,
            "maximize": self.maximize,
            "nan_policy": self.nan_policy,
        }

    def state_dict(self) -> dict[str, Any]:
        """A snapshot from which ``load_state_dict`` continues bit for bit.

        The generator is counter-based, so the state is just the population, its fitness,
        any pending offspring and the counters.
        """
        copy = _checkpoint.copy
        return {
            "format": _STATE_FORMAT,
            "config": self.config(),
            "backend": self.backend,
            "generation": self.generation,
            "nfev": self.nfev,
            "population": copy(self._pop),
            "fitness": copy(self._fit),
            "pending": copy(self._pending),
            "parents": copy(self._parents),
            "survivors": copy(self._survivors),
            "best_x": copy(self._best_x),
            "best_f": self._best_f,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a snapshot taken by ``state_dict`` from an identically configured GA."""
        _checkpoint.check(state, _STATE_FORMAT, self.config(), "GA")
        array = functools.partial(_checkpoint.array, state)
        n, d = self.pop_size, self.dim
        pop = array("population", (n, d), self.dtype)
        fit = array("fitness", (n,), np.float64)
        pending = array("pending", (n, d), self.dtype)
        parents = array("parents", (n, 2), np.int32)
        survivors = array("survivors", (n,), np.intp)
        best_x = array("best_x", (d,), self.dtype)
        if (pop is None) != (fit is None):
            raise ValidationError("checkpoint has a population without fitness, or the reverse")
        generation, nfev = _checkpoint.counters(state, "generation", "nfev")
        try:
            best_f = float(state["best_f"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"checkpoint counters are missing or malformed: {exc}") from exc
        self._pop, self._fit, self._pending, self._parents = pop, fit, pending, parents
        self._survivors = survivors
        self._best_x, self._best_f = best_x, best_f
        self.generation, self.nfev = generation, nfev

    def __repr__(self) -> str:
        return (
            f"GA(dim={self.dim}, pop_size={self.pop_size}, dtype={self.dtype}, "
            f"selection={self.selection}, crossover={self.crossover}, mutation={self.mutation}, "
            f"elitism={self.elitism}, backend={self.backend!r}, generation={self.generation})"
        )
