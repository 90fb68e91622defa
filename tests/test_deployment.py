"""Agent artifacts stored by content, and blue-green deployment with a canary: promotion,
rollback on regression and at the first failure, and in-flight work credited once to the
version that served it, across swaps and threads."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from chimera import ValidationError
from chimera.execution import ArtifactStore, Deployment

AGENTS = Path(__file__).resolve().parent.parent / "examples" / "agents"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIMERA_WASM_CACHE", str(tmp_path / "cache"))


def test_artifacts_are_stored_by_content(tmp_path) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    genome = [0.0, 0.5, 10.0, 2.0, 0.0]
    key = store.put(AGENTS / "cartpole.wasm", genome, {"name": "cartpole", "version": 1})
    assert store.put(AGENTS / "cartpole.wasm", genome, {"version": 1, "name": "cartpole"}) == key
    other = store.put(AGENTS / "cartpole.wasm", genome, {"name": "cartpole", "version": 2})
    assert other != key and store.ids() == sorted([key, other])
    art = store.get(key)
    assert art.genome.tolist() == genome and art.metadata["name"] == "cartpole"
    assert art.agent()(art.genome[None, :])[0] < 50  # the stored controller still balances
    (tmp_path / "artifacts" / key / "genome.json").write_text("[0, 0, 0, 0, 0]")
    with pytest.raises(ValidationError, match="damaged"):
        store.get(key)
    with pytest.raises(ValidationError, match="no artifact"):
        store.get("f" * 64)
    with pytest.raises(ValidationError, match="genome must be finite"):
        store.put(b"\0asm", [np.nan])
    with pytest.raises(ValidationError, match="metadata must be JSON"):
        store.put(b"\0asm", [1.0], {"bad": object()})


def canary(deploy: Deployment, kpi_of: dict[str, float], units: int) -> str | None:
    verdict = None
    for _ in range(units):
        t = deploy.route()
        verdict = deploy.record(t, kpi_of[t.version]) or verdict
    return verdict


def test_a_better_candidate_is_promoted_and_a_worse_one_rolled_back() -> None:
    deploy = Deployment("v1", canary_share=0.2, min_samples=20, seed=1)
    assert canary(deploy, {"v1": 1.0}, 50) is None and deploy.served == {"v1": 50}
    deploy.propose("v2")
    assert canary(deploy, {"v1": 1.0, "v2": 0.5}, 400) == "promoted"
    assert deploy.incumbent == "v2" and deploy.candidate is None
    deploy.propose("v3")
    assert canary(deploy, {"v2": 0.5, "v3": 0.9}, 400) == "rolled back"
    assert deploy.incumbent == "v2"
    assert [e["event"] for e in deploy.events] == ["canary", "promoted", "canary", "rolled back"]
    split = Deployment("v1", canary_share=0.2, min_samples=10**6, seed=5)
    split.propose("v2")
    share = np.mean([split.route().version == "v2" for _ in range(4000)])
    assert 0.18 < share < 0.22


def test_the_first_failure_rolls_back_at_once() -> None:
    deploy = Deployment("v1", canary_share=0.5, min_samples=1000, seed=2)
    deploy.propose("v2")
    while (t := deploy.route()).version != "v2":
        deploy.record(t, 1.0)
    assert deploy.record(t, failed=True) == "rolled back"
    assert deploy.incumbent == "v1" and "failed" in deploy.events[-1]["why"]


def test_in_flight_work_is_credited_once_to_the_version_that_served_it() -> None:
    deploy = Deployment("v1", canary_share=0.5, min_samples=5, seed=3)
    deploy.propose("v2")
    early = [deploy.route() for _ in range(40)]  # in flight across the swap
    for t in early[:30]:
        deploy.record(t, 0.1 if t.version == "v2" else 1.0)
    assert deploy.incumbent == "v2"
    for t in early[30:]:  # finish after the promotion: still counted, once, to their version
        deploy.record(t, 1.0)
    assert sum(deploy.served.values()) == 40 and deploy.in_flight == 0
    with pytest.raises(ValidationError, match="not in flight"):
        deploy.record(early[0], 1.0)


def test_concurrent_routing_through_a_swap_loses_nothing() -> None:
    deploy = Deployment("v1", canary_share=0.3, min_samples=50, seed=4)
    deploy.propose("v2")
    counts = [0] * 4

    def worker(k: int) -> None:
        for _ in range(2000):
            t = deploy.route()
            deploy.record(t, 0.2 if t.version == "v2" else 1.0)
            counts[k] += 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert deploy.incumbent == "v2" and deploy.in_flight == 0
    assert sum(deploy.served.values()) == sum(counts) == 8000


def test_bad_deployment_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="canary_share"):
        Deployment("v1", canary_share=1.5)
    deploy = Deployment("v1")
    with pytest.raises(ValidationError, match="already the incumbent"):
        deploy.propose("v1")
    deploy.propose("v2")
    with pytest.raises(ValidationError, match="is running"):
        deploy.propose("v3")
