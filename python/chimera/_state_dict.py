"""Helpers for the optimizers' ``state_dict``/``load_state_dict``: a snapshot is refused,
naming what differs, unless it comes from an identically configured optimizer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._errors import ValidationError
from ._validate import MAX_COUNT


def check(state: Any, fmt: str, config: Mapping[str, Any], what: str) -> None:
    """Refuses a checkpoint of another format or configuration."""
    if (
        not isinstance(state, dict)
        or not isinstance(state.get("format"), str)
        or (state["format"] != fmt)
    ):
        raise ValidationError(f"not a {what} checkpoint (expected format {fmt!r})")
    theirs = state.get("config", {})
    if not isinstance(theirs, Mapping):
        raise ValidationError(
            f"{what} checkpoint's config must be a dict, got {type(theirs).__name__}"
        )
    diff = sorted(k for k in config.keys() | theirs.keys() if config.get(k) != theirs.get(k))
    if diff:
        detail = "; ".join(
            f"{k}: checkpoint {theirs.get(k)!r}, this {what} {config.get(k)!r}" for k in diff[:4]
        )
        if len(diff) > 4:  # the values can be long; the other keys' names at least
            detail += f"; and {', '.join(diff[4:])}"
        raise ValidationError(f"checkpoint is from another configuration ({detail})")


def copy(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else a.copy()


def array(
    state: Mapping[str, Any], key: str, shape: tuple[int, ...], dtype: Any
) -> np.ndarray | None:
    """``state[key]`` as a fresh array of the expected shape and dtype (None stays None)."""
    a = state.get(key)
    if a is None:
        return None
    try:
        a = np.asarray(a)
        if a.shape != shape:
            raise ValidationError(f"checkpoint {key} has shape {a.shape}, expected {shape}")
        return np.array(a, dtype=dtype, copy=True)
    except (TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(
            f"checkpoint {key} is not an array of {np.dtype(dtype)}: {exc}"
        ) from None


def rows(value: Any) -> int:
    """The rows of a 2-d array-like (-1 for anything else: a shape check then refuses it)."""
    try:
        return int(np.shape(value)[0]) if np.ndim(value) == 2 else -1
    except (TypeError, ValueError):
        return -1


def finite_array(state: Mapping[str, Any], key: str, shape: tuple[int, ...]) -> np.ndarray:
    """``state[key]`` as a fresh float64 array of ``shape``, every value finite (refused when
    missing)."""
    a = array(state, key, shape, np.float64)
    if a is None or not np.isfinite(a).all():
        raise ValidationError(f"checkpoint {key} must be a finite array of shape {shape}")
    return a


def counters(state: Mapping[str, Any], *keys: str) -> list[int]:
    """The non-negative integer counters ``keys`` of a checkpoint."""
    out = []
    for k in keys:
        v = state.get(k)
        if (
            isinstance(v, (bool, np.bool_))
            or not isinstance(v, (int, np.integer))
            or not (0 <= v <= MAX_COUNT)
        ):
            raise ValidationError(f"checkpoint counter {k} must be a non-negative integer (at "
                                  f"most {MAX_COUNT}), got {v!r}")  # fmt: skip
        out.append(int(v))
    return out
