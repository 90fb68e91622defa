"""The scalable DTLZ problems (Deb, Thiele, Laumanns and Zitzler, 2002/2005), minimised.

A problem with ``M = n_obj`` objectives maps an ``(n, dim)`` array to ``(n, M)``. The first
``M - 1`` variables place a point on the front's shape, the last ``k = dim - M + 1`` set its
distance through ``g``; the Pareto-optimal set is ``g`` at its least (``x_M = 0.5`` for DTLZ1-5,
``0`` for DTLZ6-7). Default sizes follow the usual choice, ``dim = M + k - 1`` with ``k = 5``
(DTLZ1), ``10`` (DTLZ2-6) or ``20`` (DTLZ7). :meth:`pareto_front` builds the true front here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from .._validate import integer
from ..directions import das_dennis, default_partitions
from ._util import as_rows, pareto_intervals, sample_intervals

__all__ = ["DTLZ1", "DTLZ2", "DTLZ3", "DTLZ4", "DTLZ5", "DTLZ6", "DTLZ7"]


def _linear(pos: np.ndarray) -> np.ndarray:
    """DTLZ1's shape: ``f_i = x_1 ... x_{M-i} (1 - x_{M-i+1})``; rows sum to 1."""
    n = pos.shape[0]
    head = np.cumprod(np.column_stack([np.ones(n), pos]), axis=1)[:, ::-1]
    tail = np.column_stack([np.ones(n), 1.0 - pos[:, ::-1]])
    return head * tail


def _spherical(theta: np.ndarray) -> np.ndarray:
    """DTLZ2's shape: ``f_i = cos(t_1) ... cos(t_{M-i}) sin(t_{M-i+1})``; rows have norm 1."""
    n = theta.shape[0]
    head = np.cumprod(np.column_stack([np.ones(n), np.cos(theta)]), axis=1)[:, ::-1]
    tail = np.column_stack([np.ones(n), np.sin(theta[:, ::-1])])
    return head * tail


def _g_rastrigin(dist: np.ndarray) -> np.ndarray:
    """DTLZ1/3's multimodal distance, 0 at ``x = 0.5`` with ``11^k - 1`` local optima."""
    y = dist - 0.5
    return 100.0 * (dist.shape[1] + (y * y - np.cos(20.0 * np.pi * y)).sum(axis=1))


def _g_sphere(dist: np.ndarray) -> np.ndarray:
    y = dist - 0.5
    return np.einsum("ij,ij->i", y, y)


@dataclass(frozen=True)
class _DTLZ(ABC):
    """Shared shape of the family: ``n_obj`` objectives over ``[0, 1]^dim``."""

    n_obj: int = 3
    k: ClassVar[int] = 10

    def __post_init__(self) -> None:
        m = self.n_obj
        integer(m, f"n_obj of {type(self).__name__}", 2)

    @property
    def default_dim(self) -> int:
        """``n_obj + k - 1``: the usual number of variables."""
        return int(self.n_obj) + self.k - 1

    @property
    def min_dim(self) -> int:
        """``n_obj``: ``M - 1`` position variables and at least one distance variable."""
        return int(self.n_obj)

    def bounds(self, dim: int) -> np.ndarray:
        """``(dim, 2)`` box of the decision variables, ``[0, 1]`` each."""
        return np.tile([0.0, 1.0], (dim, 1))

    def __call__(self, X: Any) -> np.ndarray:
        A = as_rows(X, self.min_dim, f"{type(self).__name__} with n_obj={self.n_obj}")
        split = int(self.n_obj) - 1
        return self._evaluate(A[:, :split], A[:, split:])

    @abstractmethod
    def _evaluate(self, pos: np.ndarray, dist: np.ndarray) -> np.ndarray:
        """Objectives from the position and distance variables."""

    @abstractmethod
    def pareto_front(self, n_points: int) -> np.ndarray:
        """Points of the true front."""

    def _lattice(self, n_points: int) -> np.ndarray:
        m = int(self.n_obj)
        n = integer(n_points, "n_points", m)
        return das_dennis(default_partitions(m, n), m)


class _Sphere(_DTLZ):
    def pareto_front(self, n_points: int) -> np.ndarray:
        """The unit-sphere octant at the Das-Dennis directions: at most ``n_points`` points.

        The lattice is the finest with no more than ``n_points`` rows (exactly ``n_points``
        for two objectives), each row scaled to norm 1.
        """
        W = self._lattice(n_points)
        return W / np.linalg.norm(W, axis=1, keepdims=True)


@dataclass(frozen=True)
class DTLZ1(_DTLZ):
    """Linear front ``sum(f) = 0.5`` behind a multimodal ``g``; ``k = 5``."""

    k: ClassVar[int] = 5

    def _evaluate(self, pos: np.ndarray, dist: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + _g_rastrigin(dist))[:, None] * _linear(pos)

    def pareto_front(self, n_points: int) -> np.ndarray:
        """The simplex ``sum(f) = 0.5`` at the Das-Dennis points: at most ``n_points`` points."""
        return 0.5 * self._lattice(n_points)


@dataclass(frozen=True)
class DTLZ2(_Sphere):
    """Spherical front ``sum(f^2) = 1``; ``k = 10``."""

    def _evaluate(self, pos: np.ndarray, dist: np.ndarray) -> np.ndarray:
        return (1.0 + _g_sphere(dist))[:, None] * _spherical(0.5 * np.pi * pos)


@dataclass(frozen=True)
class DTLZ3(_Sphere):
    """DTLZ2's front behind DTLZ1's multimodal ``g``; ``k = 10``."""

    def _evaluate(self, pos: np.ndarray, dist: np.ndarray) -> np.ndarray:
        return (1.0 + _g_rastrigin(dist))[:, None] * _spherical(0.5 * np.pi * pos)


@dataclass(frozen=True)
class DTLZ4(_Sphere):
    """DTLZ2 with position variables raised to ``alpha = 100``: a biased density; ``k = 10``."""

    alpha: ClassVar[float] = 100.0

    def _evaluate(self, pos: np.ndarray, dist: np.ndarray) -> np.ndarray:
        return (1.0 + _g_sphere(dist))[:, None] * _spherical(0.5 * np.pi * pos**self.alpha)


def _degenerate_theta(pos: np.ndarray, g: np.ndarray) -> np.ndarray:
    """DTLZ5/6's angles: the first free, the others pushed towards pi/4 as ``g`` falls to 0."""
    theta = np.pi / (4.0 * (1.0 + g))[:, None] * (1.0 + 2.0 * g[:, None] * pos)
    theta[:, 0] = 0.5 * np.pi * pos[:, 0]
    return theta


class _Degenerate(_DTLZ):
    @abstractmethod
    def _distance(self, dist: np.ndarray) -> np.ndarray:
        """g of the distance variables."""

    def _evaluate(self, pos: np.ndarray, dist: np.ndarray) -> np.ndarray:
        g = self._distance(dist)
        return (1.0 + g)[:, None] * _spherical(_degenerate_theta(pos, g))

    def pareto_front(self, n_points: int) -> np.ndarray:
        """``n_points`` points evenly spaced along the front's arc (a great-circle quarter).

        With ``g = 0`` every angle but the first is pi/4, so the front is the curve
        ``f = (cos(t) w, sin(t))``, ``t`` in ``[0, pi/2]``, for one fixed unit vector ``w``.
        For ``n_obj >= 4`` this curve is the front given in the paper and used as the reference
        everywhere, but Huband et al. (2006) showed that some points with ``g > 0`` are not
        dominated by it, so there it is a reference set rather than the exact front.
        """
        m = int(self.n_obj)
        t = np.linspace(0.0, 0.5 * np.pi, integer(n_points, "n_points", 2))
        theta = np.full((t.size, m - 1), 0.25 * np.pi)
        theta[:, 0] = t
        return _spherical(theta)


@dataclass(frozen=True)
class DTLZ5(_Degenerate):
    """Degenerate front (a curve) with DTLZ2's ``g``; ``k = 10``."""

    def _distance(self, dist: np.ndarray) -> np.ndarray:
        return _g_sphere(dist)


@dataclass(frozen=True)
class DTLZ6(_Degenerate):
    """DTLZ5's curve behind the harder ``g = sum(x^0.1)``; ``k = 10``."""

    def _distance(self, dist: np.ndarray) -> np.ndarray:
        return (dist**0.1).sum(axis=1)


def _dtlz7_level(t: np.ndarray) -> np.ndarray:
    # With g = 1, f_M = 2 M - sum_i t_i (1 + sin(3 pi t_i)): one term per position variable,
    # and each term only lowers f_M as it grows.
    return -t * (1.0 + np.sin(3.0 * np.pi * t))


def _dtlz7_slope(t: np.ndarray) -> np.ndarray:
    return -(1.0 + np.sin(3.0 * np.pi * t) + 3.0 * np.pi * t * np.cos(3.0 * np.pi * t))


@lru_cache(maxsize=1)
def _dtlz7_intervals() -> np.ndarray:
    out = pareto_intervals(_dtlz7_level, _dtlz7_slope)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class DTLZ7(_DTLZ):
    """Front in ``2^(M-1)`` disconnected regions; ``f_i = x_i`` for ``i < M``; ``k = 20``."""

    k: ClassVar[int] = 20

    def _evaluate(self, pos: np.ndarray, dist: np.ndarray) -> np.ndarray:
        g = 1.0 + 9.0 * dist.sum(axis=1) / dist.shape[1]
        h = self.n_obj - (pos / (1.0 + g)[:, None] * (1.0 + np.sin(3.0 * np.pi * pos))).sum(axis=1)
        return np.column_stack([pos, (1.0 + g) * h])

    def pareto_intervals(self) -> np.ndarray:
        """``(2, 2)`` array: the ``[start, end]`` ranges each ``f_i``, ``i < M``, takes on the front."""
        return _dtlz7_intervals().copy()

    def pareto_front(self, n_points: int) -> np.ndarray:
        """A grid of the true front with ``r^(M-1) <= n_points`` points, ``r`` per axis.

        ``f_M`` is a sum of one term per ``f_i`` (``g = 1``), so a point is Pareto-optimal
        exactly when each ``f_i`` lies where its own term beats every smaller value:
        :meth:`pareto_intervals`, the same for every axis. The front is therefore the product
        of those intervals, sampled here with ``r`` values per axis spread by interval length;
        this equals filtering a fine grid for non-dominated points, without the grid.
        """
        m = int(self.n_obj)
        intervals = _dtlz7_intervals()
        n = integer(n_points, "n_points", len(intervals) ** (m - 1))
        r = round(n ** (1.0 / (m - 1)))
        while r ** (m - 1) > n:
            r -= 1
        while (r + 1) ** (m - 1) <= n:
            r += 1
        axis = sample_intervals(intervals, r)
        grid = np.meshgrid(*([axis] * (m - 1)), indexing="ij")
        pos = np.column_stack([a.ravel() for a in grid])
        return np.column_stack([pos, 2.0 * m + _dtlz7_level(pos).sum(axis=1)])
