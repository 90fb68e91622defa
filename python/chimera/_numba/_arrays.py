"""Checks at the NumPy boundary of the Numba kernels, the same as the C++ bindings make
(bindings/arrays.hpp): each failure names the argument."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import ArgumentTypeError, ValidationError


def require(ok: bool, message: str) -> None:
    if not ok:
        raise ValidationError(message)


def require_ndim(a: np.ndarray, ndim: int, name: str) -> None:
    require(a.ndim == ndim, f"{name} must be {ndim}-dimensional, got {a.ndim} dimensions")


def require_len(a: np.ndarray, axis: int, length: int, name: str) -> None:
    require(
        a.shape[axis] == length,
        f"{name} has {a.shape[axis]} entries along axis {axis}, expected {length}",
    )


def as_array(obj: Any, name: str) -> np.ndarray:
    if not isinstance(obj, np.ndarray):
        raise ArgumentTypeError(f"{name} must be a NumPy array, got {type(obj).__name__}")
    return obj


def as_input(obj: Any, dtype: type) -> np.ndarray:
    """A read-only input as the C++ sees it: converted to a C-contiguous array of dtype."""
    return np.ascontiguousarray(obj, dtype=dtype)


def readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view: Numba types writeable and read-only arrays differently, and inputs
    always passed read-only give one compiled kernel per genome dtype, not up to 2^5."""
    if not a.flags.writeable:
        return a
    v = a.view()
    v.flags.writeable = False
    return v


def writable_output(a: np.ndarray, name: str) -> None:
    require(a.flags.c_contiguous, f"{name} must be C-contiguous")
    require(a.flags.writeable, f"{name} must be writeable")
