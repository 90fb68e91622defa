"""A spec's run: discovery, planning and validation, then :class:`chimera.loop.Loop` with the
stages the spec asks for (the operator bandit, the genome store, the canary, checkpoints),
within its budgets, into a run folder; the report at the end.

A run killed at any moment resumes from its newest readable checkpoint: the store drops what
was committed after it, and the counter-based generators replay the same generations, so the
finished run equals one that was never interrupted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import _backend
from .._durable import write_atomic
from .._errors import RunFailed, ValidationError
from .._validate import boolean, choice
from .._validate import path as path_
from ..evaluation import AgentEvaluator, Evaluator
from ..evolution import checkpoints
from ..evolution.store import GenomeStore
from ..execution import AgentPool
from ..history import History
from ..loop import Evaluate, Loop
from ..optimize import OptimizeResult
from ..planning import Plan, Spec, load
from ..validation import ValidatedPlan, validate
from . import folder
from .bandit import OperatorBandit
from .canary import Canary
from .lineage import Lineage

# history.parquet is for watching a run (the checkpoint holds the history too): rewriting it
# every generation would cost more than the rest of the bookkeeping on short generations.
HISTORY_EVERY_S = 1.0


@dataclass
class Outcome:
    """What ``start``/``resume`` did: the folder, the summary, and how the run went."""

    run_dir: Path
    summary: dict[str, Any]
    plan: Plan | None = None
    resumed_from: int | None = None
    skipped: tuple[str, ...] = ()
    already_complete: bool = False


def _with_backend(spec: Spec, backend: str | None) -> Spec:
    if backend is None:
        return spec
    choice(backend, "backend", ("auto", *_backend.NAMES))
    options = {k: v for k, v in spec.options.items() if k != "backend"}
    resources = dataclasses.replace(spec.resources, backend=backend)
    return dataclasses.replace(spec, options=options, resources=resources)


def start(spec_path: str | Path, run_dir: Path, *, backend: str | None = None,
          progress: bool = False, probe: bool = True) -> Outcome:  # fmt: skip
    """Validate the spec at ``spec_path`` and run it in the new folder ``run_dir`` (refused if
    it holds anything): :func:`prepare`, then :func:`execute`."""
    boolean(progress, "progress")
    run_dir = path_(run_dir, "run_dir")
    validated = prepare(spec_path, run_dir, backend=backend, probe=probe)
    return execute(run_dir, validated, progress=progress)


def prepare(spec_path: str | Path, run_dir: Path, *, backend: str | None = None,
            probe: bool = True) -> ValidatedPlan:  # fmt: skip
    """Validates the spec at ``spec_path`` and starts the run folder ``run_dir`` with its
    plan: what :func:`execute` runs (the CLI shows the plan in between)."""
    spec_path, run_dir = path_(spec_path, "spec_path"), path_(run_dir, "run_dir")
    boolean(probe, "probe")
    spec = load(spec_path)
    if run_dir.exists() and not run_dir.is_dir():
        raise ValidationError(f"run folder {run_dir} is a file; give a folder with --out or "
                              "output.dir")  # fmt: skip
    if spec.seed is None:  # drawn once and kept in plan.json: a resume replays the same run
        spec = dataclasses.replace(spec, seed=secrets.randbits(63))
    # A folder holding only plan.json was killed while starting: it starts again.
    if run_dir.exists() and {p.name for p in run_dir.iterdir()} - {folder.PLAN}:
        if (run_dir / folder.SPEC).is_file():
            theirs = load(run_dir / folder.SPEC)
            if theirs.source != spec.source:
                raise ValidationError(f"run folder {run_dir} belongs to another spec "
                                      f"({theirs.name!r}); pick another folder with --out")  # fmt: skip
            raise ValidationError(f"run folder {run_dir} already holds a run of this spec; "
                                  f"continue it with `chimera run --resume {run_dir}`")  # fmt: skip
        raise ValidationError(f"run folder {run_dir} exists and is not empty; pick another "
                              "with --out")  # fmt: skip
    validated = validate(_with_backend(spec, backend), probe=probe)
    run_dir.mkdir(parents=True, exist_ok=True)
    planned = validated.plan.to_dict() | {"spec_path": str(Path(spec_path).resolve())}
    folder.write_json(run_dir / folder.PLAN, planned)
    # spec.toml last: it marks a folder as a run that --resume can continue.
    write_atomic(run_dir / folder.SPEC, Path(spec_path).read_bytes())
    return validated


def resume(run_dir: Path, spec_path: str | Path | None = None, *, backend: str | None = None,
           progress: bool = False) -> Outcome:  # fmt: skip
    """Continue the run in ``run_dir`` from its newest readable checkpoint."""
    run_dir = path_(run_dir, "run_dir")
    spec_path = None if spec_path is None else path_(spec_path, "spec_path")
    boolean(progress, "progress")
    if backend is not None:  # checked before a complete run returns early, untouched
        choice(backend, "backend", ("auto", *_backend.NAMES))
    if not (run_dir / folder.SPEC).is_file():
        raise ValidationError(f"{run_dir} is not a Chimera run folder (it has no {folder.SPEC})")
    plan_path = run_dir / folder.PLAN
    try:
        planned = json.loads(plan_path.read_text(encoding="utf-8")) if plan_path.is_file() else {}
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{plan_path} is damaged ({exc}): the run cannot be continued as "
                              "it began; run the spec again in a new folder") from exc  # fmt: skip
    if not isinstance(planned, dict):
        raise ValidationError(f"{plan_path} is damaged (not a JSON object): run the spec again "
                              "in a new folder")  # fmt: skip
    # The copy's relative paths (a wasm module) resolve from where the spec was written.
    spec = load(run_dir / folder.SPEC, where=planned.get("spec_path"))
    if spec_path is not None and load(spec_path).source != spec.source:
        raise ValidationError(
            f"run folder {run_dir} belongs to another spec ({spec.name!r}), not {spec_path}"
        )
    if (run_dir / folder.RESULT).is_file():
        summary = json.loads((run_dir / folder.RESULT).read_text(encoding="utf-8"))
        return Outcome(run_dir, summary, already_complete=True)
    # The same choices as the run began with: a resumed run replays, it does not re-plan.
    spec = _with_backend(spec, backend or planned.get("backend"))
    if spec.seed is None and planned.get("seed") is not None:
        spec = dataclasses.replace(spec, seed=int(planned["seed"]))
    if planned.get("workers") and spec.resources.workers is None:
        spec = dataclasses.replace(
            spec, resources=dataclasses.replace(spec.resources, workers=planned["workers"])
        )
    validated = validate(spec, probe=False)
    return execute(run_dir, validated, progress=progress, resuming=True,
                   predicted=planned.get("predicted_seconds"))  # fmt: skip


class _Checkpoints:
    """The checkpoint step: the loop's state after every generation, and history.parquet at
    most once a second."""

    def __init__(self, run_dir: Path, history: History) -> None:
        self.run_dir, self.history = run_dir, history
        self.written = time.monotonic()

    def __call__(self, generation: int, state: dict[str, Any]) -> None:
        checkpoints.save(self.run_dir / folder.CHECKPOINTS, generation, state)
        if time.monotonic() - self.written >= HISTORY_EVERY_S:
            folder.write_table(self.run_dir / folder.HISTORY, self.history.table())
            self.written = time.monotonic()


@contextmanager
def _objective(plan: Plan) -> Iterator[Evaluate]:
    """The evaluate step: a wasm agent on a pool of the planned workers (closed after), a
    Python objective in one vectorised call."""
    o = plan.objective
    if o.kind != "wasm":
        yield Evaluator(o.problem.fun, vectorized=True, executor=None)
        return
    with AgentPool(o.agent(), plan.workers) as pool:
        yield AgentEvaluator(pool, maximize=o.problem.maximize)


def execute(run_dir: Path, validated: ValidatedPlan, *, progress: bool = False,
            resuming: bool = False, predicted: float | None = None) -> Outcome:  # fmt: skip
    """Runs the validated plan in ``run_dir`` (started by :func:`prepare`; ``resuming``: from
    its newest readable checkpoint)."""
    plan = validated.plan
    spec, objective = plan.spec, plan.objective
    ref = objective.ref_point()
    multi = objective.n_obj > 1
    history = History(multi, ref, objective.n_obj if multi else None)
    optimizer = plan.optimizer()
    bandit = OperatorBandit(spec.bandit, optimizer, seed=spec.seed) if spec.bandit else None
    resumed_from: int | None = None
    skipped: tuple[str, ...] = ()
    with GenomeStore(run_dir / folder.STORE) as store, _objective(plan) as evaluate:
        lineage = Lineage(store, spec, optimizer, n_constr=plan.n_constr)
        canary = Canary(plan, run_dir, evaluate) if spec.deploy else None
        loop = Loop(optimizer, evaluate, history=history, budget=spec.budget,
                    bandit=bandit, lineage=lineage, canary=canary,
                    checkpoint=_Checkpoints(run_dir, history))  # fmt: skip
        try:
            if resuming:
                gen, state, found = checkpoints.latest(run_dir / folder.CHECKPOINTS)
                skipped = tuple(found)
                if state is not None:
                    if state.get("format") == "chimera.pipeline/1":
                        raise ValidationError(
                            f"{run_dir} was checkpointed by chimera 0.1.0's pipeline, which this "
                            "version cannot continue; finish it with that version, or run the "
                            "spec again in a new folder"
                        )
                    loop.load_state_dict(state)
                    resumed_from = gen
                _record_resume(run_dir, gen if state is not None and gen is not None else 0)
            # Generations committed after the checkpoint are replayed, identically.
            lineage.truncate(optimizer.generation - 1)
            try:
                message = loop.run(progress=progress, total=plan.generations)
                if canary is not None:
                    left = spec.budget.seconds
                    canary.settle(optimizer.generation - 1,
                                  None if left is None else left - loop.elapsed())  # fmt: skip
                _write_tables(run_dir, plan, history, bandit, canary)
                result = OptimizeResult.of(optimizer, history, message, plan.algorithm,
                                           loop.elapsed())  # fmt: skip
            except Exception as exc:  # the objective's own errors too: any of them ends the run
                raise RunFailed(
                    f"{spec.name} stopped at generation {optimizer.generation}: {exc}; what it "
                    f"committed is kept: continue with `chimera run --resume {run_dir}`"
                ) from exc
        finally:
            if canary is not None:
                canary.close()
    summary = _summary(plan, result, ref, loop, bandit, canary)
    if resumes := _resumes(run_dir):  # the run was interrupted and continued
        summary["resumed_after"] = [r["after_generation"] for r in resumes]
    if predicted is not None:  # a resumed run reports the prediction it began with
        summary["predicted_seconds"] = predicted
    folder.write_json(run_dir / folder.RESULT, summary)
    if spec.report:
        from .. import report

        report.write(run_dir)
    return Outcome(run_dir, summary, plan, resumed_from, skipped)


def _record_resume(run_dir: Path, generation: int) -> None:
    """Adds this resume to the folder's list, so that the report can say the run was
    interrupted, where, and when it went on."""
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    resumes = [*_resumes(run_dir), {"after_generation": generation, "at": at}]
    folder.write_json(run_dir / folder.RESUMES, resumes)


def _resumes(run_dir: Path) -> list[dict[str, Any]]:
    """The folder's resumes so far (none when there were none, or the list is damaged: that
    loses the record of earlier resumes, not the run)."""
    try:
        resumes = json.loads((run_dir / folder.RESUMES).read_text(encoding="utf-8"))
        return [{"after_generation": int(r["after_generation"]), "at": str(r["at"])}
                for r in resumes]  # fmt: skip
    except (OSError, ValueError, TypeError, KeyError):
        return []


def _write_tables(run_dir: Path, plan: Plan, history: History, bandit: OperatorBandit | None,
                  canary: Canary | None) -> None:  # fmt: skip
    folder.write_table(run_dir / folder.HISTORY, history.table())
    credit = [] if bandit is None else bandit.credit
    folder.write_table(run_dir / folder.OPERATORS, folder.operator_table(credit))
    if canary is not None:
        start = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
        table = folder.kpi_table(plan.objective.problem.name, canary.kpis, start)
        folder.write_table(run_dir / folder.KPIS, table)
        dep = canary.deployment
        folder.write_json(run_dir / folder.DEPLOYMENTS, {
            "incumbent": None if dep is None else dep.incumbent,
            "events": [] if dep is None else dep.events, "verdicts": canary.verdicts,
        })  # fmt: skip


def _steps(plan: Plan, loop: Loop) -> dict[str, dict[str, Any]]:
    """Each step's calls and seconds, beside the seconds the plan predicted for them."""
    per_call = {s.name: s.seconds for s in plan.steps}
    out: dict[str, dict[str, Any]] = {}
    for name, took in loop.steps().items():
        predicted = per_call.get(name)
        out[name] = took | {"predicted_seconds": None if predicted is None
                            else predicted * took["calls"]}  # fmt: skip
    return out


def _summary(plan: Plan, result: OptimizeResult, ref: np.ndarray | None, loop: Loop,
             bandit: OperatorBandit | None, canary: Canary | None) -> dict[str, Any]:  # fmt: skip
    spec, objective = plan.spec, plan.objective
    served = 0 if canary is None else canary.served
    summary: dict[str, Any] = {
        "name": spec.name, "objective": objective.problem.name, "kind": objective.kind,
        "dim": objective.dim, "n_obj": objective.n_obj, "algorithm": result.algorithm,
        "nfev": result.nfev, "ngen": result.ngen, "seed": spec.seed, "backend": result.backend,
        "workers": plan.workers, "elapsed_s": result.elapsed_s, "message": result.message,
        "budget": {"evals": spec.budget.evals, "seconds": spec.budget.seconds,
                   "generations": spec.budget.generations},
        "used": {"evals": result.nfev, "served_evals": served,
                 "seconds": result.elapsed_s, "generations": result.ngen,
                 "cpu_seconds": result.elapsed_s * plan.workers},
        "predicted_seconds": plan.predicted_seconds,
        "steps": _steps(plan, loop),
    }  # fmt: skip
    if result.pareto_f is not None:
        from ..indicators import hypervolume

        summary["pareto_x"] = np.asarray(result.pareto_x).tolist()
        summary["pareto_f"] = result.pareto_f.tolist()
        summary["ref_point"] = None if ref is None else ref.tolist()
        summary["hypervolume"] = (
            hypervolume(result.pareto_f, ref) if ref is not None and len(result.pareto_f) else None
        )
    else:
        summary.update(fun=result.fun, optimum=objective.problem.optimum,
                       x=np.asarray(result.x).tolist())  # fmt: skip
    if bandit is not None and spec.bandit is not None:
        pulls = bandit.pulls()
        summary["operators"] = [{"arm": i, "operators": arm, "generations": int(pulls[i])}
                                for i, arm in enumerate(spec.bandit.arms)]  # fmt: skip
    dep = None if canary is None else canary.deployment
    if canary is not None and dep is not None:
        summary["deployment"] = {
            "incumbent": dep.incumbent, "candidate": dep.candidate,
            "incumbent_fitness": canary.fitness[dep.incumbent] * objective.sign,
            "events": [e for e in dep.events if e["event"] != "canary"],
            "served": canary.served,
        }  # fmt: skip
    return summary
