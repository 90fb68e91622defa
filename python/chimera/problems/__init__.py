"""Built-in benchmark problems, vectorised over the rows of an ``(n, dim)`` array.

Single-objective functions (:mod:`.single`) return ``(n,)``: the continuous ones are minimised
with optimum 0, the binary ones (onemax, leading ones, knapsack) maximised. The multi-objective
families, ZDT (:mod:`.zdt`) and DTLZ (:mod:`.dtlz`), return ``(n, n_obj)`` to minimise and
sample their true Pareto front with ``pareto_front(n_points)``. :func:`get` returns a
:class:`Problem` with the usual bounds, genome dtype and sense, which ``chimera run`` specs use
by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import ValidationError
from .._validate import did_you_mean, fits_in_memory, integer
from ._util import MultiObjective
from .dtlz import DTLZ1, DTLZ2, DTLZ3, DTLZ4, DTLZ5, DTLZ6, DTLZ7
from .single import (
    Knapsack,
    Objective,
    ackley,
    griewank,
    leading_ones,
    onemax,
    rastrigin,
    rosenbrock,
    schwefel,
    sphere,
    styblinski_tang,
)
from .zdt import ZDT1, ZDT2, ZDT3, ZDT4, ZDT6, ZDT6_F1_MIN

__all__ = [
    "DTLZ1",
    "DTLZ2",
    "DTLZ3",
    "DTLZ4",
    "DTLZ5",
    "DTLZ6",
    "DTLZ7",
    "NAMES",
    "ZDT1",
    "ZDT2",
    "ZDT3",
    "ZDT4",
    "ZDT6",
    "ZDT6_F1_MIN",
    "Knapsack",
    "MultiObjective",
    "Objective",
    "Problem",
    "ackley",
    "get",
    "griewank",
    "leading_ones",
    "onemax",
    "rastrigin",
    "rosenbrock",
    "schwefel",
    "sphere",
    "styblinski_tang",
]


@dataclass(frozen=True)
class Problem:
    """A named objective with its usual bounds, genome dtype, sense and optimum.

    ``fun`` maps an ``(n, dim)`` array to ``(n,)`` when ``n_obj == 1`` and to ``(n, n_obj)``
    otherwise. Multi-objective problems have no single ``optimum`` (it is ``None``); their
    ``pareto_front(n_points)`` returns points of the true front instead.
    """

    name: str
    fun: Objective
    bounds: np.ndarray
    dtype: str = "float64"
    maximize: bool = False
    optimum: float | None = 0.0
    options: dict[str, Any] = field(default_factory=dict)
    n_obj: int = 1
    pareto_front: Callable[[int], np.ndarray] | None = None

    @property
    def dim(self) -> int:
        return int(self.bounds.shape[0])


_CONTINUOUS: dict[str, tuple[Objective, float]] = {
    "sphere": (sphere, 5.12),
    "rastrigin": (rastrigin, 5.12),
    "rosenbrock": (rosenbrock, 5.0),
    "ackley": (ackley, 32.768),
    "griewank": (griewank, 600.0),
    "schwefel": (schwefel, 500.0),
    "styblinski_tang": (styblinski_tang, 5.0),
}
_BINARY: dict[str, Objective] = {"onemax": onemax, "leading_ones": leading_ones}
_ZDT: dict[str, Callable[[], MultiObjective]] = {
    "zdt1": ZDT1,
    "zdt2": ZDT2,
    "zdt3": ZDT3,
    "zdt4": ZDT4,
    "zdt6": ZDT6,
}
_DTLZ: dict[str, Callable[..., MultiObjective]] = {
    "dtlz1": DTLZ1,
    "dtlz2": DTLZ2,
    "dtlz3": DTLZ3,
    "dtlz4": DTLZ4,
    "dtlz5": DTLZ5,
    "dtlz6": DTLZ6,
    "dtlz7": DTLZ7,
}
NAMES = (*_CONTINUOUS, *_BINARY, "knapsack", *_ZDT, *_DTLZ)
_OPTIONS: dict[str, set[str]] = {"knapsack": {"seed"}, **{key: {"n_obj"} for key in _DTLZ}}


def _check_dim(dim: Any) -> int:
    dim = integer(dim, "problem dim")
    fits_in_memory(32 * dim, f"a problem of dim {dim}")  # its bounds and two genomes
    return dim


def get(name: str, dim: int | None = None, **options: Any) -> Problem:
    """The built-in problem ``name`` in ``dim`` dimensions.

    Parameters
    ----------
    name : str
        One of :data:`NAMES` (case and ``-``/``_`` are ignored).
    dim : int, optional
        Number of decision variables. Required for single-objective problems; for ZDT and DTLZ
        it defaults to the usual size (ZDT1-3: 30, ZDT4/6: 10, DTLZ: ``n_obj + k - 1``).
    **options
        ``seed`` for ``knapsack``; ``n_obj`` (>= 2, default 3) for the DTLZ problems.

    Returns
    -------
    Problem
        With ``n_obj`` and ``pareto_front`` set for the multi-objective problems.

    Raises
    ------
    ValidationError
        On an unknown name or option, a missing or too small ``dim``, or ``n_obj < 2``.
    """
    key = str(name).strip().lower().replace("-", "_")
    if key not in NAMES:
        raise ValidationError(f"unknown problem {name!r}{did_you_mean(key, NAMES)}; choose one "
                              f"of {', '.join(NAMES)}")  # fmt: skip
    unknown = set(options) - _OPTIONS.get(key, set())
    if unknown:
        raise ValidationError(f"unknown option(s) {', '.join(sorted(unknown))} for problem {key!r}")
    if key in _ZDT or key in _DTLZ:
        return _multi_objective(key, dim, options)
    if dim is None:
        raise ValidationError(f"problem {key!r} needs dim (the number of variables)")
    d = _check_dim(dim)
    if key == "rosenbrock" and d < 2:
        raise ValidationError("rosenbrock needs dim >= 2")
    if key in _CONTINUOUS:
        fun, half = _CONTINUOUS[key]
        return Problem(key, fun, np.tile([-half, half], (d, 1)))
    binary = np.tile([0.0, 1.0], (d, 1))
    if key in _BINARY:
        return Problem(key, _BINARY[key], binary, dtype="bool", maximize=True, optimum=float(d))
    if key == "knapsack":
        ks = Knapsack.random(d, int(options.get("seed", 0)))
        return Problem(
            key, ks, binary, dtype="bool", maximize=True, optimum=ks.optimum(), options=options
        )
    raise AssertionError(f"problem {key!r} is listed in NAMES but not built")  # pragma: no cover


def _multi_objective(key: str, dim: int | None, options: dict[str, Any]) -> Problem:
    inst: MultiObjective
    if key in _ZDT:
        inst = _ZDT[key]()
    else:
        options = {"n_obj": 3, **options}
        inst = _DTLZ[key](n_obj=options["n_obj"])  # refuses a bad n_obj, naming it
    d = inst.default_dim if dim is None else _check_dim(dim)
    if d < inst.min_dim:
        what = "2 objectives" if key in _ZDT else f"n_obj={inst.n_obj}"
        raise ValidationError(f"{key} with {what} needs dim >= {inst.min_dim}, got dim={d}")
    return Problem(
        key,
        inst,
        inst.bounds(d),
        optimum=None,
        options=options,
        n_obj=int(inst.n_obj),
        pareto_front=inst.pareto_front,
    )
