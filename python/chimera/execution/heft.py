"""HEFT: a task graph scheduled onto workers (the kernel of ``chimera._core.scheduler``, or its
Numba twin ``chimera._numba.scheduler``: the same schedules bit for bit).

``schedule(cost, edges, workers=...)`` places every task on a worker by HEFT list scheduling:
ranks from the critical path to the exit, highest-ranked ready task first, each onto the
worker where it finishes earliest, data from a predecessor on another worker arriving after
the edge's communication cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _backend
from .._errors import ValidationError


@dataclass(frozen=True)
class Schedule:
    """Per task: ``worker``, ``start``, ``finish`` and upward ``rank``; ``order`` the tasks as
    placed; ``makespan`` the last finish."""

    worker: np.ndarray
    start: np.ndarray
    finish: np.ndarray
    rank: np.ndarray
    order: np.ndarray
    makespan: float


def edge_arrays(edges: Any) -> tuple[np.ndarray, np.ndarray]:
    """(src, dst) int32 arrays from an (e, 2) array or a sequence of pairs."""
    e = np.asarray(edges if len(edges) else np.empty((0, 2)), dtype=np.int64)
    if e.ndim != 2 or e.shape[1] != 2:
        raise ValidationError(f"edges must be (from, to) pairs, got shape {e.shape}")
    if e.size and (e.min() < 0 or e.max() >= 2**31):
        raise ValidationError("edges must name tasks by non-negative int32 ids")
    return e[:, 0].astype(np.int32), e[:, 1].astype(np.int32)


def schedule(
    cost: Any, edges: Any, *, workers: int | Any = 1, comm: Any = None, backend: str = "auto"
) -> Schedule:
    """HEFT schedule of tasks with compute ``cost`` (time on a worker of speed 1) and dependencies
    ``edges`` (``(a, b)``: b needs a's output, ``comm[k]`` the time to move it between workers)
    onto ``workers``: a count of equal workers, or their speeds.

    ``backend`` picks the kernel: ``cpp`` or ``numba`` (the same schedule bit for bit), or ``auto``
    (``CHIMERA_BACKEND`` if set, else the first of them that works here); ``cuda`` has no
    scheduler and raises ``BackendUnavailable``."""
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    if isinstance(workers, (int, np.integer)) and not isinstance(workers, bool):
        speed = np.ones(int(workers))
    else:
        speed = np.ascontiguousarray(workers, dtype=np.float64)
    if speed.ndim != 1 or speed.size < 1:
        raise ValidationError("workers must be a positive count or a 1-D array of speeds")
    src, dst = edge_arrays(edges)
    _, kernels = _backend.resolve(backend, "scheduler")
    try:
        out = kernels.heft(cost, src, dst, comm, speed)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    return Schedule(out["worker"], out["start"], out["finish"], out["rank"], out["order"],
                float(out["makespan"]))  # fmt: skip
