"""A spec turned into a plan: the algorithm, backend and workers chosen (and why), and the
steps of a generation, as :class:`chimera.loop.Loop` runs them, each with its time predicted
from discovery's probes: ``breed`` (survival and breeding on the kernel backend),
``evaluate`` (the objective, in shards over the workers for a wasm agent), ``decide`` (the
operator bandit), ``commit`` (the genome store), ``serve`` (the canary) and ``checkpoint``.
The run reports the time each step took beside the prediction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import algorithms
from .._errors import ArgumentTypeError, ChimeraError, FitnessError, ValidationError
from .._validate import boolean, check_objectives, optional, real
from ..discovery import CostModel, EnvSnapshot, discover, probe
from ..optimizer import Optimizer
from .choice import for_spec
from .objective import Objective, resolve
from .spec import Spec

# Seconds of bookkeeping a generation, measured on the 2-core reference VM for populations up
# to a few hundred (benchmarks/bench_pipeline.py): the store's transaction (commit) and the
# checkpoint with its two fsyncs.
COMMIT_S = 0.0015
CHECKPOINT_S = 0.0025
_MAX_PROBE_S = 60.0  # a probe is a few milliseconds of measurement, not a benchmark
_GPU_MIN_GENES = 1 << 16  # below this many genes a generation, a launch costs more than it saves


@dataclass(frozen=True)
class Step:
    """One step of a generation: its ``name`` (one of :data:`chimera.loop.STEPS`) and its
    predicted ``seconds`` (None when not probed)."""

    name: str
    seconds: float | None = None


@dataclass
class Plan:
    """What ``chimera run`` will do with a spec, and what it is predicted to cost."""

    spec: Spec
    objective: Objective
    snapshot: EnvSnapshot
    model: CostModel | None
    algorithm: str
    backend: str
    workers: int
    pop_size: int
    generations: int
    limited_by: str
    why: dict[str, str]
    steps: tuple[Step, ...]
    shards: int
    seconds_per_generation: float | None
    #: Rows a generation after the first evaluates (the first: the population): fewer than
    #: pop_size for an algorithm that breeds a part of its population at a time (MOEA/D).
    offspring: int
    options: dict[str, Any] = field(default_factory=dict)
    n_constr: int = 0
    #: For a wasm agent: a generation's seconds if every evaluation spent its whole fuel
    #: limit, or ran out of it (the prediction is for genomes as cheap as the probe's random
    #: ones).
    worst_seconds_per_generation: float | None = None

    @property
    def evals(self) -> int:
        """Evaluations the planned generations make (served canary evaluations aside)."""
        if self.generations == 0:
            return 0
        return self.pop_size + (self.generations - 1) * self.offspring

    @property
    def predicted_seconds(self) -> float | None:
        if self.seconds_per_generation is None:
            return None
        return self.generations * self.seconds_per_generation

    @property
    def worst_seconds(self) -> float | None:
        """The most the planned generations can take when every evaluation spends its fuel
        limit or runs out of it (the seconds budget still stops the run), for a wasm agent;
        else None."""
        if self.worst_seconds_per_generation is None:
            return None
        worst = self.generations * self.worst_seconds_per_generation
        return worst if self.spec.budget.seconds is None else min(worst, self.spec.budget.seconds)

    def predicted_cost(self) -> dict[str, float] | None:
        """Predicted resource use: CPU-seconds of the evaluation workers
        and GPU-hours of the GPUs the spec reserves."""
        seconds = self.predicted_seconds
        if seconds is None:
            return None
        return {"cpu_seconds": seconds * self.workers,
                "gpu_hours": seconds / 3600 * self.spec.resources.gpus}  # fmt: skip

    def optimizer(self) -> Optimizer:
        """A fresh optimizer as planned."""
        n_obj = self.objective.n_obj if algorithms.get(self.algorithm).multi_objective else None
        return algorithms.create(self.algorithm, self.objective.bounds, seed=self.spec.seed,
                                 n_obj=n_obj, **self.options)  # fmt: skip

    def summary(self) -> str:
        """The plan on one screen."""
        o, s = self.objective, self.spec
        lines = [
            f"plan        {s.name}: {o.kind} {o.problem.name}, {o.dim} genes, "
            f"{o.n_obj} objective(s)",
            f"algorithm   {self.algorithm} (pop {self.pop_size}"
            + (f", {self.offspring} a generation" if self.offspring != self.pop_size else "")
            + f"): {self.why['algorithm']}",
            f"backend     {self.backend}: {self.why['backend']}",
            f"workers     {self.workers}: {self.why['workers']}",
            f"budget      {self.generations} generations, {self.evals:,} evaluations "
            f"(limited by {self.limited_by})",
        ]
        if algorithms.get(self.algorithm).cls.resizes:
            lines.append(f"            at pop {self.pop_size}: restarts or population reduction "
                         "change the generations, not the evaluations")  # fmt: skip
        if s.bandit is not None:
            lines.append(f"refinement  {s.bandit.policy} bandit over {len(s.bandit.arms)} "
                         "operator arms, credited by offspring that beat their parents")  # fmt: skip
        if s.deploy is not None:
            d = s.deploy
            lines.append(f"deploy      canary {d.canary_share:.0%} of {d.episodes} served "
                         f"evaluations a generation, {d.gate} gate (margin {d.margin:g})")  # fmt: skip
        if self.seconds_per_generation is not None:
            total, cost = self.predicted_seconds, self.predicted_cost()
            assert total is not None and cost is not None
            gpu = f", {cost['gpu_hours']:.3g} GPU-hours" if cost["gpu_hours"] else ""
            lines.append(f"predicted   {self.seconds_per_generation * 1e3:.2f} ms a generation, "
                         f"{total:.1f} s in all ({cost['cpu_seconds']:.1f} CPU-seconds{gpu})")  # fmt: skip
            if self.worst_seconds is not None:
                lines.append("            for genomes as cheap as random ones; at most "
                             f"{self.worst_seconds:.1f} s if every evaluation spends its fuel, "
                             "or runs out of it")  # fmt: skip
        else:
            lines.append("predicted   not probed (run `chimera plan` without --no-probe)")
        loop = [s.name + (f" ({self.shards} shards)" if s.name == "evaluate" and self.shards > 1
                          else "") for s in self.steps]  # fmt: skip
        after = "settle the canary, report" if s.deploy is not None else "report"
        lines.append(f"loop        {self.generations} x ({' -> '.join(loop)}), then {after}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""

        return {
            "name": self.spec.name, "seed": self.spec.seed, "n_constr": self.n_constr,
            "objective": {"kind": self.objective.kind, "name": self.objective.problem.name,
                          "dim": self.objective.dim, "n_obj": self.objective.n_obj},
            "algorithm": self.algorithm, "backend": self.backend, "workers": self.workers,
            "pop_size": self.pop_size, "offspring": self.offspring, "generations": self.generations,
            "evals": self.evals,
            "limited_by": self.limited_by, "why": self.why,
            "seconds_per_generation": self.seconds_per_generation,
            "predicted_seconds": self.predicted_seconds,
            "worst_seconds": self.worst_seconds,
            "predicted_cost": self.predicted_cost(),
            "steps": [vars(s) for s in self.steps], "shards": self.shards,
        }  # fmt: skip


def _runaways(k: int) -> float:
    """How many evaluations' fuel a call of ``k`` can spend, each, when every one runs out
    of it: after a trap the rest of the chunk is retried in calls of half the size, which
    adds up to the chunk again, and then one call each (docs/agent-abi.md)."""
    return 1.0 if k <= 1 else 3.0


def _backend(spec: Spec, snapshot: EnvSnapshot, model: CostModel | None,
             pop: int, dim: int, runs_on: tuple[str, ...]) -> tuple[str, str]:  # fmt: skip
    asked = spec.options.get("backend", spec.resources.backend)
    available = [b for b in snapshot.available_backends if b in runs_on]
    if asked != "auto":
        return asked, "as the spec asks"
    candidates = [b for b in available if b != "cuda" or pop * dim >= _GPU_MIN_GENES]
    if not candidates:
        return "cpp", "no backend reported itself available; the native core is the default"
    if model is not None and model.breeding:
        timed = {b: model.breeding[b](pop) for b in candidates if b in model.breeding}
        if timed:
            best = min(timed, key=timed.__getitem__)
            others = ", ".join(f"{b} {t * 1e3:.3f} ms" for b, t in timed.items() if b != best)
            return best, (f"breeds a generation of {pop} in {timed[best] * 1e3:.3f} ms"
                          + (f" (probed: {others})" if others else ""))  # fmt: skip
    why = f"the first available of {', '.join(available)}"
    if "cuda" in snapshot.available_backends and "cuda" not in runs_on:
        why += " (the algorithm has no cuda kernels)"
    elif "cuda" in available and "cuda" not in candidates:
        why += f" (cuda skipped: {pop * dim} genes a generation is too few to pay off a launch)"
    return candidates[0], why


def _workers(spec: Spec, objective: Objective, model: CostModel | None,
             pop: int) -> tuple[int, str]:  # fmt: skip
    if spec.resources.workers is not None:
        return spec.resources.workers, "as the spec asks"
    if objective.kind == "problem" or (objective.kind == "callable" and objective.spec.vectorized):
        return 1, "a vectorised objective evaluates the whole population in one call"
    if objective.kind == "callable":
        return 1, "a Python function of one genome holds the GIL: more threads cannot help"
    if model is None:
        return 1, "not probed: one worker"
    timed = {k: model.evaluation_seconds(pop, k) for k in model.workers}
    best = min(timed, key=lambda k: (timed[k] * (1.02 if k > 1 else 1.0), k))
    rest = ", ".join(f"{k}: {t * 1e3:.2f} ms" for k, t in timed.items() if k != best)
    return best, (f"evaluates {pop} in {timed[best] * 1e3:.2f} ms (probed: {rest})"
                  if rest else f"evaluates {pop} in {timed[best] * 1e3:.2f} ms")  # fmt: skip


def _generations(spec: Spec, pop: int, offspring: int,
                 per_generation: float | None) -> tuple[int, str]:  # fmt: skip
    b = spec.budget
    limits: dict[str, int] = {}
    if b.evals is not None:  # the first generation evaluates the population, the others fewer
        limits[f"budget.evals = {b.evals:,}"] = (0 if b.evals < pop
                                                 else 1 + (b.evals - pop) // offspring)  # fmt: skip
    if b.generations is not None:
        limits[f"budget.generations = {b.generations}"] = b.generations
    if b.seconds is not None:
        if per_generation:
            limits[f"budget.seconds = {b.seconds:g}"] = max(1, int(b.seconds / per_generation))
        elif not limits:
            return 0, f"budget.seconds = {b.seconds:g} (unpredicted: not probed)"
    key = min(limits, key=limits.__getitem__)
    return limits[key], key


def base_options(spec: Spec, objective: Objective, algorithm: str) -> dict[str, Any]:
    """The optimizer's options from the spec (the backend aside: planning picks it), with the
    genome dtype and the sense from the objective where the algorithm takes them."""
    options = {k: v for k, v in spec.options.items() if k != "backend"}
    takes = algorithms.get(algorithm).parameters
    if "dtype" in takes:
        options = {"dtype": objective.problem.dtype, **options}
    if "maximize" in takes:
        options["maximize"] = objective.problem.maximize
    if "max_evals" in takes and spec.budget.evals is not None:
        options["max_evals"] = spec.budget.evals
    return options


def _constraints(objective: Objective) -> tuple[Callable[[np.ndarray], Any], int]:
    """A Python objective may return (F, G): its constraints are counted on two genomes, and
    the probe times it through F."""
    if objective.kind != "callable":
        return objective.problem.fun, 0
    low, high = objective.bounds[:, 0], objective.bounds[:, 1]
    X = np.random.default_rng(0).uniform(low, high, (2, low.size))
    try:
        out = objective.problem.fun(X)
    except Exception as exc:
        raise ValidationError(
            f"objective {objective.problem.name} failed on two random genomes in its bounds: "
            f"{exc!r}"
        ) from exc
    constrained = isinstance(out, tuple) and len(out) == 2
    try:  # what the run would refuse, refused now
        check_objectives(out[0] if constrained else out, 2, objective.n_obj, "worst")
    except FitnessError as exc:
        raise ValidationError(f"objective {objective.problem.name} on two genomes: {exc}") from exc
    if not constrained:
        return objective.problem.fun, 0
    G = np.asarray(out[1], dtype=np.float64)
    n_constr = 1 if G.ndim == 1 else int(G.shape[1])

    def objectives_only(X: np.ndarray) -> Any:
        return objective.problem.fun(X)[0]

    return objectives_only, n_constr


def make_plan(spec: Spec, *, snapshot: EnvSnapshot | None = None, probe_seconds: float = 0.05,
              probe_objective: bool = True, objective: Objective | None = None) -> Plan:  # fmt: skip
    """Plan ``spec`` on this machine: resolve its objective (unless given, resolved already),
    probe it for ``probe_seconds`` (none with ``probe_objective=False``) and choose what the
    spec leaves to ``auto``."""
    if not isinstance(spec, Spec):
        raise ArgumentTypeError(f"spec must be a Spec (chimera.planning.load(path)), got "
                                f"{type(spec).__name__}")  # fmt: skip
    optional(snapshot, EnvSnapshot, "snapshot", "an EnvSnapshot (chimera.discovery.discover())")
    probe_seconds = real(probe_seconds, "probe_seconds", 0.0, _MAX_PROBE_S, open_low=True)
    boolean(probe_objective, "probe_objective")
    optional(objective, Objective, "objective", "an Objective (chimera.planning.resolve)")
    objective = resolve(spec.objective) if objective is None else objective
    snap = snapshot if snapshot is not None else discover()
    fun, n_constr = _constraints(objective)
    algorithm, why_algorithm = for_spec(spec, objective)
    options = base_options(spec, objective, algorithm)
    pop = algorithms.get(algorithm).population_size(options, objective.n_obj, objective.dim)
    # what a generation evaluates and breeds (after the first, which is the population)
    offspring = algorithms.get(algorithm).offspring_size(options, objective.n_obj, objective.dim)
    runs_on = algorithms.get(algorithm).cls.backends
    model = None
    if probe_objective:
        cores = max(1, snap.cores_logical)
        counts = sorted({1, *(k for k in (2, 4, 8) if k <= cores)})
        if spec.resources.workers is not None:
            counts = sorted({*counts, spec.resources.workers})
        # Numba is an alternative chosen by name: timing it here would cost its compilation.
        native = [b for b in snap.available_backends if b != "numba" and b in runs_on]
        try:
            model = probe(fun, objective.bounds, workers=counts, backends=native or None,
                          seconds=probe_seconds, batch=max(2, pop), algorithm=algorithm,
                          n_obj=objective.n_obj)  # fmt: skip
        except ChimeraError:
            raise
        except Exception as exc:  # the user's objective failed: bad input, said plainly
            raise ValidationError(
                f"objective {objective.problem.name} failed on random genomes in its bounds "
                f"while probed: {exc!r}"
            ) from exc
    backend, why_backend = _backend(spec, snap, model, pop, objective.dim, runs_on)
    workers, why_workers = _workers(spec, objective, model, offspring)
    evaluate_s = breed_s = serve_s = None
    if model is not None:
        evaluate_s = model.evaluation_seconds(offspring, workers)
        line = model.breeding.get(backend)  # over population sizes: a generation of pop's
        breed_s = line(pop) if line is not None else None
        if spec.deploy is not None:
            serve_s = model.evaluation_seconds(spec.deploy.episodes, 1)
    per_generation = (
        None
        if evaluate_s is None or breed_s is None
        else evaluate_s + breed_s + (serve_s or 0.0) + COMMIT_S + CHECKPOINT_S
    )
    worst = None
    if per_generation is not None and model is not None and model.fuel_per_evaluation:
        limits = objective.limits
        assert limits is not None and evaluate_s is not None
        dearer = max(1.0, limits.fuel / model.fuel_per_evaluation)
        shard = -(-offspring // (min(workers, offspring) if objective.kind == "wasm" else 1))
        worst = per_generation + evaluate_s * (dearer * _runaways(shard) - 1)
        if serve_s is not None and spec.deploy is not None:
            served = dearer * _runaways(spec.deploy.episodes)
            worst += serve_s * (served - 1)
    generations, limited_by = _generations(spec, pop, offspring, per_generation)
    shards = min(workers, offspring) if objective.kind == "wasm" else 1
    steps = [Step("breed", breed_s), Step("evaluate", evaluate_s)]
    if spec.bandit is not None:
        steps.append(Step("decide", None if model is None else 0.0))
    steps.append(Step("commit", COMMIT_S))
    if spec.deploy is not None:
        steps.append(Step("serve", serve_s))
    steps.append(Step("checkpoint", CHECKPOINT_S))
    return Plan(
        spec=spec, objective=objective, snapshot=snap, model=model, algorithm=algorithm,
        backend=backend, workers=workers, pop_size=pop, generations=generations,
        limited_by=limited_by, offspring=offspring,
        why={"algorithm": why_algorithm, "backend": why_backend, "workers": why_workers},
        steps=tuple(steps), shards=shards, seconds_per_generation=per_generation,
        n_constr=n_constr, worst_seconds_per_generation=worst,
        options=options | ({"backend": backend} if backend != "auto"
                           and "backend" in algorithms.get(algorithm).parameters else {}),
    )  # fmt: skip
