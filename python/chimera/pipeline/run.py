"""The run: discovery, planning and validation, then Execution -> Refinement -> Evolution each
generation over the bus, with the budgets enforced, a checkpoint after every generation, and
the report at the end.

A generation: Execution evaluates the bred genomes and publishes them (``evaluated``);
Refinement credits the operator arm that bred them and chooses the next (``decided``);
Evolution tells the optimizer, commits the generation to the genome store, and breeds with the
chosen operators (``bred``, and ``champion`` on a new best); Execution serves the deployed
versions, proposing the champion as a canary (``served``); then every stage's state is
checkpointed. A run killed at any moment resumes from its newest readable checkpoint: the
store drops what was committed after it, and the counter-based generators replay the same
generations, so the finished run equals one that was never interrupted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import RunFailed, ValidationError
from .._runloop import History, _Progress
from ..evolution import checkpoints
from ..evolution.store import GenomeStore
from ..optimize import result_of
from ..planning import Plan, Spec, load
from ..validation import ValidatedPlan, validate
from . import bus as b
from . import folder
from .evolve import Evolution
from .execute import Execution
from .refine import Refinement, gate

_FORMAT = "chimera.pipeline/1"
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
    if not backend:
        return spec
    options = {k: v for k, v in spec.options.items() if k != "backend"}
    resources = dataclasses.replace(spec.resources, backend=backend)
    return dataclasses.replace(spec, options=options, resources=resources)


def start(spec_path: str | Path, run_dir: Path, *, backend: str | None = None,
          progress: bool = False, probe: bool = True) -> Outcome:  # fmt: skip
    """Validate the spec at ``spec_path`` and run it in the new folder ``run_dir`` (refused if
    it holds anything)."""
    spec = load(spec_path)
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
    checkpoints.write_atomic(run_dir / folder.SPEC, Path(spec_path).read_bytes())
    return _execute(run_dir, validated, progress=progress)


def resume(run_dir: Path, spec_path: str | Path | None = None, *, backend: str | None = None,
           progress: bool = False) -> Outcome:  # fmt: skip
    """Continue the run in ``run_dir`` from its newest readable checkpoint."""
    if not (run_dir / folder.SPEC).is_file():
        raise ValidationError(f"{run_dir} is not a Chimera run folder (it has no {folder.SPEC})")
    plan_path = run_dir / folder.PLAN
    planned = json.loads(plan_path.read_text(encoding="utf-8")) if plan_path.is_file() else {}
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
    return _execute(run_dir, validated, progress=progress, resuming=True,
                    predicted=planned.get("predicted_seconds"))  # fmt: skip


def _stop_reason(plan: Plan, evolution: Evolution) -> str | None:
    """Why the run must stop before another generation, or None."""
    budget, opt = plan.spec.budget, evolution.opt
    if budget.generations is not None and opt.generation >= budget.generations:
        return f"generation budget of {budget.generations} spent"
    if budget.evals is not None and opt.nfev + opt.pop_size > budget.evals:
        return f"evaluation budget of {budget.evals:,} spent"
    if budget.seconds is not None and evolution.elapsed() >= budget.seconds:
        return f"time budget of {budget.seconds:g} s spent"
    return None


def _execute(run_dir: Path, validated: ValidatedPlan, *, progress: bool,
             resuming: bool = False, predicted: float | None = None) -> Outcome:  # fmt: skip
    plan = validated.plan
    spec, objective = plan.spec, plan.objective
    multi = objective.n_obj > 1
    ref = objective.ref_point()
    history = History(multi, ref, objective.n_obj if multi else None)
    bus = b.Bus()
    with GenomeStore(run_dir / folder.STORE) as store:
        evolution = Evolution(plan, bus, store, history)
        opt = evolution.opt
        refinement = Refinement(plan, bus)
        execution = Execution(
            plan,
            bus,
            run_dir,
            gate(spec.deploy, objective.problem.maximize) if spec.deploy else None,
        )
        stages: dict[str, Any] = {
            "evolution": evolution,
            "refinement": refinement,
            "execution": execution,
            "bus": bus,
        }
        try:
            resumed_from: int | None = None
            skipped: tuple[str, ...] = ()
            if resuming:
                gen, state, found = checkpoints.latest(run_dir / folder.CHECKPOINTS)
                skipped = tuple(found)
                if state is not None:
                    if state.get("format") != _FORMAT:
                        raise ValidationError(
                            f"checkpoint is not a pipeline checkpoint ({_FORMAT})"
                        )
                    for name, stage in stages.items():
                        stage.load_state_dict(state[name])
                    resumed_from = gen
                    bus.published[b.BRED] -= 1  # the pending genomes are published again
            # Generations committed after the checkpoint are replayed, identically.
            store.truncate(evolution.run, opt.generation - 1)
            try:
                evolution.breed()  # the pending genomes (restored ones again after a resume)
                message = _loop(plan, run_dir, evolution, execution, stages, progress)
                left = spec.budget.seconds
                execution.settle(opt.generation,
                                 None if left is None else left - evolution.elapsed())  # fmt: skip
                _write_tables(run_dir, plan, evolution, refinement, execution)
                result = result_of(opt, history, message, plan.algorithm, evolution.elapsed())
            except Exception as exc:  # the objective's own errors too: any of them ends the run
                raise RunFailed(
                    f"{spec.name} stopped at generation {opt.generation}: {exc}; what it "
                    f"committed is kept: continue with `chimera run --resume {run_dir}`"
                ) from exc
        finally:
            execution.close()
    summary = _summary(plan, result, ref, refinement, execution, bus)
    if predicted is not None:  # a resumed run reports the prediction the run began with
        summary["predicted_seconds"] = predicted
    folder.write_json(run_dir / folder.RESULT, summary)
    if spec.report:
        from .. import report

        report.write(run_dir)
    return Outcome(run_dir, summary, plan, resumed_from, skipped)


def _loop(plan: Plan, run_dir: Path, evolution: Evolution, execution: Execution,
          stages: dict[str, Any], progress: bool) -> str:  # fmt: skip
    opt = evolution.opt
    written = time.monotonic()
    with _Progress(max(0, plan.generations - opt.generation), enabled=progress) as bar:
        while (reason := _stop_reason(plan, evolution)) is None:
            execution.evaluate()  # -> evaluated -> decided -> bred (and champion)
            generation = opt.generation - 1
            execution.serve(generation)
            state = {"format": _FORMAT, **{k: s.state_dict() for k, s in stages.items()}}
            checkpoints.save(run_dir / folder.CHECKPOINTS, opt.generation, state)
            if time.monotonic() - written >= HISTORY_EVERY_S:
                folder.write_table(run_dir / folder.HISTORY, evolution.history.table())
                written = time.monotonic()
            bar.advance(evolution.history.status())
    return reason


def _write_tables(run_dir: Path, plan: Plan, evolution: Evolution, refinement: Refinement,
                  execution: Execution) -> None:  # fmt: skip
    folder.write_table(run_dir / folder.HISTORY, evolution.history.table())
    folder.write_table(run_dir / folder.OPERATORS, folder.operator_table(refinement.credit))
    if plan.spec.deploy is not None:
        start = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
        table = folder.kpi_table(plan.objective.problem.name, refinement.kpis, start)
        folder.write_table(run_dir / folder.KPIS, table)
        events = [] if execution.deployment is None else execution.deployment.events
        folder.write_json(run_dir / folder.DEPLOYMENTS, {
            "incumbent": None if execution.deployment is None else execution.deployment.incumbent,
            "events": events, "verdicts": refinement.verdicts,
        })  # fmt: skip


def _summary(plan: Plan, result: Any, ref: np.ndarray | None, refinement: Refinement,
             execution: Execution, bus: b.Bus) -> dict[str, Any]:  # fmt: skip
    spec, objective = plan.spec, plan.objective
    summary: dict[str, Any] = {
        "name": spec.name, "objective": objective.problem.name, "kind": objective.kind,
        "dim": objective.dim, "n_obj": objective.n_obj, "algorithm": result.algorithm,
        "nfev": result.nfev, "ngen": result.ngen, "seed": spec.seed, "backend": result.backend,
        "workers": plan.workers, "elapsed_s": result.elapsed_s, "message": result.message,
        "budget": {"evals": spec.budget.evals, "seconds": spec.budget.seconds,
                   "generations": spec.budget.generations},
        "used": {"evals": result.nfev, "served_evals": execution.served,
                 "seconds": result.elapsed_s, "generations": result.ngen,
                 "cpu_seconds": result.elapsed_s * plan.workers},
        "predicted_seconds": plan.predicted_seconds,
        "messages": dict(bus.published),
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
    if refinement.bandit is not None and spec.bandit is not None:
        pulls = np.bincount([a for _, a, _ in refinement.credit], minlength=len(spec.bandit.arms))
        summary["operators"] = [{"arm": i, "operators": arm, "generations": int(pulls[i])}
                                for i, arm in enumerate(spec.bandit.arms)]  # fmt: skip
    if execution.deployment is not None:
        dep = execution.deployment
        summary["deployment"] = {
            "incumbent": dep.incumbent, "candidate": dep.candidate,
            "incumbent_fitness": execution.fitness[dep.incumbent] * objective.sign,
            "events": [e for e in dep.events if e["event"] != "canary"],
            "served": execution.served,
        }  # fmt: skip
    return summary
