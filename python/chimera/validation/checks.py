"""The checks of validation, each returning the violations it finds (empty when all is well)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import algorithms
from .._errors import ChimeraError
from ..discovery import EnvSnapshot
from ..evolution import operators as ops
from ..execution import Limits, WasmAgent
from ..optimizer import OPERATOR_KEYS
from ..planning import Objective, Plan, Spec
from ..planning.plan import base_options

# Threads beyond this many per logical core only queue for the cores.
MAX_WORKERS_PER_CORE = 4
# A wasm objective must bound each of these: one runaway evaluation must not stall a run.
REQUIRED_LIMITS = ("fuel", "timeout", "memory")


@dataclass(frozen=True)
class Violation:
    """One thing wrong: ``where`` it is (a spec key, a step, a module), the ``problem`` and
    how to ``fix`` it."""

    where: str
    problem: str
    fix: str

    def __str__(self) -> str:
        said = self.problem if self.where in self.problem else f"{self.where}: {self.problem}"
        return said + (f" (fix: {self.fix})" if self.fix else "")


def from_spec(problem: str) -> Violation:
    """A problem the spec's reading found, under the key it names (its message says the fix)."""
    m = re.match(r"(?:unknown (?:key|section) \[?)?([\w.]+(?:\[\d+\])?[\w.]*)", problem)
    return Violation(m.group(1) if m else "spec", problem, "")


def operator_names(spec: Spec) -> list[Violation]:
    """Each operator the spec names exists and takes its parameters (when the objective
    cannot be resolved to check them on an optimizer, see :func:`operators`)."""
    named = [(f"algorithm.{k}", k, v) for k, v in spec.options.items() if k in ops.TABLES]
    for i, arm in enumerate(spec.bandit.arms if spec.bandit else ()):
        named += [(f"refinement.bandit.arms[{i}].{k}", k, v) for k, v in arm.items()
                  if k in ops.TABLES]  # fmt: skip
    out = []
    for where, kind, value in named:
        try:
            ops.make(kind, value)
        except ChimeraError as exc:
            out.append(Violation(where, str(exc), "name operators and options of "
                                 "chimera.evolution.operators (docs/spec.md)"))  # fmt: skip
    return out


def resources(spec: Spec, snapshot: EnvSnapshot) -> list[Violation]:
    """What the spec asks for exists on this machine."""
    r, out = spec.resources, []
    cores = max(1, snapshot.cores_logical)
    if r.workers is not None and r.workers > MAX_WORKERS_PER_CORE * cores:
        out.append(Violation("resources.workers", f"{r.workers} workers on {cores} logical cores",
                             f"use at most {MAX_WORKERS_PER_CORE * cores}, or leave it out "
                             "for planning to choose"))  # fmt: skip
    if r.gpus > len(snapshot.gpus):
        found = f"{len(snapshot.gpus)} found" + (
            f" ({snapshot.gpu_note})" if snapshot.gpu_note else ""
        )
        out.append(Violation("resources.gpus", f"{r.gpus} GPU(s) asked for, {found}",
                             "run on a GPU node, or set gpus = 0"))  # fmt: skip
    statuses = {b.name: b for b in snapshot.backends}
    backend = str(spec.options.get("backend", r.backend))
    if backend != "auto" and (backend not in statuses or not statuses[backend].available):
        reason = statuses[backend].reason if backend in statuses else "unknown backend"
        where = "algorithm.backend" if "backend" in spec.options else "resources.backend"
        out.append(Violation(where, f"backend {backend!r} is not available here: {reason}",
                             f"use one of {', '.join(snapshot.available_backends)} or auto"))  # fmt: skip
    if r.memory_gb is not None and snapshot.memory_total is not None:
        total = snapshot.memory_total / 2**30
        if r.memory_gb > total:
            out.append(Violation("resources.memory_gb",
                                 f"{r.memory_gb:g} GiB asked for, the machine has {total:.1f}",
                                 f"ask for at most {total:.1f} GiB"))  # fmt: skip
    return out


def budget(plan: Plan) -> list[Violation]:
    """The budgets allow at least one generation."""
    b, out, pop = plan.spec.budget, [], plan.pop_size
    if b.evals is not None and b.evals < pop:
        out.append(Violation("budget.evals", f"{b.evals} evaluations is less than one generation "
                             f"of {pop}", f"give at least {pop}, or a smaller pop_size"))  # fmt: skip
    per = plan.seconds_per_generation
    if b.seconds is not None and per is not None and b.seconds < per:
        out.append(Violation("budget.seconds", f"{b.seconds:g} s is less than one generation, "
                             f"predicted {per:.3g} s", f"give at least {per:.3g} s"))  # fmt: skip
    return out


def limits(spec: Spec) -> list[Violation]:
    """A sandboxed agent has its fuel, deadline and memory bounded by the spec itself."""
    o = spec.objective
    if o.kind != "wasm":
        return []
    given = o.limits or {}
    missing = [k for k in REQUIRED_LIMITS if k not in given]
    if not missing:
        try:
            Limits(**given)
        except (ChimeraError, TypeError) as exc:
            return [Violation("objective.limits", str(exc), "give limits within the ranges")]
        return []
    return [Violation("objective.limits", f"no {', '.join(missing)} limit set for the agent",
                      "set objective.limits = { fuel = 10_000_000, timeout = 1.0, memory = "
                      "16_777_216 } (instructions, seconds, bytes) to bound one evaluation")]  # fmt: skip


def deployable(spec: Spec) -> list[Violation]:
    """A canary deploys agent versions: artifacts of a wasm module and a genome."""
    if spec.deploy is None or spec.objective.kind == "wasm":
        return []
    return [Violation("refinement.deploy", f"deployment serves wasm agents; the objective is a "
                      f"{spec.objective.kind}", "use a wasm objective, or drop "
                      "[refinement.deploy]")]  # fmt: skip


def module(path: str | Path, given: dict[str, Any] | None, dim: int | None) -> list[Violation]:
    """The module passes the sandbox's checks: allow-listed imports, the required exports with
    their signatures, a memory maximum within the limits, and it starts."""
    try:
        WasmAgent(Path(path).read_bytes(), dim=dim, limits=Limits(**(given or {})),
                  name=Path(path).name)  # fmt: skip
    except OSError as exc:
        return [Violation("objective.wasm", f"cannot read {path}: {exc}", "give the module's path "
                          "relative to the spec's folder")]  # fmt: skip
    except (ChimeraError, TypeError) as exc:
        return [Violation("objective.wasm", str(exc), "rebuild the module against "
                          "docs/agent-abi.md, or raise objective.limits")]  # fmt: skip
    return []


def genome(values: Any, bounds: np.ndarray, where: str) -> list[Violation]:
    """A genome has one finite value per gene, each within the gene's bounds."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size != bounds.shape[0]:
        return [Violation(where, f"has {x.size} values, the genome has {bounds.shape[0]} genes",
                          f"give {bounds.shape[0]} values")]  # fmt: skip
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        return [Violation(where, f"genes {bad.tolist()} are not finite", "give finite values")]
    outside = np.flatnonzero((x < bounds[:, 0]) | (x > bounds[:, 1]))
    if outside.size:
        i = int(outside[0])
        return [Violation(where, f"genes {outside.tolist()} are out of bounds (gene {i}: "
                          f"{x[i]:g} not in [{bounds[i, 0]:g}, {bounds[i, 1]:g}])",
                          "move them inside objective.bounds")]  # fmt: skip
    return []


def operators(spec: Spec, objective: Objective, algorithm: str) -> list[Violation]:
    """The algorithm's operators and options make an optimizer, and so does each operator a
    bandit arm names (over the algorithm's), each reported under its own key."""
    entry = algorithms.get(algorithm)
    n_obj = objective.n_obj if entry.multi_objective else None
    base = base_options(spec, objective, algorithm)

    def error(options: dict[str, Any]) -> str | None:
        try:
            entry.create(objective.bounds, seed=spec.seed, n_obj=n_obj, **options)
        except ChimeraError as exc:
            return str(exc)
        return None

    out = []
    fix = "name operators and options of chimera.evolution.operators (docs/spec.md)"
    if (problem := error(base)) is not None:
        out.append(Violation("algorithm", problem, fix))
        base = {k: v for k, v in base.items() if k not in OPERATOR_KEYS}
    if spec.bandit is None:
        return out
    if entry.multi_objective or not entry.operators:
        banditable = [a.name for a in algorithms.ALGORITHMS.values()
                      if a.operators and not a.multi_objective]  # fmt: skip
        out.append(Violation("refinement.bandit", f"operator bandits drive a single-objective "
                             f"algorithm with operators, not {algorithm}",
                             f"use algorithm.name = {' or '.join(map(repr, banditable))}, or "
                             "drop the bandit"))  # fmt: skip
        return out
    for i, arm in enumerate(spec.bandit.arms):
        for key, value in arm.items():
            if key not in entry.operators:
                out.append(Violation(f"refinement.bandit.arms[{i}].{key}",
                                     f"{algorithm} has no {key} operator", fix))  # fmt: skip
            elif (problem := error(base | {key: value})) is not None:
                out.append(Violation(f"refinement.bandit.arms[{i}].{key}", problem, fix))
    return out


def sense(spec: Spec, objective: Objective, algorithm: str) -> list[Violation]:
    """What to minimise is well defined: one sense for every objective, one the algorithm
    takes, a reference point that fits them; the algorithm evolves the problem's genomes."""
    out, o = [], spec.objective
    takes = algorithms.get(algorithm).parameters
    if objective.n_obj > 1 and o.maximize:
        out.append(Violation("objective.maximize", "multi-objective runs minimise every objective",
                             "negate the objectives in the function or agent"))  # fmt: skip
    elif objective.problem.maximize and "maximize" not in takes:
        out.append(Violation("objective.maximize", f"{algorithm} only minimises",
                             "negate the objective, or pick an algorithm that maximises"))  # fmt: skip
    dtype = np.dtype(objective.problem.dtype)
    if dtype != np.float64 and "dtype" not in takes:
        out.append(Violation("objective", f"{algorithm} evolves float64 genomes, this problem's "
                             f"are {dtype}", "pick an algorithm that takes a dtype"))  # fmt: skip
    if o.ref_point is not None and objective.n_obj == 1:
        out.append(Violation("objective.ref_point", "a reference point is for a hypervolume, "
                             "of two or more objectives", "drop it"))  # fmt: skip
    elif o.ref_point is not None:
        try:
            objective.ref_point()
        except ChimeraError as exc:
            out.append(Violation("objective.ref_point", str(exc), "give one value per objective"))
    return out


def constraints(plan: Plan) -> list[Violation]:
    """An objective returning constraints runs on an algorithm that ranks by them."""
    if plan.n_constr and not algorithms.get(plan.algorithm).constraints:
        return [Violation("objective", f"the objective returns {plan.n_constr} constraint(s) "
                          f"as (F, G), and {plan.algorithm} does not rank by constraints (those "
                          f"that do: {', '.join(algorithms.constrained())})", "fold the "
                          "constraints into the objective as a penalty, or pick one of those (of "
                          "two or more objectives where it is multi-objective)")]  # fmt: skip
    return []
