"""Calling the objective on a population: once on the whole ``(n, dim)`` array when it is
vectorised, else once per genome through a ``concurrent.futures.Executor``.

An objective returns ``F`` or ``(F, G)``: one value per genome (one objective) or ``n_obj``
values, and optionally constraint values ``G`` with ``g <= 0`` satisfied.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import FitnessError, ValidationError

if TYPE_CHECKING:
    from .execution import AgentPool


class Evaluator:
    """Calls the objective on a population: once on the whole array (vectorized) or once per
    row through an executor; returns ``(F, G)`` with ``G`` None when there are no constraints."""

    def __init__(
        self, fun: Callable[..., Any], *, vectorized: bool, executor: Executor | None
    ) -> None:
        if not callable(fun):
            raise ValidationError(f"fun must be callable, got {type(fun).__name__}")
        if not vectorized and executor is None:
            raise ValidationError("a non-vectorized objective needs an executor")
        self.fun, self.vectorized, self.executor = fun, vectorized, executor

    def __call__(self, X: np.ndarray) -> tuple[Any, Any]:
        if self.vectorized:
            return _split(self.fun(X))
        assert self.executor is not None
        values = list(self.executor.map(self.fun, X))
        # (f, g) per row: f and g are sequences; a tuple of two numbers is two objectives.
        if (
            values
            and isinstance(values[0], tuple)
            and len(values[0]) == 2
            and np.ndim(values[0][0])
        ):
            try:
                F = np.asarray([np.asarray(v[0], dtype=np.float64) for v in values])
                G = np.asarray([np.atleast_1d(np.asarray(v[1], dtype=np.float64)) for v in values])
            except (TypeError, ValueError, IndexError) as exc:
                raise FitnessError(
                    f"the objective must return (f, g) for every row: {exc}"
                ) from exc
            return F, G
        try:
            return np.asarray(values, dtype=np.float64), None
        except (TypeError, ValueError) as exc:
            raise FitnessError(
                f"the objective must return one number (or one per objective) per individual: {exc}"
            ) from exc


def _split(out: Any) -> tuple[Any, Any]:
    if isinstance(out, tuple) and len(out) == 2:
        return out[0], out[1]
    return out, None


class AgentEvaluator:
    """A wasm agent's objective on its :class:`~chimera.execution.AgentPool`: the population
    in shards over the pool's workers. A genome the sandbox stopped (fuel, deadline, trap)
    scores the agent's worst value, in the objective's own sense (``maximize``)."""

    def __init__(self, pool: AgentPool, *, maximize: bool) -> None:
        self.pool, self.maximize = pool, maximize

    def __call__(self, X: np.ndarray) -> tuple[np.ndarray, None]:
        e = self.pool.evaluate(X)
        if e.violations and self.maximize:  # the sandbox scores a stop worst for a minimiser
            e.fitness[list(e.violations)] = -self.pool.agent.limits.worst_fitness
        return e.fitness, None
