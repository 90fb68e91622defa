"""Numba kernels, an alternative backend and a draw-for-draw twin of the C++ core
(docs/kernels.md).

``rng`` holds Philox4x32-10 and the streams, ``ga`` the genetic-algorithm kernels with the
signatures of ``chimera._core.ga``, ``moo`` the multi-objective ones of ``chimera._core.moo``,
``scheduler`` HEFT and the ready queue of ``chimera._core.scheduler``, ``es`` the evolution
strategies' samples of ``chimera._core.es``.
The submodules load on first access, and nothing is compiled until a kernel is first called.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["es", "ga", "moo", "rng", "scheduler"]


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
