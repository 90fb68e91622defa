"""The spec's objective made real: a built-in problem, a Python callable imported from
``module:function``, or a WebAssembly agent loaded into the execution sandbox, each as a
:class:`~chimera.problems.Problem` (vectorised ``fun``, bounds, sense, objectives)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import problems
from .._errors import ValidationError
from ..execution import Limits, WasmAgent
from .spec import ObjectiveSpec


@dataclass(frozen=True)
class Objective:
    """A resolved objective: its ``problem`` (vectorised ``fun`` and the genome space), and
    for a wasm agent the module's bytes and the sandbox ``limits``."""

    spec: ObjectiveSpec
    problem: problems.Problem
    module: bytes | None = None
    limits: Limits | None = None

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def dim(self) -> int:
        return self.problem.dim

    @property
    def n_obj(self) -> int:
        return self.problem.n_obj

    @property
    def bounds(self) -> np.ndarray:
        return self.problem.bounds

    @property
    def sign(self) -> float:
        """From the objective's sense to the minimising one the optimizers keep."""
        return -1.0 if self.problem.maximize else 1.0

    def agent(self) -> WasmAgent:
        """A fresh sandboxed agent of the module (wasm objectives only)."""
        if self.module is None:
            raise ValidationError(f"objective {self.problem.name!r} is not a wasm agent")
        return WasmAgent(self.module, dim=self.dim, limits=self.limits, name=self.problem.name)

    def ref_point(self) -> np.ndarray | None:
        """The hypervolume reference point: the spec's, else 1.1 times the true front's
        nadir when the problem knows its front; None for one objective."""
        if self.n_obj < 2:
            return None
        if self.spec.ref_point is not None:
            ref = np.asarray(self.spec.ref_point, dtype=np.float64)
            if ref.shape != (self.n_obj,):
                raise ValidationError(
                    f"objective.ref_point must have {self.n_obj} values, one per objective, "
                    f"got {self.spec.ref_point!r}"
                )
            return ref
        if self.problem.pareto_front is None:
            return None
        return 1.1 * np.asarray(self.problem.pareto_front(200)).max(axis=0)


def _bounds(o: ObjectiveSpec, dim: int | None) -> np.ndarray:
    """The spec's bounds as (dim, 2): one pair is repeated for every gene."""
    if o.bounds is None:
        raise ValidationError(f"a {o.kind} objective needs objective.bounds: [[low, high]] for "
                              "every gene, or one [low, high] per gene")  # fmt: skip
    pairs = np.asarray(o.bounds, dtype=np.float64)
    if pairs.shape[0] == 1:
        if dim is None:
            raise ValidationError(
                "objective.bounds gives one [low, high] for every gene: also give objective.dim"
            )
        return np.repeat(pairs, dim, axis=0)
    if dim is not None and pairs.shape[0] != dim:
        raise ValidationError(
            f"objective.bounds has {pairs.shape[0]} pairs but the genome has {dim} genes"
        )
    return pairs


# The modules imported from a spec's folder, by top-level name, with that folder: a later spec
# with a module of the same name beside it gets its own, not the first one's.
_FROM_SPECS: dict[str, str] = {}


def _import(target: str, folder: str | None) -> Callable[..., Any]:
    """The function ``module:function``: the module beside the spec (in ``folder``) when there
    is one, else the one on the path. The folder is on the path only while the module is
    imported, and a file beside the spec may not take the name of an installed module (it
    would shadow it for the rest of the process)."""
    module_name, _, attr = target.partition(":")
    top = module_name.split(".")[0]
    here = folder is not None and (
        (Path(folder) / f"{top}.py").is_file() or (Path(folder) / top / "__init__.py").is_file()
    )
    try:
        if here:
            assert folder is not None
            _make_room(target, top, folder)
            sys.path.insert(0, folder)
            try:
                module = importlib.import_module(module_name)
            finally:
                sys.path.remove(folder)
            _FROM_SPECS[top] = folder
        else:
            module = importlib.import_module(module_name)
    except ImportError as exc:
        if exc.name is not None and not module_name.startswith(exc.name):
            raise ValidationError(f"objective.callable {target!r}: {module_name} was found but "
                                  f"needs {exc.name!r}, which is not installed: install it") from exc  # fmt: skip
        raise ValidationError(
            f"objective.callable {target!r}: cannot import {module_name!r} ({exc}); put "
            f"{top}.py beside the spec, install it, or add its folder to PYTHONPATH"
        ) from exc
    fun = getattr(module, attr, None)
    if fun is None or not callable(fun):
        raise ValidationError(
            f"objective.callable {target!r}: {module_name} has no function {attr!r}"
        )
    return fun


def _make_room(target: str, top: str, folder: str) -> None:
    """Refuses a module beside the spec named like an installed one; forgets another spec's
    module of the same name, so that this spec's is imported."""
    if _FROM_SPECS.get(top) == folder:
        return
    if top in _FROM_SPECS:  # another spec's: this one's replaces it
        for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
            del sys.modules[name]
        return
    installed = sys.modules.get(top) or importlib.util.find_spec(top)
    origin = getattr(installed, "origin", None) or getattr(installed, "__file__", None)
    if installed is not None and not (origin and Path(origin).resolve().is_relative_to(folder)):
        raise ValidationError(
            f"objective.callable {target!r}: {top} beside the spec has the name of an installed "
            f"module ({origin or top}), which it would shadow; rename the file beside the spec"
        )


def _per_row(fun: Callable[..., Any]) -> Callable[[np.ndarray], Any]:
    def vectorised(X: np.ndarray) -> Any:
        return np.asarray([fun(x) for x in X], dtype=np.float64)

    return vectorised


def resolve(o: ObjectiveSpec) -> Objective:
    """The objective the spec names, loaded and checked (ValidationError when it cannot be)."""
    if o.kind == "problem":
        prob = problems.get(o.target, o.dim, **o.options)
        if o.n_obj is not None and o.n_obj != prob.n_obj:  # a DTLZ takes its n_obj
            prob = problems.get(o.target, o.dim, **{**o.options, "n_obj": o.n_obj})
        if o.bounds is not None:
            prob = replace(prob, bounds=_bounds(o, prob.dim))
        if o.maximize is not None:
            prob = replace(prob, maximize=o.maximize)
        if o.n_obj is not None and o.n_obj != prob.n_obj:
            raise ValidationError(
                f"problem {prob.name!r} has {prob.n_obj} objective(s), not objective.n_obj = "
                f"{o.n_obj}"
            )
        return Objective(o, prob)
    if o.kind == "callable":
        fun = _import(o.target, o.folder)
        bounds = _bounds(o, o.dim)
        prob = problems.Problem(
            o.target, fun if o.vectorized else _per_row(fun), bounds, maximize=bool(o.maximize),
            optimum=None, n_obj=o.n_obj or 1,
        )  # fmt: skip
        return Objective(o, prob)
    path = Path(o.target)
    try:
        module = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"objective.wasm: cannot read {path}: {exc}") from exc
    try:
        limits = Limits(**(o.limits or {}))
    except TypeError as exc:  # a value of the wrong kind
        raise ValidationError(f"objective.limits: {exc}") from exc
    dim = o.dim
    if dim is None and o.bounds is not None and len(o.bounds) > 1:
        dim = len(o.bounds)
    agent = WasmAgent(module, dim=dim, limits=limits, name=path.stem)
    if o.n_obj is not None and o.n_obj != agent.n_obj:
        raise ValidationError(
            f"agent {path.name} reports {agent.n_obj} objective(s), not objective.n_obj = {o.n_obj}"
        )
    prob = problems.Problem(path.stem, agent, _bounds(o, agent.dim), maximize=bool(o.maximize),
                            optimum=None, n_obj=agent.n_obj)  # fmt: skip
    return Objective(o, prob, module, limits)
