"""Helpers shared by the benchmark scripts: environment description, result files, tables."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import statistics
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"

#: Distributions whose versions every result file records.
PACKAGES = (
    "chimera-engine",
    "numpy",
    "numba",
    "deap",
    "pymoo",
    "pygmo",
    "evosax",
    "jax",
    "jaxlib",
)


def versions() -> dict[str, str | None]:
    """Installed version of each package in PACKAGES (None where it is not installed)."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        # other processes compete for the cores: the load when the results were written
        "loadavg_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def write_results(kind: str, payload: dict[str, Any]) -> Path:
    """Write ``payload`` as JSON to results/<date>_<time>_<kind>.json and return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    now = _dt.datetime.now()
    path = RESULTS_DIR / f"{now:%Y-%m-%d_%H%M%S}_{kind}.json"
    doc = {
        "benchmark": kind,
        "timestamp": now.isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        **payload,
    }
    path.write_text(json.dumps(doc, indent=2, default=_json_default) + "\n", encoding="utf-8")
    return path


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table through rich when it is installed, plain aligned text otherwise."""
    cells = [[_fmt(v) for v in row] for row in rows]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is a chimera dependency
        widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
        print(title)
        print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
        for r in cells:
            print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
        return
    table = Table(title=title)
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i == 0 else "right")
    for r in cells:
        table.add_row(*r)
    Console(width=max(170, Console().width)).print(table)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if v != v:  # NaN
            return "-"
        if v == 0.0:
            return "0"
        if abs(v) >= 1e5 or abs(v) < 1e-3:
            return f"{v:.3e}"
        if abs(v) >= 100:
            return f"{v:.1f}"
        return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"
    return str(v)


def mann_whitney(a: list[float], b: list[float]) -> float | None:
    """Two-sided Mann-Whitney U p-value (None without scipy)."""
    try:
        from scipy.stats import mannwhitneyu
    except ImportError:
        return None
    if np.allclose(a, b):
        return 1.0
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
