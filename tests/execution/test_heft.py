"""The native HEFT planner against a plain-Python HEFT written from the definition, on random
task graphs; plans that respect every dependency; the ready queue's order, release and
cancellation; and the graph errors."""

from __future__ import annotations

import heapq
import itertools

import numpy as np
import pytest

from chimera import ValidationError
from chimera.execution.heft import edge_arrays, schedule
from chimera.execution.scheduler import ReadyQueue


def reference_heft(cost, edges, comm, speed):
    """HEFT (no insertion) as docs/kernels.md defines it, one worker at a time."""
    n, p = len(cost), len(speed)
    succ = [[] for _ in range(n)]
    pred = [[] for _ in range(n)]
    for k, (a, b) in enumerate(edges):
        succ[a].append((b, comm[k]))
        pred[b].append((a, comm[k]))
    inv = sum(1.0 / s for s in speed) / p
    on = 1.0 if p > 1 else 0.0
    rank = [None] * n

    def up(i):
        if rank[i] is None:
            rank[i] = cost[i] * inv + max((on * c + up(j) for j, c in succ[i]), default=0.0)
        return rank[i]

    for i in range(n):
        up(i)
    waiting = [len(pred[i]) for i in range(n)]
    heap = [(-rank[i], i) for i in range(n) if waiting[i] == 0]
    heapq.heapify(heap)
    worker, finish, free = [0] * n, [0.0] * n, [0.0] * p
    order = []
    while heap:
        _, i = heapq.heappop(heap)
        best = None
        for w in range(p):
            ready = max((finish[j] + (0.0 if worker[j] == w else c) for j, c in pred[i]),
                        default=0.0)  # fmt: skip
            start = max(free[w], ready)
            f = start + cost[i] / speed[w]
            if best is None or f < best[0]:
                best = (f, w)
        finish[i], worker[i] = best
        free[best[1]] = best[0]
        order.append(i)
        for j, _ in succ[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(heap, (-rank[j], j))
    return np.array(worker), np.array(finish), np.array(order), np.array(rank)


def random_dag(n: int, seed: int, density: float = 0.2):
    rng = np.random.default_rng(seed)
    edges = [(a, b) for b in range(n) for a in range(b) if rng.random() < density]
    perm = rng.permutation(n)  # ids not in topological order
    edges = [(int(perm[a]), int(perm[b])) for a, b in edges]
    cost = rng.integers(1, 20, n).astype(float)  # integers: ties happen and must break alike
    comm = rng.integers(0, 10, len(edges)).astype(float)
    return cost, edges, comm


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("speed", [[1.0], [1.0, 1.0, 1.0], [1.0, 2.0, 0.5, 1.5]])
def test_heft_matches_the_definition(seed: int, speed: list[float]) -> None:
    cost, edges, comm = random_dag(40, seed)
    got = schedule(cost, edges, workers=np.array(speed), comm=comm)
    worker, finish, order, rank = reference_heft(cost, edges, comm, speed)
    assert np.array_equal(got.order, order) and np.array_equal(got.worker, worker)
    assert np.allclose(got.finish, finish, rtol=0, atol=0) and np.allclose(got.rank, rank)
    assert got.makespan == finish.max()
    for (a, b), c in zip(edges, comm, strict=True):  # every dependency respected
        arrive = got.finish[a] + (0.0 if got.worker[a] == got.worker[b] else c)
        assert got.start[b] >= arrive
    for w in range(len(speed)):  # no two tasks overlap on a worker
        mine = np.flatnonzero(got.worker == w)
        spans = sorted(zip(got.start[mine], got.finish[mine], strict=True))
        assert all(s1 >= f0 for (_, f0), (s1, _) in itertools.pairwise(spans))


def test_more_workers_never_lengthen_a_wide_graph() -> None:
    cost = np.ones(64)
    assert schedule(cost, [], workers=1).makespan == 64
    assert schedule(cost, [], workers=8).makespan == 8
    chain = [(i, i + 1) for i in range(63)]
    assert schedule(cost, chain, workers=8, comm=np.full(63, 5.0)).makespan == 64  # stays put


def test_the_ready_queue_releases_cancels_and_refuses() -> None:
    src, dst = edge_arrays([(0, 2), (1, 2), (2, 3), (2, 4), (4, 5)])
    q = ReadyQueue(6, src, dst, np.array([1.0, 5.0, 0.0, 0.0, 0.0, 0.0]))
    assert (q.pop(), q.pop(), q.pop()) == (1, 0, -1)  # by priority; 2 waits for both
    assert q.done(1) == 0 and q.done(0) == 1 and q.pop() == 2
    with pytest.raises(ValueError, match="was not popped"):
        q.done(3)
    assert q.done(2) == 2 and q.ready == 2
    assert sorted(q.cancel(4)) == [4, 5] and q.state(5) == 4  # 4 and its descendant 5
    assert q.pop() == 3 and q.pop() == -1 and q.done(3) == 0 and q.remaining == 0
    with pytest.raises(ValueError, match=r"outside 0\.\.5"):
        q.cancel(6)


@pytest.mark.parametrize(
    "edges, match",
    [
        ([(0, 1), (1, 2), (2, 0)], "has a cycle"),
        ([(0, 0)], "depend on itself"),
        ([(0, 7)], r"names a task outside 0\.\.2"),
        ([(0, 1, 2)], "must be \\(from, to\\) pairs"),
        ([(-1, 1)], "non-negative int32"),
    ],
)
def test_bad_graphs_are_refused(edges, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        schedule(np.ones(3), edges, workers=2)


def test_bad_costs_and_workers_are_refused() -> None:
    with pytest.raises(ValidationError, match="cost must be finite and non-negative"):
        schedule([1.0, -1.0], [], workers=2)
    with pytest.raises(ValidationError, match="speed must be finite and positive"):
        schedule([1.0], [], workers=np.array([1.0, 0.0]))
    with pytest.raises(ValidationError, match="comm must be a 1-D array with one cost per edge"):
        schedule([1.0, 1.0], [(0, 1)], workers=2, comm=[1.0, 2.0])


@pytest.mark.parametrize("seed", range(6))
def test_zero_costs_and_ties_take_the_ready_queue_alike(seed: int) -> None:
    # Zero costs leave a task's rank equal to its successor's: sorted by rank, a successor of
    # lower id comes first, and the plan must fall back to the queue's order.
    cost, edges, comm = random_dag(30, seed)
    cost = np.where(cost > 10, 0.0, cost)
    comm = np.zeros(len(edges))
    got = schedule(cost, edges, workers=3, comm=comm)
    worker, finish, order, _ = reference_heft(cost, edges, comm, [1.0] * 3)
    assert np.array_equal(got.order, order) and np.array_equal(got.worker, worker)
    assert np.array_equal(got.finish, finish)
    assert np.array_equal(schedule([0.0, 0.0], [(1, 0)], workers=2).order, [1, 0])
