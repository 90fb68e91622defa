"""The harness's two halves: hostile values, and the public entry points to give them to, read
from Chimera's registries (algorithms, bandit policies, gates, problems, operators) and the
signatures of its public constructors and functions, so that an entry point added later is
covered without being listed here.

A target is one argument of one entry point: ``call(value)`` passes the hostile value in that
argument with every other argument valid; ``names`` are the words a refusal must use to name
the argument; ``kind`` is the argument's annotated type (a value of another kind must be
refused, not taken); ``usable()`` checks, after a refused call, that the object it was made on
still works.
"""

from __future__ import annotations

import atexit
import inspect
import math
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

import chimera
from chimera import algorithms, problems
from chimera.evolution import operators as ops
from chimera.execution import ArtifactStore, Deployment, Limits
from chimera.refinement import bandits, gates

BOUNDS = [(-1.0, 1.0)] * 3


def _ragged() -> Any:
    return np.array([[1.0, 2.0], [3.0]], dtype=object)


_DAMAGED = Path(tempfile.mkdtemp(prefix="chimera-damaged-"))
atexit.register(shutil.rmtree, _DAMAGED, ignore_errors=True)


def _damaged(name: str) -> Callable[[], Path]:
    """A file of that name whose bytes are not what its suffix says (a torn write, a wrong
    download): a path to it must be refused by what reads it, and by everything else."""

    def make() -> Path:
        path = _DAMAGED / name
        path.write_bytes(b"\x00\xffnot what it claims\x89" * 8)
        return path

    return make


#: Values no well-guarded argument takes for the wrong type, named for the report.
HOSTILE: dict[str, Callable[[], Any]] = {
    "None": lambda: None,
    "True": lambda: True,
    "str": lambda: "abc",
    "bytes": lambda: b"x",
    "complex": lambda: 1j,
    "nan": lambda: math.nan,
    "inf": lambda: math.inf,
    "-inf": lambda: -math.inf,
    "-1": lambda: -1,
    "0": lambda: 0,
    "2.5": lambda: 2.5,
    "2**63": lambda: 2**63,
    "10**400": lambda: 10**400,
    "1e308": lambda: 1e308,
    "[]": lambda: [],
    "ragged": _ragged,
    "{}": lambda: {},
    "object()": object,
    "0-d nan": lambda: np.array(np.nan),
    "0-d": lambda: np.zeros(()),
    "empty": lambda: np.zeros(0),
    "3-d": lambda: np.zeros((2, 2, 2)),
    "object array": lambda: np.array([object(), object()]),
    "non-contiguous": lambda: np.arange(24.0).reshape(4, 6)[:, ::2],
    "str array": lambda: np.array(["a", "b"]),
    "inf array": lambda: np.full((3, 2), np.inf),
    "nan array": lambda: np.full(3, np.nan),
    "damaged .parquet": _damaged("kpis.parquet"),
    "damaged .sqlite": _damaged("genomes.sqlite"),
    "damaged .wasm": _damaged("agent.wasm"),
    "damaged .csv": _damaged("kpis.csv"),
}


@dataclass
class Target:
    """One argument of one public entry point (see the module docstring)."""

    name: str
    call: Callable[[Any], Any]
    names: tuple[str, ...]
    kind: str = ""
    usable: Callable[[], Any] | None = None
    tried: int = field(default=0, compare=False)

    def __repr__(self) -> str:
        return self.name


def _kind(annotation: Any) -> str:
    text = str(annotation).replace("'", "")
    return text if text in ("int", "float", "bool", "str", "int | None", "float | None") else ""


# Words that name an argument as well as its own name does, in the domain's terms.
ALIASES = {"run_dir": ("run folder",), "spec_path": ("spec file",), "path": ("spec file",)}


def keyword_targets(label: str, make: Callable[..., Any], params: dict[str, inspect.Parameter],
                    base: dict[str, Any], skip: tuple[str, ...] = (),
                    usable: Callable[[], Any] | None = None) -> Iterator[Target]:  # fmt: skip
    """A target for each named argument of ``make`` (called with ``base`` and that one)."""
    for name, p in params.items():
        if name in skip or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue

        def call(value: Any, name: str = name) -> Any:
            return make(**(base | {name: value}))

        yield Target(f"{label}({name}=)", call, (name, *ALIASES.get(name, ())),
                     _kind(p.annotation), usable)  # fmt: skip


def _algorithm_targets() -> Iterator[Target]:
    for entry in algorithms.ALGORITHMS.values():
        n_obj = {"n_obj": 2} if entry.multi_objective else {}
        params = dict(inspect.signature(entry.cls).parameters)
        yield from keyword_targets(entry.name, entry.cls, params,
                                    {"bounds": BOUNDS, "pop_size": 8, "seed": 0} | n_obj)  # fmt: skip
        made = entry.create(BOUNDS, seed=0, pop_size=8, n_obj=n_obj.get("n_obj"))
        made.ask()

        def usable(opt: Any = made) -> None:  # a refused tell leaves the ask pending
            X = opt.ask()
            opt.tell(np.zeros((len(X), opt.n_obj)))
            opt.ask()

        def tell(v: Any, opt: Any = made) -> None:
            opt.ask()  # the pending ask, or a new one after a drawn value was taken
            opt.tell(v)

        yield Target(f"{entry.name}.tell(F)", tell, ("fitness", "objectives", "f "),
                     usable=usable)  # fmt: skip
        for method, arg in _own_methods(entry.cls):  # inject and whatever an algorithm adds

            def call(v: Any, opt: Any = made, method: str = method) -> Any:
                return getattr(opt, method)(v)

            yield Target(f"{entry.name}.{method}({arg})", call, (arg,), usable=usable)
        donor = entry.create(BOUNDS, seed=0, pop_size=8, n_obj=n_obj.get("n_obj"))
        donor.ask()
        donor.tell(np.ones((8, donor.n_obj)))
        state = donor.state_dict()
        target = entry.create(BOUNDS, seed=0, pop_size=8, n_obj=n_obj.get("n_obj"))
        yield from _state_targets(entry.name, target, state, "checkpoint")


def _own_methods(cls: type) -> Iterator[tuple[str, str]]:
    """The public one-argument methods a class adds to the optimizer protocol."""
    from chimera.optimizer import Optimizer

    for name in sorted(set(dir(cls)) - set(dir(Optimizer))):
        attr = inspect.getattr_static(cls, name)
        if name.startswith("_") or not inspect.isfunction(attr):
            continue
        args = list(inspect.signature(attr).parameters)[1:]
        if len(args) == 1:
            yield name, args[0]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    return bool(a == b) or (a != a and b != b)


def _state_targets(label: str, obj: Any, good: dict[str, Any], word: str,
                   inner: str | None = None) -> Iterator[Target]:  # fmt: skip
    """A target per entry of ``good`` (of ``good[inner]``): the object is reset to ``good``,
    then given the state with that entry hostile; a refusal must leave it at ``good``."""
    entries = good[inner] if inner else good
    for key in entries:

        def load(v: Any, key: str = key) -> None:
            obj.load_state_dict(good)
            bad = good | {inner: good[inner] | {key: v}} if inner else good | {key: v}
            obj.load_state_dict(bad)

        def unchanged() -> None:
            assert _same(obj.state_dict(), good), f"a refused {label} state changed it"

        yield Target(f"{label}.load_state_dict({key})", load, (key, word), usable=unchanged)


def _bandit_targets() -> Iterator[Target]:
    base = dict(inspect.signature(bandits.Bandit.__init__).parameters)
    base.pop("self")
    for policy, cls in bandits.POLICIES.items():
        own = inspect.signature(cls).parameters
        params = {k: v for k, v in own.items() if v.kind is not v.VAR_KEYWORD}
        params |= {k: v for k, v in base.items() if k not in ("n_arms", "params")}
        yield from keyword_targets(policy, cls, params, {"n_arms": 3, "seed": 0})
        b = cls(3, seed=0)

        def usable(b: Any = b) -> None:
            b.update(b.select(), 0.5)

        yield Target(f"{policy}.update(arms)", lambda v, b=b: b.update(v, 0.5), ("arm",),
                     usable=usable)  # fmt: skip
        yield Target(f"{policy}.update(rewards)", lambda v, b=b: b.update(0, v),
                     ("reward",), usable=usable)  # fmt: skip
        yield Target(f"{policy}.select(n)", lambda v, b=b: b.select(v), ("n ", "n must"),
                     usable=usable)  # fmt: skip
        good = cls(3, seed=0)
        good.update(0, 1.0)
        yield from _state_targets(policy, cls(3, seed=0), good.state_dict(), "state", "state")


def _subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))]


def _contextual_bandit_targets() -> Iterator[Target]:
    """The bandits no policy name registers (the contextual ones): their constructors."""
    base = dict(inspect.signature(bandits.Bandit.__init__).parameters)
    for cls in _subclasses(bandits.Bandit):
        if cls in bandits.POLICIES.values() or cls.__name__.startswith("_"):
            continue
        own = inspect.signature(cls).parameters
        params = {k: v for k, v in own.items() if v.kind is not v.VAR_KEYWORD}
        params |= {k: v for k, v in base.items() if k in ("seed", "window", "backend")}
        yield from keyword_targets(cls.__name__, cls, params, {"n_arms": 3, "dim": 2, "seed": 0})


# A valid value for each parameter name the statistics and indicators use: a function added
# later with these names is driven without being listed.
_VALID_BY_NAME: dict[str, Any] = {
    "control": [1.0, 2.0, 3.0, 4.0, 5.0],
    "treatment": [2.0, 3.0, 4.0, 5.0, 6.0],
    "covariate_control": [1.0, 2.0, 2.0, 4.0, 5.0],
    "covariate_treatment": [2.0, 2.0, 4.0, 5.0, 5.0],
    "p_values": [0.01, 0.2, 0.03],
    "counts": [100, 104],
    "successes_control": 10,
    "n_control": 100,
    "successes_treatment": 12,
    "n_treatment": 100,
    "F": [[0.2, 0.8], [0.5, 0.5], [0.8, 0.2]],
    "reference_front": [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]],
    "ref": [1.0, 1.0],
}


def _function_targets() -> Iterator[Target]:
    """Every public function of the statistics and the indicators, each argument hostile in
    turn, the others valid by name (n_resamples kept small, so that a taken value is quick)."""
    from chimera import indicators
    from chimera.refinement import abtest

    for module in (abtest, indicators):
        for name, fun in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(fun):
                continue
            if fun.__module__ != module.__name__:
                continue
            params = dict(inspect.signature(fun).parameters)
            required = [k for k, p in params.items() if p.default is inspect.Parameter.empty]
            if not set(required) <= set(_VALID_BY_NAME):
                continue  # a function whose valid arguments the harness cannot tell
            base = {k: _VALID_BY_NAME[k] for k in required}
            if "n_resamples" in params:
                base["n_resamples"] = 99
            yield from keyword_targets(f"{module.__name__.split('.')[-1]}.{name}", fun, params,
                                        base, skip=("statistic", "n_resamples"))  # fmt: skip


def _detector_targets() -> Iterator[Target]:
    """Every change detector's settings, and a series given to run()."""
    from chimera.refinement import patterns

    for cls in _subclasses(patterns.Detector):
        params = dict(inspect.signature(cls).parameters)
        yield from keyword_targets(cls.__name__, cls, params, {})
        yield Target(f"{cls.__name__}.run(series)", lambda v, cls=cls: cls().run(v),
                     ("observation", "series"))  # fmt: skip


def _gate_targets() -> Iterator[Target]:
    for factory in (gates.non_inferiority, gates.sequential_non_inferiority):
        params = dict(inspect.signature(factory).parameters)
        yield from keyword_targets(factory.__name__, factory, params, {"margin": 0.5})
    params = dict(inspect.signature(gates.gate).parameters)
    good = {"name": "welch", "margin": 0.5, "alpha": 0.05, "min_samples": 5,
            "higher_is_better": False}  # fmt: skip
    yield from keyword_targets("gate", gates.gate, params, good)


def _problem_targets() -> Iterator[Target]:
    for name in problems.NAMES:
        dim = None if name.startswith(("zdt", "dtlz")) else 4
        yield Target(f"problems.get({name!r}, dim=)", lambda v, name=name: problems.get(name, v),
                     ("dim",), "int | None")  # fmt: skip
        fun = problems.get(name, dim).fun
        yield Target(f"problems.{name}(X)", lambda v, fun=fun: fun(v), ("x ", "x must"))


def _operator_targets() -> Iterator[Target]:
    for table in ops.TABLES.values():
        for cls in table.values():
            for f in fields(cls):

                def make(v: Any, cls: Any = cls, f: Any = f) -> Any:
                    return cls(**{f.name: v})

                yield Target(f"{cls.__name__}({f.name}=)", make, (f.name, cls.name),
                             _kind(f.type))  # fmt: skip


def _execution_targets(tmp: Any) -> Iterator[Target]:
    params = dict(inspect.signature(Limits).parameters)
    yield from keyword_targets("Limits", Limits, params, {})
    params = dict(inspect.signature(Deployment).parameters)
    yield from keyword_targets("Deployment", Deployment, params, {"incumbent": "v1"})
    store = ArtifactStore(tmp / "artifacts")
    yield Target("ArtifactStore.put(module)", lambda v: store.put(v, np.zeros(2)), ("module",))
    yield Target("ArtifactStore.put(genome)", lambda v: store.put(b"\0asm", v), ("genome",))


def _minimize_targets() -> Iterator[Target]:
    params = dict(inspect.signature(chimera.minimize).parameters)
    base = {"fun": problems.sphere, "bounds": BOUNDS, "max_evals": 40, "pop_size": 8, "seed": 0}
    yield from keyword_targets("minimize", chimera.minimize, params, base, skip=("fun",))
    yield Target("minimize(fun)", lambda v: chimera.minimize(v, BOUNDS, max_evals=40,
                                                             pop_size=8, seed=0),
                 ("fun", "fitness", "objective", "callable"))  # fmt: skip


def targets(tmp: Any) -> list[Target]:
    """Every target, from the registries and signatures as they are now."""
    from hostile_objects import object_targets  # it builds on this module

    return [*_algorithm_targets(), *_bandit_targets(), *_contextual_bandit_targets(),
            *_gate_targets(), *_function_targets(), *_detector_targets(), *_problem_targets(),
            *_operator_targets(), *_execution_targets(tmp), *_minimize_targets(),
            *object_targets(tmp)]  # fmt: skip


def must_refuse(kind: str, value: Any) -> bool:
    """Whether a value can never be an argument of this annotated kind."""
    if not kind:
        return False
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()  # a 0-d array of a number may stand for the number
    if value is None:
        return not kind.endswith("| None")
    base = kind.split(" |")[0]
    if base == "bool":
        return not isinstance(value, (bool, np.bool_))
    if base == "str":
        return not isinstance(value, str)
    is_int = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if base == "int":
        return not is_int
    real = is_int or (isinstance(value, (float, np.floating)) and not isinstance(value, bool))
    return not real or (isinstance(value, float) and math.isnan(value))  # base == "float"
