"""Experiment specs (TOML) for ``chimera run``: parsed, checked key by key, turned into a run.

```toml
[experiment]            # name = "quickstart", seed = 42
[problem]               # name = "rastrigin", dim = 30 (a built-in from chimera.problems);
                        # multi-objective: name = "dtlz2", n_obj = 3, ref_point = [1.1, 1.1, 1.1]
[algorithm]             # name = "ga" | "nsga2" | "nsga3", pop_size, crossover, mutation, ...
[budget]                # max_evals = 100000
[output]                # dir = "runs" (one sub-folder per run)
```
Unknown sections or keys are errors that name them and list what is allowed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import ValidationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_ALLOWED: dict[str, set[str]] = {
    "experiment": {"name", "seed"},
    "problem": {"name", "dim", "seed", "n_obj", "ref_point"},
    "algorithm": {
        "name",
        "n_partitions",
        "pop_size",
        "selection",
        "crossover",
        "mutation",
        "elitism",
        "repair",
        "nan_policy",
        "backend",
        "dtype",
    },
    "budget": {"max_evals"},
    "output": {"dir"},
}
_REQUIRED = {"problem": {"name"}, "budget": {"max_evals"}}
ALGORITHMS = ("ga", "nsga2", "nsga3")
# Options each algorithm takes; the others are refused by name.
_ALGORITHM_KEYS = {
    "ga": _ALLOWED["algorithm"] - {"n_partitions"},
    "nsga2": _ALLOWED["algorithm"] - {"n_partitions", "selection", "elitism", "dtype"},
    "nsga3": _ALLOWED["algorithm"] - {"selection", "elitism", "dtype"},
}


@dataclass
class Spec:
    """A checked experiment spec."""

    name: str
    seed: int | None
    problem: dict[str, Any]
    algorithm_name: str
    algorithm: dict[str, Any]
    max_evals: int
    output_dir: Path
    source: dict[str, Any] = field(repr=False, default_factory=dict)


def load(path: str | Path) -> Spec:
    """Read and check the spec at ``path``."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValidationError(f"spec file {p} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"spec file {p} is not valid TOML: {exc}") from exc
    return parse(raw, where=str(p))


def parse(raw: dict[str, Any], where: str = "spec") -> Spec:
    """Check a spec already read from TOML; every problem found is reported at once."""
    problems: list[str] = []
    for section, value in raw.items():
        if section not in _ALLOWED:
            problems.append(f"unknown section [{section}]; allowed: {', '.join(sorted(_ALLOWED))}")
        elif not isinstance(value, dict):
            problems.append(f"[{section}] must be a table")
        else:
            for key in sorted(set(value) - _ALLOWED[section]):
                problems.append(
                    f"unknown key {section}.{key}; allowed: {', '.join(sorted(_ALLOWED[section]))}"
                )
    for section, keys in _REQUIRED.items():
        for key in sorted(
            keys - set(raw.get(section, {}) if isinstance(raw.get(section), dict) else ())
        ):
            problems.append(f"missing {section}.{key}")
    algorithm = dict(raw.get("algorithm", {})) if isinstance(raw.get("algorithm"), dict) else {}
    algorithm_name = str(algorithm.get("name", "ga")).lower()
    if algorithm_name not in ALGORITHMS:
        problems.append(
            f"algorithm.name {algorithm['name']!r} is not available; allowed: {', '.join(ALGORITHMS)}"
        )
    else:
        for key in sorted(set(algorithm) - _ALGORITHM_KEYS[algorithm_name] - {"name"}):
            problems.append(f"algorithm.{key} does not apply to {algorithm_name}")
    budget = raw.get("budget", {}) if isinstance(raw.get("budget"), dict) else {}
    max_evals = budget.get("max_evals")
    if "max_evals" in budget and (
        not isinstance(max_evals, int) or isinstance(max_evals, bool) or max_evals < 1
    ):
        problems.append(f"budget.max_evals must be a positive integer, got {max_evals!r}")
    if problems:
        raise ValidationError(f"{where}: " + "; ".join(problems))
    experiment = raw.get("experiment", {})
    algorithm.pop("name", None)
    return Spec(
        name=str(experiment.get("name", Path(where).stem)),
        seed=experiment.get("seed"),
        problem=dict(raw["problem"]),
        algorithm_name=algorithm_name,
        algorithm=algorithm,
        max_evals=int(max_evals),  # type: ignore[arg-type]
        output_dir=Path(raw.get("output", {}).get("dir", "runs")),
        source=raw,
    )
