"""``chimera.minimize``: run an optimizer on an objective until a budget is spent."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ._errors import ValidationError
from ._runloop import ALGORITHMS, SINGLE_SCHEMA, Evaluator, History, make_optimizer, run_generations
from .evolution.moea import MultiObjective

HISTORY_SCHEMA = SINGLE_SCHEMA
__all__ = ["ALGORITHMS", "HISTORY_SCHEMA", "OptimizeResult", "minimize"]


@dataclass
class OptimizeResult:
    """What a run found and how: ``x`` and ``fun`` (for a multi-objective run the Pareto set and
    its objectives, also as ``pareto_x`` and ``pareto_f``), the counts, and the per-generation
    ``history`` (a pyarrow Table)."""

    x: np.ndarray
    fun: Any
    nfev: int
    ngen: int
    history: pa.Table
    message: str
    algorithm: str
    backend: str
    elapsed_s: float
    pareto_x: np.ndarray | None = None
    pareto_f: np.ndarray | None = None

    def __repr__(self) -> str:
        fun = f"{len(self.pareto_f)} Pareto points" if self.pareto_f is not None else repr(self.fun)
        return (
            f"OptimizeResult(fun={fun}, nfev={self.nfev}, ngen={self.ngen}, "
            f"algorithm={self.algorithm!r}, backend={self.backend!r}, message={self.message!r})"
        )


def result_of(
    opt: Any, history: History, message: str, algorithm: str, elapsed_s: float
) -> OptimizeResult:
    """The OptimizeResult of an optimizer that has run."""
    if isinstance(opt, MultiObjective):
        px, pf = opt.pareto_x, opt.pareto_f
        if px.shape[0] == 0:
            message += "; no feasible solution was found"
        x, fun = px, pf
    else:
        assert opt.best_x is not None
        x, fun, px, pf = opt.best_x, opt.best_f, None, None
    return OptimizeResult(
        x=x, fun=fun, nfev=opt.nfev, ngen=opt.generation, history=history.table(),
        message=message, algorithm=algorithm, backend=opt.backend, elapsed_s=elapsed_s,
        pareto_x=px, pareto_f=pf,
    )  # fmt: skip


def generations_for(max_evals: Any, pop_size: int) -> int:
    if isinstance(max_evals, bool) or not isinstance(max_evals, (int, np.integer)):
        raise ValidationError(f"max_evals must be an integer, got {max_evals!r}")
    if max_evals < pop_size:
        raise ValidationError(
            f"max_evals={max_evals} is less than one generation (pop_size={pop_size})"
        )
    return int(max_evals) // pop_size


def minimize(
    fun: Callable[..., Any],
    bounds: Any,
    *,
    algorithm: str = "ga",
    max_evals: int,
    seed: int | None = None,
    n_obj: int | None = None,
    vectorized: bool = True,
    executor: Executor | None = None,
    progress: bool = False,
    callback: Callable[[Any], bool | None] | None = None,
    ref_point: Any = None,
    **options: Any,
) -> OptimizeResult:
    """Minimise ``fun`` over ``bounds`` with at most ``max_evals`` evaluations.

    Parameters
    ----------
    fun : callable
        With ``vectorized=True`` it takes the ``(pop_size, dim)`` population and returns the
        objectives: ``(pop_size,)`` for one, ``(pop_size, n_obj)`` for several, or a pair
        ``(F, G)`` adding constraint values ``G`` (``(pop_size, n_constraints)``, ``g <= 0``
        satisfied). Otherwise it takes one genome and returns a number, ``n_obj`` numbers or
        ``(f, g)`` with f and g sequences (a tuple of two numbers is two objectives), and runs
        through ``executor`` (a thread pool by default).
    bounds : array_like, shape (dim, 2)
        ``(low, high)`` per gene.
    algorithm : {"ga", "nsga2", "nsga3"}
        The optimizer; ``options`` go to its constructor (``pop_size``, operators, ``dtype``,
        ``backend``, ...).
    max_evals : int
        Evaluation budget; whole generations run while they fit in it.
    seed : int, optional
        Seed; the same seed gives the same result on any thread count.
    n_obj : int, optional
        Number of objectives, for nsga2 (default 2) and nsga3 (default 3).
    progress : bool
        Show a progress bar (rich).
    callback : callable, optional
        Called with the optimizer after each generation; returning True stops the run.
    ref_point : array_like, optional
        For multi-objective runs, the hypervolume reference point recorded in the history.

    Returns
    -------
    OptimizeResult
        For multi-objective runs ``x``/``fun`` are the feasible non-dominated members of the
        final population (``pareto_x``/``pareto_f``).
    """
    opt = make_optimizer(algorithm, bounds, seed=seed, n_obj=n_obj, **options)
    generations = generations_for(max_evals, opt.pop_size)
    own_pool = executor is None and not vectorized
    pool = ThreadPoolExecutor() if own_pool else executor
    n_obj = opt.n_obj if isinstance(opt, MultiObjective) else None
    history = History(n_obj is not None, ref_point, n_obj)
    start = time.perf_counter()
    try:
        evaluate = Evaluator(fun, vectorized=vectorized, executor=pool)
        message = run_generations(
            opt, evaluate, generations, history, progress=progress, callback=callback
        )
    finally:
        if own_pool and pool is not None:
            pool.shutdown()
    if message == "evaluation budget spent":
        message = f"evaluation budget of {max_evals} spent"
    return result_of(opt, history, message, str(algorithm).lower(), time.perf_counter() - start)
