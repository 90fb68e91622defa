"""Execution: WebAssembly agents in the sandbox against the same function in NumPy.

- Evaluations per second of Rastrigin (``--dim``, batches of ``--batch``): the batch ABI (one
  call per batch), one wasm call per individual, and NumPy on the whole batch; the answers
  must agree.
- Host overhead per evaluation: an agent whose evaluation does nothing but copy one number,
  in batches of 1,000, so that the time is the host's (copies in and out, the call, checks).
- Memory per live agent: resident memory added per instantiated cart-pole agent (a Store and
  an instance each), over ``--agents`` of them.
- Planning: HEFT of a random 100,000-task graph (each task needs up to 3 of the 1,000 before
  it) onto 64 workers, median of 5 (target 50 ms); the ready queue's pop + done per task from
  Python, a dispatcher's own cost per task (target 10 us).
- Dispatch: the ``Scheduler``'s cost per no-op task (target 10 us), submitted one by one or
  by ``map``, on one and two workers, against ``concurrent.futures.ThreadPoolExecutor`` on the
  same tasks (which keeps no priorities, dependencies, resources or retries).
- Live agents under the scheduler: ``--agents`` cart-pole agents (target 1,000 or more), each a
  version of its own with its own genomes, evaluated as tasks on two workers while all are
  alive; resident memory per agent and tasks per second, the answers checked against direct
  evaluation.
- Scaling from one to two worker threads on the cart-pole agent, with controllers that mostly
  balance the pole for all 2,000 steps (wasmtime releases the GIL while wasm runs).

Usage::

    python benchmarks/bench_execution.py [--dim 10] [--batch 1000] [--agents 1000]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gc
import multiprocessing
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table, write_results
from chimera.execution import Limits, Scheduler, WasmAgent
from chimera.execution.heft import schedule
from chimera.execution.scheduler import ReadyQueue

AGENTS = Path(__file__).resolve().parent.parent / "examples" / "agents"
REPEATS = 5
# An agent whose evaluation writes its genome's first number: what is left is host time.
ECHO = """
(module
  (memory (export "memory") 4)
  (func (export "chimera_abi_version") (result i32) (i32.const 1))
  (func (export "chimera_buffer") (param i32) (result i32)
    (if (result i32) (i32.le_u (local.get 0) (i32.const 196608))
      (then (i32.const 65536)) (else (i32.const 0))))
  (func (export "chimera_evaluate") (param $g i32) (param $n i32) (param $dim i32) (param $out i32)
    (result i32) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3)))
        (f64.load (i32.add (local.get $g) (i32.mul (local.get $i) (i32.shl (local.get $dim)
          (i32.const 3))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.const 0)))
"""


def rate(call: Any, n: int) -> float:
    """Median evaluations per second of ``call()`` (which evaluates n) over REPEATS runs."""
    rates = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        call()
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def rastrigin(X: np.ndarray) -> np.ndarray:
    return 10.0 * X.shape[1] + (X**2 - 10.0 * np.cos(2 * np.pi * X)).sum(axis=1)


def throughput(dim: int, batch: int) -> list[list[Any]]:
    X = np.random.default_rng(0).uniform(-5.12, 5.12, (batch, dim))
    whole = WasmAgent(AGENTS / "rastrigin.wasm", dim=dim, limits=Limits(chunk=min(batch, 65536)))
    single = WasmAgent(AGENTS / "rastrigin.wasm", dim=dim, limits=Limits(chunk=1))
    error = float(np.abs(whole(X) - rastrigin(X)).max())
    assert error < 1e-9, f"wasm and NumPy disagree by {error}"
    ours = rate(lambda: whole(X), batch)
    one = rate(lambda: single(X), batch)
    numpy = rate(lambda: rastrigin(X), batch)
    echo = WasmAgent(ECHO, dim=dim, limits=Limits(chunk=1000))
    E = X[:1000]
    assert np.array_equal(echo(E), E[:, 0]) and not echo.evaluate(E).violations
    host = 1e6 / rate(lambda: echo(E), len(E))
    return [
        [f"rastrigin d={dim}: wasm, batch ABI ({batch} per call)", ours, ""],
        [f"rastrigin d={dim}: wasm, one call per individual", one, f"{ours / one:.0f}x slower"],
        [f"rastrigin d={dim}: NumPy, whole batch", numpy, f"{numpy / ours:.2f}x the wasm rate"],
        ["host overhead per evaluation, batches of 1,000 (us)", round(host, 3), "target 0.2"],
        ["largest |wasm - NumPy|", error, ""],
    ]


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def memory_per_agent(count: int) -> list[list[Any]]:
    gc.collect()
    before = rss()
    agents = [WasmAgent(AGENTS / "cartpole.wasm") for _ in range(count)]
    for a in agents:
        a(np.zeros((1, 5)))
    per = (rss() - before) / count
    return [
        [f"resident memory per live cart-pole agent ({count} live)", f"{per / 1024:.0f} KiB", ""]
    ]


_FORKED: Any = None  # each process's own agent (an agent does not pickle)


def _load_cartpole() -> None:
    global _FORKED
    _FORKED = WasmAgent(AGENTS / "cartpole.wasm")


def _forked(X: np.ndarray) -> np.ndarray:
    return _FORKED(X)


def scaling(batch: int) -> list[list[Any]]:
    agent = WasmAgent(AGENTS / "cartpole.wasm")
    # Controllers near one that balances, so that most run the full 4 x 500 steps.
    W = np.array([0.0, 0.5, 10.0, 2.0, 0.0]) + np.random.default_rng(1).normal(0, 0.1, (batch, 5))

    def run(threads: int) -> None:
        parts = np.array_split(W, threads)
        workers = [threading.Thread(target=agent, args=(p,)) for p in parts]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    one, two = rate(lambda: run(1), batch), rate(lambda: run(2), batch)
    # The same halves in two processes: what this machine gives two cores with no GIL and no
    # shared host path, to tell the threads' shortfall from the machine's.
    # forkserver, not fork: this process already runs threads (the epoch ticker, workers)
    with multiprocessing.get_context("forkserver").Pool(2, initializer=_load_cartpole) as procs:
        procs.map(_forked, np.array_split(W[:4], 2))
        apart = rate(lambda: procs.map(_forked, np.array_split(W, 2)), batch)
    return [
        ["cart-pole, 1 worker thread", one, ""],
        ["cart-pole, 2 worker threads", two, f"{two / one:.2f}x"],
        ["cart-pole, 2 processes (the machine's own scaling)", apart, f"{apart / one:.2f}x"],
    ]


def planning(n: int = 100_000, workers: int = 64) -> list[list[Any]]:
    rng = np.random.default_rng(0)
    dst = np.repeat(np.arange(n), rng.integers(0, 4, n))
    src = dst - 1 - rng.integers(0, 1000, dst.size)
    keep = src >= 0
    edges = np.column_stack([src[keep], dst[keep]])
    cost, comm = rng.uniform(1, 10, n), rng.uniform(0, 2, len(edges))
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        p = schedule(cost, edges, workers=workers, comm=comm)
        times.append(time.perf_counter() - t0)
    q = ReadyQueue(n, edges[:, 0].astype(np.int32), edges[:, 1].astype(np.int32), p.rank)
    pop, done = q.pop, q.done
    t0 = time.perf_counter()
    for _ in range(n):
        done(pop())
    per_task = (time.perf_counter() - t0) / n * 1e6
    return [
        [f"HEFT schedule, {n} tasks ({len(edges)} edges) onto {workers} workers (ms)",
         round(statistics.median(times) * 1e3, 1), "target 50"],
        ["ready queue pop + done per task from Python (us)", round(per_task, 2), "target 10"],
    ]  # fmt: skip


def _noop(x: Any) -> Any:
    return x


def dispatch(n: int = 50_000) -> list[list[Any]]:
    """Median microseconds per no-op task, wall time over n, each way of submitting."""
    expected = list(range(n))

    def stream(s: Scheduler) -> list[Any]:
        tasks = [s.submit(_noop, i) for i in range(n)]
        s.join()
        return [t.result() for t in tasks]

    def pool(ex: concurrent.futures.ThreadPoolExecutor) -> list[Any]:
        futures = [ex.submit(_noop, i) for i in range(n)]
        return [f.result() for f in futures]

    def per_task(run: Any) -> float:
        times = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            out = run()
            times.append(time.perf_counter() - t0)
            assert out == expected, "the tasks' values differ"
        return round(statistics.median(times) / n * 1e6, 2)

    rows = []
    for workers in (1, 2):
        with Scheduler(workers) as s:
            s.map(_noop, range(1000))  # warm
            rows.append([f"dispatch per task, submit one by one, {workers} worker(s) (us)",
                         per_task(lambda s=s: stream(s)), "target 10"])  # fmt: skip
            rows.append([f"dispatch per task, map, {workers} worker(s) (us)",
                         per_task(lambda s=s: s.map(_noop, range(n))), "target 10"])  # fmt: skip
        with concurrent.futures.ThreadPoolExecutor(workers) as ex:
            rows.append([f"ThreadPoolExecutor per task, {workers} worker(s) (us)",
                         per_task(lambda ex=ex: pool(ex)), "reference"])  # fmt: skip
    return rows


def live_agents(count: int, batch: int = 4) -> list[list[Any]]:
    """count cart-pole agents alive at once, each evaluated as a task of its own version."""
    rng = np.random.default_rng(2)
    gc.collect()
    before = rss()
    agents = [WasmAgent(AGENTS / "cartpole.wasm", name=f"cartpole-{k}") for k in range(count)]
    genomes = np.array([0.0, 0.5, 10.0, 2.0, 0.0]) + rng.normal(0, 0.3, (count, batch, 5))
    with Scheduler(2) as s:
        t0 = time.perf_counter()
        tasks = [s.submit(a, genomes[k], version=a.name) for k, a in enumerate(agents)]
        values = [t.result() for t in tasks]
        took = time.perf_counter() - t0
        per = (rss() - before) / count  # with every agent and the workers' stores alive
        live = sum(1 for t in tasks if t.state == "done")  # evaluated, all held at once
    for k in range(0, count, max(1, count // 20)):  # a sample, against direct evaluation
        assert np.array_equal(values[k], agents[k](genomes[k])), "scheduled answers differ"
    return [
        [f"cart-pole agents alive at once, each evaluated under the scheduler ({batch} genomes)",
         live, "target 1000"],
        ["  resident memory per live agent (its store on each worker)", f"{per / 1024:.0f} KiB",
         ""],
        ["  agent tasks per second on 2 workers", round(count / took), ""],
    ]  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dim", type=int, default=10)
    ap.add_argument("--batch", type=int, default=65_536)
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--no-save", action="store_true")
    opts = ap.parse_args()
    rows = throughput(opts.dim, opts.batch) + planning() + scaling(2000)
    rows += dispatch() + memory_per_agent(opts.agents) + live_agents(opts.agents)
    print_table("WebAssembly agents (evaluations per second unless marked)",
                ["what", "value", "note"], rows)  # fmt: skip
    if not opts.no_save:
        print(f"wrote {write_results('execution', {'rows': rows})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
