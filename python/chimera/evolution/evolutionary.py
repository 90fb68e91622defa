"""What the evolutionary algorithms share on top of the optimizer protocol: a population bred
by variation operators (selection, crossover, mutation) through the native kernels, which an
operator bandit may switch between generations."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy.typing as npt

from ..optimizer import Optimizer
from . import operators as ops
from .variation import Variation


class EvolutionaryAlgorithm(Optimizer):
    """An optimizer whose offspring come from :class:`~chimera.evolution.variation.Variation`;
    subclasses still write ``_breed`` and ``_survive``."""

    #: Whether the GA's self-adaptive mutations may be chosen: their step sizes live in the GA,
    #: which mutates those children itself; elsewhere the kernels would leave them unmutated.
    adaptive_mutation: ClassVar[bool] = True

    def __init__(self, bounds: npt.ArrayLike, *, pop_size: int, seed: int | None,
                 dtype: npt.DTypeLike, selection: Any, crossover: Any, mutation: Any,
                 repair: str, n_obj: int = 1, maximize: bool = False,
                 nan_policy: str = "raise", backend: str = "auto") -> None:  # fmt: skip
        super().__init__(bounds, pop_size=pop_size, seed=seed, dtype=dtype, n_obj=n_obj,
                         maximize=maximize, nan_policy=nan_policy, backend=backend)  # fmt: skip
        self._variation = Variation(
            self.space, pop_size=self.pop_size, seed=self.seed, selection=selection,
            crossover=crossover, mutation=mutation, repair=repair, backend=self.backend,
        )  # fmt: skip
        self._refuse_adaptive(self._variation)

    def _set_operators(self, operators: dict[str, Any]) -> None:
        variation = self._variation.replace(operators)
        self._refuse_adaptive(variation)
        self._variation = variation

    def _refuse_adaptive(self, variation: Variation) -> None:
        if not self.adaptive_mutation:
            ops.refuse_adaptive_mutation(variation.mutation, type(self).__name__)

    @property
    def selection(self) -> ops.Operator:
        return self._variation.selection

    @property
    def crossover(self) -> ops.Operator:
        return self._variation.crossover

    @property
    def mutation(self) -> ops.Operator:
        return self._variation.mutation

    @property
    def repair(self) -> str:
        return self._variation.repair

    @property
    def operators(self) -> str:
        """The operators this algorithm takes (``operator_keys``) as one line, e.g.
        ``sbx(eta=15.0,rate=0.9)+polynomial(...)``: a parent choice of the algorithm's own
        (NSGA-II's tournament, NSGA-III's permutation, MOEA/D's neighbourhoods) is not one."""
        return "+".join(ops.text(getattr(self, key)) for key in self.operator_keys)

    def _config(self) -> dict[str, Any]:
        return self._variation.config()
