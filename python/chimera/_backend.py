"""Which kernel backend runs: ``cuda``, ``cpp`` or ``numba``.

Each backend module exposes the same kernels (``init_uniform``, ``breed``, ...; see
docs/kernels.md) and makes the same random decisions. ``auto`` is the C++ core, which every
install has (``chimera`` does not import without it); ``CHIMERA_BACKEND`` overrides it. The
other two are alternatives chosen by name: ``cuda`` takes NumPy arrays (copied to the GPU and
back) or CuPy arrays (bred in place on the GPU), and ``numba`` is the kernels' twin in Python,
JIT-compiled, to read, check and change them without a compiler. A backend that cannot load
says why (``chimera backends``).
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from ._errors import BackendUnavailable, ValidationError
from ._validate import did_you_mean, integer

log = logging.getLogger("chimera.backend")

NAMES = ("cuda", "cpp", "numba")
AUTO = "cpp"
AREAS = ("ga", "moo", "bandit", "scheduler", "es")
# Areas with no CUDA kernels by design (the scheduler's work is pointer-chasing on the host):
# ``auto`` leaves CHIMERA_BACKEND=cuda to the other areas.
CPU_ONLY = ("scheduler",)


@dataclass(frozen=True)
class BackendStatus:
    name: str
    available: bool
    reason: str

    def __bool__(self) -> bool:
        return self.available


def _load_cuda() -> ModuleType:
    from . import _build_config

    if not _build_config.HAS_CUDA:
        raise ImportError(
            f"this build has no CUDA module: {_build_config.CUDA_NOTE}; rebuild with "
            "CHIMERA_ENABLE_CUDA=ON (needs nvcc) to build it for every supported GPU"
        )
    mod = importlib.import_module("chimera._cuda")
    ok, message = mod.cuda_status()
    if not ok:
        raise ImportError(message)
    return mod.ga


MAX_THREADS = 1024


def env_threads() -> int | None:
    """``CHIMERA_NUM_THREADS``, checked (None when unset: every core)."""
    env = os.environ.get("CHIMERA_NUM_THREADS", "").strip()
    if not env:
        return None
    if not env.isdigit() or not 1 <= int(env) <= MAX_THREADS:
        raise ValidationError(f"CHIMERA_NUM_THREADS must be an integer in [1, {MAX_THREADS}], "
                              f"got {env!r}; unset it to use every core")  # fmt: skip
    return int(env)


def _with_env_threads(mod: ModuleType) -> ModuleType:
    threads = env_threads()
    if threads is not None:
        mod.set_num_threads(threads)
    return mod


def _load_cpp() -> ModuleType:
    return _with_env_threads(importlib.import_module("chimera._core").ga)


def _load_numba() -> ModuleType:
    importlib.import_module("numba")
    return _with_env_threads(importlib.import_module("chimera._numba.ga"))


_LOADERS = {"cuda": _load_cuda, "cpp": _load_cpp, "numba": _load_numba}


@cache
def _try(name: str) -> tuple[ModuleType | None, str]:
    try:
        return _LOADERS[name](), "ok"
    except Exception as exc:  # any failure means "not here", with the reason kept
        reason = f"{type(exc).__name__}: {exc}"
        log.info("backend %s unavailable: %s", name, reason)
        return None, reason


def backends() -> dict[str, BackendStatus]:
    """Which backends work here and, for each that does not, why."""
    out = {}
    for name in NAMES:
        mod, reason = _try(name)
        out[name] = BackendStatus(name, mod is not None, reason)
    return out


def resolve(name: str = "auto", area: str = "ga",
            among: tuple[str, ...] = NAMES) -> tuple[str, ModuleType]:  # fmt: skip
    """The backend to use for ``name`` (``auto`` honours ``CHIMERA_BACKEND``) and its kernels
    of ``area``: ``ga`` (init_uniform, breed), ``moo`` (pareto_rank, crowding_distance, ...),
    ``bandit`` (the Bandit class), ``scheduler`` (heft and the ReadyQueue class; cpp and
    numba only) or ``es`` (the evolution strategies' samples). ``auto`` never picks a backend
    outside ``among`` (the caller's): ``CHIMERA_BACKEND`` naming one falls back to the default
    without loading it."""
    if area not in AREAS:
        raise ValidationError(f"unknown kernel area {area!r}; choose one of {', '.join(AREAS)}")
    if not isinstance(name, str):
        raise ValidationError(f"backend must be one of auto, {', '.join(NAMES)}, got {name!r}")
    if name == "auto":
        name = os.environ.get("CHIMERA_BACKEND", "auto").strip().lower() or "auto"
        # A GPU job's setting, not for these kernels or a caller without them (``among``).
        if (name == "cuda" and area in CPU_ONLY) or (name in NAMES and name not in among):
            name = "auto"
    if name == "auto":
        name = AUTO
    if name not in NAMES:
        raise ValidationError(f"unknown backend {name!r}{did_you_mean(name, NAMES)}; choose one "
                              f"of auto, {', '.join(NAMES)}")  # fmt: skip
    env_threads()  # a bad setting is the user's to fix, not a backend that cannot load
    mod, reason = _try(name)
    if mod is None:
        raise BackendUnavailable(f"backend {name!r} is not available here: {reason}")
    return name, _area(name, mod, area)


@functools.cache  # a module per (backend, area): the public kernels' wrappers ask every call
def _area(name: str, ga: ModuleType, area: str) -> ModuleType:
    if area == "ga":
        return ga
    if name == "cpp":
        return getattr(importlib.import_module("chimera._core"), area)
    if name == "numba":
        return importlib.import_module(f"chimera._numba.{area}")
    mod = getattr(importlib.import_module("chimera._cuda"), area, None)
    if mod is None:
        raise BackendUnavailable(
            f"the {name} backend has no {area} kernels yet; use backend='cpp' or 'numba'"
        )
    return mod


def set_num_threads(n: int) -> None:
    """Threads for the CPU kernels (cpp via OpenMP, numba via its thread pool)."""
    integer(n, "number of threads", 1, MAX_THREADS)
    for name in ("cpp", "numba"):
        mod, _ = _try(name)
        if mod is not None:
            mod.set_num_threads(int(n))
