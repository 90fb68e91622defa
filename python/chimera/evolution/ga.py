"""The genetic algorithm (Layer 7): ask/tell over the native whole-population kernels."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _backend
from .._errors import StateError, ValidationError
from .._validate import as_bounds, as_seed, check_fitness, check_nan_policy, genome_dtype
from . import operators as ops

_REPAIRS = {"clip": 0, "reflect": 1}
_STATE_FORMAT = "chimera.GA/1"


def _default_mutation(dtype: np.dtype) -> ops.Mutation:
    return {"f": ops.Gaussian(), "i": ops.RandomReset(), "b": ops.BitFlip()}[dtype.kind]


def elitist_survival(
    Xp: np.ndarray,
    fp: np.ndarray,
    X: np.ndarray,
    f: np.ndarray,
    elitism: int,
    *,
    general: bool = False,
) -> None:
    """Keep the best ``len(f)`` of the ``elitism`` best parents and the offspring, in place.

    Candidates are ranked by fitness in a stable order with the elite parents first, so ties
    go to parents; an offspring row that loses its place is refilled by a surviving elite, in
    order. Row order is therefore the same on every backend. ``elitism == 1`` takes an O(n)
    path with the same result (``general=True`` forces the sorting path, for tests).
    """
    n, e = f.size, elitism
    if e == 0:
        return
    if e == 1 and not general:
        b = int(np.argmin(fp))
        w = n - 1 - int(np.argmax(f[::-1]))  # the last of the worst offspring drops first
        if fp[b] <= f[w]:
            X[w], f[w] = Xp[b], fp[b]
        return
    elite = np.argsort(fp, kind="stable")[:e]
    order = np.argsort(np.concatenate([fp[elite], f]), kind="stable")
    dropped = np.sort(order[n:])
    rows = dropped[dropped >= e] - e
    kept = elite[np.setdiff1d(np.arange(e), dropped, assume_unique=True)]
    X[rows], f[rows] = Xp[kept], fp[kept]


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
        self.dtype = genome_dtype(dtype)
        self.low, self.high = as_bounds(bounds, self.dtype)
        self.dim = int(self.low.size)
        if (
            isinstance(pop_size, bool)
            or not isinstance(pop_size, (int, np.integer))
            or pop_size < 2
        ):
            raise ValidationError(f"pop_size must be an integer >= 2, got {pop_size!r}")
        if pop_size >= 2**31:
            raise ValidationError(f"pop_size must be below 2**31, got {pop_size}")
        self.pop_size = int(pop_size)
        self.seed = as_seed(seed)
        self.selection = ops.make("selection", selection, ops.SELECTIONS)
        self.crossover = ops.make("crossover", crossover, ops.CROSSOVERS)
        self.mutation = ops.make(
            "mutation",
            _default_mutation(self.dtype) if mutation is None else mutation,
            ops.MUTATIONS,
        )
        if self.dtype.kind != "f" and self.crossover.real_only:
            raise ValidationError(
                f"{self.crossover.name} crossover needs a float genome, not {self.dtype}"
            )
        if self.dtype.kind not in self.mutation.kinds:
            raise ValidationError(
                f"{self.mutation.name} mutation does not apply to {self.dtype} genomes"
            )
        if (
            isinstance(elitism, bool)
            or not isinstance(elitism, (int, np.integer))
            or not 0 <= elitism <= pop_size
        ):
            raise ValidationError(
                f"elitism must be an integer in [0, pop_size={pop_size}], got {elitism!r}"
            )
        self.elitism = int(elitism)
        if repair not in _REPAIRS:
            raise ValidationError(f"repair must be one of {', '.join(_REPAIRS)}, got {repair!r}")
        self.repair = repair
        self.maximize = bool(maximize)
        self.nan_policy = check_nan_policy(nan_policy)
        self.backend, self._kernels = _backend.resolve(backend)

        rate = self.mutation.gene_rate(self.dim)
        self._mutation_code = self.mutation.code if rate > 0.0 else ops.NoMutation.code
        self._mutation_cdf = ops.mutation_table(self.dim, rate)
        self._mutation_threshold = ops.probability_threshold(rate)
        self._crossover_threshold = ops.probability_threshold(self.crossover.rate)
        self._selection_size = self.selection.size(self.pop_size)

        self._pop: np.ndarray | None = None
        self._fit: np.ndarray | None = None
        self._pending: np.ndarray | None = None
        self._parents: np.ndarray | None = None
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
        out = np.empty((self.pop_size, self.dim), dtype=self.dtype)
        if self._pop is None:
            self._kernels.init_uniform(out, self.low, self.high, self.seed)
            self._parents = None
        else:
            assert self._fit is not None
            parents = np.empty((self.pop_size, 2), dtype=np.int32)
            self._kernels.breed(
                self._pop, self._fit, self.low, self.high, out, parents,
                self.seed, self.generation,
                self.selection.code, self._selection_size,
                self.crossover.code, self._crossover_threshold, self.crossover.param(),
                self._mutation_code, self._mutation_threshold, self.mutation.param(),
                self._mutation_cdf, _REPAIRS[self.repair],
            )  # fmt: skip
            self._parents = parents
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
            elitist_survival(self._pop, self._fit, X, f, self.elitism)
        self._pop, self._fit = X, f
        self._pending = None
        self.generation += 1
        self.nfev += self.pop_size

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

    # checkpoints ------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """Everything that defines this optimizer's trajectory (backend aside)."""
        return {
            "dim": self.dim,
            "pop_size": self.pop_size,
            "dtype": str(self.dtype),
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "seed": self.seed,
            "selection": {"name": self.selection.name, **self.selection.params()},
            "crossover": {"name": self.crossover.name, **self.crossover.params()},
            "mutation": {"name": self.mutation.name, **self.mutation.params()},
            "elitism": self.elitism,
            "repair": self.repair,
            "maximize": self.maximize,
            "nan_policy": self.nan_policy,
        }

    def state_dict(self) -> dict[str, Any]:
        """A snapshot from which ``load_state_dict`` continues bit for bit.

        The generator is counter-based, so the state is just the population, its fitness,
        any pending offspring and the counters.
        """

        def copy(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a.copy()

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
            "best_x": copy(self._best_x),
            "best_f": self._best_f,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a snapshot taken by ``state_dict`` from an identically configured GA."""
        if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
            raise ValidationError(f"not a GA checkpoint (expected format {_STATE_FORMAT!r})")
        mine, theirs = self.config(), state.get("config", {})
        diff = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
        if diff:
            detail = "; ".join(
                f"{k}: checkpoint {theirs.get(k)!r}, this GA {mine.get(k)!r}" for k in diff[:4]
            )
            raise ValidationError(f"checkpoint is from another configuration ({detail})")

        def array(key: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
            a = state.get(key)
            if a is None:
                return None
            a = np.asarray(a)
            if a.shape != shape:
                raise ValidationError(f"checkpoint {key} has shape {a.shape}, expected {shape}")
            return np.array(a, dtype=dtype, copy=True)

        n, d = self.pop_size, self.dim
        pop = array("population", (n, d), self.dtype)
        fit = array("fitness", (n,), np.dtype(np.float64))
        pending = array("pending", (n, d), self.dtype)
        parents = array("parents", (n, 2), np.dtype(np.int32))
        best_x = array("best_x", (d,), self.dtype)
        if (pop is None) != (fit is None):
            raise ValidationError("checkpoint has a population without fitness, or the reverse")
        try:
            best_f, generation, nfev = (
                float(state["best_f"]),
                int(state["generation"]),
                int(state["nfev"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"checkpoint counters are missing or malformed: {exc}") from exc
        self._pop, self._fit, self._pending, self._parents = pop, fit, pending, parents
        self._best_x, self._best_f = best_x, best_f
        self.generation, self.nfev = generation, nfev

    def __repr__(self) -> str:
        return (
            f"GA(dim={self.dim}, pop_size={self.pop_size}, dtype={self.dtype}, "
            f"selection={self.selection}, crossover={self.crossover}, mutation={self.mutation}, "
            f"elitism={self.elitism}, backend={self.backend!r}, generation={self.generation})"
        )
