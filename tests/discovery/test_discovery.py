"""Discovery (Layer 1): the machine snapshot never fails and reads NVML right, the probe's
cost model is measured and predicts, the KPI collectors read every source into the KPI
schema, and ``chimera discover`` prints it."""

from __future__ import annotations

import builtins
import datetime as dt
import json
import os
import sys
import urllib.error
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

import chimera
from chimera import ChimeraError, ValidationError, kpi, problems
from chimera.cli import main
from chimera.discovery import (
    CostModel,
    EnvSnapshot,
    GpuInfo,
    Line,
    discover,
    from_file,
    from_prometheus,
    probe,
    process_stats,
)
from chimera.execution import Metrics, WasmAgent
from helpers import AGENTS

AVAILABLE = [name for name, s in chimera.backends().items() if s.available]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIMERA_WASM_CACHE", str(tmp_path / "cache"))


# The snapshot ----------------------------------------------------------------------------


def test_discover_reports_this_machine() -> None:
    snap = discover()
    assert isinstance(snap, EnvSnapshot) and snap is not None
    assert snap.cores_logical == os.cpu_count()
    assert snap.cores_physical is None or 1 <= snap.cores_physical <= snap.cores_logical
    assert snap.memory_total and 0 < snap.memory_available <= snap.memory_total
    assert snap.cpu_model and snap.machine and snap.python
    assert set(snap.simd) <= {"sse2", "sse4_2", "avx", "avx2", "fma", "avx512f", "neon",
                              "asimd", "sve"}  # fmt: skip
    if snap.machine in ("x86_64", "AMD64"):
        assert "sse2" in snap.simd  # the x86-64 baseline
    assert [b.name for b in snap.backends] == ["cuda", "cpp", "numba"]
    assert snap.available_backends == tuple(AVAILABLE)
    assert snap.chimera == chimera.__version__
    assert snap.wasmtime and snap.numpy == np.__version__
    if not snap.cuda_usable:
        assert snap.cuda_note and snap.cuda_note != "ok"
    if not snap.gpus:  # the machine the tests usually run on: said plainly, not raised
        assert snap.gpu_note and snap.nvidia_driver is None


def test_to_dict_is_json_ready() -> None:
    data = json.loads(json.dumps(discover().to_dict()))
    assert data["backends"]["cpp"] == {"available": True, "reason": "ok"}
    assert isinstance(data["gpus"], list) and isinstance(data["simd"], list)
    assert data["cores_logical"] == os.cpu_count()


def test_no_pynvml_is_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_pynvml(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pynvml":
            raise ImportError("No module named 'pynvml'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_pynvml)
    snap = discover()
    assert snap.gpus == () and "nvidia-ml-py" in snap.gpu_note


def test_nvml_init_failure_is_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    class NVMLError(Exception):
        """What NVML raises when no driver is loaded."""

    def init() -> None:
        raise NVMLError("Driver Not Loaded")

    monkeypatch.setitem(sys.modules, "pynvml", SimpleNamespace(nvmlInit=init))
    snap = discover()
    assert snap.gpus == () and snap.gpu_note == "no NVIDIA driver: Driver Not Loaded"


def fake_nvml(utilization_fails: bool = False) -> SimpleNamespace:
    shut = []

    def utilization(handle: str) -> SimpleNamespace:
        if utilization_fails:
            raise RuntimeError("Not Supported")
        return SimpleNamespace(gpu=37, memory=5)

    return SimpleNamespace(
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: shut.append(True),
        nvmlSystemGetDriverVersion=lambda: b"580.65.06",
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda i: f"handle{i}",
        nvmlDeviceGetName=lambda h: "NVIDIA H100 80GB HBM3" if h == "handle0" else "?",
        nvmlDeviceGetMemoryInfo=lambda h: SimpleNamespace(
            total=85 * 2**30, free=80 * 2**30, used=5 * 2**30
        ),
        nvmlDeviceGetUtilizationRates=utilization,
        nvmlDeviceGetCudaComputeCapability=lambda h: (9, 0),
        shut=shut,
    )


def test_gpus_are_read_from_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    nvml = fake_nvml()
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    snap = discover()
    assert snap.gpus == (
        GpuInfo(index=0, name="NVIDIA H100 80GB HBM3", memory_total=85 * 2**30,
                memory_free=80 * 2**30, utilization=37.0, compute_capability="9.0"),
    )  # fmt: skip
    assert snap.nvidia_driver == "580.65.06" and snap.gpu_note == ""
    assert nvml.shut == [True]  # NVML is released after the query
    assert json.loads(json.dumps(snap.to_dict()))["gpus"][0]["compute_capability"] == "9.0"


def test_a_field_nvml_cannot_give_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(utilization_fails=True))
    (gpu,) = discover().gpus
    assert gpu.utilization is None and gpu.memory_free == 80 * 2**30


def test_failing_probes_leave_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    from chimera.discovery import snapshot

    def broken() -> None:
        raise OSError("no /proc here")

    monkeypatch.setattr(snapshot, "_cpuinfo", broken)
    monkeypatch.setattr(snapshot, "_backend_statuses", broken)
    snap = snapshot.discover()
    expected = ["backends: OSError: no /proc here"]
    if sys.platform == "linux":
        expected.insert(0, "/proc/cpuinfo: OSError: no /proc here")
    assert [n for n in snap.notes if "no /proc here" in n] == expected
    assert snap.cpu_model  # the platform module stands in
    assert snap.backends == () and not snap.cuda_usable and snap.cuda_note


# The probe -------------------------------------------------------------------------------


def test_probe_measures_a_numpy_objective() -> None:
    bounds = [[-5.0, 5.0]] * 8
    model = probe(problems.sphere, bounds, workers=[1, 2], seconds=0.03, batch=512)
    assert isinstance(model, CostModel) and model.dim == 8
    assert model.workers == (1, 2) and model.backends == tuple(AVAILABLE)
    for k in (1, 2):
        assert model.evaluations_per_second(k) > 0
    for name in AVAILABLE:
        line = model.breeding[name]
        assert line.fixed >= 0 and line.per_item > 0
        small, large = (model.seconds_per_generation(p, name, 2) for p in (10, 10_000))
        assert 0 < small < large
    assert model.evaluation_seconds(100, 3) == model.evaluation_seconds(100, 2)  # no extrapolation
    json.dumps(model.to_dict())


@pytest.mark.parametrize(
    ("algorithm", "n_obj"),
    [(a.name, m) for a in chimera.algorithms.ALGORITHMS.values()
     for m in ((2, 3, 5) if a.multi_objective else (1,))],
)  # fmt: skip
def test_probe_times_every_algorithms_generations(algorithm: str, n_obj: int) -> None:
    # MOEA/D asks a tenth of its population after the first generation (told as many rows),
    # holds at least a weight vector per objective, and its lattice may be smaller than the
    # size asked (40 at 3 objectives: 36), which the probe must not rebuild on every call
    def objectives(X: np.ndarray) -> np.ndarray:
        return X[:, :n_obj] if n_obj > 1 else X.sum(axis=1)

    model = probe(objectives, [[0.0, 1.0]] * 6, workers=[1], backends=["cpp"], seconds=0.02,
                  batch=40, algorithm=algorithm, n_obj=n_obj)  # fmt: skip
    assert model.breeding["cpp"].per_item >= 0 and model.breeding["cpp"](40) > 0


def test_probe_builds_an_optimizer_once_a_size(monkeypatch: pytest.MonkeyPatch) -> None:
    built = []
    real = chimera.algorithms.create

    def counting(name: str, *args: Any, **kw: Any) -> Any:
        built.append(kw["pop_size"])
        return real(name, *args, **kw)

    monkeypatch.setattr(chimera.algorithms, "create", counting)
    probe(lambda X: X[:, :3], [[0.0, 1.0]] * 6, workers=[1], backends=["cpp"], seconds=0.02,
          batch=40, algorithm="moead", n_obj=3)  # fmt: skip
    # 4, 16 and 40 ask for 3, 15 and 36 weight vectors: one build each time the fit sets up a
    # size (40 twice), not one a timed generation
    assert max(built.count(n) for n in built) <= 2


def test_probe_measures_a_wasm_agent_on_each_worker_count() -> None:
    agent = WasmAgent(AGENTS / "rastrigin.wasm", dim=6)
    model = probe(agent, [[-5.12, 5.12]] * 6, workers=[1, 2], backends=["cpp"], seconds=0.02)
    assert model.workers == (1, 2) and model.backends == ("cpp",)
    assert all(model.evaluations_per_second(k) > 0 for k in (1, 2))
    assert model.seconds_per_generation(50, "cpp", 1) < model.seconds_per_generation(500, "cpp", 1)


def test_probe_default_is_quick() -> None:
    probe(problems.sphere, [[-1.0, 1.0]] * 4)  # warm: the numba kernels compile once
    model = probe(problems.sphere, [[-1.0, 1.0]] * 4)
    assert model.seconds < 5.0  # about 0.1 s: the budget holds, with room for a busy machine


def test_probe_refuses_bad_input() -> None:
    bounds = [[-1.0, 1.0]] * 3
    with pytest.raises(ValidationError, match="one result per row"):
        probe(lambda X: 0.0, bounds, workers=[1], backends=[])
    with pytest.raises(ValidationError, match="each worker count must be a positive integer"):
        probe(problems.sphere, bounds, workers=[0])
    for bad in (float("inf"), "x", 0):  # an endless probe, or none
        with pytest.raises(ValidationError, match="seconds must be finite seconds > 0"):
            probe(problems.sphere, bounds, workers=[1], seconds=bad)
    model = probe(problems.sphere, bounds, workers=[1], backends=["cpp"], seconds=0.005)
    with pytest.raises(ValidationError, match="not probed"):
        model.seconds_per_generation(10, "cuda", 1)


def test_line_interpolates_worker_counts() -> None:
    model = CostModel(2, {1: Line(0.0, 2.0), 4: Line(1.0, 0.5)}, {"cpp": Line(0.0, 0.0)}, 0.0)
    assert model.evaluation_seconds(10, 2) == pytest.approx(2 / 3 * 20 + 1 / 3 * 6)
    assert model.evaluation_seconds(10, 8) == 6
    assert Line.through(10, 1.0, 100, 0.5) == Line(0.0, 0.005)  # noise: all per-item


# The collectors --------------------------------------------------------------------------

ROWS = [
    {"agent_id": "cartpole", "version": "v1", "metric": "reward", "value": 200.0,
     "timestamp": "2025-01-02T03:04:05+00:00", "tags": {"region": "eu"}},
    {"agent_id": "cartpole", "version": "v2", "metric": "reward", "value": 180.5,
     "timestamp": "2025-01-02T03:04:06+00:00"},
]  # fmt: skip


def test_parquet_csv_and_arrow_files_round_trip(tmp_path: Path) -> None:
    table = kpi.records(ROWS)
    pq.write_table(table, tmp_path / "k.parquet")
    feather.write_feather(table, tmp_path / "k.arrow")
    with (
        pa.OSFile(str(tmp_path / "k.ipc"), "wb") as sink,
        pa.ipc.new_stream(sink, table.schema) as writer,
    ):
        writer.write_table(table)
    csv = table.drop_columns(["tags"]).append_column("tags", pa.array(['{"region": "eu"}', ""]))
    pcsv.write_csv(csv, tmp_path / "k.csv")
    for name in ("k.parquet", "k.arrow", "k.ipc", "k.csv"):
        assert from_file(tmp_path / name).equals(table), name
    (tmp_path / "bad.arrow").write_bytes(b"not arrow")
    with pytest.raises(ValidationError, match="not an Arrow IPC"):
        from_file(tmp_path / "bad.arrow")
    with pytest.raises(ValidationError, match="no KPI file"):
        from_file(tmp_path / "missing.feather")


SAMPLE = """\
# HELP reward_total Reward collected
# TYPE reward_total counter
reward_total{agent="cartpole",version="v2",region="eu"} 412.5 1700000000000
reward_created{agent="cartpole",version="v2",region="eu"} 1.7e9
# TYPE latency_seconds gauge
latency_seconds{model="x"} 0.25
latency_seconds{model="y"} NaN
"""


def test_prometheus_text() -> None:
    rows = from_prometheus(SAMPLE).to_pylist()
    assert len(rows) == 2  # _created and NaN are not KPIs
    reward, latency = rows
    assert (reward["agent_id"], reward["version"], reward["metric"], reward["value"]) == (
        "cartpole", "v2", "reward_total", 412.5)  # fmt: skip
    assert reward["timestamp"] == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)
    assert reward["tags"] == [("region", "eu")]
    assert (latency["agent_id"], latency["version"], latency["tags"]) == (
        "prometheus", "unknown", [("model", "x")])  # fmt: skip
    relabelled = from_prometheus(SAMPLE, agent_label="model").to_pylist()
    assert relabelled[1]["agent_id"] == "x"
    with pytest.raises(ValidationError, match="not Prometheus exposition"):
        from_prometheus("this is { not metrics")


def test_prometheus_endpoint() -> None:
    metrics = Metrics()
    metrics.record("rastrigin", 10, 0.5, ["out of fuel"])
    endpoint = metrics.serve()
    try:
        table = from_prometheus(endpoint.url)
    finally:
        endpoint.close()
    assert table.schema.equals(kpi.KPI_SCHEMA)
    rows = {(r["agent_id"], r["metric"]): r for r in table.to_pylist()}
    assert rows[("rastrigin", "chimera_evaluations_total")]["value"] == 10
    traps = rows[("rastrigin", "chimera_sandbox_traps_total")]
    assert traps["value"] == 1 and dict(traps["tags"]) == {"reason": "out of fuel"}
    assert ("127.0.0.1:" + str(endpoint.port), "chimera_queue_depth") in rows
    with pytest.raises(ChimeraError, match="could not read Prometheus metrics") as err:
        from_prometheus(endpoint.url, timeout=1.0)  # closed now
    assert isinstance(err.value.__cause__, (urllib.error.URLError, OSError))


def test_process_stats() -> None:
    table = process_stats(interval=0.01)
    assert table.schema.equals(kpi.KPI_SCHEMA)
    values = {r["metric"]: r["value"] for r in table.to_pylist()}
    assert values["rss_bytes"] > 1e6 and values["threads"] >= 1 and values["cpu_seconds"] > 0
    assert values["cpu_percent"] >= 0
    if sys.platform != "win32":
        assert values["open_files"] >= 3  # stdin, stdout, stderr at least
    row = table.to_pylist()[0]
    assert dict(row["tags"])["pid"] == str(os.getpid())
    assert process_stats(interval=None).num_rows >= 4  # psutil's reading without blocking
    assert process_stats(agent_id="worker", interval=0.0).column("agent_id")[0].as_py() == "worker"
    with pytest.raises(ChimeraError, match="no statistics for process"):
        process_stats(2**22 + 12345)


# The command -----------------------------------------------------------------------------


def test_cli_discover_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discover", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cores_logical"] == os.cpu_count() and "probe" not in data
    assert data["backends"]["cpp"]["available"]


def test_cli_discover_table_and_probe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discover", "--probe"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cpu ") and "backends" in out and "1 worker(s)" in out
    assert "cpp breed" in out and "probe took" in out


def test_cli_discover_shows_each_gpu(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml())
    assert main(["discover"]) == 0
    out = capsys.readouterr().out
    assert "NVIDIA H100 80GB HBM3, sm 9.0, 80.0 GiB free of 85.0 GiB, 37% busy" in out
