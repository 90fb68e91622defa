"""Reading a run folder: what it holds so far, and the non-dominated genomes in its store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .._errors import ValidationError
from ..evolution.pareto import pareto_rank
from ..evolution.store import GenomeStore
from ..pipeline import folder
from ..planning import Spec
from ..planning import load as load_spec


@dataclass
class Run:
    """What a run folder holds so far: None for a file not written yet or with no rows."""

    path: Path
    spec: Spec
    plan: dict[str, Any]
    result: dict[str, Any] | None
    history: pa.Table | None
    operators: pa.Table | None
    kpis: pa.Table | None
    deployments: dict[str, Any] | None

    @property
    def objective(self) -> dict[str, Any]:
        """kind, name, dim, n_obj: as planned, else as far as the spec tells."""
        o = self.spec.objective
        n_obj = o.n_obj or 1
        if self.history is not None and "f_min" in self.history.column_names:
            n_obj = len(self.history.column("f_min")[0].as_py())  # one entry per objective
        spec = {"kind": o.kind, "name": Path(o.target).stem if o.kind == "wasm" else o.target,
                "dim": o.dim, "n_obj": n_obj}  # fmt: skip
        return spec | dict(self.plan.get("objective") or {})

    @property
    def n_obj(self) -> int:
        return int(self.objective["n_obj"])

    @property
    def objective_sense(self) -> str:
        """Which way is better: "lower is better", or higher for a maximised objective."""
        o = self.spec.objective
        maximize = o.maximize
        if maximize is None and o.kind == "problem":
            try:
                from .. import problems

                maximize = problems.get(o.target, o.dim or 2, **o.options).maximize
            except Exception:  # the report describes; the run's own checks refused bad input
                maximize = None
        return "higher is better" if maximize else "lower is better"

    @property
    def arms(self) -> list[dict[str, Any]]:
        """Each operator arm's operators."""
        if self.result and self.result.get("operators"):
            return [dict(a["operators"]) for a in self.result["operators"]]
        return [] if self.spec.bandit is None else [dict(a) for a in self.spec.bandit.arms]

    def last(self) -> dict[str, Any] | None:
        """The newest history row."""
        if self.history is None:
            return None
        return dict(self.history.slice(self.history.num_rows - 1).to_pylist()[0])

    def version_metadata(self, version: Any) -> dict[str, Any]:
        """A deployed version's artifact metadata (name, generation, training fitness); empty
        when the artifact is missing or its metadata was not written by a run."""
        path = self.path / "artifacts" / str(version) / "metadata.json"
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return meta if isinstance(meta, dict) else {}

    def verdicts(self) -> list[dict[str, Any]]:
        """The canaries' verdicts in order (with their generation when deployments.json has it)."""
        if self.deployments and self.deployments.get("verdicts") is not None:
            return list(self.deployments["verdicts"])
        events = (self.result or {}).get("deployment", {}).get("events", [])
        return [e for e in events if e.get("event") != "canary"]


def number(value: Any) -> TypeGuard[float]:
    """Whether a value read from a run's JSON is a number (not a bool, not a string)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def load(run_dir: Path) -> Run:
    """The run in ``run_dir``; ValidationError when it is not a run folder or a file is damaged."""
    if not (run_dir / folder.SPEC).is_file():
        raise ValidationError(
            f"{run_dir} is not a Chimera run folder (it has no {folder.SPEC}); give the folder "
            "that `chimera run` wrote into (its --out)"
        )
    plan = _json(run_dir / folder.PLAN) or {}
    # The copy's relative paths (a wasm module) resolve from where the spec was written.
    spec = load_spec(run_dir / folder.SPEC, where=plan.get("spec_path"))
    return Run(
        run_dir, spec, plan, _json(run_dir / folder.RESULT), _table(run_dir / folder.HISTORY),
        _table(run_dir / folder.OPERATORS), _table(run_dir / folder.KPIS),
        _json(run_dir / folder.DEPLOYMENTS),
    )  # fmt: skip


def _json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path} cannot be read as JSON: {exc}") from exc


def _table(path: Path) -> pa.Table | None:
    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise ValidationError(f"{path} cannot be read as Parquet: {exc}") from exc
    return table if table.num_rows else None


def front(run_dir: Path) -> tuple[np.ndarray, int]:
    """Objectives of the feasible non-dominated genomes stored so far, and how many genomes."""
    path = run_dir / folder.STORE
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
    F = F[(cv <= 0) & np.isfinite(F).all(axis=1)]
    if F.shape[0] == 0:
        return F, genomes.num_rows
    return np.unique(F[pareto_rank(F) == 0], axis=0), genomes.num_rows
