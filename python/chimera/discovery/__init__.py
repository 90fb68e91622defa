"""Discovery: what this machine offers and what work costs on it.

- :func:`discover` -> :class:`EnvSnapshot`: CPU model, cores, SIMD features, memory, NVIDIA
  GPUs (NVML), whether CUDA is usable, the kernel backends that work, runtime versions; it
  never raises, a probe that fails leaves a note;
- :func:`probe` -> :class:`CostModel`: a few milliseconds timing an objective on each worker
  count and the GA's breeding on each backend, the cost model planning predicts with;
- :mod:`~chimera.discovery.collectors`: KPI records (:mod:`chimera.kpi`) from Parquet, CSV and
  Arrow files, Prometheus exposition text or endpoints, and process statistics.

``chimera discover [--json] [--probe]`` prints the snapshot.
"""

from __future__ import annotations

from . import collectors
from .collectors import from_file, from_prometheus, process_stats
from .probes import CostModel, Line, probe
from .snapshot import EnvSnapshot, GpuInfo, discover

__all__ = [
    "CostModel",
    "EnvSnapshot",
    "GpuInfo",
    "Line",
    "collectors",
    "discover",
    "from_file",
    "from_prometheus",
    "probe",
    "process_stats",
]
