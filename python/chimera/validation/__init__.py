"""Layer 3, validation: a plan is checked before anything runs, and every violation is
reported at once, each with where it is and how to fix it.

- the plan: its task graph is acyclic, the resources it asks for exist on the machine
  (workers, GPUs, backend, memory) and its budgets allow a generation;
- every wasm module: Layer 4's checks (allow-listed imports, required exports and their
  signatures, memory maximum) and a start in the sandbox;
- genomes the spec gives (the deployment's incumbent): finite, in bounds, the right length;
- safety limits: a wasm agent's fuel, deadline and memory are set by the spec.

:func:`validate` -> :class:`ValidatedPlan`, or :class:`PlanInvalid` listing the violations.
``chimera validate SPEC.toml`` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .._errors import ChimeraError, ValidationError
from ..discovery import EnvSnapshot, discover
from ..planning import Plan, Spec, load, make_plan
from . import checks
from .checks import Violation

__all__ = ["PlanInvalid", "ValidatedPlan", "Violation", "checks", "validate"]


class PlanInvalid(ValidationError):
    """A spec or plan with violations; ``violations`` lists them all."""

    def __init__(self, where: str, violations: list[Violation]) -> None:
        self.violations = violations
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(f"{where}: {len(violations)} violation(s):\n{lines}")


@dataclass(frozen=True)
class ValidatedPlan:
    """A plan that passed every check: the only kind the pipeline runs."""

    plan: Plan


def validate(spec: Spec | str | Path, *, snapshot: EnvSnapshot | None = None,
             probe: bool = True) -> ValidatedPlan:  # fmt: skip
    """Plan ``spec`` (a :class:`Spec` or a path to one) and check the plan; raises
    :class:`PlanInvalid` naming every violation found. ``probe=False`` plans without timing
    the objective (no prediction)."""
    s = spec if isinstance(spec, Spec) else load(spec)
    snap = snapshot if snapshot is not None else discover()
    found = checks.resources(s, snap) + checks.limits(s) + checks.deployable(s)
    if s.objective.kind == "wasm" and not any(v.where == "objective.limits" for v in found):
        found += checks.module(s.objective.target, s.objective.limits, s.objective.dim)
    plan = None
    if not any(v.where.startswith("objective") for v in found):
        try:
            plan = make_plan(s, snapshot=snap, probe_objective=probe)
        except ChimeraError as exc:
            found.append(Violation("objective" if "objective" in str(exc) else "spec", str(exc),
                                   "correct the spec as the message says"))  # fmt: skip
    if plan is not None:
        found += checks.acyclic(plan.graph()) + checks.budget(plan) + checks.arms(plan)
        if s.deploy is not None and s.deploy.incumbent is not None:
            found += checks.genome(s.deploy.incumbent, plan.objective.bounds,
                                   "refinement.deploy.incumbent")  # fmt: skip
    if found:
        raise PlanInvalid(s.where, found)
    assert plan is not None
    return ValidatedPlan(plan)
