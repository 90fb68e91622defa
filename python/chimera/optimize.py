"""``chimera.minimize``: run an optimizer on an objective until a budget is spent."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from . import algorithms
from ._errors import ValidationError
from ._validate import MAX_COUNT, boolean, integer
from .evaluation import Evaluator
from .history import History
from .loop import Budget, Loop
from .optimizer import GenomeSpace, Optimizer
from .planning.choice import choose_algorithm, evolutionary_only

__all__ = ["OptimizeResult", "minimize"]


# What scipy.optimize.minimize users reach for, and Chimera's way to say it.
_SCIPY_HABITS = {
    "x0": "the population is drawn uniformly within bounds: narrow the bounds around x0 to "
    "start near it",
    "method": "name the optimizer with algorithm= (chimera algorithms lists them)",
    "maxiter": "give the budget as max_evals= (evaluations; generations x pop_size)",
    "maxfev": "give the budget as max_evals=",
    "tol": "a run ends when max_evals is spent, or when callback= returns True",
    "options": "pass the algorithm's options as keywords (pop_size=, mutation=, ...)",
    "args": "bind extra arguments first: functools.partial(fun, *args)",
    "jac": "no gradient is used",
}

#: ``status`` codes: the budget was spent, the callback stopped the run, no finite feasible
#: value was found.
BUDGET_SPENT, STOPPED, NOTHING_FOUND = 0, 1, 2


@dataclass
class OptimizeResult:
    """What a run found and how: ``x`` and ``fun`` (for a multi-objective run the Pareto set and
    its objectives, also as ``pareto_x`` and ``pareto_f``), the counts, and the per-generation
    ``history`` (a pyarrow Table). As ``scipy.optimize.OptimizeResult``: ``success``,
    ``status`` (0 budget spent, 1 stopped by the callback, 2 nothing finite and feasible
    found), ``nit`` (generations) and ``res["x"]``-style access."""

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

    @property
    def status(self) -> int:
        if self.message.endswith("no finite feasible value was found") or (
            self.pareto_f is not None and len(self.pareto_f) == 0):  # fmt: skip
            return NOTHING_FOUND
        return STOPPED if self.message.startswith("stopped by callback") else BUDGET_SPENT

    @property
    def success(self) -> bool:
        """Whether the run found a finite, feasible answer."""
        return self.status != NOTHING_FOUND

    @property
    def nit(self) -> int:
        """Generations run (scipy's name for ``ngen``)."""
        return self.ngen

    def keys(self) -> list[str]:
        return ["x", "fun", "success", "status", "message", "nit", "nfev", "ngen", "algorithm",
                "backend", "elapsed_s", "history", "pareto_x", "pareto_f"]  # fmt: skip

    def __getitem__(self, key: str) -> Any:
        if key not in self.keys():
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self.keys()

    def __repr__(self) -> str:
        if self.pareto_f is not None:
            found = f"{len(self.pareto_f)} Pareto points"
        else:
            x = np.array2string(np.asarray(self.x), precision=6, threshold=8, edgeitems=3)
            found = f"x={x}, fun={self.fun!r}"
        return (
            f"OptimizeResult({found}, success={self.success}, nfev={self.nfev}, "
            f"nit={self.nit}, algorithm={self.algorithm!r}, backend={self.backend!r}, "
            f"message={self.message!r})"
        )

    @classmethod
    def of(cls, opt: Optimizer, history: History, message: str, algorithm: str,
           elapsed_s: float) -> OptimizeResult:  # fmt: skip
        """The result of an optimizer that has run: for one objective its best genome, for
        several the feasible non-dominated members of its population."""
        fun: Any
        if opt.n_obj == 1:
            x, fun, px, pf = opt.best_x, opt.best_f, None, None
            if x is None:  # every value was NaN or infinite (nan_policy="worst") or infeasible
                x = np.full(opt.dim, np.nan)
                message += "; no finite feasible value was found"
        else:
            x = px = opt.pareto_x
            fun = pf = opt.pareto_f
            if px.shape[0] == 0:
                message += "; no feasible solution was found"
        return cls(
            x=x, fun=fun, nfev=opt.nfev, ngen=opt.generation, history=history.table(),
            message=message, algorithm=algorithm, backend=opt.backend, elapsed_s=elapsed_s,
            pareto_x=px, pareto_f=pf,
        )  # fmt: skip


def minimize(
    fun: Callable[..., Any],
    bounds: npt.ArrayLike,
    *,
    algorithm: str = "auto",
    max_evals: int,
    seed: int | None = None,
    n_obj: int | None = None,
    vectorized: bool = True,
    executor: Executor | None = None,
    progress: bool = False,
    callback: Callable[[Any], bool | None] | None = None,
    ref_point: npt.ArrayLike | None = None,
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
    algorithm : str
        The optimizer (``chimera algorithms`` lists them); ``options`` go to its constructor
        (``pop_size``, operators, ``dtype``, ``backend``, ...). ``auto`` picks by the rule
        :mod:`chimera.planning.choice` states: CMA-ES with restarts for real genes (LM-MA-ES
        past 1,000), the GA for integer or boolean genes or when operators are given,
        NSGA-II/III for several objectives.
    max_evals : int
        Evaluation budget; whole generations run while they fit in it.
    seed : int, optional
        Seed; the same seed gives the same result on any number of chimera's threads (the
        strategies' matrix products: at a fixed BLAS thread count, see ``CMAES``).
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
    habits = sorted(set(options) & set(_SCIPY_HABITS))
    if habits:
        raise ValidationError(f"chimera.minimize takes no {habits[0]}= (a scipy.optimize.minimize "
                              f"argument): {_SCIPY_HABITS[habits[0]]}")  # fmt: skip
    if executor is not None and not callable(getattr(executor, "map", None)):
        raise ValidationError(f"executor must be a concurrent.futures.Executor (anything with "
                              f"map), got {type(executor).__name__}")  # fmt: skip
    if isinstance(algorithm, str) and algorithm.strip().lower() == "auto":
        algorithm = _auto(bounds, n_obj, options)
    if "max_evals" in algorithms.get(algorithm).parameters:
        options["max_evals"] = max_evals  # the budget its schedules are planned over
    opt = algorithms.create(algorithm, bounds, seed=seed, n_obj=n_obj, **options)
    integer(max_evals, "max_evals", 0, MAX_COUNT)
    boolean(vectorized, "vectorized")
    boolean(progress, "progress")
    if max_evals < opt.pop_size:
        raise ValidationError(
            f"max_evals={max_evals} is less than one generation (pop_size={opt.pop_size})"
        )
    own_pool = executor is None and not vectorized
    pool = ThreadPoolExecutor() if own_pool else executor
    history = History(opt.n_obj > 1, ref_point, opt.n_obj if opt.n_obj > 1 else None)
    start = time.perf_counter()
    try:
        evaluate = Evaluator(fun, vectorized=vectorized, executor=pool)
        loop = Loop(opt, evaluate, history=history, budget=Budget(evals=max_evals),
                    callback=callback)  # fmt: skip
        # the first generation is the population, each later one a batch of offspring; a
        # population that shrinks or restarts larger makes the count unknown beforehand
        later = algorithms.get(algorithm).offspring_size(options, opt.n_obj, opt.dim)
        total = None if opt.resizes else 1 + (max_evals - opt.pop_size) // later
        message = loop.run(progress=progress, total=total)
    finally:
        if own_pool and pool is not None:
            pool.shutdown()
    name = algorithms.get(algorithm).name
    return OptimizeResult.of(opt, history, message, name, time.perf_counter() - start)


def _auto(bounds: npt.ArrayLike, n_obj: int | None, options: dict[str, Any]) -> str:
    """The rule's algorithm for these bounds, objectives and options."""
    dtype = options.get("dtype", "float64")
    n = 1 if n_obj is None else integer(n_obj, "n_obj", 1, 2**15)
    name, _ = choose_algorithm("auto", n, dim=GenomeSpace.of(bounds, dtype).dim, dtype=dtype,
                               operators=evolutionary_only(options))  # fmt: skip
    return name
