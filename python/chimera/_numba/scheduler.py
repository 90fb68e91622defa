"""Numba twin of chimera._core.scheduler (docs/kernels.md, "Scheduler"): ``heft`` with the same
plans bit for bit, and ``ReadyQueue`` with the same pops, releases and cancellations, each with
the C++ binding's checks and messages.

``heft`` follows cpp/src/scheduler.cpp step for step where the order of operations decides a
double or a tie: the compressed graph keeps each task's edges in input order, Kahn's order
takes the sources by id and then each task's successors in that order, ranks go in reverse of
it, the mean of ``1 / speed`` is summed worker by worker, ``std::max(a, b)`` is ``b if a < b
else a`` (so that a zero keeps its sign as in C++), and the placement keeps the two largest
data-ready values per task.
"""

from __future__ import annotations

import heapq
import math
import operator
from collections.abc import Iterable
from typing import Any

import numpy as np

from .._errors import ArgumentTypeError, ValidationError
from ._arrays import readonly, require
from ._jit import jit

_INT32_MAX = 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1  # what the binding's ``long long`` takes

# --- the graph ------------------------------------------------------------------------------


def _edge_error(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[int, int]:
    """(1, k) for edge k naming a task outside 0..n-1, (2, k) for a self loop, (0, -1) if
    every edge is fine; the first bad edge decides, as in the C++ Graph constructor."""
    outside = (src < 0) | (dst < 0) | (src >= n) | (dst >= n)
    bad = np.flatnonzero(outside | (src == dst))
    if bad.size == 0:
        return 0, -1
    k = int(bad[0])
    return (1 if outside[k] else 2), k


@jit(inline=True)
def _compress(n: int, frm: Any, to: Any, comm: Any) -> tuple[Any, Any, Any]:
    """Compressed adjacency: at[i] .. at[i + 1] index the neighbours of i, in edge order."""
    e = frm.size
    at = np.zeros(n + 1, np.int64)
    for k in range(e):
        at[frm[k] + 1] += 1
    for i in range(n):
        at[i + 1] += at[i]
    nb = np.empty(e, np.int32)
    nb_comm = np.empty(e)
    fill = at[:n].copy()
    for k in range(e):
        slot = fill[frm[k]]
        fill[frm[k]] += 1
        nb[slot] = to[k]
        nb_comm[slot] = comm[k]
    return at, nb, nb_comm


@jit()
def _build(n: int, src: Any, dst: Any, comm: Any) -> tuple:
    """The graph both ways compressed, Kahn's order, and -1 or, when a cycle leaves tasks over,
    a task on the cycle (found by walking predecessors that still wait until one repeats)."""
    succ_at, succ, succ_comm = _compress(n, src, dst, comm)
    pred_at, pred, pred_comm = _compress(n, dst, src, comm)
    waiting = np.empty(n, np.int64)
    for i in range(n):
        waiting[i] = pred_at[i + 1] - pred_at[i]
    topo = np.empty(n, np.int32)
    size = 0
    for i in range(n):
        if waiting[i] == 0:
            topo[size] = i
            size += 1
    head = 0
    while head < size:
        t = topo[head]
        for k in range(succ_at[t], succ_at[t + 1]):
            s = succ[k]
            waiting[s] -= 1
            if waiting[s] == 0:
                topo[size] = s
                size += 1
        head += 1
    if size == n:
        return succ_at, succ, succ_comm, pred_at, pred, pred_comm, topo, -1
    t = 0
    while waiting[t] == 0:
        t += 1
    seen = np.zeros(n, np.uint8)
    while not seen[t]:
        seen[t] = 1
        for k in range(pred_at[t], pred_at[t + 1]):
            p = pred[k]
            if waiting[p] != 0:
                t = p
                break
    return succ_at, succ, succ_comm, pred_at, pred, pred_comm, topo, t


def _array(obj: Any, dtype: type) -> np.ndarray:
    """``obj`` as the binding's ``py::array_t<T, c_style | forcecast>`` sees it: converted with
    NumPy's unsafe casting, C-contiguous, the shape kept (a scalar stays 0-dimensional)."""
    a: np.ndarray = np.asarray(obj, dtype=dtype)
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _argument(obj: Any, dtype: type, function: str, name: str) -> np.ndarray:
    try:
        return _array(obj, dtype)
    except Exception as exc:  # pybind11 refuses any argument it cannot convert with TypeError
        raise ArgumentTypeError(
            f"{function}(): {name} cannot be converted to an array of {np.dtype(dtype)}: {exc}"
        ) from exc


def _check_non_negative(a: np.ndarray, name: str, what: str) -> None:
    bad = np.flatnonzero(~(np.isfinite(a) & (a >= 0.0)))
    if bad.size:
        raise ValidationError(f"{name} must be finite and non-negative ({what} {bad[0]})")


def _graph(n: int, src: np.ndarray, dst: np.ndarray, comm: Any) -> tuple[np.ndarray, ...]:
    """(succ_at, succ, succ_comm, pred_at, pred, pred_comm, topo) of the graph, or the
    ValueError the C++ Graph (and the binding's graph()) raises."""
    require(
        src.ndim == 1 and dst.ndim == 1 and src.size == dst.size,
        "src and dst must be 1-D arrays of the same length (one entry per edge)",
    )
    c: np.ndarray | None = np.zeros(src.size)
    if comm is not None:
        try:
            c = _array(comm, np.float64)
        except Exception:  # the binding's ensure() fails alike, with the message below
            c = None
        if c is None or c.ndim != 1 or c.size != src.size:
            raise ValidationError("comm must be a 1-D array with one cost per edge")
        _check_non_negative(c, "comm", "edge")
    assert c is not None
    kind, k = _edge_error(n, src, dst)
    if kind == 1:
        raise ValidationError(f"edge {k} ({src[k]} -> {dst[k]}) names a task outside 0..{n - 1}")
    if kind == 2:
        raise ValidationError(f"edge {k} makes task {src[k]} depend on itself")
    # Read-only views throughout: one compiled kernel whatever the caller's arrays allow.
    src, dst, c = readonly(src), readonly(dst), readonly(c)
    *graph, on_cycle = _build(n, src, dst, c)
    if on_cycle >= 0:
        raise ValidationError(f"the task graph has a cycle (task {on_cycle} is on it)")
    return tuple(graph)


# --- HEFT -----------------------------------------------------------------------------------


@jit()
def _ranks(cost: Any, speed: Any, topo: Any, succ_at: Any, succ: Any, succ_comm: Any) -> Any:
    n, workers = cost.size, speed.size
    rank = np.zeros(n)
    inv_speed = 0.0
    for p in range(workers):
        inv_speed += 1.0 / speed[p]
    inv_speed /= workers
    comm_on = 1.0 if workers > 1 else 0.0
    for k in range(n - 1, -1, -1):
        i = topo[k]
        tail = 0.0
        for e in range(succ_at[i], succ_at[i + 1]):
            v = comm_on * succ_comm[e] + rank[succ[e]]
            if tail < v:
                tail = v
        rank[i] = cost[i] * inv_speed + tail
    return rank


@jit(inline=True)
def _ready(t: int, pred_at: Any, pred: Any, worker: Any) -> bool:
    e, end = pred_at[t], pred_at[t + 1]
    while e < end and worker[pred[e]] >= 0:
        e += 1
    return e == end


@jit()
def _place(i: int, pred_at: Any, pred: Any, pred_comm: Any, cost: Any, speed: Any,
           uniform: bool, worker: Any, start: Any, finish: Any, free_at: Any, on: Any) -> float:  # fmt: skip
    """Places task i where it finishes earliest (the C++ Placer::place); returns its finish.

    Its data is ready on worker p at max(finish + c over predecessors elsewhere, finish over
    predecessors on p): v1 the largest finish + c (on w1), v2 the largest on another worker,
    and ``on`` the largest finish per worker, zeroed again afterwards."""
    workers = speed.size
    v1, v2, w1 = 0.0, 0.0, workers
    for e in range(pred_at[i], pred_at[i + 1]):
        j = pred[e]
        f = finish[j]
        moved = f + pred_comm[e]
        at = worker[j]
        if on[at] < f:
            on[at] = f
        if at == w1:
            if v1 < moved:
                v1 = moved
        elif moved > v1:
            v2 = v1
            v1 = moved
            w1 = at
        elif v2 < moved:
            v2 = moved
    same = cost[i] / speed[0]
    best, best_finish, best_start = 0, math.inf, 0.0
    for p in range(workers):
        ready = v2 if p == w1 else v1
        if ready < on[p]:
            ready = on[p]
        begin = free_at[p]
        if begin < ready:
            begin = ready
        end = begin + (same if uniform else cost[i] / speed[p])
        if p == 0 or end < best_finish:  # the first least, as the C++ two passes find it
            best_finish = end
            best_start = begin
            best = p
    for e in range(pred_at[i], pred_at[i + 1]):
        on[worker[pred[e]]] = 0.0
    worker[i] = best
    start[i] = best_start
    finish[i] = best_finish
    free_at[best] = best_finish
    return best_finish


@jit(inline=True)
def _above(hp: Any, hid: Any, a: int, b: int) -> bool:
    """Heap entry a comes out before b: higher priority, ties to the lower id."""
    return hp[a] > hp[b] or (hp[a] == hp[b] and hid[a] < hid[b])


@jit()
def _heap_push(hp: Any, hid: Any, size: int, priority: float, task: int) -> int:
    k = size
    hp[k] = priority
    hid[k] = task
    while k > 0:
        up = (k - 1) // 2
        if not _above(hp, hid, k, up):
            break
        hp[k], hp[up] = hp[up], hp[k]
        hid[k], hid[up] = hid[up], hid[k]
        k = up
    return size + 1


@jit()
def _heap_pop(hp: Any, hid: Any, size: int) -> tuple[int, int]:
    """(the top task, the new size); size must be positive."""
    top = hid[0]
    size -= 1
    hp[0] = hp[size]
    hid[0] = hid[size]
    k = 0
    while True:
        child = 2 * k + 1
        if child >= size:
            break
        if child + 1 < size and _above(hp, hid, child + 1, child):
            child += 1
        if not _above(hp, hid, child, k):
            break
        hp[k], hp[child] = hp[child], hp[k]
        hid[k], hid[child] = hid[child], hid[k]
        k = child
    return top, size


@jit()
def _schedule(cost: Any, speed: Any, rank: Any, by_rank: Any, succ_at: Any, succ: Any,
              pred_at: Any, pred: Any, pred_comm: Any) -> tuple:  # fmt: skip
    """(worker, start, finish, order, makespan): the tasks placed in the order ``by_rank`` or,
    should a task not be ready in its turn, in the ready queue's order."""
    n, workers = cost.size, speed.size
    uniform = np.all(speed == speed[0])  # not a literal: one compiled _place
    worker = np.full(n, -1, np.int32)
    start = np.zeros(n)
    finish = np.zeros(n)
    order = np.empty(n, np.int32)
    free_at = np.zeros(workers)
    on = np.zeros(workers)
    makespan = 0.0
    in_order = True
    for placed, t in enumerate(by_rank):
        if not _ready(t, pred_at, pred, worker):
            in_order = False
            break
        f = _place(t, pred_at, pred, pred_comm, cost, speed, uniform, worker, start, finish,
                   free_at, on)  # fmt: skip
        if makespan < f:
            makespan = f
        order[placed] = t
    if not in_order:
        worker[:] = -1
        start[:] = 0.0
        finish[:] = 0.0
        free_at[:] = 0.0
        makespan = 0.0
        count = 0
        waiting = np.empty(n, np.int64)
        hp = np.empty(n)
        hid = np.empty(n, np.int64)
        size = np.int64(0)
        for i in range(n):
            waiting[i] = pred_at[i + 1] - pred_at[i]
            if waiting[i] == 0:
                size = _heap_push(hp, hid, size, rank[i], i)
        while size > 0:
            t, size = _heap_pop(hp, hid, size)
            f = _place(t, pred_at, pred, pred_comm, cost, speed, uniform, worker, start, finish,
                       free_at, on)  # fmt: skip
            if makespan < f:
                makespan = f
            order[count] = t
            count += 1
            for e in range(succ_at[t], succ_at[t + 1]):
                s = succ[e]
                waiting[s] -= 1
                if waiting[s] == 0:
                    size = _heap_push(hp, hid, size, rank[s], np.int64(s))
    return worker, start, finish, order, makespan


def heft(cost: Any, src: Any, dst: Any, comm: Any = None, speed: Any = None) -> dict[str, Any]:
    """chimera._core.scheduler.heft: HEFT list scheduling of a task graph (edges src[k] ->
    dst[k]) onto workers of the given speeds: a dict of worker, start, finish, order, rank (per
    task) and makespan."""
    if speed is None:
        raise ArgumentTypeError("heft() missing required argument 'speed'")
    cost = _argument(cost, np.float64, "heft", "cost")
    src = _argument(src, np.int32, "heft", "src")
    dst = _argument(dst, np.int32, "heft", "dst")
    speed = _argument(speed, np.float64, "heft", "speed")
    require(cost.ndim == 1, "cost must be a 1-D array, one entry per task")
    require(speed.ndim == 1 and speed.size >= 1, "speed must be a 1-D array, one entry per worker")
    _check_non_negative(cost, "cost", "task")
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        inverse = 1.0 / speed  # enters the ranks: a speed whose inverse overflows is refused
    bad = np.flatnonzero(~(np.isfinite(speed) & (speed > 0.0) & np.isfinite(inverse)))
    if bad.size:
        raise ValidationError(f"speed must be finite and positive (worker {bad[0]})")
    succ_at, succ, succ_comm, pred_at, pred, pred_comm, topo = _graph(cost.size, src, dst, comm)
    cost, speed = readonly(cost), readonly(speed)
    rank = _ranks(cost, speed, topo, succ_at, succ, succ_comm)
    # The tasks by rank, ties to the lower id, are the ready queue's order whenever each is
    # ready in its turn (a stable sort of -rank in NumPy: Numba's would cost seconds to compile).
    by_rank = np.argsort(-rank, kind="stable")
    worker, start, finish, order, makespan = _schedule(
        cost, speed, rank, by_rank, succ_at, succ, pred_at, pred, pred_comm
    )
    return {"worker": worker, "start": start, "finish": finish, "order": order, "rank": rank,
            "makespan": float(makespan)}  # fmt: skip


# --- the ready queue ------------------------------------------------------------------------

# Plain Python over lists and heapq rather than a Numba jitclass: every call comes one at a
# time from a Python dispatcher and does O(log n) work, so the cost is the call itself.
# Measured (pop + done per task from Python, the benchmark's 100,000-task graph): C++ 0.54 us,
# this class 2.7 us, a jitclass 2.4 us bare but 3.8 to 4.3 us behind the same argument checks,
# which have to stay in Python for the binding's messages. A jitclass cannot be cached either
# (about 7 s to compile in every process), and growing its arrays on add() needs a copy per
# doubling, where lists and heapq grow natively.


def _long(obj: Any, what: str) -> int:
    """An integer as the binding's ``long long`` takes it (bool and NumPy integers included;
    floats and ints out of range refused with TypeError)."""
    value = operator.index(obj)
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise ArgumentTypeError(f"{what} {value} does not fit in a 64-bit integer")
    return value


class ReadyQueue:
    """chimera._core.scheduler.ReadyQueue: tasks become ready when all their predecessors are
    done; pop() gives the ready task of highest priority (ties to the lower id), or -1.

    The same structures as the C++: per task its priority, waiting count and state, its
    out-edges as a linked list in flat lists (newest first, so that done() releases and
    cancel() walks successors in the C++ order), and a heap of (-priority, id) from which
    entries of tasks cancelled while ready are skipped when they surface.
    """

    __slots__ = ("_first", "_heap", "_next", "_priority", "_ready", "_remaining", "_state",
                 "_to", "_waiting")  # fmt: skip

    def __init__(self, n: Any = None, src: Any = None, dst: Any = None, priority: Any = None):
        given = [a is not None for a in (n, src, dst, priority)]
        self._priority: list[float] = []
        self._waiting: list[int] = []
        self._state: list[int] = []  # 0 waiting, 1 ready, 2 popped, 3 done, 4 cancelled
        self._first: list[int] = []
        self._next: list[int] = []
        self._to: list[int] = []
        self._heap: list[tuple[float, int]] = []
        self._ready = self._remaining = 0
        if not any(given):
            return
        n = operator.index(n) if all(given) else -1  # floats refused, as by size_t
        if n < 0:
            raise ArgumentTypeError(
                "ReadyQueue() takes no arguments, or n >= 0, src, dst and priority"
            )
        src = _argument(src, np.int32, "ReadyQueue", "src")
        dst = _argument(dst, np.int32, "ReadyQueue", "dst")
        prio = _argument(priority, np.float64, "ReadyQueue", "priority")
        require(
            prio.ndim == 1 and prio.size == n,
            "priority must be a 1-D array with one entry per task",
        )
        bad = np.flatnonzero(~np.isfinite(prio))
        require(not bad.size, f"priority must be finite (task {bad[0] if bad.size else 0})")
        succ_at, succ, _, pred_at, *_ = _graph(n, src, dst, None)
        # Linking task by task, edge by edge in compressed order makes the edge ids the
        # compressed slots: each list runs from a task's last slot down to its first.
        slots = np.arange(succ.size, dtype=np.int64) - 1
        slots[succ_at[:-1][succ_at[:-1] < succ_at[1:]]] = -1
        self._next = slots.tolist()
        self._to = succ.tolist()
        self._first = np.where(succ_at[1:] > succ_at[:-1], succ_at[1:] - 1, -1).tolist()
        self._priority = prio.tolist()
        self._waiting = np.diff(pred_at).tolist()
        self._state = [0] * n
        self._remaining = n
        sources = np.flatnonzero(np.diff(pred_at) == 0)
        for t in sources.tolist():
            self._state[t] = 1
        self._heap = list(zip((-prio[sources]).tolist(), sources.tolist(), strict=True))
        heapq.heapify(self._heap)
        self._ready = len(self._heap)

    def _outside(self, task: int) -> Exception:
        _long(task, "task")  # TypeError past the binding's long long, as there
        return ValueError(f"task {task} is outside 0..{len(self._state) - 1}")

    def _push(self, task: int) -> None:
        self._state[task] = 1
        self._ready += 1
        heapq.heappush(self._heap, (-self._priority[task], task))

    def _link(self, frm: int, to: int) -> None:
        self._next.append(self._first[frm])
        self._to.append(to)
        self._first[frm] = len(self._to) - 1

    def add(self, priority: float, after: Iterable[Any] | None = None) -> int:
        """Appends a task that waits for the tasks in ``after``; returns its id."""
        if isinstance(priority, (str, bytes, bytearray)):
            raise ArgumentTypeError(
                f"add(): priority must be a number, got {type(priority).__name__}"
            )
        priority = float(priority)
        pred: list[int] = []
        if after is not None:
            for item in after:
                p = _long(item, "predecessor")
                if not 0 <= p < _INT32_MAX:
                    raise ValidationError(f"predecessor {p} is not in the queue")
                pred.append(p)
        if not math.isfinite(priority):
            raise ValidationError("priority must be finite")
        state = self._state
        n = len(state)
        if n >= _INT32_MAX:
            raise ValidationError("the ready queue is full (2^31 - 1 tasks)")
        cancelled = False
        for p in pred:
            if p >= n:
                raise ValidationError(f"predecessor {p} is not in the queue (0..{n - 1})")
            cancelled = cancelled or state[p] == 4
        self._priority.append(priority)
        state.append(4 if cancelled else 0)
        self._first.append(-1)
        self._waiting.append(0)
        if cancelled:
            return n
        self._remaining += 1
        for p in pred:
            if state[p] == 3:  # its output is there
                continue
            self._link(p, n)
            self._waiting[n] += 1
        if self._waiting[n] == 0:
            self._push(n)
        return n

    def pop(self) -> int:
        """The ready task of highest priority (ties to the lower id), or -1 if none is ready."""
        heap, state = self._heap, self._state
        while heap:
            t = heapq.heappop(heap)[1]
            if state[t] == 1:  # not cancelled while it waited
                state[t] = 2
                self._ready -= 1
                return t
        return -1

    def done(self, task: int) -> int:
        """Marks a popped task done; returns how many became ready."""
        t, state = operator.index(task), self._state
        if not 0 <= t < len(state):
            raise self._outside(t)
        if state[t] != 2:
            raise ValidationError(f"task {t} was not popped")
        state[t] = 3
        self._remaining -= 1
        waiting, to, nxt, heap, priority = (
            self._waiting,
            self._to,
            self._next,
            self._heap,
            self._priority,
        )
        released = 0
        e = self._first[t]
        while e >= 0:
            s = to[e]
            waiting[s] -= 1
            if waiting[s] == 0 and state[s] == 0:
                state[s] = 1
                heapq.heappush(heap, (-priority[s], s))
                released += 1
            e = nxt[e]
        self._ready += released
        return released

    def requeue(self, task: int) -> None:
        """Puts a popped task back among the ready ones (a retry)."""
        t = operator.index(task)
        if not 0 <= t < len(self._state):
            raise self._outside(t)
        if self._state[t] != 2:
            raise ValidationError(f"task {t} was not popped")
        self._push(t)

    def cancel(self, task: int) -> list[int]:
        """Cancels a task and its descendants; returns their ids."""
        state, to, nxt, first = self._state, self._to, self._next, self._first
        cancelled: list[int] = []
        t = operator.index(task)
        if not 0 <= t < len(state):
            raise self._outside(t)
        stack = [t]
        while stack:
            t = stack.pop()
            s = state[t]
            if s >= 3:  # done or cancelled already
                continue
            if s == 1:  # its heap entry is skipped when it surfaces
                self._ready -= 1
            state[t] = 4
            self._remaining -= 1
            cancelled.append(t)
            e = first[t]
            while e >= 0:
                stack.append(to[e])
                e = nxt[e]
        return cancelled

    def state(self, task: int) -> int:
        """0 waiting, 1 ready, 2 popped, 3 done, 4 cancelled."""
        t = operator.index(task)
        if not 0 <= t < len(self._state):
            raise self._outside(t)
        return self._state[t]

    @property
    def ready(self) -> int:
        return self._ready

    @property
    def remaining(self) -> int:
        return self._remaining

    def __len__(self) -> int:
        return len(self._state)


__all__ = ["ReadyQueue", "heft"]
