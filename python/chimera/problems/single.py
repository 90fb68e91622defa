"""Single-objective benchmark functions, vectorised: ``(n, dim)`` array in, ``(n,)`` out.

Continuous ones are minimised with optimum 0; the binary ones (onemax, leading ones, knapsack)
are maximised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import ValidationError
from ._util import as_rows

Objective = Callable[[np.ndarray], np.ndarray]


def _rows(X: Any) -> np.ndarray:
    return as_rows(X, 1, "a built-in problem")


def sphere(X: Any) -> np.ndarray:
    """Sum of squares."""
    X = _rows(X).astype(np.float64, copy=False)
    return np.einsum("ij,ij->i", X, X)


def rastrigin(X: Any) -> np.ndarray:
    """10 d + sum(x^2 - 10 cos(2 pi x)): a regular grid of local minima."""
    X = _rows(X).astype(np.float64, copy=False)
    return (
        10.0 * X.shape[1] + np.einsum("ij,ij->i", X, X) - 10.0 * np.cos(2.0 * np.pi * X).sum(axis=1)
    )


def rosenbrock(X: Any) -> np.ndarray:
    """sum(100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2): a curved valley, optimum at 1."""
    X = _rows(X).astype(np.float64, copy=False)
    a, b = X[:, :-1], X[:, 1:]
    return (100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2).sum(axis=1)


def ackley(X: Any) -> np.ndarray:
    """Ackley's function (a = 20, b = 0.2, c = 2 pi)."""
    X = _rows(X).astype(np.float64, copy=False)
    d = X.shape[1]
    s1 = np.sqrt(np.einsum("ij,ij->i", X, X) / d)
    s2 = np.cos(2.0 * np.pi * X).sum(axis=1) / d
    return -20.0 * np.exp(-0.2 * s1) - np.exp(s2) + 20.0 + np.e


def griewank(X: Any) -> np.ndarray:
    """1 + sum(x^2) / 4000 - prod(cos(x_i / sqrt(i)))."""
    X = _rows(X).astype(np.float64, copy=False)
    i = np.sqrt(np.arange(1, X.shape[1] + 1, dtype=np.float64))
    return 1.0 + np.einsum("ij,ij->i", X, X) / 4000.0 - np.prod(np.cos(X / i), axis=1)


def schwefel(X: Any) -> np.ndarray:
    """Schwefel 2.26: 418.9829 d - sum(x sin(sqrt|x|)), optimum near 420.9687 per gene."""
    X = _rows(X).astype(np.float64, copy=False)
    return 418.9828872724338 * X.shape[1] - (X * np.sin(np.sqrt(np.abs(X)))).sum(axis=1)


# Styblinski-Tang's minimum per gene, at x = -2.903534027771177 (a root of 4x^3 - 32x + 5).
_STYBLINSKI_TANG_MIN = -39.16616570377142


def styblinski_tang(X: Any) -> np.ndarray:
    """0.5 sum(x^4 - 16 x^2 + 5 x), shifted so that the optimum, x_i = -2.9035 per gene, is 0:
    separable, with 2^d local minima (each gene's other basin, near 2.7468, is 14.1 worse)."""
    X = _rows(X).astype(np.float64, copy=False)
    X2 = X * X
    return 0.5 * (X2 * X2 - 16.0 * X2 + 5.0 * X).sum(axis=1) - _STYBLINSKI_TANG_MIN * X.shape[1]


def onemax(X: Any) -> np.ndarray:
    """Number of ones (maximise)."""
    return _rows(X).astype(bool, copy=False).sum(axis=1).astype(np.float64)


def leading_ones(X: Any) -> np.ndarray:
    """Length of the run of ones at the start (maximise)."""
    B = _rows(X).astype(bool, copy=False)
    zero = ~B
    first_zero = np.where(zero.any(axis=1), zero.argmax(axis=1), B.shape[1])
    return first_zero.astype(np.float64)


@dataclass(frozen=True)
class Knapsack:
    """0/1 knapsack (maximise value); overweight selections score ``capacity - weight`` (< 0)."""

    values: np.ndarray
    weights: np.ndarray
    capacity: float

    def __call__(self, X: Any) -> np.ndarray:
        B = _rows(X).astype(np.float64, copy=False)
        if B.shape[1] != self.values.size:
            raise ValidationError(f"X must have {self.values.size} genes (one per item) for this "
                                  f"knapsack, got shape {B.shape}")  # fmt: skip
        value, weight = B @ self.values, B @ self.weights
        return np.where(weight <= self.capacity, value, self.capacity - weight)

    @classmethod
    def random(cls, dim: int, seed: int = 0) -> Knapsack:
        """A seeded instance with uncorrelated items and half the total weight as capacity."""
        rng = np.random.default_rng(seed)
        weights = rng.integers(1, 100, dim).astype(np.float64)
        values = rng.integers(1, 100, dim).astype(np.float64)
        return cls(values, weights, float(weights.sum() / 2))

    def optimum(self) -> float:
        """Exact optimum by dynamic programming over integer weights."""
        cap = int(self.capacity)
        best = np.zeros(cap + 1)
        for v, w in zip(self.values, self.weights.astype(int), strict=True):
            if w <= cap:
                best[w:] = np.maximum(best[w:], best[:-w] + v)  # RHS reads the old row: 0/1 items
        return float(best[cap])
