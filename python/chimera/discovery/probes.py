"""A few milliseconds of measurement that planning uses as its cost model.

:func:`probe` times two things on this machine:

- the objective's evaluation of a batch of ``n`` random genomes within the bounds, on each
  worker count ``k`` (a ``WasmAgent`` on an ``AgentPool`` of ``k`` workers; a vectorised
  callable on ``k`` threads, one shard each);
- one generation of the planned algorithm's own work (the GA's by default), ``ask()`` (the
  backend's ``breed`` kernel, or a strategy's sampling) and ``tell()`` (survival, or its
  adaptation), for a population of ``n`` on each kernel backend.

Each is timed at a small size and at the largest size (up to ``batch``) whose single call fits
its share of the time, and fitted with a line, ``seconds(n) = fixed + per_item * n``: the
fixed part is dispatch (threads, kernel launch, copies), the slope the cost per individual.
The model then predicts

    seconds_per_generation(pop, backend, workers)
        = evaluation[workers](pop) + breeding[backend](pop)

For a wasm agent it also records the mean fuel (instructions) a random genome spent: an
agent's cost can depend on the genome, and its fuel limit over that mean bounds how much
dearer a generation can be than predicted. For a worker count that was not measured it
interpolates the two lines it lies between
(beyond the largest it assumes no further speed-up). The measurements are medians of repeated
calls, so a busy machine shifts them less than a single call would; they are still a few
milliseconds of a shared machine, good for choosing between plans, not for benchmarking.

By default the whole probe takes about 0.1 s. Two costs come on top, once per process: the
numba backend compiles (or loads from its cache) its kernels at their first use, up to a
second or more, and an objective slower than the time share is still called a few times at
each size.
"""

from __future__ import annotations

import bisect
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from .._errors import ValidationError
from .._validate import as_bounds, integer
from .._validate import seconds as seconds_

# The smallest population the breeding is timed at.
_MIN_POP = 4
# A slope below this (seconds per individual) is noise: the line is flattened to it.
_TINY = 1e-12


@dataclass(frozen=True)
class Line:
    """Seconds for a batch of n: ``fixed + per_item * n``."""

    fixed: float
    per_item: float

    def __call__(self, n: float) -> float:
        return self.fixed + self.per_item * n

    @classmethod
    def through(cls, n_small: int, t_small: float, n_large: int, t_large: float) -> Line:
        """The line through two timings, kept non-negative and rising (noise can make the
        larger batch look no slower; then all of it is counted as per-item cost)."""
        if n_large > n_small:
            slope = (t_large - t_small) / (n_large - n_small)
            if slope > _TINY:
                return cls(max(0.0, t_small - slope * n_small), slope)
        return cls(0.0, max(t_large / max(n_large, 1), _TINY))


@dataclass(frozen=True)
class CostModel:
    """Measured costs of one objective and the GA kernels on this machine (see the module
    docstring for the model). ``evaluation`` maps worker counts, ``breeding`` backend names,
    to :class:`Line` s; ``seconds`` is how long the probe took."""

    dim: int
    evaluation: dict[int, Line] = field(hash=False)
    breeding: dict[str, Line] = field(hash=False)
    seconds: float
    #: A wasm agent's mean fuel (instructions) per evaluation of the random genomes, else
    #: None. An agent's cost can depend on the genome (a controller that balances longer
    #: simulates longer): its fuel limit over this is how much dearer an evaluation can be.
    fuel_per_evaluation: float | None = None

    @property
    def workers(self) -> tuple[int, ...]:
        return tuple(sorted(self.evaluation))

    @property
    def backends(self) -> tuple[str, ...]:
        return tuple(self.breeding)

    def evaluation_seconds(self, n: int, workers: int) -> float:
        """Predicted seconds to evaluate a batch of n on ``workers`` workers."""
        counts = self.workers
        integer(workers, "workers")
        if workers in self.evaluation:
            return self.evaluation[workers](n)
        i = bisect.bisect_left(counts, workers)
        if i == 0:
            return self.evaluation[counts[0]](n)
        if i == len(counts):
            return self.evaluation[counts[-1]](n)
        lo, hi = counts[i - 1], counts[i]
        w = (workers - lo) / (hi - lo)
        return (1 - w) * self.evaluation[lo](n) + w * self.evaluation[hi](n)

    def evaluations_per_second(self, workers: int, n: int = 256) -> float:
        """Throughput on ``workers`` workers for batches of n."""
        return n / self.evaluation_seconds(n, workers)

    def seconds_per_generation(self, pop: int, backend: str, workers: int) -> float:
        """Predicted seconds for one generation of ``pop`` individuals: their evaluation on
        ``workers`` workers and the GA's breeding and survival on ``backend``."""
        if backend not in self.breeding:
            raise ValidationError(
                f"backend {backend!r} was not probed; the model has {', '.join(self.breeding)}"
            )
        integer(pop, "pop", 2)
        return self.evaluation_seconds(pop, workers) + self.breeding[backend](pop)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "dim": self.dim,
            "seconds": self.seconds,
            "evaluation": {str(k): vars(v) for k, v in sorted(self.evaluation.items())},
            "breeding": {k: vars(v) for k, v in self.breeding.items()},
            "fuel_per_evaluation": self.fuel_per_evaluation,
        }


def _median_seconds(call: Callable[[], object], budget: float) -> float:
    """Median wall time of ``call`` repeated for about ``budget`` seconds (at least three
    times, after one warm-up call that is not counted)."""
    call()
    times: list[float] = []
    end = time.perf_counter() + budget
    while len(times) < 3 or time.perf_counter() < end:
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _fit(batch_of: Callable[[int], Callable[[], object]], n_small: int, n_max: int,
         budget: float) -> Line:  # fmt: skip
    """A line through the median times of ``batch_of(n)()`` at ``n_small`` and at the
    largest n up to ``n_max`` whose single call fits an eighth of the budget (found by
    growing n fourfold, so that a cheap objective is not judged by its dispatch overhead
    alone)."""
    t_small = _median_seconds(batch_of(n_small), budget / 2)
    n_large = n_small
    while n_large < n_max:
        n = min(n_max, 4 * n_large)
        call = batch_of(n)
        t0 = time.perf_counter()
        call()
        n_large = n
        if time.perf_counter() - t0 > budget / 8:
            break
    if n_large == n_small:
        return Line.through(n_small, t_small, n_small, t_small)
    return Line.through(n_small, t_small, n_large, _median_seconds(batch_of(n_large), budget / 2))


def _default_workers() -> list[int]:
    """1, 2, 4, ... up to the logical cores, and the core count itself."""
    cores = os.cpu_count() or 1
    counts = {cores}
    k = 1
    while k < cores:
        counts.add(k)
        k *= 2
    return sorted(counts)


def _evaluator(
    objective: Any, workers: int
) -> tuple[Callable[[np.ndarray], Any], Callable[[], None]]:
    """(evaluate a batch on ``workers`` workers, close them)."""
    if _is_agent(objective):
        execution = sys.modules["chimera.execution"]
        pool = execution.AgentPool(objective, workers=workers)
        return pool.evaluate, pool.close
    threads = ThreadPoolExecutor(workers, thread_name_prefix="chimera-probe")

    def evaluate(X: np.ndarray) -> list[Any]:
        shards = np.array_split(X, min(workers, len(X)))
        return list(threads.map(objective, shards))

    return evaluate, threads.shutdown


def _is_agent(objective: Any) -> bool:
    # Only a loaded chimera.execution can have made a WasmAgent: importing it (and wasmtime)
    # for a plain callable would cost more than the probe.
    execution = sys.modules.get("chimera.execution")
    return execution is not None and isinstance(objective, execution.WasmAgent)


def _fuel_per_evaluation(objective: Any, X: np.ndarray) -> float | None:
    """A wasm agent's mean fuel for the rows of X; None for any other objective."""
    if not _is_agent(objective):
        return None
    fuel = objective.evaluate(X).fuel
    return None if fuel is None else fuel / len(X)


def _first_rows(evaluate: Callable[[np.ndarray], Any], X: np.ndarray, n: int) -> Callable[[], Any]:
    """The evaluation of X's first n rows, as a call to time."""
    return partial(evaluate, X[:n])


def _check_output(objective: Any, X: np.ndarray) -> None:
    out = objective(X)
    fitness = getattr(out, "fitness", out)  # an Evaluation carries its fitness
    rows = np.shape(fitness)[0] if np.ndim(fitness) else None
    if rows != len(X):
        raise ValidationError(
            f"the objective must return one result per row of an (n, dim) array; for n={len(X)} "
            f"it returned shape {np.shape(fitness)}"
        )


def _generation(bounds: Any, algorithm: str, n_obj: int, backend: str,
                pop: int) -> Callable[[], None]:  # fmt: skip
    """One generation of ``algorithm`` with a population of ``pop``: its ask (breeding or
    sampling on the backend's kernels) and tell (survival or adaptation) of the rows asked
    (fewer than ``pop`` for an algorithm that breeds a part of its population at a time)."""
    from .. import algorithms  # the registry: the optimizer a plan will run, timed as it runs

    F = np.random.default_rng(0).random((pop, n_obj))

    def step(opt: Any) -> None:
        opt.tell(F[: len(opt.ask())])

    def fresh() -> Any:
        opt = algorithms.create(algorithm, bounds, seed=0, pop_size=pop, backend=backend,
                                n_obj=n_obj)  # fmt: skip
        step(opt)  # the first ask draws the initial population; breeding starts after it
        return opt

    held = [fresh()]
    size = held[0].pop_size  # MOEA/D's lattice may hold fewer than pop

    def generation() -> None:
        if held[0].pop_size != size:  # a strategy restarted larger: time the first size
            held[0] = fresh()
        step(held[0])

    return generation


def probe(
    objective: Any,
    bounds: Any,
    *,
    workers: Iterable[int] | None = None,
    backends: Iterable[str] | None = None,
    seconds: float = 0.05,
    batch: int = 1024,
    seed: int = 0,
    algorithm: str = "ga",
    n_obj: int = 1,
) -> CostModel:
    """Measure ``objective`` and the algorithm's generations here; see the module docstring
    for the model.

    Parameters
    ----------
    objective : callable or chimera.execution.WasmAgent
        Vectorised: takes an ``(n, dim)`` array, returns one result per row.
    bounds : (dim, 2) array
        Where the random genomes are drawn (the GA's bounds).
    workers : iterable of int, optional
        Worker counts to measure; default 1, 2, 4, ... up to the logical cores.
    backends : iterable of str, optional
        Kernel backends to time breeding on; default every available one.
    seconds : float
        Roughly the whole probe's measuring time, shared evenly by the timings (each also
        makes one uncounted warm-up call and at least three counted ones).
    batch : int
        The largest batch (and population) timed.
    seed : int
        Seed of the random genomes.
    algorithm : str
        The registered algorithm whose generations are timed, on ``n_obj`` objectives.
    """
    from .._backend import backends as backend_statuses

    low, high = as_bounds(bounds, np.dtype(np.float64))
    given = _default_workers() if workers is None else list(workers)
    if not given:
        raise ValidationError("workers must name at least one worker count")
    counts = sorted({integer(k, "each worker count") for k in given})
    names = (
        [b.name for b in backend_statuses().values() if b.available]
        if backends is None
        else list(backends)
    )
    integer(batch, "batch", 2)
    budget = seconds_(seconds, "seconds") / (len(counts) + len(names))

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    X = rng.uniform(low, high, (batch, low.size))
    _check_output(objective, X[:2])

    evaluation: dict[int, Line] = {}
    for k in counts:
        evaluate, close = _evaluator(objective, k)
        try:
            batches = partial(_first_rows, evaluate, X)
            evaluation[k] = _fit(batches, min(k, batch), batch, budget)
        finally:
            close()
    generations = {name: partial(_generation, bounds, algorithm, n_obj, name) for name in names}
    breeding = {
        # no fewer than n_obj: MOEA/D's smallest lattice has a weight vector per objective
        name: _fit(g, min(max(_MIN_POP, n_obj), batch), batch, budget)
        for name, g in generations.items()
    }
    fuel = _fuel_per_evaluation(objective, X[: min(batch, 64)])
    return CostModel(low.size, evaluation, breeding, time.perf_counter() - start, fuel)
