"""``chimera.minimize``: run an optimizer on an objective until a budget is spent."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ._errors import FitnessError, ValidationError
from .evolution.ga import GA

ALGORITHMS: dict[str, type[GA]] = {"ga": GA}

HISTORY_SCHEMA = pa.schema(
    [
        ("generation", pa.int64()),
        ("nfev", pa.int64()),
        ("best", pa.float64()),
        ("min", pa.float64()),
        ("mean", pa.float64()),
        ("max", pa.float64()),
        ("std", pa.float64()),
        ("elapsed_s", pa.float64()),
    ]
)


@dataclass
class OptimizeResult:
    """What a run found: the best genome ``x`` and its fitness ``fun``, the counts, and the
    per-generation ``history`` (a pyarrow Table)."""

    x: np.ndarray
    fun: float
    nfev: int
    ngen: int
    history: pa.Table
    message: str
    algorithm: str
    backend: str
    elapsed_s: float

    def __repr__(self) -> str:
        return (
            f"OptimizeResult(fun={self.fun!r}, nfev={self.nfev}, ngen={self.ngen}, "
            f"algorithm={self.algorithm!r}, backend={self.backend!r}, message={self.message!r})"
        )


def evaluate(
    fun: Callable[..., Any], X: np.ndarray, *, vectorized: bool, executor: Executor | None
) -> np.ndarray:
    """Fitness of every row of X: one call on the whole population, or one per row."""
    if vectorized:
        return np.asarray(fun(X))
    if executor is None:
        raise ValidationError("a non-vectorized objective needs an executor")
    values = list(executor.map(fun, X))
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FitnessError(f"the objective must return one number per individual: {exc}") from exc


def minimize(
    fun: Callable[..., Any],
    bounds: Any,
    *,
    algorithm: str = "ga",
    max_evals: int,
    seed: int | None = None,
    vectorized: bool = True,
    executor: Executor | None = None,
    progress: bool = False,
    callback: Callable[[Any], bool | None] | None = None,
    **options: Any,
) -> OptimizeResult:
    """Minimise ``fun`` over ``bounds`` with at most ``max_evals`` evaluations.

    Parameters
    ----------
    fun : callable
        With ``vectorized=True`` it takes the ``(pop_size, dim)`` population and returns
        ``(pop_size,)`` fitness; otherwise it takes one genome and returns a number, and runs
        through ``executor`` (a thread pool by default).
    bounds : array_like, shape (dim, 2)
        ``(low, high)`` per gene.
    algorithm : {"ga"}
        The optimizer; ``options`` go to its constructor (``pop_size``, operators, ``dtype``,
        ``maximize``, ``backend``, ...).
    max_evals : int
        Evaluation budget; whole generations run while they fit in it.
    seed : int, optional
        Seed; the same seed gives the same result on any thread count.
    progress : bool
        Show a progress bar (rich).
    callback : callable, optional
        Called with the optimizer after each generation; returning True stops the run.
    """
    key = str(algorithm).lower()
    if key not in ALGORITHMS:
        raise ValidationError(
            f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}"
        )
    opt = ALGORITHMS[key](bounds, seed=seed, **options)
    if isinstance(max_evals, bool) or not isinstance(max_evals, (int, np.integer)):
        raise ValidationError(f"max_evals must be an integer, got {max_evals!r}")
    if max_evals < opt.pop_size:
        raise ValidationError(
            f"max_evals={max_evals} is less than one generation (pop_size={opt.pop_size})"
        )
    generations = int(max_evals) // opt.pop_size

    own_pool = executor is None and not vectorized
    pool = ThreadPoolExecutor() if own_pool else executor
    columns: dict[str, list[float]] = {name: [] for name in HISTORY_SCHEMA.names}
    start = time.perf_counter()
    message = f"evaluation budget of {max_evals} spent"
    bar = _Progress(generations, enabled=progress)
    try:
        with bar:
            for _ in range(generations):
                X = opt.ask()
                f = evaluate(fun, X, vectorized=vectorized, executor=pool)
                opt.tell(f)
                fit = opt.fitness
                assert fit is not None
                finite = fit[np.isfinite(fit)]
                row = (
                    opt.generation,
                    opt.nfev,
                    opt.best_f,
                    *_stats(finite),
                    time.perf_counter() - start,
                )
                for name, value in zip(HISTORY_SCHEMA.names, row, strict=True):
                    columns[name].append(value)
                bar.advance(opt.best_f)
                if callback is not None and callback(opt):
                    message = "stopped by callback"
                    break
    finally:
        if own_pool and pool is not None:
            pool.shutdown()
    history = pa.Table.from_pydict(columns, schema=HISTORY_SCHEMA)
    assert opt.best_x is not None
    return OptimizeResult(
        x=opt.best_x,
        fun=opt.best_f,
        nfev=opt.nfev,
        ngen=opt.generation,
        history=history,
        message=message,
        algorithm=key,
        backend=opt.backend,
        elapsed_s=time.perf_counter() - start,
    )


def _stats(f: np.ndarray) -> tuple[float, float, float, float]:
    """min, mean, max and std of the population's finite fitness values."""
    if f.size == 0:
        return (np.nan, np.nan, np.nan, np.nan)
    return float(f.min()), float(f.mean()), float(f.max()), float(f.std())


class _Progress:
    """A rich progress bar that costs nothing when disabled."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.enabled, self.total = enabled, total
        self._bar: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]generation"), BarColumn(), MofNCompleteColumn(),
                TextColumn("best {task.fields[best]:.6g}"), TimeElapsedColumn(),
            )  # fmt: skip
            self._bar.start()
            self._task = self._bar.add_task("run", total=self.total, best=float("nan"))
        return self

    def advance(self, best: float) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, best=best)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
