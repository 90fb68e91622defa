"""The ZDT bi-objective problems (Zitzler, Deb and Thiele, 2000), minimised, vectorised.

Each problem maps an ``(n, dim)`` array to ``(n, 2)``: ``f1`` depends on ``x1`` alone, and
``f2 = g(x2..xd) * h(f1, g)``. The Pareto-optimal set is ``g = 1`` (``x2..xd = 0``), so the true
front is the curve ``f2 = h(f1, 1)``, which :meth:`pareto_front` samples exactly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from .._validate import integer
from ._util import as_rows, pareto_intervals, sample_intervals

__all__ = ["ZDT1", "ZDT2", "ZDT3", "ZDT4", "ZDT6"]


class _ZDT(ABC):
    """Shared shape of the family; subclasses give ``f1``, ``g`` and ``h``."""

    n_obj: ClassVar[int] = 2
    default_dim: ClassVar[int] = 30
    min_dim: ClassVar[int] = 2

    def bounds(self, dim: int) -> np.ndarray:
        """``(dim, 2)`` box of the decision variables."""
        return np.tile([0.0, 1.0], (dim, 1))

    def __call__(self, X: Any) -> np.ndarray:
        A = as_rows(X, self.min_dim, type(self).__name__)
        f1 = self._f1(A[:, 0])
        g = self._g(A[:, 1:])
        return np.column_stack([f1, g * self._h(f1, g)])

    def _f1(self, x1: np.ndarray) -> np.ndarray:
        return x1

    def _g(self, rest: np.ndarray) -> np.ndarray:
        return 1.0 + 9.0 * rest.sum(axis=1) / rest.shape[1]

    @abstractmethod
    def _h(self, f1: np.ndarray, g: np.ndarray) -> np.ndarray:
        """f2 / g as a function of f1 and g."""

    def pareto_front(self, n_points: int) -> np.ndarray:
        """``n_points`` points of the true front, ``f1`` evenly spaced over its range."""
        f1 = np.linspace(0.0, 1.0, integer(n_points, "n_points", 2))
        return np.column_stack([f1, self._h(f1, np.ones_like(f1))])


@dataclass(frozen=True)
class ZDT1(_ZDT):
    """Convex front ``f2 = 1 - sqrt(f1)``; ``x`` in ``[0, 1]^d``, ``d = 30`` by default."""

    def _h(self, f1: np.ndarray, g: np.ndarray) -> np.ndarray:
        return 1.0 - np.sqrt(f1 / g)


@dataclass(frozen=True)
class ZDT2(_ZDT):
    """Concave front ``f2 = 1 - f1^2``; ``x`` in ``[0, 1]^d``, ``d = 30`` by default."""

    def _h(self, f1: np.ndarray, g: np.ndarray) -> np.ndarray:
        return 1.0 - (f1 / g) ** 2


def _zdt3_curve(t: np.ndarray) -> np.ndarray:
    return 1.0 - np.sqrt(t) - t * np.sin(10.0 * np.pi * t)


def _zdt3_slope(t: np.ndarray) -> np.ndarray:
    return (
        -0.5 / np.sqrt(t) - np.sin(10.0 * np.pi * t) - 10.0 * np.pi * t * np.cos(10.0 * np.pi * t)
    )


@lru_cache(maxsize=1)
def _zdt3_intervals() -> np.ndarray:
    out = pareto_intervals(_zdt3_curve, _zdt3_slope)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class ZDT3(_ZDT):
    """Front in five disconnected pieces of ``f2 = 1 - sqrt(f1) - f1 sin(10 pi f1)``.

    ``x`` in ``[0, 1]^d``, ``d = 30`` by default. Only the ``f1`` where the curve is lower than
    everywhere to its left are Pareto-optimal; :meth:`pareto_intervals` gives those ranges.
    """

    def _h(self, f1: np.ndarray, g: np.ndarray) -> np.ndarray:
        r = f1 / g
        return 1.0 - np.sqrt(r) - r * np.sin(10.0 * np.pi * f1)

    def pareto_intervals(self) -> np.ndarray:
        """``(5, 2)`` array of the ``[start, end]`` ranges of ``f1`` on the true front."""
        return _zdt3_intervals().copy()

    def pareto_front(self, n_points: int) -> np.ndarray:
        """``n_points`` points of the true front, spread over its pieces by their ``f1`` length."""
        intervals = _zdt3_intervals()
        f1 = sample_intervals(intervals, integer(n_points, "n_points", len(intervals)))
        return np.column_stack([f1, _zdt3_curve(f1)])


@dataclass(frozen=True)
class ZDT4(_ZDT):
    """ZDT1's front behind Rastrigin's ``g`` (``21^9`` local fronts).

    ``x1`` in ``[0, 1]``, the others in ``[-5, 5]``; ``d = 10`` by default.
    """

    default_dim: ClassVar[int] = 10

    def bounds(self, dim: int) -> np.ndarray:
        b = np.tile([-5.0, 5.0], (dim, 1))
        b[0] = 0.0, 1.0
        return b

    def _g(self, rest: np.ndarray) -> np.ndarray:
        return (
            1.0
            + 10.0 * rest.shape[1]
            + (rest * rest - 10.0 * np.cos(4.0 * np.pi * rest)).sum(axis=1)
        )

    def _h(self, f1: np.ndarray, g: np.ndarray) -> np.ndarray:
        return 1.0 - np.sqrt(f1 / g)


# f1 = 1 - exp(-4 x) sin^6(6 pi x) is least where its derivative vanishes, tan(6 pi x) = 9 pi,
# on the first branch (the exponential shrinks the later peaks).
_ZDT6_X_STAR = float(np.arctan(9.0 * np.pi) / (6.0 * np.pi))
ZDT6_F1_MIN = float(1.0 - np.exp(-4.0 * _ZDT6_X_STAR) * np.sin(6.0 * np.pi * _ZDT6_X_STAR) ** 6)


@dataclass(frozen=True)
class ZDT6(_ZDT):
    """Non-uniform, biased problem with front ``f2 = 1 - f1^2``, ``f1`` in ``[0.28077..., 1]``.

    ``x`` in ``[0, 1]^d``, ``d = 10`` by default. The front's left end is :data:`ZDT6_F1_MIN`.
    """

    default_dim: ClassVar[int] = 10

    def _f1(self, x1: np.ndarray) -> np.ndarray:
        return 1.0 - np.exp(-4.0 * x1) * np.sin(6.0 * np.pi * x1) ** 6

    def _g(self, rest: np.ndarray) -> np.ndarray:
        return 1.0 + 9.0 * (rest.sum(axis=1) / rest.shape[1]) ** 0.25

    def _h(self, f1: np.ndarray, g: np.ndarray) -> np.ndarray:
        return 1.0 - (f1 / g) ** 2

    def pareto_front(self, n_points: int) -> np.ndarray:
        """``n_points`` points of the true front, ``f1`` evenly spaced over ``[ZDT6_F1_MIN, 1]``."""
        f1 = np.linspace(ZDT6_F1_MIN, 1.0, integer(n_points, "n_points", 2))
        return np.column_stack([f1, 1.0 - f1 * f1])
