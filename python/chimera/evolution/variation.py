"""Variation shared by the evolutionary algorithms: the selection, crossover and mutation
operators on a genome space, checked once and driven through a backend's ``init_uniform`` and
``breed`` kernels.

The algorithms differ only in what they select on: the GA hands the kernels its fitness,
NSGA-II a key ordering rank and crowding, NSGA-III the constraint violation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _backend
from .._errors import ValidationError
from ..optimizer import GenomeSpace
from . import operators as ops

REPAIRS = {"clip": 0, "reflect": 1}

# Seeds of redrawn offspring: the run's seed plus multiples of the golden-ratio constant.
_RETRY_STRIDE = 0x9E3779B97F4A7C15
#: How many times a duplicate child is redrawn before it is kept.
REDRAWS = 3


def default_mutation(dtype: np.dtype) -> ops.Mutation:
    """The mutation of a genome kind when none is named: Gaussian for floats, random reset for
    integers, bit flip for bools."""
    return {"f": ops.Gaussian(), "i": ops.RandomReset(), "b": ops.BitFlip()}[dtype.kind]


class Variation:
    """The checked operators on a genome space, and the kernels of ``backend`` (a resolved
    name) that apply them to ``pop_size`` genomes seeded by ``seed``."""

    def __init__(self, space: GenomeSpace, *, pop_size: int, seed: int, selection: Any,
                 crossover: Any, mutation: Any, repair: str, backend: str) -> None:  # fmt: skip
        self.space, self.pop_size, self.seed = space, pop_size, seed
        dtype = space.dtype
        self.selection = ops.make("selection", selection)
        self.crossover = ops.make("crossover", crossover)
        self.mutation = ops.make(
            "mutation", default_mutation(dtype) if mutation is None else mutation
        )
        if dtype.kind != "f" and self.crossover.real_only:
            raise ValidationError(
                f"{self.crossover.name} crossover needs a float genome, not {dtype}"
            )
        if dtype.kind not in self.mutation.kinds:
            raise ValidationError(
                f"{self.mutation.name} mutation does not apply to {dtype} genomes"
            )
        if not isinstance(repair, str) or repair not in REPAIRS:
            raise ValidationError(f"repair must be one of {', '.join(REPAIRS)}, got {repair!r}")
        self.repair = repair
        self.backend, self.kernels = _backend.resolve(backend)
        rate = self.mutation.gene_rate(space.dim)
        self._mutation_code = self.mutation.code if rate > 0.0 else ops.NoMutation.code
        self._mutation_cdf = ops.mutation_table(space.dim, rate)
        self._mutation_threshold = ops.probability_threshold(rate)
        self._crossover_threshold = ops.probability_threshold(self.crossover.rate)
        self._selection_size = self.selection.size(pop_size)

    def replace(self, operators: dict[str, Any], pop_size: int | None = None) -> Variation:
        """The same variation with the ``selection``, ``crossover`` or ``mutation`` given, and
        ``pop_size`` children a generation if given."""
        current = {"selection": self.selection, "crossover": self.crossover,
                   "mutation": self.mutation}  # fmt: skip
        return Variation(self.space, pop_size=self.pop_size if pop_size is None else pop_size,
                         seed=self.seed, **(current | operators), repair=self.repair,
                         backend=self.backend)  # fmt: skip

    def initial(self, rows: int | None = None) -> np.ndarray:
        """The first population, ``rows`` (default ``pop_size``) uniform in the bounds."""
        sp = self.space
        out = np.empty((self.pop_size if rows is None else rows, sp.dim), dtype=sp.dtype)
        self.kernels.init_uniform(out, sp.low, sp.high, self.seed)
        return out

    def offspring(
        self, X: np.ndarray, key: np.ndarray, generation: int, retry: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """``pop_size`` children of the rows of X, selected on ``key`` (smaller is better),
        and each child's (primary, secondary) parent rows. ``retry`` > 0 breeds from other
        random streams (a seed derived from the run's), for children that must be redrawn."""
        sp = self.space
        out = np.empty((self.pop_size, sp.dim), dtype=sp.dtype)
        parents = np.empty((self.pop_size, 2), dtype=np.int32)
        seed = (self.seed + retry * _RETRY_STRIDE) % 2**64
        self.kernels.breed(
            X, key, sp.low, sp.high, out, parents,
            seed, generation,
            self.selection.code, self._selection_size,
            self.crossover.code, self._crossover_threshold, self.crossover.param(),
            self._mutation_code, self._mutation_threshold, self.mutation.param(),
            self._mutation_cdf, REPAIRS[self.repair],
        )  # fmt: skip
        return out, parents

    def unique_offspring(self, X: np.ndarray, key: np.ndarray,
                         generation: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """:meth:`offspring`, with a child equal to a row of X or to an earlier child redrawn
        from the next retry streams, up to :data:`REDRAWS` times."""
        children, parents = self.offspring(X, key, generation)
        for retry in range(1, REDRAWS + 1):
            dup = duplicate_rows(children, X)
            if not dup.any():
                break
            Y, P = self.offspring(X, key, generation, retry)
            children[dup], parents[dup] = Y[dup], P[dup]
        return children, parents

    def config(self) -> dict[str, Any]:
        """The operators and repair, as an optimizer's config records them."""
        return {
            "selection": {"name": self.selection.name, **self.selection.params()},
            "crossover": {"name": self.crossover.name, **self.crossover.params()},
            "mutation": {"name": self.mutation.name, **self.mutation.params()},
            "repair": self.repair,
        }

    def operators(self) -> str:
        """The operators as one line, e.g. ``tournament(k=2)+sbx(eta=15.0,rate=0.9)+...``."""
        return "+".join(ops.text(op) for op in (self.selection, self.crossover, self.mutation))


def repaired(X: np.ndarray, low: np.ndarray, high: np.ndarray, repair: str) -> np.ndarray:
    """X with every gene outside ``[low, high]`` repaired as the breed kernels repair theirs
    (docs/kernels.md): clipped, or reflected periodically (``fmod`` over twice the width, a
    gene of zero width clipped), for genes that leave the bounds outside the kernels."""
    if repair == "clip":
        return np.clip(X, low, high)
    w = high - low
    with np.errstate(invalid="ignore", divide="ignore"):  # zero widths: clipped below
        y = np.fmod(X - low, 2.0 * w)
    y = np.where(y < 0.0, y + 2.0 * w, y)
    y = np.where(y > w, 2.0 * w - y, y)
    out = np.where(w > 0.0, low + y, np.clip(X, low, high))
    return np.where((low <= X) & (high >= X), X, out)


def duplicate_rows(X: np.ndarray, pop: np.ndarray) -> np.ndarray:
    """Which rows of X repeat a row of ``pop`` or an earlier row of X, bit for bit."""
    rows = np.ascontiguousarray(np.concatenate([pop, X]))
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first = np.unique(keys, return_index=True)
    original = np.zeros(keys.size, dtype=bool)
    original[first] = True
    return ~original[pop.shape[0] :]
