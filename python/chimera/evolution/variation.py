"""Variation shared by every evolutionary algorithm of Layer 7: the genome space (bounds and
dtype), the population size and seed, and the selection, crossover and mutation operators,
checked once and driven through a backend's ``init_uniform`` and ``breed`` kernels.

The algorithms differ only in what they select on: the GA hands the kernels its fitness,
NSGA-II a key ordering rank and crowding, NSGA-III the constraint violation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _backend
from .._errors import ValidationError
from .._validate import as_bounds, as_seed, genome_dtype
from . import operators as ops

REPAIRS = {"clip": 0, "reflect": 1}

# Seeds of redrawn offspring: the run's seed plus multiples of the golden-ratio constant.
_RETRY_STRIDE = 0x9E3779B97F4A7C15


def _default_mutation(dtype: np.dtype) -> ops.Mutation:
    return {"f": ops.Gaussian(), "i": ops.RandomReset(), "b": ops.BitFlip()}[dtype.kind]


def check_count(value: Any, name: str, low: int, high: int) -> int:
    """An integer in [low, high], or a ValidationError naming it."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or not low <= value <= high
    ):
        raise ValidationError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return int(value)


class Variation:
    """The checked genome space and operators, and the kernels that apply them."""

    def __init__(
        self,
        bounds: Any,
        *,
        pop_size: int,
        seed: int | None,
        dtype: Any,
        selection: Any,
        crossover: Any,
        mutation: Any,
        repair: str,
        backend: str,
    ) -> None:
        self.dtype = genome_dtype(dtype)
        self.low, self.high = as_bounds(bounds, self.dtype)
        self.dim = int(self.low.size)
        if isinstance(pop_size, (int, np.integer)) and not isinstance(pop_size, bool):
            if pop_size >= 2**31:
                raise ValidationError(f"pop_size must be below 2**31, got {pop_size}")
            if pop_size < 2:
                raise ValidationError(f"pop_size must be an integer >= 2, got {pop_size!r}")
        else:
            raise ValidationError(f"pop_size must be an integer >= 2, got {pop_size!r}")
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
        if repair not in REPAIRS:
            raise ValidationError(f"repair must be one of {', '.join(REPAIRS)}, got {repair!r}")
        self.repair = repair
        self.backend, self.kernels = _backend.resolve(backend)

        rate = self.mutation.gene_rate(self.dim)
        self._mutation_code = self.mutation.code if rate > 0.0 else ops.NoMutation.code
        self._mutation_cdf = ops.mutation_table(self.dim, rate)
        self._mutation_threshold = ops.probability_threshold(rate)
        self._crossover_threshold = ops.probability_threshold(self.crossover.rate)
        self._selection_size = self.selection.size(self.pop_size)

    def initial(self) -> np.ndarray:
        """The first ``(pop_size, dim)`` population, uniform in the bounds."""
        out = np.empty((self.pop_size, self.dim), dtype=self.dtype)
        self.kernels.init_uniform(out, self.low, self.high, self.seed)
        return out

    def offspring(
        self, X: np.ndarray, key: np.ndarray, generation: int, retry: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """``pop_size`` children of the rows of X, selected on ``key`` (smaller is better),
        and each child's (primary, secondary) parent rows. ``retry`` > 0 breeds from other
        random streams (a seed derived from the run's), for children that must be redrawn."""
        out = np.empty((self.pop_size, self.dim), dtype=self.dtype)
        parents = np.empty((self.pop_size, 2), dtype=np.int32)
        seed = (self.seed + retry * _RETRY_STRIDE) % 2**64
        self.kernels.breed(
            X, key, self.low, self.high, out, parents,
            seed, generation,
            self.selection.code, self._selection_size,
            self.crossover.code, self._crossover_threshold, self.crossover.param(),
            self._mutation_code, self._mutation_threshold, self.mutation.param(),
            self._mutation_cdf, REPAIRS[self.repair],
        )  # fmt: skip
        return out, parents

    def config(self) -> dict[str, Any]:
        """Everything that defines the variation's draws (backend aside)."""
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
            "repair": self.repair,
        }

    def operators(self) -> str:
        """The operators as one line, e.g. ``tournament(k=2)+sbx(eta=15.0,rate=0.9)+...``."""

        def text(op: ops.Operator) -> str:
            params = ",".join(f"{k}={v}" for k, v in op.params().items())
            return f"{op.name}({params})"

        return "+".join(text(op) for op in (self.selection, self.crossover, self.mutation))
