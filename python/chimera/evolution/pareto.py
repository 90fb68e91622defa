"""Pareto ranking and crowding: the public face of the native multi-objective kernels.

Objectives are minimised. ``pareto_rank`` and ``crowding_distance`` run on a kernel backend
(``cpp``, ``numba`` or ``cuda``, the same fronts and distances bit for bit); constraint handling is
Deb's constraint domination: a feasible point beats an infeasible one, and of two infeasible
points the one with the smaller total violation wins.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _backend
from .._errors import ValidationError


def objectives(F: npt.ArrayLike, name: str = "F") -> np.ndarray:
    """F as a C-contiguous float64 (n, m) array with no NaN, or a ValidationError naming it."""
    try:
        a = np.ascontiguousarray(F, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be a numeric (n, n_obj) array: {exc}") from exc
    if a.ndim != 2 or a.shape[1] < 1:
        raise ValidationError(f"{name} must have shape (n, n_obj) with n_obj >= 1, got {a.shape}")
    if np.isnan(a).any():
        rows = np.flatnonzero(np.isnan(a).any(axis=1))
        raise ValidationError(f"{name} has NaN in rows {rows[:10].tolist()}")
    return a


def constraint_violation(G: npt.ArrayLike, n: int | None = None) -> np.ndarray:
    """Total violation ``sum(max(g, 0))`` of each row of G (``g <= 0`` is satisfied)."""
    try:
        g = np.asarray(G, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"G must be a numeric (n, n_constraints) array: {exc}") from exc
    if g.ndim == 1:
        g = g[:, None]
    if g.ndim != 2 or (n is not None and g.shape[0] != n):
        want = f"({n}, n_constraints)" if n is not None else "(n, n_constraints)"
        raise ValidationError(f"G must have shape {want}, got {np.shape(G)}")
    if np.isnan(g).any():
        raise ValidationError("G has NaN constraint values")
    return np.maximum(g, 0.0).sum(axis=1)


def pareto_rank(
    F: npt.ArrayLike, *, constraint_violation: npt.ArrayLike | None = None, backend: str = "auto"
) -> np.ndarray:
    """The 0-based Pareto front of each row of an (n, m) objective array (minimisation).

    Front 0 holds the non-dominated rows, front k+1 the rows dominated only by rows of fronts
    up to k. Exact on ties; duplicate rows share a front. With ``constraint_violation`` (one
    value >= 0 per row, 0 meaning feasible) the feasible rows are ranked first, then the
    infeasible ones, one front per distinct violation in increasing order.

    Runs in O(n log n) for two and three objectives and by ENS with binary search beyond.
    """
    a = objectives(F)
    _, k = _backend.resolve(backend, "moo")
    cv = None if constraint_violation is None else _violation(constraint_violation, a.shape[0])
    return ranks(k, a, cv)


def ranks(kernels: Any, F: np.ndarray, cv: np.ndarray | None = None) -> np.ndarray:
    """``pareto_rank`` on checked arrays with a backend's moo kernels (the optimizers' path)."""
    rank = np.empty(F.shape[0], dtype=np.int32)
    if cv is None or not (cv > 0.0).any():
        kernels.pareto_rank(F, rank)
        return rank
    feasible = cv <= 0.0
    sub = np.empty(int(feasible.sum()), dtype=np.int32)
    kernels.pareto_rank(F[feasible], sub)
    rank[feasible] = sub
    base = int(sub.max()) + 1 if sub.size else 0
    _, dense = np.unique(cv[~feasible], return_inverse=True)
    rank[~feasible] = base + dense.astype(np.int32)
    return rank


def crowding_distance(
    F: npt.ArrayLike, rank: npt.ArrayLike | None = None, *, backend: str = "auto"
) -> np.ndarray:
    """Crowding distance (Deb et al. 2002) of each row within its front.

    Per objective, a front is sorted by value (ties by row); its two ends get ``inf`` and each
    other row the gap between its neighbours divided by the front's range, summed over the
    objectives. Fronts of one or two rows are all ``inf``; a flat objective adds nothing.
    ``rank`` defaults to ``pareto_rank(F)``.
    """
    a = objectives(F)
    _, k = _backend.resolve(backend, "moo")
    if rank is None:
        r = np.empty(a.shape[0], dtype=np.int32)
        k.pareto_rank(a, r)
    else:
        given = np.asarray(rank)
        if given.dtype.kind not in "iu" and not (
            given.dtype.kind == "f" and np.array_equal(given, np.round(given))
        ):
            raise ValidationError(f"rank must hold integer front indices, got dtype {given.dtype}")
        r = np.ascontiguousarray(given, dtype=np.int32)
        if r.shape != (a.shape[0],):
            raise ValidationError(f"rank must have shape ({a.shape[0]},), got {r.shape}")
        if r.size and (r.min() < 0 or r.max() >= r.size):
            raise ValidationError("rank must hold front indices in [0, len(F))")
    out = np.empty(a.shape[0], dtype=np.float64)
    k.crowding_distance(a, r, out)
    return out


def _violation(cv: Any, n: int) -> np.ndarray:
    v = np.asarray(cv, dtype=np.float64)
    if v.shape != (n,):
        raise ValidationError(f"constraint_violation must have shape ({n},), got {v.shape}")
    if np.isnan(v).any() or (v < 0).any():
        raise ValidationError("constraint_violation must be >= 0 (0 = feasible), with no NaN")
    return v
