"""The one decorator every Numba kernel goes through.

``cache=True`` keeps compiled machine code between processes, but Numba refuses to decorate a
function when it finds no writable cache directory (``RuntimeError: cannot cache function``,
e.g. from a read-only site-packages with no writable home directory), and a failed write of
a cache file would surface from the first call. Neither may break the backend: the
first falls back to an uncached dispatcher, the second is logged and ignored. A cache entry
also goes stale when any module of this package changes, not only the one defining the
function, since the kernels inline the stream functions of rng.py.

No kernel is compiled here or at import; Numba compiles each on its first call.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import numba

log = logging.getLogger("chimera.backend")

# IEEE semantics for division (x / 0 is inf or nan as in C++, no ZeroDivisionError), no
# fastmath (no FMA contraction or reassociation: results must round like the C++ build).
_OPTIONS: dict[str, Any] = {"nogil": True, "error_model": "numpy", "fastmath": False}


def _package_stamp() -> tuple:
    """(name, mtime, size) of every module of this package: kernels inline functions from
    sibling modules, so a cache entry is fresh only while all of them are unchanged (Numba
    itself only watches the file that defines the function)."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        names = sorted(n for n in os.listdir(here) if n.endswith(".py"))
        return tuple((n, *_stat(os.path.join(here, n))) for n in names)
    except OSError:
        return ()


def _stat(path: str) -> tuple[float, int]:
    st = os.stat(path)
    return st.st_mtime, st.st_size


def _watch_package(dispatcher: Any) -> None:
    cache_file: Any = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    stamp = getattr(cache_file, "_source_stamp", None)
    if stamp is not None:
        cache_file._source_stamp = (stamp, _PACKAGE_STAMP)


def _guard_cache_writes(dispatcher: Any) -> None:
    cache: Any = getattr(dispatcher, "_cache", None)
    save = getattr(cache, "save_overload", None)
    if save is None:
        return

    def save_overload(sig: Any, data: Any) -> None:
        try:
            save(sig, data)
        except OSError as exc:  # e.g. read-only or full file system
            log.info("numba could not cache %s: %s", dispatcher.py_func.__qualname__, exc)

    cache.save_overload = save_overload


_PACKAGE_STAMP = _package_stamp()


def jit(parallel: bool = False, inline: bool = False) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit(cache=True, nogil=True, ...)`` that tolerates an unwritable cache.

    ``inline=True`` inlines the function into its callers at Numba IR level (the stream
    draws: LLVM would otherwise often leave them as calls that pass the stream through
    memory).
    """
    options = {**_OPTIONS, "parallel": parallel, "inline": "always" if inline else "never"}

    def decorate(fn: Callable[..., Any]) -> Any:
        try:
            dispatcher = numba.njit(cache=True, **options)(fn)
        except (RuntimeError, OSError) as exc:
            log.info("numba cache unavailable for %s: %s", fn.__qualname__, exc)
            return numba.njit(cache=False, **options)(fn)
        _watch_package(dispatcher)
        _guard_cache_writes(dispatcher)
        return dispatcher

    return decorate
