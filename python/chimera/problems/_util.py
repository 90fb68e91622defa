"""Helpers shared by the multi-objective families: input checks and 1-D Pareto intervals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from .._errors import ValidationError

Curve = Callable[[np.ndarray], np.ndarray]


class MultiObjective(Protocol):
    """What a ZDT or DTLZ instance offers: a vectorised objective and its true front."""

    @property
    def n_obj(self) -> int: ...

    @property
    def default_dim(self) -> int: ...

    @property
    def min_dim(self) -> int: ...

    def bounds(self, dim: int) -> np.ndarray: ...

    def __call__(self, X: Any) -> np.ndarray: ...

    def pareto_front(self, n_points: int) -> np.ndarray: ...


# Later intervals of a disconnected front start where the curve comes back down to the level of
# the previous interval's end; that start point itself only ties (weakly dominated), so samples
# begin this far inside. Far above float rounding of the objectives, far below any resolution.
INTERVAL_NUDGE = 1e-9


def as_rows(X: Any, min_dim: int, what: str) -> np.ndarray:
    """``X`` as a float64 ``(n, dim)`` array (one row if 1-D) with ``dim >= min_dim``."""
    try:
        A = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValidationError(f"X must be an (n, dim) array of numbers for {what}: {exc}") from None
    if A.ndim == 1:
        A = A[None, :]
    if A.ndim != 2 or A.shape[1] < min_dim:
        raise ValidationError(
            f"X must be an (n, dim) array with dim >= {min_dim} for {what}, got shape {A.shape}"
        )
    return A


def _bisect(fun: Curve, lo: float, hi: float) -> float:
    """A root of ``fun`` in ``[lo, hi]``, whose ends must have opposite signs (or be zero)."""
    f_lo = float(fun(np.array([lo]))[0])
    f_hi = float(fun(np.array([hi]))[0])
    if f_lo == 0.0:
        return lo
    if f_hi == 0.0:
        return hi
    if np.sign(f_lo) == np.sign(f_hi):
        raise RuntimeError(f"no sign change in [{lo}, {hi}]")  # a bug here, not bad input
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):  # adjacent floats: as exact as float64 allows
            break
        f_mid = float(fun(np.array([mid]))[0])
        if f_mid == 0.0:
            return mid
        if np.sign(f_mid) == np.sign(f_lo):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def pareto_intervals(curve: Curve, slope: Curve, n_grid: int = 1 << 17) -> np.ndarray:
    """The ``t`` in ``[0, 1]`` where the bi-objective curve ``(t, curve(t))`` is Pareto-optimal.

    ``t`` is optimal exactly when ``curve(t) < curve(s)`` for every ``s < t``. A fine grid finds
    the runs where that holds; each run end (a local minimum of ``curve``, unless it is ``t = 1``)
    is refined as a root of ``slope`` and each later run start as the point where ``curve``
    falls back to the previous end's level. Returns a ``(K, 2)`` array of ``[start, end]``.
    """
    t = np.linspace(0.0, 1.0, n_grid)
    c = curve(t)
    running = np.minimum.accumulate(c)
    front = np.empty(n_grid, dtype=bool)
    front[0] = True
    front[1:] = c[1:] < running[:-1]
    edges = np.flatnonzero(np.diff(front.astype(np.int8)))
    starts = np.concatenate([[0], edges[1::2] + 1])
    ends = np.concatenate([edges[0::2], [n_grid - 1]])[: starts.size]
    out = np.empty((starts.size, 2))
    prev_level = np.inf
    for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
        if s == 0:
            start = 0.0
        else:

            def above(x: np.ndarray, level: float = prev_level) -> np.ndarray:
                return curve(x) - level

            start = _bisect(above, t[s - 1], t[min(s + 1, n_grid - 1)])
        end = 1.0 if e == n_grid - 1 else _bisect(slope, t[max(e - 1, 0)], t[e + 1])
        out[i] = start, end
        prev_level = float(curve(np.array([end]))[0])
    return out


def sample_intervals(intervals: np.ndarray, n_points: int) -> np.ndarray:
    """``n_points`` values spread over disjoint ``[start, end]`` intervals by their length.

    Each interval gets at least one point (its end) when ``n_points`` allows; an interval after
    the first begins :data:`INTERVAL_NUDGE` past its start, which only ties with the previous end.
    """
    lengths = intervals[:, 1] - intervals[:, 0]
    k = intervals.shape[0]
    share = lengths / lengths.sum() * (n_points - k)
    per = np.floor(share).astype(np.int64) + 1
    # Largest remainders take the points that flooring left over.
    per[np.argsort(per - 1 - share)[: n_points - int(per.sum())]] += 1
    pieces = []
    for i, ((lo, hi), m) in enumerate(zip(intervals, per, strict=True)):
        lo = lo if i == 0 and lo == 0.0 else lo + INTERVAL_NUDGE
        pieces.append(np.array([hi]) if m == 1 else np.linspace(lo, hi, int(m)))
    return np.concatenate(pieces)
