"""The built-in problems: known optima and values, binary problems, lookup errors."""

from __future__ import annotations

import numpy as np
import pytest

from chimera import ValidationError, problems


@pytest.mark.parametrize(
    "name",
    ["sphere", "rastrigin", "rosenbrock", "ackley", "griewank", "schwefel", "styblinski_tang"],
)
def test_continuous_optima(name: str) -> None:
    p = problems.get(name, 7)
    x = {"rosenbrock": np.ones(7), "schwefel": np.full(7, 420.9687463),
         "styblinski_tang": np.full(7, -2.903534027771177)}.get(name, np.zeros(7))  # fmt: skip
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


def test_styblinski_tang_is_the_textbook_function_shifted_to_zero() -> None:
    X = np.random.default_rng(3).uniform(-5, 5, (20, 4))
    textbook = 0.5 * (X**4 - 16 * X**2 + 5 * X).sum(axis=1)
    np.testing.assert_allclose(problems.styblinski_tang(X), textbook + 39.16616570377142 * 4)
    # the optimum is where each gene's derivative 2x^3 - 16x + 2.5 vanishes in the lower basin
    x = -2.903534027771177
    assert abs(2 * x**3 - 16 * x + 2.5) < 1e-9


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
