"""NSGA-II and NSGA-III: quality on ZDT1 and DTLZ2, survival as specified, the same run on
either backend, any thread count and after a checkpoint, constraints, and refusal of bad
input, through ask/tell and through ``chimera.minimize``."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chimera
from chimera import NSGA2, NSGA3, FitnessError, StateError, ValidationError
from chimera.directions import das_dennis
from chimera.evolution import crowding_distance, pareto_rank
from chimera.indicators import hypervolume, igd_plus
from chimera.problems import DTLZ2, ZDT1
from helpers import assert_same_state, run, same

# what a resumed run must hold bit for bit
STATE = ("population", "objectives", "violation", "survivors", "pareto_x", "pareto_f")
BACKENDS = [name for name in ("cpp", "numba") if chimera.backends()[name].available]
zdt1, dtlz2 = ZDT1(), DTLZ2()


def corner(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimise (x0, x1) subject to x0 + x1 >= 1: the front is the segment x0 + x1 = 1."""
    return X[:, :2].copy(), (1.0 - X[:, 0] - X[:, 1])[:, None]


def hopeless(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Never feasible: g = 1 + x0 > 0 everywhere."""
    return X[:, :2].copy(), 1.0 + X[:, :1]


@pytest.fixture
def restore_threads() -> Any:
    before = chimera._core.ga.num_threads()
    yield
    chimera.set_num_threads(before)


# --- quality ---------------------------------------------------------------------------------


def test_nsga2_zdt1_hypervolume(backend: str) -> None:
    opt = run(NSGA2(zdt1.bounds(30), pop_size=100, seed=1, backend=backend), zdt1, 250)
    assert opt.generation == 250 and opt.nfev == 25_000
    front = opt.pareto_f
    # Measured 0.65937 (seed 1; seeds 2, 3: 0.65947, 0.65949); the true front's is 2/3.
    assert hypervolume(front, [1.0, 1.0]) >= 0.655
    assert front.shape[0] == 100
    np.testing.assert_array_equal(pareto_rank(front), 0)
    same(zdt1(opt.pareto_x), front)
    assert ((opt.pareto_x >= 0) & (opt.pareto_x <= 1)).all()


def test_nsga3_dtlz2_igd_plus(backend: str) -> None:
    opt = NSGA3(dtlz2.bounds(12), seed=1, backend=backend)
    assert opt.ref_dirs.shape == (91, 3) and opt.pop_size == 92
    run(opt, dtlz2, 300)
    front = opt.pareto_f
    # Measured 0.02320 (seeds 1-5: 0.02271-0.02320). 91 points exactly at the Das-Dennis
    # directions on the true front score 0.02236 against the same 4950-point reference, so
    # this is near the best 91 points can do; 0.025 leaves a margin.
    assert igd_plus(front, dtlz2.pareto_front(5000)) < 0.025
    norms = np.linalg.norm(front, axis=1)
    assert np.median(norms) < 1.01 and norms.min() > 1.0 - 1e-12
    ref, dist = np.empty(front.shape[0], np.int32), np.empty(front.shape[0])
    chimera._core.moo.associate(front, opt.ref_dirs, ref, dist)
    assert np.unique(ref).size >= 85  # measured 91: every direction has a point


# --- survival as specified -------------------------------------------------------------------


def test_nsga2_keeps_the_best_by_rank_then_crowding(backend: str) -> None:
    opt = NSGA2(dtlz2.bounds(12), n_obj=3, pop_size=40, seed=3, backend=backend)
    prev_X, prev_F = np.zeros((40, 12)), np.zeros((40, 3))
    for gen in range(15):
        X = opt.ask().copy()
        F = dtlz2(X)
        opt.tell(F)
        merged_X = np.concatenate([prev_X, X])
        merged_F = np.concatenate([prev_F, F])
        kept = opt.survivors
        same(merged_X[kept], opt.population)
        same(merged_F[kept], opt.objectives)
        if gen:  # the best 40 of 80 by (rank, -crowding)
            rank = pareto_rank(merged_F)
            crowd = crowding_distance(merged_F, rank)
            key = np.lexsort((-crowd, rank))
            np.testing.assert_array_equal(kept, key[:40])
        else:
            assert (kept >= 40).all()
        prev_X, prev_F = opt.population.copy(), opt.objectives.copy()


def test_nsga3_keeps_whole_fronts_then_fills_the_last(backend: str) -> None:
    opt = NSGA3(dtlz2.bounds(12), seed=4, backend=backend)
    n = opt.pop_size
    prev_F = np.zeros((n, 3))
    split = 0
    for gen in range(20):
        F = dtlz2(opt.ask())
        opt.tell(F)
        kept = opt.survivors
        assert np.unique(kept).size == n
        if gen:
            rank = pareto_rank(np.concatenate([prev_F, F]))
            last = rank[kept].max()
            assert (rank[kept] <= last).all()
            np.testing.assert_array_equal(
                np.sort(kept[rank[kept] < last]), np.flatnonzero(rank < last)
            )
            split += int((rank == last).sum() > (rank[kept] == last).sum())
        prev_F = opt.objectives.copy()
    assert split > 0  # the niching path ran


def test_nsga3_mates_everyone_twice_while_all_are_feasible(backend: str) -> None:
    for violation, everyone in ((-np.ones(40), True), (1.0 + np.arange(40), False)):
        opt = NSGA3([(0.0, 1.0)] * 10, n_obj=2, pop_size=40, seed=5, backend=backend)
        X = opt.ask()
        opt.tell(X[:, :2], violation[:, None])
        opt.ask()
        assert opt.parents is not None
        counts = np.bincount(opt.parents.ravel(), minlength=40)
        if everyone:  # a copy redrawn (rare) takes other parents; the rest parent twice each
            assert (counts == 2).mean() > 0.9
            # the genome store records the operators a user chose, not NSGA-III's own mating
            assert opt.operators == "sbx(rate=1.0,eta=30.0)+polynomial(rate=None,eta=20.0)"
        else:  # a binary tournament on violation: the worst row never wins
            assert counts[39] == 0 and (counts == 0).sum() > 5


# --- reproducibility -------------------------------------------------------------------------


@pytest.mark.skipif(len(BACKENDS) < 2, reason="needs the cpp and numba backends")
@pytest.mark.parametrize(
    ("make", "fun"),
    [
        (lambda b: NSGA2(zdt1.bounds(30), pop_size=60, seed=7, backend=b), zdt1),
        (lambda b: NSGA3(dtlz2.bounds(12), seed=7, backend=b), dtlz2),
        (lambda b: NSGA2([(0, 1)] * 3, pop_size=30, seed=2, backend=b), corner),
        (lambda b: NSGA3([(0, 1)] * 3, n_obj=2, pop_size=40, seed=2, backend=b), corner),
    ],
)
def test_backends_give_the_same_run(make: Callable[[str], Any], fun: Any) -> None:
    cpp, numba = run(make("cpp"), fun, 40), run(make("numba"), fun, 40)
    assert_same_state(cpp, numba, STATE)


def test_same_run_on_any_thread_count(backend: str, restore_threads: Any) -> None:
    big = DTLZ2(n_obj=5)
    runs = []
    for threads in (1, 2, 1):
        chimera.set_num_threads(threads)
        # 6600 x 5 merged objectives and 3300 x 14 genes are above the kernels' 2^15 grain,
        # as is NSGA-III's 184 x 91 x 3 association with 400 genes.
        a = run(NSGA2(big.bounds(14), n_obj=5, pop_size=3300, seed=5, backend=backend), big, 3)
        b = run(NSGA3(dtlz2.bounds(400), seed=5, backend=backend), dtlz2, 5)
        runs.append((a, b))
    for a, b in runs[1:]:
        assert_same_state(runs[0][0], a, STATE)
        assert_same_state(runs[0][1], b, STATE)


def test_same_seed_same_run_other_seed_other_run(backend: str) -> None:
    a, b, c = (
        run(NSGA2(zdt1.bounds(10), pop_size=20, seed=s, backend=backend), zdt1, 10)
        for s in (1, 1, 2)
    )
    assert_same_state(a, b, STATE)
    assert not np.array_equal(a.population, c.population)


# --- checkpoints -----------------------------------------------------------------------------

CHECKPOINTED = [
    pytest.param(lambda b: NSGA2(zdt1.bounds(8), pop_size=24, seed=9, backend=b), zdt1, id="nsga2"),
    pytest.param(lambda b: NSGA3(dtlz2.bounds(12), seed=9, backend=b), dtlz2, id="nsga3"),
    pytest.param(
        lambda b: NSGA2([(0, 1)] * 4, pop_size=20, seed=9, backend=b), corner, id="nsga2-g"
    ),
    pytest.param(
        lambda b: NSGA3([(0, 1)] * 4, n_obj=2, n_partitions=15, seed=9, backend=b),
        corner,
        id="nsga3-g",
    ),
]


@pytest.mark.parametrize(("make", "fun"), CHECKPOINTED)
@pytest.mark.parametrize("pending", [False, True])
def test_checkpoint_resumes_bit_for_bit(
    backend: str, make: Callable[[str], Any], fun: Any, pending: bool
) -> None:
    opt = run(make(backend), fun, 6)
    if pending:
        opt.ask()
    state = pickle.loads(pickle.dumps(opt.state_dict()))
    run(opt, fun, 8)
    fresh = make(backend)
    fresh.load_state_dict(state)
    assert fresh.generation == 6
    run(fresh, fun, 8)
    assert_same_state(opt, fresh, STATE)
    # The snapshot is a copy: the original ran on, the snapshot still loads to generation 6.
    again = make(backend)
    again.load_state_dict(state)
    assert again.generation == 6


def test_checkpoint_before_the_first_tell(backend: str) -> None:
    opt = NSGA2(zdt1.bounds(8), pop_size=16, seed=4, backend=backend)
    X = opt.ask().copy()
    fresh = NSGA2(zdt1.bounds(8), pop_size=16, seed=4, backend=backend)
    fresh.load_state_dict(opt.state_dict())
    same(fresh.ask(), X)
    assert fresh.pareto_f.shape == (0, 2) and fresh.pareto_x.shape == (0, 8)
    assert_same_state(run(opt, zdt1, 5), run(fresh, zdt1, 5), STATE)


@pytest.mark.skipif(len(BACKENDS) < 2, reason="needs the cpp and numba backends")
def test_checkpoint_moves_between_backends() -> None:
    opt = run(NSGA3(dtlz2.bounds(12), seed=2, backend="cpp"), dtlz2, 5)
    fresh = NSGA3(dtlz2.bounds(12), seed=2, backend="numba")
    fresh.load_state_dict(opt.state_dict())
    assert_same_state(run(opt, dtlz2, 5), run(fresh, dtlz2, 5), STATE)


def test_checkpoint_from_another_configuration_is_refused() -> None:
    state = run(NSGA2(zdt1.bounds(8), pop_size=20, seed=1), zdt1, 2).state_dict()
    with pytest.raises(ValidationError, match="pop_size"):
        NSGA2(zdt1.bounds(8), pop_size=24, seed=1).load_state_dict(state)
    with pytest.raises(ValidationError, match=r"another configuration.*seed"):
        NSGA2(zdt1.bounds(8), pop_size=20, seed=2).load_state_dict(state)
    with pytest.raises(ValidationError, match="dim"):
        NSGA2(zdt1.bounds(9), pop_size=20, seed=1).load_state_dict(state)
    with pytest.raises(ValidationError, match="n_obj"):
        NSGA2(zdt1.bounds(8), n_obj=3, pop_size=20, seed=1).load_state_dict(state)
    with pytest.raises(ValidationError, match="nan_policy"):
        NSGA2(zdt1.bounds(8), pop_size=20, seed=1, nan_policy="worst").load_state_dict(state)
    with pytest.raises(ValidationError, match="not a NSGA3 checkpoint"):
        NSGA3(zdt1.bounds(8), n_obj=2, pop_size=20, seed=1).load_state_dict(state)
    with pytest.raises(ValidationError, match="not a NSGA2 checkpoint"):
        NSGA2(zdt1.bounds(8), pop_size=20, seed=1).load_state_dict({"format": "nope"})
    ga = chimera.GA(zdt1.bounds(8), pop_size=20, seed=1)
    with pytest.raises(ValidationError, match="checkpoint"):
        NSGA2(zdt1.bounds(8), pop_size=20, seed=1).load_state_dict(ga.state_dict())
    three = run(NSGA3(dtlz2.bounds(12), n_partitions=6, seed=1), dtlz2, 2).state_dict()
    with pytest.raises(ValidationError, match="ref_dirs"):
        NSGA3(
            dtlz2.bounds(12), n_partitions=5, pop_size=three["config"]["pop_size"], seed=1
        ).load_state_dict(three)
    broken = dict(state, population=np.zeros((3, 8)))
    with pytest.raises(ValidationError, match=r"population has shape \(3, 8\)"):
        NSGA2(zdt1.bounds(8), pop_size=20, seed=1).load_state_dict(broken)
    # A refused checkpoint leaves the optimizer as it was.
    opt = run(NSGA2(zdt1.bounds(8), pop_size=20, seed=1), zdt1, 3)
    before = opt.state_dict()
    with pytest.raises(ValidationError):
        opt.load_state_dict(broken)
    assert opt.generation == 3
    same(opt.population, before["population"])


# --- constraints -----------------------------------------------------------------------------


@pytest.mark.parametrize(("algorithm", "options"), [("nsga2", {"pop_size": 40}), ("nsga3", {})])
def test_constrained_front_is_feasible(algorithm: str, options: dict[str, Any]) -> None:
    res = chimera.minimize(
        corner, [(0.0, 1.0)] * 3, algorithm=algorithm, n_obj=2, max_evals=4000, seed=1, **options
    )
    x, f = res.pareto_x, res.pareto_f
    assert x.shape[0] >= 20 and f.shape == (x.shape[0], 2)
    assert (1.0 - x[:, 0] - x[:, 1] <= 0).all()  # every Pareto point feasible
    # ... and on the segment x0 + x1 = 1 (measured: within 0.047 for nsga2, 0.018 for nsga3).
    assert f.sum(axis=1).max() < 1.1
    assert res.x is x and res.fun is f
    assert res.history.column("feasible").to_pylist()[-1] == 1.0


def test_constraints_through_ask_and_tell(backend: str) -> None:
    opt = NSGA2([(0.0, 1.0)] * 3, pop_size=30, seed=6, backend=backend)
    # A small feasible corner: x0 + x1 >= 1.9; the first population is almost all outside.
    narrow = lambda X: (X[:, :2].copy(), np.stack([1.9 - X[:, 0] - X[:, 1], -X[:, 2]], axis=1))  # noqa: E731
    run(opt, narrow, 1)
    assert opt.n_constraints == 2
    run(opt, narrow, 60)
    assert (opt.violation == 0).all()
    assert opt.pareto_x.shape[0] > 0
    assert (opt.pareto_x[:, 0] + opt.pareto_x[:, 1] >= 1.9).all()
    with pytest.raises(FitnessError, match="G is missing: this run has 2 constraints"):
        opt.tell(opt.ask()[:, :2])
    with pytest.raises(FitnessError, match="G has 1 constraints per individual"):
        opt.tell(opt.ask()[:, :2], np.zeros(30))
    with pytest.raises(FitnessError, match="NaN"):
        opt.tell(opt.ask()[:, :2], np.full((30, 2), np.nan))
    with pytest.raises(FitnessError, match=r"shape \(30, n_constraints\)"):
        opt.tell(opt.ask()[:, :2], np.zeros((29, 2)))


@pytest.mark.parametrize("algorithm", ["nsga2", "nsga3"])
def test_no_feasible_solution_runs_to_the_end(algorithm: str) -> None:
    res = chimera.minimize(
        hopeless, [(0.0, 1.0)] * 3, algorithm=algorithm, n_obj=2, max_evals=2000, seed=1,
        pop_size=40, ref_point=[2.0, 2.0],
    )  # fmt: skip
    assert res.ngen == 50 and res.nfev == 2000
    assert "no feasible solution" in res.message
    assert res.pareto_x.shape == (0, 3) and res.pareto_f.shape == (0, 2)
    assert np.isnan(res.history.column("hypervolume").to_numpy()).all()
    assert res.history.column("feasible").to_pylist() == [0.0] * 50


@pytest.mark.parametrize("cls", [NSGA2, NSGA3])
def test_infeasible_population_moves_toward_less_violation(cls: type, backend: str) -> None:
    opt = cls([(0.0, 1.0)] * 3, n_obj=2, pop_size=20, seed=3, backend=backend)
    best = np.inf
    for _ in range(30):
        run(opt, hopeless, 1)
        assert opt.violation.min() <= best  # the least violating row is never lost
        best = opt.violation.min()
    assert best < 1.05  # g = 1 + x0, x0 -> 0
    assert opt.pareto_f.shape == (0, 2)


# --- minimize --------------------------------------------------------------------------------


def test_minimize_multi_objective_result(backend: str) -> None:
    res = chimera.minimize(
        zdt1, zdt1.bounds(10), algorithm="nsga2", max_evals=2050, seed=3, pop_size=50,
        ref_point=[1.1, 1.1], backend=backend,
    )  # fmt: skip
    assert (res.ngen, res.nfev, res.algorithm, res.backend) == (41, 2050, "nsga2", backend)
    assert res.message == "evaluation budget of 2050 spent"
    same(zdt1(res.pareto_x), res.pareto_f)
    hv = res.history.column("hypervolume").to_numpy()
    assert hv.shape == (41,) and hv[-1] == hypervolume(res.pareto_f, [1.1, 1.1])
    assert res.history.column("front_size").to_pylist()[-1] == res.pareto_f.shape[0]
    assert "Pareto points" in repr(res)
    opt = run(NSGA2(zdt1.bounds(10), pop_size=50, seed=3, backend=backend), zdt1, 41)
    same(opt.pareto_f, res.pareto_f)


@pytest.mark.parametrize("algorithm", ["nsga2", "nsga3"])
def test_minimize_per_row_objective_with_constraints(algorithm: str) -> None:
    def one(x: np.ndarray) -> tuple[tuple[float, float], float]:
        return (float(x[0]), float(x[1])), 1.0 - x[0] - x[1]

    options = dict(algorithm=algorithm, n_obj=2, max_evals=1200, seed=8, pop_size=40)
    rows = chimera.minimize(one, [(0.0, 1.0)] * 3, vectorized=False, **options)
    whole = chimera.minimize(corner, [(0.0, 1.0)] * 3, **options)
    same(rows.pareto_x, whole.pareto_x)
    same(rows.pareto_f, whole.pareto_f)
    assert (1.0 - rows.pareto_x[:, 0] - rows.pareto_x[:, 1] <= 0).all()


def test_minimize_nsga3_defaults() -> None:
    res = chimera.minimize(dtlz2, dtlz2.bounds(12), algorithm="nsga3", max_evals=920, seed=1)
    assert res.ngen == 10 and res.pareto_f.shape[1] == 3


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["nsga2", "nsga3"])
def test_objective_count_mismatch(algorithm: str) -> None:
    with pytest.raises(FitnessError, match="3 values per individual but n_obj=2"):
        chimera.minimize(
            lambda X: np.zeros((X.shape[0], 3)), [(0.0, 1.0)] * 4, algorithm=algorithm,
            n_obj=2, max_evals=400, seed=1, pop_size=20,
        )  # fmt: skip


def nan_rows(X: np.ndarray) -> np.ndarray:
    F = zdt1(X)
    F[X[:, 0] > 0.7, 1] = np.nan
    return F


@pytest.mark.parametrize("algorithm", ["nsga2", "nsga3"])
def test_nan_objectives(algorithm: str) -> None:
    options = dict(algorithm=algorithm, n_obj=2, max_evals=600, seed=1, pop_size=20)
    with pytest.raises(FitnessError, match=r"NaN or infinite.*nan_policy='worst'"):
        chimera.minimize(nan_rows, zdt1.bounds(5), **options)
    res = chimera.minimize(nan_rows, zdt1.bounds(5), nan_policy="worst", **options)
    assert res.ngen == 30
    assert np.isfinite(res.pareto_f).all() and (res.pareto_x[:, 0] <= 0.7).all()


def test_nan_becomes_the_worst_value(backend: str) -> None:
    opt = NSGA2(zdt1.bounds(5), pop_size=10, seed=2, nan_policy="worst", backend=backend)
    F = zdt1(opt.ask())
    F[3] = [np.nan, -np.inf]
    opt.tell(F)
    assert np.isposinf(opt.objectives).any(axis=1).sum() <= 1
    if np.isposinf(opt.objectives).any():
        row = np.flatnonzero(np.isposinf(opt.objectives).any(axis=1))
        np.testing.assert_array_equal(opt.objectives[row], [[np.inf, np.inf]])
    assert np.isfinite(opt.pareto_f).all()


def test_tell_out_of_order(backend: str) -> None:
    opt = NSGA2(zdt1.bounds(5), pop_size=10, seed=1, backend=backend)
    with pytest.raises(StateError, match="pending ask"):
        opt.tell(np.zeros((10, 2)))
    opt.tell(zdt1(opt.ask()))
    with pytest.raises(StateError):
        opt.tell(np.zeros((10, 2)))
    nsga3 = NSGA3(dtlz2.bounds(12), seed=1, backend=backend)
    with pytest.raises(StateError):
        nsga3.tell(np.zeros((92, 3)))
    X = opt.ask()
    assert opt.ask() is X  # the same individuals until tell
    with pytest.raises(FitnessError, match=r"shape \(10, 2\)"):
        opt.tell(np.zeros((9, 2)))
    with pytest.raises(FitnessError, match="numeric"):
        opt.tell([["a", "b"]] * 10)
    opt.tell(zdt1(X))  # a refused tell leaves the ask pending


def test_ga_refuses_constraints() -> None:
    with pytest.raises(ValidationError, match="need algorithm 'nsga2' or 'nsga3'"):
        chimera.minimize(
            lambda X: (X.sum(axis=1), X[:, :1] - 1.0), [(0.0, 1.0)] * 3, algorithm="ga",
            max_evals=200, seed=1, pop_size=20,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"ref_dirs": np.ones((5, 2))}, r"ref_dirs must have shape \(H, n_obj=3\)"),
        ({"ref_dirs": np.ones(3)}, r"ref_dirs must have shape"),
        ({"ref_dirs": np.zeros((0, 3))}, r"ref_dirs must have shape"),
        ({"ref_dirs": [[1.0, -0.5, 0.5], [0.0, 0.0, 1.0]]}, "non-negative"),
        ({"ref_dirs": [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]}, "non-zero rows"),
        ({"ref_dirs": [[np.nan, 0.0, 1.0]]}, "finite"),
        ({"ref_dirs": [[np.inf, 0.0, 1.0]]}, "finite"),
        ({"ref_dirs": das_dennis(4, 3), "n_partitions": 4}, "not both"),
    ],
)
def test_nsga3_refuses_bad_reference_directions(options: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        NSGA3(dtlz2.bounds(12), **options)


def test_nsga3_custom_reference_directions(backend: str) -> None:
    W = das_dennis(4, 3)
    opt = run(NSGA3(dtlz2.bounds(12), ref_dirs=W, seed=1, backend=backend), dtlz2, 20)
    assert opt.pop_size == 16  # 15 directions rounded up to a multiple of 4
    assert opt.population.shape == (16, 12)
    np.testing.assert_array_equal(opt.ref_dirs, W)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: NSGA2(zdt1.bounds(5), n_obj=1), "n_obj"),
        (lambda: NSGA2(zdt1.bounds(5), n_obj=2, pop_size=0), "pop_size"),
        (lambda: NSGA2(zdt1.bounds(5), nan_policy="ignore"), "nan_policy"),
        (lambda: NSGA2([(1.0, 0.0)] * 3), "bounds"),
        (lambda: NSGA2(zdt1.bounds(5), backend="fortran"), "unknown backend"),
        (
            lambda: chimera.minimize(zdt1, zdt1.bounds(5), algorithm="ga", n_obj=2, max_evals=100),
            "single-objective but n_obj=2",
        ),
        (
            lambda: chimera.minimize(zdt1, zdt1.bounds(5), algorithm="nsga4", max_evals=100),
            "unknown algorithm",
        ),
        (
            lambda: chimera.minimize(zdt1, zdt1.bounds(5), algorithm="nsga2", max_evals=10),
            "less than one generation",
        ),
    ],
)
def test_bad_arguments(call: Callable[[], Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        call()


# regressions found in review ----------------------------------------------------------------


def test_a_per_row_tuple_of_two_numbers_is_two_objectives() -> None:
    res = chimera.minimize(
        lambda x: (x[0], 1 - x[0]), [(0, 1)] * 3, algorithm="nsga2", vectorized=False,
        max_evals=200, pop_size=20, seed=1,
    )  # fmt: skip
    assert res.pareto_f.shape[1] == 2


def test_bad_constraint_values_raise_fitness_errors() -> None:
    opt = chimera.NSGA2([(0, 1)] * 3, pop_size=10, seed=0)
    X = opt.ask()
    for G in (0.0, [[1, 2]], "abc"):
        with pytest.raises(chimera.FitnessError, match="G"):
            opt.tell(X[:, :2], G)
    opt.tell(X[:, :2])  # still usable


def test_a_refused_nsga3_checkpoint_changes_nothing() -> None:
    opt = chimera.NSGA3([(0, 1)] * 5, n_obj=3, n_partitions=4, seed=0)
    for _ in range(3):
        X = opt.ask()
        opt.tell(X[:, :3] + X[:, 3:4])
    state = opt.state_dict()
    ideal = opt._ideal.copy()
    bad = {**state, "ideal": np.full(3, -5.0), "extremes": np.zeros((2, 3))}
    with pytest.raises(chimera.ValidationError, match="extremes"):
        opt.load_state_dict(bad)
    np.testing.assert_array_equal(opt._ideal, ideal)


def test_an_objective_that_is_never_finite_records_nan_without_warning() -> None:
    def fun(X: np.ndarray) -> np.ndarray:
        return np.stack([X[:, 0], np.full(len(X), np.nan)], axis=1)

    res = chimera.minimize(
        fun, [(0, 1)] * 2, algorithm="nsga2", max_evals=40, pop_size=20, seed=0,
        nan_policy="worst",
    )  # fmt: skip
    f_max = res.history.column("f_max").to_pylist()[-1]
    assert np.isnan(f_max[1]) and f_max[0] <= 1


def test_ref_point_of_the_wrong_length_is_refused_before_any_evaluation() -> None:
    calls = []

    def fun(X: np.ndarray) -> np.ndarray:
        calls.append(1)
        return X[:, :2]

    with pytest.raises(chimera.ValidationError, match="ref_point"):
        chimera.minimize(
            fun, [(0, 1)] * 2, algorithm="nsga2", max_evals=40, pop_size=20, ref_point=[1, 1, 1]
        )
    assert not calls


def test_crowding_refuses_fractional_ranks() -> None:
    with pytest.raises(chimera.ValidationError, match="integer"):
        crowding_distance(np.zeros((3, 2)), [0.7, 0.2, 1.9])


def test_duplicate_rows_finds_repeats_of_parents_and_earlier_children() -> None:
    from chimera.evolution.variation import duplicate_rows as _duplicate_rows

    pop = np.array([[0.0, 1.0], [2.0, 3.0]])
    X = np.array([[2.0, 3.0], [4.0, 5.0], [4.0, 5.0], [0.0, 1.5], [-0.0, 1.0]])
    # -0.0 differs from 0.0 bit for bit: a different point to evaluate, as far as copies go.
    np.testing.assert_array_equal(_duplicate_rows(X, pop), [True, False, True, False, False])


@pytest.mark.parametrize("cls", [NSGA2, NSGA3])
def test_offspring_repeat_no_parent_and_no_sibling(cls: type, backend: str) -> None:
    """A child that is a copy (no crossover, no mutation: about 3% of them) is redrawn, so no
    evaluation goes to a point the population already holds."""
    opt = cls(zdt1.bounds(12), n_obj=2, pop_size=40, seed=4, backend=backend)
    copies = 0
    for _ in range(30):
        X = opt.ask()
        if opt.population is not None:
            rows = {r.tobytes() for r in opt.population}
            copies += sum(r.tobytes() in rows for r in X)
        assert len({r.tobytes() for r in X}) == len(X)
        opt.tell(zdt1(X))
    assert copies == 0


def test_offspring_that_can_only_be_copies_stay_copies() -> None:
    """Without crossover or mutation every child is a parent: the redraws give up."""
    opt = NSGA2(zdt1.bounds(5), pop_size=20, seed=1, crossover="none", mutation="none")
    run(opt, zdt1, 3)
    X = opt.ask()
    rows = {r.tobytes() for r in opt.population}
    assert all(r.tobytes() in rows for r in X)
