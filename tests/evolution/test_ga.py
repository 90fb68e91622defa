"""The GA's ask/tell contract, reproducibility, checkpoints and refusal of bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chimera
from chimera import FitnessError, StateError, ValidationError
from chimera.evolution.ga import elitist_survival
from chimera.evolution.operators import SBX, Gaussian, Polynomial, Tournament, Truncation
from chimera.problems import onemax, sphere

BOUNDS = [(-5.0, 5.0)] * 8


def run(ga: chimera.GA, generations: int, fun=sphere) -> chimera.GA:
    for _ in range(generations):
        ga.tell(fun(ga.ask()))
    return ga


def test_ask_shape_dtype_and_bounds(backend: str) -> None:
    for dtype, bounds in [
        ("float64", BOUNDS),
        ("float32", BOUNDS),
        ("int32", [(-3, 7)] * 5),
        ("bool", [(0, 1)] * 9),
    ]:
        ga = chimera.GA(bounds, pop_size=31, seed=1, dtype=dtype, backend=backend)
        for _ in range(3):
            X = ga.ask()
            assert X.shape == (31, len(bounds)) and X.dtype == np.dtype(dtype)
            lo, hi = np.array(bounds, dtype=float).T
            assert (lo <= X).all() and (hi >= X).all()
            ga.tell(X.astype(float).sum(axis=1))


def test_ask_is_idempotent_until_tell(backend: str) -> None:
    ga = chimera.GA(BOUNDS, pop_size=10, seed=3, backend=backend)
    assert ga.ask() is ga.ask()
    ga.tell(sphere(ga.ask()))
    assert ga.parents is None or ga.parents.shape == (10, 2)
    X = ga.ask()
    assert ga.parents is not None and ga.parents.shape == (10, 2)
    assert ga.ask() is X


def test_elitism_never_loses_the_best(backend: str) -> None:
    ga = chimera.GA(BOUNDS, pop_size=20, seed=5, elitism=1, backend=backend)
    best = np.inf
    for _ in range(30):
        ga.tell(sphere(ga.ask()))
        assert ga.fitness is not None
        assert ga.fitness.min() <= best
        best = ga.fitness.min()
    assert ga.best_f == best


@given(st.integers(2, 12), st.integers(0, 12), st.integers(0, 2**32))
def test_survival_keeps_the_best_of_elites_and_offspring(n: int, e: int, seed: int) -> None:
    e = min(e, n)
    ga = chimera.GA(BOUNDS, pop_size=n, seed=seed, elitism=e, backend="cpp")
    rng = np.random.default_rng(seed)
    ga.ask()
    ga.tell(np.round(rng.normal(size=n)))  # ties on purpose
    fp, Xp = ga.fitness.copy(), ga.population.copy()
    X = ga.ask().copy()
    fo = np.round(rng.normal(size=n))
    ga.tell(fo)
    pool = np.sort(np.concatenate([np.sort(fp)[:e], fo]))[:n]
    np.testing.assert_array_equal(np.sort(ga.fitness), pool)
    # every row is its own offspring or one of the elite parents
    elite = np.argsort(fp, kind="stable")[:e]
    for row, f in zip(ga.population, ga.fitness, strict=True):
        own = any(np.array_equal(row, x) and f == v for x, v in zip(X, fo, strict=True))
        assert own or any(np.array_equal(row, Xp[i]) and f == fp[i] for i in elite)
    if e == 0:
        assert np.array_equal(ga.population, X)


@given(st.integers(2, 9), st.integers(0, 2**32))
def test_elitism_one_fast_path_matches_the_general_rule(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    Xp, X = rng.normal(size=(2, n, 3))
    fp, f = np.round(rng.normal(size=(2, n)))  # ties on purpose
    fast, general = (X.copy(), f.copy()), (X.copy(), f.copy())
    elitist_survival(Xp, fp, *fast, 1)
    elitist_survival(Xp, fp, *general, 1, general=True)
    np.testing.assert_array_equal(fast[0], general[0])
    np.testing.assert_array_equal(fast[1], general[1])


def test_same_seed_same_run_any_thread_count(backend: str) -> None:
    runs = []
    for threads in (1, 2, 1):
        chimera.set_num_threads(threads)
        # 400 x 100 genes: above the kernels' 2^15-gene grain, so the parallel path runs
        ga = chimera.GA(
            [(-5, 5)] * 100,
            pop_size=400,
            seed=11,
            crossover=SBX(),
            mutation=Polynomial(),
            backend=backend,
        )
        runs.append(run(ga, 15).population.copy())
    chimera.set_num_threads(2)
    assert np.array_equal(runs[0], runs[1]) and np.array_equal(runs[0], runs[2])


def test_different_seeds_differ() -> None:
    a = run(chimera.GA(BOUNDS, pop_size=16, seed=1), 3).population
    b = run(chimera.GA(BOUNDS, pop_size=16, seed=2), 3).population
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("stop_at_ask", [False, True])
def test_resume_is_bitwise_identical(backend: str, stop_at_ask: bool) -> None:
    def make() -> chimera.GA:
        return chimera.GA(
            BOUNDS, pop_size=24, seed=7, selection=Tournament(k=2), elitism=3, backend=backend
        )

    straight = run(make(), 20)
    first = run(make(), 9)
    if stop_at_ask:
        first.ask()
    blob = pickle.dumps(first.state_dict())
    resumed = make()
    resumed.load_state_dict(pickle.loads(blob))
    run(resumed, 11)
    assert resumed.generation == straight.generation and resumed.nfev == straight.nfev
    np.testing.assert_array_equal(resumed.population, straight.population)
    np.testing.assert_array_equal(resumed.fitness, straight.fitness)
    assert resumed.best_f == straight.best_f


def test_checkpoint_from_another_configuration_is_refused() -> None:
    state = run(chimera.GA(BOUNDS, pop_size=10, seed=1), 2).state_dict()
    other = chimera.GA(BOUNDS, pop_size=12, seed=1)
    with pytest.raises(ValidationError, match="pop_size"):
        other.load_state_dict(state)
    assert other.generation == 0 and other.population is None
    with pytest.raises(ValidationError, match="mutation"):
        chimera.GA(BOUNDS, pop_size=10, seed=1, mutation=Gaussian(sigma=0.2)).load_state_dict(state)
    with pytest.raises(ValidationError, match="not a GA checkpoint"):
        other.load_state_dict({"format": "something else"})
    broken = dict(state, population=np.zeros((3, 3)))
    same = chimera.GA(BOUNDS, pop_size=10, seed=1)
    with pytest.raises(ValidationError, match="population has shape"):
        same.load_state_dict(broken)
    assert same.population is None


def test_maximize() -> None:
    ga = run(chimera.GA([(0, 1)] * 30, pop_size=40, seed=2, dtype=bool, maximize=True), 60, onemax)
    assert ga.best_f == 30.0
    assert ga.fitness is not None and ga.fitness.max() == 30.0


def test_truncation_and_sus_make_progress(backend: str) -> None:
    for selection in (Truncation(0.3), "sus"):
        ga = run(chimera.GA(BOUNDS, pop_size=50, seed=4, selection=selection, backend=backend), 40)
        assert ga.best_f < 1.0


# Bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bounds": [(1, 1)]}, "low < high"),
        ({"bounds": [(0, np.inf)]}, "finite"),
        ({"bounds": [(0, np.nan)]}, "finite"),
        ({"bounds": [1, 2, 3]}, "shape"),
        ({"bounds": [[0, 1, 2]]}, "shape"),
        ({"pop_size": 1}, "pop_size"),
        ({"pop_size": 2.5}, "pop_size"),
        ({"selection": "roulette"}, "unknown selection 'roulette'"),
        ({"crossover": "three_point"}, "unknown crossover"),
        ({"mutation": "cauchy"}, "unknown mutation"),
        ({"mutation": {"name": "gaussian", "sigmaa": 1}}, "unknown option"),
        ({"selection": {"k": 3}}, "needs a 'name'"),
        ({"selection": Tournament(k=2), "crossover": Tournament()}, "not a crossover"),
        ({"elitism": -1}, "elitism"),
        ({"elitism": 11}, "elitism"),
        ({"repair": "wrap"}, "repair"),
        ({"nan_policy": "ignore"}, "nan_policy"),
        ({"seed": -1}, "seed"),
        ({"seed": "x"}, "seed"),
        ({"dtype": "complex128"}, "dtype"),
        ({"dtype": "int32", "crossover": "sbx"}, "needs a float genome"),
        ({"dtype": "bool", "bounds": [(0, 1)] * 3, "mutation": "gaussian"}, "does not apply"),
        ({"dtype": "int32", "bounds": [(0.5, 3)]}, "whole numbers"),
        ({"dtype": "bool", "bounds": [(0, 2)]}, r"\(0, 1\)"),
        ({"backend": "tpu"}, "unknown backend"),
    ],
)
def test_bad_construction_is_refused(kwargs: dict, match: str) -> None:
    args = {"bounds": BOUNDS, "pop_size": 10, **kwargs}
    with pytest.raises(ValidationError, match=match):
        chimera.GA(args.pop("bounds"), **args)


def test_an_operators_own_parameter_comes_first() -> None:
    # rate is keyword-only, so a positional argument is the operator's own parameter
    assert Gaussian(0.2).sigma == 0.2 and Gaussian(0.2).rate is None
    assert SBX(10).eta == 10 and SBX(10).rate == 0.9
    assert Tournament(5).k == 5 and Truncation(0.3).fraction == 0.3
    with pytest.raises(TypeError):
        Polynomial(20, 0.5)  # type: ignore[misc]


def test_operator_parameters_are_checked() -> None:
    with pytest.raises(ValidationError, match="operator, a name or a table"):
        chimera.GA(BOUNDS, pop_size=10, selection=3.0)
    with pytest.raises(ValidationError, match="tournament size"):
        Tournament(k=0)
    with pytest.raises(ValidationError, match="probability"):
        SBX(rate=1.5)
    with pytest.raises(ValidationError, match="sigma"):
        Gaussian(sigma=0)
    with pytest.raises(ValidationError, match="fraction"):
        Truncation(fraction=0)


def test_bad_fitness_is_refused_and_the_ga_survives() -> None:
    ga = chimera.GA(BOUNDS, pop_size=6, seed=1)
    X = ga.ask()
    for bad, match in [
        (np.zeros(5), r"shape \(6,\)"),
        (np.zeros((6, 2)), "shape"),
        (np.array(["a"] * 6), "numeric"),
        (np.array([1, 2, np.nan, 4, np.inf, 6.0]), "individuals 2, 4"),
        (np.ones(6) * 1j, "real"),
    ]:
        with pytest.raises(FitnessError, match=match):
            ga.tell(bad)
        assert ga.ask() is X and ga.generation == 0
    ga.tell(sphere(X))
    assert ga.generation == 1


def test_nan_policy_worst() -> None:
    ga = chimera.GA(BOUNDS, pop_size=6, seed=1, nan_policy="worst", selection="sus")
    X = ga.ask()
    f = sphere(X)
    f[[1, 3]] = np.nan
    ga.tell(f)
    assert ga.fitness is not None and np.isinf(ga.fitness[[1, 3]]).all()
    ga.tell(sphere(ga.ask()))  # SUS gives the worst no weight but still runs
    assert np.isfinite(ga.best_f)


def test_tell_without_ask() -> None:
    ga = chimera.GA(BOUNDS, pop_size=4)
    with pytest.raises(StateError, match="ask"):
        ga.tell(np.zeros(4))
    ga.tell(sphere(ga.ask()))
    with pytest.raises(StateError):
        ga.tell(np.zeros(4))


def test_backend_override_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHIMERA_BACKEND", "cpp")
    assert chimera.GA(BOUNDS, pop_size=4).backend == "cpp"
    monkeypatch.setenv("CHIMERA_BACKEND", "nonsense")
    with pytest.raises(ValidationError, match="unknown backend"):
        chimera.GA(BOUNDS, pop_size=4)


def test_backends_report_reasons() -> None:
    status = chimera.backends()
    assert set(status) == {"cuda", "cpp", "numba"}
    assert status["cpp"].available
    for s in status.values():
        assert s.available or s.reason
