"""Change-point and anomaly detection on streaming KPIs.

Each detector takes one observation at a time (:meth:`update` returns True on an alarm) or a
whole series (:meth:`run` returns the indices of the alarms). After an alarm a change-point
detector restarts from the new level, so a second shift raises a second alarm.

The false-alarm rate and detection delay of each detector with its defaults, measured by
``benchmarks/bench_patterns.py`` on N(0, 1) streams (results in
``benchmarks/results/2026-11-24_patterns.md`` and ``2026-12-07_patterns.md``), are given in each class's docstring: ARL0 is
the mean number of in-control observations between false alarms, the delay the median number
of observations from a mean shift of 1 or 2 standard deviations to its alarm. Those figures
hold when the in-control level is given.

Where the in-control mean and standard deviation are not given they are estimated from the
first ``warmup`` observations, during which no alarm is raised (and again after each alarm of
a detector that restarts). The estimate's error costs false alarms: with the default warm-up of
30, CUSUM and EWMA alarm about twice as often as their figures say, Page-Hinkley 1.6 times
(measured ARL0 below). Give ``mean`` and ``std`` from a known in-control period, or a longer
``warmup``, where false alarms are dear.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import deque
from typing import Any

import numpy as np

from .._errors import ValidationError
from .._validate import real


def _positive(value: Any, name: str) -> float:
    return real(value, name, 0.0, open_low=True, want="a positive number")


def _value(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"an observation must be a number, got {x!r}") from exc
    if not math.isfinite(v):
        raise ValidationError(f"an observation must be finite, got {v}")
    return v


class Detector(ABC):
    """Shared plumbing: :meth:`run` over a series, and the warm-up estimate of the in-control
    level when it is not given."""

    def __init__(self, mean: float | None, std: float | None, warmup: int) -> None:
        if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 2:
            raise ValidationError(f"warmup must be an integer >= 2, got {warmup!r}")
        if isinstance(mean, np.ndarray) and mean.ndim == 0:
            mean = mean.item()  # a NumPy scalar result, such as x.mean() of an array
        self.mean = None if mean is None else real(mean, "mean (the in-control level)")
        self.std = None if std is None else _positive(std, "std")
        self._mean_given = mean is not None
        self.warmup = warmup
        self._seen: list[float] = []
        self.t = 0  # observations so far

    def update(self, x: Any) -> bool:
        """One observation; True when it raises an alarm."""
        v = _value(x)
        self.t += 1
        if self.mean is None or self.std is None:
            self._seen.append(v)
            if len(self._seen) < self.warmup:
                return False
            seen = np.array(self._seen)
            self.mean = float(seen.mean()) if self.mean is None else self.mean
            self.std = self.std or float(seen.std(ddof=1)) or 1.0
            self._seen = []
            return False
        return self._step(v)

    @abstractmethod
    def _step(self, v: float) -> bool:
        """One standardisable observation after the warm-up; True on an alarm."""

    def _relearn_level(self) -> None:
        """After an alarm: a level that was estimated is estimated again from the next
        ``warmup`` observations; a level that was given stays."""
        if not self._mean_given:
            self.mean = None

    def run(self, series: Any) -> np.ndarray:
        """The 0-based indices (within ``series``) of the observations that raised alarms."""
        if isinstance(series, (str, bytes)) or not hasattr(series, "__iter__"):
            raise ValidationError(f"series must be a sequence of observations, got {series!r:.60}")
        if isinstance(series, np.ndarray) and series.ndim != 1:
            raise ValidationError(f"series must be 1-D, one observation each, got shape "
                                  f"{series.shape}")  # fmt: skip
        return np.array([i for i, x in enumerate(series) if self.update(x)], dtype=np.int64)


class CUSUM(Detector):
    """Two-sided tabular CUSUM (Page 1954) of a shift in the mean.

    ``S+ = max(0, S+ + z - k)`` and ``S- = max(0, S- - z - k)`` with z the standardised
    observation; an alarm when either exceeds ``h``, then both restart at 0 (and a level
    that was estimated is estimated again). ``k = 0.5`` tunes it to a
    1-sigma shift. Defaults (k 0.5, h 5), measured with the level given: ARL0 477 observations
    (theory 465); median delay 7 observations after a 1-sigma shift (90th percentile 15), 2
    after a 2-sigma shift. With the level learned from the default warm-up of 30: ARL0 219
    (warm-ups counted), median delay 8 (90th percentile 34).
    """

    def __init__(
        self,
        mean: float | None = None,
        std: float | None = None,
        *,
        k: float = 0.5,
        h: float = 5.0,
        warmup: int = 30,
    ) -> None:
        super().__init__(mean, std, warmup)
        self.k, self.h = _positive(k, "k"), _positive(h, "h")
        self.upper = self.lower = 0.0

    def _step(self, v: float) -> bool:
        assert self.mean is not None and self.std is not None
        z = (v - self.mean) / self.std
        self.upper = max(0.0, self.upper + z - self.k)
        self.lower = max(0.0, self.lower - z - self.k)
        if self.upper <= self.h and self.lower <= self.h:
            return False
        self.upper = self.lower = 0.0
        self._relearn_level()
        return True


class PageHinkley(Detector):
    """Two-sided Page-Hinkley test as used on data streams (Gama et al. 2013): each
    observation is compared with the running mean of the observations since the last alarm,
    ``m+ = sum((x - mean_t) / std - delta)`` against its running minimum (an increase) and
    ``m-`` likewise (a decrease); an alarm when either rises ``threshold`` above its minimum,
    then everything restarts. Needs only the scale (``std``, or the warm-up's); it adapts to
    the level by itself, at the cost of reacting more slowly than CUSUM to a shift soon after
    a restart. Defaults (delta 0.25, threshold 10), measured with the scale given: ARL0 1,088;
    median delay 11 (1 sigma; 90th percentile 19) and 5 (2 sigma). With the scale learned from
    the default warm-up of 30: ARL0 691 (warm-ups counted), delays unchanged.
    """

    def __init__(
        self,
        std: float | None = None,
        *,
        delta: float = 0.25,
        threshold: float = 10.0,
        warmup: int = 30,
    ) -> None:
        super().__init__(0.0, std, warmup)
        self.delta = _positive(delta, "delta")
        self.threshold = _positive(threshold, "threshold")
        self._reset()

    def _reset(self) -> None:
        self.n = 0
        self.average = 0.0
        self.up = self.up_min = self.down = self.down_min = 0.0

    def _step(self, v: float) -> bool:
        assert self.std is not None
        self.n += 1
        self.average += (v - self.average) / self.n
        z = (v - self.average) / self.std
        self.up += z - self.delta
        self.down += -z - self.delta
        self.up_min = min(self.up_min, self.up)
        self.down_min = min(self.down_min, self.down)
        if self.up - self.up_min <= self.threshold and self.down - self.down_min <= self.threshold:
            return False
        self._reset()
        return True


class EWMA(Detector):
    """EWMA control chart (Roberts 1959): ``z = lam * x + (1 - lam) * z`` against the limits
    ``mean +- L * std * sqrt(lam / (2 - lam) * (1 - (1 - lam)^(2t)))``; after an alarm the
    chart restarts (z back on the centre line, t = 0; an estimated level is estimated again).
    Defaults (lam 0.2, L 3), measured with the level given: ARL0 542; median delay 8 (1 sigma;
    90th percentile 18) and 3 (2 sigma). With the level learned from the default warm-up of
    30: ARL0 252 (warm-ups counted), median delay 10 (90th percentile 36)."""

    def __init__(
        self,
        mean: float | None = None,
        std: float | None = None,
        *,
        lam: float = 0.2,
        L: float = 3.0,
        warmup: int = 30,
    ) -> None:
        super().__init__(mean, std, warmup)
        self.lam = _positive(lam, "lam")
        if self.lam > 1.0:
            raise ValidationError(f"lam must be in (0, 1], got {lam!r}")
        self.L = _positive(L, "L")
        self.z: float | None = None
        self._steps = 0

    def _step(self, v: float) -> bool:
        assert self.mean is not None and self.std is not None
        previous = self.mean if self.z is None else self.z
        self.z = self.lam * v + (1 - self.lam) * previous
        self._steps += 1
        width = (
            self.L
            * self.std
            * math.sqrt(self.lam / (2 - self.lam) * (1 - (1 - self.lam) ** (2 * self._steps)))
        )
        if abs(self.z - self.mean) <= width:
            return False
        self.z, self._steps = None, 0
        self._relearn_level()
        return True


class RobustZ(Detector):
    """Robust z-score against a sliding window (a Hampel identifier): ``|x - median| /
    (1.4826 * MAD) > threshold`` over the previous ``window`` observations, every observation
    then joining the window. Needs no in-control level: it learns one and follows drift, and a
    persistent shift stops being anomalous once it fills half the window. An anomaly
    detector, for spikes; use CUSUM or Page-Hinkley for shifts. Defaults (window 100,
    threshold 3.5), measured: one false alarm per 799 N(0, 1) observations; every 5-sigma
    spike of 500 flagged.
    """

    def __init__(self, *, window: int = 100, threshold: float = 3.5) -> None:
        if not isinstance(window, int) or isinstance(window, bool) or not 5 <= window <= 10**7:
            raise ValidationError(f"window must be an integer >= 5 (at most 10,000,000), got "
                                  f"{window!r}")  # fmt: skip
        super().__init__(0.0, 1.0, 2)
        self.window = window
        self.threshold = _positive(threshold, "threshold")
        self._recent: deque[float] = deque(maxlen=window)

    def _step(self, v: float) -> bool:
        if len(self._recent) < self.window:
            self._recent.append(v)
            return False
        recent = np.fromiter(self._recent, dtype=np.float64, count=len(self._recent))
        med = float(np.median(recent))
        mad = 1.4826 * float(np.median(np.abs(recent - med)))
        self._recent.append(v)
        return mad > 0.0 and abs(v - med) / mad > self.threshold
