"""What this machine offers, as one frozen :class:`EnvSnapshot`: the CPU (model, SIMD
features, logical and physical cores), memory, NVIDIA GPUs (through NVML, the driver's own
management library), whether CUDA is usable, which kernel backends work, and the versions of
the runtimes Chimera leans on.

Every probe is guarded: on a machine without a GPU, a driver, ``/proc`` or psutil the snapshot
still comes back, with a plain note saying what was missing, never an exception. Nothing here
initialises CUDA itself; the CUDA check is the backend's own (``cuda_status()``, which clears
any error it meets).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import importlib.util
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from .._backend import BackendStatus
from .._backend import backends as _backend_statuses

T = TypeVar("T")

# The SIMD features that decide how fast NumPy, Numba and the C++ kernels run, as Linux names
# them in /proc/cpuinfo (x86 "flags", Arm "Features").
SIMD_FLAGS = ("sse2", "sse4_2", "avx", "avx2", "fma", "avx512f", "neon", "asimd", "sve")
# NumPy's names for the same features, for platforms without /proc/cpuinfo.
_NUMPY_FEATURES = {"SSE2": "sse2", "SSE42": "sse4_2", "AVX": "avx", "AVX2": "avx2",
                   "FMA3": "fma", "AVX512F": "avx512f", "NEON": "neon", "ASIMD": "asimd",
                   "SVE": "sve"}  # fmt: skip


@dataclass(frozen=True)
class GpuInfo:
    """One NVIDIA GPU as NVML reports it; a field NVML cannot give on this device is None."""

    index: int
    name: str
    memory_total: int | None  # bytes
    memory_free: int | None  # bytes
    utilization: float | None  # percent of the last sample period the GPU was busy
    compute_capability: str | None  # "major.minor", e.g. "9.0"


@dataclass(frozen=True)
class EnvSnapshot:
    """The machine, as :func:`discover` found it. ``notes`` lists every probe that failed,
    with why; ``gpu_note`` and ``cuda_note`` say why there are no GPUs or no usable CUDA."""

    cpu_model: str
    machine: str  # the architecture, e.g. x86_64, arm64
    system: str  # the operating system, e.g. Linux
    cores_logical: int
    cores_physical: int | None
    simd: tuple[str, ...]
    memory_total: int | None  # bytes
    memory_available: int | None  # bytes
    gpus: tuple[GpuInfo, ...]
    gpu_note: str  # empty when NVML found GPUs
    nvidia_driver: str | None
    cuda_built: bool  # chimera was compiled with its CUDA module
    cuda_usable: bool  # ... and that module found a working device
    cuda_note: str
    backends: tuple[BackendStatus, ...]
    python: str
    numpy: str | None
    chimera: str | None
    wasmtime: str | None
    cupy: str | None
    notes: tuple[str, ...] = ()

    @property
    def available_backends(self) -> tuple[str, ...]:
        """The kernel backends that work here, in the order ``chimera.backends()`` lists."""
        return tuple(b.name for b in self.backends if b.available)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (lists, dicts, strings, numbers, None)."""
        out = asdict(self)
        out["gpus"] = [asdict(g) for g in self.gpus]
        out["backends"] = {b.name: {"available": b.available, "reason": b.reason}
                           for b in self.backends}  # fmt: skip
        out["simd"], out["notes"] = list(self.simd), list(self.notes)
        return out


def _guarded(notes: list[str], what: str, probe: Callable[[], T], default: T) -> T:
    """probe(), or ``default`` with a note saying why it failed: discovery never raises."""
    try:
        return probe()
    except Exception as exc:  # any failure of a probe is a fact about the machine
        notes.append(f"{what}: {type(exc).__name__}: {exc}")
        return default


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (Linux), plus any machine-wide ones."""
    fields: dict[str, str] = {}
    for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    return fields


def _cpu(notes: list[str]) -> tuple[str, tuple[str, ...]]:
    """The CPU model and its SIMD features that matter here."""
    info: dict[str, str] = (
        _guarded(notes, "/proc/cpuinfo", _cpuinfo, {}) if sys.platform == "linux" else {}
    )
    model = (info.get("model name") or info.get("Hardware") or info.get("Model")
             or platform.processor() or platform.machine() or "unknown")  # fmt: skip
    flags = set((info.get("flags") or info.get("Features") or "").split())
    if not flags:
        flags = _guarded(notes, "NumPy CPU features", _numpy_features, set())
    return model, tuple(f for f in SIMD_FLAGS if f in flags)


def _numpy_features() -> set[str]:
    """SIMD features as NumPy's runtime dispatch detected them (its private table)."""
    try:
        umath = importlib.import_module("numpy._core._multiarray_umath")
    except ImportError:  # NumPy 1.x
        umath = importlib.import_module("numpy.core._multiarray_umath")
    found: dict[str, bool] = umath.__cpu_features__
    return {name for key, name in _NUMPY_FEATURES.items() if found.get(key)}


def _cores_and_memory(
    notes: list[str],
) -> tuple[int, int | None, int | None, int | None]:
    logical = os.cpu_count() or 1
    try:
        import psutil
    except ImportError as exc:
        notes.append(f"psutil: {exc}; physical cores and memory unknown (pip install psutil)")
        return logical, None, None, None
    physical = _guarded(notes, "physical cores", lambda: psutil.cpu_count(logical=False), None)
    memory = _guarded(notes, "memory", psutil.virtual_memory, None)
    if memory is None:
        return logical, physical, None, None
    return logical, physical, int(memory.total), int(memory.available)


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _gpus() -> tuple[tuple[GpuInfo, ...], str | None, str]:
    """(GPUs, driver version, note) from NVML; the note says why there are none."""
    try:
        import pynvml
    except ImportError as exc:
        return (), None, f"NVML bindings missing ({exc}); pip install nvidia-ml-py"
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound, _DriverNotLoaded, ...
        return (), None, f"no NVIDIA driver: {exc}"
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        gpus = tuple(_gpu(pynvml, i) for i in range(int(pynvml.nvmlDeviceGetCount())))
    except Exception as exc:
        return (), None, f"NVML failed: {type(exc).__name__}: {exc}"
    finally:
        with contextlib.suppress(Exception):  # nothing to release after a failed query
            pynvml.nvmlShutdown()
    return gpus, driver, "" if gpus else f"the NVIDIA driver ({driver}) reports no GPU"


def _gpu(nvml: ModuleType, index: int) -> GpuInfo:
    handle = nvml.nvmlDeviceGetHandleByIndex(index)

    def field(query: Callable[[], T]) -> T | None:
        try:  # e.g. utilisation is not supported on a MIG slice
            return query()
        except Exception:
            return None

    memory = field(lambda: nvml.nvmlDeviceGetMemoryInfo(handle))
    busy = field(lambda: nvml.nvmlDeviceGetUtilizationRates(handle))
    capability = field(lambda: nvml.nvmlDeviceGetCudaComputeCapability(handle))
    return GpuInfo(
        index=index,
        name=_text(nvml.nvmlDeviceGetName(handle)),
        memory_total=None if memory is None else int(memory.total),
        memory_free=None if memory is None else int(memory.free),
        utilization=None if busy is None else float(busy.gpu),
        compute_capability=None if capability is None else "{}.{}".format(*capability),
    )


def _cuda(backends: dict[str, BackendStatus], notes: list[str]) -> tuple[bool, bool, str]:
    """(built with CUDA, usable, why not / "ok"): the build marker, then the backend's own
    device check."""

    def built() -> bool:
        from .. import _build_config

        return bool(_build_config.HAS_CUDA)

    has_cuda = _guarded(notes, "build marker", built, False)
    status = backends.get("cuda")
    if status is None:
        return has_cuda, False, "the cuda backend could not be checked"
    return has_cuda, has_cuda and status.available, status.reason


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cupy_version() -> str | None:
    """CuPy's version, found without importing it (its wheels are named per CUDA release)."""
    if importlib.util.find_spec("cupy") is None:
        return None
    for dist in importlib.metadata.packages_distributions().get("cupy", []):
        return _version(dist)
    return "unknown"


def _chimera_version() -> str:
    from .. import __version__

    return __version__


def discover() -> EnvSnapshot:
    """A snapshot of this machine. Never raises: a probe that fails leaves a note instead."""
    notes: list[str] = []
    model, simd = _cpu(notes)
    logical, physical, mem_total, mem_available = _cores_and_memory(notes)
    none: tuple[tuple[GpuInfo, ...], str | None, str] = ((), None, "the GPU probe failed")
    gpus, driver, gpu_note = _guarded(notes, "GPUs", _gpus, none)
    statuses: dict[str, BackendStatus] = _guarded(notes, "backends", _backend_statuses, {})
    cuda_built, cuda_usable, cuda_note = _cuda(statuses, notes)
    return EnvSnapshot(
        cpu_model=model,
        machine=platform.machine() or "unknown",
        system=platform.system() or "unknown",
        cores_logical=logical,
        cores_physical=physical,
        simd=simd,
        memory_total=mem_total,
        memory_available=mem_available,
        gpus=gpus,
        gpu_note=gpu_note,
        nvidia_driver=driver,
        cuda_built=cuda_built,
        cuda_usable=cuda_usable,
        cuda_note=cuda_note,
        backends=tuple(statuses.values()),
        python=platform.python_version(),
        numpy=_version("numpy"),
        chimera=_guarded(notes, "chimera version", _chimera_version, None),
        wasmtime=_version("wasmtime"),
        cupy=_guarded(notes, "cupy version", _cupy_version, None),
        notes=tuple(notes),
    )
