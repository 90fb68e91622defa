"""The genetic algorithm: ask/tell over the native whole-population kernels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _state_dict
from .._errors import ValidationError
from .._validate import boolean, genome_dtype, integer
from ..optimizer import OPERATOR_KEYS, Survival
from . import operators as ops
from .evolutionary import EvolutionaryAlgorithm
from .self_adaptation import StepSizes


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


#: The GA's parent selection when none is named: a binary tournament.
DEFAULT_SELECTION = ops.Tournament(k=2)


class GA(EvolutionaryAlgorithm):
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
    selection : operator, name or dict
        Parent selection (:mod:`chimera.evolution.operators`): tournament (binary by
        default), truncation or sus.
    crossover : operator, name or dict, optional
        Recombination of each parent pair at rate 0.9: single_point, two_point, uniform,
        blend, sbx or none; None takes SBX (eta 15) for float genomes, single_point for
        integer and boolean ones.
    mutation : operator, name or dict, optional
        Per-gene mutation at rate 1/dim by default; None takes the genome kind's: polynomial
        (eta 20, float), random_reset (int32) or bit_flip (bool). Float genomes may also adapt
        their step size as they run: lognormal (self-adaptive, one per individual), one_fifth
        (the 1/5th success rule) or gesmr (group elite step-size mutation).
    elitism : int, optional
        How many of the best parents compete with the offspring for a place: the next
        population is the best ``pop_size`` of the ``elitism`` best parents and the offspring
        (None or ``pop_size``: (mu + lambda) survival; 0 is purely generational). The
        defaults (binary tournament, SBX, polynomial mutation, (mu + lambda), duplicates
        redrawn) were chosen by measurement: benchmarks/bench_ga_defaults.py.
    eliminate_duplicates : bool
        Redraw (up to three times) a child equal to a member of the population or to an
        earlier child, so that no evaluation is spent on a point already held.
    repair : {"clip", "reflect"}
        What happens to a float gene that leaves its bounds.
    maximize : bool
        Maximise fitness instead of minimising it.
    nan_policy : {"raise", "worst"}
        NaN or infinite fitness raises (naming the individuals) or counts as the worst value.
    backend : {"auto", "cpp", "numba", "cuda"}
        Kernel backend; ``auto`` honours ``CHIMERA_BACKEND``.
    """

    operator_keys = OPERATOR_KEYS
    _FORMAT = "chimera.GA/1"

    def __init__(
        self,
        bounds: npt.ArrayLike,
        *,
        pop_size: int = 100,
        seed: int | None = None,
        dtype: npt.DTypeLike = "float64",
        selection: Any = DEFAULT_SELECTION,
        crossover: Any = None,
        mutation: Any = None,
        elitism: int | None = None,
        eliminate_duplicates: bool = True,
        repair: str = "clip",
        maximize: bool = False,
        nan_policy: str = "raise",
        backend: str = "auto",
    ) -> None:
        real_genes = genome_dtype(dtype).kind == "f"
        if crossover is None:
            crossover = ops.SBX(15.0) if real_genes else ops.SinglePoint()
        if mutation is None and real_genes:
            mutation = ops.Polynomial(20.0)
        super().__init__(bounds, pop_size=pop_size, seed=seed, dtype=dtype, selection=selection,
                         crossover=crossover, mutation=mutation, repair=repair,
                         maximize=maximize, nan_policy=nan_policy, backend=backend)  # fmt: skip
        self.elitism = integer(self.pop_size if elitism is None else elitism, "elitism", 0,
                               self.pop_size)  # fmt: skip
        self.eliminate_duplicates = boolean(eliminate_duplicates, "eliminate_duplicates")
        self._steps = self._step_sizes()

    def _step_sizes(self) -> StepSizes | None:
        v = self._variation
        return StepSizes.of(v.mutation, self.space, self.pop_size, self.seed, self.backend,
                            v.repair)  # fmt: skip

    def _set_operators(self, operators: dict[str, Any]) -> None:
        before = self._variation.mutation
        super()._set_operators(operators)
        if self._variation.mutation != before:  # another mutation: its step sizes start afresh
            self._steps = self._step_sizes()

    def _breed(self) -> tuple[np.ndarray, np.ndarray | None]:
        if self._pop is None or self._F is None:
            return self._variation.initial(), None
        breed = (self._variation.unique_offspring if self.eliminate_duplicates
                 else self._variation.offspring)  # fmt: skip
        X, parents = breed(self._pop, self._F[:, 0], self.generation)
        if self._steps is not None:
            self._steps.mutate(X, parents, self.generation)
        return X, parents

    def _survive(self, X: np.ndarray, F: np.ndarray, cv: np.ndarray) -> Survival:
        n = self.pop_size
        if self._pop is None or self._F is None:
            return Survival(X, F, cv, np.arange(n, 2 * n))
        learns = self._steps is not None and self._parents is not None
        if learns:  # before survival, which reuses the batch's rows
            assert self._parents is not None
            f_children, f_parents = F[:, 0].copy(), self._F[self._parents[:, 0], 0]
        survivors = elitist_survival(self._pop, self._F[:, 0], X, F[:, 0], self.elitism)
        if learns:
            assert self._steps is not None
            self._steps.survived(f_children, f_parents, survivors)
        return Survival(X, F, cv, survivors)

    def _config(self) -> dict[str, Any]:
        return {
            **super()._config(),
            "elitism": self.elitism,
            "maximize": self.maximize,
            **({"eliminate_duplicates": True} if self.eliminate_duplicates else {}),
        }

    def _state(self) -> dict[str, Any]:
        steps = None if self._steps is None else self._steps.state()
        return {"fitness": None if self._F is None else self._F[:, 0].copy(), "step_sizes": steps}

    def _load_state(self, state: Mapping[str, Any], n: int) -> tuple[Any, Any, Any]:
        fit = _state_dict.array(state, "fitness", (n,), np.float64)
        steps = state.get("step_sizes")
        loaded = None
        if isinstance(steps, Mapping) and self._steps is not None:
            loaded = self._steps.load(steps, n)
        elif steps is not None or self._steps is not None:
            raise ValidationError("checkpoint step_sizes do not match this GA's mutation")
        if fit is None:
            return None, None, loaded
        return fit[:, None], np.zeros(n), loaded

    def _apply_state(self, extra: Any) -> None:
        if extra is not None and self._steps is not None:
            self._steps.sigma, self._steps.pending = extra
