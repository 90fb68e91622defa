"""The Numba scheduler (chimera._numba.scheduler) against the C++ one (chimera._core.scheduler):
the same HEFT plans bit for bit on random task graphs, the same errors for bad graphs, and
ready queues driven by the same random calls giving the same answers and states."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

pytest.importorskip("numba")

from chimera import BackendUnavailable, _backend
from chimera._core import scheduler as cs
from chimera._numba import scheduler as ns
from chimera.execution.heft import schedule

SPEEDS = {
    "one": [1.0],
    "equal": [1.0, 1.0, 1.0],
    "mixed": [1.0, 2.0, 0.5, 1.5],
    "odd": [0.3, 1.7, 2.9, 0.7, 1.1, 3.0, 0.9],
}


def random_dag(n: int, seed: int, density: float, *, zeros: bool = False) -> tuple:
    """Costs, edges src -> dst (ids not in topological order) and communication costs; small
    integers make ties, ``zeros`` zero costs (ranks equal to a successor's)."""
    rng = np.random.default_rng(seed)
    a, b = np.triu_indices(n, 1)
    keep = rng.random(a.size) < density
    perm = rng.permutation(n)
    src, dst = perm[a[keep]].astype(np.int32), perm[b[keep]].astype(np.int32)
    if seed % 2:
        cost = rng.integers(0 if zeros else 1, 12, n).astype(float)
        comm = rng.integers(0, 6, src.size).astype(float)
    else:
        cost = rng.uniform(0.1, 10.0, n)
        cost[rng.random(n) < (0.4 if zeros else 0.0)] = 0.0
        comm = rng.uniform(0.0, 3.0, src.size)
    return cost, src, dst, comm


def assert_same_plan(got: dict, want: dict) -> None:
    assert list(got) == list(want)
    for key in ("worker", "order", "start", "finish", "rank"):
        assert got[key].dtype == want[key].dtype, key
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    assert isinstance(got["makespan"], float) and got["makespan"] == want["makespan"]


def by_rank_is_topological(rank: np.ndarray, src: np.ndarray, dst: np.ndarray) -> bool:
    """Whether the rank-sorted order (ties to the lower id) puts every edge's source first."""
    position = np.empty(rank.size, np.int64)
    position[np.lexsort((np.arange(rank.size), -rank))] = np.arange(rank.size)
    return bool((position[src] < position[dst]).all())


# --- HEFT -----------------------------------------------------------------------------------


@pytest.mark.parametrize("speed", SPEEDS.values(), ids=SPEEDS.keys())
@pytest.mark.parametrize("seed", range(6))
def test_heft_matches_cpp_on_random_graphs(seed: int, speed: list[float]) -> None:
    cost, src, dst, comm = random_dag(60, seed, 0.08)
    s = np.array(speed)
    assert_same_plan(ns.heft(cost, src, dst, comm, s), cs.heft(cost, src, dst, comm, s))
    assert_same_plan(ns.heft(cost, src, dst, None, s), cs.heft(cost, src, dst, None, s))


@pytest.mark.parametrize("speed", SPEEDS.values(), ids=SPEEDS.keys())
def test_heft_falls_back_to_the_queue_alike(speed: list[float]) -> None:
    # Zero costs leave ranks equal to a successor's: sorted by rank, a successor of lower id
    # can come first, and both must start over with the ready queue.
    fell_back = 0
    for seed in range(12):
        cost, src, dst, comm = random_dag(40, seed, 0.15, zeros=True)
        for c in (comm, np.zeros_like(comm)):
            want = cs.heft(cost, src, dst, c, np.array(speed))
            assert_same_plan(ns.heft(cost, src, dst, c, np.array(speed)), want)
            fell_back += not by_rank_is_topological(want["rank"], src, dst)
    assert fell_back >= 5
    zero = ([0.0, 0.0], [1], [0], None, np.array(speed))
    assert_same_plan(ns.heft(*zero), cs.heft(*zero))
    assert ns.heft(*zero)["order"].tolist() == [1, 0]


def test_heft_matches_cpp_on_a_wide_graph_and_odd_inputs() -> None:
    # The benchmark's shape, smaller: each task needs up to 3 of the 100 before it.
    rng = np.random.default_rng(7)
    n = 3000
    dst = np.repeat(np.arange(n), rng.integers(0, 4, n))
    src = dst - 1 - rng.integers(0, 100, dst.size)
    keep = src >= 0
    src, dst = src[keep], dst[keep]  # int64: converted as the binding converts them
    cost, comm = rng.uniform(1, 10, n), rng.uniform(0, 2, src.size)
    for speed in (np.ones(16), rng.uniform(0.5, 2.0, 16)):
        assert_same_plan(ns.heft(cost, src, dst, comm, speed), cs.heft(cost, src, dst, comm, speed))
    # Lists, a strided cost, no tasks, no edges.
    args: list[tuple] = [
        (np.arange(8.0)[::2], [0, 1], [1, 3], [1.0, 0.5], [1.0, 2.0]),
        ([], [], [], None, [1.0]),
        ([3.0, 1.0, 2.0], [], [], [], [1.0, 1.0]),
        ([1.0, 1.0], [0], [1], None, [1.0, 1.0]),
    ]
    for a in args:
        assert_same_plan(ns.heft(*a), cs.heft(*a))


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    """What a call gave, its error named by Python's kind (chimera's ArgumentTypeError is a
    TypeError, its ValidationError a ValueError)."""
    try:
        return "ok", call()
    except Exception as exc:
        for kind in (TypeError, ValueError):
            if isinstance(exc, kind):
                return kind.__name__, str(exc)
        return type(exc).__name__, str(exc)


BAD_GRAPHS = {
    "outside": ([1.0, 1.0], [0, 0], [1, 2], None, [1.0]),
    "negative": ([1.0, 1.0], [0, -1], [1, 0], None, [1.0]),
    "no tasks": ([], [0], [0], None, [1.0]),
    "self loop": ([1.0, 1.0], [0, 1], [1, 1], None, [1.0]),
    "self loop then outside": ([1.0, 1.0], [1, 0], [1, 5], None, [1.0]),
    "cycle": ([1.0] * 5, [0, 1, 2, 3, 4], [1, 2, 3, 1, 0], None, [1.0]),
    "cycle behind": ([1.0] * 5, [0, 2, 3, 4], [1, 3, 4, 2], None, [1.0]),
    "two cycles": ([1.0] * 6, [0, 1, 3, 4, 2], [1, 0, 4, 3, 5], None, [1.0, 2.0]),
    "cost 2-D": ([[1.0]], [], [], None, [1.0]),
    "cost scalar": (1.0, [], [], None, [1.0]),
    "cost negative": ([1.0, -1.0], [], [], None, [1.0]),
    "cost nan": ([1.0, np.nan], [], [], None, [1.0]),
    "cost inf": ([np.inf], [], [], None, [1.0]),
    "no workers": ([1.0], [], [], None, []),
    "speed 2-D": ([1.0], [], [], None, [[1.0]]),
    "speed zero": ([1.0], [], [], None, [1.0, 0.0]),
    "speed negative": ([1.0], [], [], None, [-1.0]),
    "speed inf": ([1.0], [], [], None, [1.0, np.inf]),
    "speed nan": ([1.0], [], [], None, [np.nan]),
    "edge lengths": ([1.0, 1.0], [0], [1, 0], None, [1.0]),
    "edges 2-D": ([1.0, 1.0], [[0]], [[1]], None, [1.0]),
    "comm length": ([1.0, 1.0], [0], [1], [1.0, 2.0], [1.0]),
    "comm 2-D": ([1.0, 1.0], [0], [1], [[1.0]], [1.0]),
    "comm scalar": ([1.0, 1.0], [0], [1], 1.0, [1.0]),
    "comm text": ([1.0, 1.0], [0], [1], "abc", [1.0]),
    "comm negative": ([1.0, 1.0], [0], [1], [-1.0], [1.0]),
    "comm nan": ([1.0, 1.0, 1.0], [0, 1], [1, 2], [0.0, np.nan], [1.0]),
    "bad cost before bad edge": ([-1.0, 1.0], [0], [0], None, [1.0]),
    "bad comm before cycle": ([1.0, 1.0], [0, 1], [1, 0], [1.0, -1.0], [1.0]),
}


@pytest.mark.parametrize("args", BAD_GRAPHS.values(), ids=BAD_GRAPHS.keys())
def test_heft_refuses_bad_input_alike(args: tuple) -> None:
    want = outcome(lambda: cs.heft(*args))
    assert want[0] == "ValueError"
    assert outcome(lambda: ns.heft(*args)) == want


@pytest.mark.parametrize("seed", range(4))
def test_a_cycle_names_the_same_task(seed: int) -> None:
    cost, src, dst, comm = random_dag(50, seed, 0.1)
    rng = np.random.default_rng(seed)
    back = rng.choice(src.size, 3, replace=False)  # reversed edges close cycles
    src2, dst2 = np.concatenate([src, dst[back]]), np.concatenate([dst, src[back]])
    comm2 = np.concatenate([comm, comm[back]])
    want = outcome(lambda: cs.heft(cost, src2, dst2, comm2, np.ones(2)))
    assert want[0] == "ValueError" and "cycle" in want[1]
    assert outcome(lambda: ns.heft(cost, src2, dst2, comm2, np.ones(2))) == want
    want = outcome(lambda: cs.ReadyQueue(50, src2, dst2, cost))
    assert outcome(lambda: ns.ReadyQueue(50, src2, dst2, cost)) == want


def test_unconvertible_arguments_are_type_errors_in_both() -> None:
    for args in (("ab", [], [], None, [1.0]), ([1.0], [], [], [1.0])):
        assert outcome(lambda a=args: cs.heft(*a))[0] == "TypeError"
        assert outcome(lambda a=args: ns.heft(*a))[0] == "TypeError"


# --- the ready queue ------------------------------------------------------------------------


def same_state(a: Any, b: Any) -> None:
    assert (len(a), a.ready, a.remaining) == (len(b), b.ready, b.remaining)
    assert [a.state(t) for t in range(len(a))] == [b.state(t) for t in range(len(b))]


@pytest.mark.parametrize("seed", range(10))
def test_ready_queues_agree_on_random_calls(seed: int) -> None:
    rng = np.random.default_rng(seed)
    if seed % 3 == 0:
        queues = [cs.ReadyQueue(), ns.ReadyQueue()]
    else:
        _, src, dst, _ = random_dag(30, seed, 0.1)
        priority = rng.integers(0, 5, 30).astype(float)  # ties
        queues = [cs.ReadyQueue(30, src, dst, priority), ns.ReadyQueue(30, src, dst, priority)]
    ops = ["add", "pop", "pop", "done", "done", "requeue", "cancel", "state", "bad"]
    weights = np.array([4, 4, 4, 4, 4, 1, 1, 1, 1], float)
    popped: list[int] = []
    for _ in range(600):
        op = ops[rng.choice(len(ops), p=weights / weights.sum())]
        n = len(queues[0])
        if op == "add":
            k = int(rng.integers(0, 4))
            after = rng.integers(0, n, k).tolist() if n else []
            prio = float(rng.integers(0, 5))
            calls = [lambda q, p=prio, a=after: q.add(p, a)]
        elif op == "pop":
            calls = [lambda q: q.pop()]
        elif op in ("done", "requeue") and popped and rng.random() < 0.85:
            t = popped.pop(int(rng.integers(0, len(popped))))
            calls = [lambda q, t=t, op=op: getattr(q, op)(t)]
        elif op in ("done", "requeue", "cancel", "state"):
            t = int(rng.integers(0, n)) if n else 0
            calls = [lambda q, t=t, op=op: getattr(q, op)(t)]
        else:  # refused calls: the same errors, nothing changed
            t = int(rng.integers(n, n + 3))
            calls = [
                lambda q, t=t: q.done(t),
                lambda q: q.cancel(-1),
                lambda q, t=t: q.add(1.0, [t]),
                lambda q: q.add(1.0, [-2]),
                lambda q: q.add(np.inf),
                lambda q: q.add(np.nan, [2**40]),
            ]
        for call in calls:
            got = [outcome(lambda q=q, c=call: c(q)) for q in queues]
            assert got[0] == got[1], (op, got)
            if op == "pop" and got[0][1] >= 0:
                popped.append(got[0][1])
            same_state(*queues)
    while True:  # drain: the same order to the end
        t = [q.pop() for q in queues]
        assert t[0] == t[1]
        if t[0] < 0:
            break
        assert queues[0].done(t[0]) == queues[1].done(t[1])
    same_state(*queues)


def test_ready_queues_grow_release_and_cancel_alike() -> None:
    queues = [cs.ReadyQueue(), ns.ReadyQueue()]
    for q in queues:
        assert q.add(1.0) == 0 and q.add(3.0, [0]) == 1 and q.add(2.0, np.array([0, 1])) == 2
        assert q.pop() == 0 and q.done(0) == 1 and q.add(5.0, [0]) == 3  # 0 done: ready at once
        assert q.pop() == 3 and q.pop() == 1
        q.requeue(1)
        assert q.state(1) == 1 and q.pop() == 1 and q.cancel(1) == [1, 2]
        assert q.add(9.0, [2, 3]) == 4 and q.state(4) == 4  # behind a cancelled task
        assert (q.ready, q.remaining, len(q)) == (0, 1, 5) and q.done(3) == 0 and q.pop() == -1
    same_state(*queues)


BAD_QUEUES = {
    "priority length": (3, [0], [1], [1.0, 2.0]),
    "priority 2-D": (2, [0], [1], [[1.0, 2.0]]),
    "outside": (3, [0], [5], [1.0, 2.0, 3.0]),
    "self loop": (3, [2], [2], [1.0, 2.0, 3.0]),
    "cycle": (3, [0, 1], [1, 0], [1.0, 2.0, 3.0]),
    "edge lengths": (3, [0], [1, 2], [1.0, 2.0, 3.0]),
}


@pytest.mark.parametrize("args", BAD_QUEUES.values(), ids=BAD_QUEUES.keys())
def test_ready_queues_refuse_bad_graphs_alike(args: tuple) -> None:
    want = outcome(lambda: cs.ReadyQueue(*args))
    assert want[0] == "ValueError"
    assert outcome(lambda: ns.ReadyQueue(*args)) == want


def test_ready_queues_refuse_bad_calls_alike() -> None:
    queues = [
        cs.ReadyQueue(3, [0], [1], [1.0, 2.0, 3.0]),
        ns.ReadyQueue(3, [0], [1], [1.0, 2.0, 3.0]),
    ]
    calls: list[Callable[[Any], Any]] = [
        lambda q: q.done(0),  # not popped
        lambda q: q.requeue(2),
        lambda q: q.done(3),
        lambda q: q.state(-1),
        lambda q: q.requeue(2**40),
        lambda q: q.cancel(np.int64(7)),
        lambda q: q.add(1.0, [3]),
        lambda q: q.add(1.0, [0, -1]),
        lambda q: q.add(1.0, [5, -1]),  # the sign is checked first, for every predecessor
        lambda q: q.add(np.nan, [5]),  # then the priority, then whether each is in the queue
        lambda q: q.add(-np.inf),
        lambda q: q.add(1.0, 5),  # not iterable
        lambda q: q.done(1.5),
    ]
    for call in calls:
        got = [outcome(lambda q=q, call=call: call(q)) for q in queues]
        assert got[0][0] == got[1][0], got
        if got[0][0] == "ValueError":
            assert got[0] == got[1]
    same_state(*queues)


# --- the backend switch ---------------------------------------------------------------------


def test_the_scheduler_area_resolves_to_both_backends() -> None:
    assert _backend.resolve("numba", "scheduler") == ("numba", ns)
    assert _backend.resolve("cpp", "scheduler") == ("cpp", cs)
    with pytest.raises(BackendUnavailable):
        _backend.resolve("cuda", "scheduler")
    cost, src, dst, comm = random_dag(30, 3, 0.2)
    edges = np.column_stack([src, dst])
    a = schedule(cost, edges, workers=[1.0, 2.0], comm=comm, backend="numba")
    b = schedule(cost, edges, workers=[1.0, 2.0], comm=comm, backend="cpp")
    for key in ("worker", "start", "finish", "rank", "order"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    assert a.makespan == b.makespan


def test_overflowing_plans_and_tiny_speeds_alike(monkeypatch) -> None:
    # finishes that overflow to inf still start where the C++ two passes put them; a speed
    # whose inverse overflows is refused by both
    for kernels in (cs, ns):
        out = kernels.heft(np.array([1e308, 1e308]), np.array([0], np.int32),
                           np.array([1], np.int32), None, np.ones(1))  # fmt: skip
        assert out["start"][1] == 1e308 and np.isinf(out["finish"][1])
        with pytest.raises(ValueError, match=r"speed must be finite and positive \(worker 1\)"):
            kernels.heft(np.zeros(3), np.zeros(0, np.int32), np.zeros(0, np.int32), None,
                         np.array([1.0, 5e-324]))  # fmt: skip
    monkeypatch.setenv("CHIMERA_BACKEND", "cuda")  # a GPU job's setting: planning still runs
    assert schedule(np.ones(2), [(0, 1)], workers=2).makespan == 2.0
