"""Helpers shared by the multi-objective benchmark scripts (bench_pareto, bench_nsga2,
bench_mo_quality, bench_many_objectives): result files, timing, availability of the reference libraries, and the
ZDT1 objective written once so that every library evaluates the same arithmetic."""

from __future__ import annotations

import datetime as _dt
import importlib.util
import json
import os
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from _common import _json_default, machine, mann_whitney, median, versions, write_results

#: Extra distributions recorded by the multi-objective benchmarks (beside _common.PACKAGES).
MOO_PACKAGES = ("moocore", "scipy")


def all_versions() -> dict[str, str | None]:
    out = versions()
    for name in MOO_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def available(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


def save(kind: str, payload: dict[str, Any], path: str | None) -> Path:
    """Write the results: to ``path`` when given (``--json``), else to the house-style
    results/<date>_<time>_<kind>.json. The machine and every library version are included."""
    if path is None:
        return write_results(kind, {**payload, "versions_moo": all_versions()})
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": kind,
        "timestamp": _dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": all_versions(),
        **payload,
    }
    out.write_text(json.dumps(doc, indent=2, default=_json_default) + "\n", encoding="utf-8")
    return out


def loadavg() -> list[float] | None:
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result) of one call of ``fn``."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def spread(values: list[float]) -> float:
    """(max - min) / median of a list of timings: the noise of a row, as a fraction."""
    if not values:
        return float("nan")
    m = float(np.median(values))
    return (max(values) - min(values)) / m if m > 0 else float("nan")


# --------------------------------------------------------------------------------------------
# ZDT1 (Zitzler, Deb and Thiele 2000): x in [0, 1]^d, f1 = x1, g = 1 + 9 mean(x2..xd),
# f2 = g (1 - sqrt(f1 / g)). The same formula, vectorised and per individual.
# --------------------------------------------------------------------------------------------


def zdt1(X: np.ndarray) -> np.ndarray:
    """ZDT1 of the rows of X, (n, d) -> (n, 2)."""
    f1 = X[:, 0]
    g = 1.0 + 9.0 * X[:, 1:].sum(axis=1) / (X.shape[1] - 1)
    out = np.empty((X.shape[0], 2))
    out[:, 0] = f1
    out[:, 1] = g * (1.0 - np.sqrt(f1 / g))
    return out


def zdt1_one(x: Any) -> tuple[float, float]:
    """ZDT1 of one individual, plain Python (what DEAP's examples evaluate, one at a time)."""
    f1 = x[0]
    g = 1.0 + 9.0 * sum(x[1:]) / (len(x) - 1)
    return f1, g * (1.0 - (f1 / g) ** 0.5)


def quality_runs(run: Callable[[int], tuple[np.ndarray, int]], seeds: int,
                 hypervolume: Callable[[np.ndarray], float], igd_plus: Callable[[np.ndarray], float],
                 each: Callable[[int, float, float, float], None] | None = None,
                 ) -> dict[str, Any]:  # fmt: skip
    """A library's runs on one problem, ``run(seed) -> (F, evaluations)`` for seeds 0, 1, ...:
    the per-seed hypervolumes, IGD+ values, seconds and evaluations, and their medians and
    extremes. ``each(seed, igd, hv, seconds)`` is told of every run as it ends."""
    hv, igd, secs, evals = [], [], [], []
    for s in range(seeds):
        t0 = time.perf_counter()
        F, nfev = run(s)
        secs.append(time.perf_counter() - t0)
        hv.append(hypervolume(F))
        igd.append(igd_plus(F))
        evals.append(nfev)
        if each is not None:
            each(s, igd[-1], hv[-1], secs[-1])
    return {"evaluations": evals, "hypervolume": hv, "igd_plus": igd, "seconds": secs,
            "hv_median": median(hv), "hv_min": min(hv), "hv_max": max(hv),
            "igd_plus_median": median(igd), "igd_plus_min": min(igd), "igd_plus_max": max(igd),
            "seconds_median": median(secs)}  # fmt: skip


def compare_with(rows: list[dict[str, Any]], reference: str, p_hv: str, p_igd: str) -> None:
    """Adds to each row the Mann-Whitney p of its hypervolumes and IGD+ values against the
    ``reference`` library's (None for the reference itself, or when it did not run)."""
    ref = next((r for r in rows if r["library"] == reference), None)
    for r in rows:
        if ref is None or r is ref:
            r[p_hv] = r[p_igd] = None
            continue
        r[p_hv] = mann_whitney(ref["hypervolume"], r["hypervolume"])
        r[p_igd] = mann_whitney(ref["igd_plus"], r["igd_plus"])
