"""The algorithms by name: the one table that ``minimize``, the spec schema, planning,
validation and docs/spec.md read.

An entry is a name, an :class:`~chimera.optimizer.Optimizer` subclass and a one-line summary;
everything else is read from the class: its options and their defaults from the signature of
its constructor, each option's meaning from the "Parameters" section of its docstring, whether
it takes several objectives and constraints, and which operators a bandit may switch. An
option may be documented by the class that declares it: the docstrings of the class's bases
are read too. Nothing
is constructed to learn a default. Adding an algorithm is one class and one :func:`register`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy.typing as npt

from ._errors import ValidationError
from ._validate import did_you_mean, integer
from .evolution import GA, MOEAD, NSGA2, NSGA3, SMSEMOA
from .optimizer import Optimizer
from .strategies import CMAES, JSO, LMMAES, LSHADE, SepCMAES

#: Constructor arguments a run sets, not the algorithm's table in a spec: the experiment's seed,
#: the objective's count and sense, and the evaluation budget (for an algorithm whose schedules
#: are planned over it).
RUN_ARGUMENTS = ("bounds", "seed", "n_obj", "maximize", "max_evals")


@dataclass(frozen=True)
class Option:
    """One option of an algorithm: its ``name``, ``default`` and what it means (``doc``)."""

    name: str
    default: Any
    doc: str


@dataclass(frozen=True)
class Algorithm:
    """A registered algorithm: ``name``, optimizer class ``cls``, a one-line ``summary``, and
    from the class: whether it takes several objectives and constraints, and the
    ``operators`` a bandit may switch between generations."""

    name: str
    cls: type[Optimizer]
    summary: str
    multi_objective: bool = field(init=False)
    constraints: bool = field(init=False)
    operators: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        for name, value in (("multi_objective", self.cls.multi_objective),
                            ("constraints", self.cls.constraints),
                            ("operators", self.cls.operator_keys)):  # fmt: skip
            object.__setattr__(self, name, value)

    @cached_property
    def parameters(self) -> dict[str, Option]:
        """Every keyword argument of the constructor, run arguments included."""
        docs: dict[str, str] = {}
        for klass in reversed(self.cls.__mro__):  # a subclass's words for an option win
            docs |= {k: v for k, v in _parameter_docs(klass.__doc__ or "").items() if v}
        return {
            name: Option(name, p.default, docs.get(name, ""))
            for name, p in list(inspect.signature(self.cls).parameters.items())[1:]  # bounds
        }

    @property
    def options(self) -> dict[str, Option]:
        """The options a spec's ``[algorithm]`` table may set."""
        return {k: v for k, v in self.parameters.items() if k not in RUN_ARGUMENTS}

    def population_size(self, options: Mapping[str, Any], n_obj: int = 1,
                        dim: int | None = None) -> int:  # fmt: skip
        """The population these options give for ``dim`` genes, from the class, without
        building it."""
        return self.cls.population_size(options, n_obj, dim)

    def offspring_size(self, options: Mapping[str, Any], n_obj: int = 1,
                       dim: int | None = None) -> int:  # fmt: skip
        """The rows each ask after the first returns with these options, without building
        the optimizer."""
        return self.cls.offspring_size(options, n_obj, dim)

    def create(self, bounds: npt.ArrayLike, *, seed: int | None = None,
               n_obj: int | None = None, **options: Any) -> Optimizer:  # fmt: skip
        """The optimizer with these options; unknown options and a count of objectives it
        does not optimise are refused, naming what it takes."""
        unknown = sorted(set(options) - set(self.parameters))
        if unknown:
            raise ValidationError(
                f"algorithm {self.name!r} has no option {', '.join(map(repr, unknown))}; it "
                f"takes {', '.join(self.parameters)}"
            )
        if n_obj is not None:
            integer(n_obj, "n_obj", 1, 2**15)
        if self.multi_objective:
            if n_obj is not None:
                options["n_obj"] = n_obj
        elif n_obj not in (None, 1):
            others = " or ".join(a.name for a in ALGORITHMS.values() if a.multi_objective)
            raise ValidationError(
                f"algorithm {self.name!r} is single-objective but n_obj={n_obj}; use {others}"
            )
        return self.cls(bounds, seed=seed, **options)


ALGORITHMS: dict[str, Algorithm] = {}


def register(name: str, cls: type[Optimizer], summary: str) -> Algorithm:
    """Makes ``cls`` available by ``name`` to ``minimize``, specs, planning and validation.
    Its constructor takes ``bounds`` first, then named options only (each documented under
    "Parameters"), ``seed`` among them."""
    if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
        raise ValidationError(f"{cls!r} is not an Optimizer subclass")
    if not isinstance(name, str) or not name.strip().isidentifier():
        raise ValidationError(f"algorithm name must be an identifier, got {name!r}")
    if not isinstance(summary, str) or not summary.strip():
        raise ValidationError(f"summary must say in a line what {name} is, got {summary!r}")
    key = name.strip().lower()
    if key == "auto" or key in ALGORITHMS:
        raise ValidationError(f"algorithm name {name!r} is taken; choose another")
    _check_constructor(cls)
    entry = Algorithm(key, cls, summary.strip())
    missing = [k for k, o in entry.options.items() if not o.doc]
    if missing:
        raise ValidationError(
            f"{cls.__name__}'s docstring does not document {', '.join(missing)} under Parameters"
        )
    ALGORITHMS[key] = entry
    return entry


def _check_constructor(cls: type[Optimizer]) -> None:
    """What the registry reads from a constructor is there: named options with defaults, a
    seed, and a population size the planner can read without constructing anything."""
    where = f"{cls.__name__}.__init__"
    first, *rest = inspect.signature(cls).parameters.values()
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    if first.kind in variadic or first.kind is inspect.Parameter.KEYWORD_ONLY:
        raise ValidationError(f"{where} must take the bounds as its first argument")
    for p in rest:
        if p.kind in variadic:
            raise ValidationError(f"{where} must name its options, not take {p}")
        if p.default is inspect.Parameter.empty:
            raise ValidationError(f"{where}'s option {p.name} needs a default")
    names = {p.name for p in rest}
    if "seed" not in names:
        raise ValidationError(f"{where} must take a seed (the run's, for reproducibility)")
    own = cls.population_size.__func__ is not Optimizer.population_size.__func__  # type: ignore[attr-defined]
    if "pop_size" not in names and not own:
        raise ValidationError(f"{where} has no pop_size: override population_size(options, "
                              "n_obj, dim) to say the population its options give")  # fmt: skip


def get(name: str) -> Algorithm:
    """The algorithm registered as ``name`` (any case)."""
    key = str(name).strip().lower()
    if key not in ALGORITHMS:
        raise ValidationError(f"unknown algorithm {name!r}{did_you_mean(key, ALGORITHMS)}; "
                              f"choose one of {', '.join(ALGORITHMS)}")  # fmt: skip
    return ALGORITHMS[key]


def create(name: str, bounds: npt.ArrayLike, *, seed: int | None = None,
           n_obj: int | None = None, **options: Any) -> Optimizer:  # fmt: skip
    """The optimizer registered as ``name``, with ``options``."""
    return get(name).create(bounds, seed=seed, n_obj=n_obj, **options)


def constrained() -> list[str]:
    """The algorithms that rank by constraint values."""
    return [a.name for a in ALGORITHMS.values() if a.constraints]


def markdown() -> str:
    """The algorithms and their options as the tables of docs/spec.md
    (``chimera algorithms --markdown`` prints them)."""
    lines = ["| algorithm | objectives | constraints | what it is |", "| --- | --- | --- | --- |"]
    for a in ALGORITHMS.values():
        objectives = "2 or more" if a.multi_objective else "1"
        lines.append(f"| `{a.name}` | {objectives} | {'yes' if a.constraints else 'no'} | "
                     f"{a.summary} |")  # fmt: skip
    for a in ALGORITHMS.values():
        lines += ["", f"`{a.name}` options:", "", "| key | default | meaning |",
                  "| --- | --- | --- |"]  # fmt: skip
        for o in a.options.values():
            lines.append(f"| `{o.name}` | {_default(o.default)} | {_markdown(o.doc)} |")
    return "\n".join(lines) + "\n"


def _default(value: Any) -> str:
    return "none" if value is None else f"`{value!r}`".replace("'", '"')


def _markdown(text: str) -> str:
    """A docstring's reStructuredText inline markup as Markdown."""
    text = re.sub(r":\w+:`~?([\w.]+)`", lambda m: f"`{m.group(1)}`", text)
    return text.replace("``", "`")


_PARAMETER = re.compile(r"^    (\w+(?:, \w+)*) :")


def _parameter_docs(doc: str) -> dict[str, str]:
    """Each name in a NumPy-style "Parameters" section and its description, on one line."""
    section = doc.partition("Parameters\n    ----------\n")[2]
    docs: dict[str, str] = {}
    names: list[str] = []
    for line in section.splitlines():
        if not line.strip() or (line.startswith("    ") and not line.startswith("     ")
                                and not _PARAMETER.match(line)):  # fmt: skip
            if not line.strip() and names:
                continue
            break
        match = _PARAMETER.match(line)
        if match:
            names = match.group(1).split(", ")
            for n in names:
                docs[n] = ""
        else:
            for n in names:
                docs[n] = f"{docs[n]} {line.strip()}".strip()
    return docs


register("ga", GA, "a generational genetic algorithm with elitism")
register("nsga2", NSGA2, "NSGA-II: non-dominated sorting and crowding distance")
register("nsga3", NSGA3, "NSGA-III: non-dominated sorting and niching on reference directions")
register("moead", MOEAD, "MOEA/D: Tchebycheff or PBI subproblems, neighbourhood replacement")
register("sms_emoa", SMSEMOA, "SMS-EMOA: the least hypervolume contributor of the worst front goes")
register("cmaes", CMAES, "CMA-ES with active covariance updates and BIPOP restarts")
register("sep_cmaes", SepCMAES, "separable CMA-ES: a diagonal covariance, O(n) a sample")
register("lm_maes", LMMAES, "LM-MA-ES: limited-memory CMA-ES for thousands of genes")
register("lshade", LSHADE, "L-SHADE: adaptive DE with linear population size reduction")
register("jso", JSO, "jSO: L-SHADE with budget schedules for F, CR and p")
