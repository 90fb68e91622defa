"""``chimera report RUN_DIR``: a summary of a run folder, and PNG plots of it.

It reads only what a run commits (the spec, ``history.parquet``, the genome store opened
read-only, ``result.json`` when complete), so it can watch a run that is still going.
Plots: ``convergence.png`` (best and mean fitness, or hypervolume and front size, per
generation) and, for two or three objectives, ``pareto.png`` (the non-dominated genomes of
the whole run over the true front when the problem knows it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from . import problems, runs
from . import spec as specs
from ._errors import ValidationError
from .evolution.pareto import pareto_rank
from .evolution.store import GenomeStore


def headline(summary: dict[str, Any]) -> str:
    """One line on a finished run's result."""
    tail = (
        f"after {summary['nfev']} evaluations, {summary['ngen']} generations, "
        f"{summary['elapsed_s']:.2f} s on the {summary['backend']} backend"
    )
    if "pareto_f" in summary:
        hv = summary.get("hypervolume")
        hv_text = "" if hv is None else f", hypervolume {hv:.6g} (ref {summary['ref_point']})"
        return f"{len(summary['pareto_f'])} Pareto points{hv_text} {tail}"
    return f"best {summary['fun']:.6g} (optimum {summary['optimum']}) {tail}"


def _front(run_dir: Path) -> tuple[np.ndarray, int]:
    """Objectives of the feasible non-dominated genomes stored so far, and how many genomes."""
    path = run_dir / runs.STORE
    if not path.is_file():
        return np.zeros((0, 0)), 0
    with GenomeStore(path, readonly=True) as store:
        table = store.runs()
        if table.num_rows == 0:
            return np.zeros((0, 0)), 0
        genomes = store.genomes(int(table.column("id")[0].as_py()))
    if genomes.num_rows == 0:
        return np.zeros((0, 0)), 0
    F = np.asarray(genomes.column("f").to_pylist(), dtype=np.float64)
    cv = genomes.column("cv").to_numpy()
    ok = (cv <= 0) & np.isfinite(F).all(axis=1)
    F = F[ok]
    if F.shape[0] == 0:
        return F, genomes.num_rows
    return np.unique(F[pareto_rank(F) == 0], axis=0), genomes.num_rows


def write(run_dir: Path, out: Path | None = None) -> tuple[str, list[Path]]:
    """The summary text of ``run_dir`` and the plots written (into ``out``, default run_dir)."""
    if not (run_dir / runs.SPEC).is_file():
        raise ValidationError(f"{run_dir} is not a Chimera run folder (it has no {runs.SPEC})")
    s = specs.load(run_dir / runs.SPEC)
    prob = problems.get(
        s.problem["name"], s.problem.get("dim"),
        **{k: v for k, v in s.problem.items() if k not in ("name", "dim", "ref_point")},
    )  # fmt: skip
    history = pq.read_table(run_dir / runs.HISTORY) if (run_dir / runs.HISTORY).is_file() else None
    result_path = run_dir / runs.RESULT
    summary = json.loads(result_path.read_text(encoding="utf-8")) if result_path.is_file() else None
    front, n_genomes = _front(run_dir) if prob.n_obj > 1 else (np.zeros((0, 0)), 0)

    done = history.num_rows if history is not None else 0
    lines = [
        f"run        {run_dir}",
        f"experiment {s.name}: {prob.name}, {prob.dim} variables, {prob.n_obj} objective(s), "
        f"{s.algorithm_name}, seed {s.seed}",
        f"status     {'complete' if summary else 'incomplete'}: {done} generations recorded",
    ]
    if summary:
        lines.append(f"result     {headline(summary)}")
    elif history is not None and done:
        last = history.slice(done - 1).to_pylist()[0]
        shown = {k: v for k, v in last.items() if k not in ("f_min", "f_max")}
        lines.append(f"last       {shown}")
    if prob.n_obj > 1:
        lines.append(f"archive    {len(front)} non-dominated of {n_genomes} stored genomes")

    out = run_dir if out is None else out
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if history is not None and done:
        written.append(_plot_convergence(history, prob.n_obj, out / "convergence.png"))
    if prob.n_obj in (2, 3) and len(front):
        true = prob.pareto_front(500 if prob.n_obj == 2 else 1000) if prob.pareto_front else None
        written.append(_plot_front(front, true, out / "pareto.png", prob.name))
    return "\n".join(lines), written


def _figure(**kwargs: Any) -> Any:
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    return Figure(figsize=(6.4, 4.8), layout="constrained", **kwargs)


def _plot_convergence(history: Any, n_obj: int, path: Path) -> Path:
    fig = _figure()
    ax = fig.add_subplot()
    nfev = history.column("nfev").to_numpy()
    if n_obj == 1:
        ax.plot(nfev, history.column("best").to_numpy(), label="best so far")
        ax.plot(nfev, history.column("mean").to_numpy(), label="population mean", alpha=0.6)
        ax.set_ylabel("fitness")
        if np.all(history.column("best").to_numpy() > 0):
            ax.set_yscale("log")
        ax.legend()
    else:
        hv = history.column("hypervolume").to_numpy(zero_copy_only=False)
        if np.isfinite(hv).any():
            ax.plot(nfev, hv, label="hypervolume")
            ax.set_ylabel("hypervolume of the population's front")
        else:
            ax.plot(nfev, history.column("front_size").to_numpy(), label="front size")
            ax.set_ylabel("non-dominated members")
    ax.set_xlabel("evaluations")
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=120)
    return path


def _plot_front(front: np.ndarray, true: np.ndarray | None, path: Path, name: str) -> Path:
    fig = _figure()
    m = front.shape[1]
    ax = fig.add_subplot(projection="3d" if m == 3 else None)
    if true is not None:
        t = true[np.lexsort(true.T[::-1])]
        if m == 2:
            ax.plot(t[:, 0], t[:, 1], ".", ms=1.5, color="0.6", label="true front")
        else:
            ax.scatter(*t.T, s=1, color="0.7", label="true front")
    ax.scatter(*front.T, s=10, color="C3", label="found (non-dominated)")
    ax.set_xlabel("f1")
    ax.set_ylabel("f2")
    if m == 3:
        ax.set_zlabel("f3")
    ax.set_title(f"{name}: Pareto front")
    ax.legend()
    fig.savefig(path, dpi=120)
    return path
