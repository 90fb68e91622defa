"""The optimizer protocol every algorithm implements: ``ask()`` for a batch of genomes,
``tell(F, G=None)`` their objectives (and constraint values), repeat.

:class:`Optimizer` owns what every algorithm shares: the genome space, the pending batch, its
parents and the survivors, the counters, the best genome and the Pareto set, the checkpoint
skeleton and the refusal of bad input. A subclass writes only what makes it an algorithm:

- ``_breed()``: the next batch of genomes and, for each, its two parent rows (or None);
- ``_survive(X, F, cv)``: the next population from the evaluated batch;
- ``_config()``, ``_state()`` and ``_load_state()``: its own options and checkpoint fields.

Objectives reach a subclass already checked and in the minimising sense, as a float64
``(n, n_obj)`` array with NaN and infinity handled by ``nan_policy``; constraint values come
as one total violation per genome, ``sum(max(g, 0))`` (0 when feasible). Adding an algorithm
is one subclass and one entry in :mod:`chimera.algorithms`.
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt

from . import _backend, _state_dict
from ._errors import FitnessError, StateError, ValidationError
from ._validate import (
    as_bounds,
    as_seed,
    check_nan_policy,
    check_objectives,
    fits_in_memory,
    genome_dtype,
    integer,
)

#: The operator options an algorithm may take, and a bandit may switch between generations.
OPERATOR_KEYS = ("selection", "crossover", "mutation")


@dataclass(frozen=True)
class GenomeSpace:
    """What an optimizer searches: ``dim`` genes of ``dtype``, gene i in ``[low[i], high[i]]``
    (integer genomes include ``high``; bool genomes are ``(0, 1)``)."""

    low: np.ndarray
    high: np.ndarray
    dtype: np.dtype

    @classmethod
    def of(cls, bounds: npt.ArrayLike, dtype: npt.DTypeLike) -> GenomeSpace:
        """The space of ``bounds`` (``(dim, 2)`` pairs, or an object with ``lb``/``ub``)."""
        dt = genome_dtype(dtype)
        low, high = as_bounds(bounds, dt)
        return cls(low, high, dt)

    @property
    def dim(self) -> int:
        return int(self.low.size)

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim, "dtype": str(self.dtype), "low": self.low.tolist(),
                "high": self.high.tolist()}  # fmt: skip


class Survival(NamedTuple):
    """What ``_survive`` decides: the next population, its objectives and violations, and
    where each row came from (a row of the previous population, < pop_size, or pop_size plus
    a row of the batch just told; None when rows have no such origin)."""

    population: np.ndarray
    objectives: np.ndarray
    violation: np.ndarray
    survivors: np.ndarray | None


class Optimizer(ABC):
    """Base of every algorithm: ask/tell over batches of genomes, ``pop_size`` of them or,
    after the first, :attr:`batch_size` for an algorithm that breeds a part of its population
    at a time (MOEA/D, SMS-EMOA with ``n_offspring``).

    Subclasses declare ``multi_objective`` (takes ``n_obj`` >= 2), ``constraints`` (``tell``
    takes constraint values), ``operator_keys`` (variation operators it takes, switchable
    with :meth:`set_operators`), ``resizes`` (``pop_size`` changes between generations) and a
    checkpoint ``_FORMAT``. One that ends by itself (a strategy whose restarts are spent)
    says why in :attr:`stop_reason`.
    """

    multi_objective: ClassVar[bool] = False
    constraints: ClassVar[bool] = False
    operator_keys: ClassVar[tuple[str, ...]] = ()
    #: Whether ``pop_size`` may change between generations (restarts, population reduction):
    #: a checkpoint then holds the current one, and the population the last batch told.
    resizes: ClassVar[bool] = False
    #: The kernel backends it runs on.
    backends: ClassVar[tuple[str, ...]] = ("cuda", "cpp", "numba")
    _FORMAT: ClassVar[str] = ""

    def __init__(
        self,
        bounds: npt.ArrayLike,
        *,
        pop_size: int,
        seed: int | None,
        dtype: npt.DTypeLike = "float64",
        n_obj: int = 1,
        maximize: bool = False,
        nan_policy: str = "raise",
        backend: str = "auto",
    ) -> None:
        self.space = space = GenomeSpace.of(bounds, dtype)
        self.dtype, self.low, self.high, self.dim = space.dtype, space.low, space.high, space.dim
        self.pop_size = integer(pop_size, "pop_size", 2, 2**31 - 1)
        self._initial_pop_size = self.pop_size  # a strategy that restarts larger changes pop_size
        self.seed = as_seed(seed)
        if self.multi_objective:
            self.n_obj = integer(n_obj, "n_obj", 2, 2**15)
        elif n_obj != 1:
            raise ValidationError(f"{type(self).__name__} optimises one objective, not {n_obj!r}")
        else:
            self.n_obj = 1
        # The population, its offspring and the parents and offspring survival ranks together.
        genes = 3 * self.pop_size * self.dim * self.dtype.itemsize
        fitness = 4 * self.pop_size * (self.n_obj + 1) * 8
        fits_in_memory(genes + fitness, f"pop_size={self.pop_size} of {self.dim} genes")
        if not isinstance(maximize, (bool, np.bool_)):
            raise ValidationError(f"maximize must be True or False, got {maximize!r}")
        self.maximize = bool(maximize)
        self.nan_policy = check_nan_policy(nan_policy)
        self.backend = self._backend_name(backend)
        self.n_constraints: int | None = None
        self.generation = 0
        self.nfev = 0
        self._pending: np.ndarray | None = None
        self._parents: np.ndarray | None = None
        self._survivors: np.ndarray | None = None
        self._pop: np.ndarray | None = None
        self._F: np.ndarray | None = None  # minimising sense
        self._cv: np.ndarray | None = None
        self._best_x: np.ndarray | None = None
        self._best_f = np.inf  # minimising sense

    # what a subclass writes ---------------------------------------------------------------

    def _backend_name(self, backend: str) -> str:
        """The backend to run on, one of ``backends``: ``auto`` never picks another (a GPU
        job's ``CHIMERA_BACKEND=cuda`` gives a CPU-only optimizer the default, whether or not
        CUDA loads); a backend named outright that it lacks is refused."""
        if isinstance(backend, str) and backend in _backend.NAMES and backend not in self.backends:
            raise ValidationError(f"backend {backend!r}: {type(self).__name__} runs on "
                                  f"{' or '.join(repr(b) for b in self.backends)}")  # fmt: skip
        return _backend.resolve(backend, among=self.backends)[0]

    @abstractmethod
    def _breed(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The next ``(n, dim)`` genomes and their ``(n, 2)`` parent rows in the
        current population (None when they have no parents, as the first generation)."""

    @abstractmethod
    def _survive(self, X: np.ndarray, F: np.ndarray, cv: np.ndarray) -> Survival:
        """The next population from the batch ``X`` just evaluated (``F`` minimised, ``cv``
        its violations) and the current one. X, F and cv may be reused in place."""

    def _config(self) -> dict[str, Any]:
        """The subclass's options that define its trajectory (the base adds the space, the
        population size, the seed and the NaN policy)."""
        return {}

    def _state(self) -> dict[str, Any]:
        """The checkpoint's population objectives and violations, and whatever else the
        subclass keeps (arrays copied)."""
        copy = _state_dict.copy
        return {"objectives": copy(self._F), "violation": copy(self._cv)}

    def _load_state(self, state: Mapping[str, Any], n: int) -> tuple[Any, Any, Any]:
        """The checkpoint's population objectives ``(n, n_obj)`` and violations ``(n,)`` (both
        None before the first tell) and whatever else the subclass keeps, checked; nothing
        is assigned yet, so that a refused checkpoint changes nothing."""
        F = _state_dict.array(state, "objectives", (n, self.n_obj), np.float64)
        cv = _state_dict.array(state, "violation", (n,), np.float64)
        return F, cv, None

    def _apply_state(self, extra: Any) -> None:  # noqa: B027 - a hook: most keep nothing more
        """Assigns what ``_load_state`` checked."""

    def _batch_rows(self, n: int, told: bool) -> int:
        """Rows of the batch an ask returns with a population of ``n`` (``told``: once the
        first population has been told); an algorithm that breeds fewer says how many."""
        return n

    def _set_operators(self, operators: dict[str, Any]) -> None:
        raise NotImplementedError

    # ask / tell ---------------------------------------------------------------------------

    def ask(self) -> np.ndarray:
        """The next ``(batch_size, dim)`` genomes to evaluate (the same ones until ``tell``).

        The array may become part of the population without a copy, so ``tell`` may overwrite
        its rows: copy it if you keep it.
        """
        if self._pending is None:
            self._pending, self._parents = self._breed()
        return self._pending

    def tell(self, F: npt.ArrayLike, G: npt.ArrayLike | None = None) -> None:
        """Objectives of the genomes the last ``ask()`` returned (n rows): ``(n,)`` for one
        objective, ``(n, n_obj)`` for several; and, for an algorithm that ranks by them,
        constraint values ``G`` of shape ``(n, n_constraints)``, ``g <= 0`` satisfied. A
        refused ``tell`` leaves the ask pending."""
        if self._pending is None:
            raise StateError("tell() needs a pending ask(): call ask(), evaluate it, then tell()")
        X = self._pending
        n = X.shape[0]
        objectives = check_objectives(F, n, self.n_obj, self.nan_policy, self.sign)
        cv = self._violation(G, n)
        self._remember_best(X, objectives, cv)
        self._pop, self._F, self._cv, self._survivors = self._survive(X, objectives, cv)
        self._pending = self._parents = None  # the parents were the told batch's
        self.generation += 1
        self.nfev += n

    def set_operators(self, *, selection: Any = None, crossover: Any = None,
                      mutation: Any = None) -> None:  # fmt: skip
        """Breed the next genomes with other variation operators (those not given stay):
        adaptive operator selection switches them between generations. The population,
        counters and generator stay, so a run is a function of its seed and its choices."""
        given = {k: v for k, v in zip(OPERATOR_KEYS, (selection, crossover, mutation),
                                      strict=True) if v is not None}  # fmt: skip
        foreign = sorted(set(given) - set(self.operator_keys))
        if foreign:
            takes = ", ".join(self.operator_keys) or "none"
            raise ValidationError(
                f"{type(self).__name__} has no {', '.join(foreign)} operator (it takes: {takes})"
            )
        if self._pending is not None:
            raise StateError("set_operators() between tell() and ask(): offspring are pending")
        if given:
            self._set_operators(given)

    def _violation(self, G: npt.ArrayLike | None, n: int) -> np.ndarray:
        """Total violation per genome; G refused for an algorithm that does not rank by it."""
        if G is None:
            if self.n_constraints:
                raise FitnessError(f"G is missing: this run has {self.n_constraints} constraints")
            return np.zeros(n)
        if not self.constraints:
            from .algorithms import constrained  # the registry imports this module

            raise ValidationError(
                f"{type(self).__name__} does not rank by constraints: constraints (an objective "
                f"returning (F, G)) need algorithm {' or '.join(map(repr, constrained()))}"
            )
        try:
            g = np.asarray(G, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise FitnessError(f"G must be a numeric (n, n_constraints) array: {exc}") from exc
        if g.ndim not in (1, 2) or g.shape[0] != n:
            raise FitnessError(
                f"G must have shape ({n}, n_constraints), one row per individual asked, "
                f"got {g.shape}"
            )
        width = 1 if g.ndim == 1 else int(g.shape[-1])
        if self.n_constraints is not None and width != self.n_constraints:
            raise FitnessError(
                f"G has {width} constraints per individual, earlier generations had "
                f"{self.n_constraints}"
            )
        if np.isnan(g).any():
            raise FitnessError("G has NaN constraint values")
        self.n_constraints = width
        return np.maximum(g if g.ndim == 2 else g[:, None], 0.0).sum(axis=1)

    def _remember_best(self, X: np.ndarray, F: np.ndarray, cv: np.ndarray) -> None:
        """The best feasible genome evaluated so far (one objective)."""
        if self.n_obj != 1:
            return
        feasible = self.n_constraints is None or not (cv > 0.0).any()  # None: no G told yet
        f = F[:, 0] if feasible else np.where(cv > 0.0, np.inf, F[:, 0])
        b = int(np.argmin(f))
        if f[b] < self._best_f:
            self._best_f = float(f[b])
            self._best_x = X[b].copy()

    # results ------------------------------------------------------------------------------

    @property
    def stop_reason(self) -> str | None:
        """Why this optimizer has nothing more to try (None while it has): a run ends there."""
        return None

    @property
    def sign(self) -> float:
        """From the caller's sense to the minimising one (-1 when maximising)."""
        return -1.0 if self.maximize else 1.0

    @property
    def best_x(self) -> np.ndarray | None:
        """The best feasible genome evaluated so far (one objective; None before the first
        ``tell`` and for several objectives: see ``pareto_x``)."""
        return None if self._best_x is None else self._best_x.copy()

    @property
    def best_f(self) -> float:
        """Fitness of ``best_x`` in the caller's sense (NaN for several objectives)."""
        if self.n_obj != 1:
            return float("nan")
        return -self._best_f if self.maximize else self._best_f

    @property
    def population(self) -> np.ndarray | None:
        """The current population (after the last ``tell``)."""
        return self._pop

    @property
    def objectives(self) -> np.ndarray | None:
        """``(pop_size, n_obj)`` objectives of the current population, in the caller's sense."""
        return None if self._F is None else self.sign * self._F

    @property
    def fitness(self) -> np.ndarray | None:
        """Fitness of the current population in the caller's sense (one objective)."""
        F = self.objectives
        return None if F is None or self.n_obj != 1 else F[:, 0]

    @property
    def violation(self) -> np.ndarray | None:
        """Total constraint violation of the current population (0 where feasible)."""
        return None if self._cv is None else self._cv.copy()

    @property
    def parents(self) -> np.ndarray | None:
        """``(pop_size, 2)`` parent rows of the pending genomes; None when they have none."""
        return self._parents

    @property
    def survivors(self) -> np.ndarray | None:
        """Where each row of the current population came from: a row of the previous
        population (< pop_size) or ``pop_size`` plus a row of the batch last told."""
        return self._survivors

    @property
    def operators(self) -> str | None:
        """The variation operators as one line, as the genome store records them."""
        return None

    def _pareto_rows(self) -> np.ndarray:
        if self._F is None or self._cv is None:
            return np.zeros(0, dtype=np.intp)
        feasible = np.flatnonzero(self._cv <= 0.0)
        if feasible.size == 0:
            return feasible
        F = self._F[feasible]
        if self.n_obj == 1:
            return feasible[F[:, 0] == F[:, 0].min()]
        from .evolution.pareto import ranks

        _, moo = _backend.resolve(self.backend, "moo")
        return feasible[ranks(moo, F) == 0]

    @property
    def pareto_x(self) -> np.ndarray:
        """Genomes of the feasible non-dominated members of the current population."""
        if self._pop is None:
            return np.zeros((0, self.dim), dtype=self.dtype)
        return self._pop[self._pareto_rows()].copy()

    @property
    def pareto_f(self) -> np.ndarray:
        """Objectives of ``pareto_x``, in the caller's sense."""
        if self._F is None:
            return np.zeros((0, self.n_obj))
        return self.sign * self._F[self._pareto_rows()]

    # checkpoints --------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """Everything that defines this optimizer's trajectory (the backend aside)."""
        return {**self.space.config(), "pop_size": self._initial_pop_size, "seed": self.seed,
                "nan_policy": self.nan_policy, **self._config()}  # fmt: skip

    def state_dict(self) -> dict[str, Any]:
        """A snapshot from which ``load_state_dict`` continues bit for bit: the generators are
        counter-based, so the population, the pending genomes and the counters are all."""
        copy = _state_dict.copy
        return {
            "format": self._FORMAT,
            "config": self.config(),
            "backend": self.backend,
            "generation": self.generation,
            "nfev": self.nfev,
            "pop_size": self.pop_size,
            "n_constraints": self.n_constraints,
            "population": copy(self._pop),
            "pending": copy(self._pending),
            "parents": copy(self._parents),
            "survivors": copy(self._survivors),
            "best_x": copy(self._best_x),
            "best_f": self._best_f,
            **self._state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a snapshot taken by ``state_dict`` from an identically configured optimizer
        (on any backend); a refused snapshot changes nothing."""
        name = type(self).__name__
        _state_dict.check(state, self._FORMAT, self.config(), name)
        array = functools.partial(_state_dict.array, state)
        n, d = self._initial_pop_size, self.dim
        rows = n  # of the population: a resizing optimizer's is the batch last told
        if "pop_size" in state:  # checkpoints from before resizing optimizers have none
            (n,) = _state_dict.counters(state, "pop_size")
            rows = n
            if self.resizes:
                held = state.get("population")
                rows = int(np.shape(held)[0]) if held is not None and np.ndim(held) == 2 else n
            elif n != self._initial_pop_size:
                raise ValidationError(f"{name} checkpoint's pop_size {n} is not this "
                                      f"optimizer's {self._initial_pop_size}")  # fmt: skip
            if not 2 <= min(n, rows) <= max(n, rows) <= 2**31 - 1:
                raise ValidationError(f"{name} checkpoint's pop_size must be in [2, 2**31)")
        pop = array("population", (rows, d), self.dtype)
        batch = self._batch_rows(n, told=state.get("population") is not None)
        pending = array("pending", (batch, d), self.dtype)
        parents = array("parents", (batch, 2), np.int32)
        survivors = array("survivors", (rows,), np.intp)
        best_x = array("best_x", (d,), self.dtype)
        generation, nfev = _state_dict.counters(state, "generation", "nfev")
        if parents is not None and ((parents < 0) | (parents >= rows)).any():
            raise ValidationError(f"{name} checkpoint's parents must be rows in [0, {rows})")
        # A shrinking population's survivors index a larger previous one and batch.
        top = 2**31 - 1 if self.resizes else 2 * rows
        if survivors is not None and ((survivors < 0) | (survivors >= top)).any():
            raise ValidationError(f"{name} checkpoint's survivors must be rows in [0, {top})")
        try:
            best_f = float(state.get("best_f", np.inf))
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValidationError(f"{name} checkpoint's best_f must be a number: {exc}") from exc
        if np.isnan(best_f):
            raise ValidationError(f"{name} checkpoint's best_f is NaN")
        n_con = state.get("n_constraints")
        if n_con is not None:
            (n_con,) = _state_dict.counters(state, "n_constraints")
        F, cv, extra = self._load_state(state, rows)
        if (pop is None) != (F is None) or (F is None) != (cv is None):
            raise ValidationError(f"{name} checkpoint has a partial population")
        self._apply_state(extra)
        self._pop, self._F, self._cv = pop, F, cv
        self._pending, self._parents, self._survivors = pending, parents, survivors
        self._best_x, self._best_f = best_x, best_f
        self.generation, self.nfev, self.n_constraints = generation, nfev, n_con
        self.pop_size = n

    # planning -----------------------------------------------------------------------------

    @classmethod
    def population_size(cls, options: Mapping[str, Any], n_obj: int = 1,
                        dim: int | None = None) -> int:  # fmt: skip
        """The ``pop_size`` these constructor options give for ``dim`` genes, without
        constructing anything (a subclass whose size follows from other options overrides
        this)."""
        default = inspect.signature(cls).parameters["pop_size"].default
        return integer(options.get("pop_size", default), "pop_size", 2, 2**31 - 1)

    @classmethod
    def offspring_size(cls, options: Mapping[str, Any], n_obj: int = 1,
                       dim: int | None = None) -> int:  # fmt: skip
        """The rows each ask after the first returns with these options (the first asks the
        whole population): the population size, unless the algorithm breeds fewer."""
        return cls.population_size(options, n_obj, dim)

    @property
    def batch_size(self) -> int:
        """The rows the next ``ask`` returns (the pending one's, when there is one)."""
        if self._pending is not None:
            return int(self._pending.shape[0])
        return self._batch_rows(self.pop_size, told=self._pop is not None)

    def __repr__(self) -> str:
        ops = f", operators={self.operators}" if self.operators else ""
        return (f"{type(self).__name__}(dim={self.dim}, n_obj={self.n_obj}, "
                f"pop_size={self.pop_size}, dtype={self.dtype}{ops}, backend={self.backend!r}, "
                f"generation={self.generation})")  # fmt: skip
