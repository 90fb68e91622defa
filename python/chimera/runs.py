"""Durable runs of an experiment spec: ``chimera run SPEC --out RUN_DIR`` and
``chimera run --resume RUN_DIR``.

A run folder holds ``spec.toml`` (the spec it runs), ``genomes.sqlite`` (the genome store:
every evaluated genome with its objectives and parents, one transaction per generation),
``checkpoints/`` (the optimizer after every generation, written atomically), and
``history.parquet``; ``result.json`` appears when the run is complete.

Each generation is evaluated, told to the optimizer, committed to the store, then
checkpointed. A run killed at any moment resumes from its newest readable checkpoint: the
store drops whatever was committed after it, and the counter-based generator replays the
same generations, so the finished run equals one that was never interrupted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from . import problems
from . import spec as specs
from ._errors import ValidationError
from ._runloop import Evaluator, History, Optimizer, make_optimizer, run_generations
from .evolution import checkpoints
from .evolution.moea import MultiObjective
from .evolution.store import GenomeStore
from .optimize import OptimizeResult, generations_for, result_of

SPEC = "spec.toml"
STORE = "genomes.sqlite"
CHECKPOINTS = "checkpoints"
HISTORY = "history.parquet"
RESULT = "result.json"
_FORMAT = "chimera.run/1"


@dataclass
class Outcome:
    """What ``start``/``resume`` did: the folder, the result, and how the run went."""

    run_dir: Path
    result: OptimizeResult | None
    summary: dict[str, Any]
    resumed_from: int | None = None
    skipped: tuple[str, ...] = ()
    already_complete: bool = False


def _problem(s: specs.Spec) -> problems.Problem:
    options = {k: v for k, v in s.problem.items() if k not in ("name", "dim", "ref_point")}
    return problems.get(s.problem["name"], s.problem.get("dim"), **options)


def ref_point(s: specs.Spec, prob: problems.Problem) -> np.ndarray | None:
    """The hypervolume reference point: the spec's, else 1.1 times the true front's nadir."""
    if prob.n_obj < 2:
        return None
    if "ref_point" in s.problem:
        ref = np.asarray(s.problem["ref_point"], dtype=np.float64)
        if ref.shape != (prob.n_obj,):
            raise ValidationError(
                f"problem.ref_point must have {prob.n_obj} values, got {s.problem['ref_point']!r}"
            )
        return ref
    if prob.pareto_front is None:
        return None
    return 1.1 * np.asarray(prob.pareto_front(200)).max(axis=0)


def _optimizer(s: specs.Spec, prob: problems.Problem, backend: str | None) -> Optimizer:
    options: dict[str, Any] = dict(s.algorithm)
    if prob.n_obj == 1:
        options = {"dtype": prob.dtype, "maximize": prob.maximize, **options}
    if backend:
        options["backend"] = backend
    n_obj = prob.n_obj if prob.n_obj > 1 else None
    return make_optimizer(s.algorithm_name, prob.bounds, seed=s.seed, n_obj=n_obj, **options)


def start(spec_path: str | Path, run_dir: Path, *, backend: str | None = None,
          progress: bool = False) -> Outcome:  # fmt: skip
    """Run ``spec_path`` in the new folder ``run_dir`` (refused if it holds anything)."""
    s = specs.load(spec_path)
    if run_dir.exists() and any(run_dir.iterdir()):
        if (run_dir / SPEC).is_file():
            theirs = specs.load(run_dir / SPEC)
            if theirs.source != s.source:
                raise ValidationError(
                    f"run folder {run_dir} belongs to another spec ({theirs.name!r}); "
                    "pick another folder with --out"
                )
            raise ValidationError(
                f"run folder {run_dir} already holds a run of this spec; continue it with "
                f"`chimera run --resume {run_dir}`"
            )
        raise ValidationError(
            f"run folder {run_dir} exists and is not empty; pick another with --out"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoints.write_atomic(run_dir / SPEC, Path(spec_path).read_bytes())
    return _execute(run_dir, s, backend=backend, progress=progress)


def resume(run_dir: Path, spec_path: str | Path | None = None, *, backend: str | None = None,
           progress: bool = False) -> Outcome:  # fmt: skip
    """Continue the run in ``run_dir`` from its newest readable checkpoint."""
    if not (run_dir / SPEC).is_file():
        raise ValidationError(f"{run_dir} is not a Chimera run folder (it has no {SPEC})")
    s = specs.load(run_dir / SPEC)
    if spec_path is not None and specs.load(spec_path).source != s.source:
        raise ValidationError(
            f"run folder {run_dir} belongs to another spec ({s.name!r}), not {spec_path}"
        )
    if (run_dir / RESULT).is_file():
        summary = json.loads((run_dir / RESULT).read_text(encoding="utf-8"))
        return Outcome(run_dir, None, summary, already_complete=True)
    return _execute(run_dir, s, backend=backend, progress=progress, resuming=True)


class _Recorder:
    """Commits each generation to the store and checkpoints the optimizer after it."""

    def __init__(self, run_dir: Path, store: GenomeStore, run: int, opt: Optimizer,
                 history: History, operators: str) -> None:  # fmt: skip
        self.dir, self.store, self.run, self.opt = run_dir, store, run, opt
        self.history, self.operators = history, operators
        self.pop_ids: np.ndarray | None = None
        self.start = time.perf_counter()
        self.elapsed0 = 0.0
        self._pending: tuple[np.ndarray, Any, Any, np.ndarray | None] | None = None

    def before_tell(self, X: np.ndarray, F: Any, G: Any) -> None:
        parents = self.opt.parents
        ids = None
        if parents is not None and self.pop_ids is not None:
            ids = self.pop_ids[parents]
        self._pending = (X.copy(), np.array(F, dtype=np.float64), G, ids)

    def after_tell(self, opt: Optimizer) -> bool:
        assert self._pending is not None and opt.survivors is not None
        X, F, G, parent_ids = self._pending
        generation = opt.generation - 1
        new_ids = self.store.add_generation(
            self.run, generation, X, F, G, parents=parent_ids, operators=self.operators,
            backend=opt.backend,
        )  # fmt: skip
        previous = self.pop_ids if self.pop_ids is not None else np.full(len(X), -1, np.int64)
        self.pop_ids = np.concatenate([previous, new_ids])[opt.survivors]
        state = {
            "format": _FORMAT,
            "generation": opt.generation,
            "optimizer": opt.state_dict(),
            "history": [list(r) for r in self.history.rows],
            "pop_ids": self.pop_ids,
            "elapsed_s": self.elapsed(),
        }
        checkpoints.save(self.dir / CHECKPOINTS, opt.generation, state)
        _write_history(self.dir, self.history)
        return False

    def elapsed(self) -> float:
        return self.elapsed0 + time.perf_counter() - self.start

    def restore(self, state: dict[str, Any]) -> None:
        if state.get("format") != _FORMAT:
            raise ValidationError(f"checkpoint is not a run checkpoint ({_FORMAT})")
        self.opt.load_state_dict(state["optimizer"])
        self.history.rows = [tuple(r) for r in state["history"]]
        self.pop_ids = np.asarray(state["pop_ids"], dtype=np.int64)
        self.elapsed0 = float(state["elapsed_s"])


def _write_history(run_dir: Path, history: History) -> None:
    tmp = run_dir / f".{HISTORY}.tmp"
    pq.write_table(history.table(), tmp)
    tmp.replace(run_dir / HISTORY)


def _execute(run_dir: Path, s: specs.Spec, *, backend: str | None, progress: bool,
             resuming: bool = False) -> Outcome:  # fmt: skip
    prob = _problem(s)
    opt = _optimizer(s, prob, backend)
    generations = generations_for(s.max_evals, opt.pop_size)
    ref = ref_point(s, prob)
    multi = isinstance(opt, MultiObjective)
    history = History(multi, ref, prob.n_obj if multi else None)
    with GenomeStore(run_dir / STORE) as store:
        experiment = store.experiment(s.name, spec=s.source)
        existing = store.runs(experiment)
        if existing.num_rows:
            run = int(existing.column("id")[0].as_py())
        else:
            run = store.create_run(
                experiment, backend=opt.backend, dim=opt.dim, dtype=str(opt.dtype),
                n_obj=prob.n_obj, seed=opt.seed, config=opt.config(),
            )  # fmt: skip
        recorder = _Recorder(run_dir, store, run, opt, history, opt.operators)
        resumed_from: int | None = None
        skipped: tuple[str, ...] = ()
        if resuming:
            gen, state, problems_found = checkpoints.latest(run_dir / CHECKPOINTS)
            skipped = tuple(problems_found)
            if state is not None:
                recorder.restore(state)
                resumed_from = gen
        # Generations committed after the checkpoint are replayed, identically.
        store.truncate(run, opt.generation - 1)
        evaluate = Evaluator(prob.fun, vectorized=True, executor=None)
        message = run_generations(
            opt, evaluate, generations - opt.generation, history, progress=progress,
            callback=recorder.after_tell, before_tell=recorder.before_tell,
            elapsed_s=recorder.elapsed0,
        )  # fmt: skip
        if message == "evaluation budget spent":
            message = f"evaluation budget of {s.max_evals} spent"
        result = result_of(opt, history, message, s.algorithm_name, recorder.elapsed())
    _write_history(run_dir, history)
    summary = _summary(s, prob, result, ref)
    checkpoints.write_atomic(
        run_dir / RESULT, (json.dumps(summary, indent=2) + "\n").encode("utf-8")
    )
    return Outcome(run_dir, result, summary, resumed_from, skipped)


def _summary(s: specs.Spec, prob: problems.Problem, result: OptimizeResult,
             ref: np.ndarray | None) -> dict[str, Any]:  # fmt: skip
    summary: dict[str, Any] = {
        "name": s.name,
        "problem": prob.name,
        "dim": prob.dim,
        "n_obj": prob.n_obj,
        "algorithm": result.algorithm,
        "nfev": result.nfev,
        "ngen": result.ngen,
        "seed": s.seed,
        "backend": result.backend,
        "elapsed_s": result.elapsed_s,
        "message": result.message,
    }
    if result.pareto_f is not None:
        assert result.pareto_x is not None
        from .indicators import hypervolume

        summary["pareto_x"] = np.asarray(result.pareto_x).tolist()
        summary["pareto_f"] = result.pareto_f.tolist()
        summary["ref_point"] = None if ref is None else ref.tolist()
        summary["hypervolume"] = (
            hypervolume(result.pareto_f, ref) if ref is not None and len(result.pareto_f) else None
        )
    else:
        summary.update(fun=result.fun, optimum=prob.optimum, x=np.asarray(result.x).tolist())
    return summary
