"""WebAssembly agents in the sandbox: the example agents against NumPy, and hostile modules
(written here in WebAssembly text) refused before instantiation or contained per individual
while the rest of the batch, and later batches, are served."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import chimera
from chimera import SandboxViolation, ValidationError
from chimera.execution import Limits, WasmAgent, runtime
from helpers import AGENTS
from hostile_agent import (
    HOSTILE,
    LIMITS,
    LOG,
    LOOP,
    MEMORY_BOMB,
    NAN,
    NORMAL,
    OUT_OF_BOUNDS,
    RECURSION,
    UNREACHABLE,
)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIMERA_WASM_CACHE", str(tmp_path / "cache"))


def rastrigin(X: np.ndarray) -> np.ndarray:
    return 10.0 * X.shape[1] + (X**2 - 10.0 * np.cos(2 * np.pi * X)).sum(axis=1)


def cartpole(W: np.ndarray) -> np.ndarray:
    """The cart-pole agent's objective, the same physics in NumPy."""
    starts = [(0.0, 0.0, 0.02, 0.0), (0.5, 0.0, -0.05, 0.1), (-0.8, 0.2, 0.04, -0.2),
              (0.2, -0.3, -0.1, 0.0)]  # fmt: skip
    out = []
    for w in W:
        total = 0
        for start in starts:
            x, x_dot, th, th_dot = start
            t = 0
            while t < 500 and -0.20943951023931953 < th < 0.20943951023931953 and -2.4 < x < 2.4:
                force = (
                    10.0
                    if w[0] * x + w[1] * x_dot + w[2] * th + w[3] * th_dot + w[4] > 0
                    else -10.0
                )
                s, c = np.sin(th), np.cos(th)
                temp = (force + 0.05 * th_dot * th_dot * s) / 1.1
                th_acc = (9.8 * s - c * temp) / (0.5 * (4.0 / 3.0 - 0.1 * c * c / 1.1))
                x_acc = temp - 0.05 * th_acc * c / 1.1
                x, x_dot, th, th_dot = (x + 0.02 * x_dot, x_dot + 0.02 * x_acc,
                                        th + 0.02 * th_dot, th_dot + 0.02 * th_acc)  # fmt: skip
                t += 1
            total += t
        out.append(500 - total / 4)
    return np.array(out)


def double_pole(W: np.ndarray) -> np.ndarray:
    """The double-pole agent's objective, the same physics in NumPy (every genome and start
    stepped at once)."""
    g, m, half, force_max, tau, x_lim, th_lim = -9.8, np.array([0.1, 0.01]), np.array(
        [0.5, 0.05]), 10.0, 0.01, 2.4, 0.6283185307179586  # fmt: skip
    ml = m * half
    starts = np.array([[0, 0, 0.07854, 0, 0, 0], [0.5, 0, -0.05, 0.1, 0.02, 0],
                       [-0.8, 0.2, 0.04, -0.2, -0.03, 0.1], [0.2, -0.3, -0.1, 0, 0.05, 0]])  # fmt: skip
    w = np.repeat(W, 4, axis=0)
    s = np.tile(starts, (len(W), 1))

    def derivative(s: np.ndarray, f: np.ndarray) -> np.ndarray:
        th, th_dot = s[:, [2, 4]], s[:, [3, 5]]
        pull = ml * th_dot**2 * np.sin(th) + 0.75 * m * np.cos(th) * (
            2e-6 * th_dot / ml + g * np.sin(th))  # fmt: skip
        mass = 1.0 + (m * (1 - 0.75 * np.cos(th) ** 2)).sum(axis=1)
        x_acc = (f - 5e-4 * np.sign(s[:, 1]) + pull.sum(axis=1)) / mass
        th_acc = -0.75 * (x_acc[:, None] * np.cos(th) + g * np.sin(th) + 2e-6 * th_dot / ml) / half
        return np.column_stack([s[:, 1], x_acc, th_dot[:, 0], th_acc[:, 0], th_dot[:, 1],
                                th_acc[:, 1]])  # fmt: skip

    cost, up = np.zeros(len(s)), np.ones(len(s), dtype=bool)
    for _ in range(1000):
        f = force_max * np.tanh((w[:, :6] * s).sum(axis=1) + w[:, 6])
        k1 = derivative(s, f)
        k2 = derivative(s + tau / 2 * k1, f)
        k3 = derivative(s + tau / 2 * k2, f)
        k4 = derivative(s + tau * k3, f)
        s = np.where(up[:, None], s + tau / 6 * (k1 + 2 * k2 + 2 * k3 + k4), s)
        deviation = ((s[:, 0] / x_lim) ** 2 + (s[:, 2] / th_lim) ** 2 + (s[:, 4] / th_lim) ** 2) / 3
        cost += np.where(up, deviation, 1.0)
        up &= (np.abs(s[:, 0]) < x_lim) & (np.abs(s[:, 2]) < th_lim) & (np.abs(s[:, 4]) < th_lim)
    return cost.reshape(len(W), 4).mean(axis=1)


def test_example_agents_agree_with_numpy() -> None:
    X = np.random.default_rng(0).uniform(-5.12, 5.12, (300, 7))
    agent = WasmAgent(f"{AGENTS}/rastrigin.wasm", dim=7)
    assert np.allclose(agent(X), rastrigin(X), rtol=0, atol=1e-10)
    W = np.random.default_rng(1).normal(size=(20, 5))
    W[0] = [0.0, 0.5, 10.0, 2.0, 0.0]  # a controller that balances
    pole = WasmAgent(f"{AGENTS}/cartpole.wasm")
    assert pole.dim == 5 and pole.n_obj == 1
    f = pole(W)
    assert np.allclose(f, cartpole(W), atol=1e-9) and f[0] < 50
    W = np.random.default_rng(2).uniform(-10, 10, (6, 7))
    W[0] = [0.0, -1.0, -10.0, -5.0, 5.0, 1.0, 0.0]  # the quickstart's incumbent: balances
    poles = WasmAgent(f"{AGENTS}/double_pole.wasm", limits=Limits(fuel=10**7))
    f = poles(W)
    assert np.allclose(f, double_pole(W), rtol=0, atol=1e-9) and 14 < f[0] < 15 < f[1:].min()


def test_an_evaluation_counts_the_fuel_it_spent() -> None:
    poles = WasmAgent(f"{AGENTS}/double_pole.wasm", limits=Limits(fuel=10**7))
    balancing, falling = [0.0, -1.0, -10.0, -5.0, 5.0, 1.0, 0.0], [0.0] * 7
    spent = [poles.evaluate(np.array([w])).fuel for w in (balancing, falling)]
    assert spent[0] > 20 * spent[1] > 0  # balancing simulates every step of every start
    both = poles.evaluate(np.array([balancing, falling])).fuel
    assert both is not None and abs(both - sum(spent)) < 100  # one call's overhead aside
    starved = WasmAgent(f"{AGENTS}/double_pole.wasm", limits=Limits(fuel=5_000))
    out = starved.evaluate(np.array([balancing] * 3))
    # every call ran dry: the first had the three's fuel, then the other two went alone
    assert len(out.violations) == 3 and out.fuel == 3 * 5_000 + 2 * 5_000
    # runaways cost at most three times their own fuel (the plan's bound), one alone once
    looping = WasmAgent(HOSTILE, limits=Limits(fuel=100_000, memory=4 << 20, chunk=64))
    for n in (1, 2, 8, 64, 200):
        spent = looping.evaluate(np.column_stack([np.full(n, LOOP), np.zeros(n)])).fuel
        assert spent is not None and n * 100_000 <= spent <= (3 if n > 1 else 1) * n * 100_000


def test_hostile_individuals_are_contained_and_the_batch_carries_on(caplog) -> None:
    agent = WasmAgent(HOSTILE, limits=LIMITS, name="hostile")
    kinds = [NORMAL, LOOP, NORMAL, MEMORY_BOMB, NORMAL, RECURSION, OUT_OF_BOUNDS, UNREACHABLE,
             NAN, NORMAL, LOG]  # fmt: skip
    X = np.column_stack([kinds, np.arange(len(kinds), dtype=float)])
    with caplog.at_level(logging.INFO, logger="chimera.agent"):
        result = agent.evaluate(X)
    reasons = {i: v.reason for i, v in result.violations.items()}
    assert reasons == {1: "out of fuel", 3: "memory limit", 5: "stack overflow",
                       6: "out-of-bounds access", 7: "unreachable", 8: "non-finite result"}  # fmt: skip
    assert all(isinstance(v, SandboxViolation) for v in result.violations.values())
    assert "individual 3 was stopped: memory limit" in str(result.violations[3])
    good = [i for i in range(len(kinds)) if i not in reasons]
    assert result.fitness[good].tolist() == [float(i) for i in good]
    assert (result.fitness[list(reasons)] == LIMITS.worst_fitness).all()
    assert "hostile: hello from wasm" in caplog.text
    again = agent.evaluate(np.array([[NORMAL, 4.5], [NORMAL, -1.0]]))  # still serving
    assert again.fitness.tolist() == [4.5, -1.0] and not again.violations


def test_the_deadline_stops_what_fuel_would_let_run() -> None:
    limits = Limits(fuel=1 << 40, timeout=0.05, memory=4 << 20)
    agent = WasmAgent(HOSTILE, limits=limits)
    result = agent.evaluate([[LOOP, 0.0], [NORMAL, 2.0]])
    assert result.violations[0].reason == "deadline" and result.fitness[1] == 2.0


@pytest.mark.parametrize(
    "module, match",
    [
        (b"not wasm at all", "not a valid WebAssembly module"),
        ("(module (memory (export \"memory\") 1)", "nor valid WebAssembly text"),
        ('(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) '
         '(result i32))) (memory (export "memory") 1))', "fd_write, which is not on the allow-list"),
        ('(module (memory (export "memory") 1))', "lacks the export chimera_evaluate"),
        ('(module (memory (export "memory") 100))', "above the limit of 4194304"),
        (HOSTILE.replace("(i32.const 1))\n  (func (export \"chimera_dim\")",
                         "(i32.const 7))\n  (func (export \"chimera_dim\")"), "ABI version 7"),
    ],
)  # fmt: skip
def test_bad_modules_are_refused_before_they_run(module, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        WasmAgent(module, limits=LIMITS)


def test_bad_genomes_and_settings_are_refused() -> None:
    agent = WasmAgent(HOSTILE, limits=LIMITS)
    with pytest.raises(ValidationError, match="genomes of length 2 for agent agent"):
        agent.evaluate(np.zeros((3, 4)))
    with pytest.raises(ValidationError, match="must be finite"):
        agent.evaluate([[0.0, np.nan]])
    with pytest.raises(ValidationError, match="dim=3, but agent agent takes genomes of length 2"):
        WasmAgent(HOSTILE, dim=3, limits=LIMITS)
    with pytest.raises(ValidationError, match="any length: give dim="):
        WasmAgent(f"{AGENTS}/rastrigin.wasm")
    with pytest.raises(ValidationError, match=r"Limits\.memory must be a whole number"):
        Limits(memory=1000)
    with pytest.raises(ValidationError, match="cannot read the agent module"):
        WasmAgent("no/such/agent.wasm")


def test_threads_have_their_own_sandboxes() -> None:
    agent = WasmAgent(f"{AGENTS}/rastrigin.wasm", dim=5)
    X = np.random.default_rng(2).uniform(-5, 5, (4, 500, 5))
    results: dict[int, np.ndarray] = {}

    def work(k: int) -> None:
        for _ in range(5):
            results[k] = agent(X[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        assert np.array_equal(results[k], agent(X[k]))


def test_compiled_modules_are_cached_on_disk(tmp_path, caplog) -> None:
    WasmAgent(f"{AGENTS}/rastrigin.wasm", dim=3)
    (cached,) = list((tmp_path / "cache").glob("*.cwasm"))
    WasmAgent(f"{AGENTS}/rastrigin.wasm", dim=3)  # from the cache
    assert list((tmp_path / "cache").glob("*.cwasm")) == [cached]
    assert runtime.WASMTIME_VERSION in runtime.settings(1)
    cached.write_bytes(b"corrupt")
    with caplog.at_level(logging.WARNING, logger="chimera.execution"):
        agent = WasmAgent(f"{AGENTS}/rastrigin.wasm", dim=3)
    assert "failed to load" in caplog.text and agent(np.zeros((1, 3))).tolist() == [0.0]


def test_agents_are_objectives_for_minimize() -> None:
    agent = WasmAgent(f"{AGENTS}/rastrigin.wasm", dim=4)
    result = chimera.minimize(agent, [(-5.12, 5.12)] * 4, max_evals=6000, seed=3)
    assert result.fun < 2.0


def test_traps_outside_the_batch_are_contained_too() -> None:
    starts_badly = HOSTILE.replace(
        '(func (export "chimera_abi_version")',
        '(func (export "_initialize") (loop $spin (br $spin)))\n  (func (export "chimera_abi_version")',
    )
    with pytest.raises(SandboxViolation, match="failed to start: out of fuel"):
        WasmAgent(starts_badly, limits=LIMITS)
    no_room = HOSTILE.replace(
        "(i32.const 65536))\n  (func $recurse", "(unreachable))\n  (func $recurse"
    )
    agent = WasmAgent(no_room, limits=LIMITS)
    result = agent.evaluate([[NORMAL, 1.0], [NORMAL, 2.0]])
    assert set(result.violations) == {0, 1}
    assert "no buffer for the batch: unreachable" in str(result.violations[0])


def _minimal(buffer_body: str = "(i32.const 1024)", evaluate_body: str = "(i32.const 0)",
             extra: str = "") -> str:  # fmt: skip
    """A one-page agent with the given chimera_buffer and chimera_evaluate bodies."""
    return f"""
(module
  (memory (export "memory") 1)
  {extra}
  (func (export "chimera_abi_version") (result i32) (i32.const 1))
  (func (export "chimera_dim") (result i32) (i32.const 1))
  (func (export "chimera_buffer") (param i32) (result i32) {buffer_body})
  (func (export "chimera_evaluate") (param i32 i32 i32 i32) (result i32) {evaluate_body}))
"""


@pytest.mark.parametrize("base", ["65530", "1000000", "-8", "65496", "1020"])
def test_a_buffer_outside_memory_is_contained(base: str) -> None:
    agent = WasmAgent(_minimal(f"(i32.const {base})"), limits=LIMITS)
    result = agent.evaluate(np.zeros((4, 1)))
    assert sorted(result.violations) == [0, 1, 2, 3]
    assert "no buffer for the batch: a region outside its memory" in str(result.violations[0])


def test_a_table_bomb_hits_the_table_limit() -> None:
    bomb = _minimal(
        evaluate_body="(drop (table.grow $t (ref.null func) (i32.const 300000000))) "
        "(table.fill $t (i32.const 0) (ref.null func) (i32.const 300000000)) (i32.const 0)",
        extra="(table $t 0 funcref)",
    )
    t0 = time.perf_counter()
    result = WasmAgent(bomb, limits=LIMITS).evaluate(np.zeros((1, 1)))
    assert time.perf_counter() - t0 < 2.0
    assert result.violations[0].reason == "table out of bounds"  # table.grow was refused


def test_a_trap_between_two_objectives_is_charged_to_its_individual() -> None:
    # Two objectives; genome x < 0 writes objective 1, then traps before objective 0.
    body = """
    (local $i i32) (local $x f64) (local $o i32)
    (block $done (loop $next
      (br_if $done (i32.ge_s (local.get $i) (local.get 1)))
      (local.set $x (f64.load (i32.add (local.get 0) (i32.shl (local.get $i) (i32.const 3)))))
      (local.set $o (i32.add (local.get 3) (i32.shl (local.get $i) (i32.const 4))))
      (f64.store offset=8 (local.get $o) (local.get $x))
      (if (f64.lt (local.get $x) (f64.const 0)) (then unreachable))
      (f64.store (local.get $o) (local.get $x))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.const 0)"""
    two = _minimal(evaluate_body=body,
                   extra='(func (export "chimera_objectives") (result i32) (i32.const 2))')  # fmt: skip
    result = WasmAgent(two, limits=LIMITS).evaluate([[1.0], [-1.0], [2.0]])
    assert {i: v.reason for i, v in result.violations.items()} == {1: "unreachable"}
    assert result.fitness.tolist() == [[1.0, 1.0], [1e9, 1e9], [2.0, 2.0]]


def test_runaways_cost_about_their_own_budgets() -> None:
    limits = Limits(fuel=1 << 40, timeout=0.02, memory=4 << 20, chunk=32)
    agent = WasmAgent(HOSTILE, limits=limits)
    t0 = time.perf_counter()
    result = agent.evaluate(np.column_stack([[LOOP] * 32, np.zeros(32)]))
    elapsed = time.perf_counter() - t0
    assert len(result.violations) == 32 and elapsed < 8.0, elapsed  # quadratic: ~10.6 s


def test_traps_while_starting_and_bad_reports_are_refused() -> None:
    trapping_dim = _minimal().replace('(func (export "chimera_dim") (result i32) (i32.const 1))',
                                      '(func (export "chimera_dim") (result i32) unreachable)')  # fmt: skip
    with pytest.raises(SandboxViolation, match="failed to start: unreachable"):
        WasmAgent(trapping_dim, limits=LIMITS)
    negative = _minimal().replace("(i32.const 1))\n  (func (export \"chimera_buffer\")",
                                  "(i32.const -3))\n  (func (export \"chimera_buffer\")")  # fmt: skip
    with pytest.raises(ValidationError, match="genome length of -3"):
        WasmAgent(negative, limits=LIMITS)
    many = _minimal(extra='(func (export "chimera_objectives") (result i32) (i32.const 99999))')
    with pytest.raises(ValidationError, match="99999 objectives"):
        WasmAgent(many, limits=LIMITS)
    wrong_type = _minimal().replace(
        "(param i32) (result i32) (i32.const 1024)", "(result i32) (i32.const 1024)"
    )
    with pytest.raises(ValidationError, match="chimera_buffer with the wrong type"):
        WasmAgent(wrong_type, limits=LIMITS)
    for bad, match in [({"stack": 4 << 20}, r"stack must be an integer in \[1, 1048576\]"),
                       ({"fuel": 1 << 50}, "fuel must be"), ({"timeout": 0}, "timeout"),
                       ({"worst_fitness": float("inf")}, "worst_fitness must be finite")]:  # fmt: skip
        with pytest.raises(ValidationError, match=match):
            Limits(**bad)


def test_a_flood_of_log_messages_is_cut_short(caplog) -> None:
    agent = WasmAgent(HOSTILE, limits=LIMITS, name="chatty")
    with caplog.at_level(logging.INFO, logger="chimera.agent"):
        agent.evaluate(np.column_stack([[LOG] * 150, np.zeros(150)]))
    assert caplog.text.count("hello from wasm") == 100
    assert caplog.text.count("more messages in this call dropped") == 1


def test_an_error_code_marks_the_call() -> None:
    agent = WasmAgent(_minimal(evaluate_body="(i32.const -1)"), limits=LIMITS)
    result = agent.evaluate(np.zeros((2, 1)))
    assert {v.reason for v in result.violations.values()} == {"agent error: bad dimension"}


# Logs, fills 8 MiB of its memory and traps: the instance is replaced every call.
LOGGING_HOG = """
(module
  (import "chimera" "log" (func $log (param i32 i32)))
  (memory (export "memory") 130)
  (data (i32.const 16) "hi")
  (func (export "chimera_abi_version") (result i32) (i32.const 1))
  (func (export "chimera_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "chimera_evaluate") (param $g i32) (param $n i32) (param $dim i32)
    (param $out i32) (result i32)
    (call $log (i32.const 16) (i32.const 2))
    (memory.fill (i32.const 65536) (i32.const 1) (i32.const 8388608))
    unreachable))
"""


def _resident_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads Linux's /proc")
def test_trapped_and_dropped_logging_agents_free_their_memory() -> None:
    """The chimera.log import must not keep a sandbox (and its 8 MiB) alive: 48 instances,
    24 replaced after a trap and 24 in agents made and dropped, within 64 MiB."""
    limits = Limits(fuel=10**9, timeout=5.0, memory=16 << 20)
    agent = WasmAgent(LOGGING_HOG, dim=2, limits=limits)
    assert agent.evaluate(np.zeros((1, 2))).violations[0].reason == "unreachable"
    before = _resident_mib()
    for _ in range(24):
        agent.evaluate(np.zeros((1, 2)))
        dropped = WasmAgent(LOGGING_HOG, dim=2, limits=limits)
        dropped.evaluate(np.zeros((1, 2)))
        del dropped
    assert _resident_mib() - before < 64  # a leak keeps 8 MiB an instance: 384 MiB


@pytest.mark.parametrize(
    ("extra", "cause"),
    [
        ("(table 20000 funcref)", "table"),  # above Limits.tables (10,000)
        ("(memory 1)", "memor"),  # a second memory
        ('(data (i32.const 65530) "twelve bytes")', "out-of-bounds access"),
        ("(func $boom unreachable) (start $boom)", "unreachable"),
    ],
)
def test_a_module_that_cannot_be_instantiated_is_bad_input(extra: str, cause: str) -> None:
    """What the module defines does not fit: a ValidationError, as the ABI document says, not
    a violation while running; a trap in _initialize is one (see above)."""
    with pytest.raises(
        ValidationError, match=f"cannot be instantiated under its limits: .*{cause}"
    ):
        WasmAgent(_minimal(extra=extra), limits=Limits())


def test_a_buffer_refused_far_from_the_limit_is_not_called_the_memory_limit() -> None:
    result = WasmAgent(_minimal("(i32.const 0)"), limits=LIMITS).evaluate(np.zeros((2, 1)))
    assert (
        result.violations[0].reason
        == "no buffer for the batch: chimera_buffer returned 0 for 32 bytes"
    )
    grows = _minimal(  # grows by what is asked: refused by the 1 MiB limit
        "(if (result i32) (i32.eq (memory.grow (i32.add (i32.shr_u (local.get 0) (i32.const 16))"
        " (i32.const 1))) (i32.const -1)) (then (i32.const 0)) (else (i32.const 65536)))"
    )
    limits = Limits(memory=1 << 20, chunk=1 << 16)
    result = WasmAgent(grows, limits=limits).evaluate(np.zeros((1 << 16, 1)))
    assert result.violations[0].reason == "no buffer for the batch: memory limit"
