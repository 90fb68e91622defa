"""The built-in problems: known optima and values, binary problems, lookup errors."""

from __future__ import annotations

import numpy as np
import pytest

from chimera import ValidationError, problems


@pytest.mark.parametrize(
    "name", ["sphere", "rastrigin", "rosenbrock", "ackley", "griewank", "schwefel"]
)
def test_continuous_optima(name: str) -> None:
    p = problems.get(name, 7)
    x = {"rosenbrock": np.ones(7), "schwefel": np.full(7, 420.9687463)}.get(name, np.zeros(7))
    assert p.fun(x[None, :])[0] == pytest.approx(0.0, abs=1e-6)
    X = np.random.default_rng(0).uniform(p.bounds[:, 0], p.bounds[:, 1], (50, 7))
    values = p.fun(X)
    assert values.shape == (50,) and (values > 0).all()
    # rows are evaluated independently of each other
    np.testing.assert_allclose(values[3], p.fun(X[3])[0])


def test_known_values() -> None:
    assert problems.rastrigin(np.array([[1.0, 0.0]]))[0] == pytest.approx(1.0)
    assert problems.rosenbrock(np.array([[0.0, 0.0]]))[0] == pytest.approx(1.0)
    assert problems.sphere(np.array([1.0, 2.0]))[0] == 5.0
    assert problems.griewank(np.array([[np.pi * 2, 0.0]]))[0] == pytest.approx(
        1 + 4 * np.pi**2 / 4000 - 1
    )


def test_binary_problems() -> None:
    X = np.array([[1, 1, 0, 1], [0, 1, 1, 1], [1, 1, 1, 1]], dtype=bool)
    np.testing.assert_array_equal(problems.onemax(X), [3, 3, 4])
    np.testing.assert_array_equal(problems.leading_ones(X), [2, 0, 4])


def test_knapsack_optimum_by_brute_force() -> None:
    ks = problems.Knapsack.random(12, seed=5)
    grid = ((np.arange(2**12)[:, None] >> np.arange(12)) & 1).astype(bool)
    assert ks(grid).max() == ks.optimum()
    over = ks(np.ones((1, 12), dtype=bool))[0]
    assert over < 0


def test_problem_lookup_errors() -> None:
    with pytest.raises(ValidationError, match="unknown problem"):
        problems.get("nope", 3)
    with pytest.raises(ValidationError, match="dim"):
        problems.get("sphere", 0)
    with pytest.raises(ValidationError, match="seed"):
        problems.get("sphere", 3, seed=1)
    assert problems.get("knapsack", 10, seed=3).maximize
