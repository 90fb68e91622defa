"""Planning: an experiment spec (TOML) becomes a plan.

- :mod:`~chimera.planning.spec`: the documented spec schema (docs/spec.md); :func:`load`
  and :func:`parse` report every unknown key and bad value at once;
- :func:`resolve` -> :class:`Objective`: the built-in problem, ``module:function`` or wasm
  agent the spec names;
- :func:`make_plan` -> :class:`Plan`: the algorithm, backend and workers (``auto`` says why),
  the steps of a generation and their predicted time from discovery's probes.

``chimera plan SPEC.toml [--json]`` prints it.
"""

from __future__ import annotations

from ..loop import Budget
from .choice import choose_algorithm
from .objective import Objective, resolve
from .plan import Plan, Step, make_plan
from .spec import DeploySpec, Resources, Spec, SpecInvalid, load, parse

__all__ = [
    "Budget",
    "DeploySpec",
    "Objective",
    "Plan",
    "Resources",
    "Spec",
    "SpecInvalid",
    "Step",
    "choose_algorithm",
    "load",
    "make_plan",
    "parse",
    "resolve",
]
