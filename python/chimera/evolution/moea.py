"""What NSGA-II and NSGA-III share: ask/tell over a population of (pop_size, dim) genomes with
(pop_size, n_obj) objectives and optional constraints, (mu + lambda) survival that a subclass
defines, the Pareto set of the current population, and checkpoints.

``tell(F, G=None)`` takes the objectives of the last ``ask()`` (minimised) and, optionally,
constraint values ``G`` with ``g <= 0`` satisfied; their total violation drives Deb's
constraint domination.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from .. import _backend
from .._errors import FitnessError, StateError, ValidationError
from .._validate import check_nan_policy
from . import _checkpoint
from . import operators as ops
from .pareto import constraint_violation, ranks
from .variation import Variation, check_count


def check_objectives(F: Any, n: int, n_obj: int, nan_policy: str) -> np.ndarray:
    """Objectives as a float64 (n, n_obj) array; NaN/inf raise or become +inf (the worst)."""
    try:
        a = np.array(F, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FitnessError(f"objectives must be a numeric (n, n_obj) array: {exc}") from exc
    if a.ndim == 1 and n_obj == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] != n:
        raise FitnessError(
            f"objectives must have shape ({n}, {n_obj}), one row per individual asked, "
            f"got {np.shape(F)}"
        )
    if a.shape[1] != n_obj:
        raise FitnessError(
            f"the objective returned {a.shape[1]} values per individual but n_obj={n_obj}; "
            "pass the matching n_obj"
        )
    bad = ~np.isfinite(a)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        if nan_policy == "raise":
            raise FitnessError(
                f"objectives of individuals {rows[:10].tolist()} are NaN or infinite; fix the "
                "objective or pass nan_policy='worst' to treat such values as the worst"
            )
        a[bad] = np.inf
    return a


class MultiObjective(ABC):
    """Base of the multi-objective algorithms; subclasses define ``_survive``."""

    _FORMAT: ClassVar[str] = ""

    def __init__(
        self,
        bounds: Any,
        *,
        n_obj: int,
        pop_size: int,
        seed: int | None = None,
        dtype: Any = "float64",
        crossover: Any = None,
        mutation: Any = None,
        repair: str = "clip",
        nan_policy: str = "raise",
        backend: str = "auto",
    ) -> None:
        self.n_obj = check_count(n_obj, "n_obj", 2, 2**15)
        self._variation = v = Variation(
            bounds, pop_size=pop_size, seed=seed, dtype=dtype,
            selection=ops.Tournament(k=2),
            crossover=ops.SBX(15.0, rate=0.9) if crossover is None else crossover,
            mutation=ops.Polynomial(20.0) if mutation is None else mutation,
            repair=repair, backend=backend,
        )  # fmt: skip
        self.dtype, self.low, self.high, self.dim = v.dtype, v.low, v.high, v.dim
        self.pop_size, self.seed, self.backend = v.pop_size, v.seed, v.backend
        self.crossover, self.mutation = v.crossover, v.mutation
        _, self._moo = _backend.resolve(self.backend, "moo")
        self.nan_policy = check_nan_policy(nan_policy)
        self.n_constraints: int | None = None
        self._pop: np.ndarray | None = None
        self._F: np.ndarray | None = None
        self._cv: np.ndarray | None = None
        self._key: np.ndarray | None = None
        self._pending: np.ndarray | None = None
        self._parents: np.ndarray | None = None
        self._survivors: np.ndarray | None = None
        self.generation = 0
        self.nfev = 0

    # ask / tell ---------------------------------------------------------------------------

    def ask(self) -> np.ndarray:
        """The next ``(pop_size, dim)`` individuals to evaluate (the same ones until ``tell``)."""
        if self._pending is None:
            if self._pop is None:
                self._pending, self._parents = self._variation.initial(), None
            else:
                assert self._key is not None
                self._pending, self._parents = self._offspring(self._pop, self._key)
        return self._pending

    def _offspring(self, pop: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Children of ``pop``; a child equal to a parent or to an earlier child (no crossover
        and no mutation, on about 3% of them) is redrawn, up to ``_REDRAWS`` times, so that no
        evaluation is spent on a point the population already holds."""
        X, parents = self._variation.offspring(pop, key, self.generation)
        for retry in range(1, _REDRAWS + 1):
            dup = _duplicate_rows(X, pop)
            if not dup.any():
                break
            Y, P = self._variation.offspring(pop, key, self.generation, retry)
            X[dup], parents[dup] = Y[dup], P[dup]
        return X, parents

    def tell(self, F: Any, G: Any = None) -> None:
        """Objectives ``F`` (pop_size, n_obj) of the last ``ask()``, and optionally constraint
        values ``G`` (pop_size, n_constraints), ``g <= 0`` meaning satisfied."""
        if self._pending is None:
            raise StateError("tell() needs a pending ask(): call ask(), evaluate it, then tell()")
        n = self.pop_size
        F = check_objectives(F, n, self.n_obj, self.nan_policy)
        if G is None:
            if self.n_constraints:
                raise FitnessError(f"G is missing: this run has {self.n_constraints} constraints")
            cv = np.zeros(n)
        else:
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
            try:
                cv = constraint_violation(g, n)
            except ValidationError as exc:
                raise FitnessError(str(exc)) from exc
            self.n_constraints = width
        X = self._pending
        if self._pop is None:
            Xm, Fm, cvm = X, F, cv
        else:
            assert self._F is not None and self._cv is not None
            Xm = np.concatenate([self._pop, X])
            Fm = np.concatenate([self._F, F])
            cvm = np.concatenate([self._cv, cv])
        idx, key = self._survive(Fm, cvm)
        self._pop, self._F, self._cv, self._key = Xm[idx], Fm[idx], cvm[idx], key
        self._survivors = idx if self.generation else idx + n
        self._pending = None
        self.generation += 1
        self.nfev += n

    @abstractmethod
    def _survive(self, F: np.ndarray, cv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of (F, cv) that form the next population, in order, and the key (one per
        survivor, smaller is better) the binary tournament of the next ``ask`` selects on."""

    # results ------------------------------------------------------------------------------

    @property
    def operators(self) -> str:
        """The variation operators as one line, as the genome store records them."""
        return self._variation.operators()

    @property
    def population(self) -> np.ndarray | None:
        """The current population (after the last ``tell``)."""
        return self._pop

    @property
    def objectives(self) -> np.ndarray | None:
        """Objectives of the current population."""
        return self._F

    @property
    def violation(self) -> np.ndarray | None:
        """Total constraint violation of the current population (0 where feasible)."""
        return self._cv

    @property
    def parents(self) -> np.ndarray | None:
        """(pop_size, 2) parent rows of the pending offspring; None for the first generation."""
        return self._parents

    @property
    def survivors(self) -> np.ndarray | None:
        """Where each row of the current population came from, as an index into the previous
        population (< pop_size) followed by the last offspring (>= pop_size)."""
        return self._survivors

    def _pareto_rows(self) -> np.ndarray:
        if self._F is None or self._cv is None:
            return np.zeros(0, dtype=np.intp)
        feasible = np.flatnonzero(self._cv <= 0.0)
        if feasible.size == 0:
            return feasible
        return feasible[ranks(self._moo, self._F[feasible]) == 0]

    @property
    def pareto_x(self) -> np.ndarray:
        """Genomes of the feasible non-dominated members of the current population."""
        rows = self._pareto_rows()
        if self._pop is None:
            return np.zeros((0, self.dim), dtype=self.dtype)
        return self._pop[rows].copy()

    @property
    def pareto_f(self) -> np.ndarray:
        """Objectives of ``pareto_x``."""
        rows = self._pareto_rows()
        if self._F is None:
            return np.zeros((0, self.n_obj))
        return self._F[rows].copy()

    # checkpoints --------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """Everything that defines this optimizer's trajectory (backend aside)."""
        return {**self._variation.config(), "n_obj": self.n_obj, "nan_policy": self.nan_policy}

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _check_extra_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """A subclass's own checkpoint fields, checked (nothing is assigned yet)."""
        return {}

    def _apply_extra_state(self, extra: dict[str, Any]) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        """A snapshot from which ``load_state_dict`` continues bit for bit."""
        copy = _checkpoint.copy
        return {
            "format": self._FORMAT,
            "config": self.config(),
            "backend": self.backend,
            "generation": self.generation,
            "nfev": self.nfev,
            "n_constraints": self.n_constraints,
            "population": copy(self._pop),
            "objectives": copy(self._F),
            "violation": copy(self._cv),
            "key": copy(self._key),
            "pending": copy(self._pending),
            "parents": copy(self._parents),
            "survivors": copy(self._survivors),
            **self._extra_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a snapshot taken by ``state_dict`` from an identically configured optimizer."""
        name = type(self).__name__
        _checkpoint.check(state, self._FORMAT, self.config(), name)
        array = functools.partial(_checkpoint.array, state)
        n, d, m = self.pop_size, self.dim, self.n_obj
        pop = array("population", (n, d), self.dtype)
        F = array("objectives", (n, m), np.float64)
        cv = array("violation", (n,), np.float64)
        key = array("key", (n,), np.float64)
        if len({pop is None, F is None, cv is None, key is None}) != 1:
            raise ValidationError(f"{name} checkpoint has a partial population")
        pending = array("pending", (n, d), self.dtype)
        parents = array("parents", (n, 2), np.int32)
        survivors = array("survivors", (n,), np.intp)
        generation, nfev = _checkpoint.counters(state, "generation", "nfev")
        n_con = state.get("n_constraints")
        if n_con is not None:
            (n_con,) = _checkpoint.counters(state, "n_constraints")
        extra = self._check_extra_state(state)
        # Every field is checked above: a refused checkpoint leaves this optimizer unchanged.
        self._apply_extra_state(extra)
        self._pop, self._F, self._cv, self._key = pop, F, cv, key
        self._pending, self._parents, self._survivors = pending, parents, survivors
        self.generation, self.nfev = generation, nfev
        self.n_constraints = n_con

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(dim={self.dim}, n_obj={self.n_obj}, "
            f"pop_size={self.pop_size}, crossover={self.crossover}, mutation={self.mutation}, "
            f"backend={self.backend!r}, generation={self.generation})"
        )


_REDRAWS = 3


def _duplicate_rows(X: np.ndarray, pop: np.ndarray) -> np.ndarray:
    """Which rows of X repeat a row of ``pop`` or an earlier row of X, bit for bit."""
    rows = np.ascontiguousarray(np.concatenate([pop, X]))
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first = np.unique(keys, return_index=True)
    original = np.zeros(keys.size, dtype=bool)
    original[first] = True
    return ~original[pop.shape[0] :]
