"""``ServingPool``: a ``Deployment``'s versions served by ``AgentPool``s, one per version in
service, each batch routed, evaluated and recorded exactly once.

``evaluate(X)`` takes a ticket from the deployment, evaluates the batch in the pool of the
version it names and records the ticket: as failed when the evaluation raised or the sandbox
stopped any individual (a trap rolls a candidate back at once), else with the batch's KPI. A
version's pool opens at its first batch and closes once the version has left service and its
last batch in flight has finished, so a swap never cuts an evaluation short.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import ValidationError
from .._validate import positive_int
from .agent import Evaluation
from .artifacts import ArtifactStore
from .deploy import Deployment, Ticket
from .limits import Limits
from .metrics import Metrics
from .pool import AgentPool


@dataclass(frozen=True)
class Served:
    """One batch: its ``evaluation``, the ``version`` that served it, and the canary's
    ``verdict`` ("promoted" or "rolled back") when recording this batch decided it."""

    evaluation: Evaluation
    version: str
    verdict: str | None = None


def _mean_fitness(evaluation: Evaluation) -> float:
    return float(np.mean(evaluation.fitness))


class ServingPool:
    """Serves ``deployment``'s versions (ids in ``store``), each on an ``AgentPool`` of
    ``workers`` threads under ``limits``; ``kpi(evaluation)`` scores a batch (default: its
    mean fitness over every objective, so lower is better, as the Deployment's default
    assumes). Thread-safe: any number of threads may call ``evaluate`` at once."""

    def __init__(self, store: ArtifactStore, deployment: Deployment, *, workers: int = 2,
                 kpi: Callable[[Evaluation], float] | None = None, limits: Limits | None = None,
                 metrics: Metrics | None = None) -> None:  # fmt: skip
        if not isinstance(store, ArtifactStore):
            raise ValidationError(f"store must be an ArtifactStore, got {type(store).__name__}")
        if not isinstance(deployment, Deployment):
            raise ValidationError(
                f"deployment must be a Deployment, got {type(deployment).__name__}"
            )
        positive_int(workers, "workers")
        if kpi is not None and not callable(kpi):
            raise ValidationError(f"kpi must be callable, got {type(kpi).__name__}")
        self.store, self.deployment, self.workers = store, deployment, workers
        self.kpi = kpi if kpi is not None else _mean_fitness
        self.limits, self.metrics = limits, metrics
        self._lock = threading.Condition()
        self._opening = threading.Lock()  # one version's agent is built once, not per caller
        self._pools: dict[str, AgentPool] = {}
        self._busy: dict[str, int] = {}  # batches in flight per version
        self._closed = False

    def __enter__(self) -> ServingPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pools(self) -> dict[str, AgentPool]:
        """The open pools by version, for their health and metrics."""
        with self._lock:
            return dict(self._pools)

    def propose(self, version: str) -> None:
        """Opens ``version``'s pool, so that a missing or broken artifact is refused before it
        gets any traffic, then starts its canary."""
        with self._lock:
            if self._closed:
                raise ValidationError("this ServingPool is closed")
            self._busy[version] = self._busy.get(version, 0) + 1  # not retired while proposed
        try:
            self._pool(version)
            self.deployment.propose(version)
        finally:
            self._release(version)

    def evaluate(self, X: Any) -> Served:
        """Evaluates the batch of genomes X on the version the deployment routes it to."""
        try:
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"genomes must be numbers: {exc}") from exc
        if not np.isfinite(X).all():  # the caller's mistake: no version is charged for it
            raise ValidationError("genomes must be finite (no NaN or infinity)")
        with self._lock:
            if self._closed:
                raise ValidationError("this ServingPool is closed")
            # Routed under the lock that retires pools: the version's pool stays open for it.
            ticket = self.deployment.route()
            self._busy[ticket.version] = self._busy.get(ticket.version, 0) + 1
        try:
            return self._serve(ticket, X)
        finally:
            self._release(ticket.version)

    def _serve(self, ticket: Ticket, X: np.ndarray) -> Served:
        """Evaluates the batch on the ticket's version and records the ticket, once."""
        record = self.deployment.record
        try:
            pool = self._pool(ticket.version)
        except Exception:  # a missing or broken artifact fails the batch, like a trap
            record(ticket, failed=True)
            raise
        try:
            X = pool.agent.genomes(X)
        except BaseException:  # the wrong shape for this version: the caller's mistake
            record(ticket)
            raise
        try:
            evaluation = pool.evaluate(X)
        except Exception:
            record(ticket, failed=True)
            raise
        except BaseException:  # interrupted: served, but no evidence either way
            record(ticket)
            raise
        if evaluation.violations:  # the sandbox stopped an individual: a trap
            return Served(evaluation, ticket.version, record(ticket, failed=True))
        try:  # the KPI's failure is not the version's: served, but no evidence
            kpi = None if len(evaluation.fitness) == 0 else float(self.kpi(evaluation))
            if kpi is not None and not math.isfinite(kpi):
                raise ValidationError(f"kpi returned {kpi} for a batch of {ticket.version}")
        except BaseException:
            record(ticket)
            raise
        return Served(evaluation, ticket.version, record(ticket, kpi))

    def _pool(self, version: str) -> AgentPool:
        """The version's pool, opened at its first batch; the caller holds a busy count on
        the version, so it is not retired meanwhile."""
        with self._lock:
            pool = self._pools.get(version)
        if pool is not None:
            return pool
        with self._opening:
            with self._lock:
                pool = self._pools.get(version)
            if pool is None:  # a missing or broken artifact fails the batch, like a trap
                agent = self.store.get(version).agent(self.limits)
                pool = AgentPool(agent, self.workers, metrics=self.metrics)
                with self._lock:
                    self._pools[version] = pool
            return pool

    def _release(self, version: str) -> None:
        with self._lock:
            self._busy[version] -= 1
            if not self._busy[version]:
                del self._busy[version]
            live = self.deployment.live
            idle = [v for v in self._pools if v not in live and v not in self._busy]
            retired = [self._pools.pop(v) for v in idle]
            self._lock.notify_all()
        for pool in retired:  # nothing of theirs in flight: closing waits for no one
            pool.close()

    def close(self) -> None:
        """Refuses new batches, waits for those in flight, and closes every pool."""
        with self._lock:
            self._closed = True
            self._lock.wait_for(lambda: not self._busy)
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
