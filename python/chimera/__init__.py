"""Chimera: evolve, tune and safely run parameterised agents.

The public API: :func:`minimize`, the optimizers (:class:`GA`, :class:`NSGA2`, :class:`NSGA3`,
:class:`CMAES`, :class:`SepCMAES`, :class:`LMMAES`, :class:`LSHADE`, :class:`JSO`) with
``ask()``/``tell()`` and
``state_dict()``/``load_state_dict()``, :func:`backends` to see which kernel backends work
here, the built-in :mod:`chimera.problems`, and the layer subpackages (:mod:`chimera.discovery`,
:mod:`chimera.evolution`, ...).
"""

from __future__ import annotations

try:
    from . import _core as _core  # the native kernels: fail early with a clear message
except ImportError as exc:  # pragma: no cover - only on a broken install
    raise ImportError(
        "chimera's native module chimera._core is missing or does not load "
        f"({exc}); reinstall with `pip install chimera-engine` or build with `pip install .`"
    ) from exc

from . import algorithms, directions, discovery, evolution, indicators, kpi, problems, strategies
from ._backend import BackendStatus, backends, set_num_threads
from ._errors import (
    BackendUnavailable,
    ChimeraError,
    CircuitOpen,
    FitnessError,
    RunFailed,
    SandboxViolation,
    StateError,
    TaskCancelled,
    TaskFailed,
    TaskTimeout,
    ValidationError,
)
from .evolution import GA, NSGA2, NSGA3
from .optimize import OptimizeResult, minimize
from .optimizer import Optimizer
from .strategies import CMAES, JSO, LMMAES, LSHADE, SepCMAES

__version__ = "0.1.0"

__all__ = [
    "CMAES",
    "GA",
    "JSO",
    "LMMAES",
    "LSHADE",
    "NSGA2",
    "NSGA3",
    "BackendStatus",
    "BackendUnavailable",
    "ChimeraError",
    "CircuitOpen",
    "FitnessError",
    "OptimizeResult",
    "Optimizer",
    "RunFailed",
    "SandboxViolation",
    "SepCMAES",
    "StateError",
    "TaskCancelled",
    "TaskFailed",
    "TaskTimeout",
    "ValidationError",
    "__version__",
    "algorithms",
    "backends",
    "directions",
    "discovery",
    "evolution",
    "indicators",
    "kpi",
    "minimize",
    "problems",
    "set_num_threads",
    "strategies",
]
