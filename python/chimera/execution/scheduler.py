"""``Scheduler``: runs tasks on worker threads in priority order as their dependencies finish,
within the resources they ask for, with per-task timeouts, retries, cancellation and a
circuit breaker per agent version.

The order is the native ``ReadyQueue`` (``chimera._core.scheduler``); Python only dispatches.
Workers pull: an idle worker takes the next task itself, under the one lock, so a task costs
no hand-off between threads; the lock is held for bookkeeping only, never while a task runs.

- **Resources.** A task asks for ``cpus`` slots, ``gpus`` devices and ``memory`` bytes; it
  starts only when they are free. A task that does not fit waits at the head, and the tasks
  after it may start around it only if they take none of what it is short of, so a large task
  is never starved by a stream of small ones. At most ``LOOKAHEAD`` tasks wait so.
- **Timeouts.** A task past its timeout fails with ``TaskTimeout``: its worker is given up and
  replaced, and whatever that thread returns later is dropped (a Python thread cannot be
  stopped; a wasm agent's own ``Limits.timeout`` does stop it). Its CPU slots are free at once;
  its GPUs and memory only when the thread returns, since it may still use them.
- **Retries.** A failed attempt is tried again after ``Retry.wait`` (exponential backoff with
  full jitter); a task that fails for good cancels everything that depends on it.
- **Circuit breakers.** Tasks with a ``version`` share that version's ``CircuitBreaker``;
  while it is open they fail at once with ``CircuitOpen``; half-open, one probe goes.
- **The queue's ids.** A task's ``id`` is its place in the native queue, which is rebuilt
  when the scheduler is idle (so that a long-lived scheduler does not grow without bound);
  ids are unique among the tasks not yet settled.
- **Health.** Workers beat when they take and finish a task. One busy longer than
  ``stuck_after`` is stuck: it gets no more work, and a new worker takes its place.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import heapq
import itertools
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .. import _core
from .._errors import ArgumentTypeError, CircuitOpen, TaskCancelled, TaskTimeout, ValidationError
from .._validate import as_seed, integer, iterable, optional, seconds
from .._validate import workers as workers_
from .breaker import CircuitBreaker, Permit
from .metrics import Metrics
from .retry import Retry

# The order is the native ready queue (chimera._numba.scheduler.ReadyQueue is its twin).
ReadyQueue = _core.scheduler.ReadyQueue

LOOKAHEAD = 64  # tasks waiting for resources before no more are looked at
REBUILD_AT = 1 << 16  # queue entries (settled ones included) worth a fresh queue when idle
TICK = 0.01  # seconds between the monitor's looks at deadlines, retries and heartbeats
MAX_GPUS = 4096  # a device count past any node's
WAKE_AFTER = 25e-6  # mean run time above which a ready task wakes another worker

WAITING, RUNNING, RETRYING, DONE, FAILED, CANCELLED = (
    "waiting", "running", "retrying", "done", "failed", "cancelled",
)  # fmt: skip

_SETTLED = frozenset((DONE, FAILED, CANCELLED))
_NO_SHORTAGE: set[str] = set()  # never changed: a shortage makes a new set
_local = threading.local()
log = logging.getLogger("chimera.execution")


def current_task() -> Task | None:
    """The task this thread is running (its ``attempt``, ``gpu_ids``, ``deadline``), if any."""
    return getattr(_local, "task", None)


class _Latch:
    """Wakes a waiter when ``count`` tasks have settled; shares the scheduler's lock."""

    __slots__ = ("cond", "count")

    def __init__(self, count: int, lock: threading.Lock) -> None:
        self.count, self.cond = count, threading.Condition(lock)


@dataclasses.dataclass(frozen=True)
class Options:
    """What a task asks of the scheduler; one object serves every task of a ``map``."""

    priority: float = 0.0
    cpus: int = 1
    gpus: int = 0
    memory: int = 0
    timeout: float | None = None
    retry: Retry | None = None  # None: the scheduler's
    version: str | None = None


_DEFAULTS = Options()


class Task:
    """A handle on a submitted task, like a future: ``result()``, ``exception()``, ``done()``,
    ``cancel()``; ``state`` is waiting, running, retrying, done, failed or cancelled."""

    __slots__ = ("_after", "_error", "_latches", "_permit", "_scheduler", "_value", "args",
                 "attempt", "deadline", "fn", "gpu_ids", "id", "options", "state")  # fmt: skip

    def __init__(self, scheduler: Scheduler, fn: Callable[..., Any], args: tuple[Any, ...],
                 options: Options, after: tuple[Task, ...] | None = None) -> None:  # fmt: skip
        self._scheduler, self._after = scheduler, after
        self.id = -1  # its place in the ready queue, given when it gets there (ids start over
        # when the queue is rebuilt, after the scheduler has been idle)
        self.fn, self.args, self.options = fn, args, options
        self.state, self.attempt = WAITING, 0
        self.gpu_ids: tuple[int, ...] = ()
        self.deadline: float | None = None
        self._value: Any = None
        self._error: BaseException | None = None
        self._latches: list[_Latch] | None = None
        self._permit: Permit | None = None  # from its version's breaker, this attempt

    def __repr__(self) -> str:
        where = f"task {self.id}" if self.id >= 0 else "task (submitted)"
        return f"<{where} {self.state} attempt {self.attempt}>"

    def done(self) -> bool:
        return self.state in _SETTLED

    def cancelled(self) -> bool:
        """True once cancelled: a long task may check ``current_task().cancelled()`` to stop
        early (a running thread cannot be stopped from outside)."""
        return self.state == CANCELLED

    def cancel(self) -> bool:
        """Cancels this task and every task that depends on it; False if it had settled."""
        return self._scheduler.cancel(self)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._scheduler.wait([self], timeout)
        return self._error

    def result(self, timeout: float | None = None) -> Any:
        """The task's value, or the exception it settled with raised here."""
        self._scheduler.wait([self], timeout)
        if self._error is not None:
            raise self._error
        return self._value


_NOTHING_HELD: tuple[int, int, tuple[int, ...]] = (0, 0, ())


@dataclasses.dataclass(eq=False)
class _Worker:
    name: str
    thread: threading.Thread | None = None
    task: Task | None = None
    held: tuple[int, int, tuple[int, ...]] = (0, 0, ())  # cpus, memory, GPU ids it holds
    since: float = 0.0  # when it took its task
    beat: float = 0.0
    retired: bool = False
    sleeping: bool = False


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 2**63 - 1


def _count(value: Any, name: str) -> int:
    return integer(value, name, 0)


class Scheduler:
    """Worker threads running submitted tasks; a context manager that waits for them on exit.

    ``workers`` threads and as many CPU slots (or ``cpus``); ``gpus`` a device count or the
    device ids; ``memory`` bytes to hand out (default: the machine's). ``retry`` is the
    default policy, ``breaker`` the template each version's breaker is copied from, ``seed``
    the jitter's."""

    def __init__(self, workers: int = 2, *, cpus: int | None = None, gpus: int | Sequence[int] = 0,
                 memory: int | None = None, retry: Retry | None = None,
                 breaker: CircuitBreaker | None = None, stuck_after: float | None = 60.0,
                 metrics: Metrics | None = None, seed: int | None = 0) -> None:  # fmt: skip
        workers = workers_(workers)
        if isinstance(gpus, (str, bytes)):
            raise ArgumentTypeError(f"gpus must be a count or a sequence of GPU ids, got {gpus!r}")
        if isinstance(gpus, Sequence):
            gpu_ids = [_count(g, "each of gpus (a GPU id)") for g in gpus]
            if len(set(gpu_ids)) != len(gpu_ids):
                raise ValidationError(f"GPU ids must be distinct, got {gpu_ids}")
        else:
            gpu_ids = list(range(integer(gpus, "gpus", 0, MAX_GPUS)))
        if stuck_after is not None:
            seconds(stuck_after, "stuck_after")
        optional(retry, Retry, "retry", "a Retry")
        optional(breaker, CircuitBreaker, "breaker", "a CircuitBreaker")
        self.size = workers
        self.capacity = {"cpus": workers if cpus is None else _count(cpus, "cpus"),
                         "gpus": len(gpu_ids),
                         "memory": _physical_memory() if memory is None else _count(memory, "memory")}  # fmt: skip
        self.retry = retry if retry is not None else Retry()
        self.breaker = breaker if breaker is not None else CircuitBreaker()
        self.stuck_after, self.metrics = stuck_after, metrics
        self._free = {"cpus": self.capacity["cpus"], "memory": self.capacity["memory"]}
        self._free_gpus = sorted(gpu_ids)
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # idle workers wait here
        self._idle = threading.Condition(self._lock)  # join() waits here
        self._sleeping = 0  # workers waiting on _work (a notify with none costs 2 us)
        self._inside_waits = 0  # join() or close() called by a task, waiting for the others
        self._serving = 0  # workers not given up on
        self._mean_run = 0.0  # seconds per task, a moving average
        self._queue = ReadyQueue()
        self._inbox: collections.deque[Task] = collections.deque()  # submitted, not yet queued
        self._tasks: dict[int, Task] = {}  # queued, not yet settled
        self._blocked: list[tuple[float, int, Task]] = []  # (-priority, id, task): no resources
        self._delayed: list[tuple[float, int]] = []  # (due, id): waiting to be retried
        self._breakers: dict[str, CircuitBreaker] = {}
        self._workers: list[_Worker] = []
        self._names = itertools.count()
        self._rng = np.random.default_rng(as_seed(seed))
        self._closed = self._stopped = False
        self.settled = {DONE: 0, FAILED: 0, CANCELLED: 0}
        self.retries = self.timeouts = 0
        with self._lock:
            for _ in range(workers):
                self._spawn()
        self._monitor = threading.Thread(target=self._watch, name="chimera-scheduler-monitor",
                                         daemon=True)  # fmt: skip
        self._monitor.start()

    def __enter__(self) -> Scheduler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- submitting ---------------------------------------------------------------------------

    def submit(self, fn: Callable[..., Any], *args: Any, after: Iterable[Task] = (),
               **options: Any) -> Task:  # fmt: skip
        """Runs ``fn(*args)`` once every task in ``after`` is done. ``options`` are those of
        ``Options``: ``priority`` (higher first among ready tasks), ``cpus``, ``gpus`` and
        ``memory`` (bytes) it holds while it runs, ``timeout`` (seconds per attempt), ``retry``
        (this task's policy) and ``version`` (the circuit breaker it shares)."""
        opts = self._options(options)
        if not callable(fn):
            raise ArgumentTypeError(f"fn must be callable, got {type(fn).__name__}")
        deps = tuple(self._own(t, "after") for t in iterable(after, "after", "Tasks")) or None
        if self._closed and not self._inside():
            raise ValidationError("this Scheduler is closed")
        # Into the inbox without the lock: a submitter taking the lock per task would convoy
        # with the workers (one context switch per task). A worker moves the inbox into the
        # ready queue; one that sleeps counted itself first, so this cannot miss it.
        task = Task(self, fn, args, opts, deps)
        self._inbox.append(task)
        if self._closed or (
            self._sleeping and (self._sleeping == self._serving or self._mean_run > WAKE_AFTER)
        ):
            with self._lock:
                self._drain()
                self._wake()
        return task

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], **options: Any) -> list[Any]:
        """``fn(item)`` for every item, as tasks with the same ``options`` submitted at once;
        the values in order, or the first failure raised."""
        opts = self._options(options)
        if not callable(fn):
            raise ArgumentTypeError(f"fn must be callable, got {type(fn).__name__}")
        tasks = [Task(self, fn, (item,), opts) for item in iterable(items, "items", "inputs")]
        with self._lock:
            if self._closed and not self._inside():
                raise ValidationError("this Scheduler is closed")
            self._drain()
            for t in tasks:
                self._enqueue(t)
            self._wake()
        self.wait(tasks)
        for t in tasks:
            if t._error is not None:
                raise t._error
        return [t._value for t in tasks]

    def _drain(self) -> None:
        """Moves submitted tasks into the ready queue, in submission order (a task's
        dependencies were submitted before it, so they are queued first)."""
        inbox = self._inbox
        while inbox:
            self._enqueue(inbox.popleft())

    def _enqueue(self, task: Task) -> None:
        after = task._after
        if not after:
            i = task.id = self._queue.add(task.options.priority)
            self._tasks[i] = task
            if self._stopped:
                self._cancel(i, None)
            return
        # A settled dependency is not handed to the queue (its id may be from a queue since
        # rebuilt): done, it holds nothing back; failed or cancelled, it cancels this task.
        task._after = None
        lost = [d for d in after if d.state in (FAILED, CANCELLED)]
        deps = [d.id for d in after if d.state not in _SETTLED]
        i = task.id = self._queue.add(task.options.priority, deps)
        self._tasks[i] = task
        if lost or self._queue.state(i) == 4:
            self._queue.cancel(i)
            self._settle(task, CANCELLED, TaskCancelled(
                f"task {i} depends on a task that failed or was cancelled"))  # fmt: skip
        elif self._stopped:
            self._cancel(i, None)

    def _options(self, options: dict[str, Any]) -> Options:
        if not options:
            return _DEFAULTS
        try:
            opts = Options(**options)
        except TypeError:
            known = ", ".join(f.name for f in dataclasses.fields(Options))
            raise ValidationError(
                f"unknown task options {sorted(options)}; known: {known}"
            ) from None
        try:
            priority = float(opts.priority)
        except (TypeError, ValueError):
            raise ValidationError(f"priority must be a number, got {opts.priority!r}") from None
        if not math.isfinite(priority):
            raise ValidationError(f"priority must be finite, got {opts.priority!r}")
        for kind in ("cpus", "gpus", "memory"):
            if _count(getattr(opts, kind), kind) > self.capacity[kind]:
                raise ValidationError(
                    f"the task asks for {kind}={getattr(opts, kind)}, more than this scheduler "
                    f"has ({self.capacity[kind]})"
                )
        if opts.timeout is not None:
            seconds(opts.timeout, "timeout")
        optional(opts.retry, Retry, "retry", "a Retry")
        optional(opts.version, str, "version", "a string")
        return dataclasses.replace(opts, priority=priority)

    def _own(self, task: Any, name: str) -> Task:
        if not isinstance(task, Task) or task._scheduler is not self:
            raise ValidationError(f"{name} must be tasks of this scheduler, got {task!r:.80}")
        return task

    def _inside(self) -> bool:
        """Is this thread running one of this scheduler's tasks?"""
        task = current_task()
        return task is not None and task._scheduler is self

    # -- waiting and cancelling ---------------------------------------------------------------

    def wait(self, tasks: Iterable[Task], timeout: float | None = None) -> list[Task]:
        """Blocks until every task has settled; ``TimeoutError`` after ``timeout`` seconds."""
        tasks = [self._own(t, "tasks") for t in iterable(tasks, "tasks", "Tasks")]
        if timeout is not None:
            seconds(timeout, "timeout", zero=True)
        with self._lock:
            self._drain()
            self._wake()
            pending = [t for t in tasks if t.state not in _SETTLED]
            if not pending:
                return tasks
            latch = _Latch(len(pending), self._lock)
            for t in pending:
                if t._latches is None:
                    t._latches = []
                t._latches.append(latch)
            if not latch.cond.wait_for(lambda: latch.count == 0, timeout):
                for t in pending:
                    if t._latches is not None and latch in t._latches:
                        t._latches.remove(latch)
                raise TimeoutError(f"{latch.count} of {len(tasks)} tasks still unsettled after "
                                   f"{timeout} s")  # fmt: skip
        return tasks

    def join(self, timeout: float | None = None) -> None:
        """Blocks until every submitted task has settled (but the caller's own, when a task
        calls it)."""
        if timeout is not None:
            seconds(timeout, "timeout", zero=True)
        with self._lock:
            self._drain()
            self._wake()
            if not self._await_quiet(timeout):
                raise TimeoutError(f"{len(self._tasks)} tasks still unsettled after {timeout} s")

    def _quiet(self) -> bool:
        own = current_task()
        return len(self._tasks) == (1 if own is not None and self._tasks.get(own.id) is own else 0)

    def _await_quiet(self, timeout: float | None) -> bool:
        inside = self._inside()
        self._inside_waits += inside
        try:
            return self._idle.wait_for(self._quiet, timeout)
        finally:
            self._inside_waits -= inside

    def cancel(self, task: Task) -> bool:
        """Cancels ``task`` and every task that depends on it; False if it had settled."""
        self._own(task, "task")
        with self._lock:
            self._drain()
            if task.done():
                return False
            self._cancel(task.id, None)
            self._wake()  # what waited behind a blocked task may fit now
            return True

    def _cancel(self, i: int, cause: str | None, settle: bool = True) -> None:
        """Cancels task i and its descendants in the queue and settles them (i itself only
        with ``settle``: a failed task is settled as failed by the caller)."""
        for j in self._queue.cancel(i):
            t = self._tasks.get(j)
            if t is None or (j == i and not settle):
                continue
            if t._permit is not None and t.state == RUNNING:
                self._breakers[t.options.version].abandon(t._permit)  # type: ignore[index]
            if t.state == WAITING and self._blocked:
                k = bisect.bisect_left(self._blocked, (-t.options.priority, t.id))
                if k < len(self._blocked) and self._blocked[k][2] is t:
                    del self._blocked[k]
            why = f"task {j} was cancelled" if cause is None or j == i else (
                f"task {j} depends on task {i}, which {cause}")  # fmt: skip
            self._settle(t, CANCELLED, TaskCancelled(why))

    # -- the workers --------------------------------------------------------------------------

    def _wake(self) -> None:
        """Wakes a sleeping worker for ready tasks when no awake worker will come for them
        soon: none is awake, or tasks run long enough to gain from another thread (with tasks
        shorter than the hand-off, a second thread only fights for the lock and the GIL). A
        worker that takes a task wakes the next, so they wake in a chain."""
        if (
            self._sleeping
            and self._queue.ready
            and (self._sleeping == self._serving or self._mean_run > WAKE_AFTER)
        ):
            self._work.notify()

    def _spawn(self) -> None:
        self._serving += 1
        w = _Worker(f"chimera-task-{next(self._names)}", beat=time.monotonic())
        w.thread = threading.Thread(target=self._serve, args=(w,), name=w.name, daemon=True)
        self._workers.append(w)
        w.thread.start()

    def _serve(self, w: _Worker) -> None:
        self._lock.acquire()
        try:
            while (task := self._take(w)) is not None:
                self._lock.release()
                _local.task = task
                try:
                    value, error = task.fn(*task.args), None
                except BaseException as exc:  # the task's failure, settled or retried below
                    value, error = None, exc
                _local.task = None
                self._lock.acquire()
                self._finish(w, task, value, error)
        except BaseException:  # a fault in the bookkeeping: this worker leaves, another comes
            log.exception("scheduler worker %s failed; replacing it", w.name)
            if not w.retired and not self._stopped:
                self._give_up(w)
            raise
        finally:
            self._lock.release()

    def _take(self, w: _Worker) -> Task | None:
        """The next task this worker runs, started; None when the worker should exit."""
        while not (w.retired or self._stopped):
            crowded = self._serving - self._sleeping > 1 and self._crowded(w)
            task = None if crowded else self._next()
            if task is not None:
                now = time.monotonic()
                opts = task.options
                gpu_ids: tuple[int, ...] = ()
                self._free["cpus"] -= opts.cpus
                if opts.memory:
                    self._free["memory"] -= opts.memory
                if opts.gpus:
                    gpu_ids = tuple(self._free_gpus[: opts.gpus])
                    del self._free_gpus[: opts.gpus]
                w.held = (opts.cpus, opts.memory, gpu_ids)
                task.gpu_ids = gpu_ids
                task.state, task.attempt = RUNNING, task.attempt + 1
                if opts.timeout is not None:
                    task.deadline = now + opts.timeout
                w.task, w.since, w.beat = task, now, now
                self._wake()
                return task
            self._sleeping += 1  # before the look at the inbox: see submit
            if crowded or not self._inbox:
                w.sleeping = True
                self._work.wait()
                w.sleeping = False
            self._sleeping -= 1
        return None

    def _crowded(self, w: _Worker) -> bool:
        """With tasks shorter than a hand-off, one worker drains the queue and the others sleep
        (two would convoy on the lock and the GIL): is another awake worker free for them,
        rather than a tick into a long task?"""
        if self._mean_run > WAKE_AFTER:
            return False
        now = time.monotonic()
        return any(o is not w and not (o.retired or o.sleeping)
                   and (o.task is None or now - o.since <= TICK) for o in self._workers)  # fmt: skip

    def _next(self) -> Task | None:
        """The ready task of highest priority that fits; those that do not wait in
        ``_blocked``, holding what they are short of against the tasks after them."""
        if self._inbox:
            self._drain()
        if self._blocked:
            short: set[str] = set()
            k = 0
            while k < len(self._blocked):
                t = self._blocked[k][2]
                if not self._fits(t, short):
                    short |= self._shortfall(t)
                    k += 1
                    continue
                del self._blocked[k]
                if self._admit(t):
                    return t
        while len(self._blocked) < LOOKAHEAD:
            i = self._queue.pop()
            if i < 0:
                return None
            t = self._tasks[i]
            if not self._fits(t, self._short_ahead(t) if self._blocked else _NO_SHORTAGE):
                bisect.insort(self._blocked, (-t.options.priority, t.id, t))
            elif t.options.version is None or self._admit(t):
                return t
        return None

    def _short_ahead(self, t: Task) -> set[str]:
        """What the blocked tasks ahead of t (by priority) are short of."""
        short: set[str] = set()
        key = (-t.options.priority, t.id)
        for b in self._blocked:
            if b[:2] > key:
                break
            short |= self._shortfall(b[2])
        return short

    def _fits(self, t: Task, short: set[str]) -> bool:
        o = t.options
        if (
            o.cpus > self._free["cpus"]
            or o.memory > self._free["memory"]
            or (o.gpus > len(self._free_gpus))
        ):
            return False
        return not short or not any(getattr(o, kind) for kind in short)

    def _shortfall(self, t: Task) -> set[str]:
        free = dict(self._free, gpus=len(self._free_gpus))
        return {kind for kind, n in free.items() if getattr(t.options, kind) > n}

    def _admit(self, t: Task) -> bool:
        """Lets t start under its version's breaker (with a permit), or fails it with
        ``CircuitOpen``."""
        version = t.options.version
        if version is None:
            return True
        b = self._breakers.get(version)
        if b is None:
            b = self._breakers[version] = dataclasses.replace(self.breaker)
        t._permit = b.allow(time.monotonic())
        if t._permit is not None:
            return True
        t.attempt += 1
        self._fail(t, CircuitOpen(f"the circuit of version {version!r} is {b.state} after "
                                  f"{b.streak} failures in a row"))  # fmt: skip
        return False

    def _release(self, w: _Worker) -> None:
        cpus, memory, gpu_ids = w.held
        w.held = _NOTHING_HELD
        self._free["cpus"] += cpus
        if memory:
            self._free["memory"] += memory
        if gpu_ids:
            self._free_gpus = sorted(self._free_gpus + list(gpu_ids))
        if self._blocked and self._sleeping:
            self._work.notify()  # what was freed may fit a task waiting for it

    def _verdict(self, task: Task, error: BaseException | None, now: float) -> None:
        """The attempt's outcome to its version's breaker."""
        permit, task._permit = task._permit, None
        if permit is not None:
            b = self._breakers[task.options.version]  # type: ignore[index]
            b.success(permit) if error is None else b.failure(permit, now)

    def _finish(self, w: _Worker, task: Task, value: Any, error: BaseException | None) -> None:
        w.beat = time.monotonic()
        self._release(w)
        if w.task is not task:  # given up at its timeout: the timeout settled this attempt
            return
        w.task = None
        self._mean_run += 0.1 * (w.beat - w.since - self._mean_run)
        if task.state != RUNNING:  # cancelled while it ran
            return
        if task._permit is not None:
            self._verdict(task, error, w.beat)
        if error is None:
            self._queue.done(task.id)
            self._settle(task, DONE, None, value)
        else:
            self._fail(task, error)

    def _fail(self, task: Task, error: BaseException) -> None:
        """A failed attempt: tried again after the retry policy's wait, or settled as failed
        with everything downstream of it cancelled."""
        wait = (task.options.retry or self.retry).wait(task.attempt, error, self._rng)
        if wait is None:
            self._cancel(task.id, f"failed: {error!r}", settle=False)
            self._settle(task, FAILED, error)
            return
        self.retries += 1
        task.state = RETRYING
        heapq.heappush(self._delayed, (time.monotonic() + wait, task.id))

    def _settle(
        self, task: Task, state: str, error: BaseException | None, value: Any = None
    ) -> None:
        task.state, task._error, task._value = state, error, value
        task.fn = task.args = None  # type: ignore[assignment]  # let them go
        del self._tasks[task.id]
        self.settled[state] += 1
        if task._latches:
            for latch in task._latches:
                latch.count -= 1
                if latch.count == 0:
                    latch.cond.notify_all()
        if not self._tasks:
            self._idle.notify_all()
            if len(self._queue) >= REBUILD_AT and not self._inbox:
                # Idle: nothing refers to the old ids (settled dependencies are not handed to
                # the queue), so a fresh queue frees what the settled tasks left behind.
                self._queue, self._delayed = ReadyQueue(), []
        elif len(self._tasks) == 1 and self._inside_waits:
            self._idle.notify_all()  # join() or close() from inside the one task left

    # -- the monitor --------------------------------------------------------------------------

    def _watch(self) -> None:
        while True:
            time.sleep(TICK)
            with self._lock:
                if self._stopped:
                    return
                self._look(time.monotonic())

    def _look(self, now: float) -> None:
        self._drain()
        while self._delayed and self._delayed[0][0] <= now:
            _, i = heapq.heappop(self._delayed)
            t = self._tasks.get(i)
            if t is not None and t.state == RETRYING:
                t.state = WAITING
                self._queue.requeue(i)
                self._wake()
        for w in list(self._workers):
            t = w.task
            if t is None:
                continue
            if t.deadline is not None and now > t.deadline:
                self._time_out(w, t, now)
            elif (
                not w.retired and self.stuck_after is not None and now - w.since > self.stuck_after
            ):
                self._give_up(w)  # it keeps its task; the result still counts when it comes
        self._workers = [w for w in self._workers
                         if not w.retired or (w.thread is not None and w.thread.is_alive())]  # fmt: skip
        busy = all(w.task is not None and now - w.since > TICK for w in self._workers
                   if not w.retired and not w.sleeping)  # fmt: skip
        if busy and self._sleeping and (self._queue.ready or self._blocked):
            self._work.notify()  # work waited a tick behind long tasks
        if self.metrics is not None:
            self.metrics.queue_depth.set(self._queue.ready + len(self._blocked) + self._retrying())
            self.metrics.workers_busy.set(sum(w.task is not None for w in self._workers))

    def _time_out(self, w: _Worker, t: Task, now: float) -> None:
        """Gives up on t's attempt: its worker is replaced (unless it was already, as stuck)
        and its CPU slots freed; its GPUs and memory stay held until the thread returns, since
        it may still be using them."""
        self.timeouts += 1
        if not w.retired:
            self._give_up(w)
        w.task = None
        cpus, memory, gpu_ids = w.held
        w.held = (0, memory, gpu_ids)
        self._free["cpus"] += cpus
        if t.state == RUNNING:
            error = TaskTimeout(f"task {t.id} ran past its timeout of {t.options.timeout} s "
                                f"(attempt {t.attempt})")  # fmt: skip
            self._verdict(t, error, now)
            self._fail(t, error)

    def _retrying(self) -> int:
        return sum(1 for _, i in self._delayed if (t := self._tasks.get(i)) and t.state == RETRYING)

    def _give_up(self, w: _Worker) -> None:
        w.retired = True
        self._serving -= 1
        self._spawn()

    # -- health and shutdown ------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Liveness (as many serving workers as asked for), readiness (one can take work),
        each worker's state and last heartbeat, the tasks by state, the breakers, and the
        resources free now."""
        now = time.monotonic()
        with self._lock:
            self._drain()
            workers = [{"name": w.name, "alive": w.thread is not None and w.thread.is_alive(),
                        "busy": w.task is not None, "stuck": w.retired,
                        "task": w.task.id if w.task is not None else None,
                        "seconds_since_heartbeat": now - w.beat} for w in self._workers]  # fmt: skip
            tasks = {"ready": self._queue.ready, "blocked": len(self._blocked),
                     "retrying": self._retrying(), "unsettled": len(self._tasks)}  # fmt: skip
            breakers = {v: b.state for v, b in self._breakers.items()}
            free = {"cpus": self._free["cpus"], "gpus": len(self._free_gpus),
                    "memory": self._free["memory"]}  # fmt: skip
        serving = [w for w in workers if w["alive"] and not w["stuck"]]
        return {"live": len(serving) >= self.size and not self._stopped,
                "ready": bool(serving) and not self._closed, "workers": workers,
                "tasks": tasks, "breakers": breakers, "free": free}  # fmt: skip

    def close(self, cancel: bool = False) -> None:
        """Takes no more tasks (but from the tasks still running), waits for those submitted
        (or cancels them: then a running one's thread is not waited for, as it cannot be
        stopped) and stops the workers. A task may close its own scheduler."""
        inside = self._inside()
        with self._lock:
            self._closed = True
            self._drain()
            if cancel:
                for i in sorted(self._tasks):
                    t = self._tasks.get(i)
                    if t is not None and not (inside and t is current_task()):
                        self._cancel(i, None)
            self._wake()
            self._await_quiet(None)
            self._stopped = True
            self._drain()  # a submit that raced the close: cancelled
            self._work.notify_all()
            workers = [w for w in self._workers if not w.retired and w.task is None]
        for w in workers:
            if w.thread is not None and w.thread is not threading.current_thread():
                w.thread.join()
        if not inside:
            self._monitor.join()
