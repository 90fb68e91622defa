"""``algorithm = "auto"``: the rule that picks an algorithm for an objective, and says why."""

from __future__ import annotations

from .. import algorithms

#: What the rule can pick: a spec with ``auto`` may set the options they all take.
CANDIDATES = ("ga", "nsga2", "nsga3")


def choose_algorithm(name: str, n_obj: int) -> tuple[str, str]:
    """The algorithm for ``name`` (``auto``: from the number of objectives), and why."""
    if name != "auto":
        return algorithms.get(name).name, "as the spec asks"
    if n_obj == 1:
        return "ga", "one objective: a GA with elitism (Pareto ranking has nothing to rank)"
    if n_obj <= 3:
        return "nsga2", (f"{n_obj} objectives: NSGA-II, whose crowding distance spreads a front "
                         "of 2-3 objectives well")  # fmt: skip
    return "nsga3", (f"{n_obj} objectives: NSGA-III, whose reference directions keep a front "
                     "spread where crowding distance no longer can")  # fmt: skip


def auto_options() -> set[str]:
    """The options a spec may give with ``auto``: those every candidate takes."""
    return set.intersection(*(set(algorithms.get(a).options) for a in CANDIDATES))
