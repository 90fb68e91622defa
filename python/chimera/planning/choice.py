"""``algorithm = "auto"``: the rule that picks an algorithm for an objective, and says why.

The rule, in order (``chimera plan`` prints the line that decided):

1. several objectives: NSGA-II for 2-3, NSGA-III for more;
2. integer or boolean genes, or options only the evolutionary algorithms take (variation
   operators, elitism, an operator bandit): the GA (the strategies sample real vectors and
   have no operators to switch);
3. real genes, up to :data:`FULL_COVARIANCE_MAX` of them: CMA-ES with BIPOP restarts, whose
   full covariance learns any linear scaling and rotation of the problem;
4. more: LM-MA-ES, whose few direction vectors cost O(m n) where a full covariance would cost
   O(n^2) memory and work a sample.

A later layer learns this choice from runs; this is its fallback on an unfamiliar problem.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .. import algorithms
from ..optimizer import OPERATOR_KEYS

if TYPE_CHECKING:  # the spec module imports this one
    from .objective import Objective
    from .spec import Spec

#: What the rule can pick: a spec with ``auto`` may set the options they all take.
CANDIDATES = ("ga", "nsga2", "nsga3", "cmaes", "lm_maes")

#: The most genes for which the rule picks a full covariance (8 MB of it, and an
#: eigendecomposition of about 0.2 s every few dozen generations).
FULL_COVARIANCE_MAX = 1000


def choose_algorithm(name: str, n_obj: int, *, dim: int = 1, dtype: npt.DTypeLike = "float64",
                     operators: bool = False) -> tuple[str, str]:  # fmt: skip
    """The algorithm for ``name`` (``auto``: by the rule above, from the number of objectives,
    the genes and their kind, and whether ``operators`` or other options only the
    evolutionary algorithms take are given), and why."""
    if name != "auto":
        return algorithms.get(name).name, "as the spec asks"
    if n_obj > 1 and n_obj <= 3:
        return "nsga2", (f"{n_obj} objectives: NSGA-II, whose crowding distance spreads a front "
                         "of 2-3 objectives well")  # fmt: skip
    if n_obj > 3:
        return "nsga3", (f"{n_obj} objectives: NSGA-III, whose reference directions keep a front "
                         "spread where crowding distance no longer can")  # fmt: skip
    kind = np.dtype(dtype)
    if kind.kind in "biu":
        return "ga", (f"one objective over {kind} genes: a GA with elitism (the strategies "
                      "sample real vectors)")  # fmt: skip
    if operators:
        return "ga", ("one objective, with variation operators or other options only the GA "
                      "takes: a GA with elitism (the strategies have no operators)")  # fmt: skip
    if dim <= FULL_COVARIANCE_MAX:
        return "cmaes", (f"one objective over {dim} real genes: CMA-ES with BIPOP restarts, "
                         "whose covariance learns the problem's scaling and rotation")  # fmt: skip
    return "lm_maes", (f"one objective over {dim} real genes (more than {FULL_COVARIANCE_MAX}): "
                       "LM-MA-ES, O(m n) a sample where a full covariance costs O(n^2)")  # fmt: skip


def for_spec(spec: Spec, objective: Objective) -> tuple[str, str]:
    """The algorithm of ``spec`` for its resolved ``objective``, and why."""
    operators = spec.bandit is not None or evolutionary_only(spec.options)
    return choose_algorithm(spec.algorithm, objective.n_obj, dim=objective.dim,
                            dtype=objective.problem.dtype, operators=operators)  # fmt: skip


def evolutionary_only(options: Iterable[str]) -> bool:
    """Whether ``options`` name one the strategies do not take (an operator, elitism)."""
    strategy = algorithms.get("cmaes").parameters
    return any(k in OPERATOR_KEYS or k not in strategy for k in options)


def auto_options() -> set[str]:
    """The options a spec may give with ``auto``: those every evolutionary candidate takes
    (giving one the strategies do not take picks the GA)."""
    return set.intersection(*(set(algorithms.get(a).options) for a in ("ga", "nsga2", "nsga3")))
