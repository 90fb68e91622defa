"""What NSGA-II and NSGA-III share: (mu + lambda) survival of ``(pop_size, dim)`` genomes with
``(pop_size, n_obj)`` objectives and optional constraints, parents chosen by a binary
tournament on a key the survival leaves, and children that repeat no genome of the population.

``tell(F, G=None)`` takes the objectives of the last ``ask()`` (minimised) and, optionally,
constraint values ``G`` with ``g <= 0`` satisfied; their total violation drives Deb's
constraint domination.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _backend, _state_dict
from .._errors import ValidationError
from ..optimizer import Survival
from . import operators as ops
from .evolutionary import EvolutionaryAlgorithm


class MOEA(EvolutionaryAlgorithm):
    """A multi-objective evolutionary algorithm, minimising ``n_obj`` objectives under optional
    constraints; subclasses define ``_rank``, the survival.

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
        Kernel backend: breeding, sorting and ranking run on it (``cuda`` copies the arrays to
        the GPU and back each call, which pays for large populations).
    """

    multi_objective = True
    adaptive_mutation = False
    constraints = True
    operator_keys = ("crossover", "mutation")

    def __init__(
        self,
        bounds: npt.ArrayLike,
        *,
        n_obj: int = 2,
        pop_size: int = 100,
        seed: int | None = None,
        dtype: npt.DTypeLike = "float64",
        crossover: Any = "sbx",
        mutation: Any = "polynomial",
        repair: str = "clip",
        nan_policy: str = "raise",
        backend: str = "auto",
    ) -> None:
        super().__init__(bounds, pop_size=pop_size, seed=seed, dtype=dtype, n_obj=n_obj,
                         selection=ops.Tournament(k=2), crossover=crossover, mutation=mutation,
                         repair=repair, nan_policy=nan_policy, backend=backend)  # fmt: skip
        _, self._moo = _backend.resolve(self.backend, "moo")
        self._key: np.ndarray | None = None

    @abstractmethod
    def _rank(self, F: np.ndarray, cv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of (F, cv) that form the next population, in order, and the key (one per
        survivor, smaller is better) the binary tournament of the next ``ask`` selects on."""

    def _breed(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Children of the population; a child equal to a parent or to an earlier child (no
        crossover and no mutation, on about 3% of them) is redrawn
        (:meth:`~chimera.evolution.variation.Variation.unique_offspring`), so that no
        evaluation is spent on a point the population already holds."""
        if self._pop is None or self._key is None:
            return self._variation.initial(self.pop_size), None
        return self._variation.unique_offspring(self._pop, self._key, self.generation)

    def _survive(self, X: np.ndarray, F: np.ndarray, cv: np.ndarray) -> Survival:
        n = self.pop_size
        if self._pop is None or self._F is None or self._cv is None:
            Xm, Fm, cvm = X, F, cv
        else:
            Xm = np.concatenate([self._pop, X])
            Fm = np.concatenate([self._F, F])
            cvm = np.concatenate([self._cv, cv])
        idx, self._key = self._rank(Fm, cvm)
        return Survival(Xm[idx], Fm[idx], cvm[idx], idx if self.generation else idx + n)

    def _config(self) -> dict[str, Any]:
        return {**super()._config(), "n_obj": self.n_obj}

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "key": _state_dict.copy(self._key)}

    def _load_state(self, state: Mapping[str, Any], n: int) -> tuple[Any, Any, Any]:
        F, cv, _ = super()._load_state(state, n)
        key = _state_dict.array(state, "key", (n,), np.float64)
        if len({F is None, cv is None, key is None}) != 1:
            raise ValidationError(f"{type(self).__name__} checkpoint has a partial population")
        return F, cv, {"key": key}

    def _apply_state(self, extra: Any) -> None:
        self._key = extra["key"]
