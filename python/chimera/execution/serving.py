"""``ServingPool``: a ``Deployment``'s versions served by ``AgentPool``s, one per version in
service, each batch routed, evaluated and recorded exactly once.

``evaluate(X)`` takes a ticket from the deployment, evaluates the batch in the pool of the
version it names and records the ticket: as failed when the evaluation raised or the sandbox
stopped any individual (a trap rolls a candidate back at once), else with the batch's KPI.
``serve(requests)`` gives every request its own ticket instead: all are routed first, each
version's requests are evaluated together on its pool (the versions side by side), and each ticket is recorded in request
order with its own KPI. What a version evaluates for a request is ``inputs(genome, requests)``
of the version's own genome: by default the requests themselves are the genomes. A version's
pool opens at its first batch and closes once the version has left service and its last batch
in flight has finished, so a swap never cuts an evaluation short.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._errors import ArgumentTypeError, ValidationError
from .._validate import optional
from .._validate import workers as workers_
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


def _requests(genome: np.ndarray, requests: np.ndarray) -> np.ndarray:
    return requests


class ServingPool:
    """Serves ``deployment``'s versions (ids in ``store``), each on an ``AgentPool`` of
    ``workers`` threads under ``limits``; ``kpi(evaluation)`` scores a batch (default: its
    mean fitness over every objective, so lower is better, as the Deployment's default
    assumes). Thread-safe: any number of threads may call ``evaluate`` at once."""

    def __init__(self, store: ArtifactStore, deployment: Deployment, *, workers: int = 2,
                 kpi: Callable[[Evaluation], float] | None = None, limits: Limits | None = None,
                 metrics: Metrics | None = None,
                 inputs: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                 ) -> None:  # fmt: skip
        if not isinstance(store, ArtifactStore):
            raise ValidationError(f"store must be an ArtifactStore, got {type(store).__name__}")
        if not isinstance(deployment, Deployment):
            raise ValidationError(
                f"deployment must be a Deployment, got {type(deployment).__name__}"
            )
        workers = workers_(workers)
        optional(limits, Limits, "limits", "a Limits")
        optional(metrics, Metrics, "metrics", "a Metrics")
        for name, hook in (("kpi", kpi), ("inputs", inputs)):
            if hook is not None and not callable(hook):
                raise ValidationError(f"{name} must be callable, got {type(hook).__name__}")
        self.store, self.deployment, self.workers = store, deployment, workers
        self.kpi = kpi if kpi is not None else _mean_fitness
        self.inputs = inputs if inputs is not None else _requests
        self.limits, self.metrics = limits, metrics
        self._lock = threading.Condition()
        self._opening = threading.Lock()  # one version's agent is built once, not per caller
        self._pools: dict[str, AgentPool] = {}
        self._genomes: dict[str, np.ndarray] = {}
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
        if not isinstance(version, str):
            raise ArgumentTypeError(f"version must be an artifact id (a str), got {version!r:.40}")
        with self._lock:
            if self._closed:
                raise ValidationError("this ServingPool is closed")
            self._busy[version] = self._busy.get(version, 0) + 1  # not retired while proposed
        try:
            try:
                self._pool(version)
            except ValidationError as exc:
                raise ValidationError(f"version {version!r:.70} cannot be proposed: {exc}") from exc
            self.deployment.propose(version)
        finally:
            self._release(version)

    def evaluate(self, X: npt.ArrayLike) -> Served:
        """Evaluates the batch of genomes X on the version the deployment routes it to."""
        X = _finite(X, "X")
        (ticket,) = self._route(1)
        try:
            return self._serve(ticket, X)
        finally:
            self._release(ticket.version)

    def serve(self, requests: npt.ArrayLike) -> list[Served]:
        """Serves each row of ``requests`` as its own unit of work (see the module docstring);
        returns what each was served, in order. Every ticket is recorded once, even when an
        evaluation fails (a failure: as in ``evaluate``); the first error is raised after."""
        R = _finite(requests, "requests")
        if R.ndim != 2:
            raise ValidationError(f"requests must be a 2-D array, one row each, got {R.shape}")
        tickets = self._route(len(R))
        rows: dict[str, list[int]] = {}
        for i, t in enumerate(tickets):
            rows.setdefault(t.version, []).append(i)
        # Per request: its answer, or why it has none ("failed", or "no evidence").
        answers: list[Evaluation | str] = ["no evidence"] * len(R)
        error: BaseException | None = None
        try:
            # Requests are few: one shard a version, every version's under way before any is
            # waited for, costs fewer thread hand-offs than sharding each (bench_pipeline).
            started: dict[str, list[Future[Evaluation]] | _Unanswered] = {}
            for version, where in rows.items():
                try:
                    started[version] = self._start(version, R[where], shards=1)
                except _Unanswered as exc:
                    started[version] = exc
            for version, where in rows.items():
                try:
                    s = started[version]
                    if isinstance(s, _Unanswered):
                        raise s
                    evaluation = self._finish(s)
                except _Unanswered as exc:
                    error = error or exc.__cause__
                    for i in where:
                        answers[i] = exc.why
                    continue
                for k, i in enumerate(where):
                    stopped = evaluation.violations.get(k)
                    answers[i] = Evaluation(evaluation.fitness[k : k + 1],
                                            {} if stopped is None else {0: stopped})  # fmt: skip
        except BaseException as exc:  # interrupted: what was not evaluated is no evidence
            error = exc
        served = []
        for ticket, answer in zip(tickets, answers, strict=True):
            try:
                if isinstance(answer, str):
                    verdict = self.deployment.record(ticket, failed=answer == "failed")
                    served.append(Served(Evaluation(np.zeros(0)), ticket.version, verdict))
                else:
                    served.append(Served(answer, ticket.version, self._record(ticket, answer)))
            except BaseException as exc:  # a KPI that failed, or an interrupt: recorded
                error = error or exc  # without evidence, and every other ticket still is
            finally:
                self._release(ticket.version)
        if error is not None:
            raise error
        return served

    def _evaluate(self, version: str, requests: np.ndarray) -> Evaluation:
        """The version's evaluation of ``requests``; :class:`_Unanswered` says whether a
        failure is the version's ("failed": its artifact or its run) or the caller's."""
        return self._finish(self._start(version, requests))

    def _start(self, version: str, requests: np.ndarray, shards: int | None = None
               ) -> list[Future[Evaluation]]:  # fmt: skip
        """Submits the version's evaluation of ``requests`` to its pool in ``shards`` (default:
        one per worker); see ``_evaluate``."""
        try:
            pool = self._pool(version)
        except Exception as exc:  # a missing or broken artifact fails the batch, like a trap
            raise _Unanswered("failed") from exc
        try:
            X = pool.agent.genomes(self.inputs(self._genomes[version], requests))
            if len(X) != len(requests):
                raise ValidationError(
                    f"inputs gave {len(X)} genomes for {len(requests)} requests to {version}; "
                    "it must return one genome a request"
                )
        except ValidationError as exc:  # the wrong shape for this version: the caller's mistake
            why = ValidationError(f"requests do not make genomes for version {version[:12]}: {exc}")
            raise _Unanswered("no evidence") from why
        except Exception as exc:  # the caller's inputs hook failed: no evidence either
            raise _Unanswered("no evidence") from exc
        try:
            return pool.scatter(X, shards)
        except Exception as exc:
            raise _Unanswered("failed") from exc

    @staticmethod
    def _finish(futures: list[Future[Evaluation]]) -> Evaluation:
        try:
            return AgentPool.gather(futures)
        except Exception as exc:
            raise _Unanswered("failed") from exc

    def _route(self, n: int) -> list[Ticket]:
        with self._lock:
            if self._closed:
                raise ValidationError("this ServingPool is closed")
            # Routed under the lock that retires pools: the versions' pools stay open for them.
            tickets = [self.deployment.route() for _ in range(n)]
            for t in tickets:
                self._busy[t.version] = self._busy.get(t.version, 0) + 1
        return tickets

    def _serve(self, ticket: Ticket, X: np.ndarray) -> Served:
        """Evaluates the batch on the ticket's version and records the ticket, once."""
        try:
            evaluation = self._evaluate(ticket.version, X)
        except _Unanswered as exc:
            self.deployment.record(ticket, failed=exc.why == "failed")
            assert exc.__cause__ is not None
            raise exc.__cause__ from None
        except BaseException:  # interrupted: served, but no evidence either way
            self.deployment.record(ticket)
            raise
        return Served(evaluation, ticket.version, self._record(ticket, evaluation))

    def _record(self, ticket: Ticket, evaluation: Evaluation) -> str | None:
        """Records the ticket: failed when the sandbox stopped an individual (a trap), else
        with the KPI; a KPI that fails is not the version's fault: served, but no evidence."""
        record = self.deployment.record
        if evaluation.violations:
            return record(ticket, failed=True)
        try:
            kpi = None if len(evaluation.fitness) == 0 else float(self.kpi(evaluation))
            if kpi is not None and not math.isfinite(kpi):
                raise ValidationError(f"kpi returned {kpi} for a batch of {ticket.version}")
        except BaseException:
            record(ticket)
            raise
        return record(ticket, kpi)

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
                artifact = self.store.get(version)
                pool = AgentPool(artifact.agent(self.limits), self.workers, metrics=self.metrics)
                with self._lock:
                    self._pools[version] = pool
                    self._genomes[version] = artifact.genome
            return pool

    def _release(self, version: str) -> None:
        with self._lock:
            self._busy[version] -= 1
            if not self._busy[version]:
                del self._busy[version]
            live = self.deployment.live
            idle = [v for v in self._pools if v not in live and v not in self._busy]
            retired = [self._pools.pop(v) for v in idle]
            for v in idle:
                del self._genomes[v]
            self._lock.notify_all()
        for pool in retired:  # nothing of theirs in flight: closing waits for no one
            pool.close()

    def close(self) -> None:
        """Refuses new batches, waits for those in flight, and closes every pool."""
        with self._lock:
            self._closed = True
            self._lock.wait_for(lambda: not self._busy)
            pools, self._pools, self._genomes = list(self._pools.values()), {}, {}
        for pool in pools:
            pool.close()


class _Unanswered(Exception):
    """A batch with no evaluation, and ``why``: "failed" (the version's fault) or "no
    evidence" (the caller's); the error is its cause."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _finite(values: Any, what: str) -> np.ndarray:
    """The caller's array as float64, refused (charging no version) unless finite."""
    if values is None or isinstance(values, (str, bytes)):
        raise ArgumentTypeError(f"{what} must be an array of numbers, got {values!r:.40}")
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValidationError(f"{what} must be numbers: {exc}") from exc
    if not np.isfinite(a).all():
        raise ValidationError(f"{what} must be finite (no NaN or infinity)")
    return a
