"""The experiment spec (TOML) that ``chimera run``, ``plan`` and ``validate`` take.

Every section and key is listed below; docs/spec.md explains each with an example. An
unknown section or key, a missing one, or a value of the wrong kind is an error that names
the key and says what is allowed, and every one found is reported at once.

```toml
[experiment]   name = "cartpole", seed = 42
[objective]    # exactly one of:
               problem = "rastrigin"          # a built-in (chimera.problems), with dim, n_obj
               callable = "mypkg.fitness:f"   # a Python function of an (n, dim) array
               wasm = "agents/cartpole.wasm"  # a sandboxed agent (path from the spec's folder)
               # and: dim, bounds = [[low, high]] (one pair, or one per gene), n_obj,
               # ref_point, maximize, vectorized (callable), limits = {fuel, timeout, memory}
[algorithm]    name = "auto" or a registered algorithm (chimera.algorithms), and its options
[budget]       evals, seconds, generations (at least one; the run stops at the first reached)
[refinement.bandit]  policy = "thompson", arms = [{crossover = ..., mutation = ...}, ...]
[refinement.deploy]  incumbent = [...], every, canary_share, episodes, noise, gate, margin, ...
[resources]    workers, backend, gpus, memory_gb
[output]       dir = "runs", report = true
```
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import algorithms
from .._errors import ValidationError, listed
from .._validate import MAX_COUNT, boolean, did_you_mean
from .._validate import path as path_
from ..loop import Budget
from ..optimizer import OPERATOR_KEYS
from ..refinement.bandits import POLICIES
from ..refinement.gates import GATES
from .choice import auto_options

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

OBJECTIVE_KINDS = ("problem", "callable", "wasm")
BACKENDS = ("auto", "cpp", "numba", "cuda")
_SECTIONS: dict[str, set[str]] = {
    "experiment": {"name", "seed"},
    "objective": {*OBJECTIVE_KINDS, "dim", "bounds", "n_obj", "ref_point", "maximize",
                  "vectorized", "limits", "options"},
    "budget": {"evals", "seconds", "generations"},
    "refinement": {"bandit", "deploy"},
    "resources": {"workers", "backend", "gpus", "memory_gb"},
    "output": {"dir", "report"},
}  # fmt: skip
_BANDIT_KEYS = {"policy", "arms", "seed"}
_MAX_SAMPLES = 10**6  # served evaluations a generation, or a side's samples: a canary settles
_DEPLOY_KEYS = {"incumbent", "every", "canary_share", "episodes", "noise", "gate", "margin",
                "alpha", "min_samples", "max_samples"}  # fmt: skip
_LIMIT_KEYS = {"fuel", "timeout", "memory", "stack", "tables", "chunk", "worst_fitness"}


class SpecInvalid(ValidationError):
    """A spec with problems; ``problems`` lists each, naming its key."""

    def __init__(self, where: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(listed(where, list(problems), "problem"))


@dataclass(frozen=True)
class ObjectiveSpec:
    """What to optimise: ``kind`` ("problem", "callable" or "wasm") and its ``target`` (the
    problem's name, ``module:function``, or the module's path, resolved from the spec's
    folder), with the genome space and sense the spec gives."""

    kind: str
    target: str
    dim: int | None = None
    bounds: list[list[float]] | None = None
    n_obj: int | None = None
    ref_point: list[float] | None = None
    maximize: bool | None = None  # None: the problem's own sense (minimise, or onemax's max)
    vectorized: bool = True
    limits: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    folder: str | None = None  # the spec's: a callable's module is looked for there first


@dataclass(frozen=True)
class BanditSpec:
    """A bandit choosing, each generation, which arm's operators breed the offspring."""

    policy: str
    arms: tuple[dict[str, Any], ...]
    seed: int | None = None


@dataclass(frozen=True)
class DeploySpec:
    """Canary deployment of the best genome against the incumbent, judged by an A/B gate.

    The incumbent serves ``episodes`` evaluations per generation; a candidate (the best genome
    so far, proposed at most every ``every`` generations when it beats the incumbent's
    genome) gets a ``canary_share`` of them. Served evaluations perturb the version's genome
    by Gaussian noise of ``noise`` times each gene's range: a deployed policy must be robust,
    and the gate sees the spread it needs. ``gate``: "welch", "mann_whitney" (fixed-horizon
    non-inferiority tests at ``alpha`` with ``margin``), "sequential" (mSPRT), or "mean".
    """

    incumbent: list[float] | None = None
    every: int = 5
    canary_share: float = 0.5
    episodes: int = 8
    noise: float = 0.02
    gate: str = "welch"
    margin: float = 0.0
    alpha: float = 0.05
    min_samples: int = 10
    max_samples: int = 200


@dataclass(frozen=True)
class Resources:
    """What the run may use: evaluation ``workers`` (None: planning picks), the kernel
    ``backend``, ``gpus`` and ``memory_gb`` it needs."""

    workers: int | None = None
    backend: str = "auto"
    gpus: int = 0
    memory_gb: float | None = None


@dataclass(frozen=True)
class Spec:
    """A checked experiment spec; ``source`` is the TOML as read, ``where`` the file."""

    name: str
    seed: int | None
    objective: ObjectiveSpec
    algorithm: str
    options: dict[str, Any]
    budget: Budget
    bandit: BanditSpec | None
    deploy: DeploySpec | None
    resources: Resources
    output_dir: Path
    report: bool
    where: str = "spec"
    source: dict[str, Any] = field(repr=False, default_factory=dict)
    # What a lenient read found wrong (each replaced by its default): validation reports them
    # with the plan's own violations, all in one pass.
    problems: tuple[str, ...] = ()


def load(path: str | Path, *, where: str | Path | None = None, lenient: bool = False) -> Spec:
    """Read and check the spec at ``path``; relative paths in it resolve from the folder of
    ``where`` (default: ``path``; a run folder's copy names the original). ``lenient``: see
    :func:`parse`."""
    p = path_(path, "path")
    where = None if where is None else path_(where, "where")
    boolean(lenient, "lenient")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValidationError(f"spec file {p} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"spec file {p} cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"spec file {p} is not valid TOML: {exc}") from exc
    return parse(raw, where=str(p if where is None else where), lenient=lenient)


class _Checker:
    """Reads typed values out of the raw tables, collecting every problem."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.problems: list[str] = []

    def table(self, name: str, value: Any, allowed: set[str]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problems.append(f"[{name}] must be a table, got {value!r}")
            return {}
        for key in sorted(set(value) - allowed):
            self.problems.append(f"unknown key {name}.{key}{did_you_mean(key, allowed)}; allowed: "
                                 f"{', '.join(sorted(allowed))}")  # fmt: skip
        return value

    def get(self, where: str, table: dict[str, Any], key: str, check: Callable[[Any], bool],
            want: str, default: Any = None) -> Any:  # fmt: skip
        if key not in table:
            return default
        value = table[key]
        if not check(value):
            hint = did_you_mean(value, getattr(check, "choices", ()))
            self.problems.append(f"{where}.{key} must be {want}, got {value!r}{hint}")
            return default
        return value


def _int(low: int, high: int = MAX_COUNT) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


def _number(low: float, high: float = math.inf, *, open_low: bool = False) -> Callable[[Any], bool]:
    def ok(v: Any) -> bool:
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            return False
        return (v > low if open_low else v >= low) and v <= high

    return ok


def _numbers(v: Any) -> bool:
    return isinstance(v, list) and all(_number(-math.inf)(x) for x in v) and len(v) > 0


def _bounds(v: Any) -> bool:
    def pair(p: Any) -> bool:
        return isinstance(p, list) and len(p) == 2 and _numbers(p)

    return isinstance(v, list) and len(v) > 0 and all(pair(p) for p in v)


def _text(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _is(kind: type) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, kind)


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], bool]:
    def ok(v: Any) -> bool:
        return isinstance(v, str) and v.lower() in choices

    ok.choices = choices  # type: ignore[attr-defined]  # for a did-you-mean
    return ok


def parse(raw: dict[str, Any], where: str = "spec", *, lenient: bool = False) -> Spec:
    """Check a spec already read from TOML; every problem found is reported at once.

    ``where`` is the spec's path: a wasm module's path is resolved from its folder.
    ``lenient``: a spec with problems is still returned, each wrong value replaced by its
    default and the problems in ``Spec.problems``, so that validation can plan it and report
    everything together (unless there is no objective to plan).
    """
    c = _Checker(raw)
    sections = _SECTIONS | {"algorithm": _algorithm_keys()}
    for section in sorted(set(raw) - set(sections)):
        c.problems.append(f"unknown section [{section}]{did_you_mean(section, sections)}; "
                          f"allowed: {', '.join(sorted(sections))}")  # fmt: skip
    t = {name: c.table(name, raw.get(name), keys) for name, keys in sections.items()}

    experiment = t["experiment"]
    name = c.get("experiment", experiment, "name", _text, "a non-empty string", Path(where).stem)
    seed = c.get("experiment", experiment, "seed", _int(0, 2**64 - 1), "an integer in [0, 2**64)")

    objective = _objective(c, t["objective"], Path(where).parent)
    algorithm, options = _algorithm(c, t["algorithm"])
    budget = _budget(c, t["budget"])
    refinement = t["refinement"]
    bandit = _bandit(c, c.table("refinement.bandit", refinement.get("bandit"), _BANDIT_KEYS))
    deploy = _deploy(c, c.table("refinement.deploy", refinement.get("deploy"), _DEPLOY_KEYS))
    res = t["resources"]
    resources = Resources(
        workers=c.get("resources", res, "workers", _int(1), "an integer >= 1"),
        backend=str(c.get("resources", res, "backend", _one_of(BACKENDS),
                          f"one of {', '.join(BACKENDS)}", "auto")).lower(),
        gpus=c.get("resources", res, "gpus", _int(0), "an integer >= 0", 0),
        memory_gb=c.get("resources", res, "memory_gb", _number(0, open_low=True),
                        "a positive number of GiB"),
    )  # fmt: skip
    out = t["output"]
    output_dir = c.get("output", out, "dir", _text, "a folder path", "runs")
    report = c.get("output", out, "report", _is(bool), "true or false", True)
    if c.problems and (not lenient or objective is None):
        raise SpecInvalid(where, c.problems)
    assert objective is not None
    if c.problems and (budget.evals, budget.seconds, budget.generations) == (None, None, None):
        budget = Budget(generations=1)  # a stand-in, so that the rest can still be planned
    return Spec(
        name=name, seed=seed, objective=objective, algorithm=algorithm, options=options,
        budget=budget, bandit=bandit, deploy=deploy, resources=resources,
        output_dir=Path(output_dir), report=report, where=where, source=raw,
        problems=tuple(c.problems),
    )  # fmt: skip


def _objective(c: _Checker, o: dict[str, Any], base: Path) -> ObjectiveSpec | None:
    kinds = [k for k in OBJECTIVE_KINDS if k in o]
    if len(kinds) != 1:
        given = f"got {', '.join(kinds)}" if kinds else "got none"
        c.problems.append(
            "[objective] needs exactly one of problem (a built-in: rastrigin, zdt1, ...), "
            f'callable ("module:function") or wasm (a .wasm path); {given}'
        )
        return None
    kind = kinds[0]
    target = o[kind]
    if not isinstance(target, str) or not target:
        c.problems.append(f"objective.{kind} must be a non-empty string, got {target!r}")
        return None
    if kind == "callable" and (target.count(":") != 1 or not all(target.split(":"))):
        c.problems.append(
            f'objective.callable must be "module:function" (e.g. "mypkg.fitness:score"), '
            f"got {target!r}"
        )
    if kind == "wasm":
        target = str(base / target)  # an absolute path stays as it is
    for key, only in (("vectorized", "callable"), ("limits", "wasm"), ("options", "problem")):
        if key in o and kind != only:
            c.problems.append(f"objective.{key} applies to a {only} objective, not a {kind}")
    limits = c.table("objective.limits", o.get("limits"), _LIMIT_KEYS) if "limits" in o else None
    if kind in ("callable", "wasm") and "bounds" not in o:
        c.problems.append(
            f"a {kind} objective needs objective.bounds: [[low, high]] for every gene, or one "
            "[low, high] per gene"
        )
    options = c.get("objective", o, "options", _is(dict), "a table", {})
    return ObjectiveSpec(
        kind=kind,
        target=target,
        dim=c.get("objective", o, "dim", _int(1), "an integer >= 1"),
        bounds=c.get("objective", o, "bounds", _bounds, "a list of [low, high] pairs"),
        n_obj=c.get("objective", o, "n_obj", _int(1), "an integer >= 1"),
        ref_point=c.get("objective", o, "ref_point", _numbers, "a list of numbers"),
        maximize=c.get("objective", o, "maximize", _is(bool), "true or false"),
        vectorized=c.get("objective", o, "vectorized", _is(bool), "true or false", True),
        limits=dict(limits) if limits is not None else None,
        options=dict(options),
        folder=str(base.resolve()),
    )


def keys() -> dict[str, set[str]]:
    """Every key a spec may hold, by its table's dotted name: what parsing checks against
    (the algorithm's from the registry)."""
    tables = {k: set(v) for k, v in _SECTIONS.items() if k != "refinement"}
    return tables | {"algorithm": _algorithm_keys(), "objective.limits": set(_LIMIT_KEYS),
                     "refinement.bandit": set(_BANDIT_KEYS),
                     "refinement.deploy": set(_DEPLOY_KEYS)}  # fmt: skip


def _algorithm_keys() -> set[str]:
    """Every key of ``[algorithm]``: the name and any registered algorithm's options."""
    return {"name"}.union(*(a.options for a in algorithms.ALGORITHMS.values()))


def _algorithm(c: _Checker, a: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    names = (*algorithms.ALGORITHMS, "auto")
    name = c.get("algorithm", a, "name", _one_of(names), f"one of {', '.join(names)}", "auto")
    name = str(name).lower()
    options = {k: v for k, v in a.items() if k != "name"}
    takes = auto_options() if name == "auto" else set(algorithms.get(name).options)
    for key in sorted(set(options) - takes):
        if key in _algorithm_keys():
            c.problems.append(f"algorithm.{key} does not apply to {name}")
    c.get("algorithm", a, "pop_size", _int(2), "an integer >= 2")
    bad = {k for k in options if k not in takes}  # reported above; planned without
    if not _int(2)(a.get("pop_size", 2)):
        bad.add("pop_size")
    return name, {k: v for k, v in options.items() if k not in bad}


def _budget(c: _Checker, b: dict[str, Any]) -> Budget:
    budget = Budget(
        evals=c.get("budget", b, "evals", _int(1), "a positive integer"),
        seconds=c.get("budget", b, "seconds", _number(0, open_low=True), "a positive number"),
        generations=c.get("budget", b, "generations", _int(1), "a positive integer"),
    )
    if not b:
        c.problems.append(
            "[budget] needs at least one of evals, seconds or generations: a run must end"
        )
    return budget


def _bandit(c: _Checker, b: dict[str, Any]) -> BanditSpec | None:
    if not b:
        return None
    policy = c.get("refinement.bandit", b, "policy", _one_of(tuple(POLICIES)),
                   f"one of {', '.join(POLICIES)}", "thompson")  # fmt: skip
    arms: Any = b.get("arms")
    if not (isinstance(arms, list) and len(arms) >= 2 and all(isinstance(x, dict) for x in arms)):
        c.problems.append(
            "refinement.bandit.arms must be a list of at least two tables of operators, e.g. "
            '[{crossover = "sbx"}, {crossover = "blend"}]'
        )
        arms = []
    for i, arm in enumerate(arms):
        for key in sorted(set(arm) - set(OPERATOR_KEYS)):
            c.problems.append(
                f"refinement.bandit.arms[{i}].{key} is not an operator"
                f"{did_you_mean(key, OPERATOR_KEYS)}; allowed: {', '.join(OPERATOR_KEYS)}"
            )
    seed = c.get("refinement.bandit", b, "seed", _int(0, 2**64 - 1), "an integer in [0, 2**64)")
    return BanditSpec(str(policy).lower(), tuple(dict(a) for a in arms), seed)


def _deploy(c: _Checker, d: dict[str, Any]) -> DeploySpec | None:
    if not d:
        return None
    w = "refinement.deploy"
    default = DeploySpec()
    get = c.get
    spec = DeploySpec(
        incumbent=get(w, d, "incumbent", _numbers, "a genome (a list of numbers)"),
        every=get(w, d, "every", _int(1), "a positive integer", default.every),
        canary_share=get(w, d, "canary_share", _number(0, 1, open_low=True),
                         "a number in (0, 1)", default.canary_share),
        episodes=get(w, d, "episodes", _int(1, _MAX_SAMPLES), f"an integer in [1, {_MAX_SAMPLES}]",
                     default.episodes),
        noise=get(w, d, "noise", _number(0, 1), "a number in [0, 1] (a fraction of each gene's "
                  "range)", default.noise),
        gate=str(get(w, d, "gate", _one_of(GATES), f"one of {', '.join(GATES)}",
                     default.gate)).lower(),
        margin=get(w, d, "margin", _number(0), "a number >= 0 in KPI units", default.margin),
        alpha=get(w, d, "alpha", _number(0, 0.5, open_low=True), "a number in (0, 0.5]",
                  default.alpha),
        min_samples=get(w, d, "min_samples", _int(2), "an integer >= 2", default.min_samples),
        max_samples=get(w, d, "max_samples", _int(2, _MAX_SAMPLES),
                        f"an integer in [2, {_MAX_SAMPLES}]", default.max_samples),
    )  # fmt: skip
    if spec.canary_share >= 1:
        c.problems.append(f"{w}.canary_share must be below 1, got {spec.canary_share}")
    if spec.max_samples < spec.min_samples:
        c.problems.append(
            f"{w}.max_samples ({spec.max_samples}) must be at least min_samples "
            f"({spec.min_samples})"
        )
    return spec
