"""The task scheduler: priority order, dependencies, resources without starvation, timeouts
that replace the worker, retries with jittered backoff, cancellation down the graph, circuit
breakers per agent version, health, and refusals."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from chimera import ValidationError
from chimera._errors import CircuitOpen, TaskCancelled, TaskTimeout
from chimera.execution import CircuitBreaker, Metrics, Retry, Scheduler, current_task

NO_RETRY = Retry(attempts=1)


def _gate(s: Scheduler) -> tuple[threading.Event, object]:
    """A task that holds the only worker until the event is set."""
    gate = threading.Event()
    return gate, s.submit(gate.wait, 10)


def test_ready_tasks_run_by_priority_then_submission() -> None:
    order: list[str] = []
    with Scheduler(1) as s:
        gate, _ = _gate(s)
        for name, p in [("low", -1), ("a", 0), ("high", 5), ("b", 0), ("top", 9)]:
            s.submit(order.append, name, priority=p)
        gate.set()
        s.join(timeout=10)
    assert order == ["top", "high", "a", "b", "low"]


def test_dependencies_hold_tasks_until_done_and_values_flow() -> None:
    with Scheduler(2) as s:
        a = s.submit(lambda: 2)
        b = s.submit(lambda: a.result() * 3, after=[a])
        c = s.submit(lambda: a.result() + 1, after=[a], priority=5)
        d = s.submit(lambda: b.result() + c.result(), after=[b, c])
        assert d.result(timeout=5) == 9
        late = s.submit(lambda: d.result() * 10, after=[d])  # after one that is done already
        assert late.result(timeout=5) == 90
    assert [t.state for t in (a, b, c, d)] == ["done"] * 4


def test_workers_run_tasks_at_once() -> None:
    meet = threading.Barrier(2, timeout=5)  # passes only if both run at the same time
    with Scheduler(2) as s:
        tasks = [s.submit(meet.wait) for _ in range(2)]
        assert sorted(t.result(timeout=5) for t in tasks) == [0, 1]


def test_long_tasks_wake_the_other_workers() -> None:
    with Scheduler(2) as s:
        start = time.perf_counter()
        s.map(time.sleep, [0.05] * 12)
        took = time.perf_counter() - start
    assert took < 0.5  # 0.6 s one at a time; about 0.3 s on two workers


def test_resources_are_held_and_gpus_named() -> None:
    held, peak, lock = {"gpus": 0, "memory": 0}, {"gpus": 0, "memory": 0}, threading.Lock()
    seen: list[tuple[int, ...]] = []

    def work(gpus: int, memory: int) -> None:
        task = current_task()
        assert task is not None and len(task.gpu_ids) == gpus
        with lock:
            seen.append(task.gpu_ids)
            held["gpus"] += gpus
            held["memory"] += memory
            for k in held:
                peak[k] = max(peak[k], held[k])
        time.sleep(0.01)
        with lock:
            held["gpus"] -= gpus
            held["memory"] -= memory

    with Scheduler(4, gpus=[3, 7], memory=1000) as s:
        for k in range(12):
            g, m = (k % 3, 400 * (k % 2))
            s.submit(work, g, m, gpus=g, memory=m)
        s.join(timeout=10)
        assert s.settled["done"] == 12
    assert peak["gpus"] <= 2 and peak["memory"] <= 1000 and peak["gpus"] >= 1
    assert {g for ids in seen for g in ids} == {3, 7}
    assert all(len(set(ids)) == len(ids) for ids in seen)


def test_a_large_task_is_not_starved_by_small_ones() -> None:
    order: list[str] = []
    with Scheduler(2) as s:
        gate, _ = _gate(s)  # one slot busy
        s.submit(order.append, "wide", cpus=2)  # needs both slots
        for k in range(20):
            s.submit(lambda k=k: (time.sleep(0.002), order.append(f"small{k}")))
        time.sleep(0.05)
        assert order == []  # the free slot is held for the wide task, not backfilled
        gate.set()
        s.join(timeout=10)
    assert order[0] == "wide" and len(order) == 21


def test_a_gpu_task_waits_while_cpu_tasks_backfill() -> None:
    order: list[str] = []
    with Scheduler(2, gpus=1) as s:
        hold = threading.Event()
        s.submit(hold.wait, 10, gpus=1)
        s.submit(order.append, "gpu", gpus=1)
        s.submit(order.append, "cpu")  # takes nothing the gpu task is short of
        time.sleep(0.05)
        assert order == ["cpu"]
        hold.set()
        s.join(timeout=10)
    assert order == ["cpu", "gpu"]


def test_a_timeout_fails_the_attempt_and_replaces_the_worker() -> None:
    release = threading.Event()
    with Scheduler(1) as s:
        slow = s.submit(release.wait, 10, timeout=0.05, retry=NO_RETRY)
        with pytest.raises(TaskTimeout, match=r"ran past its timeout of 0\.05 s"):
            slow.result(timeout=5)
        assert s.submit(lambda: "served").result(timeout=5) == "served"  # a new worker
        health = s.health()
        assert health["live"] and [w["stuck"] for w in health["workers"]] == [True, False]
        assert s.timeouts == 1
        release.set()  # the old thread returns; its late value is dropped
        time.sleep(0.05)
    assert slow.state == "failed"


def test_a_timed_out_attempt_is_retried() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.5)
        return "second time"

    with Scheduler(1) as s:
        t = s.submit(flaky, timeout=0.05, retry=Retry(attempts=2, base=0.0))
        assert t.result(timeout=5) == "second time" and t.attempt == 2


def test_failures_are_retried_with_jittered_backoff() -> None:
    calls: list[float] = []

    def fails_twice() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise ConnectionError("transient")
        return "ok"

    with Scheduler(1, retry=Retry(attempts=3, base=0.04, cap=1.0)) as s:
        t = s.submit(fails_twice)
        assert t.result(timeout=5) == "ok" and t.attempt == 3 and s.retries == 2
    gaps = np.diff(calls)
    assert gaps[0] < 0.04 + 0.05 and gaps[1] < 0.08 + 0.05  # under each cap, and a tick


def test_the_retry_policy_waits_under_its_caps_and_skips_what_it_should() -> None:
    rng = np.random.default_rng(1)
    policy = Retry(attempts=6, base=0.1, cap=0.25, on=(OSError,))
    waits = np.array([[policy.wait(k, OSError(), rng) for k in range(1, 6)] for _ in range(2000)])
    caps = np.array([0.1, 0.2, 0.25, 0.25, 0.25])
    assert (waits >= 0).all() and (waits < caps).all()
    assert np.allclose(waits.mean(axis=0), caps / 2, rtol=0.08)  # full jitter: uniform below
    assert policy.wait(6, OSError(), rng) is None  # out of attempts
    assert policy.wait(1, ValueError(), rng) is None  # not a type worth retrying
    assert policy.wait(1, CircuitOpen("open"), rng) is None
    assert policy.wait(1, TaskCancelled("gone"), rng) is None


def test_a_failure_cancels_what_depends_on_it_and_nothing_else() -> None:
    def boom() -> None:
        raise KeyError("bad genome")

    with Scheduler(2, retry=NO_RETRY) as s:
        a = s.submit(boom)
        b = s.submit(lambda: 1, after=[a])
        c = s.submit(lambda: 2, after=[b])
        free = s.submit(lambda: 3)
        with pytest.raises(KeyError):
            a.result(timeout=5)
        with pytest.raises(TaskCancelled, match=f"depends on task {a.id}, which failed"):
            c.result(timeout=5)
        assert b.state == "cancelled" and free.result(timeout=5) == 3
        after_failed = s.submit(lambda: 4, after=[a])
        with pytest.raises(TaskCancelled, match="failed or was cancelled"):
            after_failed.result(timeout=5)


def test_cancel_takes_descendants_and_drops_a_running_result() -> None:
    ran: list[str] = []
    with Scheduler(1) as s:
        gate, running = _gate(s)
        a = s.submit(ran.append, "a")
        b = s.submit(ran.append, "b", after=[a])
        other = s.submit(ran.append, "other")
        assert a.cancel() and b.state == "cancelled" and not a.cancel()
        assert running.cancel() and running.cancelled()  # running: its value will be dropped
        gate.set()
        s.join(timeout=10)
        assert ran == ["other"] and other.state == "done"
        with pytest.raises(TaskCancelled, match="was cancelled"):
            running.result()
        assert not other.cancel()


def test_a_circuit_opens_fails_fast_probes_and_closes() -> None:
    calls = {"n": 0}
    healthy = threading.Event()

    def version_v2() -> str:
        calls["n"] += 1
        if not healthy.is_set():
            raise RuntimeError("trap")
        return "ok"

    breaker = CircuitBreaker(failures=3, reset_after=0.2)
    with Scheduler(1, breaker=breaker, retry=NO_RETRY) as s:
        first = [s.submit(version_v2, version="v2") for _ in range(3)]
        s.join(timeout=10)
        assert all(isinstance(t.exception(), RuntimeError) for t in first)
        assert s.health()["breakers"] == {"v2": "open"}
        fast = s.submit(version_v2, version="v2")
        with pytest.raises(CircuitOpen, match="'v2' is open after 3 failures"):
            fast.result(timeout=5)
        assert calls["n"] == 3  # refused without running
        assert s.submit(lambda: "other", version="v1").result(timeout=5) == "other"
        time.sleep(0.25)
        probe = s.submit(version_v2, version="v2")  # half-open: this one goes through
        assert isinstance(probe.exception(timeout=5), RuntimeError)
        assert s.health()["breakers"]["v2"] == "open"  # a failed probe opens it again
        time.sleep(0.25)
        healthy.set()
        assert s.submit(version_v2, version="v2").result(timeout=5) == "ok"
        assert s.health()["breakers"]["v2"] == "closed"


def test_a_stuck_worker_is_replaced_and_its_result_still_counts() -> None:
    with Scheduler(1, cpus=2, stuck_after=0.05) as s:
        long = s.submit(time.sleep, 0.3)
        time.sleep(0.15)
        workers = s.health()["workers"]
        assert [w["stuck"] for w in workers] == [True, False]
        assert s.submit(lambda: "meanwhile").result(timeout=5) == "meanwhile"
        assert long.result(timeout=5) is None and long.state == "done"


def test_tasks_may_submit_tasks_and_close_can_cancel() -> None:
    with Scheduler(2) as s:
        outer = s.submit(lambda: s.submit(lambda: 41).result() + 1)
        assert outer.result(timeout=5) == 42
    s = Scheduler(1)
    gate, running = _gate(s)
    queued = [s.submit(time.sleep, 0) for _ in range(5)]
    threading.Timer(0.05, gate.set).start()
    s.close(cancel=True)
    assert all(t.state == "cancelled" for t in [*queued, running])
    with pytest.raises(ValidationError, match="closed"):
        s.submit(print)


def test_the_monitor_reports_queue_depth_and_busy_workers() -> None:
    metrics = Metrics()
    with Scheduler(1, metrics=metrics) as s:
        gate, _ = _gate(s)
        for _ in range(5):
            s.submit(time.sleep, 0)
        time.sleep(0.05)
        assert metrics.queue_depth._value.get() == 5
        assert metrics.workers_busy._value.get() == 1
        gate.set()


def test_bad_tasks_and_settings_are_refused() -> None:
    with Scheduler(2, gpus=1, memory=100) as s, Scheduler(1) as other:
        bad = [
            (lambda: s.submit(42), "fn must be callable"),
            (lambda: s.submit(print, colour="red"), "unknown task options"),
            (lambda: s.submit(print, cpus=-1), "cpus must be an integer >= 0"),
            (lambda: s.submit(print, cpus=3), r"cpus=3, more than this scheduler has \(2\)"),
            (lambda: s.submit(print, gpus=2), r"gpus=2, more than this scheduler has \(1\)"),
            (lambda: s.submit(print, memory=101), "memory=101"),
            (lambda: s.submit(print, priority=float("nan")), "priority must be finite"),
            (lambda: s.submit(print, priority="high"), "priority must be a number"),
            (lambda: s.submit(print, timeout=0), "timeout must be finite seconds > 0"),
            (lambda: s.submit(print, retry=3), "retry must be a Retry"),
            (lambda: s.submit(print, version=2), "version must be a string"),
            (lambda: s.submit(print, after=[other.submit(print)]), "tasks of this scheduler"),
            (lambda: s.cancel("task"), "tasks of this scheduler"),
            (lambda: s.wait([other.submit(print)]), "tasks of this scheduler"),
        ]
        for call, match in bad:
            with pytest.raises(ValidationError, match=match):
                call()
        assert s.submit(lambda: "still serving").result(timeout=5) == "still serving"
    for kwargs, match in [
        ({"workers": 0}, r"workers must be an integer in \[1, 1024\]"),
        ({"gpus": [0, 0]}, "GPU ids must be distinct"),
        ({"stuck_after": -1}, "stuck_after"),
        ({"retry": "twice"}, "retry must be a Retry"),
        ({"breaker": 5}, "breaker must be a CircuitBreaker"),
    ]:
        with pytest.raises(ValidationError, match=match):
            Scheduler(**{"workers": 1, **kwargs})
    for kwargs, match in [
        ({"attempts": 0}, "attempts must be a positive integer"),
        ({"base": -1.0}, "base must be"),
        ({"on": (int,)}, "on must be exception types"),
    ]:
        with pytest.raises(ValidationError, match=match):
            Retry(**kwargs)
    with pytest.raises(ValidationError, match="failures must be a positive integer"):
        CircuitBreaker(failures=0)


def _until(predicate, seconds: float = 2.0) -> bool:
    """Polls without touching the scheduler's queue (result() and wait() drain it)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def test_a_task_submitted_beside_a_long_one_runs_without_anyone_waiting() -> None:
    with Scheduler(2) as s:
        gate, _ = _gate(s)
        quick = s.submit(lambda: "quick")
        assert _until(quick.done)  # the monitor moves it on, within a tick or so
        gate.set()


def test_a_timeout_holds_after_the_worker_was_called_stuck() -> None:
    with Scheduler(1, stuck_after=0.02) as s:
        slow = s.submit(time.sleep, 1.0, timeout=0.2, retry=NO_RETRY)
        with pytest.raises(TaskTimeout):
            slow.result(timeout=5)
        assert s.timeouts == 1


def test_blocked_tasks_yield_to_higher_priority_and_to_cancellation() -> None:
    with Scheduler(2) as s:
        gate, _ = _gate(s)
        wide = s.submit(print, cpus=2)  # blocked: one slot is held
        urgent = s.submit(lambda: "urgent", priority=10)  # ahead of wide: takes the free slot
        assert _until(urgent.done) and urgent.result() == "urgent"
        small = [s.submit(lambda: "small") for _ in range(3)]  # behind wide: held back
        time.sleep(0.05)
        assert not any(t.done() for t in small)
        wide.cancel()
        assert _until(lambda: all(t.done() for t in small))
        gate.set()


def test_a_breaker_counts_only_its_own_generation_and_probe() -> None:
    gate = threading.Event()

    def fails() -> None:
        raise RuntimeError("trap")

    with Scheduler(3, breaker=CircuitBreaker(failures=1, reset_after=0.05), retry=NO_RETRY) as s:
        early = s.submit(gate.wait, 10, version="v")  # let through while closed
        assert _until(lambda: early.state == "running")
        s.submit(fails, version="v").exception(timeout=5)
        assert s.health()["breakers"]["v"] == "open"
        gate.set()
        early.result(timeout=5)  # a success from before the circuit opened
        assert s.health()["breakers"]["v"] == "open"
        time.sleep(0.06)
        hold = threading.Event()
        probe = s.submit(hold.wait, 10, version="v")
        assert _until(lambda: probe.state == "running")
        with pytest.raises(CircuitOpen, match="half-open"):  # one probe at a time
            s.submit(print, version="v").result(timeout=5)
        probe.cancel()  # the probe ends with no verdict: another may go
        assert s.submit(lambda: "closes", version="v").result(timeout=5) == "closes"
        assert s.health()["breakers"]["v"] == "closed"
        hold.set()


def test_close_from_inside_and_children_of_running_tasks() -> None:
    s = Scheduler(2)
    inner = s.submit(lambda: (s.close(), "closed from inside")[1])
    assert inner.result(timeout=5) == "closed from inside"
    s = Scheduler(2)
    started = threading.Event()

    def parent() -> int:
        started.set()
        time.sleep(0.05)  # the owner is closing meanwhile
        return s.submit(lambda: 20).result() + 1

    p = s.submit(parent)
    started.wait(5)
    s.close()  # waits for the parent and the child it submits
    assert p.result() == 21


def test_every_resource_comes_back_after_timeouts_cancels_retries_and_failures() -> None:
    rng = np.random.default_rng(3)
    with Scheduler(3, gpus=2, memory=1000, retry=Retry(attempts=2, base=0.001)) as s:
        tasks = []
        for k in range(60):
            kind = k % 4
            fn = [lambda: None, lambda: time.sleep(0.2), lambda: 1 / 0, lambda: None][kind]
            tasks.append(s.submit(fn, gpus=int(rng.integers(0, 2)), memory=int(rng.integers(0, 400)),
                                  timeout=0.02 if kind == 1 else None,
                                  after=tasks[-1:] if k % 5 == 0 else ()))  # fmt: skip
            if k % 7 == 0:
                tasks[-1].cancel()
        s.join(timeout=20)
        time.sleep(0.3)  # the timed-out threads return and give back their GPUs and memory
        assert s.health()["free"] == {"cpus": 3, "gpus": 2, "memory": 1000}
        assert sum(s.settled.values()) == 60 and all(t.done() for t in tasks)


def test_the_queue_is_rebuilt_when_idle_and_old_tasks_still_count(monkeypatch) -> None:
    from chimera.execution import scheduler

    monkeypatch.setattr(scheduler, "REBUILD_AT", 8)
    with Scheduler(1, retry=NO_RETRY) as s:
        done = s.map(lambda x: x, range(10))
        ok = s.submit(lambda: "ok")
        bad = s.submit(lambda: 1 / 0)
        s.join(timeout=10)
        assert done == list(range(10)) and len(s._queue) < 8  # rebuilt
        assert s.submit(lambda: "after ok", after=[ok]).result(timeout=5) == "after ok"
        with pytest.raises(TaskCancelled):
            s.submit(print, after=[bad]).result(timeout=5)
        assert bad.state == "failed"
