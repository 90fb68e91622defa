"""``AgentPool``: worker threads evaluating shards of a batch, each with its own wasmtime Store
(the agent keeps one per thread), watched by a heartbeat.

A worker beats when it takes a shard and when it finishes one. One that has been busy longer
than ``stuck_after`` seconds is stuck: the pool sends it no more work and starts a worker in
its place (the sandbox's deadline ends any wasm; what can hang longer is host code), and the
stuck one exits when it returns.
"""

from __future__ import annotations

import itertools
import math
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .._errors import ArgumentTypeError, ValidationError
from .._validate import integer, iterable, optional, seconds
from .._validate import workers as workers_
from .agent import Evaluation, WasmAgent
from .metrics import Metrics


@dataclass
class _Worker:
    name: str
    thread: threading.Thread = field(init=False)
    busy_since: float | None = None
    beat: float = 0.0
    retired: bool = False


class AgentPool:
    """Evaluates batches of genomes for ``agent`` on ``workers`` threads."""

    def __init__(self, agent: WasmAgent, workers: int = 2, *, metrics: Metrics | None = None,
                 stuck_after: float = 60.0) -> None:  # fmt: skip
        if not isinstance(agent, WasmAgent):
            raise ValidationError(f"agent must be a WasmAgent, got {type(agent).__name__}")
        workers = workers_(workers)
        if not (isinstance(stuck_after, float) and stuck_after == math.inf):  # inf: never stuck
            stuck_after = seconds(stuck_after, "stuck_after")
        optional(metrics, Metrics, "metrics", "a Metrics")
        self.agent, self.size, self.stuck_after = agent, workers, stuck_after
        self.metrics = metrics if metrics is not None else Metrics()
        self._tasks: queue.Queue[tuple[np.ndarray, int, Future[Evaluation]] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._names = itertools.count()
        self._closed = False
        for _ in range(workers):
            self._spawn()

    def __enter__(self) -> AgentPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self) -> None:
        w = _Worker(f"chimera-agent-{next(self._names)}", beat=time.monotonic())
        w.thread = threading.Thread(target=self._serve, args=(w,), name=w.name, daemon=True)
        self._workers.append(w)
        w.thread.start()

    def _serve(self, w: _Worker) -> None:
        while not w.retired:
            task = self._tasks.get()
            if task is None:
                return
            self.metrics.queue_depth.dec()
            X, first, future = task
            if not future.set_running_or_notify_cancel():
                continue
            w.busy_since = w.beat = time.monotonic()
            self.metrics.workers_busy.inc()
            try:
                result = self.agent.evaluate(X, first)
            except BaseException as exc:  # handed to the caller, the worker carries on
                future.set_exception(exc)
            else:
                reasons = [v.reason for v in result.violations.values()]
                self.metrics.record(self.agent.name, len(X), time.monotonic() - w.busy_since,
                                    reasons)  # fmt: skip
                future.set_result(result)
            finally:
                self.metrics.workers_busy.dec()
                w.busy_since, w.beat = None, time.monotonic()

    def _replace_stuck(self) -> None:
        now = time.monotonic()
        with self._lock:
            for w in self._workers:
                stuck = w.busy_since is not None and now - w.busy_since > self.stuck_after
                if stuck and not w.retired:
                    w.retired = True
                    self._spawn()
            self._workers = [w for w in self._workers if w.thread.is_alive() or not w.retired]

    def submit(self, X: npt.ArrayLike, first: int = 0) -> Future[Evaluation]:
        """Evaluates X (one shard, whose first row is individual ``first``) on the next free
        worker."""
        return self._submit(self.agent.genomes(X), integer(first, "first", 0))

    def _submit(self, X: np.ndarray, first: int) -> Future[Evaluation]:
        if self._closed:
            raise ValidationError("this AgentPool is closed")
        self._replace_stuck()
        future: Future[Evaluation] = Future()
        self.metrics.queue_depth.inc()
        self._tasks.put((X, first, future))
        return future

    def evaluate(self, X: npt.ArrayLike, shards: int | None = None) -> Evaluation:
        """Objectives of the rows of X, split into ``shards`` (default: one per worker)."""
        X = self.agent.genomes(X)  # checked once, before any shard runs
        shards = self.size if shards is None else integer(shards, "shards")
        if len(X) == 0:
            return self.agent.evaluate(X)
        return self.gather(self._scatter(X, shards))

    def scatter(self, X: np.ndarray, shards: int | None = None) -> list[Future[Evaluation]]:
        """Submits the genomes X in ``shards`` (default: one per worker) and returns at once;
        ``gather`` waits for them. Batches scattered before any is gathered run side by
        side."""
        shards = self.size if shards is None else integer(shards, "shards")
        return self._scatter(self.agent.genomes(X), shards)

    def _scatter(self, X: np.ndarray, shards: int) -> list[Future[Evaluation]]:
        """``scatter`` of genomes and a shard count already checked."""
        parts = np.array_split(np.arange(len(X)), max(1, min(shards, len(X))))
        return [self._submit(X[p], int(p[0]) if len(p) else 0) for p in parts]

    @staticmethod
    def gather(futures: list[Future[Evaluation]]) -> Evaluation:
        """The evaluation of a scattered batch, its shards joined in order."""
        fitness, violations = [], {}
        fuel: int | None = 0
        for f in iterable(futures, "futures", "Futures of AgentPool.scatter"):
            if not isinstance(f, Future):
                raise ArgumentTypeError(f"futures must come from AgentPool.scatter, got {f!r:.40}")
            r = f.result()
            fitness.append(r.fitness)
            violations.update(r.violations)
            fuel = None if fuel is None or r.fuel is None else fuel + r.fuel
        if not fitness:
            raise ValidationError("futures is empty: gather what AgentPool.scatter returned")
        return Evaluation(np.concatenate(fitness), violations, fuel)

    def __call__(self, X: npt.ArrayLike) -> np.ndarray:
        return self.evaluate(X).fitness

    def health(self) -> dict[str, Any]:
        """Liveness (every worker thread that should run is alive), readiness (a worker that
        is not stuck is there to take work), and each worker's state and last heartbeat."""
        now = time.monotonic()
        with self._lock:
            workers = [
                {"name": w.name, "alive": w.thread.is_alive(), "busy": w.busy_since is not None,
                 "stuck": w.retired, "seconds_since_heartbeat": now - w.beat}
                for w in self._workers
            ]  # fmt: skip
        serving = [w for w in workers if w["alive"] and not w["stuck"]]
        return {"live": len(serving) >= self.size and not self._closed,
                "ready": bool(serving) and not self._closed, "workers": workers}  # fmt: skip

    def close(self) -> None:
        """Stops the workers once the queued shards are done."""
        if self._closed:
            return
        self._closed = True
        for _ in self._workers:
            self._tasks.put(None)
        for w in self._workers:
            if not w.retired:
                w.thread.join()
