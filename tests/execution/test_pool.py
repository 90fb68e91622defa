"""AgentPool: shards on worker threads equal the serial evaluation, violations keep their
individuals, Prometheus metrics count evaluations and traps, the HTTP endpoint serves them,
and a stuck worker is replaced while the pool keeps serving."""

from __future__ import annotations

import threading
import time
import urllib.request

import numpy as np
import pytest

from chimera import ValidationError
from chimera.execution import AgentPool, Limits, Metrics, WasmAgent
from helpers import AGENTS
from hostile_agent import HOSTILE, LIMITS, LOOP, NORMAL, UNREACHABLE


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIMERA_WASM_CACHE", str(tmp_path / "cache"))


def test_shards_equal_the_serial_evaluation() -> None:
    agent = WasmAgent(AGENTS / "rastrigin.wasm", dim=6, limits=Limits(chunk=64))
    X = np.random.default_rng(0).uniform(-5, 5, (1001, 6))
    with AgentPool(agent, workers=2) as pool:
        for shards in (None, 1, 7):
            assert np.array_equal(pool.evaluate(X, shards=shards).fitness, agent(X))
        assert pool(X[:0]).shape == (0,)
        assert pool.health()["ready"] and pool.health()["live"]
    assert not pool.health()["ready"]
    with pytest.raises(ValidationError, match="closed"):
        pool.submit(X)


def test_violations_keep_their_individuals_and_metrics_count_them() -> None:
    metrics = Metrics()
    agent = WasmAgent(HOSTILE, limits=LIMITS, name="hostile")
    kinds = [NORMAL] * 10
    kinds[3], kinds[8] = LOOP, UNREACHABLE
    X = np.column_stack([kinds, np.arange(10.0)])
    with AgentPool(agent, workers=2, metrics=metrics) as pool:
        result = pool.evaluate(X, shards=3)
        endpoint = metrics.serve()
        try:
            with urllib.request.urlopen(endpoint.url, timeout=5) as response:
                text = response.read()
        finally:
            endpoint.close()
    assert {i: v.reason for i, v in result.violations.items()} == {3: "out of fuel",
                                                                   8: "unreachable"}  # fmt: skip
    assert result.fitness[[0, 9]].tolist() == [0.0, 9.0]
    assert result.violations[8].individual == 8 and "individual 8 was" in str(result.violations[8])
    value = metrics.registry.get_sample_value
    assert value("chimera_evaluations_total", {"agent": "hostile"}) == 10
    assert value("chimera_sandbox_traps_total", {"agent": "hostile", "reason": "out of fuel"}) == 1
    assert value("chimera_evaluation_seconds_count", {"agent": "hostile"}) == 3
    assert value("chimera_workers_busy") == 0 and value("chimera_queue_depth") == 0
    assert b'chimera_sandbox_traps_total{agent="hostile",reason="unreachable"} 1.0' in text


def test_a_stuck_worker_is_replaced_and_the_pool_keeps_serving() -> None:
    agent = WasmAgent(AGENTS / "rastrigin.wasm", dim=2)
    release = threading.Event()
    real = agent.evaluate

    def evaluate(X, first=0):  # host code that hangs on the first shard it sees
        if X[0, 0] == 99.0:
            release.wait(10)
        return real(X, first)

    agent.evaluate = evaluate  # type: ignore[method-assign]
    with AgentPool(agent, workers=1, stuck_after=0.05) as pool:
        hung = pool.submit(np.array([[99.0, 0.0]]))
        time.sleep(0.2)
        fine = pool.submit(np.zeros((3, 2)))  # finds the worker stuck, starts another
        assert fine.result(timeout=5).fitness.tolist() == [0.0, 0.0, 0.0]
        health = pool.health()
        assert health["ready"] and [w["stuck"] for w in health["workers"]].count(True) == 1
        release.set()
        assert hung.result(timeout=5).fitness.shape == (1,)


def test_a_pool_that_never_calls_a_worker_stuck() -> None:
    agent = WasmAgent(AGENTS / "rastrigin.wasm", dim=2)
    with AgentPool(agent, workers=1, stuck_after=float("inf")) as pool:
        assert pool.evaluate(np.zeros((3, 2))).fitness.tolist() == [0.0, 0.0, 0.0]


def test_bad_pool_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"workers must be an integer in \[1, 1024\]"):
        AgentPool(WasmAgent(AGENTS / "rastrigin.wasm", dim=2), workers=0)
    with pytest.raises(ValidationError, match="must be a WasmAgent"):
        AgentPool(lambda X: X, workers=1)  # type: ignore[arg-type]
