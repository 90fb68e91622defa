"""Agent artifacts stored by content, and blue-green deployment with a canary: promotion,
rollback on regression, at the first failure and when the gate stays undecided, and in-flight
work credited once to the version that served it, across swaps and threads; then the same
with real agents on a ServingPool, where a trap is a failure and a retired version's pool
closes only once its batches in flight are done."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import wasmtime

from chimera import ValidationError
from chimera.execution import ArtifactStore, Deployment, ServingPool
from chimera.problems import rastrigin
from chimera.refinement import non_inferiority, sequential_non_inferiority
from helpers import AGENTS


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
    with pytest.raises(ValidationError, match="max_samples must be at least min_samples"):
        Deployment("v1", min_samples=10, max_samples=5)
    with pytest.raises(ValidationError, match="max_samples must be an integer"):
        Deployment("v1", max_samples=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="gate must be callable"):
        Deployment("v1", gate=0.5)  # type: ignore[arg-type]
    assert Deployment("v1", min_samples=7).max_samples == 70


def test_an_undecided_gate_keeps_collecting_until_max_samples() -> None:
    looks: list[tuple[int, int]] = []

    def undecided(old, new) -> None:
        looks.append((len(old), len(new)))

    deploy = Deployment("v1", canary_share=0.5, min_samples=5, max_samples=12, gate=undecided)
    deploy.propose("v2")
    verdict = canary(deploy, {"v1": 1.0, "v2": 1.0}, 200)
    assert verdict == "rolled back" and deploy.incumbent == "v1" and deploy.candidate is None
    assert min(looks[0]) == 5 and min(looks[-1]) == 12  # looked after every KPI from 5 to 12
    assert len(looks) == sum(looks[-1]) - sum(looks[0]) + 1
    why = deploy.events[-1]["why"]
    assert why.startswith("undecided over") and "max_samples=12" in why
    bad = Deployment("v1", canary_share=0.5, min_samples=2, gate=lambda old, new: "yes")
    bad.propose("v2")
    assert canary(bad, {"v1": 1.0, "v2": 1.0}, 50) == "rolled back"
    assert "answered str" in bad.events[-1]["why"]


@pytest.mark.parametrize("gate", [non_inferiority(0.5), sequential_non_inferiority(0.5)])
def test_a_non_inferiority_gate_decides_the_canary(gate) -> None:
    rng = np.random.default_rng(7)
    latency = {"v1": 10.0, "v2": 10.1, "v3": 11.5}  # v2 inside the margin, v3 well outside

    def run(deploy: Deployment) -> str | None:
        verdict = None
        for _ in range(4000):
            t = deploy.route()
            verdict = deploy.record(t, rng.normal(latency[t.version], 1.0)) or verdict
            if verdict:
                return verdict
        return verdict

    deploy = Deployment("v1", canary_share=0.3, min_samples=30, max_samples=1000, gate=gate)
    deploy.propose("v2")
    assert run(deploy) == "promoted" and deploy.incumbent == "v2"
    deploy.propose("v3")
    assert run(deploy) == "rolled back" and deploy.incumbent == "v2"
    assert deploy.events[-1]["why"].startswith("worse over")


# --- serving real agents ------------------------------------------------------------------------


def scoring(result: str) -> bytes:
    """An agent of any genome length whose every individual runs the WebAssembly
    instructions ``result`` (leaving an f64; x is its first gene)."""
    return wasmtime.wat2wasm(f"""
(module
  (memory (export "memory") 1)
  (func (export "chimera_abi_version") (result i32) (i32.const 1))
  (func (export "chimera_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "chimera_evaluate") (param $g i32) (param $n i32) (param $dim i32)
    (param $out i32) (result i32)
    (local $i i32) (local $x f64)
    (block $done (loop $next
      (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $x (f64.load (i32.add (local.get $g)
        (i32.mul (local.get $i) (i32.shl (local.get $dim) (i32.const 3))))))
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3))) {result})
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.const 0)))
""")  # fmt: skip


@pytest.fixture
def versions(tmp_path) -> tuple[ArtifactStore, dict[str, str]]:
    """The incumbent, rastrigin; a better candidate (everyone scores 0); and one as good that
    traps on genomes whose first gene is below -4 (about a third of batches of 8)."""
    store = ArtifactStore(tmp_path / "artifacts")
    genome = np.zeros(4)
    return store, {
        "rastrigin": store.put(AGENTS / "rastrigin.wasm", genome, {"name": "rastrigin"}),
        "zero": store.put(scoring("(f64.const 0)"), genome, {"name": "zero"}),
        "trapping": store.put(scoring(
            "(if (result f64) (f64.lt (local.get $x) (f64.const -4)) (then unreachable) "
            "(else (f64.const 0)))"), genome, {"name": "trapping"}),
    }  # fmt: skip


def hammer(serving: ServingPool, threads: int, batches: int, seed: int) -> list:
    """``threads`` threads each serving ``batches`` batches of 8 genomes; what was served."""
    served: list = []
    lock = threading.Lock()

    def work(k: int) -> None:
        rng = np.random.default_rng([seed, k])
        for _ in range(batches):
            s = serving.evaluate(rng.uniform(-5, 5, (8, 4)))
            with lock:
                served.append(s)

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return served


def test_a_trapping_candidate_is_rolled_back_at_its_first_trap(versions) -> None:
    store, v = versions
    deploy = Deployment(v["rastrigin"], canary_share=0.3, min_samples=1000, seed=1)
    with ServingPool(store, deploy, workers=2) as serving:
        serving.propose(v["trapping"])
        served = hammer(serving, threads=4, batches=25, seed=1)
        assert list(serving.pools) == [v["rastrigin"]]  # the candidate's pool is closed
    [decided] = [s for s in served if s.verdict]
    assert decided.verdict == "rolled back" and decided.version == v["trapping"]
    assert decided.evaluation.violations  # the trap, not a KPI, decided it
    assert deploy.incumbent == v["rastrigin"] and "failed" in deploy.events[-1]["why"]
    on_candidate = [s for s in served if s.version == v["trapping"]]
    for s in on_candidate:  # served by the candidate: 0, or a trap's worst fitness
        assert set(s.evaluation.fitness[s.evaluation.fitness != 0]) <= {1e30}
    # Every batch credited once, to the version that served it, those in flight on the
    # candidate when it was rolled back included.
    assert sum(deploy.served.values()) == len(served) == 100 and deploy.in_flight == 0
    assert deploy.served[v["trapping"]] == len(on_candidate)


def test_a_better_candidate_is_promoted_while_threads_serve(versions) -> None:
    store, v = versions
    deploy = Deployment(v["rastrigin"], canary_share=0.3, min_samples=5, seed=2)
    with ServingPool(store, deploy, workers=2) as serving:
        serving.propose(v["zero"])
        served = hammer(serving, threads=4, batches=15, seed=2)
        assert [s.verdict for s in served if s.verdict] == ["promoted"]
        assert deploy.incumbent == v["zero"] and list(serving.pools) == [v["zero"]]
    assert sum(deploy.served.values()) == len(served) == 60 and deploy.in_flight == 0
    for s in served:  # each batch was evaluated by the version it is credited to
        assert (s.evaluation.fitness == 0).all() == (s.version == v["zero"])


def test_a_retired_version_finishes_its_batches_before_its_pool_closes(versions) -> None:
    store, v = versions
    deploy = Deployment(v["rastrigin"], canary_share=0.5, min_samples=3, seed=3)
    serving = ServingPool(store, deploy, workers=2)
    X = np.full((4, 4), 1.0)
    serving.evaluate(X)
    old = serving.pools[v["rastrigin"]]
    started, release = threading.Event(), threading.Event()
    real = old.agent.evaluate

    def slow(X, first=0):  # holds the batch that starts with gene 99 until released
        if X[0, 0] == 99.0:
            started.set()
            assert release.wait(60)
        return real(X, first)

    old.agent.evaluate = slow  # type: ignore[method-assign]
    late: list = []
    worker = threading.Thread(target=lambda: late.append(serving.evaluate([[99.0, 0, 0, 0]])))
    worker.start()  # routed to the incumbent before any canary runs
    assert started.wait(10)
    serving.propose(v["zero"])
    while deploy.candidate is not None:
        serving.evaluate(X)
    assert deploy.incumbent == v["zero"]
    assert v["rastrigin"] in serving.pools and old.health()["ready"]  # still serving one batch
    release.set()
    worker.join()
    assert late[0].version == v["rastrigin"] and late[0].evaluation.fitness[0] > 0
    assert list(serving.pools) == [v["zero"]] and not old.health()["ready"]
    assert sum(deploy.served.values()) == deploy.served[v["zero"]] + deploy.served[v["rastrigin"]]
    assert deploy.in_flight == 0
    serving.close()
    with pytest.raises(ValidationError, match="closed"):
        serving.evaluate(X)


def test_bad_input_and_bad_versions(versions) -> None:
    store, v = versions
    deploy = Deployment(v["rastrigin"], canary_share=0.5, min_samples=3)
    with ServingPool(store, deploy) as serving:
        with pytest.raises(ValidationError, match="finite"):
            serving.evaluate([[np.nan, 0, 0, 0]])  # the caller's mistake: nothing routed
        assert deploy.served == {}
        with pytest.raises(ValidationError, match="no artifact"):
            serving.propose("f" * 64)  # refused before it gets traffic
        assert deploy.candidate is None and not serving.pools
    with ServingPool(store, deploy, kpi=lambda evaluation: float("nan")) as serving:
        with pytest.raises(ValidationError, match="kpi returned nan"):
            serving.evaluate(np.ones((2, 4)))  # the KPI's fault: served, not a failure
        assert deploy.served == {v["rastrigin"]: 1} and deploy.in_flight == 0
    with pytest.raises(ValidationError, match="workers"):
        ServingPool(store, deploy, workers=0)
    with pytest.raises(ValidationError, match="store must be an ArtifactStore"):
        ServingPool("artifacts", deploy)  # type: ignore[arg-type]


def test_the_callers_mistakes_and_a_broken_gate_do_not_sink_the_canary(versions) -> None:
    store, v = versions
    deploy = Deployment(v["rastrigin"], canary_share=0.9, min_samples=50, seed=4)
    with ServingPool(store, deploy, workers=1) as serving:
        serving.propose(v["zero"])
        for _ in range(10):  # genomes of the wrong length: refused, no version charged
            with pytest.raises(ValidationError, match="genomes of length 4"):
                serving.evaluate(np.ones((2, 3)))
        assert deploy.candidate == v["zero"] and deploy.in_flight == 0
    deploy = Deployment("a", min_samples=2)
    deploy.propose("b")
    t = deploy.route()
    for bad, match in [(float("nan"), "finite"), ("high", "must be a number")]:
        with pytest.raises(ValidationError, match=match):
            deploy.record(t, bad)
    assert deploy.in_flight == 1 and deploy.record(t, 1.0) is None  # the ticket was kept

    def broken(old, new):
        raise ZeroDivisionError("no variance")

    for gate, why in [(broken, "the gate failed"), (lambda a, b: 1, "answered int")]:
        deploy = Deployment("a", min_samples=1, gate=gate, seed=0)
        deploy.propose("b")
        verdicts = []
        while deploy.candidate is not None:
            verdicts.append(deploy.record(deploy.route(), 1.0))
        assert verdicts[-1] == "rolled back" and why in deploy.events[-1]["why"]
        assert deploy.record(deploy.route(), 1.0) is None  # serving goes on


def test_serve_records_every_request_once_even_when_interrupted(versions) -> None:
    store, v = versions
    deploy = Deployment(v["rastrigin"], canary_share=0.5, min_samples=1000, seed=5)
    requests = np.random.default_rng(5).uniform(-5, 5, (8, 4))
    with ServingPool(store, deploy, workers=2) as serving:
        serving.propose(v["zero"])
        served = serving.serve(requests)
        assert [len(s.evaluation.fitness) for s in served] == [1] * 8
        for s, r in zip(served, requests, strict=True):  # each request on its own version
            assert (s.evaluation.fitness[0] == 0) == (s.version == v["zero"])
            if s.version == v["rastrigin"]:
                assert s.evaluation.fitness[0] == pytest.approx(rastrigin(r[None])[0])
        assert sum(deploy.served.values()) == 8 and deploy.in_flight == 0
    calls = [0]

    def interrupted(evaluation) -> float:  # Ctrl-C while the second ticket is recorded
        calls[0] += 1
        if calls[0] == 2:
            raise KeyboardInterrupt
        return float(np.mean(evaluation.fitness))

    with ServingPool(store, deploy, kpi=interrupted) as serving:
        with pytest.raises(KeyboardInterrupt):
            serving.serve(requests)
        assert deploy.in_flight == 0 and sum(deploy.served.values()) == 16
    # inputs that do not give one genome a request: the caller's mistake, no evidence
    with ServingPool(store, deploy, inputs=lambda genome, r: genome[None]) as serving:
        with pytest.raises(ValidationError, match="inputs gave 1 genomes for"):
            serving.serve(requests)
        assert deploy.in_flight == 0 and sum(deploy.served.values()) == 24
