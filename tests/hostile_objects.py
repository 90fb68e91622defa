"""The harness's targets among long-lived objects: every public method of the Bayesian
optimiser, the tuner, the KPI stream, the genome store, the scheduler, the wasm agent and its
pools, and the KPI readers and collectors, each argument hostile in turn.

The methods are read from the classes, and the valid value of each argument from its name
(:data:`VALID`): a method added later is driven without being listed, as long as its
arguments have names the table knows (a method with an unknown required argument is left out,
and ``test_the_harness_covers_the_objects`` keeps the count from falling). Objects are made on
first use and closed when the session ends.
"""

from __future__ import annotations

import atexit
import functools
import inspect
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from hostile_inputs import Target, keyword_targets

AGENTS = Path(__file__).resolve().parent.parent / "examples" / "agents"
CARTPOLE = AGENTS / "cartpole.wasm"
ROW = {"agent_id": "a", "version": "v1", "metric": "latency", "value": 1.0,
       "timestamp": 0, "tags": {"k": "v"}}  # fmt: skip
PROMETHEUS = '# TYPE latency gauge\nlatency{agent="a",version="v1"} 3.5\n'
TINY_SPEC = """[experiment]
name = "harness"
seed = 1
[objective]
problem = "sphere"
dim = 2
[algorithm]
name = "ga"
pop_size = 8
[budget]
generations = 2
[output]
report = false
"""


def _lazy(make: Callable[[], Any]) -> Callable[[], Any]:
    """``make()`` once, on first use; its ``close`` (if any) when the session ends."""

    @functools.cache
    def once() -> Any:
        obj = make()
        if hasattr(obj, "close"):
            atexit.register(obj.close)
        return obj

    return once


class Valid:
    """A valid value for each argument name the objects' methods use, made in ``tmp``."""

    def __init__(self, tmp: Path) -> None:
        from chimera import kpi
        from chimera.evolution.store import GenomeStore
        from chimera.execution import (
            AgentPool,
            ArtifactStore,
            Deployment,
            Scheduler,
            ServingPool,
            WasmAgent,
        )
        from chimera.refinement import BayesianOptimizer, Integer, Real, Tuner

        self.tmp = tmp
        table = kpi.records([ROW])
        pq.write_table(table, tmp / "kpis.parquet")
        self.space = {"x": Real(0.0, 1.0), "k": Integer(1, 3)}
        self.bo = _lazy(lambda: BayesianOptimizer(self.space, seed=0, n_candidates=64))
        self.tuner = _lazy(lambda: Tuner({"layout": ["a", "b"], "discount": Real(0.0, 0.5)},
                                         objective="conversion", seed=0))  # fmt: skip
        self.stream = _lazy(kpi.KpiStream)
        self.store = _lazy(lambda: GenomeStore(tmp / "genomes.sqlite"))
        self.scheduler = _lazy(lambda: Scheduler(workers=1, seed=0))
        self.agent = _lazy(lambda: WasmAgent(CARTPOLE))
        self.pool = _lazy(lambda: AgentPool(self.agent(), workers=1))
        self.artifacts = _lazy(lambda: ArtifactStore(tmp / "artifacts"))
        self.serving = _lazy(lambda: ServingPool(self.artifacts(), Deployment(self.v1()),
                                                 workers=1))  # fmt: skip
        self.by_name: dict[str, Callable[[], Any]] = {
            "params": lambda: self.bo().ask(),
            "values": lambda: 1.0,
            "u": lambda: np.full(2, 0.5),
            "n": lambda: 1,
            "parameters": lambda: self.tuner().suggest(),
            "kpis": lambda: {"conversion": 0.03},
            "rows": lambda: [ROW],
            "table": lambda: table,
            "window": lambda: None,
            "path": lambda: tmp / "kpis.parquet",
            "source": lambda: "table",
            "text_or_url": lambda: PROMETHEUS,
            "pid": lambda: os.getpid(),
            "interval": lambda: 0.01,
            "run": self._run,
            "experiment": self._experiment,
            "name": lambda: "e",
            "generation": lambda: 0,
            "after_generation": lambda: 5,
            "objective": lambda: 0,
            "backend": lambda: "cpp",
            "dim": lambda: 3,
            "fn": lambda: str,  # takes any item, or none
            "items": lambda: [1, -2],
            "tasks": lambda: [],
            "task": lambda: self.scheduler().submit(str, 1),
            "X": lambda: np.zeros((2, 5)),
            "requests": lambda: np.zeros((2, 5)),
            "version": self.v2,
            "first": lambda: 0,
            "shards": lambda: 1,
            "futures": lambda: [],
        }

    def v1(self) -> str:
        return self.artifacts().put(CARTPOLE, [0.0, 0.0, 1.0, 0.5, 0.0], {"name": "v1"})

    def v2(self) -> str:
        return self.artifacts().put(CARTPOLE, [0.0, 0.5, 10.0, 2.0, 0.0], {"name": "v2"})

    @functools.cache  # noqa: B019 -- one store, one experiment for the session
    def _experiment(self) -> int:
        return int(self.store().experiment("harness"))

    @functools.cache  # noqa: B019 -- one run with one generation, for the session
    def _run(self) -> int:
        store = self.store()
        run = int(store.create_run(self._experiment(), backend="cpp", dim=3))
        store.add_generation(run, 0, np.zeros((2, 3)), np.zeros(2))
        return run


def _method_targets(label: str, obj: Callable[[], Any], valid: Valid,
                    usable: Callable[[], Any] | None = None, skip: tuple[str, ...] = (),
                    own: dict[str, Callable[[], Any]] | None = None) -> Iterator[Target]:  # fmt: skip
    """A target per argument of each public method of ``obj()``'s class whose required
    arguments all have a valid value by name (``own`` first: the object's own meanings of a
    name, such as the genome store's X)."""
    by_name = valid.by_name | (own or {})
    cls = type(obj())
    for name, method in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_") or name in skip or not method.__module__.startswith("chimera"):
            continue
        params = {k: p for k, p in inspect.signature(method).parameters.items() if k != "self"}
        required = [k for k, p in params.items()
                    if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]  # fmt: skip
        if not params or not set(required) <= set(by_name):
            continue

        def call(_method: str = name, _required: list[str] = required, **given: Any) -> Any:
            base = {k: by_name[k]() for k in _required if k not in given}
            return getattr(obj(), _method)(**(base | given))

        yield from keyword_targets(f"{label}.{name}", call, params, {}, usable=usable)


def _constructor_targets(label: str, cls: type, base: Callable[[], dict[str, Any]],
                         skip: tuple[str, ...] = ()) -> Iterator[Target]:  # fmt: skip
    params = dict(inspect.signature(cls).parameters)

    def make(**given: Any) -> Any:
        obj = cls(**(base() | given))
        if hasattr(obj, "close"):
            obj.close()
        return obj

    yield from keyword_targets(label, make, params, {}, skip=skip)


def object_targets(tmp: Path) -> Iterator[Target]:
    """Every target among the long-lived objects (see the module docstring)."""
    from chimera import kpi
    from chimera.discovery import collectors
    from chimera.evolution.store import GenomeStore
    from chimera.execution import AgentPool, Deployment, Scheduler, ServingPool, WasmAgent
    from chimera.refinement import BayesianOptimizer, Categorical, Integer, Real, Tuner

    v = Valid(tmp)
    for cls in (Real, Integer):
        yield from _constructor_targets(cls.__name__, cls, lambda: {"low": 0, "high": 1})
    yield from _constructor_targets("Categorical", Categorical, lambda: {"choices": ["a"]})
    yield from _constructor_targets("BayesianOptimizer", BayesianOptimizer,
                                    lambda: {"space": v.space})  # fmt: skip
    yield from _method_targets("BayesianOptimizer", v.bo, v, usable=lambda: v.bo().ask())
    yield from _constructor_targets("Tuner", Tuner, lambda: {"space": {"a": [1, 2]},
                                                              "objective": "kpi"})  # fmt: skip
    yield from _method_targets("Tuner", v.tuner, v, usable=lambda: v.tuner().suggest())
    yield from _constructor_targets("KpiStream", kpi.KpiStream, dict)
    yield from _method_targets("KpiStream", v.stream, v, usable=lambda: v.stream().table())
    for fun in (kpi.from_table, kpi.read, kpi.records, kpi.aggregate, collectors.from_file,
                collectors.from_prometheus, collectors.process_stats):  # fmt: skip
        params = dict(inspect.signature(fun).parameters)
        required = [k for k, p in params.items() if p.default is p.empty]
        label = f"{fun.__module__.split('.')[-1]}.{fun.__name__}"

        def call(_fun: Any = fun, _required: list[str] = required, **given: Any) -> Any:
            return _fun(**({k: v.by_name[k]() for k in _required if k not in given} | given))

        yield from keyword_targets(label, call, params, {})
    yield from _run_targets(tmp)
    yield from _constructor_targets("GenomeStore", GenomeStore,
                                    lambda: {"path": tmp / "other.sqlite"})  # fmt: skip
    stored = lambda: v.store().genomes(v._run()).num_rows  # noqa: E731
    before: list[int] = []

    def store_usable() -> None:  # nothing stored is lost, and the store still answers
        rows = stored()
        before.append(rows)
        assert rows >= max(before), "a refused call lost stored genomes"

    def fresh() -> int:  # a generation not stored yet, so that a valid call is taken
        return int(v.store().last_generation(v._run()) or 0) + 1

    first = lambda: int(v.store().genomes(v._run()).column("id")[0].as_py())  # noqa: E731
    yield from _method_targets("GenomeStore", v.store, v, usable=store_usable,
                               skip=("close", "truncate"),  # truncate loses genomes by design
                               own={"X": lambda: np.zeros((2, 3)), "F": lambda: np.zeros(2),
                                    "generation": fresh, "genome_id": first})  # fmt: skip
    yield from _constructor_targets("Scheduler", Scheduler, dict)
    yield from _method_targets("Scheduler", v.scheduler, v,
                               usable=lambda: v.scheduler().submit(abs, -1).result(5) == 1,
                               skip=("close",))  # fmt: skip
    yield from _constructor_targets("WasmAgent", WasmAgent, lambda: {"module": CARTPOLE})
    yield from _method_targets("WasmAgent", v.agent, v, usable=lambda: v.agent()(np.zeros(5)))
    yield from _constructor_targets("AgentPool", AgentPool, lambda: {"agent": v.agent()},
                                    skip=("metrics",))  # fmt: skip
    yield from _method_targets("AgentPool", v.pool, v, skip=("close",),
                               usable=lambda: v.pool().evaluate(np.zeros((2, 5))))  # fmt: skip
    yield from _constructor_targets(
        "ServingPool", ServingPool,
        lambda: {"store": v.artifacts(), "deployment": Deployment(v.v1()), "workers": 1},
        skip=("metrics",))  # fmt: skip
    yield from _method_targets("ServingPool", v.serving, v, skip=("close",),
                               usable=lambda: v.serving().serve(np.zeros((1, 5))))  # fmt: skip


def _run_targets(tmp: Path) -> Iterator[Target]:
    """The pipeline's and the report's functions, and spec loading, validation and planning,
    on a tiny spec (a run of it takes milliseconds)."""
    from chimera import pipeline, planning, report, validation

    spec = tmp / "tiny.toml"
    spec.write_text(TINY_SPEC, encoding="utf-8")
    fresh = lambda: Path(tempfile.mkdtemp(dir=tmp)) / "run"  # noqa: E731

    @functools.cache
    def done() -> Path:
        run_dir = fresh()
        pipeline.start(spec, run_dir, probe=False)
        return run_dir

    functions: list[tuple[Callable[..., Any], dict[str, Callable[[], Any]]]] = [
        (pipeline.start, {"spec_path": lambda: spec, "run_dir": fresh}),
        (pipeline.prepare, {"spec_path": lambda: spec, "run_dir": fresh}),
        (pipeline.resume, {"run_dir": done}),
        (report.write, {"run_dir": done}),
        (planning.load, {"path": lambda: spec}),
        (validation.validate, {"spec": lambda: spec}),
        (planning.make_plan, {"spec": lambda: planning.load(spec)}),
    ]
    for fun, valid in functions:
        params = dict(inspect.signature(fun).parameters)
        required = [k for k, p in params.items() if p.default is p.empty]
        label = f"{fun.__module__.split('.')[1]}.{fun.__name__}"

        def call(_fun: Any = fun, _valid: Any = valid, _required: Any = required,
                 **given: Any) -> Any:  # fmt: skip
            base = {k: _valid[k]() for k in _required if k not in given}
            if "probe" in inspect.signature(_fun).parameters and "probe" not in given:
                base["probe"] = False  # a taken value runs the pipeline: no timing needed
            return _fun(**(base | given))

        yield from keyword_targets(label, call, params, {})
