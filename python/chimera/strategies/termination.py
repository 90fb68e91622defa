"""When one run of a strategy has nothing more to gain: pycma's default stopping criteria,
checked after every generation. A restart policy then starts another run, or the optimizer
stops.

``tolfun``: this generation's values and the best of the recent generations all lie within
tolfun. ``tolfunhist``: the recent bests alone do. ``tolx``: every coordinate's standard
deviation and path component below tolx. ``conditioncov``: the covariance's condition number
above its limit. ``noeffectaxis``: a step of a tenth of a standard deviation along a principal
axis leaves the mean unchanged (one axis a generation, in turn). ``noeffectcoord``: one of a
fifth along a coordinate does. ``stagnation``: over the recent history (20 % of the run, at
least pycma's ``100 + 100 n^1.5 / lam`` generations), the median of the latest 30 % of both the
best and the median values is no better than that of the oldest 30 % (Hansen 2009, the BIPOP
paper; checked every fifth generation). ``flatfitness``: the best three quarters of the values
equal, two generations running. ``tolupsigma``:
sigma grew by 1e20 against the largest standard deviation. ``maxiter``: the run's generations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _state_dict
from .._errors import ValidationError

#: The stagnation history never holds more generations than this.
MAX_HISTORY = 20_000


@dataclass(frozen=True)
class Tolerances:
    """The criteria's thresholds (pycma's defaults)."""

    tolfun: float = 1e-11
    tolfunhist: float = 1e-12
    tolx: float = 1e-11
    conditioncov: float = 1e14
    tolupsigma: float = 1e20


class Termination:
    """The histories of one run and the test of every criterion."""

    def __init__(self, dim: int, lam: int, maxiter: int, tol: Tolerances) -> None:
        self.dim, self.lam, self.maxiter, self.tol = dim, lam, maxiter, tol
        self.recent = 10 + math.ceil(30 * dim / lam)  # generations tolfun looks back
        self.stagnation = int(100 + 100 * dim**1.5 / lam)  # the shortest stagnation window
        self.flat = 0  # generations running with flat fitness
        # The best and the median value of each generation, the latest last, in a buffer twice
        # the history (moved back when full): the windows below are views, no copies.
        self._buffer = np.empty((2, 2 * MAX_HISTORY))
        self._end = 0

    @property
    def best(self) -> np.ndarray:
        """The best value of each recorded generation (at most MAX_HISTORY), latest last."""
        return self._buffer[0, max(0, self._end - MAX_HISTORY) : self._end]

    @property
    def median(self) -> np.ndarray:
        """The median value of each recorded generation, as ``best``."""
        return self._buffer[1, max(0, self._end - MAX_HISTORY) : self._end]

    def _record(self, best: float, median: float) -> None:
        if self._end == self._buffer.shape[1]:
            self._buffer[:, :MAX_HISTORY] = self._buffer[:, -MAX_HISTORY:]
            self._end = MAX_HISTORY
        self._buffer[0, self._end], self._buffer[1, self._end] = best, median
        self._end += 1

    def check(self, t: int, f_sorted: np.ndarray, mean: np.ndarray, sigma: float,
              sigma0: float, stds: np.ndarray, pc: np.ndarray | None, axis_ratio: float,
              axis: Callable[[int], np.ndarray] | None) -> str | None:  # fmt: skip
        """Records generation ``t`` (its values ``f_sorted``, best first) and returns the first
        criterion met, or None. ``axis(i)``: the i-th principal axis times its deviation
        (None for a model without axes); ``pc``: the path (None for a model without one)."""
        tol = self.tol
        m = f_sorted.size // 2
        self._record(float(f_sorted[0]), float(f_sorted[m] if f_sorted.size % 2 else
                                               (f_sorted[m - 1] + f_sorted[m]) / 2))  # fmt: skip
        if t >= self.maxiter:
            return "maxiter"
        recent = self.best[-self.recent :]  # within the history: a resume sees the same
        first, last = float(f_sorted[0]), float(f_sorted[-1])
        if math.isfinite(first) and math.isfinite(last):  # sorted, no NaN: all finite
            top, bottom = float(recent.max()), float(recent.min())
            if t >= self.recent and top - bottom < tol.tolfunhist:
                return "tolfunhist"
            if max(last, top) - min(first, bottom) < tol.tolfun:
                return "tolfun"
        k = min(f_sorted.size - 1, math.ceil(0.1 + 3 * f_sorted.size / 4) - 1)  # of those ranked
        self.flat = self.flat + 1 if f_sorted[0] == f_sorted[k] else 0
        if self.flat >= 2:
            return "flatfitness"
        widest = float(stds.max())  # sigma * max equals the max of sigma * stds, rounding too
        if sigma * widest < tol.tolx and (pc is None or sigma * float(np.abs(pc).max()) < tol.tolx):
            return "tolx"
        if axis_ratio**2 > tol.conditioncov:
            return "conditioncov"
        if (mean == mean + 0.2 * (sigma * stds)).any():
            return "noeffectcoord"
        if axis is not None and (mean == mean + 0.1 * sigma * axis(t % self.dim)).all():
            return "noeffectaxis"
        if sigma > tol.tolupsigma * sigma0 * widest:
            return "tolupsigma"
        return "stagnation" if t % 5 == 0 and self._stagnates(t) else None

    def _stagnates(self, t: int) -> bool:
        window = min(MAX_HISTORY, max(self.stagnation, t // 5))
        if min(self._end, MAX_HISTORY) < window:
            return False
        k = max(1, int(0.3 * window))
        for history in (self.best, self.median):
            h = history[-window:]
            if np.median(h[-k:]) < np.median(h[:k]):
                return False
        return True

    def state(self) -> dict[str, Any]:
        return {"best": self.best.copy(), "median": self.median.copy(), "flat": self.flat}

    def load(self, state: Mapping[str, Any]) -> Callable[[], None]:
        out = []
        for key in ("best", "median"):
            a = state.get(key)
            a = np.asarray([] if a is None else a)
            h = _state_dict.array(state, key, (a.size,), np.float64) if a.ndim == 1 else None
            if h is None or h.size > MAX_HISTORY or np.isnan(h).any():
                raise ValidationError(f"checkpoint {key} must be a 1-d history of at most "
                                      f"{MAX_HISTORY} values, not NaN")  # fmt: skip
            out.append(h)
        if len(out[0]) != len(out[1]):
            raise ValidationError("checkpoint best and median histories differ in length")
        (flat,) = _state_dict.counters({"flat": state.get("flat", 0)}, "flat")

        def apply() -> None:
            self.flat = flat
            self._end = len(out[0])
            self._buffer[0, : self._end], self._buffer[1, : self._end] = out

        return apply
