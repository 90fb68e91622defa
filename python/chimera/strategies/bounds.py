"""Box constraints for a strategy that samples the whole real line: the sample (genotype)
the strategy learns from stays unrepaired, and what is evaluated (phenotype) lies in bounds.

- :class:`BoundTransform` (the default, as pycma's): a periodic map of the real line onto
  ``[low, high]``, the identity inside, quadratic near each bound, so that it is continuously
  differentiable and the strategy sees a smooth function.
- :class:`BoundPenalty`: evaluates the nearest point in bounds and ranks by
  ``f + sum_i gamma_i (x_feasible,i - x_i)^2 / (n xi_i)`` with weights ``gamma`` that start from
  the spread of the fitness values and grow while the mean stays outside (Hansen et al. 2009,
  "A method for handling uncertainty in evolutionary optimization ...", section IV-B).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import _state_dict
from .._errors import ValidationError


class BoundTransform:
    """The periodic, C^1 map of a genotype into ``[low, high]``."""

    name = "transform"

    def __init__(self, low: np.ndarray, high: np.ndarray, kernels: Any) -> None:
        self.low, self.high, self._kernels = low, high, kernels
        span = high - low
        # Quadratic margins (older pycma's width; pycma 4.5's is a little narrower), at most
        # half the span.
        self.al = np.minimum(span / 2, (1 + np.abs(low)) / 20)
        self.au = np.minimum(span / 2, (1 + np.abs(high)) / 20)

    def phenotype(self, mean: np.ndarray, sigma: float, Y: np.ndarray) -> np.ndarray:
        """The samples ``mean + sigma Y`` mapped into the box: the identity within the margins,
        a reflection into one period ``[low - al, high + au]`` and a quadratic bend within
        ``al`` (``au``) of a bound elsewhere, in one pass of the ``es`` kernels."""
        out = np.empty_like(Y)
        self._kernels.box_transform(out, Y, mean, sigma, self.low, self.high, self.al, self.au)
        return out

    def penalty(self, mean: np.ndarray, sigma: float, Y: np.ndarray, X: np.ndarray,
                f: np.ndarray) -> np.ndarray:  # fmt: skip
        return f

    def adapt(self, f: np.ndarray, mean: np.ndarray, sigma: float, stds: np.ndarray,
              mueff: float) -> None:  # fmt: skip
        """Nothing to learn: the transform has no weights."""

    def state(self) -> dict[str, Any]:
        return {}

    def load(self, state: Mapping[str, Any]) -> Callable[[], None]:
        return lambda: None


class BoundPenalty:
    """Clipping for evaluation, a quadratic penalty on the distance for ranking."""

    name = "penalty"

    def __init__(self, low: np.ndarray, high: np.ndarray, kernels: Any) -> None:
        self.low, self.high = low, high
        n = low.size
        self.gamma = np.zeros(n)  # no weights until the mean first leaves the box
        self._scaled_gamma = np.zeros(n)  # gamma_i / xi_i, as the last generation set them
        self.spreads: list[float] = []  # interquartile ranges of recent generations' f
        self.keep = 20 + 3 * n  # generations of spreads whose median sets gamma's start

    def phenotype(self, mean: np.ndarray, sigma: float, Y: np.ndarray) -> np.ndarray:
        return np.clip(mean + sigma * Y, self.low, self.high)

    def penalty(self, mean: np.ndarray, sigma: float, Y: np.ndarray, X: np.ndarray,
                f: np.ndarray) -> np.ndarray:  # fmt: skip
        """``f`` plus the weighted squared distance of each sample ``mean + sigma Y`` from the
        point ``X`` it was evaluated at."""
        if not self.gamma.any():
            return f
        return f + ((X - (mean + sigma * Y)) ** 2 * self._scaled_gamma).sum(axis=1) / Y.shape[1]

    def adapt(self, f: np.ndarray, mean: np.ndarray, sigma: float, stds: np.ndarray,
              mueff: float) -> None:  # fmt: skip
        finite = f[np.isfinite(f)]
        if finite.size and not self.gamma.any():  # the spreads only set gamma's start
            q75, q25 = np.percentile(finite, [75, 25])
            self.spreads = [*self.spreads, float(q75 - q25)][-self.keep :]
        n = mean.size
        outside = np.abs(mean - np.clip(mean, self.low, self.high))
        if not outside.any() and not self.gamma.any():
            return
        variances = (sigma * stds) ** 2
        if not self.gamma.any():
            spread = float(np.median(self.spreads)) if self.spreads else 0.0
            self.gamma[:] = 2 * max(spread, 1e-300) / (sigma**2 * float(np.mean(stds**2)))
        # Weights grow on the coordinates whose mean is well outside, so the mean comes back.
        far = outside > np.sqrt(variances) * max(1.0, math.sqrt(n) / mueff)  # none when inside
        self.gamma[far] *= 1.1 ** max(1.0, mueff / (10 * n))
        logc = np.log(np.maximum(variances, 1e-300))
        self._scaled_gamma = self.gamma / np.exp(0.9 * (logc - logc.mean()))

    def state(self) -> dict[str, Any]:
        return {"gamma": self.gamma.copy(), "scaled_gamma": self._scaled_gamma.copy(),
                "spreads": np.asarray(self.spreads, dtype=np.float64)}  # fmt: skip

    def load(self, state: Mapping[str, Any]) -> Callable[[], None]:
        n = self.low.size
        gamma = _state_dict.array(state, "gamma", (n,), np.float64)
        scaled = _state_dict.array(state, "scaled_gamma", (n,), np.float64)
        spreads = state.get("spreads")
        spreads = np.asarray([] if spreads is None else spreads, dtype=np.float64).ravel()
        if gamma is None or scaled is None or not all(
            np.isfinite(a).all() and (a >= 0).all() for a in (gamma, scaled)):  # fmt: skip
            raise ValidationError("checkpoint gamma and scaled_gamma must be non-negative and "
                                  "finite")  # fmt: skip

        def apply() -> None:
            self.gamma, self._scaled_gamma = gamma, scaled
            self.spreads = spreads.tolist()[-self.keep :]

        return apply


BOUNDS: dict[str, type[BoundTransform] | type[BoundPenalty]] = {
    "transform": BoundTransform, "penalty": BoundPenalty}  # fmt: skip
