"""chimera.minimize: convergence, the history table, budgets, executors, callbacks, refusals."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import chimera
from chimera import FitnessError, ValidationError, problems
from chimera.evolution.operators import SBX, Polynomial

GOOD = {"crossover": SBX(), "mutation": Polynomial(), "elitism": 50}


def test_minimize_sphere_converges() -> None:
    res = chimera.minimize(
        problems.sphere, [(-5, 5)] * 10, max_evals=20_000, seed=0, pop_size=50, **GOOD
    )
    assert res.fun < 1e-3
    assert res.nfev == 20_000 and res.ngen == 400
    assert res.x.shape == (10,) and problems.sphere(res.x)[0] == pytest.approx(res.fun)


def test_history_is_an_arrow_table() -> None:
    res = chimera.minimize(
        problems.rastrigin, [(-5.12, 5.12)] * 5, max_evals=1000, seed=1, pop_size=100
    )
    h = res.history
    assert isinstance(h, pa.Table) and h.num_rows == 10
    assert h.column_names == [
        "generation",
        "nfev",
        "best",
        "min",
        "mean",
        "max",
        "std",
        "elapsed_s",
    ]
    best = h.column("best").to_numpy()
    assert (np.diff(best) <= 0).all() and best[-1] == res.fun
    assert h.column("nfev").to_pylist() == list(range(100, 1001, 100))


def test_partial_generation_budget_is_not_overspent() -> None:
    res = chimera.minimize(problems.sphere, [(-1, 1)] * 3, max_evals=250, seed=1, pop_size=100)
    assert res.nfev == 200


def test_non_vectorized_objective_through_an_executor() -> None:
    seen = set()

    def fun(x: np.ndarray) -> float:
        seen.add(threading.get_ident())
        # the vectorised sphere's own arithmetic on one row: np.sum(x * x) rounds differently
        # from einsum's products in the last bit on some NumPy versions (2.4)
        return float(problems.sphere(x[None, :])[0])

    a = chimera.minimize(fun, [(-2, 2)] * 4, max_evals=600, seed=3, pop_size=30, vectorized=False)
    with ThreadPoolExecutor(2) as pool:
        b = chimera.minimize(
            fun, [(-2, 2)] * 4, max_evals=600, seed=3, pop_size=30, vectorized=False, executor=pool
        )
    c = chimera.minimize(problems.sphere, [(-2, 2)] * 4, max_evals=600, seed=3, pop_size=30)
    assert a.fun == b.fun == c.fun
    np.testing.assert_array_equal(a.x, c.x)
    assert seen


def test_objective_returning_garbage_is_reported() -> None:
    with pytest.raises(FitnessError, match="one value per individual"):
        chimera.minimize(
            lambda x: [1, 2], [(-1, 1)] * 2, max_evals=20, pop_size=10, vectorized=False
        )
    with pytest.raises(FitnessError, match="shape"):
        chimera.minimize(lambda X: X, [(-1, 1)] * 2, max_evals=20, pop_size=10)


def test_callback_stops_the_run() -> None:
    res = chimera.minimize(
        problems.sphere,
        [(-1, 1)] * 2,
        max_evals=10_000,
        pop_size=10,
        seed=0,
        callback=lambda ga: ga.generation >= 3,
    )
    assert res.ngen == 3 and res.message == "stopped by callback"


def test_progress_bar_runs(capsys: pytest.CaptureFixture[str]) -> None:
    res = chimera.minimize(
        problems.sphere, [(-1, 1)] * 2, max_evals=100, pop_size=10, seed=0, progress=True
    )
    assert res.ngen == 10


@pytest.mark.parametrize(
    ("algorithm", "options", "generations"),
    [("ga", {"pop_size": 10}, 20), ("moead", {"n_obj": 2, "pop_size": 20}, 91),
     ("sms_emoa", {"n_obj": 2, "pop_size": 20, "n_offspring": 5}, 37),
     ("lshade", {}, None), ("cmaes", {}, None)],  # their populations change: unknown
)  # fmt: skip
def test_progress_bar_expects_the_generations_the_budget_allows(
    monkeypatch: pytest.MonkeyPatch,
    algorithm: str,
    options: dict[str, Any],
    generations: int | None,
) -> None:
    totals = []
    real = chimera.loop.Progress

    def recording(total: int | None, **kw: Any) -> Any:
        totals.append(total)
        return real(total, **kw)

    monkeypatch.setattr(chimera.loop, "Progress", recording)
    fun = (lambda X: X[:, :2]) if "n_obj" in options else (lambda X: X.sum(axis=1))
    res = chimera.minimize(fun, [(0, 1)] * 4, algorithm=algorithm, max_evals=200, seed=0,
                           progress=True, **options)  # fmt: skip
    assert totals == [generations]  # 20 + 90 x 2 = 200 for MOEA/D's 20 weights
    assert generations is None or generations == res.ngen


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"algorithm": "pso"}, "unknown algorithm"),
        ({"max_evals": 5}, "less than one generation"),
        ({"max_evals": 10.5}, "max_evals must be an integer"),
        ({"pop_size": 1}, "pop_size"),
        ({"bogus": 1}, "bogus"),
        ({"executor": "threads"}, "executor must be a concurrent.futures.Executor"),
        ({"callback": 5}, "callback must be callable"),
        ({"algorithm": "nsga3", "n_obj": "3"}, "n_obj must be an integer"),
        (
            {"algorithm": "nsga3", "ref_dirs": [[1, 0], [0]]},
            "ref_dirs must be a \\(H, n_obj=3\\) array",
        ),
        ({"repair": ["clip"]}, "repair must be one of"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    args = {"max_evals": 100, "pop_size": 10, **kwargs}
    with pytest.raises((ValidationError, TypeError), match=match):
        chimera.minimize(problems.sphere, [(-1, 1)] * 2, **args)


def test_maximize_binary_problems() -> None:
    p = problems.get("onemax", 40)
    res = chimera.minimize(
        p.fun, p.bounds, dtype=p.dtype, maximize=True, max_evals=8000, pop_size=40, seed=2
    )
    assert res.fun == 40.0 and res.x.dtype == np.bool_


def test_an_objective_that_is_never_finite_gives_a_result_that_says_so() -> None:
    res = chimera.minimize(lambda X: np.full(len(X), np.nan), [(-1, 1)] * 2, max_evals=40,
                           pop_size=10, seed=0, nan_policy="worst")  # fmt: skip
    assert np.isnan(res.x).all() and res.fun == np.inf and res.nfev == 40
    assert res.message.endswith("; no finite feasible value was found")


def test_the_loop_refuses_a_run_that_cannot_end() -> None:
    from chimera.history import History
    from chimera.loop import Budget, Loop

    opt = chimera.GA([(-1, 1)] * 2, pop_size=4, seed=0)
    history = History(False, None, None)
    for bad, match in [({"evals": -1}, "budget evals must be a positive integer"),
                       ({"generations": 2.5}, "budget generations must be a positive integer"),
                       ({"seconds": -1.0}, "budget seconds must be finite seconds > 0"),
                       ({"evals": "100"}, "budget evals")]:  # fmt: skip
        with pytest.raises(ValidationError, match=match):
            Budget(**bad)
    with pytest.raises(ValidationError, match="budget limits nothing and no callback"):
        Loop(opt, problems.sphere, history=history, budget=Budget())
    with pytest.raises(ValidationError, match="budget must be a Budget"):
        Loop(opt, problems.sphere, history=history, budget=None)  # type: ignore[arg-type]
    stop = Loop(opt, lambda X: (problems.sphere(X), None), history=history, budget=Budget(),
                callback=lambda o: o.generation >= 3)  # fmt: skip
    assert stop.run() == "stopped by callback" and opt.generation == 3


def test_the_result_reads_like_scipys() -> None:
    res = chimera.minimize(problems.sphere, [(-1, 1)] * 12, max_evals=400, seed=1,
                           algorithm="ga")  # fmt: skip
    assert res.success and res.status == 0 and res.nit == res.ngen == 4
    assert res["x"] is res.x and res["fun"] == res.fun and "nfev" in res and "jac" not in res
    assert repr(res).startswith("OptimizeResult(x=[") and "..." in repr(res)  # 12 genes, cut
    with pytest.raises(KeyError):
        res["jac"]
    stopped = chimera.minimize(problems.sphere, [(-1, 1)] * 2, max_evals=400, seed=1,
                               callback=lambda opt: True)  # fmt: skip
    assert stopped.status == 1 and stopped.success
    never = chimera.minimize(lambda X: np.full(len(X), np.nan), [(-1, 1)] * 2, max_evals=40,
                             pop_size=10, nan_policy="worst")  # fmt: skip
    assert never.status == 2 and not never.success


@pytest.mark.parametrize(("habit", "fix"), [("x0", "narrow the bounds around x0"),
                                            ("method", "algorithm="), ("maxiter", "max_evals=")])  # fmt: skip
def test_scipys_habits_get_chimeras_words(habit: str, fix: str) -> None:
    with pytest.raises(ValidationError, match=f"takes no {habit}= .*{fix}"):
        chimera.minimize(problems.sphere, [(-1, 1)] * 2, max_evals=100, **{habit: 1})
