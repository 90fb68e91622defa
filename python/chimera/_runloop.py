"""The generation loop shared by ``chimera.minimize`` and the pipeline (``chimera.pipeline``):
evaluate what the optimizer asks, tell it, record a history row, repeat.

Objectives come back as ``F`` or ``(F, G)``: one value (single-objective) or ``n_obj`` values
per individual, and optionally constraint values with ``g <= 0`` satisfied.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pyarrow as pa

from ._errors import FitnessError, ValidationError
from .evolution.ga import GA
from .evolution.moea import MultiObjective
from .evolution.nsga2 import NSGA2
from .evolution.nsga3 import NSGA3

Optimizer = GA | MultiObjective
ALGORITHMS: dict[str, type[Any]] = {"ga": GA, "nsga2": NSGA2, "nsga3": NSGA3}

SINGLE_SCHEMA = pa.schema(
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
MULTI_SCHEMA = pa.schema(
    [
        ("generation", pa.int64()),
        ("nfev", pa.int64()),
        ("front_size", pa.int64()),
        ("feasible", pa.float64()),
        ("hypervolume", pa.float64()),
        ("f_min", pa.list_(pa.float64())),
        ("f_max", pa.list_(pa.float64())),
        ("elapsed_s", pa.float64()),
    ]
)


def make_optimizer(
    algorithm: str, bounds: Any, *, seed: int | None, n_obj: int | None, **options: Any
) -> Optimizer:
    """The optimizer named ``algorithm`` (ga, nsga2, nsga3) with its options."""
    key = str(algorithm).lower()
    if key not in ALGORITHMS:
        raise ValidationError(
            f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}"
        )
    cls = ALGORITHMS[key]
    if issubclass(cls, MultiObjective):
        if n_obj is not None:
            options["n_obj"] = n_obj
        opt: Optimizer = cls(bounds, seed=seed, **options)
        return opt
    if n_obj not in (None, 1):
        raise ValidationError(
            f"algorithm {key!r} is single-objective but n_obj={n_obj}; use nsga2 or nsga3"
        )
    single: Optimizer = cls(bounds, seed=seed, **options)
    return single


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


def tell(opt: Optimizer, F: Any, G: Any) -> None:
    if isinstance(opt, MultiObjective):
        opt.tell(F, G)
    elif G is not None:
        raise ValidationError(
            "constraints (an objective returning (F, G)) need algorithm 'nsga2' or 'nsga3'"
        )
    else:
        opt.tell(F)


class History:
    """Per-generation statistics, one row per ``record``; ``table()`` as pyarrow."""

    def __init__(self, multi: bool, ref_point: Any = None, n_obj: int | None = None) -> None:
        self.schema = MULTI_SCHEMA if multi else SINGLE_SCHEMA
        self.multi = multi
        self.ref_point = None
        if ref_point is not None:
            try:
                ref = np.asarray(ref_point, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ValidationError(f"ref_point must be numeric: {exc}") from exc
            if not multi or ref.shape != (n_obj,) or not np.isfinite(ref).all():
                raise ValidationError(
                    f"ref_point must be {n_obj} finite numbers, one per objective, for a "
                    f"multi-objective run; got {ref_point!r}"
                )
            self.ref_point = ref
        self.rows: list[tuple[Any, ...]] = []

    def record(self, opt: Optimizer, elapsed_s: float) -> None:
        if isinstance(opt, MultiObjective):
            F, cv = opt.objectives, opt.violation
            assert F is not None and cv is not None
            front = opt.pareto_f
            hv = np.nan
            if self.ref_point is not None and front.shape[0]:
                from .indicators import hypervolume

                hv = hypervolume(front, self.ref_point)
            finite = np.isfinite(F)
            seen = finite.any(axis=0)
            lo = np.where(seen, np.where(finite, F, np.inf).min(axis=0), np.nan)
            hi = np.where(seen, np.where(finite, F, -np.inf).max(axis=0), np.nan)
            row: tuple[Any, ...] = (
                opt.generation, opt.nfev, front.shape[0], float((cv <= 0).mean()), hv,
                lo.tolist(), hi.tolist(), elapsed_s,
            )  # fmt: skip
        else:
            fit = opt.fitness
            assert fit is not None
            f = fit[np.isfinite(fit)]
            stats = (
                (float(f.min()), float(f.mean()), float(f.max()), float(f.std()))
                if f.size
                else (np.nan,) * 4
            )
            row = (opt.generation, opt.nfev, opt.best_f, *stats, elapsed_s)
        self.rows.append(row)

    def status(self) -> str:
        """A few words on the last row, for the progress bar."""
        if not self.rows:
            return ""
        row = self.rows[-1]
        if self.multi:
            hv = "" if np.isnan(row[4]) else f", hypervolume {row[4]:.6g}"
            return f"front {row[2]}{hv}"
        return f"best {row[2]:.6g}"

    def state_dict(self) -> dict[str, Any]:
        """The rows as one array per column (a checkpoint stores arrays fast, nested lists
        slowly)."""
        n = len(self.schema)
        return {"columns": [np.asarray([row[i] for row in self.rows], dtype=np.float64)
                            for i in range(n)]}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        columns = [np.asarray(c) for c in state["columns"]]
        if len(columns) != len(self.schema) or len({len(c) for c in columns}) > 1:
            raise ValidationError("checkpoint history has the wrong columns")
        ints = {i for i, f in enumerate(self.schema) if pa.types.is_integer(f.type)}
        self.rows = [
            tuple(int(v) if i in ints else v for i, v in enumerate(row))
            for row in zip(*(c.tolist() for c in columns), strict=True)
        ]

    def table(self) -> pa.Table:
        columns = [[row[i] for row in self.rows] for i in range(len(self.schema))]
        return pa.Table.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, self.schema, strict=True)],
            schema=self.schema,
        )


def run_generations(
    opt: Optimizer,
    evaluate: Evaluator,
    generations: int,
    history: History,
    *,
    progress: bool = False,
    callback: Callable[[Any], bool | None] | None = None,
    before_tell: Callable[[np.ndarray, Any, Any], None] | None = None,
    elapsed_s: float = 0.0,
) -> str:
    """Runs up to ``generations`` more generations; returns why it stopped.

    ``before_tell(X, F, G)`` sees each evaluated generation before the optimizer takes it
    (``tell`` may reuse X's rows); ``callback(opt)`` runs after, and True from it stops.
    """
    start = time.perf_counter() - elapsed_s
    with _Progress(generations, enabled=progress) as bar:
        for _ in range(generations):
            X = opt.ask()
            F, G = evaluate(X)
            if before_tell is not None:
                before_tell(X, F, G)
            tell(opt, F, G)
            history.record(opt, time.perf_counter() - start)
            bar.advance(history.status())
            if callback is not None and callback(opt):
                return "stopped by callback"
    return "evaluation budget spent"


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
                TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
            )  # fmt: skip
            self._bar.start()
            self._task = self._bar.add_task("run", total=self.total, status="")
        return self

    def advance(self, status: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, status=status)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
