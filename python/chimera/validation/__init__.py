"""Validation: a plan is checked before anything runs, and every violation is reported at
once, each with where it is and how to fix it.

- the plan: the resources it asks for exist on the machine (workers, GPUs, backend, memory)
  and its budgets allow a generation;
- every wasm module: the sandbox's checks (allow-listed imports, required exports and their
  signatures, memory maximum) and a start in it;
- genomes the spec gives (the deployment's incumbent): finite, in bounds, the right length;
- safety limits: a wasm agent's fuel, deadline and memory are set by the spec.

:func:`validate` -> :class:`ValidatedPlan`, or :class:`PlanInvalid` listing the violations.
``chimera validate SPEC.toml`` prints them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from .._errors import ArgumentTypeError, ChimeraError, ValidationError, listed
from .._validate import boolean, optional
from ..discovery import EnvSnapshot, discover
from ..optimizer import OPERATOR_KEYS
from ..planning import Plan, Spec, load, make_plan, resolve
from ..planning.choice import for_spec
from . import checks
from .checks import Violation

__all__ = ["PlanInvalid", "ValidatedPlan", "Violation", "checks", "validate"]


class PlanInvalid(ValidationError):
    """A spec or plan with violations; ``violations`` lists them all."""

    def __init__(self, where: str, violations: list[Violation]) -> None:
        self.violations = violations
        super().__init__(listed(where, list(violations), "violation"))


@dataclass(frozen=True)
class ValidatedPlan:
    """A plan that passed every check: the only kind the pipeline runs."""

    plan: Plan


def validate(spec: Spec | str | Path, *, snapshot: EnvSnapshot | None = None,
             probe: bool = True) -> ValidatedPlan:  # fmt: skip
    """Plan ``spec`` (a :class:`Spec` or a path to one) and check the plan; raises
    :class:`PlanInvalid` naming every violation found. ``probe=False`` plans without timing
    the objective (no prediction)."""
    if not isinstance(spec, (Spec, str, os.PathLike)) or not str(spec):
        raise ArgumentTypeError(f"spec must be a Spec or a spec file's path, got "
                                f"{type(spec).__name__}")  # fmt: skip
    s = spec if isinstance(spec, Spec) else load(spec, lenient=True)
    optional(snapshot, EnvSnapshot, "snapshot", "an EnvSnapshot (chimera.discovery.discover())")
    boolean(probe, "probe")
    snap = snapshot if snapshot is not None else discover()
    found = [checks.from_spec(p) for p in s.problems]
    found += checks.resources(s, snap) + checks.limits(s) + checks.deployable(s)
    # What fails is left out of what is planned, under defaults, so that the rest is still
    # checked: every violation is reported in one go.
    planned = s
    if any(v.where == "objective.limits" for v in found):
        planned = replace(s, objective=replace(s.objective, limits=None))
    if s.objective.kind == "wasm":
        o = planned.objective
        found += checks.module(o.target, o.limits, o.dim)
    objective = None
    if not any(v.where in ("objective.wasm", "objective.bounds") for v in found):
        try:
            objective = resolve(planned.objective)
        except ChimeraError as exc:
            found.append(Violation("objective", str(exc), "correct [objective] as it says"))
    plan = None
    if objective is None:
        found += checks.operator_names(planned)
    else:
        algorithm = for_spec(planned, objective)[0]
        found += checks.sense(s, objective, algorithm)
        wrong = checks.operators(planned, objective, algorithm)
        found += wrong
        if wrong:
            planned = replace(planned, bandit=None, options={
                k: v for k, v in planned.options.items() if k not in OPERATOR_KEYS})  # fmt: skip
        try:
            plan = make_plan(planned, snapshot=snap, probe_objective=probe, objective=objective)
        except ChimeraError as exc:
            if not any(v.where == "algorithm" for v in wrong):  # else the same error again
                found.append(Violation("objective", str(exc), "correct the spec as it says"))
    if plan is not None:
        found += checks.budget(plan) + checks.constraints(plan)
        if s.deploy is not None and s.deploy.incumbent is not None:
            found += checks.genome(s.deploy.incumbent, plan.objective.bounds,
                                   "refinement.deploy.incumbent")  # fmt: skip
    if found:
        raise PlanInvalid(s.where, found)
    assert plan is not None
    return ValidatedPlan(plan)
